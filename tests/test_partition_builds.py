"""Partitioned builds end to end (issue 18): the CLI as a user types it, over real files, a real
git repository and a real PostgreSQL — one day built, a new day noticed, a recipe edit that
rebuilds only what is asked for, a failed partition beside good ones, a backfill in parallel."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import PG_SECRET, run_weir

from weir.errors import WeirError

DAILY = {
    "weir.yaml": "name: daily\n",
    ".gitignore": ".weir/\ndata/daily/\n",
    "datasets/events.yaml": """
        path: events
        format: parquet
        partitioning:
          day: {column: event_date}
        """,
    "datasets/daily_revenue.yaml": """
        partitioning:
          day: {column: event_date}
        checks:
          - not_null: [total]
        """,
    "datasets/revenue_7d.yaml": """
        partitioning:
          day: {column: event_date}
        inputs:
          daily_revenue: {range: [-6, 0]}
        """,
    "recipes/daily.py": """
        import pandas as pd
        import weir
        from weir import recipe


        @recipe
        def daily_revenue(events: pd.DataFrame) -> pd.DataFrame:
            day = weir.partition()
            return pd.DataFrame({"event_date": [day.date],
                                 "total": [events.amount.sum(min_count=1)],
                                 "n": [len(events)]})
        """,
    "recipes/revenue_7d.sql": """
        SELECT CAST($partition AS DATE) AS event_date, sum(total) AS total, count(*) AS days
        FROM daily_revenue
        """,
}


def day(n: int) -> str:
    return (dt.date(2026, 11, 30) + dt.timedelta(days=n)).isoformat()


def put_events(root: Path, n: int, amounts: list[float | None],
               sub: str = "", name: str = "events") -> None:
    """One day's source file, as a landing job would drop it."""
    folder = root / "data" / name / f"day={day(n)}" / sub
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"amount": pa.array(amounts, pa.float64())}),
                   folder / "part-0.parquet")


def ok(*args: str, cwd: Path) -> Any:
    r = run_weir(*args, "--json", cwd=cwd)
    assert r.code == 0, r.text
    return json.loads(r.out)


def built(report: dict) -> list[tuple[str, str]]:
    return sorted((d["name"], d.get("partition")) for d in report["datasets"]
                  if d["status"] == "built")


def partitions(root: Path, name: str) -> dict[str, str]:
    listed = ok("status", name, "--partitions", cwd=root)["datasets"][0]
    return {p["key"]: p["status"] for p in listed["partition_list"]}


def totals(root: Path, name: str) -> dict[str, float]:
    """What readers see of each partition now, read from the files themselves."""
    got: dict[str, float] = {}
    for file in sorted((root / "data").glob(f"*/{name}/day=*/*.parquet")):  # <project>/<name>
        got[file.parent.name] = sum(pq.read_table(file).column("total").to_pylist())
    return got


@pytest.fixture
def daily(make_project) -> Path:
    root = make_project(DAILY, name="daily")
    for n in range(1, 6):
        put_events(root, n, [float(n), 10.0])
    return root


def test_one_day_a_new_day_and_latest(daily: Path) -> None:
    report = ok("build", "revenue_7d", "--partition", day(3), cwd=daily)
    # day 3 of the rolling week reads days 1..3 (the window starts at the first day there is)
    assert built(report) == [("daily_revenue", f"day={day(n)}") for n in (1, 2, 3)] + [
        ("revenue_7d", f"day={day(3)}")]
    assert totals(daily, "revenue_7d") == {f"day={day(3)}": 1 + 2 + 3 + 30}
    summary = ok("status", cwd=daily)["datasets"]
    assert {d["name"]: d["partitions"] for d in summary} == {
        "events": {"source": 5},
        "daily_revenue": {"up to date": 3, "never built": 2},
        "revenue_7d": {"up to date": 1, "never built": 4}}
    text = run_weir("status", "revenue_7d", cwd=daily).out
    assert "1 up to date, 4 never built" in text

    assert built(ok("build", "revenue_7d", "--partition", day(3), cwd=daily)) == []  # no work

    put_events(daily, 6, [6.0])  # a new day lands: it alone is new
    assert partitions(daily, "daily_revenue")[f"day={day(6)}"] == "never built"
    report = ok("build", "revenue_7d", "--partition", "latest", cwd=daily)
    assert built(report) == [("daily_revenue", f"day={day(n)}") for n in (4, 5, 6)] + [
        ("revenue_7d", f"day={day(6)}")]
    assert totals(daily, "revenue_7d")[f"day={day(6)}"] == 1 + 2 + 3 + 4 + 5 + 6 + 50


