"""Partitions, pure (issue 18, first part): names, time arithmetic, requests, mappings, and the
planner of which partitions a build needs and runs — on literal Flows, and for random Flows
and requests against a naive reference that tries every partition there could be."""

from __future__ import annotations

import datetime as dt
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from weir.flow.partition_plan import plan_partitions
from weir.model.partitions import (Grain, InputMapping, PartitionError, Partitioning,
                                   TimeDimension, ValueDimension, covering, expand_request,
                                   format_time, parse_time, reads, shift)

DAY = Partitioning(TimeDimension(Grain.DAY, "event_date"))
HOUR = Partitioning(TimeDimension(Grain.HOUR, "at"))
MONTH = Partitioning(TimeDimension(Grain.MONTH, "month"))
COUNTRY = Partitioning(value=ValueDimension("country", ("FR", "DE")))
DAY_COUNTRY = Partitioning(TimeDimension(Grain.DAY, "d"), ValueDimension("country", None))


def test_a_partition_is_named_by_its_hive_path() -> None:
    assert DAY.key(time="2026-12-01") == "day=2026-12-01"
    assert DAY_COUNTRY.key(time="2026-12-01", value="FR") == "day=2026-12-01/country=FR"
    assert DAY_COUNTRY.split("day=2026-12-01/country=FR") == ("2026-12-01", "FR")
    with pytest.raises(PartitionError, match="not a partition of day × country"):
        DAY_COUNTRY.split("day=2026-12-01")
    for wrong in ("country=FR/day=2026-12-01", "day=2026-12-01/country="):
        with pytest.raises(PartitionError, match="not a partition of day × country"):
            DAY_COUNTRY.split(wrong)
    with pytest.raises(PartitionError, match="'2026-13-01' is not a day that exists"):
        DAY.split("day=2026-13-01")
    with pytest.raises(PartitionError, match="country 'IT' is not one of FR, DE"):
        COUNTRY.split("country=IT")


def test_time_arithmetic_across_months_and_years() -> None:
    assert format_time(Grain.MONTH, shift(Grain.MONTH, parse_time(Grain.MONTH, "2026-11"), 3)) \
        == "2027-02"
    assert format_time(Grain.MONTH, shift(Grain.MONTH, parse_time(Grain.MONTH, "2026-01"), -1)) \
        == "2025-12"
    assert covering(Grain.MONTH, "2024-02", Grain.DAY)[-1] == "2024-02-29"
    assert len(covering(Grain.DAY, "2026-12-01", Grain.HOUR)) == 24
    assert covering(Grain.HOUR, "2026-12-01T05", Grain.MONTH) == ["2026-12"]
    with pytest.raises(PartitionError, match=r"'12/01' is not a day \(e.g. 2026-12-01\)"):
        parse_time(Grain.DAY, "12/01")


def test_what_a_user_asks_for() -> None:
    assert expand_request(DAY, "2026-11-29..2026-12-01") == [
        "day=2026-11-29", "day=2026-11-30", "day=2026-12-01"]
    assert expand_request(DAY, "latest", ["day=2026-11-02", "day=2026-11-10"]) == [
        "day=2026-11-10"]
    assert expand_request(DAY, "2026-12-01, day=2026-12-03,2026-12-01") == [
        "day=2026-12-01", "day=2026-12-03"]
    assert expand_request(COUNTRY, "FR") == ["country=FR"]
    # A time of a dataset with discovered values too: every value it has.
    assert expand_request(DAY_COUNTRY, "2026-12-01", ["day=2026-11-30/country=FR",
                                                      "day=2026-11-30/country=BE"]) == [
        "day=2026-12-01/country=BE", "day=2026-12-01/country=FR"]
    with pytest.raises(PartitionError, match="has no partition yet"):
        expand_request(DAY, "latest")
    with pytest.raises(PartitionError, match="'2026-12-05..2026-12-01' ends before it starts"):
        expand_request(DAY, "2026-12-05..2026-12-01")
    # `latest` is the newest time, with every value it has.
    assert expand_request(DAY_COUNTRY, "latest", ["day=2026-12-02/country=FR",
                                                  "day=2026-12-02/country=DE",
                                                  "day=2026-12-01/country=NL"]) == [
        "day=2026-12-02/country=DE", "day=2026-12-02/country=FR"]


