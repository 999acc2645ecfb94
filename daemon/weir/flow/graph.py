"""The Flow: datasets linked by the recipes that read and write them."""

from __future__ import annotations

import graphlib
from collections.abc import Iterable
from dataclasses import dataclass

from weir.model.diagnostics import Diagnostic
from weir.model.project import Project


@dataclass(frozen=True)
class Flow:
    """Adjacency of the dataset graph plus a topological order (sources first)."""

    project: Project
    upstream: dict[str, tuple[str, ...]]  # dataset -> its producer's inputs
    downstream: dict[str, tuple[str, ...]]  # dataset -> datasets built from it
    order: tuple[str, ...]

    @property
    def datasets(self) -> tuple[str, ...]:
        return self.order

    def ancestors(self, names: Iterable[str]) -> set[str]:
        return _closure(names, self.upstream)

    def descendants(self, names: Iterable[str]) -> set[str]:
        return _closure(names, self.downstream)

    def sinks(self) -> list[str]:
        return [d for d in self.order if not self.downstream[d]]


def _closure(start: Iterable[str], edges: dict[str, tuple[str, ...]]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        node = todo.pop()
        for nxt in edges.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def build_flow(project: Project) -> tuple[Flow | None, list[Diagnostic]]:
    """The Flow of a project, or None with a diagnostic naming the cycle if there is one."""
    upstream: dict[str, tuple[str, ...]] = {}
    downstream: dict[str, list[str]] = {name: [] for name in project.datasets}
    for name, ds in project.datasets.items():
        recipe = project.recipes.get(ds.recipe) if ds.recipe else None
        inputs = tuple(i for i in recipe.input_names if i in project.datasets) if recipe else ()
        upstream[name] = inputs
        for i in inputs:
            downstream[i].append(name)
    sorter = graphlib.TopologicalSorter({n: sorted(upstream[n]) for n in sorted(upstream)})
    try:
        order = tuple(sorter.static_order())
    except graphlib.CycleError as exc:
        # [a, b, ..., a]: each node is an input of the next, i.e. data flows a -> b -> ... -> a
        path: list[str] = exc.args[1]
        first = project.producer(path[1]) or project.producer(path[0])
        where = first.location if first else project.datasets[path[0]].location
        return None, [Diagnostic(where.file, where.line, "cycle in the Flow: "
                                 + " → ".join(path),
                                 hint="a dataset cannot depend on itself; remove one of these "
                                 "inputs")]
    return Flow(project, upstream, {k: tuple(sorted(v)) for k, v in downstream.items()},
                order), []
