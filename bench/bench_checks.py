"""What checks and metrics cost a build of the 10-million-row dataset of bench_data.py, and the
worker's peak memory while a streaming recipe's output is checked.

    python bench/bench_checks.py [--rows 10000000] [--repeats 5] [--out bench/results/checks.json]

The streaming recipe of bench_data.py (it yields the rows of `big` with a positive x0, batch by
batch: ~5 M rows out) is built again and again with `--force`, alternately without checks and
with `not_null` on three columns, `unique` on one and `range` on three — checked from the staged
file, never held whole. Every build also measures its output (metrics on all ten columns).

Two figures, each a median over the repeats:
- the job's own account (`weir logs`: "done in X s (checks and metrics Y s)"): Y / (X - Y), what
  checks and metrics add to the job's time without them;
- the same seen from outside: the wall time of `weir build` with checks over without (metrics
  in both), measured in the same run.

Target (issue 13): checks and metrics add at most 15 % to the build's time, and the worker's
peak memory (`peak memory N MiB` in the log: getrusage of the worker) stays under 1 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_data import STREAM_RECIPE, generate

REPO = Path(__file__).resolve().parent.parent

CHECKS = """checks:
  - not_null: [id, x0, word]
  - unique: [id]
  - range: {x0: {min: 0}, x2: {min: 0, max: 1}, n0: {min: 0, max: 999}}
"""
DONE = re.compile(r"done in (\d+\.\d+)s \(checks and metrics (\d+\.\d+)s\), peak memory (\d+) MiB")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", type=Path, default=REPO / "bench/results/checks.json")
    args = p.parse_args()

    work = Path(tempfile.mkdtemp(prefix="weir-bench-checks-"))
    env = {**os.environ, "PYTHONPATH": str(REPO / "daemon") + os.pathsep
           + os.environ.get("PYTHONPATH", "")}

    def weir(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "weir", *argv], cwd=root, env=env,
                              capture_output=True, text=True)

    try:
        root = work / "proj"
        for d in ("datasets", "recipes", "data"):
            (root / d).mkdir(parents=True)
        (root / "weir.yaml").write_text("name: bench\n")
        (root / "datasets/big.yaml").write_text("path: big.parquet\n")
        (root / "recipes/stream.py").write_text(STREAM_RECIPE)
        generate(root / "data/big.parquet", args.rows)
        print(f"generated {args.rows:,} rows x 10 columns", flush=True)

        runs: dict[str, list[dict[str, float]]] = {"plain": [], "checked": []}
        for i in range(args.repeats + 1):  # the first of each warms the page cache: not kept
            for variant in ("plain", "checked"):
                (root / "datasets/big_filtered.yaml").write_text(
                    "" if variant == "plain" else CHECKS)
                t0 = time.perf_counter()
                proc = weir("build", "big_filtered", "--force", "--jobs", "1", "--no-daemon")
                wall = time.perf_counter() - t0
                if proc.returncode != 0:
                    raise SystemExit(proc.stdout + proc.stderr)
                m = DONE.search(weir("logs", "big_filtered").stdout)
                assert m, "no 'done in' line in the job's log"
                job, audit, peak = float(m[1]), float(m[2]), int(m[3])
                if i:
                    runs[variant].append({"wall_s": wall, "job_s": job, "audit_s": audit,
                                          "peak_mib": peak})
                print(f"{variant:<8} build {wall:.2f}s, job {job:.2f}s, checks and metrics "
                      f"{audit:.2f}s, worker peak {peak} MiB" + ("" if i else "  (warm-up)"),
                      flush=True)

        def med(variant: str, key: str) -> float:
            return statistics.median(r[key] for r in runs[variant])

        share = statistics.median(r["audit_s"] / (r["job_s"] - r["audit_s"])
                                  for r in runs["checked"])
        metrics_share = statistics.median(r["audit_s"] / (r["job_s"] - r["audit_s"])
                                          for r in runs["plain"])
        wall_ratio = med("checked", "wall_s") / med("plain", "wall_s")
        peak = max(r["peak_mib"] for r in runs["checked"])
        results = {"rows": args.rows, "repeats": args.repeats, "cores": os.cpu_count(),
                   "runs": runs, "checks_and_metrics_share": round(share, 3),
                   "metrics_only_share": round(metrics_share, 3),
                   "wall_checked_over_plain": round(wall_ratio, 3), "peak_mib": peak}
        print()
        print("| measure (median of %d) | without checks | with checks |" % args.repeats)
        print("|---|---|---|")
        print(f"| `weir build` wall | {med('plain', 'wall_s'):.2f} s | "
              f"{med('checked', 'wall_s'):.2f} s |")
        print(f"| job (worker) | {med('plain', 'job_s'):.2f} s | {med('checked', 'job_s'):.2f} s |")
        print(f"| of which checks and metrics | {med('plain', 'audit_s'):.2f} s (metrics) | "
              f"{med('checked', 'audit_s'):.2f} s |")
        print(f"| worker peak memory | {max(r['peak_mib'] for r in runs['plain'])} MiB | "
              f"{peak} MiB |")
        print(f"\nchecks and metrics add {share * 100:.1f} % to the job (metrics alone "
              f"{metrics_share * 100:.1f} %); wall with checks / without: {wall_ratio:.3f} "
              "(target ≤ 15 %, peak < 1024 MiB)")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))
        print(f"results: {args.out}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
