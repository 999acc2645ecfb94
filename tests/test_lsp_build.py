"""CodeLens builds from the editor: the language server runs them through the project's daemon
(starting one), reports progress, and follows the daemon's events so statuses refresh."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from conftest import SMALL, git, run_weir
from lsp_support import (SERVER, code_lenses, hover_text, message_containing, open_doc,
                         position_of, start)


@pytest.fixture
def project(make_project: Callable[..., Path]) -> Path:
    root = make_project(SMALL, name="small")
    yield root
    run_weir("daemon", "stop", "--now", cwd=root)


REFRESHES: dict[int, asyncio.Queue[None]] = {}


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, project: Path):
    queue: asyncio.Queue[None] = asyncio.Queue()
    REFRESHES[id(lsp_client)] = queue

    @lsp_client.feature(t.WORKSPACE_CODE_LENS_REFRESH)
    def on_refresh(params: None) -> None:  # as VS Code: ask for the lenses again
        queue.put_nowait(None)

    await start(lsp_client, project)
    yield
    await lsp_client.shutdown_session()


def refreshes(client: LanguageClient) -> asyncio.Queue[None]:
    """Each workspace/codeLens/refresh the server sends puts an item in the queue."""
    return REFRESHES[id(client)]


async def test_codelens_builds_through_a_daemon_it_starts(client: LanguageClient,
                                                          project: Path) -> None:
    clean = project / "recipes/clean.py"
    open_doc(client, clean)
    found = await code_lenses(client, clean)
    assert [lens.command.title for lens in found if lens.command] == [
        "▶ Build · ○ never built", "Build upstream", "Build downstream",
        "▶ Build · ○ never built", "Build upstream", "Build downstream"]
    line = position_of(clean.read_text(), "def orders_clean")[0]
    assert found[0].range.start.line == line
    build = found[0].command
    assert build is not None and build.command == "weir.build"
    assert list(build.arguments or []) == [{"root": str(project), "targets": ["orders_clean"],
                                "mode": "required", "label": "Build orders_clean"}]
    assert found[1].command is not None and found[1].command.arguments is not None
    assert found[1].command.arguments[0]["targets"] == ["+orders_clean"]
    assert not (project / ".weir/daemon.json").exists()

    result = await client.workspace_execute_command_async(t.ExecuteCommandParams(
        command=build.command, arguments=build.arguments))
    assert result["state"] == "succeeded", result
    assert (project / ".weir/daemon.json").exists()  # it started the project's daemon
    reports = next(iter(client.progress_reports.values()))
    assert isinstance(reports[0], t.WorkDoneProgressBegin)
    assert reports[0].title == "weir: Build orders_clean" and reports[0].cancellable
    assert any(isinstance(r, t.WorkDoneProgressReport) and r.message == "running orders_clean"
               for r in reports)
    assert isinstance(reports[-1], t.WorkDoneProgressEnd)
    assert reports[-1].message == "build succeeded"

    found = await code_lenses(client, clean)
    assert [lens.command.title for lens in found if lens.command][::3] == [
        "▶ Build · ✓ up to date", "▶ Build · ○ never built"]
    sql = open_doc(client, project / "recipes/per_customer.sql", language="sql")
    text = await hover_text(client, sql, 2, 8)
    assert text is not None
    assert "status: **up to date**" in text and "\n3 rows" in text
    head = git(project, "rev-parse", "HEAD").strip()
    assert f"at commit `{head[:10]}`" in text
    assert "| amount | double | yes |" in text  # the schema observed at the build


async def test_the_editor_follows_builds_made_elsewhere(client: LanguageClient,
                                                        project: Path) -> None:
    queue = refreshes(client)
    assert run_weir("daemon", "start", cwd=project).code == 0
    sql = open_doc(client, project / "recipes/per_customer.sql", language="sql")
    text = await hover_text(client, sql, 2, 8)
    assert text is not None and "never built" in text
    await asyncio.wait_for(queue.get(), 10)  # connected to the daemon's event stream
    built = run_weir("build", "orders_clean", cwd=project)
    assert built.code == 0, built.text
    assert built.out.startswith("Through the project's daemon (pid "), built.out  # not in-process
    await asyncio.wait_for(queue.get(), 10)  # the build ended: lenses are stale
    text = await hover_text(client, sql, 2, 8)
    assert text is not None and "status: **up to date**" in text


async def test_a_failing_build_says_so(client: LanguageClient, project: Path) -> None:
    bad = project / "recipes/boom.py"
    bad.write_text("from weir import recipe\n\n@recipe\ndef boom(orders):\n"
                   "    raise ValueError('no good')\n")
    open_doc(client, bad)
    found = await code_lenses(client, bad)
    assert found[0].command is not None
    result = await client.workspace_execute_command_async(t.ExecuteCommandParams(
        command="weir.build", arguments=found[0].command.arguments))
    assert result["state"] == "failed"
    shown = await message_containing(client, "build failed")
    assert shown.type == t.MessageType.Error
    found = await code_lenses(client, bad)
    assert found[0].command is not None
    assert found[0].command.title == "▶ Build · ✗ failed"
    result = await client.workspace_execute_command_async(t.ExecuteCommandParams(
        command="weir.build", arguments=[{"root": str(project), "targets": ["nope"]}]))
    assert result["state"] == "error"
    assert result["summary"].startswith("build error: unknown dataset 'nope'")
    with pytest.raises(JsonRpcException, match="weir.build needs targets") as e:
        await client.workspace_execute_command_async(t.ExecuteCommandParams(
            command="weir.build", arguments=[{"root": str(project), "targets": []}]))
    assert e.value.code == -32803  # RequestFailed: the editor shows the reason
