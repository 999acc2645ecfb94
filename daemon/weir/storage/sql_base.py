"""What the table backends (SQLite, DuckDB, PostgreSQL) share: staging, swap, version probe.

A write is staged as ``<table>__weir_tmp_<token>`` and committed by dropping the old table and
renaming the new one *in one transaction*: readers see the old data or the new, never a mix, and
a failed build leaves the old table untouched. Types round-trip losslessly for the common Arrow
types (integers, floating point, strings, booleans, dates, timestamps). Each database's module
says only how to connect and how it spells types and catalogue queries, so a fix to the swap is
made once for all three.
"""

from __future__ import annotations

import hashlib
import os
import re
from abc import abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from weir.errors import DataError
from weir.storage.base import Backend, ConnectionProblem

if TYPE_CHECKING:
    import pyarrow as pa

    from weir.model.project import ColumnSpec

TMP_MARK = "__weir_tmp_"


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def split_loc(loc: str) -> tuple[str | None, str]:
    schema, _, table = loc.rpartition(".")
    return (schema or None), table


def _token(token: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", token)


def _digest(rows: Any) -> str:
    return hashlib.blake2b(repr(rows).encode(), digest_size=16).hexdigest()


class SQLBackend(Backend):
    """Shared logic; subclasses say how to connect and how types are spelled."""

    def qualified(self, loc: str) -> str:
        schema, table = split_loc(loc)
        schema = schema or self.default_schema()
        return f"{quote(schema)}.{quote(table)}" if schema else quote(table)

    def default_schema(self) -> str | None:
        return None

    def database(self) -> str:
        """The database this connection reaches (a server and its database, or a file): two
        connections with the same one can copy each other's tables in SQL."""
        raise NotImplementedError

    def place(self, loc: str) -> str:
        schema, table = split_loc(loc)
        return f"{self.type}://{self.database()}#{schema or self.default_schema() or ''}.{table}"

    def can_copy_from(self, place: str) -> bool:
        return place.startswith(f"{self.type}://{self.database()}#")

    def copy_in(self, copies: list[tuple[str, str, str]],
                keep: Mapping[str, str] | None = None) -> dict[str, str]:
        """Every table copied inside the database in one transaction: readers see the old
        tables or all the new ones (SQLite, DuckDB and PostgreSQL all have transactional DDL),
        and no row travels through weir. A replaced table in ``keep`` is renamed aside."""
        keep = keep or {}
        kept: dict[str, str] = {}
        with self.connect() as con:
            cur = con.cursor()
            self.begin(cur)
            statements = self._replacing(cur, [loc for _, loc, _ in copies], keep, kept)
            for place, loc, _ in copies:
                schema, _, table = place.partition("#")[2].partition(".")
                source = f"{quote(schema)}.{quote(table)}" if schema else quote(table)
                statements.append(f"CREATE TABLE {self.qualified(loc)} AS SELECT * FROM "
                                  f"{source}")
            self.run_script(cur, statements)
            con.commit()
        return kept

    def _replacing(self, cur: Any, locs: list[str], keep: Mapping[str, str],
                   kept: dict[str, str]) -> list[str]:
        """The statements that clear each loc for its new table: the old one renamed to its
        kept name when ``keep`` asks and it exists (its place goes in ``kept``), else
        dropped."""
        statements = []
        listed: dict[str | None, set[str]] = {}
        for loc in locs:
            schema, table = split_loc(loc)
            schema = schema or self.default_schema()
            if loc in keep:
                if schema not in listed:
                    listed[schema] = set(self.list_tables(cur, schema))
                if table in listed[schema]:
                    name = self.kept_name(loc, keep[loc])
                    statements += [f"DROP TABLE IF EXISTS {self.qualified(name)}",
                                   f"ALTER TABLE {self.qualified(loc)} RENAME TO "
                                   f"{quote(split_loc(name)[1])}"]
                    kept[loc] = self.place(name)
                    continue
            statements.append(f"DROP TABLE IF EXISTS {self.qualified(loc)}")
        return statements

    def kept_name(self, loc: str, fingerprint: str) -> str:
        """Where the version at ``fingerprint`` of ``loc``'s table is kept: beside it, in its
        schema, under a name that says what it is (and fits PostgreSQL's 63 characters)."""
        schema, table = split_loc(loc)
        name = f"_weir_kept_{table[:32]}_{fingerprint[:12]}"
        return f"{schema}.{name}" if schema else name

    def commit_keeping(self, loc: str, fmt: str, handle: str, fingerprint: str) -> str | None:
        """The table replaced is renamed, not dropped (no row copied), in the commit's own
        transaction: a revert or a branch switch copies it back instead of running the
        recipe again."""
        schema, table = split_loc(loc)
        kept = self.kept_name(loc, fingerprint)
        with self.connect() as con:
            cur = con.cursor()
            self.begin(cur)
            there = table in self.list_tables(cur, schema or self.default_schema())
            if there:
                cur.execute(f"DROP TABLE IF EXISTS {self.qualified(kept)}")
                cur.execute(f"ALTER TABLE {self.qualified(loc)} RENAME TO "
                            f"{quote(split_loc(kept)[1])}")
            cur.execute(f"ALTER TABLE {self.qualified(handle)} RENAME TO {quote(table)}")
            con.commit()
        return self.place(kept) if there else None

    def drop_copy(self, place: str) -> None:
        self.drop_copies([place])

    def drop_copies(self, places: list[str]) -> None:
        if not places:
            return
        statements = []
        for place in places:
            schema, _, table = place.partition("#")[2].partition(".")
            statements.append(
                f"DROP TABLE IF EXISTS {self.qualified(f'{schema}.{table}' if schema else table)}")
        with self.connect() as con:
            self.run_script(con.cursor(), statements)
            con.commit()

    def run_script(self, cur: Any, statements: list[str]) -> None:
        """Run statements that take no parameters, in order (a server may take them in one
        round trip)."""
        for statement in statements:
            cur.execute(statement)

    def tmp_name(self, loc: str, token: str) -> str:
        schema, table = split_loc(loc)
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
        schema, table = split_loc(loc)
        with self.connect() as con:
            return table in self.list_tables(con.cursor(), schema or self.default_schema())

    def _tables(self, locs: list[str]) -> Iterator[tuple[str, str | None, str, set[str]]]:
        """Each loc with its schema, its table and the tables that schema holds, over one
        connection (each schema listed once)."""
        with self.connect() as con:
            cur = con.cursor()
            listed: dict[str | None, set[str]] = {}
            for loc in locs:
                schema, table = split_loc(loc)
                schema = schema or self.default_schema()
                if schema not in listed:
                    listed[schema] = set(self.list_tables(cur, schema))
                yield loc, schema, table, listed[schema]

    def exists_many(self, items: list[tuple[str, str]]) -> dict[str, bool]:
        return {loc: table in tables for loc, _, table, tables in
                self._tables([loc for loc, _ in items])}

    def cleanup_stale_many(self, locs: list[tuple[str, str]]) -> None:
        stale = [(schema, name) for _, schema, table, tables in self._tables([loc for loc, _ in locs])
                 for name in tables if name.startswith(f"{table}{TMP_MARK}")]
        if not stale:
            return
        with self.connect() as con:
            cur = con.cursor()
            for schema, name in stale:
                cur.execute(f"DROP TABLE IF EXISTS "
                            f"{self.qualified(f'{schema}.{name}' if schema else name)}")
            con.commit()

    def read(self, loc: str, fmt: str, schema: list[ColumnSpec] | None = None,
             columns: list[str] | None = None) -> pa.Table:
        cols = ", ".join(quote(c) for c in columns) if columns else "*"
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
            type_ = arrow_for_decl(decl) if pa.types.is_null(f.type) else f.type
            fields.append(pa.field(f.name, type_, nullable))
        return pa.schema(fields)

    def stage(self, loc: str, fmt: str, data: Any, token: str) -> tuple[str, pa.Schema, int]:
        from weir.storage.formats import as_table

        table = as_table(data)
        tmp = self.tmp_name(loc, token)
        columns = ", ".join(f"{quote(f.name)} {self.sql_type(f.type)}" for f in table.schema)
        with self.connect() as con:
            cur = con.cursor()
            cur.execute(f"DROP TABLE IF EXISTS {self.qualified(tmp)}")
            cur.execute(f"CREATE TABLE {self.qualified(tmp)} ({columns})")
            self.insert(con, self.qualified(tmp), table)
            con.commit()
        return tmp, table.schema, table.num_rows

    def commit(self, loc: str, fmt: str, handle: str) -> None:
        _, table = split_loc(loc)
        with self.connect() as con:
            cur = con.cursor()
            self.begin(cur)
            cur.execute(f"DROP TABLE IF EXISTS {self.qualified(loc)}")
            cur.execute(f"ALTER TABLE {self.qualified(handle)} RENAME TO {quote(table)}")
            con.commit()

    def begin(self, cur: Any) -> None:
        pass

    # -- partitions: rows of a partition column, replaced in one transaction ---------------
    def partitions(self, loc: str, fmt: str, partitioning: Any) -> dict[str, str]:
        """The partitions the table's rows fall in, from one ``GROUP BY`` over its partition
        columns; a partition's version is its row count (a rewrite that keeps the count is
        not seen: a source table's own `version_query` says more of the whole table)."""
        from weir.model.partitions import floor, format_time

        if not self.exists(loc, fmt):
            return {}
        dims = [c for c in (partitioning.time.column if partitioning.time else None,
                            partitioning.value.name if partitioning.value else None) if c]
        cols = ", ".join(quote(c) for c in dims)
        with self.connect() as con:
            rows = self.fetch(con, f"SELECT {cols}, count(*) AS n__ FROM {self.qualified(loc)}"
                                   f" GROUP BY {cols}").to_pylist()
        found: dict[str, int] = {}
        for row in rows:
            time = value = None
            if partitioning.time is not None:
                got = row[partitioning.time.column]
                if got is None:
                    continue
                when = _as_datetime(got)
                time = format_time(partitioning.time.grain, floor(partitioning.time.grain, when))
            if partitioning.value is not None:
                if row[partitioning.value.name] is None:
                    continue
                value = str(row[partitioning.value.name])
            key = partitioning.key(time, value)
            found[key] = found.get(key, 0) + int(row["n__"])
        return {k: f"rows:{n}" for k, n in found.items()}

    def read_partitions(self, loc: str, fmt: str, partitioning: Any, keys: list[str],
                        schema: list[ColumnSpec] | None = None) -> pa.Table:
        if not self.exists(loc, fmt):
            raise DataError(f"no table {loc} on connection '{self.name}'",
                            hint="build it, or fix the dataset's `table`")
        where = " OR ".join(f"({self.partition_filter(partitioning, k)})" for k in keys) \
            or "FALSE"
        with self.connect() as con:
            return self.fetch(con, f"SELECT * FROM {self.qualified(loc)} WHERE {where}")

    def stage_partition(self, loc: str, fmt: str, partitioning: Any, key: str, data: Any,
                        token: str) -> tuple[str, pa.Schema, int]:
        """A staged table like any output's; `commit_partition` refuses a row outside."""
        return self.stage(loc, fmt, data, token)

    def commit_partition(self, loc: str, fmt: str, handle: str, partitioning: Any,
                         key: str) -> None:
        """Publish the staged table ``handle`` as partition ``key`` of the table ``loc``
        (a ``weir.model.partitions.Partitioning``): in one transaction, the partition's rows
        deleted and the staged ones inserted, so a reader sees the old partition or the new,
        never neither (a table that does not exist yet is the staged one, renamed)."""
        _, table = split_loc(loc)
        where = self.partition_filter(partitioning, key)
        columns = [c for c in (partitioning.time.column if partitioning.time else None,
                               partitioning.value.name if partitioning.value else None) if c]
        with self.connect() as con:
            staged = self.catalogue(con, handle)
            present = [c for c in columns if c in staged]
            if present:  # a row outside the partition would never be replaced: refused
                outside = " OR ".join([f"NOT ({where})"]
                                      + [f"{quote(c)} IS NULL" for c in present])
                n = self.fetch(con, f"SELECT count(*) AS n FROM {self.qualified(handle)} "
                                    f"WHERE {outside}").column(0)[0].as_py()
                if n:
                    raise DataError(f"{n} row{'s' if n != 1 else ''} of the data for partition "
                                    f"{key} of {loc} fall outside it (or have no "
                                    f"{' or '.join(present)})",
                                    hint="a recipe built per partition returns only its "
                                    "partition's rows")
            cur = con.cursor()
            self.begin(cur)
            if table not in self.list_tables(cur, split_loc(loc)[0] or self.default_schema()):
                cur.execute(f"ALTER TABLE {self.qualified(handle)} RENAME TO {quote(table)}")
            else:
                target = self.catalogue(con, loc)
                if set(target) != set(staged):
                    raise DataError(f"partition {key} has the columns {', '.join(staged)}; "
                                    f"{loc} has {', '.join(target)}",
                                    hint="every partition of a dataset has the same columns")
                names = ", ".join(quote(c) for c in target)  # by name, not by position
                cur.execute(f"DELETE FROM {self.qualified(loc)} WHERE {where}")
                cur.execute(f"INSERT INTO {self.qualified(loc)} ({names}) SELECT {names} FROM "
                            f"{self.qualified(handle)}")
                cur.execute(f"DROP TABLE {self.qualified(handle)}")
            con.commit()

    def drop_partition(self, loc: str, fmt: str, partitioning: Any, key: str) -> None:
        if not self.exists(loc, fmt):
            return
        with self.connect() as con:
            con.cursor().execute(f"DELETE FROM {self.qualified(loc)} WHERE "
                                 f"{self.partition_filter(partitioning, key)}")
            con.commit()

    def partition_filter(self, partitioning: Any, key: str) -> str:
        """The SQL condition of partition ``key``'s rows: its time column within the period
        (a half-open range, so a date and a timestamp column both work), its value column
        equal. Literals, not parameters: a time is checked digits, a value quoted."""
        from weir.model.partitions import parse_time, shift

        time, value = partitioning.split(key)
        parts = []
        if partitioning.time is not None and time is not None:
            grain = partitioning.time.grain
            start = parse_time(grain, time)
            column = quote(partitioning.time.column)
            parts.append(f"{column} >= {self.time_literal(start)} AND {column} < "
                         f"{self.time_literal(shift(grain, start, 1))}")
        if partitioning.value is not None and value is not None:
            parts.append(f"{quote(partitioning.value.name)} = '{value.replace(chr(39), chr(39) * 2)}'")
        return " AND ".join(parts) or "TRUE"

    def time_literal(self, when: Any) -> str:
        if when.hour == 0:
            return f"DATE '{when.date().isoformat()}'"
        return f"TIMESTAMP '{when.isoformat(sep=' ')}'"

    def discard(self, loc: str, fmt: str, handle: str) -> None:
        with self.connect() as con:
            con.cursor().execute(f"DROP TABLE IF EXISTS {self.qualified(handle)}")
            con.commit()

    def drop(self, loc: str, fmt: str) -> None:
        self.discard(loc, fmt, loc)

    def cleanup_stale(self, loc: str, fmt: str) -> None:
        schema, table = split_loc(loc)
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


def _as_datetime(value: Any) -> datetime:
    """A partition column's value as a time: a timestamp, a date, or ISO text."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    return datetime.fromisoformat(str(value)[:19])


# Arrow types <-> the names we declare them as, so reading gives back what was written.
def decl_type(t: pa.DataType) -> str:
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


def arrow_for_decl(decl: str) -> pa.DataType:
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


def to_array(values: list[Any], t: pa.DataType | None) -> pa.Array:
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


class FileDatabase(SQLBackend):
    """A database in one local file (`path`, relative to the project or absolute).

    Opening a file that does not exist creates it, so only writes open one that way: asking
    whether a table is there, testing the connection or cleaning up leave no empty database
    behind (in the project, where git would see it)."""

    def path(self) -> str:
        from pathlib import Path

        p = Path(str(self.params["path"])).expanduser()
        return str(p if p.is_absolute() else self.project_root / p)

    def database(self) -> str:
        return os.path.realpath(self.path())

    def created(self) -> bool:
        return os.path.exists(self.path())

    def exists(self, loc: str, fmt: str) -> bool:
        return self.created() and super().exists(loc, fmt)

    def exists_many(self, items: list[tuple[str, str]]) -> dict[str, bool]:
        if not self.created():
            return {loc: False for loc, _ in items}
        return super().exists_many(items)

    def cleanup_stale_many(self, locs: list[tuple[str, str]]) -> None:
        if self.created():
            super().cleanup_stale_many(locs)

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
