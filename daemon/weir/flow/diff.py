"""What changed in a Flow between two revisions of a project — a pure function.

Both Flows are fingerprinted with the same stand-in for source data (each source's definition),
so a fingerprint differs exactly where code, definitions or variables changed, or where an
input's did: the first are *modified*, the second *stale* (downstream of a change). This is the
question `weir diff`, `weir build --changed-since` and `weir promote --dry-run` ask; what data
either environment holds is theirs to add.
"""

from __future__ import annotations

from weir.flow.fingerprint import Components, definition_version, expected_fingerprints
from weir.flow.graph import Flow
from weir.wire import ChangeKind, DiffEntry


def diff_flows(base: Flow, head: Flow) -> tuple[tuple[DiffEntry, ...], tuple[DiffEntry, ...]]:
    """The datasets (in ``head``'s Flow order, removed ones last in ``base``'s) and the recipes
    that differ from ``base`` to ``head``."""
    old_fps, old_comps = _fingerprints(base)
    new_fps, new_comps = _fingerprints(head)
    old_ds, new_ds = base.project.datasets, head.project.datasets
    datasets: list[DiffEntry] = []
    for name in head.order:
        if name not in old_ds:
            datasets.append(DiffEntry(name, ChangeKind.ADDED))
            continue
        what = _own_changes(base, head, name, old_comps.get(name), new_comps.get(name))
        if what:
            datasets.append(DiffEntry(name, ChangeKind.MODIFIED, what))
        elif old_fps.get(name) != new_fps.get(name):
            changed = tuple(i for i in head.upstream[name] if old_fps.get(i) != new_fps.get(i))
            datasets.append(DiffEntry(name, ChangeKind.STALE,
                                       tuple(f"upstream {i} changed" for i in changed)))
    datasets += [DiffEntry(n, ChangeKind.REMOVED) for n in base.order if n not in new_ds]
    return tuple(datasets), _recipe_changes(base, head)


def _fingerprints(flow: Flow) -> tuple[dict[str, str], dict[str, Components]]:
    versions = {n: definition_version(d.definition())
                for n, d in flow.project.datasets.items() if d.is_source}
    return expected_fingerprints(flow, versions)


def _own_changes(base: Flow, head: Flow, name: str, old: Components | None,
                 new: Components | None) -> tuple[str, ...]:
    """Which of the dataset's own parts changed (not its inputs' data)."""
    was, now = base.project.datasets[name], head.project.datasets[name]
    if was.is_source != now.is_source:
        return ("now a source",) if now.is_source else ("now built by a recipe",)
    if name in head.invalid:
        return (f"cannot be read: {head.invalid[name]}",)
    if name in base.invalid:
        return ("could not be read before",)
    if was.is_source:
        return ("definition",) if was.definition() != now.definition() else ()
    assert old is not None and new is not None
    what: list[str] = []
    if old.code != new.code:
        what.append("code")
    if old.definition != new.definition:
        what.append("definition")
    what += [f"variable {v}" for v in sorted(old.variables.keys() | new.variables.keys())
             if old.variables.get(v) != new.variables.get(v)]
    if set(old.inputs) != set(new.inputs):
        what.append("inputs")
    return tuple(what)


def _recipe_changes(base: Flow, head: Flow) -> tuple[DiffEntry, ...]:
    old, new = base.project.recipes, head.project.recipes
    changes: list[DiffEntry] = []
    for rid, recipe in new.items():
        if rid not in old:
            changes.append(DiffEntry(rid, ChangeKind.ADDED))
            continue
        was = old[rid]
        what = [part for part, a, b in (
            ("code", was.code_hash, recipe.code_hash),
            ("inputs", tuple(was.input_names), tuple(recipe.input_names)),
            ("outputs", tuple(was.outputs), tuple(recipe.outputs)),
            ("variables", tuple(sorted(was.variables)), tuple(sorted(recipe.variables))),
        ) if a != b]
        if what:
            changes.append(DiffEntry(rid, ChangeKind.MODIFIED, tuple(what)))
    changes += [DiffEntry(rid, ChangeKind.REMOVED) for rid in old if rid not in new]
    return tuple(changes)

