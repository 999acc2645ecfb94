"""The wire format: every shape that crosses a process boundary, defined once.

The CLI, the daemon's HTTP API, ``weir.client``, the language server and the VS Code extension
(through ``vscode-extension/src/api.ts``, checked against payloads recorded from a real daemon)
read and write these shapes only through this module, so a field renamed here is renamed for
all of them, and a test fails where one still uses the old name.

Standard library only, and nothing of the rest of weir: a scheduler's environment that imports
``weir.client`` pays for nothing else, and the model can use these types without depending on
the daemon.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    """``file:line:col: message`` plus a hint. ``file`` is relative to the project root.

    What parsers say instead of raising (so that one broken file never hides the rest of the
    Flow), and what the CLI, the daemon and the language server all render. The English is for
    people; a program reads ``code``, ``subject``, ``suggestion`` and the range, so rewording a
    message breaks no tool (docs/project-format.md lists the codes)."""

    file: str
    line: int  # 1-based; 0 when the problem is the file as a whole
    message: str
    code: str  # stable, kebab-case: "unknown-input", "cycle", "python-syntax", …
    hint: str | None = None
    severity: Severity = Severity.ERROR
    col: int = 0  # 0-based, in characters (code points) of the line; 0 when unknown
    end_line: int | None = None  # where the range ends (exclusive column); None: end of line
    end_col: int | None = None
    # What the problem is about, as KIND:NAME — "dataset:orders", "recipe:FILE:FUNCTION" (a SQL
    # recipe: "recipe:FILE"), "connection:NAME", "variable:NAME", "key:NAME" (a YAML key of the
    # file), "column:DATASET.NAME"; None for the file as a whole. The loader marks exactly the
    # recipe a "recipe:" subject names invalid, not its file.
    subject: str | None = None
    suggestion: str | None = None  # what should replace the range ("did you mean" in the hint)

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def to_json(self) -> dict[str, Any]:
        """As the daemon's API sends it (flow diagnostics, a broken project's build error) and
        the CLI's ``--json`` errors (docs/http-api.md)."""
        return {"file": self.file, "line": self.line, "col": self.col,
                "end_line": self.end_line, "end_col": self.end_col, "code": self.code,
                "subject": self.subject, "suggestion": self.suggestion,
                "message": self.message, "hint": self.hint, "severity": self.severity.value}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Diagnostic:
        def text(key: str) -> str | None:
            value = data.get(key)
            return None if value is None else str(value)

        def number(key: str) -> int | None:
            value = data.get(key)
            return None if value is None else int(str(value))

        # A field a daemon of an older weir does not send reads as unknown, not as an error.
        return cls(str(data["file"]), int(str(data["line"])), str(data["message"]),
                   text("code") or "", text("hint"), Severity(data.get("severity", "error")),
                   number("col") or 0, number("end_line"), number("end_col"),
                   text("subject"), text("suggestion"))

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class DatasetState(str, Enum):
    """A dataset's status, as `weir status`, the API, the Flow page and the editor name it."""

    SOURCE = "source"
    UP_TO_DATE = "up to date"
    STALE = "stale"
    NEVER_BUILT = "never built"
    FAILED = "failed"
    INVALID = "invalid"  # its definition has an error (or an input's has): no fingerprint


class BuildState(str, Enum):
    """Where a daemon build is: queued, running, then one of the final states."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ERROR = "error"  # it could not start: a user error (a broken project, a bad target)
    INTERRUPTED = "interrupted"  # its daemon died while it was queued or running

    @property
    def final(self) -> bool:
        return self not in (BuildState.QUEUED, BuildState.RUNNING)


class JobStatus(str, Enum):
    """What became of one recipe's job in a build (`job` events, results, the history).
    ``checked``: a source's checks passed (warnings allowed) before its readers ran; a
    source whose checks fail is ``failed``."""

    RUNNING = "running"
    RESTORING = "restoring"
    BUILT = "built"
    RESTORED = "restored"
    CHECKED = "checked"
    FAILED = "failed"
    SKIPPED = "skipped"
    INTERRUPTED = "interrupted"

    @property
    def ok(self) -> bool:
        return self in (JobStatus.BUILT, JobStatus.RESTORED, JobStatus.CHECKED)


# -- the daemon's info file ---------------------------------------------------------------------

DAEMON_FILE = ".weir/daemon.json"  # relative to the project root, with no environment


ENV_VARIABLE = "WEIR_ENV"  # the environment a process runs in (`weir --env NAME` sets it)


def active_environment() -> str | None:
    """The environment this process runs in: ``WEIR_ENV``, which ``weir --env NAME`` sets for
    the command and everything it starts (workers, a daemon), else none (the project as its
    files say). Here because the CLI, the daemon, the client and the editor all read it."""
    return os.environ.get(ENV_VARIABLE) or None


def state_dir(root: Path, environment: str | None) -> Path:
    """Where weir keeps what it knows of the project's data in an environment: ``.weir`` with
    none, ``.weir/env/NAME`` in one (its own state store, daemon, logs and claims). Here
    because a client finds an environment's daemon by it."""
    base = root / Path(DAEMON_FILE).parent
    return base / "env" / environment if environment else base


