"""Running an R recipe inside a worker: its inputs handed over, Rscript run, its outputs read.

The worker does for R what it does for Python — reads the inputs from storage, stages and
audits the outputs — and only the function's call happens in R: ``Rscript`` runs
``r/weir_runner.R`` on a job file, with the inputs as hand-over directories
(``weir.build.r_handover``) and folders as paths. What R prints goes to the job's log (the
worker's fds 1 and 2 already point there). An R error comes back as its message and the
recipe's frames (``file:line: call``), said like a Python recipe's exception.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from weir.build.jobspec import InputSpec, WorkerJob
from weir.build.r_handover import read_frame, write_frame
from weir.build.returns import RecipeError
from weir.model.project import Interface

RUNNER = Path(__file__).with_name("r") / "weir_runner.R"


class RFailed(Exception):
    """The recipe's R code stopped with an error: R's message and the recipe's frames."""

    def __init__(self, message: str, traceback: str) -> None:
        super().__init__(message)
        self.message, self.traceback = message, traceback


def r_literal(value: Any) -> str:
    """A Python value as R source: what the job file says (variables included)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return f"{value}L" if -(2**31) < value < 2**31 else repr(float(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Inf" if value > 0 else "-Inf"
        return repr(value)
    if isinstance(value, str):
        escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
                   .replace("\r", "\\r").replace("\t", "\\t"))
        return f'"{escaped}"'
    if isinstance(value, Mapping):
        items = ", ".join(f"{r_literal(str(k))} = {r_literal(v)}" for k, v in value.items())
        return f"list({items})"
    if isinstance(value, (list, tuple)):
        kinds = {type(v) for v in value}
        if value and len(kinds) == 1 and kinds <= {bool, int, float, str}:
            return f"c({', '.join(r_literal(v) for v in value)})"  # a vector, as R users expect
        return f"list({', '.join(r_literal(v) for v in value)})"
    return r_literal(str(value))


def _die_with_parent() -> None:
    """Rscript dies with the worker (a cancelled build kills the worker, not its children)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run_r(job: WorkerJob, read: Callable[[InputSpec], pa.Table],
          folder_in: Callable[[InputSpec], Any], folders: Mapping[str, tuple[str, Any]],
          say: Callable[[str], None]) -> dict[str, pa.Table]:
    """Call the recipe's function in R: its outputs that are data, by name (folders are
    written in place, through ``folders``' staging places). ``say`` writes a line to the
    job's log, where the hand-over's timings tell a slow R job's cost apart from R's own."""
    assert job.rscript is not None  # the parent checks it before sending the job
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="weir-r-") as tmp:
        base = Path(tmp)
        inputs = []
        for k, inp in enumerate(job.inputs):
            if inp.interface is Interface.FOLDER:
                path = _local_folder(folder_in(inp), base / f"folder-{k}")
                inputs.append({"name": inp.name, "kind": "folder", "path": path})
            else:
                where = base / f"in-{k}"
                write_frame(read(inp), where, f"input '{inp.name}'")
                inputs.append({"name": inp.name, "kind": "frame", "path": str(where)})
        outputs, uploads = [], []
        for k, spec in enumerate(job.outputs):
            if spec.name in folders:
                store = folders[spec.name][1]._store
                local = getattr(store, "root", None)
                if local is None:  # not on a local disk: written here, then uploaded
                    local = base / f"out-folder-{k}"
                    local.mkdir()
                    uploads.append((local, store))
                outputs.append({"name": spec.name, "kind": "folder", "path": str(local)})
            else:
                outputs.append({"name": spec.name, "kind": "frame",
                                "path": str(base / f"out-{k}")})
        error_file = base / "error"
        job_file = base / "job.R"
        job_file.write_text(r_literal({
            "file": job.file, "function": job.recipe, "inputs": inputs, "outputs": outputs,
            "variables": dict(job.variables), "error_file": str(error_file)}) + "\n",
            encoding="utf-8")
        handed = time.perf_counter()
        say(f"weir: inputs handed over in {handed - started:.3f}s; running {job.rscript}")
        # A time without a zone means the same to both sides, and text is UTF-8 in R too.
        env = _utf8_locale(dict(os.environ, TZ="UTC"))
        proc = subprocess.run([job.rscript, "--vanilla", str(RUNNER), str(job_file)],
                              cwd=job.project_root, env=env, stdin=subprocess.DEVNULL,
                              preexec_fn=_die_with_parent)
        if error_file.exists():
            said = error_file.read_bytes().decode("utf-8", "replace").split("\0")[:-1]
            root = job.project_root.rstrip("/") + "/"
            frames = [line.replace(root, "") for line in said[1:]]
            raise RFailed(said[0] if said else "Error (R said nothing more)",
                          "R traceback (the recipe's frames, innermost last):\n"
                          + "\n".join(frames) if frames else "")
        if proc.returncode != 0:
            raise RecipeError(f"Rscript ended with exit code {proc.returncode} without an R "
                              "error (killed, or R itself failed)",
                              hint="the job's log has what R printed")
        for staged, store in uploads:
            for file in sorted(staged.rglob("*")):
                if file.is_file():
                    with store.open(file.relative_to(staged).as_posix(), "wb") as out, \
                            open(file, "rb") as src:
                        shutil.copyfileobj(src, out)
        ran = time.perf_counter()
        taken = {spec.name: read_frame(base / f"out-{k}", f"output '{spec.name}'")
                 for k, spec in enumerate(job.outputs) if spec.name not in folders}
        say(f"weir: R ran {ran - handed:.3f}s; outputs taken back in "
            f"{time.perf_counter() - ran:.3f}s")
        return taken


def _utf8_locale(env: dict[str, str]) -> dict[str, str]:
    """``env`` with a UTF-8 character type: under a C or POSIX locale (a daemon under systemd,
    a container) R writes every non-ASCII character of a name or a value as ``<U+00E9>``. Only
    the character type changes; the user's collation and formats stay."""
    ctype = env.get("LC_ALL") or env.get("LC_CTYPE") or env.get("LANG") or ""
    if "utf-8" in ctype.lower() or "utf8" in ctype.lower():
        return env
    if env.get("LC_ALL"):  # it wins over LC_CTYPE: keep the rest of it as LANG
        env["LANG"] = env.pop("LC_ALL")
    env["LC_CTYPE"] = "C.UTF-8"
    return env


def _local_folder(store: Any, copy_to: Path) -> str:
    """A folder input as a local directory R can read: where it is, or a copy of its files."""
    local = getattr(store, "root", None)
    if local is not None:
        return str(local)
    copy_to.mkdir()
    for rel in store.list():
        target = copy_to / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with store.open(rel, "rb") as src, open(target, "wb") as out:
            shutil.copyfileobj(src, out)
    return str(copy_to)