def test_a_recipe_edit_makes_every_partition_stale_and_rebuilds_only_those_asked(
        daily: Path) -> None:
    ok("build", "daily_revenue", "--partition", f"{day(1)}..{day(5)}", cwd=daily)
    recipe = daily / "recipes/daily.py"
    recipe.write_text(recipe.read_text().replace('"n": [len(events)]', '"n": [len(events) * 2]'))
    status = ok("status", "daily_revenue", "--partitions", cwd=daily)["datasets"][0]
    assert status["partitions"] == {"stale": 5}
    assert {tuple(p["reasons"]) for p in status["partition_list"]} == {("recipe changed",)}
    report = ok("build", "daily_revenue", "--partition", day(2), cwd=daily)
    assert built(report) == [("daily_revenue", f"day={day(2)}")]
    assert [d["reasons"] for d in report["datasets"]] == [["recipe changed"]]
    assert partitions(daily, "daily_revenue") == {
        f"day={day(n)}": "up to date" if n == 2 else "stale" for n in range(1, 6)}
    assert "1 up to date, 4 stale" in run_weir("status", cwd=daily).out


def test_a_failed_partition_keeps_its_previous_data_and_the_others_are_published(
        daily: Path) -> None:
    ok("build", "daily_revenue", "--partition", f"{day(1)}..{day(3)}", cwd=daily)
    before = totals(daily, "daily_revenue")
    put_events(daily, 2, [None, None])  # day 2's new data fails `not_null: [total]`
    put_events(daily, 3, [7.0])         # day 3's is good
    r = run_weir("build", "daily_revenue", "--partition", f"{day(1)}..{day(3)}", "--json",
                 cwd=daily)
    assert r.code != 0
    outcomes = {d["partition"]: d for d in json.loads(r.out)["datasets"]}
    assert outcomes[f"day={day(2)}"]["status"] == "failed"
    assert "not_null" in outcomes[f"day={day(2)}"]["error"]
    assert outcomes[f"day={day(3)}"]["status"] == "built"
    assert f"day={day(1)}" not in outcomes  # up to date: not run at all
    after = totals(daily, "daily_revenue")
    assert after == {**before, f"day={day(3)}": 7.0}  # day 2 is still what it was
    assert partitions(daily, "daily_revenue") == {
        f"day={day(1)}": "up to date", f"day={day(2)}": "failed", f"day={day(3)}": "up to date",
        f"day={day(4)}": "never built", f"day={day(5)}": "never built"}
    text = run_weir("status", "daily_revenue", "--partitions", cwd=daily).out
    assert "2 up to date, 1 failed, 2 never built" in text
    # the readers of the failed day are not built on what it failed to become
    r = run_weir("build", "revenue_7d", "--partition", day(3), "--json", cwd=daily)
    assert r.code != 0
    states = {(d["name"], d["partition"]): d["status"] for d in json.loads(r.out)["datasets"]}
    assert states[("daily_revenue", f"day={day(2)}")] == "failed"
    assert states[("revenue_7d", f"day={day(3)}")] == "skipped"
    assert not totals(daily, "revenue_7d")


def test_a_backfill_runs_independent_partitions_at_once(daily: Path) -> None:
    """The two days' jobs meet at a FIFO: opening one end blocks until the other end is
    opened, so the build finishes only if two partitions really run at the same time."""
    os.mkfifo(daily / "meet")
    (daily / "recipes/daily.py").write_text(f"""
from pathlib import Path

import pandas as pd
import weir
from weir import recipe

MEET = Path(__file__).resolve().parent.parent / "meet"


@recipe
def daily_revenue(events: pd.DataFrame) -> pd.DataFrame:
    day = weir.partition()
    if day.time == "{day(1)}":
        with open(MEET, "w") as f:  # blocks until day 2's job opens it
            f.write("met")
    else:
        assert open(MEET).read() == "met"  # blocks until day 1's job opens it
    return pd.DataFrame({{"event_date": [day.date], "total": [events.amount.sum()],
                         "n": [len(events)]}})
""")
    r = run_weir("build", "daily_revenue", "--partition", f"{day(1)},{day(2)}", "--jobs", "2",
                 "--json", cwd=daily, timeout=60)  # one at a time would never meet
    assert r.code == 0, r.text
    assert built(json.loads(r.out)) == [("daily_revenue", f"day={day(1)}"),
                                        ("daily_revenue", f"day={day(2)}")]


