"""Builds started from the editor (the CodeLens's `weir.build`): through the project's daemon,
starting one if none runs, with the build's progress reported to the editor (`$/progress`) and
its Cancel cancelling the build."""

from __future__ import annotations

import asyncio
import concurrent.futures
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as t

from weir import wire
from weir.errors import WeirError
from weir_lsp.conversion import failed
from weir_lsp.daemon_link import ensure_daemon, follow_build

if TYPE_CHECKING:
    from weir_lsp.session import WeirLanguageServer


async def build_command(ls: WeirLanguageServer, *args: Any) -> dict[str, Any]:
    """`weir.build` as the editor sends it: one argument ``{root, targets, mode}``. A build
    that cannot start is an error the editor shows in words."""
    try:
        if not args or not isinstance(args[0], dict):
            raise WeirError("weir.build takes one argument: {root, targets, mode}")
        return await build(ls, args[0])
    except WeirError as exc:
        raise failed(exc) from None


async def build(ls: WeirLanguageServer, args: dict[str, Any]) -> dict[str, Any]:
    """Run a build through the project's daemon (starting one if none runs), reporting its
    progress to the editor; cancelling the progress cancels the build."""
    root = Path(str(args.get("root") or ""))
    targets = [str(x) for x in args.get("targets") or []]
    mode = str(args.get("mode") or "required")
    if not targets:
        raise WeirError("weir.build needs targets", hint="e.g. {targets: ['orders_clean']}")
    loop = asyncio.get_running_loop()
    progress = ls.work_done_progress
    token: str | None = None
    caps = ls.client_capabilities.window
    if caps is not None and caps.work_done_progress:
        token = f"weir-build-{uuid.uuid4().hex[:8]}"
        await progress.create_async(token)
        progress.begin(token, t.WorkDoneProgressBegin(
            title=f"weir: {args.get('label') or 'build ' + ' '.join(targets)}",
            cancellable=True, message="starting…"))
    try:
        client = await asyncio.to_thread(ensure_daemon, root)
        build = await asyncio.to_thread(client.start_build, targets, mode)
        build_id = build.id

        def cancel(future: concurrent.futures.Future[Any]) -> None:
            if future.cancelled():  # the user pressed Cancel on the progress
                loop.run_in_executor(None, client.cancel_build, build_id)

        if token is not None and token in progress.tokens:
            progress.tokens[token].add_done_callback(cancel)
        final = await asyncio.to_thread(follow_build, client, build_id,
                                        _progress_reporter(ls, loop, token))
        summary = _summary(final)
    except WeirError as exc:
        if token is not None:
            progress.end(token, t.WorkDoneProgressEnd(message=exc.message))
        raise
    if token is not None:
        progress.end(token, t.WorkDoneProgressEnd(message=summary))
    project = ls.projects.by_root.get(root.resolve())
    if project is not None:
        project.invalidate_facts()
        ls.refresh_lenses()
    if final.state is not wire.BuildState.SUCCEEDED:
        ls.window_show_message(t.ShowMessageParams(
            type=t.MessageType.Error, message=f"weir: {summary}"))
    return {"id": build_id, "state": final.state.value,
            "error": final.error.to_json() if final.error else None, "summary": summary}

def _progress_reporter(ls: WeirLanguageServer, loop: asyncio.AbstractEventLoop,
                       token: str | None) -> Callable[[str, dict[str, Any]], None]:
    """A callback for the build's events (on a worker thread) that reports progress."""
    counts = {"done": 0, "total": 0}

    def on_event(kind: str, data: dict[str, Any]) -> None:
        if token is None:
            return
        message = None
        if kind == "plan":
            counts["total"] = len(wire.Plan.from_json(data).jobs)
            message = f"{counts['total']} to run" if counts["total"] else "up to date"
        elif kind == "job":
            job = wire.JobReport.from_json(data)
            what = ", ".join(job.outputs) or job.recipe
            if data.get("event") == "start":
                message = f"running {what}"
            else:
                counts["done"] += 1
                message = f"{what}: {job.status.value}"
        if message is not None:
            pct = int(100 * counts["done"] / counts["total"]) if counts["total"] else None
            loop.call_soon_threadsafe(ls.work_done_progress.report, token,
                                      t.WorkDoneProgressReport(message=message,
                                                               percentage=pct))
    return on_event


def _summary(build: wire.BuildSummary) -> str:
    if build.state is wire.BuildState.ERROR and build.error is not None:
        return f"build error: {build.error.message}"
    if build.state is wire.BuildState.FAILED:
        return "build failed: " + (build.error.message if build.error else "a recipe failed") \
            + " (see its log)"
    return f"build {build.state.value}"
