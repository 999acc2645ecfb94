"""A scenario's ``partition:`` — what `--partition` takes, or a time relative to the run
(``yesterday``, ``last 3 days``) — read, checked against its targets and resolved: pure.

A scenario that runs every night cannot name a date: it says ``partition: yesterday``, and
each run turns that into a concrete request (``2026-11-30``) from *its own* time — when it was
due, read in the scenario's time zone — never from a clock read here, so a run at 00:30 in
Paris builds the Paris day before, and a test passes the time it wants.

The relative words, each a run of whole periods of one grain:

- ``today``, ``this hour``, ``this month``: the period the run's time is in (not over yet);
- ``yesterday`` (``last day``), ``last hour``, ``last month``: the one before it;
- ``last N days`` / ``hours`` / ``months``: the N whole periods before the current one, so
  ``last 3 days`` at any time on 2026-12-01 is 2026-11-28..2026-11-30 — like Dagster's time
  partitions, a period is built once it is over, and a nightly run does not ask for a day
  whose data has not landed. To include the current period, add it: ``last 2 days, today``.

A relative item resolves at its own grain (days for ``yesterday``) and the build maps that to
each target's (`weir.model.partitions.requested_times`): ``yesterday`` is the 24 hours of
yesterday on an hourly dataset and the month it falls in on a monthly one. Hours are counted
as real hours and named in the zone's wall clock, so across a daylight-saving change
``last 3 hours`` is the three hours that really passed (a wall-clock hour that did not exist
is not asked for; one that happened twice is asked for once).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from weir.model.partitions import (Grain, PartitionError, Partitioning, floor, format_time,
                                   grain_of, parse_time, shift)
from weir.model.suggest import closest

# word -> (grain, how many periods before the current one the last is, how many)
WORDS: dict[str, tuple[Grain, int, int]] = {
    "today": (Grain.DAY, 0, 1), "yesterday": (Grain.DAY, 1, 1), "last day": (Grain.DAY, 1, 1),
    "this hour": (Grain.HOUR, 0, 1), "last hour": (Grain.HOUR, 1, 1),
    "this month": (Grain.MONTH, 0, 1), "last month": (Grain.MONTH, 1, 1),
}
EXAMPLES = ("yesterday", "today", "last 3 days", "last 6 hours", "last month",
            "2026-12-01", "2026-11-01..2026-11-30", "latest")
MOST = 10_000  # periods a `last N …` may name: more is a typo, not a backfill
_LAST_N = re.compile(r"last (\d+) (hour|day|month)s?")
_RELATIVE_START = ("last", "this", "previous", "next", "past")
_HIVE_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=[^=/]+")
_VALUE = re.compile(r"[A-Za-z0-9_.:@+-]+")


@dataclass(frozen=True)
class Relative:
    """Whole periods of ``grain`` counted back from the one the run's time is in: the last is
    ``back`` periods before it (0: that one), and there are ``count`` of them."""

    grain: Grain
    back: int
    count: int
    text: str  # as written


@dataclass(frozen=True)
class PartitionSpec:
    """A build step's ``partition:``: comma-separated items, each what `--partition` takes
    (kept as written) or a `Relative`."""

    text: str
    items: tuple[str | Relative, ...]

    @property
    def relative(self) -> bool:
        return any(isinstance(i, Relative) for i in self.items)


@dataclass(frozen=True)
class SpecProblem:
    """Why a ``partition:`` cannot be read; ``suggestion`` is the word probably meant."""

    message: str
    hint: str
    suggestion: str | None = None


HINT = ("a relative time — today, yesterday, last 3 days, last 6 hours, this month, last "
        "month — or what `weir build --partition` takes: 2026-12-01, 2026-11-01..2026-11-30, "
        "latest, a value, or a comma list")


def parse_spec(text: object) -> tuple[PartitionSpec | None, SpecProblem | None]:
    """The spec, or what is wrong with it (on its own; what it is for each target is
    `fit_problem`'s)."""
    if isinstance(text, dt.date) and not isinstance(text, dt.datetime):
        text = text.isoformat()  # YAML reads `partition: 2026-12-01` as a date
    elif isinstance(text, int) and not isinstance(text, bool):
        text = str(text)  # partition: 2026 — a value, as `--partition 2026` would be
    if not isinstance(text, str) or not text.strip():
        return None, SpecProblem(f"`partition` takes a partition or a time relative to the "
                                 f"run (got {text!r})", HINT)
    items: list[str | Relative] = []
    for raw in text.split(","):
        item = " ".join(raw.split())
        if not item:
            continue
        got = _item(item)
        if isinstance(got, SpecProblem):
            return None, got
        items.append(got)
    if not items:
        return None, SpecProblem(f"`partition` names no partition (got {text!r})", HINT)
    return PartitionSpec(text.strip(), tuple(items)), None


def _item(item: str) -> str | Relative | SpecProblem:
    low = item.lower()
    if low in WORDS:
        return Relative(*WORDS[low], text=low)
    if (m := _LAST_N.fullmatch(low)) is not None:
        n = int(m[1])
        if not 1 <= n <= MOST:
            return SpecProblem(f"'{item}': the number of {m[2]}s is 1 to {MOST}", HINT)
        return Relative(Grain(m[2]), 1, n, low)
    if item == "latest" or all(_HIVE_PART.fullmatch(p) for p in item.split("/")):
        return item
    first, sep, last = item.partition("..")
    if sep or grain_of(first) is not None or re.match(r"\d{4}-", item):
        return _time_problem(item, first, last if sep else None) or item
    words = low.split()
    if words[0] in _RELATIVE_START or len(words) > 1 or not _VALUE.fullmatch(item):
        best = closest(low, [*WORDS, "last 3 days", "last 3 hours", "last 3 months"])
        return SpecProblem(f"'{item}' is not a partition or a time relative to the run",
                           HINT, suggestion=best if best in WORDS else None)
    best = closest(low, WORDS, cutoff=0.75)
    if best is not None:  # a typo of a word, not a discrete value that looks like one
        return SpecProblem(f"'{item}' is not a time relative to the run", HINT, best)
    return item  # a discrete value (country: FR): its targets say whether they have it


def _time_problem(item: str, first: str, last: str | None) -> SpecProblem | None:
    grain = grain_of(first)
    ends = [first] if last is None else [first, last]
    try:
        if grain is None or (last is not None and grain_of(last) is not grain):
            raise PartitionError(f"'{item}' is not a time or a range of times at one grain")
        at = [parse_time(grain, t) for t in ends]
    except PartitionError as exc:
        return SpecProblem(str(exc), "a time is 2026-12-01 (a day), 2026-12-01T13 (an hour) "
                           "or 2026-12 (a month); a range is FIRST..LAST")
    if at[-1] < at[0]:
        return SpecProblem(f"'{item}' ends before it starts", "write the earlier time first")
    return None


def fit_problem(spec: PartitionSpec, partitioning: Partitioning | None) -> str | None:
    """What keeps ``spec`` from naming partitions of a dataset cut this way (None: nothing
    that can be told before the run — `latest` of a dataset with no partition yet is the
    run's to find)."""
    if partitioning is None:
        return "it is not partitioned"
    for item in spec.items:
        timed = isinstance(item, Relative) or (item != "latest" and "=" not in item
                                               and (".." in item or grain_of(item) is not None))
        if timed and partitioning.time is None:
            return (f"it has no time dimension (partitioned by {partitioning.describe()}), "
                    f"so '{item.text if isinstance(item, Relative) else item}' names none of "
                    "its partitions")
        if isinstance(item, Relative) or timed or item == "latest":
            continue
        try:
            if "=" in item:
                partitioning.split(item)
            elif partitioning.value is None:
                return (f"'{item}' is not a time, and it has no discrete dimension "
                        f"(partitioned by {partitioning.describe()})")
            else:
                partitioning.split(partitioning.key(value=item) if partitioning.time is None
                                   else partitioning.key(time=_any_time(partitioning),
                                                         value=item))
        except PartitionError as exc:
            return str(exc)
    return None


def _any_time(partitioning: Partitioning) -> str:
    assert partitioning.time is not None
    return format_time(partitioning.time.grain, dt.datetime(2026, 1, 1))


def resolve(spec: PartitionSpec, at: dt.datetime, zone: dt.tzinfo) -> str:
    """What `--partition` is given for a run at ``at`` (an aware time) in ``zone``: each
    relative item as the periods it names (``2026-11-28..2026-11-30``, at its own grain),
    the others as written."""
    if at.tzinfo is None:
        raise ValueError("a run's time is an aware datetime")  # a bug, not a user's mistake
    return ",".join(item if isinstance(item, str) else _periods(item, at, zone)
                    for item in spec.items)


def _periods(rel: Relative, at: dt.datetime, zone: dt.tzinfo) -> str:
    local = at.astimezone(zone)
    if rel.grain is not Grain.HOUR:  # whole days and months: the zone's calendar
        current = floor(rel.grain, local.replace(tzinfo=None))
        last = shift(rel.grain, current, -rel.back)
        first = shift(rel.grain, last, -(rel.count - 1))
        return _range([format_time(rel.grain, first), format_time(rel.grain, last)])
    # Real hours back from the start of the wall-clock hour the run is in (a zone half an
    # hour off UTC has its hours start at :30 UTC), each named as the zone's wall clock.
    start = local.replace(minute=0, second=0, microsecond=0).astimezone(dt.UTC)
    names = [format_time(Grain.HOUR, (start - dt.timedelta(hours=n)).astimezone(zone)
                         .replace(tzinfo=None))
             for n in range(rel.back + rel.count - 1, rel.back - 1, -1)]
    names = list(dict.fromkeys(names))  # a wall-clock hour the zone has twice: once
    naive = [parse_time(Grain.HOUR, n) for n in names]
    contiguous = all(b - a == dt.timedelta(hours=1) for a, b in zip(naive, naive[1:],
                                                                   strict=False))
    return _range([names[0], names[-1]]) if contiguous else ",".join(names)


def _range(ends: list[str]) -> str:
    return ends[0] if ends[0] == ends[-1] else f"{ends[0]}..{ends[-1]}"