def test_discrete_values_are_found_in_the_layout(make_project) -> None:
    root = make_project({
        "weir.yaml": "name: shops\n",
        ".gitignore": ".weir/\ndata/shops/\n",
        "datasets/events.yaml": """
            path: events
            format: parquet
            partitioning:
              day: {column: event_date}
              country: {}
            """,
        "datasets/per_country.yaml": """
            partitioning:
              day: {column: event_date}
              country: {}
            """,
        "recipes/per_country.py": """
            import pandas as pd
            import weir
            from weir import recipe


            @recipe
            def per_country(events: pd.DataFrame) -> pd.DataFrame:
                p = weir.partition()
                assert set(events.country) == {p.value}, events
                return pd.DataFrame({"event_date": [p.date], "country": [p.value],
                                     "total": [events.amount.sum()]})
            """,
    }, name="shops")
    for n, country, amounts in ((1, "FR", [1.0, 2.0]), (1, "DE", [5.0]), (2, "FR", [3.0])):
        put_events(root, n, amounts, sub=f"country={country}")
    assert ok("status", "events", "--partitions", cwd=root)["datasets"][0]["partitions"] == {
        "source": 3}
    report = ok("build", "per_country", "--partition", day(1), cwd=root)
    assert built(report) == [("per_country", f"day={day(1)}/country=DE"),
                             ("per_country", f"day={day(1)}/country=FR")]
    report = ok("build", "per_country", "--partition", "FR", cwd=root)
    assert built(report) == [("per_country", f"day={day(2)}/country=FR")]
    r = run_weir("build", "per_country", "--partition", "IT", cwd=root)
    assert r.code != 0 and "no partition has country 'IT' yet" in r.err, r.text
    got = {f.parent.parent.name + "/" + f.parent.name: pq.read_table(f).column("total")
           .to_pylist() for f in (root / "data/shops/per_country").glob("*/*/*.parquet")}
    assert got == {f"day={day(1)}/country=FR": [3.0], f"day={day(1)}/country=DE": [5.0],
                   f"day={day(2)}/country=FR": [3.0]}


def test_a_postgres_table_is_partitioned_by_a_column(make_project, postgres,
                                                     monkeypatch) -> None:
    import psycopg

    postgres.create_database("parts")
    monkeypatch.setenv("PG_PASSWORD", PG_SECRET)
    files = {**DAILY, "connections.yaml": f"""
        connections:
          warehouse:
            type: postgresql
            host: {postgres.host}
            port: {postgres.port}
            database: parts
            user: {postgres.user}
            password: ${{env:PG_PASSWORD}}
        """,
             "datasets/daily_revenue.yaml": DAILY["datasets/daily_revenue.yaml"]
             + "connection: warehouse\n",
             "datasets/revenue_7d.yaml": DAILY["datasets/revenue_7d.yaml"]
             + "connection: warehouse\n",
             # both sides in PostgreSQL: the query runs there, on whole tables, so it filters
             "recipes/revenue_7d.sql": """
                SELECT CAST($partition AS DATE) AS event_date, sum(total) AS total,
                       count(*) AS days
                FROM daily_revenue
                WHERE event_date BETWEEN CAST($partition AS DATE) - 6 AND CAST($partition AS DATE)
                """}
    root = make_project(files, name="pgparts")
    for n in range(1, 4):
        put_events(root, n, [float(n)])
    report = ok("build", "revenue_7d", "--partition", f"{day(2)}..{day(3)}", cwd=root)
    assert built(report) == [("daily_revenue", f"day={day(n)}") for n in (1, 2, 3)] + [
        ("revenue_7d", f"day={day(n)}") for n in (2, 3)]
    put_events(root, 2, [20.0])  # day 2 changes: its row is replaced, the others stay
    report = ok("build", "revenue_7d", "--partition", day(3), cwd=root)
    assert built(report) == [("daily_revenue", f"day={day(2)}"), ("revenue_7d", f"day={day(3)}")]
    with psycopg.connect(host=postgres.host, port=postgres.port, user=postgres.user,
                         password=postgres.password, dbname="parts") as con:
        daily_rows = con.execute("SELECT event_date, total FROM daily_revenue ORDER BY 1"
                                 ).fetchall()
        week = con.execute("SELECT event_date, total, days FROM revenue_7d ORDER BY 1").fetchall()
    assert [(d.isoformat(), t) for d, t in daily_rows] == [(day(1), 1.0), (day(2), 20.0),
                                                           (day(3), 3.0)]
    assert [(d.isoformat(), t, n) for d, t, n in week] == [(day(2), 3.0, 2), (day(3), 24.0, 3)]
    assert ok("status", "revenue_7d", cwd=root)["datasets"][0]["partitions"] == {
        "up to date": 1, "stale": 1, "never built": 1}


