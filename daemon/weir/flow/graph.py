"""The Flow: datasets linked by the recipes that read and write them."""

from __future__ import annotations

import graphlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from weir.model.diagnostics import Diagnostic, span, whole_line
from weir.model.project import Project


@dataclass(frozen=True)
class Flow:
    """Adjacency of the dataset graph plus a topological order (sources first).

    ``invalid`` holds the datasets no fingerprint can be computed for — an error in their own
    definition (``Project.broken``), a cycle, or an invalid input — each with the reason, so
    that every other dataset keeps a true status while the project has errors."""

    project: Project
    upstream: dict[str, tuple[str, ...]]  # dataset -> its producer's inputs
    downstream: dict[str, tuple[str, ...]]  # dataset -> datasets built from it
    order: tuple[str, ...]
    invalid: Mapping[str, str] = field(default_factory=dict)

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


def build_flow(project: Project) -> tuple[Flow, list[Diagnostic]]:
    """The Flow of a project, always: a cycle is reported (with its path) and its edges are
    left out, so the rest of the Flow can still be drawn and its statuses known."""
    upstream: dict[str, dict[str, None]] = {}  # ordered as the recipe names its inputs
    for name, ds in project.datasets.items():
        recipe = project.recipes.get(ds.recipe) if ds.recipe else None
        upstream[name] = dict.fromkeys(i for i in recipe.input_names if i in project.datasets) \
            if recipe else {}
    diags: list[Diagnostic] = []
    in_cycle: dict[str, str] = {}
    while True:
        sorter = graphlib.TopologicalSorter({n: sorted(upstream[n]) for n in sorted(upstream)})
        try:
            order = tuple(sorter.static_order())
            break
        except graphlib.CycleError as exc:
            # [a, b, ..., a]: each node is an input of the next, i.e. data flows a -> b -> ... -> a
            path: list[str] = exc.args[1]
            first = project.producer(path[1]) or project.producer(path[0])
            where = first.location if first else project.datasets[path[0]].location
            message = "cycle in the Flow: " + " → ".join(path)
            # On the input that closes the loop, where the recipe's line names it.
            closing = next((i for i in first.inputs if i.name == path[0]
                            and i.location.line == where.line), None) if first else None
            at = span(where.line, closing.col, closing.col + len(closing.name)) \
                if closing else whole_line(where.line)
            diags.append(Diagnostic(where.file, message=message, code="cycle",
                                    subject=f"dataset:{path[1]}",
                                    hint="a dataset cannot depend on itself; remove one of "
                                    "these inputs", **at))
            for a, b in zip(path, path[1:], strict=False):
                upstream[b].pop(a, None)
                in_cycle.setdefault(b, f"{where}: {message}")
    downstream: dict[str, list[str]] = {name: [] for name in project.datasets}
    for name, inputs in upstream.items():
        for i in inputs:
            downstream[i].append(name)
    invalid: dict[str, str] = {}
    for name in order:
        cause = project.broken.get(name)
        if cause is not None:
            invalid[name] = f"{cause.location}: {cause.message}"
        elif name in in_cycle:
            invalid[name] = in_cycle[name]
        else:
            bad = next((i for i in sorted(upstream[name]) if i in invalid), None)
            if bad is not None:
                invalid[name] = f"input {bad} is invalid"
    return Flow(project, {k: tuple(v) for k, v in upstream.items()},
                {k: tuple(sorted(v)) for k, v in downstream.items()}, order, invalid), diags
