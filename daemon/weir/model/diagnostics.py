"""Diagnostics: what a parser says about a file instead of raising.

Parsers return ``(value, diagnostics)`` so that one broken file never hides the rest of the Flow;
the CLI, the daemon and the language server all render these same objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    """``file:line:col: message`` plus a hint. ``file`` is relative to the project root."""

    file: str
    line: int  # 1-based; 0 when the problem is the file as a whole
    message: str
    hint: str | None = None
    severity: Severity = Severity.ERROR
    col: int = 0  # 0-based column, 0 when unknown
    end_line: int | None = None
    end_col: int | None = None
    # What the problem is about, when it is one recipe ("recipe:FILE:FUNCTION") or dataset
    # ("dataset:NAME"): the loader marks exactly that part of the Flow invalid, not the file.
    subject: str | None = None

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def to_json(self) -> dict[str, object]:
        """As the daemon's API sends it (flow diagnostics, a broken project's build error)."""
        return {"file": self.file, "line": self.line, "message": self.message,
                "hint": self.hint, "severity": self.severity.value}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Diagnostic:
        hint = data.get("hint")
        return cls(str(data["file"]), int(str(data["line"])), str(data["message"]),
                   None if hint is None else str(hint), Severity(data.get("severity", "error")))

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text
