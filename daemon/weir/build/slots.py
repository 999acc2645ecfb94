"""The worker slots and connection uses that builds running side by side share.

Each build's ``Scheduler`` keeps its own limits (``--jobs``, a connection's
``max_concurrent_jobs``); when the daemon runs several builds at once they must also keep to
one limit together — the machine's cores, and each connection's limit counted over all of them.
``Slots`` is that shared count: a runner asks its scheduler what to start given what is free
here (``Scheduler.start(free, elsewhere)``, pure) and takes those slots in the same step, under
``lock``.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping


class Slots:
    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self.lock = threading.Condition()
        self._busy = 0
        self._in_use: Counter[str] = Counter()

    @property
    def free(self) -> int:
        """Slots free now (read under ``lock``)."""
        return self.size - self._busy

    @property
    def in_use(self) -> Mapping[str, int]:
        """Tasks using each connection now, over every build (read under ``lock``)."""
        return self._in_use

    def take(self, connections: Iterable[frozenset[str]]) -> None:
        """Under ``lock``: one slot per started task, and its connections."""
        for conns in connections:
            self._busy += 1
            self._in_use.update(conns)

    def give_back(self, connections: frozenset[str], slot: bool = True) -> None:
        """A task's connections, and its slot unless given back already (its worker
        finished before its output was committed)."""
        with self.lock:
            self._busy -= slot
            self._in_use.subtract(connections)
            self._in_use += Counter()  # drop the zeros
            self.lock.notify_all()
