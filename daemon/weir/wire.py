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
    Flow), and what the CLI, the daemon and the language server all render."""

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

    def to_json(self) -> dict[str, Any]:
        """As the daemon's API sends it (flow diagnostics, a broken project's build error)."""
        return {"file": self.file, "line": self.line, "message": self.message,
                "hint": self.hint, "severity": self.severity.value}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Diagnostic:
        hint = data.get("hint")
        return cls(str(data["file"]), int(str(data["line"])), str(data["message"]),
                   None if hint is None else str(hint), Severity(data.get("severity", "error")))

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
