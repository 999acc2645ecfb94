"""Imported in the worker pool's forkserver only (it is first in the pool's preload list), to
make the forkserver end the moment the process that started it — the CLI or the daemon
running builds — ends. The kernel then kills the workers it forked (their parent-death signal),
so a killed build leaves nothing writing behind it.

Python's forkserver exits when its owner goes (its "alive" pipe reaches end of file), but only
once no worker holds a copy of that pipe, and then by finalizing an interpreter with pandas
and pyarrow loaded: a few hundred milliseconds, more on a busy machine. So:

* on Linux it watches its parent through a pidfd and leaves with ``os._exit`` when it dies;
* and whenever it exits it skips finalization (an atexit hook, which runs before it): a
  forkserver holds nothing that needs it — and once finalization has begun, the watching
  thread could never run again to cut it short.
"""

from __future__ import annotations

import atexit
import os
import select
import sys
import threading


def _leave_now() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(0)


def _exit_with_parent() -> None:
    parent = os.getppid()
    try:
        pidfd = os.pidfd_open(parent)
    except ProcessLookupError:
        _leave_now()
    except OSError:
        return  # a kernel without pidfds (before 5.3): the alive pipe still ends it
    if os.getppid() != parent:
        _leave_now()  # the parent died before the pidfd was opened
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)

    def wait() -> None:
        poller.poll()  # returns once the parent has exited
        _leave_now()

    threading.Thread(target=wait, daemon=True, name="weir-forkserver-watch").start()


# Python starts its forkserver as `python -c "from multiprocessing.forkserver import main; …"`:
# anywhere else (a test importing this module, say) it does nothing. The forkserver's own
# children leave through os._exit, so they never run the atexit hook they inherit.
if sys.argv == ["-c"] and "multiprocessing.forkserver" in sys.modules:
    atexit.register(_leave_now)
    if hasattr(os, "pidfd_open"):
        _exit_with_parent()
