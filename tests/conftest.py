"""Shared fixtures: real project directories, real git repos, the CLI run as a user types it."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def weir_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("WEIR_PROJECT", None)
    env["NO_COLOR"] = "1"
    env.setdefault("GIT_AUTHOR_NAME", "Test")
    env.setdefault("GIT_AUTHOR_EMAIL", "test@example.com")
    env.setdefault("GIT_COMMITTER_NAME", "Test")
    env.setdefault("GIT_COMMITTER_EMAIL", "test@example.com")
    return env


def run_weir(*args: str, cwd: Path, timeout: float = 120) -> Result:
    """``weir ARGS`` in a subprocess, as a user would type it."""
    proc = subprocess.run([sys.executable, "-m", "weir", *args], cwd=cwd, env=weir_env(),
                          capture_output=True, text=True, timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def write_files(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, env=weir_env(), check=True,
                          capture_output=True, text=True).stdout


def _proc_stat(pid: int) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the command name, or None if the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None


def session_processes(sid: int) -> dict[int, str]:
    """Live processes of session ``sid`` (zombies count as gone): ``pid -> command line``.

    A process started with ``start_new_session`` leads a session that everything it starts
    (resource tracker, forkserver, workers) stays in, even after it dies and they are
    re-parented, so this finds what a killed build left running.
    """
    found: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _proc_stat(int(entry))
        if fields is None or fields[0] == b"Z" or int(fields[3]) != sid:
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        found[int(entry)] = cmd.strip()
    return found


def wait_until(predicate: Callable[[], T], timeout: float = 30, what: str = "") -> T:
    """Poll ``predicate`` until it returns something true, and return that; fail saying
    ``what`` was awaited after ``timeout`` seconds.

    The one deadline poll of the tests, for what has no event to wait on (a process leaving
    /proc, a file a daemon removes, a port that starts to accept); everything else waits on
    the event itself (the daemon's event stream, the language server's notifications, a
    `Gate`, process exit)."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for "
                                 f"{what or predicate}")
        time.sleep(0.01)
    return value


def wait_until_gone(pids: dict[int, str], within: float) -> float:
    """Seconds until none of ``pids`` runs any more; fails listing the survivors after
    ``within`` seconds (and kills them, so a failing test leaves nothing behind)."""
    started = time.monotonic()

    def alive() -> dict[int, str]:
        return {p: c for p, c in pids.items()
                if (f := _proc_stat(p)) is not None and f[0] != b"Z"}

    try:
        wait_until(lambda: not alive(), within, "the processes to end")
    except AssertionError:
        survivors = alive()
        for pid in survivors:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        raise AssertionError(f"still running {within} s after the kill: {survivors}") from None
    return time.monotonic() - started


