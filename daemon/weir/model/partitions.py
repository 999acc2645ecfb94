"""Partitions: a dataset's data cut by time and by a discrete value, and how an output's
partition reads its inputs' — pure values and arithmetic, no I/O.

A partition is named as its Hive path (``day=2026-12-01``, ``country=FR``,
``day=2026-12-01/country=FR``): the same text is the directory on a filesystem or s3, the key in
the state store, and what a user types after ``--partition`` (the dimension's name may be left
out there: ``2026-12-01``). Times are written in their grain's own ISO form — ``2026-12-01T13``
for an hour, ``2026-12-01`` for a day, ``2026-12`` for a month — so a partition's name sorts as
its time does.

How an output's partition reads an input (``InputMapping``): ``equals`` (the default: the same
time, and the same value when both have a discrete dimension), ``range`` (offsets in the
output's grain, e.g. ``[-6, 0]``: the seven days up to it), ``all`` (every partition the input
has: a non-partitioned summary of a partitioned input). Grains may differ: a day reads the 24
hours of that day, an hour the day it falls in.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from enum import Enum


class Grain(str, Enum):
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"


_FORMATS = {Grain.HOUR: "%Y-%m-%dT%H", Grain.DAY: "%Y-%m-%d", Grain.MONTH: "%Y-%m"}
_PATTERNS = {Grain.HOUR: re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}"),
             Grain.DAY: re.compile(r"\d{4}-\d{2}-\d{2}"),
             Grain.MONTH: re.compile(r"\d{4}-\d{2}")}
_ORDER = (Grain.HOUR, Grain.DAY, Grain.MONTH)  # finest first


class PartitionError(ValueError):
    """A partition written wrongly: the message says what was expected."""


@dataclass(frozen=True)
class TimeDimension:
    grain: Grain
    column: str  # the column holding the time (a SQL table's partition column)

    @property
    def name(self) -> str:
        return self.grain.value


@dataclass(frozen=True)
class ValueDimension:
    name: str  # also the column, and the Hive key (country=FR)
    values: tuple[str, ...] | None  # None: discovered from the data's layout


@dataclass(frozen=True)
class Partitioning:
    """At most one time dimension and one discrete dimension (the time first in a path)."""

    time: TimeDimension | None = None
    value: ValueDimension | None = None

    def key(self, time: str | None = None, value: str | None = None) -> str:
        """The partition's name: its Hive path."""
        parts = []
        if self.time is not None:
            if time is None:
                raise PartitionError(f"a partition needs its {self.time.name}")
            parts.append(f"{self.time.name}={time}")
        if self.value is not None:
            if value is None:
                raise PartitionError(f"a partition needs its {self.value.name}")
            parts.append(f"{self.value.name}={value}")
        return "/".join(parts)

    def split(self, key: str) -> tuple[str | None, str | None]:
        """``(time, value)`` of a partition's name (each None when there is no such
        dimension). Raises PartitionError for a name this partitioning cannot have."""
        return _split(self, key)

    def _split(self, key: str) -> tuple[str | None, str | None]:
        pairs = [part.partition("=")[::2] for part in key.split("/")]
        given = dict(pairs)
        want = [d.name for d in (self.time, self.value) if d is not None]
        # In the layout's order (the time first) and none empty: `country=FR/day=…` names no
        # partition that `key()` makes, and would never be found again.
        if [name for name, _ in pairs] != want or not all(v for _, v in pairs):
            raise PartitionError(f"'{key}' is not a partition of {self.describe()}")
        time = given.get(self.time.name) if self.time else None
        if self.time is not None:
            parse_time(self.time.grain, time or "")
        value = given.get(self.value.name) if self.value else None
        if self.value is not None and self.value.values is not None \
                and value not in self.value.values:
            raise PartitionError(f"{self.value.name} '{value}' is not one of "
                                 f"{', '.join(self.value.values)}")
        return time, value

    def describe(self) -> str:
        return " × ".join(f"{d.name}" for d in (self.time, self.value) if d is not None)

    def explain(self) -> str:
        """``day (event_date) × country``: the dimensions with the column holding the time,
        as the hover, the Flow page and the editor's views say what a dataset is cut by."""
        time = [f"{self.time.name} ({self.time.column})"] if self.time is not None else []
        return " × ".join(time + ([self.value.name] if self.value is not None else []))


