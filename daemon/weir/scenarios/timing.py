"""When a scenario's time triggers are due — pure functions of the triggers and a clock.

The daemon asks these with its own clock, and tests with an injected one, so cron across a
daylight-saving change, an interval, what was missed while the daemon was down and a storm of
events are decided the same way in both, and no test sleeps. Cron is APScheduler's reading of
the expression, in the trigger's timezone: a time a DST change skips fires once, at the first
moment it exists; a time it repeats fires once.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from weir.model.scenarios import CatchUp, Scenario, Trigger, TriggerKind
from weir.wire import ScenarioRunReport, ScenarioSummary

TIMED = (TriggerKind.CRON, TriggerKind.INTERVAL)
# A due time found this late is still on time (a busy machine, a slow loop), not missed.
ON_TIME = 60.0


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


@functools.lru_cache(maxsize=1024)
def _cron(expression: str, timezone: str) -> tuple[Any, Any]:
    """The expression read once (not at each of the many times a scheduler asks)."""
    from zoneinfo import ZoneInfo

    from apscheduler.triggers.cron import CronTrigger

    tz = ZoneInfo(timezone)
    return tz, CronTrigger.from_crontab(expression, timezone=tz)


def next_fire(trigger: Trigger, after: float, anchor: float) -> float | None:
    """The first due time of a cron or interval trigger strictly after ``after`` (epoch
    seconds). An interval counts from ``anchor`` (when the daemon first scheduled it), so its
    runs keep their rhythm across restarts instead of drifting with each one."""
    if trigger.kind is TriggerKind.INTERVAL:
        every = float(trigger.params["seconds"])
        if after < anchor:
            return anchor
        return anchor + (int((after - anchor) // every) + 1) * every
    if trigger.kind is TriggerKind.CRON:
        tz, cron = _cron(trigger.params["expression"], trigger.params["timezone"])
        wall = _utc(after).astimezone(tz).replace(tzinfo=None)
        t = after
        for _ in range(4):
            # APScheduler's next fire time is at or after `now`: ask just after.
            got = cron.get_next_fire_time(None, _utc(t) + dt.timedelta(microseconds=1))
            if got is None:
                return None
            if got.astimezone(tz).replace(tzinfo=None) != wall:
                return got.timestamp()
            t = got.timestamp()  # the same wall-clock time again (an hour DST repeats): once
        return None
    return None


def fire_times(trigger: Trigger, since: float, until: float, anchor: float,
               limit: int = 10_000) -> list[float]:
    """Every due time of a time trigger in ``(since, until]``, oldest first."""
    out: list[float] = []
    t = next_fire(trigger, since, anchor)
    while t is not None and t <= until and len(out) < limit:
        out.append(t)
        t = next_fire(trigger, t, anchor)
    return out


def next_due(scenario: Scenario, now: float, anchor: float) -> float | None:
    """When the scenario's time triggers next start it (None: it has none)."""
    times = [t for tr in scenario.triggers if tr.kind in TIMED
             if (t := next_fire(tr, now, anchor)) is not None]
    return min(times) if times else None


def due_runs(scenario: Scenario, last_looked: float, now: float, anchor: float) -> list[float]:
    """The due times the scheduler should start a run for, having last looked at
    ``last_looked`` and looking now: those on time start (several triggers due at one moment
    are one run); those missed — more than ``ON_TIME`` late, as after the daemon was down —
    follow ``catch_up``: none are run, or the latest of them once."""
    due = sorted({t for tr in scenario.triggers if tr.kind in TIMED
                  for t in fire_times(tr, last_looked, now, anchor)})
    on_time = [t for t in due if now - t <= ON_TIME]
    missed = [t for t in due if now - t > ON_TIME]
    if missed and scenario.catch_up is CatchUp.ONCE and not on_time:
        return [missed[-1]]
    return on_time[-1:]  # a run already due covers every one before it


@dataclass
class Debouncer:
    """A storm of events (files landing, commits pushed) becomes one start: a start happens
    ``quiet`` seconds after the last event, or at the latest ``longest`` after the first, so
    an endless trickle still runs."""

    quiet: float
    longest: float
    _first: float | None = None
    _last: float | None = None
    events: int = 0

    def event(self, at: float) -> None:
        if self._first is None:
            self._first = at
        self._last = at
        self.events += 1

    def due(self, now: float) -> bool:
        """Whether to start now; if so, the storm is over (the next event starts another)."""
        if self._first is None or self._last is None:
            return False
        if now - self._last >= self.quiet or now - self._first >= self.longest:
            self._first = self._last = None
            self.events = 0
            return True
        return False

    def next_check(self) -> float | None:
        """When ``due`` may next say yes (for a scheduler to wake at)."""
        if self._first is None or self._last is None:
            return None
        return min(self._last + self.quiet, self._first + self.longest)


@dataclass
class Concurrency:
    """A running scenario is never started twice: a start while it runs is skipped, and what
    was skipped is kept to be recorded (by whom, when)."""

    running: set[str] = field(default_factory=set)
    skipped: list[tuple[str, str, float]] = field(default_factory=list)

    def start(self, scenario: str, cause: str, at: float) -> bool:
        if scenario in self.running:
            self.skipped.append((scenario, cause, at))
            return False
        self.running.add(scenario)
        return True

    def end(self, scenario: str) -> None:
        self.running.discard(scenario)


def summaries(scenarios: Mapping[str, Scenario], now: float,
              last: Mapping[str, ScenarioRunReport] | None = None,
              running: Mapping[str, str] | None = None,
              next_time: Callable[[str], float | None] | None = None
              ) -> list[ScenarioSummary]:
    """Every scenario as `weir scenario list` and `GET /api/scenarios` say it, by name: with
    each one's ``last`` run and the run id ``running`` now when known, and its next time as
    ``next_time`` says (the daemon's scheduler, which knows each interval's rhythm)."""
    last, running = last or {}, running or {}
    out = []
    for s in sorted(scenarios.values(), key=lambda s: s.name):
        run = last.get(s.name)
        out.append(ScenarioSummary(
            s.name, s.file, s.description, tuple(t.describe() for t in s.triggers),
            tuple(step.name for step in s.steps),
            next_time(s.name) if next_time else next_due(s, now, now),
            run.run_id if run else None, run.status if run else None,
            run.finished if run else None, running.get(s.name)))
    return out
