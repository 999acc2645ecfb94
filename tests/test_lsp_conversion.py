"""The language server's conversion of weir diagnostics and its quick fixes, without an editor:
they read a diagnostic's fields, never its words."""

from __future__ import annotations

from lsprotocol import types as t
from pygls.workspace import PositionCodec

from weir.model.diagnostics import Diagnostic, Severity
from weir_lsp.code_actions import quick_fixes
from weir_lsp.conversion import END_OF_LINE, to_lsp

SOURCE = ["import pandas as pd", "", "def orders_clean(ordrs: pd.DataFrame):", "    return ordrs"]


def line_text(line: int) -> str | None:
    return SOURCE[line] if line < len(SOURCE) else None


def fix(d: t.Diagnostic) -> list[tuple[str, t.TextEdit]]:
    actions = quick_fixes("file:///p/recipes/clean.py", [d]) or []
    return [(a.title, edit) for a in actions if a.edit and a.edit.changes
            for edit in a.edit.changes["file:///p/recipes/clean.py"]]


def test_any_wording_gets_the_same_range_code_and_quick_fix() -> None:
    for words in ("unknown input 'ordrs'", "Eingabe ordrs gibt es nicht", ""):
        for hint in ("did you mean 'orders'?", "meinten Sie orders?", None):
            d = to_lsp(Diagnostic("recipes/clean.py", 3, words, "unknown-input", hint=hint,
                                  col=17, end_line=3, end_col=22, subject="dataset:ordrs",
                                  suggestion="orders"), line_text)
            rng = t.Range(start=t.Position(line=2, character=17),
                          end=t.Position(line=2, character=22))
            assert (d.range, d.code, d.source, d.data) == (
                rng, "unknown-input", "weir", {"replace": "orders"}), (words, hint)
            assert d.message == words + (f"\n{hint}" if hint else "")  # shown as it is
            assert fix(d) == [("Change to 'orders'", t.TextEdit(range=rng, new_text="orders"))]


def test_no_quick_fix_without_a_suggestion_or_the_names_exact_range() -> None:
    said = Diagnostic("recipes/clean.py", 3, "unknown input 'ordrs' — did you mean 'orders'?",
                      "unknown-input")
    assert to_lsp(said, line_text).data is None and fix(to_lsp(said, line_text)) == []
    # A suggestion for a whole line would replace the line: none is offered.
    whole = Diagnostic("recipes/clean.py", 3, "m", "unknown-input", suggestion="orders")
    d = to_lsp(whole, line_text)
    assert (d.range.start.character, d.range.end.character) == (0, len(SOURCE[2]))
    assert d.data is None and fix(d) == []
    # Another server's diagnostics are not ours to fix.
    foreign = t.Diagnostic(range=d.range, message="m", source="pyright", data={"replace": "x"})
    assert quick_fixes("file:///p/recipes/clean.py", [foreign]) is None


def test_ranges_in_the_clients_units() -> None:
    """Columns count characters; LSP counts UTF-16 code units unless the client said else."""
    text = ['df["😋"], weir.Dataset("ordrs")']
    d = Diagnostic("recipes/r.py", 1, "m", "unknown-input", severity=Severity.WARNING,
                   col=text[0].index("ordrs"), end_line=1, end_col=text[0].index("ordrs") + 5)
    utf16 = to_lsp(d, lambda line: text[line] if line < len(text) else None)
    assert (utf16.range.start.character, utf16.range.end.character) == (24, 29)
    assert utf16.severity == t.DiagnosticSeverity.Warning
    utf32 = to_lsp(d, lambda line: text[line], PositionCodec(t.PositionEncodingKind.Utf32))
    assert (utf32.range.start.character, utf32.range.end.character) == (23, 28)
    # A line the server does not have (the file is gone): to its end, whatever that is.
    gone = to_lsp(Diagnostic("recipes/gone.py", 7, "m", "python-syntax", col=3), lambda _: None)
    assert (gone.range.start.line, gone.range.start.character, gone.range.end.character) == (
        6, 3, END_OF_LINE)