@functools.lru_cache(maxsize=1 << 17)
def _split(partitioning: Partitioning, key: str) -> tuple[str | None, str | None]:
    """Splitting is the inner loop of a status over a long history (every partition, every
    reader of it, every time): remembered, as the pure function it is."""
    return partitioning._split(key)


@dataclass(frozen=True)
class Partition:
    """The partition a job builds, as a recipe sees it (``weir.partition()``)."""

    key: str  # its name: day=2026-12-01, or day=2026-12-01/country=FR
    time: str | None  # its time as written: 2026-12-01 (None: no time dimension)
    value: str | None  # its discrete value (None: no discrete dimension)
    start: dt.datetime | None  # the period it covers: [start, end)
    end: dt.datetime | None

    @property
    def date(self) -> dt.date | None:
        """The first day of its period."""
        return self.start.date() if self.start is not None else None

    def sql_params(self) -> dict[str, str]:
        """What a SQL recipe binds: ``$partition`` (its time, else its value),
        ``$partition_start`` and ``$partition_end`` (ISO times), ``$partition_value``."""
        params = {"partition": self.time or self.value or self.key,
                  "partition_key": self.key}
        if self.start is not None and self.end is not None:
            params["partition_start"] = self.start.isoformat(sep=" ")
            params["partition_end"] = self.end.isoformat(sep=" ")
        if self.value is not None:
            params["partition_value"] = self.value
        return params


SQL_PARAMETERS = ("partition", "partition_key", "partition_start", "partition_end",
                  "partition_value")  # what a SQL recipe may use without declaring them


def partition_of(partitioning: Partitioning, key: str) -> Partition:
    time, value = partitioning.split(key)
    start = end = None
    if partitioning.time is not None and time is not None:
        start = parse_time(partitioning.time.grain, time)
        end = _end(partitioning.time.grain, start)
    return Partition(key, time, value, start, end)


# -- time arithmetic --------------------------------------------------------------------------

@functools.lru_cache(maxsize=1 << 16)
def parse_time(grain: Grain, text: str) -> dt.datetime:
    """A period's start from its name. Remembered (pure, and asked for every partition by
    every reader); digits taken by position, which the pattern has checked (strptime costs
    ten times as much)."""
    if not _PATTERNS[grain].fullmatch(text):
        raise PartitionError(f"'{text}' is not {_a(grain)} (e.g. "
                             f"{format_time(grain, dt.datetime(2026, 12, 1, 13))})")
    try:
        return dt.datetime(int(text[0:4]), int(text[5:7]),
                           int(text[8:10]) if grain is not Grain.MONTH else 1,
                           int(text[11:13]) if grain is Grain.HOUR else 0)
    except ValueError:
        raise PartitionError(f"'{text}' is not {_a(grain)} that exists") from None


def _a(grain: Grain) -> str:
    return f"{'an' if grain is Grain.HOUR else 'a'} {grain.value}"


def format_time(grain: Grain, when: dt.datetime) -> str:
    if grain is Grain.DAY:
        return f"{when.year:04d}-{when.month:02d}-{when.day:02d}"
    return when.strftime(_FORMATS[grain])


