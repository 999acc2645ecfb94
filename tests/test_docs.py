"""The docs say what is built: ARCHITECTURE.md's code map names every module there is."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_the_code_map_names_every_module() -> None:
    text = (REPO / "ARCHITECTURE.md").read_text()
    missing = []
    for base in (REPO / "daemon", REPO / "lsp"):
        for path in sorted(base.rglob("*.py")):
            if path.name == "__init__.py" or "__pycache__" in path.parts:
                continue
            dotted = ".".join(path.relative_to(base).with_suffix("").parts)
            named = (f"`{path.name}`" in text or re.search(rf"\b{re.escape(dotted)}\b", text)
                     or f"`{path.stem}`" in text)
            if not named:
                missing.append(str(path.relative_to(REPO)))
    assert missing == [], f"ARCHITECTURE.md does not say what these are: {missing}"
