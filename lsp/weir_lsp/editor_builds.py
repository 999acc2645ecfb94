"""Builds started from the editor (the CodeLens's `weir.build`): through the project's daemon,
starting one if none runs, with the build's progress reported to the editor (`$/progress`) and
its Cancel cancelling the build."""

from __future__ import annotations

import asyncio
import concurrent.futures
import uuid
from collections.abc import Awaitable, Callable
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
    """`weir.build` as the editor sends it: one argument ``{root, targets, mode}``."""
    return await editor_command(args, "weir.build takes one argument: {root, targets, mode}",
                                lambda given: build(ls, given))


async def editor_command(args: tuple[Any, ...], usage: str,
                         run: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]],
                         ) -> dict[str, Any]:
    """A lens's command as the editor sends it, one object argument handed to ``run``; a
    command that cannot start is an error the editor shows in words (``usage`` when the
    argument is not an object)."""
    try:
        if not args or not isinstance(args[0], dict):
            raise WeirError(usage)
        return await run(args[0])
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
    token = await begin_progress(
        ls, "build", f"weir: {args.get('label') or 'build ' + ' '.join(targets)}")
    try:
        client = await asyncio.to_thread(ensure_daemon, root)
        build = await asyncio.to_thread(client.start_build, targets, mode, by="editor")
        build_id = build.id
        on_cancel(ls, loop, token, lambda: client.cancel_build(build_id))
        final = await asyncio.to_thread(follow_build, client, build_id,
                                        _progress_reporter(ls, loop, token))
        summary = _summary(final)
    except WeirError as exc:
        end_progress(ls, token, exc.message)
        raise
    end_progress(ls, token, summary)
    project = ls.projects.by_root.get(root.resolve())
    if project is not None:
        project.invalidate_facts()
        ls.refresh_lenses()
    if final.state is not wire.BuildState.SUCCEEDED:
        ls.window_show_message(t.ShowMessageParams(
            type=t.MessageType.Error, message=f"weir: {summary}"))
    return {"id": build_id, "state": final.state.value,
            "error": final.error.to_json() if final.error else None, "summary": summary}


async def begin_progress(ls: WeirLanguageServer, kind: str, title: str) -> str | None:
    """A cancellable `$/progress` titled ``title``, when the client shows them; its token."""
    caps = ls.client_capabilities.window
    if caps is None or not caps.work_done_progress:
        return None
    token = f"weir-{kind}-{uuid.uuid4().hex[:8]}"
    await ls.work_done_progress.create_async(token)
    ls.work_done_progress.begin(token, t.WorkDoneProgressBegin(
        title=title, cancellable=True, message="starting…"))
    return token


def on_cancel(ls: WeirLanguageServer, loop: asyncio.AbstractEventLoop, token: str | None,
              cancel: Callable[[], object]) -> None:
    """Run ``cancel`` (it blocks: on a worker thread) when the user presses Cancel on the
    progress ``token``."""
    if token is None or token not in ls.work_done_progress.tokens:
        return

    def cancelled(future: concurrent.futures.Future[Any]) -> None:
        if future.cancelled():
            loop.run_in_executor(None, cancel)

    ls.work_done_progress.tokens[token].add_done_callback(cancelled)


def end_progress(ls: WeirLanguageServer, token: str | None, message: str) -> None:
    if token is not None:
        ls.work_done_progress.end(token, t.WorkDoneProgressEnd(message=message))


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
