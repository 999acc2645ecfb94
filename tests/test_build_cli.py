"""`weir build`, `status`, `plan`, `logs`, `clean`, `show` exercised as a user types them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import (SMALL, git, run_weir, session_processes, wait_until, wait_until_gone,
                      weir_env, write_files)


def statuses(root: Path) -> dict[str, tuple[str, list[str]]]:
    r = run_weir("status", "--json", cwd=root)
    assert r.code == 0, r.text
    return {d["name"]: (d["status"], d["reasons"]) for d in json.loads(r.out)["datasets"]}


def built(root: Path, *args: str) -> dict[str, str]:
    r = run_weir("build", *args, "--json", cwd=root)
    assert r.code in (0, 1), r.text
    return {d["name"]: d["status"] for d in json.loads(r.out)["datasets"]}


def test_build_all_then_nothing_to_do(small_project: Path) -> None:
    r = run_weir("build", "--all", cwd=small_project)
    assert r.code == 0, r.text
    assert "3 built" in r.out and "Traceback" not in r.text
    table = pq.read_table(small_project / "data/small/per_customer.parquet").to_pylist()
    assert table == [{"customer": "a", "revenue": 10.0}, {"customer": "b", "revenue": 3.0},
                     {"customer": "c", "revenue": 7.25}]
    assert {s for s, _ in statuses(small_project).values()} == {"source", "up to date"}
    r = run_weir("build", "per_customer", cwd=small_project)
    assert r.code == 0 and "Nothing to do" in r.out
    assert (small_project / ".weir/state.db").exists()


def test_status_reasons_and_exact_rebuilds(small_project: Path) -> None:
    assert built(small_project, "--all") == {"orders_clean": "built", "customers": "built",
                                            "per_customer": "built"}
    # Comments, whitespace and docstrings do not make anything stale.
    clean = small_project / "recipes/clean.py"
    clean.write_text(clean.read_text().replace('"""Orders above the minimum."""',
                                               '"""Other words."""  # and a comment\n'))
    assert all(s in ("source", "up to date") for s, _ in statuses(small_project).values())
    # A variable: only the recipes that read it (through a helper) and their downstream.
    weir_yaml = small_project / "weir.yaml"
    weir_yaml.write_text(weir_yaml.read_text().replace("min_amount: 2", "min_amount: 5"))
    st = statuses(small_project)
    assert st["orders_clean"] == ("stale", ["variable min_amount changed"])
    assert st["per_customer"] == ("stale", ["input orders_clean is out of date"])
    assert st["customers"][0] == "up to date"
    stale = run_weir("status", "--stale", cwd=small_project).out
    assert "orders_clean" in stale and "per_customer" in stale and "customers" not in stale
    assert built(small_project, "--all") == {"orders_clean": "built", "per_customer": "built"}
    # Source data.
    orders = small_project / "landing/orders.csv"
    orders.write_text(orders.read_text() + "5,d,100.0\n")
    st = statuses(small_project)
    assert st["orders_clean"] == ("stale", ["input orders changed"])
    assert st["customers"] == ("stale", ["input orders changed"])
    # Touching a source without changing its bytes is not a change.
    built(small_project, "--all")
    os.utime(orders, (time.time() + 10, time.time() + 10))
    assert statuses(small_project)["customers"][0] == "up to date"
    # The recipe's code.
    sql = small_project / "recipes/per_customer.sql"
    sql.write_text(sql.read_text().replace("sum(amount)", "max(amount)"))
    assert statuses(small_project)["per_customer"] == ("stale", ["recipe changed"])
    # The dataset's definition.
    write_files(small_project, {"datasets/customers.yaml": "format: csv\n"})
    assert statuses(small_project)["customers"] == ("stale", ["definition changed"])
    assert built(small_project, "--all") == {"customers": "built", "per_customer": "built"}
    assert (small_project / "data/small/customers.csv").exists()


def test_plan_says_what_and_why_without_running(small_project: Path) -> None:
    r = run_weir("plan", "per_customer", cwd=small_project)
    assert r.code == 0
    assert "run     orders_clean" in r.out and "never built" in r.out
    assert not (small_project / "data").exists()
    r = run_weir("build", "--dry-run", "+per_customer", "--json", cwd=small_project)
    plan = json.loads(r.out)
    assert [j["outputs"] for j in plan["jobs"]] == [["orders_clean"], ["per_customer"]]


def test_modes_and_selectors(small_project: Path) -> None:
    assert built(small_project, "customers") == {"customers": "built"}
    r = run_weir("build", "--only", "per_customer", cwd=small_project)
    assert r.code == 2 and "'per_customer' reads 'orders_clean', which has no data" in r.err
    assert built(small_project, "--missing", "per_customer") == {"orders_clean": "built",
                                                                 "per_customer": "built"}
    assert built(small_project, "--only", "per_customer") == {"per_customer": "built"}
    assert set(built(small_project, "--force", "per_customer")) == {"orders_clean",
                                                                    "per_customer"}
    assert set(built(small_project, "--downstream", "orders")) == {"orders_clean", "customers",
                                                                   "per_customer"}
    assert set(built(small_project, "--force", "orders_clean+")) == {"orders_clean",
                                                                     "per_customer"}
    assert built(small_project, "--force", "tag:raw") == {}
    r = run_weir("build", "orders_clen", cwd=small_project)
    assert r.code == 2 and "did you mean 'orders_clean'?" in r.err
    assert built(small_project, "--stale") == {}


FAILING = {
    **SMALL,
    "recipes/more.py": '''
        from weir import recipe

        def divide(df):
            return df.amount / 0 if False else df["no_such_column"]

        @recipe
        def broken(orders_clean):
            return divide(orders_clean).to_frame()

        @recipe
        def after_broken(broken):
            return broken

        @recipe
        def independent(orders):
            print("hello from the recipe")
            return orders
        ''',
}


def test_failing_recipe_shows_user_traceback_and_skips_downstream(make_project) -> None:
    root = make_project(FAILING, name="failing")
    r = run_weir("build", "--all", cwd=root)
    assert r.code == 1
    assert 'File "recipes/more.py", line 4, in divide' in r.out
    assert 'File "recipes/more.py", line 8, in broken' in r.out
    assert "KeyError: 'no_such_column'" in r.out
    assert "site-packages" not in r.out and "weir/build" not in r.out
    assert "log: .weir/logs/broken/" in r.out
    assert "skipped: upstream broken did not build" in r.out
    st = statuses(root)
    assert st["broken"][0] == "failed"
    assert st["after_broken"][0] == "never built"
    assert st["independent"][0] == "up to date" and st["per_customer"][0] == "up to date"
    logs = run_weir("logs", "broken", cwd=root)
    assert logs.code == 0 and "KeyError" in logs.out
    logs = run_weir("logs", "independent", cwd=root)
    assert "hello from the recipe" in logs.out
    r = run_weir("logs", "orders", cwd=root)
    assert r.code == 2 and "is a source" in r.err


def test_sys_exit_in_a_recipe_fails_it_in_its_log_and_the_worker_lives_on(make_project) -> None:
    root = make_project({**SMALL, "recipes/quits.py": '''
        import os
        import sys
        from weir import recipe

        @recipe
        def first(orders):
            print("pid", os.getpid())
            return orders

        @recipe
        def quitter(orders):
            print("pid", os.getpid())
            print("bye")
            sys.exit("giving up")

        @recipe
        def later(first):
            print("pid", os.getpid())
            return first
        '''}, name="quits")
    r = run_weir("build", "first", "quitter", "later", "--jobs", "1", cwd=root)
    assert r.code == 1, r.text
    assert "giving up" not in r.err and "died" not in r.text
    assert "recipes/quits.py:14: recipe 'quitter' called sys.exit('giving up')" in r.out
    assert 'File "recipes/quits.py", line 14, in quitter' in r.out
    log = run_weir("logs", "quitter", cwd=root).out
    assert "bye" in log and "called sys.exit('giving up')" in log and "SystemExit" in log
    # One worker ran all three: the one that ran `quitter` went on to the next job.
    pids = {line for name in ("first", "quitter", "later")
            for line in run_weir("logs", name, cwd=root).out.splitlines()
            if line.startswith("pid ")}
    assert len(pids) == 1, pids
    assert statuses(root)["later"][0] == "up to date"


def test_failed_build_keeps_previous_output(make_project) -> None:
    root = make_project(SMALL, name="keep")
    built(root, "--all")
    before = (root / "data/small/orders_clean.parquet").read_bytes()
    clean = root / "recipes/clean.py"
    clean.write_text(clean.read_text().replace("return keep_big(orders)",
                                               "raise ValueError('bad day')"))
    r = run_weir("build", "orders_clean", cwd=root)
    assert r.code == 1 and "ValueError: bad day" in r.out
    assert (root / "data/small/orders_clean.parquet").read_bytes() == before
    assert not [p for p in (root / "data/small").iterdir() if ".weir-tmp-" in p.name]
    assert statuses(root)["orders_clean"][0] == "failed"


def test_fail_fast_stops_at_first_failure(make_project, gates) -> None:
    """The first failure stops the job still running — `slow`, which waits at a gate the test
    never opens, so only --fail-fast can end the build — and starts no more."""
    failing_later = FAILING["recipes/more.py"].replace(
        "return divide(orders_clean).to_frame()",
        "open('failing').read()  # fails once the test opens this gate\n"
        "            return divide(orders_clean).to_frame()")
    root = make_project({**FAILING, "recipes/more.py": failing_later, "recipes/slow.py": '''
        from weir import recipe

        @recipe
        def slow(orders):
            open("gate").read()
            return orders
        '''}, name="ff")
    slow, failing = gates(root / "gate"), gates(root / "failing")
    proc = subprocess.Popen([sys.executable, "-m", "weir", "build", "--all", "--fail-fast",
                             "--jobs", "2", "--json"], cwd=root, env=weir_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    slow.reached()  # `slow` runs
    failing.open()  # then `broken` fails
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, out + err
    data = {d["name"]: d["status"] for d in json.loads(out)["datasets"]}
    assert data["broken"] == "failed" and data["slow"] == "interrupted", data
    assert data["after_broken"] == "skipped", data


def test_a_recipe_is_run_again_until_it_succeeds_or_its_retries_run_out(make_project) -> None:
    root = make_project({**SMALL, "recipes/flaky.py": '''
        from pathlib import Path
        from weir import recipe

        TRIES = Path(__file__).resolve().parent.parent / "tries"


        def attempt(name):
            TRIES.mkdir(exist_ok=True)
            n = len(list(TRIES.glob(f"{name}-*")))
            (TRIES / f"{name}-{n + 1}").touch()
            return n + 1


        @recipe(retries=2)
        def flaky(orders):
            n = attempt("flaky")
            if n < 3:
                raise RuntimeError(f"attempt {n} fails")
            return orders


        @recipe(retries=1)
        def hopeless(orders):
            attempt("hopeless")
            raise RuntimeError("never works")


        @recipe
        def after_hopeless(hopeless):
            return hopeless
        '''}, name="retries")
    r = run_weir("build", "flaky", "after_hopeless", "--jobs", "1", cwd=root)
    assert r.code == 1, r.text
    assert sorted(p.name for p in (root / "tries").iterdir()) == [
        "flaky-1", "flaky-2", "flaky-3", "hopeless-1", "hopeless-2"]
    assert "RuntimeError: never works" in r.out and "attempt 1 fails" not in r.out
    assert "skipped: upstream hopeless did not build" in r.out
    st = statuses(root)
    assert (st["flaky"][0], st["hopeless"][0], st["after_hopeless"][0]) == (
        "up to date", "failed", "never built")
    assert not [p for p in (root / "data/small").iterdir() if ".weir-tmp-" in p.name]


def test_interfaces_formats_and_multiple_outputs(make_project) -> None:
    root = make_project({
        **SMALL,
        "datasets/as_json.yaml": "format: jsonl\n",
        "datasets/as_csv.yaml": "format: csv\n",
        "recipes/kinds.py": '''
            import duckdb
            import pandas as pd
            import polars as pl
            import pyarrow as pa
            import pyarrow.compute as pc
            from weir import recipe, var

            @recipe
            def with_arrow(orders: pa.Table) -> pa.Table:
                return orders.filter(pc.greater(orders["amount"], 2))

            @recipe
            def with_polars(orders: pl.DataFrame) -> pl.DataFrame:
                return orders.filter(pl.col("amount") > 2)

            @recipe
            def with_duckdb(orders: duckdb.DuckDBPyRelation):
                return orders.filter("amount > 2")

            @recipe(outputs=["as_json", "as_csv"])
            def both(with_arrow: pd.DataFrame, with_polars, with_duckdb):
                assert len(with_arrow) == len(with_polars) == len(with_duckdb) == 3
                return {"as_json": with_arrow, "as_csv": with_polars.assign(label=var("label"))}
            '''}, name="kinds")
    r = run_weir("build", "as_json", cwd=root)
    assert r.code == 0, r.text
    lines = (root / "data/small/as_json.jsonl").read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[0])["customer"] == "b"
    csv = (root / "data/small/as_csv.csv").read_text()
    assert csv.splitlines()[0] == '"id","customer","amount","label"' and "shop" in csv
    r = run_weir("show", "as_csv", cwd=root)
    assert "schema (observed)" in r.out and "label" in r.out and "string" in r.out
    head = git(root, "rev-parse", "HEAD").strip()
    assert f"built       3 rows  at {head[:10]}" in r.out  # the commit the build ran at


def test_wrong_return_value_is_a_clear_failure(make_project) -> None:
    root = make_project({**SMALL, "recipes/bad.py": '''
        from weir import recipe

        @recipe(outputs=["x", "y"])
        def pair(orders):
            return orders
        '''}, name="ret")
    r = run_weir("build", "x", cwd=root)
    assert r.code == 1
    assert "recipe 'pair' must return a dict with keys x, y" in r.out


def test_declared_schema_is_a_contract(make_project) -> None:
    root = make_project({**SMALL, "datasets/customers.yaml": '''
        schema:
          - {name: customer, type: int64}
          - {name: email, type: string}
        '''}, name="contract")
    r = run_weir("build", "customers", cwd=root)
    assert r.code == 1
    assert "does not match its declared schema (datasets/customers.yaml)" in r.out
    assert "~ customer: declared int64, got string" in r.out
    assert "- email: declared string, missing from the output" in r.out
    assert not (root / "data/small/customers.parquet").exists()


def test_clean_intermediate_and_named(small_project: Path) -> None:
    built(small_project, "--all")
    r = run_weir("clean", "--intermediate", cwd=small_project)
    assert r.code == 0 and "orders_clean" in r.out
    assert not (small_project / "data/small/orders_clean.parquet").exists()
    assert (small_project / "data/small/per_customer.parquet").exists()  # final output
    assert (small_project / "landing/orders.csv").exists()  # a source
    # The final output is still up to date: nothing is rebuilt for nothing.
    assert built(small_project, "per_customer") == {}
    assert statuses(small_project)["orders_clean"] == ("stale", ["data missing"])
    r = run_weir("clean", "orders", cwd=small_project)
    assert r.code == 2 and "never deletes source data" in r.err
    r = run_weir("clean", "customers", cwd=small_project)
    assert r.code == 0 and not (small_project / "data/small/customers.parquet").exists()


def test_reverting_an_edit_and_switching_branches_restore(small_project: Path) -> None:
    built(small_project, "--all")
    sql = small_project / "recipes/per_customer.sql"
    original = sql.read_text()
    git(small_project, "checkout", "-qb", "experiment")
    sql.write_text(original.replace("sum(amount)", "avg(amount)"))
    git(small_project, "commit", "-qam", "average instead")
    assert built(small_project, "--all") == {"per_customer": "built"}
    git(small_project, "checkout", "-q", "main")
    r = run_weir("build", "--all", cwd=small_project)
    assert r.code == 0 and "restored" in r.out
    assert json.loads(run_weir("build", "--all", "--json", cwd=small_project).out)[
        "datasets"] == []
    rows = pq.read_table(small_project / "data/small/per_customer.parquet").to_pylist()
    assert rows[0]["revenue"] == 10.0  # the sum, restored — not the average
    # Its log is the one of the run that made the restored data, not of the average's run.
    first_run = sorted((small_project / ".weir/logs/per_customer").iterdir())
    logs = run_weir("logs", "per_customer", "--path", cwd=small_project).out.strip()
    assert Path(logs).name == min(first_run, key=lambda p: p.stat().st_mtime).name
    assert "(restored)" in run_weir("logs", "per_customer", cwd=small_project).err
    git(small_project, "checkout", "-q", "experiment")
    assert built(small_project, "--all") == {"per_customer": "restored"}


def test_kept_outputs_go_least_recently_used_first(small_project: Path) -> None:
    sql = small_project / "recipes/per_customer.sql"
    original = sql.read_text()

    def use(aggregate: str) -> str:
        sql.write_text(original.replace("sum(amount)", f"{aggregate}(amount)"))
        return built(small_project, "per_customer")["per_customer"]

    assert built(small_project, "--all")["per_customer"] == "built"  # sum: kept
    assert use("avg") == "built"
    assert use("sum") == "restored"  # sum is used again: the most recently used now
    assert use("max") == "built"  # three kept: sum, avg, max
    assert use("min") == "built"  # one must go: avg, used longest ago — not sum, made first
    kept = small_project / ".weir/cache/outputs/per_customer"
    assert len(list(kept.iterdir())) == 3
    assert use("sum") == "restored"
    assert use("max") == "restored" and use("min") == "restored"
    assert use("avg") == "built"  # it was the one evicted


def test_project_found_from_subdirectory_and_with_project_flag(small_project: Path,
                                                               tmp_path: Path) -> None:
    r = run_weir("status", cwd=small_project / "recipes")
    assert r.code == 0 and "orders_clean" in r.out
    r = run_weir("--project", str(small_project), "flow", cwd=tmp_path)
    assert r.code == 0 and "per_customer" in r.out
    r = run_weir("status", cwd=tmp_path)
    assert r.code == 2 and "no weir project at or above" in r.err


def test_flow_formats(small_project: Path) -> None:
    tree = run_weir("flow", cwd=small_project).out
    assert tree.splitlines()[0].startswith("orders  source · landing:orders.csv")
    assert "└── per_customer" in tree
    dot = run_weir("flow", "--format", "dot", cwd=small_project).out
    assert '"orders_clean" -> "per_customer";' in dot
    mermaid = run_weir("flow", "--format", "mermaid", cwd=small_project).out
    assert "orders_clean --> per_customer" in mermaid
    data = json.loads(run_weir("flow", "--format", "json", cwd=small_project).out)
    assert {"from": "orders", "to": "customers"} in data["edges"]


SLOW_WRITER = '''
from weir import recipe

@recipe
def orders_clean(orders):
    open("gate").read()  # until the test lets it through: it never does
    return orders
'''


@pytest.mark.parametrize("how", ["sigint", "sigkill"])
def test_interrupted_build_keeps_previous_output(make_project, gates, how: str) -> None:
    root = make_project(SMALL, name=f"int_{how}")
    gate = gates(root / "gate")
    built(root, "--all")
    target = root / "data/small/orders_clean.parquet"
    before = target.read_bytes()
    (root / "recipes/clean.py").write_text(SLOW_WRITER)
    proc = subprocess.Popen([sys.executable, "-m", "weir", "build", "orders_clean"], cwd=root,
                            env=weir_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    gate.reached()  # the recipe runs
    if how == "sigint":  # Ctrl-C goes to the whole foreground process group
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, out + err
        assert "interrupted" in out + err and "Traceback" not in out + err
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
    assert target.read_bytes() == before
    r = run_weir("status", "--json", cwd=root)
    st = {d["name"]: d["status"] for d in json.loads(r.out)["datasets"]}
    assert st["orders_clean"] == "stale"
    # The next build cleans temporary files a killed build left behind.
    (root / "recipes/clean.py").write_text(SMALL["recipes/clean.py"].replace("        ", ""))
    r = run_weir("build", "orders_clean", cwd=root)
    assert r.code == 0, r.text
    assert not [p for p in target.parent.iterdir() if ".weir-tmp-" in p.name]


STAGING_THEN_HANGING = '''
from weir import recipe

@recipe
def orders_clean(orders):
    yield orders  # the first batch goes into the temporary file at once
    open("gate").read()  # until the test lets it through: it never does
    yield orders
'''


def test_kill_9_of_a_build_leaves_no_process_and_no_temporary_file(make_project,
                                                                    gates) -> None:
    """Whatever kills the build's process, its workers (and the forkserver and resource
    tracker behind them) die with it, instead of writing on into a temporary file."""
    root = make_project(SMALL, name="kill9")
    (root / "recipes/clean.py").write_text(STAGING_THEN_HANGING)
    gate = gates(root / "gate")
    data = root / "data/small"

    def temps() -> list[str]:
        return [p.name for p in data.iterdir() if ".weir-tmp-" in p.name] if data.exists() \
            else []

    proc = subprocess.Popen([sys.executable, "-m", "weir", "build", "orders_clean"], cwd=root,
                            env=weir_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    gate.reached()  # after staging its first batch
    assert temps()  # the worker is writing its temporary file
    left = session_processes(proc.pid)
    assert len(left) >= 4, left  # the build, its resource tracker, forkserver and worker
    proc.kill()
    gone = wait_until_gone(left, within=1.0)
    proc.wait()
    print(f"workers gone {gone * 1000:.0f} ms after kill -9 of the build")
    staged = temps()
    (root / "recipes/clean.py").write_text(SMALL["recipes/clean.py"].replace("        ", ""))
    r = run_weir("build", "orders_clean", cwd=root)
    assert r.code == 0, r.text
    assert staged and not temps()  # what it left staged, the next build removed
    shown = json.loads(run_weir("show", "orders_clean", "--json", cwd=root).out)
    assert [h["status"] for h in shown["builds"]] == ["built", "interrupted"]


def test_live_progress_in_a_terminal(small_project: Path) -> None:
    """In a real pseudo-terminal the rich live view runs and ends with the summary."""
    import pty

    master, slave = pty.openpty()
    env = {k: v for k, v in weir_env().items() if k != "NO_COLOR"}
    env["TERM"] = "xterm-256color"
    proc = subprocess.Popen([sys.executable, "-m", "weir", "build", "--all"], cwd=small_project,
                            env=env, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    screen = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0, screen
    assert "\x1b[" in screen  # styled for a terminal
    assert "3 built" in screen and "per_customer" in screen


def test_schema_write_makes_the_observed_schema_a_contract(small_project: Path) -> None:
    r = run_weir("schema", "per_customer", cwd=small_project)
    assert r.code == 2 and "no observed schema yet" in r.err
    r = run_weir("schema", "orders", cwd=small_project)  # a source: read from its data
    assert r.code == 0 and "  - {name: amount, type: double}" in r.out, r.text
    built(small_project, "--all")
    r = run_weir("schema", "per_customer", cwd=small_project)
    assert r.out.splitlines() == ["schema:", "  - {name: customer, type: string}",
                                  "  - {name: revenue, type: double}"]
    write_files(small_project, {"datasets/per_customer.yaml": "# revenue per customer\n"
                                "tags: [report]\nschema:\n  - {name: old, type: int64}\n"
                                "keep: true\n"})
    r = run_weir("schema", "per_customer", "--write", cwd=small_project)
    assert r.code == 0
    text = (small_project / "datasets/per_customer.yaml").read_text()
    assert text == ("# revenue per customer\ntags: [report]\nschema:\n"
                    "  - {name: customer, type: string}\n  - {name: revenue, type: double}\n"
                    "keep: true\n")
    # The contract holds, then catches a change of the query's output.
    assert built(small_project, "per_customer") == {"per_customer": "built"}  # definition
    sql = small_project / "recipes/per_customer.sql"
    sql.write_text(sql.read_text().replace("sum(amount) AS revenue", "count(*) AS revenue"))
    r = run_weir("build", "per_customer", cwd=small_project)
    assert r.code == 1 and "~ revenue: declared double, got int64" in r.out


def test_connection_limit_caps_concurrent_jobs(make_project, gates) -> None:
    """Three jobs on a connection that takes one at a time, and three workers. Each job waits
    at a gate; the test lets the running one through only once it is the only one started and
    the one before it ended, so a second job started alongside it would be seen: in the
    journal the jobs keep, and in the times they record."""
    recipes = "\n".join(f'''
@recipe
def slow{i}(orders):
    start = time.time()
    journal("start slow{i}")
    open("gate").read()
    journal("end slow{i}")
    return pd.DataFrame({{"start": [start], "end": [time.time()]}})
''' for i in range(3))
    root = make_project({**SMALL, "connections.yaml": """
        connections:
          landing:
            type: filesystem
            root: landing
          narrow:
            type: filesystem
            root: narrow
            max_concurrent_jobs: 1
        """, **{f"datasets/slow{i}.yaml": "connection: narrow\n" for i in range(3)},
        "recipes/slow.py": "import time\nimport pandas as pd\nfrom weir import recipe\n\n\n"
                           "def journal(line):\n    with open('journal.txt', 'a') as f:\n"
                           "        f.write(line + '\\n')\n" + recipes}, name="limits")
    gate = gates(root / "gate")
    journal = root / "journal.txt"

    def lines() -> list[str]:
        return journal.read_text().splitlines() if journal.exists() else []

    def running() -> set[str]:
        started = {line.split()[1] for line in lines() if line.startswith("start ")}
        return started - {line.split()[1] for line in lines() if line.startswith("end ")}

    proc = subprocess.Popen([sys.executable, "-m", "weir", "build", "slow0", "slow1", "slow2",
                             "--jobs", "3"], cwd=root, env=weir_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    through: set[str] = set()  # the jobs let through the gate

    def next_started() -> bool:
        """Those let through ended and another job started (or the build is over)."""
        now = running()
        return bool(now and not now & through) or proc.poll() is not None

    for _ in range(3):
        wait_until(next_started, what="the next job to start")
        now = running()
        assert len(now) == 1, lines()  # never two at once
        through |= now
        gate.open()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, out + err
    assert [line.split()[0] for line in lines()] == ["start", "end"] * 3, lines()
    spans = sorted(tuple(pq.read_table(root / f"narrow/small/slow{i}.parquet").to_pylist()[0]
                         .values()) for i in range(3))
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert start >= end - 0.01, spans  # never two at once on this connection


def test_reverting_a_failed_edit_is_up_to_date_again(make_project) -> None:
    root = make_project(SMALL, name="revert")
    assert run_weir("build", "per_customer", cwd=root).code == 0
    clean = root / "recipes/clean.py"
    good = clean.read_text()
    clean.write_text(good.replace('"""Orders above the minimum."""',
                                  '"""Orders above the minimum."""\n    raise ValueError("oops")'))
    assert run_weir("build", "orders_clean", cwd=root).code == 1
    assert "orders_clean" in run_weir("status", cwd=root).out.split("failed")[0]
    git(root, "checkout", "--", "recipes/clean.py")
    # The data there was built by exactly this code: up to date, nothing to run.
    status = run_weir("status", "orders_clean", cwd=root).out
    assert "up to date" in status and "failed" not in status
    assert run_weir("build", "per_customer", cwd=root).out.startswith("Nothing to do")
    # Its data cleaned after that: missing, to rebuild — not "failed", which was another code.
    assert run_weir("clean", "orders_clean", cwd=root).code == 0
    status = run_weir("status", "orders_clean", cwd=root).out
    assert "stale" in status and "data missing" in status and "failed" not in status, status


def test_a_sql_recipes_log_is_what_it_did_not_weirs_warnings(small_project) -> None:
    assert run_weir("build", "per_customer", cwd=small_project).code == 0
    log = run_weir("logs", "per_customer", cwd=small_project).out
    assert "sql recipe per_customer" in log and "Warning" not in log, log
