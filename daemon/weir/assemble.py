"""From a project's files to its Flow, in one step: the one way every front end reads a
project. The CLI's Workspace, the daemon's live project and the language server each add only
their own policy on top — raise on errors, keep the last good Flow, keep each open file's last
text that parsed — so what a project *is* cannot differ between them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from weir.flow.graph import Flow, build_flow
from weir.model.diagnostics import Diagnostic
from weir.model.loader import load_project
from weir.model.parse_cache import ParseCache
from weir.model.project import Project


@dataclass(frozen=True)
class ReadFlow:
    """A project as its files say: ``project`` and ``flow`` are None only when weir.yaml
    cannot be used; ``diagnostics`` holds every problem, the Flow's (a cycle) included."""

    project: Project | None
    flow: Flow | None
    diagnostics: tuple[Diagnostic, ...]


def read_flow(root: Path, *, files: Mapping[str, bytes] | None = None,
              overlays: Mapping[str, str] | None = None, cache: ParseCache | None = None,
              machine_connections: tuple[str, str] | None = None,
              environment: str | None = None) -> ReadFlow:
    """``files``: every project file's bytes (None: read the disk); ``overlays``: unsaved
    buffers over them; ``cache``: the parse cache (saved by the caller, when it chooses);
    ``environment``: one of weir.yaml's, whose connections and variables apply."""
    project, diags = load_project(root, overlays=overlays, cache=cache,
                                  machine_connections=machine_connections, files=files,
                                  environment=environment)
    flow = None
    if project is not None:
        flow, flow_diags = build_flow(project)
        diags += flow_diags
    return ReadFlow(project, flow, tuple(diags))
