"""The immutable Project: everything weir knows about a project after reading its files.

These are plain frozen values built by the parsers in this package. They carry source locations
(file, line) so that every later layer can point the user at the line to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any

from weir.model.diagnostics import Diagnostic, Span, whole_line
from weir.model.executor_settings import LOCAL, Executor
from weir.model.spark_settings import SparkSettings

FORMATS: dict[str, str] = {"parquet": "parquet", "csv": "csv", "jsonl": "jsonl"}
"""Format name → file extension."""

EXTENSION_FORMATS: dict[str, str] = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv",
                                     ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}

CONNECTION_TYPES = ("filesystem", "s3", "postgresql", "sqlite", "duckdb")
FILE_CONNECTION_TYPES = ("filesystem", "s3")  # hold files; the others hold tables


@dataclass(frozen=True)
class Location:
    file: str  # relative to the project root, with forward slashes
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Connection:
    name: str
    type: str
    params: Mapping[str, Any]
    location: Location


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str
    nullable: bool = True


class Interface(str, Enum):
    """How a Python recipe wants an input handed over (chosen by the parameter's annotation)."""

    PANDAS = "pandas"
    ARROW = "arrow"
    POLARS = "polars"
    DUCKDB = "duckdb"
    DATASET = "dataset"  # weir.Dataset: a lazy handle that can stream
    FOLDER = "folder"  # weir.Folder: files in a managed folder
    SPARK = "spark"  # pyspark.sql.DataFrame: the recipe runs in a Spark session


@dataclass(frozen=True)
class RecipeInput:
    name: str
    interface: Interface
    location: Location
    col: int = 0  # where the name starts on its line (characters), for editors' ranges


class RecipeKind(str, Enum):
    PYTHON = "python"
    SQL = "sql"
    R = "r"


@dataclass(frozen=True)
class Recipe:
    """One unit of work: a decorated Python function, a SQL file or an R file.

    ``code_hash`` fingerprints the code with comments and formatting normalised away (for Python:
    the function and the module-level code it uses); ``variables`` are the project variables it
    reads.
    """

    name: str  # the function name, or the SQL file stem
    kind: RecipeKind
    file: str
    line: int
    inputs: tuple[RecipeInput, ...]
    outputs: tuple[str, ...]
    code_hash: str
    variables: tuple[str, ...]
    retries: int = 0
    tags: tuple[str, ...] = ()
    folder_outputs: tuple[str, ...] = ()  # outputs taken as writable weir.Folder parameters
    partition_parameter: str | None = None  # a parameter annotated weir.Partition, if any

    @property
    def id(self) -> str:
        """Unique in a project: a Python recipe is ``file:function``, a SQL or R recipe its
        file."""
        return f"{self.file}:{self.name}" if self.kind is RecipeKind.PYTHON else self.file

    @property
    def location(self) -> Location:
        return Location(self.file, self.line)

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.inputs)


@dataclass(frozen=True)
class DatasetSpec:
    """What a dataset YAML file says (everything optional but the name)."""

    name: str
    location: Location
    description: str | None = None
    connection: str | None = None
    path: str | None = None
    table: str | None = None
    version_query: str | None = None
    format: str | None = None
    tags: tuple[str, ...] = ()
    zone: str | None = None
    keep: bool = False
    schema: tuple[ColumnSpec, ...] | None = None
    key_lines: Mapping[str, int] = field(default_factory=dict)
    # Where each key and its value stand, so an error about one is underlined exactly.
    key_spans: Mapping[str, Span] = field(default_factory=dict)
    value_spans: Mapping[str, Span] = field(default_factory=dict)
    folder: bool = False  # a managed folder (folders/NAME.yaml), not a dataset
    checks: tuple[Any, ...] = ()  # weir.model.checks.Check, as declared
    partitioning: Any = None  # weir.model.partitions.Partitioning, as declared
    input_mappings: Mapping[str, Any] = field(default_factory=dict)  # `inputs:`, by input
    input_spans: Mapping[str, Span] = field(default_factory=dict)  # where each is said


