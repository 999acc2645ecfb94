"""Real servers for tests: a PostgreSQL cluster (initdb + pg_ctl in a temporary directory, on a
free port) and moto's S3 server on 127.0.0.1. Each starts once per test session, on first use."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (base / name).exists():
            return str(base / name)
    raise RuntimeError(f"PostgreSQL's {name} is not installed (apt-get install postgresql)")


@dataclass
class Postgres:
    host: str
    port: int
    user: str
    password: str
    directory: Path
    as_user: list[str]

    def stop(self) -> None:
        subprocess.run([*self.as_user, _pg_bin("pg_ctl"), "-D", str(self.directory / "data"),
                        "-m", "immediate", "stop"], capture_output=True, check=False)
        shutil.rmtree(self.directory, ignore_errors=True)

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(host=self.host, port=self.port, user=self.user,
                             password=self.password, dbname="postgres", autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}"')
            con.execute(f'CREATE DATABASE "{name}"')


def start_postgres() -> Postgres:
    directory = Path(tempfile.mkdtemp(prefix="weir-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(directory, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    password = "s3cret-Pg-pw"
    pwfile = directory / "pw"
    pwfile.write_text(password)
    if as_user:
        shutil.chown(pwfile, "postgres", "postgres")
    port = free_port()
    subprocess.run([*as_user, _pg_bin("initdb"), "-D", str(directory / "data"), "-U", "weir",
                    "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--no-locale"],
                   check=True, capture_output=True)
    subprocess.run([*as_user, _pg_bin("pg_ctl"), "-D", str(directory / "data"), "-l",
                    str(directory / "log"), "-w", "-o",
                    f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off",
                    "start"], check=True, capture_output=True)
    return Postgres("127.0.0.1", port, "weir", password, directory, as_user)


@dataclass
class S3Server:
    endpoint: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def start_s3() -> S3Server:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                                str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    def accepts() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return process.poll() is not None  # it ended: no use waiting

    try:
        wait_until(accepts, timeout=30, what=f"moto's S3 server to accept on port {port}")
    except AssertionError:
        process.kill()
        raise
    if process.poll() is not None:
        raise RuntimeError(f"moto's S3 server ended at once (exit {process.returncode})")
    return S3Server(f"http://127.0.0.1:{port}", process)


@dataclass
class DaskCluster:
    """A real Dask cluster on loopback: `dask scheduler` and workers, each a process of its
    own (with its nanny, which starts a worker again when it dies, as in production)."""

    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]

    @property
    def url(self) -> str:
        """As weir takes it: `dask://HOST:PORT`."""
        return "dask://" + self.address.removeprefix("tcp://")

    def client(self) -> Any:
        from distributed import Client

        return Client(self.address, timeout="20s", set_as_default=False)

    def worker_pids(self) -> dict[str, int]:
        """The worker processes (not their nannies), by address."""
        with self.client() as client:
            return dict(client.run(os.getpid))

    def wait_for_workers(self, count: int, timeout: float = 60) -> None:
        with self.client() as client:
            client.wait_for_workers(count, timeout=timeout)

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            process.terminate()
        for process in [*self.workers, self.scheduler]:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def start_dask(workers: int = 2, hide: Path | None = None) -> DaskCluster:
    """A scheduler on a free port and ``workers`` workers of one thread each (a weir job owns
    its process's stdout and stderr while it runs: weir.build.dask_task). ``hide``: a directory
    the workers do not see (each in a mount namespace of its own with an empty tmpfs over it),
    as a worker on another machine does not see this one's files."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = Path(tempfile.mkdtemp(prefix="weir-dask-"))
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", str(port), "--no-dashboard"],
        stdout=subprocess.DEVNULL, stderr=open(logs / "scheduler.log", "wb"))
    def command(i: int) -> list[str]:
        worker = [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads",
                  "1", "--no-dashboard", "--name", f"worker-{i}", "--local-directory",
                  str(logs / f"w{i}")]
        if hide is None:
            return worker
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                'mount -t tmpfs none "$0" && exec "$@"', str(hide), *worker]

    started = [subprocess.Popen(command(i), stdout=subprocess.DEVNULL,
                                stderr=open(logs / f"worker-{i}.log", "wb"))
               for i in range(workers)]
    cluster = DaskCluster(address, scheduler, started)
    try:
        cluster.wait_for_workers(workers)
    except Exception:
        cluster.stop()
        raise
    return cluster
