"""Is a process alive? The one answer, shared by the state store (a build whose process died),
the CLI (is the daemon still there) and ``weir.client`` (did the daemon go away) — standard
library only, so the client stays free of the rest of weir."""

from __future__ import annotations

import os


def process_alive(pid: int) -> bool:
    """Is ``pid`` a running process? A zombie (dead, not yet reaped — common for orphans in
    containers) counts as dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True
