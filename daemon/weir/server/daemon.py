"""``weir daemon``: one process per project that keeps the Flow current and serves the API.

It binds 127.0.0.1 on a free port, writes the port and a fresh bearer token to
``.weir/daemon.json`` (mode 0600), watches the project and applies file changes to its
LiveProject, and publishes each Flow change on the event stream. Beside the Flow snapshot it
keeps the data's status (weir.server.status), which every read, plan and build takes, and
publishes each change of it as a `status` event. Its scenarios run on their triggers
(weir.server.scenarios).

A deploying daemon (``follow``: weir.server.deploy) reads its Flow from the worktree of the
commit it deployed (``project_dir``) instead of watching the project: ``root`` stays the
user's checkout, where its state and its data are.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir import wire
from weir.errors import WeirError
from weir.flow.status import Status
from weir.server.events import EventHub
from weir.server.layouts import LayoutMemory
from weir.server.live import FlowSnapshot, LiveProject
from weir.server.status import Clock, StatusKeeper, SystemClock
from weir.workspace import DataStatus

if TYPE_CHECKING:
    from weir.server.deploy import Deployer, Following

log = logging.getLogger("weir.daemon")
DAEMON_FILE = Path(wire.DAEMON_FILE).name
FINAL = tuple(s.value for s in wire.BuildState if s.final)


class Daemon:
    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0,
                 clock: Clock | None = None, environment: str | None = None,
                 follow: Following | None = None) -> None:
        from weir.workspace import active_environment, machine_connections_file

        self.root = root  # the user's checkout: state, data, daemon.json
        # The environment it serves (default: the active one, WEIR_ENV): its connections and
        # variables, its own state under state_dir, its own daemon.json there.
        self.environment = environment or active_environment()
        self.state_dir = wire.state_dir(root, self.environment)
        self.host = host
        self.port = port
        self.pid = os.getpid()
        self.started = time.time()
        self.token = secrets.token_urlsafe(32)
        self.hub = EventHub()
        self.clock: Clock = clock or SystemClock()
        machine = machine_connections_file()
        self.deployer: Deployer | None = None
        cache = None
        if follow is not None:
            from weir.server.deploy import Deployer

            self.deployer = Deployer(self, follow, machine)
            cache = self.state_dir / "cache" / "flow.msgpack"  # not in a worktree
        # The daemon lock, taken before a deploying daemon's first deploy (which writes the
        # environment's worktrees and deploy.json), else when it runs.
        self._lock_fd: int | None = self._take_lock() if self.deployer else None
        # Where the Flow's files are read: the project, or the deployed commit's worktree.
        try:
            self.project_dir = self.deployer.prepare() if self.deployer else root
        except BaseException:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
            raise
        self.live = LiveProject(self.project_dir, machine, self.environment, cache)
        self.keeper = StatusKeeper(root, self.state_dir, self.clock,
                                   lambda change: self.hub.publish("status", change.to_json()))
        self.hub.observe(self._observed)
        from weir.server.builds import BuildQueue

        self.builds = BuildQueue(self)
        from weir.server.scenarios import ScenarioService

        self.scenarios = ScenarioService(self)
        self.layouts = LayoutMemory()  # the Flow page's, by shape

    # -- what the API asks ----------------------------------------------------------------------
    def workspace(self, snap: FlowSnapshot) -> Any:
        from weir.workspace import Workspace

        assert snap.project is not None and snap.flow is not None
        # The snapshot's own directory (a deploy moves the Flow to another worktree; a build
        # on an older snapshot keeps its commit's files), the checkout's data and state.
        return Workspace(Path(snap.project.root), snap.project, snap.flow,
                         list(snap.diagnostics), data_root=self.root)

    def data_status(self, snap: FlowSnapshot) -> DataStatus:
        """The data's status for this version of the Flow: what every API read, plan and
        build of the daemon works from (the one status truth of the project), from the
        keeper — it never probes storage for a read."""
        return self.keeper.status(snap)

    def status_report(self, snap: FlowSnapshot) -> wire.StatusReport:
        """`GET /api/status`: what `weir status --json` says, from the kept snapshot."""
        assert snap.project is not None
        return wire.StatusReport(snap.project.name, self.keeper.report(snap), snap.version)

    def _observed(self, kind: str, data: Any) -> None:
        """Every event published: a job's end (its outputs committed) or a build's end is
        news for the statuses — the keeper takes it in from its own thread."""
        if kind in ("job", "result") or (kind == "build" and data.get("state") in FINAL):
            if kind != "job" or data.get("event") == "finish":
                self.keeper.nudge()

    def statuses(self, snap: FlowSnapshot) -> dict[str, Status]:
        return self.data_status(snap).statuses

    def plan(self, snap: FlowSnapshot, request: wire.BuildRequest) -> wire.Plan:
        """What a build with these arguments would do now, and why (`weir plan --json`)."""
        from weir.errors import ProjectInvalid

        if snap.errors or snap.project is None or snap.flow is None:
            raise ProjectInvalid(snap.errors)
        state = self.data_status(snap)
        ws = self.workspace(snap)
        try:
            chosen = ws.resolve_targets(list(request.targets), request.all, request.stale, state)
            return ws.plan(chosen, request.mode, state, request.partitions).to_wire()
        finally:
            ws.close()

    def check(self, snap: FlowSnapshot, targets: Sequence[str]) -> wire.CheckReport:
        """`weir check` through the daemon: the datasets' checks on their data now, in its warm
        workers (never in this process); what they said is recorded, and a source's verdict
        is news for the statuses."""
        from weir.build.checking import check_now
        from weir.errors import ProjectInvalid

        if snap.errors or snap.project is None or snap.flow is None:
            raise ProjectInvalid(snap.errors)
        ws = self.workspace(snap)
        try:
            names = ws.resolve_targets(list(targets)) if targets else list(ws.flow.order)
            names = [n for n in names if ws.project.datasets[n].checks]
            report = check_now(ws, names, self.data_status(snap), self.builds.workers)
        finally:
            ws.close()
        self.keeper.nudge()
        return report

    def dataset_detail(self, snap: FlowSnapshot, name: str) -> wire.DatasetDetail:
        state = self.data_status(snap)
        ws = self.workspace(snap)
        try:
            return ws.dataset_detail(name, state, name in self.builds.writing())
        finally:
            ws.close()

    def metrics(self, name: str, last: int) -> wire.MetricsHistory:
        from weir.build.state import StateStore

        store = StateStore(self.state_dir / "state.db")
        try:
            return wire.MetricsHistory(name, tuple(store.metrics_history(name, last)))
        finally:
            store.close()

    def last_log(self, name: str) -> tuple[str | None, str | None]:
        from weir.build.state import StateStore

        store = StateStore(self.state_dir / "state.db")
        try:
            path, status = store.last_log(name)
        finally:
            store.close()
        if path is None or not Path(path).exists():
            return None, None
        return path, status

    def idle(self) -> bool:
        """No build queued or running and no scenario running: nothing reads a recipe file
        of an older snapshot's directory (a deploy's old worktree may go)."""
        return all(b.state.final for b in list(self.builds.builds.values())) \
            and not self.scenarios.running

    def branch_commit(self, branch: str, remote: bool) -> str | None:
        """What a scenario's `commit` trigger on ``branch`` sees. In a deploying daemon, the
        followed branch is the commit deployed: its scenarios run on what the daemon serves
        — never on a commit it refused, one fetched but not checked out yet, or the user's
        local branch of that name — and the deployer asks for that look as soon as it
        deploys (``ScenarioService.look_now``), not at the trigger's next `every`. Any other
        branch: its head in the project's repository (or on its remote)."""
        from weir.scenarios.probes import branch_commit

        if self.deployer is not None and branch == self.deployer.follow.branch:
            return self.deployer.state.commit
        return branch_commit(self.root, branch, remote)

    # -- file events ----------------------------------------------------------------------------
    def on_files(self, paths: set[str] | None) -> None:
        self._flow_changed(self.live.apply(paths))

    def deployed(self, project_dir: Path, branch: str) -> None:
        """The deployer checked a new commit of ``branch`` out at ``project_dir``: the Flow is
        read there from now on, and the commit triggers on the branch look at once."""
        self.project_dir = project_dir
        self._flow_changed(self.live.switch(project_dir))
        self.scenarios.look_now(branch)

    def _flow_changed(self, change: wire.FlowChange | None) -> None:
        if change is None:
            return
        self.hub.publish("flow", change.to_json())
        self.keeper.nudge()
        self.scenarios.sync(self.live.snapshot)
        errors = (f", {change.errors} error{'s' if change.errors != 1 else ''}"
                  if change.errors else "")
        log.info("flow v%d: %s (%.1f ms)%s", change.version, ", ".join(change.files[:3]),
                 change.seconds * 1000, errors)

    # -- running --------------------------------------------------------------------------------
    def run(self) -> None:
        import uvicorn

        from weir.server.app import create_app

        # A request hops between threads (the event loop, the thread pool, a build's thread)
        # while the status keeper's poll and the file watcher crunch in Python: with the
        # interpreter's default 5 ms switch interval, each hop can wait that long for the
        # lock they share. 1 ms keeps an API answer quick while those run.
        sys.setswitchinterval(0.001)
        from weir.server.watcher import Watcher

        state_dir = self.state_dir
        lock_fd = self._lock_fd if self._lock_fd is not None else self._take_lock()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            os.close(lock_fd)
            raise WeirError(f"cannot listen on {self.host}:{self.port}: {exc.strerror}") from None
        sock.listen(128)  # clients that read daemon.json early queue until uvicorn accepts
        self.port = sock.getsockname()[1]
        # A deploying daemon's Flow changes by deploys, never by edits in the user's checkout.
        watcher = Watcher(self.root, self.on_files) if self.deployer is None else None
        if watcher is not None:
            watcher.start()
        self.keeper.start(lambda: self.live.snapshot)
        self.builds.start()  # only now: the daemon lock says the saved builds are ours
        self.scenarios.start()
        if self.deployer is not None:
            self.deployer.start()
        self._write_info(state_dir)
        log.info("weir daemon for %s on http://%s:%d (pid %d)", self.root, self.host, self.port,
                 self.pid)
        if self.deployer is not None:
            d = self.deployer.state
            log.info("following %s/%s every %gs: %s deployed (%s)", d.remote, d.branch,
                     d.interval, (d.commit or "?")[:10], d.worktree)
        config = uvicorn.Config(create_app(self), log_level="warning", lifespan="on",
                                timeout_graceful_shutdown=2)
        hub = self.hub

        class Server(uvicorn.Server):
            def handle_exit(self, sig: int, frame: Any) -> None:
                hub.close()  # event streams end at once, not at the graceful timeout
                super().handle_exit(sig, frame)

        server = Server(config)

        def _terminate(signum: int, frame: Any) -> None:
            # uvicorn shuts down gracefully, then re-raises the signal with the handler that
            # was there before it: make that handler an exit that still runs our cleanup.
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, _terminate)
        try:
            server.run(sockets=[sock])
        finally:
            if self.deployer is not None:
                self.deployer.stop()
            if watcher is not None:
                watcher.stop()
            self.scenarios.stop()
            self.builds.stop()
            self.keeper.stop()
            self.live.save_cache()
            try:
                mine = wire.DaemonInfo.read(self.root, self.environment)
                if mine and mine.pid == self.pid:
                    (state_dir / DAEMON_FILE).unlink()
            except OSError:
                pass
            os.close(lock_fd)

    def _take_lock(self) -> int:
        """One daemon per project and environment: an flock on its state directory's
        daemon.lock (the kernel drops it when the process dies)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        lock_fd = os.open(self.state_dir / "daemon.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            info = wire.DaemonInfo.read(self.root, self.environment)
            raise WeirError("a daemon already runs for this project"
                            + (f" in {self.environment}" if self.environment else "")
                            + (f" (pid {info.pid}, port {info.port})" if info else ""),
                            hint="`weir daemon status` shows it; `weir daemon stop` stops it"
                            ) from None
        return lock_fd

    def _write_info(self, state_dir: Path) -> None:
        data = wire.DaemonInfo(self.pid, self.host, self.port, self.token,
                               self.started).to_json()
        tmp = state_dir / f".{DAEMON_FILE}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
        os.chmod(tmp, 0o600)
        os.replace(tmp, state_dir / DAEMON_FILE)
