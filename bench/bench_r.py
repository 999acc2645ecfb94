#!/usr/bin/env python3
"""What handing a data frame to an R recipe and back costs (issue 17).

    python bench/bench_r.py [--rows 1000000] [--repeats 5] [--out bench/results/r.json]

A source `big` of bench_data.py's columns (int64 id, four doubles, two int32, a bool, two short
strings: 10 columns) is read by two recipes that return their input as it came: `echo_r`
(R: `echo_r <- function(big) big`) and `echo_py` (Python, the default pandas hand-over). Each is
built with `weir build NAME --force --jobs 1 --no-daemon`, interleaved, one untimed warm-up
each. Per build the job's log gives: the whole job in the worker ("done in X s": reading the
Parquet source, the hand-over both ways, writing the Parquet output), and for R the parts — the
inputs written for R, Rscript's run (start-up, R reading and writing the hand-over files), the
outputs taken back. R's own start-up is timed apart (`Rscript --vanilla -e 'invisible(0)'`).

Figures, medians: the R job beyond R's start-up, the Python job, and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_data import generate, weir_env

REPO = Path(__file__).resolve().parent.parent
DONE = re.compile(r"done in (\d+\.\d+)s")
HANDED = re.compile(r"inputs handed over in (\d+\.\d+)s")
IN_R = re.compile(r"in R, inputs read in (\d+\.\d+)s, the recipe ran (\d+\.\d+)s, outputs "
                  r"written in (\d+\.\d+)s")
RAN = re.compile(r"R ran (\d+\.\d+)s; outputs taken back in (\d+\.\d+)s")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", type=Path, default=REPO / "bench/results/r.json")
    args = p.parse_args()
    rscript = shutil.which("Rscript")
    if rscript is None:
        sys.exit("Rscript is not installed (make r installs it)")

    work = Path(tempfile.mkdtemp(prefix="weir-bench-r-"))
    env = weir_env()
    try:
        root = work / "proj"
        for d in ("datasets", "recipes", "data"):
            (root / d).mkdir(parents=True)
        (root / "weir.yaml").write_text("name: bench\n")
        (root / "datasets/big.yaml").write_text("path: big.parquet\n")
        (root / "recipes/echo_r.R").write_text("echo_r <- function(big) big\n")
        (root / "recipes/echo_py.py").write_text(
            "from weir import recipe\n\n\n@recipe\ndef echo_py(big):\n    return big\n")
        generate(root / "data/big.parquet", args.rows)
        print(f"generated {args.rows:,} rows x 10 columns", flush=True)

        def build(name: str) -> dict[str, float]:
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "weir", "build", name, "--force",
                                   "--jobs", "1", "--no-daemon"], cwd=root, env=env,
                                  capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if proc.returncode != 0:
                sys.exit(proc.stdout + proc.stderr)
            log = subprocess.run([sys.executable, "-m", "weir", "logs", name], cwd=root,
                                 env=env, capture_output=True, text=True).stdout
            done = DONE.search(log)
            assert done, log
            out = {"wall": wall, "job": float(done.group(1))}
            if name == "echo_r":
                handed, in_r, ran = HANDED.search(log), IN_R.search(log), RAN.search(log)
                assert handed and in_r and ran, log
                out.update(to_r=float(handed.group(1)), rscript=float(ran.group(1)),
                           r_read=float(in_r.group(1)), r_write=float(in_r.group(3)),
                           back=float(ran.group(2)))
            return out

        def startup() -> float:
            t0 = time.perf_counter()
            subprocess.run([rscript, "--vanilla", "-e", "invisible(0)"], check=True)
            return time.perf_counter() - t0

        runs: dict[str, list[dict[str, float]]] = {"echo_r": [], "echo_py": []}
        starts: list[float] = []
        for i in range(args.repeats + 1):  # the first of each warms caches: not kept
            for name in runs:
                got = build(name)
                if i:
                    runs[name].append(got)
            s = startup()
            if i:
                starts.append(s)
            print(f"repeat {i}: " + ", ".join(f"{n} job {r[-1]['job']:.3f}s" for n, r in
                                            runs.items() if r and i), flush=True)

        def med(name: str, key: str) -> float:
            return statistics.median(r[key] for r in runs[name])

        r_start = statistics.median(starts)
        beyond = statistics.median(r["job"] - s for r, s in zip(runs["echo_r"], starts, strict=True))
        py_job = med("echo_py", "job")
        summary = {
            "rows": args.rows, "columns": 10, "repeats": args.repeats,
            "r_startup": r_start, "r_job": med("echo_r", "job"), "r_beyond_startup": beyond,
            "py_job": py_job, "ratio_r_beyond_startup_to_py": beyond / py_job,
            "r_parts": {k: med("echo_r", k) for k in ("to_r", "rscript", "r_read", "r_write",
                                                     "back")},
            "walls": {n: statistics.median(r["wall"] for r in rs) for n, rs in runs.items()},
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"summary": summary, "runs": runs, "r_starts": starts,
                                        "machine": platform.platform(),
                                        "python": platform.python_version(),
                                        "load": os.getloadavg()}, indent=2) + "\n")
        parts = summary["r_parts"]
        print(f"\nR start-up {r_start:.3f}s | R job {summary['r_job']:.3f}s, beyond start-up "
              f"{beyond:.3f}s | Python job {py_job:.3f}s | ratio {beyond / py_job:.2f}")
        print(f"R job parts: inputs written for R {parts['to_r']:.3f}s, Rscript "
              f"{parts['rscript']:.3f}s (R reading {parts['r_read']:.3f}s, writing "
              f"{parts['r_write']:.3f}s), outputs taken back {parts['back']:.3f}s")
        print(f"wrote {args.out}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
