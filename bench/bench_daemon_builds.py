"""Builds through the daemon on the synthetic Flow: a one-recipe build on warm workers, one
submitted while a long build of an unrelated branch runs, and the memory of a warm daemon.

    python bench/bench_daemon_builds.py [--n 1000] [--repeats 7] [--out bench/results/daemon_builds.json]

Targets (issue 12), at N = 1,000: a one-recipe build, from the request to its `end` event,
takes at most 100 ms more than the recipe's own time; submitted while a long build of another
branch runs, it starts (its job's `start` event) within 100 ms. The long build is a recipe
blocked on a FIFO the bench holds (not a real 60 s sleep), released after each measure.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
try:
    import weir  # noqa: F401
except ImportError:
    sys.path.insert(0, str(REPO / "daemon"))

from bench_build import generate, name, recipe_text  # noqa: E402

from weir.client import DaemonClient  # noqa: E402

LONG = '''\
import pandas as pd
from weir import recipe


@recipe
def long_branch(src_0_0: pd.DataFrame) -> pd.DataFrame:
    open("bench-gate").read()  # blocks until the bench lets it through
    return src_0_0.assign(x=src_0_0.x + {const})
'''


def memory(pid: int) -> dict[str, Any]:
    """RSS and PSS (MiB) of ``pid`` and every process below it (forkserver, workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    todo, found = [pid], []
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    procs = []
    for p in found:
        try:
            status = Path(f"/proc/{p}/status").read_text()
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text()
            cmd = Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:80]
        except OSError:
            continue
        rss = next(int(line.split()[1]) for line in status.splitlines()
                   if line.startswith("VmRSS:")) / 1024
        pss = next(int(line.split()[1]) for line in rollup.splitlines()
                   if line.startswith("Pss:")) / 1024
        procs.append({"pid": p, "rss_mib": round(rss, 1), "pss_mib": round(pss, 1), "cmd": cmd})
    return {"processes": procs, "rss_mib": round(sum(p["rss_mib"] for p in procs), 1),
            "pss_mib": round(sum(p["pss_mib"] for p in procs), 1)}


class Stream:
    """The daemon's event stream in a thread: flow changes and every build's events."""

    def __init__(self, client: DaemonClient) -> None:
        self.events: queue.Queue[tuple[float, str, Any]] = queue.Queue()
        ready = threading.Event()

        def read() -> None:
            for kind, data in client.events():
                if kind == "hello":
                    ready.set()
                self.events.put((time.perf_counter(), kind, data))

        threading.Thread(target=read, daemon=True).start()
        assert ready.wait(10)

    def until(self, test: Any, timeout: float = 60) -> tuple[float, str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            got = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if test(got[1], got[2]):
                return got


def edit(root: Path, stream: Stream, dataset: str, text: str) -> None:
    (root / "recipes" / f"{dataset}.py").write_text(text)
    stream.until(lambda k, d: k == "flow" and dataset in d["changed"] + d["added"])


def one_recipe_build(client: DaemonClient, stream: Stream, dataset: str) -> dict[str, float]:
    """POST a build of ``dataset``; the times to its job's start and to its `end`, and the
    recipe's own time (as its worker measured it)."""
    t0 = time.perf_counter()
    build = client.start_build([dataset])
    started, _, _ = stream.until(lambda k, d: k == "job" and d["build"] == build.id
                                 and d["event"] == "start")
    _, _, job = stream.until(lambda k, d: k == "job" and d["build"] == build.id
                             and d["event"] == "finish")
    assert job["status"] == "built", job
    ended, _, _ = stream.until(lambda k, d: k == "build" and d["build"] == build.id
                               and d["state"] in ("succeeded", "failed"))
    return {"to_start": started - t0, "to_end": ended - t0, "recipe": job["seconds"],
            "overhead": ended - t0 - job["seconds"]}


def median(rows: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--out", type=Path, default=REPO / "bench/results/daemon_builds.json")
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO / "daemon") + os.pathsep
           + os.environ.get("PYTHONPATH", "")}
    work = Path(tempfile.mkdtemp(prefix="weir-bench-daemon-builds-"))
    root = work / "flow"
    try:
        info = generate(root, args.n)
        last = info["layers"] - 1
        subprocess.run([sys.executable, "-m", "weir", "build", "--all", "--no-daemon"],
                       cwd=root, env=env, check=True, capture_output=True)
        os.mkfifo(root / "bench-gate")
        subprocess.run([sys.executable, "-m", "weir", "daemon", "start"], cwd=root, env=env,
                       check=True, capture_output=True)
        client = DaemonClient.for_project(root)
        pid = client.health().pid
        stream = Stream(client)
        const = iter(range(1, 10_000))

        # 1. One recipe, nothing else running (a first, untimed build warms the workers up).
        alone = []
        leaf = name(last, 0)
        for i in range(args.repeats + 1):
            edit(root, stream, leaf, recipe_text(last, 0, next(const)))
            row = one_recipe_build(client, stream, leaf)
            if i:
                alone.append(row)

        # 2. The same beside a long build of an unrelated branch (blocked on the FIFO).
        beside = []
        other = name(last, 1)
        for _ in range(args.repeats):
            edit(root, stream, "long_branch", LONG.format(const=next(const)))
            long_build = client.start_build(["long_branch"])
            stream.until(lambda k, d, b=long_build.id: k == "job" and d["build"] == b
                         and d["event"] == "start")
            edit(root, stream, other, recipe_text(last, 1, next(const)))
            beside.append(one_recipe_build(client, stream, other))
            assert client.build(long_build.id).state.value == "running"
            fd = os.open(root / "bench-gate", os.O_WRONLY)  # lets the long recipe through
            os.close(fd)
            assert client.wait(long_build.id).state.value == "succeeded"

        mem = memory(pid)
        results = {
            "n": args.n, "repeats": args.repeats, "cpus": os.cpu_count(),
            "alone": alone, "beside_long_build": beside, "memory": mem,
            "medians": {
                "alone_to_end_ms": median(alone, "to_end") * 1000,
                "alone_recipe_ms": median(alone, "recipe") * 1000,
                "alone_overhead_ms": median(alone, "overhead") * 1000,
                "beside_to_start_ms": median(beside, "to_start") * 1000,
                "beside_to_end_ms": median(beside, "to_end") * 1000,
            },
        }
        m = results["medians"]
        print(f"N = {args.n}, {args.repeats} repeats, {os.cpu_count()} cores (medians)")
        print(f"one-recipe build, request to end:       {m['alone_to_end_ms']:.0f} ms "
              f"(recipe {m['alone_recipe_ms']:.0f} ms, overhead {m['alone_overhead_ms']:.0f} ms;"
              " target overhead <= 100 ms)")
        print(f"beside a long build, request to start:  {m['beside_to_start_ms']:.0f} ms "
              "(target <= 100 ms)")
        print(f"beside a long build, request to end:    {m['beside_to_end_ms']:.0f} ms")
        print(f"warm daemon memory: RSS {mem['rss_mib']:.0f} MiB, PSS {mem['pss_mib']:.0f} MiB "
              f"over {len(mem['processes'])} processes")
        for p in mem["processes"]:
            print(f"  {p['pid']:>7}  RSS {p['rss_mib']:6.1f}  PSS {p['pss_mib']:6.1f}  {p['cmd']}")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))
    finally:
        subprocess.run([sys.executable, "-m", "weir", "daemon", "stop", "--now"], cwd=root,
                       env=env, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
