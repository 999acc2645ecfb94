"""Scenarios as ``scenarios/<name>.yaml`` declares them, read without running anything.

A scenario automates a Flow: ``steps`` run in order (build, check, clear, a Python function,
set variables, another scenario), each with a run condition; ``triggers`` say when the daemon
starts it (cron in a timezone, an interval, a dataset's data changing, a git commit, another
scenario ending, a Python condition); ``reporters`` say who hears of a run (a report file, a
webhook, an e-mail). Everything is normalised here to plain values, and every mistake is a
diagnostic at its line with a stable code, so a broken scenario file is reported by the editor
and ``weir flow`` like any other — and only that scenario stops running. Whether the datasets
and scenarios a scenario names exist is :func:`scenario_references`' to say, once all are known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from weir.model.diagnostics import Diagnostic, Span, whole_line
from weir.model.durations import parse_duration
from weir.model.relative_partitions import PartitionSpec, fit_problem, parse_spec
from weir.model.suggest import closest, hint_for
from weir.model.yamlfile import LineDict, check_keys, parse_yaml


class StepKind(str, Enum):
    BUILD = "build"
    CHECK = "check"
    CLEAR = "clear"
    PYTHON = "python"
    SET_VARIABLES = "set_variables"
    RUN_SCENARIO = "run_scenario"


class RunIf(str, Enum):
    """When a step runs, given how the steps before it went."""

    SUCCESS = "success"  # all before it succeeded (the default)
    FAILURE = "failure"  # one before it failed
    ALWAYS = "always"


class TriggerKind(str, Enum):
    CRON = "cron"
    INTERVAL = "interval"
    DATASET_CHANGED = "dataset_changed"
    COMMIT = "commit"
    AFTER = "after"
    PYTHON = "python"


class ReporterKind(str, Enum):
    REPORT = "report"
    WEBHOOK = "webhook"
    EMAIL = "email"


class CatchUp(str, Enum):
    """What a schedule missed while the daemon was down becomes: nothing, or one run."""

    NONE = "none"
    ONCE = "once"


STEP_KINDS = tuple(k.value for k in StepKind)
TRIGGER_KINDS = tuple(k.value for k in TriggerKind)
REPORTER_KINDS = tuple(k.value for k in ReporterKind)
SCENARIO_KEYS = ("description", "timezone", "triggers", "steps", "reporters", "catch_up")
STEP_OPTIONS = ("name", "if", "retries", "timeout", "partition")  # beside a step's kind
STEP_KEYS = (*STEP_KINDS, *STEP_OPTIONS)
BUILD_KEYS = ("targets", "mode", "all", "stale", "partition")
MODES = ("required", "only", "force", "missing", "downstream")
REPORT_FORMATS = ("markdown", "html", "json")
WHEN = ("start", "end", "success", "failure")  # a reporter's `on`: end = success or failure
OUTCOMES = ("success", "failure", "any")
DEFAULT_POLL = 60.0  # seconds between two looks of a dataset_changed, commit or python trigger
# An event trigger's run starts once its events have been quiet this long (a storm is one run).
DEFAULT_DEBOUNCE = 5.0
EXAMPLES = {
    StepKind.BUILD: "build: [monthly_report]  (or {targets: [monthly_report], mode: force}; "
                    "partition: yesterday for a partitioned one)",
    StepKind.CHECK: "check: [orders_clean]",
    StepKind.CLEAR: "clear: [orders_clean]",
    StepKind.PYTHON: "python: lib.alerts:notify",
    StepKind.SET_VARIABLES: "set_variables: {min_order_value: 20}",
    StepKind.RUN_SCENARIO: "run_scenario: hourly",
    TriggerKind.CRON: 'cron: "0 3 * * *"  (with timezone: Europe/Paris)',
    TriggerKind.INTERVAL: "interval: 15m",
    TriggerKind.DATASET_CHANGED: "dataset_changed: raw_orders  (with every: 1min)",
    TriggerKind.COMMIT: "commit: main  (or {branch: main, remote: true})",
    TriggerKind.AFTER: "after: nightly  (or {scenario: nightly, outcome: failure})",
    TriggerKind.PYTHON: "python: lib.ready:data_landed  (with every: 5min, timeout: 30s)",
    ReporterKind.REPORT: "report: [markdown, html, json]",
    ReporterKind.WEBHOOK: 'webhook: {url: "${env:TEAM_WEBHOOK}", on: end}',
    ReporterKind.EMAIL: "email: {to: [team@example.com], smtp: {host: smtp.example.com}}",
}


@dataclass(frozen=True)
class Step:
    """One step. ``params`` by kind: build ``{"targets": [...], "mode": m, "all", "stale",
    "partition": PartitionSpec | None}``; check and clear
    ``{"targets": [...]}``; python ``{"function": "module:function"}``; set_variables
    ``{"variables": {...}}``; run_scenario ``{"scenario": name}``."""

    kind: StepKind
    name: str
    line: int
    params: Mapping[str, Any]
    run_if: RunIf = RunIf.SUCCESS
    retries: int = 0
    timeout: float | None = None  # seconds


@dataclass(frozen=True)
class Trigger:
    """One trigger. ``params`` by kind: cron ``{"expression", "timezone"}``; interval
    ``{"seconds"}``; dataset_changed ``{"dataset", "every"}``; commit ``{"branch", "remote",
    "every"}``; after ``{"scenario", "outcome"}``; python ``{"function", "every",
    "timeout"}``; every event trigger (not cron, not interval) also ``{"debounce"}``."""

    kind: TriggerKind
    line: int
    params: Mapping[str, Any]

    def describe(self) -> str:
        p = self.params
        if self.kind is TriggerKind.CRON:
            return f"cron {p['expression']} ({p['timezone']})"
        if self.kind is TriggerKind.INTERVAL:
            return f"every {_seconds(p['seconds'])}"
        if self.kind is TriggerKind.DATASET_CHANGED:
            return f"when {p['dataset']} changes (looked at every {_seconds(p['every'])})"
        if self.kind is TriggerKind.COMMIT:
            where = f"origin/{p['branch']}" if p["remote"] else p["branch"]
            return f"on a new commit on {where}"
        if self.kind is TriggerKind.AFTER:
            return f"after {p['scenario']}" + ("" if p["outcome"] == "any"
                                               else f" ({p['outcome']})")
        return f"when {p['function']} says so (asked every {_seconds(p['every'])})"


@dataclass(frozen=True)
class Reporter:
    """One reporter: ``on`` — when it is sent (start, end, success, failure)."""

    kind: ReporterKind
    line: int
    params: Mapping[str, Any]
    on: tuple[str, ...]


@dataclass(frozen=True)
class Scenario:
    name: str
    file: str
    line: int
    description: str
    steps: tuple[Step, ...]
    triggers: tuple[Trigger, ...]
    reporters: tuple[Reporter, ...]
    catch_up: CatchUp = CatchUp.NONE
    # The zone a run's time is read in for a relative `partition:` (and its cron triggers'
    # default): `timezone:`, else the one its cron triggers name, else UTC.
    timezone: str = "UTC"


def _seconds(s: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= size and s % size == 0:
            return f"{int(s // size)}{unit}"
    return f"{s:g}s"


class _Reader:
    """Reads one scenario file, collecting its diagnostics."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.diags: list[Diagnostic] = []
        self.timezone: str | None = None  # the scenario's `timezone:`, once read

    def error(self, message: str, code: str, where: Span, hint: str | None = None,
              subject: str | None = None, suggestion: str | None = None) -> None:
        self.diags.append(Diagnostic(self.file, message=message, code=code, hint=hint,
                                     subject=subject, suggestion=suggestion, **where))

    def unknown_kind(self, key: str, kinds: tuple[str, ...], what: str, code: str,
                     where: Span) -> None:
        best = closest(key, kinds)
        self.error(f"unknown {what} '{key}'", code, where, subject=f"key:{key}",
                   suggestion=best, hint=hint_for(best) or f"{what}s: {', '.join(kinds)}")

    def duration(self, item: LineDict, key: str, default: float | None,
                 minimum: float = 0.001) -> float | None:
        if key not in item:
            return default
        seconds = parse_duration(item[key])
        if seconds is None or seconds < minimum:
            self.error(f"`{key}` must be a duration like 30s, 15m, 1h (got {item[key]!r})",
                       "invalid-duration", item.value_span(key),
                       hint=f"at least {_seconds(minimum)}" if seconds is not None else
                       "a number of seconds, or a number with ms, s, min (or m), h or d")
            return None
        return seconds

    def names(self, value: Any, item: LineDict, key: str) -> list[str] | None:
        """A list of dataset names (or selectors), or one name."""
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        self.error(f"`{key}` takes dataset names: a list like [orders_clean]", "invalid-step",
                   item.value_span(key))
        return None

    def function(self, value: Any, item: LineDict, key: str) -> str | None:
        if isinstance(value, str) and value.count(":") == 1 and all(value.split(":")):
            return value
        self.error(f"`{key}` names a function of the project as module:function "
                   f"(got {value!r})", "invalid-function", item.value_span(key),
                   hint="e.g. lib.alerts:notify (the file lib/alerts.py, its function notify)")
        return None


