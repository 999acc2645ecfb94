"""File events from watchdog, filtered and debounced into batches of project paths.

Editors save in different ways (write in place, write a temporary file and rename it, delete
and create); a git checkout changes many files at once. Events are collected until the tree has
been quiet for ``quiet`` seconds (or ``longest`` has passed) and then handed over as one set of
project-relative paths. Paths under .git, .weir, data directories, virtualenvs and node_modules
never reach the Flow.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

IGNORED_DIRS = {".git", ".weir", "data", ".venv", "venv", "node_modules", "__pycache__"}


class _Collector(FileSystemEventHandler):
    def __init__(self, root: Path, sink: Callable[[str], None],
                 rescan: Callable[[], None]) -> None:
        self.root = str(root)
        self.sink = sink
        self.rescan = rescan

    def _rel(self, path: str | bytes) -> str | None:
        text = os.fsdecode(path)
        if not text.startswith(self.root):
            return None
        rel = os.path.relpath(text, self.root).replace(os.sep, "/")
        if rel == "." or rel.split("/", 1)[0] in IGNORED_DIRS:
            return None
        return rel

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        raw = [event.src_path]
        dest = getattr(event, "dest_path", None)
        if dest:
            raw.append(dest)
        paths = [p for p in (self._rel(r) for r in raw) if p is not None]
        if not paths:
            return
        if event.is_directory and event.event_type in ("moved", "deleted", "created"):
            self.rescan()  # a whole directory came or went: read everything again
            return
        for p in paths:
            self.sink(p)


class Watcher:
    """Watches ``root`` and calls ``on_batch(paths or None)`` from its own thread."""

    def __init__(self, root: Path, on_batch: Callable[[set[str] | None], None],
                 quiet: float = 0.005, longest: float = 0.25) -> None:
        self.root = root
        self.on_batch = on_batch
        self.quiet = quiet
        self.longest = longest
        self._pending: set[str] = set()
        self._rescan = False
        self._first = 0.0
        self._last = 0.0
        self._cond = threading.Condition()
        self._stop = False
        self._observer: Any = Observer()
        self._thread = threading.Thread(target=self._run, name="weir-watch", daemon=True)

    def _add(self, rel: str) -> None:
        with self._cond:
            now = time.monotonic()
            if not self._pending and not self._rescan:
                self._first = now
            self._pending.add(rel)
            self._last = now
            self._cond.notify()

    def _add_rescan(self) -> None:
        with self._cond:
            now = time.monotonic()
            if not self._pending and not self._rescan:
                self._first = now
            self._rescan = True
            self._last = now
            self._cond.notify()

    def start(self) -> None:
        self._observer.schedule(_Collector(self.root, self._add, self._add_rescan),
                                str(self.root), recursive=True)
        self._observer.start()
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._observer.stop()
        self._observer.join(5)
        self._thread.join(5)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stop and not self._pending and not self._rescan:
                    self._cond.wait()
                if self._stop:
                    return
                while True:  # debounce: wait for a quiet moment, but not forever
                    now = time.monotonic()
                    due = min(self._last + self.quiet, self._first + self.longest)
                    if now >= due or self._stop:
                        break
                    self._cond.wait(due - now)
                batch: set[str] | None = None if self._rescan else set(self._pending)
                self._pending.clear()
                self._rescan = False
            try:
                self.on_batch(batch)
            except Exception:  # noqa: BLE001 - one bad batch must not stop the watcher
                import logging

                logging.getLogger("weir.daemon").exception("applying file changes failed")
