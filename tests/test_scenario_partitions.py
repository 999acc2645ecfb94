"""A scenario builds partitions relative to its run's time (issue 18, part 5): `partition:
yesterday`, `last 3 days` resolved in the scenario's time zone by a pure function of the run's
time; a bad `partition:` is a diagnostic at its line. (A partitioned source gaining a
`day=…` starts a `dataset_changed` scenario: tests/test_scenario_daemon.py.)"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_weir
from weir.model.partitions import (Grain, Partitioning, TimeDimension, ValueDimension,
                                   expand_request)
from weir.model.relative_partitions import parse_spec, resolve
from weir.model.scenarios import parse_scenario_file, scenario_references

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")
DAY = Partitioning(TimeDimension(Grain.DAY, "day"))
HOUR = Partitioning(TimeDimension(Grain.HOUR, "at"))
MONTH = Partitioning(TimeDimension(Grain.MONTH, "month"))


def resolved(text: str, at: dt.datetime, zone: dt.tzinfo = UTC) -> str:
    spec, problem = parse_spec(text)
    assert problem is None and spec is not None, problem
    return resolve(spec, at, zone)


# -- resolving: a pure function of the run's time ---------------------------------------------

def test_the_words_name_whole_periods_before_the_current_one() -> None:
    at = dt.datetime(2026, 12, 1, 14, 20, tzinfo=UTC)
    assert resolved("today", at) == "2026-12-01"
    assert resolved("yesterday", at) == resolved("last day", at) == "2026-11-30"
    assert resolved("last 3 days", at) == "2026-11-28..2026-11-30"
    assert resolved("last 2 days, today", at) == "2026-11-29..2026-11-30,2026-12-01"
    assert resolved("this hour", at) == "2026-12-01T14"
    assert resolved("last hour", at) == "2026-12-01T13"
    assert resolved("last 6 hours", at) == "2026-12-01T08..2026-12-01T13"
    assert resolved("this month", at) == "2026-12"
    assert resolved("last month", at) == resolved("last 1 months", at) == "2026-11"
    assert resolved("last 13 months", at) == "2025-11..2026-11"
    # What `--partition` takes passes through as written.
    assert resolved("2026-11-01..2026-11-30, latest", at) == "2026-11-01..2026-11-30,latest"


def test_a_run_at_half_past_midnight_in_paris_has_another_yesterday_than_in_utc() -> None:
    at = dt.datetime(2026, 12, 2, 0, 30, tzinfo=PARIS)  # 2026-12-01 23:30 UTC
    assert resolved("yesterday", at, PARIS) == "2026-12-01"
    assert resolved("yesterday", at, UTC) == "2026-11-30"
    new_year = dt.datetime(2026, 1, 1, 0, 30, tzinfo=PARIS)
    assert resolved("this month", new_year, PARIS) == "2026-01"
    assert resolved("this month", new_year, UTC) == "2025-12"
    india = ZoneInfo("Asia/Kolkata")  # its hours start at :30 UTC
    assert resolved("this hour", dt.datetime(2026, 12, 1, 5, 15, tzinfo=UTC), india) \
        == "2026-12-01T10"


def test_hours_are_the_hours_that_passed_across_a_daylight_saving_change() -> None:
    # 2026-03-29 in Paris: 02:00 CET becomes 03:00 CEST; no wall-clock 02 that day.
    spring = dt.datetime(2026, 3, 29, 4, 30, tzinfo=PARIS)
    assert resolved("last 4 hours", spring, PARIS) == \
        "2026-03-28T23,2026-03-29T00,2026-03-29T01,2026-03-29T03"
    # 2026-10-25: 03:00 CEST becomes 02:00 CET; wall-clock 02 happens twice, asked for once.
    fall = dt.datetime(2026, 10, 25, 2, 30, tzinfo=UTC)  # 03:30 CET
    assert resolved("last 3 hours", fall, PARIS) == "2026-10-25T01..2026-10-25T02"
    # Days are the zone's calendar: the short and the long day are each one day.
    assert resolved("yesterday", dt.datetime(2026, 3, 30, 0, 10, tzinfo=PARIS), PARIS) \
        == "2026-03-29"


ZONES = st.sampled_from([UTC, PARIS, ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata"),
                         ZoneInfo("Pacific/Chatham")])
INSTANTS = st.datetimes(dt.datetime(2020, 1, 1), dt.datetime(2035, 1, 1),
                        timezones=st.just(UTC))


@settings(max_examples=300, deadline=None)
@given(INSTANTS, ZONES, st.integers(1, 400))
def test_last_n_days_is_n_days_ending_the_day_before_the_run_in_its_zone(
        at: dt.datetime, zone: dt.tzinfo, n: int) -> None:
    keys = expand_request(DAY, resolved(f"last {n} days", at, zone))
    days = [dt.date.fromisoformat(k.removeprefix("day=")) for k in keys]
    local_day = at.astimezone(zone).date()
    assert len(days) == n and days[-1] == local_day - dt.timedelta(days=1)
    assert all(b - a == dt.timedelta(days=1) for a, b in zip(days, days[1:], strict=False))
    assert expand_request(DAY, resolved("today", at, zone)) == [f"day={local_day}"]
    # On an hourly dataset, the same days are their hours; on a monthly one, their months.
    if n <= 3:
        assert len(expand_request(HOUR, resolved(f"last {n} days", at, zone))) == 24 * n
    months = expand_request(MONTH, resolved(f"last {n} days", at, zone))
    assert months[0] == f"month={days[0]:%Y-%m}" and months[-1] == f"month={days[-1]:%Y-%m}"


@settings(max_examples=300, deadline=None)
@given(INSTANTS, ZONES, st.integers(1, 60))
def test_last_n_hours_are_the_hours_that_passed_before_the_current_one(
        at: dt.datetime, zone: dt.tzinfo, n: int) -> None:
    hours = [k.removeprefix("hour=") for k in expand_request(
        HOUR, resolved(f"last {n} hours", at, zone))]
    # Each wall-clock hour once, in order; at most one lost to an hour a DST change repeats.
    assert hours == sorted(set(hours)) and n - 1 <= len(hours) <= n
    start = at.astimezone(zone).replace(minute=0, second=0, microsecond=0)
    before = (start.astimezone(UTC) - dt.timedelta(hours=1)).astimezone(zone)
    assert hours[-1] == f"{before:%Y-%m-%dT%H}"
    if zone is UTC:
        assert len(hours) == n


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.sampled_from(["last 3 days", "2026-12-01..", "..", "last  days",
                                             "today,", "2026-12-01T25", "day=", "a/b"]),
                 st.integers(), st.none(), st.lists(st.text())), INSTANTS, ZONES)
def test_any_partition_text_is_a_spec_or_a_problem_and_a_spec_always_resolves(
        text: object, at: dt.datetime, zone: dt.tzinfo) -> None:
    spec, problem = parse_spec(text)
    assert (spec is None) != (problem is None)
    if spec is not None:
        assert isinstance(resolve(spec, at, zone), str)
    elif problem is not None:
        assert problem.message and problem.hint


# -- reading: good and bad specs, at their line ---------------------------------------------

def read(text: str) -> tuple:
    return parse_scenario_file("scenarios/nightly.yaml", "nightly", text)


@pytest.mark.parametrize("step, spec", [
    ("  - build: [daily]\n    partition: yesterday\n", "yesterday"),
    ("  - build: {targets: [daily], partition: last 3 days}\n", "last 3 days"),
    ("  - build: [daily]\n    partition: 2026-12-01\n", "2026-12-01"),  # YAML's date
    ("  - build: [daily]\n    partition: 2026-11-01..2026-11-30\n", "2026-11-01..2026-11-30"),
    ("  - build: [daily]\n    partition: \"Last  2 Days, today\"\n", "Last  2 Days, today"),
    ("  - build: [by_country]\n    partition: FR\n", "FR"),
    ("  - build: [daily]\n    partition: day=2026-12-01\n", "day=2026-12-01"),
])
def test_a_build_step_takes_a_partition(step: str, spec: str) -> None:
    sc, diags = read("steps:\n" + step)
    assert diags == [] and sc is not None
    assert sc.steps[0].params["partition"].text == spec and sc.timezone == "UTC"


@pytest.mark.parametrize("value, message, suggestion", [
    ("yestrday", "'yestrday' is not a time relative to the run", "yesterday"),
    ("last 3 weeks", "'last 3 weeks' is not a partition or a time relative to the run", None),
    ("last 0 days", "'last 0 days': the number of days is 1 to 10000", None),
    ("2026-13-01", "'2026-13-01' is not a day that exists", None),
    ("2026-12-05..2026-12-01", "'2026-12-05..2026-12-01' ends before it starts", None),
    ("2026-12-01..2026-12", "not a time or a range of times at one grain", None),
    ('" , "', "names no partition", None),
])
def test_a_bad_partition_is_said_at_its_value(value: str, message: str,
                                              suggestion: str | None) -> None:
    sc, diags = read(f"steps:\n  - build: [daily]\n    partition: {value}\n")
    assert sc is None and len(diags) == 1
    d = diags[0]
    column = 16 if value.startswith('"') else 15  # the range is inside the quotes
    assert (d.code, d.line, d.col, d.suggestion) == ("invalid-partition", 3, column, suggestion)
    assert message in d.message and d.hint
    if suggestion is not None:
        assert d.hint == f"did you mean '{suggestion}'?"



def test_partition_belongs_to_a_build_step_and_the_run_time_zone_must_be_one() -> None:
    sc, diags = read("steps:\n  - check: [daily]\n    partition: today\n")
    assert sc is None and [(d.code, d.line) for d in diags] == [("invalid-step", 3)]
    two_zones = ('triggers:\n  - cron: "0 3 * * *"\n    timezone: Europe/Paris\n'
                 '  - cron: "0 4 * * *"\n    timezone: America/New_York\n')
    sc, diags = read(two_zones + "steps:\n  - build: [daily]\n    partition: yesterday\n")
    assert sc is None and [(d.code, d.line) for d in diags] == [("ambiguous-timezone", 7)]
    assert "Europe/Paris" in diags[0].message and "timezone:" in (diags[0].hint or "")
    # Said at the top, it is the runs' zone and the cron triggers' default.
    sc, diags = read("timezone: Asia/Tokyo\n" + two_zones.replace(
        "    timezone: America/New_York\n", "")
        + "steps:\n  - build: [daily]\n    partition: yesterday\n")
    assert diags == [] and sc is not None and sc.timezone == "Asia/Tokyo"
    assert [t.params["timezone"] for t in sc.triggers] == ["Europe/Paris", "Asia/Tokyo"]
    # Without it, the one zone the cron triggers name; two zones without a relative spec: fine.
    sc, _ = read('triggers:\n  - cron: "0 3 * * *"\n    timezone: Europe/Paris\n'
                 "steps:\n  - build: [daily]\n")
    assert sc is not None and sc.timezone == "Europe/Paris"
    assert read(two_zones + "steps:\n  - build: [daily]\n")[1] == []
    _, diags = read("timezone: Mars/Olympus\nsteps:\n  - build: [daily]\n")
    assert [(d.code, d.line) for d in diags] == [("invalid-scenario", 1)]


def test_a_partition_that_fits_no_partition_of_its_target_is_said() -> None:
    datasets = {"daily": SimpleNamespace(partitioning=DAY),
                "plain": SimpleNamespace(partitioning=None),
                "by_country": SimpleNamespace(partitioning=Partitioning(
                    value=ValueDimension("country", ("FR", "DE"))))}
    steps = [("daily, plain", "yesterday"), ("by_country", "yesterday"), ("by_country", "IT"),
             ("daily", "FR"), ("by_country", "DE")]
    sc, diags = read("steps:\n" + "".join(f"  - build: [{targets}]\n    partition: {spec}\n"
                                           f"    name: step {i}\n"
                                           for i, (targets, spec) in enumerate(steps)))
    assert diags == [] and sc is not None
    found = scenario_references({"nightly": sc}, datasets)
    assert [(d.code, d.line, d.subject) for d in found] == [
        ("partition-does-not-fit", 2, "dataset:plain"),
        ("partition-does-not-fit", 5, "dataset:by_country"),
        ("partition-does-not-fit", 8, "dataset:by_country"),
        ("partition-does-not-fit", 11, "dataset:daily")]
    assert "'plain': it is not partitioned" in found[0].message
    assert "has no time dimension" in found[1].message
    assert "country 'IT' is not one of FR, DE" in found[2].message
    assert "'FR' is not a time, and it has no discrete dimension" in found[3].message


# -- a run builds the partition its time says ---------------------------------------------------

PARTITIONED = {
    "weir.yaml": "name: parts\n",
    "connections.yaml": "connections:\n  landing:\n    type: filesystem\n    root: landing\n",
    "datasets/events.yaml": "connection: landing\npath: events\nformat: csv\n"
                            "partitioning:\n  day: {column: day}\n",
    "datasets/daily.yaml": "partitioning:\n  day: {column: day}\n",
    "recipes/daily.py": "from weir import recipe\n\n\n@recipe\ndef daily(events):\n"
                        "    return events[['id', 'amount']]\n",
    **{f"landing/events/day={d}/part-0.csv": "id,amount\n1,2.0\n2,3.5\n"
       for d in ("2026-11-29", "2026-11-30", "2026-12-01")},
}


def built_partitions(root: Path, name: str) -> list[str]:
    r = run_weir("status", name, "--partitions", "--json", cwd=root)
    assert r.code == 0, r.text
    [ds] = json.loads(r.out)["datasets"]
    return sorted(p["key"] for p in ds["partition_list"] if p["status"] == "up to date")


def test_a_scenario_run_builds_yesterday_as_its_time_zone_says(
        make_project: Callable[..., Path]) -> None:
    from weir.scenarios.run import run_scenario
    from weir.workspace import Workspace

    root = make_project({
        **PARTITIONED,
        "scenarios/paris.yaml": "timezone: Europe/Paris\nsteps:\n  - build: [daily]\n"
                                "    partition: yesterday\n",
        "scenarios/utc.yaml": "steps:\n  - build: [daily]\n    partition: yesterday\n"},
        name="parts")
    # Started at 10:00 UTC on the 2nd for a schedule due at 00:30 Paris time on the 2nd
    # (23:30 UTC on the 1st): the schedule's time is the one that counts.
    now = dt.datetime(2026, 12, 2, 10, 0, tzinfo=UTC).timestamp()
    due = dt.datetime(2026, 12, 2, 0, 30, tzinfo=PARIS).timestamp()
    lines: list[str] = []
    ws = Workspace.open(root)
    try:
        report = run_scenario(ws, "paris", say=lines.append, clock=lambda: now, due=due)
    finally:
        ws.close()
    assert report.ok, lines
    assert report.steps[0].built == (("daily", 2),)
    assert report.steps[0].message == "partition 2026-12-01"
    assert any("partition yesterday = 2026-12-01" in line for line in lines), lines
    assert built_partitions(root, "daily") == ["day=2026-12-01"]
    ws = Workspace.open(root)
    try:
        report = run_scenario(ws, "utc", clock=lambda: now, due=due)
    finally:
        ws.close()
    assert report.ok and report.steps[0].message == "partition 2026-11-30"
    assert built_partitions(root, "daily") == ["day=2026-11-30", "day=2026-12-01"]


def test_a_bad_partition_in_a_project_is_an_error_at_its_line(
        make_project: Callable[..., Path]) -> None:
    root = make_project({**PARTITIONED, "scenarios/nightly.yaml":
                         "steps:\n  - build: [events]\n  - build: [daily]\n"
                         "    partition: yestreday\n"}, name="parts")
    r = run_weir("flow", cwd=root)
    assert "scenarios/nightly.yaml:4" in r.text and "'yestreday'" in r.text, r.text
    assert "did you mean 'yesterday'" in r.text, r.text