def parse_scenario_file(file: str, name: str, text: str) -> tuple[Scenario | None,
                                                                 list[Diagnostic]]:
    data, diags = parse_yaml(file, text)
    if data is None and diags:
        return None, diags
    if data is None:
        data = LineDict(1)
    if not isinstance(data, LineDict):
        return None, [Diagnostic(file, 1, "a scenario file is a mapping of `steps:`, "
                                 "`triggers:`, `reporters:`", code="invalid-scenario",
                                 hint="e.g.\n  steps:\n    - build: [monthly_report]")]
    r = _Reader(file)
    r.diags += check_keys(file, data, SCENARIO_KEYS, "a scenario")
    if "timezone" in data:
        if _timezone_ok(data["timezone"]):
            r.timezone = data["timezone"]
        else:
            _bad_timezone(r, data, "invalid-scenario")
    steps = _steps(r, data)
    triggers = _list(r, data, "triggers", _trigger)
    timezone = _run_timezone(r, steps, triggers)
    reporters = _list(r, data, "reporters", _reporter)
    catch_up = CatchUp.NONE
    if "catch_up" in data:
        if data["catch_up"] in ("none", "once"):
            catch_up = CatchUp(data["catch_up"])
        else:
            r.error(f"`catch_up` is none or once (got {data['catch_up']!r})", "invalid-scenario",
                    data.value_span("catch_up"),
                    hint="once: a schedule missed while the daemon was down runs one time")
    description = data.get("description") if isinstance(data.get("description"), str) else ""
    if r.diags:
        return None, r.diags
    return Scenario(name, file, data.line, description or "", tuple(steps), tuple(triggers),
                    tuple(reporters), catch_up, timezone), []


