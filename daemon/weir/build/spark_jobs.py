"""PySpark recipes: a Python recipe whose inputs are annotated ``pyspark.sql.DataFrame`` runs in
a Spark session its worker makes, gets Spark DataFrames and returns one.

Two sides. The build's parent asks only whether a recipe is a Spark one and whether pyspark is
installed (``find_spec``: nothing imported), so a machine without pyspark builds every other
recipe. The worker side makes one SparkSession per worker process, on first use, from the
job's settings (``weir.model.spark_settings``), and keeps it for the jobs after: a JVM start
costs seconds. pyspark is imported inside these functions only — never in the parent, never
in the forkserver, which preloads ``weir.build.worker`` and with it this module.

Data crosses into Spark the cheapest way weir knows: a local Parquet file weir wrote is read
by Spark itself; anything else (CSV, a database table, partitions, a declared schema) is read
by weir's backend as Arrow and handed to ``createDataFrame``. A returned DataFrame bound for a
local Parquet output is written by Spark itself into one file at the very path the backend
would stage to, so the output is audited where it is staged (DuckDB over that file: observed
schema, checks, metrics), exactly as a streamed output is; other outputs go through Arrow.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir.errors import WeirError
from weir.model.project import Interface, Recipe
from weir.model.spark_settings import SparkSettings

if TYPE_CHECKING:
    import pyarrow as pa

    from weir.build.jobspec import InputSpec, OutputSpec, WorkerJob
    from weir.storage.base import Backend

# What every session gets unless weir.yaml's `conf` says otherwise: times as weir writes them
# (UTC, microseconds Parquet readers all understand), a driver that fits beside other workers,
# and no progress bars in the job's log.
DEFAULT_CONF: Mapping[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.driver.memory": "1g",
    "spark.ui.showConsoleProgress": "false",
}
HADOOP_AWS = "org.apache.hadoop:hadoop-aws"

_session: tuple[str, Any] | None = None  # this worker's session, with the settings it has
_s3a: dict[str, bool] = {}  # by session key: whether the JVM has the s3a filesystem


# -- the parent's side: no pyspark imported ------------------------------------------------------
def is_spark_recipe(recipe: Recipe) -> bool:
    return any(inp.interface is Interface.SPARK for inp in recipe.inputs)


def spark_job(recipe: Recipe, settings: SparkSettings) -> dict[str, Any] | None:
    """The session settings a Spark recipe's job carries (None for any other recipe)."""
    return settings.as_job() if is_spark_recipe(recipe) else None


def pyspark_missing(recipe: Recipe) -> WeirError | None:
    """Why ``recipe`` cannot run here (it takes Spark DataFrames and pyspark is not
    installed), if it cannot."""
    if not is_spark_recipe(recipe):
        return None
    try:
        if importlib.util.find_spec("pyspark") is not None:
            return None
    except (ImportError, ValueError):  # a broken or blocked install is as good as none
        pass
    return WeirError(f"recipe '{recipe.name}' takes Spark DataFrames but pyspark is not "
                     "installed", hint='pip install "weir[spark]"')


# -- the worker's side ---------------------------------------------------------------------------
def session(job: WorkerJob, say: Callable[[str], None]) -> Any:
    """This worker's SparkSession for ``job``'s settings: made on first use, kept for the next
    jobs, made anew (in a new JVM, so driver settings apply) when the settings differ.
    ``say`` writes a line to the job's log."""
    global _session
    assert job.spark is not None
    # The project on the JVM's command line too: `ps` says which project a JVM serves.
    conf = {**DEFAULT_CONF, "spark.weir.project": job.data_root,
            **{k: _conf_value(v) for k, v in job.spark["conf"].items()}}
    key = f"{job.spark['master']}|{sorted(conf.items())}"
    if _session is not None and _session[0] == key:
        return _session[1]
    if _session is not None:
        _stop(_session[1])
        _session = None
    _session = (key, _start(job, str(job.spark["master"]), conf, say))
    return _session[1]


