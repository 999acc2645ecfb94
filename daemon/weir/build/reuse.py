"""Data another environment already built, copied instead of computed again.

Equal fingerprints mean equal data (weir.flow.fingerprint), and a fingerprint holds no
environment: the code, the definition (connection *names* and paths, not their settings), the
variables' values and the inputs' fingerprints. So when prod expects a dataset at a fingerprint
dev's state store records — dev's live data, or one of its kept outputs — and prod's storage
can copy dev's copy exactly by itself (`Backend.can_copy_from`: a hard link on one machine's
files, a table copy in one database, a server-side copy on one s3 endpoint), prod's build
copies it and runs no recipe: the promotion SQLMesh calls a virtual update, without a state
database of its own. Where no copy can be made, the plan runs the recipe, and `explain` says
why.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from weir import wire
from weir.build.state import StateStore
from weir.errors import WeirError

DEFAULT = "default"  # how the state kept without an environment (.weir/) is named


@dataclass(frozen=True)
class Reusable:
    """A copy of ``name`` at the fingerprint this environment expects, in ``environment``."""

    name: str
    environment: str
    place: str  # as that storage says it (`Backend.place`)
    schema: list[list[Any]]
    rows: int


def other_states(root: Path, environments: Collection[str], current: str | None
                 ) -> Iterator[tuple[str, Path]]:
    """``(environment, state store)`` of every other environment that has built something:
    the declared ones in their order, then the default."""
    for env in (*environments, None):
        if env == current:
            continue
        path = wire.state_dir(root, env) / "state.db"
        if path.is_file():
            yield env or DEFAULT, path


def find_reusable(ws: Any, expected: Mapping[str, str], wanted: Collection[str]
                  ) -> dict[str, Reusable]:
    """Of ``wanted`` (datasets this environment must build), those another environment holds
    at the expected fingerprint where this one's storage can copy them. A folder is copied
    only where its storage copies folders (a copy on local disks); elsewhere
    it is built (its files are many objects, not one)."""
    project = ws.project
    memo: dict[tuple[str, str], Reusable | None] = ws.reuse_memo
    todo = {n for n in wanted if n in expected and not project.datasets[n].is_source
            and (not project.datasets[n].is_folder or _copies_folders(ws, n))}
    found: dict[str, Reusable] = {}
    for name in [n for n in todo if (n, expected[n]) in memo]:  # asked already (a build
        todo.discard(name)  # plans, plans again under its claim, then copies)
        if (hit := memo[(name, expected[name])]) is not None:
            found[name] = hit
    if not todo:
        return found
    asked = set(todo)
    for env, path in other_states(ws.data_root, project.config.environments, ws.environment):
        try:
            store = StateStore(path)
        except WeirError:
            continue  # a damaged store elsewhere is that environment's problem
        try:
            kept, places = store.kept_rows(), store.places()
        except WeirError:
            continue
        finally:
            store.close()
        for name in sorted(todo - found.keys()):
            copy = _copy_of(name, expected[name], env, kept, places)
            if copy is None:
                continue
            try:
                backend = ws.backends[project.datasets[name].connection]
            except WeirError:
                continue
            if backend.can_copy_from(copy.place):
                found[name] = copy
    memo.update(((n, expected[n]), found.get(n)) for n in asked)
    return found


def _copies_folders(ws: Any, name: str) -> bool:
    try:
        return bool(ws.backends[ws.project.datasets[name].connection].copies_folders)
    except WeirError:
        return False


def _copy_of(name: str, fingerprint: str, env: str,
             kept: Mapping[tuple[str, str], tuple[str, str, int]],
             places: Mapping[str, tuple[str, str, str, int]]) -> Reusable | None:
    """The environment's kept output of ``name`` at ``fingerprint`` (a file that a later build
    there never rewrites), else its live data if that is at the fingerprint."""
    if (name, fingerprint) in kept:
        file, schema, rows = kept[(name, fingerprint)]
        if os.path.exists(file):
            return Reusable(name, env, Path(os.path.abspath(file)).as_uri(), json.loads(schema),
                            rows)
    live = places.get(name)
    if live is not None and live[0] == fingerprint:
        place = live[1]
        if place.startswith("file://") and not os.path.exists(unquote(urlparse(place).path)):
            return None
        return Reusable(name, env, place, json.loads(live[2]), live[3])
    return None


def explain(ws: Any, expected: Mapping[str, str], components: Mapping[str, Any],
            names: Collection[str]) -> dict[str, str]:
    """Why each of ``names`` (datasets this environment will build) cannot be copied from
    another environment: none built it; one has it at another fingerprint (which part
    differs: code, definition, a variable, an input's data); or one has it at this very
    fingerprint on storage this one cannot copy from."""
    project = ws.project
    said: dict[str, str] = {}
    if not names:
        return said
    others = list(other_states(ws.data_root, project.config.environments, ws.environment))
    records: list[tuple[str, Mapping[str, Any], Mapping[str, Any]]] = []
    for env, path in others:
        try:
            store = StateStore(path)
        except WeirError:
            continue
        try:
            records.append((env, store.records(), store.places()))
        except WeirError:
            pass
        finally:
            store.close()
    for name in names:
        if project.datasets[name].is_folder and not _copies_folders(ws, name):
            said[name] = "a folder on this storage is built where it is used"
            continue
        why = "no other environment has built it"
        exact = next(((env, places) for env, recs, places in records
                      if getattr(recs.get(name), "fingerprint", None) == expected.get(name)),
                     None)
        if exact is not None:
            env, places = exact
            where = places.get(name, ("", "an unknown place"))[1].partition("#")[0]
            why = (f"{env} has it at this fingerprint, on storage "
                   f"{ws.environment or DEFAULT}'s cannot copy from ({where})")
        else:  # the first environment that built it (weir.yaml's order) says what differs
            rec = next((r[name] for _, r, _ in records if name in r
                        and r[name].fingerprint), None)
            env = next((e for e, r, _ in records if name in r and r[name].fingerprint), "")
            if rec is not None:
                why = f"{env} built it with {_difference(rec.components, components.get(name))}"
        said[name] = why
    return said


def _difference(theirs: Any, ours: Any) -> str:
    """What differs between two fingerprints' components, in a few words."""
    if theirs is None or ours is None:
        return "another definition"
    if theirs.code != ours.code:
        return "other code"
    if theirs.definition != ours.definition:
        return "another definition"
    for var in sorted(set(theirs.variables) | set(ours.variables)):
        if theirs.variables.get(var) != ours.variables.get(var):
            return f"another value of variable {var}"
    changed = sorted(i for i in set(theirs.inputs) | set(ours.inputs)
                     if theirs.inputs.get(i) != ours.inputs.get(i))
    return (f"other data in {', '.join(changed[:3])}" if changed else "another fingerprint")