def _bad_timezone(r: _Reader, item: LineDict, code: str = "invalid-trigger") -> None:
    r.error(f"unknown timezone {item['timezone']!r}", code, item.value_span("timezone"),
            hint="an IANA name like Europe/Paris, America/New_York or UTC")


def _run_timezone(r: _Reader, steps: list[Step], triggers: list[Trigger]) -> str:
    """The zone a run's time is read in: the scenario's `timezone:`, else its cron
    triggers' one. Two cron zones and a relative `partition:` is a mistake: which day is
    yesterday would depend on which trigger started the run."""
    if r.timezone is not None:
        return r.timezone
    zones = sorted({t.params["timezone"] for t in triggers if t.kind is TriggerKind.CRON})
    relative = [s for s in steps if s.params.get("partition") is not None
                and s.params["partition"].relative]
    if len(zones) > 1 and relative:
        r.error(f"step '{relative[0].name}' builds a partition relative to the run's time, "
                f"and the cron triggers are in {' and '.join(zones)}: which one is meant?",
                "ambiguous-timezone", whole_line(relative[0].line),
                hint="say it at the top of the file: `timezone: Europe/Paris` (each cron "
                "trigger keeps its own `timezone:`)")
    return zones[0] if len(zones) == 1 else "UTC"


def _list(r: _Reader, data: LineDict, key: str, parse: Any) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        r.error(f"`{key}` must be a list", "invalid-scenario", data.key_span(key),
                hint=f"e.g.\n  {key}:\n    - {EXAMPLES[next(iter(_KINDS[key]))]}")
        return []
    out = []
    for item in value:
        got = parse(r, item, data.key_span(key))
        if got is not None:
            out.append(got)
    return out


