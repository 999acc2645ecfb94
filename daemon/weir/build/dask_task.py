"""What runs inside a Dask worker for one weir job: the same ``run_job`` a local worker runs.

The job's log is written to a file of the worker's own machine and sent back with the result
(the building process writes it where ``weir logs`` looks), since a cluster's workers need not
see the project's ``.weir/``. A job redirects file descriptors 1 and 2 to that log, and those
are the whole process's: jobs in one worker process therefore run one at a time, whatever its
thread count (start workers with ``--nthreads 1`` and as many processes as cores).

This module is imported by the Dask worker (by reference, as the submitted function's module),
so it imports weir's worker — pandas, pyarrow — only when a job arrives.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from weir._version import __version__
from weir.build.code_bundle import CodeBundle, matches, unpack
from weir.build.jobspec import JobResult, SourceCheckJob, WorkerJob

# File descriptors 1 and 2 belong to the process: one job at a time in it.
_one_at_a_time = threading.Lock()
# Where each build's code is on this machine: (bundle digest, project root) -> directory.
_code_roots: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class RemoteResult:
    result: JobResult
    log: str  # the job's whole log, as the worker wrote it
    host: str  # the worker's machine and process, for a message
    version: str  # the weir that ran it


def code_of(bundle: CodeBundle) -> CodeBundle:
    """The build's code as a task's result, which each worker fetches once for its jobs."""
    return bundle


def run_remote(job: WorkerJob | SourceCheckJob, version: str,
               code: CodeBundle | None = None) -> RemoteResult:
    """Run ``job`` here, its log in a temporary file of this machine, and bring both back.
    ``code``: the project's code as the build has it, run in place when this machine has the
    same, else from a copy of its own (``weir.build.code_bundle``)."""
    host = f"{os.uname().nodename} pid {os.getpid()}"
    if version != __version__:  # the job's shape is this weir's: another one may misread it
        return RemoteResult(JobResult(False, error=(
            f"the Dask worker on {host} runs weir {__version__}, this build weir {version}: "
            "install the same weir on the cluster's workers")), "", host, __version__)
    from weir.build.worker import run_job

    job = _placed(job, code)
    # In a directory of this process's, laid out as a build's logs are (``logs/JOB/RUN.log``),
    # so what sits beside the jobs' logs (a Spark session's JVM log) has a place here too.
    jobs = Path(tempfile.gettempdir()) / "weir-worker" / str(os.getpid()) / "jobs"
    jobs.mkdir(parents=True, exist_ok=True)
    fd, log = tempfile.mkstemp(prefix="job-", suffix=".log", dir=jobs)
    os.close(fd)
    try:
        with _one_at_a_time, _in_directory(job.project_root):
            result = run_job(replace(job, log_path=log))
        text = Path(log).read_text(encoding="utf-8", errors="replace")
    finally:
        Path(log).unlink(missing_ok=True)
    return RemoteResult(result, text, host, __version__)


def _placed(job: WorkerJob | SourceCheckJob, code: CodeBundle | None
            ) -> WorkerJob | SourceCheckJob:
    """``job`` with its code where this machine has it."""
    if code is None:
        return job
    key = (code.digest, job.project_root)
    root = _code_roots.get(key)
    if root is None:
        root = job.project_root if matches(code, job.project_root) else str(unpack(code))
        _code_roots[key] = root
    if root == job.project_root:
        return job
    if isinstance(job, SourceCheckJob):
        return replace(job, project_root=root)
    return replace(job, project_root=root, file=os.path.join(root, job.rel_file),
                   recipes_dir=os.path.join(root, os.path.relpath(job.recipes_dir,
                                                                  job.project_root)))


@contextmanager
def _in_directory(path: str) -> Iterator[None]:
    """Run in the project's directory when this machine has it (a shared checkout), as a
    build on this machine runs in its own: a recipe's relative paths then mean the same."""
    before = os.getcwd()
    try:
        os.chdir(path)
    except OSError:
        yield
        return
    try:
        yield
    finally:
        os.chdir(before)
