"""The daemon's builds as the issue asks for them: warm workers that never run stale code nor
carry a run's globals, builds side by side that never write a dataset twice at once (also
beside a CLI build without the daemon), and a cancel that stops only its own build."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from conftest import weir_env, write_files
import pytest
from test_daemon import Events, daemon, has, status_is  # noqa: F401 - `daemon`: a fixture
from weir.wire import BuildState


@pytest.fixture
def served(daemon: tuple[Path, dict]) -> tuple[Path, dict]:  # noqa: F811
    """The project, served by a running daemon (test_daemon's fixture), and its info."""
    return daemon

LABELLED = {
    "recipes/helpers.py": """
        def label():
            return "one"
        """,
    "recipes/labelled.py": """
        import os

        import helpers
        from weir import recipe

        RUNS = []  # module state a run mutates


        @recipe
        def labelled(orders):
            RUNS.append(1)
            out = orders.head(1).copy()
            out["label"] = helpers.label() + "-a"
            out["runs"] = len(RUNS)
            out["pid"] = os.getpid()
            return out
        """,
}


def row(root: Path, name: str) -> dict:
    return pq.read_table(root / f"data/small/{name}.parquet").to_pylist()[0]


def built_counts(root: Path) -> dict[str, int]:
    with sqlite3.connect(root / ".weir/state.db") as db:
        return dict(db.execute("SELECT dataset, count(*) FROM builds WHERE status='built' "
                               "GROUP BY dataset").fetchall())


def test_a_warm_worker_runs_the_edited_code_with_fresh_module_state(served) -> None:
    root, _ = served
    events = Events(root)
    write_files(root, LABELLED)
    events.flow_until(has("labelled"), "the new recipe")
    client = events.client
    assert client.wait(client.start_build(["labelled"]).id).state is BuildState.SUCCEEDED
    first = row(root, "labelled")
    assert (first["label"], first["runs"]) == ("one-a", 1)

    # Edit the recipe and the project module it imports, each keeping its size and mtime
    # (what Python's own bytecode cache cannot tell from no change).
    for rel, old, new in [("recipes/helpers.py", '"one"', '"two"'),
                          ("recipes/labelled.py", '"-a"', '"-b"')]:
        path = root / rel
        st = path.stat()
        path.write_text(path.read_text().replace(old, new))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    events.flow_until(status_is("labelled", "stale"), "the edit to make `labelled` stale")
    assert client.wait(client.start_build(["labelled"]).id).state is BuildState.SUCCEEDED
    second = row(root, "labelled")
    assert second["pid"] == first["pid"]  # the same warm worker...
    assert (second["label"], second["runs"]) == ("two-b", 1)  # ...ran the new code, afresh

    # Rebuilt without an edit, in the same worker: the global the last run mutated is new.
    assert client.wait(client.start_build(["labelled"], mode="force").id).state \
        is BuildState.SUCCEEDED
    third = row(root, "labelled")
    assert third["pid"] == first["pid"] and third["runs"] == 1


SHARED = {"recipes/shared.py": """
    from weir import recipe


    @recipe
    def up(orders):
        open("gate").read()  # until the test lets it through (a Gate)
        return orders


    @recipe
    def left(up):
        return up


    @recipe
    def right(up):
        return up
    """}


def test_two_overlapping_builds_with_a_shared_upstream_build_it_once(served, gates) -> None:
    root, info = served
    gate = gates(root / "gate")
    events = Events(root)
    write_files(root, SHARED)
    events.flow_until(has("up", "left", "right"), "the new recipes")
    client = events.client
    first = client.start_build(["left"])
    gate.reached()  # `up` runs in the first build
    second = client.start_build(["right"])
    wait = events.next("wait", lambda data: data["build"] == second.id)
    assert (wait["datasets"], wait["writer"]) == (["up"], first.id)
    assert wait["pid"] == info["pid"]  # the daemon's
    assert client.build(second.id).state is BuildState.RUNNING
    gate.remove()  # lets `up` end, and would let a second run of it through, to be counted
    assert client.wait(first.id).state is BuildState.SUCCEEDED
    assert client.wait(second.id).state is BuildState.SUCCEEDED
    assert built_counts(root) == {"up": 1, "left": 1, "right": 1}
    kinds = [kind for kind, _ in client.build_events(second.id)]
    assert kinds.index("wait") < kinds.index("plan")  # planned once what it waited for was there


TWO_GATES = {"recipes/gated.py": """
    from weir import recipe


    @recipe
    def one(orders):
        open("gate1").read()
        return orders


    @recipe
    def two(orders):
        open("gate2").read()
        return orders
    """}


def test_cancelling_one_build_leaves_the_other_running(served, gates) -> None:
    root, _ = served
    gate1, gate2 = gates(root / "gate1"), gates(root / "gate2")
    events = Events(root)
    write_files(root, TWO_GATES)
    events.flow_until(has("one", "two"), "the new recipes")
    client = events.client
    first = client.start_build(["one"])
    second = client.start_build(["two"])
    gate1.reached()
    gate2.reached()  # both run at once
    assert {b.id for b in client.builds() if b.state is BuildState.RUNNING} == \
        {first.id, second.id}
    client.cancel_build(first.id)
    assert client.wait(first.id).state is BuildState.CANCELLED
    gate1.forget()  # its recipe was killed
    assert client.build(second.id).state is BuildState.RUNNING
    gate2.open()
    assert client.wait(second.id).state is BuildState.SUCCEEDED
    assert (root / "data/small/two.parquet").exists()
    assert not (root / "data/small/one.parquet").exists()


THREE_GATES = {"recipes/gated.py": "from weir import recipe\n" + "".join(f"""

@recipe
def g{i}(orders):
    open("gate{i}").read()
    return orders
""" for i in (1, 2, 3))}


def test_a_build_runs_as_many_jobs_at_once_as_a_connection_allows(served, gates) -> None:
    """A connection's limit counts every build's jobs once: a build's own running jobs are not
    also taken for other builds' (so a job may start beside one of its own build)."""
    root, _ = served
    gate1, gate2, gate3 = (gates(root / f"gate{i}") for i in (1, 2, 3))
    events = Events(root)
    write_files(root, {**THREE_GATES, "connections.yaml": """
        connections:
          landing:
            type: filesystem
            root: landing
          narrow:
            type: filesystem
            root: narrow
            max_concurrent_jobs: 2
        """, **{f"datasets/g{i}.yaml": "connection: narrow\n" for i in (1, 2, 3)}})
    events.flow_until(has("g1", "g2", "g3"), "the new recipes")
    client = events.client
    build = client.start_build(["g1", "g2", "g3"], jobs=2)
    gate1.reached()
    gate2.reached()  # two at once: the connection's limit
    gate1.open()
    gate3.reached()  # g1 over: g3 starts beside g2, which still holds one of the two
    gate2.open()
    gate3.open()
    assert client.wait(build.id).state is BuildState.SUCCEEDED


HELD = {"recipes/held.py": """
    from weir import recipe


    @recipe
    def held(orders):
        open("gate").read()
        return orders
    """}


def test_a_cli_build_without_the_daemon_waits_for_the_daemons_build_and_back(
        served, gates) -> None:
    root, _ = served
    gate = gates(root / "gate")
    events = Events(root)
    write_files(root, HELD)
    events.flow_until(has("held"), "the new recipe")
    client = events.client
    build = client.start_build(["held"])
    gate.reached()
    cli = subprocess.Popen([sys.executable, "-m", "weir", "build", "held", "--no-daemon"],
                           cwd=root, env=weir_env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    assert cli.stderr is not None
    assert cli.stderr.readline().strip() == f"Waiting for build {build.id}, which is writing held…"
    gate.open()
    out, err = cli.communicate(timeout=60)
    assert cli.returncode == 0, out + err
    assert "Nothing to do: held is up to date." in out  # planned again: not built twice
    assert client.wait(build.id).state is BuildState.SUCCEEDED

    # The other way round: the CLI writes `held`, the daemon's build waits for it.
    cli = subprocess.Popen([sys.executable, "-m", "weir", "build", "held", "--force",
                            "--no-daemon"], cwd=root, env=weir_env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    gate.reached()
    build = client.start_build(["held"], mode="force")
    wait = events.next("wait", lambda data: data["build"] == build.id)
    assert wait["datasets"] == ["held"] and wait["pid"] == cli.pid
    assert "--no-daemon" in wait["command"]
    gate.remove()
    out, err = cli.communicate(timeout=60)
    assert cli.returncode == 0, out + err
    assert client.wait(build.id).state is BuildState.SUCCEEDED
    assert built_counts(root)["held"] == 3  # forced: the daemon's build runs it after the CLI's
