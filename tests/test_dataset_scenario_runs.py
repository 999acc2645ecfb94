"""Which scenario runs built or checked a dataset (issue 15, the details panel): the state
store's query over the runs' JSON reports, and `weir show` / `--json` saying them."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import SMALL, run_weir
from weir import wire
from weir.build.state import StateStore

PASSED = wire.CheckResult("not_null(id)", "not_null", wire.Severity.ERROR, True)


def report(run_id: str, started: float, *steps: wire.StepOutcome, status: str = "succeeded",
           scenario: str = "nightly") -> wire.ScenarioRunReport:
    return wire.ScenarioRunReport(scenario, run_id, "a test", status, started, started + 5,
                                  None, {}, tuple(steps))


def test_the_runs_that_built_or_checked_a_dataset_newest_first(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    try:
        built = wire.StepOutcome("build", "build", "succeeded", built=(("orders_clean", 3),))
        checked = wire.StepOutcome("check", "check", "succeeded",
                                   checks=(wire.DatasetChecks("orders_clean", (PASSED,)),))
        # Names it only in words, and builds a dataset whose name matches it with `_` as
        # LIKE's wildcard: neither is a run that touched it.
        neither = wire.StepOutcome("orders_clean", "python", "succeeded",
                                   message='nothing for "orders_clean" today',
                                   built=(("ordersXclean", 1),))
        store.record_scenario_run(report("r1", 100.0, built))
        store.record_scenario_run(report("r2", 200.0, checked, scenario="hourly"))
        store.record_scenario_run(report("r3", 300.0, neither))
        store.record_scenario_run(report("r4", 400.0, status="skipped"))  # no steps
        store.record_scenario_run(report("r5", 500.0, built, checked, status="running"))

        runs = store.dataset_scenario_runs("orders_clean")
        assert [(r.run_id, r.scenario, r.built, r.checked) for r in runs] == [
            ("r5", "nightly", True, True), ("r2", "hourly", False, True),
            ("r1", "nightly", True, False)]
        assert (runs[0].status, runs[0].finished) == ("running", None)  # not ended yet
        assert (runs[2].status, runs[2].started, runs[2].finished) == ("succeeded", 100.0, 105.0)
        assert [r.run_id for r in store.dataset_scenario_runs("orders_clean", limit=2)] == [
            "r5", "r2"]
        # Only the last `within` runs are read.
        assert [r.run_id for r in store.dataset_scenario_runs("orders_clean", within=3)] == [
            "r5"]
        assert [r.run_id for r in store.dataset_scenario_runs("ordersXclean")] == ["r3"]
        assert store.dataset_scenario_runs("per_customer") == []
        assert wire.DatasetScenarioRun.from_json(runs[0].to_json()) == runs[0]
    finally:
        store.close()


def test_weir_show_lists_the_scenario_runs_that_built_it(make_project) -> None:
    root = make_project({**SMALL, "scenarios/nightly.yaml": "steps:\n  - build: [orders_clean]\n"},
                        name="small")
    assert run_weir("scenario", "run", "nightly", cwd=root).code == 0
    shown = run_weir("show", "orders_clean", cwd=root)
    assert shown.code == 0, shown.text
    lines = shown.out.splitlines()
    at = lines.index("  scenario runs:")
    assert "nightly" in lines[at + 1] and "succeeded" in lines[at + 1] \
        and "built" in lines[at + 1], shown.out
    detail = json.loads(run_weir("show", "orders_clean", "--json", cwd=root).out)
    [run] = detail["scenario_runs"]
    assert (run["scenario"], run["status"], run["built"], run["checked"]) == (
        "nightly", "succeeded", True, False)
    assert run_weir("show", "per_customer", "--json", cwd=root).out.count("scenario_runs") == 1
    assert "scenario runs:" not in run_weir("show", "per_customer", cwd=root).out
