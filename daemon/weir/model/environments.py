"""weir.yaml's `environments:`: each names its git branch and what it changes of the project.

An environment (`dev`, `prod`…) is the same Flow run against other storage: the keys of
connections it overrides (merged over connections.yaml and the machine's file, key by key: its
own keys win) and the variables it sets. Choosing one (`weir --env prod`, `WEIR_ENV`) changes
the connections and variables the project is read with, and gives it its own state — what is
built where, with which fingerprint — so that a build in one environment never makes another
look up to date.

Pure: parsed from weir.yaml's mapping, checked against the project's own variables and
connections by the loader.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from weir.model.diagnostics import Diagnostic, whole_line
from weir.model.executor_settings import Executor, parse_executor
from weir.model.spark_settings import SparkSettings, parse_spark
from weir.model.suggest import closest, hint_for
from weir.model.yamlfile import LineDict, check_keys

ENV_KEYS = ("branch", "description", "connections", "variables", "executor", "spark")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
# What git accepts as a branch name, roughly: no spaces, no `..`, no leading `-` or `/`.
BRANCH_RE = re.compile(r"^(?!-)(?!/)(?!.*\.\.)(?!.*//)[^\s~^:?*\[\\]+(?<!/)(?<!\.lock)$")


@dataclass(frozen=True)
class Environment:
    """One environment as weir.yaml declares it. ``connections``: for each connection it
    overrides, its line in weir.yaml and the keys it sets (a LineDict: each key's place, for a
    mistake's diagnostic); ``variables``: the values it gives the project's variables."""

    name: str
    line: int
    branch: str | None = None
    description: str = ""
    connections: Mapping[str, tuple[int, LineDict]] | None = None
    variables: Mapping[str, Any] | None = None
    executor: Executor | None = None  # where its builds' recipes run (None: as weir.yaml says)
    spark: SparkSettings | None = None  # merged over the project's `spark:`

    def describe(self) -> str:
        """The environment in a few words, for a command's header."""
        return self.name + (f" (branch {self.branch})" if self.branch else "")


def parse_environments(file: str, section: Any, section_line: int,
                       variables: Mapping[str, Any]) -> tuple[dict[str, Environment],
                                                              list[Diagnostic]]:
    """``environments:`` of weir.yaml (``section``), each checked: its keys, its branch, its
    connection overrides (mappings), and that it sets only variables the project declares."""
    diags: list[Diagnostic] = []
    if section is None:
        return {}, diags
    if not isinstance(section, LineDict):
        return {}, [Diagnostic(file, section_line, "`environments` must be a mapping of "
                               "environment names to their settings", code="not-a-mapping",
                               subject="key:environments",
                               hint="e.g. `environments: {dev: {branch: dev}, prod: {branch: main}}`")]
    out: dict[str, Environment] = {}
    for name, spec in section.items():
        subject = f"environment:{name}"
        if not ENV_NAME_RE.match(str(name)):
            diags.append(Diagnostic(file, message=f"environment name '{name}' is not a name",
                                    code="invalid-name", subject=subject,
                                    hint="use letters, digits, _ and -", **section.key_span(name)))
            continue
        if spec is None:
            spec = LineDict(section.line_of(name))
        if not isinstance(spec, LineDict):
            diags.append(Diagnostic(file, message=f"environment '{name}' must be a mapping of its "
                                    "settings (branch, connections, variables)",
                                    code="not-a-mapping", subject=subject,
                                    **section.key_span(name)))
            out[name] = Environment(name, section.line_of(name))  # declared: its error says all
            continue
        diags += check_keys(file, spec, ENV_KEYS, f"environment '{name}'")
        branch = spec.get("branch")
        if branch is not None and not (isinstance(branch, str) and BRANCH_RE.match(branch)):
            diags.append(Diagnostic(file, message=f"environment '{name}': `branch` must be a git "
                                    "branch name", code="invalid-value", subject=subject,
                                    hint="e.g. `branch: main`", **spec.value_span("branch")))
            branch = None
        description = spec.get("description") or ""
        connections, d = _overrides(file, name, spec)
        diags += d
        values, d = _variables(file, name, spec, variables)
        diags += d
        executor, d = parse_executor(file, spec)
        diags += d
        spark, d = parse_spark(file, spec, f"environment '{name}'")
        diags += d
        out[name] = Environment(name, section.line_of(name), branch, str(description),
                                connections, values, executor, spark)
    return out, diags


def _overrides(file: str, env: str, spec: LineDict
               ) -> tuple[dict[str, tuple[int, LineDict]], list[Diagnostic]]:
    section = spec.get("connections")
    if section is None:
        return {}, []
    subject = f"environment:{env}"
    if not isinstance(section, LineDict):
        return {}, [Diagnostic(file, message=f"environment '{env}': `connections` must map "
                               "connection names to the keys it changes", code="not-a-mapping",
                               subject=subject, hint="e.g. `connections: {local: {root: /srv/prod}}`",
                               **spec.key_span("connections"))]
    out: dict[str, tuple[int, LineDict]] = {}
    diags: list[Diagnostic] = []
    for name, keys in section.items():
        if not isinstance(keys, LineDict):
            diags.append(Diagnostic(file, message=f"environment '{env}': connection '{name}' "
                                    "must be a mapping of the keys it changes", code="not-a-mapping",
                                    subject=subject, **section.key_span(name)))
            continue
        out[str(name)] = (section.line_of(name), keys)
    return out, diags


def _variables(file: str, env: str, spec: LineDict, declared: Mapping[str, Any]
               ) -> tuple[dict[str, Any], list[Diagnostic]]:
    section = spec.get("variables")
    if section is None:
        return {}, []
    if not isinstance(section, LineDict):
        return {}, [Diagnostic(file, message=f"environment '{env}': `variables` must map the "
                               "project's variable names to values", code="not-a-mapping",
                               subject=f"environment:{env}", **spec.key_span("variables"))]
    out: dict[str, Any] = {}
    diags: list[Diagnostic] = []
    for key, value in section.items():
        if key not in declared:
            best = closest(str(key), declared)
            diags.append(Diagnostic(
                file, message=f"environment '{env}' sets variable '{key}', which weir.yaml's "
                "`variables:` does not declare", code="unknown-variable",
                subject=f"variable:{key}", suggestion=best,
                hint=hint_for(best) or "declare it (with its default) under `variables:` first",
                **section.key_span(key)))
            continue
        out[str(key)] = value
    return out, diags


def unknown_environment(file: str, name: str, known: Mapping[str, Environment],
                        line: int) -> Diagnostic:
    """The one answer to ``--env NAME`` (or ``WEIR_ENV``) naming no declared environment."""
    best = closest(name, known)
    listed = ", ".join(sorted(known))
    return Diagnostic(file, message=f"unknown environment '{name}'", code="unknown-environment",
                      subject=f"environment:{name}", suggestion=best,
                      hint=hint_for(best) or (f"weir.yaml's environments are: {listed}" if known
                                              else "weir.yaml declares no `environments:`"),
                      **whole_line(line))
