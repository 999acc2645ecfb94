"""How a Flow's changes between two revisions are printed: by `weir diff` and by
`weir promote --dry-run` (commands never import each other)."""

from __future__ import annotations

from weir import wire
from weir.cli import output

MARKS = {wire.ChangeKind.ADDED: ("+", "green"), wire.ChangeKind.REMOVED: ("-", "red"),
         wire.ChangeKind.MODIFIED: ("~", "yellow"), wire.ChangeKind.STALE: ("·", "dim")}


def print_diff(changes: wire.FlowDiff, base: str, head: str) -> None:
    if not changes.datasets and not changes.recipes:
        output.out(f"No change in the Flow from {base} to {head}.")
        return
    counts = {k: sum(1 for c in changes.datasets if c.change is k) for k in wire.ChangeKind}
    said = [f"{n} {k.value}" for k, n in counts.items() if n]
    output.out(f"From {base} to {head}: "
               f"{output.count(len(changes.datasets), 'dataset')} ({', '.join(said)})")
    width = max((len(c.name) for c in (*changes.datasets, *changes.recipes)), default=0)
    for c in changes.datasets:
        output.out(_line(c, width))
    if changes.recipes:
        output.out(output.style("recipes:", "bold"))
        for c in changes.recipes:
            output.out(_line(c, width))


def _line(c: wire.DiffEntry, width: int) -> str:
    mark, colour = MARKS[c.change]
    what = f"  {output.style(', '.join(c.what), 'dim')}" if c.what else ""
    return f"  {output.style(mark, colour)} {c.name:<{width}}  {c.change.value:<8}{what}"