def test_clean_drops_partitions_and_the_dataset_api_reads_them(daily: Path) -> None:
    import weir

    ok("build", "daily_revenue", "--partition", f"{day(1)}..{day(3)}", cwd=daily)
    ds = weir.Dataset("daily_revenue", project=daily)
    assert ds.partitions() == [f"day={day(n)}" for n in (1, 2, 3)]
    assert ds.to_pandas(partition=day(2))["total"].tolist() == [12.0]
    assert sorted(ds.to_pandas()["total"].tolist()) == [11.0, 12.0, 13.0]
    r = run_weir("clean", "daily_revenue", "--partition", day(2), cwd=daily)
    assert r.code == 0, r.text
    assert ds.partitions() == [f"day={day(1)}", f"day={day(3)}"]
    assert partitions(daily, "daily_revenue")[f"day={day(2)}"] == "never built"
    with pytest.raises(WeirError, match=f"day={day(2)}"):
        ds.to_pandas(partition=day(2))


@pytest.mark.parametrize(("args", "said"), [
    (("build", "daily_revenue", "--partition", "2026-13-01"), "is not a day that exists"),
    (("build", "daily_revenue", "--partition", f"{day(3)}..{day(1)}"), "ends before it starts"),
    (("build", "daily_revenue", "--partition", day(9)),
     f"source 'events' has no partition day={day(9)}"),
    (("clean", "daily_revenue", "--partition", "nope"), "'nope' is not a day"),
])
def test_a_bad_request_is_one_clear_message_and_changes_nothing(daily: Path, args: tuple,
                                                                said: str) -> None:
    ok("build", "daily_revenue", "--partition", day(1), cwd=daily)
    before = totals(daily, "daily_revenue")
    r = run_weir(*args, cwd=daily)
    assert r.code != 0
    assert said in r.err and "hint:" in r.err and "Traceback" not in r.text
    assert totals(daily, "daily_revenue") == before


def test_a_mistake_in_partitioning_is_said_at_its_line(daily: Path) -> None:
    (daily / "datasets/revenue_7d.yaml").write_text(
        "partitioning:\n  day: {column: event_date}\ninputs:\n  daily_revenue: {range: [0, -6]}\n")
    r = run_weir("build", "revenue_7d", "--partition", day(1), cwd=daily)
    assert r.code != 0
    assert "datasets/revenue_7d.yaml:4" in r.text and "Traceback" not in r.text


def flat_build_error(make_project, signature: str, body: str) -> str:
    """The error of building an unpartitioned output whose recipe is ``signature`` and
    ``body``."""
    root = make_project({
        "weir.yaml": "name: plain\n",
        "datasets/raw.yaml": "path: raw.csv\nformat: csv\n",
        "recipes/flat.py": "import pandas as pd\nimport weir\nfrom weir import recipe\n\n\n"
                           f"@recipe\ndef flat({signature}) -> pd.DataFrame:\n{body}"
                           "    return raw\n",
    }, name="plain")
    (root / "data").mkdir(exist_ok=True)
    (root / "data/raw.csv").write_text("a\n1\n")
    r = run_weir("build", "flat", "--json", cwd=root)
    assert r.code != 0
    return json.loads(r.out)["datasets"][0]["error"]


def test_weir_partition_outside_a_partitioned_build_is_a_clear_error(make_project) -> None:
    error = flat_build_error(make_project, "raw: pd.DataFrame", "    weir.partition()\n")
    assert "weir.partition(): this job builds no partition" in error
    assert "recipes/flat.py:8" in error


