"""A second real LSP client that no one here wrote: Neovim's built-in one (Debian's `neovim`),
headless, asks `weir lsp` for completion and hover and receives its diagnostics."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from conftest import SMALL, weir_env

PROBE = Path(__file__).parent / "editors" / "nvim_probe.lua"



def test_neovim_completes_hovers_and_shows_diagnostics(make_project: Callable[..., Path],
                                                       tmp_path: Path) -> None:
    assert shutil.which("nvim"), "Neovim is missing: `make test` installs Debian's neovim"
    project = make_project(SMALL, name="small")
    recipe = project / "recipes/probe.py"
    recipe.write_text("import weir\nfrom weir import recipe\n\n\n@recipe\n"
                      "def probe(ordrs, orders_clean):\n"
                      '    return weir.Dataset("cu")\n')
    out = tmp_path / "nvim.json"
    env = weir_env() | {
        "WEIR_PYTHON": sys.executable, "WEIR_ROOT": str(project), "WEIR_FILE": str(recipe),
        "WEIR_OUT": str(out), "WEIR_COMPLETE_LINE": "6", "WEIR_COMPLETE_CHAR": "26",
        "WEIR_HOVER_LINE": "5", "WEIR_HOVER_CHAR": "20",
        **{k: str(tmp_path / k.lower()) for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME",
                                                  "XDG_STATE_HOME", "XDG_CACHE_HOME")}}
    done = subprocess.run(["nvim", "--headless", "-u", "NONE", "-i", "NONE", "-n",
                           "-c", f"luafile {PROBE}"], env=env, capture_output=True, text=True,
                          timeout=90, cwd=project)
    assert out.exists(), f"nvim wrote nothing: {done.stdout}{done.stderr}"
    got = json.loads(out.read_text())
    assert got["errors"] == []
    assert got["completion"] == ["customers"]
    assert got["hover"].startswith("**orders_clean**")
    assert "built by `orders_clean` at `recipes/clean.py:10`" in got["hover"]
    assert [(d["line"], d["col"]) for d in got["diagnostics"]] == [(5, 10)]
    assert got["diagnostics"][0]["message"].startswith("unknown input 'ordrs'")
