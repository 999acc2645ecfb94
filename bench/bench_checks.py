"""What checks and metrics cost a build of the 10-million-row dataset of bench_data.py, and the
worker's peak memory while a streaming recipe's output is checked.

    python bench/bench_checks.py [--rows 10000000] [--repeats 5] [--out bench/results/checks.json]

The streaming recipe of bench_data.py (it yields the rows of `big` with a positive x0, batch by
batch: ~5 M rows out) is built again and again with `--force`, alternately without checks and
with `not_null` on three columns, `unique` on one and `range` on three — checked from the staged
file, never held whole. Every build also measures its output (metrics on all ten columns).

Three variants, interleaved: *neither* (metrics off: `WEIR_BENCH_NO_METRICS=1`, a switch for
this bench only), *metrics* (as every build), *checks and metrics*. Figures, medians over the
repeats: the wall time of `weir build` and the job's time (`weir logs`: "done in X s (checks
and metrics Y s)") with checks and metrics over neither — metrics run in a thread beside the
writer, so what they cost shows in the job's time, not only in Y — and Y / (X - Y), the audit
the job waited for.

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

from bench_data import STREAM_RECIPE, generate, weir_env

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
    env = weir_env()

    def weir(*argv: str, bare: bool = False) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "weir", *argv], cwd=root,
                              env={**env, "WEIR_BENCH_NO_METRICS": "1"} if bare else env,
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

        runs: dict[str, list[dict[str, float]]] = {"bare": [], "plain": [], "checked": []}
        for i in range(args.repeats + 1):  # the first of each warms the page cache: not kept
            for variant in ("bare", "plain", "checked"):
                (root / "datasets/big_filtered.yaml").write_text(
                    CHECKS if variant == "checked" else "")
                t0 = time.perf_counter()
                proc = weir("build", "big_filtered", "--force", "--jobs", "1", "--no-daemon",
                            bare=variant == "bare")
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
        # The figure of the issue: with checks and metrics over with neither, wall and job.
        overhead = med("checked", "wall_s") / med("bare", "wall_s")
        job_overhead = med("checked", "job_s") / med("bare", "job_s")
        metrics_overhead = med("plain", "job_s") / med("bare", "job_s")
        peak = max(r["peak_mib"] for r in runs["checked"])
        results = {"rows": args.rows, "repeats": args.repeats, "cores": os.cpu_count(),
                   "runs": runs, "checks_and_metrics_share": round(share, 3),
                   "metrics_only_share": round(metrics_share, 3),
                   "wall_checked_over_plain": round(wall_ratio, 3),
                   "wall_checked_over_bare": round(overhead, 3),
                   "job_checked_over_bare": round(job_overhead, 3),
                   "job_metrics_over_bare": round(metrics_overhead, 3), "peak_mib": peak}
        print()
        print(f"| measure (median of {args.repeats}) | neither | metrics | checks and metrics |")
        print("|---|---|---|---|")
        for key, label in (("wall_s", "`weir build` wall"), ("job_s", "job (worker)"),
                           ("audit_s", "of which the worker waited for the audit")):
            print(f"| {label} | " + " | ".join(f"{med(v, key):.2f} s" for v in runs) + " |")
        print("| worker peak memory | " + " | ".join(
            f"{max(r['peak_mib'] for r in runs[v])} MiB" for v in runs) + " |")
        print(f"\nchecks and metrics over neither: wall {overhead:.3f}, job {job_overhead:.3f}"
              f" (metrics alone: job {metrics_overhead:.3f}); the audit the job waited for: "
              f"{share * 100:.1f} % (target ≤ 15 %, peak < 1024 MiB)")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))
        print(f"results: {args.out}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
