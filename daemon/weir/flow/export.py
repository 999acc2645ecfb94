"""The Flow as plain data (for `weir flow --format json`, the daemon's API and the Flow page)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from weir.flow.graph import Flow
from weir.flow.status import Status


def flow_json(flow: Flow, statuses: Mapping[str, Status] | None = None,
              building: Collection[str] | None = None) -> dict[str, Any]:
    """``building``: the datasets a build is writing right now (the daemon knows), so a page
    opened mid-build shows them as building, not as stale."""
    project = flow.project
    nodes = []
    for name in flow.order:
        ds = project.datasets[name]
        recipe = project.recipes[ds.recipe] if ds.recipe else None
        node: dict[str, Any] = {
            "name": name,
            "kind": "source" if ds.is_source else ("folder" if ds.is_folder else "dataset"),
            "connection": ds.connection, "path": ds.path, "format": ds.format,
            "tags": list(ds.tags), "zone": ds.zone, "description": ds.description,
            "recipe": {"name": recipe.name, "id": recipe.id, "kind": recipe.kind.value,
                       "file": recipe.file, "line": recipe.line} if recipe else None,
            "definition": {"file": ds.location.file, "line": ds.location.line},
            "inputs": list(flow.upstream[name])}
        if statuses is not None and name in statuses:
            node["status"] = statuses[name].state.value
            node["reasons"] = list(statuses[name].reasons)
        if building is not None:
            node["building"] = name in building
        nodes.append(node)
    edges = [{"from": i, "to": n} for n in flow.order for i in flow.upstream[n]]
    return {"project": project.name, "nodes": nodes, "edges": edges}
