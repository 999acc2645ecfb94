"""What crosses the pipe between a build's parent and a worker: the job, and what came of it.

Typed, frozen values rather than dicts of string keys, so that a field renamed on one side is a
type error on the other instead of a ``KeyError`` inside a worker. They are plain data (they
pickle, and hold no backend, connection or open file): a worker makes its own backends from a
``ConnectionSpec``, whose settings keep their secret references (``${env:…}``) unresolved —
only the process that connects resolves them, so a secret never travels through a pipe.

This module imports nothing heavy: the parent builds jobs without loading any data library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from weir.model.project import ColumnSpec, Interface, RecipeKind
from weir.wire import CheckResult, Metrics


@dataclass(frozen=True)
class ConnectionSpec:
    """A connection as the worker needs it to make a backend: its settings as written."""

    name: str
    type: str
    params: Mapping[str, Any]  # secret references unresolved


@dataclass(frozen=True)
class InputSpec:
    name: str
    connection: ConnectionSpec
    loc: str
    format: str
    interface: Interface
    # A source's declared schema, applied when it is read; None for datasets weir wrote.
    schema: tuple[ColumnSpec, ...] | None
    # A partitioned input: how it is cut (weir.model.partitions.Partitioning) and the
    # partitions the job reads of it (None: it is not partitioned, read whole).
    partitioning: Any = None
    partitions: tuple[str, ...] | None = None


@dataclass(frozen=True)
class OutputSpec:
    name: str
    connection: ConnectionSpec
    loc: str
    format: str
    token: str  # names the temporary file, object or table the worker stages into
    schema: tuple[ColumnSpec, ...] | None  # the declared schema the output must match
    schema_file: str  # where that schema is declared, for the mismatch message
    # Its checks (weir.model.checks.Check), run on the staged data before it is handed back,
    # and where a relationship's other dataset lives (read to check the values exist there).
    checks: tuple[Any, ...] = ()
    related: tuple[InputSpec, ...] = ()
    # The partition this job writes of it (None: it is not partitioned), and how it is cut.
    partition: str | None = None
    partitioning: Any = None

    @property
    def is_folder(self) -> bool:
        return self.format == "folder"


@dataclass(frozen=True)
class WorkerJob:
    recipe: str  # the recipe's name: the Python function to call
    kind: RecipeKind
    project_root: str
    file: str  # absolute path of the recipe's file
    rel_file: str  # the same, relative to the project: how messages name it
    line: int  # the recipe's ``def`` (0 for SQL): where a mistake in its return is said
    recipes_dir: str
    inputs: tuple[InputSpec, ...]
    outputs: tuple[OutputSpec, ...]
    variables: Mapping[str, Any]
    sql_variables: tuple[str, ...]  # the ``$variables`` a SQL recipe binds
    log_path: str
    # Where relative connection roots and kept rejected data resolve: project_root, except
    # in a deploying daemon (a worktree's code on the user's checkout's data: Workspace).
    data_root: str
    rscript: str | None = None  # the Rscript an R recipe runs with (found by the parent)
    # The partition it builds (weir.partition() in Python, $partition in SQL) and how its
    # outputs are cut; None when they are not partitioned.
    partition: str | None = None
    partitioning: Any = None
    partition_parameter: str | None = None  # a Python recipe's weir.Partition parameter
    # A PySpark recipe's session settings ({"master": …, "conf": {…}}); None: not one.
    spark: Mapping[str, Any] | None = None

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.outputs)


@dataclass(frozen=True)
class SourceCheckJob:
    """A source's checks, run in a worker on the data it holds now, before the jobs that read
    it: the data is read where the recipes read it, never in the build's own process (which
    may be the daemon)."""

    source: InputSpec  # read with its declared schema, as its readers read it
    checks: tuple[Any, ...]  # weir.model.checks.Check
    schema: tuple[ColumnSpec, ...] | None  # what a `schema` check compares with
    related: tuple[InputSpec, ...]  # where a relationship check looks values up
    project_root: str
    log_path: str
    hint: str  # said under a failed `error` check
    data_root: str  # as WorkerJob's


@dataclass(frozen=True)
class WrittenOutput:
    """One output a worker staged; the parent commits it by ``handle``."""

    name: str
    handle: str
    rows: int
    schema: list[list[Any]]  # ``[[name, type, nullable], …]``, as the state store records it


@dataclass(frozen=True)
class JobResult:
    ok: bool
    outputs: tuple[WrittenOutput, ...] = ()
    error: str | None = None
    traceback: str | None = None
    seconds: float = 0.0
    checks: dict[str, tuple[CheckResult, ...]] | None = None  # by output, what its checks said
    metrics: dict[str, Metrics] | None = None  # by output, measured from the data staged
    checked_rows: int | None = None  # a source check: the rows of the data it checked