def _conf_value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _start(job: WorkerJob, master: str, conf: Mapping[str, str],
           say: Callable[[str], None]) -> Any:
    """Start the JVM and the session. The JVM outlives this job, so its own output goes to a
    log of its own beside the jobs' (``logs/spark/``), never into this job's log."""
    # pyspark warns about pandas versions on import; the recipe's log is not the place.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support",
                            category=FutureWarning)
    from pyspark.sql import SparkSession

    jvm_log = Path(job.log_path).parent.parent / "spark" / f"jvm-{os.getpid()}.log"
    jvm_log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    builder = SparkSession.builder.master(master).appName("weir")
    for k, v in conf.items():
        builder = builder.config(k, v)
    with open(jvm_log, "a", encoding="utf-8") as out, _fds_to(out.fileno()):
        try:
            spark = builder.getOrCreate()
        except Exception as exc:  # noqa: BLE001 - pyspark says a JVM that would not start so
            raise _why_no_session(master, exc, jvm_log) from None
    spark.sparkContext.setLogLevel("WARN")
    say(f"weir: Spark session started ({master}) in {time.perf_counter() - started:.1f}s; "
        f"the JVM's own log is {jvm_log}")
    return spark


class _fds_to:
    """fds 1 and 2 on ``fd`` while the JVM starts (it inherits them and keeps them)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __enter__(self) -> None:
        self.saved = (os.dup(1), os.dup(2))
        os.dup2(self.fd, 1)
        os.dup2(self.fd, 2)

    def __exit__(self, *exc: object) -> None:
        for target, saved in zip((1, 2), self.saved, strict=True):
            os.dup2(saved, target)
            os.close(saved)


def _why_no_session(master: str, exc: BaseException, jvm_log: Path) -> WeirError:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return WeirError("Spark needs Java 17+ (java not found)",
                         hint="install a JDK (e.g. apt-get install openjdk-17-jre-headless) "
                         "or set JAVA_HOME")
    return WeirError(f"cannot start a Spark session on {master}: "
                     f"{str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}",
                     hint=f"the JVM's own log says why: {jvm_log}; check `spark:` in weir.yaml")


def _stop(spark: Any) -> None:
    """Stop the session and its JVM (a new one starts with the new settings)."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    spark.stop()
    if gateway is not None:
        proc = getattr(gateway, "proc", None)
        gateway.shutdown()
        if proc is not None and proc.stdin is not None:
            proc.stdin.close()  # the JVM ends when its stdin does
            proc.wait(timeout=30)
    SparkContext._gateway = None
    SparkContext._jvm = None


def hand_over(job: WorkerJob, inp: InputSpec, backend: Backend,
              read: Callable[[], pa.Table], say: Callable[[str], None]) -> Any:
    """``inp`` as a Spark DataFrame: Spark reads a Parquet file itself where it can, else the
    rows come through weir's backend (``read``) as Arrow."""
    spark = session(job, say)
    plain = inp.format == "parquet" and inp.partitions is None and not inp.schema
    if plain and backend.type == "filesystem":
        path = backend.local_path(inp.loc)
        if path is not None and _spark_reads(path):
            say(f"weir: Spark reads {inp.name} itself ({path})")
            return spark.read.parquet(str(path))
    if plain and backend.type == "s3":
        if _has_s3a(spark):
            url = _s3a_url(spark, backend, inp.loc)
            say(f"weir: Spark reads {inp.name} itself ({url})")
            return spark.read.parquet(url)
        say(f"weir: {inp.name} is read through Arrow, not by Spark: this Spark has no s3a "
            f"filesystem (add `spark.jars.packages: {HADOOP_AWS}:<Spark's Hadoop version>` "
            "to `spark: conf:` in weir.yaml)")
    say(f"weir: {inp.name} is read by weir and handed to Spark as Arrow")
    return spark.createDataFrame(_spark_ready(read()))


def _spark_reads(path: Path) -> bool:
    """Whether Spark reads this Parquet file as weir does: not one with nanosecond times
    (pandas' own), which Spark refuses — those come through Arrow, cut to microseconds."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException):
        return False  # Spark would say it no better: weir's read says what is wrong
    return not any(_has_nanos(f.type) for f in schema)


def _has_nanos(t: Any) -> bool:
    import pyarrow as pa

    if pa.types.is_timestamp(t) or pa.types.is_time64(t) or pa.types.is_duration(t):
        return bool(t.unit == "ns")
    return any(_has_nanos(t.field(i).type) for i in range(t.num_fields)) \
        if pa.types.is_struct(t) else False


def _spark_ready(table: pa.Table) -> pa.Table:
    """Nanosecond timestamps cut to microseconds: Spark's precision."""
    import pyarrow as pa

    fields = [pa.field(f.name, pa.timestamp("us", f.type.tz), f.nullable)
              if pa.types.is_timestamp(f.type) and f.type.unit == "ns" else f
              for f in table.schema]
    return table.cast(pa.schema(fields), safe=False) if fields != list(table.schema) else table


