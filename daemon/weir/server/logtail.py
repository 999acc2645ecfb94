"""Following a running job's log file, so clients see what a recipe prints as it prints it.

The worker writes the log (its fds 1 and 2 point at the file, line-buffered); the daemon reads
what was appended every fraction of a second and publishes whole lines. A job that prints
without end is cut off after MAX_LINES: the file keeps everything.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

MAX_LINES = 5_000


class LogTail:
    def __init__(self, path: Path, emit: Callable[[list[str]], None],
                 interval: float = 0.2) -> None:
        self.path = path
        self.emit = emit
        self.interval = interval
        self.sent = 0
        self._offset = 0
        self._partial = b""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"weir-log-{path.name}",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop following, after handing over everything the file holds (a last line without
        its newline too)."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._read(final=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._read(final=False)

    def _read(self, final: bool) -> None:
        if self.sent >= MAX_LINES:
            return
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                chunk = f.read(1 << 20)
        except OSError:
            return  # not created yet (or gone): nothing to say
        self._offset += len(chunk)
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = b"" if final else lines.pop()
        if final and lines and lines[-1] == b"":
            lines.pop()
        if not lines:
            return
        room = MAX_LINES - self.sent
        text = [line.decode("utf-8", "replace").rstrip("\r") for line in lines[:room]]
        if len(lines) > room:
            text.append(f"… (more in {self.path})")
        self.sent += len(text)
        self.emit(text)