def _one_kind(r: _Reader, item: Any, where: Span, kinds: tuple[str, ...], extra: tuple[str, ...],
              what: str, code: str) -> str | None:
    """The one kind key of a list item (``build:``, ``cron:``…)."""
    if not isinstance(item, LineDict):
        best = closest(str(item), kinds) if isinstance(item, str) else None
        r.error(f"a {what} must be a mapping like `{kinds[0]}: …`, not {item!r}", code, where,
                suggestion=best, hint=hint_for(best) or f"{what}s: {', '.join(kinds)}")
        return None
    found = [k for k in item if k in kinds]
    for key in item:
        if key not in kinds and key not in extra:
            r.unknown_kind(key, kinds, what, code, item.key_span(key))
            return None
    if len(found) != 1:
        r.error(f"a {what} has exactly one of: {', '.join(kinds)}"
                + (f" (this one has {', '.join(found)})" if found else ""), code,
                whole_line(item.line))
        return None
    return found[0]


def _steps(r: _Reader, data: LineDict) -> list[Step]:
    if "steps" not in data or not data["steps"]:
        r.error("a scenario needs `steps:`: what it does, in order", "invalid-scenario",
                data.key_span("steps") if "steps" in data else whole_line(data.line or 1),
                hint="e.g.\n  steps:\n    - build: [monthly_report]")
        return []
    steps = _list(r, data, "steps", _step)
    seen: dict[str, int] = {}
    for s in steps:
        if s.name in seen:
            r.error(f"two steps are named '{s.name}' (the other at line {seen[s.name]})",
                    "duplicate-step", whole_line(s.line), hint="give one its own `name:`")
        seen[s.name] = s.line
    return steps


