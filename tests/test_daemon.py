"""The daemon as a real process: token auth, the live Flow over HTTP, the event stream
following edits made the way editors and git make them."""

from __future__ import annotations

import json
import os
import queue
import stat
import threading
import time
from pathlib import Path

import httpx
from hypothesis import strategies as st
import msgpack
import pytest

from conftest import SMALL, git, run_weir, write_files
from weir.client import DaemonClient


@pytest.fixture
def daemon(small_project: Path):
    r = run_weir("daemon", "start", cwd=small_project)
    assert r.code == 0, r.text
    info = json.loads((small_project / ".weir/daemon.json").read_text())
    yield small_project, info
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
    r = run_weir("daemon", "status", cwd=root)
    assert r.code == 0 and "weir daemon for small" in r.out
    assert run_weir("daemon", "stop", cwd=root).code == 0
    assert not (root / ".weir/daemon.json").exists()
    assert run_weir("daemon", "status", cwd=root).code == 1


class Events:
    """Reads the event stream in a thread; ``next_flow`` waits for the next Flow change."""

    def __init__(self, root: Path) -> None:
        self.queue: queue.Queue = queue.Queue()
        client = DaemonClient.for_project(root)
        ready = threading.Event()

        def read() -> None:
            for kind, data in client.events():
                if kind == "hello":
                    ready.set()
                self.queue.put((kind, data, time.perf_counter()))

        threading.Thread(target=read, daemon=True).start()
        assert ready.wait(10)

    def next_flow(self, timeout: float = 5) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            kind, data, _ = self.queue.get(timeout=max(0.01, deadline - time.time()))
            if kind == "flow":
                return data
        raise AssertionError("no flow event")


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
    assert "extra" in {n["name"] for n in flow["nodes"]}  # the rest of the Flow is intact
    assert flow["diagnostics"][0]["file"] == "recipes/broken.py"

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
    git(root, "checkout", "-qb", "feature")
    for i in range(20):
        write_files(root, {f"recipes/f{i}.sql": f"select * from orders_clean where {i} = {i}"})
    git(root, "add", "-A")
    git(root, "commit", "-qm", "twenty recipes")
    client = DaemonClient.for_project(root)

    def names() -> set[str]:
        return {n["name"] for n in client.flow()["nodes"]}

    deadline = time.time() + 10
    while len(names()) != 24 and time.time() < deadline:
        time.sleep(0.05)
    assert len(names()) == 24
    git(root, "checkout", "-q", "main")
    deadline = time.time() + 10
    while names() != {"orders", "orders_clean", "customers", "per_customer"} \
            and time.time() < deadline:
        time.sleep(0.05)
    assert names() == {"orders", "orders_clean", "customers", "per_customer"}


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
    time.sleep(0.3)  # let the daemon see the new file
    r = run_weir("build", "bad", cwd=root)
    assert r.code == 1
    assert 'File "recipes/bad.py", line 5, in bad' in r.out and "log: .weir/logs/bad/" in r.out
    # A broken project: the same file:line and hint as a build without the daemon.
    write_files(root, {"recipes/typo.py": "from weir import recipe\n\n@recipe\n"
                                          "def typo(orders_clen):\n    return orders_clen\n"})
    time.sleep(0.3)
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


SLOW = {"recipes/slow.py": """
    import time
    from weir import recipe

    @recipe
    def slow(orders_clean):
        time.sleep(float(open("delay.txt").read()))
        return orders_clean
    """, "delay.txt": "1.0"}


def test_overlapping_builds_never_build_a_dataset_twice(daemon) -> None:
    root, info = daemon
    write_files(root, SLOW)
    time.sleep(0.3)
    client = DaemonClient.for_project(root)
    first = client.start_build(["slow"])
    second = client.start_build(["+slow", "per_customer"])
    assert client.wait(first["id"])["state"] == "succeeded"
    assert client.wait(second["id"])["state"] == "succeeded"
    import sqlite3
    with sqlite3.connect(root / ".weir/state.db") as db:
        counts = dict(db.execute("SELECT dataset, count(*) FROM builds WHERE status='built' "
                                 "GROUP BY dataset").fetchall())
    assert counts == {"orders_clean": 1, "slow": 1, "per_customer": 1}


def start_a_hanging_rebuild(root: Path) -> tuple[DaemonClient, dict, bytes]:
    """Build `slow` once, then start a rebuild of it that hangs: (client, build, old bytes)."""
    write_files(root, SLOW)
    time.sleep(0.3)
    client = DaemonClient.for_project(root)
    assert client.wait(client.start_build(["slow"])["id"])["state"] == "succeeded"
    before = (root / "data/small/slow.parquet").read_bytes()
    write_files(root, {"delay.txt": "60", "recipes/slow.py": SLOW["recipes/slow.py"].replace(
        "return orders_clean", "return orders_clean.head(1)")})
    time.sleep(0.3)
    build = client.start_build(["slow"])
    deadline = time.time() + 10
    while client.build(build["id"])["state"] != "running" and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # the recipe is running
    return client, build, before


