"""A small client for a running weir daemon (stdlib only), for scripts and schedulers.

    from weir.client import DaemonClient
    client = DaemonClient.for_project("path/to/project")
    [node.name for node in client.flow().nodes]

Answers are the types of ``weir.wire``, the one definition of every shape the API sends.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from weir import wire
from weir.errors import WeirError


class DaemonNotRunning(WeirError):
    """No daemon answers for this project."""


class DaemonError(WeirError):
    """The daemon answered with an error. ``status`` is the HTTP status; the message is the
    daemon's own, whatever form it came in (its JSON ``detail``, a validation list, or the
    plain text of a server error)."""

    def __init__(self, status: int, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.status = status


def _not_answering(url: str, exc: Exception) -> DaemonNotRunning:
    return DaemonNotRunning(f"the daemon at {url} does not answer ({exc})",
                            hint="`weir daemon status`; restart it with `weir daemon start`")


def _error_from(status: int, reason: str, body: bytes) -> DaemonError:
    detail: Any = None
    hint: str | None = None
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and "detail" in data:
        detail = data["detail"]
        hint = data.get("hint") if isinstance(data.get("hint"), str) else None
    if isinstance(detail, list):  # a validation error: [{loc: [...], msg: ...}, ...]
        detail = "; ".join(
            ".".join(str(p) for p in item.get("loc", ()) if p != "body") + ": " +
            str(item.get("msg", "")) if isinstance(item, dict) else str(item) for item in detail)
    if not isinstance(detail, str) or not detail:
        detail = body.decode("utf-8", "replace").strip()[:500] or reason
    if status >= 500 and hint is None:
        hint = "this is a bug in weir's daemon: its log (`weir daemon logs`) has the traceback"
    return DaemonError(status, f"the daemon answered {status}: {detail}", hint)


class DaemonGone(DaemonNotRunning):
    """The daemon went away while a build was being followed: its process ended (or was
    replaced by a restart), or it stopped answering. ``ended`` says whether the process is
    gone — then so are the build's workers, which die with it."""

    def __init__(self, what: str, ended: bool) -> None:
        super().__init__(f"the daemon {what}",
                         hint="`weir daemon status` says whether one runs; `weir daemon start` "
                         "starts one" if ended else "`weir daemon stop` stops it, then "
                         "`weir daemon start`")
        self.ended = ended


