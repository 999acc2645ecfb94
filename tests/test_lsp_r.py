"""R recipes in the editor: a real LSP client (pytest-lsp, with VS Code's capabilities) talks to
`weir lsp` about a project whose recipes include `recipes/NAME.R` files. The server never runs
R: everything here is answered from the model's reading of the file."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from conftest import SMALL
from lsp_support import (SERVER, apply_edit, change_doc, code_lenses, complete,
                         diagnostics_for, files_changed, hover_text, open_doc, position_of,
                         rename, start)

R_FILES = {
    "folders/brand.yaml": "connection: landing\npath: brand\n",
    "recipes/big_orders.R": """
        # Orders above the minimum, in R.
        # tags: r
        big_orders <- function(orders, orders_clean) {
          keep <- orders$amount >= var("min_amount")
          counts <- list(orders = nrow(orders), label = "orders")
          orders[keep, ]
        }
        """,
    "recipes/split.R": """
        # outputs: train, test
        split <- function(orders) {
          n <- nrow(orders) %/% 2
          list(train = orders[seq_len(n), ], test = orders[-seq_len(n), ])
        }
        """,
    "recipes/report.R": """
        report <- function(big_orders) {
          data.frame(total = sum(big_orders$amount), n = nrow(big_orders))
        }
        """,
}


@pytest.fixture
def project(make_project: Callable[..., Path]) -> Path:
    return make_project({**SMALL, **R_FILES}, name="small")


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, project: Path):
    await start(lsp_client, project)
    yield
    await lsp_client.shutdown_session()


def open_r(client: LanguageClient, path: Path, text: str | None = None) -> str:
    return open_doc(client, path, text, language="r")


async def test_completion_in_an_r_recipe(client: LanguageClient, project: Path) -> None:
    text = ('new_r <- function(orders, br) {\n'
            '  x <- var("mi")\n'
            '  y <- orders$am\n'
            '  z <- orders[["cu"]]\n'
            '  w <- customers$\n'
            '  # orders$\n'
            '}\n')
    uri = open_r(client, project / "recipes/new_r.R", text)
    # The argument list: inputs are datasets and managed folders.
    assert await complete(client, uri, 0, len("new_r <- function(or")) == ["orders",
                                                                           "orders_clean"]
    assert await complete(client, uri, 0, len("new_r <- function(orders, br")) == ["brand"]
    assert await complete(client, uri, 1, len('  x <- var("mi')) == ["min_amount"]
    # Columns of an argument whose schema is known (orders' is read from its CSV), offered as
    # `$` is typed.
    caps: t.ServerCapabilities = client.server_capabilities  # type: ignore[attr-defined]
    assert caps.completion_provider is not None
    assert "$" in (caps.completion_provider.trigger_characters or [])
    assert await complete(client, uri, 2, len("  y <- orders$am")) == ["amount"]
    assert await complete(client, uri, 3, len('  z <- orders[["cu')) == ["customer"]
    assert await complete(client, uri, 4, len("  w <- customers$")) == []  # not an argument
    assert await complete(client, uri, 5, len("  # orders$")) == []  # a comment
    # `# outputs:` in the header: what this recipe may build (nothing builds it yet).
    header = open_r(client, project / "recipes/split.R", "# outputs: or\n")
    assert await complete(client, header, 0, len("# outputs: or")) == ["orders"]


async def test_hover_and_definition_from_an_r_recipe(client: LanguageClient,
                                                     project: Path) -> None:
    path = project / "recipes/big_orders.R"
    text = path.read_text()
    uri = open_r(client, path)
    line, char = position_of(text, "orders, orders_clean")
    hover = await hover_text(client, uri, line, char)
    assert hover is not None and hover.startswith("**orders** — raw orders")
    assert "source · `landing:orders.csv`" in hover
    assert "| customer | string | yes |" in hover  # the input's schema
    assert "used by `big_orders`" in hover
    line, char = position_of(text, "big_orders <-")
    hover = await hover_text(client, uri, line, char + 2)  # the function: its output
    assert hover is not None and hover.startswith("**big_orders**")
    assert "built by `big_orders` at `recipes/big_orders.R:3`" in hover
    assert "tags: r" in hover and "used by `report`" in hover

    async def definition(doc: str, at: tuple[int, int]) -> t.Location:
        where = await client.text_document_definition_async(t.DefinitionParams(
            text_document=t.TextDocumentIdentifier(uri=doc),
            position=t.Position(line=at[0], character=at[1])))
        assert isinstance(where, t.Location)
        return where

    where = await definition(uri, position_of(text, "orders_clean)"))
    assert where.uri.endswith("recipes/clean.py")  # its producing recipe
    clean = (project / "recipes/clean.py").read_text().splitlines()
    assert clean[where.range.start.line].startswith("def orders_clean(")
    where = await definition(uri, position_of(text, "orders, orders_clean"))
    assert where.uri.endswith("datasets/orders.yaml")  # a source: its YAML
    report = project / "recipes/report.R"
    where = await definition(open_r(client, report),
                             position_of(report.read_text(), "big_orders)"))
    assert where.uri.endswith("recipes/big_orders.R") and where.range.start.line == 2

    refs = await client.text_document_references_async(t.ReferenceParams(
        text_document=t.TextDocumentIdentifier(uri=uri),
        position=t.Position(line=2, character=2),
        context=t.ReferenceContext(include_declaration=False)))
    assert [(r.uri.rsplit("/", 1)[1], r.range.start.line) for r in refs or []] == [
        ("report.R", 0)]


async def test_codelens_and_symbols_of_an_r_recipe(client: LanguageClient,
                                                   project: Path) -> None:
    path = project / "recipes/big_orders.R"
    uri = open_r(client, path)
    syms = await client.text_document_document_symbol_async(t.DocumentSymbolParams(
        text_document=t.TextDocumentIdentifier(uri=uri)))
    assert [(s.name, s.detail, s.range.start.line) for s in syms or []
            if isinstance(s, t.DocumentSymbol)] == [
        ("big_orders", "r recipe: orders, orders_clean → big_orders", 2)]
    found = await code_lenses(client, path)
    assert [lens.command.title for lens in found if lens.command] == [
        "▶ Build · ○ never built", "Build upstream", "Build downstream"]
    assert {lens.range.start.line for lens in found} == {2}  # above the function
    build = found[0].command
    assert build is not None and build.command == "weir.build"
    assert list(build.arguments or []) == [{"root": str(project), "targets": ["big_orders"],
                                            "mode": "required", "label": "Build big_orders"}]


async def test_diagnostics_of_an_r_recipe(client: LanguageClient, project: Path) -> None:
    path = project / "recipes/big_orders.R"
    uri = open_r(client, path)
    report = open_r(client, project / "recipes/report.R")
    assert await diagnostics_for(client, uri, want=0) == []
    # An unknown input, on the argument's exact range, with its quick fix.
    typo = path.read_text().replace("function(orders,", "function(ordrs,")
    change_doc(client, uri, typo, 2)
    (d,) = await diagnostics_for(client, uri, code="unknown-input")
    line, char = position_of(typo, "ordrs")
    assert (d.range.start.line, d.range.start.character, d.range.end.character) == (
        line, char, char + len("ordrs"))
    assert d.data == {"replace": "orders"}
    # An unclosed string: R's syntax error, while what the file built stays in the Flow
    # (report.R still reads big_orders: no "unknown input" there).
    broken = path.read_text().replace('label = "orders")', 'label = "orders)')
    change_doc(client, uri, broken, 3)
    diags = await diagnostics_for(client, uri, code="r-syntax")
    assert [d.code for d in diags] == ["r-syntax"]
    assert diags[0].message.startswith("R syntax error: a string is opened here and never")
    assert diags[0].range.start == t.Position(line=4, character=broken.splitlines()[4].index(
        '"orders)'))
    assert await diagnostics_for(client, report, want=0) == []
    assert await complete(client, report, 0, len("report <- function(big")) == ["big_orders"]
    change_doc(client, uri, path.read_text(), 4)
    assert await diagnostics_for(client, uri, want=0) == []


async def test_a_column_not_in_an_r_inputs_schema(client: LanguageClient,
                                                   project: Path) -> None:
    text = ('big <- function(orders) {\n'
            '  orders[orders$amont > 2 & orders[["custmer"]] != "", c("id", "amount")]\n'
            '}\n')
    uri = open_r(client, project / "recipes/big.R", text)
    diags = sorted(await diagnostics_for(client, uri, want=2),
                   key=lambda d: d.range.start.character)
    assert [(d.code, d.severity, d.data) for d in diags] == [
        ("unknown-column", t.DiagnosticSeverity.Warning, {"replace": "amount"}),
        ("unknown-column", t.DiagnosticSeverity.Warning, {"replace": "customer"})]
    assert diags[0].message.startswith("column 'amont' is not in orders's schema")
    for d, name in zip(diags, ("amont", "custmer"), strict=True):  # on the name, not quotes
        line, char = position_of(text, name)
        assert (d.range.start.line, d.range.start.character, d.range.end.character) == (
            line, char, char + len(name))
    # Once the recipe makes the column itself, using it is fine.
    change_doc(client, uri, text.replace("  orders[", '  orders$amont <- orders$amount\n'
                                         '  orders[["custmer"]] <- orders$customer\n'
                                         "  orders["), 2)
    assert await diagnostics_for(client, uri, want=0) == []


async def test_r_recipes_changed_on_disk_reach_the_flow(client: LanguageClient,
                                                        project: Path) -> None:
    await asyncio.wait_for(client.registered.wait(), 10)  # type: ignore[attr-defined]
    (registration,) = client.registrations  # type: ignore[attr-defined]
    globs = [w["globPattern"] for w in registration.register_options["watchers"]]
    assert "**/recipes/**/*.{py,sql,R,r}" in globs
    sql = open_doc(client, project / "recipes/q.sql", "SELECT * FROM ", "sql")
    assert "from_r" not in await complete(client, sql, 0, 14)
    new = project / "recipes/from_r.R"
    new.write_text("from_r <- function(orders) orders\n")
    files_changed(client, [(new, t.FileChangeType.Created)])
    assert "from_r" in await complete(client, sql, 0, 14)


async def renamed(client: LanguageClient, path: Path, needle: str, new: str) -> None:
    """Rename (F2) the dataset named where ``needle`` starts in the R file, and apply the
    edit as the editor does."""
    line, char = position_of(path.read_text(), needle)
    edit = await rename(client, open_r(client, path), line, char, new)
    assert edit is not None
    apply_edit(client, edit)


async def test_rename_across_r_recipes(client: LanguageClient, project: Path) -> None:
    from weir.workspace import Workspace

    path = project / "recipes/big_orders.R"
    await renamed(client, path, "orders, orders_clean", "raw_orders")
    # The argument and its uses in the body; not a list's name, a `$` field or a string.
    assert path.read_text().splitlines()[2:6] == [
        "big_orders <- function(raw_orders, orders_clean) {",
        '  keep <- raw_orders$amount >= var("min_amount")',
        '  counts <- list(orders = nrow(raw_orders), label = "orders")',
        "  raw_orders[keep, ]"]
    assert "def orders_clean(raw_orders: pd.DataFrame)" in (
        project / "recipes/clean.py").read_text()

    # An R recipe's output: its function and its file are renamed, and R readers follow.
    report = project / "recipes/report.R"
    await renamed(client, report, "big_orders)", "large_orders")
    assert not path.exists()
    assert "large_orders <- function(raw_orders, orders_clean) {" in (
        project / "recipes/large_orders.R").read_text()
    assert report.read_text() == (
        "report <- function(large_orders) {\n"
        "  data.frame(total = sum(large_orders$amount), n = nrow(large_orders))\n}\n")
    ws = Workspace.open(project)
    assert ws.diagnostics == []
    assert set(ws.flow.upstream["report"]) == {"large_orders"}
    assert set(ws.flow.upstream["large_orders"]) == {"raw_orders", "orders_clean"}
    ws.close()


async def test_rename_an_output_of_an_r_recipe_with_several(client: LanguageClient,
                                                            project: Path) -> None:
    from weir.workspace import Workspace

    path = project / "recipes/split.R"
    await renamed(client, path, "train,", "training")
    # The header that names it, and the list element that returns it.
    assert path.read_text().splitlines()[0] == "# outputs: training, test"
    assert "  list(training = orders[seq_len(n), ], test = orders[-seq_len(n), ])" in \
        path.read_text()
    ws = Workspace.open(project)
    assert ws.project.producer("training").name == "split"
    assert "train" not in ws.project.datasets
    ws.close()


async def test_rename_refuses_while_an_r_recipe_does_not_read(client: LanguageClient,
                                                              project: Path) -> None:
    from pygls.exceptions import JsonRpcException

    path = project / "recipes/report.R"
    uri = open_r(client, path, path.read_text().replace("sum(", 'sum("'))
    assert await diagnostics_for(client, uri, code="r-syntax")
    line, char = position_of(path.read_text(), "big_orders)")
    with pytest.raises(JsonRpcException, match="cannot rename while this file has a syntax"):
        await rename(client, uri, line, char, "large_orders")