def test_a_time_written_at_another_grain_names_the_periods_it_overlaps() -> None:
    """What a scenario's `partition: yesterday` becomes on targets of every grain."""
    hours = expand_request(HOUR, "2026-11-30")
    assert len(hours) == 24 and (hours[0], hours[-1]) == ("hour=2026-11-30T00",
                                                          "hour=2026-11-30T23")
    assert len(expand_request(HOUR, "2026-11-29..2026-11-30")) == 48
    assert expand_request(MONTH, "2026-11-28..2026-12-01") == ["month=2026-11", "month=2026-12"]
    assert expand_request(MONTH, "2026-11-30") == ["month=2026-11"]
    assert expand_request(DAY, "2026-11-30T22..2026-12-01T01") == ["day=2026-11-30",
                                                                   "day=2026-12-01"]
    assert expand_request(DAY, "2024-02") == [f"day=2024-02-{d:02}" for d in range(1, 30)]
    with pytest.raises(PartitionError, match="write both ends of a range at one grain"):
        expand_request(HOUR, "2026-11-30..2026-12-01T05")
    with pytest.raises(PartitionError, match="'2026-12-01..2026-11-30' ends before it starts"):
        expand_request(HOUR, "2026-12-01..2026-11-30")
    with pytest.raises(PartitionError, match="'2026-02-30' is not a day that exists"):
        expand_request(HOUR, "2026-02-30")


def test_mappings() -> None:
    assert reads(DAY, "day=2026-12-01", DAY, InputMapping(), ()) == ["day=2026-12-01"]
    assert reads(DAY, "day=2026-12-02", DAY, InputMapping("range", -2, 0), ()) == [
        "day=2026-11-30", "day=2026-12-01", "day=2026-12-02"]
    assert reads(None, None, DAY, InputMapping(), ["day=2026-12-02", "day=2026-12-01"]) == [
        "day=2026-12-01", "day=2026-12-02"]
    assert reads(DAY, "day=2026-12-01", None, InputMapping(), ()) == [None]
    assert reads(MONTH, "month=2026-02", DAY, InputMapping(), ())[-1] == "day=2026-02-28"
    assert reads(DAY_COUNTRY, "day=2026-12-01/country=FR", DAY, InputMapping(), ()) == [
        "day=2026-12-01"]
    assert reads(DAY, "day=2026-12-01", DAY_COUNTRY, InputMapping(),
                 ["day=2026-12-01/country=FR", "day=2026-11-01/country=DE"]) == [
        "day=2026-12-01/country=DE", "day=2026-12-01/country=FR"]


def test_a_rolling_week_builds_only_what_the_new_day_needs() -> None:
    upstream = {"events": (), "daily": ("events",), "week": ("daily",)}
    parts = {"events": DAY, "daily": DAY, "week": DAY}
    mappings = {("week", "daily"): InputMapping("range", -6, 0)}
    days = [f"day=2026-11-{d:02d}" for d in range(20, 31)] + ["day=2026-12-01"]
    built = set(days[:-1])  # everything but the new day
    plan = plan_partitions(upstream, parts, mappings, {"events": days, "daily": days,
                                                       "week": built},
                           {"week": ["day=2026-12-01"]},
                           lambda d, k: k in built, {"events"})
    assert plan.needed["daily"] == {f"day=2026-11-{d}" for d in range(25, 31)} | {
        "day=2026-12-01"}
    assert plan.run == {"daily": ["day=2026-12-01"], "week": ["day=2026-12-01"]}
    assert plan.missing == []
    # A source partition that is not there is said, and what reads it does not run.
    plan = plan_partitions(upstream, parts, mappings, {"events": days[:-1], "daily": built},
                           {"week": ["day=2026-12-01"]}, lambda d, k: k in built, {"events"})
    assert plan.missing == [("events", "day=2026-12-01", "daily", "day=2026-12-01")]
    assert plan.run == {}
    assert plan.blocked == {("daily", "day=2026-12-01"), ("week", "day=2026-12-01")}
    # A recipe that reads nothing (a fetch of one day) is built, not looked for.
    plan = plan_partitions({"fetch": (), "daily": ("fetch",)}, {"fetch": DAY, "daily": DAY}, {},
                           {}, {"daily": ["day=2026-12-01"]}, lambda d, k: False, set())
    assert plan.run == {"fetch": ["day=2026-12-01"], "daily": ["day=2026-12-01"]}
    assert plan.missing == []


