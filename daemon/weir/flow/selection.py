"""Build selectors: ``x``, ``+x`` (and upstream), ``x+`` (and downstream), ``tag:t``, ``zone:z``."""

from __future__ import annotations

from collections.abc import Iterable

from weir.errors import SelectionError
from weir.flow.graph import Flow
from weir.model.suggest import did_you_mean


def select(flow: Flow, selectors: Iterable[str]) -> list[str]:
    """The datasets the selectors name, in Flow order. Unknown names raise SelectionError."""
    project = flow.project
    chosen: set[str] = set()
    for raw in selectors:
        token = raw.strip()
        if token.startswith(("tag:", "zone:")):
            kind, _, value = token.partition(":")
            if kind == "tag":
                found = {n for n, d in project.datasets.items() if value in d.tags}
                known = sorted({t for d in project.datasets.values() for t in d.tags})
            else:
                found = {n for n, d in project.datasets.items() if d.zone == value}
                known = sorted({d.zone for d in project.datasets.values() if d.zone})
            if not found:
                raise SelectionError(
                    f"no dataset has {kind} '{value}'",
                    hint=did_you_mean(value, known)
                    or (f"{kind}s in this project: {', '.join(known)}" if known
                        else f"no dataset has a {kind} yet"))
            chosen |= found
            continue
        up = token.startswith("+")
        down = token.endswith("+")
        name = token.strip("+")
        if name not in project.datasets:
            raise SelectionError(f"unknown dataset '{name}'",
                                 hint=did_you_mean(name, project.datasets)
                                 or "`weir flow` lists every dataset")
        chosen.add(name)
        if up:
            chosen |= flow.ancestors([name])
        if down:
            chosen |= flow.descendants([name])
    return [n for n in flow.order if n in chosen]
