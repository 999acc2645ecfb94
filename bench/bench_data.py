"""weir.Dataset against plain pyarrow on a 10-million-row, 10-column dataset, and the peak
memory of a streaming recipe over it.

    python bench/bench_data.py [--rows 10000000] [--repeats 3] [--out bench/results/data.json]

Targets (issue 3): reading and writing through weir.Dataset on the filesystem connection reach
at least 80 % of plain pyarrow's throughput on the same files; a streaming recipe over the
dataset keeps its worker's peak memory under 1 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
try:
    import weir
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(REPO / "daemon"))
    import weir

CHUNK = 1_000_000

STREAM_RECIPE = '''
import resource
import pyarrow.compute as pc
import weir
from weir import recipe


@recipe
def big_filtered(big: weir.Dataset):
    """Keep the rows with a positive x0: batch by batch, never the whole table."""
    for batch in big.iter_batches(batch_size=131_072):
        yield batch.filter(pc.greater(batch["x0"], 0.0))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"PEAK_RSS_MIB {peak_mib:.1f}", flush=True)
'''


def chunk(start: int, n: int, rng: np.random.Generator) -> pa.Table:
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"])
    return pa.table({
        "id": np.arange(start, start + n, dtype=np.int64),
        "x0": rng.standard_normal(n), "x1": rng.standard_normal(n),
        "x2": rng.random(n), "x3": rng.random(n) * 100,
        "n0": rng.integers(0, 1000, n, dtype=np.int32),
        "n1": rng.integers(0, 10, n, dtype=np.int32),
        "flag": rng.random(n) < 0.5,
        "word": pa.array(words[rng.integers(0, len(words), n)]),
        "code": pa.array(np.char.add("c", rng.integers(0, 5000, n).astype(str))),
    })


def weir_env() -> dict[str, str]:
    """The environment a bench runs `weir` in: this checkout's weir first on the path."""
    return {**os.environ, "PYTHONPATH": str(REPO / "daemon") + os.pathsep
            + os.environ.get("PYTHONPATH", "")}


def generate(path: Path, rows: int) -> None:
    rng = np.random.default_rng(7)
    writer = None
    for start in range(0, rows, CHUNK):
        t = chunk(start, min(CHUNK, rows - start), rng)
        writer = writer or pq.ParquetWriter(path, t.schema)
        writer.write_table(t)
    assert writer is not None
    writer.close()


def timed(fn, repeats: int) -> dict:
    walls = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
    return {"walls": walls, "median": statistics.median(walls)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", type=Path, default=REPO / "bench/results/data.json")
    args = p.parse_args()

    work = Path(tempfile.mkdtemp(prefix="weir-bench-data-"))
    try:
        root = work / "proj"
        (root / "datasets").mkdir(parents=True)
        (root / "recipes").mkdir()
        (root / "data").mkdir()
        (root / "weir.yaml").write_text("name: bench\n")
        (root / "datasets/big.yaml").write_text("path: big.parquet\n")
        (root / "datasets/big_copy.yaml").write_text("path: big_copy.parquet\n")
        (root / "recipes/stream.py").write_text(STREAM_RECIPE)
        src = root / "data/big.parquet"
        t0 = time.perf_counter()
        generate(src, args.rows)
        print(f"generated {args.rows:,} rows x 10 columns ({src.stat().st_size / 2**20:.0f} MiB "
              f"Parquet) in {time.perf_counter() - t0:.1f}s", flush=True)

        ds = weir.Dataset("big", project=root)
        copy = weir.Dataset("big_copy", project=root)
        table = pq.read_table(src)
        mib = table.nbytes / 2**20
        results: dict = {"rows": args.rows, "columns": 10, "in_memory_mib": round(mib, 1),
                         "parquet_mib": round(src.stat().st_size / 2**20, 1),
                         "repeats": args.repeats, "cores": os.cpu_count()}
        plain_out = work / "plain_copy.parquet"
        cases = {
            "read_pyarrow": lambda: pq.read_table(src),
            "read_weir": lambda: ds.to_arrow(),
            "write_pyarrow": lambda: pq.write_table(table, plain_out),
            "write_weir": lambda: copy.write(table),
            "stream_pyarrow": lambda: sum(b.num_rows for b in pq.ParquetFile(src).iter_batches(
                batch_size=131_072)),
            "stream_weir": lambda: sum(b.num_rows for b in ds.iter_batches(batch_size=131_072)),
        }
        for name, fn in cases.items():
            fn()  # warm the page cache and code paths
            results[name] = timed(fn, args.repeats)
            print(f"{name:<16} {results[name]['median']:.3f}s  "
                  f"({mib / results[name]['median']:.0f} MiB/s)", flush=True)
        for op in ("read", "write", "stream"):
            results[f"{op}_ratio"] = round(results[f"{op}_pyarrow"]["median"]
                                           / results[f"{op}_weir"]["median"], 3)

        env = weir_env()
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "weir", "build", "big_filtered", "--jobs",
                               "1"], cwd=root, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(proc.stdout + proc.stderr)
        log = subprocess.run([sys.executable, "-m", "weir", "logs", "big_filtered"], cwd=root,
                             env=env, capture_output=True, text=True).stdout
        peak = float(log.split("PEAK_RSS_MIB")[1].split()[0])
        out_rows = pq.ParquetFile(root / "data/bench/big_filtered.parquet").metadata.num_rows
        results["stream_recipe"] = {"wall_s": round(wall, 2), "peak_rss_mib": peak,
                                    "rows_out": out_rows}
        print(f"streaming recipe: {wall:.1f}s, worker peak RSS {peak:.0f} MiB, "
              f"{out_rows:,} rows out", flush=True)

        print()
        print("| measure | pyarrow | weir.Dataset | weir / pyarrow throughput |")
        print("|---|---|---|---|")
        for op in ("read", "write", "stream"):
            a, b = results[f"{op}_pyarrow"]["median"], results[f"{op}_weir"]["median"]
            print(f"| {op} ({mib:.0f} MiB in memory) | {a:.2f} s | {b:.2f} s | "
                  f"{results[f'{op}_ratio'] * 100:.0f} % |")
        print(f"\nstreaming recipe peak RSS: {peak:.0f} MiB (target < 1024 MiB)")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))
        print(f"results: {args.out}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