class DaemonClient:
    """``timeout``: seconds to wait for an answer. ``stream_timeout``: seconds of silence
    after which a build's event stream counts as dead (the daemon sends something at least
    every 5 s, so only a daemon that stopped answering stays silent that long)."""

    def __init__(self, url: str, token: str, timeout: float = 10,
                 stream_timeout: float = 30) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.stream_timeout = stream_timeout
        self.pid: int | None = None

    @classmethod
    def for_project(cls, root: str | Path, environment: str | None = None) -> DaemonClient:
        """The client of the daemon that serves the project in ``environment`` (default:
        ``$WEIR_ENV``, else the project with no environment)."""
        environment = environment or wire.active_environment()
        info = wire.DaemonInfo.read(Path(root), environment)
        if info is None:
            where = f" in environment {environment}" if environment else ""
            raise DaemonNotRunning(f"no weir daemon runs for {root}{where}",
                                   hint="start one with `weir daemon start`"
                                   + (f" (with WEIR_ENV={environment}, or `weir --env "
                                      f"{environment} daemon start`)" if environment else ""))
        return cls(info.url, info.token)

    @classmethod
    def running(cls, root: Path, environment: str | None = None) -> DaemonClient | None:
        """A client for the project's daemon (in ``environment``, default ``$WEIR_ENV``) if one
        runs and answers, else None (also for a daemon.json left behind by a killed daemon)."""
        info = wire.DaemonInfo.read(root, environment or wire.active_environment())
        if info is None:
            return None
        client = cls(info.url, info.token, timeout=5)
        try:
            client.health()
        except DaemonNotRunning:
            return None
        return client

    def _request(self, method: str, path: str, body: Any = None,
                 timeout: float | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout) as resp:
                body = resp.read()
                try:
                    return json.loads(body or b"null")
                except ValueError:
                    raise DaemonError(resp.status, f"the daemon's answer to {method} {path} is "
                                      f"not JSON: {body[:200]!r}",
                                      hint="is another program listening on its port? "
                                      "`weir daemon status`") from None
        except urllib.error.HTTPError as exc:
            raise _error_from(exc.code, str(exc.reason), exc.read()) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            raise _not_answering(self.url, exc) from None

    def health(self) -> wire.Health:
        answer = wire.Health.from_json(self._request("GET", "/api/health"))
        self.pid = answer.pid  # which daemon process answered: a restart changes it
        return answer

    def flow(self) -> wire.FlowGraph:
        return wire.FlowGraph.from_json(self._request("GET", "/api/flow"))

    def deployment(self) -> wire.Deployment | None:
        """What a deploying daemon (`--follow`) serves; None from a daemon that follows no
        branch."""
        try:
            return wire.Deployment.from_json(self._request("GET", "/api/deploy"))
        except DaemonError as exc:
            if exc.status == 404:
                return None
            raise

    def deploy_fetch(self) -> wire.Deployment:
        """Fetch the followed branch now and deploy its head if it is new and reads without
        errors (`POST /api/deploy/fetch`): where the daemon stands then — ``commit`` the
        commit deployed, ``skipped_commit`` and ``skipped_reason`` one it refused. The daemon
        answers within a minute (with where it stands so far when the fetch takes longer)."""
        return wire.Deployment.from_json(self._request("POST", "/api/deploy/fetch",
                                                       timeout=max(self.timeout, 75)))

    def statuses(self) -> wire.StatusReport:
        """Every dataset's status, from the daemon's kept snapshot (`GET /api/status`)."""
        return wire.StatusReport.from_json(self._request("GET", "/api/status"))

    def scenarios(self) -> list[wire.ScenarioSummary]:
        """The project's scenarios with their triggers, steps and next run."""
        return [wire.ScenarioSummary.from_json(s)
                for s in self._request("GET", "/api/scenarios")["scenarios"]]

    def run_scenario(self, name: str, cause: str = "API") -> wire.ScenarioRunReport:
        """Start the scenario now; its run so far (``status`` running — ``run_id`` is what
        to wait for), or ``skipped`` when it was running already (``skipped_for`` says which
        run). ``cause`` is said in its history (e.g. "airflow dag nightly")."""
        return wire.ScenarioRunReport.from_json(self._request(
            "POST", f"/api/scenarios/{name}/runs", {"cause": cause}))

    def scenario_run(self, run_id: str) -> wire.ScenarioRunReport:
        """A run: its steps so far, or its report once over."""
        return wire.ScenarioRunReport.from_json(
            self._request("GET", f"/api/scenario-runs/{run_id}"))

    def scenario_runs(self, name: str, last: int = 20) -> list[wire.ScenarioRunReport]:
        """The scenario's last runs, newest first."""
        return [wire.ScenarioRunReport.from_json(r) for r in self._request(
            "GET", f"/api/scenarios/{name}/runs?last={last}")["runs"]]

    def cancel_scenario(self, run_id: str) -> wire.ScenarioRunReport:
        return wire.ScenarioRunReport.from_json(
            self._request("POST", f"/api/scenario-runs/{run_id}/cancel"))

    def scenario_events(self, run_id: str, start: int = 0) -> Iterator[tuple[str, Any]]:
        """A run's events from number ``start`` until it is over (the last is ``end``, with
        its report)."""
        yield from self._follow(f"/api/scenario-runs/{run_id}/events", start, "scenario run's")

    def wait_scenario(self, run_id: str) -> wire.ScenarioRunReport:
        """Block until the run is over; its report (``ok`` says whether it succeeded). For an
        outside scheduler: ``client.wait_scenario(client.run_scenario("nightly").run_id)``.
        Raises DaemonGone if the daemon goes away first."""
        report = self.scenario_run(run_id)
        if report.status not in ("running",):
            return report
        for kind, data in self.scenario_events(run_id):
            if kind == "end":
                return wire.ScenarioRunReport.from_json(data)
        return self.scenario_run(run_id)

    def datasets(self) -> list[wire.DatasetSummary]:
        return [wire.DatasetSummary.from_json(d) for d in self._request("GET", "/api/datasets")]

    def dataset(self, name: str) -> wire.DatasetDetail:
        return wire.DatasetDetail.from_json(self._request("GET", f"/api/datasets/{name}"))

    def start_build(self, targets: list[str] | None = None, mode: str = "required",
                    all: bool = False, stale: bool = False, jobs: int = 0,
                    fail_fast: bool = False, by: str = "", partitions: str = "",
                    executor: str = "") -> wire.BuildSummary:
        """Queue a build; returns its summary with its ``id``. ``by``: who asks, in words (the
        build's trigger in `weir log`; default "API"); ``partitions``: of the partitioned
        targets, as `--partition` says them; ``executor``: where its recipes run (`local`,
        `dask://HOST:PORT`; default: as the environment's `executor:` says)."""
        request = wire.BuildRequest(tuple(targets or ()), wire.Mode(mode), all, stale, jobs,
                                    fail_fast, by=by, partitions=partitions, executor=executor)
        return wire.BuildSummary.from_json(
            self._request("POST", "/api/builds", request.to_json()))

    def plan(self, targets: list[str] | None = None, mode: str = "required", all: bool = False,
             stale: bool = False, partitions: str = "") -> wire.Plan:
        """What that build would run now, and why (as `weir plan --json`); runs nothing."""
        request = wire.BuildRequest(tuple(targets or ()), wire.Mode(mode), all, stale,
                                    partitions=partitions)
        body = request.to_json()
        del body["jobs"], body["fail_fast"]  # a plan runs nothing (and nowhere)
        return wire.Plan.from_json(self._request("POST", "/api/plan", body))

    def builds(self) -> list[wire.BuildSummary]:
        """Recent builds, newest first."""
        return [wire.BuildSummary.from_json(b) for b in self._request("GET", "/api/builds")]

    def metrics(self, name: str, last: int = 20) -> wire.MetricsHistory:
        """A dataset's metrics at its last builds, newest first."""
        return wire.MetricsHistory.from_json(
            self._request("GET", f"/api/datasets/{name}/metrics?last={last}"))

    def check(self, targets: Sequence[str] = ()) -> wire.CheckReport:
        """Run these datasets' checks (all that have checks, without targets) on their data
        now, without building (as `weir check --json`)."""
        return wire.CheckReport.from_json(
            self._request("POST", "/api/checks", {"targets": list(targets)}))

    def build(self, build_id: str) -> wire.BuildSummary:
        return wire.BuildSummary.from_json(self._request("GET", f"/api/builds/{build_id}"))

    def cancel_build(self, build_id: str) -> wire.BuildSummary:
        return wire.BuildSummary.from_json(
            self._request("POST", f"/api/builds/{build_id}/cancel"))

    def build_events(self, build_id: str, start: int = 0) -> Iterator[tuple[str, Any]]:
        """A build's events from number ``start`` (0: its beginning) until it is over (the
        last is ``end``). A stream that breaks while the daemon still answers is opened again
        where it broke; if the daemon went away, this raises DaemonGone."""
        yield from self._follow(f"/api/builds/{build_id}/events", start, "build's")

    def _follow(self, path: str, start: int, whose: str) -> Iterator[tuple[str, Any]]:
        if self.pid is None:
            self.health()
        seen = start
        breaks = 0  # in a row, without an event in between (a silence is not one)
        while True:
            try:
                stream = self.events(path, self.stream_timeout)
                for index, event in enumerate(stream):
                    if index < seen:
                        continue
                    seen += 1
                    breaks = 0
                    yield event
                    if event[0] == "end":
                        return
                silent = False
            except (OSError, http.client.HTTPException, DaemonNotRunning) as exc:
                silent = isinstance(exc, TimeoutError) or isinstance(
                    getattr(exc, "reason", None), TimeoutError)
            gone = self.went_away(silent)
            if gone is not None:
                raise gone
            breaks += not silent
            if breaks >= 3:
                raise DaemonGone(f"keeps breaking the {whose} event stream", ended=False)

    def went_away(self, silent: bool = False) -> DaemonGone | None:
        """Why the daemon this client last talked to no longer answers it — None if that same
        process still answers (the connection had a hiccup). ``silent``: it sent nothing for
        ``stream_timeout`` seconds."""
        from weir.processes import process_alive

        pid = self.pid
        try:
            now = self._request("GET", "/api/health")
        except DaemonNotRunning:
            if pid is not None and process_alive(pid):
                return DaemonGone(f"stopped answering (pid {pid} still runs"
                                  + (f" but sent nothing for {self.stream_timeout:.0f} s)"
                                     if silent else ")"), ended=False)
            return DaemonGone("went away (its process ended)", ended=True)
        if now.get("pid") != pid:
            return DaemonGone("went away (it was restarted)", ended=True)
        return None

    def wait(self, build_id: str) -> wire.BuildSummary:
        """Block until the build is over; returns its final summary (its ``state`` is final:
        ``state.final``). Raises DaemonGone if the daemon goes away first."""
        for kind, data in self.build_events(build_id):
            if kind == "end":
                return wire.BuildSummary.from_json(data)
        return self.build(build_id)

    def events(self, path: str = "/api/events",
               idle_timeout: float | None = None) -> Iterator[tuple[str, Any]]:
        """Server-Sent Events as ``(kind, data)``, until the connection closes (or nothing
        arrives for ``idle_timeout`` seconds: TimeoutError)."""
        req = urllib.request.Request(self.url + path,
                                     headers={"Authorization": f"Bearer {self.token}"})
        try:
            resp = urllib.request.urlopen(req, timeout=idle_timeout)
        except urllib.error.HTTPError as exc:
            raise _error_from(exc.code, str(exc.reason), exc.read()) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            raise _not_answering(self.url, exc) from None
        with resp:
            kind, data = None, []
            for raw in resp:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif not line and kind:
                    yield kind, json.loads("\n".join(data))
                    kind, data = None, []