def _step(r: _Reader, item: Any, where: Span) -> Step | None:
    kind_key = _one_kind(r, item, where, STEP_KINDS, STEP_OPTIONS, "step kind",
                         code="unknown-step")
    if kind_key is None:
        return None
    kind = StepKind(kind_key)
    value = item[kind_key]
    params: dict[str, Any] | None = None
    if kind is StepKind.BUILD:
        if isinstance(value, LineDict):
            bad = check_keys(r.file, value, BUILD_KEYS, "a build step")
            r.diags += bad
            mode = value.get("mode", "required")
            if mode not in MODES:
                best = closest(str(mode), MODES)
                r.error(f"unknown build mode {mode!r}", "invalid-step", value.value_span("mode"),
                        suggestion=best, hint=hint_for(best) or f"modes: {', '.join(MODES)}")
                return None
            targets = r.names(value.get("targets", []), value, "targets")
            if bad or targets is None:
                return None
            if not targets and not value.get("all") and not value.get("stale"):
                r.error("a build step needs targets (or all: true, stale: true)", "invalid-step",
                        item.key_span(kind_key))
                return None
            params = {"targets": targets, "mode": mode, "all": bool(value.get("all")),
                      "stale": bool(value.get("stale"))}
        else:
            targets = r.names(value, item, kind_key)
            params = None if targets is None else {"targets": targets, "mode": "required",
                                                   "all": False, "stale": False}
        if params is not None:
            where_spec = value if isinstance(value, LineDict) and "partition" in value else item
            params["partition"] = _partition(r, where_spec, item) if "partition" in where_spec \
                else None
            if params["partition"] is None and "partition" in where_spec:
                return None
    elif "partition" in item:
        r.error(f"`partition` is a build step's: a {kind_key} step has none", "invalid-step",
                item.key_span("partition"), subject="key:partition",
                hint="move it to the build step it is for")
        return None
    elif kind in (StepKind.CHECK, StepKind.CLEAR):
        targets = r.names([] if value is None and kind is StepKind.CHECK else value, item,
                          kind_key)
        params = None if targets is None else {"targets": targets}
    elif kind is StepKind.PYTHON:
        function = r.function(value, item, kind_key)
        params = None if function is None else {"function": function}
    elif kind is StepKind.SET_VARIABLES:
        if isinstance(value, LineDict) and value:
            params = {"variables": dict(value)}
        else:
            r.error("`set_variables` takes a mapping of variables to values", "invalid-step",
                    item.value_span(kind_key), hint="e.g. set_variables: {min_order_value: 20}")
    else:
        if isinstance(value, str) and value:
            params = {"scenario": value}
        else:
            r.error("`run_scenario` takes a scenario's name", "invalid-step",
                    item.value_span(kind_key), hint="e.g. run_scenario: hourly")
    run_if = RunIf.SUCCESS
    if "if" in item:
        if item["if"] in ("success", "failure", "always"):
            run_if = RunIf(item["if"])
        else:
            r.error(f"`if` is success, failure or always (got {item['if']!r})", "invalid-step",
                    item.value_span("if"), hint="success (the default): when all before it "
                    "succeeded; failure: when one failed; always")
            return None
    retries = item.get("retries", 0)
    if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= 100:
        r.error(f"`retries` is a number of times, 0 to 100 (got {retries!r})", "invalid-step",
                item.value_span("retries"))
        return None
    timeout = r.duration(item, "timeout", None, minimum=1.0)
    if params is None or ("timeout" in item and timeout is None):
        return None
    name = item.get("name") if isinstance(item.get("name"), str) else None
    return Step(kind, name or _default_name(kind, params), item.line, params, run_if, retries,
                timeout)


def _partition(r: _Reader, spec_at: LineDict, item: LineDict) -> PartitionSpec | None:
    """A build step's `partition:` (beside `build:`, or in its mapping), read alone; whether
    it fits the step's targets is `scenario_references`' to say."""
    if "partition" in spec_at and "partition" in item and spec_at is not item:
        r.error("`partition` is given twice: beside `build:` and in it", "invalid-step",
                item.key_span("partition"), subject="key:partition", hint="keep one")
        return None
    spec, problem = parse_spec(spec_at["partition"])
    if problem is not None:
        r.error(problem.message, "invalid-partition", spec_at.value_span("partition"),
                hint=hint_for(problem.suggestion) or problem.hint, subject="key:partition",
                suggestion=problem.suggestion)
    return spec


def _default_name(kind: StepKind, params: Mapping[str, Any]) -> str:
    if kind in (StepKind.BUILD, StepKind.CHECK, StepKind.CLEAR):
        return f"{kind.value} {' '.join(params['targets'])}".strip()
    if kind is StepKind.PYTHON:
        return f"python {params['function']}"
    if kind is StepKind.RUN_SCENARIO:
        return f"run_scenario {params['scenario']}"
    return "set_variables " + ", ".join(params["variables"])


