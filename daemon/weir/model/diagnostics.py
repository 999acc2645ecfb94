"""Diagnostics: what a parser says about a file instead of raising.

Parsers return ``(value, diagnostics)`` so that one broken file never hides the rest of the
Flow. The type itself crosses every process boundary (the daemon's API, the language server),
so it is defined in the wire module; the model names it from here.

A parser that knows where a name stands says so with a :class:`Span`, passed as
``Diagnostic(file, message=…, code=…, **span)``: editors underline the name and replace it in
a quick fix from these fields, never by searching the message for it.
"""

from __future__ import annotations

from typing import TypedDict

from weir.wire import Diagnostic, Severity

__all__ = ["Diagnostic", "Severity", "Span", "blocks_builds", "name_on_line", "span",
           "whole_line"]


def blocks_builds(d: Diagnostic) -> bool:
    """An error that stops builds: any, but one in a scenario file — a broken scenario stops
    that scenario only (it is not loaded), never the Flow the others and the user build."""
    return d.severity is Severity.ERROR and not d.file.startswith("scenarios/")


class Span(TypedDict):
    """A range of one file: 1-based lines, 0-based columns in characters, the end exclusive
    (``end_line``/``end_col`` None: to the end of the line)."""

    line: int
    col: int
    end_line: int | None
    end_col: int | None


def span(line: int, col: int, end_col: int, end_line: int | None = None) -> Span:
    return Span(line=line, col=col, end_line=line if end_line is None else end_line,
                end_col=end_col)


def whole_line(line: int) -> Span:
    """Where only the line is known."""
    return Span(line=line, col=0, end_line=None, end_col=None)


def name_on_line(text: str | None, line: int, name: str) -> Span:
    """Where ``name`` stands as a whole word on 1-based ``line`` of ``text`` (the file's source),
    for a rule that knows the line and the name but not the column; else the whole line."""
    lines = text.splitlines() if text is not None else []
    if 0 < line <= len(lines):
        source = lines[line - 1]
        start = source.find(name)
        while start >= 0:
            end = start + len(name)
            if not (start and _word(source[start - 1])) and not (
                    end < len(source) and _word(source[end])):
                return span(line, start, end)
            start = source.find(name, start + 1)
    return whole_line(line)


def _word(char: str) -> bool:
    return char.isalnum() or char == "_"