@dataclass(frozen=True)
class Dataset:
    """A resolved dataset: where its data lives and who builds it (``recipe`` None = source)."""

    name: str
    connection: str
    path: str  # relative to the connection's root, or a table name on a SQL connection
    format: str  # parquet | csv | jsonl, or "table"
    recipe: str | None  # the producing recipe's id
    tags: tuple[str, ...]
    zone: str | None
    keep: bool
    schema: tuple[ColumnSpec, ...] | None
    description: str | None
    location: Location  # the YAML file if any, else the producing recipe
    version_query: str | None = None  # a source table's own change probe
    # Its data-quality checks (weir.model.checks.Check): run on each build's staged output.
    checks: tuple[Any, ...] = ()
    # How its data is cut (weir.model.partitions.Partitioning; None: it is not partitioned),
    # and how each partition reads its partitioned inputs (InputMapping by input; `equals`
    # where not said).
    partitioning: Any = None
    input_mappings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_source(self) -> bool:
        return self.recipe is None

    @property
    def is_folder(self) -> bool:
        return self.format == "folder"

    def definition(self) -> dict[str, Any]:
        """The parts of the definition that change the data, for the fingerprint (a
        partitioning only when there is one: the fingerprints of unpartitioned datasets stay
        what they were)."""
        out: dict[str, Any] = {
            "connection": self.connection,
            "path": self.path,
            "format": self.format,
            "schema": [[c.name, c.type, c.nullable] for c in self.schema] if self.schema else None,
        }
        if self.partitioning is not None:
            out["partitioning"] = repr(self.partitioning)
            out["inputs"] = sorted((k, repr(v)) for k, v in self.input_mappings.items())
        return out


@dataclass(frozen=True)
class ProjectConfig:
    name: str
    default_connection: str
    default_connection_line: int
    default_format: str
    variables: Mapping[str, Any]
    variable_lines: Mapping[str, int]
    environments: Mapping[str, Any]  # weir.model.environments.Environment, by name
    default_connection_span: Span = field(default_factory=lambda: whole_line(0))
    # `daemon: {poll_sources: …}`: how often a running daemon looks for changed source data
    # (and output data deleted underneath it), in seconds.
    poll_sources: float = 5.0
    environments_line: int = 0
    # The environment the project was read in (its connections and variables applied), if any.
    environment: str | None = None
    # `r: {rscript: …}`: the Rscript that runs R recipes, as written (None: Rscript on PATH).
    rscript: str | None = None
    rscript_line: int = 0
    # `executor:`: where recipe jobs run (weir.model.executor_settings.Executor; an
    # environment's own `executor:` applied), this machine by default.
    executor: Executor = LOCAL
    # `spark:`: the session a PySpark recipe runs in (the environment's merged over it).
    spark: SparkSettings = field(default_factory=SparkSettings)


@dataclass(frozen=True)
class Project:
    """A whole project: config, connections, datasets and recipes, all by name."""

    root: str
    config: ProjectConfig
    connections: Mapping[str, Connection]
    datasets: Mapping[str, Dataset]
    recipes: Mapping[str, Recipe]  # by recipe id
    # Datasets whose definition has an error (their YAML, their recipe, their connection, an
    # input that cannot be read), each with that error: the Flow marks them and their
    # downstream invalid, and every other dataset keeps its status.
    broken: Mapping[str, Diagnostic] = field(default_factory=lambda: frozen_map({}))
    # scenarios/<name>.yaml that read (weir.model.scenarios.Scenario), by name.
    scenarios: Mapping[str, Any] = field(default_factory=lambda: frozen_map({}))

    @property
    def name(self) -> str:
        return self.config.name

    def producer(self, dataset: str) -> Recipe | None:
        ds = self.datasets.get(dataset)
        return self.recipes[ds.recipe] if ds is not None and ds.recipe else None


def frozen_map(d: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(d))
