"""`weir scenario run NAME`: a scenario's steps run in order, here — builds, checks, a project
function given the run's context, variables set for the rest of the run, another scenario —
each by its `if:`, retried, timed out; report files at the end; exit 1 when a step failed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq

from conftest import SMALL, run_weir, write_files

NOTIFY = '''
import json
from pathlib import Path


def notify(context):
    """What the run tells it, kept to look at."""
    Path("told.json").write_text(json.dumps(context))
    return "told"


def flaky(context):
    """Fails the first time it is called in a run, then passes."""
    marker = Path("tried-" + context["run_id"])
    if not marker.exists():
        marker.write_text("1")
        raise RuntimeError("not yet")
    return "second time lucky"


def stuck(context):
    import threading
    threading.Event().wait()  # never set: only the step's timeout ends it
'''


def project(make_project: Callable[..., Path], scenario: str, **more: str) -> Path:
    return make_project({**SMALL, "lib/alerts.py": NOTIFY, "scenarios/nightly.yaml": scenario,
                         **more}, name="small")


def test_a_scenario_runs_its_steps_in_order_and_writes_its_reports(
        make_project: Callable[..., Path]) -> None:
    root = project(make_project, """
        steps:
          - build: [per_customer]
          - check: [orders_clean]
          - name: tell
            python: lib.alerts:notify
          - name: only on failure
            python: lib.alerts:notify
            if: failure
        reporters:
          - report: [markdown, html, json]
        """, **{"datasets/orders_clean.yaml": "checks:\n  - not_null: [id]\n"})
    r = run_weir("scenario", "run", "nightly", cwd=root)
    assert r.code == 0, r.text
    assert "✓ build per_customer  succeeded" in r.out and "– only on failure  skipped" in r.out
    assert len(pq.read_table(root / "data/small/per_customer.parquet")) == 3
    told = json.loads((root / "told.json").read_text())
    assert told["scenario"] == "nightly" and told["variables"]["min_amount"] == 2
    assert [s["status"] for s in told["steps"]] == ["succeeded", "succeeded"]
    assert dict(map(tuple, told["steps"][0]["built"]))["per_customer"] == 3
    report = json.loads(run_weir("scenario", "run", "nightly", "--json", cwd=root).out)
    assert report["status"] == "succeeded"
    assert [s["status"] for s in report["steps"]] == ["succeeded", "succeeded", "succeeded",
                                                     "skipped"]
    assert report["steps"][0]["built"] == []  # up to date: nothing built the second time
    assert report["steps"][1]["checks"][0]["checks"][0]["passed"] is True
    files = sorted(report["reports"])
    assert [Path(f).suffix for f in files] == [".html", ".json", ".md"]
    md = (root / files[2]).read_text()
    assert "# Scenario nightly: succeeded" in md and "| only on failure | skipped |" in md
    assert json.loads((root / files[1]).read_text())["run_id"] == report["run_id"]


def test_a_failing_step_runs_the_failure_steps_and_exits_1(
        make_project: Callable[..., Path]) -> None:
    root = project(make_project, """
        steps:
          - check: [orders_clean]
          - build: [per_customer]
          - name: tell
            python: lib.alerts:notify
            if: failure
          - name: cleanup
            clear: [per_customer]
            if: always
        """)
    assert run_weir("build", "per_customer", "--no-daemon", cwd=root).code == 0
    write_files(root, {"datasets/orders_clean.yaml": "checks:\n  - range: {amount: {max: 5}}\n"})
    r = run_weir("scenario", "run", "nightly", "--json", cwd=root)
    assert r.code == 1, r.text
    report = json.loads(r.out)
    assert [s["status"] for s in report["steps"]] == ["failed", "skipped", "succeeded",
                                                     "succeeded"]
    assert report["steps"][0]["message"] == "checks failed: orders_clean: range(amount)"
    assert not (root / "data/small/per_customer.parquet").exists()  # cleaned up, always
    assert json.loads((root / "told.json").read_text())["steps"][0]["status"] == "failed"


def test_set_variables_changes_what_the_rest_of_the_run_builds(
        make_project: Callable[..., Path]) -> None:
    root = project(make_project, """
        steps:
          - set_variables: {min_amount: 5}
          - build: [orders_clean]
        """)
    r = run_weir("scenario", "run", "nightly", cwd=root)
    assert r.code == 0, r.text
    assert sorted(pq.read_table(root / "data/small/orders_clean.parquet")["id"].to_pylist()) \
        == [3, 4]  # amount >= 5, not >= 2
    # weir.yaml still says 2: for a plain build, orders_clean is out of date again.
    assert "variable min_amount changed" in run_weir("status", "orders_clean", "--no-daemon",
                                                     cwd=root).out


def test_retries_timeouts_and_another_scenario(make_project: Callable[..., Path]) -> None:
    root = project(make_project, """
        steps:
          - name: flaky
            python: lib.alerts:flaky
            retries: 1
          - name: stuck
            python: lib.alerts:stuck
            timeout: 1s
          - run_scenario: other
            if: always
        """, **{"scenarios/other.yaml": "steps:\n  - build: [customers]\n"})
    report = json.loads(run_weir("scenario", "run", "nightly", "--json", cwd=root).out)
    flaky, stuck, other = report["steps"]
    assert (flaky["status"], flaky["attempts"], flaky["message"]) == (
        "succeeded", 2, "second time lucky")
    assert stuck["status"] == "failed" and "longer than its timeout (1s)" in stuck["message"]
    assert other["status"] == "succeeded" and other["message"].startswith("run ")
    assert (root / "data/small/customers.parquet").exists()
    assert report["status"] == "failed"


def test_an_unknown_scenario_is_said_with_the_closest(make_project: Callable[..., Path]) -> None:
    root = project(make_project, "steps:\n  - build: [customers]\n")
    r = run_weir("scenario", "run", "nigthly", cwd=root)
    assert r.code != 0 and "no scenario 'nigthly' (did you mean 'nightly'?)" in r.err, r.text
    assert "Traceback" not in r.text
    write_files(root, {"scenarios/nightly.yaml": "steps:\n  - biuld: [customers]\n"})
    r = run_weir("scenario", "run", "nightly", cwd=root)
    assert r.code != 0 and "no scenario 'nightly'" in r.err and "weir flow" in r.err, r.text


def test_runs_are_kept_for_history_and_show(make_project: Callable[..., Path]) -> None:
    root = project(make_project, """
        steps:
          - build: [customers]
          - name: tell
            python: lib.alerts:notify
        """)
    assert run_weir("scenario", "history", "nightly", cwd=root).out.startswith(
        "nightly has not run yet")
    first = json.loads(run_weir("scenario", "run", "nightly", "--json", cwd=root).out)
    write_files(root, {"lib/alerts.py": "def notify(context):\n    raise ValueError('down')\n"})
    second = json.loads(run_weir("scenario", "run", "nightly", "--json", cwd=root).out)
    runs = json.loads(run_weir("scenario", "history", "nightly", "--json", cwd=root).out)["runs"]
    assert [(r["run_id"], r["status"]) for r in runs] == [
        (second["run_id"], "failed"), (first["run_id"], "succeeded")]
    text = run_weir("scenario", "history", "nightly", cwd=root).out
    assert f"{second['run_id']}" in text and "failed: tell" in text
    shown = run_weir("scenario", "show", first["run_id"], cwd=root)
    assert shown.code == 0 and "build customers  succeeded" in shown.out
    assert "built customers  3 rows" in shown.out
    failed = run_weir("scenario", "show", second["run_id"], cwd=root).out
    assert "tell  failed: ValueError: down" in failed
    r = run_weir("scenario", "show", "nope", cwd=root)
    assert r.code != 0 and "no scenario run 'nope'" in r.err and "Traceback" not in r.text
    r = run_weir("scenario", "history", "nigthly", cwd=root)
    assert r.code != 0 and "did you mean 'nightly'" in r.err
