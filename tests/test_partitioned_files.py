"""Partitioned datasets as files in the Hive layout (issue 18, in progress): real directories
and Parquet/CSV files — listed, read with their partition columns, replaced whole, and a row of
another partition refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from weir.errors import DataError
from weir.model.partitions import Grain, Partitioning, TimeDimension, ValueDimension
from weir.storage.partitioned_files import (commit_partition, drop_partition, list_partitions,
                                            read_partitions, stage_partition)

DAY = Partitioning(TimeDimension(Grain.DAY, "event_date"))
DAY_COUNTRY = Partitioning(TimeDimension(Grain.DAY, "event_date"), ValueDimension("country", None))


#: A source laid out by hand: (day, country, how many rows), each ``part-0.parquet`` holding
#: only ``amount`` (the path says the day and the country). Shared with the s3 tests.
LAID_OUT = (("2026-12-01", "FR", 2), ("2026-12-01", "DE", 1), ("2026-12-02", "FR", 3))
LAID_OUT_KEYS = {f"day={day}/country={country}" for day, country, _ in LAID_OUT}
FR_DAYS = ["day=2026-12-01/country=FR", "day=2026-12-02/country=FR"]


def laid_out_amounts(n: int) -> pa.Table:
    return pa.table({"amount": [float(i) for i in range(n)]})


def assert_fr_days(got: pa.Table) -> None:
    """``got`` is `FR_DAYS` of `LAID_OUT` read, with their partition columns typed."""
    assert got.schema.field("event_date").type == pa.date32()
    assert sorted(zip(got.column("event_date").to_pylist(), got.column("country").to_pylist(),
                      got.column("amount").to_pylist(), strict=True)) == [
        (dt.date(2026, 12, 1), "FR", 0.0), (dt.date(2026, 12, 1), "FR", 1.0),
        (dt.date(2026, 12, 2), "FR", 0.0), (dt.date(2026, 12, 2), "FR", 1.0),
        (dt.date(2026, 12, 2), "FR", 2.0)]


def test_a_source_laid_out_by_hand_is_listed_and_read_with_its_partition_columns(
        tmp_path: Path) -> None:
    root = tmp_path / "events"
    for day, country, n in LAID_OUT:
        d = root / f"day={day}" / f"country={country}"
        d.mkdir(parents=True)
        pq.write_table(laid_out_amounts(n), d / "part-0.parquet")
    (root / "_SUCCESS").write_text("")
    (root / "day=2026-12-02/country=FR/.part-1.parquet.crc").write_text("x")
    assert list_partitions(root, DAY_COUNTRY) == LAID_OUT_KEYS
    assert_fr_days(read_partitions(root, "parquet", DAY_COUNTRY, FR_DAYS))
    with pytest.raises(DataError, match="partition day=2026-12-03/country=FR of .* does not exist"):
        read_partitions(root, "parquet", DAY_COUNTRY, ["day=2026-12-03/country=FR"])


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_partition_is_replaced_whole_and_the_others_stay(tmp_path: Path, fmt: str) -> None:
    root = tmp_path / "daily"
    for day, total in (("2026-12-01", 1.0), ("2026-12-02", 2.0)):
        key = f"day={day}"
        data = pa.table({"event_date": [dt.date.fromisoformat(day)], "total": [total]})
        commit_partition(root, key, stage_partition(root, fmt, DAY, key, data, "t1"))
    again = pa.table({"event_date": [dt.date(2026, 12, 2)] * 2, "total": [5.0, 6.0]})
    commit_partition(root, "day=2026-12-02",
                     stage_partition(root, fmt, DAY, "day=2026-12-02", again, "t2"))
    assert list_partitions(root, DAY) == {"day=2026-12-01", "day=2026-12-02"}
    assert sorted(read_partitions(root, fmt, DAY, ["day=2026-12-02"]).column("total")
                  .to_pylist()) == [5.0, 6.0]
    assert read_partitions(root, fmt, DAY, ["day=2026-12-01"]).column("total").to_pylist() \
        == [1.0]
    assert not [p for p in root.iterdir() if p.name.startswith(".")]  # no staging left
    drop_partition(root, "day=2026-12-01")
    assert list_partitions(root, DAY) == {"day=2026-12-02"}


def test_a_row_of_another_partition_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    root = tmp_path / "daily"
    wrong = pa.table({"event_date": [dt.date(2026, 12, 1), dt.date(2026, 12, 3)],
                      "total": [1.0, 2.0]})
    with pytest.raises(DataError, match="holds a row whose event_date is 2026-12-03, outside "
                                        "day 2026-12-01"):
        stage_partition(root, "parquet", DAY, "day=2026-12-01", wrong, "t")
    assert not root.exists() or not list(root.rglob("*.parquet"))
    with pytest.raises(DataError, match="holds a row whose country is DE"):
        stage_partition(root, "parquet", DAY_COUNTRY, "day=2026-12-01/country=FR",
                        pa.table({"country": ["FR", "DE"]}), "t")


# -- on SQL tables: rows of a partition column, replaced in one transaction ----------------------

@pytest.fixture(params=["sqlite", "duckdb", "postgresql"])
def sql(request, tmp_path: Path):
    from weir.storage.backends import backend_for

    if request.param == "postgresql":
        pg = request.getfixturevalue("postgres")
        name = f"parts_{abs(hash(request.node.name)) % 10**8}"
        pg.create_database(name)
        params = {"host": pg.host, "port": pg.port, "database": name, "user": pg.user,
                  "password": pg.password}
    else:
        params = {"path": f"marts.{request.param}"}
    return backend_for(tmp_path, "marts", request.param, params)


def _rows(backend, loc: str) -> list[tuple]:
    table = backend.read(loc, "table")
    return sorted(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))


def test_a_table_partition_is_replaced_in_one_transaction_and_the_others_stay(sql) -> None:
    day = pa.table({"event_date": [dt.date(2026, 12, 1), dt.date(2026, 12, 1)],
                    "country": ["FR", "DE"], "total": [1.0, 2.0]})
    next_day = pa.table({"event_date": [dt.date(2026, 12, 2)], "country": ["FR"],
                         "total": [3.0]})
    for key, data in (("day=2026-12-01", day), ("day=2026-12-02", next_day)):
        handle, _, _ = sql.stage("daily", "table", data, "t1")
        sql.commit_partition("daily", "table", handle, DAY, key)
    again = pa.table({"event_date": [dt.date(2026, 12, 1)], "country": ["FR"], "total": [9.0]})
    handle, _, _ = sql.stage("daily", "table", again, "t2")
    sql.commit_partition("daily", "table", handle, DAY, "day=2026-12-01")
    assert [(str(r[0])[:10], r[1], r[2]) for r in _rows(sql, "daily")] == [
        ("2026-12-01", "FR", 9.0), ("2026-12-02", "FR", 3.0)]
    # A discrete partition, and one with a quote in its value.
    country = Partitioning(value=ValueDimension("country", None))
    for value in ("FR", "C'te d'Ivoire"):
        handle, _, _ = sql.stage("by_country", "table",
                                 pa.table({"country": [value], "n": [1]}), "t3")
        sql.commit_partition("by_country", "table", handle, country, f"country={value}")
    sql.drop_partition("by_country", "table", country, "country=FR")
    assert _rows(sql, "by_country") == [("C'te d'Ivoire", 1)]
    with sql.connect() as con:  # no staged table left beside them
        assert sorted(sql.list_tables(con.cursor(), sql.default_schema())) == [
            "by_country", "daily"]


def test_a_table_partition_takes_columns_by_name_and_refuses_rows_outside_it(sql) -> None:
    first = pa.table({"event_date": [dt.date(2026, 12, 1)], "city": ["Paris"],
                      "country": ["FR"]})
    handle, _, _ = sql.stage("t", "table", first, "a")
    sql.commit_partition("t", "table", handle, DAY, "day=2026-12-01")
    swapped = pa.table({"country": ["DE"], "city": ["Berlin"],
                        "event_date": [dt.date(2026, 12, 2)]})
    handle, _, _ = sql.stage("t", "table", swapped, "b")
    sql.commit_partition("t", "table", handle, DAY, "day=2026-12-02")
    table = sql.read("t", "table")
    assert sorted(zip(table.column("city").to_pylist(), table.column("country").to_pylist(),
                      strict=True)) == [("Berlin", "DE"), ("Paris", "FR")]
    for bad in ([dt.date(2026, 12, 5)], [None]):
        handle, _, _ = sql.stage("t", "table", pa.table(
            {"event_date": pa.array(bad, pa.date32()), "city": ["x"], "country": ["y"]}), "c")
        with pytest.raises(DataError, match="1 row of the data for partition day=2026-12-01 "
                                            "of t fall outside it"):
            sql.commit_partition("t", "table", handle, DAY, "day=2026-12-01")
        sql.discard("t", "table", handle)
    assert sql.read("t", "table").num_rows == 2  # nothing published


def test_a_build_that_died_midway_leaves_nothing_behind_and_loses_no_partition(
        tmp_path: Path) -> None:
    from weir.storage.backends import backend_for
    from weir.storage.locations import TMP_MARK
    from weir.storage.partitioned_files import cleanup_partitions

    root = tmp_path / "data" / "daily"
    for day in ("2026-12-01", "2026-12-02"):
        key = f"day={day}"
        commit_partition(root, key, stage_partition(
            root, "parquet", DAY, key,
            pa.table({"event_date": [dt.date.fromisoformat(day)], "total": [1.0]}), "t"))
    # died between moving day 2 aside and moving its new version in; and while staging day 3
    (root / "day=2026-12-02").rename(root / f".day=2026-12-02{TMP_MARK}old")
    stage_partition(root, "parquet", DAY, "day=2026-12-03",
                    pa.table({"event_date": [dt.date(2026, 12, 3)], "total": [3.0]}), "dead")
    country = root / "day=2026-12-01"
    (country / f".country=FR{TMP_MARK}x").mkdir()  # a second dimension's staging
    assert list_partitions(root, DAY) == {"day=2026-12-01"}  # readers never see staging
    backend = backend_for(tmp_path, "local", "filesystem", {"root": "data"})
    backend.cleanup_stale("daily", "parquet")  # a job that died: its siblings' staging stays
    assert (root / f".day=2026-12-03{TMP_MARK}dead").exists()
    backend.cleanup_stale_many([("daily", "parquet")])  # a build starts: it goes
    assert sorted(p.name for p in root.iterdir()) == ["day=2026-12-01", "day=2026-12-02"]
    assert not [p for p in country.iterdir() if p.name.startswith(".")]
    assert read_partitions(root, "parquet", DAY, ["day=2026-12-02"]).column(
        "total").to_pylist() == [1.0]
    cleanup_partitions(root)  # again: nothing more to do
    assert list_partitions(root, DAY) == {"day=2026-12-01", "day=2026-12-02"}
