"""Fingerprints: what decides that a dataset is out of date (never timestamps).

A source's fingerprint is its data version. A recipe output's fingerprint hashes the recipe's
normalised code, the dataset's definition, the values of the variables the recipe reads and the
fingerprints of its inputs — so it is known before anything runs, and equal fingerprints mean
equal data. A source's checks have a fingerprint of their own (``check_components``): what
their verdict depends on, so a build runs them again only when that changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from weir.flow.graph import Flow


def _h(value: Any) -> str:
    data = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass(frozen=True)
class Components:
    """The parts a recipe output's fingerprint is made of, kept so status can say *why*."""

    code: str
    definition: str
    variables: Mapping[str, str]
    inputs: Mapping[str, str]

    def fingerprint(self, output: str) -> str:
        return _h([output, self.code, self.definition, sorted(self.variables.items()),
                   sorted(self.inputs.items())])

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "definition": self.definition,
                "variables": dict(self.variables), "inputs": dict(self.inputs)}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Components:
        return Components(data.get("code", ""), data.get("definition", ""),
                          dict(data.get("variables", {})), dict(data.get("inputs", {})))


def source_fingerprint(version: str | None) -> str:
    return f"source:{version}" if version else "source:missing"


def definition_version(definition: Mapping[str, Any]) -> str:
    """A stand-in for a source's data version when two revisions of a Flow are compared
    without probing any data (`weir diff`): a source is then the same exactly when its
    definition is."""
    return "definition:" + _h(dict(definition))


def components_for(flow: Flow, name: str, input_fps: Mapping[str, str]) -> Components:
    """The components of recipe output ``name``, given its inputs' fingerprints."""
    project = flow.project
    ds = project.datasets[name]
    recipe = project.recipes[ds.recipe]  # type: ignore[index]
    variables = {v: _h(project.config.variables.get(v)) for v in recipe.variables}
    return Components(code=f"{recipe.kind.value}:{recipe.code_hash}",
                      definition=_h(ds.definition()), variables=variables,
                      inputs={i: input_fps[i] for i in recipe.input_names})


def check_components(flow: Flow, name: str, fps: Mapping[str, str]) -> Components | None:
    """What the verdict of source ``name``'s checks depends on, given the datasets' current
    fingerprints: its data version, the checks as declared (kind, name, severity, parameters —
    not their line, so moving one changes nothing) with the definition its data is read by,
    and the data of the datasets its relationship checks look values up in. None when it
    declares no checks. (A python check's function body is not part of it, nor the clock a
    freshness check reads: `weir check` runs them on demand.)"""
    ds = flow.project.datasets[name]
    if not ds.checks:
        return None
    related = sorted({other for c in ds.checks if c.kind.value == "relationships"
                      for other, _ in c.params["links"].values()} - {name})
    declared = [[c.kind.value, c.name, c.severity.value, dict(c.params)] for c in ds.checks]
    return Components(code="checks", definition=_h([ds.definition(), declared]), variables={},
                      inputs={name: fps.get(name, ""), **{r: fps.get(r, "") for r in related}})


def expected_fingerprints(flow: Flow, source_versions: Mapping[str, str | None]
                          ) -> tuple[dict[str, str], dict[str, Components]]:
    """Every valid dataset's current fingerprint (and a recipe output's components), in Flow
    order. An invalid dataset (``Flow.invalid``) has none: its definition cannot be read."""
    fps: dict[str, str] = {}
    comps: dict[str, Components] = {}
    for name in flow.order:
        if name in flow.invalid:
            continue
        ds = flow.project.datasets[name]
        if ds.is_source:
            fps[name] = source_fingerprint(source_versions.get(name))
        else:
            c = components_for(flow, name, fps)
            comps[name] = c
            fps[name] = c.fingerprint(name)
    return fps, comps
