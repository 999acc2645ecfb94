#!/usr/bin/env python3
"""Benchmark promotion between environments on the synthetic N = 1,000 Flow (issue 16).

The project is bench_build.py's generated Flow (10 sources, 99 layers of 10 pandas recipes)
with two environments: `dev` on branch `dev` and `prod` on branch `main`, each writing its
outputs to its own place — on the filesystem (`--storage fs`: dev under data/, prod under
prod-data/) or in one PostgreSQL database (`--storage pg`: schemas dev and prod of a server the
bench starts with initdb/pg_ctl) — and both reading the same sources (Parquet files on a
`landing` connection). Set-up, untimed: dev builds everything, is promoted, prod builds
everything (copied from dev).

Each repeat edits the recipe d_50_0 (the middle layer: 455 datasets downstream), commits it on
dev, and then, timed as whole CLI processes (interpreter start included):

  dry_run        `weir promote dev prod --dry-run` — after dev built the change
  promote        `weir promote dev prod`
  reusing_build  `weir --env prod build --all`: must copy all 455 from dev and run no recipe
  together       promote + reusing_build (the issue's figure: under 1 s)

and, in the same run, the other case: a commit dev has *not* built reaching prod (main set to it
by git, as a push to the remote would), whose `weir --env prod build --all` must run exactly the
455 recipes (`rebuild_undeveloped`). Every count is checked; any difference aborts the bench.

Usage: python bench/bench_promote.py [--storage fs pg] [--repeats 5] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_build as bb  # noqa: E402  (the generator and the way weir is run)

N = 1000
MIDDLE = (50, 0)


def git(root: Path, *args: str) -> str:
    env = dict(bb.ENV, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com")
    return subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True,
                          text=True).stdout


def make_project(root: Path, storage: str, pg: object | None) -> dict:
    gen = bb.generate(root, N)
    (root / "landing").mkdir()
    for j in range(bb.WIDTH):  # the sources move to a connection both environments read
        src = bb.name(0, j)
        shutil.move(root / "data" / f"{src}.parquet", root / "landing" / f"{src}.parquet")
        (root / "datasets" / f"{src}.yaml").write_text(
            f"connection: landing\npath: {src}.parquet\n")
    connections = "connections:\n  landing:\n    type: filesystem\n    root: landing\n"
    if storage == "pg":
        assert pg is not None
        connections += (f"  warehouse:\n    type: postgresql\n    host: {pg.host}\n"  # type: ignore[attr-defined]
                        f"    port: {pg.port}\n    database: bench\n"  # type: ignore[attr-defined]
                        f"    user: {pg.user}\n    password: ${{env:PG_PASSWORD}}\n"  # type: ignore[attr-defined]
                        "    schema: dev\n")
        overrides = "      warehouse: {schema: prod}\n"
        default = "default_connection: warehouse\n"
    else:
        overrides = "      local: {root: prod-data}\n"
        default = ""
    (root / "connections.yaml").write_text(connections)
    (root / "weir.yaml").write_text(
        "name: bench\n" + default + "environments:\n  dev:\n    branch: dev\n  prod:\n"
        "    branch: main\n    connections:\n" + overrides)
    (root / ".gitignore").write_text(".weir/\ndata/\nprod-data/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "the synthetic Flow")
    git(root, "checkout", "-q", "-b", "dev")
    return gen


def statuses(report: dict) -> dict[str, int]:
    counts: dict[str, int] = {}
    for d in report["datasets"]:
        counts[d["status"]] = counts.get(d["status"], 0) + 1
    return counts


def expect(what: str, got: object, wanted: object) -> None:
    if got != wanted:
        raise SystemExit(f"{what}: expected {wanted}, got {got}")


def bench(storage: str, workdir: Path, repeats: int, pg: object | None) -> dict:
    root = workdir / f"promote-{storage}"
    gen = make_project(root, storage, pg)
    downstream = bb.closure(bb.name(*MIDDLE), gen["downstream"])
    print(f"[{storage}] set-up: dev builds {gen['recipes']}, promote, prod copies them…",
          flush=True)
    bb.weir(root, "--env", "dev", "build", "--all", "--no-daemon")
    bb.weir(root, "promote", "dev", "prod", "--no-push")
    _, first = bb.weir_json(root, "--env", "prod", "build", "--all", "--no-daemon")
    expect("prod's first build", statuses(first), {"restored": gen["recipes"]})
    editor = bb.Editor()
    timings: dict[str, list[float]] = {k: [] for k in (
        "dry_run", "promote", "reusing_build", "together", "rebuild_undeveloped",
        "dev_build")}
    for i in range(repeats):
        # dev has built the change: prod copies the 455
        editor.edit(root, *MIDDLE)
        git(root, "commit", "-qam", f"edit {i}")
        t_dev, dev = bb.weir_json(root, "--env", "dev", "build", "--all", "--no-daemon")
        expect("dev's build", statuses(dev), {"built": len(downstream)})
        t_dry, dry = bb.weir_json(root, "promote", "dev", "prod", "--dry-run")
        fates: dict[str, int] = {}
        for d in dry["datasets"]:
            fates[d["fate"]] = fates.get(d["fate"], 0) + 1
        expect("the dry run's fates", fates, {"reuse": len(downstream)})
        t_promote, _ = bb.weir(root, "promote", "dev", "prod", "--no-push")
        t_build, report = bb.weir_json(root, "--env", "prod", "build", "--all", "--no-daemon")
        expect("prod's reusing build", statuses(report), {"restored": len(downstream)})
        expect("what prod's build copied", {d["name"] for d in report["datasets"]}, downstream)
        # a commit dev has not built reaches main by git: prod runs exactly the 455
        editor.edit(root, *MIDDLE)
        git(root, "commit", "-qam", f"edit {i}, not built in dev")
        git(root, "update-ref", "refs/heads/main", "HEAD")
        t_rebuild, rebuilt = bb.weir_json(root, "--env", "prod", "build", "--all",
                                          "--no-daemon")
        expect("prod's build of what dev did not build", statuses(rebuilt),
               {"built": len(downstream)})
        for k, v in (("dry_run", t_dry), ("promote", t_promote), ("reusing_build", t_build),
                     ("together", t_promote + t_build), ("rebuild_undeveloped", t_rebuild),
                     ("dev_build", t_dev)):
            timings[k].append(v)
        print(f"[{storage}] {i + 1}/{repeats}: dry run {t_dry:.2f} s, promote {t_promote:.2f} s"
              f" + reusing build {t_build:.2f} s = {t_promote + t_build:.2f} s; "
              f"rebuild without dev {t_rebuild:.2f} s", flush=True)
    return {"storage": storage, "datasets": N, "downstream": len(downstream),
            "timings": timings,
            "median": {k: statistics.median(v) for k, v in timings.items()}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--storage", nargs="+", choices=["fs", "pg"], default=["fs", "pg"])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="weir-bench-promote-"))
    bb.ENV = bb.weir_env(tmp / "pycache")
    results: dict = {"date": time.strftime("%Y-%m-%d %H:%M:%S"),
                     "machine": {"cores": os.cpu_count(), "platform": platform.platform(),
                                 "python": sys.version.split()[0],
                                 "load_before": os.getloadavg()},
                     "repeats": args.repeats, "weir_source": bb.weir_source_hash(), "runs": []}
    pg = None
    try:
        if "pg" in args.storage:
            sys.path.insert(0, str(bb.REPO / "tests"))
            from servers import start_postgres

            pg = start_postgres()
            pg.create_database("bench")
            import psycopg

            with psycopg.connect(host=pg.host, port=pg.port, user=pg.user,
                                 password=pg.password, dbname="bench", autocommit=True) as con:
                con.execute("CREATE SCHEMA dev")
                con.execute("CREATE SCHEMA prod")
            bb.ENV["PG_PASSWORD"] = pg.password
        for storage in args.storage:
            results["runs"].append(bench(storage, tmp, args.repeats, pg))
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    results["machine"]["load_after"] = os.getloadavg()
    lines = ["| storage | dry run | promote | reusing build (455 copied) | promote + build | "
             "prod build of what dev did not build (455 run) |", "|---|---|---|---|---|---|"]
    for r in results["runs"]:
        m = r["median"]
        lines.append(f"| {r['storage']} | {m['dry_run']:.2f} s | {m['promote']:.2f} s | "
                     f"{m['reusing_build']:.2f} s | **{m['together']:.2f} s** | "
                     f"{m['rebuild_undeveloped']:.2f} s |")
    results["table_markdown"] = "\n".join(lines)
    out = args.out or HERE / "results" / f"promote-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print("\n" + results["table_markdown"] + f"\n\nresults: {out}")


if __name__ == "__main__":
    main()
