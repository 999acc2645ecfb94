"""What the daemon's scheduler decides (weir.scenarios.triggers), driven by an injected clock:
a schedule's runs and what was missed while the daemon was down, the first look at a
version being a baseline, a storm of events being one run, `after` with its outcome filter,
and what a reloaded scenario file keeps."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from weir.model.scenarios import parse_scenario_file
from weir.scenarios.triggers import TriggerBook

T0 = 1_800_000_000.0  # a Friday, 2027-01-15 08:00 UTC


def scenarios(**texts: str) -> dict:
    out = {}
    for name, text in texts.items():
        sc, diags = parse_scenario_file(f"scenarios/{name}.yaml", name,
                                        "steps:\n  - build: [a]\n" + text)
        assert not diags, diags
        out[name] = sc
    return out


def test_an_interval_runs_on_its_rhythm_and_a_restart_keeps_it() -> None:
    book = TriggerBook()
    book.load(scenarios(tick="triggers:\n  - interval: 10min\n"), T0)
    assert book.next_time("tick", T0) == T0 + 600
    assert book.timed("tick", T0 + 600.2)[0].due == T0 + 600  # on time: a run
    assert book.timed("tick", T0 + 600.5) == []  # asked again: nothing new
    # The daemon restarts with what it saved: the rhythm is the first anchor's.
    later = TriggerBook(memory=dict(book.memory))
    later.load(scenarios(tick="triggers:\n  - interval: 10min\n"), T0 + 700)
    assert later.next_time("tick", T0 + 700) == T0 + 1200


def test_what_was_missed_while_the_daemon_was_down_runs_once_or_not_at_all() -> None:
    hourly = 'triggers:\n  - cron: "0 * * * *"\n'
    for catch_up, expected in (("once", 1), ("none", 0)):
        book = TriggerBook()
        book.load(scenarios(nightly=hourly + f"catch_up: {catch_up}\n"), T0)
        assert len(book.timed("nightly", T0 + 3600 + 1)) == 1  # 09:00, on time
        restarted = TriggerBook(memory=dict(book.memory))  # down from 09:00 to 14:10
        restarted.load(scenarios(nightly=hourly + f"catch_up: {catch_up}\n"), T0 + 6 * 3600 + 600)
        starts = restarted.timed("nightly", T0 + 6 * 3600 + 600)
        assert len(starts) == expected
        if starts:  # the latest missed time, said as a catch-up
            assert starts[0].due == T0 + 6 * 3600 and "catch-up" in starts[0].cause
        assert restarted.timed("nightly", T0 + 6 * 3600 + 601) == []  # never twice


def test_the_first_look_is_a_baseline_and_a_storm_of_changes_is_one_run() -> None:
    book = TriggerBook()
    book.load(scenarios(landed="triggers:\n  - dataset_changed: orders\n    debounce: 10s\n"), T0)
    assert book.observe("dataset:orders", "v1", T0) == []  # where watching starts
    assert book.observe("dataset:orders", "v1", T0 + 1) == []  # no news
    assert book.observe("dataset:orders", None, T0 + 2) == []  # unreachable: no news either
    for i in range(2, 8):  # files landing one after another
        assert book.observe("dataset:orders", f"v{i}", T0 + i) == ["landed"]
    assert book.due(T0 + 12) == []  # the last change is 5 s old: the storm may go on
    assert book.next_wake() == T0 + 17
    starts = book.due(T0 + 17)
    assert [(s.scenario, s.cause) for s in starts] == [("landed", "orders changed")]
    assert book.due(T0 + 60) == [] and book.next_wake() is None


def test_after_follows_the_outcome_it_asks_for() -> None:
    book = TriggerBook()
    book.load(scenarios(nightly="", alert="triggers:\n  - after: nightly\n    outcome: failure\n"
                        "    debounce: 0s\n",
                        report="triggers:\n  - after: nightly\n    debounce: 0s\n"), T0)
    assert book.ended("nightly", "succeeded", T0) == ["report"]
    assert book.ended("nightly", "failed", T0 + 1) == ["alert", "report"]
    assert sorted((s.scenario, s.cause) for s in book.due(T0 + 1)) == [
        ("alert", "after nightly (failed)"),
        ("report", "after nightly (succeeded) (and 1 more)")]


def test_polls_are_shared_and_a_reload_keeps_what_was_seen() -> None:
    book = TriggerBook()
    two = scenarios(a="triggers:\n  - dataset_changed: orders\n    every: 30s\n",
                    b="triggers:\n  - dataset_changed: orders\n    every: 10s\n"
                      "  - commit: {branch: main, remote: true}\n")
    book.load(two, T0)
    polls = book.polls()
    assert sorted(polls) == ["dataset:orders", "remote:main"]
    assert polls["dataset:orders"].every == 10
    book.observe("dataset:orders", "v1", T0)
    book.load({"a": two["a"]}, T0 + 5)  # b's file was deleted
    assert sorted(book.polls()) == ["dataset:orders"]
    assert book.observe("dataset:orders", "v2", T0 + 6) == ["a"]  # v1 was kept: v2 is news


@settings(max_examples=80, deadline=None)
@given(gaps=st.lists(st.floats(0.1, 40.0), min_size=1, max_size=30))
def test_each_quiet_gap_ends_one_run_and_no_event_is_lost(gaps: list[float]) -> None:
    """Events at any times: a run starts once for each stretch of events closer together
    than the debounce, the debounce after its last event (none of them here lasts 5 min)."""
    book = TriggerBook()
    book.load(scenarios(s="triggers:\n  - python: lib:ready\n    debounce: 10s\n"), T0)
    times, t = [], T0
    for g in gaps:
        t += g
        times.append(t)
    starts: list[float] = []
    for when in times:
        wake = book.next_wake()
        if wake is not None and wake <= when:
            starts += [s.due for s in book.due(wake)]
        assert book.observe("python:s:0", True, when) == ["s"]
    wake = book.next_wake()
    assert wake is not None
    starts += [s.due for s in book.due(wake)]
    stretches = 1 + sum(1 for a, b in zip(times, times[1:], strict=False) if b - a >= 10)
    assert len(starts) == stretches
