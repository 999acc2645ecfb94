"""From weir's values to the protocol's: diagnostics, errors, paths.

A weir diagnostic already says what an editor needs — its code, its range and the name that
should replace it — so the conversion reads fields only. The message is shown, never searched:
rewording it changes what people read and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pygls.uris import to_fs_path
from pygls.workspace import PositionCodec

from weir.errors import WeirError
from weir.model.diagnostics import Diagnostic, Severity

# Past any line's end: the protocol reads it as the end of the line.
END_OF_LINE = 10_000

# LSP's RequestFailed: the request was valid but could not be carried out. Editors show the
# message as it is (VS Code in the rename box), where an internal error shows a stack trace.
REQUEST_FAILED = -32803

LineText = Callable[[int], "str | None"]  # 0-based line of the diagnostic's file, if known


def to_lsp(d: Diagnostic, line_text: LineText, codec: PositionCodec | None = None
           ) -> t.Diagnostic:
    """The diagnostic on its range (the whole line when the parser knew no more), carrying
    weir's code, and the replacement a quick fix makes when it knows one."""
    start_line = max(d.line - 1, 0)
    end_line = max((d.end_line or d.line) - 1, start_line)
    units = codec or PositionCodec()

    def character(line: int, col: int | None) -> int:
        text = line_text(line)
        if col is None:
            return END_OF_LINE if text is None else units.client_num_units(text)
        return col if text is None else units.client_num_units(text[:col])

    exact = d.end_col is not None
    return t.Diagnostic(
        range=t.Range(start=t.Position(line=start_line, character=character(start_line, d.col)),
                      end=t.Position(line=end_line, character=character(end_line, d.end_col))),
        message=d.message + (f"\n{d.hint}" if d.hint else ""), source="weir",
        code=d.code or None,
        severity=t.DiagnosticSeverity.Error if d.severity is Severity.ERROR
        else t.DiagnosticSeverity.Warning,
        # A replacement needs the exact range of the wrong name, never a whole line.
        data={"replace": d.suggestion} if d.suggestion and exact else None)


def failed(exc: WeirError) -> JsonRpcException:
    """A user's mistake (a rename that would break the Flow, a build that cannot start) as the
    error an editor shows in words."""
    return JsonRpcException(exc.message + (f" — {exc.hint}" if exc.hint else ""),
                            code=REQUEST_FAILED)


def path_of(uri: str) -> Path | None:
    fs = to_fs_path(uri)
    return Path(fs) if fs else None


# A recipe file's language by its suffix (R's files are `.R` or `.r`); anything else the
# server is asked about is YAML.
LANGUAGES = {".py": "python", ".sql": "sql", ".R": "r", ".r": "r"}


def language_of(rel: str) -> str:
    return LANGUAGES.get(Path(rel).suffix, "yaml")
