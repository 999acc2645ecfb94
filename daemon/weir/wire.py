"""The wire format: every shape that crosses a process boundary, defined once.

The CLI, the daemon's HTTP API, ``weir.client``, the language server and the VS Code extension
(through ``vscode-extension/src/api.ts``, checked against payloads recorded from a real daemon)
read and write these shapes only through this module, so a field renamed here is renamed for
all of them, and a test fails where one still uses the old name.

Standard library only, and nothing of the rest of weir: a scheduler's environment that imports
``weir.client`` pays for nothing else, and the model can use these types without depending on
the daemon.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    """``file:line:col: message`` plus a hint. ``file`` is relative to the project root.

    What parsers say instead of raising (so that one broken file never hides the rest of the
    Flow), and what the CLI, the daemon and the language server all render. The English is for
    people; a program reads ``code``, ``subject``, ``suggestion`` and the range, so rewording a
    message breaks no tool (docs/project-format.md lists the codes)."""

    file: str
    line: int  # 1-based; 0 when the problem is the file as a whole
    message: str
    code: str  # stable, kebab-case: "unknown-input", "cycle", "python-syntax", …
    hint: str | None = None
    severity: Severity = Severity.ERROR
    col: int = 0  # 0-based, in characters (code points) of the line; 0 when unknown
    end_line: int | None = None  # where the range ends (exclusive column); None: end of line
    end_col: int | None = None
    # What the problem is about, as KIND:NAME — "dataset:orders", "recipe:FILE:FUNCTION" (a SQL
    # recipe: "recipe:FILE"), "connection:NAME", "variable:NAME", "key:NAME" (a YAML key of the
    # file), "column:DATASET.NAME"; None for the file as a whole. The loader marks exactly the
    # recipe a "recipe:" subject names invalid, not its file.
    subject: str | None = None
    suggestion: str | None = None  # what should replace the range ("did you mean" in the hint)

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def to_json(self) -> dict[str, Any]:
        """As the daemon's API sends it (flow diagnostics, a broken project's build error) and
        the CLI's ``--json`` errors (docs/http-api.md)."""
        return {"file": self.file, "line": self.line, "col": self.col,
                "end_line": self.end_line, "end_col": self.end_col, "code": self.code,
                "subject": self.subject, "suggestion": self.suggestion,
                "message": self.message, "hint": self.hint, "severity": self.severity.value}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Diagnostic:
        def text(key: str) -> str | None:
            value = data.get(key)
            return None if value is None else str(value)

        def number(key: str) -> int | None:
            value = data.get(key)
            return None if value is None else int(str(value))

        # A field a daemon of an older weir does not send reads as unknown, not as an error.
        return cls(str(data["file"]), int(str(data["line"])), str(data["message"]),
                   text("code") or "", text("hint"), Severity(data.get("severity", "error")),
                   number("col") or 0, number("end_line"), number("end_col"),
                   text("subject"), text("suggestion"))

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class DatasetState(str, Enum):
    """A dataset's status, as `weir status`, the API, the Flow page and the editor name it."""

    SOURCE = "source"
    UP_TO_DATE = "up to date"
    STALE = "stale"
    NEVER_BUILT = "never built"
    FAILED = "failed"
    INVALID = "invalid"  # its definition has an error (or an input's has): no fingerprint


class BuildState(str, Enum):
    """Where a daemon build is: queued, running, then one of the final states."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ERROR = "error"  # it could not start: a user error (a broken project, a bad target)
    INTERRUPTED = "interrupted"  # its daemon died while it was queued or running

    @property
    def final(self) -> bool:
        return self not in (BuildState.QUEUED, BuildState.RUNNING)


class JobStatus(str, Enum):
    """What became of one recipe's job in a build (`job` events, results, the history)."""

    RUNNING = "running"
    RESTORING = "restoring"
    BUILT = "built"
    RESTORED = "restored"
    FAILED = "failed"
    SKIPPED = "skipped"
    INTERRUPTED = "interrupted"

    @property
    def ok(self) -> bool:
        return self in (JobStatus.BUILT, JobStatus.RESTORED)
