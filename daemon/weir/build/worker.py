"""Runs one job inside a warm worker process: read inputs, call the recipe, write outputs.

Workers are forked from a server that has already imported pandas and pyarrow, so a job pays
only for its own work. Output goes to temporary paths; the parent renames it into place. The
recipe's stdout and stderr (also from C libraries: file descriptors are redirected) go to the
job's log, and a failure is reported with the traceback of the user's code only. A source's
checks run here too (``check_source``), on its data as it is, before the jobs that read it.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas  # noqa: F401  - preloaded so every job starts warm
import pyarrow as pa

from weir.build.jobspec import (ConnectionSpec, InputSpec, JobResult, OutputSpec,
                                SourceCheckJob, WorkerJob, WrittenOutput)
from weir.build.metrics import StreamMeasure, measure
from weir.build.project_code import ProjectCode
from weir.build.r_runner import RFailed, run_r
from weir.build.scans import Scan
from weir.build.spark_jobs import (SparkOutput, hand_over, headline, is_spark_error,
                                   is_spark_frame)
from weir.build.returns import RecipeError, as_writable
from weir.errors import WeirError
from weir.model.project import Interface, RecipeKind
from weir.model.sql_recipes import engine_error
from weir.model.partitions import partition_of
from weir.recipe_api import job_partition, job_variables
from weir.storage.backends import Backend, backend_for
from weir.storage.formats import as_table, schema_diff, schema_rows
from weir.wire import CheckResult, Metrics

_FORKSERVER_PID = os.getpid()  # this module is preloaded in the forkserver: its pid
_code = ProjectCode()  # this worker's compiled project code, by content
_backends: dict[str, Backend] = {}


def _backend(job: WorkerJob | SourceCheckJob, conn: ConnectionSpec) -> Backend:
    """This worker's backend for a connection (made once; secrets resolved on first use)."""
    key = f"{job.data_root}|{conn.name}|{sorted(conn.params.items())}"
    if key not in _backends:
        _backends[key] = backend_for(Path(job.data_root), conn.name, conn.type, conn.params)
    return _backends[key]


def serve(conn: Connection) -> None:
    """The worker's loop: one job at a time until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    _live_only_with_owner(conn)
    while True:
        try:
            job = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if job is None:
            return
        conn.send(run_job(job))


def _live_only_with_owner(conn: Connection) -> None:
    """Die within moments of the process that owns the build (the CLI or the daemon), however
    it ends: a worker left behind would go on writing a temporary file nobody commits.

    A worker is the forkserver's child, not the owner's, so the owner's death has to reach it
    another way. On Linux the kernel SIGKILLs the worker when the forkserver exits, and the
    forkserver exits the moment its parent, the owner, does (``weir.build.forkserver``): this
    holds even while a recipe keeps the GIL in C code. Everywhere, a thread waits for the
    owner's end of ``conn`` to hang up — only the owner holds it, so the kernel closes it when
    the owner dies — and ends the process.
    """
    _die_with_forkserver()
    threading.Thread(target=_exit_when_hung_up, args=(conn.fileno(),), daemon=True,
                     name="weir-owner-watch").start()


def _die_with_forkserver() -> None:
    """On Linux, have the kernel SIGKILL this worker when its parent, the forkserver, exits
    (which it does as soon as the owner dies)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if _FORKSERVER_PID != os.getpid() and os.getppid() != _FORKSERVER_PID:
        os._exit(1)  # the forkserver went before the request took effect


def _exit_when_hung_up(fd: int) -> None:
    """Block until the owner's end of the worker's connection closes, then end the process.
    Only hang-up is asked for (POLLRDHUP; POLLHUP and POLLERR always count), so the jobs
    arriving on the same connection never wake this thread."""
    poller = select.poll()
    poller.register(fd, getattr(select, "POLLRDHUP", 0))
    poller.poll()  # returns only once the connection hangs up
    os._exit(1)