@dataclass(frozen=True)
class DaemonInfo:
    """What a running daemon writes about itself (mode 0600: the token is a secret)."""

    pid: int
    host: str
    port: int
    token: str
    started: float

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def page(self) -> str:
        """The Flow page's link, with the token, so opening it just works."""
        return f"{self.url}/?token={self.token}"

    def to_json(self) -> dict[str, Any]:
        return {"pid": self.pid, "host": self.host, "port": self.port, "token": self.token,
                "started": self.started, "url": self.url}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DaemonInfo:
        return cls(int(data["pid"]), str(data["host"]), int(data["port"]), str(data["token"]),
                   float(data.get("started") or 0.0))

    @classmethod
    def read(cls, root: Path, environment: str | None = None) -> DaemonInfo | None:
        """The info of the project's daemon in ``environment``, or None (none runs, or the
        file is unreadable — the daemon rewrites it whole, by rename, so a half-written file
        is never seen)."""
        try:
            path = state_dir(root, environment) / Path(DAEMON_FILE).name
            return cls.from_json(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            return None


# -- builds -------------------------------------------------------------------------------------

class Mode(str, Enum):
    """What a build builds, in Dataiku's names (see `weir build --help`)."""

    REQUIRED = "required"
    ONLY = "only"
    FORCE = "force"
    MISSING = "missing"
    DOWNSTREAM = "downstream"


class Action(str, Enum):
    RUN = "run"
    RESTORE = "restore"  # an earlier output with this exact fingerprint is kept: copy it back


@dataclass(frozen=True)
class BuildRequest:
    """What to build: targets and selectors as on the command line (`x`, `+x`, `x+`, `tag:t`,
    `zone:z`), a mode, or all / stale — the body of `POST /api/builds` and `/api/plan`."""

    targets: tuple[str, ...] = ()
    mode: Mode = Mode.REQUIRED
    all: bool = False
    stale: bool = False
    jobs: int = 0  # 0: the number of cores
    fail_fast: bool = False
    # Project variables given other values for this build only (a scenario's set_variables).
    variables: dict[str, Any] = field(default_factory=dict)
    by: str = ""  # who asked, in words ("scenario nightly"); empty: a client of the API
    # The partitions of the partitioned targets to build, as `--partition` says them
    # (`2026-12-01`, `2026-11-01..2026-11-30`, `latest`, a comma list); empty: all of them.
    partitions: str = ""
    # Where its recipes run, as `--executor` says it (`local`, `dask://HOST:PORT`); empty:
    # as the environment's `executor:` says.
    executor: str = ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"targets": list(self.targets), "mode": self.mode.value,
                                "all": self.all, "stale": self.stale, "jobs": self.jobs,
                                "fail_fast": self.fail_fast}
        if self.partitions:
            data["partitions"] = self.partitions
        if self.executor:
            data["executor"] = self.executor
        if self.variables:
            data["variables"] = self.variables
        if self.by:
            data["by"] = self.by
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BuildRequest:
        return cls(tuple(data.get("targets") or ()), Mode(data.get("mode") or "required"),
                   bool(data.get("all")), bool(data.get("stale")), int(data.get("jobs") or 0),
                   bool(data.get("fail_fast")), dict(data.get("variables") or {}),
                   str(data.get("by") or ""), str(data.get("partitions") or ""),
                   str(data.get("executor") or ""))


@dataclass(frozen=True)
class PlannedJob:
    recipe: str  # the recipe's id
    action: Action
    outputs: tuple[str, ...]
    reasons: dict[str, tuple[str, ...]]  # output -> why it is built
    after: tuple[str, ...]  # recipe ids in the plan that must finish first
    # A restore's outputs copied from another environment's data (output -> environment;
    # "default" for the state kept without one), not from this one's kept outputs.
    reused_from: dict[str, str] = field(default_factory=dict)
    # The partition of its outputs it builds (None: they are not partitioned), and the
    # partitions of each input it reads then.
    partition: str | None = None
    reads: dict[str, tuple[str | None, ...]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """Unique in a plan: the recipe's id, and the partition it builds."""
        return job_id(self.recipe, self.partition)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"recipe": self.recipe, "action": self.action.value,
                                "outputs": list(self.outputs),
                                "reasons": {o: list(r) for o, r in self.reasons.items()},
                                "after": list(self.after),
                                "reused_from": dict(self.reused_from)}
        if self.partition is not None:
            data["partition"] = self.partition
            data["reads"] = {k: list(v) for k, v in self.reads.items()}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlannedJob:
        return cls(str(data["recipe"]), Action(data["action"]), tuple(data["outputs"]),
                   {o: tuple(r) for o, r in data["reasons"].items()},
                   tuple(data.get("after") or ()), dict(data.get("reused_from") or {}),
                   data.get("partition"),
                   {k: tuple(v) for k, v in (data.get("reads") or {}).items()})


def job_id(recipe: str, partition: str | None) -> str:
    """A job's id in a build: its recipe's id, with the partition it builds in brackets."""
    return recipe if partition is None else f"{recipe}[{partition}]"


@dataclass(frozen=True)
class PlannedCheck:
    """A source's checks, run before the jobs that read it (their job is ``check:SOURCE``)."""

    source: str
    reasons: tuple[str, ...]  # why they are due: "data changed", "checks changed"…

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "reasons": list(self.reasons)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlannedCheck:
        return cls(str(data["source"]), tuple(data.get("reasons") or ()))


@dataclass(frozen=True)
class Plan:
    """What a build does and why (`weir plan --json`, `POST /api/plan`, a build's `plan`
    event). ``blocked``: datasets that need a connection that cannot be used now;
    ``checks``: the sources whose checks run first."""

    targets: tuple[str, ...]
    up_to_date: tuple[str, ...]
    jobs: tuple[PlannedJob, ...]
    notes: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()
    checks: tuple[PlannedCheck, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"targets": list(self.targets), "up_to_date": list(self.up_to_date),
                "jobs": [j.to_json() for j in self.jobs], "notes": list(self.notes),
                "blocked": list(self.blocked), "checks": [c.to_json() for c in self.checks]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        return cls(tuple(data["targets"]), tuple(data["up_to_date"]),
                   tuple(PlannedJob.from_json(j) for j in data["jobs"]),
                   tuple(data.get("notes") or ()), tuple(data.get("blocked") or ()),
                   tuple(PlannedCheck.from_json(c) for c in data.get("checks") or ()))


@dataclass(frozen=True)
class JobReport:
    """One recipe's job as a build reports it: in `job` events (``event`` start or finish),
    and in `weir build --json`. ``rows`` counts a folder's files."""

    recipe: str
    outputs: tuple[str, ...]
    status: JobStatus
    seconds: float = 0.0
    rows: dict[str, int] | None = None
    error: str | None = None
    traceback: str | None = None
    log_path: str | None = None
    reasons: dict[str, tuple[str, ...]] | None = None
    warnings: tuple[str, ...] = ()  # the `warning` checks its outputs failed (published)
    partition: str | None = None  # the partition of its outputs it builds

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "recipe": self.recipe, "outputs": list(self.outputs),
            "status": self.status.value, "seconds": round(self.seconds, 4),
            "rows": dict(self.rows or {}), "error": self.error,
            "traceback": self.traceback, "log_path": self.log_path,
            "reasons": {k: list(v) for k, v in (self.reasons or {}).items()},
            "warnings": list(self.warnings)}
        if self.partition is not None:
            data["partition"] = self.partition
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobReport:
        return cls(str(data["recipe"]), tuple(data["outputs"]), JobStatus(data["status"]),
                   float(data.get("seconds") or 0.0), dict(data.get("rows") or {}),
                   data.get("error"), data.get("traceback"), data.get("log_path"),
                   {k: tuple(v) for k, v in (data.get("reasons") or {}).items()},
                   tuple(data.get("warnings") or ()), data.get("partition"))


@dataclass(frozen=True)
class BuildEnd:
    """A build's `result` event: how the run went, once it has run."""

    ok: bool
    run_id: str | None
    seconds: float
    cancelled: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "run_id": self.run_id, "seconds": round(self.seconds, 3),
                "cancelled": self.cancelled}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BuildEnd:
        return cls(bool(data["ok"]), data.get("run_id"), float(data.get("seconds") or 0.0),
                   bool(data.get("cancelled")))


