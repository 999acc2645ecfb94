"""One hierarchy of user-facing errors.

Every exception a user can cause derives from :class:`WeirError`; its message says what happened
and its ``hint`` what to do. Each boundary (the CLI, the daemon's API, the language server)
renders them in one place; anything else escaping is a bug in weir.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from weir import wire
from weir.wire import Diagnostic


class WeirError(Exception):
    """A problem the user can fix. ``exit_code`` follows the CLI contract (2 = user error)."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if hint:
            # Shown under the message wherever Python prints the exception (a notebook, a
            # script), while str(exc) stays the message alone.
            self.add_note(f"hint: {hint}")

    def report(self) -> wire.ErrorReport:
        """The error for a program rather than a person (the daemon's API, ``--json``)."""
        return wire.ErrorReport(self.message, self.hint)

    def to_json(self) -> dict[str, Any]:
        return self.report().to_json()


class ProjectNotFound(WeirError):
    """No weir.yaml in the directory or any parent."""


class ProjectInvalid(WeirError):
    """The project's files have errors; ``diagnostics`` holds every one, with file and line."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        n = len(diagnostics)
        super().__init__(f"the project has {n} error{'s' if n != 1 else ''}")
        self.diagnostics = list(diagnostics)

    def report(self) -> wire.ErrorReport:
        """Every diagnostic, and the first one in the message itself, so a client that shows
        one line still says what to fix."""
        if not self.diagnostics:
            return super().report()
        first = self.diagnostics[0]
        more = len(self.diagnostics) - 1
        return wire.ErrorReport(f"{self.message}: {first.location}: {first.message}"
                                + (f" (and {more} more)" if more else ""), first.hint,
                                tuple(self.diagnostics))


class SelectionError(WeirError):
    """A build target or selector names nothing that exists."""


class PlanError(WeirError):
    """A build cannot be planned: e.g. an input has no data and the mode forbids building it."""


class DataError(WeirError):
    """Data cannot be read or written: a missing source file, an unreadable format."""


class StateError(WeirError):
    """The state store (``.weir/state.db``) cannot be used: damaged, not a database, locked, or
    not readable or writable. Nothing is built; the data itself is untouched."""


class BuildFailed(WeirError):
    """At least one job failed; details are in the build result."""

    exit_code = 1


class BuildLost(WeirError):
    """The daemon running a build went away before the build ended, so whoever followed it
    cannot say it built. Its own exit code, because what to do differs from a failed recipe:
    nothing is wrong with the project — start a daemon and build again."""

    exit_code = 4
