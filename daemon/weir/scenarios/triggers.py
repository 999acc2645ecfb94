"""What the daemon's scheduler decides, as a function of what it saw and of the time.

``TriggerBook`` holds every scenario's triggers and what the scheduler must remember about
them: when it last looked at each scenario's schedule (what was missed while the daemon was
down), when each interval was first scheduled (its rhythm), the data version, commit or
answer each event trigger last saw, and a debouncer per scenario. The daemon feeds it — a time
trigger fired, a poll saw a version, a scenario ended — and asks it which runs to start; it
never waits, probes or runs anything, and takes ``now`` from its caller, so tests drive it
with an injected clock.

An event trigger (dataset_changed, commit, after, python) does not start a run at once: its
events go through the scenario's debouncer, so a storm of them (files landing one by one,
commits pushed together) starts one run, once they have been quiet for the trigger's
`debounce` (5 s by default; at the latest 5 minutes after the first). The first version a poll sees is where watching
starts, not a change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from weir.model.scenarios import DEFAULT_DEBOUNCE, Scenario, Trigger, TriggerKind
from weir.scenarios.timing import TIMED, Debouncer, due_runs, next_due

QUIET = DEFAULT_DEBOUNCE  # seconds without a new event before a storm's run starts
LONGEST = 300.0  # ... or at the latest this long after its first event
POLLED = (TriggerKind.DATASET_CHANGED, TriggerKind.COMMIT, TriggerKind.PYTHON)


@dataclass(frozen=True)
class Start:
    """A run the scheduler should start: why (in words, for the history) and when it was due."""

    scenario: str
    cause: str
    due: float


@dataclass(frozen=True)
class Poll:
    """Something the daemon must look at every ``every`` seconds for an event trigger: a
    dataset's data version, a branch's commit, a project function's answer."""

    key: str  # "dataset:NAME", "commit:BRANCH", "remote:BRANCH", "python:SCENARIO:INDEX"
    every: float
    trigger: Trigger


def poll_key(scenario: str, index: int, trigger: Trigger) -> str:
    p = trigger.params
    if trigger.kind is TriggerKind.DATASET_CHANGED:
        return f"dataset:{p['dataset']}"
    if trigger.kind is TriggerKind.COMMIT:
        return f"{'remote' if p['remote'] else 'commit'}:{p['branch']}"
    return f"python:{scenario}:{index}"


def _anchor_key(name: str, index: int, trigger: Trigger) -> str:
    return f"anchor:{name}:{index}:{trigger.params['seconds']:g}"


