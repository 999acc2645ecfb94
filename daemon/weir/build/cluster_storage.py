"""Whether a cluster's workers can reach the data a build's jobs read and write.

A Dask worker on another machine sees s3 and SQL servers as this machine does, but not this
machine's files: a filesystem connection (or a SQLite or DuckDB file) is usable on a cluster only
when the user says every worker sees it at the same path (`shared: true`, a network filesystem).
Said before anything runs, naming every dataset and connection at once, so a build never fails
half way through for it. Pure: the project and the plan only.
"""

from __future__ import annotations

from weir.build import specs
from weir.errors import WeirError
from weir.flow.plan import Action, BuildPlan
from weir.model.executor_settings import Executor
from weir.model.project import Project

LOCAL_STORAGE = ("filesystem", "sqlite", "duckdb")  # a path on the machine that builds
SHOWN = 4  # datasets named per connection; the rest are counted


class StorageUnreachable(WeirError):
    """A job of the build would run where its data is not. Nothing has run."""


def needs_workers(plan: BuildPlan) -> bool:
    """Whether the build runs anything in a worker (a restore is a copy made here)."""
    return bool(plan.checks) or any(j.action is Action.RUN for j in plan.jobs)


def used_by_workers(project: Project, plan: BuildPlan) -> set[str]:
    """The datasets the build's workers read or write: a recipe's inputs and outputs (and
    what its outputs' relationship checks read), a source check's source and what its
    relationships look values up in. (A restore is a copy
    the building process makes itself.)"""
    names: set[str] = set()
    for job in plan.jobs:
        if job.action is Action.RUN:
            recipe = project.recipes[job.recipe]
            names.update(recipe.outputs, recipe.input_names)
            for output in recipe.outputs:  # what its relationship checks look values up in
                names.update(specs.related(project, output))
    for check in plan.checks:
        names.update((check.source, *specs.related(project, check.source)))
    return names


def refuse_unreachable(project: Project, plan: BuildPlan, executor: Executor) -> None:
    """Raise ``StorageUnreachable`` when a job would run on ``executor``'s cluster with data on
    storage only this machine sees."""
    if executor.is_local:
        return
    unreachable: dict[str, list[str]] = {}
    for name in sorted(used_by_workers(project, plan)):
        ds = project.datasets[name]
        connection = project.connections.get(ds.connection)
        if connection is None or connection.type not in LOCAL_STORAGE:
            continue
        if connection.params.get("shared") is True:
            continue
        unreachable.setdefault(ds.connection, []).append(f"{name} ({ds.location})")
    if not unreachable:
        return
    lines = []
    for conn, datasets in unreachable.items():
        connection = project.connections[conn]
        where = str(connection.location) if connection.location.line else "built in"
        more = len(datasets) - SHOWN
        lines.append(f"  connection '{conn}' ({connection.type}, {where}): "
                     + ", ".join(datasets[:SHOWN]) + (f" and {more} more" if more > 0 else ""))
    count = sum(len(d) for d in unreachable.values())
    raise StorageUnreachable(
        f"{count} dataset{'s' if count != 1 else ''} of this build live on storage the "
        f"workers of {executor.describe()} cannot reach (this machine's files):\n"
        + "\n".join(lines),
        hint="if every worker sees the same path (a network filesystem), mark the connection "
        "`shared: true` in connections.yaml (or in the environment's `connections:`); else "
        "move the datasets to an s3 or SQL connection, or build here with `--executor local`")