def test_a_status_that_remembers_says_what_one_computed_afresh_says(daily: Path) -> None:
    """A status computes again only the datasets whose records, inputs or definition changed
    (over a long history the rest is remembered): after each change, what it says is what a
    status with nothing remembered says."""
    import sqlite3

    def everything() -> list[dict]:
        return [ok("status", name, "--partitions", "--no-daemon", cwd=daily)["datasets"][0]
                for name in ("events", "daily_revenue", "revenue_7d")]

    def afresh() -> list[dict]:
        with sqlite3.connect(daily / ".weir/state.db") as db:
            remembered = db.execute("SELECT count(*) FROM partition_memo").fetchone()[0]
            db.execute("DELETE FROM partition_memo")
        assert remembered == 2  # both partitioned recipe outputs were remembered
        return everything()

    recipe = daily / "recipes/daily.py"
    steps = [
        lambda: ok("build", "revenue_7d", "--partition", day(2), cwd=daily),
        lambda: put_events(daily, 6, [6.0]),
        lambda: put_events(daily, 1, [None]),  # changes day 1, whose build then fails
        lambda: run_weir("build", "daily_revenue", "--partition", f"{day(1)}..{day(3)}",
                         cwd=daily),
        lambda: recipe.write_text(recipe.read_text().replace("* 2]", "* 3]")
                                  .replace('"n": [len(events)]', '"n": [len(events) + 1]')),
        lambda: run_weir("build", "revenue_7d", "--partition", "latest", cwd=daily),
        lambda: put_events(daily, 1, [1.0]),
        lambda: ok("build", "revenue_7d", "--partition", "latest", cwd=daily),
        lambda: run_weir("clean", "daily_revenue", "--partition", day(4), cwd=daily),
    ]
    said = []
    for step in steps:
        step()
        remembered = everything()
        everything()  # asked again: now all of it remembered
        assert afresh() == remembered
        said.append([d["partitions"] for d in remembered])
    assert len({str(s) for s in said}) > 4  # the steps did change what it says


def test_through_the_daemon_partitions_build_side_by_side_and_are_counted(
        daily: Path, gates) -> None:
    """A daemon build of two days: the dataset is `building` until its last partition ends
    (not its first), and the API's status counts what was built."""
    from test_daemon import Events

    from weir.client import DaemonClient
    from weir.wire import BuildState

    recipe = daily / "recipes/daily.py"
    recipe.write_text(recipe.read_text().replace(
        "    day = weir.partition()\n",
        f"    day = weir.partition()\n    if day.time == '{day(2)}':\n"
        "        open('gate').read()  # the test lets it through\n"))
    gate = gates(daily / "gate")
    assert run_weir("daemon", "start", cwd=daily).code == 0
    try:
        events = Events(daily)
        client = DaemonClient.for_project(daily)
        build = client.start_build(["daily_revenue"], partitions=f"{day(1)},{day(2)}", jobs=2)
        said = events.next("log", lambda e: e.get("partition") == f"day={day(1)}", timeout=60)
        assert said["recipe"].endswith(":daily_revenue")  # its own lines, told apart by day
        finished = events.next("job", lambda e: e["event"] == "finish", timeout=60)
        assert finished["partition"] == f"day={day(1)}" and finished["status"] == "built"
        gate.reached()
        node = {n.name: n for n in client.flow().nodes}["daily_revenue"]
        assert node.building  # day 2 still runs
        gate.open()
        assert client.wait(build.id).state is BuildState.SUCCEEDED
        assert not {n.name: n for n in client.flow().nodes}["daily_revenue"].building
        counts = wait_for_counts(client, "daily_revenue", {"up to date": 2, "never built": 3})
        assert counts == {"up to date": 2, "never built": 3}
        events.close()
    finally:
        gate.close()  # a failed assertion leaves no recipe waiting for the daemon to stop
        run_weir("daemon", "stop", cwd=daily)


def wait_for_counts(client: Any, name: str, want: dict[str, int]) -> dict[str, int]:
    """The daemon's counts once they are ``want`` (its status follows the build's commits)."""
    from conftest import wait_until

    def now() -> dict[str, int] | None:
        got = {d.name: d for d in client.statuses().datasets}[name].partitions
        return got if got == want else None

    return wait_until(now, 30, f"{name}'s partitions to be {want}")


def test_an_unpartitioned_output_reads_every_partition_and_goes_stale_with_a_new_one(
        daily: Path) -> None:
    (daily / "recipes/overall.sql").write_text(
        "SELECT count(*) AS days, sum(total) AS total FROM daily_revenue\n")
    report = ok("build", "overall", cwd=daily)
    assert built(report) == [("daily_revenue", f"day={day(n)}") for n in range(1, 6)] + [
        ("overall", None)]
    assert pq.read_table(daily / "data/daily/overall.parquet").to_pylist() == [
        {"days": 5, "total": 1 + 2 + 3 + 4 + 5 + 50.0}]
    put_events(daily, 6, [6.0])
    status = {d["name"]: d for d in ok("status", cwd=daily)["datasets"]}["overall"]
    assert status["status"] == "stale" and status["reasons"] == [
        "input daily_revenue is out of date"], status
    assert built(ok("build", "overall", cwd=daily)) == [("daily_revenue", f"day={day(6)}"),
                                                        ("overall", None)]
    assert pq.read_table(daily / "data/daily/overall.parquet").column("days").to_pylist() == [6]


