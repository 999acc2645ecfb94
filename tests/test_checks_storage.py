"""Checks where the data lies: a streamed output audited from its staged Parquet file (never
whole in memory), a PostgreSQL dataset's checks run inside PostgreSQL, an S3 dataset's on its
staged object — each passing, failing with the previous version live, and the rejected data
readable."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import boto3
import psycopg

import weir
from conftest import run_weir, write_files

STREAM = """
    import pyarrow as pa
    from weir import recipe

    @recipe
    def events():
        # batch by batch; with `overlap: 1` in weir.yaml each batch starts at the last id of
        # the one before
        from weir import var
        for start in range(0, 3000, 1000 - var("overlap")):
            ids = list(range(start, start + 1000))
            yield pa.record_batch({"id": ids, "value": [i % 7 for i in ids]})
    """


def _pg(postgres: object) -> psycopg.Connection:
    return psycopg.connect(host=postgres.host, port=postgres.port,  # type: ignore[attr-defined]
                           user=postgres.user, password=postgres.password,  # type: ignore
                           dbname="mixed", autocommit=True)


def test_a_streamed_output_is_checked_and_measured_from_its_staged_file(
        make_project: Callable[..., Path]) -> None:
    root = make_project({
        "weir.yaml": "name: streamed\nvariables:\n  overlap: 0\n",
        "datasets/events.yaml": """
            schema:
              - {name: id, type: int64, nullable: false}
              - {name: value, type: int64}
            checks:
              - unique: [id]
              - range: {value: {min: 0, max: 6}}
              - name: sevens
                sql: SELECT * FROM events WHERE value = 7
            """,
        "recipes/events.py": STREAM}, name="streamed")
    r = run_weir("build", "events", cwd=root)
    assert r.code == 0, r.text
    assert len(weir.Dataset("events", project=root).to_pandas()) == 3000
    checks = json.loads(run_weir("show", "events", "--json", cwd=root).out)["checks"]
    assert [(c["name"], c["passed"]) for c in checks] == [
        ("unique(id)", True), ("range(value)", True), ("sevens", True)], checks
    metrics = json.loads(run_weir("metrics", "events", "--json", cwd=root).out)
    last = metrics["builds"][-1]
    assert last["rows"] == 3000
    value = next(c for c in last["columns"] if c["name"] == "value")
    assert (value["nulls"], value["min"], value["max"]) == (0, 0, 6), value

    # Batches that overlap: ids found twice. Rejected, the previous 3,000 rows stay live.
    write_files(root, {"weir.yaml": "name: streamed\nvariables:\n  overlap: 1\n"})
    r = run_weir("build", "events", cwd=root)
    assert r.code == 1, r.text
    assert "check unique(id) failed on 'events': 3 values found more than once" in r.out, r.out
    assert "id=999, times=2" in r.out
    assert len(weir.Dataset("events", project=root).to_pandas()) == 3000
    rejected = weir.Dataset("events", project=root).rejected().to_pandas()
    assert len(rejected) == 4000 and rejected["id"].duplicated().sum() == 3
    assert not [p for p in (root / "data/streamed").iterdir() if p.name.startswith(".")]  # no temp left


def test_a_streamed_output_that_breaks_its_declared_schema_is_not_published(
        make_project: Callable[..., Path]) -> None:
    root = make_project({
        "weir.yaml": "name: streamed\nvariables:\n  overlap: 0\n",
        "datasets/events.yaml": """
            schema:
              - {name: id, type: int64, nullable: false}
              - {name: value, type: string}
            """,
        "recipes/events.py": STREAM}, name="streamed")
    r = run_weir("build", "events", cwd=root)
    assert r.code == 1, r.text
    assert "~ value: declared string, got int64" in r.out, r.out
    assert not (root / "data/streamed/events.parquet").exists()
    assert not [p for p in (root / "data/streamed").iterdir() if p.name.startswith(".")]


PG_CHECKS = """
    connection: warehouse
    checks:
      - not_null: [customer]
      - unique: [customer]
      - relationships: {customer: pg_orders.customer}
      - name: in_postgres
        # pg_backend_pid() exists in PostgreSQL only: this query cannot run anywhere else
        sql: SELECT * FROM pg_totals WHERE pg_backend_pid() < 0
    """


def test_an_in_database_recipes_checks_and_metrics_run_inside_postgresql(
        mixed: Path, postgres: object) -> None:
    write_files(mixed, {
        "datasets/pg_totals.yaml": PG_CHECKS,
        "recipes/pg_totals.sql": """
            SELECT customer, sum(amount) AS total FROM pg_orders GROUP BY customer
            """})
    r = run_weir("build", "pg_totals", cwd=mixed)
    assert r.code == 0, r.text
    log = run_weir("logs", "pg_totals", cwd=mixed).out
    assert "running inside PostgreSQL" in log and "check in_postgres: ok" in log, log
    checks = json.loads(run_weir("show", "pg_totals", "--json", cwd=mixed).out)["checks"]
    assert all(c["passed"] for c in checks) and len(checks) == 4, checks
    last = json.loads(run_weir("metrics", "pg_totals", "--json", cwd=mixed).out)["builds"][-1]
    total = next(c for c in last["columns"] if c["name"] == "total")
    assert last["rows"] == 2 and (total["min"], total["max"]) == (3.0, 17.5), last

    # A new customer no order has: the relationship fails; PostgreSQL's table keeps 2 rows.
    write_files(mixed, {"recipes/pg_totals.sql": """
        SELECT customer, sum(amount) AS total FROM pg_orders GROUP BY customer
        UNION ALL SELECT 'ghost', 1
        """})
    r = run_weir("build", "pg_totals", cwd=mixed)
    assert r.code == 1, r.text
    assert "check relationships(customer) failed on 'pg_totals': 1 row whose value is not " \
           "in the other dataset" in r.out, r.out
    with _pg(postgres) as con:
        assert sorted(con.execute("SELECT customer FROM pg_totals").fetchall()) == [
            ("a",), ("b",)]
        tables = {t[0] for t in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema='public'")}
    assert tables == {"orders", "pg_totals"}  # the staged table is gone
    rejected = weir.Dataset("pg_totals", project=mixed).rejected().to_pandas()
    assert sorted(rejected["customer"]) == ["a", "b", "ghost"]


def test_a_python_recipes_postgresql_output_is_checked_in_postgresql(
        mixed: Path, postgres: object) -> None:
    """Its checks' SQL is PostgreSQL's, as for `weir check`, whoever computed the rows; a
    relationship to a dataset on S3 brings that one column into PostgreSQL."""
    write_files(mixed, {
        "datasets/pg_big.yaml": """
            connection: warehouse
            checks:
              - relationships: {id: orders_copy.id}
              - name: cheap
                sql: SELECT * FROM pg_big WHERE amount < 5 AND pg_backend_pid() > 0
                severity: warning
            """,
        "recipes/big.py": """
            import pandas as pd
            from weir import recipe

            @recipe
            def pg_big(pg_orders: pd.DataFrame, orders_copy: pd.DataFrame) -> pd.DataFrame:
                return pg_orders
            """})
    r = run_weir("build", "pg_big", cwd=mixed)
    assert r.code == 0, r.text
    assert "check cheap: warning (1 row returned by the query)" in \
        run_weir("logs", "pg_big", cwd=mixed).out
    # `weir check` on the live table: in PostgreSQL too.
    r = run_weir("check", "pg_big", "--json", cwd=mixed)
    report = json.loads(r.out)
    assert r.code == 0 and report["ok"], r.text
    assert [c["passed"] for c in report["datasets"][0]["checks"]] == [True, False]


def test_an_s3_dataset_failing_its_check_keeps_its_previous_object(
        mixed: Path, s3_server: object) -> None:
    write_files(mixed, {"datasets/orders_copy.yaml": """
        connection: lake
        path: orders.parquet
        checks:
          - range: {amount: {max: 20}}
        """})
    assert run_weir("build", "orders_copy", cwd=mixed).code == 0
    s3 = boto3.client("s3", endpoint_url=s3_server.endpoint,  # type: ignore[attr-defined]
                      region_name="us-east-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    before = s3.get_object(Bucket="lake", Key="shop/orders.parquet")["ETag"]
    keys_before = sorted(o["Key"] for o in
                         s3.list_objects_v2(Bucket="lake", Prefix="shop/")["Contents"])
    write_files(mixed, {"recipes/move.py": (mixed / "recipes/move.py").read_text().replace(
        'sort_values("id")', 'sort_values("id").assign(amount=lambda d: d.amount * 2)')})
    r = run_weir("build", "orders_copy", cwd=mixed)
    assert r.code == 1 and "check range(amount) failed on 'orders_copy': 1 row out of range" \
        in r.out, r.text
    assert s3.get_object(Bucket="lake", Key="shop/orders.parquet")["ETag"] == before
    # Nothing staged is left, and nothing was kept aside for a version that never landed.
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="lake", Prefix="shop/")["Contents"])
    assert keys == keys_before
    assert not [k for k in keys if "orders.parquet" in k and k != "shop/orders.parquet"
                and not k.startswith("shop/.weir-kept/")], keys
    assert weir.Dataset("orders_copy", project=mixed).rejected().to_pandas()["amount"].max() \
        == 21.0
    status = json.loads(run_weir("status", "orders_copy", "--json", cwd=mixed).out)
    assert "check range(amount) failed" in json.dumps(status), status
