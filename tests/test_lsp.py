"""The language server end to end: a real LSP client (pytest-lsp, with VS Code's capabilities)
talks to `weir lsp` over stdio about real projects on disk."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from conftest import SMALL, write_files
from lsp_support import (REWORDED_SERVER, SERVER, apply_edit, change_doc, complete,
                         diagnostics_for, files_changed, hover_text, open_doc, position_of,
                         rename, start)


@pytest.fixture
def project(make_project: Callable[..., Path]) -> Path:
    return make_project(SMALL, name="small")


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, project: Path):
    await start(lsp_client, project)
    yield
    await lsp_client.shutdown_session()


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
    assert await complete(client, sql, 0, 6) == []  # right after SELECT: nothing yet


async def test_completion_items_say_what_a_dataset_is(client: LanguageClient,
                                                      project: Path) -> None:
    uri = open_doc(client, project / "recipes/q.sql", "SELECT * FROM ord", "sql")
    result = await client.text_document_completion_async(t.CompletionParams(
        text_document=t.TextDocumentIdentifier(uri=uri), position=t.Position(line=0,
                                                                              character=17)))
    assert isinstance(result, t.CompletionList)
    orders = next(i for i in result.items if i.label == "orders")
    assert orders.detail == "source · landing:orders.csv"
    orders = await client.completion_item_resolve_async(orders)  # the schema, when looked at
    assert isinstance(orders.documentation, t.MarkupContent)
    assert "raw orders" in orders.documentation.value
    assert "`customer`" in orders.documentation.value  # the schema, read from the CSV


async def test_completion_of_columns(client: LanguageClient, project: Path) -> None:
    text = ("from weir import recipe\n\n@recipe\ndef big(orders, orders_clean):\n"
            '    a = orders["cu\n'
            "    b = orders.am\n"
            '    c = orders[["id", "\n'
            '    d = customers["\n'
            "    e = weir.\n"
            '    f = orders_clean["\n')
    uri = open_doc(client, project / "recipes/big.py", text)
    assert await complete(client, uri, 4, 18) == ["customer"]
    assert await complete(client, uri, 5, 17) == ["amount"]
    assert await complete(client, uri, 6, 24) == ["amount", "customer", "id"]
    assert await complete(client, uri, 7, 19) == []  # customers is not an input here
    assert await complete(client, uri, 8, 13) == []  # a module, not a dataset
    assert await complete(client, uri, 9, 22) == []  # never built: no schema known yet

    sql_text = "SELECT a, o.\nFROM orders AS o\nWHERE "
    sql = open_doc(client, project / "recipes/q.sql", sql_text, "sql")
    assert await complete(client, sql, 0, 8) == ["amount"]
    assert await complete(client, sql, 0, 12) == ["amount", "customer", "id"]  # alias o.
    assert await complete(client, sql, 2, 6) == ["amount", "customer", "id"]
    assert await complete(client, sql, 1, 4) == []  # the FROM keyword itself


async def test_completion_of_connections_and_variables(client: LanguageClient,
                                                       project: Path) -> None:
    yaml = open_doc(client, project / "datasets/extra.yaml",
                    "connection: la\npath: x.csv\n", "yaml")
    assert await complete(client, yaml, 0, 14) == ["landing"]
    assert await complete(client, yaml, 1, 7) == []
    py = open_doc(client, project / "recipes/v.py",
                  'from weir import var\nx = var("mi")\ny = var("')
    assert await complete(client, py, 1, 11) == ["min_amount"]
    assert await complete(client, py, 2, 9) == ["label", "min_amount"]


async def test_hover_shows_what_a_dataset_is(client: LanguageClient, project: Path) -> None:
    uri = open_doc(client, project / "recipes/per_customer.sql", language="sql")
    text = await hover_text(client, uri, 2, 8)
    assert text is not None
    assert text.startswith("**orders_clean**")
    assert "built by `orders_clean` at `recipes/clean.py:10`" in text
    assert "used by `per_customer`" in text
    assert "status: **never built**" in text
    assert await hover_text(client, uri, 1, 2) is None  # SELECT: a keyword, not a dataset
    source = open_doc(client, project / "recipes/clean.py")
    line, char = position_of((project / "recipes/clean.py").read_text(), "orders:")
    text = await hover_text(client, source, line, char)
    assert text is not None and "source · `landing:orders.csv`" in text
    assert "| customer | string | yes |" in text  # the schema as a table
    yaml = open_doc(client, project / "datasets/orders.yaml", language="yaml")
    conn = await hover_text(client, yaml, 1, 14)
    assert conn is not None and "**landing** — filesystem connection" in conn


async def test_diagnostics_as_you_type_with_a_quick_fix(client: LanguageClient,
                                                        project: Path) -> None:
    path = project / "recipes/clean.py"
    uri = open_doc(client, path)
    assert await diagnostics_for(client, uri, want=0) == []
    broken = path.read_text().replace("def orders_clean(orders:", "def orders_clean(ordrs:")
    change_doc(client, uri, broken, 2)
    diags = await diagnostics_for(client, uri, want=1)
    assert diags[0].message.startswith("unknown input 'ordrs'")
    assert "did you mean 'orders'?" in diags[0].message
    assert (diags[0].code, diags[0].source) == ("unknown-input", "weir")  # editors show it
    line, char = position_of(broken, "ordrs")
    assert (diags[0].range.start.line, diags[0].range.start.character,
            diags[0].range.end.character) == (line, char, char + len("ordrs"))
    actions = await client.text_document_code_action_async(t.CodeActionParams(
        text_document=t.TextDocumentIdentifier(uri=uri), range=diags[0].range,
        context=t.CodeActionContext(diagnostics=diags)))
    assert actions is not None and len(actions) == 1
    action = actions[0]
    assert isinstance(action, t.CodeAction) and action.title == "Change to 'orders'"
    assert action.edit is not None and action.edit.changes is not None
    assert list(action.edit.changes[uri]) == [t.TextEdit(range=diags[0].range, new_text="orders")]
    # Fixing it clears the diagnostic — without saving.
    change_doc(client, uri, path.read_text(), 3)
    assert await diagnostics_for(client, uri, want=0) == []


@pytest_lsp.fixture(config=REWORDED_SERVER)
async def reworded(lsp_client: LanguageClient, project: Path):
    await start(lsp_client, project)
    yield
    await lsp_client.shutdown_session()


async def test_rewording_every_message_breaks_no_feature(reworded: LanguageClient,
                                                         project: Path) -> None:
    """The server's diagnostics are all worded differently (tests/reworded_lsp.py): ranges,
    quick fixes and half-typed files work from the diagnostics' fields alone."""
    client = reworded
    path = project / "recipes/clean.py"
    uri = open_doc(client, path)
    broken = path.read_text().replace("def orders_clean(orders:", "def orders_clean(ordrs:")
    change_doc(client, uri, broken, 2)
    diags = await diagnostics_for(client, uri, code="unknown-input")
    (d,) = [d for d in diags if d.code == "unknown-input"]
    assert d.message.startswith("Bitte prüfen: unknown input «ordrs»")  # reworded indeed
    line, char = position_of(broken, "ordrs")
    assert (d.range.start.line, d.range.start.character, d.range.end.character) == (
        line, char, char + len("ordrs"))
    actions = await client.text_document_code_action_async(t.CodeActionParams(
        text_document=t.TextDocumentIdentifier(uri=uri), range=d.range,
        context=t.CodeActionContext(diagnostics=[d])))
    assert actions is not None and len(actions) == 1
    action = actions[0]
    assert isinstance(action, t.CodeAction) and action.title == "Change to 'orders'"
    assert action.edit is not None and action.edit.changes is not None
    assert list(action.edit.changes[uri]) == [t.TextEdit(range=d.range, new_text="orders")]

    yaml_path = project / "datasets/orders.yaml"
    yaml_text = yaml_path.read_text().replace("connection: landing", "connection: landng")
    yaml_uri = open_doc(client, yaml_path, yaml_text, "yaml")
    (d,) = await diagnostics_for(client, yaml_uri, code="unknown-connection")
    assert d.data == {"replace": "landing"}
    assert (d.range.start.character, d.range.end.character) == (12, 18)

    # A half-typed file is known by its code: what it defined stays in the Flow meanwhile.
    change_doc(client, uri, path.read_text().replace('    return orders[["customer"]]',
                                                     '    return orders[["customer"'), 3)
    assert [d.code for d in await diagnostics_for(client, uri, code="python-syntax")] == [
        "python-syntax"]
    sql = open_doc(client, project / "recipes/per_customer.sql", language="sql")
    assert await diagnostics_for(client, sql, want=0) == []


