"""Builds on a real Dask cluster: a `dask scheduler` and two `dask worker` processes on loopback
(the ``dask_cluster`` fixture). Each test compares with, or behaves as, the same build on this
machine: the results, the statuses and logs, failures, retries, `--fail-fast`, a worker killed
under a job, and the refusal of storage the workers cannot reach."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from conftest import SMALL, run_weir, wait_until, weir_env, write_files
from servers import free_port

pytest.importorskip("distributed")  # the weir[dask] extra: `make test` installs it

SHARED = """
    connections:
      landing:
        type: filesystem
        root: landing
        shared: true
      local:
        type: filesystem
        root: data
        shared: true
    """


def outputs(root: Path, data: str = "data") -> dict[str, Any]:
    """Every file weir wrote under data/, Parquet as its rows (sorted) and anything else as
    its bytes: two builds that computed the same are equal here."""
    found: dict[str, Any] = {}
    for path in sorted((root / data).rglob("*")):
        if not path.is_file() or ".weir" in path.parts:
            continue
        rel = str(path.relative_to(root / data))
        if path.suffix == ".parquet":
            frame = pq.read_table(path).to_pandas()
            found[rel] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
        else:
            found[rel] = path.read_bytes()
    return found


def assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert sorted(a) == sorted(b)
    for rel, value in a.items():
        if hasattr(value, "equals"):
            assert value.equals(b[rel]), rel
        else:
            assert value == b[rel], rel


def test_the_example_flow_on_dask_equals_the_local_build(dask_cluster, tmp_path: Path) -> None:
    """The example's `cluster` environment (its storage `shared: true`), on the test's cluster."""
    root = tmp_path / "shop"
    assert run_weir("init", str(root), cwd=tmp_path).code == 0
    here = run_weir("build", "--all", "--no-daemon", cwd=root)
    there = run_weir("--env", "cluster", "build", "--all", "--no-daemon", "--executor",
                     dask_cluster.url, cwd=root)
    assert here.code == 0, here.text
    assert there.code == 0, there.text
    assert f"Running recipes on the Dask cluster at {dask_cluster.address} (2 workers" in there.err
    assert_same(outputs(root), outputs(root, "cluster-data"))
    # The same statuses, and each job's log brought back from the worker that ran it.
    assert statuses(root) == statuses(root, "cluster")
    assert {s for s, _ in statuses(root, "cluster").values()} == {"source", "up to date"}
    logged = run_weir("--env", "cluster", "logs", "customers", cwd=root).out
    assert "weir: python recipe customers → customers" in logged
    assert "weir: ran on the Dask worker on" in logged
    # The Flow says where its builds run (the Flow page's title shows it), locally nothing.
    flow = json.loads(run_weir("--env", "cluster", "flow", "--format", "json", cwd=root).out)
    assert flow["executor"] == "tcp://127.0.0.1:8786"
    assert "executor" not in json.loads(run_weir("flow", "--format", "json", cwd=root).out)
    # Without `--executor`, the environment's own address (one where nobody listens).
    port = free_port()
    text = (root / "weir.yaml").read_text()
    (root / "weir.yaml").write_text(text.replace("dask://127.0.0.1:8786",
                                                 f"dask://127.0.0.1:{port}"))
    r = run_weir("--env", "cluster", "build", "--all", "--force", "--no-daemon", cwd=root)
    assert r.code == 2 and f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in r.err


def statuses(root: Path, env: str | None = None) -> dict[str, tuple[str, int | None]]:
    report = json.loads(run_weir(*(("--env", env) if env else ()), "status", "--json",
                                 cwd=root).out)
    return {d["name"]: (d["status"], d.get("rows")) for d in report["datasets"]}


def synthetic(root: Path, layers: int = 4, width: int = 4) -> None:
    """Layers of pandas recipes, each reading two of the layer above, over Parquet sources."""
    import numpy as np
    import pyarrow as pa

    files = {"weir.yaml": "name: synthetic\n", "connections.yaml": SHARED}
    rng = np.random.default_rng(7)
    (root / "data").mkdir(parents=True)
    for j in range(width):
        files[f"datasets/s0_{j}.yaml"] = f"path: s0_{j}.parquet\n"
        pq.write_table(pa.table({"id": np.arange(500, dtype=np.int64),
                                 "x": rng.random(500)}), root / "data" / f"s0_{j}.parquet")
    for layer in range(1, layers):
        for j in range(width):
            a, b = f"s{layer - 1}_{j}", f"s{layer - 1}_{(j + 1) % width}"
            files[f"recipes/s{layer}_{j}.py"] = f'''
                from weir import recipe

                @recipe
                def s{layer}_{j}({a}, {b}):
                    out = {a}.merge({b}, on="id", suffixes=("", "_b"))
                    out["x"] = (out["x"] * {layer + 1} + out["x_b"]).round(9)
                    return out[["id", "x"]]
                '''
    write_files(root, files)


def test_a_synthetic_flow_on_dask_equals_the_local_build(dask_cluster, tmp_path: Path) -> None:
    local, remote = tmp_path / "local", tmp_path / "remote"
    synthetic(local)
    synthetic(remote)
    here = run_weir("build", "--all", "--no-daemon", "--json", cwd=local)
    there = run_weir("build", "--all", "--no-daemon", "--json", "--executor", dask_cluster.url,
                     cwd=remote)
    assert here.code == there.code == 0, here.text + there.text
    assert [j["status"] for j in json.loads(there.out)["datasets"]] == ["built"] * 12
    assert_same(outputs(local), outputs(remote))
    # Nothing to do after, as locally; an edit rebuilds exactly what it changes.
    again = run_weir("build", "--all", "--no-daemon", "--executor", dask_cluster.url, cwd=remote)
    assert again.code == 0 and again.out.startswith("Nothing to do"), again.text
    for root in (local, remote):
        recipe = root / "recipes" / "s2_0.py"
        recipe.write_text(recipe.read_text().replace("* 3", "* 5"))
    here = run_weir("build", "--all", "--no-daemon", "--json", cwd=local)
    there = run_weir("build", "--all", "--no-daemon", "--json", "--executor", dask_cluster.url,
                     cwd=remote)
    assert sorted(d["name"] for d in json.loads(there.out)["datasets"]) == \
        sorted(d["name"] for d in json.loads(here.out)["datasets"]) == ["s2_0", "s3_0", "s3_3"]
    assert_same(outputs(local), outputs(remote))


def test_storage_the_workers_cannot_reach_is_refused_before_anything_runs(
        dask_cluster, make_project) -> None:
    root = make_project(SMALL)  # its filesystem connections are not `shared`
    unreachable = "dask://127.0.0.1:9"  # nobody listens: the refusal needs no cluster
    for url in (dask_cluster.url, unreachable):
        r = run_weir("build", "--all", "--no-daemon", "--executor", url, cwd=root)
        assert r.code == 2, r.text
        assert "Traceback" not in r.err
        assert "live on storage the workers of the Dask cluster" in r.err
        assert "connection 'landing' (filesystem, connections.yaml:2): orders " \
               "(datasets/orders.yaml:1)" in r.err
        assert "connection 'local' (filesystem, built in)" in r.err
        assert "hint: if every worker sees the same path" in r.err and "`shared: true`" in r.err
    assert not (root / "data").exists()  # nothing ran, nothing was written
    assert "never built" in run_weir("status", cwd=root).out
    # Marked shared, a scheduler nobody runs is said as such.
    write_files(root, {"connections.yaml": SHARED})
    r = run_weir("build", "--all", "--no-daemon", "--executor", unreachable, cwd=root)
    assert r.code == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in r.err
    assert "hint: is `dask scheduler` running there?" in r.err and "Traceback" not in r.err
    assert not (root / "data").exists()


def test_a_wrong_executor_is_said_where_it_is_written(make_project) -> None:
    variables = "variables:\n  min_amount: 2\n  label: shop\n"
    root = make_project({**SMALL, "weir.yaml": f"name: small\n{variables}executor: dask\n"})
    r = run_weir("build", "--all", "--no-daemon", cwd=root)
    assert r.code == 2
    assert "weir.yaml:5: error: `executor: dask` needs the scheduler's address" in r.err
    assert "hint: use `executor: local` (the default) or `executor: dask://" in r.err
    write_files(root, {"weir.yaml": f"name: small\n{variables}environments:\n  prod:\n"
                                    "    executor: spark://x\n"})
    r = run_weir("build", "--all", "--no-daemon", cwd=root)
    assert r.code == 2 and "weir.yaml:7: error: 'spark://x' is not an executor weir knows" in r.err
    write_files(root, {"weir.yaml": f"name: small\n{variables}"})
    r = run_weir("build", "--all", "--no-daemon", "--executor", "dask:/oops", cwd=root)
    assert r.code == 2 and "--executor: 'dask:/oops' is not an executor weir knows" in r.err
    r = run_weir("build", "--all", "--no-daemon", "--executor", "local", cwd=root)
    assert r.code == 0, r.text  # and `local` is this machine, as without it


FAILING = {
    "connections.yaml": SHARED,
    "recipes/more.py": '''
        from pathlib import Path

        from weir import recipe

        @recipe
        def broken(orders_clean):
            print("about to fail")
            raise ValueError("no such customer")

        @recipe
        def below_broken(broken):
            return broken
        ''',
    "recipes/flaky.py": '''
        from pathlib import Path

        from weir import recipe

        @recipe(retries=1)
        def flaky(orders_clean):
            tries = Path("tries")
            tries.write_text(tries.read_text() + "x" if tries.exists() else "x")
            if tries.read_text() == "x":
                raise RuntimeError("first try fails")
            return orders_clean
        ''',
}


def test_failures_retries_and_logs_on_dask_are_as_local(dask_cluster, make_project) -> None:
    results = {}
    for where in ("local", dask_cluster.url):
        root = make_project({**SMALL, **FAILING}, name=f"fail-{len(results)}")
        r = run_weir("build", "--all", "--no-daemon", "--json", "--executor", where, cwd=root)
        assert r.code == 1, r.text
        jobs = {d["name"]: d for d in json.loads(r.out)["datasets"]}
        results[where] = {name: j["status"] for name, j in jobs.items()}
        assert 'File "recipes/more.py", line 8, in broken' in jobs["broken"]["traceback"]
        assert jobs["broken"]["error"] == "ValueError: no such customer"
        assert (root / "tries").read_text() == "xx"  # run again after its first failure
        logged = run_weir("logs", "broken", cwd=root).out
        assert "about to fail" in logged and "ValueError: no such customer" in logged
    assert results["local"] == results[dask_cluster.url] == {
        "orders_clean": "built", "customers": "built", "per_customer": "built",
        "broken": "failed", "below_broken": "skipped", "flaky": "built"}


def test_a_worker_killed_under_a_job_runs_it_again_with_nothing_half_written(
        dask_cluster, make_project, gates) -> None:
    root = make_project({**SMALL, "connections.yaml": SHARED, "recipes/slow.py": '''
        import os
        from pathlib import Path

        from weir import recipe

        @recipe
        def slow(orders_clean):
            pids = Path("pids")
            again = pids.exists()  # the first run waits at one gate, the next at another
            with open(pids, "a") as f:
                f.write(f"{os.getpid()}\\n")
            open("gate2" if again else "gate").read()
            return orders_clean
        '''})
    gate, gate2 = gates(root / "gate"), gates(root / "gate2")
    build = subprocess.Popen([sys.executable, "-m", "weir", "build", "slow", "--no-daemon",
                              "--json", "--executor", dask_cluster.url], cwd=root, env=weir_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        gate.reached(60)
        first = int((root / "pids").read_text().split()[0])
        assert first in dask_cluster.worker_pids().values()
        os.kill(first, signal.SIGKILL)  # the worker process dies mid-job
        gate.forget()
        gate2.open(60)  # the job, run again on a worker that lives, passes
        out, err = build.communicate(timeout=120)
    finally:
        if build.poll() is None:
            build.kill()
    assert build.returncode == 0, out + err
    assert [d["status"] for d in json.loads(out)["datasets"]] == ["built", "built"]
    pids = [int(p) for p in (root / "pids").read_text().split()]
    assert len(pids) == 2 and pids[1] != first
    assert pq.read_table(root / "data" / "small" / "slow.parquet").num_rows == 3
    leftovers = [p.name for p in (root / "data").rglob(".*") if ".weir" not in p.parts]
    assert leftovers == [], leftovers  # no staged file left behind
    dask_cluster.wait_for_workers(2)  # its nanny started it again


def test_fail_fast_stops_the_job_running_on_the_cluster(dask_cluster, make_project,
                                                        gates) -> None:
    root = make_project({**SMALL, "connections.yaml": SHARED, "recipes/two.py": '''
        from weir import recipe

        @recipe
        def held(orders):
            open("gate").read()
            return orders

        @recipe
        def fails(orders):
            open("gate2").read()
            raise ValueError("stop here")
        '''})
    gate, gate2 = gates(root / "gate"), gates(root / "gate2")
    build = subprocess.Popen([sys.executable, "-m", "weir", "build", "held", "fails",
                              "--no-daemon", "--json", "--fail-fast", "--executor",
                              dask_cluster.url], cwd=root, env=weir_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        gate.reached(60)
        before = dask_cluster.worker_pids()
        gate2.open(60)  # `fails` fails while `held` still runs
        out, err = build.communicate(timeout=120)
    finally:
        if build.poll() is None:
            build.kill()
    assert build.returncode == 1, out + err
    jobs = {d["name"]: d["status"] for d in json.loads(out)["datasets"]}
    assert jobs["fails"] == "failed" and jobs["held"] == "interrupted"
    assert "weir: stopped on the Dask cluster before it ended" in run_weir(
        "logs", "held", cwd=root).out
    assert not (root / "data" / "small" / "held.parquet").exists()
    assert (root / "data" / "small" / "fails.parquet").exists() is False
    gate.forget()
    # Dask cannot stop a running task: its worker was restarted, and the cluster is whole.
    wait_until(lambda: len(set(dask_cluster.worker_pids().values()) - set(before.values())) == 1,
               60, "the worker that ran `held` to be restarted")
    dask_cluster.wait_for_workers(2)


def test_connection_limits_hold_on_the_cluster(dask_cluster, make_project) -> None:
    """`max_concurrent_jobs: 1`: jobs on that connection run one after the other, even with two
    workers free (each job logs its start and end to one file; they never interleave)."""
    recipes = {f"recipes/r{i}.py": f'''
        from pathlib import Path
        from weir import recipe

        @recipe
        def r{i}(orders):
            with open(Path("trace"), "a") as f:
                f.write("in r{i}\\n")
            total = sum(range(2_000_000))
            with open(Path("trace"), "a") as f:
                f.write("out r{i}\\n")
            return orders.assign(total=total)
        ''' for i in range(4)}
    root = make_project({**SMALL, **recipes, "connections.yaml": SHARED.replace(
        "        root: data\n", "        root: data\n        max_concurrent_jobs: 1\n")})
    r = run_weir("build", "r0", "r1", "r2", "r3", "--no-daemon", "--executor", dask_cluster.url,
                 cwd=root)
    assert r.code == 0, r.text
    trace = (root / "trace").read_text().split("\n")[:-1]
    assert len(trace) == 8
    for i in range(0, 8, 2):  # each "in" is followed by its own "out"
        assert trace[i].replace("in", "out") == trace[i + 1], trace


def test_a_daemon_build_runs_on_the_environments_cluster(dask_cluster, make_project) -> None:
    root = make_project({**SMALL, "connections.yaml": SHARED,
                         "weir.yaml": "name: small\nvariables: {min_amount: 2, label: shop}\n"
                                      f"executor: {dask_cluster.url}\n"})
    assert run_weir("daemon", "start", cwd=root).code == 0
    try:
        r = run_weir("build", "--all", cwd=root)
        assert r.code == 0, r.text
        assert "Through the project's daemon" in r.out
        assert f"Running recipes on the Dask cluster at {dask_cluster.address} (2 workers" \
            in r.err, r.text
        logged = run_weir("logs", "orders_clean", cwd=root).out
        assert "weir: ran on the Dask worker on" in logged
        status = json.loads(run_weir("status", "--json", cwd=root).out)
        assert {d["status"] for d in status["datasets"] if d["name"] != "orders"} == \
            {"up to date"}
    finally:
        run_weir("daemon", "stop", cwd=root)


def test_workers_without_the_projects_checkout_run_its_code(tmp_path: Path,
                                                            tmp_path_factory) -> None:
    """A worker that sees none of the project's files (a mount namespace with the project's
    directory hidden, as on another machine) runs its recipes and the modules they import, as
    the build has them — edited between builds too; the data is on storage both see."""
    from servers import start_dask

    shared = tmp_path_factory.mktemp("shared")
    root = tmp_path / "proj"
    write_files(root, {
        "weir.yaml": "name: remote\n",
        "connections.yaml": f"""
            connections:
              local: {{type: filesystem, root: {shared / 'data'}, shared: true}}
              landing: {{type: filesystem, root: {shared / 'landing'}, shared: true}}
            """,
        "datasets/orders.yaml": "connection: landing\npath: orders.csv\n",
        "recipes/rules.py": "RATE = 2\n",
        "recipes/priced.py": f'''
            from pathlib import Path

            import rules
            from weir import recipe

            @recipe
            def priced(orders):
                saw = Path({str(root / "weir.yaml")!r}).exists()
                return orders.assign(price=orders.amount * rules.RATE, saw_checkout=saw)
            ''',
        "recipes/total.sql": "SELECT sum(price) AS total FROM priced\n",
    })
    write_files(shared, {"landing/orders.csv": "id,amount\n1,1.5\n2,3.0\n"})
    cluster = start_dask(workers=1, hide=tmp_path)
    try:
        r = run_weir("build", "--all", "--no-daemon", "--executor", cluster.url, cwd=root)
        assert r.code == 0, r.text
        priced = pq.read_table(shared / "data" / "remote" / "priced.parquet").to_pandas()
        assert priced["price"].tolist() == [3.0, 6.0]
        assert not priced["saw_checkout"].any()  # it ran where the checkout is not
        total = pq.read_table(shared / "data" / "remote" / "total.parquet").to_pandas()
        assert total["total"].tolist() == [9.0]
        write_files(root, {"recipes/rules.py": "RATE = 10\n"})  # the build's code, not a copy's
        r = run_weir("build", "--all", "--no-daemon", "--executor", cluster.url, cwd=root)
        assert r.code == 0, r.text
        priced = pq.read_table(shared / "data" / "remote" / "priced.parquet").to_pandas()
        assert priced["price"].tolist() == [15.0, 30.0]
        write_files(root, {"recipes/rules.py": "RATE = 1 / 0\n"})
        r = run_weir("build", "priced", "--no-daemon", "--executor", cluster.url, cwd=root)
        assert r.code == 1
        assert 'File "recipes/rules.py", line 1, in <module>' in r.out, r.out  # its own paths
    finally:
        cluster.stop()


BLOCK_DISTRIBUTED = '''
import sys


class _NoDask:
    """dask.distributed as if it were not installed (the test's only)."""

    def find_spec(self, name, path=None, target=None):
        if name == "distributed" or name.startswith("distributed."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NoDask())
'''


def test_without_the_dask_extra_the_build_says_what_to_install(
        make_project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project({**SMALL, "connections.yaml": SHARED})
    blocker = tmp_path / "block"
    write_files(blocker, {"sitecustomize.py": BLOCK_DISTRIBUTED})
    monkeypatch.setenv("PYTHONPATH", f"{blocker}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    r = run_weir("build", "--all", "--no-daemon", "--executor", "dask://127.0.0.1:9", cwd=root)
    assert r.code == 2, r.text
    assert "this build runs on the Dask cluster at tcp://127.0.0.1:9, but Dask's distributed " \
           "package is not installed" in r.err
    assert 'hint: pip install "weir[dask]"' in r.err and "Traceback" not in r.err
    assert not (root / "data").exists()
    r = run_weir("build", "--all", "--no-daemon", cwd=root)  # a local build needs no Dask
    assert r.code == 0, r.text


def test_cancelling_a_daemon_build_on_the_cluster_keeps_the_previous_output(
        dask_cluster, make_project, gates) -> None:
    from test_daemon import Events, status_is
    from weir.wire import BuildState

    held = '''
        from weir import recipe

        @recipe
        def held(orders):
            open("gate").read()
            return orders{tail}
        '''
    root = make_project({**SMALL, "connections.yaml": SHARED, "recipes/held.py": held.format(
        tail=""), "weir.yaml": "name: small\nvariables: {min_amount: 2, label: shop}\n"
                               f"executor: {dask_cluster.url}\n"})
    gate = gates(root / "gate")
    assert run_weir("daemon", "start", cwd=root).code == 0
    try:
        events = Events(root)
        client = events.client
        build = client.start_build(["held"])
        gate.open(60)
        assert client.wait(build.id).state is BuildState.SUCCEEDED
        before = (root / "data/small/held.parquet").read_bytes()
        write_files(root, {"recipes/held.py": held.format(tail=".head(1)")})
        events.flow_until(status_is("held", "stale"), "the edit to make `held` stale")
        pids = dask_cluster.worker_pids()
        build = client.start_build(["held"])
        gate.reached(60)
        client.cancel_build(build.id)
        assert client.wait(build.id).state is BuildState.CANCELLED
        gate.forget()
        assert (root / "data/small/held.parquet").read_bytes() == before
        assert not [p for p in (root / "data/small").iterdir() if ".weir-tmp-" in p.name]
        wait_until(lambda: len(set(dask_cluster.worker_pids().values())
                               - set(pids.values())) == 1,
                   60, "the worker that ran `held` to be restarted")
        dask_cluster.wait_for_workers(2)
    finally:
        Events.close_all()
        run_weir("daemon", "stop", cwd=root)


def test_a_scheduler_that_goes_away_mid_build_is_said_once_per_job_with_no_traceback(
        make_project, gates) -> None:
    from servers import start_dask

    root = make_project({**SMALL, "connections.yaml": SHARED, "recipes/held.py": '''
        from weir import recipe

        @recipe
        def held(orders):
            open("gate").read()
            return orders
        '''})
    gate = gates(root / "gate")
    cluster = start_dask(workers=1)
    try:
        build = subprocess.Popen([sys.executable, "-m", "weir", "build", "held", "--no-daemon",
                                  "--executor", cluster.url], cwd=root, env=weir_env(),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        gate.reached(60)
        cluster.scheduler.kill()
        out, err = build.communicate(timeout=120)
        assert build.returncode == 1, out + err
        assert out.count(f"the Dask scheduler at {cluster.address} went away before this job "
                         "ended") == 1, out
        assert "Traceback" not in out + err, out + err
        assert not list((root / "data").rglob("held.parquet"))
        assert not list((root / "data").rglob("*.weir-tmp-*"))
    finally:
        cluster.stop()


def test_a_worker_switching_between_code_versions_imports_each_ones_own_modules(
        tmp_path: Path) -> None:
    """A long-lived worker runs code version A, then B, then A again (an edit then its revert,
    two branches on one cluster): each job imports the helper of its own version, never the
    one an earlier version's recipes directory left on sys.path."""
    from weir.build.project_code import ProjectCode

    code = ProjectCode()
    roots = {}
    for version in ("A", "B"):
        root = tmp_path / version
        write_files(root, {"recipes/x.py": "import helpers\n\ndef value():\n"
                                           "    return helpers.V\n",
                           "recipes/helpers.py": f"V = {version!r}\n"})
        roots[version] = root
    seen = []
    try:
        for version in ("A", "B", "A"):
            root = roots[version]
            module = code.fresh_module(str(root), str(root / "recipes"),
                                       str(root / "recipes" / "x.py"), "weir_recipes.x")
            seen.append(module.value())
    finally:
        code.forget()
        for root in roots.values():
            while str(root / "recipes") in sys.path:
                sys.path.remove(str(root / "recipes"))
    assert seen == ["A", "B", "A"]
