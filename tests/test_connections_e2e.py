"""A Flow across real storage: a PostgreSQL source, an S3 intermediate, SQLite and DuckDB
outputs — built, re-built when the source table changes, and no secret written anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import psycopg
import pyarrow.parquet as pq

from conftest import PG_SECRET, S3_SECRET, run_weir, write_files



def test_flow_across_postgres_s3_sqlite_duckdb(mixed: Path, postgres, s3_server) -> None:
    r = run_weir("connections", "test", cwd=mixed)
    assert r.code == 0, r.text
    assert "connected to 127.0.0.1" in r.out and "listed bucket lake" in r.out
    # Testing and looking create no database file: the first build does.
    assert f"{mixed / 'marts.sqlite'} does not exist yet; weir creates it" in r.out, r.out
    assert f"{mixed / 'marts.duckdb'} does not exist yet; weir creates it" in r.out, r.out
    assert run_weir("status", cwd=mixed).code == 0
    assert not (mixed / "marts.sqlite").exists() and not (mixed / "marts.duckdb").exists()
    r = run_weir("build", "--all", cwd=mixed)
    assert r.code == 0, r.text
    assert "3 built" in r.out
    r = run_weir("connections", "test", "lite", "duck", cwd=mixed)
    assert r.code == 0 and f"opened {mixed / 'marts.sqlite'}" in r.out, r.text
    assert f"opened {mixed / 'marts.duckdb'}" in r.out, r.text

    import s3fs
    fs = s3fs.S3FileSystem(key="testing", secret="x",
                           client_kwargs={"endpoint_url": s3_server.endpoint,
                                          "region_name": "us-east-1"})
    with fs.open("lake/shop/orders.parquet", "rb") as f:
        assert pq.read_table(f).column("id").to_pylist() == [1, 2, 3]
    import sqlite3
    with sqlite3.connect(mixed / "marts.sqlite") as con:
        assert con.execute("SELECT * FROM totals ORDER BY customer").fetchall() == \
            [("a", 17.5), ("b", 3.0)]
    with duckdb.connect(str(mixed / "marts.duckdb")) as con:
        assert con.execute("SELECT customer FROM big_customers").fetchall() == [("a",)]

    assert run_weir("build", "--all", cwd=mixed).out.startswith("Nothing to do")
    # New rows in the source table are noticed, and everything downstream is rebuilt.
    with psycopg.connect(host=postgres.host, port=postgres.port, user=postgres.user,
                         password=postgres.password, dbname="mixed", autocommit=True) as con:
        con.execute("INSERT INTO orders VALUES (4, 'b', 40)")
    status = json.loads(run_weir("status", "--json", cwd=mixed).out)
    reasons = {d["name"]: d["reasons"] for d in status["datasets"]}
    assert reasons["orders_copy"] == ["input pg_orders changed"]
    r = run_weir("build", "big_customers", "--json", cwd=mixed)
    assert {d["name"] for d in json.loads(r.out)["datasets"]} == {"orders_copy", "totals",
                                                                  "big_customers"}
    with duckdb.connect(str(mixed / "marts.duckdb")) as con:
        assert sorted(con.execute("SELECT customer FROM big_customers").fetchall()) == \
            [("a",), ("b",)]

    # A failing recipe leaves the previous table readable.
    recipe = mixed / "recipes/move.py"
    recipe.write_text(recipe.read_text().replace("return totals[totals.total > 5]",
                                                 "raise RuntimeError('boom')"))
    r = run_weir("build", "big_customers", cwd=mixed)
    assert r.code == 1 and "RuntimeError: boom" in r.out
    with duckdb.connect(str(mixed / "marts.duckdb")) as con:
        assert len(con.execute("SELECT * FROM big_customers").fetchall()) == 2
        tables = sorted(t[0] for t in con.execute("SHOW TABLES").fetchall())
        # No staging table is left behind; the version the successful rebuild replaced is
        # kept aside (for a revert to restore by copy), holding the first build's one row.
        assert tables[1] == "big_customers" and len(tables) == 2, tables
        assert tables[0].startswith("_weir_kept_big_customers_"), tables
        assert con.execute(f'SELECT customer FROM "{tables[0]}"').fetchall() == [("a",)]

    # No secret value in anything weir wrote, nor in what it printed.
    printed = run_weir("connections", "list", "--json", cwd=mixed).out + r.text
    assert "${env:PG_PASSWORD}" in printed
    for path in [*mixed.rglob("*")]:
        if path.is_file() and ".git" not in path.parts:
            data = path.read_bytes()
            assert PG_SECRET.encode() not in data, path
            assert S3_SECRET.encode() not in data, path
    assert PG_SECRET not in printed and S3_SECRET not in printed


def test_missing_secret_and_wrong_password_are_clear(mixed: Path, monkeypatch) -> None:
    monkeypatch.delenv("PG_PASSWORD")
    r = run_weir("connections", "test", "warehouse", cwd=mixed)
    assert r.code == 1
    assert "refers to the environment variable PG_PASSWORD, which is not set" in r.out
    r = run_weir("build", "--all", cwd=mixed)
    assert r.code == 2 and "PG_PASSWORD, which is not set" in r.err
    assert "Traceback" not in r.text
    monkeypatch.setenv("PG_PASSWORD", "wrong-password-xyz")
    r = run_weir("connections", "test", "warehouse", cwd=mixed)
    assert r.code == 1 and "authentication failed" in r.out
    assert "wrong-password-xyz" not in r.text


def test_a_missing_credential_only_stops_what_uses_it(make_project) -> None:
    from conftest import SMALL

    root = make_project({**SMALL, "connections.yaml": SMALL["connections.yaml"] + """
          lake:
            type: s3
            bucket: lake
            access_key_id: ${env:WEIR_TEST_NEVER_SET}
            secret_access_key: ${env:WEIR_TEST_NEVER_SET}
        """, "datasets/per_customer.yaml": "connection: lake\n"}, name="cred")
    r = run_weir("status", cwd=root)
    assert r.code == 0, r.text
    line = next(ln for ln in r.out.splitlines() if "per_customer" in ln)
    assert "cannot reach its data (connections.yaml:6: connection 'lake'" in line
    assert "WEIR_TEST_NEVER_SET, which is not set" in line
    r = run_weir("build", "customers", cwd=root)  # on another connection: builds
    assert r.code == 0, r.text
    r = run_weir("build", "per_customer", cwd=root)
    assert r.code == 2
    assert r.err.startswith("error: connections.yaml:6: connection 'lake': `access_key_id` "
                            "refers to the environment variable WEIR_TEST_NEVER_SET")
    assert "Traceback" not in r.text


PG_DOWN = {
    "datasets/pg_orders.yaml": "connection: warehouse\ntable: orders\n",
    "datasets/pg_totals.yaml": "connection: warehouse\n",  # an output on the connection
    "recipes/pg.py": """
        from weir import recipe


        @recipe
        def pg_copy(pg_orders):
            return pg_orders


        @recipe
        def pg_summary(pg_copy):
            return pg_copy


        @recipe
        def pg_totals(orders_clean):
            return orders_clean
        """,
}


def pg_down_project(make_project, port: int) -> Path:
    from conftest import SMALL

    return make_project({**SMALL, **PG_DOWN, "connections.yaml": SMALL["connections.yaml"] + f"""
          warehouse:
            type: postgresql
            host: 127.0.0.1
            port: {port}
            database: shop
            user: weir
        """}, name="pgdown")


def test_an_unreachable_postgres_only_fails_what_uses_it(make_project) -> None:
    from servers import free_port

    port = free_port()  # nothing listens there: connections are refused
    root = pg_down_project(make_project, port)
    cause = f"connections.yaml:6: connection 'warehouse': cannot reach 127.0.0.1:{port}"
    r = run_weir("build", "--all", "--json", cwd=root)
    assert r.code == 1, r.text
    assert "Traceback" not in r.text
    result = {d["name"]: d for d in json.loads(r.out)["datasets"]}
    assert {n: d["status"] for n, d in result.items()} == {
        "orders_clean": "built", "customers": "built", "per_customer": "built",
        "pg_copy": "failed", "pg_totals": "failed", "pg_summary": "skipped"}
    for name in ("pg_copy", "pg_totals"):
        assert result[name]["error"].startswith(cause), result[name]
        assert "check `host` and `port`" in result[name]["error"]
    assert result["pg_summary"]["error"] == "skipped: upstream pg_copy did not build"
    assert (root / "data/small/per_customer.parquet").exists()

    r = run_weir("build", "--all", cwd=root)  # as a person reads it
    summary = r.out.rstrip().splitlines()[-1]  # (a port number can end in "3 failed" above)
    assert r.code == 1 and summary.startswith("2 failed, 1 skipped in "), r.out
    assert cause in r.out and "hint: check `host` and `port`" in r.out
    assert "Traceback" not in r.text

    r = run_weir("status", "--json", cwd=root)
    assert r.code == 0, r.text
    status = {d["name"]: d for d in json.loads(r.out)["datasets"]}
    assert all(status[n]["status"] == "up to date"
               for n in ("orders_clean", "customers", "per_customer"))
    assert status["pg_orders"]["reasons"][0].startswith(f"cannot reach its data ({cause}")

    # Naming only what needs the connection stops at once with its error, as before.
    r = run_weir("build", "pg_summary", cwd=root)
    assert r.code == 2 and r.err.startswith(f"error: {cause}"), r.err
    r = run_weir("plan", "--all", cwd=root)
    assert r.code == 0 and "Nothing to do" not in r.out, r.text
    assert f"pg_copy, pg_totals, pg_summary: cannot be built now ({cause}" in r.out, r.out

    # The same through the daemon, with everything else up to date by now.
    assert run_weir("daemon", "start", cwd=root).code == 0
    try:
        r = run_weir("build", "--all", cwd=root)
        assert r.code == 1, r.text
        assert "3 datasets cannot be built now; nothing else to do" in r.out, r.out
        assert cause in r.out and "2 failed, 1 skipped" in r.out, r.out
    finally:
        run_weir("daemon", "stop", cwd=root)


def test_an_unanswering_postgres_is_tried_once_per_build(make_project) -> None:
    """A server that accepts and hangs up: every connection attempt is counted."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    attempts = 0

    def accept() -> None:
        nonlocal attempts
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            attempts += 1
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    root = pg_down_project(make_project, listener.getsockname()[1])
    try:
        r = run_weir("build", "--all", "--json", cwd=root)
        assert r.code == 1, r.text
        pg_copy = {d["name"]: d for d in json.loads(r.out)["datasets"]}["pg_copy"]
        assert pg_copy["status"] == "failed"
        assert f"127.0.0.1:{listener.getsockname()[1]} hung up" in pg_copy["error"]
        assert "hint: check `host` and `port`" in pg_copy["error"]
        assert attempts == 1, attempts  # not once per dataset on the connection (3 here)
    finally:
        listener.close()