async def test_diagnostics_for_the_flow_and_the_yaml(client: LanguageClient,
                                                     project: Path) -> None:
    yaml_path = project / "datasets/orders.yaml"
    yaml_text = yaml_path.read_text().replace("connection: landing", "connection: landng")
    yaml_uri = open_doc(client, yaml_path, yaml_text, "yaml")
    diags = await diagnostics_for(client, yaml_uri, want=1)
    assert "unknown connection 'landng'" in diags[0].message
    assert diags[0].data == {"replace": "landing"}
    assert diags[0].range.start.character == yaml_text.splitlines()[1].index("landng")
    change_doc(client, yaml_uri, yaml_path.read_text() + "descripton: typo\n", 2)
    diags = await diagnostics_for(client, yaml_uri, want=1, has="unknown key")
    assert "unknown key 'descripton'" in diags[0].message
    assert diags[0].data == {"replace": "description"}

    loop = open_doc(client, project / "recipes/loop.py",
                    "from weir import recipe\n\n@recipe\ndef a(b):\n    return b\n\n"
                    "@recipe\ndef b(a):\n    return a\n")
    diags = await diagnostics_for(client, loop, has="cycle")
    assert any(d.message.startswith("cycle in the Flow: ") for d in diags)
    dup = open_doc(client, project / "recipes/dup.py",
                   "from weir import recipe\n\n@recipe\ndef customers(orders):\n"
                   "    return orders\n")
    diags = await diagnostics_for(client, dup, has="two recipes")
    assert any("customers" in d.message and "recipes/clean.py" in d.message for d in diags)


