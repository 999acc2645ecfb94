"""Who writes which dataset now: a build's claim on each dataset it writes, so the same
dataset is never written by two builds at once — builds of the daemon running side by side,
and a CLI build without the daemon beside them.

A claim is an advisory ``flock`` on ``.weir/claims/DATASET.lock``, held from before a build
starts writing until it has committed (or given up). flock locks belong to the open file
description, so a claim excludes other threads of the same process (the daemon's builds) as
well as other processes, and the kernel drops it when its holder dies: a killed build never
leaves a dataset claimed. The holder writes who it is into the file (pid, the daemon's build
id, its command), so a build that waits can say on what.

Runs are claimed the same way (``.weir/runs/RUN.lock``, ``run_claim``): a run recorded as
running whose claim can be taken is one whose process died, whatever its pid (a restarted
container reuses pids), so it is marked interrupted without stopping the builds that run.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from weir import wire
from weir.errors import WeirError

POLL = 0.05  # seconds between looks at a claim held by another process


@dataclass(frozen=True)
class Holder:
    """Who holds a claim, as it wrote itself into the claim's file."""

    pid: int
    build: str | None = None  # the daemon's build id, when the daemon holds it
    command: str = ""

    def to_json(self) -> str:
        return json.dumps({"pid": self.pid, "build": self.build, "command": self.command})

    @classmethod
    def read(cls, text: str) -> Holder | None:
        try:
            data = json.loads(text)
            return cls(int(data["pid"]), data.get("build"), str(data.get("command") or ""))
        except (ValueError, KeyError, TypeError):
            return None


def _file_name(name: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", name) and len(name) < 200:
        return f"{name}.lock"
    return "h-" + hashlib.sha256(name.encode()).hexdigest()[:32] + ".lock"


class Claim:
    """Datasets held by one build until ``release`` (also when used as a context)."""

    def __init__(self, owner: Claims, fds: dict[str, int]) -> None:
        self._owner = owner
        self._fds = fds

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._fds)

    def release(self, names: Iterable[str] | None = None) -> None:
        """Let go of ``names`` (all by default)."""
        for name in list(self._fds if names is None else names):
            fd = self._fds.pop(name, None)
            if fd is not None:
                os.ftruncate(fd, 0)
                os.close(fd)  # closing the description drops the lock
        self._owner._released()

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class Claims:
    """The claims of one project. One object per process is enough; the daemon's builds
    share one so a release wakes the builds waiting for it at once (a claim held by another
    process is looked at every ``POLL`` seconds)."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir / "claims"
        self._changed = threading.Condition()

    def _open(self, name: str) -> int:
        self.dir.mkdir(parents=True, exist_ok=True)
        return os.open(self.dir / _file_name(name), os.O_RDWR | os.O_CREAT, 0o644)

    def try_claim(self, names: Iterable[str],
                  holder: Holder) -> tuple[Claim | None, dict[str, Holder | None]]:
        """All of ``names`` or none: the claim, or (None and) who holds those held by others
        (None for a holder that has not yet said who it is)."""
        got: dict[str, int] = {}
        held: dict[str, Holder | None] = {}
        for name in sorted(set(names)):
            fd = self._open(name)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    os.close(fd)
                    raise
                held[name] = Holder.read(os.pread(fd, 4096, 0).decode(errors="replace"))
                os.close(fd)
                continue
            got[name] = fd
        if held:
            for fd in got.values():
                os.close(fd)
            return None, held
        text = holder.to_json().encode()
        for fd in got.values():
            os.ftruncate(fd, 0)
            os.pwrite(fd, text, 0)
        return Claim(self, got), {}

    def claimable(self, names: Iterable[str]) -> list[str]:
        """Which of ``names`` no one holds at this moment."""
        free = []
        for name in names:
            claim, _ = self.try_claim([name], Holder(os.getpid()))
            if claim is not None:
                claim.release()
                free.append(name)
        return free

    def wait_free(self, names: Iterable[str], stop: Callable[[], bool]) -> bool:
        """Wait until none of ``names`` is held; False if ``stop()`` said to give up first."""
        todo = set(names)
        while True:
            todo -= set(self.claimable(todo))
            if not todo:
                return True
            if stop():
                return False
            with self._changed:
                self._changed.wait(POLL)

    def _released(self) -> None:
        with self._changed:
            self._changed.notify_all()


P = TypeVar("P")


def claim_plan(claims: Claims, holder: Holder, make_plan: Callable[[], tuple[P, frozenset[str]]],
               on_wait: Callable[[dict[str, Holder | None]], None],
               stop: Callable[[], bool],
               version: Callable[[], object] | None = None,
               planned_at: object = None) -> tuple[P, Claim] | None:
    """Plan, and claim what the plan writes. When another build holds some of it: say so
    (``on_wait``), wait until it lets go, and plan again — against the data as that build
    left it, so what it built is not built again. Planned before the claim was taken, a plan
    is made once more under the claim (another build may have committed in between) and used
    if it writes nothing more than was claimed — unless ``version()`` (read before each plan:
    anything that changes when a build records a dataset) says nothing was recorded since.
    ``planned_at``: ``version()`` as it was before the first plan ``make_plan`` returns was
    made, when that plan was made earlier (a CLI build plans before it claims). None if
    ``stop()`` said to give up."""
    before = planned_at if planned_at is not None else version() if version else None
    plan, writes = make_plan()
    while True:
        claim, held = claims.try_claim(writes, holder)
        if claim is None:
            on_wait(held)
            if not claims.wait_free(held, stop):
                return None
            before = version() if version else None
            plan, writes = make_plan()
            continue
        if not writes:
            return plan, claim  # writes nothing: nothing another build does can change that
        if version is not None and version() == before:
            return plan, claim  # no build recorded anything since it was planned
        before = version() if version else None
        plan, again = make_plan()
        if again <= claim.names:
            claim.release(claim.names - again)
            return plan, claim
        claim.release()
        writes = again


def waits(held: dict[str, Holder | None]) -> list[wire.BuildWait]:
    """The datasets held by others, one `wait` per holder."""
    by: dict[Holder | None, list[str]] = {}
    for name, holder in sorted(held.items()):
        by.setdefault(holder, []).append(name)
    return [wire.BuildWait(tuple(names), h.build if h else None, h.pid if h else None,
                           (h.command or None) if h else None) for h, names in by.items()]


def not_claimed_error(held: dict[str, Holder | None]) -> WeirError:
    """What holds the datasets a command needs to itself (a state repair)."""
    said = "; ".join(w.describe().removeprefix("waiting for ") for w in waits(held))
    return WeirError(f"cannot do this while builds run: {said}",
                     hint="wait for them to finish, or stop them")


# -- runs -----------------------------------------------------------------------------------

def _run_file(state_dir: Path, run_id: str) -> Path:
    return state_dir / "runs" / _file_name(run_id)


@contextmanager
def run_claim(state_dir: Path, run_id: str) -> Iterator[None]:
    """Held for as long as run ``run_id`` may be running; its file goes with it."""
    path = _run_file(state_dir, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        try:
            path.unlink()
        except OSError:
            pass
        os.close(fd)


def run_alive(state_dir: Path, run_id: str) -> bool:
    """Whether the process running ``run_id`` still holds it (a run of before claims, or one
    whose process died, does not)."""
    try:
        fd = os.open(_run_file(state_dir, run_id), os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return True
    try:
        _run_file(state_dir, run_id).unlink()  # its process is gone: so is its claim
    except OSError:
        pass
    os.close(fd)
    return False
