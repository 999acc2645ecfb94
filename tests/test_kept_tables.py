"""Earlier versions kept on every kind of storage (issue 16): a table a build replaces is
renamed aside, not dropped, and an object copied aside on the server, so a revert or a branch
switch copies it back instead of running the recipe — on SQLite, DuckDB, a real PostgreSQL and
a real S3 API — and `weir clean` drops what was kept."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from pathlib import Path

import pytest

from conftest import SMALL, run_weir


def built(root: Path, *args: str) -> dict[str, str]:
    r = run_weir("build", *args, "--json", cwd=root)
    assert r.code == 0, r.text
    return {d["name"]: d["status"] for d in json.loads(r.out)["datasets"]}


def project_on(make_project, connection: str) -> Path:
    files = dict(SMALL)
    files["weir.yaml"] = (textwrap.dedent(SMALL["weir.yaml"]).lstrip("\n")
                          + "default_connection: marts\n")
    files["connections.yaml"] = textwrap.dedent(SMALL["connections.yaml"]) + textwrap.indent(
        textwrap.dedent(connection), "  ")
    return make_project(files, name="tables")


@pytest.fixture(params=["sqlite", "duckdb", "postgresql", "s3"])
def tables(request, make_project, monkeypatch) -> tuple[Path, object]:
    """The small project with its outputs on one kind of table storage, and a function
    reading a table's rows."""
    if request.param == "sqlite":
        root = project_on(make_project, "marts:\n  type: sqlite\n  path: marts.sqlite\n")

        def rows(table: str) -> list[tuple]:
            with sqlite3.connect(root / "marts.sqlite") as con:
                return con.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
        return root, rows
    if request.param == "duckdb":
        import duckdb

        root = project_on(make_project, "marts:\n  type: duckdb\n  path: marts.duckdb\n")

        def rows(table: str) -> list[tuple]:
            con = duckdb.connect(str(root / "marts.duckdb"), read_only=True)
            try:
                return con.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            finally:
                con.close()
        return root, rows
    if request.param == "s3":
        import io

        import boto3
        import pyarrow.parquet as pq

        server = request.getfixturevalue("s3_server")
        client = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        client.create_bucket(Bucket="kept")
        root = project_on(make_project, f"""
            marts:
              type: s3
              bucket: kept
              endpoint_url: {server.endpoint}
              region: us-east-1
              access_key_id: testing
              secret_access_key: testing
            """)

        def rows(table: str) -> list[tuple]:
            body = client.get_object(Bucket="kept", Key=f"small/{table}.parquet")["Body"].read()
            data = pq.read_table(io.BytesIO(body)).to_pylist()
            return sorted(tuple(r.values()) for r in data)
        return root, rows
    import psycopg

    from conftest import PG_SECRET

    postgres = request.getfixturevalue("postgres")
    postgres.create_database("kept")
    monkeypatch.setenv("PG_PASSWORD", PG_SECRET)
    root = project_on(make_project, f"""
        marts:
          type: postgresql
          host: {postgres.host}
          port: {postgres.port}
          database: kept
          user: {postgres.user}
          password: ${{env:PG_PASSWORD}}
        """)

    def rows(table: str) -> list[tuple]:
        with psycopg.connect(host=postgres.host, port=postgres.port, user=postgres.user,
                             password=postgres.password, dbname="kept") as con:
            return con.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
    return root, rows


def test_a_revert_copies_the_kept_table_back_instead_of_running(tables) -> None:
    root, rows = tables
    assert built(root, "per_customer")["per_customer"] == "built"
    first = rows("per_customer")
    sql = root / "recipes/per_customer.sql"
    original = sql.read_text()
    sql.write_text(original.replace("sum(amount) AS revenue", "sum(amount) * 2 AS revenue"))
    assert built(root, "per_customer")["per_customer"] == "built"
    assert rows("per_customer") != first
    changed = rows("per_customer")

    sql.write_text(original)  # the revert: the first version comes back, no recipe runs
    plan = json.loads(run_weir("plan", "per_customer", "--json", cwd=root).out)
    assert [(j["outputs"], j["action"]) for j in plan["jobs"]] == [(["per_customer"],
                                                                     "restore")]
    assert built(root, "per_customer") == {"per_customer": "restored"}
    assert rows("per_customer") == first
    # …and the version it replaced is kept in turn: switching back needs no run either.
    sql.write_text(original.replace("sum(amount) AS revenue", "sum(amount) * 2 AS revenue"))
    assert built(root, "per_customer") == {"per_customer": "restored"}
    assert rows("per_customer") == changed
    status = json.loads(run_weir("status", "--json", cwd=root).out)
    assert {d["name"]: d["status"] for d in status["datasets"]}["per_customer"] == "up to date"

    # weir clean drops the live table and what was kept of it.
    r = run_weir("clean", "per_customer", cwd=root)
    assert r.code == 0, r.text
    sql.write_text(original)
    assert built(root, "per_customer")["per_customer"] == "built"  # nothing left to restore


KEPT_TABLES = {"sqlite": "sqlite_master WHERE name LIKE '\\_weir\\_kept%' ESCAPE '\\'",
               "duckdb": "information_schema.tables WHERE table_name LIKE '\\_weir\\_kept%' "
                         "ESCAPE '\\'",
               "postgresql": "information_schema.tables WHERE table_name LIKE "
                             "'\\_weir\\_kept%' ESCAPE '\\'"}


def test_three_versions_are_kept_and_the_rest_dropped(tables, request) -> None:
    """Restores that replace a table keep it and drop the version unused longest — all of
    a restore's drops over one connection — so a table never has more than three beside it."""
    kind = request.node.callspec.params["tables"]
    if kind == "s3":
        pytest.skip("an s3 object's kept versions are objects, not tables")
    root, rows = tables
    sql = root / "recipes/per_customer.sql"
    original = sql.read_text()

    def version(k: int) -> str:
        sql.write_text(original.replace("sum(amount) AS revenue", f"sum(amount) * {k} AS revenue"))
        return next(iter(built(root, "per_customer").values()))

    data = {}
    for k in (1, 2, 3, 4, 5):
        assert version(k) == "built"
        data[k] = rows("per_customer")
    assert len(rows(KEPT_TABLES[kind])) == 3  # 2, 3 and 4 beside 5; 1 dropped
    for k in (4, 3):  # each restore keeps the one it replaces and drops the one unused longest
        assert version(k) == "restored"
        assert rows("per_customer") == data[k]
        assert len(rows(KEPT_TABLES[kind])) == 3
    assert version(2) == "built"  # dropped by the restore of 4 (which kept 5)
    assert len(rows(KEPT_TABLES[kind])) == 3
