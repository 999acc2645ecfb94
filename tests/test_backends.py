"""Every connection type passes the same behavioural suite: write, read, overwrite atomically,
a failed write keeps the previous version, version detection, lossless schemas."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from weir.storage.backends import Backend, ConnectionProblem, backend_for
from weir.storage.secrets import MissingSecret

TYPES = ["filesystem", "s3", "sqlite", "duckdb", "postgresql"]
_db_counter = itertools.count()


def table(n: int, offset: int = 0) -> pa.Table:
    return pa.table({
        "id": pa.array(range(offset, offset + n), pa.int64()),
        "amount": pa.array([i * 1.5 for i in range(n)], pa.float64()),
        "name": pa.array([f"n{i}" if i % 3 else None for i in range(n)], pa.string()),
        "flag": pa.array([i % 2 == 0 for i in range(n)], pa.bool_()),
        "at": pa.array([dt.datetime(2025, 1, 1, 12, 0, 0) + dt.timedelta(hours=i)
                        for i in range(n)], pa.timestamp("us")),
        "day": pa.array([dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(n)],
                        pa.date32()),
    })


@pytest.fixture(params=TYPES)
def backend(request, tmp_path: Path) -> Iterator[tuple[Backend, str, str]]:
    kind = request.param
    if kind == "filesystem":
        yield backend_for(tmp_path, "files", kind, {"root": "data"}), "out/t.parquet", "parquet"
    elif kind == "s3":
        server = request.getfixturevalue("s3_server")
        bucket = f"bucket{next(_db_counter)}"
        monkeypatch = request.getfixturevalue("monkeypatch")
        monkeypatch.setenv("TEST_S3_SECRET", "secret-key-for-moto")
        b = backend_for(tmp_path, "lake", kind, {
            "bucket": bucket, "prefix": "weir", "endpoint_url": server.endpoint,
            "region": "us-east-1", "access_key_id": "testing",
            "secret_access_key": "${env:TEST_S3_SECRET}"})
        import boto3

        boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                     aws_access_key_id="testing",
                     aws_secret_access_key="testing").create_bucket(Bucket=bucket)
        yield b, "out/t.parquet", "parquet"
    elif kind in ("sqlite", "duckdb"):
        yield backend_for(tmp_path, "db", kind, {"path": f"w.{kind}"}), "orders", "table"
    else:
        pg = request.getfixturevalue("postgres")
        name = f"behaviour{next(_db_counter)}"
        pg.create_database(name)
        monkeypatch = request.getfixturevalue("monkeypatch")
        monkeypatch.setenv("TEST_PG_PASSWORD", pg.password)
        yield backend_for(tmp_path, "pg", kind, {
            "host": pg.host, "port": pg.port, "database": name, "user": pg.user,
            "password": "${env:TEST_PG_PASSWORD}"}), "orders", "table"


def write(b: Backend, loc: str, fmt: str, data: pa.Table, token: str) -> None:
    handle, _, rows = b.stage(loc, fmt, data, token)
    assert rows == data.num_rows
    b.commit(loc, fmt, handle)


def test_write_read_round_trip_is_lossless(backend) -> None:
    b, loc, fmt = backend
    assert not b.exists(loc, fmt)
    write(b, loc, fmt, table(5), "t1")
    assert b.exists(loc, fmt)
    got = b.read(loc, fmt)
    assert got.schema.names == table(5).schema.names
    assert got.equals(table(5)), (got.schema, got.to_pylist())


def test_overwrite_is_atomic_and_failure_keeps_previous(backend) -> None:
    b, loc, fmt = backend
    write(b, loc, fmt, table(3), "first")
    handle, _, _ = b.stage(loc, fmt, table(7, offset=100), "second")
    assert b.read(loc, fmt).num_rows == 3  # staged data is invisible until committed
    b.discard(loc, fmt, handle)  # the build failed
    assert b.read(loc, fmt).equals(table(3))
    handle, _, _ = b.stage(loc, fmt, table(7, offset=100), "third")
    b.cleanup_stale(loc, fmt)  # what the next build does after a kill -9
    assert b.read(loc, fmt).equals(table(3))
    write(b, loc, fmt, table(7, offset=100), "fourth")
    assert b.read(loc, fmt).equals(table(7, offset=100))
    b.drop(loc, fmt)
    assert not b.exists(loc, fmt)


def test_version_detection(backend) -> None:
    b, loc, fmt = backend
    assert b.version(loc, fmt, None)[0] is None
    write(b, loc, fmt, table(3), "a")
    v1, memo = b.version(loc, fmt, None)
    assert v1 is not None
    assert b.version(loc, fmt, memo)[0] == v1  # unchanged data, same version
    write(b, loc, fmt, table(3, offset=1), "b")
    assert b.version(loc, fmt, memo)[0] not in (None, v1)


def test_check_reports_success(backend) -> None:
    b, _, _ = backend
    assert b.check()


@pytest.mark.parametrize("backend", ["filesystem", "s3"], indirect=True)
def test_a_folder_lists_its_files_while_staged_and_once_committed(backend) -> None:
    b, _, _ = backend
    files = {"a.csv": b"x,y\n", "charts/b.png": b"png", "draft.weir-tmp-1.txt": b"mine"}
    handle, staged = b.folder_staging("exports", "exports", "run1-ab")
    for path, data in files.items():
        with staged.open(path, "wb") as f:
            f.write(data)
    assert staged.list() == sorted(files)  # what the build counts as the folder's files
    b.commit("exports", "folder", handle)
    store = b.folder_store("exports", "exports", writable=False)
    assert store.list() == sorted(files)
    with store.open("charts/b.png") as f:
        assert f.read() == b"png"
    # A rebuild staged beside it is not part of it until committed.
    handle, staged = b.folder_staging("exports", "exports", "run2-cd")
    with staged.open("c.csv", "wb") as f:
        f.write(b"z\n")
    assert store.list() == sorted(files) and staged.list() == ["c.csv"]
    b.commit("exports", "folder", handle)
    assert store.list() == ["c.csv"]


@pytest.mark.parametrize("kind", ["sqlite", "duckdb"])
def test_a_database_file_is_created_by_a_write_only(kind: str, tmp_path: Path) -> None:
    b = backend_for(tmp_path, "db", kind, {"path": f"marts.{kind}"})
    path = tmp_path / f"marts.{kind}"
    assert b.check() == f"{path} does not exist yet; weir creates it at the first build"
    assert not b.exists("orders", "table") and b.version("orders", "table", None) == (None, None)
    b.cleanup_stale("orders", "table")
    b.drop("orders", "table")
    assert not path.exists()
    write(b, "orders", "table", table(2), "t1")
    assert path.exists() and b.check() == f"opened {path}"
    assert b.sample_schema("orders", "table").names == table(2).schema.names
    path.write_bytes(b"not a database, just some bytes " * 100)
    with pytest.raises(ConnectionProblem, match=f"cannot (read|open) {path}"):
        b.check()
    missing = backend_for(tmp_path, "db", kind, {"path": "no/such/dir/marts.db"})
    with pytest.raises(ConnectionProblem, match="the directory of .* does not exist"):
        missing.check()


def test_postgres_wrong_password_unreachable_and_missing_secret(postgres, tmp_path: Path,
                                                                monkeypatch) -> None:
    base = {"host": postgres.host, "port": postgres.port, "database": "postgres",
            "user": postgres.user}
    monkeypatch.setenv("BAD_PW", "not-the-password")
    with pytest.raises(ConnectionProblem) as exc:
        backend_for(tmp_path, "pg", "postgresql", {**base, "password": "${env:BAD_PW}"}).check()
    assert "authentication failed" in exc.value.message
    assert "not-the-password" not in exc.value.message + (exc.value.hint or "")
    with pytest.raises(ConnectionProblem) as exc:
        backend_for(tmp_path, "pg", "postgresql",
                    {**base, "port": 1, "password": postgres.password}).check()
    assert "cannot reach 127.0.0.1:1" in exc.value.message
    monkeypatch.delenv("NOPE_PW", raising=False)
    with pytest.raises(MissingSecret) as exc2:
        backend_for(tmp_path, "pg", "postgresql", {**base, "password": "${env:NOPE_PW}"}).check()
    assert "environment variable NOPE_PW, which is not set" in exc2.value.message


def test_s3_missing_bucket_and_unreachable_endpoint(s3_server, tmp_path: Path) -> None:
    creds = {"region": "us-east-1", "access_key_id": "testing", "secret_access_key": "x"}
    with pytest.raises(ConnectionProblem, match="bucket 'nope' does not exist"):
        backend_for(tmp_path, "lake", "s3", {"bucket": "nope", "endpoint_url": s3_server.endpoint,
                                              **creds}).check()
    with pytest.raises(ConnectionProblem, match="cannot list the bucket"):
        backend_for(tmp_path, "lake", "s3", {"bucket": "b", "endpoint_url": "http://127.0.0.1:1",
                                              **creds}).check()
