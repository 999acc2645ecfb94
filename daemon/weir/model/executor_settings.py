"""weir.yaml's `executor:`: where a build's recipe jobs run — this machine's worker processes
(`local`, the default) or a Dask distributed cluster (`dask://HOST:PORT`).

Only *where recipes run* changes with it: planning, fingerprints, state, commits and logs stay
the building process's. The same text is what `weir build --executor` takes, so the flag and the
file cannot drift apart. Pure: no Dask is imported here (it is an optional extra).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from weir.model.diagnostics import Diagnostic
from weir.model.yamlfile import LineDict

DEFAULT_DASK_PORT = 8786  # the Dask scheduler's own default
_DASK_RE = re.compile(r"^(?:dask|tcp)://(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+)"
                      r"(?::(?P<port>\d{1,5}))?/?$")
EXAMPLE = "`executor: local` (the default) or `executor: dask://scheduler.example:8786`"


@dataclass(frozen=True)
class Executor:
    """Where recipe jobs run. ``address`` is the Dask scheduler's as Dask takes it
    (``tcp://HOST:PORT``); None for ``local``."""

    kind: str = "local"  # "local" | "dask"
    address: str | None = None
    written: str = "local"  # as the user wrote it, for messages

    @property
    def is_local(self) -> bool:
        return self.kind == "local"

    def describe(self) -> str:
        return "this machine" if self.is_local else f"the Dask cluster at {self.address}"


LOCAL = Executor()


def read_executor(value: Any) -> Executor | str:
    """``value`` as an Executor, or what is wrong with it (one sentence)."""
    if not isinstance(value, str) or not value.strip():
        return f"`executor` must be `local` or a Dask scheduler's address, not {value!r}"
    text = value.strip()
    if text == "local":
        return LOCAL
    if text == "dask":
        return "`executor: dask` needs the scheduler's address"
    match = _DASK_RE.match(text)
    if match is None:
        return f"'{text}' is not an executor weir knows"
    port = int(match["port"]) if match["port"] else DEFAULT_DASK_PORT
    if not 0 < port < 65536:
        return f"'{text}': port {port} is out of range"
    return Executor("dask", f"tcp://{match['host']}:{port}", text)


def parse_executor(file: str, section: LineDict) -> tuple[Executor | None, list[Diagnostic]]:
    """The `executor:` of weir.yaml or of an environment (``section``): None when it is absent
    or wrong (then with its diagnostic, so a build never runs somewhere it was not told to)."""
    if "executor" not in section:
        return None, []
    read = read_executor(section["executor"])
    if isinstance(read, Executor):
        return read, []
    return None, [Diagnostic(file, message=read, code="invalid-executor", subject="key:executor",
                             hint=f"use {EXAMPLE}", **section.value_span("executor"))]
