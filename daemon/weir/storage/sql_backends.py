"""Tables on SQLite, DuckDB and PostgreSQL connections.

A write is staged as ``<table>__weir_tmp_<token>`` and committed by dropping the old table and
renaming the new one *in one transaction*: readers see the old data or the new, never a mix, and
a failed build leaves the old table untouched. Types round-trip losslessly for the common Arrow
types (integers, floating point, strings, booleans, dates, timestamps).
"""

from __future__ import annotations

import hashlib
import os
import re
from abc import abstractmethod
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from weir.errors import DataError
from weir.storage.backends import Backend, ConnectionProblem

if TYPE_CHECKING:
    import pyarrow as pa

    from weir.model.project import ColumnSpec

TMP_MARK = "__weir_tmp_"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _split(loc: str) -> tuple[str | None, str]:
    schema, _, table = loc.rpartition(".")
    return (schema or None), table


def _token(token: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", token)


def _arrow_table(data: Any) -> pa.Table:
    import pyarrow as pa

    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    return pa.Table.from_batches(list(data))


def _digest(rows: Any) -> str:
    return hashlib.blake2b(repr(rows).encode(), digest_size=16).hexdigest()


class SQLBackend(Backend):
    """Shared logic; subclasses say how to connect and how types are spelled."""

    def qualified(self, loc: str) -> str:
        schema, table = _split(loc)
        schema = schema or self.default_schema()
        return f"{_quote(schema)}.{_quote(table)}" if schema else _quote(table)

    def default_schema(self) -> str | None:
        return None

    def tmp_name(self, loc: str, token: str) -> str:
        schema, table = _split(loc)
        name = f"{table}{TMP_MARK}{_token(token)}"
        return f"{schema}.{name}" if schema else name

    @contextmanager
    @abstractmethod
    def connect(self) -> Iterator[Any]:
        ...
        yield  # a generator-based context manager

    @abstractmethod
    def sql_type(self, t: pa.DataType) -> str:
        ...

    @abstractmethod
    def list_tables(self, cur: Any, schema: str | None) -> list[str]:
        ...

    @abstractmethod
    def insert(self, con: Any, qualified: str, table: pa.Table) -> None:
        ...

    @abstractmethod
    def fetch(self, con: Any, query: str, params: Any = None) -> pa.Table:
        ...

    @abstractmethod
    def catalogue(self, con: Any, loc: str) -> dict[str, tuple[str, bool]]:
        """The table's columns as the database declares them: ``name -> (type, nullable)``."""
        ...

    # -- Backend ------------------------------------------------------------------------------
    def describe(self, loc: str) -> str:
        return f"{self.name}:{loc} ({self.type} table)"

    def exists(self, loc: str, fmt: str) -> bool:
        schema, table = _split(loc)
        with self.connect() as con:
            return table in self.list_tables(con.cursor(), schema or self.default_schema())

    def read(self, loc: str, fmt: str, schema: list[ColumnSpec] | None = None,
             columns: list[str] | None = None) -> pa.Table:
        cols = ", ".join(_quote(c) for c in columns) if columns else "*"
        if not self.exists(loc, fmt):
            raise DataError(f"no table {loc} on connection '{self.name}'",
                            hint="build it, or fix the dataset's `table`")
        with self.connect() as con:
            return self.fetch(con, f"SELECT {cols} FROM {self.qualified(loc)}")

    def sample_schema(self, loc: str, fmt: str) -> pa.Schema:
        """The table's columns from the database itself, reading no rows (an empty table has
        them too): the types a read gives (a query's description), the nullability the
        catalogue declares."""
        import pyarrow as pa

        if not self.exists(loc, fmt):
            raise DataError(f"no table {loc} on connection '{self.name}'",
                            hint="create it, or fix the dataset's `table`")
        with self.connect() as con:
            typed = self.fetch(con, f"SELECT * FROM {self.qualified(loc)} LIMIT 0").schema
            declared = self.catalogue(con, loc)
        fields = []
        for f in typed:
            decl, nullable = declared.get(f.name, ("", True))
            # A type only rows could tell (none here): the declared one, as a read would.
            type_ = _arrow_for_decl(decl) if pa.types.is_null(f.type) else f.type
            fields.append(pa.field(f.name, type_, nullable))
        return pa.schema(fields)

    def stage(self, loc: str, fmt: str, data: Any, token: str) -> tuple[str, pa.Schema, int]:
        table = _arrow_table(data)
        tmp = self.tmp_name(loc, token)
        columns = ", ".join(f"{_quote(f.name)} {self.sql_type(f.type)}" for f in table.schema)
        with self.connect() as con:
            cur = con.cursor()
            cur.execute(f"DROP TABLE IF EXISTS {self.qualified(tmp)}")
            cur.execute(f"CREATE TABLE {self.qualified(tmp)} ({columns})")
            self.insert(con, self.qualified(tmp), table)
            con.commit()
        return tmp, table.schema, table.num_rows

    def commit(self, loc: str, fmt: str, handle: str) -> None:
        _, table = _split(loc)
        with self.connect() as con:
            cur = con.cursor()
            self.begin(cur)
            cur.execute(f"DROP TABLE IF EXISTS {self.qualified(loc)}")
            cur.execute(f"ALTER TABLE {self.qualified(handle)} RENAME TO {_quote(table)}")
            con.commit()

    def begin(self, cur: Any) -> None:
        pass

    def discard(self, loc: str, fmt: str, handle: str) -> None:
        with self.connect() as con:
            con.cursor().execute(f"DROP TABLE IF EXISTS {self.qualified(handle)}")
            con.commit()

    def drop(self, loc: str, fmt: str) -> None:
        self.discard(loc, fmt, loc)

    def cleanup_stale(self, loc: str, fmt: str) -> None:
        schema, table = _split(loc)
        with self.connect() as con:
            cur = con.cursor()
            for name in self.list_tables(cur, schema or self.default_schema()):
                if name.startswith(f"{table}{TMP_MARK}"):
                    full = f"{schema}.{name}" if schema else name
                    cur.execute(f"DROP TABLE IF EXISTS {self.qualified(full)}")
            con.commit()

    def version(self, loc: str, fmt: str, known: tuple[str, str] | None,
                version_query: str | None = None) -> tuple[str | None, tuple[str, str] | None]:
        if not self.exists(loc, fmt):
            return None, None
        with self.connect() as con:
            if version_query:
                rows = self.fetch(con, version_query).to_pylist()
            else:
                rows = self.fetch(con, self.probe_query(loc)).to_pylist()
        return _digest(rows), None

    @abstractmethod
    def probe_query(self, loc: str) -> str:
        """A change probe over the whole table; a dataset's `version_query` can replace it
        with something cheaper (``SELECT max(updated_at) FROM …``)."""
        ...

    def check(self) -> str:
        with self.connect() as con:
            self.fetch(con, "SELECT 1 AS ok")
        return self.reached()

    def reached(self) -> str:
        return "connected"


# Arrow types <-> the names we declare them as, so reading gives back what was written.
def _decl_type(t: pa.DataType) -> str:
    import pyarrow as pa

    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_integer(t):
        return "BIGINT"
    if pa.types.is_floating(t):
        return "DOUBLE PRECISION"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_decimal(t):
        return f"NUMERIC({t.precision},{t.scale})"
    return "TEXT"


def _arrow_for_decl(decl: str) -> pa.DataType:
    import pyarrow as pa

    decl = decl.upper()
    if "BOOL" in decl:
        return pa.bool_()
    if "INT" in decl:
        return pa.int64()
    if any(k in decl for k in ("DOUBLE", "REAL", "FLOAT", "NUMERIC", "DECIMAL")):
        return pa.float64()
    if "TIMESTAMPTZ" in decl or "WITH TIME ZONE" in decl:
        return pa.timestamp("us", tz="UTC")
    if "TIMESTAMP" in decl or "DATETIME" in decl:
        return pa.timestamp("us")
    if "DATE" in decl:
        return pa.date32()
    return pa.string()


class _FileDatabase(SQLBackend):
    """A database in one local file (`path`, relative to the project or absolute).

    Opening a file that does not exist creates it, so only writes open one that way: asking
    whether a table is there, testing the connection or cleaning up leave no empty database
    behind (in the project, where git would see it)."""

    def path(self) -> str:
        from pathlib import Path

        p = Path(str(self.params["path"])).expanduser()
        return str(p if p.is_absolute() else self.project_root / p)

    def created(self) -> bool:
        return os.path.exists(self.path())

    def exists(self, loc: str, fmt: str) -> bool:
        return self.created() and super().exists(loc, fmt)

    def cleanup_stale(self, loc: str, fmt: str) -> None:
        if self.created():
            super().cleanup_stale(loc, fmt)

    def drop(self, loc: str, fmt: str) -> None:
        if self.created():
            super().drop(loc, fmt)

    def check(self) -> str:
        path = self.path()
        if os.path.exists(path):
            self.open_read_only()
            return self.reached()
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            raise ConnectionProblem(f"connection '{self.name}': the directory of {path} does "
                                    "not exist", hint="create it, or fix `path`")
        if not os.access(directory, os.W_OK):
            raise ConnectionProblem(f"connection '{self.name}': {directory} is not writable by "
                                    f"this user, so {os.path.basename(path)} cannot be created")
        return f"{path} does not exist yet; weir creates it at the first build"

    @abstractmethod
    def open_read_only(self) -> None:
        """Open the file without writing to it and run a query: it is a database we can read."""

    def reached(self) -> str:
        return f"opened {self.path()}"


class SQLiteBackend(_FileDatabase):

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

    def sql_type(self, t: pa.DataType) -> str:
        return _decl_type(t)

    def list_tables(self, cur: Any, schema: str | None) -> list[str]:
        cur.execute("SELECT name FROM sqlite_master WHERE type='table'")
        return [r[0] for r in cur.fetchall()]

    def catalogue(self, con: Any, loc: str) -> dict[str, tuple[str, bool]]:
        cur = con.cursor()
        cur.execute(f"PRAGMA table_info({_quote(_split(loc)[1])})")
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
            t = _arrow_for_decl(decl.get(name, "")) if name in decl else None
            arrays.append(_to_array(values, t))
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
    cur.execute(f"PRAGMA table_info({_quote(table)})")
    return {r[1]: r[2] for r in cur.fetchall()}


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    return v


def _to_array(values: list[Any], t: pa.DataType | None) -> pa.Array:
    import pyarrow as pa

    if t is None:
        return pa.array(values)
    if pa.types.is_timestamp(t):
        values = [datetime.fromisoformat(v) if isinstance(v, str) else v for v in values]
    elif pa.types.is_date(t):
        values = [date.fromisoformat(v) if isinstance(v, str) else v for v in values]
    elif pa.types.is_boolean(t):
        values = [None if v is None else bool(v) for v in values]
    try:
        return pa.array(values, type=t)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(values)


class DuckDBBackend(_FileDatabase):
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
        return _decl_type(t).replace("DOUBLE PRECISION", "DOUBLE")

    def list_tables(self, cur: Any, schema: str | None) -> list[str]:
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
                    [schema or "main"])
        return [r[0] for r in cur.fetchall()]

    def catalogue(self, con: Any, loc: str) -> dict[str, tuple[str, bool]]:
        schema, table = _split(loc)
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


