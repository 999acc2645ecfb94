"""The Flow as plain data (for `weir flow --format json`, the daemon's API and the Flow page)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from weir import wire
from weir.flow.graph import Flow
from weir.flow.status import Status
from weir.model.project import Project


def flow_graph(flow: Flow, statuses: Mapping[str, Status] | None = None,
               building: Collection[str] | None = None,
               partitions: Mapping[str, Mapping[str, int]] | None = None) -> wire.FlowGraph:
    """``building``: the datasets a build is writing right now (the daemon knows), so a page
    opened mid-build shows them as building, not as stale. ``partitions``: a partitioned
    dataset's counts of partitions by state (`DataStatus.partition_counts`), which a drawn
    node shows beside its status."""
    project = flow.project
    nodes = []
    for name in flow.order:
        ds = project.datasets[name]
        recipe = project.recipes[ds.recipe] if ds.recipe else None
        status = statuses.get(name) if statuses is not None else None
        nodes.append(wire.FlowNode(
            name=name, kind=wire.NodeKind.SOURCE if ds.is_source else (
                wire.NodeKind.FOLDER if ds.is_folder else wire.NodeKind.DATASET),
            connection=ds.connection, path=ds.path, format=ds.format, tags=ds.tags,
            zone=ds.zone, description=ds.description,
            recipe=wire.RecipeRef(recipe.name, recipe.id, recipe.kind.value, recipe.file,
                                  recipe.line) if recipe else None,
            definition=(ds.location.file, ds.location.line), inputs=flow.upstream[name],
            status=status.state if status else None,
            reasons=status.reasons if status else (),
            building=None if building is None else name in building,
            keep=ds.keep, storage=_storage(project, ds.connection),
            partitioning=ds.partitioning.explain() if ds.partitioning is not None else None,
            partitions=dict(partitions[name]) if partitions and name in partitions else None))
    edges = tuple((i, n) for n in flow.order for i in flow.upstream[n])
    executor = project.config.executor
    return wire.FlowGraph(project.name, tuple(nodes), edges,
                          environment=project.config.environment,
                          executor=None if executor.is_local else executor.address)


def _storage(project: Project, connection: str) -> str | None:
    """The connection's type, for the Flow page's storage badge (None: not declared)."""
    conn = project.connections.get(connection)
    return conn.type if conn else None


def flow_json(flow: Flow, statuses: Mapping[str, Status] | None = None,
              building: Collection[str] | None = None) -> dict[str, Any]:
    return flow_graph(flow, statuses, building).to_json()