@dataclass(frozen=True)
class ErrorReport:
    """A user error as a client gets it: a build that could not start, `--json` on an error.
    ``diagnostics``: for a broken project, every error in its files."""

    message: str
    hint: str | None = None
    diagnostics: tuple[Diagnostic, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"message": self.message, "hint": self.hint}
        if self.diagnostics:
            data["diagnostics"] = [d.to_json() for d in self.diagnostics]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ErrorReport:
        return cls(str(data.get("message") or ""), data.get("hint"),
                   tuple(Diagnostic.from_json(d) for d in data.get("diagnostics") or ()))


@dataclass(frozen=True)
class BuildSummary:
    """One daemon build, as `GET /api/builds` lists it and its `end` event closes it."""

    id: str
    state: BuildState
    request: BuildRequest
    created: float
    started: float | None = None
    finished: float | None = None
    error: ErrorReport | None = None
    run_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state.value, "request": self.request.to_json(),
                "created": self.created, "started": self.started, "finished": self.finished,
                "error": self.error.to_json() if self.error else None, "run_id": self.run_id}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BuildSummary:
        error = data.get("error")
        return cls(str(data["id"]), BuildState(data["state"]),
                   BuildRequest.from_json(data.get("request") or {}),
                   float(data.get("created") or 0.0), data.get("started"), data.get("finished"),
                   ErrorReport.from_json(error) if isinstance(error, dict) else None,
                   data.get("run_id"))


@dataclass(frozen=True)
class BuildChange:
    """A build's `build` event: it was queued, or reached a final state."""

    id: str
    state: BuildState

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state.value}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BuildChange:
        return cls(str(data["id"]), BuildState(data["state"]))


@dataclass(frozen=True)
class BuildWait:
    """A build's `wait` event: it must write datasets another build is writing now, so it
    waits for that build to commit them, then plans again (what the other built is not built
    twice). ``writer``: the daemon's id of that build; for a build without the daemon (a CLI
    ``--no-daemon``), its ``pid`` and ``command``; neither when it has not said who it is."""

    datasets: tuple[str, ...]
    writer: str | None = None
    pid: int | None = None
    command: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"datasets": list(self.datasets), "writer": self.writer, "pid": self.pid,
                "command": self.command}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BuildWait:
        pid = data.get("pid")
        return cls(tuple(data["datasets"]), data.get("writer"),
                   int(pid) if pid is not None else None, data.get("command"))

    def describe(self) -> str:
        """``waiting for build b3, which is writing orders_clean`` (for people)."""
        if self.writer:
            who = f"build {self.writer}"
        elif self.pid is not None:
            who = f"a build without the daemon (pid {self.pid}" + (
                f", `weir {self.command}`)" if self.command else ")")
        else:
            who = "another build"
        names = list(self.datasets)
        what = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return f"waiting for {who}, which is writing {what}"


@dataclass(frozen=True)
class LogLines:
    """A build's `log` event: lines a running recipe printed (the daemon follows its log
    file), so a client shows them as they come rather than at the job's end."""

    recipe: str
    outputs: tuple[str, ...]
    lines: tuple[str, ...]
    partition: str | None = None  # the partition its job builds (jobs of one run side by side)

    def to_json(self) -> dict[str, Any]:
        data = {"recipe": self.recipe, "outputs": list(self.outputs), "lines": list(self.lines)}
        if self.partition is not None:
            data["partition"] = self.partition
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LogLines:
        return cls(str(data["recipe"]), tuple(data["outputs"]), tuple(data["lines"]),
                   data.get("partition"))


# -- the Flow -----------------------------------------------------------------------------------

class NodeKind(str, Enum):
    SOURCE = "source"
    DATASET = "dataset"
    FOLDER = "folder"


@dataclass(frozen=True)
class RecipeRef:
    name: str
    id: str  # what build events call the recipe
    kind: str  # python | sql
    file: str
    line: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "id": self.id, "kind": self.kind, "file": self.file,
                "line": self.line}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RecipeRef:
        return cls(str(data["name"]), str(data["id"]), str(data["kind"]), str(data["file"]),
                   int(data["line"]))


@dataclass(frozen=True)
class FlowNode:
    """One dataset of the Flow, with its status when the sender knows it (the daemon does;
    `weir flow --format json` does not read the data). ``building``: a build writes it now."""

    name: str
    kind: NodeKind
    connection: str
    path: str
    format: str
    tags: tuple[str, ...]
    zone: str | None
    description: str | None
    recipe: RecipeRef | None
    definition: tuple[str, int]  # where it is defined: its YAML, or its recipe
    inputs: tuple[str, ...]
    status: DatasetState | None = None
    reasons: tuple[str, ...] = ()
    building: bool | None = None
    keep: bool = False  # `keep: true`: `weir clean` leaves it
    storage: str | None = None  # its connection's type (filesystem, sqlite, s3…), if known
    # A partitioned dataset: what it is cut by, in words ("day (event_date)"), and, with its
    # status, how many of its partitions are in each state (as DatasetStatus.partitions).
    partitioning: str | None = None
    partitions: dict[str, int] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name, "kind": self.kind.value, "connection": self.connection,
            "storage": self.storage, "keep": self.keep, "partitioning": self.partitioning,
            "partitions": dict(self.partitions) if self.partitions is not None else None,
            "path": self.path, "format": self.format, "tags": list(self.tags), "zone": self.zone,
            "description": self.description,
            "recipe": self.recipe.to_json() if self.recipe else None,
            "definition": {"file": self.definition[0], "line": self.definition[1]},
            "inputs": list(self.inputs)}
        if self.status is not None:
            data["status"] = self.status.value
            data["reasons"] = list(self.reasons)
        if self.building is not None:
            data["building"] = self.building
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FlowNode:
        recipe, where = data.get("recipe"), data.get("definition") or {}
        return cls(str(data["name"]), NodeKind(data["kind"]), str(data["connection"]),
                   str(data["path"]), str(data["format"]), tuple(data.get("tags") or ()),
                   data.get("zone"), data.get("description"),
                   RecipeRef.from_json(recipe) if recipe else None,
                   (str(where.get("file", "")), int(where.get("line", 0))),
                   tuple(data.get("inputs") or ()),
                   DatasetState(data["status"]) if data.get("status") else None,
                   tuple(data.get("reasons") or ()), data.get("building"),
                   bool(data.get("keep")), data.get("storage"), data.get("partitioning"),
                   dict(data["partitions"]) if data.get("partitions") is not None else None)


