"""Partitioned datasets on s3 (issue 18), against a real S3 API (moto's server): the Hive layout
as objects — listed with a version per partition, read with their partition columns, one
partition replaced whole while the others stay, a row of another partition refused — and a
partitioned Flow on s3 built, one partition at a time, through the CLI."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from weir.errors import DataError
from weir.model.partitions import Grain, Partitioning, TimeDimension, ValueDimension
from weir.storage.backends import Backend, backend_for

from conftest import run_weir
from test_partitioned_files import (FR_DAYS, LAID_OUT, LAID_OUT_KEYS, assert_fr_days,
                                    laid_out_amounts)

DAY = Partitioning(TimeDimension(Grain.DAY, "event_date"))
DAY_COUNTRY = Partitioning(TimeDimension(Grain.DAY, "event_date"), ValueDimension("country", None))
COUNTRY = Partitioning(value=ValueDimension("country", None))
SECRET = "moto-partitions-secret"
_buckets = itertools.count()


class Bucket:
    """A fresh bucket on the moto server, seen directly through boto3 (not through weir)."""

    def __init__(self, endpoint: str) -> None:
        import boto3

        self.name = f"parts{next(_buckets)}"
        self.endpoint = endpoint
        self.client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                                   aws_access_key_id="testing", aws_secret_access_key="testing")
        self.client.create_bucket(Bucket=self.name)

    def put(self, key: str, data: pa.Table | bytes) -> None:
        if isinstance(data, pa.Table):
            buf = io.BytesIO()
            pq.write_table(data, buf)
            data = buf.getvalue()
        self.client.put_object(Bucket=self.name, Key=key, Body=data)

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name,
                                                                      Prefix=prefix)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def etag(self, key: str) -> str:
        return str(self.client.head_object(Bucket=self.name, Key=key)["ETag"])

    def read(self, key: str) -> pa.Table:
        body = self.client.get_object(Bucket=self.name, Key=key)["Body"].read()
        return pq.read_table(io.BytesIO(body))

    def connection(self, prefix: str = "lake") -> dict[str, str]:
        return {"bucket": self.name, "prefix": prefix, "endpoint_url": self.endpoint,
                "region": "us-east-1", "access_key_id": "testing",
                "secret_access_key": "${env:PARTS_S3_SECRET}"}


@pytest.fixture
def bucket(s3_server, monkeypatch) -> Bucket:
    monkeypatch.setenv("PARTS_S3_SECRET", SECRET)
    return Bucket(s3_server.endpoint)


@pytest.fixture
def lake(bucket: Bucket, tmp_path: Path) -> Backend:
    return backend_for(tmp_path, "lake", "s3", bucket.connection())


def write(b: Backend, partitioning: Partitioning, key: str, data: pa.Table, fmt: str = "parquet",
          loc: str = "daily") -> str:
    handle, _, rows = b.stage_partition(loc, fmt, partitioning, key, data, "t")
    assert rows == data.num_rows
    b.commit_partition(loc, fmt, handle, partitioning, key)
    return handle


# -- the backend: list, read, stage, commit, drop ----------------------------------------------

def test_a_source_laid_out_by_hand_is_listed_with_versions_and_read_with_its_partition_columns(
        bucket: Bucket, lake: Backend) -> None:
    for day, country, n in LAID_OUT:
        bucket.put(f"lake/events/day={day}/country={country}/part-0.parquet",
                   laid_out_amounts(n))
    bucket.put("lake/events/_SUCCESS", b"")
    bucket.put("lake/events/day=2026-12-02/country=FR/.part-0.parquet.crc", b"x")
    bucket.put("lake/events/notes.txt", b"fits no partition")
    versions = lake.partitions("events", "parquet", DAY_COUNTRY)
    assert set(versions) == LAID_OUT_KEYS  # the countries found, not declared
    assert_fr_days(lake.read_partitions("events", "parquet", DAY_COUNTRY, FR_DAYS))
    with pytest.raises(DataError, match=r"partition day=2026-12-03/country=FR of "
                                        rf"s3://{bucket.name}/lake/events does not exist"):
        lake.read_partitions("events", "parquet", DAY_COUNTRY, ["day=2026-12-03/country=FR"])

    # A partition's version moves when one of its objects is rewritten or added, and no other.
    bucket.put("lake/events/day=2026-12-01/country=DE/part-0.parquet", pa.table({"amount": [9.0]}))
    after = lake.partitions("events", "parquet", DAY_COUNTRY)
    assert after["day=2026-12-01/country=DE"] != versions["day=2026-12-01/country=DE"]
    bucket.put("lake/events/day=2026-12-02/country=FR/part-1.parquet", laid_out_amounts(1))
    later = lake.partitions("events", "parquet", DAY_COUNTRY)
    assert later["day=2026-12-02/country=FR"] != after["day=2026-12-02/country=FR"]
    assert {k: v for k, v in later.items() if k != "day=2026-12-02/country=FR"} == {
        k: v for k, v in after.items() if k != "day=2026-12-02/country=FR"}
    # The same bytes written again keep the version: it is the data's, not the write's.
    bucket.put("lake/events/day=2026-12-01/country=FR/part-0.parquet", laid_out_amounts(2))
    assert lake.partitions("events", "parquet", DAY_COUNTRY)["day=2026-12-01/country=FR"] \
        == versions["day=2026-12-01/country=FR"]
    assert lake.partitions("nothing_here", "parquet", DAY) == {}


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_partition_is_replaced_whole_and_the_others_stay(bucket: Bucket, lake: Backend,
                                                           fmt: str) -> None:
    for day, total in (("2026-12-01", 1.0), ("2026-12-02", 2.0)):
        write(lake, DAY, f"day={day}",
              pa.table({"event_date": [dt.date.fromisoformat(day)], "total": [total]}), fmt)
    # An object the new version does not have (a second file, written by hand) goes with it.
    ext = "parquet" if fmt == "parquet" else "csv"
    stray = f"lake/daily/day=2026-12-02/part-1.{ext}"
    bucket.client.copy_object(Bucket=bucket.name, Key=stray, CopySource={
        "Bucket": bucket.name, "Key": f"lake/daily/day=2026-12-02/part-0.{ext}"})
    assert sorted(lake.read_partitions("daily", fmt, DAY, ["day=2026-12-02"])
                  .column("total").to_pylist()) == [2.0, 2.0]
    first = bucket.etag(f"lake/daily/day=2026-12-01/part-0.{ext}")
    before = lake.partitions("daily", fmt, DAY)

    handle, _, _ = lake.stage_partition("daily", fmt, DAY, "day=2026-12-02", pa.table(
        {"event_date": [dt.date(2026, 12, 2)] * 2, "total": [5.0, 6.0]}), "t2")
    # Staged, it is invisible: to the listing, to a read, and as a partition.
    assert lake.partitions("daily", fmt, DAY) == before
    assert sorted(lake.read_partitions("daily", fmt, DAY, ["day=2026-12-02"])
                  .column("total").to_pylist()) == [2.0, 2.0]
    lake.commit_partition("daily", fmt, handle, DAY, "day=2026-12-02")

    assert bucket.keys() == [f"lake/daily/day=2026-12-01/part-0.{ext}",
                             f"lake/daily/day=2026-12-02/part-0.{ext}"]  # no staging left
    assert sorted(lake.read_partitions("daily", fmt, DAY, ["day=2026-12-02"])
                  .column("total").to_pylist()) == [5.0, 6.0]
    assert lake.read_partitions("daily", fmt, DAY, ["day=2026-12-01"]).column("total") \
        .to_pylist() == [1.0]
    assert bucket.etag(f"lake/daily/day=2026-12-01/part-0.{ext}") == first  # untouched
    after = lake.partitions("daily", fmt, DAY)
    assert after["day=2026-12-01"] == before["day=2026-12-01"]
    assert after["day=2026-12-02"] != before["day=2026-12-02"]
    lake.drop_partition("daily", fmt, DAY, "day=2026-12-01")
    assert set(lake.partitions("daily", fmt, DAY)) == {"day=2026-12-02"}


def test_a_discrete_value_is_its_own_prefix_not_the_start_of_another(bucket: Bucket,
                                                                     lake: Backend) -> None:
    """``country=FR`` is not a prefix of ``country=FRA`` on s3 (its keys are plain text)."""
    for value in ("FR", "FRA"):
        write(lake, COUNTRY, f"country={value}", pa.table({"country": [value], "n": [1]}),
              loc="by_country")
    write(lake, COUNTRY, "country=FR", pa.table({"country": ["FR"], "n": [2]}), loc="by_country")
    got = lake.read_partitions("by_country", "parquet", COUNTRY, ["country=FR", "country=FRA"])
    assert sorted(zip(got.column("country").to_pylist(), got.column("n").to_pylist(),
                      strict=True)) == [("FR", 2), ("FRA", 1)]
    lake.drop_partition("by_country", "parquet", COUNTRY, "country=FR")
    assert bucket.keys() == ["lake/by_country/country=FRA/part-0.parquet"]


def test_a_row_of_another_partition_is_refused_and_nothing_is_uploaded(bucket: Bucket,
                                                                       lake: Backend) -> None:
    wrong = pa.table({"event_date": [dt.date(2026, 12, 1), dt.date(2026, 12, 3)],
                      "total": [1.0, 2.0]})
    with pytest.raises(DataError, match="holds a row whose event_date is 2026-12-03, outside "
                                        "day 2026-12-01"):
        lake.stage_partition("daily", "parquet", DAY, "day=2026-12-01", wrong, "t")
    with pytest.raises(DataError, match="holds a row whose country is DE"):
        lake.stage_partition("daily", "parquet", DAY_COUNTRY, "day=2026-12-01/country=FR",
                             pa.table({"country": ["FR", "DE"]}), "t")
    assert bucket.keys() == []


def test_a_failed_partition_keeps_the_previous_one_and_leaves_nothing_staged(
        bucket: Bucket, lake: Backend) -> None:
    key = "day=2026-12-01/country=FR"
    data = pa.table({"event_date": [dt.date(2026, 12, 1)], "country": ["FR"], "total": [1.0]})
    write(lake, DAY_COUNTRY, key, data)
    published = bucket.keys()
    handle, _, _ = lake.stage_partition("daily", "parquet", DAY_COUNTRY, key,
                                        data.set_column(2, "total", pa.array([7.0])), "t2")
    assert len(bucket.keys()) == 2 and handle.endswith(".country=FR.weir-tmp-t2")
    lake.discard("daily", "parquet", handle)  # its checks failed, say
    assert bucket.keys() == published
    # Nothing staged (it was discarded, or lost) is refused, never an emptied partition.
    with pytest.raises(DataError, match=f"partition {key} of s3://.*/daily has nothing staged"):
        lake.commit_partition("daily", "parquet", handle, DAY_COUNTRY, key)
    assert bucket.keys() == published
    assert lake.read_partitions("daily", "parquet", DAY_COUNTRY, [key]).column("total") \
        .to_pylist() == [1.0]


# -- end to end: a partitioned Flow on s3, built by the CLI ------------------------------------

def events(*amounts_: float) -> pa.Table:
    """A day's events as a source writes them: the day is in the path, not a column."""
    return pa.table({"id": list(range(len(amounts_))), "amount": list(amounts_)})