def floor(grain: Grain, when: dt.datetime) -> dt.datetime:
    if grain is Grain.HOUR:
        return when.replace(minute=0, second=0, microsecond=0)
    if grain is Grain.DAY:
        return when.replace(hour=0, minute=0, second=0, microsecond=0)
    return when.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def shift(grain: Grain, when: dt.datetime, n: int) -> dt.datetime:
    """``when`` moved by ``n`` of ``grain`` (a month keeps the first of the month)."""
    if grain is Grain.HOUR:
        return when + dt.timedelta(hours=n)
    if grain is Grain.DAY:
        return when + dt.timedelta(days=n)
    months = when.year * 12 + when.month - 1 + n
    return when.replace(year=months // 12, month=months % 12 + 1, day=1)


def _end(grain: Grain, start: dt.datetime) -> dt.datetime:
    """The start of the next period of ``grain`` after the one that starts at ``start``."""
    if grain is Grain.MONTH:
        return start + dt.timedelta(days=calendar.monthrange(start.year, start.month)[1])
    return shift(grain, start, 1)


def times_between(grain: Grain, first: str, last: str) -> list[str]:
    """Every period from ``first`` to ``last``, both included, in order."""
    at, end = parse_time(grain, first), parse_time(grain, last)
    if end < at:
        raise PartitionError(f"'{first}..{last}' ends before it starts")
    out = []
    while at <= end:
        out.append(format_time(grain, at))
        at = shift(grain, at, 1)
    return out


def covering(out_grain: Grain, out_time: str, in_grain: Grain) -> list[str]:
    """The periods of ``in_grain`` the period ``out_time`` of ``out_grain`` reads: the ones
    it contains when the input is finer, the one containing it when it is coarser."""
    start = parse_time(out_grain, out_time)
    if _ORDER.index(in_grain) >= _ORDER.index(out_grain):  # as coarse or coarser: one period
        return [format_time(in_grain, floor(in_grain, start))]
    end, out, at = _end(out_grain, start), [], start
    while at < end:
        out.append(format_time(in_grain, at))
        at = shift(in_grain, at, 1)
    return out


# -- what a user asks for ---------------------------------------------------------------------

def expand_request(partitioning: Partitioning, text: str, known: Collection[str] = ()
                   ) -> list[str]:
    """The partitions ``--partition TEXT`` names: one (``2026-12-01`` or its Hive path), a
    range of times (``2026-11-01..2026-11-30``), ``latest`` (the newest of ``known``), or a
    comma-separated list of any of those; for a dataset with a discrete dimension too, a time
    names it with every value (``known`` ones when the values are discovered). A time may be
    written at another grain than the dataset's (`requested_times`)."""
    keys: list[str] = []
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        if item == "latest":
            if not known:
                raise PartitionError("'latest': it has no partition yet")
            times = list(partition_times(partitioning, known))
            if not times:  # no time dimension: the newest is the greatest value
                keys.append(max(known))
                continue
            keys += sorted(k for k in known if partitioning.split(k)[0] == times[-1])
            continue
        if "=" in item:
            partitioning.split(item)
            keys.append(item)
            continue
        time_dim, value_dim = partitioning.time, partitioning.value
        if time_dim is not None and value_dim is not None and ".." not in item \
                and not _is_time(item):
            # a value alone names it at every time there is (`--partition FR`)
            if value_dim.values is not None and item not in value_dim.values:
                raise PartitionError(f"{item!r} is not {_a(time_dim.grain)} nor one of its {value_dim.name} "
                                     f"values ({', '.join(value_dim.values)})")
            found = sorted(k for k in known if partitioning.split(k)[1] == item)
            if not found:
                raise PartitionError(f"no partition has {value_dim.name} {item!r} yet")
            keys += found
            continue
        if time_dim is not None:
            times = requested_times(time_dim.grain, item)
            if value_dim is None:
                keys += [partitioning.key(time=t) for t in times]
            else:
                values = value_dim.values if value_dim.values is not None else sorted(
                    {v for k in known if (v := partitioning.split(k)[1]) is not None})
                keys += [partitioning.key(time=t, value=v) for t in times for v in values]
        elif value_dim is not None:
            keys.append(partitioning.key(value=item))
            partitioning.split(keys[-1])
        else:
            raise PartitionError("this dataset is not partitioned")
    return list(dict.fromkeys(keys))


def _is_time(text: str) -> bool:
    """Whether ``text`` looks like a time at all (a digit first), right or wrong: a value
    such as ``FR`` is not, and ``2026-13-01`` is one that says what is wrong with it."""
    return text[:1].isdigit()


def grain_of(text: str) -> Grain | None:
    """The grain a time is written at (``2026-12-01T13`` an hour, ``2026-12-01`` a day,
    ``2026-12`` a month); None for what is no time."""
    return next((g for g in _ORDER if _PATTERNS[g].fullmatch(text)), None)


def requested_times(grain: Grain, item: str) -> list[str]:
    """The periods of ``grain`` that a time or a range ``first..last`` names. Written at the
    grain itself, each period named; at another one, the periods of ``grain`` that overlap
    it: a day on an hourly dataset is its 24 hours, a day on a monthly one the month it falls
    in. So a scenario's ``partition: yesterday`` (a day) means the same time on every target,
    whatever its grain."""
    first, sep, last = item.partition("..")
    written = grain_of(first)
    if written is None or written is grain:
        return times_between(grain, first, last) if sep else \
            [format_time(grain, parse_time(grain, item))]
    if sep and grain_of(last) is not written:
        raise PartitionError(f"'{item}': write both ends of a range at one grain, "
                             f"as {first} is")
    start = parse_time(written, first)
    end = _end(written, parse_time(written, last if sep else first))
    if end <= start:
        raise PartitionError(f"'{item}' ends before it starts")
    out, at = [], floor(grain, start)
    while at < end:
        out.append(format_time(grain, at))
        at = shift(grain, at, 1)
    return out


# -- how an output's partition reads an input -------------------------------------------------

@dataclass(frozen=True)
class InputMapping:
    kind: str = "equals"  # equals | range | all
    low: int = 0  # range offsets, in the output's grain, both included
    high: int = 0


EQUALS = InputMapping()


def reads(out: Partitioning | None, out_key: str | None, inp: Partitioning | None,
          mapping: InputMapping, known: Collection[str]) -> list[str | None]:
    """The input partitions (None: the input is not partitioned) that the output partition
    ``out_key`` (None: the output is not partitioned) reads, given the input's ``known``
    partitions (used where the mapping asks for all of a dimension)."""
    if inp is None:
        return [None]
    if out is None or out_key is None or mapping.kind == "all":
        return list(sorted(known))
    if inp == out and mapping.kind == "equals":
        return [out_key]  # the same partitioning, read as it is: the same partition
    out_time, out_value = out.split(out_key)
    times: list[str | None] = [None]
    if inp.time is not None:
        if out.time is None or out_time is None:
            times = list(sorted({t for k in known if (t := inp.split(k)[0]) is not None}))
        else:
            lo, hi = (mapping.low, mapping.high) if mapping.kind == "range" else (0, 0)
            at = parse_time(out.time.grain, out_time)
            found: dict[str, None] = {}
            for n in range(lo, hi + 1):
                period = format_time(out.time.grain, shift(out.time.grain, at, n))
                found.update(dict.fromkeys(covering(out.time.grain, period, inp.time.grain)))
            times = [t for t in found]
    values: list[str | None] = [None]
    if inp.value is not None:
        declared = inp.value.values
        if out.value is not None and out_value is not None and out.value.name == inp.value.name:
            # A value the input declares it never has is read as nothing.
            values = [out_value] if declared is None or out_value in declared else []
        elif declared is not None:
            values = [*declared]
        else:
            values = [*_discovered_values(inp, known)]
    return [inp.key(time=t, value=v) for t in times for v in values]


def implied(out: Partitioning, inp: Partitioning, inp_keys: Collection[str],
            mapping: InputMapping) -> set[str]:
    """The partitions of ``out`` that the input's partitions ``inp_keys`` call for: with
    `equals` or a `range`, each input period's own (a finer output: every period within it;
    a coarser one: the period it falls in) and value. Nothing when the output's partitions
    cannot be told from the input's (`all`, or a dimension the input lacks and the output
    does not list)."""
    if mapping.kind == "all" or not inp_keys:
        return set()
    if inp == out and mapping.kind in ("equals", "range"):
        return set(inp_keys)  # the same partitioning: each partition calls for its own
    times: set[str | None] = {None}
    if out.time is not None:
        if inp.time is None:
            return set()
        times = set()
        coarser = _ORDER.index(out.time.grain) >= _ORDER.index(inp.time.grain)
        for t in {inp.split(k)[0] for k in inp_keys}:
            assert t is not None
            times.update([format_time(out.time.grain,
                                      floor(out.time.grain, parse_time(inp.time.grain, t)))]
                         if coarser else covering(inp.time.grain, t, out.time.grain))
    values: set[str | None] = {None}
    if out.value is not None:
        if inp.value is not None and inp.value.name == out.value.name:
            values = {v for k in inp_keys if (v := inp.split(k)[1]) is not None
                      and (out.value.values is None or v in out.value.values)}
        elif out.value.values is not None:
            values = set(out.value.values)
        else:
            return set()
    if out.time is not None and out.value is not None and inp.value is not None \
            and inp.value.name == out.value.name:
        # Time and value come together from the input: only the pairs it has.
        assert inp.time is not None
        out_grain, in_grain = out.time.grain, inp.time.grain
        pairs: set[str] = set()
        for k in inp_keys:
            t, v = inp.split(k)
            if v not in values:
                continue
            assert t is not None
            ts = [format_time(out_grain, floor(out_grain, parse_time(in_grain, t)))] \
                if _ORDER.index(out_grain) >= _ORDER.index(in_grain) \
                else covering(in_grain, t, out_grain)
            pairs.update(out.key(time=x, value=v) for x in ts)
        return pairs
    return {out.key(time=t, value=v) for t in times for v in values}


def _discovered_values(partitioning: Partitioning, keys: Collection[str]) -> list[str]:
    """The discrete values ``keys`` have, each once, in order."""
    return sorted({v for k in keys if (v := partitioning.split(k)[1]) is not None})


def partition_times(partitioning: Partitioning, keys: Collection[str]) -> Iterator[str]:
    """The times of ``keys``, each once, in order."""
    seen = sorted({t for k in keys if (t := partitioning.split(k)[0]) is not None})
    yield from seen


# -- the Hive layout ------------------------------------------------------------------------

def discover(partitioning: Partitioning, paths: Collection[str]) -> tuple[set[str], list[str]]:
    """The partitions a dataset's files show, from their paths relative to the dataset's
    directory (``day=2026-12-01/part-0.parquet``, ``day=2026-12-01/country=FR/x.parquet``):
    ``(partitions, paths that fit no partition)``. Hidden files and weir's own temporary
    ones (a leading ``.`` or ``_`` in any part, as Spark and Hive skip them) are neither."""
    depth = sum(d is not None for d in (partitioning.time, partitioning.value))
    found: set[str] = set()
    stray: list[str] = []
    for path in paths:
        parts = [p for p in path.split("/") if p]
        if not parts or is_hidden(path):
            continue
        if len(parts) <= depth:
            stray.append(path)
            continue
        key = "/".join(parts[:depth])
        try:
            partitioning.split(key)
        except PartitionError:
            stray.append(path)
            continue
        found.add(key)
    return found, stray


def is_hidden(path: str) -> bool:
    """A path (relative to the dataset's directory) that is no data of the dataset: a part
    of it begins with ``.`` or ``_`` (Spark's and Hive's rule: ``_SUCCESS``, ``.crc`` files,
    and weir's own staging, ``.day=….weir-tmp-…``)."""
    return any(p[0] in "._" for p in path.split("/") if p)


def partition_dir(dataset_path: str, key: str) -> str:
    """Where a partition's files are under the dataset's path: the Hive layout."""
    return f"{dataset_path.rstrip('/')}/{key}"