def _trigger(r: _Reader, item: Any, where: Span) -> Trigger | None:
    kind_key = _one_kind(r, item, where, TRIGGER_KINDS, ("timezone", "every", "timeout",
                                                         "outcome", "branch", "remote",
                                                         "debounce"),
                         "trigger", code="unknown-trigger")
    if kind_key is None:
        return None
    kind = TriggerKind(kind_key)
    value = item[kind_key]
    if kind is TriggerKind.CRON:
        tz = item.get("timezone", r.timezone or "UTC")
        if not _timezone_ok(tz):
            _bad_timezone(r, item)
            return None
        problem = _cron_problem(value, tz)
        if problem is not None:
            r.error(f"bad cron expression {value!r}: {problem}", "invalid-cron",
                    item.value_span(kind_key), hint='five fields: minute hour day-of-month '
                    'month day-of-week, e.g. "0 3 * * *" (every day at 03:00)')
            return None
        return Trigger(kind, item.line, {"expression": value, "timezone": tz})
    if kind is TriggerKind.INTERVAL:
        seconds = r.duration(item, kind_key, None, minimum=1.0)
        return None if seconds is None else Trigger(kind, item.line, {"seconds": seconds})
    every = r.duration(item, "every", DEFAULT_POLL, minimum=1.0)
    debounce = r.duration(item, "debounce", DEFAULT_DEBOUNCE, minimum=0.0)
    if every is None or debounce is None:
        return None
    trigger = _event_trigger(r, item, kind, kind_key, value, every)
    return None if trigger is None else Trigger(kind, trigger.line, {**trigger.params,
                                                                     "debounce": debounce})


def _event_trigger(r: _Reader, item: LineDict, kind: TriggerKind, kind_key: str, value: Any,
                   every: float) -> Trigger | None:
    if kind is TriggerKind.DATASET_CHANGED:
        if not isinstance(value, str) or not value:
            r.error("`dataset_changed` takes a dataset's name", "invalid-trigger",
                    item.value_span(kind_key), hint="e.g. dataset_changed: raw_orders")
            return None
        return Trigger(kind, item.line, {"dataset": value, "every": every})
    if kind is TriggerKind.COMMIT:
        spec = value if isinstance(value, LineDict) else LineDict(item.line)
        if isinstance(value, LineDict):
            r.diags += check_keys(r.file, value, ("branch", "remote"), "a commit trigger")
        branch = value if isinstance(value, str) else spec.get("branch", item.get("branch"))
        if not isinstance(branch, str) or not branch:
            r.error("`commit` takes a branch: commit: main", "invalid-trigger",
                    item.value_span(kind_key), hint="or {branch: main, remote: true} to watch "
                    "the remote's branch (fetched every `every`)")
            return None
        remote = bool(spec.get("remote", item.get("remote", False)))
        return Trigger(kind, item.line, {"branch": branch, "remote": remote, "every": every})
    if kind is TriggerKind.AFTER:
        spec = value if isinstance(value, LineDict) else LineDict(item.line)
        scenario = value if isinstance(value, str) else spec.get("scenario")
        outcome = spec.get("outcome", item.get("outcome", "any"))
        if not isinstance(scenario, str) or not scenario:
            r.error("`after` takes a scenario's name", "invalid-trigger",
                    item.value_span(kind_key), hint="e.g. after: nightly")
            return None
        if outcome not in OUTCOMES:
            r.error(f"`outcome` is success, failure or any (got {outcome!r})", "invalid-trigger",
                    item.value_span("outcome") if "outcome" in item else item.key_span(kind_key))
            return None
        return Trigger(kind, item.line, {"scenario": scenario, "outcome": outcome})
    function = r.function(value, item, kind_key)
    timeout = r.duration(item, "timeout", 30.0, minimum=0.1)
    if function is None or timeout is None:
        return None
    return Trigger(kind, item.line, {"function": function, "every": every, "timeout": timeout})


def _timezone_ok(tz: Any) -> bool:
    from zoneinfo import ZoneInfo

    if not isinstance(tz, str) or not tz:
        return False
    try:
        ZoneInfo(tz)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return True


def _cron_problem(expression: Any, tz: str) -> str | None:
    """What is wrong with a five-field cron expression, as APScheduler reads it; None if
    nothing."""
    if not isinstance(expression, str) or len(expression.split()) != 5:
        return "it needs five fields"
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expression, timezone=tz)
    except ValueError as exc:
        return str(exc)
    return None


def _yaml_on(m: Any) -> None:
    """YAML 1.1 reads a bare `on:` key as the boolean true: it means `on` here."""
    if isinstance(m, LineDict):
        for key in ("True", "true"):
            if key in m and "on" not in m:
                m["on"] = m.pop(key)
                if key in m.key_lines:
                    m.key_lines["on"] = m.key_lines.pop(key)
                if key in m.key_where:
                    m.key_where["on"] = m.key_where.pop(key)
                if key in m.value_where:
                    m.value_where["on"] = m.value_where.pop(key)