def test_machine_file_overrides_the_project(mixed: Path, tmp_path: Path, monkeypatch) -> None:
    machine = tmp_path / "machine.yaml"
    machine.write_text("connections:\n  lite:\n    path: elsewhere.sqlite\n")
    monkeypatch.setenv("WEIR_CONNECTIONS", str(machine))
    r = run_weir("connections", "list", "--json", cwd=mixed)
    lite = next(c for c in json.loads(r.out) if c["name"] == "lite")
    assert lite["settings"]["path"] == "elsewhere.sqlite"
    machine.write_text("connections:\n  lite:\n    pth: x\n")
    r = run_weir("connections", "list", cwd=mixed)
    assert r.code == 2 and f"{machine}:3: error: unknown key 'pth'" in r.err
    monkeypatch.setenv("WEIR_CONNECTIONS", str(tmp_path / "absent.yaml"))
    r = run_weir("status", cwd=mixed)
    assert r.code == 2 and "does not exist" in r.err


def test_literal_password_in_committed_file_is_a_warning(make_project) -> None:
    root = make_project({"connections.yaml": "connections:\n  db:\n    type: postgresql\n"
                         "    host: h\n    database: d\n    password: hunter2\n"}, name="lit")
    r = run_weir("status", cwd=root)
    assert r.code == 0
    assert "connections.yaml:6: warning: connection 'db' has its password written in" in r.err
    assert "hunter2" not in r.text
    r = run_weir("connections", "list", cwd=root)
    assert "password=(set)" in r.out and "hunter2" not in r.out


