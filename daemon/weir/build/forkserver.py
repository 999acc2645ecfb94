"""Imported in the worker pool's forkserver only (it is first in the pool's preload list), to
make the forkserver end the moment the process that started it — the CLI or the daemon
running builds — ends.

Python's forkserver does exit when its owner goes (its "alive" pipe reaches end of file), but
it first finalizes an interpreter with pandas and pyarrow loaded, a few hundred milliseconds
on an idle machine and more on a busy one, and the workers it forked, which the kernel kills
when it exits, live on that long, writing. It also never gets there while a worker it forked
holds a copy of that pipe. So on Linux it watches its parent through a pidfd and leaves with
``os._exit``: a forkserver holds nothing that needs finalizing.
"""

from __future__ import annotations

import os
import select
import sys
import threading


def _exit_with_parent() -> None:
    parent = os.getppid()
    try:
        pidfd = os.pidfd_open(parent)
    except ProcessLookupError:
        os._exit(0)
    except OSError:
        return  # a kernel without pidfds (before 5.3): the forkserver's own exit stands
    if os.getppid() != parent:
        os._exit(0)  # the parent died before the pidfd was opened
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)

    def wait() -> None:
        while not poller.poll():
            pass
        os._exit(0)

    threading.Thread(target=wait, daemon=True, name="weir-forkserver-watch").start()


# Python starts its forkserver as `python -c "from multiprocessing.forkserver import main; …"`:
# anywhere else (a test importing this module, say) it does nothing.
if sys.argv == ["-c"] and "multiprocessing.forkserver" in sys.modules \
        and hasattr(os, "pidfd_open"):
    _exit_with_parent()
