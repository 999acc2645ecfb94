"""Status: is each dataset up to date, and if not, exactly why.

A pure function of the Flow, the expected fingerprints and what the state store remembers of the
last builds; the reasons ("recipe changed", "input raw_orders changed", "variable x changed") are
what ``weir status`` and ``weir plan`` print.

A source is never built, but its checks run before anything reads new data of it: the state
store remembers, for a source with checks, the check fingerprint they last ran at
(``fingerprint.check_components``) and whether they failed there. A source whose checks failed
on the data it holds now is ``failed``; ``Status.checks`` says why its checks are due (none:
they passed on this data), which is what the planner schedules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from weir.flow.fingerprint import Components, check_components
from weir.flow.graph import Flow
from weir.wire import DatasetState as State


@dataclass(frozen=True)
class Stored:
    """What the state store remembers of a dataset's builds."""

    # Of the last successful build; of a source, the check fingerprint its checks last ran at
    # (passed, or failed when ``last_failed``).
    fingerprint: str | None
    components: Components | None
    last_failed: bool = False
    error: str | None = None


@dataclass(frozen=True)
class Status:
    state: State
    reasons: tuple[str, ...] = field(default_factory=tuple)
    data_present: bool = False
    # A source's checks are due before anything reads it: why ("data changed", "checks
    # changed"…). Empty when they passed on this data, or it declares none.
    checks: tuple[str, ...] = ()

    @property
    def up_to_date(self) -> bool:
        return self.state in (State.UP_TO_DATE, State.SOURCE)

    def describe(self) -> str:
        return self.state.value + (f": {', '.join(self.reasons)}" if self.reasons else "")


def compute_status(flow: Flow, expected: Mapping[str, str], components: Mapping[str, Components],
                   stored: Mapping[str, Stored], data_present: Mapping[str, bool]
                   ) -> dict[str, Status]:
    statuses: dict[str, Status] = {}
    for name in flow.order:
        present = data_present.get(name, False)
        if name in flow.invalid:
            statuses[name] = Status(State.INVALID, (flow.invalid[name],), present)
            continue
        ds = flow.project.datasets[name]
        if ds.is_source:
            statuses[name] = _source(flow, name, expected, stored.get(name), present)
            continue
        record = stored.get(name)
        if record is None or record.fingerprint is None:
            state = State.FAILED if record is not None and record.last_failed else State.NEVER_BUILT
            reason = (_failed(record),) if record is not None and state is State.FAILED else ()
            statuses[name] = Status(state, reason, present)
            continue
        reasons: list[str] = list(_why(flow, name, record, expected, components, stored))
        # The last successful build was of exactly this code and these inputs: a later build
        # that failed (of an edit since reverted, or a transient error) says nothing about it.
        current = record.fingerprint == expected[name] and not reasons
        if current:
            if present:
                statuses[name] = Status(State.UP_TO_DATE, (), True)
                continue
            reasons = ["data missing"]
        elif not reasons:
            reasons = ["definition changed"]
        if record.last_failed and not current:
            statuses[name] = Status(State.FAILED, (_failed(record), *reasons), present)
        else:
            statuses[name] = Status(State.STALE, tuple(reasons), present)
    return statuses


def _source(flow: Flow, name: str, expected: Mapping[str, str], record: Stored | None,
            present: bool) -> Status:
    """A source: ``failed`` when its checks failed on the data it holds now, else ``source``;
    and whether its checks are due."""
    if not present:
        return Status(State.SOURCE, ("data missing",), False)
    comps = check_components(flow, name, expected)
    if comps is None:
        return Status(State.SOURCE, (), True)
    fp = comps.fingerprint(name)
    if record is None or record.fingerprint is None or record.components is None:
        return Status(State.SOURCE, (), True, ("never checked",))
    if record.fingerprint == fp:
        if not record.last_failed:
            return Status(State.SOURCE, (), True)
        said = _failed(record)
        return Status(State.FAILED, (said if said.startswith("check ")
                                     else "its checks could not run",), True,
                      ("failed last time",))
    old, new = record.components, comps
    due = ["data changed"] if old.inputs.get(name) != new.inputs[name] else []
    if old.definition != new.definition:
        due.append("checks changed")
    due += [f"{other} changed" for other, fp_ in new.inputs.items()
            if other != name and other in old.inputs and old.inputs[other] != fp_]
    return Status(State.SOURCE, (), True, tuple(due) or ("checks changed",))


def _failed(record: Stored) -> str:
    """Why the last build failed, in a word: its output rejected by a check (the worker says
    "check NAME failed on 'x': …") is ``check NAME failed``; anything else, "last build
    failed" (`weir logs` has the rest)."""
    error = record.error or ""
    if error.startswith("check ") and " failed on " in error.split("\n", 1)[0]:
        return error.split(" failed on ", 1)[0] + " failed"
    return "last build failed"


def _why(flow: Flow, name: str, record: Stored, expected: Mapping[str, str],
         components: Mapping[str, Components], stored: Mapping[str, Stored]) -> list[str]:
    old, new = record.components, components[name]
    if old is None or record.fingerprint == expected[name]:
        return []
    reasons: list[str] = []
    if old.code != new.code or set(old.inputs) != set(new.inputs) \
            or set(old.variables) != set(new.variables):
        reasons.append("recipe changed")
    if old.definition != new.definition:
        reasons.append("definition changed")
    for var, value in new.variables.items():
        if var in old.variables and old.variables[var] != value:
            reasons.append(f"variable {var} changed")
    for inp, fp in new.inputs.items():
        if inp in old.inputs and old.inputs[inp] != fp:
            upstream = stored.get(inp)
            if flow.project.datasets[inp].is_source or (upstream is not None
                                                         and upstream.fingerprint == fp):
                reasons.append(f"input {inp} changed")
            else:
                reasons.append(f"input {inp} is out of date")
    return reasons