# -- the property: exactly the partitions needed, against a reference that tries them all ----

# All a request can reach: five datasets deep, a day's range reaches 12 days back, a month's
# 4 months either way. (Hours are left to the literal tests: a naive search over a year of
# them is too slow to run often.)
WINDOW = (dt.datetime(2025, 6, 1), dt.datetime(2026, 9, 1))
GRAINS = {"day": DAY, "month": MONTH, "country": COUNTRY, "day_country": DAY_COUNTRY,
          "none": None}


def _universe(p: Partitioning | None, values: tuple[str, ...]) -> list[str | None]:
    if p is None:
        return [None]
    times: list[str | None] = [None]
    if p.time is not None:
        times, at = [], WINDOW[0]
        while at < WINDOW[1]:
            times.append(format_time(p.time.grain, at))
            at = shift(p.time.grain, at, 1)
        times = list(dict.fromkeys(times))
    vals: list[str | None] = [None] if p.value is None else list(p.value.values or values)
    return [p.key(time=t, value=v) for t in times for v in vals]


def _period(p: Partitioning, time: str, lo: int = 0, hi: int = 0) -> tuple[dt.datetime,
                                                                         dt.datetime]:
    assert p.time is not None
    g = p.time.grain
    start = parse_time(g, time)
    return shift(g, start, lo), shift(g, start, hi + 1)


def _naive_reads(out, out_key, inp, m: InputMapping, cand, known) -> bool:
    """Does the output partition read the candidate input partition? Said by overlapping
    time intervals and equal values, not by generating the answer."""
    if inp is None:
        return cand is None
    if cand is None:
        return False
    if m.kind == "range" and cand not in known and inp.time is not None:
        times = [inp.split(k)[0] for k in known]  # a window starts at the input's history
        if not times or inp.split(cand)[0] < min(times):
            return False
    if out is None or out_key is None or m.kind == "all":
        return cand in known
    ot, ov = out.split(out_key)
    ct, cv = inp.split(cand)
    if inp.time is not None:
        if out.time is None:
            if ct not in {inp.split(k)[0] for k in known}:
                return False
        else:
            lo, hi = (m.low, m.high) if m.kind == "range" else (0, 0)
            a, b = _period(out, ot, lo, hi)
            c, d = _period(inp, ct)
            if not (c < b and a < d):
                return False
    if inp.value is not None:
        if out.value is not None and out.value.name == inp.value.name:
            return cv == ov
        return cv in (inp.value.values or {inp.split(k)[1] for k in known})
    return True


