"""The event stream's hub: threads publish, each Server-Sent-Events client has a queue, and
parts of the daemon itself may observe what is published (the status keeper learns of a job's
end from its `job` event, without the build queue knowing it exists)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any


CLOSED = "__closed__"  # the kind of the last item a subscriber's queue gets: the hub closed


class EventHub:
    def __init__(self, backlog: int = 1000) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self._subscribers: set[asyncio.Queue[tuple[str, Any]]] = set()
        self._lock = threading.Lock()
        self.backlog = backlog
        self.closed = False
        self._observers: list[Callable[[str, Any], None]] = []

    def observe(self, observer: Callable[[str, Any], None]) -> None:
        """Call ``observer(kind, data)`` on every publish, in the publishing thread: it must
        return at once (hand the work to a thread of its own)."""
        self._observers.append(observer)

    def close(self) -> None:
        """The daemon is stopping: end every stream now. An open stream would otherwise hold
        the server's graceful shutdown for its whole timeout (an editor or a Flow page is
        almost always connected), so every stop or restart would wait for nothing."""
        self.closed = True
        self.publish(CLOSED, None)

    def subscribe(self) -> asyncio.Queue[tuple[str, Any]]:
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(self.backlog)
        with self._lock:
            self._subscribers.add(queue)
        if self.closed:
            queue.put_nowait((CLOSED, None))
        return queue

    def unsubscribe(self, queue: asyncio.Queue[tuple[str, Any]]) -> None:
        with self._lock:
            self._subscribers.discard(queue)

    def publish(self, kind: str, data: Any) -> None:
        """Safe from any thread; a client too slow to keep up loses its oldest events."""
        for observer in self._observers:
            observer(kind, data)
        loop = self.loop
        if loop is None:
            return
        loop.call_soon_threadsafe(self._deliver, kind, data)

    def _deliver(self, kind: str, data: Any) -> None:
        with self._lock:
            queues = list(self._subscribers)
        for queue in queues:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait((kind, data))


def sse(kind: str, data: Any) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data, default=str)}\n\n".encode()
