"""A build's jobs on a Dask distributed cluster: the same pool a build drives locally
(``weir.build.pool.JobPool``), with Dask's workers in place of this machine's processes.

Only where a job runs changes: the runner plans, schedules (its connection limits, retries,
``--fail-fast`` and cancel), commits and records exactly as for a local build, and a Dask
worker stages outputs as a local worker does (``weir.build.dask_task``), never committing them.
What Dask adds is said in weir's words: a worker lost mid-job is Dask's to run again elsewhere
(the job's staged output has the same name each time, so nothing is left half-written), and
one lost too often fails the job; a job stopped on ``--fail-fast`` or a cancel has its worker
restarted, since Dask cannot stop a task that is running.

``distributed`` is imported here only, and only when a build runs on Dask: it is the
``weir[dask]`` extra.
"""

from __future__ import annotations

import logging
import queue
import secrets
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from weir._version import __version__
from weir.build.code_bundle import CodeBundle
from weir.build.dask_task import RemoteResult
from weir.build.jobspec import JobResult, SourceCheckJob, WorkerJob
from weir.build.pool import Finished
from weir.errors import WeirError
from weir.model.executor_settings import Executor, read_executor

CONNECT_SECONDS = 10.0  # to reach the scheduler and find at least one worker
RESTART_SECONDS = 30.0  # for a worker whose job was stopped to be restarted by its nanny
UNREACHABLE_HINT = ("is `dask scheduler` running there? (or build on this machine with "
                    "`--executor local`)")
INSTALL_HINT = 'pip install "weir[dask]" (on this machine and on the cluster\'s workers)'


class DaskUnavailable(WeirError):
    """The build is to run on Dask, and cannot: the extra is missing, or the cluster cannot be
    reached. Nothing has run."""


def executor_flag(text: str | None) -> Executor | None:
    """``--executor`` (or an API request's ``executor``), read as weir.yaml's `executor:` is;
    None when not given."""
    if not text:
        return None
    read = read_executor(text)
    if isinstance(read, str):
        raise WeirError(f"--executor: {read}",
                        hint="use `--executor local` or `--executor dask://HOST:PORT`")
    return read


@dataclass
class DaskCluster:
    """This process's client of one Dask scheduler: made once per CLI build, kept between
    builds by the daemon."""

    executor: Executor
    client: Any  # distributed.Client

    @property
    def threads(self) -> int:
        """How many jobs its workers run at once (each thread of each worker)."""
        workers = self.client.scheduler_info(n_workers=-1).get("workers", {})
        return max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))

    @property
    def workers(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1).get("workers", {}))

    def alive(self) -> bool:
        return str(getattr(self.client, "status", "")) == "running"

    def close(self) -> None:
        try:
            self.client.close(timeout=5)
        except Exception:  # noqa: BLE001 - a scheduler gone already: nothing to close
            pass


def connect(executor: Executor, timeout: float = CONNECT_SECONDS) -> DaskCluster:
    """A client of ``executor``'s scheduler with at least one worker, or a clear refusal."""
    assert executor.address is not None
    try:
        from distributed import Client
    except ImportError:
        raise DaskUnavailable(f"this build runs on {executor.describe()}, but Dask's "
                              "distributed package is not installed", hint=INSTALL_HINT) from None
    _refused_at_once(executor)
    # Dask's client logs its own tracebacks when the scheduler goes away; weir says that
    # itself, once, for each job it cost (DaskPool._lost).
    logging.getLogger("distributed.client").setLevel(logging.CRITICAL)
    try:
        client = Client(executor.address, timeout=f"{timeout}s", set_as_default=False,
                        name="weir")
    except (OSError, TimeoutError) as exc:
        raise DaskUnavailable(f"cannot reach the Dask scheduler at {executor.address} "
                              f"({type(exc).__name__}: {exc})",
                              hint=UNREACHABLE_HINT) from None
    _send_at_once(client)
    cluster = DaskCluster(executor, client)
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError):
        cluster.close()
        raise DaskUnavailable(f"the Dask scheduler at {executor.address} has no workers",
                              hint=f"start some: `dask worker {executor.address} --nthreads 1`"
                              ) from None
    return cluster