@dataclass(frozen=True)
class FlowGraph:
    """`GET /api/flow` and `weir flow --format json`: the datasets in topological order, the
    edges between them, and (from the daemon) the Flow's version and what is wrong in it."""

    project: str | None
    nodes: tuple[FlowNode, ...]
    edges: tuple[tuple[str, str], ...]  # (from, to): data flows from an input to its reader
    flow_version: int | None = None
    diagnostics: tuple[Diagnostic, ...] | None = None
    environment: str | None = None  # weir.yaml's environment the Flow was read in, if any
    # Where its builds' recipes run when not on this machine: a Dask scheduler's address.
    executor: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"project": self.project, "environment": self.environment,
                                "nodes": [n.to_json() for n in self.nodes],
                                "edges": [{"from": a, "to": b} for a, b in self.edges]}
        if self.executor is not None:
            data["executor"] = self.executor
        if self.flow_version is not None:
            data["flow_version"] = self.flow_version
        if self.diagnostics is not None:
            data["diagnostics"] = [d.to_json() for d in self.diagnostics]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FlowGraph:
        diags = data.get("diagnostics")
        return cls(data.get("project"), tuple(FlowNode.from_json(n) for n in data["nodes"]),
                   tuple((str(e["from"]), str(e["to"])) for e in data["edges"]),
                   data.get("flow_version"),
                   None if diags is None else tuple(Diagnostic.from_json(d) for d in diags),
                   data.get("environment"), data.get("executor"))


@dataclass(frozen=True)
class DatasetSummary:
    """One dataset in `GET /api/datasets`: what a tree or a picker needs."""

    name: str
    kind: NodeKind
    status: DatasetState | None
    reasons: tuple[str, ...]
    building: bool

    @classmethod
    def of(cls, node: FlowNode) -> DatasetSummary:
        return cls(node.name, node.kind, node.status, node.reasons, bool(node.building))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind.value,
                "status": self.status.value if self.status else None,
                "reasons": list(self.reasons), "building": self.building}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DatasetSummary:
        return cls(str(data["name"]), NodeKind(data["kind"]),
                   DatasetState(data["status"]) if data.get("status") else None,
                   tuple(data.get("reasons") or ()), bool(data.get("building")))


@dataclass(frozen=True)
class FlowChange:
    """What one batch of file events changed: the daemon's `flow` event."""

    version: int
    files: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    errors: int
    seconds: float  # time spent applying the change

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "files": list(self.files), "added": list(self.added),
                "removed": list(self.removed), "changed": list(self.changed),
                "errors": self.errors, "seconds": round(self.seconds, 6)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FlowChange:
        return cls(int(data["version"]), tuple(data["files"]), tuple(data["added"]),
                   tuple(data["removed"]), tuple(data["changed"]), int(data["errors"]),
                   float(data["seconds"]))


@dataclass(frozen=True)
class HistoryEntry:
    """One past build of a dataset (newest first in a dataset's detail)."""

    run_id: str
    status: str  # a JobStatus, or `recovered` for a dataset `weir state repair` vouched for
    started: float | None
    finished: float | None
    rows: int | None
    error: str | None
    fingerprint: str | None
    commit: str | None  # the git commit it ran at; a trailing + means uncommitted changes

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "status": self.status, "started": self.started,
                "finished": self.finished, "rows": self.rows, "error": self.error,
                "fingerprint": self.fingerprint, "commit": self.commit}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HistoryEntry:
        return cls(str(data["run_id"]), str(data["status"]), data.get("started"),
                   data.get("finished"), data.get("rows"), data.get("error"),
                   data.get("fingerprint"), data.get("commit"))


@dataclass(frozen=True)
class DatasetScenarioRun:
    """A scenario run that built or checked a dataset, as its detail lists it: enough to say
    which scenario touched the data last and how that run went, without its whole report
    (`GET /api/scenario-runs/{run_id}` has that). ``built``: a step of it built the dataset;
    ``checked``: a step ran its checks. ``status`` as in ScenarioRunReport (a run still going
    is ``running``, its ``finished`` None)."""

    scenario: str
    run_id: str
    status: str
    started: float
    finished: float | None
    built: bool = False
    checked: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "run_id": self.run_id, "status": self.status,
                "started": self.started, "finished": self.finished, "built": self.built,
                "checked": self.checked}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DatasetScenarioRun:
        return cls(str(data["scenario"]), str(data["run_id"]), str(data["status"]),
                   float(data["started"]), data.get("finished"), bool(data.get("built")),
                   bool(data.get("checked")))


Column = tuple[str, str, bool]  # name, type, nullable


@dataclass(frozen=True)
class DatasetDetail:
    """`GET /api/datasets/{name}`: a dataset's definition, status, schemas and history."""

    name: str
    description: str | None
    kind: NodeKind
    connection: str
    path: str
    format: str
    tags: tuple[str, ...]
    zone: str | None
    keep: bool
    recipe: RecipeRef | None
    inputs: tuple[str, ...]
    consumers: tuple[str, ...]
    status: DatasetState
    reasons: tuple[str, ...]
    building: bool
    schema: tuple[Column, ...] | None  # observed at the last build
    declared_schema: tuple[Column, ...] | None
    rows: int | None
    built_at: float | None
    builds: tuple[HistoryEntry, ...]
    checks: tuple[CheckResult, ...] = ()  # what its checks said when they last ran
    checked_at: float | None = None
    # the scenario runs that built or checked it, newest first (a run going on included)
    scenario_runs: tuple[DatasetScenarioRun, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "description": self.description, "kind": self.kind.value,
            "connection": self.connection, "path": self.path, "format": self.format,
            "tags": list(self.tags), "zone": self.zone, "keep": self.keep,
            "recipe": self.recipe.to_json() if self.recipe else None,
            "inputs": list(self.inputs), "consumers": list(self.consumers),
            "status": self.status.value, "reasons": list(self.reasons),
            "building": self.building,
            "schema": [list(c) for c in self.schema] if self.schema is not None else None,
            "declared_schema": [list(c) for c in self.declared_schema]
            if self.declared_schema is not None else None,
            "rows": self.rows, "built_at": self.built_at,
            "builds": [b.to_json() for b in self.builds],
            "checks": [c.to_json() for c in self.checks], "checked_at": self.checked_at,
            "scenario_runs": [r.to_json() for r in self.scenario_runs]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DatasetDetail:
        def columns(value: Any) -> tuple[Column, ...] | None:
            return None if value is None else tuple(
                (str(c[0]), str(c[1]), bool(c[2])) for c in value)

        recipe = data.get("recipe")
        return cls(str(data["name"]), data.get("description"), NodeKind(data["kind"]),
                   str(data["connection"]), str(data["path"]), str(data["format"]),
                   tuple(data.get("tags") or ()), data.get("zone"), bool(data.get("keep")),
                   RecipeRef.from_json(recipe) if recipe else None,
                   tuple(data.get("inputs") or ()), tuple(data.get("consumers") or ()),
                   DatasetState(data["status"]), tuple(data.get("reasons") or ()),
                   bool(data.get("building")), columns(data.get("schema")),
                   columns(data.get("declared_schema")), data.get("rows"),
                   data.get("built_at"),
                   tuple(HistoryEntry.from_json(b) for b in data.get("builds") or ()),
                   tuple(CheckResult.from_json(c) for c in data.get("checks") or ()),
                   data.get("checked_at"),
                   tuple(DatasetScenarioRun.from_json(r)
                         for r in data.get("scenario_runs") or ()))


@dataclass(frozen=True)
class Health:
    """`GET /api/health`: which daemon answers, for which project in which environment, and
    the Flow's version."""

    project: str | None
    root: str
    version: str
    pid: int
    flow_version: int
    errors: int
    started: float
    environment: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"project": self.project, "root": self.root, "version": self.version,
                "pid": self.pid, "flow_version": self.flow_version, "errors": self.errors,
                "started": self.started, "environment": self.environment}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Health:
        return cls(data.get("project"), str(data["root"]), str(data["version"]),
                   int(data["pid"]), int(data["flow_version"]), int(data["errors"]),
                   float(data["started"]), data.get("environment"))


