"""Scenario files read as the daemon will run them (issue 14, first part): every mistake a
`file:line` diagnostic that stops only that scenario, and when time triggers are due — cron in
a timezone across daylight-saving changes, intervals, catch-up, debounce, no overlap — decided
with an injected clock."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SMALL, run_weir
from weir.model.scenarios import (CatchUp, ReporterKind, RunIf, StepKind, parse_scenario_file, scenario_references)
from weir.scenarios.timing import Concurrency, Debouncer, due_runs, fire_times, next_fire

NIGHTLY = """\
description: Rebuild the report every night
triggers:
  - cron: "0 3 * * *"
    timezone: Europe/Paris
  - dataset_changed: orders
  - interval: 15m
steps:
  - build: [customers]
  - check: [orders_clean]
  - name: tell the team
    python: lib.alerts:notify
    if: failure
    retries: 2
    timeout: 1min
reporters:
  - report: [markdown, html, json]
  - webhook: {url: "${env:TEAM_WEBHOOK}", on: end}
  - email:
      to: [data-team@example.com]
      smtp: {host: smtp.example.com, port: 587, starttls: true, user: weir, password: "${env:SMTP_PASSWORD}"}
    on: failure
catch_up: once
"""


def scenario(text: str, name: str = "nightly"):
    sc, diags = parse_scenario_file(f"scenarios/{name}.yaml", name, text)
    assert not diags, diags
    assert sc is not None
    return sc


def test_a_scenario_file_reads_into_steps_triggers_and_reporters() -> None:
    sc = scenario(NIGHTLY)
    assert sc.description == "Rebuild the report every night" and sc.catch_up is CatchUp.ONCE
    assert [(s.kind, s.name) for s in sc.steps] == [
        (StepKind.BUILD, "build customers"), (StepKind.CHECK, "check orders_clean"),
        (StepKind.PYTHON, "tell the team")]
    notify = sc.steps[2]
    assert (notify.run_if, notify.retries, notify.timeout) == (RunIf.FAILURE, 2, 60.0)
    assert sc.steps[0].params == {"targets": ["customers"], "mode": "required", "all": False,
                                  "stale": False, "partition": None}
    assert [t.describe() for t in sc.triggers] == [
        "cron 0 3 * * * (Europe/Paris)", "when orders changes (looked at every 1min)",
        "every 15min"]
    assert [(r.kind, r.on) for r in sc.reporters] == [
        (ReporterKind.REPORT, ("end",)), (ReporterKind.WEBHOOK, ("end",)),
        (ReporterKind.EMAIL, ("failure",))]
    assert sc.reporters[2].params["smtp"]["password"] == "${env:SMTP_PASSWORD}"  # a reference


@pytest.mark.parametrize("text, code, line, words", [
    ("steps:\n  - biuld: [customers]\n", "unknown-step", 2, "unknown step kind 'biuld'"),
    ("steps:\n  - build: [a]\ntriggers:\n  - cron: \"61 3 * * *\"\n", "invalid-cron", 4,
     "bad cron expression"),
    ("steps:\n  - build: [a]\ntriggers:\n  - cron: \"0 3 * *\"\n", "invalid-cron", 4,
     "it needs five fields"),
    ("steps:\n  - build: [a]\ntriggers:\n  - cron: \"0 3 * * *\"\n    timezone: Mars/Olympus\n",
     "invalid-trigger", 5, "unknown timezone"),
    ("steps:\n  - build: [a]\ntriggers:\n  - interval: soon\n", "invalid-duration", 4,
     "`interval` must be a duration"),
    ("steps:\n  - build: {targets: [a], mode: fast}\n", "invalid-step", 2, "unknown build mode"),
    ("steps:\n  - build: [a]\n    if: sometimes\n", "invalid-step", 3, "`if` is success"),
    ("steps:\n  - python: notify\n", "invalid-function", 2, "module:function"),
    ("steps:\n  - build: [a]\nreporters:\n  - email: {to: [x@y.z]}\n", "invalid-reporter", 4,
     "smtp"),
    ("steps:\n  - build: [a]\ntriggers:\n  - sensor: x\n", "unknown-trigger", 4,
     "unknown trigger 'sensor'"),
    ("stpes:\n  - build: [a]\n", "unknown-key", 1, "unknown key 'stpes'"),
    ("steps:\n  - build: [a]\ncatch_up: all\n", "invalid-scenario", 3, "none or once"),
])
def test_a_mistake_in_a_scenario_file_is_said_at_its_line(text: str, code: str, line: int,
                                                           words: str) -> None:
    sc, diags = parse_scenario_file("scenarios/s.yaml", "s", text)
    assert sc is None
    assert any(d.code == code and d.line == line and words in d.message for d in diags), diags


def test_unknown_datasets_scenarios_and_a_cycle_of_run_scenario_are_said() -> None:
    a = scenario("steps:\n  - build: [customrs]\n  - run_scenario: b\n", "a")
    b = scenario("steps:\n  - run_scenario: a\ntriggers:\n  - after: nope\n", "b")
    diags = scenario_references({"a": a, "b": b}, {"customers": object()})
    said = {(d.file, d.line, d.code) for d in diags}
    assert ("scenarios/a.yaml", 2, "unknown-dataset") in said
    assert ("scenarios/b.yaml", 4, "unknown-scenario") in said
    cycle = [d for d in diags if d.code == "scenario-cycle"]
    assert len(cycle) == 1 and "a → b → a" in cycle[0].message, cycle
    assert next(d for d in diags if d.code == "unknown-dataset").suggestion == "customers"


def test_a_broken_scenario_is_reported_but_stops_no_build(
        make_project: Callable[..., Path]) -> None:
    root = make_project({**SMALL, "scenarios/nightly.yaml": "steps:\n  - build: [customers]\n"
                         "triggers:\n  - cron: \"0 3 * * *\"\n",
                         "scenarios/broken.yaml": "steps:\n  - biuld: [customers]\n"},
                        name="small")
    flow = run_weir("flow", cwd=root)
    assert "scenarios/broken.yaml:2" in flow.text and "unknown step kind 'biuld'" in flow.text
    assert "did you mean 'build'" in flow.text or "build" in flow.text
    built = run_weir("build", "customers", "--no-daemon", cwd=root)
    assert built.code == 0, built.text
    listed = json.loads(run_weir("scenario", "list", "--json", cwd=root).out)
    assert [s["name"] for s in listed["scenarios"]] == ["nightly"]  # the broken one is not
    assert listed["scenarios"][0]["triggers"] == ["cron 0 3 * * * (UTC)"]
    assert listed["scenarios"][0]["next_run"] % 86400 == 3 * 3600  # next 03:00 UTC
    text = run_weir("scenario", "list", cwd=root)
    assert text.code == 0 and "nightly" in text.out and "1.  build customers" in text.out


# -- when time triggers are due ------------------------------------------------------------

PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> float:
    return dt.datetime(*args, tzinfo=PARIS).timestamp()


def local(t: float) -> str:
    return dt.datetime.fromtimestamp(t, PARIS).strftime("%m-%d %H:%M %Z")


def cron(expression: str, tz: str = "Europe/Paris"):
    return scenario(f'steps:\n  - build: [a]\ntriggers:\n  - cron: "{expression}"\n'
                    f"    timezone: {tz}\n").triggers[0]


def test_cron_in_a_timezone_fires_once_a_day_across_both_daylight_saving_changes() -> None:
    daily = cron("30 2 * * *")  # 02:30 does not exist on 29 March, exists twice on 25 October
    spring = fire_times(daily, paris(2026, 3, 27, 12), paris(2026, 3, 31, 12), 0)
    assert len(spring) == 4 and len({local(t)[:5] for t in spring}) == 4, \
        [local(t) for t in spring]  # one a day, the one 02:30 does not exist included
    autumn = fire_times(daily, paris(2026, 10, 24, 12), paris(2026, 10, 27, 12), 0)
    assert len(autumn) == 3 and len({local(t)[:5] for t in autumn}) == 3, \
        [local(t) for t in autumn]  # the repeated hour does not run it twice
    hourly = cron("0 * * * *")
    assert len(fire_times(hourly, paris(2026, 3, 29, 0), paris(2026, 3, 29, 6), 0)) == 5  # 23 h day
    # The 25 h day: 02:00 comes twice on the clock, and runs once, like every other time.
    assert len(fire_times(hourly, paris(2026, 10, 25, 0), paris(2026, 10, 25, 6), 0)) == 6


def test_an_interval_keeps_its_rhythm_from_its_anchor() -> None:
    every = scenario("steps:\n  - build: [a]\ntriggers:\n  - interval: 15m\n").triggers[0]
    anchor = 1_000_000.0
    assert next_fire(every, anchor - 5, anchor) == anchor
    assert next_fire(every, anchor, anchor) == anchor + 900
    assert next_fire(every, anchor + 901, anchor) == anchor + 1800
    assert fire_times(every, anchor, anchor + 3600, anchor) == [anchor + 900 * i
                                                              for i in (1, 2, 3, 4)]


@pytest.mark.parametrize("catch_up, runs", [("none", 0), ("once", 1)])
def test_what_was_missed_while_the_daemon_was_down_follows_catch_up(catch_up: str,
                                                                    runs: int) -> None:
    sc = scenario(f'steps:\n  - build: [a]\ntriggers:\n  - cron: "0 * * * *"\n'
                  f"catch_up: {catch_up}\n")
    down, up = paris(2026, 6, 1, 0, 30), paris(2026, 6, 1, 5, 20)  # four 'o'clocks missed
    got = due_runs(sc, down, up, 0)
    assert len(got) == runs and (not got or local(got[0]) == "06-01 05:00 CEST")
    # On time (the loop is only a little late): it runs, whatever catch_up says.
    assert due_runs(sc, paris(2026, 6, 1, 5, 59), paris(2026, 6, 1, 6, 0, 30), 0) == [
        paris(2026, 6, 1, 6)]
    assert due_runs(sc, paris(2026, 6, 1, 6, 0, 30), paris(2026, 6, 1, 6, 30), 0) == []


def test_a_storm_of_events_is_one_start_and_a_trickle_still_starts() -> None:
    d = Debouncer(quiet=5, longest=60)
    for t in (100, 101, 102.5, 103):
        d.event(t)
    assert not d.due(107) and d.next_check() == 108
    assert d.due(108) and not d.due(109)  # one start for the storm, then quiet
    for t in range(200, 270, 2):  # an event every 2 s for 70 s: never 5 s quiet
        d.event(t)
        if d.due(t):
            break
    else:
        pytest.fail("a trickle of events never started the scenario")
    assert t == 260


def test_a_running_scenario_is_never_started_twice() -> None:
    c = Concurrency()
    assert c.start("nightly", "cron", 1.0)
    assert not c.start("nightly", "dataset_changed orders", 2.0)
    assert c.skipped == [("nightly", "dataset_changed orders", 2.0)]
    c.end("nightly")
    assert c.start("nightly", "cron", 3.0)


@settings(max_examples=60, deadline=None)
@given(minute=st.integers(0, 59), hour=st.sampled_from(["*", "2", "*/3"]),
       start=st.floats(1.7e9, 1.8e9), tz=st.sampled_from(["UTC", "Europe/Paris",
                                                          "America/New_York"]))
def test_cron_due_times_increase_and_never_repeat(minute: int, hour: str, start: float,
                                                   tz: str) -> None:
    trigger = cron(f"{minute} {hour} * * *", tz)
    times = fire_times(trigger, start, start + 4 * 86400, 0)
    assert times and all(a < b for a, b in zip(times, times[1:], strict=False))
    assert times[0] > start and all(next_fire(trigger, t, 0) == n
                                    for t, n in zip(times, times[1:], strict=False))
    assert all(dt.datetime.fromtimestamp(t, ZoneInfo(tz)).minute == minute for t in times)


def test_the_daemon_lists_scenarios_as_their_files_change(
        make_project: Callable[..., Path]) -> None:
    from conftest import wait_until
    from weir.client import DaemonClient

    root = make_project({**SMALL, "scenarios/nightly.yaml": "steps:\n  - build: [customers]\n"
                         "triggers:\n  - interval: 1h\n"}, name="small")
    assert run_weir("daemon", "start", cwd=root).code == 0
    try:
        client = DaemonClient.running(root)
        assert client is not None
        listed = client.scenarios()
        assert [(s.name, s.triggers, s.steps) for s in listed] == [
            ("nightly", ("every 1h",), ("build customers",))]
        assert listed[0].next_run is not None
        (root / "scenarios/hourly.yaml").write_text("steps:\n  - check: [orders]\n")
        wait_until(lambda: [s.name for s in client.scenarios()] == ["hourly", "nightly"],
                   what="the daemon to read the new scenario file")
        (root / "scenarios/hourly.yaml").write_text("steps:\n  - chek: [orders]\n")
        wait_until(lambda: [s.name for s in client.scenarios()] == ["nightly"],
                   what="the broken scenario to drop out, the other kept")
        assert any(d.code == "unknown-step" for d in client.flow().diagnostics)
    finally:
        run_weir("daemon", "stop", "--now", cwd=root)
