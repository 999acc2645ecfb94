"""The daemon's one build queue: builds from the CLI, the editor and schedulers run here, one
at a time, so no dataset is ever built twice at once. A build asked for while another runs
waits; when its turn comes it is planned against the data as it is then, so work the earlier
build already did is not repeated.

Every build keeps its events (plan, job started, job finished, done) so a client can follow it
from the start at any time; the same events go to the daemon's event stream.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir.errors import WeirError

if TYPE_CHECKING:
    from weir.build.runner import Outcome
    from weir.server.daemon import Daemon

FINAL = ("succeeded", "failed", "cancelled", "error")


@dataclass
class BuildRequest:
    targets: list[str] = field(default_factory=list)
    mode: str = "required"
    all: bool = False
    stale: bool = False
    jobs: int = 0  # 0: the number of cores
    fail_fast: bool = False


@dataclass
class Build:
    id: str
    request: BuildRequest
    state: str = "queued"  # queued | running | succeeded | failed | cancelled | error
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    error: dict[str, Any] | None = None  # a user error that stopped planning
    run_id: str | None = None
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    cancel: threading.Event = field(default_factory=threading.Event)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "request": vars(self.request),
                "created": self.created, "started": self.started, "finished": self.finished,
                "error": self.error, "run_id": self.run_id}

    def add(self, kind: str, data: dict[str, Any]) -> None:
        with self.changed:
            self.events.append((kind, data))
            self.changed.notify_all()


def outcome_json(o: Outcome) -> dict[str, Any]:
    return {"recipe": o.recipe, "outputs": list(o.outputs), "status": o.status,
            "seconds": round(o.seconds, 4), "rows": o.rows, "error": o.error,
            "traceback": o.traceback, "log_path": o.log_path,
            "reasons": {k: list(v) for k, v in o.reasons.items()}}


class BuildQueue:
    def __init__(self, daemon: Daemon, keep: int = 200) -> None:
        self.daemon = daemon
        self.builds: dict[str, Build] = {}
        self.keep = keep
        self._ids = itertools.count(1)
        self._queue: queue.Queue[Build | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="weir-builds", daemon=True)
        self._thread.start()

    def submit(self, request: BuildRequest) -> Build:
        build = Build(f"b{next(self._ids)}", request)
        self.builds[build.id] = build
        for old in list(self.builds)[:-self.keep]:
            if self.builds[old].state in FINAL:
                del self.builds[old]
        self._publish(build, "build", {"id": build.id, "state": "queued"})
        self._queue.put(build)
        return build

    def cancel(self, build_id: str) -> Build:
        build = self.builds[build_id]
        build.cancel.set()
        if build.state == "queued":
            self._finish(build, "cancelled")
        return build

    def stop(self) -> None:
        for build in self.builds.values():
            build.cancel.set()
        self._queue.put(None)
        self._thread.join(10)

    def _publish(self, build: Build, kind: str, data: dict[str, Any]) -> None:
        build.add(kind, data)
        self.daemon.hub.publish(kind, {"build": build.id, **data})

    def _finish(self, build: Build, state: str) -> None:
        build.state = state
        build.finished = time.time()
        self._publish(build, "build", {"id": build.id, "state": state})
        req = build.request
        what = " ".join(req.targets) or ("--all" if req.all else "--stale")
        error = build.error.get("message") if isinstance(build.error, dict) else build.error
        logging.getLogger("weir.daemon").info(
            "build %s (%s, %s) %s in %.1f s%s", build.id, what, req.mode, state,
            build.finished - (build.started or build.finished), f": {error}" if error else "")

    def _run(self) -> None:
        while True:
            build = self._queue.get()
            if build is None:
                return
            if build.state != "queued":
                continue  # cancelled while waiting
            try:
                self._execute(build)
            except WeirError as exc:
                build.error = exc.to_json()
                self._finish(build, "error")
            except Exception as exc:  # noqa: BLE001 - a bug must not stop the queue
                logging.getLogger("weir.daemon").exception("build %s failed", build.id)
                build.error = {"message": f"internal error: {exc!r}", "hint": None}
                self._finish(build, "error")

    def _execute(self, build: Build) -> None:
        import os

        from weir.build.lock import build_lock
        from weir.build.runner import Runner
        from weir.cli.commands.plan import plan_json
        from weir.errors import ProjectInvalid
        from weir.flow.plan import Mode
        from weir.server.logtail import LogTail

        build.state = "running"
        build.started = time.time()
        snap = self.daemon.live.snapshot
        if snap.errors or snap.project is None or snap.flow is None:
            raise ProjectInvalid(snap.errors)
        req = build.request
        ws = self.daemon.workspace(snap)
        try:
            with self.daemon.state_lock:
                state = ws.snapshot()
            targets = ws.resolve_targets(req.targets, req.all, req.stale, state)
            plan = ws.plan(targets, Mode(req.mode), state)
            folders = [n for n in plan.outputs if ws.project.datasets[n].is_folder]
            self._publish(build, "plan", {"id": build.id, "root": str(ws.root),
                                          "folders": folders, **plan_json(plan)})
            if not plan.jobs:
                self._finish(build, "succeeded")
                return

            tails: dict[str, LogTail] = {}

            def listener(kind: str, outcome: Outcome) -> None:
                # The job's printed lines stream as `log` events between its start and finish.
                if kind == "start" and outcome.log_path:
                    def emit(lines: list[str], o: Outcome = outcome) -> None:
                        self._publish(build, "log", {"id": build.id, "recipe": o.recipe,
                                                     "outputs": list(o.outputs), "lines": lines})

                    tail = LogTail(Path(outcome.log_path), emit)
                    tails[outcome.recipe] = tail
                    tail.start()
                elif kind == "finish" and outcome.recipe in tails:
                    tails.pop(outcome.recipe).stop()
                self._publish(build, "job", {"id": build.id, "event": kind,
                                             **outcome_json(outcome)})

            with build_lock(ws.state_dir):
                runner = Runner(ws, plan, state, req.jobs or os.cpu_count() or 1,
                                req.fail_fast, listener, command=f"daemon build {build.id}",
                                cancel=build.cancel)
                build.run_id = runner.run_id
                try:
                    result = runner.run()
                finally:
                    for tail in tails.values():
                        tail.stop()
            self._publish(build, "result", {"id": build.id, "ok": result.ok,
                                            "run_id": result.run_id,
                                            "seconds": round(result.seconds, 3),
                                            "cancelled": result.cancelled})
            self._finish(build, "cancelled" if result.cancelled
                         else ("succeeded" if result.ok else "failed"))
        finally:
            ws.close()

    def follow(self, build: Build, start: int = 0,
               timeout: float = 15.0) -> tuple[list[tuple[str, dict[str, Any]]], bool]:
        """Events from index ``start`` (waiting up to ``timeout`` for new ones) and whether the
        build is over."""
        with build.changed:
            if len(build.events) <= start and build.state not in FINAL:
                build.changed.wait(timeout)
            return build.events[start:], build.state in FINAL