@dataclass
class TriggerBook:
    memory: dict[str, Any] = field(default_factory=dict)  # as the state store keeps it
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    debouncers: dict[str, Debouncer] = field(default_factory=dict)
    causes: dict[str, list[str]] = field(default_factory=dict)  # what the debouncer holds
    changed: dict[str, Any] = field(default_factory=dict)  # memory not yet saved

    def _remember(self, key: str, value: Any) -> None:
        self.memory[key] = value
        self.changed[key] = value

    def unsaved(self) -> dict[str, Any]:
        """The memory to keep in the state store since the last call."""
        out, self.changed = self.changed, {}
        return out

    # -- the scenarios ------------------------------------------------------------------------
    def load(self, scenarios: Mapping[str, Scenario], now: float) -> None:
        """The scenarios as the files say now. A scenario whose triggers are unchanged keeps
        its debouncer and what it saw; a new one starts watching from now."""
        for name in list(self.scenarios):
            if name not in scenarios:
                del self.scenarios[name]
                self.debouncers.pop(name, None)
                self.causes.pop(name, None)
        for name, s in scenarios.items():
            self.scenarios[name] = s
            quiet = min((float(t.params["debounce"]) for t in s.triggers
                         if "debounce" in t.params), default=QUIET)
            d = self.debouncers.get(name)
            if d is None:
                self.debouncers[name] = Debouncer(quiet, max(LONGEST, quiet))
            else:
                d.quiet, d.longest = quiet, max(LONGEST, quiet)
            if f"looked:{name}" not in self.memory:
                self._remember(f"looked:{name}", now)
            for i, t in enumerate(s.triggers):
                if t.kind is TriggerKind.INTERVAL and _anchor_key(name, i, t) not in self.memory:
                    self._remember(_anchor_key(name, i, t), now)

    def anchor(self, name: str) -> float:
        """When the scenario's first interval was first scheduled (an interval's runs keep
        this rhythm across restarts). Scenarios with several intervals share the earliest."""
        s = self.scenarios[name]
        anchors = [self.memory[_anchor_key(name, i, t)] for i, t in enumerate(s.triggers)
                   if t.kind is TriggerKind.INTERVAL and _anchor_key(name, i, t) in self.memory]
        return min(anchors) if anchors else float(self.memory.get(f"looked:{name}", 0.0))

    # -- time triggers ------------------------------------------------------------------------
    def next_time(self, name: str, now: float) -> float | None:
        """When the scenario's schedule next comes due after ``now`` (None: no schedule)."""
        s = self.scenarios.get(name)
        return None if s is None else next_due(s, now, self.anchor(name))

    def timed(self, name: str, now: float) -> list[Start]:
        """The scheduler looks at the scenario's schedule now (a time trigger came due, or
        the daemon just started): the run to start for what came due since it last looked —
        one for those on time, or by ``catch_up`` one for those missed."""
        s = self.scenarios.get(name)
        if s is None or not any(t.kind in TIMED for t in s.triggers):
            return []
        looked = float(self.memory.get(f"looked:{name}", now))
        due = due_runs(s, looked, now, self.anchor(name))
        self._remember(f"looked:{name}", now)
        if not due:
            return []
        late = now - due[-1]
        from weir.scenarios.timing import ON_TIME

        cause = "schedule" if late <= ON_TIME else "catch-up of a missed schedule"
        return [Start(name, cause, due[-1])]

    # -- event triggers -----------------------------------------------------------------------
    def polls(self) -> dict[str, Poll]:
        """Everything the daemon must poll, once per key (several scenarios watching one
        dataset share its poll, at the shortest period asked)."""
        out: dict[str, Poll] = {}
        for name, s in self.scenarios.items():
            for i, t in enumerate(s.triggers):
                if t.kind not in POLLED:
                    continue
                key = poll_key(name, i, t)
                every = float(t.params["every"])
                if key not in out or every < out[key].every:
                    out[key] = Poll(key, every, t)
        return out

    def observe(self, key: str, value: Any, now: float) -> list[str]:
        """A poll saw ``value`` for ``key``: the scenarios it is news for (their debouncers
        now hold an event). A data version or commit is news when it differs from the last
        one seen (the first seen is the baseline); a python condition, each time it is true."""
        if key.startswith("python:"):
            if not value:
                return []
            _, scenario, _ = key.split(":", 2)
            hit = [scenario] if scenario in self.scenarios else []
            what = "its python condition said so"
        else:
            memory_key = f"seen:{key}"
            before = self.memory.get(memory_key, _UNSEEN)
            if value is None or value == before:
                return []  # unreachable storage says nothing; an equal version is no news
            self._remember(memory_key, value)
            if before is _UNSEEN:
                return []
            hit = [name for name, s in self.scenarios.items()
                   if any(poll_key(name, i, t) == key for i, t in enumerate(s.triggers)
                          if t.kind in POLLED)]
            kind, _, subject = key.partition(":")
            what = (f"{subject} changed" if kind == "dataset" else
                    f"a new commit on {'origin/' if kind == 'remote' else ''}{subject} "
                    f"({str(value)[:10]})")
        for name in hit:
            self._event(name, what, now)
        return hit

    def ended(self, name: str, status: str, now: float) -> list[str]:
        """A scenario's run ended: the scenarios with an `after` trigger on it (and an
        outcome filter that matches) hold an event."""
        outcome = "success" if status == "succeeded" else "failure"
        hit = [other for other, s in self.scenarios.items()
               if any(t.kind is TriggerKind.AFTER and t.params["scenario"] == name
                      and t.params["outcome"] in ("any", outcome) for t in s.triggers)]
        for other in hit:
            self._event(other, f"after {name} ({status})", now)
        return hit

    def _event(self, name: str, what: str, now: float) -> None:
        self.debouncers[name].event(now)
        causes = self.causes.setdefault(name, [])
        if what not in causes:
            causes.append(what)

    def due(self, now: float) -> list[Start]:
        """The runs whose storm of events is over (or has lasted long enough)."""
        out = []
        for name, d in self.debouncers.items():
            if d.next_check() is not None and d.due(now):
                causes = self.causes.pop(name, [])
                cause = causes[0] + (f" (and {len(causes) - 1} more)" if len(causes) > 1
                                     else "")
                out.append(Start(name, cause, now))
        return out

    def next_wake(self) -> float | None:
        """When ``due`` may next have a run to start."""
        times = [t for d in self.debouncers.values() if (t := d.next_check()) is not None]
        return min(times) if times else None


class _Unseen:
    def __repr__(self) -> str:
        return "unseen"


_UNSEEN = _Unseen()
