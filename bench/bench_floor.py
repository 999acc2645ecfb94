#!/usr/bin/env python3
"""A cold `weir build --all` against the work floor: the same recipes' own work, back to back.

The work floor is what no orchestrator can beat on one core: the project's recipes run one
after the other in one warm Python process (pandas and pyarrow already imported), each reading
its two Parquet inputs, computing, and writing its output file — no fingerprints, no state
store, no processes, no scheduling. The bench measures the floor and weir's cold builds in the
same run, alternating them repeat by repeat so both see the same machine, and reports:

  ratio_j1    cold `weir build --all --jobs 1` / floor   (target <= 1.5)
  ratio_j2    cold `weir build --all` (2 workers) / floor (target < 1: two cores beat one)

and, from the per-job times weir reports, where weir's overhead per recipe goes (in the worker,
in the parent), and the peak memory of the whole build (the CLI and its workers: VmRSS summed
over the process tree, sampled every 20 ms).

Usage: python bench/bench_floor.py [--n 1000] [--repeats 5] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_build  # noqa: E402  (the same generated project, the same CLI runner)


def floor_seconds(project: Path, layers: int, scratch: Path) -> float:
    """One pass of every recipe's own work, in Flow order, in this (warm) process."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    scratch.mkdir(parents=True, exist_ok=True)
    paths = {bench_build.name(0, j): project / "data" / f"{bench_build.name(0, j)}.parquet"
             for j in range(bench_build.WIDTH)}
    t0 = time.perf_counter()
    for layer in range(1, layers):
        for j in range(bench_build.WIDTH):
            a_name, b_name = bench_build.inputs_of(layer, j)
            a = pq.read_table(paths[a_name]).to_pandas()
            b = pq.read_table(paths[b_name]).to_pandas()
            df = a.assign(x=(a.x + b.x) * 0.5 + 0.0)
            out = scratch / f"{bench_build.name(layer, j)}.parquet"
            pq.write_table(pa.Table.from_pandas(df, preserve_index=False), out)
            paths[bench_build.name(layer, j)] = out
    return time.perf_counter() - t0


def _tree_rss(pid: int) -> int:
    """VmRSS in bytes of ``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, ()))
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def cold_build(project: Path, jobs: int | None) -> dict:
    """A cold `weir build --all --json`, with its wall time and the process tree's peak RSS."""
    bench_build.reset_cold(project)
    args = [sys.executable, "-m", "weir", "build", "--all", "--json", "--no-daemon"]
    if jobs:
        args += ["--jobs", str(jobs)]
    peak = 0
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, cwd=project, env=bench_build.ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"weir build failed ({proc.returncode}): {err[-2000:]}")
    result = json.loads(out)
    built = bench_build.built_names(result)
    return {"wall": wall, "built": len(built), "peak_rss": peak,
            "worker_seconds": sum(d["seconds"] for d in result["datasets"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="datasets (sources included)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="weir-floor-"))
    bench_build.ENV = bench_build.weir_env(workdir.resolve() / "pycache")
    project = workdir / f"floor-{args.n}"
    info = bench_build.generate(project, args.n)
    recipes, layers = info["recipes"], info["layers"]
    floors, j1, j2 = [], [], []
    for i in range(args.repeats + 1):  # the first round warms the page cache and is dropped
        f = floor_seconds(project, layers, workdir / "scratch")
        a = cold_build(project, 1)
        b = cold_build(project, None)
        for build in (a, b):
            if build["built"] != recipes:
                raise SystemExit(f"a cold build ran {build['built']} recipes, not {recipes}")
        if i:
            floors.append(f)
            j1.append(a)
            j2.append(b)
        print(f"round {i}: floor {f:.3f} s, -j1 {a['wall']:.3f} s, -j2 {b['wall']:.3f} s",
              file=sys.stderr)
    floor = statistics.median(floors)
    wall_j1 = statistics.median(r["wall"] for r in j1)
    wall_j2 = statistics.median(r["wall"] for r in j2)
    inside_j1 = statistics.median(r["worker_seconds"] for r in j1)
    noop = bench_build.noop_builds(project, args.repeats)["median"]
    per_floor = floor / recipes
    split = {
        "floor_per_recipe_ms": per_floor * 1e3,
        # the job's time inside the worker beyond the recipe's own work
        "worker_ms": (inside_j1 / recipes - per_floor) * 1e3,
        # the rest of the wall time per recipe, once start-up (a no-op build) is taken out
        "parent_ms": ((wall_j1 - noop) - inside_j1) / recipes * 1e3,
    }
    result = {
        "n": args.n, "recipes": recipes, "repeats": args.repeats,
        "source": bench_build.weir_source_hash(), "loadavg": os.getloadavg(),
        "floor": {"median": floor, "runs": floors},
        "cold_j1": {"median": wall_j1, "runs": [r["wall"] for r in j1],
                    "peak_rss_median": statistics.median(r["peak_rss"] for r in j1)},
        "cold_j2": {"median": wall_j2, "runs": [r["wall"] for r in j2],
                    "peak_rss_median": statistics.median(r["peak_rss"] for r in j2)},
        "noop": noop, "ratio_j1": wall_j1 / floor, "ratio_j2": wall_j2 / floor,
        "overhead_per_recipe": split,
    }
    print(f"N = {args.n} ({recipes} recipes), medians of {args.repeats}")
    print("| measure | seconds | / floor |\n|---|---|---|")
    print(f"| work floor (one warm process) | {floor:.3f} | 1.00 |")
    print(f"| cold `build --all --jobs 1` | {wall_j1:.3f} | **{wall_j1 / floor:.2f}** |")
    print(f"| cold `build --all` (2 workers) | {wall_j2:.3f} | **{wall_j2 / floor:.2f}** |")
    print(f"per recipe: floor {split['floor_per_recipe_ms']:.2f} ms, weir in the worker "
          f"{split['worker_ms']:.2f} ms, in the parent {split['parent_ms']:.2f} ms")
    print(f"peak RSS of the build (CLI + workers): -j1 "
          f"{result['cold_j1']['peak_rss_median'] / 2**20:.0f} MiB, -j2 "
          f"{result['cold_j2']['peak_rss_median'] / 2**20:.0f} MiB")
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
