"""The language server's side of the daemon: builds and scenario runs go through it (one queue
per project, the same one the CLI and the Flow page use), and its events tell the editor when
data changed.

Everything here blocks (the daemon client is the standard library's HTTP), so the server calls
it from worker threads and hands results back to its event loop.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from weir import wire
from weir.client import DaemonClient
from weir.errors import WeirError
from weir.workspace import active_environment, state_dir_for

log = logging.getLogger(__name__)

FINAL_STATES = ("succeeded", "failed", "cancelled", "error", "interrupted")


def ensure_daemon(root: Path) -> DaemonClient:
    """The project's daemon, started in the background (as `weir daemon start`) if none runs.
    It starts in the project's root, as from a terminal there (and the VS Code extension): its
    builds run where the daemon runs, and a recipe's relative paths are the project's."""
    client = DaemonClient.running(root)
    if client is not None:
        return client
    done = subprocess.run([sys.executable, "-m", "weir", "--project", str(root), "daemon",
                           "start"], cwd=root if root.is_dir() else None,
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise WeirError("could not start the weir daemon" + (f": {said[0]}" if said else ""),
                        hint=f"run `weir daemon start` in {root} to see why")
    client = DaemonClient.running(root)
    if client is None:
        raise WeirError("the weir daemon started but does not answer",
                        hint=f"see {state_dir_for(root, active_environment()) / 'logs' / 'daemon.log'}")
    return client


def follow_build(client: DaemonClient, build_id: str,
                 on_event: Callable[[str, dict[str, Any]], None]) -> wire.BuildSummary:
    """Feed the build's events to ``on_event`` until it ends; the build as it ended."""
    for kind, data in client.build_events(build_id):
        on_event(kind, data)
        if kind == "end":
            break
    return client.build(build_id)


def follow_scenario(client: DaemonClient, run_id: str,
                    on_event: Callable[[wire.ScenarioEvent], None]) -> wire.ScenarioRunReport:
    """Feed the scenario run's events to ``on_event`` until it ends; its report."""
    for kind, data in client.scenario_events(run_id):
        if kind == "end":
            return wire.ScenarioRunReport.from_json(data)
        on_event(wire.ScenarioEvent.from_json(data))
    return client.scenario_run(run_id)


class EventFollower:
    """Follows a project's daemon event stream for as long as the server runs, reconnecting
    when a daemon (re)appears. It calls ``on_data_changed`` when a build ends or the daemon
    comes up (a build may have run while we were not listening); ``on_statuses`` with the
    daemon's statuses when the stream connects (None when it ends: the daemon went away), and
    ``on_status`` with each `status` event."""

    def __init__(self, root: Path, on_data_changed: Callable[[], None],
                 poll_seconds: float = 2.0,
                 on_statuses: Callable[[wire.StatusReport | None], None] | None = None,
                 on_status: Callable[[wire.StatusChange], None] | None = None) -> None:
        self.root = root
        self.on_data_changed = on_data_changed
        self.on_statuses = on_statuses
        self.on_status = on_status
        self.poll_seconds = poll_seconds
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"weir-events-{root.name}",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            client = DaemonClient.running(self.root)
            if client is None:
                self._stop.wait(self.poll_seconds)
                continue
            try:
                self._follow(client)
            except Exception as exc:  # noqa: BLE001 - a dropped stream: reconnect after a pause
                log.debug("event stream of %s ended: %s", self.root, exc)
            self.connected.clear()
            if self.on_statuses is not None:
                self.on_statuses(None)
            self._stop.wait(self.poll_seconds)

    def _follow(self, client: DaemonClient) -> None:
        stream = DaemonClient(client.url, client.token, timeout=60)
        for kind, data in stream.events():
            if self._stop.is_set():
                return
            if kind == "hello":
                if self.on_statuses is not None:
                    self.on_statuses(self._statuses(client))
                self.connected.set()
                self.on_data_changed()
            elif kind == "status" and self.on_status is not None:
                self.on_status(wire.StatusChange.from_json(data))
            elif kind == "build" and data.get("state") in FINAL_STATES:
                self.on_data_changed()
            elif kind == "job" and data.get("event") == "finish":
                self.on_data_changed()

    def _statuses(self, client: DaemonClient) -> wire.StatusReport | None:
        """The daemon's statuses, or None when it has none to give (its project cannot be
        read: the statuses are computed here meanwhile)."""
        try:
            return client.statuses()
        except WeirError as exc:
            log.debug("no statuses from the daemon of %s: %s", self.root, exc)
            return None

