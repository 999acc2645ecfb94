"""The language server in a dataset's `checks:` (issue 13): completion of check kinds, severities,
the dataset's columns and relationship targets, hover on a kind, and the diagnostics of a wrong
declaration with their quick fixes — a real LSP client (pytest-lsp, VS Code's capabilities)
talking to `weir lsp` over stdio. No daemon: everything is read from the files and the state
store."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from conftest import SMALL
from lsp_support import (SERVER, change_doc, complete, diagnostics_for, hover_text, open_doc,
                         position_of, start)
from weir.build.state import StateStore
from weir.flow.fingerprint import Components
from weir.model.checks import KINDS, CheckKind
from weir_lsp.check_yaml import DOCS, SNIPPETS, check_slot

PEOPLE = """\
connection: landing
path: people.csv
schema:
  - {name: customer, type: string}
  - {name: name, type: string}
"""


@pytest.fixture
def project(make_project: Callable[..., Path]) -> Path:
    root = make_project({**SMALL, "datasets/people.yaml": PEOPLE}, name="small")
    # orders_clean was built once: its observed schema is its columns.
    store = StateStore(root / ".weir" / "state.db")
    try:
        store.record_success("r1", "orders_clean", "orders_clean", "fp",
                             Components("c", "d", {}, {}), time.time(),
                             [["id", "int64", False], ["amount", "double", True]], 2, None)
    finally:
        store.close()
    return root


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, project: Path):
    await start(lsp_client, project)
    yield
    await lsp_client.shutdown_session()


async def at_end(client: LanguageClient, uri: str, text: str, line: int) -> list[str]:
    """The labels offered at the end of ``line`` of ``text``."""
    return await complete(client, uri, line, len(text.splitlines()[line]))


async def test_completion_of_check_kinds_and_item_keys(client: LanguageClient,
                                                       project: Path) -> None:
    text = ("connection: landing\npath: orders.csv\nchecks:\n  - \n  - not_\n"
            "  - sql: SELECT 1\n    \n  - name: big\n    \ntags: [raw]\n")
    uri = open_doc(client, project / "datasets/orders.yaml", text, "yaml")
    assert await complete(client, uri, 3, 4) == sorted([*KINDS, "name", "severity"])
    assert await at_end(client, uri, text, 4) == ["not_null"]
    assert await complete(client, uri, 6, 4) == ["name", "severity"]  # it has its kind
    assert await complete(client, uri, 8, 4) == sorted([*KINDS, "severity"])
    assert await complete(client, uri, 1, 6) == []  # `path:` is not in checks:
    # Each kind says what it does, with the model's example, and inserts a snippet.
    result = await client.text_document_completion_async(t.CompletionParams(
        text_document=t.TextDocumentIdentifier(uri=uri), position=t.Position(line=3,
                                                                              character=4)))
    assert isinstance(result, t.CompletionList)
    items = {i.label: i for i in result.items}
    unique = items["unique"]
    assert isinstance(unique.documentation, t.MarkupContent)
    assert DOCS[CheckKind.UNIQUE] in unique.documentation.value
    assert "unique: [order_id]" in unique.documentation.value
    assert unique.insert_text == "unique: [$1]"
    assert unique.insert_text_format == t.InsertTextFormat.Snippet
    assert items["sql"].insert_text == "sql: SELECT * FROM orders WHERE $1"  # its own name


async def test_completion_of_severity_values(client: LanguageClient, project: Path) -> None:
    text = "connection: landing\npath: orders.csv\nchecks:\n  - row_count: {min: 1}\n" \
           "    severity: \n  - severity: w\n"
    uri = open_doc(client, project / "datasets/orders.yaml", text, "yaml")
    assert await at_end(client, uri, text, 4) == ["error", "warning"]
    assert await at_end(client, uri, text, 5) == ["warning"]


async def test_completion_of_the_datasets_columns(client: LanguageClient,
                                                  project: Path) -> None:
    text = ("connection: landing\npath: orders.csv\nchecks:\n"
            "  - not_null: [id, \n"
            "  - unique: [[id, cu\n"
            "  - accepted_values: {\n"
            "  - range: {amount: {min: 0}, \n"
            "  - freshness: {column: \n"
            "  - accepted_values: {customer: [a, \n"
            "  - range:\n      am\n")
    uri = open_doc(client, project / "datasets/orders.yaml", text, "yaml")
    everything = ["amount", "customer", "id"]  # read from landing/orders.csv's header
    assert await at_end(client, uri, text, 3) == everything
    assert await at_end(client, uri, text, 4) == ["customer"]
    assert await at_end(client, uri, text, 5) == everything
    assert await at_end(client, uri, text, 6) == everything
    assert await at_end(client, uri, text, 7) == everything
    assert await at_end(client, uri, text, 8) == []  # a value, not a column
    assert await at_end(client, uri, text, 10) == ["amount"]  # block style
    # A declared schema is the columns; else the schema observed at the last build.
    people = open_doc(client, project / "datasets/people.yaml",
                      PEOPLE + "checks:\n  - not_null: [\n", "yaml")
    assert await complete(client, people, 6, 15) == ["customer", "name"]
    built = open_doc(client, project / "datasets/orders_clean.yaml",
                     "checks:\n  - unique: [\n", "yaml")
    assert await complete(client, built, 1, 13) == ["amount", "id"]


async def test_completion_of_relationship_targets(client: LanguageClient,
                                                  project: Path) -> None:
    text = ("connection: landing\npath: orders.csv\nchecks:\n"
            "  - relationships: {cu\n"
            "  - relationships: {customer: \n"
            "  - relationships: {customer: pe\n"
            "  - relationships: {customer: people.\n")
    uri = open_doc(client, project / "datasets/orders.yaml", text, "yaml")
    assert await at_end(client, uri, text, 3) == ["customer"]  # its own column
    assert await at_end(client, uri, text, 4) == ["customers", "orders", "orders_clean", "people",
                                                  "per_customer"]
    assert await at_end(client, uri, text, 5) == ["people", "per_customer"]
    result = await client.text_document_completion_async(t.CompletionParams(
        text_document=t.TextDocumentIdentifier(uri=uri),
        position=t.Position(line=5, character=len(text.splitlines()[5]))))
    assert isinstance(result, t.CompletionList)
    assert [i.insert_text for i in result.items] == ["people.", "per_customer."]  # then columns
    assert await at_end(client, uri, text, 6) == ["customer", "name"]


async def test_hover_on_a_check_kind(client: LanguageClient, project: Path) -> None:
    text = ("connection: landing\npath: orders.csv\nchecks:\n  - not_null: [id]\n"
            "  - schema\n  - range: {amount: {min: 0}}\n    severity: warning\n")
    uri = open_doc(client, project / "datasets/orders.yaml", text, "yaml")
    hover = await hover_text(client, uri, 3, 7)
    assert hover is not None and hover.startswith("**not_null** — data-quality check")
    assert DOCS[CheckKind.NOT_NULL] in hover and "not_null: [order_id, customer_id]" in hover
    schema = await hover_text(client, uri, 4, 6)
    assert schema is not None and DOCS[CheckKind.SCHEMA] in schema
    severity = await hover_text(client, uri, 6, 6)
    assert severity is not None and severity.startswith("**severity**")
    assert await hover_text(client, uri, 5, 13) is None  # a column, not a kind
    conn = await hover_text(client, uri, 0, 14)  # the rest of the file: as before
    assert conn is not None and conn.startswith("**landing**")


async def fix(client: LanguageClient, uri: str, diag: t.Diagnostic) -> t.CodeAction:
    actions = await client.text_document_code_action_async(t.CodeActionParams(
        text_document=t.TextDocumentIdentifier(uri=uri), range=diag.range,
        context=t.CodeActionContext(diagnostics=[diag])))
    assert actions is not None and len(actions) == 1
    action = actions[0]
    assert isinstance(action, t.CodeAction)
    return action


async def test_wrong_declarations_are_diagnostics_with_quick_fixes(client: LanguageClient,
                                                                   project: Path) -> None:
    path = project / "datasets/people.yaml"
    broken = (PEOPLE + "checks:\n  - not_nul: [name]\n  - unique: [custmer]\n"
              "  - relationships: {customer: ordrs.customer}\n  - range: {name: {min: 0}}\n"
              "    severity: fatal\n")
    uri = open_doc(client, path, broken, "yaml")
    diags = await diagnostics_for(client, uri, want=4)
    by_code = {d.code: d for d in diags}
    assert set(by_code) == {"unknown-check", "check-unknown-column", "check-unknown-dataset",
                            "invalid-severity"}
    for code, wrong, right in (("unknown-check", "not_nul", "not_null"),
                               ("check-unknown-column", "custmer", "customer"),
                               ("check-unknown-dataset", "ordrs", "orders")):
        d = by_code[code]
        line, char = position_of(broken, wrong)
        assert (d.range.start.line, d.range.start.character, d.range.end.line,
                d.range.end.character) == (line, char, line, char + len(wrong)), code
        action = await fix(client, uri, d)
        assert action.title == f"Change to '{right}'"
        assert action.edit is not None and action.edit.changes is not None
        assert list(action.edit.changes[uri]) == [t.TextEdit(range=d.range, new_text=right)]
    assert by_code["invalid-severity"].range.start.line == position_of(broken, "fatal")[0]
    # Fixed, they are gone — without a save.
    fixed = broken.replace("not_nul:", "not_null:").replace("custmer", "customer").replace(
        "ordrs", "orders").replace("fatal", "warning")
    change_doc(client, uri, fixed, 2)
    assert await diagnostics_for(client, uri, want=0) == []


def test_every_kind_has_words_and_a_snippet() -> None:
    assert set(DOCS) == set(CheckKind)
    assert set(SNIPPETS) == {*KINDS, "name", "severity"}


@pytest.mark.parametrize(("line", "slot"), [
    ("  - ", ("item", "")),
    ("  - not_null: [a, b", ("column", "b")),
    ("  - unique: [[a, ", ("column", "")),
    ("  - not_null: [a], ", None),
    ("  - not_null:", None),  # right after the colon: no space yet
    ("  - row_count: {", ("setting", "")),
    ("  - range: {amount: {m", ("setting", "m")),
    ("  - relationships: {a: b.c", ("target-column", "c")),
    ("  - sql: SELECT ", None),
    ("  - not_null: [a]  # b", None),
])
def test_the_slot_in_checks(line: str, slot: tuple[str, str] | None) -> None:
    lines = ["connection: x\n", "checks:\n", line + "\n"]
    got = check_slot(lines, 2, len(line))
    assert (None if got is None else (got.what, got.prefix)) == slot


def test_a_datasets_hover_card_has_its_last_check_results(
        make_project: Callable[..., Path]) -> None:
    from conftest import run_weir
    from weir_lsp.hover import dataset_markdown
    from weir_lsp.projects import Projects

    root = make_project({**SMALL, "datasets/orders_clean.yaml": """
        checks:
          - not_null: [id]
          - name: few
            row_count: {max: 2}
            severity: warning
        """}, name="checked")
    assert run_weir("build", "orders_clean", cwd=root).code == 0
    project = Projects().for_path(root)
    assert project is not None
    card = dataset_markdown(project, "orders_clean")
    assert "checks: ✓ 1 passed · ! `few` warning (3 rows (wanted at most 2))" in card, card
    assert "checks:" not in dataset_markdown(project, "orders")  # no checks declared


def test_a_sources_hover_card_says_its_checks_failed_on_its_data(
        make_project: Callable[..., Path]) -> None:
    from conftest import run_weir
    from weir_lsp.hover import dataset_markdown
    from weir_lsp.projects import Projects

    root = make_project({**SMALL, "datasets/orders.yaml": """
        connection: landing
        path: orders.csv
        checks:
          - range: {amount: {max: 5}}
        """}, name="checked")
    assert run_weir("build", "orders_clean", "--no-daemon", cwd=root).code == 1
    project = Projects().for_path(root)
    assert project is not None
    card = dataset_markdown(project, "orders")
    assert "status: **failed: check range(amount) failed**" in card, card
    assert "its last checks **failed**: check range(amount) failed on 'orders': 2 rows out " \
           "of range" in card
    assert "checks: ✗ `range(amount)` failed (2 rows out of range)" in card
