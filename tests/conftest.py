"""Shared fixtures: real project directories, real git repos, the CLI run as a user types it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

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


def wait_until_gone(pids: dict[int, str], within: float) -> float:
    """Seconds until none of ``pids`` runs any more; fails listing the survivors after
    ``within`` seconds (and kills them, so a failing test leaves nothing behind)."""
    started = time.monotonic()
    deadline = started + within
    while True:
        alive = {p: c for p, c in pids.items()
                 if (f := _proc_stat(p)) is not None and f[0] != b"Z"}
        if not alive:
            return time.monotonic() - started
        if time.monotonic() > deadline:
            for pid in alive:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            raise AssertionError(f"still running {within} s after the kill: {alive}")
        time.sleep(0.01)


def wait_for(predicate: Callable[[], object], timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.02)


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