@st.composite
def flows(draw):
    n = draw(st.integers(2, 5))
    names = [f"d{i}" for i in range(n)]
    kinds = [draw(st.sampled_from(sorted(GRAINS))) for _ in names]
    upstream, mappings = {}, {}
    for i, name in enumerate(names):
        ins = draw(st.lists(st.sampled_from(names[:i]), max_size=2, unique=True)) if i else []
        if i and not ins:
            ins = [names[i - 1]]
        upstream[name] = tuple(ins)
        for inp in ins:
            kind = draw(st.sampled_from(["equals", "range", "all"]))
            lo = draw(st.integers(-1 if kinds[i] == "month" else -3, 0))
            mappings[(name, inp)] = InputMapping(kind, lo, draw(st.integers(lo, 1)))
    return names, kinds, upstream, mappings


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flows(), st.data())
def test_the_planner_needs_and_runs_exactly_what_a_naive_search_finds(flow, data) -> None:
    names, kinds, upstream, mappings = flow
    parts = {n: GRAINS[k] for n, k in zip(names, kinds, strict=True)}
    discovered = ("BE", "DE", "FR", "NL")  # what a discovered dimension could hold
    universe = {n: _universe(parts[n], discovered) for n in names}
    # What each dataset has now: a random part of the middle of the window; the request,
    # partitions of the last dataset in the second half of January.
    def within(n: str, k: str | None, first: str, last: str) -> bool:
        p = parts[n]
        if k is None or p is None or p.time is None:
            return True
        t = p.split(k)[0] or ""
        return first[:len(t)] <= t <= last[:len(t)]

    known = {}
    for n in names:
        cands = [k for k in universe[n] if k is not None and within(n, k, "2026-01-01",
                                                                    "2026-02-28")]
        known[n] = set(data.draw(st.lists(st.sampled_from(cands), max_size=6))) if cands \
            else set()
    target = names[-1]
    choices = [k for k in universe[target] if within(target, k, "2026-01-15", "2026-01-31")]
    request = {target: set(data.draw(st.lists(st.sampled_from(choices), min_size=1,
                                              max_size=2)))}
    salt = data.draw(st.integers(0, 3))

    def fresh(d, k) -> bool:
        return zlib.crc32(f"{salt}{d}{k}".encode()) % 3 != 0

    sources = {d for d in names if not upstream[d]}
    plan = plan_partitions(upstream, parts, mappings, known, request, fresh, sources)

    # The reference: a fixpoint over every partition each input could have.
    needed = {target: set(request[target])}
    grew = True
    while grew:
        grew = False
        for d in list(needed):
            for k in list(needed[d]):
                for inp in upstream[d]:
                    have = known[inp] | {x for x in request.get(inp, ()) if x is not None}
                    for cand in universe[inp]:
                        if cand not in needed.get(inp, set()) and _naive_reads(
                                parts[d], k, parts[inp], mappings[(d, inp)], cand, have):
                            needed.setdefault(inp, set()).add(cand)
                            grew = True
    assert plan.needed == needed
    run: set[tuple[str, object]] = set()
    blocked: set[tuple[str, object]] = set()
    for d in names:  # in order: inputs come first
        for k in needed.get(d, ()):
            if d in sources:
                continue
            reads_of = {(inp, c) for inp in upstream[d] for c in needed.get(inp, ())
                        if _naive_reads(parts[d], k, parts[inp], mappings[(d, inp)], c,
                                        known[inp] | {x for x in request.get(inp, ())
                                                      if x is not None})}
            gone = any(inp in sources and c is not None and c not in known[inp]
                       for inp, c in reads_of)
            if gone or reads_of & blocked:
                blocked.add((d, k))
            elif not fresh(d, k) or reads_of & run:
                run.add((d, k))
    assert {(d, k) for d, keys in plan.run.items() for k in keys} == run
    assert plan.blocked == blocked


def test_a_layout_shows_its_partitions_and_what_does_not_fit() -> None:
    from weir.model.partitions import discover, partition_dir

    found, stray = discover(DAY_COUNTRY, [
        "day=2026-12-01/country=FR/part-0.parquet", "day=2026-12-01/country=FR/part-1.parquet",
        "day=2026-12-02/country=DE/x.parquet", "day=2026-12-02/README", "notes.txt",
        "day=2026-13-01/country=FR/x.parquet", "_SUCCESS", ".day=2026-12-03.weir-tmp/x",
        "day=2026-12-01/_temporary/x"])
    assert found == {"day=2026-12-01/country=FR", "day=2026-12-02/country=DE"}
    assert stray == ["day=2026-12-02/README", "notes.txt", "day=2026-13-01/country=FR/x.parquet"]
    assert partition_dir("events/", "day=2026-12-01") == "events/day=2026-12-01"