def test_cancel_keeps_the_previous_output(daemon) -> None:
    root, _ = daemon
    client, build, before = start_a_hanging_rebuild(root)
    t0 = time.time()
    client.cancel_build(build["id"])
    assert client.wait(build["id"])["state"] == "cancelled"
    assert time.time() - t0 < 10
    assert (root / "data/small/slow.parquet").read_bytes() == before
    assert not [p for p in (root / "data/small").iterdir() if ".weir-tmp-" in p.name]
    assert client.health()["pid"]  # the daemon is fine


def test_kill_9_mid_build_then_restart(daemon) -> None:
    import signal as sig
    import sqlite3

    root, info = daemon
    client, build, before = start_a_hanging_rebuild(root)
    os.kill(info["pid"], sig.SIGKILL)
    time.sleep(0.5)
    assert (root / "data/small/slow.parquet").read_bytes() == before
    r = run_weir("daemon", "start", cwd=root)
    assert r.code == 0, r.text
    write_files(root, {"delay.txt": "0"})
    r = run_weir("build", "slow", cwd=root)
    assert r.code == 0, r.text
    with sqlite3.connect(root / ".weir/state.db") as db:
        states = [s for (s,) in db.execute("SELECT status FROM runs ORDER BY started")]
    assert "interrupted" in states
    assert not [p for p in (root / "data/small").iterdir() if ".weir-tmp-" in p.name]
    assert pq_rows(root / "data/small/slow.parquet") == 1


def pq_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def test_plan_through_the_api(daemon) -> None:
    from weir.client import DaemonClient
    from weir.errors import WeirError

    root, info = daemon
    client = DaemonClient(info["url"], info["token"])
    plan = client.plan(["per_customer"])
    assert [j["outputs"] for j in plan["jobs"]] == [["orders_clean"], ["per_customer"]]
    assert plan["jobs"][0]["reasons"] == {"orders_clean": ["never built"]}
    assert client.builds() == []  # nothing ran
    with pytest.raises(WeirError, match="422: unknown dataset 'nope'"):
        client.plan(["nope"])
    flow = client.flow()
    orders = next(n for n in flow["nodes"] if n["name"] == "orders")
    assert orders["definition"] == {"file": "datasets/orders.yaml", "line": 1}
    clean = next(n for n in flow["nodes"] if n["name"] == "orders_clean")
    assert clean["recipe"]["id"] == "recipes/clean.py:orders_clean"


def test_a_recipes_output_streams_while_it_runs(daemon) -> None:
    from weir.client import DaemonClient

    root, info = daemon
    (root / "recipes/chatty.py").write_text(
        "import time\nfrom weir import recipe\n\n\n@recipe\ndef chatty(orders):\n"
        "    print('first line')\n    time.sleep(1.0)\n    print('second line')\n"
        "    return orders\n")
    client = DaemonClient(info["url"], info["token"])
    deadline = time.time() + 10
    while not any(n["name"] == "chatty" for n in client.flow()["nodes"]):
        assert time.time() < deadline, "the daemon did not see the new recipe"
        time.sleep(0.05)
    build = client.start_build(["chatty"])
    seen: list[tuple[float, str, dict]] = []
    for kind, data in client.build_events(build["id"]):
        seen.append((time.monotonic(), kind, data))
        if kind == "end":
            break
    logs = [(at, line) for at, kind, data in seen if kind == "log" for line in data["lines"]]
    finish = next(at for at, kind, data in seen if kind == "job" and data["event"] == "finish")
    first = next(at for at, line in logs if line == "first line")
    assert next(line for _, line in logs if line == "second line")
    assert finish - first > 0.5  # shown while the recipe still ran, not at its end
    assert all(data["outputs"] == ["chatty"] for _, kind, data in seen if kind == "log")


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


json_values = st.recursive(st.none() | st.booleans() | st.integers()
                           | st.floats(allow_nan=False, allow_infinity=False)
                           | st.text(max_size=20),
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
        r = client.post(f"{url}/api/builds", json=body, headers=headers)
        assert r.status_code < 500, (body, r.text)
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


def test_stop_waits_for_running_builds_unless_now(daemon) -> None:
    root, info = daemon
    write_files(root, {**SLOW, "delay.txt": "2"})
    time.sleep(0.3)
    client = DaemonClient.for_project(root)
    build = client.start_build(["slow"])
    t0 = time.time()
    r = run_weir("daemon", "stop", cwd=root)
    assert r.code == 0 and "Waiting for 1 build" in r.out
    assert (root / "data/small/slow.parquet").exists()  # it finished before the stop
    assert time.time() - t0 >= 1.5
    assert run_weir("daemon", "start", cwd=root).code == 0
    write_files(root, {"delay.txt": "60", "recipes/slow.py": SLOW["recipes/slow.py"].replace(
        "return orders_clean", "return orders_clean.head(1)")})
    time.sleep(0.3)
    client = DaemonClient.for_project(root)
    client.start_build(["slow"])
    time.sleep(1.0)
    t0 = time.time()
    r = run_weir("daemon", "stop", "--now", cwd=root)
    assert r.code == 0 and "Waiting" not in r.out and time.time() - t0 < 15
    assert pq_rows(root / "data/small/slow.parquet") == 3  # the previous version
    del build
