"""What is under the cursor: which dataset name is expected or named there.

Pure functions over a line of text, so they are tested without an editor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


@dataclass(frozen=True)
class Slot:
    """A place where a dataset name goes: the partial name typed so far and where it starts."""

    prefix: str
    start: int


def completion_slot(language: str, line: str, col: int) -> Slot | None:
    """Where a dataset name is expected at ``col``, or None (no completion there)."""
    before = line[:col]
    if language == "python":
        m = re.search(r"""weir\.(?:Dataset|Folder)\(\s*["']([A-Za-z0-9_]*)$""", before) or \
            re.search(r"""\b(?:Dataset|Folder)\(\s*["']([A-Za-z0-9_]*)$""", before)
        if m:
            return Slot(m.group(1), col - len(m.group(1)))
        m = re.search(r"""outputs\s*=\s*\[[^\]]*["']([A-Za-z0-9_]*)$""", before)
        if m:
            return Slot(m.group(1), col - len(m.group(1)))
        m = re.search(r"^\s*def\s+" + IDENT + r"\s*\(([^)]*)$", before)
        if m:
            params = m.group(1)
            current = re.split(r",", params)[-1]
            if ":" in current or "=" in current:
                return None  # typing an annotation or default, not a name
            name = current.strip()
            if re.fullmatch(r"[A-Za-z0-9_]*", name):
                return Slot(name, col - len(name))
        return None
    if language == "sql":
        m = re.search(r"\b(?:from|join)\s+([A-Za-z0-9_]*)$", before, re.IGNORECASE)
        if m:
            return Slot(m.group(1), col - len(m.group(1)))
        return None
    return None


def word_at(line: str, col: int) -> tuple[str, int, int] | None:
    """The identifier at ``col`` (also when the cursor is right after it)."""
    for m in re.finditer(IDENT, line):
        if m.start() <= col <= m.end():
            return m.group(0), m.start(), m.end()
    return None
