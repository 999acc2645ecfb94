"""Parsers for the YAML files of a project: weir.yaml, connections.yaml and datasets/*.yaml.

Each takes ``(file, text)`` and returns a value plus diagnostics; none reads the disk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from weir.model.diagnostics import Diagnostic, Severity, Span, whole_line
from weir.model.durations import parse_duration
from weir.model.environments import parse_environments
from weir.model.executor_settings import LOCAL, parse_executor
from weir.model.spark_settings import SparkSettings, parse_spark
from weir.model.project import (CONNECTION_TYPES, FORMATS, ColumnSpec, Connection, DatasetSpec,
                                Location, ProjectConfig, frozen_map)
from weir.model.suggest import closest, hint_for
from weir.model.yamlfile import LineDict, check_keys, line_of, parse_yaml

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PROJECT_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")

PROJECT_KEYS = ("name", "default_connection", "default_format", "variables", "environments",
                "daemon", "r", "executor", "spark")
DAEMON_KEYS = ("poll_sources",)
R_KEYS = ("rscript",)
DEFAULT_POLL_SOURCES = 5.0  # seconds: a source edited by hand shows within a few seconds
# A shorter period would make the daemon a busy loop over the storage; a longer one, a status
# nobody can trust.
POLL_RANGE = (0.05, 3600.0)
CONNECTION_FILE_KEYS = ("connections",)
_COMMON = ("type", "description", "max_concurrent_jobs")
# `shared: true`: every machine that runs recipes (a Dask cluster's workers) sees this storage at
# the same path — a network filesystem. Only storage that is a local path needs saying it.
CONNECTION_KEYS = {
    "filesystem": (*_COMMON, "root", "shared"),
    "s3": (*_COMMON, "bucket", "prefix", "endpoint_url", "region", "access_key_id",
           "secret_access_key", "session_token"),
    "postgresql": (*_COMMON, "host", "port", "database", "user", "password", "schema",
                   "sslmode", "connect_timeout"),
    "sqlite": (*_COMMON, "path", "shared"),
    "duckdb": (*_COMMON, "path", "shared"),
}
REQUIRED_CONNECTION_KEYS = {"filesystem": ("root",), "s3": ("bucket",),
                            "postgresql": ("host", "database"), "sqlite": ("path",),
                            "duckdb": ("path",)}
CONNECTION_EXAMPLES = {
    "filesystem": "e.g. `root: data` (relative to the project)",
    "s3": "e.g. `bucket: analytics` (and `endpoint_url:` for a non-AWS S3)",
    "postgresql": "e.g. `host: localhost`, `database: shop`, `password: ${env:PG_PASSWORD}`",
    "sqlite": "e.g. `path: warehouse.sqlite` (relative to the project)",
    "duckdb": "e.g. `path: warehouse.duckdb` (relative to the project)",
}
DATASET_KEYS = ("description", "connection", "path", "table", "format", "tags", "zone", "keep",
                "schema", "version_query", "checks", "partitioning", "inputs")
TABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")
COLUMN_KEYS = ("name", "type", "nullable", "description")

DEFAULT_CONNECTION = "local"
DEFAULT_ROOT = "data"


def _expect_mapping(file: str, value: Any, what: str, subject: str,
                    line: int = 0) -> list[Diagnostic]:
    if isinstance(value, LineDict):
        return []
    return [Diagnostic(file, line_of(value, line) or line,
                       f"{what} must be a mapping of keys to values, not {_kind(value)}",
                       code="not-a-mapping", subject=subject)]


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def parse_project_config(file: str, text: str) -> tuple[ProjectConfig | None, list[Diagnostic]]:
    data, diags = parse_yaml(file, text)
    if diags:
        return None, diags
    if not isinstance(data, LineDict):
        return None, [Diagnostic(file, 1, "weir.yaml must be a mapping with at least `name:`",
                                 code="not-a-mapping", hint="start with a line like `name: shop`")]
    diags += check_keys(file, data, PROJECT_KEYS, "weir.yaml")
    name = data.get("name")
    if not isinstance(name, str) or not PROJECT_NAME_RE.match(name):
        diags.append(Diagnostic(file, message="the project needs a `name` made of letters, "
                                "digits, _ . and -", code="invalid-name", subject="key:name",
                                hint="e.g. `name: shop`", **data.value_span("name")))
        name = "project"
    default_connection = data.get("default_connection", DEFAULT_CONNECTION)
    if not isinstance(default_connection, str):
        diags.append(Diagnostic(file, message="`default_connection` must be a connection name",
                                code="invalid-value", subject="key:default_connection",
                                **data.value_span("default_connection")))
        default_connection = DEFAULT_CONNECTION
    default_format = data.get("default_format", "parquet")
    if default_format not in FORMATS:
        best = closest(str(default_format), FORMATS)
        diags.append(Diagnostic(file, message=f"unknown format '{default_format}'",
                                code="unknown-format", subject="key:default_format",
                                suggestion=best,
                                hint=hint_for(best) or f"formats are: {', '.join(FORMATS)}",
                                **data.value_span("default_format")))
        default_format = "parquet"
    variables = data.get("variables") or LineDict()
    variable_lines: dict[str, int] = {}
    if not isinstance(variables, dict):
        diags.append(Diagnostic(file, message="`variables` must be a mapping of names to values",
                                code="not-a-mapping", subject="key:variables",
                                **data.key_span("variables")))
        variables = {}
    else:
        for key in variables:
            variable_lines[key] = variables.line_of(key) if isinstance(variables, LineDict) else 0
            if not NAME_RE.match(key):
                where = variables.key_span(key) if isinstance(variables, LineDict) \
                    else whole_line(0)
                diags.append(Diagnostic(file, message=f"variable name '{key}' is not an identifier",
                                        code="invalid-name", subject=f"variable:{key}",
                                        hint="use letters, digits and _ so SQL can bind $name",
                                        **where))
    environments, d = parse_environments(file, data.get("environments"),
                                         data.line_of("environments"),
                                         variables if isinstance(variables, dict) else {})
    diags += d
    poll_sources, d = _daemon_settings(file, data)
    diags += d
    rscript, d = _r_settings(file, data)
    diags += d
    executor, d = parse_executor(file, data)
    diags += d
    spark, d = parse_spark(file, data, "weir.yaml")
    diags += d
    config = ProjectConfig(name=name, default_connection=default_connection,
                           default_connection_line=data.line_of("default_connection")
                           if "default_connection" in data else 0,
                           default_connection_span=data.value_span("default_connection")
                           if "default_connection" in data else whole_line(0),
                           default_format=default_format,
                           variables=frozen_map(_plain(variables)),
                           variable_lines=frozen_map(variable_lines),
                           environments=frozen_map(environments),
                           environments_line=data.line_of("environments")
                           if "environments" in data else 0,
                           poll_sources=poll_sources, rscript=rscript,
                           rscript_line=data["r"].line_of("rscript") if rscript else 0,
                           executor=executor or LOCAL,
                           spark=spark or SparkSettings(line=data.line_of("spark")))
    return config, diags


def _daemon_settings(file: str, data: LineDict) -> tuple[float, list[Diagnostic]]:
    """weir.yaml's `daemon:` section: the source poll period (the default when it is absent
    or wrong — a wrong one is an error, so it is fixed, not silently ignored)."""
    section = data.get("daemon")
    if section is None:
        return DEFAULT_POLL_SOURCES, []
    if not isinstance(section, LineDict):
        return DEFAULT_POLL_SOURCES, _expect_mapping(file, section, "`daemon`", "key:daemon",
                                                     data.line_of("daemon"))
    diags = check_keys(file, section, DAEMON_KEYS, "weir.yaml's `daemon:`")
    if "poll_sources" not in section:
        return DEFAULT_POLL_SOURCES, diags
    value = section["poll_sources"]
    seconds = parse_duration(value)
    low, high = POLL_RANGE
    if seconds is None or not low <= seconds <= high:
        diags.append(Diagnostic(
            file, message=f"`poll_sources` must be a duration between {low * 1000:g} ms and "
            f"{high / 3600:g} h, not {value!r}" if seconds is not None else
            f"`poll_sources` must be a duration such as 5s, 500ms or 2min, not {value!r}",
            code="invalid-duration", subject="key:poll_sources",
            hint="e.g. `poll_sources: 5s` (how often the daemon looks for changed source data)",
            **section.value_span("poll_sources")))
        return DEFAULT_POLL_SOURCES, diags
    return seconds, diags


def _r_settings(file: str, data: LineDict) -> tuple[str | None, list[Diagnostic]]:
    """weir.yaml's `r:` section: which Rscript runs R recipes (None: the one on PATH)."""
    section = data.get("r")
    if section is None:
        return None, []
    if not isinstance(section, LineDict):
        return None, _expect_mapping(file, section, "`r`", "key:r", data.line_of("r"))
    diags = check_keys(file, section, R_KEYS, "weir.yaml's `r:`")
    value = section.get("rscript")
    if value is None:
        return None, diags
    if not isinstance(value, str) or not value.strip():
        diags.append(Diagnostic(file, message="`rscript` must be the path of Rscript",
                                code="invalid-value", subject="key:rscript",
                                hint="e.g. `rscript: /usr/lib/R/bin/Rscript`",
                                **section.value_span("rscript")))
        return None, diags
    return value.strip(), diags


