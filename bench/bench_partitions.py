"""Partitioned Flows: what one new day costs against the whole history, and `weir status` over
a wide, long partitioned Flow.

    python bench/bench_partitions.py [--days 365] [--rows 100000] [--repeats 5]
                                     [--datasets 1000] [--only chain|status]
                                     [--out bench/results/partitions.json]

1. *Chain* (issue 18): a source ``events`` of ``--days`` daily partitions of ``--rows`` rows
   each (Parquet, in the Hive layout), and a chain of three partitioned recipes: ``cleaned``
   (Python, pandas: filters and derives a column), ``by_user`` (SQL in DuckDB: a group-by) and
   ``daily`` (Python: one row per day). Measured: the full build of every day (``weir build
   daily --partition FIRST..LAST``: 3 × days jobs), the no-op build, and — ``--repeats`` times —
   a new day landing and ``weir build daily --partition latest`` (3 jobs). The target: one day
   costs about 1/days of the full build, plus a fixed overhead (reported: one day's wall minus
   full/days).
2. *Status*: ``--datasets`` datasets (10 partitioned sources of ``--days`` days, the rest
   partitioned recipe outputs in layers of 10, each reading two of the layer above), every
   partition recorded built at the fingerprint weir expects (written straight into the state
   store with weir's own fingerprint functions — building 365,000 partitions for real would
   take hours and measure the builds, not the status). Measured: ``weir status --no-daemon``
   (storage listed and the state store read, as a command on its own does; what an earlier
   status computed of a dataset whose records, inputs and definition did not change since is
   taken back, not computed again), ``weir status`` answered by a running daemon, medians of
   ``--repeats``, and ``--no-daemon`` with nothing remembered (every partition's fingerprint
   computed: the first status after every source changed). Both must say every
   dataset up to date with all its partitions. The target: under 0.5 s.

Every figure is the wall time of a whole CLI process (interpreter start included).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_data import REPO, weir_env  # noqa: E402

FIRST = dt.date(2026, 1, 1)

CHAIN_RECIPES = {
    "recipes/cleaned.py": '''
import pandas as pd
import weir
from weir import recipe


@recipe
def cleaned(events: pd.DataFrame) -> pd.DataFrame:
    kept = events[events.amount > 0]
    return kept.assign(taxed=kept.amount * 1.2, event_date=weir.partition().date)
''',
    "recipes/by_user.sql": '''
SELECT CAST($partition AS DATE) AS event_date, user_id, sum(taxed) AS total, count(*) AS n
FROM cleaned
GROUP BY user_id
''',
    "recipes/daily.py": '''
import pandas as pd
import weir
from weir import recipe


@recipe
def daily(by_user: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"event_date": [weir.partition().date], "users": [len(by_user)],
                         "total": [by_user.total.sum()]})
''',
}

DAY = "partitioning:\n  day: {column: event_date}\n"


def env() -> dict[str, str]:
    """weir's environment, with its byte code cached (in the work directory) as an installed
    package's is, even where the shell says PYTHONDONTWRITEBYTECODE: compiling weir at every
    start is not what a user's `weir status` pays."""
    out = weir_env()
    out.pop("PYTHONDONTWRITEBYTECODE", None)
    out["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "weir-bench-pycache")
    return out


def weir(root: Path, *args: str, check: bool = True) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "weir", *args], cwd=root, env=env(),
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    if check and proc.returncode != 0:
        sys.exit(f"weir {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return wall, proc


def git_init(root: Path) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"}
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "bench"]):
        subprocess.run(["git", *cmd], cwd=root, env=env, check=True, capture_output=True)


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text.lstrip("\n"))


def put_day(root: Path, n: int, rows: int, rng: np.random.Generator) -> str:
    day = (FIRST + dt.timedelta(days=n)).isoformat()
    folder = root / "data/events" / f"day={day}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"user_id": rng.integers(0, 1000, rows),
                             "amount": rng.normal(10, 5, rows)}), folder / "part-0.parquet")
    return day


def built(proc: subprocess.CompletedProcess) -> list[tuple[str, str]]:
    return sorted((d["name"], d["partition"]) for d in json.loads(proc.stdout)["datasets"]
                  if d["status"] == "built")


def chain(work: Path, days: int, rows: int, repeats: int) -> dict[str, Any]:
    root = work / "chain"
    write(root, {"weir.yaml": "name: chain\n", ".gitignore": ".weir/\ndata/chain/\n",
                 "datasets/events.yaml": "path: events\nformat: parquet\n" + DAY,
                 "datasets/cleaned.yaml": DAY, "datasets/by_user.yaml": DAY,
                 "datasets/daily.yaml": DAY, **CHAIN_RECIPES})
    rng = np.random.default_rng(18)
    for n in range(days):
        put_day(root, n, rows, rng)
    git_init(root)
    last = (FIRST + dt.timedelta(days=days - 1)).isoformat()
    full, proc = weir(root, "build", "daily", "--partition", f"{FIRST}..{last}", "--json")
    assert len(built(proc)) == 3 * days, proc.stdout[-2000:]
    noop = statistics.median(weir(root, "build", "daily", "--partition", "latest")[0]
                             for _ in range(3))
    walls = []
    for i in range(repeats):
        day = put_day(root, days + i, rows, rng)
        wall, proc = weir(root, "build", "daily", "--partition", "latest", "--json")
        assert built(proc) == [(n, f"day={day}") for n in ("by_user", "cleaned", "daily")], \
            proc.stdout[-2000:]
        walls.append(wall)
    one = statistics.median(walls)
    return {"days": days, "rows_per_day": rows, "full_build_s": full, "noop_s": noop,
            "one_day_walls_s": walls, "one_day_s": one, "full_over_days_s": full / days,
            "overhead_s": one - full / days, "one_day_share_of_full": one / full}


