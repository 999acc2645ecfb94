"""The daemon as a real process: token auth, the live Flow over HTTP, the event stream
following edits made the way editors and git make them."""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from hypothesis import strategies as st
import msgpack
import pytest

from conftest import (SMALL, Gate, git, run_weir, session_processes, wait_until,
                      wait_until_gone, weir_env, write_files)
from weir.client import DaemonClient
from weir.wire import BuildState, BuildSummary, DatasetState, FlowGraph


@pytest.fixture
def daemon(small_project: Path):
    r = run_weir("daemon", "start", cwd=small_project)
    assert r.code == 0, r.text
    info = json.loads((small_project / ".weir/daemon.json").read_text())
    yield small_project, info
    Events.close_all()
    run_weir("daemon", "stop", cwd=small_project)


def auth(info: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {info['token']}"}


def test_api_needs_the_token_and_answers_json_and_msgpack(daemon) -> None:
    root, info = daemon
    assert stat.S_IMODE((root / ".weir/daemon.json").stat().st_mode) == 0o600
    url = info["url"]
    assert info["host"] == "127.0.0.1"
    assert httpx.get(f"{url}/api/flow").status_code == 401
    assert httpx.get(f"{url}/api/flow", headers={"Authorization": "Bearer nope"}
                     ).status_code == 401
    flow = httpx.get(f"{url}/api/flow", headers=auth(info)).json()
    assert {n["name"]: n["status"] for n in flow["nodes"]} == {
        "orders": "source", "orders_clean": "never built", "customers": "never built",
        "per_customer": "never built"}
    assert {"from": "orders_clean", "to": "per_customer"} in flow["edges"]
    packed = httpx.get(f"{url}/api/datasets", headers={**auth(info),
                                                       "Accept": "application/msgpack"})
    assert packed.headers["content-type"] == "application/msgpack"
    assert {d["name"] for d in msgpack.unpackb(packed.content)} == set(
        n["name"] for n in flow["nodes"])
    missing = httpx.get(f"{url}/api/datasets/orders_clen", headers=auth(info))
    assert missing.status_code == 404 and "did you mean 'orders_clean'" in missing.json()["detail"]
    assert httpx.get(f"{url}/openapi.json").status_code == 200
    assert httpx.get(f"{url}/api/health?token={info['token']}").status_code == 200
    assert httpx.get(f"{url}/api/health?token=wrong").status_code == 401
    assert httpx.get(f"{url}/api/datasets/orders_clean/log", headers=auth(info)
                     ).status_code == 404  # not built yet
    # Statuses follow builds made by the CLI.
    assert run_weir("build", "--all", cwd=root).code == 0
    detail = httpx.get(f"{url}/api/datasets/per_customer", headers=auth(info)).json()
    assert detail["status"] == "up to date" and detail["rows"] == 3
    assert detail["schema"] == [["customer", "string", True], ["revenue", "double", True]]
    log = httpx.get(f"{url}/api/datasets/per_customer/log", headers=auth(info)).json()
    assert log["status"] == "built" and "sql recipe per_customer" in log["log"]


def test_start_twice_status_and_stop(daemon) -> None:
    root, info = daemon
    r = run_weir("daemon", "start", cwd=root)
    assert r.code == 0 and f"already runs for this project: pid {info['pid']}" in r.out
    link = next(ln.split(": ", 1)[1] for ln in r.out.splitlines() if ln.startswith("Flow page"))
    page = httpx.get(link)  # the printed link opens the page, token and all
    assert page.status_code == 200 and "<svg" in page.text
    r = run_weir("daemon", "status", cwd=root)
    assert r.code == 0 and "weir daemon for small" in r.out
    assert run_weir("daemon", "stop", cwd=root).code == 0
    assert not (root / ".weir/daemon.json").exists()
    assert run_weir("daemon", "status", cwd=root).code == 1


class Events:
    """Reads the daemon's event stream (``/api/events``: every Flow change, and every build's
    events) in a thread, so a test waits for the event it needs, with a timeout.

    `close` ends the stream; the daemon fixture closes every stream still open before it stops
    the daemon, which would otherwise wait its graceful-shutdown time for them."""

    opened: list[Events] = []

    def __init__(self, root: Path) -> None:
        self.queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.client = DaemonClient.for_project(root)
        info = json.loads((root / ".weir/daemon.json").read_text())
        self._conn = http.client.HTTPConnection(info["host"], info["port"])
        self._conn.request("GET", "/api/events",
                           headers={"Authorization": f"Bearer {info['token']}"})
        self._sock = self._conn.sock
        response = self._conn.getresponse()
        assert response.status == 200, response.read()
        Events.opened.append(self)
        ready = threading.Event()

        def read() -> None:  # Server-Sent Events: "event: KIND", "data: JSON", a blank line
            kind, data = "", ""
            try:
                for raw in response:
                    line = raw.decode().rstrip("\n")
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: "):
                        data += line[6:]
                    elif not line and kind:
                        if kind == "hello":  # the stream is open
                            ready.set()
                        self.queue.put((kind, json.loads(data)))
                        kind, data = "", ""
            except (OSError, http.client.HTTPException):
                pass  # closed, or the daemon was killed: no more events
            finally:
                self._conn.close()

        threading.Thread(target=read, daemon=True).start()
        assert ready.wait(10)

    def close(self) -> None:
        if self in Events.opened:
            Events.opened.remove(self)
            try:
                self._sock.shutdown(socket.SHUT_RDWR)  # the reader sees the end, and closes
            except OSError:
                pass  # the daemon already went away

    @classmethod
    def close_all(cls) -> None:
        for events in list(cls.opened):
            events.close()

    def next(self, kind: str, where: Callable[[Any], bool] = lambda data: True,
             timeout: float = 10) -> Any:
        """The data of the next ``kind`` event that ``where`` accepts (earlier ones are
        dropped); fails after ``timeout`` seconds without one."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                got, data = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {kind} event came within {timeout} s") from None
            if got == kind and where(data):
                return data

    def next_flow(self, timeout: float = 5) -> dict:
        """The next Flow change the daemon announces."""
        return self.next("flow", timeout=timeout)

    def flow_until(self, predicate: Callable[[FlowGraph], bool], what: str,
                   timeout: float = 10) -> FlowGraph:
        """The daemon's Flow once ``predicate`` holds for it: checked now, then after each
        Flow change (an edit may reach the daemon in more than one batch)."""
        deadline = time.monotonic() + timeout
        while not predicate(flow := self.client.flow()):
            left = deadline - time.monotonic()
            try:
                self.next_flow(timeout=max(0.0, left))
            except AssertionError:
                raise AssertionError(f"the daemon's Flow did not come to {what} within "
                                     f"{timeout} s") from None
        return flow


def has(*names: str) -> Callable[[FlowGraph], bool]:
    """A `flow_until` predicate: the Flow has datasets ``names``."""
    return lambda flow: set(names) <= {n.name for n in flow.nodes}


def status_is(name: str, status: str) -> Callable[[FlowGraph], bool]:
    """A `flow_until` predicate: dataset ``name`` has ``status``."""
    return lambda flow: any(n.name == name and n.status == status for n in flow.nodes)


def test_edits_reach_the_event_stream(daemon) -> None:
    root, info = daemon
    events = Events(root)
    client = DaemonClient.for_project(root)
    sql = root / "recipes/per_customer.sql"

    sql.write_text(sql.read_text().replace("sum(amount)", "max(amount)"))  # in place
    change = events.next_flow()
    assert change["files"] == ["recipes/per_customer.sql"] and change["changed"] == \
        ["per_customer"]

    tmp = root / "recipes/.clean.py.swp"  # how many editors save: write aside, then rename
    tmp.write_text(SMALL["recipes/clean.py"].replace("        ", "") + "\n\n@recipe\n"
                   "def extra(orders):\n    return orders\n")
    os.replace(tmp, root / "recipes/clean.py")
    change = events.next_flow()
    assert change["added"] == ["extra"]

    write_files(root, {"recipes/broken.py": "def oops(:\n"})
    change = events.next_flow()
    assert change["errors"] == 1
    flow = client.flow()
    assert "extra" in {n.name for n in flow.nodes}  # the rest of the Flow is intact
    assert flow.diagnostics and flow.diagnostics[0].file == "recipes/broken.py"

    (root / "recipes/broken.py").unlink()
    assert events.next_flow()["errors"] == 0
    os.rename(root / "recipes/per_customer.sql", root / "recipes/revenue.sql")  # a rename
    change = events.next_flow()
    assert change["added"] == ["revenue"] and change["removed"] == ["per_customer"]
    os.rename(root / "recipes/revenue.sql", root / "recipes/per_customer.sql")
    assert events.next_flow()["added"] == ["per_customer"]
    (root / "recipes/per_customer.sql").unlink()
    assert events.next_flow()["removed"] == ["per_customer"]


def test_a_branch_switch_ends_in_the_right_flow(daemon) -> None:
    root, _ = daemon
    events = Events(root)
    git(root, "checkout", "-qb", "feature")
    for i in range(20):
        write_files(root, {f"recipes/f{i}.sql": f"select * from orders_clean where {i} = {i}"})
    git(root, "add", "-A")
    git(root, "commit", "-qm", "twenty recipes")

    def names(flow: FlowGraph) -> set[str]:
        return {n.name for n in flow.nodes}

    events.flow_until(lambda flow: len(names(flow)) == 24, "the twenty new recipes")
    git(root, "checkout", "-q", "main")
    flow = events.flow_until(lambda flow: len(names(flow)) == 4, "main's four datasets")
    assert names(flow) == {"orders", "orders_clean", "customers", "per_customer"}


def test_a_typo_keeps_the_flow_and_the_statuses_it_does_not_touch(daemon) -> None:
    """The most common mistake, saved while the daemon runs, then kept over a restart."""
    root, info = daemon
    assert run_weir("build", "--all", cwd=root).code == 0
    events = Events(root)
    write_files(root, {"recipes/stats.py": "from weir import recipe\n\n@recipe\n"
                       "def customer_stats(orders_clen):\n    return orders_clen\n\n@recipe\n"
                       "def top(customer_stats):\n    return customer_stats\n"})
    assert events.next_flow()["errors"] == 1

    def check() -> None:
        flow = httpx.get(f"{DaemonClient.for_project(root).url}/api/flow",
                         headers=auth(json.loads((root / ".weir/daemon.json").read_text())))
        assert flow.status_code == 200, flow.text
        data = flow.json()
        assert [(d["file"], d["line"]) for d in data["diagnostics"]] == [("recipes/stats.py", 4)]
        statuses = {n["name"]: (n["status"], n["reasons"]) for n in data["nodes"]}
        assert statuses["per_customer"] == ("up to date", [])  # untouched by the typo
        assert statuses["customer_stats"] == (
            "invalid", ["recipes/stats.py:4: unknown input 'orders_clen'"])
        assert statuses["top"] == ("invalid", ["input customer_stats is invalid"])
        client = DaemonClient.for_project(root)
        assert {d.name: d.status for d in client.datasets()}["orders_clean"] == \
            DatasetState.UP_TO_DATE
        assert client.dataset("top").status is DatasetState.INVALID
        assert client.dataset("customers").status is DatasetState.UP_TO_DATE

    check()
    Events.close_all()
    assert run_weir("daemon", "stop", cwd=root).code == 0
    assert run_weir("daemon", "start", cwd=root).code == 0  # restarted with the typo
    check()
    # A branch that deletes a recipe another still reads: the reader is invalid, not a 500.
    events = Events(root)
    client = DaemonClient.for_project(root)
    git(root, "checkout", "-qb", "no-clean")
    (root / "recipes/stats.py").unlink()
    (root / "recipes/clean.py").unlink()
    while {n.name for n in client.flow().nodes} != {"orders", "per_customer"}:
        events.next_flow(timeout=10)
    flow = client.flow()
    assert {n.name: n.status for n in flow.nodes} == {
        "orders": DatasetState.SOURCE, "per_customer": DatasetState.INVALID}
    assert flow.diagnostics and "unknown input 'orders_clean'" in flow.diagnostics[0].message


def test_ignored_directories_do_not_reach_the_flow(daemon) -> None:
    root, _ = daemon
    events = Events(root)
    (root / "data").mkdir(exist_ok=True)
    (root / "data/x.py").write_text("x = 1\n")
    (root / "node_modules").mkdir()
    (root / "node_modules/y.sql").write_text("select 1")
    (root / "recipes/notes.txt").write_text("not a recipe")
    write_files(root, {"recipes/late.sql": "select * from orders"})
    change = events.next_flow()
    assert change["files"] == ["recipes/late.sql"]


def test_cli_builds_through_the_daemon(daemon) -> None:
    root, info = daemon
    events = Events(root)
    r = run_weir("build", "--all", cwd=root)
    assert r.code == 0, r.text
    assert "3 built" in r.out
    builds = httpx.get(f"{info['url']}/api/builds", headers=auth(info)).json()
    assert len(builds) == 1 and builds[0]["state"] == "succeeded"
    assert run_weir("build", "--all", cwd=root).out.startswith("Nothing to do")
    r = run_weir("build", "orders_clen", cwd=root)
    assert r.code == 2 and "did you mean 'orders_clean'?" in r.err
    write_files(root, {"recipes/bad.py": "from weir import recipe\n\n@recipe\n"
                                         "def bad(orders):\n    raise ValueError('no')\n"})
    events.flow_until(has("bad"), "the new recipe")
    r = run_weir("build", "bad", cwd=root)
    assert r.code == 1
    assert 'File "recipes/bad.py", line 5, in bad' in r.out and "log: .weir/logs/bad/" in r.out
    # A broken project: the same file:line and hint as a build without the daemon.
    write_files(root, {"recipes/typo.py": "from weir import recipe\n\n@recipe\n"
                                          "def typo(orders_clen):\n    return orders_clen\n"})
    events.flow_until(lambda flow: bool(flow.diagnostics), "the typo's error")
    r = run_weir("build", "orders_clean", cwd=root)
    local = run_weir("build", "orders_clean", "--no-daemon", cwd=root)
    assert r.code == local.code == 2
    assert "recipes/typo.py:4: error: unknown input 'orders_clen'" in r.err
    assert "did you mean 'orders_clean'?" in r.err
    assert r.err == local.err
    r = run_weir("build", "orders_clean", "--json", cwd=root)
    local = run_weir("build", "orders_clean", "--json", "--no-daemon", cwd=root)
    assert r.code == local.code == 2 and r.out == local.out
    assert json.loads(r.out)["error"]["diagnostics"][0]["file"] == "recipes/typo.py"
    logged = run_weir("daemon", "logs", "-n", "200", cwd=root).out  # builds are in its log
    assert "build b1 (--all, required) succeeded" in logged
    assert "build b4 (bad, required) failed" in logged


def test_the_cli_says_a_build_goes_through_the_daemon_and_what_it_waits_for(
        daemon, gates) -> None:
    root, _ = daemon
    r = run_weir("build", cwd=root)  # no target: the usual answer, not the daemon's 422
    assert r.code == 2 and "nothing to build: name datasets or a selector" in r.err
    assert "hint: e.g. `weir build monthly_report`" in r.err and "422" not in r.err
    r = run_weir("build", "customers", cwd=root)
    assert r.code == 0 and r.out.startswith("Through the project's daemon (pid "), r.out
    gate = gates(root / "gate")  # the first build's recipe waits there while others come
    events = Events(root)
    write_files(root, {"recipes/held.py": "from weir import recipe\n\n@recipe\n"
                       "def held(orders):\n    open('gate').read()\n    return orders\n"})
    events.flow_until(has("held"), "the new recipe")
    client = DaemonClient.for_project(root)
    first = client.start_build(["held"])
    gate.reached()
    # A build of an unrelated branch runs beside it, and ends while `held` still runs.
    r = run_weir("build", "per_customer", cwd=root)
    assert r.code == 0 and "built" in r.out and "Waiting" not in r.out, r.out
    assert client.build(first.id).state is BuildState.RUNNING
    running = [b.id for b in client.builds() if b.state is BuildState.RUNNING]
    assert running == [first.id]
    # One that must write what the first is writing waits for it, saying so, then uses it.
    second = subprocess.Popen([sys.executable, "-m", "weir", "build", "held"], cwd=root,
                              env=weir_env(), stdout=subprocess.PIPE, text=True)
    assert second.stdout is not None
    assert second.stdout.readline().startswith("Through the project's daemon (pid ")
    assert second.stdout.readline().strip() == \
        f"Waiting for build {first.id}, which is writing held…"
    assert len([b for b in client.builds() if b.state is BuildState.RUNNING]) == 2
    gate.open()
    rest = second.stdout.read()
    assert second.wait(60) == 0, rest
    assert "Nothing to do: held is up to date." in rest, rest  # planned again: not built twice
    assert client.wait(first.id).state is BuildState.SUCCEEDED


SLOW = {"recipes/slow.py": """
    from weir import recipe

    @recipe
    def slow(orders_clean):
        open("gate").read()  # until the test lets it through (a Gate)
        return orders_clean
    """}


def test_overlapping_builds_never_build_a_dataset_twice(daemon, gates) -> None:
    root, info = daemon
    gate = gates(root / "gate")
    events = Events(root)
    write_files(root, SLOW)
    events.flow_until(has("slow"), "the new recipe")
    client = events.client
    first = client.start_build(["slow"])
    gate.reached()  # the first build runs `slow` while the second is asked for
    second = client.start_build(["+slow", "per_customer"])
    gate.remove()  # lets it end, and would let a second run of `slow` through, to be counted
    assert client.wait(first.id).state is BuildState.SUCCEEDED
    assert client.wait(second.id).state is BuildState.SUCCEEDED
    import sqlite3
    with sqlite3.connect(root / ".weir/state.db") as db:
        counts = dict(db.execute("SELECT dataset, count(*) FROM builds WHERE status='built' "
                                 "GROUP BY dataset").fetchall())
    assert counts == {"orders_clean": 1, "slow": 1, "per_customer": 1}


def start_a_hanging_rebuild(root: Path, gate: Gate) -> tuple[DaemonClient, dict, bytes]:
    """Build `slow` once, then start a rebuild of it that stops at the gate: (client, build,
    old bytes)."""
    events = Events(root)
    write_files(root, SLOW)
    events.flow_until(has("slow"), "the new recipe")
    client = events.client
    build = client.start_build(["slow"])
    gate.open()
    assert client.wait(build.id).state is BuildState.SUCCEEDED
    before = (root / "data/small/slow.parquet").read_bytes()
    write_files(root, {"recipes/slow.py": SLOW["recipes/slow.py"].replace(
        "return orders_clean", "return orders_clean.head(1)")})
    events.flow_until(status_is("slow", "stale"), "the edit to make `slow` stale")
    build = client.start_build(["slow"])
    gate.reached()  # the recipe is running, and stays at the gate
    return client, build, before


def test_cancel_keeps_the_previous_output(daemon, gates) -> None:
    root, _ = daemon
    client, build, before = start_a_hanging_rebuild(root, gates(root / "gate"))
    t0 = time.time()
    client.cancel_build(build.id)
    assert client.wait(build.id).state is BuildState.CANCELLED
    assert time.time() - t0 < 10
    assert (root / "data/small/slow.parquet").read_bytes() == before
    assert not [p for p in (root / "data/small").iterdir() if ".weir-tmp-" in p.name]
    assert client.health().pid  # the daemon is fine


STAGING = {"recipes/slow.py": """
    from weir import recipe

    @recipe
    def slow(orders_clean):
        yield orders_clean  # the first batch goes into the temporary file at once
        open("gate").read()  # until the test lets it through (a Gate)
    """}


def prepare_a_staging_rebuild(root: Path, gate: Gate) -> DaemonClient:
    """Build `slow` once (3 rows), then make it stale with a version (1 row) that stops at the
    gate after writing the first batch of its temporary file."""
    events = Events(root)
    write_files(root, STAGING)
    events.flow_until(has("slow"), "the new recipe")
    client = events.client
    build = client.start_build(["slow"])
    gate.open()
    assert client.wait(build.id).state is BuildState.SUCCEEDED
    write_files(root, {"recipes/slow.py": STAGING["recipes/slow.py"]
                       .replace("yield orders_clean ", "yield orders_clean.head(1) ")})
    events.flow_until(status_is("slow", "stale"), "the edit to make `slow` stale")
    return client


def start_a_staging_rebuild(root: Path, gate: Gate) -> tuple[DaemonClient, BuildSummary]:
    """`prepare_a_staging_rebuild`, and the rebuild started and staging: its recipe waits at
    the gate, its first batch written."""
    client = prepare_a_staging_rebuild(root, gate)
    build = client.start_build(["slow"])
    gate.reached()
    return client, build


def weir_in_background(root: Path, *args: str) -> subprocess.Popen:
    """`weir ARGS` as a user runs it in a terminal of its own (its own process group, so a
    Ctrl-C can be sent to it alone)."""
    return subprocess.Popen([sys.executable, "-m", "weir", *args], cwd=root, env=weir_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def temporary_files(root: Path) -> list[str]:
    return [p.name for p in (root / "data/small").iterdir() if ".weir-tmp-" in p.name]


def test_kill_9_of_the_daemon_mid_build(daemon, gates) -> None:
    """Killed mid-recipe, the daemon leaves no process; restarted, it removes what the
    killed build had staged and shows that build, and the job it was running, as
    interrupted; build numbers go on from where they were."""
    import signal as sig

    root, info = daemon
    gate = gates(root / "gate")
    client, build = start_a_staging_rebuild(root, gate)
    assert temporary_files(root)
    left = session_processes(info["pid"])  # the daemon, its resource tracker, forkserver, worker
    assert len(left) >= 4, left
    os.kill(info["pid"], sig.SIGKILL)
    gone = wait_until_gone(left, within=1.0)
    print(f"workers gone {gone * 1000:.0f} ms after kill -9 of the daemon")
    assert pq_rows(root / "data/small/slow.parquet") == 3  # the previous version
    assert temporary_files(root)  # nothing cleaned up yet

    r = run_weir("daemon", "start", cwd=root)
    assert r.code == 0, r.text
    wait_until(lambda: not temporary_files(root), timeout=10,
               what="the restarted daemon to remove the temporary file")
    client = DaemonClient.for_project(root)
    history = client.builds()
    assert [(b.id, b.state) for b in history] == [(build.id, BuildState.INTERRUPTED),
                                                  ("b1", BuildState.SUCCEEDED)]
    assert history[0].run_id and history[0].error and \
        "stopped before this build finished" in history[0].error.message
    assert client.build(build.id).state is BuildState.INTERRUPTED
    detail = client.dataset("slow")
    assert detail.status is DatasetState.STALE
    assert detail.builds[0].status == "interrupted"
    assert detail.builds[0].run_id == history[0].run_id
    assert detail.builds[1].status == "built"
    shown = run_weir("show", "slow", cwd=root)
    assert shown.code == 0 and "interrupted" in shown.out.split("recent builds:")[1], shown.out

    gate.remove()
    r = run_weir("build", "slow", cwd=root)
    assert r.code == 0, r.text
    assert [b.id for b in client.builds()] == ["b3", build.id, "b1"]
    assert not temporary_files(root)
    assert pq_rows(root / "data/small/slow.parquet") == 1


def test_a_cli_build_whose_daemon_dies_says_what_became_of_it(daemon, gates) -> None:
    import signal as sig

    root, info = daemon
    gate = gates(root / "gate")
    prepare_a_staging_rebuild(root, gate)
    proc = weir_in_background(root, "build", "slow")
    gate.reached()
    # The CLI has taken the build's plan once it says it follows the build (its first line):
    # the recipe can reach the gate before that, on a loaded machine.
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("Through the project's daemon"), first
    os.kill(info["pid"], sig.SIGKILL)
    out, err = proc.communicate(timeout=60)
    out = first + out
    assert proc.returncode == 4, out + err
    assert "Traceback" not in out + err
    assert "error: the daemon went away (its process ended) during build b2" in err, err
    assert "it was running slow, which was stopped and keeps its previous data" in err, err
    assert "hint: `weir daemon start` restarts it" in err, err
    assert "! slow  interrupted (the daemon went away)" in out, out
    assert out.strip().splitlines()[-1].startswith("1 interrupted in "), out  # never " in 0.0s"


def test_following_a_build_tells_a_silent_recipe_from_a_daemon_that_stopped_answering(
        daemon, gates) -> None:
    import signal as sig

    from weir.client import DaemonGone

    root, info = daemon
    client, build = start_a_staging_rebuild(root, gates(root / "gate"))
    quick = DaemonClient(info["url"], info["token"], timeout=1, stream_timeout=1)
    events = quick.build_events(build.id)
    assert next(events)[0] == "build"
    os.kill(info["pid"], sig.SIGSTOP)
    try:
        with pytest.raises(DaemonGone) as gone:
            for _ in events:  # what was sent before the stop, then silence
                pass
    finally:
        os.kill(info["pid"], sig.SIGCONT)
    assert gone.value.message == (f"the daemon stopped answering (pid {info['pid']} still "
                                  "runs but sent nothing for 1 s)")
    assert not gone.value.ended and "`weir daemon stop`" in (gone.value.hint or "")
    client.cancel_build(build.id)
    assert client.wait(build.id).state is BuildState.CANCELLED


def test_ctrl_c_on_a_daemon_build_ends_as_an_in_process_build_does(daemon, gates) -> None:
    import signal as sig

    root, _ = daemon
    gate = gates(root / "gate")
    prepare_a_staging_rebuild(root, gate)
    summaries = []
    for args in ((), ("--no-daemon",)):
        proc = weir_in_background(root, "build", "slow", *args)
        gate.reached()
        os.killpg(proc.pid, sig.SIGINT)  # Ctrl-C reaches the terminal's foreground group
        out, err = proc.communicate(timeout=60)
        gate.forget()
        assert proc.returncode == 130, out + err
        assert "Traceback" not in out + err
        summaries.append(re.sub(r"[\d.]+s$", "…s", out.strip().splitlines()[-1]))
    assert summaries == ["1 interrupted in …s"] * 2, summaries
    assert not temporary_files(root)


def test_a_state_store_from_before_the_build_history_gains_it(tmp_path: Path) -> None:
    import sqlite3

    from weir.build.state import StateStore

    path = tmp_path / "state.db"
    with sqlite3.connect(path) as db:  # the tables as an earlier weir made them
        db.executescript("""
            CREATE TABLE runs (run_id TEXT PRIMARY KEY, pid INTEGER, started REAL,
                               finished REAL, status TEXT, command TEXT);
            CREATE TABLE builds (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL,
                                 dataset TEXT NOT NULL, recipe TEXT, fingerprint TEXT,
                                 status TEXT NOT NULL, started REAL, finished REAL,
                                 row_count INTEGER, error TEXT, log_path TEXT);
            INSERT INTO runs VALUES ('r1', 1, 1.0, NULL, 'running', 'build');
            """)
    store = StateStore(path)
    assert store.last_daemon_build() == 0
    store.save_daemon_build(7, "running", {"targets": ["x"]}, 1.0, 2.0, None, None, "r2")
    assert store.daemon_builds(10) == [{"seq": 7, "state": "running", "request": {
        "targets": ["x"]}, "created": 1.0, "started": 2.0, "finished": None, "error": None,
        "run_id": "r2"}]
    assert store.last_daemon_build() == 7
    assert store.mark_dead_runs_interrupted(lambda run: False) == ["r1"]
    store.close()


def pq_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def test_plan_through_the_api(daemon) -> None:
    from weir.client import DaemonClient
    from weir.errors import WeirError

    root, info = daemon
    client = DaemonClient(info["url"], info["token"])
    plan = client.plan(["per_customer"])
    assert [j.outputs for j in plan.jobs] == [("orders_clean",), ("per_customer",)]
    assert plan.jobs[0].reasons == {"orders_clean": ("never built",)}
    assert client.builds() == []  # nothing ran
    with pytest.raises(WeirError, match="422: unknown dataset 'nope'"):
        client.plan(["nope"])
    flow = client.flow()
    orders = next(n for n in flow.nodes if n.name == "orders")
    assert orders.definition == ("datasets/orders.yaml", 1)
    clean = next(n for n in flow.nodes if n.name == "orders_clean")
    assert clean.recipe and clean.recipe.id == "recipes/clean.py:orders_clean"


def test_a_recipes_output_streams_while_it_runs(daemon, gates) -> None:
    root, info = daemon
    gate = gates(root / "gate")
    events = Events(root)
    (root / "recipes/chatty.py").write_text(
        "from weir import recipe\n\n\n@recipe\ndef chatty(orders):\n"
        "    print('first line')\n    open('gate').read()\n    print('second line')\n"
        "    return orders\n")
    client = events.client
    events.flow_until(has("chatty"), "the new recipe")
    build = client.start_build(["chatty"])
    gate.reached()  # it printed its first line, and cannot end before the gate opens
    events.next("log", lambda data: data["id"] == build.id and "first line" in data["lines"])
    gate.open()  # shown while the recipe still ran, then: not at its end
    seen = list(client.build_events(build.id))
    assert seen[-1][0] == "end" and seen[-1][1]["state"] == "succeeded"
    logs = [line for kind, data in seen if kind == "log" for line in data["lines"]]
    assert [line for line in logs if line.endswith(" line")] == ["first line", "second line"]
    assert all(data["outputs"] == ["chatty"] for kind, data in seen if kind == "log")


def test_bad_build_requests_are_4xx(daemon) -> None:
    _, info = daemon
    url, headers = info["url"], auth(info)
    for body in ({"targets": ["orders"], "mode": "sideways"}, {}, {"targets": "orders"},
                 {"all": True, "jobs": -1}, {"targets": [1, 2]}):
        r = httpx.post(f"{url}/api/builds", json=body, headers=headers)
        assert r.status_code == 422, (body, r.status_code, r.text)
    r = httpx.post(f"{url}/api/builds", content=b"{not json", headers=headers)
    assert r.status_code == 422
    assert httpx.get(f"{url}/api/builds/b999", headers=headers).status_code == 404
    assert httpx.post(f"{url}/api/builds/b999/cancel", headers=headers).status_code == 404


def test_malformed_requests_are_4xx_with_a_message_and_the_token_comes_first(daemon) -> None:
    _, info = daemon
    url, headers = info["url"], {**auth(info), "Content-Type": "application/json"}
    bad = {  # body → what the message must say
        b'{"all": true, "jobs": NaN}': "NaN is not a JSON number",
        b'{"all": true, "jobs": Infinity}': "Infinity is not a JSON number",
        b'{"all": true, "jobs": -Infinity}': "-Infinity is not a JSON number",
        b'{"all": true, "jobs": 1e400}': "1e400 is not a finite number",
        b'{"targets": [NaN]}': "NaN is not a JSON number",
        b'{"targets": ["\\ud800"]}': "lone surrogate",
        b'{"targets": ' + b"[" * 100_000 + b"]" * 100_000 + b"}": "nested too deeply",
        b'{"targets": ["\xff"]}': "not UTF-8",
        b"{not json": "not valid JSON",
        b"hello": "not valid JSON",
        b"[1, 2]": "must be a JSON object",
        b'"all"': "must be a JSON object",
        b'{"all": true, "jbos": 3}': "unknown field 'jbos' (did you mean 'jobs'?)",
        b'{"all": "yes"}': "all: Input should be a valid boolean",
        b'{"all": true, "jobs": "3"}': "jobs: Input should be a valid integer",
        b'{"all": true, "jobs": 1.5}': "jobs: Input should be a valid integer",
        b'{"targets": ["x"], "mode": 3}': "mode: Input should be a valid string",
        b'{"targets": ["x"]} trailing': "not valid JSON",
    }
    for path in ("/api/builds", "/api/plan"):
        for body, message in bad.items():
            r = httpx.post(url + path, content=body, headers=headers, timeout=30)
            assert r.status_code == 422, (path, body[:60], r.status_code, r.text[:300])
            detail = r.json()["detail"]
            assert isinstance(detail, str) and message in detail, (body[:60], detail)
            assert len(r.content) < 2000  # the input is not echoed back
        # Not JSON at all: the body is still read as a request's and refused with a message.
        r = httpx.post(url + path, content=b"\xff\xfe", headers={
            **auth(info), "Content-Type": "text/plain"})
        assert r.status_code == 422 and "must be a JSON object" in r.json()["detail"], r.text
        r = httpx.post(url + path, headers=auth(info))
        assert r.status_code == 422 and "the body is missing" in r.json()["detail"], r.text
        too_big = json.dumps({"targets": ["x" * 100] * 20_000}).encode()
        r = httpx.post(url + path, content=too_big, headers=headers, timeout=30)
        assert r.status_code == 413 and "larger than" in r.json()["detail"], r.text[:300]
    targets = httpx.post(f"{url}/api/plan", json={"targets": ["orders"] * 10_001},
                         headers=headers, timeout=30)
    assert targets.status_code == 422 and "at most 10000" in targets.json()["detail"]
    assert len(targets.content) < 2000

    # Without the token, every /api request is a 401 before anything looks at its body, its
    # path or its method.
    for method, path, body in [("POST", "/api/builds", b"{not json"),
                               ("POST", "/api/plan", b'{"jobs": NaN}'),
                               ("POST", "/api/builds", b'{"targets": 1}'),
                               ("POST", "/api/builds", b"x" * 2_000_000),
                               ("GET", "/api/nowhere", b""),
                               ("DELETE", "/api/builds", b""),
                               ("POST", "/api/builds/b1/cancel", b"")]:
        r = httpx.request(method, url + path, content=body, timeout=30, headers={
            "Content-Type": "application/json", "Authorization": "Bearer wrong"})
        assert r.status_code == 401, (method, path, r.status_code, r.text[:200])
        assert r.headers["WWW-Authenticate"] == "Bearer"
        assert "missing or wrong token" in r.json()["detail"]
        r = httpx.request(method, url + path, content=body, timeout=30,
                          headers={"Content-Type": "application/json"})
        assert r.status_code == 401, (method, path, r.status_code, r.text[:200])
    # With it, a good request still works and an unknown path is a 404.
    assert httpx.get(f"{url}/api/nowhere", headers=headers).status_code == 404
    ok = httpx.post(f"{url}/api/plan", json={"targets": ["orders_clean"]}, headers=headers)
    assert ok.status_code == 200 and ok.json()["targets"] == ["orders_clean"]
    assert httpx.get(f"{url}/api/health", headers=headers).status_code == 200


json_values = st.recursive(st.none() | st.booleans() | st.integers()
                           | st.floats()  # NaN and ±Infinity too: Python's json writes them
                           | st.text(st.characters(exclude_categories=()), max_size=20),
                           lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=12)
build_bodies = st.fixed_dictionaries({}, optional={
    "targets": st.one_of(st.lists(st.sampled_from(["orders", "per_customer", "+orders_clean",
                                                   "tag:raw", "nope", "x+", "", "tag:"]),
                                  max_size=3), json_values),
    "mode": st.one_of(st.sampled_from(["required", "only", "force", "missing", "downstream"]),
                      json_values),
    "all": json_values, "stale": json_values, "jobs": json_values, "fail_fast": json_values,
    "extra": json_values})


def test_fuzzing_the_api_never_gives_a_server_error(daemon) -> None:
    from hypothesis import HealthCheck, given, settings

    _, info = daemon
    url, headers = info["url"], auth(info)
    client = httpx.Client(timeout=30)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=build_bodies, name=st.text(max_size=30), raw=st.binary(max_size=50))
    def check(body: dict, name: str, raw: bytes) -> None:
        r = client.post(f"{url}/api/builds", content=json.dumps(body).encode(), headers={
            **headers, "Content-Type": "application/json"})
        assert r.status_code < 500, (body, r.text)
        if r.status_code >= 400:
            assert isinstance(r.json()["detail"], str), (body, r.text)
        r = client.post(f"{url}/api/builds", content=raw, headers={
            **headers, "Content-Type": "application/json"})
        assert r.status_code < 500, (raw, r.text)
        from urllib.parse import quote

        for path in (f"/api/datasets/{quote(name, safe='')}",
                     f"/api/builds/{quote(name, safe='')}"):
            r = client.get(url + path, headers=headers)
            assert r.status_code < 500, (path, r.text)

    check()
    assert client.get(f"{url}/api/health", headers=headers).status_code == 200


def test_stop_waits_for_running_builds_unless_now(daemon, gates) -> None:
    root, info = daemon
    gate = gates(root / "gate")
    events = Events(root)
    write_files(root, SLOW)
    events.flow_until(has("slow"), "the new recipe")
    events.client.start_build(["slow"])
    gate.reached()  # the build runs, and cannot end before the gate opens
    Events.close_all()
    stop = weir_in_background(root, "daemon", "stop")
    assert stop.stdout is not None
    assert "Waiting for 1 build" in stop.stdout.readline()
    assert stop.poll() is None  # still waiting for the build
    gate.open()
    out, err = stop.communicate(timeout=60)
    assert stop.returncode == 0, out + err
    assert (root / "data/small/slow.parquet").exists()  # it finished before the stop
    assert not (root / ".weir/daemon.json").exists()

    assert run_weir("daemon", "start", cwd=root).code == 0
    events = Events(root)
    write_files(root, {"recipes/slow.py": SLOW["recipes/slow.py"].replace(
        "return orders_clean", "return orders_clean.head(1)")})
    events.flow_until(status_is("slow", "stale"), "the edit to make `slow` stale")
    events.client.start_build(["slow"])
    gate.reached()
    Events.close_all()
    t0 = time.time()
    r = run_weir("daemon", "stop", "--now", cwd=root, timeout=30)
    assert r.code == 0 and "Waiting" not in r.out and time.time() - t0 < 15
    assert pq_rows(root / "data/small/slow.parquet") == 3  # the previous version


def test_stopping_the_daemon_ends_its_event_streams_cleanly(daemon) -> None:
    """A Flow page or an editor is almost always connected: stopping must end their stream
    (so they see the daemon go, and the stop does not wait on them)."""
    root, _ = daemon
    client = DaemonClient.for_project(root)
    ended: list[str] = []
    connected = threading.Event()

    def follow() -> None:
        try:
            for kind, _data in client.events():
                if kind == "hello":
                    connected.set()
            ended.append("cleanly")
        except Exception as exc:  # noqa: BLE001 - what ended it is the assertion
            ended.append(f"by {type(exc).__name__}: {exc}")

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    assert connected.wait(10)
    assert run_weir("daemon", "stop", cwd=root).code == 0
    reader.join(5)
    assert ended == ["cleanly"]
    # ...because the daemon ended it, not because the server gave up waiting and cut it.
    logged = (root / ".weir/logs/daemon.log").read_text()
    assert "graceful shutdown exceeded" not in logged, logged[-2000:]