@dataclass(frozen=True)
class Deployment:
    """`GET /api/deploy` (and `weir daemon status`): what a deploying daemon (`weir --env NAME
    daemon --follow`) serves — the environment's branch on which remote, the commit deployed
    and when, when it last fetched, the head it last saw there, and why it did not deploy a
    commit (``skipped``: the project at that commit has errors) or could not fetch
    (``error``). Times are seconds since the epoch."""

    environment: str
    branch: str
    remote: str
    interval: float  # seconds between two fetches
    commit: str | None = None  # deployed
    deployed_at: float | None = None
    worktree: str | None = None  # where the deployed commit's project files are
    fetched_at: float | None = None  # the last fetch that answered
    head: str | None = None  # the branch's commit on the remote as last fetched
    error: str | None = None  # the last fetch's failure (None once one answers again)
    skipped_commit: str | None = None  # the last commit not deployed ...
    skipped_reason: str | None = None  # ... and why

    def to_json(self) -> dict[str, Any]:
        return {"environment": self.environment, "branch": self.branch, "remote": self.remote,
                "interval": self.interval, "commit": self.commit,
                "deployed_at": self.deployed_at, "worktree": self.worktree,
                "fetched_at": self.fetched_at, "head": self.head, "error": self.error,
                "skipped_commit": self.skipped_commit, "skipped_reason": self.skipped_reason}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deployment:
        def number(key: str) -> float | None:
            value = data.get(key)
            return None if value is None else float(value)

        return cls(str(data["environment"]), str(data["branch"]), str(data["remote"]),
                   float(data["interval"]), data.get("commit"), number("deployed_at"),
                   data.get("worktree"), number("fetched_at"), data.get("head"),
                   data.get("error"), data.get("skipped_commit"), data.get("skipped_reason"))


class DeployEventKind(str, Enum):
    DEPLOYED = "deployed"  # a new commit is what the daemon serves
    SKIPPED = "skipped"  # a new commit has errors: the last good one stays deployed
    FETCH_FAILED = "fetch_failed"  # the remote did not answer (or has no such branch)


@dataclass(frozen=True)
class DeployEvent:
    """A `deploy` event on the event stream: what a deploying daemon just did, and where it
    stands after it."""

    event: DeployEventKind
    commit: str | None
    message: str
    deployment: Deployment

    def to_json(self) -> dict[str, Any]:
        return {"event": self.event.value, "commit": self.commit, "message": self.message,
                "deployment": self.deployment.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeployEvent:
        return cls(DeployEventKind(data["event"]), data.get("commit"), str(data["message"]),
                   Deployment.from_json(data["deployment"]))


@dataclass(frozen=True)
class Hello:
    """The first event of `GET /api/events`: which version of the Flow the stream starts at."""

    flow_version: int

    def to_json(self) -> dict[str, Any]:
        return {"flow_version": self.flow_version}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Hello:
        return cls(int(data["flow_version"]))


@dataclass(frozen=True)
class BuildLog:
    """`GET /api/datasets/{name}/log`: the log of the dataset's last build (what its recipe
    printed, and the traceback on failure), at most its last 200,000 characters."""

    name: str
    status: str  # as in HistoryEntry
    path: str
    log: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "path": self.path, "log": self.log}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BuildLog:
        return cls(str(data["name"]), str(data["status"]), str(data["path"]), str(data["log"]))


def vocabulary() -> dict[str, Any]:
    """Every enum of the wire, member name -> value, and which build states are final and
    which job statuses succeeded: what a client that cannot import this module (the Flow
    page, the VS Code extension) needs to name states as the daemon does. The daemon serves
    it at `GET /api/wire` and embeds it in the Flow page, so a state added here reaches both."""
    enums: tuple[type[Enum], ...] = (DatasetState, BuildState, JobStatus, Mode, Action, NodeKind,
                                     Severity, StatusCause)
    return {"enums": {e.__name__: {m.name: m.value for m in e} for e in enums},
            "final_build_states": [s.value for s in BuildState if s.final],
            "ok_job_statuses": [s.value for s in JobStatus if s.ok]}


# -- what the CLI prints for programs ----------------------------------------------------------

@dataclass(frozen=True)
class DatasetOutcome:
    """One dataset of a finished build, in `weir build --json`."""

    name: str
    recipe: str
    status: JobStatus
    rows: int | None
    seconds: float
    reasons: tuple[str, ...]
    error: str | None
    traceback: str | None
    log: str | None
    partition: str | None = None  # the partition of it built (a partitioned dataset)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "recipe": self.recipe,
                                "status": self.status.value, "rows": self.rows,
                                "seconds": round(self.seconds, 3),
                                "reasons": list(self.reasons), "error": self.error,
                                "traceback": self.traceback, "log": self.log}
        if self.partition is not None:
            data["partition"] = self.partition
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DatasetOutcome:
        return cls(str(data["name"]), str(data["recipe"]), JobStatus(data["status"]),
                   data.get("rows"), float(data.get("seconds") or 0.0),
                   tuple(data.get("reasons") or ()), data.get("error"), data.get("traceback"),
                   data.get("log"), data.get("partition"))


@dataclass(frozen=True)
class BuildReport:
    """`weir build --json`: how the build went, dataset by dataset."""

    ok: bool
    run_id: str | None
    seconds: float
    interrupted: bool
    datasets: tuple[DatasetOutcome, ...]

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "run_id": self.run_id, "seconds": round(self.seconds, 3),
                "interrupted": self.interrupted, "datasets": [d.to_json() for d in self.datasets]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BuildReport:
        return cls(bool(data["ok"]), data.get("run_id"), float(data.get("seconds") or 0.0),
                   bool(data.get("interrupted")),
                   tuple(DatasetOutcome.from_json(d) for d in data.get("datasets") or ()))