def _refused_at_once(executor: Executor) -> None:
    """Say at once that nobody listens at the scheduler's address (Dask would retry until its
    timeout): a refused connection is an answer, a silent host is left to Dask."""
    assert executor.address is not None
    host, _, port = executor.address.removeprefix("tcp://").rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=1).close()
    except ConnectionRefusedError:
        raise DaskUnavailable(f"cannot reach the Dask scheduler at {executor.address} "
                              "(connection refused)", hint=UNREACHABLE_HINT) from None
    except OSError:
        pass  # a timeout, a name to resolve: Dask's own connect says what it finds


def _send_at_once(client: Any) -> None:
    """Have the client send to the scheduler within a millisecond rather than Dask's 10: it
    batches for throughput over many tiny tasks, and a weir job is one task of a recipe's
    worth, whose wait is the build's (bench/bench_dask.py measures what it saves per job)."""
    comm = getattr(client, "scheduler_comm", None)
    if comm is not None and hasattr(comm, "interval"):
        comm.interval = 0.001


@dataclass
class _Submitted:
    future: Any  # distributed.Future (None: it could not be submitted, see ``error``)
    log_path: str
    remote: RemoteResult | None = None  # what the worker sent back, once fetched
    error: str | None = None


class DaskPool:
    """One build's jobs on the cluster, ``size`` at most at once (the scheduler keeps to it)."""

    def __init__(self, cluster: DaskCluster, size: int, code: CodeBundle | None = None) -> None:
        """``code``: the project's code, sent once to every worker with the first job."""
        self.cluster = cluster
        self.size = size
        self._code = code
        self._code_sent: Any = None  # the bundle, as a task's result on the cluster (a Future)
        self._busy: dict[str, _Submitted] = {}
        self._finished: queue.Queue[tuple[str, _Submitted]] = queue.Queue()

    @property
    def busy(self) -> int:
        return len(self._busy)

    def submit(self, job_id: str, job: WorkerJob | SourceCheckJob) -> None:
        from weir.build.dask_task import code_of, run_remote  # (the worker imports them)

        client = self.cluster.client
        try:
            if self._code is not None and self._code_sent is None:
                # A task, not scattered data: Dask keeps what made it, so when the worker
                # holding it dies it is made again (scattered data would be lost with it, and
                # every job needing it with it).
                self._code_sent = client.submit(
                    code_of, self._code, key=f"weir-code-{self._code.digest}-"
                    f"{secrets.token_hex(4)}", pure=False)
            key = f"weir-{job_id}-{secrets.token_hex(4)}"  # a retry is a task of its own
            future = client.submit(run_remote, job, __version__, self._code_sent, key=key,
                                   pure=False)
        except Exception as exc:  # noqa: BLE001 - the scheduler went away since connecting
            failed = _Submitted(None, job.log_path, error=(
                f"the job could not be sent to the Dask scheduler at "
                f"{self.cluster.executor.address} ({type(exc).__name__}: {exc})"))
            self._busy[job_id] = failed
            self._finished.put((job_id, failed))
            return
        submitted = _Submitted(future, job.log_path)
        self._busy[job_id] = submitted
        future.add_done_callback(lambda _f: self._fetch(job_id, submitted))

    def _fetch(self, job_id: str, submitted: _Submitted) -> None:
        """In Dask's callback thread, as a job's task ends: its result fetched from the worker
        here, so the build's own thread never waits on that round trip."""
        future = submitted.future
        try:
            submitted.remote = future.result() if future.status == "finished" else None
        except Exception:  # noqa: BLE001 - lost between its end and the fetch: said below
            submitted.remote = None
        finally:  # whatever happened, the job is over: the build hears of it
            self._finished.put((job_id, submitted))

    def wait(self, timeout: float | None = None) -> list[Finished]:
        """Results of finished jobs, each job's log written where ``weir logs`` reads it."""
        if not self._busy:
            return []
        try:
            ready = [self._finished.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                ready.append(self._finished.get_nowait())
            except queue.Empty:
                break
        done: list[Finished] = []
        for job_id, submitted in ready:
            if self._busy.get(job_id) is submitted:  # (else: killed before it ended)
                del self._busy[job_id]
                done.append(Finished(job_id, self._result(submitted)))
        return done

    def _result(self, submitted: _Submitted) -> JobResult:
        log = Path(submitted.log_path)
        log.parent.mkdir(parents=True, exist_ok=True)
        remote = submitted.remote
        if remote is not None:
            log.write_text(remote.log + f"weir: ran on the Dask worker on {remote.host}\n",
                           encoding="utf-8")
            return remote.result
        error = submitted.error or self._lost(submitted.future)
        log.write_text(f"weir: {error}\n", encoding="utf-8")
        return JobResult(False, error=error)

    def _lost(self, future: Any) -> str:
        """Why Dask gave no result, in a sentence."""
        if not self.cluster.alive():
            return (f"the Dask scheduler at {self.cluster.executor.address} went away before "
                    "this job ended (its previous data is kept)")
        if future.status != "error":
            return ("the Dask cluster dropped this job before it ended (its workers left, or "
                    f"the scheduler restarted: {future.status})")
        exc = future.exception()
        if type(exc).__name__ == "KilledWorker":
            return ("the Dask workers running this recipe died (each time it was run again "
                    "elsewhere, its worker died too: out of memory?)")
        return f"the Dask cluster could not run this job: {type(exc).__name__}: {exc}"

    def kill(self, *job_ids: str) -> None:
        """Stop jobs: Dask forgets them, and their workers are restarted, together (the only
        way to stop a task that runs); what they staged is never committed."""
        stopped = [self._busy.pop(j) for j in job_ids if j in self._busy]
        if stopped:
            self._stop(stopped)

    def _stop(self, stopped: list[_Submitted]) -> None:
        """Forget the jobs, and restart the workers running them — waited for, as a local
        worker's kill is, so what the runner then discards is not staged again behind it."""
        keys = {s.future.key for s in stopped if s.future is not None}
        try:
            processing = self.cluster.client.processing()
        except Exception:  # noqa: BLE001 - a scheduler gone: nothing runs there any more
            processing = {}
        workers = [w for w, running in processing.items() if keys & set(running)]
        for s in stopped:
            if s.future is not None:
                s.future.cancel()
            log = Path(s.log_path)
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text("weir: stopped on the Dask cluster before it ended (--fail-fast, a "
                           "cancel or Ctrl-C): its worker was restarted, and what the recipe "
                           "printed there is not brought back\n", encoding="utf-8")
        if workers:
            try:
                self.cluster.client.restart_workers(workers, timeout=RESTART_SECONDS,
                                                    raise_for_error=False)
            except Exception:  # noqa: BLE001 - one without a nanny is not restarted: what
                pass  # its job stages is never committed, and the next build sweeps it

    def running(self) -> list[str]:
        return list(self._busy)

    def close(self, kill: bool = False) -> None:
        """The build is over: what still runs is stopped (its job was)."""
        stopped = list(self._busy.values())
        self._busy.clear()
        if stopped:
            self._stop(stopped)


class Clusters:
    """The daemon's clients of Dask schedulers, by address: connected at a build's first need
    and kept for the next (a connection costs a few hundred milliseconds), made anew when the
    scheduler went away in between."""

    def __init__(self) -> None:
        self._by_address: dict[str, DaskCluster] = {}
        self._lock = threading.Lock()

    def get(self, executor: Executor) -> DaskCluster:
        assert executor.address is not None
        with self._lock:
            cluster = self._by_address.get(executor.address)
            if cluster is not None and cluster.alive():
                return cluster
            if cluster is not None:
                cluster.close()
            cluster = connect(executor)
            self._by_address[executor.address] = cluster
            return cluster

    def close(self) -> None:
        with self._lock:
            clusters = list(self._by_address.values())
            self._by_address.clear()
        for cluster in clusters:
            cluster.close()