async def test_a_column_not_in_the_inputs_schema(client: LanguageClient, project: Path) -> None:
    text = ("from weir import recipe\n\n@recipe\ndef big(orders):\n"
            '    return orders[orders["amont"] > 2][["id", "customer"]]\n')
    uri = open_doc(client, project / "recipes/big.py", text)
    diags = await diagnostics_for(client, uri, want=1)
    assert diags[0].severity == t.DiagnosticSeverity.Warning
    assert diags[0].message.startswith("column 'amont' is not in orders's schema")
    line, char = position_of(text, "amont")
    assert (diags[0].range.start.line, diags[0].range.start.character,
            diags[0].range.end.character) == (line, char, char + 5)
    assert diags[0].data == {"replace": "amount"}
    # Once the recipe makes the column itself, using it is fine.
    change_doc(client, uri, text.replace("    return", "    orders = orders.assign(amont=1)\n"
                                         "    return"), 2)
    assert await diagnostics_for(client, uri, want=0) == []

    sql_text = "SELECT o.custmer, sum(amount) AS total\nFROM orders o\nGROUP BY 1\nORDER BY total"
    sql = open_doc(client, project / "recipes/q.sql", sql_text, "sql")
    diags = await diagnostics_for(client, sql, want=1)
    assert "column 'custmer' is not in orders's schema" in diags[0].message
    assert (diags[0].range.start.line, diags[0].range.start.character) == position_of(
        sql_text, "custmer")


async def test_files_outside_a_project_and_broken_files(client: LanguageClient,
                                                        project: Path, tmp_path: Path) -> None:
    loose = tmp_path / "loose.py"
    loose.write_text("def f(x):\n    return x\n")
    uri = open_doc(client, loose)
    assert await complete(client, uri, 0, 6) == []
    assert await hover_text(client, uri, 0, 6) is None
    bad = open_doc(client, project / "recipes/bad.py", "def oops(:\n    weir.Dataset('o')\n")
    diags = await diagnostics_for(client, bad, has="syntax error")
    assert "syntax error" in diags[0].message
    assert await complete(client, bad, 1, 19) == ["orders", "orders_clean"]  # still answers
    empty = open_doc(client, project / "recipes/empty.sql", "", "sql")
    assert await complete(client, empty, 0, 0) == []
    assert await hover_text(client, empty, 5, 0) is None  # past the end of the file


async def test_a_long_recipe_file(client: LanguageClient, project: Path) -> None:
    body = "".join(f"def helper_{i}(x):\n    return x + {i}\n\n" for i in range(1670))
    text = ("from weir import recipe\n\n" + body + "@recipe\ndef last(orders):\n"
            '    return orders[["cu\n')
    assert text.count("\n") > 5000
    uri = open_doc(client, project / "recipes/long.py", text)
    last = text.count("\n") - 1
    assert await complete(client, uri, last, 22) == ["customer"]
    assert await hover_text(client, uri, last - 1, 12) is not None


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
    assert refs is not None
    assert [r.uri.rsplit("/", 1)[1] for r in refs] == ["per_customer.sql"]
    sql_line = (project / "recipes/per_customer.sql").read_text().splitlines()[refs[0].range.start.line]
    assert sql_line[refs[0].range.start.character:refs[0].range.end.character] == "orders_clean"

    syms = await client.text_document_document_symbol_async(t.DocumentSymbolParams(
        text_document=t.TextDocumentIdentifier(uri=(project / "recipes/clean.py").as_uri())))
    assert syms is not None
    assert [s.name for s in syms] == ["orders_clean", "customers"]
    assert "orders → orders_clean" in (syms[0].detail or "")