def project(make_project: Callable[..., Path], bucket: Bucket, files: dict[str, str]) -> Path:
    conn = "\n".join(f"    {k}: {v}" for k, v in bucket.connection().items())
    return make_project({
        "connections.yaml": f"connections:\n  lake:\n    type: s3\n{conn}\n",
        "weir.yaml": "name: parts\ndefault_connection: lake\n",
        **files})


def status_of(root: Path, name: str) -> dict[str, Any]:
    r = run_weir("status", name, "--partitions", "--json", cwd=root)
    assert r.code == 0, r.text
    [entry] = [d for d in json.loads(r.out)["datasets"] if d["name"] == name]
    return entry


def states(entry: dict[str, Any]) -> dict[str, str]:
    return {p["key"]: p["status"] for p in entry["partition_list"]}


def test_a_daily_flow_on_s3_builds_one_day_and_then_only_the_new_one(
        make_project: Callable[..., Path], bucket: Bucket) -> None:
    for day, got in (("2026-12-01", (1.0, 2.0)), ("2026-12-02", (10.0,))):
        bucket.put(f"lake/events/day={day}/part-0.parquet", events(*got))
    root = project(make_project, bucket, {
        "datasets/events.yaml": "path: events\nformat: parquet\n"
                                "partitioning:\n  day: {column: event_date}\n",
        "datasets/daily.yaml": "partitioning:\n  day: {column: event_date}\n",
        "recipes/daily.py": """
            import pandas as pd
            from weir import recipe

            @recipe
            def daily(events: pd.DataFrame) -> pd.DataFrame:
                return events.groupby("event_date", as_index=False)["amount"].sum()
            """})
    r = run_weir("build", "daily", "--partition", "2026-12-01", cwd=root)
    assert r.code == 0, r.text
    assert bucket.keys("lake/parts/daily/") == ["lake/parts/daily/day=2026-12-01/part-0.parquet"]
    got = bucket.read("lake/parts/daily/day=2026-12-01/part-0.parquet")
    assert got.column("amount").to_pylist() == [3.0]
    assert states(status_of(root, "daily")) == {"day=2026-12-01": "up to date",
                                                "day=2026-12-02": "never built"}
    assert run_weir("build", "daily", cwd=root).code == 0  # the rest
    assert set(states(status_of(root, "daily")).values()) == {"up to date"}

    # A new day lands: it alone is never built; `latest` builds it and touches no other day.
    bucket.put("lake/events/day=2026-12-03/part-0.parquet", events(5.0))
    assert states(status_of(root, "daily")) == {"day=2026-12-01": "up to date",
                                                "day=2026-12-02": "up to date",
                                                "day=2026-12-03": "never built"}
    kept = {k: bucket.etag(k) for k in bucket.keys("lake/parts/daily/")}
    r = run_weir("build", "daily", "--partition", "latest", "--json", cwd=root)
    assert r.code == 0, r.text
    built = [(d["name"], d.get("partition")) for d in json.loads(r.out)["datasets"]
             if d["status"] == "built"]
    assert built == [("daily", "day=2026-12-03")], r.out
    assert {k: bucket.etag(k) for k in kept} == kept
    assert bucket.read("lake/parts/daily/day=2026-12-03/part-0.parquet").column("amount") \
        .to_pylist() == [5.0]

    # A day's source rewritten makes that day stale (its objects' ETags), and no other.
    bucket.put("lake/events/day=2026-12-01/part-0.parquet", events(1.0, 2.0, 4.0))
    assert states(status_of(root, "daily")) == {"day=2026-12-01": "stale",
                                                "day=2026-12-02": "up to date",
                                                "day=2026-12-03": "up to date"}
    assert run_weir("build", "daily", cwd=root).code == 0
    assert bucket.read("lake/parts/daily/day=2026-12-01/part-0.parquet").column("amount") \
        .to_pylist() == [7.0]
    assert not [k for k in bucket.keys() if ".weir-tmp-" in k]  # no staging left behind
    # `weir clean --partition` drops that day's objects, and the day is never built again.
    r = run_weir("clean", "daily", "--partition", "2026-12-02", cwd=root)
    assert r.code == 0, r.text
    assert bucket.keys("lake/parts/daily/") == ["lake/parts/daily/day=2026-12-01/part-0.parquet",
                                                "lake/parts/daily/day=2026-12-03/part-0.parquet"]
    assert states(status_of(root, "daily"))["day=2026-12-02"] == "never built"


