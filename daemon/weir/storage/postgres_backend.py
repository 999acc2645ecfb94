"""Tables on a PostgreSQL server (psycopg 3), where a SQL recipe whose inputs live on the same
connection also runs, so its data never travels through weir."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from weir.errors import DataError
from weir.storage.base import ConnectionProblem
from weir.storage.sql_base import SQLBackend, decl_type, quote, split_loc, to_array

if TYPE_CHECKING:
    import pyarrow as pa


PG_TYPES = {16: "bool", 20: "int64", 21: "int16", 23: "int32", 700: "float", 701: "double",
            1700: "double", 25: "string", 1043: "string", 1042: "string", 1082: "date32",
            1114: "timestamp[us]", 1184: "timestamp[us, tz=UTC]", 114: "string", 3802: "string"}


class PostgresBackend(SQLBackend):
    def default_schema(self) -> str | None:
        return str(self.params.get("schema") or "public")

    def database(self) -> str:
        p = self.raw_params  # unresolved: a place is written to the state store
        return f"{p.get('host')}:{p.get('port') or 5432}/{p.get('database')}"

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

    def run_script(self, cur: Any, statements: list[str]) -> None:
        """One round trip for all of them (PostgreSQL takes a script of statements without
        parameters in one query message): hundreds of table copies are the server's work
        only."""
        if statements:
            cur.execute(";\n".join(statements))

    def sql_type(self, t: pa.DataType) -> str:
        return decl_type(t)

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
                cur.execute(f"CREATE TEMP VIEW {quote(dataset)} AS SELECT * FROM "
                            f"{self.qualified(table)}")
            try:
                cur.execute(f"SELECT * FROM ({text}) AS weir_q LIMIT 0", values)
                columns = []
                for d in cur.description or []:
                    cur2 = con.cursor()
                    cur2.execute("SELECT format_type(%s, NULL)", (d.type_code,))
                    columns.append(f"{quote(d.name)} {cur2.fetchone()[0]}")
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
        schema, table = split_loc(loc)
        with con.cursor() as cur:
            cur.execute("SELECT column_name, data_type, is_nullable FROM "
                        "information_schema.columns WHERE table_schema = %s AND "
                        "table_name = %s", (schema or self.default_schema(), table))
            return {r[0]: (str(r[1]), r[2] == "YES") for r in cur.fetchall()}

    def insert(self, con: Any, qualified: str, table: pa.Table) -> None:
        names = ", ".join(quote(n) for n in table.schema.names)
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
            arrays.append(to_array(values, _pg_arrow(type_name) if type_name else None))
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