def _reporter(r: _Reader, item: Any, where: Span) -> Reporter | None:
    _yaml_on(item)
    kind_key = _one_kind(r, item, where, REPORTER_KINDS, ("on",), "reporter", code="unknown-reporter")
    if kind_key is None:
        return None
    kind = ReporterKind(kind_key)
    value = item[kind_key]
    _yaml_on(value)
    on_value = item.get("on", value.get("on") if isinstance(value, LineDict) else None)
    default_on = ("end",)
    on = tuple(on_value) if isinstance(on_value, list) else (
        (on_value,) if isinstance(on_value, str) else default_on)
    if any(w not in WHEN for w in on):
        r.error(f"`on` is start, end, success or failure (got {on_value!r})", "invalid-reporter",
                item.key_span("on") if "on" in item else item.key_span(kind_key),
                hint="end: after every run; failure: only when it failed")
        return None
    if kind is ReporterKind.REPORT:
        formats = value if isinstance(value, list) else (
            [value] if isinstance(value, str) else list(REPORT_FORMATS) if value is None else None)
        if formats is None or any(f not in REPORT_FORMATS for f in formats):
            r.error(f"`report` takes formats among {', '.join(REPORT_FORMATS)} (got {value!r})",
                    "invalid-reporter", item.value_span(kind_key))
            return None
        return Reporter(kind, item.line, {"formats": formats}, on)
    if not isinstance(value, LineDict):
        r.error(f"`{kind_key}` takes a mapping: {EXAMPLES[kind]}", "invalid-reporter",
                item.value_span(kind_key))
        return None
    if kind is ReporterKind.WEBHOOK:
        r.diags += check_keys(r.file, value, ("url", "on", "headers"), "a webhook reporter")
        url = value.get("url")
        if not isinstance(url, str) or not (url.startswith(("http://", "https://", "${"))):
            r.error("a webhook needs `url:` (http or https, or a ${env:…} reference)",
                    "invalid-reporter", value.value_span("url") if "url" in value
                    else item.key_span(kind_key))
            return None
        return Reporter(kind, item.line, {"url": url, "headers": dict(value.get("headers") or {})},
                        on)
    r.diags += check_keys(r.file, value, ("to", "smtp", "on", "from", "subject"),
                          "an email reporter")
    to = value.get("to")
    to_list = [to] if isinstance(to, str) else to
    smtp = value.get("smtp")
    if not isinstance(to_list, list) or not to_list or not all(isinstance(t, str) and "@" in t
                                                                for t in to_list):
        r.error("an email reporter needs `to:` addresses", "invalid-reporter",
                value.value_span("to") if "to" in value else item.key_span(kind_key),
                hint="e.g. to: [data-team@example.com]")
        return None
    if not isinstance(smtp, LineDict) or not isinstance(smtp.get("host"), str):
        r.error("an email reporter needs `smtp: {host: …}`", "invalid-reporter",
                value.key_span("smtp") if "smtp" in value else item.key_span(kind_key),
                hint="smtp: {host: smtp.example.com, port: 587, starttls: true, user: weir, "
                "password: \"${env:SMTP_PASSWORD}\"}")
        return None
    r.diags += check_keys(r.file, smtp, ("host", "port", "starttls", "user", "password"),
                          "smtp settings")
    port = smtp.get("port", 25)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        r.error(f"`port` is a port number (got {port!r})", "invalid-reporter",
                smtp.value_span("port"))
        return None
    return Reporter(kind, item.line, {
        "to": to_list, "from": value.get("from") or "weir@localhost",
        "subject": value.get("subject"),
        "smtp": {"host": smtp["host"], "port": port, "starttls": bool(smtp.get("starttls")),
                 "user": smtp.get("user"), "password": smtp.get("password")}}, on)