async def test_several_projects_in_one_workspace(client: LanguageClient, project: Path,
                                                 tmp_path: Path) -> None:
    other = tmp_path / "other"
    write_files(other, {"weir.yaml": "name: other\n",
                        "landing/sales.csv": "id,total\n1,2\n",
                        "datasets/sales.yaml": "connection: landing\npath: sales.csv\n",
                        "connections.yaml": "connections:\n  landing:\n    type: filesystem\n"
                                            "    root: landing\n"})
    mine = open_doc(client, project / "recipes/q.sql", "SELECT * FROM ", "sql")
    theirs = open_doc(client, other / "recipes/q.sql", "SELECT * FROM ", "sql")
    assert await complete(client, mine, 0, 14) == ["customers", "orders", "orders_clean",
                                                   "per_customer"]
    assert await complete(client, theirs, 0, 14) == ["sales"]


async def test_rename_a_dataset_across_the_project(client: LanguageClient,
                                                   project: Path) -> None:
    from weir.workspace import Workspace

    clean = project / "recipes/clean.py"
    uri = open_doc(client, clean)
    line, char = position_of(clean.read_text(), "orders:")
    prepared = await client.text_document_prepare_rename_async(t.PrepareRenameParams(
        text_document=t.TextDocumentIdentifier(uri=uri), position=t.Position(line=line,
                                                                              character=char)))
    assert prepared == t.Range(start=t.Position(line=line, character=char),
                               end=t.Position(line=line, character=char + 6))
    edit = await rename(client, uri, line, char, "raw_orders")
    assert edit is not None
    apply_edit(client, edit)
    assert not (project / "datasets/orders.yaml").exists()
    text = clean.read_text()
    assert "def orders_clean(raw_orders: pd.DataFrame)" in text
    assert "return keep_big(raw_orders)" in text
    assert "def customers(raw_orders):" in text and 'raw_orders[["customer"]]' in text

    # A recipe's output named by its function, read by a SQL recipe.
    sql = open_doc(client, project / "recipes/per_customer.sql", language="sql")
    edit = await rename(client, sql, 2, 8, "orders_valid")
    assert edit is not None
    apply_edit(client, edit)
    assert "def orders_valid(" in clean.read_text()
    assert "FROM orders_valid" in (project / "recipes/per_customer.sql").read_text()
    ws = Workspace.open(project)
    assert sorted(ws.project.datasets) == ["customers", "orders_valid", "per_customer",
                                           "raw_orders"]
    assert set(ws.flow.upstream["per_customer"]) == {"orders_valid"}
    assert set(ws.flow.upstream["orders_valid"]) == {"raw_orders"}
    ws.close()


async def test_rename_refuses_what_would_break(client: LanguageClient, project: Path) -> None:
    sql = open_doc(client, project / "recipes/per_customer.sql", language="sql")
    from pygls.exceptions import JsonRpcException

    with pytest.raises(JsonRpcException, match="a dataset named 'customers' already exists") as e:
        await rename(client, sql, 2, 8, "customers")
    assert e.value.code == -32803  # RequestFailed: the editor shows the reason, no traceback
    assert "Traceback" not in str(e.value.data or "")
    with pytest.raises(JsonRpcException, match="not a valid dataset name") as e:
        await rename(client, sql, 2, 8, "2fast")
    assert e.value.code == -32803
    nothing = await client.text_document_prepare_rename_async(t.PrepareRenameParams(
        text_document=t.TextDocumentIdentifier(uri=sql), position=t.Position(line=1,
                                                                              character=2)))
    assert nothing is None  # SELECT is not a dataset
    assert (project / "datasets/orders.yaml").exists()


