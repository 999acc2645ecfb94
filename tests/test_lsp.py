"""The language server end to end: a real LSP client (pytest-lsp) talks to `weir lsp` over
stdio about a real project on disk."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import SMALL, write_files

PROJECT: dict[str, Path] = {}


@pytest.fixture(autouse=True)
def project(tmp_path: Path) -> Path:
    root = tmp_path / "small"
    write_files(root, SMALL)
    PROJECT["root"] = root
    return root


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "weir",
                                                                "lsp"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(t.InitializeParams(
        capabilities=t.ClientCapabilities(),
        root_uri=PROJECT["root"].as_uri()))
    yield
    await lsp_client.shutdown_session()


def open_doc(client: LanguageClient, path: Path, text: str | None = None,
             language: str = "python") -> str:
    uri = path.as_uri()
    client.text_document_did_open(t.DidOpenTextDocumentParams(text_document=t.TextDocumentItem(
        uri=uri, language_id=language, version=1,
        text=path.read_text() if text is None else text)))
    return uri


async def complete(client: LanguageClient, uri: str, line: int, char: int) -> list[str]:
    result = await client.text_document_completion_async(t.CompletionParams(
        text_document=t.TextDocumentIdentifier(uri=uri),
        position=t.Position(line=line, character=char)))
    if result is None:
        return []
    items = result.items if isinstance(result, t.CompletionList) else result
    return sorted(i.label for i in items)


async def test_completion_of_dataset_names_where_they_belong(client: LanguageClient,
                                                             project: Path) -> None:
    text = ('import weir\nfrom weir import recipe\n\n@recipe\ndef report(orders_c\n'
            '    return weir.Dataset("cu")\n# orders\n')
    uri = open_doc(client, project / "recipes/new.py", text)
    assert await complete(client, uri, 4, 18) == ["orders_clean"]  # a parameter = an input
    assert await complete(client, uri, 5, 27) == ["customers"]  # weir.Dataset("…
    assert await complete(client, uri, 6, 8) == []  # a comment: no completion
    assert await complete(client, uri, 3, 3) == []  # the decorator: none either
    sql = open_doc(client, project / "recipes/q.sql", "SELECT * FROM ord", "sql")
    assert await complete(client, sql, 0, 17) == ["orders", "orders_clean"]
    assert await complete(client, sql, 0, 6) == []  # the select list is not a table position


async def test_hover_shows_what_a_dataset_is(client: LanguageClient, project: Path) -> None:
    uri = open_doc(client, project / "recipes/per_customer.sql", language="sql")
    hover = await client.text_document_hover_async(t.HoverParams(
        text_document=t.TextDocumentIdentifier(uri=uri), position=t.Position(line=2, character=8)))
    assert hover is not None
    text = hover.contents.value  # type: ignore[union-attr]
    assert "**orders_clean**" in text and "built by `recipes/clean.py:" in text
    assert "used by `per_customer`" in text
    nothing = await client.text_document_hover_async(t.HoverParams(
        text_document=t.TextDocumentIdentifier(uri=uri), position=t.Position(line=1, character=2)))
    assert nothing is None


async def test_diagnostics_as_you_type(client: LanguageClient, project: Path) -> None:
    path = project / "recipes/clean.py"
    uri = open_doc(client, path)
    await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics.get(uri, [])) == []
    broken = path.read_text().replace("def orders_clean(orders:", "def orders_clean(ordrs:")
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[t.TextDocumentContentChangeWholeDocument(text=broken)]))
    await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    diags = client.diagnostics[uri]
    assert len(diags) == 1
    assert diags[0].message.startswith("unknown input 'ordrs'")
    assert "did you mean 'orders'?" in diags[0].message
    assert diags[0].range.start.line == broken.splitlines().index(
        next(ln for ln in broken.splitlines() if "ordrs" in ln))
    # Fixing it clears the diagnostic — without saving.
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=3),
        content_changes=[t.TextDocumentContentChangeWholeDocument(text=path.read_text())]))
    await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[uri]) == []


async def test_files_outside_a_project_and_broken_files(client: LanguageClient,
                                                        project: Path, tmp_path: Path) -> None:
    loose = tmp_path / "loose.py"
    loose.write_text("def f(x):\n    return x\n")
    uri = open_doc(client, loose)
    assert await complete(client, uri, 0, 6) == []
    bad = open_doc(client, project / "recipes/bad.py", "def oops(:\n    weir.Dataset('o')\n")
    await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert "syntax error" in client.diagnostics[bad][0].message
    assert await complete(client, bad, 1, 19) == ["orders", "orders_clean"]  # still answers



async def test_definition_references_and_symbols(client: LanguageClient, project: Path) -> None:
    sql = open_doc(client, project / "recipes/per_customer.sql", language="sql")
    where = await client.text_document_definition_async(t.DefinitionParams(
        text_document=t.TextDocumentIdentifier(uri=sql), position=t.Position(line=2, character=8)))
    assert isinstance(where, t.Location)
    assert where.uri.endswith("recipes/clean.py")
    clean_lines = (project / "recipes/clean.py").read_text().splitlines()
    assert clean_lines[where.range.start.line].startswith("def orders_clean(")
    source = await client.text_document_definition_async(t.DefinitionParams(
        text_document=t.TextDocumentIdentifier(uri=open_doc(client, project / "recipes/clean.py")),
        position=t.Position(line=clean_lines.index(
            next(ln for ln in clean_lines if "def orders_clean(" in ln)), character=20)))
    assert isinstance(source, t.Location) and source.uri.endswith("datasets/orders.yaml")

    refs = await client.text_document_references_async(t.ReferenceParams(
        text_document=t.TextDocumentIdentifier(uri=sql), position=t.Position(line=2, character=8),
        context=t.ReferenceContext(include_declaration=False)))
    assert [r.uri.rsplit("/", 1)[1] for r in refs] == ["per_customer.sql"]

    syms = await client.text_document_document_symbol_async(t.DocumentSymbolParams(
        text_document=t.TextDocumentIdentifier(uri=(project / "recipes/clean.py").as_uri())))
    assert [s.name for s in syms] == ["orders_clean", "customers"]
    assert "orders → orders_clean" in syms[0].detail


async def test_hover_says_the_status(client: LanguageClient, project: Path) -> None:
    uri = open_doc(client, project / "recipes/per_customer.sql", language="sql")
    hover = await client.text_document_hover_async(t.HoverParams(
        text_document=t.TextDocumentIdentifier(uri=uri), position=t.Position(line=2, character=8)))
    assert "status: **never built**" in hover.contents.value  # type: ignore[union-attr]