def _has_s3a(spark: Any) -> bool:
    key = str(id(spark))
    if key not in _s3a:
        try:
            spark._jvm.java.lang.Class.forName("org.apache.hadoop.fs.s3a.S3AFileSystem")
            _s3a[key] = True
        except Exception:  # noqa: BLE001 - py4j's ClassNotFoundException
            _s3a[key] = False
    return _s3a[key]


def _s3a_url(spark: Any, backend: Backend, loc: str) -> str:
    """``s3a://bucket/key``, the connection's endpoint and credentials set for its bucket
    only (per-bucket keys: two connections with other credentials share the session)."""
    params = backend.params
    bucket = str(params["bucket"])
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    given = {"endpoint": params.get("endpoint_url"), "endpoint.region": params.get("region"),
             "access.key": params.get("access_key_id"),
             "secret.key": params.get("secret_access_key"),
             "session.token": params.get("session_token")}
    for name, value in given.items():
        if value:
            hadoop.set(f"fs.s3a.bucket.{bucket}.{name}", str(value))
    hadoop.set(f"fs.s3a.bucket.{bucket}.path.style.access", "true")
    if params.get("session_token"):
        hadoop.set(f"fs.s3a.bucket.{bucket}.aws.credentials.provider",
                   "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider")
    return "s3a://" + backend.key(loc)  # type: ignore[attr-defined]


class SparkOutput:
    """A Spark DataFrame a recipe returned for one output, not yet computed: it is written
    (`stage`) or turned into Arrow (`to_arrow`) by the worker, never by ``as_writable``."""

    def __init__(self, job: WorkerJob, name: str, frame: Any) -> None:
        self.job, self.name, self.frame = job, name, frame

    def stage(self, backend: Backend, spec: OutputSpec) -> tuple[str, pa.Schema, int] | None:
        """Have Spark write the output as one Parquet file at the path the backend stages to;
        None when Spark does not write it itself (the worker then stages `to_arrow`)."""
        from weir.storage.locations import remove_path, temp_path_for

        final = backend.local_path(spec.loc) if backend.type == "filesystem" else None
        if final is None or spec.format != "parquet" or spec.partition is not None:
            return None
        import pyarrow.parquet as pq

        staged = temp_path_for(final, spec.token)
        written = temp_path_for(final, f"{spec.token}-spark")  # swept like any staged temp
        staged.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._computing(lambda: self.frame.coalesce(1).write.mode("overwrite")
                            .parquet(str(written)))
            parts = sorted(written.glob("part-*.parquet"))
            if len(parts) != 1:
                return None  # no rows and no part file: Arrow says the empty table's columns
            os.replace(parts[0], staged)
        finally:
            remove_path(written)
        meta = pq.ParquetFile(staged).metadata
        return str(staged), meta.schema.to_arrow_schema(), meta.num_rows

    def to_arrow(self) -> pa.Table:
        return self._computing(lambda: self.frame.toArrow())

    def _computing(self, work: Callable[[], Any]) -> Any:
        """Run the Spark job that computes the frame; what fails in it (lazily, after the
        recipe returned) is said at the recipe, in one line, not as a JVM stack."""
        from weir.build.returns import RecipeError

        try:
            return work()
        except Exception as exc:  # noqa: BLE001 - Spark's errors share no useful base
            job = self.job
            raise RecipeError(f"recipe '{job.recipe}': computing '{self.name}' in Spark "
                              f"failed: {headline(exc)}",
                              where=f"{job.rel_file}:{job.line}") from None


def is_spark_frame(value: Any) -> bool:
    """Whether ``value`` is a Spark DataFrame (pyspark is loaded when a job may return one)."""
    from pyspark.sql import DataFrame

    return isinstance(value, DataFrame)


def is_spark_error(exc: BaseException) -> bool:
    """An error of Spark's (its analysis, its JVM), not one of the recipe's own Python."""
    return type(exc).__module__.split(".")[0] in ("pyspark", "py4j")


def headline(exc: BaseException) -> str:
    """A Spark error in one line: its first, without the plan or the JVM stack after it."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else repr(exc)
    return f"{type(exc).__name__}: {first}"
