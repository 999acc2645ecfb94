"""A new state store opened by several processes at the same moment (the daemon and a command
started together, the daemon's own threads): every one of them opens it."""

from __future__ import annotations

import multiprocessing as mp
import tempfile
from pathlib import Path


def _open(path: str) -> str | None:
    from weir.build.state import StateStore

    try:
        StateStore(Path(path))
    except Exception as exc:  # noqa: BLE001 - the failure is the test's to report
        return str(exc)
    return None


def test_processes_opening_a_new_store_at_once_all_open_it() -> None:
    failures = []
    with mp.get_context("spawn").Pool(6) as pool:
        for _ in range(25):
            path = str(Path(tempfile.mkdtemp()) / ".weir" / "state.db")
            failures += [f for f in pool.map(_open, [path] * 6) if f]
    assert failures == []  # before the WAL switch was retried: "database is locked", ~2 %