_KINDS: dict[str, tuple[Any, ...]] = {"steps": tuple(StepKind), "triggers": tuple(TriggerKind),
                                      "reporters": tuple(ReporterKind)}


def scenario_references(scenarios: Mapping[str, Scenario],
                        datasets: Mapping[str, Any]) -> list[Diagnostic]:
    """What a scenario names that the project does not have — a dataset in a step or a
    `dataset_changed` trigger, another scenario in `run_scenario` or `after` — and a cycle of
    `run_scenario`, which would never end: each at its line."""
    diags: list[Diagnostic] = []
    for sc in scenarios.values():
        for step in sc.steps:
            spec = step.params.get("partition")
            for target in step.params.get("targets", ()):
                name = target.strip("+")
                if ":" in name:
                    continue  # tag:…, zone:… selectors are the build's to resolve
                if name not in datasets:
                    diags.append(_unknown(sc.file, step.line, "dataset", name, datasets,
                                          code="unknown-dataset"))
                elif spec is not None and (problem := fit_problem(
                        spec, getattr(datasets[name], "partitioning", None))) is not None:
                    diags.append(Diagnostic(
                        sc.file, message=f"`partition: {spec.text}` does not fit '{name}': "
                        f"{problem}", code="partition-does-not-fit", subject=f"dataset:{name}",
                        hint="build it in a step of its own without `partition:`, or name "
                        "partitions it has", **whole_line(step.line)))
            other = step.params.get("scenario")
            if other is not None and other not in scenarios:
                diags.append(_unknown(sc.file, step.line, "scenario", other, scenarios,
                                      code="unknown-scenario"))
        for trigger in sc.triggers:
            name = str(trigger.params.get("dataset") or trigger.params.get("scenario") or "")
            if trigger.kind is TriggerKind.DATASET_CHANGED and name not in datasets:
                diags.append(_unknown(sc.file, trigger.line, "dataset", name, datasets,
                                      code="unknown-dataset"))
            if trigger.kind is TriggerKind.AFTER and name not in scenarios:
                diags.append(_unknown(sc.file, trigger.line, "scenario", name, scenarios,
                                      code="unknown-scenario"))
    diags += _cycles(scenarios)
    return diags


def _unknown(file: str, line: int, what: str, name: str, known: Mapping[str, Any],
             code: str) -> Diagnostic:
    best = closest(name, known)
    return Diagnostic(file, message=f"unknown {what} '{name}'",
                      code=code, subject=f"{what}:{name}", suggestion=best,
                      hint=hint_for(best) or (f"the project's {what}s: "
                                              f"{', '.join(sorted(known)) or 'none yet'}"),
                      **whole_line(line))


def _cycles(scenarios: Mapping[str, Scenario]) -> list[Diagnostic]:
    """``run_scenario`` steps that lead back to where they started."""
    calls = {n: [s.params["scenario"] for s in sc.steps if s.kind is StepKind.RUN_SCENARIO
                 and s.params["scenario"] in scenarios] for n, sc in scenarios.items()}
    diags, reported = [], set()
    for start in sorted(calls):
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in calls[node]:
                if nxt == start:
                    cycle = frozenset(path)
                    if cycle not in reported:
                        reported.add(cycle)
                        sc = scenarios[start]
                        line = next(s.line for s in sc.steps if s.kind is StepKind.RUN_SCENARIO
                                    and s.params["scenario"] == path[1 % len(path)]
                                    ) if len(path) > 1 else next(
                            s.line for s in sc.steps if s.kind is StepKind.RUN_SCENARIO
                            and s.params["scenario"] == start)
                        diags.append(Diagnostic(
                            sc.file, message="scenarios run each other in a cycle: "
                            + " → ".join([*path, start]), code="scenario-cycle",
                            subject=f"scenario:{start}",
                            hint="a run_scenario step waits for the other scenario: a cycle "
                            "would never end", **whole_line(line)))
                elif nxt not in path:
                    stack.append((nxt, [*path, nxt]))
    return diags