@given(st.lists(st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)), max_size=20),
       st.lists(st.sampled_from(["FR", "DE", "BE"]), min_size=1, max_size=3))
def test_discovery_finds_exactly_the_partitions_written(days, countries) -> None:
    from weir.model.partitions import discover

    keys = {DAY_COUNTRY.key(time=d.isoformat(), value=c) for d in days for c in countries}
    found, stray = discover(DAY_COUNTRY, [f"{k}/part-{n}.parquet" for k in keys for n in (0, 1)])
    assert found == keys and stray == []


# -- partitioning: and inputs: as a dataset file writes them ------------------------------------

def _parsed(text: str):
    from weir.model.partition_config import parse_input_mappings, parse_partitioning
    from weir.model.yamlfile import parse_yaml

    data, diags = parse_yaml("datasets/x.yaml", text)
    assert diags == []
    p, d1 = parse_partitioning("datasets/x.yaml", data) if "partitioning" in data else (None, [])
    m, d2 = parse_input_mappings("datasets/x.yaml", data) if "inputs" in data else ({}, [])
    return p, m, [(d.line, d.code, d.message, d.suggestion) for d in d1 + d2]


def test_a_dataset_file_declares_its_partitioning_and_how_it_reads_inputs() -> None:
    p, m, diags = _parsed("""\
partitioning:
  day: {column: event_date}
  country: {values: [FR, DE]}
inputs:
  daily_revenue: {range: [-6, 0]}
  countries: all
  events: equals
""")
    assert diags == []
    assert p == Partitioning(TimeDimension(Grain.DAY, "event_date"),
                             ValueDimension("country", ("FR", "DE")))
    assert m == {"daily_revenue": InputMapping("range", -6, 0), "countries": InputMapping("all"),
                 "events": InputMapping()}
    p, _, diags = _parsed("partitioning:\n  region: {}\n")
    assert p == Partitioning(value=ValueDimension("region", None)) and diags == []


@pytest.mark.parametrize(("text", "want"), [
    ("partitioning: day\n", (1, "invalid-value", "`partitioning` must name its dimensions")),
    ("partitioning:\n  day: {}\n", (2, "missing-key", "the day dimension needs the `column`")),
    ("partitioning:\n  dya: {column: d}\n", (2, "invalid-value", "'dya' is not a time dimension")),
    ("partitioning:\n  week: {column: d}\n", (2, "invalid-value", "'week' is not a time dimension")),
    ("partitioning:\n  day: {column: d}\n  month: {column: m}\n",
     (3, "invalid-value", "a dataset has one time dimension; 'month' is a second")),
    ("partitioning:\n  day: {colum: d}\n", (2, "unknown-key", "unknown key 'colum'")),
    ("partitioning:\n  country: {values: FR}\n", (2, "invalid-value", "`values` of country")),
    ("partitioning:\n  country: [FR]\n", (2, "not-a-mapping", "dimension 'country' must be")),
    ("inputs:\n  daily: {range: [0, -6]}\n", (2, "invalid-value", "`range` must be [FIRST, LAST]")),
    ("inputs:\n  daily: alll\n", (2, "invalid-value", "input 'daily' is read by")),
    ("inputs: [daily]\n", (1, "invalid-value", "`inputs` must map input names")),
])
def test_partitioning_mistakes_are_said_at_their_line(text: str, want: tuple) -> None:
    _, _, diags = _parsed(text)
    assert len(diags) == 1, diags
    line, code, message, _ = diags[0]
    assert (line, code) == want[:2] and want[2] in message, diags
