"""Fingerprints and statuses of partitions — a pure function of the Flow, the partitions the
sources' layouts show and what the state store remembers of the partitions built.

A partitioned dataset's partitions (its *domain*) are those its sources' layouts show or, for a
recipe output, those it was built for and those its partitioned inputs call for
(`weir.model.partitions.implied`: day D of ``events`` calls for day D of ``daily_revenue``).
Each has its own fingerprint: the recipe's code, the dataset's definition and the variables it
reads (its *base*), the partition's name, and the fingerprints of the input partitions it reads
— so a new day of a source makes that day stale and no other, and a recipe edit makes every
partition stale. The dataset as a whole has a fingerprint too, made of its partitions', which
an unpartitioned dataset reading all of it depends on.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from weir.flow.fingerprint import Components, _h, components_for, source_fingerprint
from weir.flow.graph import Flow
from weir.flow.partition_plan import first_time, within_history
from weir.model.partitions import EQUALS, PartitionError, Partitioning, implied, reads
from weir.wire import DatasetState as State


@dataclass(frozen=True)
class PartitionStatus:
    state: State
    reasons: tuple[str, ...] = ()

    @property
    def up_to_date(self) -> bool:
        return self.state is State.UP_TO_DATE


UP_TO_DATE = PartitionStatus(State.UP_TO_DATE)


@dataclass(frozen=True)
class Remembered:
    """One partitioned recipe output's partitions as computed, under the key of all they were
    computed from (its base, its inputs' fingerprints, how often its records were written):
    a status over a long history computes again only what changed, not 365,000 partitions."""

    key: str
    fingerprint: str
    domain: tuple[str, ...]
    expected: tuple[str, ...]  # each partition's fingerprint, in the domain's order
    unhealthy: dict[str, tuple[str, tuple[str, ...]]]  # key -> (state, reasons), if not up to date

    def pack(self) -> list[Any]:
        return [self.key, self.fingerprint, list(self.domain), list(self.expected),
                {k: [st, list(why)] for k, (st, why) in self.unhealthy.items()}]

    @classmethod
    def unpack(cls, data: list[Any]) -> Remembered:
        key, fp, domain, expected, unhealthy = data
        return cls(key, fp, tuple(domain), tuple(expected),
                   {k: (st, tuple(why)) for k, (st, why) in unhealthy.items()})


@dataclass(frozen=True)
class Partitions:
    """Everything known of the Flow's partitions at one moment."""

    domains: dict[str, list[str]] = field(default_factory=dict)  # dataset -> partitions
    expected: dict[str, dict[str, str]] = field(default_factory=dict)  # -> partition -> fp
    base: dict[str, str] = field(default_factory=dict)  # recipe output -> its base (JSON)
    statuses: dict[str, dict[str, PartitionStatus]] = field(default_factory=dict)
    # what was computed of each partitioned recipe output, to be given back next time
    remembered: dict[str, Remembered] = field(default_factory=dict)

    counted: dict[str, dict[str, int]] = field(default_factory=dict)  # counts(), once

    def counts(self, name: str) -> dict[str, int]:
        """How many of the dataset's partitions are in each state (by state name)."""
        if name not in self.counted:
            self.counted[name] = dict(Counter(s.state.value
                                              for s in self.statuses.get(name, {}).values()))
        return dict(self.counted[name])

    def up_to_date(self, name: str, key: str | None) -> bool:
        status = self.statuses.get(name, {}).get(key or "")
        return status is not None and status.up_to_date


def read_key(name: str, key: str | None) -> str:
    """How a partition read is named in the records: ``input|partition``."""
    return f"{name}|{key or ''}"


def partition_fingerprint(name: str, base: str, key: str, read: Mapping[str, str]) -> str:
    """A partition's fingerprint: its dataset's base, its name, what it reads."""
    return _h([name, base, key, sorted(read.items())])


def partitioned(flow: Flow) -> bool:
    return any(ds.partitioning is not None for ds in flow.project.datasets.values())


def partition_fingerprints(flow: Flow, source_versions: Mapping[str, str | None],
                           source_partitions: Mapping[str, Mapping[str, str]],
                           records: Mapping[str, Mapping[str, Any]],
                           changes: Mapping[str, int] | None = None,
                           remembered: Mapping[str, Remembered] | None = None
                           ) -> tuple[dict[str, str], dict[str, Components], Partitions]:
    """As `weir.flow.fingerprint.expected_fingerprints`, with every partition's fingerprint
    and status. ``source_partitions``: a partitioned source's partitions with their data
    versions; ``records``: the state store's PartitionRecords, by dataset and partition (read
    only for what is computed again: it may load them lazily). Given ``changes`` (how often
    each dataset's records were written), a dataset ``remembered`` under the same key is
    taken as it was computed, its records unread."""
    project = flow.project
    remembered = remembered or {}
    fps: dict[str, str] = {}
    comps: dict[str, Components] = {}
    out = Partitions()
    for name in flow.order:
        if name in flow.invalid:
            continue
        ds = project.datasets[name]
        cut: Partitioning | None = ds.partitioning
        if ds.is_source and cut is None:
            fps[name] = source_fingerprint(source_versions.get(name))
            continue
        if ds.is_source:
            found = dict(source_partitions.get(name, {}))
            out.domains[name] = sorted(found)
            out.expected[name] = {k: f"source:{v}" for k, v in found.items()}
            fps[name] = source_fingerprint(_h(sorted(found.items())) if found else None)
            continue
        if cut is None:
            c = components_for(flow, name, fps)
            comps[name] = c
            fps[name] = c.fingerprint(name)
            continue
        recipe = project.recipes[ds.recipe]  # type: ignore[index]
        variables = {v: _h(project.config.variables.get(v)) for v in recipe.variables}
        base = json.dumps({"code": f"{recipe.kind.value}:{recipe.code_hash}",
                           "definition": _h(ds.definition()), "variables": variables},
                          sort_keys=True)
        out.base[name] = base
        comps[name] = Components(f"{recipe.kind.value}:{recipe.code_hash}",
                                 _h(ds.definition()), variables,
                                 {i: fps[i] for i in recipe.input_names if i in fps})
        if changes is not None:
            memo_key = _h([name, base, sorted(comps[name].inputs.items()),
                           changes.get(name, 0)])
            memo = remembered.get(name)
            if memo is not None and memo.key == memo_key:
                _recall(out, name, memo)
                fps[name] = memo.fingerprint
                continue
        mine = records.get(name, {})
        domain = set()
        for key in mine:
            try:
                cut.split(key)
            except PartitionError:
                continue  # a partition of an earlier partitioning: not one of this one
            domain.add(key)
        for inp in recipe.input_names:
            theirs = project.datasets[inp].partitioning
            if theirs is not None and inp in out.domains:
                domain |= implied(cut, theirs, out.domains[inp],
                                  ds.input_mappings.get(inp, EQUALS))
        expected: dict[str, str] = {}
        statuses: dict[str, PartitionStatus] = {}
        history = {inp: _history(project.datasets[inp].partitioning, out.domains.get(inp, []))
                   for inp in recipe.input_names
                   if ds.input_mappings.get(inp, EQUALS).kind == "range"}
        for key in sorted(domain):
            read: dict[str, str] = {}
            for inp in recipe.input_names:
                keys = input_partitions(flow, name, key, inp, out.domains, history.get(inp))
                for k in keys:
                    read[read_key(inp, k)] = fps.get(inp, "") if k is None else \
                        out.expected.get(inp, {}).get(k, "missing")
            expected[key] = partition_fingerprint(name, base, key, read)
            statuses[key] = _status(base, expected[key], read, mine.get(key))
        out.domains[name] = sorted(domain)
        out.expected[name] = expected
        fps[name] = _h([name, base, sorted(expected.items())])
        out.statuses[name] = statuses
        if changes is not None:
            out.remembered[name] = Remembered(
                memo_key, fps[name], tuple(out.domains[name]),
                tuple(expected[k] for k in out.domains[name]),
                {k: (st.state.value, st.reasons) for k, st in statuses.items()
                 if not st.up_to_date})
    return fps, comps, out


def _recall(out: Partitions, name: str, memo: Remembered) -> None:
    """A dataset's partitions as ``memo`` says they were computed."""
    out.domains[name] = list(memo.domain)
    out.expected[name] = dict(zip(memo.domain, memo.expected, strict=True))
    statuses = dict.fromkeys(memo.domain, UP_TO_DATE)
    statuses.update({k: PartitionStatus(State(st), why) for k, (st, why) in
                     memo.unhealthy.items()})
    out.statuses[name] = statuses
    out.remembered[name] = memo
    counts = Counter(st for st, _ in memo.unhealthy.values())
    if len(memo.domain) > len(memo.unhealthy):
        counts[State.UP_TO_DATE.value] = len(memo.domain) - len(memo.unhealthy)
    out.counted[name] = dict(counts)


def input_partitions(flow: Flow, name: str, key: str | None, inp: str,
                     domains: Mapping[str, list[str]],
                     history: tuple[set[str], str | None] | None = None
                     ) -> list[str | None]:
    """The partitions of ``inp`` that partition ``key`` of ``name`` reads (a range from the
    input's first period on: the first days of a 7-day window read fewer days). ``history``:
    the input's partitions as a set and its first period, when asked for many keys."""
    ds = flow.project.datasets[name]
    theirs = flow.project.datasets[inp].partitioning
    mapping = ds.input_mappings.get(inp, EQUALS)
    known = domains.get(inp, [])
    keys = reads(ds.partitioning, key, theirs, mapping, known)
    if mapping.kind == "range":
        have, first = history or _history(theirs, known)
        keys = within_history(theirs, keys, have, first)
    return keys


def _history(partitioning: Partitioning | None, known: list[str]
             ) -> tuple[set[str], str | None]:
    have = set(known)
    timed = partitioning is not None and partitioning.time is not None
    return have, first_time(partitioning, have) if timed else None  # type: ignore[arg-type]


def _status(base: str, expected: str, read: Mapping[str, str], record: Any) -> PartitionStatus:
    # A failure counts when it was of the partition as it is now (or said no fingerprint).
    failed = record is not None and record.last_failed and getattr(
        record, "failed_fingerprint", None) in (None, expected)
    if record is None or record.fingerprint is None:
        if failed:
            return PartitionStatus(State.FAILED, ("last build failed",))
        return PartitionStatus(State.NEVER_BUILT)
    if record.fingerprint == expected:
        return PartitionStatus(State.UP_TO_DATE)
    reasons = _why(base, read, record)
    if failed:
        return PartitionStatus(State.FAILED, ("last build failed", *reasons))
    return PartitionStatus(State.STALE, tuple(reasons))


def _why(base: str, read: Mapping[str, str], record: Any) -> list[str]:
    reasons: list[str] = []
    try:
        old, new = json.loads(record.base or "{}"), json.loads(base)
    except ValueError:
        old, new = {}, json.loads(base)
    if old.get("code") != new.get("code"):
        reasons.append("recipe changed")
    if old.get("definition") != new.get("definition"):
        reasons.append("definition changed")
    for var, value in new.get("variables", {}).items():
        if old.get("variables", {}).get(var) != value:
            reasons.append(f"variable {var} changed")
    changed = [k for k, fp in read.items() if record.inputs.get(k) != fp]
    for k in changed[:3]:
        inp, _, part = k.partition("|")
        said = "is missing" if read[k] == "missing" else \
            "changed" if k in record.inputs else "is new"
        reasons.append(f"input {inp}{' ' + part if part else ''} {said}")
    if len(changed) > 3:
        more = len(changed) - 3
        reasons.append(f"and {more} more input partition{'s' if more > 1 else ''}")
    gone = [k for k in record.inputs if k not in read]
    if gone and not changed:
        reasons.append(f"reads {len(gone)} partition{'s' if len(gone) > 1 else ''} fewer")
    return reasons or ["definition changed"]


def summary(counts: Mapping[str, int]) -> str:
    """``"334 up to date, 30 stale, 1 failed"``: the states in a fixed order."""
    order = (State.UP_TO_DATE, State.STALE, State.FAILED, State.NEVER_BUILT)
    return ", ".join(f"{counts[s.value]} {s.value}" for s in order if counts.get(s.value))


def badge(counts: Mapping[str, int]) -> str:
    """``"365 · 2 stale"``: how many partitions, and those not up to date — the short form of
    `summary` for a label on a drawn dataset (the Flow page says the same in its script)."""
    total = sum(counts.values())
    behind = summary({k: v for k, v in counts.items() if k != State.UP_TO_DATE.value})
    return f"{total} · {behind}" if behind else f"{total} partition{'s' if total != 1 else ''}"


def dataset_state(counts: Mapping[str, int]) -> State:
    """A partitioned dataset's state as a whole: up to date when every partition is."""
    total = sum(counts.values())
    if total == 0 or counts.get(State.NEVER_BUILT.value, 0) == total:
        return State.NEVER_BUILT
    if counts.get(State.UP_TO_DATE.value, 0) == total:
        return State.UP_TO_DATE
    return State.FAILED if counts.get(State.FAILED.value) else State.STALE
