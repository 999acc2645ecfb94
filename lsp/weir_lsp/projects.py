"""The projects open in the editor: one per weir.yaml, each with its files' current text.

Open documents are overlays over the disk, so diagnostics, completion and hover follow what the
user types, not what was last saved. Parsing goes through a long-lived parse cache, so a
keystroke re-parses one file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from weir.flow.graph import Flow, build_flow
from weir.model.diagnostics import Diagnostic
from weir.model.loader import find_project_root, load_project
from weir.model.parse_cache import ParseCache
from weir.model.project import Project


@dataclass
class OpenProject:
    root: Path
    cache: ParseCache
    overlays: dict[str, str] = field(default_factory=dict)
    project: Project | None = None
    flow: Flow | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    published: set[str] = field(default_factory=set)  # files the editor has diagnostics for

    def reload(self) -> None:
        project, diags = load_project(self.root, overlays=self.overlays, cache=self.cache)
        flow = None
        if project is not None:
            flow, flow_diags = build_flow(project)
            diags += flow_diags
        self.project = project or self.project
        self.flow = flow or self.flow
        self.diagnostics = diags

    def relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root).as_posix()


class Projects:
    def __init__(self) -> None:
        self.by_root: dict[Path, OpenProject] = {}

    def for_path(self, path: Path) -> OpenProject | None:
        root = find_project_root(path.parent)
        if root is None:
            return None
        if root not in self.by_root:
            state = OpenProject(root, ParseCache(root / ".weir" / "cache" / "flow.msgpack"))
            state.reload()
            self.by_root[root] = state
        return self.by_root[root]

    def set_text(self, path: Path, text: str | None) -> OpenProject | None:
        project = self.for_path(path)
        if project is None:
            return None
        rel = project.relative(path)
        if text is None:
            project.overlays.pop(rel, None)
        else:
            project.overlays[rel] = text
        project.reload()
        return project

    def all(self) -> Mapping[Path, OpenProject]:
        return self.by_root