PG_TYPES = {16: "bool", 20: "int64", 21: "int16", 23: "int32", 700: "float", 701: "double",
            1700: "double", 25: "string", 1043: "string", 1042: "string", 1082: "date32",
            1114: "timestamp[us]", 1184: "timestamp[us, tz=UTC]", 114: "string", 3802: "string"}


class PostgresBackend(SQLBackend):
    def default_schema(self) -> str | None:
        return str(self.params.get("schema") or "public")

    def conninfo(self) -> dict[str, Any]:
        p = self.params
        info = {"host": p["host"], "port": int(p.get("port") or 5432), "dbname": p["database"],
                "connect_timeout": int(p.get("connect_timeout") or 5)}
        for key in ("user", "password", "sslmode"):
            if p.get(key) is not None:
                info[key] = str(p[key])
        return info

    @contextmanager
    def connect(self) -> Iterator[Any]:
        import psycopg

        try:
            con = psycopg.connect(**self.conninfo())
        except psycopg.OperationalError as exc:
            raise self._explain(exc) from None
        try:
            yield con
        finally:
            con.close()

    def _explain(self, exc: Exception) -> ConnectionProblem:
        text = str(exc)
        where = f"{self.params.get('host')}:{self.params.get('port') or 5432}"
        if "password authentication failed" in text or "no password supplied" in text:
            return self.problem("authentication failed", _First(text),
                                hint="check `user` and the password its reference points to")
        if "does not exist" in text and "database" in text:
            return self.problem(f"database '{self.params.get('database')}' does not exist",
                                _First(text), hint="check `database`")
        if any(k in text for k in ("Connection refused", "could not translate host",
                                   "timeout", "No route", "Name or service not known")):
            return self.problem(f"cannot reach {where}", _First(text),
                                hint="check `host` and `port`, and that the server is running")
        if "closed the connection unexpectedly" in text:
            return self.problem(f"{where} hung up", _First(text),
                                hint="check `host` and `port` point at a PostgreSQL server that "
                                "accepts this client, and its log")
        return self.problem("cannot connect", _First(text),
                            hint=f"`weir connections test {self.name}` says what is reached")

    def sql_type(self, t: pa.DataType) -> str:
        return _decl_type(t)

    def stage_query(self, loc: str, query: str, params: dict[str, Any],
                    inputs: dict[str, str], token: str) -> tuple[str, pa.Schema, int]:
        """Run a SQL recipe inside the database: the result goes straight into a temporary
        table, never through weir. ``inputs`` maps the query's dataset names to their tables;
        ``$variables`` are bound server-side as ``$1, $2…``."""
        import psycopg

        text, values = positional_parameters(query, params)
        tmp = self.tmp_name(loc, token)
        with self.connect() as con:
            cur = psycopg.RawCursor(con)
            for dataset, table in inputs.items():
                # Dataset names may differ from table names: temporary views bridge them
                # (pg_temp comes first in the search path, so they win for this session).
                cur.execute(f"CREATE TEMP VIEW {_quote(dataset)} AS SELECT * FROM "
                            f"{self.qualified(table)}")
            try:
                cur.execute(f"SELECT * FROM ({text}) AS weir_q LIMIT 0", values)
                columns = []
                for d in cur.description or []:
                    cur2 = con.cursor()
                    cur2.execute("SELECT format_type(%s, NULL)", (d.type_code,))
                    columns.append(f"{_quote(d.name)} {cur2.fetchone()[0]}")
                cur.execute(f"DROP TABLE IF EXISTS {self.qualified(tmp)}")
                cur.execute(f"CREATE TABLE {self.qualified(tmp)} ({', '.join(columns)})")
                cur.execute(f"INSERT INTO {self.qualified(tmp)} SELECT * FROM ({text}) AS weir_q",
                            values)
                rows = cur.rowcount
                con.commit()
            except psycopg.Error as exc:
                con.rollback()
                raise DataError(self.redact(f"PostgreSQL: {str(exc).strip()}")) from None
            schema = self.fetch(con, f"SELECT * FROM {self.qualified(tmp)} LIMIT 0").schema
        return tmp, schema, rows

    def list_tables(self, cur: Any, schema: str | None) -> list[str]:
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                    (schema or "public",))
        return [r[0] for r in cur.fetchall()]

    def catalogue(self, con: Any, loc: str) -> dict[str, tuple[str, bool]]:
        schema, table = _split(loc)
        with con.cursor() as cur:
            cur.execute("SELECT column_name, data_type, is_nullable FROM "
                        "information_schema.columns WHERE table_schema = %s AND "
                        "table_name = %s", (schema or self.default_schema(), table))
            return {r[0]: (str(r[1]), r[2] == "YES") for r in cur.fetchall()}

    def insert(self, con: Any, qualified: str, table: pa.Table) -> None:
        names = ", ".join(_quote(n) for n in table.schema.names)
        with con.cursor() as cur, cur.copy(f"COPY {qualified} ({names}) FROM STDIN") as copy:
            for batch in table.to_batches(max_chunksize=10_000):
                for row in batch.to_pylist():
                    copy.write_row(tuple(row.values()))

    def fetch(self, con: Any, query: str, params: Any = None) -> pa.Table:
        import pyarrow as pa

        with con.cursor() as cur:
            cur.execute(query, params)
            names = [d.name for d in cur.description]
            oids = [d.type_code for d in cur.description]
            rows = cur.fetchall()
        arrays = []
        for i, oid in enumerate(oids):
            values = [r[i] for r in rows]
            type_name = PG_TYPES.get(oid)
            if oid == 1700:
                values = [None if v is None else float(v) for v in values]
            arrays.append(_to_array(values, _pg_arrow(type_name) if type_name else None))
        return pa.table(dict(zip(names, arrays, strict=True)))

    def probe_query(self, loc: str) -> str:
        return (f"SELECT count(*) AS n, md5(string_agg(md5(t::text), '' ORDER BY md5(t::text)))"
                f" AS h FROM {self.qualified(loc)} AS t")

    def reached(self) -> str:
        return (f"connected to {self.params['host']}:{self.params.get('port') or 5432}/"
                f"{self.params['database']}")