class Gate:
    """A FIFO that a test's recipe stops at (``open("gate").read()``, the project root being
    the build's working directory) until the test lets it through.

    A recipe that must be slow — to be cancelled, killed, interrupted, or overlapped — waits
    here instead of sleeping, so the test decides when it ends rather than guessing a duration,
    and knows when it got there: opening a FIFO for writing returns once a reader opened it.
    Every wait is bounded, and the ``gates`` fixture lets through whatever still waits when
    the test ends, so a failing test leaves no recipe blocked."""

    def __init__(self, path: Path) -> None:
        os.mkfifo(path)
        self.path = path
        self._held: int | None = None

    def reached(self, timeout: float = 30) -> None:
        """Wait until a recipe stands at the gate; it waits there until `open` (or is killed,
        then `forget` it)."""
        assert self._held is None, "a recipe already waits at the gate"
        opened: list[int] = []
        writer = threading.Thread(target=lambda: opened.append(os.open(self.path, os.O_WRONLY)),
                                  daemon=True)
        writer.start()
        writer.join(timeout)
        if not opened:  # unblock our own open by being its reader, and give up
            reader = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
            writer.join()
            os.close(opened[0])
            os.close(reader)
            raise AssertionError(f"no recipe came to {self.path.name} within {timeout} s")
        self._held = opened[0]

    def open(self, timeout: float = 30) -> None:
        """Let the recipe through: the one standing at the gate, else the next to come (within
        ``timeout``). It reads end-of-file and goes on."""
        if self._held is None:
            self.reached(timeout)
        assert self._held is not None
        os.close(self._held)
        self._held = None

    def forget(self) -> None:
        """The recipe held at the gate was killed: let go of our end, so the next recipe to
        come waits at the gate again (a writer still open would let it open the FIFO at
        once)."""
        assert self._held is not None, "no recipe was held at the gate"
        os.close(self._held)
        self._held = None

    def remove(self) -> None:
        """Open the gate for good: it becomes an empty file, which every later recipe reads at
        once; whatever waited at the FIFO goes on."""
        self._let_everyone_through(replace=True)

    def close(self) -> None:
        """The test is over: let through whatever still waits, so nothing stays blocked."""
        self._let_everyone_through(replace=False)

    def _let_everyone_through(self, replace: bool) -> None:
        if not stat.S_ISFIFO(os.stat(self.path).st_mode):
            return  # already removed
        writers = [] if self._held is None else [self._held]
        self._held = None
        try:  # succeeds only while a recipe has the FIFO open (or waits to): it then goes on
            writers.append(os.open(self.path, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass  # nobody there (ENXIO)
        if replace:
            plain = self.path.with_name(self.path.name + ".open")
            plain.write_text("")
            os.replace(plain, self.path)  # from now on there is no FIFO to wait at
        for fd in writers:
            os.close(fd)


@pytest.fixture
def gates() -> Iterator[Callable[[Path], Gate]]:
    """``gates(path)`` makes a `Gate`; when the test ends, each lets through what still waits
    at it."""
    made: list[Gate] = []

    def make(path: Path) -> Gate:
        made.append(Gate(path))
        return made[-1]

    yield make
    for gate in made:
        gate.close()


@pytest.fixture
def weir() -> Callable[..., Result]:
    return run_weir


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """Write a project's files into a fresh git repository and commit them."""

    def make(files: dict[str, str], name: str = "proj", commit: bool = True) -> Path:
        root = tmp_path / name
        root.mkdir()
        files = dict(files)
        files.setdefault("weir.yaml", f"name: {name}\n")
        files.setdefault(".gitignore", ".weir/\ndata/\n")
        write_files(root, files)
        if commit:
            git(root, "init", "-q", "-b", "main")
            git(root, "add", "-A")
            git(root, "commit", "-qm", "initial")
        return root

    return make


SMALL = {
    "weir.yaml": """
        name: small
        variables:
          min_amount: 2
          label: "shop"
        """,
    "connections.yaml": """
        connections:
          landing:
            type: filesystem
            root: landing
        """,
    "landing/orders.csv": """
        id,customer,amount
        1,a,1.5
        2,b,3.0
        3,a,10.0
        4,c,7.25
        """,
    "datasets/orders.yaml": """
        description: raw orders
        connection: landing
        path: orders.csv
        tags: [raw]
        """,
    "recipes/clean.py": '''
        import pandas as pd
        from weir import recipe, var


        def keep_big(df):
            return df[df.amount >= var("min_amount")]


        @recipe
        def orders_clean(orders: pd.DataFrame) -> pd.DataFrame:
            """Orders above the minimum."""
            return keep_big(orders)


        @recipe
        def customers(orders):
            return orders[["customer"]].drop_duplicates()
        ''',
    "recipes/per_customer.sql": """
        -- revenue per customer
        SELECT customer, sum(amount) AS revenue
        FROM orders_clean
        GROUP BY customer
        ORDER BY customer
        """,
}


@pytest.fixture
def small_project(make_project: Callable[..., Path]) -> Path:
    return make_project(SMALL, name="small")


# A source cut by day (data/events/day=2026-12-0N/part-0.parquet, written by
# `partitioned_project`) and a recipe output cut the same way: day D of daily from day D of
# events.
PARTITIONED = {
    "weir.yaml": "name: parts\n",
    "connections.yaml": """
        connections:
          local:
            type: filesystem
            root: data
        """,
    "datasets/events.yaml": """
        description: the events, a directory a day
        path: events
        format: parquet
        partitioning:
          day: {column: event_date}
        """,
    "datasets/daily.yaml": """
        partitioning:
          day: {column: event_date}
        """,
    "recipes/daily.py": '''
        import pandas as pd
        from weir import recipe


        @recipe
        def daily(events: pd.DataFrame) -> pd.DataFrame:
            return events.groupby("event_date", as_index=False).agg(n=("amount", "size"))
        ''',
}
DAYS = ("2026-12-01", "2026-12-02", "2026-12-03")


@pytest.fixture
def partitioned_project(make_project: Callable[..., Path]) -> Path:
    """PARTITIONED, with a partition of events for each of DAYS."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = make_project(PARTITIONED, name="parts")
    for i, day in enumerate(DAYS):
        where = root / "data" / "events" / f"day={day}"
        where.mkdir(parents=True)
        pq.write_table(pa.table({"amount": [float(i), 2.0]}), where / "part-0.parquet")
    return root


@pytest.fixture(scope="session")
def postgres():
    from servers import start_postgres

    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_server():
    from servers import start_s3

    server = start_s3()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dask_cluster():
    """A real Dask cluster (`dask scheduler` + two `dask worker`s on loopback), once a session."""
    from servers import start_dask

    cluster = start_dask(workers=2)
    yield cluster
    cluster.stop()


PG_SECRET = "s3cret-Pg-pw"  # the fixture server's password (servers.py)
S3_SECRET = "moto-Secret-Key-123"


@pytest.fixture
def mixed(make_project, postgres, s3_server, monkeypatch):
    """A project over real storage: a PostgreSQL source table, an S3 bucket, SQLite, DuckDB."""
    import boto3
    import psycopg

    postgres.create_database("mixed")
    with psycopg.connect(host=postgres.host, port=postgres.port, user=postgres.user,
                         password=postgres.password, dbname="mixed", autocommit=True) as con:
        con.execute("CREATE TABLE orders (id bigint, customer text, amount double precision)")
        con.execute("INSERT INTO orders VALUES (1, 'a', 10.5), (2, 'b', 3), (3, 'a', 7)")
    boto3.client("s3", endpoint_url=s3_server.endpoint, region_name="us-east-1",
                 aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket="lake")
    monkeypatch.setenv("PG_PASSWORD", PG_SECRET)
    monkeypatch.setenv("S3_SECRET", S3_SECRET)
    root = make_project({
        "weir.yaml": "name: mixed\n",
        "connections.yaml": f"""
            connections:
              warehouse:
                type: postgresql
                host: {postgres.host}
                port: {postgres.port}
                database: mixed
                user: {postgres.user}
                password: ${{env:PG_PASSWORD}}
              lake:
                type: s3
                bucket: lake
                prefix: shop
                endpoint_url: {s3_server.endpoint}
                region: us-east-1
                access_key_id: testing
                secret_access_key: ${{env:S3_SECRET}}
              lite:
                type: sqlite
                path: marts.sqlite
              duck:
                type: duckdb
                path: marts.duckdb
            """,
        "datasets/pg_orders.yaml": "connection: warehouse\ntable: orders\n",
        "datasets/orders_copy.yaml": "connection: lake\npath: orders.parquet\n",
        "datasets/totals.yaml": "connection: lite\n",
        "datasets/big_customers.yaml": "connection: duck\n",
        "recipes/move.py": """
            import pandas as pd
            from weir import recipe

            @recipe
            def orders_copy(pg_orders: pd.DataFrame) -> pd.DataFrame:
                return pg_orders.sort_values("id")

            @recipe
            def big_customers(totals):
                return totals[totals.total > 5]
            """,
        "recipes/totals.sql": """
            SELECT customer, sum(amount) AS total FROM orders_copy GROUP BY 1 ORDER BY 1
            """,
    }, name="mixed")
    return root