def status_flow(work: Path, days: int, datasets: int) -> Path:
    """10 partitioned sources and layers of 10 partitioned recipe outputs; every partition
    recorded built at the fingerprint weir expects."""
    root = work / "status"
    files = {"weir.yaml": "name: wide\n", ".gitignore": ".weir/\ndata/wide/\n"}
    for j in range(10):
        files[f"datasets/s_0_{j}.yaml"] = f"path: s_0_{j}\nformat: parquet\n" + DAY
    layers = datasets // 10
    for layer in range(1, layers):
        for j in range(10):
            a, b = f"{'s' if layer == 1 else 'd'}_{layer - 1}_{j}", \
                f"{'s' if layer == 1 else 'd'}_{layer - 1}_{(j + 1) % 10}"
            name = f"d_{layer}_{j}"
            files[f"datasets/{name}.yaml"] = DAY
            files[f"recipes/{name}.py"] = (
                "from weir import recipe\n\n\n@recipe\n"
                f"def {name}({a}, {b}):\n    return {a}\n")
    write(root, files)
    empty = pa.table({"x": pa.array([], pa.float64())})
    for j in range(10):
        for n in range(days):
            folder = root / f"data/s_0_{j}/day={FIRST + dt.timedelta(days=n)}"
            folder.mkdir(parents=True)
            pq.write_table(empty, folder / "part-0.parquet")
    git_init(root)
    record_everything_built(root)
    return root


def record_everything_built(root: Path) -> None:
    """What a build of every partition would leave in the state store, written at once."""
    sys.path.insert(0, str(REPO / "daemon"))
    from weir.flow.partition_status import input_partitions, partition_fingerprints, read_key
    from weir.storage.locations import source_partitions
    from weir.workspace import Workspace

    ws = Workspace.open(root)
    found = source_partitions(ws.project, ws.backends, {})
    _, _, parts = partition_fingerprints(ws.flow, {}, found, {})

    def read(name: str, key: str) -> str:  # what its build read, as a build records it
        inputs = ws.project.recipes[ws.project.datasets[name].recipe].input_names
        return json.dumps({read_key(i, k): parts.expected[i][k] for i in inputs
                           for k in input_partitions(ws.flow, name, key, i, parts.domains)})

    rows = [(name, key, fp, parts.base[name], read(name, key), time.time(), "bench", 0.0, 0,
             None)
            for name, by_key in parts.expected.items() if name in parts.base
            for key, fp in by_key.items()]
    with ws.state.transaction() as db:
        db.executemany("INSERT INTO partitions (dataset, key, fingerprint, base, inputs,"
                       " built_at, run_id, duration, row_count, last_failed, error, log_path)"
                       " VALUES (?,?,?,?,?,?,?,?,?,0,NULL,?)", rows)
    ws.close()


def status(work: Path, days: int, datasets: int, repeats: int) -> dict[str, Any]:
    root = status_flow(work, days, datasets)

    def measured(*args: str) -> list[float]:
        walls = []
        for _ in range(repeats + 1):  # the first, untimed, warms the parse cache
            wall, proc = weir(root, "status", "--json", *args)
            report = json.loads(proc.stdout)["datasets"]
            assert len(report) == datasets, len(report)
            assert all(d["partitions"] in ({"source": days}, {"up to date": days})
                       for d in report), [d for d in report if d["status"] != "up to date"][:3]
            walls.append(wall)
        return walls[1:]

    alone = measured("--no-daemon")
    colds = []
    for _ in range(max(1, repeats // 2)):  # nothing remembered: every partition computed
        with sqlite3.connect(root / ".weir/state.db") as db:
            db.execute("DELETE FROM partition_memo")
        colds.append(weir(root, "status", "--no-daemon")[0])
    weir(root, "daemon", "start")
    try:
        served = measured()
    finally:
        weir(root, "daemon", "stop", check=False)
    return {"datasets": datasets, "days": days, "partitions": datasets * days,
            "no_daemon_walls_s": alone, "no_daemon_s": statistics.median(alone),
            "nothing_remembered_walls_s": colds,
            "nothing_remembered_s": statistics.median(colds),
            "daemon_walls_s": served, "daemon_s": statistics.median(served)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--datasets", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--only", choices=("chain", "status"))
    p.add_argument("--keep", action="store_true")
    p.add_argument("--out", type=Path, default=REPO / "bench/results/partitions.json")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="weir-bench-parts-"))
    results: dict[str, Any] = {"machine": platform.platform(), "cpus": os.cpu_count(),
                               "load_before": os.getloadavg()}
    try:
        if args.only in (None, "status"):
            results["status"] = s = status(work, args.days, args.datasets, args.repeats)
            print(f"status over {s['datasets']:,} datasets × {s['days']} partitions: "
                  f"{s['no_daemon_s']:.3f} s on its own, {s['daemon_s']:.3f} s from the daemon "
                  f"(target < 0.5 s); with nothing remembered {s['nothing_remembered_s']:.2f} s")
        if args.only in (None, "chain"):
            results["chain"] = c = chain(work, args.days, args.rows, args.repeats)
            print(f"chain of 3 recipes × {c['days']} days × {c['rows_per_day']:,} rows: full "
                  f"{c['full_build_s']:.1f} s (/{c['days']} = {c['full_over_days_s']:.3f} s), "
                  f"one new day {c['one_day_s']:.3f} s (overhead {c['overhead_s']:.3f} s), "
                  f"no-op {c['noop_s']:.3f} s")
    finally:
        results["load_after"] = os.getloadavg()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
