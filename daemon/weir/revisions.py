"""The project at a git revision, and what changed in its Flow between two.

A revision is read from git's objects (`weir.gitops.tree`), never by checking it out, so
comparing commits leaves the user's work tree alone; it is read in the active environment, as
the work tree is, so a variable an environment overrides is not a change between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from weir import wire
from weir.assemble import read_flow
from weir.errors import WeirError
from weir.flow.diff import diff_flows
from weir.flow.graph import Flow
from weir.model.diagnostics import Diagnostic, blocks_builds
from weir.model.parse_cache import ParseCache


@dataclass(frozen=True)
class Revision:
    label: str  # as the user named it ("main", "HEAD~1"), or "work tree"
    commit: str | None  # None: the work tree
    flow: Flow
    errors: tuple[Diagnostic, ...] = ()  # the project's errors at that revision

    @property
    def title(self) -> str:
        """How a message names it: ``main (3f2a1c9d0e)``."""
        if self.commit is None or self.label.startswith(self.commit[:7]):
            return self.label if self.commit is None else self.commit[:10]
        return f"{self.label} ({self.commit[:10]})"


def at_commit(repo: Any, root: Path, ref: str, environment: str | None,
              machine_connections: tuple[str, str] | None,
              cache: ParseCache | None = None,
              files: dict[str, dict[str, bytes]] | None = None) -> Revision:
    """The project as commit ``ref`` holds it; WeirError when it has none (no usable weir.yaml).
    ``cache``: the parse cache (by content, so a commit's files parse once whichever
    checkout or commit they come from); ``files``: commits' files already read, by sha (one
    commit read in two environments is read from git once)."""
    from weir.gitops.tree import files_at, resolve

    sha = resolve(repo, ref)
    known = files if files is not None else {}
    if sha not in known:
        known[sha] = files_at(repo, root, sha)
    read = read_flow(root, files=known[sha], environment=environment,
                     machine_connections=machine_connections, cache=cache)
    errors = tuple(d for d in read.diagnostics if blocks_builds(d))
    if read.project is None or read.flow is None:
        first = errors[0] if errors else None
        raise WeirError(f"{ref} ({sha[:10]}) holds no usable project"
                        + (f": {first.file}:{first.line}: {first.message}" if first else ""),
                        hint="name a commit that has the project's weir.yaml")
    return Revision(ref, sha, read.flow, errors)


def in_work_tree(ws: Any) -> Revision:
    """The project as the checkout has it (the workspace already read it)."""
    return Revision("work tree", None, ws.flow)


def diff(base: Revision, head: Revision, environment: str | None) -> wire.FlowDiff:
    datasets, recipes = diff_flows(base.flow, head.flow)
    return wire.FlowDiff(base.label, base.commit, head.label, head.commit, datasets, recipes,
                         environment)


def changed_since(ws: Any, ref: str) -> wire.FlowDiff:
    """What the work tree changed since ``ref``: `weir build --changed-since REF`'s targets."""
    from weir.gitops.tree import open_repo
    from weir.workspace import machine_connections_file, parse_cache

    cache = parse_cache(ws.root)
    with open_repo(ws.root, "--changed-since") as repo:
        base = at_commit(repo, ws.root, ref, ws.environment, machine_connections_file(), cache)
    cache.save()
    return diff(base, in_work_tree(ws), ws.environment)
