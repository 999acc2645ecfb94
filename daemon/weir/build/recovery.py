"""Checking the state store, and rebuilding a damaged one from what the disk still proves.

The store only remembers; the truth is on disk. Each committed output is hard-linked into
``.weir/cache/outputs/DATASET/FINGERPRINT.EXT``, so a kept output is named by the fingerprint of
the code and inputs that made it. After moving a damaged store aside (never deleting it), a
dataset whose live data *is* the kept output of the fingerprint its current code expects was
built by exactly that code from exactly those inputs: it is recorded up to date again. Every
other dataset is left for the next build, which restores it from a kept output when one matches
and runs its recipe otherwise.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from weir.build.state import REPAIR_HINT, display_path, state_error
from weir.errors import StateError, WeirError
from weir.model.project import FORMATS
from weir.workspace import Workspace


def check_state(path: Path) -> StateError | None:
    """What is wrong with the store, or None when it is sound (or not made yet): SQLite reads
    every page (``quick_check``), so damage a command has not yet met is found too."""
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(path, timeout=30)
        try:
            problems = [row[0] for row in db.execute("PRAGMA quick_check") if row[0] != "ok"]
        finally:
            db.close()
    except sqlite3.Error as exc:
        error = state_error(path, exc)
        if error is None:
            raise
        return error
    if not problems:
        return None
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    return StateError(f"{display_path(path)} is damaged: {problems[0]}{more}", hint=REPAIR_HINT)


@dataclass(frozen=True)
class Repaired:
    moved: tuple[Path, ...]  # the damaged store's files, under their new names
    recorded: tuple[str, ...]  # up to date again: the data is the kept output of its fingerprint
    kept: int  # kept outputs known again (restorable by a build)
    to_restore: tuple[str, ...]  # the next build restores these from a kept output
    to_run: tuple[str, ...]  # and runs the recipes of these


def repair_state(ws: Workspace) -> Repaired | None:
    """Move a damaged store aside and make a new one from the data and the kept outputs; None
    when the store is sound. The caller holds the claims of every dataset (nothing may write meanwhile)."""
    path = ws.state_dir / "state.db"
    if check_state(path) is None:
        return None
    ws.close()
    moved = _move_aside(path)
    snapshot = ws.snapshot()  # on a new, empty store: sources are hashed again
    state = ws.state
    from weir.build.runner import new_run_id
    from weir.gitops.head import head_commit

    run_id = new_run_id()
    state.start_run(run_id, "state repair", head_commit(ws.root))
    kept = _register_kept(ws)
    recorded = []
    for name in ws.flow.order:
        ds = ws.project.datasets[name]
        fp = snapshot.expected[name]
        if ds.recipe is None or (name, fp) not in kept:
            continue
        kept_path, schema, rows = kept[(name, fp)]
        live = ws.backends[ds.connection].local_path(ds.path)
        if live is not None and live.is_file() and _same_data(live, kept_path):
            state.record_success(run_id, ds.recipe, name, fp, snapshot.components[name],
                                 time.time(), schema, rows, None, status="recovered")
            recorded.append(name)
    state.finish_run(run_id, "succeeded")
    after = ws.snapshot()
    stale = [n for n in ws.flow.order if not after.statuses[n].up_to_date]
    return Repaired(tuple(moved), tuple(recorded), len(kept),
                    tuple(n for n in stale if n in after.restorable),
                    tuple(n for n in stale if n not in after.restorable))


def _move_aside(path: Path) -> list[Path]:
    """``state.db`` → ``state.db.corrupt-TIME``, its journal files alongside under the names
    SQLite pairs with it, so the old store can still be opened and looked into."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    moved = []
    for suffix in ("", "-wal", "-shm", "-journal"):
        current = path.with_name(path.name + suffix)
        if current.exists():
            target = aside.with_name(aside.name + suffix)
            os.replace(current, target)
            moved.append(target)
    return moved


def _register_kept(ws: Workspace) -> dict[tuple[str, str], tuple[Path, list[list[Any]], int]]:
    """Every readable kept output of a dataset the project has, recorded again, oldest first
    (so the newest are the ones kept when a later build trims them)."""
    found: list[tuple[float, str, str, Path]] = []
    root = ws.state_dir / "cache" / "outputs"
    for name, ds in ws.project.datasets.items():
        if ds.recipe is None or not (root / name).is_dir():
            continue
        if ds.is_folder:  # a kept folder is a directory named by its fingerprint
            found += [(d.stat().st_mtime, name, d.name, d) for d in (root / name).iterdir()
                      if d.is_dir() and "." not in d.name]
            continue
        ext = f".{FORMATS[ds.format]}"
        for file in (root / name).iterdir():
            if file.is_file() and file.name.endswith(ext):
                found.append((file.stat().st_mtime, name, file.name[:-len(ext)], file))
    kept: dict[tuple[str, str], tuple[Path, list[list[Any]], int]] = {}
    for mtime, name, fp, file in sorted(found):
        schema: list[list[Any]] = []  # a folder has none; its files are what a build counts
        try:
            if file.is_dir():
                rows = sum(1 for f in file.rglob("*") if f.is_file())
            else:
                schema, rows = _describe(file, ws.project.datasets[name].format)
        except WeirError:
            continue  # unreadable: it stays where it is, unused
        ws.state.add_kept(name, fp, str(file), schema, rows, created=mtime)
        kept[(name, fp)] = (file, schema, rows)
    return kept


def _describe(file: Path, fmt: str) -> tuple[list[list[Any]], int]:
    """The schema and row count the store records for an output (Parquet: from its footer)."""
    from weir.storage.formats import read_table, schema_rows

    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            return schema_rows(pq.read_schema(file)), pq.read_metadata(file).num_rows
        except (OSError, ValueError) as exc:
            raise WeirError(f"cannot read {file}: {exc}") from None
    table = read_table(file, fmt)
    return schema_rows(table.schema, table), table.num_rows


def _same_data(a: Path, b: Path) -> bool:
    """The same file (a hard link, as commits make them), else the same bytes."""
    if os.path.samefile(a, b):
        return True
    if a.stat().st_size != b.stat().st_size:
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return hashlib.file_digest(fa, "blake2b").digest() == \
            hashlib.file_digest(fb, "blake2b").digest()
