"""Data-quality checks (issue 13, first part): declared in a dataset's YAML, read with every
mistake said at its line, run by the worker on the staged output, and an output failing an
`error` check never published — the previous version stays live, what reads it is not built."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import SMALL, run_weir, write_files
from weir.build.audit import run_checks
from weir.model.checks import CheckKind, parse_checks
from weir.model.project import ColumnSpec
from weir.model.yamlfile import parse_yaml

ORDERS = pa.table({"id": [1, 2, 3, 3], "customer": ["a", "b", None, "a"],
                   "amount": [1.5, 3.0, -10.0, 7.25],
                   "status": ["placed", "shipped", "lost", "placed"],
                   "day": [dt.date(2026, 11, 28), dt.date(2026, 11, 29), dt.date(2026, 11, 30),
                           dt.date(2026, 12, 1)]})
CUSTOMERS = pa.table({"customer": ["a", "c"]})
NOW = dt.datetime(2026, 12, 2, tzinfo=dt.UTC).timestamp()


def declared(text: str):
    data, diags = parse_yaml("datasets/orders.yaml", text)
    assert not diags
    return parse_checks("datasets/orders.yaml", data["checks"], data.key_span("checks"))


def verdicts(text: str, table: pa.Table = ORDERS, schema=None) -> dict[str, tuple[bool, int]]:
    checks, diags = declared(text)
    assert not diags, diags
    results = run_checks("orders", table, checks, schema, {"customers": CUSTOMERS}.__getitem__,
                         "/nonexistent", now=lambda: NOW)
    return {r.name: (r.passed, r.failing) for r in results}


@pytest.mark.parametrize("check, passes, fails", [
    ("not_null", "not_null: [id, status]", "not_null: [id, customer]"),
    ("unique", "unique: [[id, customer]]", "unique: [id]"),
    ("accepted_values", "accepted_values: {status: [placed, shipped, lost]}",
     "accepted_values: {status: [placed, shipped]}"),
    ("range", "range: {amount: {max: 10}}", "range: {amount: {min: 0}}"),
    ("relationships", "relationships: {id: orders.id}", "relationships: {customer: customers.customer}"),
    ("row_count", "row_count: {min: 1, max: 4}", "row_count: {min: 5}"),
    ("freshness", "freshness: {column: day, max_age: 2d}", "freshness: {column: day, max_age: 12h}"),
    ("sql", "sql: SELECT * FROM orders WHERE amount > 100",
     "sql: SELECT * FROM orders WHERE amount < 0"),
])
def test_every_check_kind_passes_on_good_data_and_fails_on_bad(check: str, passes: str,
                                                                fails: str) -> None:
    read = {"customers": CUSTOMERS, "orders": ORDERS}.__getitem__
    for text, ok in ((passes, True), (fails, False)):
        checks, diags = declared(f"checks:\n  - {text}\n")
        assert not diags, diags
        assert checks[0].kind is CheckKind(check)
        [result] = run_checks("orders", ORDERS, checks, None, read, "/x", now=lambda: NOW)
        assert result.passed is ok, (text, result)
        if not ok:
            assert result.failing >= 1 and result.message, result
            if check not in ("row_count", "freshness"):
                assert 1 <= len(result.examples) <= 5  # the rows that broke it


def test_a_failing_check_names_its_rows_and_counts_them() -> None:
    checks, _ = declared("checks:\n  - not_null: [customer]\n  - unique: [id]\n")
    not_null, unique = run_checks("orders", ORDERS, checks, None, {}.__getitem__, "/x")
    assert (not_null.failing, not_null.message) == (1, "1 row with a null")
    assert not_null.examples == ({"id": 3, "customer": None, "amount": -10.0, "status": "lost",
                                  "day": "2026-11-30"},)
    assert (unique.failing, unique.examples) == (1, ({"id": 3, "times": 2},))


def test_the_schema_check_compares_with_the_declared_schema() -> None:
    good = [ColumnSpec("id", "int64", False), ColumnSpec("customer", "string", True),
            ColumnSpec("amount", "double", True), ColumnSpec("status", "string", True),
            ColumnSpec("day", "date32", True)]
    assert verdicts("checks:\n  - schema\n", schema=good) == {"schema": (True, 0)}
    wrong = [*good[:2], ColumnSpec("amount", "int64", True), *good[3:]]
    assert verdicts("checks:\n  - schema\n", schema=wrong)["schema"][0] is False


def test_a_check_that_cannot_run_fails_clearly_and_the_rest_still_run() -> None:
    result = verdicts("checks:\n  - sql: SELECT * FROM nowhere\n  - not_null: [id]\n")
    assert result == {"sql": (False, 1), "not_null(id)": (True, 0)}


@pytest.mark.parametrize("text, code, line, message", [
    ("checks:\n  - not_nul: [id]\n", "unknown-check", 2, "unknown check kind 'not_nul'"),
    ("checks:\n  - range: {amount: 3}\n", "invalid-check", 2, "`range` needs `min` and/or"),
    ("checks:\n  - unique: [id]\n    severity: fatal\n", "invalid-severity", 3,
     "severity must be error or warning"),
    ("checks:\n  - unique: [id]\n  - unique: [id]\n", "duplicate-check", 3,
     "two checks are named 'unique(id)'"),
    ("checks:\n  - freshness: {column: day, max_age: soon}\n", "invalid-check", 2,
     "`freshness` has a `max_age` weir cannot read"),
    ("checks: not_null\n", "invalid-checks", 1, "`checks` must be a list of checks"),
])
def test_a_bad_check_declaration_is_said_at_its_line(text: str, code: str, line: int,
                                                     message: str) -> None:
    _, diags = declared(text) if text.startswith("checks:\n") else (None, parse_checks(
        "datasets/orders.yaml", "not_null", {"line": 1, "col": 0, "end_line": None,
                                              "end_col": None})[1])
    assert [(d.code, d.line) for d in diags] == [(code, line)], diags
    assert diags[0].message.startswith(message), diags[0].message
    if code == "unknown-check":
        assert diags[0].suggestion == "not_null"


CHECKED = {
    **SMALL,
    "recipes/report.py": """
        from weir import recipe


        @recipe
        def report(orders_clean):
            return orders_clean
        """,
    "datasets/orders_clean.yaml": """
        checks:
          - not_null: [customer]
          - range: {amount: {min: 0, max: 100}}
          - name: few
            row_count: {max: 2}
            severity: warning
          - relationships: {customer: orders.customer}
        """,
}


def test_a_build_publishes_data_that_passes_and_keeps_the_last_good_data_when_a_check_fails(
        make_project: Callable[..., Path]) -> None:
    root = make_project(CHECKED, name="small")
    first = run_weir("build", "report", cwd=root)
    assert first.code == 0, first.text  # `few` fails, but it is a warning: published
    assert "warning: check few failed on 'orders_clean': 3 rows (wanted at most 2)" in first.out
    good = pq.read_table(root / "data/small/orders_clean.parquet")
    logs = list((root / ".weir/logs/orders_clean").iterdir())
    assert "weir: check few: warning" in logs[0].read_text()

    # New data breaks an error check: nothing of it is published, nothing reads it.
    with (root / "landing/orders.csv").open("a") as f:
        f.write("5,d,500.0\n")
    second = run_weir("build", "report", cwd=root)
    assert second.code == 1, second.text
    assert "check range(amount) failed on 'orders_clean': 1 row out of range" in second.out
    assert "id=5, customer='d', amount=500.0" in second.out
    assert "previous version of 'orders_clean' stays live" in second.out
    assert "report  skipped: upstream orders_clean did not build" in second.out
    assert "Traceback" not in second.text
    assert pq.read_table(root / "data/small/orders_clean.parquet").equals(good)
    assert not [p for p in (root / "data/small").iterdir() if ".weir-tmp-" in p.name]
    status = run_weir("status", "orders_clean", cwd=root)
    assert "failed  check range(amount) failed" in status.out, status.out

    # What was rejected is kept aside, readable, never published.
    shown = run_weir("show", "orders_clean", "--rejected", cwd=root)
    assert shown.code == 0, shown.text
    assert "orders_clean (rejected) — 4 rows" in shown.out and "never published" in shown.out
    assert "✗ range(amount): 1 row out of range" in shown.out
    import weir

    rejected = weir.Dataset("orders_clean", project=root).rejected().to_pandas()
    assert rejected["id"].tolist() == [2, 3, 4, 5] and rejected["amount"].max() == 500.0
    assert 5 not in pq.read_table(root / "data/small/orders_clean.parquet")["id"].to_pylist()


def test_a_dataset_without_rejected_data_says_so(make_project: Callable[..., Path]) -> None:
    root = make_project(CHECKED, name="small")
    r = run_weir("show", "orders_clean", "--rejected", cwd=root)
    assert r.code == 2 and "Traceback" not in r.text
    assert "error: 'orders_clean' has no rejected data" in r.err, r.err
    import weir
    from weir.errors import WeirError

    with pytest.raises(WeirError, match="has no rejected data"):
        weir.Dataset("orders_clean", project=root).rejected()


def test_unknown_columns_and_datasets_in_checks_are_errors_at_their_line(
        make_project: Callable[..., Path]) -> None:
    root = make_project({**SMALL, "datasets/orders.yaml": """
        connection: landing
        path: orders.csv
        schema:
          - {name: id, type: int64}
          - {name: customer, type: string}
          - {name: amount, type: double}
        checks:
          - not_null: [custmer]
          - relationships: {customer: clients.customer}
        """}, name="small")
    r = run_weir("status", cwd=root)
    assert r.code == 2, r.text
    assert "datasets/orders.yaml:8: error: check not_null(custmer): 'orders' has no column " \
           "'custmer'" in r.err, r.err
    assert "did you mean 'customer'" in r.err
    assert "datasets/orders.yaml:9: error: check relationships(customer): no dataset " \
           "'clients'" in r.err, r.err


def test_a_python_check_that_raises_fails_that_check_not_the_build_machinery(
        make_project: Callable[..., Path]) -> None:
    files = {**CHECKED, "datasets/orders_clean.yaml": """
        checks:
          - python: quality:explode
        """, "quality.py": """
        def explode(df):
            raise ValueError("no good")
        """}
    root = make_project(files, name="small")
    r = run_weir("build", "orders_clean", cwd=root)
    assert r.code == 1, r.text
    assert "check quality:explode failed on 'orders_clean': the check could not run: no good" \
        in r.out, r.out
    assert "Traceback" not in r.text
    write_files(root, {"quality.py": """
        def explode(df):
            return len(df) > 0, f"{len(df)} orders"
        """})
    assert run_weir("build", "orders_clean", cwd=root).code == 0


def test_weir_check_runs_checks_on_the_live_data_and_show_has_the_last_results(
        make_project: Callable[..., Path]) -> None:
    files = {**CHECKED, "datasets/orders.yaml": """
        description: raw orders
        connection: landing
        path: orders.csv
        checks:
          - range: {amount: {max: 9}}
            severity: warning
        """}
    root = make_project(files, name="small")
    r = run_weir("check", cwd=root)
    assert r.code == 0, r.text  # a warning, and a dataset with no data yet: not failures
    assert "! orders  range(amount)  warning: 1 row out of range" in r.out, r.out
    assert "id=3, customer='a', amount=10.0" in r.out
    assert "– orders_clean  not checked: no data at" in r.out
    assert r.out.strip().splitlines()[-1] == "1 check run, 1 warning, 1 not checked"

    assert run_weir("build", "orders_clean", cwd=root).code == 0
    # The live data, checked again (a build is not needed): the warning still fires.
    r = run_weir("check", "orders_clean", "--json", cwd=root)
    assert r.code == 0, r.text
    report = json.loads(r.out)
    assert report["ok"] is True
    [checked] = report["datasets"]
    assert checked["name"] == "orders_clean" and checked["error"] is None
    assert {c["name"]: (c["passed"], c["severity"]) for c in checked["checks"]} == {
        "not_null(customer)": (True, "error"), "range(amount)": (True, "error"),
        "few": (False, "warning"), "relationships(customer)": (True, "error")}
    shown = run_weir("show", "orders_clean", cwd=root)
    assert "checks (" in shown.out and "few  warning: 3 rows (wanted at most 2)" in shown.out, \
        shown.out

    # An error check failing on the live data: exit 1, said with its rows.
    write_files(root, {"datasets/orders_clean.yaml": """
        checks:
          - range: {amount: {max: 5}}
        """})
    r = run_weir("check", "orders_clean", cwd=root)
    assert r.code == 1, r.text
    assert "✗ orders_clean  range(amount)  failed: 2 rows out of range" in r.out, r.out
    assert json.loads(run_weir("show", "orders_clean", "--json", cwd=root).out)["checks"][0][
        "failing"] == 2


def test_a_build_through_the_daemon_says_its_warnings_too(make_project: Callable[..., Path]
                                                          ) -> None:
    root = make_project(CHECKED, name="small")
    assert run_weir("daemon", "start", cwd=root).code == 0
    try:
        r = run_weir("build", "orders_clean", cwd=root)
        assert r.code == 0, r.text
        assert "warning: check few failed on 'orders_clean': 3 rows (wanted at most 2)" in r.out
        from weir.client import DaemonClient

        client = DaemonClient.for_project(root)
        [last] = [b for b in client.builds()][:1]
        finished = [d for k, d in client.build_events(last.id)
                    if k == "job" and d["event"] == "finish"]
        assert finished[0]["warnings"] == [
            "check few failed on 'orders_clean': 3 rows (wanted at most 2)"]
    finally:
        run_weir("daemon", "stop", "--now", cwd=root)


# -- a source's checks: run when its data changes, before anything reads it ---------------------

SOURCE_CHECKED = {
    **SMALL,
    "datasets/orders.yaml": """
        description: raw orders
        connection: landing
        path: orders.csv
        checks:
          - range: {amount: {min: 0}}
          - name: few
            row_count: {max: 3}
            severity: warning
        """,
}
BAD_ORDERS = "id,customer,amount\n1,a,1.5\n2,b,-3.0\n3,a,10.0\n4,c,7.25\n"
GOOD_ORDERS = "id,customer,amount\n1,a,1.5\n2,b,3.0\n3,a,10.0\n4,c,8.5\n"


def source_checks_run(root: Path) -> int:
    """How many builds ran the checks of source `orders` (its history, as `weir show` has
    it): what tells a build that checked it from one that did not."""
    shown = json.loads(run_weir("show", "orders", "--json", cwd=root).out)
    return sum(1 for b in shown["builds"] if b["status"] in ("checked", "failed"))


def test_a_failing_source_check_stops_its_downstream_until_the_data_is_fixed(
        make_project: Callable[..., Path]) -> None:
    root = make_project(SOURCE_CHECKED, name="small")
    plan = run_weir("plan", "per_customer", cwd=root)
    assert "after the checks of 1 source" in plan.out, plan.out
    assert "  check   orders        never checked" in plan.out, plan.out
    first = run_weir("build", "per_customer", "--no-daemon", cwd=root)
    assert first.code == 0, first.text  # `few` fails, but it is a warning: the build goes on
    assert "✓ orders  checked  4 rows" in first.out, first.out
    assert "warning: check few failed on 'orders': 4 rows (wanted at most 3)" in first.out
    assert "1 checked, 2 built" in first.out
    good = pq.read_table(root / "data/small/per_customer.parquet")
    assert source_checks_run(root) == 1

    # Unchanged source data: its checks do not run again, even for a recipe that reads it.
    forced = run_weir("build", "orders_clean", "--force", "--no-daemon", cwd=root)
    assert forced.code == 0 and "orders  checked" not in forced.out, forced.text
    assert "run     orders_clean" in run_weir("plan", "orders_clean", "--force", cwd=root).out
    assert "check" not in run_weir("plan", "orders_clean", "--force", cwd=root).out
    assert source_checks_run(root) == 1

    # New data breaks an error check: nothing reads it, and nothing of it is changed.
    (root / "landing/orders.csv").write_text(BAD_ORDERS)
    assert "  check   orders        data changed" in run_weir("plan", "per_customer",
                                                             cwd=root).out
    second = run_weir("build", "per_customer", "--no-daemon", cwd=root)
    assert second.code == 1, second.text
    assert "✗ orders  failed" in second.out, second.out
    assert "check range(amount) failed on 'orders': 1 row out of range" in second.out
    assert "id=2, customer='b', amount=-3.0" in second.out
    assert "weir never changes a source" in second.out
    assert "orders_clean  skipped: source orders failed check range(amount)" in second.out
    assert "per_customer  skipped: source orders failed check range(amount)" in second.out
    assert "1 failed, 2 skipped" in second.out
    assert "Traceback" not in second.text
    assert (root / "landing/orders.csv").read_text() == BAD_ORDERS
    assert pq.read_table(root / "data/small/per_customer.parquet").equals(good)
    status = run_weir("status", cwd=root)
    assert "✗ orders        failed  check range(amount) failed" in status.out, status.out
    assert "per_customer  stale" in status.out
    shown = json.loads(run_weir("show", "orders", "--json", cwd=root).out)
    assert shown["status"] == "failed" and shown["reasons"] == ["check range(amount) failed"]
    assert {c["name"]: c["passed"] for c in shown["checks"]} == {"range(amount)": False,
                                                                 "few": False}
    assert "weir: check range(amount): FAILED" in run_weir("logs", "orders", cwd=root).out

    # The same data again: its checks run again, and fail again.
    again = run_weir("build", "per_customer", "--no-daemon", cwd=root)
    assert again.code == 1 and "check range(amount) failed on 'orders'" in again.out, again.text
    assert source_checks_run(root) == 3

    # Fixed data: checked again, passed, and what reads it is built.
    (root / "landing/orders.csv").write_text(GOOD_ORDERS)
    fixed = run_weir("build", "per_customer", "--no-daemon", cwd=root)
    assert fixed.code == 0, fixed.text
    assert "✓ orders  checked  4 rows" in fixed.out and "(data changed)" in fixed.out
    assert "✓ per_customer  built" in fixed.out
    assert pq.read_table(root / "data/small/per_customer.parquet")["revenue"].to_pylist() == [
        10.0, 3.0, 8.5]
    assert "◆ orders        source" in run_weir("status", cwd=root).out
    assert run_weir("build", "per_customer", "--no-daemon", cwd=root).out.startswith(
        "Nothing to do")
    assert source_checks_run(root) == 4


def test_editing_a_sources_checks_runs_them_again(make_project: Callable[..., Path]) -> None:
    root = make_project(SOURCE_CHECKED, name="small")
    assert run_weir("build", "orders_clean", "--no-daemon", cwd=root).code == 0
    write_files(root, {"datasets/orders.yaml": """
        connection: landing
        path: orders.csv
        checks:
          - range: {amount: {max: 5}}
            severity: warning
        """})
    # Only the checks changed: the downstream is up to date, so nothing reads the source.
    assert run_weir("build", "orders_clean", "--no-daemon", cwd=root).out.startswith(
        "Nothing to do")
    r = run_weir("build", "orders_clean", "--force", "--no-daemon", cwd=root)
    assert r.code == 0, r.text
    assert "✓ orders  checked  4 rows" in r.out and "(checks changed)" in r.out, r.out
    assert "warning: check range(amount) failed on 'orders': 2 rows out of range" in r.out


def test_a_source_check_through_the_daemon(make_project: Callable[..., Path]) -> None:
    from test_daemon import Events

    root = make_project(SOURCE_CHECKED, name="small")
    (root / "landing/orders.csv").write_text(BAD_ORDERS)
    assert run_weir("daemon", "start", cwd=root).code == 0
    try:
        r = run_weir("build", "per_customer", cwd=root)
        assert r.code == 1, r.text
        assert "Through the project's daemon" in r.out
        assert "check range(amount) failed on 'orders': 1 row out of range" in r.out
        assert "per_customer  skipped: source orders failed check range(amount)" in r.out
        events = Events(root)
        status = {s.name: s for s in events.client.statuses().datasets}
        assert (status["orders"].status.value, status["orders"].reasons) == (
            "failed", ("check range(amount) failed",))
        node = next(n for n in events.client.flow().nodes if n.name == "orders")
        assert node.status.value == "failed"  # the Flow page and the tree mark it

        # The daemon sees the data fixed (its poll), and its next build checks and builds.
        (root / "landing/orders.csv").write_text(GOOD_ORDERS)
        events.next("status", lambda d: any(s["name"] == "orders" and s["status"] == "source"
                                            for s in d["changed"]), timeout=30)
        r = run_weir("build", "per_customer", cwd=root)
        assert r.code == 0, r.text
        assert "✓ orders  checked  4 rows" in r.out and "✓ per_customer  built" in r.out
    finally:
        from test_daemon import Events as Opened

        Opened.close_all()
        run_weir("daemon", "stop", "--now", cwd=root)


def test_weir_check_on_a_source_keeps_its_verdict_for_the_next_build(
        make_project: Callable[..., Path]) -> None:
    """Checks `weir check` ran on a source's data count as run on it: the next build does not
    run them again on the same data, and a source they failed on is failed until it changes."""
    root = make_project(SOURCE_CHECKED, name="small")
    (root / "landing/orders.csv").write_text(BAD_ORDERS)
    r = run_weir("check", "orders", "--no-daemon", cwd=root)
    assert r.code == 1 and "✗ orders  range(amount)  failed: 1 row out of range" in r.out, r.text
    status = json.loads(run_weir("status", "orders", "--json", "--no-daemon", cwd=root).out)
    assert status["datasets"][0]["status"] == "failed", status
    assert "check range(amount) failed" in status["datasets"][0]["reasons"]
    assert run_weir("build", "per_customer", "--no-daemon", cwd=root).code == 1

    (root / "landing/orders.csv").write_text(GOOD_ORDERS)
    r = run_weir("check", "orders", "--no-daemon", cwd=root)
    assert r.code == 0, r.text
    runs = source_checks_run(root)
    built = run_weir("build", "per_customer", "--no-daemon", cwd=root)
    assert built.code == 0 and "✓ per_customer  built" in built.out, built.text
    assert "orders  checked" not in built.out  # passed on this data already
    assert source_checks_run(root) == runs


def test_weir_check_through_the_daemon_runs_in_its_workers(
        make_project: Callable[..., Path]) -> None:
    from weir.client import DaemonClient

    root = make_project(CHECKED, name="small")
    assert run_weir("build", "report", "--no-daemon", cwd=root).code == 0
    assert run_weir("daemon", "start", cwd=root).code == 0
    try:
        client = DaemonClient.running(root)
        assert client is not None
        before = json.loads(run_weir("show", "orders_clean", "--json", cwd=root).out)
        report = client.check(["orders_clean"])
        assert [d.name for d in report.datasets] == ["orders_clean"]
        assert {c.name: c.passed for c in report.datasets[0].checks}["few"] is False
        assert report.ok  # `few` is a warning
        r = run_weir("check", "--json", cwd=root)  # the CLI goes through the daemon
        assert r.code == 0 and json.loads(r.out)["datasets"][0]["name"] == "orders_clean"
        with pytest.raises(Exception, match="unknown dataset|no dataset|nope"):
            client.check(["nope"])
        after = json.loads(run_weir("show", "orders_clean", "--json", cwd=root).out)
        assert after["checked_at"] > before["checked_at"]  # recorded: what show and hover have
    finally:
        run_weir("daemon", "stop", "--now", cwd=root)
