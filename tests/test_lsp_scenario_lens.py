"""The ▶ Run scenario CodeLens, through a real LSP client: over a scenario file that reads (not
over one with a mistake, saved or typed), and clicked, the scenario runs in the project's
daemon — started for it, as for a build from the editor — with its lines as the progress and
its outcome said."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from conftest import SMALL, Gate, run_weir
from lsp_support import (SERVER, change_doc, code_lenses, diagnostics_for, message_containing,
                         open_doc, start)
from weir.client import DaemonClient

HELD = ("from pathlib import Path\nfrom weir import recipe\n\n@recipe\ndef held(orders):\n"
        "    Path('gate').read_text()  # a FIFO: waits here until the test opens it\n"
        "    return orders\n")
BOOM = "from weir import recipe\n\n@recipe\ndef boom(orders):\n    raise ValueError('no good')\n"


@pytest.fixture
def project(make_project: Callable[..., Path]) -> Path:
    root = make_project({**SMALL, "recipes/boom.py": BOOM, "recipes/held.py": HELD,
                         "scenarios/slow.yaml": "steps:\n  - build: [held]\n"
                                                "  - build: [customers]\n",
                         "scenarios/hourly.yaml": "description: the clean orders\n"
                                                  "steps:\n  - build: [orders_clean]\n",
                         "scenarios/broken.yaml": "steps:\n  - build: [orders]\n"
                                                  "  - biuld: [customers]\n",
                         "scenarios/nightly.yaml": "steps:\n  - build: [boom]\n"},
                        name="small")
    yield root
    run_weir("daemon", "stop", "--now", cwd=root)


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, project: Path):
    @lsp_client.feature(t.WORKSPACE_CODE_LENS_REFRESH)
    def on_refresh(params: None) -> None:  # builds end: the ▶ Build titles are news
        pass

    await start(lsp_client, project)
    yield
    await lsp_client.shutdown_session()


async def test_the_lens_is_over_a_scenario_file_that_reads(client: LanguageClient,
                                                          project: Path) -> None:
    hourly = project / "scenarios/hourly.yaml"
    uri = open_doc(client, hourly, language="yaml")
    found = await code_lenses(client, hourly)
    assert len(found) == 1 and found[0].command is not None
    assert found[0].range.start.line == 0
    assert found[0].command.title == "▶ Run scenario"
    assert found[0].command.command == "weir.scenario.run"
    assert list(found[0].command.arguments or []) == [{"root": str(project), "scenario": "hourly",
                                           "label": "Run scenario hourly"}]

    broken = project / "scenarios/broken.yaml"
    open_doc(client, broken, language="yaml")
    assert await code_lenses(client, broken) == []
    assert await code_lenses(client, project / "recipes/boom.py") != []  # the recipe's ▶ Build

    # Typed into a mistake (the file's last good version stands in for its datasets), then
    # fixed: no lens while it is wrong.
    change_doc(client, uri, "steps:\n  - build: [orders_clean\n", 2)
    await diagnostics_for(client, uri, code="yaml-syntax")
    assert await code_lenses(client, hourly) == []
    change_doc(client, uri, "steps:\n  - build: [orders_clean]\n", 3)
    await diagnostics_for(client, uri, want=0)
    assert [lens.command.title for lens in await code_lenses(client, hourly)
            if lens.command] == ["▶ Run scenario"]


async def test_clicking_it_runs_the_scenario_in_a_daemon_it_starts(client: LanguageClient,
                                                                   project: Path) -> None:
    hourly = project / "scenarios/hourly.yaml"
    open_doc(client, hourly, language="yaml")
    lens = (await code_lenses(client, hourly))[0].command
    assert lens is not None
    assert not (project / ".weir/daemon.json").exists()

    result = await client.workspace_execute_command_async(t.ExecuteCommandParams(
        command=lens.command, arguments=lens.arguments))
    assert result["status"] == "succeeded", result
    assert result["summary"] == "scenario hourly succeeded"
    daemon = DaemonClient.running(project)
    assert daemon is not None  # it started the project's daemon, which ran it
    [run] = daemon.scenario_runs("hourly")
    assert (run.run_id, run.cause, run.status) == (result["run_id"], "editor", "succeeded")
    assert [(s.name, s.status) for s in run.steps] == [("build orders_clean", "succeeded")]
    assert next(s for s in daemon.statuses().datasets
                if s.name == "orders_clean").status.value == "up to date"

    reports = next(iter(client.progress_reports.values()))
    assert isinstance(reports[0], t.WorkDoneProgressBegin)
    assert reports[0].title == "weir: Run scenario hourly" and reports[0].cancellable
    lines = [r.message for r in reports if isinstance(r, t.WorkDoneProgressReport)]
    assert lines[0] == "scenario hourly (editor): 1 steps"
    assert "✓ build orders_clean  succeeded" in lines
    assert isinstance(reports[-1], t.WorkDoneProgressEnd)
    assert reports[-1].message == "scenario hourly succeeded"


async def test_a_failing_run_says_so(client: LanguageClient, project: Path) -> None:
    result = await client.workspace_execute_command_async(t.ExecuteCommandParams(
        command="weir.scenario.run", arguments=[{"root": str(project), "scenario": "nightly"}]))
    assert result["status"] == "failed"
    assert result["summary"].startswith("scenario nightly failed (build boom: ")
    shown = await message_containing(client, "scenario nightly failed")
    assert shown.type == t.MessageType.Error
    with pytest.raises(JsonRpcException, match="weir.scenario.run needs a scenario") as e:
        await client.workspace_execute_command_async(t.ExecuteCommandParams(
            command="weir.scenario.run", arguments=[{"root": str(project)}]))
    assert e.value.code == -32803  # RequestFailed: the editor shows the reason
    with pytest.raises(JsonRpcException, match="unknown scenario|no scenario"):
        await client.workspace_execute_command_async(t.ExecuteCommandParams(
            command="weir.scenario.run", arguments=[{"root": str(project),
                                                     "scenario": "weekly"}]))


async def test_cancelling_its_progress_cancels_the_run(client: LanguageClient, project: Path,
                                                       gates: Callable[[Path], Gate]) -> None:
    gate = gates(project / "gate")
    running = asyncio.ensure_future(client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="weir.scenario.run",
                               arguments=[{"root": str(project), "scenario": "slow"}])))
    reached = asyncio.ensure_future(asyncio.to_thread(gate.reached))
    await asyncio.wait([running, reached], return_when=asyncio.FIRST_COMPLETED)
    assert not running.done(), running.result()  # (a run that ended says why)
    await reached  # its first build's job runs: the recipe reads the gate in the project root
    [token] = client.progress_reports
    client.window_work_done_progress_cancel(t.WorkDoneProgressCancelParams(token=token))
    result = await running
    gate.forget()  # its job was killed with the build
    assert result["status"] == "cancelled", result
    daemon = DaemonClient.running(project)
    assert daemon is not None
    [run] = daemon.scenario_runs("slow")
    assert [(s.status, s.message) for s in run.steps][1] == ("skipped", "cancelled")
