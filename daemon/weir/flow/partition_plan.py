"""Which partitions a build needs and which it must run — a pure function over the Flow's
edges, each dataset's partitioning and its inputs' mappings.

A request names partitions of its targets; each needed partition needs the input partitions
its mapping reads (`weir.model.partitions.reads`), transitively. Of the needed partitions of
recipe outputs, those run that are not up to date or read an input partition that runs. A
needed partition of a source that does not exist is said, not silently skipped: the partition
reading it, and what reads that, cannot be built (``blocked``). A ``range`` reaching before
its input's first period reads from that first one (the first days of a rolling window read
fewer): only a period missing inside the history, or after it, is missing.
"""

from __future__ import annotations

import graphlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

from weir.model.partitions import EQUALS, InputMapping, Partitioning, reads

Key = str | None  # a partition's name; None for a dataset that is not partitioned


@dataclass(frozen=True)
class PartitionPlan:
    needed: dict[str, set[Key]]  # dataset -> the partitions the request reads or builds
    run: dict[str, list[Key]]  # recipe output -> the partitions to build, in order
    reads: dict[tuple[str, Key], dict[str, list[Key]]] = field(default_factory=dict)
    missing: list[tuple[str, Key, str, Key]] = field(default_factory=list)
    # (source, its partition that does not exist, the dataset, its partition that reads it)
    blocked: set[tuple[str, Key]] = field(default_factory=set)  # what reads a missing one


def plan_partitions(upstream: Mapping[str, Collection[str]],
                    partitioning: Mapping[str, Partitioning | None],
                    mappings: Mapping[tuple[str, str], InputMapping],
                    known: Mapping[str, Collection[str]],
                    requests: Mapping[str, Collection[Key]],
                    up_to_date: Callable[[str, Key], bool],
                    sources: Collection[str]) -> PartitionPlan:
    """``upstream``: dataset -> its inputs; ``sources``: the datasets no recipe builds (a
    recipe may read nothing: a fetch of one day is built, not looked for); ``known``: the
    partitions each dataset has now (a source's as found in its layout, an output's as
    built); ``requests``: the partitions asked for, per target."""
    sources = set(sources)
    needed: dict[str, set[Key]] = {}
    edges: dict[tuple[str, Key], dict[str, list[Key]]] = {}
    todo = [(d, k) for d, keys in requests.items() for k in keys]
    while todo:
        name, key = todo.pop()
        if key in needed.setdefault(name, set()):
            continue
        needed[name].add(key)
        if name in sources:
            continue
        out = partitioning.get(name)
        per_input: dict[str, list[Key]] = {}
        for inp in upstream[name]:
            mapping = mappings.get((name, inp), EQUALS)
            have = _known(inp, known, requests)
            keys = reads(out, key, partitioning.get(inp), mapping, have)
            if mapping.kind == "range":
                keys = within_history(partitioning.get(inp), keys, have)
            per_input[inp] = keys
            todo += [(inp, k) for k in keys]
        edges[(name, key)] = per_input
    order = graphlib.TopologicalSorter({d: tuple(upstream[d]) for d in needed}).static_order()
    run: dict[str, list[Key]] = {}
    missing: list[tuple[str, Key, str, Key]] = []
    running: set[tuple[str, Key]] = set()
    blocked: set[tuple[str, Key]] = set()  # cannot be built: a source partition is missing
    for name in order:
        if name not in needed or name in sources:
            continue
        for key in sorted(needed[name], key=lambda k: k or ""):
            read = [(inp, k) for inp, keys in edges[(name, key)].items() for k in keys]
            gone = [(inp, k) for inp, k in read if inp in sources and k is not None
                    and k not in known.get(inp, ())]
            missing += [(inp, k, name, key) for inp, k in gone]
            if gone or any(r in blocked for r in read):
                blocked.add((name, key))
            elif not up_to_date(name, key) or any(r in running for r in read):
                running.add((name, key))
                run.setdefault(name, []).append(key)
    return PartitionPlan(needed, run, edges, missing, blocked)


def first_time(partitioning: Partitioning, have: Collection[str]) -> str | None:
    """The earliest period of ``have`` (None: no partition with a time)."""
    assert partitioning.time is not None
    return min((t for k in have if (t := partitioning.split(k)[0]) is not None), default=None)


def within_history(partitioning: Partitioning | None, keys: list[Key], have: Collection[str],
                   first: str | None = None) -> list[Key]:
    """``keys`` without the periods before the earliest of ``have`` (that are not had);
    ``first``, that earliest, when the caller knows it (it asks for every partition)."""
    if partitioning is None or partitioning.time is None:
        return keys
    first = first or first_time(partitioning, have)
    if first is None:
        return [k for k in keys if k is None or k in have]
    return [k for k in keys
            if k is None or k in have or (partitioning.split(k)[0] or "") >= first]


def _known(name: str, known: Mapping[str, Collection[str]],
           requests: Mapping[str, Collection[Key]]) -> set[str]:
    """What an input has, or will have once this build made what was asked of it."""
    return set(known.get(name, ())) | {k for k in requests.get(name, ()) if k is not None}