def positional_parameters(query: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """``$name`` → ``$1``… outside string literals, quoted identifiers and comments."""
    out: list[str] = []
    order: list[str] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c in ("'", '"'):
            j = i + 1
            while j < n:
                if query[j] == c:
                    if j + 1 < n and query[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            out.append(query[i:j + 1])
            i = j + 1
        elif query.startswith("--", i):
            j = query.find("\n", i)
            j = n if j < 0 else j
            out.append(query[i:j])
            i = j
        elif query.startswith("/*", i):
            j = query.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(query[i:j])
            i = j
        elif c == "$" and i + 1 < n and (query[i + 1].isalpha() or query[i + 1] == "_"):
            j = i + 1
            while j < n and (query[j].isalnum() or query[j] == "_"):
                j += 1
            name = query[i + 1:j]
            if name not in order:
                order.append(name)
            out.append(f"${order.index(name) + 1}")
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out), [params[name] for name in order]


class _First(Exception):
    """The first line of a driver's message (the rest repeats it or shows connection strings)."""

    def __init__(self, text: str) -> None:
        super().__init__(text.strip().splitlines()[0] if text.strip() else text)


def _pg_arrow(name: str) -> pa.DataType:
    import pyarrow as pa

    if name == "timestamp[us, tz=UTC]":
        return pa.timestamp("us", tz="UTC")
    return pa.type_for_alias(name)


SQL_BACKENDS: dict[str, type[SQLBackend]] = {"sqlite": SQLiteBackend, "duckdb": DuckDBBackend,
                                             "postgresql": PostgresBackend}
