"""Tables in a DuckDB database file."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from weir.storage.sql_base import FileDatabase, decl_type, split_loc

if TYPE_CHECKING:
    import pyarrow as pa


class DuckDBBackend(FileDatabase):
    """A DuckDB database file. DuckDB lets one process write a file at a time, so connections
    are short-lived and retried while another process holds the lock."""

    @contextmanager
    def connect(self) -> Iterator[Any]:
        con = self._open(read_only=False)
        try:
            yield _DuckDBConnection(con)
        finally:
            con.close()

    def _open(self, read_only: bool) -> Any:
        import duckdb

        deadline = time.monotonic() + 60
        while True:
            try:
                return duckdb.connect(self.path(), read_only=read_only)
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise self.problem(f"cannot open {self.path()}", exc) from None
                time.sleep(0.05)
            except duckdb.Error as exc:
                raise self.problem(f"cannot open {self.path()}", exc,
                                   hint="is it a DuckDB database? check `path`") from None

    def open_read_only(self) -> None:
        import duckdb

        con = self._open(read_only=True)
        try:
            con.execute("SELECT 1").fetchone()
        except duckdb.Error as exc:
            raise self.problem(f"cannot read {self.path()}", exc) from None
        finally:
            con.close()

    def begin(self, cur: Any) -> None:
        cur.execute("BEGIN TRANSACTION")

    def sql_type(self, t: pa.DataType) -> str:
        return decl_type(t).replace("DOUBLE PRECISION", "DOUBLE")

    def list_tables(self, cur: Any, schema: str | None) -> list[str]:
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
                    [schema or "main"])
        return [r[0] for r in cur.fetchall()]

    def catalogue(self, con: Any, loc: str) -> dict[str, tuple[str, bool]]:
        schema, table = split_loc(loc)
        rows = con.con.execute("SELECT column_name, data_type, is_nullable FROM "
                               "information_schema.columns WHERE table_schema = ? AND "
                               "table_name = ?", [schema or "main", table]).fetchall()
        return {r[0]: (str(r[1]), r[2] == "YES") for r in rows}

    def insert(self, con: Any, qualified: str, table: pa.Table) -> None:
        con.con.register("weir_incoming", table)
        con.con.execute(f"INSERT INTO {qualified} SELECT * FROM weir_incoming")
        con.con.unregister("weir_incoming")

    def fetch(self, con: Any, query: str, params: Any = None) -> pa.Table:
        return con.con.sql(query, params=params).to_arrow_table()

    def probe_query(self, loc: str) -> str:
        return (f"SELECT count(*) AS n, md5(string_agg(md5(t::VARCHAR), '' ORDER BY "
                f"md5(t::VARCHAR))) AS h FROM {self.qualified(loc)} AS t")


class _DuckDBConnection:
    def __init__(self, con: Any) -> None:
        self.con = con

    def cursor(self) -> Any:
        return self.con

    def commit(self) -> None:
        try:
            self.con.execute("COMMIT")
        except Exception:  # noqa: BLE001 - no transaction open: autocommitted already
            pass