def test_sql_recipe_runs_inside_postgres_when_everything_is_there(mixed: Path, postgres) -> None:
    write_files(mixed, {
        "weir.yaml": "name: mixed\nvariables:\n  min_total: 5\n",
        "datasets/pg_totals.yaml": "connection: warehouse\n",
        "recipes/pg_totals.sql": """
            -- a literal '$min_total' and a comment $min_total are left alone
            SELECT customer, sum(amount) AS total, '$min_total' AS note
            FROM pg_orders
            GROUP BY customer
            HAVING sum(amount) >= $min_total
            ORDER BY customer
            """})
    r = run_weir("build", "pg_totals", cwd=mixed)
    assert r.code == 0, r.text
    assert "running inside PostgreSQL" in run_weir("logs", "pg_totals", cwd=mixed).out
    with psycopg.connect(host=postgres.host, port=postgres.port, user=postgres.user,
                         password=postgres.password, dbname="mixed") as con:
        rows = con.execute("SELECT * FROM pg_totals").fetchall()
        tables = {t[0] for t in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema='public'")}
    assert rows == [("a", 17.5, "$min_total")]
    assert tables == {"orders", "pg_totals"}
    shown = run_weir("show", "pg_totals", "--json", cwd=mixed).out
    assert json.loads(shown)["schema"] == [["customer", "string", True], ["total", "double", True],
                                           ["note", "string", True]]
    # A SQL error inside the database is the recipe's failure, clearly, and nothing is left.
    write_files(mixed, {"recipes/pg_totals.sql": "SELECT nope FROM pg_orders"})
    r = run_weir("build", "pg_totals", cwd=mixed)
    assert r.code == 1 and 'PostgreSQL: column "nope" does not exist' in r.out
    assert "Traceback (most recent call last)" not in r.out


def test_schema_and_show_read_a_postgres_source_from_the_catalogue(mixed: Path,
                                                                    postgres) -> None:
    with psycopg.connect(host=postgres.host, port=postgres.port, user=postgres.user,
                         password=postgres.password, dbname="mixed", autocommit=True) as con:
        con.execute("CREATE TABLE items (sku text NOT NULL, qty integer, price numeric(8, 2),"
                    " added timestamptz, day date, ok boolean, tags jsonb)")  # and no rows
    write_files(mixed, {"datasets/pg_items.yaml": "connection: warehouse\ntable: items\n",
                        "datasets/pg_gone.yaml": "connection: warehouse\ntable: gone\n"})
    columns = [["sku", "string", False], ["qty", "int32", True], ["price", "double", True],
               ["added", "timestamp[us, tz=UTC]", True], ["day", "date32[day]", True],
               ["ok", "bool", True], ["tags", "string", True]]
    r = run_weir("schema", "pg_items", cwd=mixed)
    assert r.code == 0, r.text
    assert r.out.splitlines()[:3] == ["schema:", "  - {name: sku, type: string, nullable: false}",
                                      "  - {name: qty, type: int32}"], r.out
    assert json.loads(run_weir("show", "pg_items", "--json", cwd=mixed).out)["schema"] == columns
    shown = run_weir("show", "pg_items", cwd=mixed).out
    assert "schema (observed):" in shown and "sku    string  not null" in shown, shown
    # The same columns as a recipe reading the table gets.
    r = run_weir("schema", "pg_orders", cwd=mixed)
    assert r.code == 0 and "{name: amount, type: double}" in r.out, r.text
    r = run_weir("schema", "pg_gone", cwd=mixed)
    assert r.code == 2 and "no table gone on connection 'warehouse'" in r.err, r.text
    assert "Traceback" not in r.text
    r = run_weir("schema", "pg_items", "--write", cwd=mixed)
    assert r.code == 0 and "nullable: false" in (mixed / "datasets/pg_items.yaml").read_text()


def test_positional_parameters() -> None:
    from weir.storage.postgres_backend import positional_parameters

    text, values = positional_parameters(
        "select $a, '$a', \"$b\", $b -- $c\n, $a /* $c */", {"a": 1, "b": 2, "c": 3})
    assert text == "select $1, '$a', \"$b\", $2 -- $c\n, $1 /* $c */"
    assert values == [1, 2]


def test_version_query_decides_when_a_source_table_changed(mixed: Path, postgres) -> None:
    write_files(mixed, {"datasets/pg_orders.yaml": "connection: warehouse\ntable: orders\n"
                        "version_query: SELECT max(id) FROM orders\n"})
    assert run_weir("build", "orders_copy", cwd=mixed).code == 0

    def reasons() -> list[str]:
        status = json.loads(run_weir("status", "--json", cwd=mixed).out)
        return next(d["reasons"] for d in status["datasets"] if d["name"] == "orders_copy")

    with psycopg.connect(host=postgres.host, port=postgres.port, user=postgres.user,
                         password=postgres.password, dbname="mixed", autocommit=True) as con:
        con.execute("UPDATE orders SET amount = amount + 1")  # max(id) unchanged: not seen
        assert reasons() == []
        con.execute("INSERT INTO orders VALUES (10, 'z', 1)")  # max(id) moved: seen
        assert reasons() == ["input pg_orders changed"]


def test_managed_folder_on_s3(mixed: Path, s3_server) -> None:
    write_files(mixed, {
        "folders/exports.yaml": "connection: lake\n",
        "recipes/exports.py": """
            import weir
            from weir import recipe

            @recipe(outputs=["exports"])
            def export(orders_copy, exports: weir.Folder):
                for customer, rows in orders_copy.groupby("customer"):
                    with exports.open(f"{customer}.csv", "w") as f:
                        f.write(rows.to_csv(index=False))

            @recipe
            def exported(exports: weir.Folder):
                import pandas as pd
                return pd.DataFrame({"file": exports.list(),
                                     "bytes": [len(exports.read_bytes(p)) for p in exports.list()]})
            """})
    r = run_weir("build", "exported", cwd=mixed)
    assert r.code == 0, r.text
    line = next(ln for ln in r.out.splitlines() if ln.startswith("✓ exports "))
    assert "2 files" in line, r.out  # counted while staged, under the temporary prefix
    assert "files:     2" in run_weir("show", "exports", cwd=mixed).out
    import weir

    assert weir.Folder("exports", project=mixed).list() == ["a.csv", "b.csv"]
    assert weir.Dataset("exported", project=mixed).to_pandas()["file"].tolist() == \
        ["a.csv", "b.csv"]
    status = {d["name"]: d["status"] for d in json.loads(
        run_weir("status", "--json", cwd=mixed).out)["datasets"]}
    assert status["exports"] == status["exported"] == "up to date"
    # A rebuild replaces the folder's files: one customer fewer, one file fewer.
    write_files(mixed, {"recipes/move.py": (mixed / "recipes/move.py").read_text().replace(
        'return pg_orders.sort_values("id")', 'return pg_orders[pg_orders.customer == "a"]')})
    assert run_weir("build", "exported", cwd=mixed).code == 0
    assert weir.Folder("exports", project=mixed).list() == ["a.csv"]
