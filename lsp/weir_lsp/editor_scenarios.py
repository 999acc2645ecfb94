"""Scenario runs started from the editor (the CodeLens's `weir.scenario.run`): through the
project's daemon, as a build from the editor goes (starting a daemon if none runs), so the run
is the one the daemon's triggers, the CLI and the Flow page see; its lines and steps are
reported to the editor (`$/progress`) and its Cancel cancels the run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as t

from weir import wire
from weir.errors import WeirError
from weir_lsp.daemon_link import ensure_daemon, follow_scenario
from weir_lsp.editor_builds import (begin_progress, editor_command, end_progress,
                                   on_cancel)

if TYPE_CHECKING:
    from weir_lsp.session import WeirLanguageServer

# What the run's history says started it.
CAUSE = "editor"


async def run_command(ls: WeirLanguageServer, *args: Any) -> dict[str, Any]:
    """`weir.scenario.run` as the editor sends it: one argument ``{root, scenario}``."""
    return await editor_command(args, "weir.scenario.run takes one argument: {root, scenario}",
                                lambda given: run(ls, given))


async def run(ls: WeirLanguageServer, args: dict[str, Any]) -> dict[str, Any]:
    """Run the scenario through the project's daemon (starting one if none runs), reporting
    its progress to the editor; cancelling the progress cancels the run. Returns
    ``{run_id, status, summary}`` (``skipped_for`` too when it was running already)."""
    root = Path(str(args.get("root") or ""))
    name = str(args.get("scenario") or "")
    if not name:
        raise WeirError("weir.scenario.run needs a scenario", hint="e.g. {scenario: 'nightly'}")
    loop = asyncio.get_running_loop()
    token = await begin_progress(ls, "scenario", f"weir: {args.get('label') or name}")
    try:
        client = await asyncio.to_thread(ensure_daemon, root)
        started = await asyncio.to_thread(client.run_scenario, name, CAUSE)
        if started.status == "skipped":
            summary = (f"scenario {name} is running already (run {started.skipped_for}): "
                       "this start was skipped")
            end_progress(ls, token, summary)
            ls.window_show_message(t.ShowMessageParams(type=t.MessageType.Warning,
                                                       message=f"weir: {summary}"))
            return {"run_id": started.run_id, "status": started.status, "summary": summary,
                    "skipped_for": started.skipped_for}
        on_cancel(ls, loop, token, lambda: client.cancel_scenario(started.run_id))
        final = await asyncio.to_thread(follow_scenario, client, started.run_id,
                                        _progress_reporter(ls, loop, token))
    except WeirError as exc:
        end_progress(ls, token, exc.message)
        raise
    summary = _summary(final)
    end_progress(ls, token, summary)
    if final.status != "succeeded":
        ls.window_show_message(t.ShowMessageParams(
            type=t.MessageType.Error if final.status == "failed" else t.MessageType.Info,
            message=f"weir: {summary}"))
    return {"run_id": final.run_id, "status": final.status, "summary": summary}


def _progress_reporter(ls: WeirLanguageServer, loop: asyncio.AbstractEventLoop,
                       token: str | None) -> Callable[[wire.ScenarioEvent], None]:
    """A callback for the run's events (on a worker thread): each line of its output is the
    progress's message."""
    def on_event(event: wire.ScenarioEvent) -> None:
        if token is not None and event.event is wire.ScenarioEventKind.LINE:
            loop.call_soon_threadsafe(ls.work_done_progress.report, token,
                                      t.WorkDoneProgressReport(message=event.line))
    return on_event


def _summary(report: wire.ScenarioRunReport) -> str:
    said = f"scenario {report.scenario} {report.status}"
    failed_steps = [f"{s.name}: {s.message}" if s.message else s.name
                    for s in report.steps if s.status == "failed"]
    if report.error:
        said += f": {report.error}"
    elif failed_steps:
        said += f" ({'; '.join(failed_steps)})"
    return said