def _plain(value: Any) -> Any:
    """LineDicts back to dicts (for hashing and JSON)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def builtin_local_connection() -> Connection:
    return Connection(DEFAULT_CONNECTION, "filesystem", frozen_map({"root": DEFAULT_ROOT}),
                      Location("connections.yaml", 0))


def builtin_local_layer() -> dict[str, tuple[int, LineDict]]:
    """The built-in `local` connection as a layer of its own, for an environment that
    overrides a key of it when no connections file defines it."""
    keys = LineDict(0)
    keys.update({"type": "filesystem", "root": DEFAULT_ROOT})
    return {DEFAULT_CONNECTION: (0, keys)}


SECRET_REF_RE = re.compile(r"\$\{([a-z]+):([^}]*)\}")
SECRET_KEYS = ("password", "secret_access_key", "session_token")


def parse_connections(file: str, text: str) -> tuple[dict[str, Connection], list[Diagnostic]]:
    """One connections file on its own (see :func:`parse_connection_layers` for the merge)."""
    layers = parse_connection_layers([(file, text)])
    return layers.connections, layers.diagnostics


def _connection_specs(file: str, text: str) -> tuple[dict[str, tuple[int, LineDict]],
                                                    list[Diagnostic]]:
    data, diags = parse_yaml(file, text)
    if diags or data is None:
        return {}, diags
    if not isinstance(data, LineDict):
        return {}, [Diagnostic(file, 1, f"{file} must be a mapping with `connections:`",
                               code="not-a-mapping")]
    diags += check_keys(file, data, CONNECTION_FILE_KEYS, file.rsplit("/", 1)[-1])
    conns = data.get("connections") or LineDict()
    if not isinstance(conns, LineDict):
        return {}, diags + _expect_mapping(file, conns, "`connections`", "key:connections",
                                           data.line_of("connections"))
    out: dict[str, tuple[int, LineDict]] = {}
    for name, spec in conns.items():
        line = conns.line_of(name)
        if not NAME_RE.match(name):
            diags.append(Diagnostic(file, message=f"connection name '{name}' is not an identifier",
                                    code="invalid-name", subject=f"connection:{name}",
                                    **conns.key_span(name)))
        elif not isinstance(spec, LineDict):
            diags += _expect_mapping(file, spec, f"connection '{name}'", f"connection:{name}",
                                     line)
        else:
            out[name] = (line, spec)
    return out, diags


@dataclass
class ConnectionLayers:
    """The merged connections, and what went wrong. A connection that is defined but unusable
    (``unusable``, with its first error), or any connection of a file that cannot be read
    (``unreadable``), makes its datasets invalid because of that one error — they are not each
    told "unknown connection"."""

    connections: dict[str, Connection]
    diagnostics: list[Diagnostic]
    unusable: dict[str, Diagnostic]
    unreadable: Diagnostic | None = None


ConnectionSpecs = dict[str, tuple[int, LineDict]]  # by name: its line, its keys


def parse_connection_layers(layers: list[tuple[str, str | ConnectionSpecs]]
                            ) -> ConnectionLayers:
    """Merge connection definitions key by key, later layers winning: the project's
    connections.yaml (committed development defaults), then the machine's file (kept by whoever
    runs the environment), then the chosen environment's overrides (already read, from
    weir.yaml). Each key remembers the file and line it came from."""
    diags: list[Diagnostic] = []
    unreadable: Diagnostic | None = None
    merged: dict[str, dict[str, _Key]] = {}
    defined_at: dict[str, Location] = {}
    for file, text in layers:
        specs, d = _connection_specs(file, text) if isinstance(text, str) else (text, [])
        diags += d
        if not specs and unreadable is None:
            unreadable = next((x for x in d if x.severity is Severity.ERROR), None)
        for name, (line, spec) in specs.items():
            defined_at.setdefault(name, Location(file, line))
            target = merged.setdefault(name, {})
            for key, value in spec.items():
                target[key] = _Key(_plain(value), Location(file, spec.line_of(key)),
                                   spec.key_span(key), spec.value_span(key))
            if file == "connections.yaml":  # the project's own, committed file
                for key, value in spec.items():
                    if key in SECRET_KEYS and isinstance(value, str) \
                            and not SECRET_REF_RE.search(value):
                        diags.append(Diagnostic(
                            file, message=f"connection '{name}' has its {key} written in {file}",
                            code="secret-in-project", subject=f"connection:{name}",
                            hint=f"this file is committed: use a reference such as "
                            f"`{key}: ${{env:{name.upper()}_{key.upper()}}}` or move it to the "
                            "machine's connections file", severity=Severity.WARNING,
                            **spec.value_span(key)))
    out: dict[str, Connection] = {}
    unusable: dict[str, Diagnostic] = {}
    for name, keys in merged.items():
        conn, d = _validate_connection(name, keys, defined_at[name])
        diags += d
        if conn is not None:
            out[name] = conn
        else:
            unusable[name] = next(x for x in d if x.severity is Severity.ERROR)
    return ConnectionLayers(out, diags, unusable, unreadable)


@dataclass(frozen=True)
class _Key:
    """One key of a merged connection: its value, and where (which layer's file) it was set."""

    value: object
    location: Location
    key_span: Span
    value_span: Span


def _validate_connection(name: str, keys: dict[str, _Key],
                         where: Location) -> tuple[Connection | None, list[Diagnostic]]:
    diags: list[Diagnostic] = []
    subject = f"connection:{name}"

    def at(key: str, value: bool = True) -> tuple[str, Span]:
        """The file and span of ``key`` (its value, or the key itself), else the connection's."""
        if key not in keys:
            return where.file, whole_line(where.line)
        found = keys[key]
        return found.location.file, found.value_span if value else found.key_span

    ctype = keys["type"].value if "type" in keys else None
    if ctype not in CONNECTION_TYPES:
        file, span = at("type")
        best = closest(str(ctype), CONNECTION_TYPES) if ctype else None
        diags.append(Diagnostic(
            file, message=f"connection '{name}' has unknown type '{ctype}'" if ctype
            else f"connection '{name}' has no `type`",
            code="unknown-connection-type" if ctype else "missing-key", subject=subject,
            suggestion=best,
            hint=hint_for(best) or f"supported types: {', '.join(CONNECTION_TYPES)}", **span))
        return None, diags
    allowed = CONNECTION_KEYS[str(ctype)]
    for key in keys:
        if key not in allowed:
            file, span = at(key, value=False)
            best = closest(key, allowed)
            diags.append(Diagnostic(file, message=f"unknown key '{key}' in a {ctype} connection",
                                    code="unknown-key", subject=f"key:{key}", suggestion=best,
                                    hint=hint_for(best)
                                    or f"{ctype} connections take: {', '.join(allowed)}", **span))
    for key in REQUIRED_CONNECTION_KEYS[str(ctype)]:
        if not (key in keys and isinstance(keys[key].value, str)):
            diags.append(Diagnostic(where.file, where.line,
                                    f"{ctype} connection '{name}' needs `{key}`",
                                    code="missing-key", subject=subject,
                                    hint=CONNECTION_EXAMPLES[str(ctype)]))
    for found in keys.values():
        if isinstance(found.value, str):
            for match in SECRET_REF_RE.finditer(found.value):
                if match.group(1) not in ("env", "file") or not match.group(2):
                    diags.append(Diagnostic(found.location.file,
                                            message=f"'{match.group(0)}' is not a reference weir "
                                            "knows", code="unknown-secret-reference",
                                            subject=subject,
                                            hint="use ${env:NAME} or ${file:/path/to/secret}",
                                            **found.value_span))
    limit = keys["max_concurrent_jobs"].value if "max_concurrent_jobs" in keys else None
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        file, span = at("max_concurrent_jobs")
        diags.append(Diagnostic(file, message="`max_concurrent_jobs` must be a positive whole "
                                "number", code="invalid-value", subject="key:max_concurrent_jobs",
                                **span))
    shared = keys["shared"].value if "shared" in keys else None
    if shared is not None and not isinstance(shared, bool):
        file, span = at("shared")
        diags.append(Diagnostic(file, message="`shared` must be true or false", code="invalid-value",
                                subject="key:shared", hint="`shared: true` says every machine "
                                "that runs recipes sees this storage at the same path", **span))
    if any(d.severity is Severity.ERROR for d in diags):
        return None, diags
    params = frozen_map({k: found.value for k, found in keys.items()})
    return Connection(name, str(ctype), params, where), diags


FOLDER_KEYS = ("description", "connection", "path", "tags", "zone", "keep")


def parse_dataset_file(file: str, name: str, text: str, folder: bool = False
                       ) -> tuple[DatasetSpec | None, list[Diagnostic]]:
    """A dataset's YAML file, or with ``folder`` a managed folder's (folders/NAME.yaml)."""
    data, diags = parse_yaml(file, text)
    if diags:
        return None, diags
    if data is None:
        data = LineDict(1)
    if not isinstance(data, LineDict):
        return None, [Diagnostic(file, 1, f"a dataset file must be a mapping, not {_kind(data)}",
                                 code="not-a-mapping", subject=f"dataset:{name}",
                                 hint="e.g. `path: orders.csv` on its own line")]
    if not NAME_RE.match(name):
        diags.append(Diagnostic(file, 0, f"dataset name '{name}' (the file's name) is not an "
                                "identifier", code="invalid-name", subject=f"dataset:{name}",
                                hint="rename the file to letters, digits and _"))
    diags += check_keys(file, data, FOLDER_KEYS if folder else DATASET_KEYS,
                        "a managed folder" if folder else "a dataset")

    def text_field(key: str) -> str | None:
        value = data.get(key)
        if value is None or isinstance(value, str):
            return value
        diags.append(Diagnostic(file, message=f"`{key}` must be text", code="invalid-value",
                                subject=f"key:{key}", **data.value_span(key)))
        return None

    fmt = text_field("format")
    if fmt is not None and fmt not in FORMATS:
        best = closest(fmt, FORMATS)
        diags.append(Diagnostic(file, message=f"unknown format '{fmt}'", code="unknown-format",
                                subject="key:format", suggestion=best,
                                hint=hint_for(best) or f"formats are: {', '.join(FORMATS)}",
                                **data.value_span("format")))
        fmt = None
    path = text_field("path")
    if path is not None and (path.startswith("/") or ".." in path.split("/")):
        diags.append(Diagnostic(file, message=f"path '{path}' must stay inside the connection's "
                                "root", code="path-outside-root", subject="key:path",
                                hint="give a path relative to the connection's root",
                                **data.value_span("path")))
    table = text_field("table")
    if table is not None and not TABLE_RE.match(table):
        diags.append(Diagnostic(file, message=f"'{table}' is not a table name",
                                code="invalid-table-name", subject="key:table",
                                hint="letters, digits and _, optionally `schema.table`",
                                **data.value_span("table")))
        table = None
    version_query = text_field("version_query")
    tags = data.get("tags") or []
    if isinstance(tags, str):
        tags = [tags]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        diags.append(Diagnostic(file, message="`tags` must be a list of words",
                                code="invalid-value", subject="key:tags",
                                hint="e.g. `tags: [raw, sales]`", **data.value_span("tags")))
        tags = []
    keep = data.get("keep", False)
    if not isinstance(keep, bool):
        diags.append(Diagnostic(file, message="`keep` must be true or false",
                                code="invalid-value", subject="key:keep",
                                **data.value_span("keep")))
        keep = False
    schema, schema_diags = _parse_schema(file, data.get("schema"), data.key_span("schema"))
    diags += schema_diags
    checks: tuple[Any, ...] = ()
    if "checks" in data and not folder:
        from weir.model.checks import parse_checks

        checks, check_diags = parse_checks(file, data["checks"], data.key_span("checks"))
        diags += check_diags
    partitioning: Any = None
    mappings: dict[str, Any] = {}
    input_spans: dict[str, Span] = {}
    if "partitioning" in data and not folder:
        from weir.model.partition_config import parse_partitioning

        partitioning, part_diags = parse_partitioning(file, data)
        diags += part_diags
    if "inputs" in data and not folder:
        from weir.model.partition_config import parse_input_mappings

        mappings, map_diags = parse_input_mappings(file, data)
        diags += map_diags
        if isinstance(data["inputs"], LineDict):
            input_spans = {k: data["inputs"].key_span(k) for k in data["inputs"]}
    spec = DatasetSpec(name=name, location=Location(file, 1), description=text_field("description"),
                       connection=text_field("connection"), path=path, table=table,
                       version_query=version_query, format=fmt,
                       tags=tuple(tags), zone=text_field("zone"), keep=keep, schema=schema,
                       key_lines=frozen_map(dict(data.key_lines)),
                       key_spans=frozen_map({k: data.key_span(k) for k in data}),
                       value_spans=frozen_map({k: data.value_span(k) for k in data}),
                       folder=folder, checks=checks, partitioning=partitioning,
                       input_mappings=frozen_map(mappings), input_spans=frozen_map(input_spans))
    return spec, diags


def _parse_schema(file: str, value: Any, where: Span) -> tuple[tuple[ColumnSpec, ...] | None,
                                                              list[Diagnostic]]:
    if value is None:
        return None, []
    if not isinstance(value, list):
        return None, [Diagnostic(file, message="`schema` must be a list of columns",
                                 code="invalid-value", subject="key:schema",
                                 hint="e.g. `- {name: order_id, type: int64}`", **where)]
    diags: list[Diagnostic] = []
    columns = []
    for item in value:
        if not isinstance(item, LineDict) or not isinstance(item.get("name"), str) \
                or not isinstance(item.get("type"), str):
            diags.append(Diagnostic(file, line_of(item, where["line"]),
                                    "each schema column needs `name` and `type`",
                                    code="invalid-schema-column", subject="key:schema",
                                    hint="e.g. `- {name: amount, type: double}`"))
            continue
        diags += check_keys(file, item, COLUMN_KEYS, "a schema column")
        nullable = item.get("nullable", True)
        columns.append(ColumnSpec(item["name"], item["type"], bool(nullable)))
    return tuple(columns), diags
