"""Calling a project function (a scenario's python step, a python trigger) in a process of
its own.

The project's code never runs in the daemon (nor in `weir scenario run`'s process): a function
that hangs, leaks or crashes the interpreter takes its own process with it, and a time limit
can really stop it — a thread cannot be killed. What it prints is handed on line by line (into
the run's live output and log); what it returns comes back as JSON (anything else as its
``str``), and what it raises as ``Type: message`` with its traceback.

Run as ``python -m weir.scenarios.calling RESULT module:function`` with the argument as JSON
on stdin.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from weir.errors import WeirError

SAY_PREFIX = "    | "


class CallFailed(WeirError):
    """The function could not be called, raised, returned False or ran out of time.
    ``log``: the end of what it printed and its traceback."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.log = log


def call_function(root: Path, function: str, argument: Any, timeout: float | None,
                  cancel: threading.Event | None = None,
                  say: Callable[[str], None] = lambda s: None) -> Any:
    """``function`` (``module:function`` of the project) called with ``argument`` in a child
    process whose working directory is the project; its value."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="weir-call-") as tmp:
        result = Path(tmp) / "result.json"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).resolve().parents[2]), *filter(None, [os.environ.get(
                "PYTHONPATH")])])}
        proc = subprocess.Popen(
            [sys.executable, "-m", "weir.scenarios.calling", str(result), function],
            cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace")
        assert proc.stdin is not None and proc.stdout is not None
        printed: list[str] = []

        def read(stream: Any = proc.stdout) -> None:
            for line in stream:
                printed.append(line.rstrip("\n"))
                say(SAY_PREFIX + line.rstrip("\n"))

        reader = threading.Thread(target=read, name="weir-call-output", daemon=True)
        reader.start()
        try:
            proc.stdin.write(json.dumps(argument, default=str))
            proc.stdin.close()
        except BrokenPipeError:
            pass
        deadline = None if timeout is None else time.monotonic() + timeout
        stopped = ""
        while proc.poll() is None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                stopped = f"{function} took longer than its timeout ({timeout:g}s)"
            elif cancel is not None and cancel.is_set():
                stopped = "cancelled"
            if stopped:
                proc.kill()
                proc.wait()
                break
            try:
                proc.wait(0.2 if left is None else min(0.2, left))
            except subprocess.TimeoutExpired:
                pass
        reader.join(5)
        if stopped:
            raise CallFailed(stopped, "\n".join(printed[-20:]))
        try:
            answer = json.loads(result.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise CallFailed(f"{function} ended its process (exit code {proc.returncode}) "
                             "without returning", "\n".join(printed[-20:])) from None
    if "error" in answer:
        raise CallFailed(answer["error"], "\n".join([*printed[-10:], answer.get("traceback",
                                                                               "")]).strip())
    return answer.get("value")


def _main(result: str, function: str) -> int:
    """In the child: import the function, call it, write what came of it."""
    module_name, _, name = function.partition(":")
    root = Path.cwd()
    for where in (str(root / "recipes"), str(root)):
        if where not in sys.path:
            sys.path.insert(0, where)
    argument = json.loads(sys.stdin.read() or "null")
    out: dict[str, Any]
    try:
        import importlib

        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            out = {"error": f"cannot import {module_name}: {exc}"}
        else:
            fn = getattr(module, name, None)
            if not callable(fn):
                out = {"error": f"{module_name} has no function '{name}'"}
            else:
                value = fn(argument)
                try:
                    json.dumps(value)
                except (TypeError, ValueError):
                    value = str(value)
                out = {"value": value}
    except BaseException as exc:  # noqa: BLE001 - what it raised is the caller's to say
        out = {"error": f"{type(exc).__name__}: {exc}",
               "traceback": traceback.format_exc(limit=-8)}
    sys.stdout.flush()
    Path(result).write_text(json.dumps(out), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1], sys.argv[2]))
