"""Printing for the CLI: plain text when piped, colour when a terminal. The only place that
decides how things look; the library never prints."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO

from weir.model.diagnostics import Diagnostic


def is_tty(stream: TextIO) -> bool:
    return stream.isatty() and os.environ.get("TERM") != "dumb" and "NO_COLOR" not in os.environ


_COLORS = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "dim": "2", "bold": "1",
           "cyan": "36", "magenta": "35"}


def style(text: str, color: str, stream: TextIO = sys.stdout) -> str:
    if not is_tty(stream):
        return text
    return f"\033[{_COLORS[color]}m{text}\033[0m"


def out(text: str = "") -> None:
    print(text, file=sys.stdout, flush=True)


def err(text: str = "") -> None:
    print(text, file=sys.stderr, flush=True)


def print_json(value: Any) -> None:
    out(json.dumps(value, indent=2, default=str))


def error_line(message: str, hint: str | None = None) -> None:
    err(f"{style('error', 'red', sys.stderr)}: {message}")
    if hint:
        err(f"  {style('hint', 'cyan', sys.stderr)}: {hint}")


def diagnostic(d: Diagnostic) -> None:
    sev = style(d.severity.value, "red" if d.severity.value == "error" else "yellow", sys.stderr)
    err(f"{d.location}: {sev}: {d.message}")
    if d.hint:
        err(f"  {style('hint', 'cyan', sys.stderr)}: {d.hint}")


STATUS_MARKS = {"up to date": ("✓", "green"), "stale": ("●", "yellow"),
                "never built": ("○", "dim"), "failed": ("✗", "red"), "source": ("◆", "blue"),
                "invalid": ("⊘", "red"),
                "built": ("✓", "green"), "checked": ("✓", "green"),
                "restored": ("↺", "cyan"), "skipped": ("–", "dim"),
                "interrupted": ("!", "magenta"), "running": ("▶", "blue"),
                "restoring": ("↺", "blue"), "warning": ("!", "yellow")}


def mark(status: str, stream: TextIO = sys.stdout) -> str:
    symbol, color = STATUS_MARKS.get(status, ("?", "dim"))
    return style(symbol, color, stream)


def count(n: int, word: str, plural: str | None = None) -> str:
    """``1 row``, ``2 rows``, ``1,024 sources``: a number with its noun, singular for one."""
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def rel(path: str, root: str) -> str:
    try:
        return os.path.relpath(path, root)
    except ValueError:
        return path


def open_workspace(project_dir: Any) -> Any:
    """Open the project for a command, printing any warnings about its files to stderr."""
    from weir.workspace import Workspace

    ws = Workspace.open(project_dir)
    for d in ws.diagnostics:
        diagnostic(d)
    if ws.environment:  # the header of every command in an environment (on stderr: --json
        env = ws.project.config.environments[ws.environment]  # output stays as it is)
        err(style(f"{ws.project.config.name} · environment {env.describe()}", "cyan", sys.stderr))
    return ws


def open_for_history(args: Any) -> Any:
    """The workspace for a command about one dataset's past builds (``args.dataset``,
    ``--last N``): an unknown name is said with the closest one, and N must be at least 1."""
    from weir.errors import WeirError

    ws = open_workspace(args.project)
    ws.dataset(args.dataset)
    if args.last < 1:
        raise WeirError("--last must be at least 1")
    return ws


BARS = "▁▂▃▄▅▆▇█"


def trend(values: list[float]) -> str:
    """A sparkline, oldest first: how a figure moved over the builds."""
    if not values:
        return ""
    lo, hi = min(values), max(values)
    if hi == lo:
        return BARS[3] * len(values)
    return "".join(BARS[round((v - lo) / (hi - lo) * (len(BARS) - 1))] for v in values)