@dataclass(frozen=True)
class CheckResult:
    """What one data-quality check said of a dataset's data: in a build's job report, the
    state store's history, `weir show` and the API. ``failing``: the rows (or values) that
    broke it; ``examples``: up to five of them, as column → value."""

    name: str
    kind: str
    severity: Severity
    passed: bool
    failing: int = 0
    message: str = ""
    examples: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "severity": self.severity.value,
                "passed": self.passed, "failing": self.failing, "message": self.message,
                "examples": [dict(e) for e in self.examples]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckResult:
        return cls(str(data["name"]), str(data["kind"]), Severity(data["severity"]),
                   bool(data["passed"]), int(data.get("failing") or 0),
                   str(data.get("message") or ""),
                   tuple(dict(e) for e in data.get("examples") or ()))


@dataclass(frozen=True)
class ColumnMetrics:
    """One column of a dataset at one build: its nulls, min, max, distinct values (exact on a
    small table, estimated on a big one) and mean (numbers only)."""

    name: str
    nulls: int
    min: Any = None
    max: Any = None
    distinct: int | None = None
    mean: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "nulls": self.nulls, "min": self.min, "max": self.max,
                "distinct": self.distinct, "mean": self.mean}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ColumnMetrics:
        return cls(str(data["name"]), int(data.get("nulls") or 0), data.get("min"),
                   data.get("max"), data.get("distinct"), data.get("mean"))


@dataclass(frozen=True)
class Metrics:
    """A dataset's metrics at one build (``at``, ``run_id``: when it was built)."""

    rows: int
    columns: tuple[ColumnMetrics, ...] = ()
    at: float | None = None
    run_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "columns": [c.to_json() for c in self.columns],
                "at": self.at, "run_id": self.run_id}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Metrics:
        return cls(int(data["rows"]), tuple(ColumnMetrics.from_json(c)
                                            for c in data.get("columns") or ()),
                   data.get("at"), data.get("run_id"))


@dataclass(frozen=True)
class StepOutcome:
    """One step of a scenario run: ``status`` succeeded, failed or skipped (its `if:` said
    not to run); what it built (dataset, rows) and what its checks said."""

    name: str
    kind: str
    status: str
    started: float | None = None
    finished: float | None = None
    message: str = ""
    attempts: int = 0
    built: tuple[tuple[str, int | None], ...] = ()
    checks: tuple[DatasetChecks, ...] = ()
    log: str = ""  # a failure's log excerpt: the recipe's error and traceback, what it printed

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "status": self.status,
                "started": self.started, "finished": self.finished, "message": self.message,
                "attempts": self.attempts, "built": [list(b) for b in self.built],
                "checks": [c.to_json() for c in self.checks], "log": self.log}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StepOutcome:
        return cls(data["name"], data["kind"], data["status"], data.get("started"),
                   data.get("finished"), data.get("message", ""), data.get("attempts", 0),
                   tuple((b[0], b[1]) for b in data.get("built", ())),
                   tuple(DatasetChecks.from_json(c) for c in data.get("checks", ())),
                   data.get("log", ""))


@dataclass(frozen=True)
class ScenarioRunReport:
    """A scenario run, as `weir scenario run --json` and its JSON report file say it."""

    scenario: str
    run_id: str
    cause: str
    # succeeded, failed, cancelled; running (a run in progress, through the daemon); skipped
    # (a start while the scenario was running: not run, recorded); interrupted (its daemon
    # died while it ran)
    status: str
    started: float
    finished: float
    commit: str | None
    variables: dict[str, Any]
    steps: tuple[StepOutcome, ...]
    reports: tuple[str, ...] = ()  # the report files written, project-relative
    skipped_for: str | None = None  # a skipped start: the run that was running
    error: str | None = None  # a run that could not go on (weir's own error)

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    def to_json(self) -> dict[str, Any]:
        data = {"scenario": self.scenario, "run_id": self.run_id, "cause": self.cause,
                "status": self.status, "started": self.started, "finished": self.finished,
                "commit": self.commit, "variables": self.variables,
                "steps": [s.to_json() for s in self.steps], "reports": list(self.reports)}
        if self.skipped_for:
            data["skipped_for"] = self.skipped_for
        if self.error:
            data["error"] = self.error
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScenarioRunReport:
        return cls(data["scenario"], data["run_id"], data["cause"], data["status"],
                   data["started"], data["finished"], data.get("commit"),
                   dict(data.get("variables") or {}),
                   tuple(StepOutcome.from_json(s) for s in data["steps"]),
                   tuple(data.get("reports", ())), data.get("skipped_for"), data.get("error"))


@dataclass(frozen=True)
class ScenarioSummary:
    """One scenario as `weir scenario list --json` says it: what starts it (each trigger in
    words), its steps by name, and when its time triggers next start it (epoch seconds)."""

    name: str
    file: str
    description: str
    triggers: tuple[str, ...]
    steps: tuple[str, ...]
    next_run: float | None
    last_run: str | None = None  # the last run's id, its outcome and when it ended
    last_status: str | None = None
    last_finished: float | None = None
    running: str | None = None  # the run id while it runs (through the daemon)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "file": self.file, "description": self.description,
                "triggers": list(self.triggers), "steps": list(self.steps),
                "next_run": self.next_run, "last_run": self.last_run,
                "last_status": self.last_status, "last_finished": self.last_finished,
                "running": self.running}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScenarioSummary:
        return cls(data["name"], data["file"], data.get("description", ""),
                   tuple(data["triggers"]), tuple(data["steps"]), data.get("next_run"),
                   data.get("last_run"), data.get("last_status"), data.get("last_finished"),
                   data.get("running"))


class ScenarioEventKind(str, Enum):
    START = "start"  # a run began (with its cause)
    LINE = "line"  # a line of its live output (what `weir scenario run` prints)
    STEP = "step"  # a step ended (with its outcome)
    END = "end"  # the run ended (with its status)
    SKIPPED = "skipped"  # a start while the scenario ran: not run, recorded


@dataclass(frozen=True)
class ScenarioEvent:
    """A `scenario` event on the event stream and a run's own stream
    (GET /api/scenario-runs/{id}/events): what a run is doing as it does it."""

    event: ScenarioEventKind
    scenario: str
    run_id: str
    cause: str = ""
    line: str = ""
    step: StepOutcome | None = None
    status: str = ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"event": self.event.value, "scenario": self.scenario,
                                "run_id": self.run_id, "cause": self.cause}
        if self.line:
            data["line"] = self.line
        if self.step is not None:
            data["step"] = self.step.to_json()
        if self.status:
            data["status"] = self.status
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScenarioEvent:
        return cls(ScenarioEventKind(data["event"]), data["scenario"], data["run_id"],
                   data.get("cause", ""), data.get("line", ""),
                   StepOutcome.from_json(data["step"]) if data.get("step") else None,
                   data.get("status", ""))


