"""A project's datasets as a worker needs them: plain values (``weir.build.jobspec``) made
from the model, shared by a build's jobs and by checks run without building (``weir check``,
``POST /api/checks``), so both read a dataset the same way."""

from __future__ import annotations

from pathlib import Path

from weir.build.jobspec import ConnectionSpec, InputSpec, SourceCheckJob
from weir.model.project import Interface, Project


def connection_spec(project: Project, name: str) -> ConnectionSpec:
    """Dataset ``name``'s connection with its raw settings: secret references are resolved by
    the worker, never sent resolved."""
    c = project.connections[project.datasets[name].connection]
    return ConnectionSpec(c.name, c.type, dict(c.params))


def input_spec(project: Project, name: str, interface: Interface) -> InputSpec:
    """Dataset ``name`` as a worker reads it (a source with its declared schema)."""
    ds = project.datasets[name]
    return InputSpec(name, connection_spec(project, name), ds.path, ds.format, interface,
                     tuple(ds.schema or ()) or None if ds.is_source else None)


def related(project: Project, name: str) -> tuple[str, ...]:
    """The other datasets a dataset's relationship checks look values up in."""
    return tuple(sorted({other for c in project.datasets[name].checks
                         if c.kind.value == "relationships"
                         for other, _ in c.params["links"].values()
                         if other in project.datasets} - {name}))


def check_job(project: Project, root: Path, data_root: Path, log_path: Path, name: str,
              hint: str) -> SourceCheckJob:
    """What a worker needs to run a dataset's checks on the data it holds now (``root``: the
    project's files, ``data_root``: where its data is: ``Workspace.data_root``)."""
    ds = project.datasets[name]
    return SourceCheckJob(
        input_spec(project, name, Interface.ARROW), tuple(ds.checks),
        tuple(ds.schema) if ds.schema else None,
        tuple(input_spec(project, n, Interface.ARROW) for n in related(project, name)),
        str(root), str(log_path), hint=hint, data_root=str(data_root))