def test_countries_found_in_an_s3_layout_are_built_one_by_one(
        make_project: Callable[..., Path], bucket: Bucket) -> None:
    bucket.put("lake/sales/country=FR/part-0.parquet", pa.table({"amount": [1.0, 2.0]}))
    root = project(make_project, bucket, {
        "datasets/sales.yaml": "path: sales\nformat: parquet\npartitioning:\n  country: {}\n",
        "datasets/by_country.yaml": "partitioning:\n  country: {}\n",
        "recipes/by_country.py": """
            import pandas as pd
            from weir import recipe

            @recipe
            def by_country(sales: pd.DataFrame) -> pd.DataFrame:
                return sales.groupby("country", as_index=False)["amount"].sum()
            """})
    assert run_weir("build", "by_country", cwd=root).code == 0
    bucket.put("lake/sales/country=DE/part-0.parquet", pa.table({"amount": [4.0]}))
    assert states(status_of(root, "by_country")) == {"country=FR": "up to date",
                                                     "country=DE": "never built"}
    r = run_weir("build", "by_country", "--partition", "country=DE", cwd=root)
    assert r.code == 0, r.text
    assert bucket.keys("lake/parts/by_country/") == ["lake/parts/by_country/country=DE/part-0.parquet",
                                               "lake/parts/by_country/country=FR/part-0.parquet"]
    got = bucket.read("lake/parts/by_country/country=DE/part-0.parquet")
    assert (got.column("country").to_pylist(), got.column("amount").to_pylist()) == (
        ["DE"], [4.0])
    assert set(states(status_of(root, "by_country")).values()) == {"up to date"}