@dataclass(frozen=True)
class FlowLayout:
    """`GET`/`PUT /api/flow/layout`: where the Flow page placed the Flow's boxes and routed its
    edges, kept by the daemon so that the next page opened on the same shape (a reload, the
    editor's Flow view opened again, a colleague's browser) draws at once instead of laying the
    Flow out again (most of a second for 1,000 datasets). ``shape`` is the page's own digest of
    what it laid out (its boxes, edges and layout version); ``layout`` is the page's, opaque to
    everyone else."""

    shape: str
    layout: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"shape": self.shape, "layout": self.layout}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FlowLayout:
        return cls(str(data["shape"]), dict(data["layout"]))


@dataclass(frozen=True)
class DatasetVersion:
    """One build of a dataset as `weir log` lists it: where (``environment``, None: the project
    with none), the git commit it was built at (``dirty``: the work tree differed from it), who
    started it (``trigger``: CLI, editor, Flow page, scenario NAME, API, or a client's own
    words), and what it made."""

    environment: str | None
    run_id: str
    status: str
    started: float | None
    finished: float | None
    rows: int | None
    fingerprint: str | None
    commit: str | None
    dirty: bool
    trigger: str
    error: str | None = None

    @property
    def duration(self) -> float | None:
        return self.finished - self.started if self.started and self.finished else None

    def to_json(self) -> dict[str, Any]:
        return {"environment": self.environment, "run_id": self.run_id, "status": self.status,
                "started": self.started, "finished": self.finished, "duration": self.duration,
                "rows": self.rows, "fingerprint": self.fingerprint, "commit": self.commit,
                "dirty": self.dirty, "trigger": self.trigger, "error": self.error}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DatasetVersion:
        return cls(data.get("environment"), str(data["run_id"]), str(data["status"]),
                   data.get("started"), data.get("finished"), data.get("rows"),
                   data.get("fingerprint"), data.get("commit"), bool(data.get("dirty")),
                   str(data.get("trigger") or "unknown"), data.get("error"))


@dataclass(frozen=True)
class DatasetLog:
    """`weir log NAME --json`: the dataset's versions, newest first, in every environment with
    state (or the one chosen); with ``--commit REF``, ``commit`` is REF resolved and the versions
    are those built at it."""

    name: str
    versions: tuple[DatasetVersion, ...]
    commit: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "commit": self.commit,
                "versions": [v.to_json() for v in self.versions]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DatasetLog:
        return cls(str(data["name"]), tuple(DatasetVersion.from_json(v)
                                            for v in data.get("versions") or ()),
                   data.get("commit"))


@dataclass(frozen=True)
class MetricsHistory:
    """`weir metrics x --json` and `GET /api/datasets/{name}/metrics`: newest first."""

    name: str
    builds: tuple[Metrics, ...]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "builds": [m.to_json() for m in self.builds]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MetricsHistory:
        return cls(str(data["name"]), tuple(Metrics.from_json(m)
                                            for m in data.get("builds") or ()))


@dataclass(frozen=True)
class DatasetChecks:
    """One dataset in `weir check --json`: what its checks said of its data now, or why they
    could not run (``error``: no data yet, its storage cannot be used)."""

    name: str
    checks: tuple[CheckResult, ...] = ()
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "checks": [c.to_json() for c in self.checks],
                "error": self.error}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DatasetChecks:
        return cls(str(data["name"]), tuple(CheckResult.from_json(c)
                                            for c in data.get("checks") or ()),
                   data.get("error"))


@dataclass(frozen=True)
class CheckReport:
    """`weir check --json`. ``ok``: no `error` check failed (a dataset without data yet is
    reported, not failed)."""

    ok: bool
    datasets: tuple[DatasetChecks, ...]

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "datasets": [d.to_json() for d in self.datasets]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckReport:
        return cls(bool(data["ok"]), tuple(DatasetChecks.from_json(d)
                                           for d in data.get("datasets") or ()))


@dataclass(frozen=True)
class DatasetStatus:
    """One dataset's status: in `weir status --json`, `GET /api/status` and the `status`
    event. ``rows`` and ``built_at``: of its last successful build (None if never built)."""

    name: str
    status: DatasetState
    reasons: tuple[str, ...]
    built_at: float | None
    rows: int | None = None
    # A partitioned dataset: how many of its partitions are in each state (by the state's
    # name; a source's: {"source": how many it has}), and, when asked for, each of them.
    partitions: dict[str, int] | None = None
    partition_list: tuple[PartitionStatus, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "status": self.status.value,
                                "reasons": list(self.reasons), "built_at": self.built_at,
                                "rows": self.rows}
        if self.partitions is not None:
            data["partitions"] = dict(self.partitions)
        if self.partition_list is not None:
            data["partition_list"] = [p.to_json() for p in self.partition_list]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DatasetStatus:
        listed = data.get("partition_list")
        return cls(str(data["name"]), DatasetState(data["status"]),
                   tuple(data.get("reasons") or ()), data.get("built_at"), data.get("rows"),
                   dict(data["partitions"]) if data.get("partitions") is not None else None,
                   tuple(PartitionStatus.from_json(p) for p in listed)
                   if listed is not None else None)


@dataclass(frozen=True)
class PartitionStatus:
    """One partition of a partitioned dataset: its name, state and why."""

    key: str
    status: DatasetState
    reasons: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "status": self.status.value, "reasons": list(self.reasons)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PartitionStatus:
        return cls(str(data["key"]), DatasetState(data["status"]),
                   tuple(data.get("reasons") or ()))


@dataclass(frozen=True)
class StatusReport:
    """`weir status --json` and `GET /api/status` (which also says the Flow version the
    statuses are of)."""

    project: str
    datasets: tuple[DatasetStatus, ...]
    flow_version: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"project": self.project,
                                "datasets": [d.to_json() for d in self.datasets]}
        if self.flow_version is not None:
            data["flow_version"] = self.flow_version
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StatusReport:
        return cls(str(data["project"]),
                   tuple(DatasetStatus.from_json(d) for d in data.get("datasets") or ()),
                   data.get("flow_version"))


class StatusCause(str, Enum):
    """Why the daemon's statuses changed."""

    EDIT = "edit"  # the Flow's files changed
    COMMIT = "commit"  # the state store changed: a build (the daemon's, or a CLI's) committed
    POLL = "poll"  # the periodic look at the data: a source changed, an output vanished


@dataclass(frozen=True)
class StatusChange:
    """The daemon's `status` event: the datasets whose status, reasons, rows or last build
    changed, as they are now, and the datasets that left the Flow. Applied to what
    `GET /api/status` said, it gives what `GET /api/status` says now."""

    flow_version: int
    cause: StatusCause
    changed: tuple[DatasetStatus, ...]
    removed: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"flow_version": self.flow_version, "cause": self.cause.value,
                "changed": [d.to_json() for d in self.changed], "removed": list(self.removed)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StatusChange:
        return cls(int(data["flow_version"]), StatusCause(data["cause"]),
                   tuple(DatasetStatus.from_json(d) for d in data.get("changed") or ()),
                   tuple(data.get("removed") or ()))


