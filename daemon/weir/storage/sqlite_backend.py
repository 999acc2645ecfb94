"""Tables in an SQLite database file (the standard library's sqlite3, in WAL mode)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from weir.errors import DataError
from weir.storage.sql_base import (FileDatabase, arrow_for_decl, decl_type, quote, split_loc,
                                   to_array)

if TYPE_CHECKING:
    import pyarrow as pa


class SQLiteBackend(FileDatabase):

    @contextmanager
    def connect(self) -> Iterator[Any]:
        import sqlite3

        try:
            con = sqlite3.connect(self.path(), timeout=30, isolation_level=None)
        except sqlite3.Error as exc:
            raise self.problem(f"cannot open {self.path()}", exc,
                               hint="check `path` and that its directory exists") from None
        try:
            con.execute("PRAGMA journal_mode=WAL")
            yield _AutoCommitSQLite(con)
        finally:
            con.close()

    def open_read_only(self) -> None:
        import sqlite3
        from pathlib import Path

        try:
            con = sqlite3.connect(f"{Path(self.path()).as_uri()}?mode=ro", uri=True, timeout=30)
            try:
                con.execute("SELECT count(*) FROM sqlite_master").fetchone()
            finally:
                con.close()
        except sqlite3.Error as exc:
            raise self.problem(f"cannot read {self.path()}", exc,
                               hint="is it an SQLite database? check `path`") from None

    def begin(self, cur: Any) -> None:
        cur.execute("BEGIN IMMEDIATE")

    def copy_in(self, copies: list[tuple[str, str, str]],
                keep: Mapping[str, str] | None = None) -> dict[str, str]:
        """SQLite's CREATE TABLE AS would keep only type affinities (a TIMESTAMP column comes
        back NUM): each copy is made with its source's own CREATE statement instead."""
        kept: dict[str, str] = {}
        with self.connect() as con:
            cur = con.cursor()
            self.begin(cur)
            for statement in self._replacing(cur, [loc for _, loc, _ in copies], keep or {},
                                             kept):
                cur.execute(statement)
            for place, loc, _ in copies:
                source = place.partition("#")[2].partition(".")[2]
                row = cur.execute("SELECT sql FROM sqlite_master WHERE type='table' AND name=?",
                                  (source,)).fetchone()
                if row is None:
                    con.rollback()
                    raise DataError(f"no table {source} in {self.path()} to copy",
                                    hint="build it here instead (`weir build NAME --only`)")
                columns = row[0][row[0].index("("):]
                cur.execute(f"CREATE TABLE {self.qualified(loc)} {columns}")
                cur.execute(f"INSERT INTO {self.qualified(loc)} SELECT * FROM {quote(source)}")
            con.commit()
        return kept

    def sql_type(self, t: pa.DataType) -> str:
        return decl_type(t)

    def time_literal(self, when: Any) -> str:
        """SQLite keeps dates and times as ISO text (``_sqlite_value``): compared as text, a
        midnight boundary as the bare date so that a date's own text falls inside."""
        return f"'{when.date().isoformat()}'" if when.hour == 0 else \
            f"'{when.isoformat(sep=' ')}'"

    def list_tables(self, cur: Any, schema: str | None) -> list[str]:
        cur.execute("SELECT name FROM sqlite_master WHERE type='table'")
        return [r[0] for r in cur.fetchall()]

    def catalogue(self, con: Any, loc: str) -> dict[str, tuple[str, bool]]:
        cur = con.cursor()
        cur.execute(f"PRAGMA table_info({quote(split_loc(loc)[1])})")
        return {r[1]: (str(r[2] or ""), not r[3]) for r in cur.fetchall()}

    def insert(self, con: Any, qualified: str, table: pa.Table) -> None:
        marks = ", ".join("?" for _ in table.schema)
        rows = [tuple(_sqlite_value(v) for v in row.values()) for row in table.to_pylist()]
        con.cursor().executemany(f"INSERT INTO {qualified} VALUES ({marks})", rows)

    def fetch(self, con: Any, query: str, params: Any = None) -> pa.Table:
        import pyarrow as pa

        cur = con.cursor()
        cur.execute(query, params or ())
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
        decl = _sqlite_decl_types(con, query)
        arrays = []
        for i, name in enumerate(names):
            values = [r[i] for r in rows]
            t = arrow_for_decl(decl.get(name, "")) if name in decl else None
            arrays.append(to_array(values, t))
        return pa.table(dict(zip(names, arrays, strict=True)))

    def probe_query(self, loc: str) -> str:
        return f"SELECT * FROM {self.qualified(loc)}"


class _AutoCommitSQLite:
    """sqlite3 in autocommit mode, with the commit() our shared code calls after BEGIN."""

    def __init__(self, con: Any) -> None:
        self.con = con

    def cursor(self) -> Any:
        return self.con.cursor()

    def commit(self) -> None:
        if self.con.in_transaction:
            self.con.execute("COMMIT")


def _sqlite_decl_types(con: Any, query: str) -> dict[str, str]:
    match = re.search(r'FROM\s+((?:"[^"]+"\.)?"[^"]+"|\w+)\s*$', query)
    if not match:
        return {}
    table = match.group(1).split(".")[-1].strip('"')
    cur = con.cursor()
    cur.execute(f"PRAGMA table_info({quote(table)})")
    return {r[1]: r[2] for r in cur.fetchall()}


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    return v