def run_job(job: WorkerJob | SourceCheckJob) -> JobResult:
    if isinstance(job, SourceCheckJob):
        return check_source(job)
    started = time.perf_counter()
    log_path = Path(job.log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as log, _redirected(log):
        print(f"weir: {job.kind.value} recipe {job.recipe} → {', '.join(job.output_names)}"
              + (f" [{job.partition}]" if job.partition else ""), flush=True)
        token = job_variables.set(job.variables)
        part_token = job_partition.set(partition_of(job.partitioning, job.partition)
                                       if job.partition is not None else None)
        audited = _Audited()
        try:
            if job.kind is RecipeKind.SQL and _in_database(job) and not job.outputs[0].schema:
                written = _sql_in_database(job, audited)
            elif job.kind is RecipeKind.SQL:
                written = _write_outputs(job, _sql(job), audited)
            else:
                folders = _stage_folders(job)
                produce = _r if job.kind is RecipeKind.R else _python
                try:
                    written = _write_outputs(job, produce(job, folders), audited)
                except BaseException:
                    for spec in job.outputs:
                        if spec.name in folders:
                            _backend(job, spec.connection).discard(
                                spec.loc, "folder", folders[spec.name][0])
                    raise
                for name, (handle, folder) in folders.items():
                    written.append(WrittenOutput(name, handle, len(folder.list()), []))
            result = JobResult(True, tuple(written), checks=audited.checks or None,
                               metrics=audited.metrics or None)
            print(f"weir: done in {time.perf_counter() - started:.3f}s "
                  f"(checks and metrics {audited.seconds:.3f}s), peak memory {_peak_mib()} MiB",
                  flush=True)
        except ChecksFailed as exc:
            message = exc.message + (f"\nhint: {exc.hint}" if exc.hint else "")
            result = JobResult(False, error=message, checks=audited.checks)
            print(f"weir: rejected: {message}", flush=True)
        except WeirError as exc:
            message = _said_at(job, exc, exc.message, exc.hint)
            result = JobResult(False, error=message)
            print(f"weir: failed: {message}", flush=True)
        except RFailed as exc:  # the R code's own error, with its R frames
            result = JobResult(False, error=exc.message, traceback=exc.traceback or None)
            print(f"{exc.message}\n{exc.traceback}".rstrip(), flush=True)
        except SystemExit as exc:
            # Caught, so the worker lives on and what the recipe said lands in its log.
            code = "" if exc.code is None else repr(exc.code)
            message = _said_at(job, exc, f"recipe '{job.recipe}' called sys.exit({code})",
                               "a recipe returns its data, or raises an exception to fail; "
                               "sys.exit() would end the process running it")
            tb = _user_traceback(exc, job.project_root)
            result = JobResult(False, error=message, traceback=tb)
            print(f"weir: failed: {message}\n{tb}", flush=True)
        except Exception as exc:  # noqa: BLE001 - the user's code may raise anything
            tb = _user_traceback(exc, job.project_root)
            result = JobResult(False, error=f"{type(exc).__name__}: {exc}", traceback=tb)
            print(tb, flush=True)
        finally:
            job_variables.reset(token)
            job_partition.reset(part_token)
    return replace(result, seconds=time.perf_counter() - started)


def check_source(job: SourceCheckJob) -> JobResult:
    """Run a source's checks on its data as it is now (``audit.run_checks``, as for an
    output). Nothing of the source is changed, whatever they say: a failed `error` check
    fails this job, so the jobs reading the source are skipped."""
    from weir.build.audit import describe, failed_errors, run_checks

    started = time.perf_counter()
    name = job.source.name
    log_path = Path(job.log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as log, _redirected(log):
        print(f"weir: checks of source {name}", flush=True)
        try:
            src = job.source
            backend = _backend(job, src.connection)
            related = {r.name: r for r in job.related}
            same_place = {r.name: r.loc for r in (src, *job.related)
                          if r.connection.name == src.connection.name}
            scanned: contextlib.AbstractContextManager[Any]
            if src.schema is not None and backend.type != "postgresql":
                # Typed by its declared schema as a read gives it to its readers.
                scanned = contextlib.nullcontext(_read(job, src))
            else:  # where it lies: in PostgreSQL, a Parquet file scanned, not loaded
                from weir.build.scans import stored_scan

                if not backend.exists(src.loc, src.format):
                    _read(job, src)  # says how it is missing, as a read would
                scanned = stored_scan(backend, name, src.loc, src.format,
                                      lambda: _read(job, src), same_place)
            with scanned as data:
                results = run_checks(name, data, job.checks, job.schema,
                                     lambda other: _read(job, src if other == name
                                                         else related[other]),
                                     job.project_root)
                rows = data.num_rows if isinstance(data, pa.Table) else data.count()
            for r in results:
                mark = "ok" if r.passed else ("FAILED" if r.severity.value == "error"
                                              else "warning")
                print(f"weir: check {r.name}: {mark}" + (f" ({r.message})" if r.message
                                                         else ""), flush=True)
            failures = failed_errors(results)
            error = (describe(name, failures) + f"\nhint: {job.hint}") if failures else None
            result = JobResult(not failures, error=error, checks={name: tuple(results)},
                               checked_rows=rows)
            spent = time.perf_counter() - started
            print(f"weir: rejected: {error}" if error else
                  f"weir: done in {spent:.3f}s (checks and metrics {spent:.3f}s), "
                  f"peak memory {_peak_mib()} MiB", flush=True)
        except WeirError as exc:
            message = exc.message + (f"\n  hint: {exc.hint}" if exc.hint else "")
            result = JobResult(False, error=message)
            print(f"weir: failed: {message}", flush=True)
        except Exception as exc:  # noqa: BLE001 - a check's own failure is said per check;
            # this is reading the data (a file that does not parse)
            result = JobResult(False, error=f"cannot read source '{name}': "
                               f"{type(exc).__name__}: {exc}")
            print(f"weir: failed: {result.error}", flush=True)
    return replace(result, seconds=time.perf_counter() - started)


def _said_at(job: WorkerJob, exc: BaseException, message: str, hint: str | None) -> str:
    """``file:line: message`` and its hint. The line: where the error itself says (a query's),
    else the user's innermost frame (the call that wrote outside a folder), else — for what
    the recipe returned — the recipe's ``def``. An input weir could not read has none: the
    message names the data instead."""
    where = exc.where if isinstance(exc, RecipeError) else None
    frames = _user_frames(exc.__traceback__, job.project_root)
    if where is None and frames:
        where = f"{os.path.relpath(frames[-1].filename, job.project_root)}:{frames[-1].lineno}"
    if where is None and isinstance(exc, RecipeError):
        where = f"{job.rel_file}:{job.line}" if job.line else job.rel_file
    return (f"{where}: " if where else "") + message + (f"\n  hint: {hint}" if hint else "")


class _redirected:
    """Point fds 1 and 2 at the log for the job's duration (catches C-level output too)."""

    def __init__(self, log: Any) -> None:
        self.log = log

    def __enter__(self) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        self.saved = (os.dup(1), os.dup(2))
        os.dup2(self.log.fileno(), 1)
        os.dup2(self.log.fileno(), 2)
        self.streams = (sys.stdout, sys.stderr)
        # Line by line into the log, so a daemon following it shows output as it is printed.
        self.buffering = sys.stdout.line_buffering
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]

    def __exit__(self, *exc: Any) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout.reconfigure(line_buffering=self.buffering)  # type: ignore[union-attr]
        os.dup2(self.saved[0], 1)
        os.dup2(self.saved[1], 2)
        os.close(self.saved[0])
        os.close(self.saved[1])


def _user_frames(tb: Any, project_root: str) -> list[traceback.FrameSummary]:
    """The frames of the user's own files: under the project, with a real path (not
    ``<frozen importlib…>`` nor a Cython ``pyarrow/*.pxi``, whose names are relative), and not
    an installed package (a virtualenv inside the project) nor weir itself."""
    root = os.path.realpath(project_root) + os.sep
    return [f for f in traceback.extract_tb(tb)
            if os.path.isabs(f.filename) and _is_users(os.path.realpath(f.filename), root)]


def _is_users(path: str, root: str) -> bool:
    if not path.startswith(root) or path.startswith(_WEIR_DIR):
        return False
    parts = path[len(root):].split(os.sep)
    return not ({"site-packages", "dist-packages"} & set(parts)) and not any(
        path.startswith(prefix) for prefix in _PREFIXES if prefix.startswith(root))


_WEIR_DIR = os.path.dirname(os.path.realpath(__file__)).rsplit(os.sep, 1)[0] + os.sep
_PREFIXES = {os.path.realpath(p) + os.sep for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}


def _user_traceback(exc: BaseException, project_root: str) -> str:
    """The traceback with weir's and libraries' frames removed: the user's code is what matters."""
    lines = []
    frames = _user_frames(exc.__traceback__, project_root)
    if frames:
        lines.append("Traceback (most recent call last):\n")
    for frame in frames:
        rel = os.path.relpath(frame.filename, project_root)
        lines.append(f'  File "{rel}", line {frame.lineno}, in {frame.name}\n')
        if frame.line:
            lines.append(f"    {frame.line.strip()}\n")
    lines.extend(traceback.format_exception_only(type(exc), exc))
    return "".join(lines).rstrip()


def _load_module(job: WorkerJob) -> ModuleType:
    """The recipe's module, executed anew for this job (see ``weir.build.project_code``)."""
    return _code.fresh_module(job.project_root, job.recipes_dir, job.file,
                              "weir_recipes." + Path(job.file).stem)


def _read(job: WorkerJob | SourceCheckJob, inp: InputSpec) -> pa.Table:
    schema = list(inp.schema) if inp.schema else None
    if inp.partitions is not None:  # only the partitions this job reads
        return _backend(job, inp.connection).read_partitions(
            inp.loc, inp.format, inp.partitioning, list(inp.partitions), schema)
    return _backend(job, inp.connection).read(inp.loc, inp.format, schema)


def _local_parquet(job: WorkerJob, inp: InputSpec) -> str | None:
    """A local Parquet file DuckDB can scan lazily instead of loading it whole."""
    if inp.format != "parquet" or inp.partitions is not None:
        return None
    path = _backend(job, inp.connection).local_path(inp.loc)
    return str(path) if path is not None else None


def _hand_over(job: WorkerJob, inp: InputSpec, duck: list[Any]) -> Any:
    interface = inp.interface
    if interface is Interface.FOLDER:
        from weir.folder_api import Folder

        store = _backend(job, inp.connection).folder_store(inp.loc, inp.name, writable=False)
        return Folder._bound(inp.name, store)
    if interface is Interface.DATASET:
        from weir.dataset_api import Dataset

        if inp.partitions is not None:
            raise RecipeError(f"input '{inp.name}' is partitioned: it is handed over as a "
                              "DataFrame, a Table or a relation of the partitions read, not as "
                              "weir.Dataset", hint="annotate it pd.DataFrame, pa.Table or "
                              "duckdb.DuckDBPyRelation")

        schema = list(inp.schema) if inp.schema else None
        return Dataset._bound(inp.name, _backend(job, inp.connection), inp.loc, inp.format,
                              schema)
    if interface is Interface.DUCKDB:
        import duckdb

        if not duck:
            duck.append(duckdb.connect())
        local = _local_parquet(job, inp)
        if local is not None:
            return duck[0].read_parquet(local)
        return duck[0].from_arrow(_read(job, inp))
    if interface is Interface.SPARK:
        return hand_over(job, inp, _backend(job, inp.connection), lambda: _read(job, inp),
                         lambda line: print(line, flush=True))
    table = _read(job, inp)
    if interface is Interface.ARROW:
        return table
    if interface is Interface.POLARS:
        try:
            import polars
        except ImportError:
            raise RecipeError(f"input '{inp.name}' wants a polars.DataFrame but polars is "
                              "not installed (pip install polars)") from None
        return polars.from_arrow(table)
    return table.to_pandas()


def _stage_folders(job: WorkerJob) -> dict[str, tuple[str, Any]]:
    """An empty staging place per folder output: ``name -> (handle, Folder)``."""
    from weir.folder_api import Folder

    staged: dict[str, tuple[str, Any]] = {}
    for spec in job.outputs:
        if spec.is_folder:
            handle, store = _backend(job, spec.connection).folder_staging(
                spec.loc, spec.name, spec.token)
            staged[spec.name] = (handle, Folder._bound(spec.name, store))
    return staged


def _python(job: WorkerJob, folders: dict[str, tuple[str, Any]]) -> dict[str, Any]:
    module = _load_module(job)
    fn = getattr(module, job.recipe, None)
    if fn is None or not callable(fn):
        raise RecipeError(f"recipe '{job.recipe}' is not a function of its module when it "
                          "runs", hint="is it defined under an `if`, or replaced further down "
                          "the file?")
    duck: list[Any] = []
    try:
        args = {inp.name: _hand_over(job, inp, duck) for inp in job.inputs}
        args.update({name: folder for name, (_, folder) in folders.items()})
        if job.partition_parameter is not None:
            if job.partition is None:
                raise RecipeError(
                    f"{job.rel_file}:{job.line}: parameter '{job.partition_parameter}' takes "
                    f"the partition being built, but {', '.join(job.output_names)} is not "
                    "partitioned", hint="declare `partitioning:` in its dataset file, or drop "
                    "the parameter")
            args[job.partition_parameter] = job_partition.get()  # as weir.partition() says
        try:
            value = fn(**args)
        except Exception as exc:
            if job.spark is None or not is_spark_error(exc):
                raise
            raise _spark_mistake(job, exc) from None
        outputs = [o for o in job.output_names if o not in folders]
        if not outputs:
            return {}  # only folders: what the recipe wrote into them is the output
        if len(outputs) > 1 or (isinstance(value, dict) and set(value) == set(outputs)):
            if not isinstance(value, dict) or set(value) != set(outputs):
                got = sorted(value) if isinstance(value, dict) else type(value).__name__
                raise RecipeError(f"recipe '{job.recipe}' must return a dict with keys "
                                  f"{', '.join(outputs)}; it returned {got}")
            return {name: _writable(job, name, value[name],
                                    f"recipe '{job.recipe}' returned {{}} for '{name}'")
                    for name in outputs}
        return {outputs[0]: _writable(job, outputs[0], value,
                                      f"recipe '{job.recipe}' returned {{}}")}
    finally:
        for con in duck:
            con.close()


def _spark_mistake(job: WorkerJob, exc: Exception) -> RecipeError:
    """A Spark error the recipe's code raised, said in one line at the user's line (the query
    plan Spark appends goes to the log only)."""
    print(f"weir: Spark said: {exc}", flush=True)
    frames = _user_frames(exc.__traceback__, job.project_root)
    where = (f"{os.path.relpath(frames[-1].filename, job.project_root)}:{frames[-1].lineno}"
             if frames else f"{job.rel_file}:{job.line}")
    return RecipeError(headline(exc), where=where)


def _writable(job: WorkerJob, name: str, value: Any, said: str) -> Any:
    """What the recipe returned for ``name``, as the output stage takes it: a Spark recipe's
    Spark DataFrame is kept as it is, for Spark to compute and write (``weir.build.spark_jobs``)."""
    if job.spark is not None and is_spark_frame(value):
        return SparkOutput(job, name, value)
    return as_writable(name, value, said)


def _r(job: WorkerJob, folders: dict[str, tuple[str, Any]]) -> dict[str, Any]:
    return run_r(job, lambda inp: _read(job, inp),
                 lambda inp: _backend(job, inp.connection).folder_store(inp.loc, inp.name,
                                                                        writable=False),
                 folders, lambda line: print(line, flush=True))


def _in_database(job: WorkerJob) -> bool:
    """A SQL recipe runs inside PostgreSQL when its inputs and output all live there, on one
    connection; anywhere else it runs in DuckDB over the inputs."""
    out = job.outputs[0].connection
    return out.type == "postgresql" and all(i.connection.name == out.name for i in job.inputs)


def _sql_in_database(job: WorkerJob, audited: _Audited) -> list[WrittenOutput]:
    """The query runs inside PostgreSQL into a staged table; its checks and metrics are
    queries there too, so the rows never come through weir."""
    spec = job.outputs[0]
    backend = _backend(job, spec.connection)
    text = Path(job.file).read_text(encoding="utf-8")
    params = {v: job.variables[v] for v in job.sql_variables} | _partition_params(job, text)
    print(f"weir: running inside PostgreSQL (connection '{spec.connection.name}')", flush=True)
    handle, schema, rows = backend.stage_query(  # type: ignore[attr-defined]
        spec.loc, text, params, {i.name: i.loc for i in job.inputs}, spec.token)
    try:
        _audit_staged(job, spec, backend, handle, rows, None, audited)
    except BaseException:
        backend.discard(spec.loc, spec.format, handle)
        raise
    return [WrittenOutput(spec.name, handle, rows, schema_rows(schema))]


def _sql(job: WorkerJob) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect()
    try:
        for inp in job.inputs:
            local = _local_parquet(job, inp)
            if local is not None:
                con.read_parquet(local).create_view(inp.name)
            else:
                con.register(inp.name, _read(job, inp))
        text = Path(job.file).read_text(encoding="utf-8")
        params = {v: job.variables[v] for v in job.sql_variables} | _partition_params(job, text)
        try:
            # A relation's Arrow output is the rows themselves (a DB-API result's is a copy).
            table = con.sql(text, params=params or None).to_arrow_table()
        except duckdb.Error as first:
            error = first
            try:  # again through execute, whose errors name the query's line
                con.execute(text, params or None)
            except duckdb.Error as exc:
                error = exc
            line, message, hint = engine_error(text, str(error))
            raise RecipeError(message, hint, where=f"{job.rel_file}:{line}" if line
                              else job.rel_file) from None
        return {job.outputs[0].name: table}
    finally:
        con.close()


def _partition_params(job: WorkerJob, text: str) -> dict[str, Any]:
    """The ``$partition…`` parameters the query uses, bound to the partition built."""
    used = set(re.findall(r"\$(partition\w*)", text))
    if not used:
        return {}
    if job.partition is None:
        raise RecipeError(f"{job.rel_file} uses ${sorted(used)[0]}, but its output is not "
                          "partitioned", hint="declare `partitioning:` in its dataset's file, "
                          "or remove the parameter")
    from weir.model.partitions import partition_of

    given = partition_of(job.partitioning, job.partition).sql_params()
    unknown = used - given.keys()
    if unknown:
        raise RecipeError(f"${sorted(unknown)[0]} has no value for partition {job.partition}",
                          hint=f"this partition binds {', '.join('$' + k for k in given)}")
    return {k: given[k] for k in used}


def _stage(backend: Backend, spec: OutputSpec, data: Any) -> tuple[str, pa.Schema, int]:
    """Stage an output, or the one partition of it the job builds."""
    if spec.partition is not None:
        return backend.stage_partition(spec.loc, spec.format, spec.partitioning, spec.partition,
                                       data, spec.token)
    return backend.stage(spec.loc, spec.format, data, spec.token)


@dataclass
class _Audited:
    """What a job's audit found (by output: its checks' verdicts, its metrics) and the time it
    took, which the log says beside the job's (what checks cost a build is seen, not guessed)."""

    checks: dict[str, tuple[CheckResult, ...]] = field(default_factory=dict)
    metrics: dict[str, Metrics] = field(default_factory=dict)
    seconds: float = 0.0

    @contextmanager
    def timed(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - started


def _peak_mib() -> int:
    """This worker's peak resident memory so far (its high-water mark, over its jobs)."""
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


class ChecksFailed(RecipeError):
    """An output failed an ``error`` check: it is discarded, never handed back to commit."""


def _write_outputs(job: WorkerJob, outputs: dict[str, Any],
                   audited: _Audited) -> list[WrittenOutput]:
    """Stage every output and audit it (its checks, on the data in hand); if one fails or is
    rejected, discard those already staged (nothing half-done)."""
    written: list[tuple[OutputSpec, WrittenOutput]] = []
    # Only bench/bench_checks.py sets it: to measure what metrics cost a build, against none.
    measuring = not os.environ.get("WEIR_BENCH_NO_METRICS")
    try:
        for spec in job.outputs:
            if spec.is_folder:
                continue
            data = outputs[spec.name]
            backend = _backend(job, spec.connection)
            if isinstance(data, SparkOutput):
                staged = data.stage(backend, spec)
                if staged is None:
                    print(f"weir: {spec.name} is collected from Spark as Arrow", flush=True)
                    data = data.to_arrow()
                else:  # written by Spark where the backend stages: audited there, as a stream
                    print(f"weir: {spec.name} is written by Spark itself", flush=True)
                    handle, schema, rows = staged
                    written.append((spec, WrittenOutput(spec.name, handle, rows,
                                                        schema_rows(schema))))
                    _audit_staged(job, spec, backend, handle, rows, None, audited,
                                  measuring=measuring)
                    continue
            if _audited_where_staged(backend, spec, data):
                kept: dict[str, list[pa.Array]] = {}
                meter = StreamMeasure()  # measures nothing unless a stream goes through it
                if not isinstance(data, pa.Table):
                    data = _keeping(data, _unique_keys(spec), kept)
                    data = meter.tee(data) if measuring else data
                handle, schema, rows = _stage(backend, spec, data)
                written.append((spec, WrittenOutput(
                    spec.name, handle, rows,
                    schema_rows(schema, data if isinstance(data, pa.Table) else None))))
                with audited.timed():
                    metered = meter.result()  # what the writer did not wait for is not here
                _audit_staged(job, spec, backend, handle, rows,
                              data if isinstance(data, pa.Table) else None, audited,
                              {k: pa.chunked_array(v, schema.field(k).type)
                               for k, v in kept.items() if k in schema.names}, metered,
                              measuring)
                continue
            if spec.checks:
                data = _audit(job, spec, data, audited)
            if spec.schema:
                table = as_table(data)
                problems = schema_diff(list(spec.schema), table)
                if problems:
                    raise _mismatch(spec, problems)
                data = table
            meter = StreamMeasure()
            if isinstance(data, pa.Table) and measuring:
                with audited.timed():
                    audited.metrics[spec.name] = measure(data)
            elif measuring:
                data = meter.tee(data)
            handle, schema, rows = _stage(backend, spec, data)
            written.append((spec, WrittenOutput(
                spec.name, handle, rows,
                schema_rows(schema, data if isinstance(data, pa.Table) else None))))
            with audited.timed():
                if (metered := meter.result()) is not None:
                    audited.metrics[spec.name] = metered
    except BaseException:
        for spec, w in written:
            _backend(job, spec.connection).discard(spec.loc, spec.format, w.handle)
        raise
    return [w for _, w in written]


def _mismatch(spec: OutputSpec, problems: list[str]) -> RecipeError:
    return RecipeError(f"output '{spec.name}' does not match its declared schema "
                       f"({spec.schema_file}):\n    " + "\n    ".join(problems))


def _audited_where_staged(backend: Backend, spec: OutputSpec, data: Any) -> bool:
    """Whether ``spec`` is audited after staging, where it is staged, rather than in memory
    before: a PostgreSQL dataset (its checks are PostgreSQL's SQL, as for `weir check`), and a
    stream staged as a local Parquet file (DuckDB scans it; the stream is never held whole)."""
    if backend.type == "postgresql":
        return bool(spec.checks)
    return not isinstance(data, pa.Table) and spec.format == "parquet" \
        and backend.local_path(spec.loc) is not None


def _unique_keys(spec: OutputSpec) -> set[str]:
    """The columns a unique check finds duplicates in by sorting (one column per set)."""
    from weir.model.checks import CheckKind

    return {cols[0] for c in spec.checks if c.kind is CheckKind.UNIQUE
            for cols in c.params["sets"] if len(cols) == 1}


def _keeping(data: Any, columns: set[str], kept: dict[str, list[pa.Array]]) -> Any:
    """The stream as it is, keeping aside the given columns of each batch as it goes by:
    a unique key is checked from them, without reading the staged file back."""
    if not columns:
        return data

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in data:
            for c in columns:
                if c in batch.schema.names:
                    kept.setdefault(c, []).append(batch.column(c))
            yield batch

    if isinstance(data, pa.RecordBatchReader):
        return pa.RecordBatchReader.from_batches(data.schema, batches())
    return batches()


def _audit_staged(job: WorkerJob, spec: OutputSpec, backend: Backend, handle: str, rows: int,
                  table: pa.Table | None, audited: _Audited,
                  kept: dict[str, pa.ChunkedArray] | None = None,
                  metered: Metrics | None = None, measuring: bool = True) -> None:
    """Audit a staged output where it lies (``weir.build.scans``): its declared schema, its
    checks, its metrics; raises to have it discarded."""
    from weir.build.metrics import measure_scan
    from weir.build.scans import q, stored_scan
    from weir.storage.formats import schema_diff_of

    same_place = {r.name: r.loc for r in (*spec.related, *job.inputs)
                  if r.connection.name == spec.connection.name}
    with audited.timed(), stored_scan(backend, spec.name, handle, spec.format,
                                      lambda: backend.read(handle, spec.format),
                                      same_place, kept) as scan:
        if spec.schema:
            problems = schema_diff_of(list(spec.schema), scan.schema(), lambda c: int(
                scan.scalar(f"SELECT count(*) - count({q(c)}) FROM _data")))
            if problems:
                raise _mismatch(spec, problems)
        if spec.checks:
            _judge(job, spec, scan, audited)
        if measuring:
            audited.metrics[spec.name] = metered or (measure(table) if table is not None
                                                     else measure_scan(scan, rows=rows))


def _audit(job: WorkerJob, spec: OutputSpec, data: Any, audited: _Audited) -> pa.Table:
    """Run ``spec``'s checks on its data in hand (made one table for them); a failed
    ``error`` check rejects the output before anything of it is staged."""
    from weir.build.scans import arrow_scan

    table = as_table(data)
    with audited.timed(), arrow_scan(spec.name, table) as scan:
        _judge(job, spec, scan, audited)
    return table


def _judge(job: WorkerJob, spec: OutputSpec, scan: Scan, audited: _Audited) -> None:
    """Run the checks, say what each found, and reject the output (kept aside to look at)
    if an ``error`` check failed."""
    from weir.build.audit import describe, failed_errors, run_checks

    related = {r.name: r for r in spec.related}
    results = run_checks(spec.name, scan, spec.checks, spec.schema,
                         lambda name: _read(job, related[name]), job.project_root)
    audited.checks[spec.name] = tuple(results)
    for r in results:
        mark = "ok" if r.passed else ("FAILED" if r.severity.value == "error" else "warning")
        print(f"weir: check {r.name}: {mark}" + (f" ({r.message})" if r.message else ""),
              flush=True)
    failures = failed_errors(results)
    if failures:
        _keep_rejected(job, spec.name, scan)
        raise ChecksFailed(describe(spec.name, failures),
                           hint=f"the previous version of '{spec.name}' stays live; fix the "
                           "data or the recipe, or make the check a `severity: warning`")


def _keep_rejected(job: WorkerJob, name: str, scan: Scan) -> None:
    """Keep what the checks rejected aside, to look at (`weir show x --rejected`,
    ``weir.Dataset("x").rejected()``): written whole, then renamed into place."""
    from weir.storage.locations import rejected_path

    path = rejected_path(job.data_root, name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        scan.write_parquet(str(tmp))
        os.replace(tmp, path)
    except Exception as exc:  # noqa: BLE001 - the rejection stands without its copy
        print(f"weir: could not keep the rejected data of {name}: {exc}", flush=True)