@dataclass(frozen=True)
class ConnectionInfo:
    """One connection in `weir connections list --json`: where it points (secrets as their
    references, never their values) and how many datasets use it."""

    name: str
    type: str
    defined_in: str  # file:line of its definition
    settings: dict[str, Any]
    datasets: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "defined_in": self.defined_in,
                "settings": dict(self.settings), "datasets": self.datasets}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConnectionInfo:
        return cls(str(data["name"]), str(data["type"]), str(data["defined_in"]),
                   dict(data.get("settings") or {}), int(data.get("datasets") or 0))


@dataclass(frozen=True)
class EnvironmentInfo:
    """One environment in `weir environments --json`: its branch and what it changes (the
    connections and variables it overrides, by name: never a setting's value, which may be a
    secret's reference), and whether this process runs in it."""

    name: str
    branch: str | None
    description: str
    connections: list[str]
    variables: list[str]
    active: bool
    defined_in: str  # weir.yaml:LINE
    # Where its builds' recipes run when it says so itself (`dask://HOST:PORT`, `local`).
    executor: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "branch": self.branch, "description": self.description,
                "connections": list(self.connections), "variables": list(self.variables),
                "active": self.active, "defined_in": self.defined_in,
                "executor": self.executor}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EnvironmentInfo:
        return cls(str(data["name"]), data.get("branch"), str(data.get("description") or ""),
                   [str(c) for c in data.get("connections") or []],
                   [str(v) for v in data.get("variables") or []], bool(data.get("active")),
                   str(data.get("defined_in") or ""), data.get("executor"))


@dataclass(frozen=True)
class ConnectionCheck:
    """One connection in `weir connections test --json`: reached or not, and why."""

    name: str
    ok: bool
    message: str
    hint: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "message": self.message, "hint": self.hint}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConnectionCheck:
        return cls(str(data["name"]), bool(data["ok"]), str(data["message"]), data.get("hint"))


# -- environments and promotion ----------------------------------------------------------------

class ChangeKind(str, Enum):
    """What became of a dataset or recipe between two revisions of the project."""

    ADDED = "added"
    REMOVED = "removed"
    MODIFIED = "modified"  # its own code, definition or variables changed
    STALE = "stale"  # unchanged itself, but something upstream changed: its data will differ


@dataclass(frozen=True)
class DiffEntry:
    """One dataset or recipe in a `weir diff`; ``what`` says which parts changed ("code",
    "definition", "variable min_order_value", "inputs") or, for a stale one, which inputs."""

    name: str
    change: ChangeKind
    what: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "change": self.change.value, "what": list(self.what)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DiffEntry:
        return cls(str(data["name"]), ChangeKind(data["change"]), tuple(data.get("what") or ()))


@dataclass(frozen=True)
class FlowDiff:
    """`weir diff --json`: what changed in the Flow from ``base`` to ``head`` (a revision as
    given, "work tree" for the checkout), each with the commit it resolved to (None for the
    work tree); datasets in the head's Flow order, removed ones last."""

    base: str
    base_commit: str | None
    head: str
    head_commit: str | None
    datasets: tuple[DiffEntry, ...]
    recipes: tuple[DiffEntry, ...]
    environment: str | None = None

    def to_build(self) -> tuple[str, ...]:
        """What `weir build --changed-since` builds: what the head has that changed or went
        stale (sources are read, never built; the caller leaves them out)."""
        return tuple(c.name for c in self.datasets if c.change is not ChangeKind.REMOVED)

    def to_json(self) -> dict[str, Any]:
        return {"base": self.base, "base_commit": self.base_commit, "head": self.head,
                "head_commit": self.head_commit, "environment": self.environment,
                "datasets": [c.to_json() for c in self.datasets],
                "recipes": [c.to_json() for c in self.recipes]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FlowDiff:
        return cls(str(data["base"]), data.get("base_commit"), str(data["head"]),
                   data.get("head_commit"),
                   tuple(DiffEntry.from_json(c) for c in data.get("datasets") or ()),
                   tuple(DiffEntry.from_json(c) for c in data.get("recipes") or ()),
                   data.get("environment"))


class Fate(str, Enum):
    """What a promotion means for one dataset in the target environment."""

    UP_TO_DATE = "up to date"  # the target already has it
    REUSE = "reuse"  # copied from another environment's data: no recipe runs
    RESTORE = "restore"  # the target's own kept output of it comes back
    REBUILD = "rebuild"  # its recipe runs in the target


@dataclass(frozen=True)
class PromotedDataset:
    """One dataset of the promoted commit, in the target environment: its ``fate``, where a
    reuse copies from, and why it is rebuilt (or what changed, for a reuse)."""

    name: str
    fate: Fate
    reused_from: str | None = None
    why: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "fate": self.fate.value, "reused_from": self.reused_from,
                "why": list(self.why)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PromotedDataset:
        return cls(str(data["name"]), Fate(data["fate"]), data.get("reused_from"),
                   tuple(data.get("why") or ()))


@dataclass(frozen=True)
class Promotion:
    """`weir promote SOURCE TARGET --json` (and each entry of `--history`): the target
    branch moved from ``before`` to ``after`` (``how``: created, fast-forward, merge,
    unchanged; "dry run" when nothing moved), the source's commit, whether it was pushed and
    where, what changed in the Flow, and each dataset's fate in the target."""

    source: str
    target: str
    source_branch: str
    target_branch: str
    source_commit: str
    before: str | None
    after: str | None
    how: str
    at: float
    pushed_to: str | None = None
    by: str | None = None
    diff: FlowDiff | None = None
    datasets: tuple[PromotedDataset, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target,
                "source_branch": self.source_branch, "target_branch": self.target_branch,
                "source_commit": self.source_commit, "before": self.before,
                "after": self.after, "how": self.how, "at": self.at,
                "pushed_to": self.pushed_to, "by": self.by,
                "diff": self.diff.to_json() if self.diff else None,
                "datasets": [d.to_json() for d in self.datasets]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Promotion:
        return cls(str(data["source"]), str(data["target"]), str(data["source_branch"]),
                   str(data["target_branch"]), str(data["source_commit"]), data.get("before"),
                   data.get("after"), str(data["how"]), float(data.get("at") or 0.0),
                   data.get("pushed_to"), data.get("by"),
                   FlowDiff.from_json(data["diff"]) if data.get("diff") else None,
                   tuple(PromotedDataset.from_json(d) for d in data.get("datasets") or ()))