async def test_files_changed_on_disk_reach_the_flow(client: LanguageClient,
                                                    project: Path) -> None:
    # The server asks for file watching once initialized.
    await asyncio.wait_for(client.registered.wait(), 10)  # type: ignore[attr-defined]
    registrations = client.registrations  # type: ignore[attr-defined]
    assert [r.method for r in registrations] == [t.WORKSPACE_DID_CHANGE_WATCHED_FILES]
    sql = open_doc(client, project / "recipes/q.sql", "SELECT * FROM ", "sql")
    assert "refunds" not in await complete(client, sql, 0, 14)
    # A file written by another tool (or a git checkout): the editor's watcher reports it.
    (project / "landing/refunds.csv").write_text("id,amount\n1,2.0\n")
    new = project / "datasets/refunds.yaml"
    new.write_text("connection: landing\npath: refunds.csv\n")
    files_changed(client, [(new, t.FileChangeType.Created)])
    # The server handles messages in order: the next request already sees the change.
    assert "refunds" in await complete(client, sql, 0, 14)
    new.unlink()
    files_changed(client, [(new, t.FileChangeType.Deleted)])
    assert "refunds" not in await complete(client, sql, 0, 14)


async def test_a_half_typed_file_keeps_its_datasets(client: LanguageClient,
                                                    project: Path) -> None:
    clean = project / "recipes/clean.py"
    uri = open_doc(client, clean)
    sql = open_doc(client, project / "recipes/per_customer.sql", language="sql")
    broken = clean.read_text().replace('    return orders[["customer"]]',
                                       '    return orders[["customer"')
    change_doc(client, uri, broken, 2)
    diags = await diagnostics_for(client, uri, has="syntax error")
    assert [d.message.split(":")[0] for d in diags] == ["Python syntax error"]
    # What the file defined stays in the Flow while it is being typed: no "unknown input"
    # where it is read, and its datasets are still offered.
    assert await diagnostics_for(client, sql, want=0) == []
    other = open_doc(client, project / "recipes/new.py", "def x(orders_c")
    assert await complete(client, other, 0, 14) == ["orders_clean"]


async def test_a_mistake_elsewhere_keeps_the_statuses_it_does_not_touch(
        client: LanguageClient, project: Path) -> None:
    """A half-typed name in another, unsaved buffer makes its own recipe invalid; every other
    CodeLens and hover keeps its status."""
    clean = project / "recipes/clean.py"
    uri = open_doc(client, clean)
    other = open_doc(client, project / "recipes/new.py",
                     "from weir import recipe\n\n@recipe\ndef report(orders_cl):\n"
                     "    return orders_cl\n")
    assert await diagnostics_for(client, other, has="unknown input 'orders_cl'")

    async def lens_titles(doc: str) -> list[str]:
        lenses = await client.text_document_code_lens_async(t.CodeLensParams(
            text_document=t.TextDocumentIdentifier(uri=doc)))
        return [lens.command.title for lens in lenses or [] if lens.command]

    assert "▶ Build · ○ never built" in await lens_titles(uri)
    assert "▶ Build · ⊘ invalid: recipes/new.py:4: unknown input 'orders_cl'" in \
        await lens_titles(other)
    sql = open_doc(client, project / "recipes/per_customer.sql", language="sql")
    text = await hover_text(client, sql, 2, 8)
    assert text is not None and "status: **never built**" in text


async def test_an_output_being_typed_is_not_offered_to_itself(client: LanguageClient,
                                                              project: Path) -> None:
    # The editor closed the quote and bracket: the file parses, and `loy` is this recipe's.
    text = ('from weir import recipe\n\n@recipe(outputs=["loy"])\ndef split(orders):\n'
            '    return {"loy": orders}\n')
    uri = open_doc(client, project / "recipes/split.py", text)
    assert await complete(client, uri, 2, 21) == []
    # What an output may name: a dataset declared in datasets/ that nothing builds yet.
    assert await complete(client, uri, 2, 18) == ["orders"]
    assert "customers" not in await complete(client, uri, 2, 18)  # clean.py builds it


async def test_a_damaged_state_store_costs_only_the_statuses(client: LanguageClient,
                                                             project: Path) -> None:
    (project / ".weir").mkdir(exist_ok=True)
    (project / ".weir/state.db").write_bytes(b"these are not the bytes of a database\n" * 200)
    sql = open_doc(client, project / "recipes/per_customer.sql", language="sql")
    text = await hover_text(client, sql, 2, 8)
    assert text is not None and text.startswith("**orders_clean**")  # hover still answers
    assert await complete(client, sql, 2, 8) == ["orders", "orders_clean"]
    if not client.messages:
        await asyncio.wait_for(client.wait_for_notification(t.WINDOW_SHOW_MESSAGE), 10)
    messages = [m.message for m in client.messages]
    assert len(messages) == 1 and ".weir/state.db is damaged" in messages[0], messages
    assert "weir state repair" in messages[0]