def test_a_recipe_may_take_its_partition_as_a_parameter(daily: Path, make_project) -> None:
    (daily / "recipes/daily.py").write_text('''
import pandas as pd
import weir
from weir import recipe


@recipe
def daily_revenue(events: pd.DataFrame, day: weir.Partition) -> pd.DataFrame:
    return pd.DataFrame({"event_date": [day.date], "total": [events.amount.sum()],
                         "n": [len(events)]})
''')
    r = run_weir("flow", "--format", "json", cwd=daily)
    flow = json.loads(r.out)  # the parameter is no input
    assert {(e["from"], e["to"]) for e in flow["edges"]} == {("events", "daily_revenue"),
                                                             ("daily_revenue", "revenue_7d")}
    assert built(ok("build", "daily_revenue", "--partition", day(2), cwd=daily)) == [
        ("daily_revenue", f"day={day(2)}")]
    assert totals(daily, "daily_revenue") == {f"day={day(2)}": 12.0}

    twice = daily / "recipes/daily.py"
    twice.write_text(twice.read_text().replace("day: weir.Partition)",
                                               "day: weir.Partition, again: weir.Partition)"))
    r = run_weir("build", "daily_revenue", "--partition", day(2), cwd=daily)
    assert r.code == 2 and "recipes/daily.py:" in r.err and "takes the partition twice" in r.err

    error = flat_build_error(make_project, "raw: pd.DataFrame, day: weir.Partition", "")
    assert "recipes/flat.py:7: parameter 'day' takes the partition being built, but flat is " \
        "not partitioned" in error


@pytest.mark.parametrize("command", ["build", "plan", "clean"])
@pytest.mark.parametrize("spec", ["", ",", " , "])
def test_a_partition_spec_that_names_nothing_is_refused_not_taken_for_all(
        daily: Path, command: str, spec: str) -> None:
    """A script's unset `$DAY` must not clean (or rebuild) the whole dataset."""
    ok("build", "daily_revenue", "--partition", day(1), cwd=daily)
    before = totals(daily, "daily_revenue")
    r = run_weir(command, "daily_revenue", "--partition", spec, cwd=daily)
    assert r.code == 2 and "names no partition" in r.err and "Traceback" not in r.text
    assert totals(daily, "daily_revenue") == before


def test_a_row_without_its_partition_time_is_refused(daily: Path) -> None:
    recipe = daily / "recipes/daily.py"
    recipe.write_text(recipe.read_text().replace('"event_date": [day.date]',
                                                 '"event_date": pd.Series([None], dtype="object")'))
    r = run_weir("build", "daily_revenue", "--partition", day(1), "--json", cwd=daily)
    assert r.code == 1
    assert "holds a row whose event_date is null" in json.loads(r.out)["datasets"][0]["error"]
    assert not totals(daily, "daily_revenue")


def test_a_failure_of_an_edit_since_reverted_does_not_count(daily: Path) -> None:
    ok("build", "daily_revenue", "--partition", f"{day(1)}..{day(2)}", cwd=daily)
    recipe = daily / "recipes/daily.py"
    good = recipe.read_text()
    recipe.write_text(good.replace("    day = weir.partition()\n", "    day = weir.partition()\n"
                                   f"    assert day.time != '{day(2)}', 'bad day'\n"))
    assert run_weir("build", "daily_revenue", "--partition", day(2), cwd=daily).code == 1
    assert partitions(daily, "daily_revenue")[f"day={day(2)}"] == "failed"
    recipe.write_text(good)  # reverted: day 2 is what it was, up to date
    assert partitions(daily, "daily_revenue")[f"day={day(2)}"] == "up to date"
    recipe.write_text(good.replace('"n": [len(events)]', '"n": [len(events) + 0]'))  # another
    listed = ok("status", "daily_revenue", "--partitions", cwd=daily)["datasets"][0]
    states = {p["key"]: (p["status"], p["reasons"]) for p in listed["partition_list"]}
    assert states[f"day={day(2)}"] == ("stale", ["recipe changed"])  # not the old failure
    assert states[f"day={day(1)}"] == ("stale", ["recipe changed"])
