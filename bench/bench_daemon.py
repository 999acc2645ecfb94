"""The daemon on a 1,000-dataset project: how fast a saved recipe reaches the event stream,
whether memory stays flat over thousands of edits, and how fast a no-op build answers.

    python bench/bench_daemon.py [--n 1000] [--edits 10000] [--noops 100]
                                 [--out bench/results/daemon.json]

Targets (issue 4), at N = 1,000: the Flow is current within 50 ms of a save (p95, from the
write to the event on the stream); the daemon stays under 200 MB RSS and does not grow over
10,000 edit events. Issue 12: a no-op build requested through the API (request to its end)
answers in p95 <= 15 ms, the daemon reading its kept status snapshot (also reported at
N = 5,000, and `GET /api/status`, every dataset's status). ``--edits 0`` times the no-op
builds alone.
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

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
try:
    import weir  # noqa: F401
except ImportError:
    sys.path.insert(0, str(REPO / "daemon"))

from bench_build import generate, recipe_text  # noqa: E402

from weir.client import DaemonClient  # noqa: E402


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _tree_cpu(pid: int) -> float:
    """CPU seconds used so far by ``pid`` and every process below it."""
    total, todo = 0.0, [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


def settle(pid: int, quiet: float = 0.02, window: float = 0.5, limit: float = 30.0) -> float:
    """Wait until the daemon and its processes are idle (a freshly started daemon imports
    pandas into its forkserver and warms a worker, on the cores the bench also uses): the
    bench times steady-state answers, not start-up. Returns the seconds waited."""
    t0 = time.monotonic()
    last = _tree_cpu(pid)
    while time.monotonic() - t0 < limit:
        time.sleep(window)
        now = _tree_cpu(pid)
        if now - last <= quiet:
            break
        last = now
    return time.monotonic() - t0


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--edits", type=int, default=10_000)
    ap.add_argument("--noops", type=int, default=100, help="no-op builds timed (after 5 more)")
    ap.add_argument("--out", type=Path, default=REPO / "bench/results/daemon.json")
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO / "daemon") + os.pathsep
           + os.environ.get("PYTHONPATH", "")}
    work = Path(tempfile.mkdtemp(prefix="weir-bench-daemon-"))
    root = work / "flow"
    try:
        info = generate(root, args.n)
        subprocess.run([sys.executable, "-m", "weir", "build", "--all", "--no-daemon"],
                       cwd=root, env=env, check=True, capture_output=True)
        subprocess.run([sys.executable, "-m", "weir", "daemon", "start"], cwd=root, env=env,
                       check=True, capture_output=True)
        client = DaemonClient.for_project(root)
        pid = client.health().pid
        events: queue.Queue = queue.Queue()
        ready = threading.Event()

        def read() -> None:
            for kind, data in client.events():
                if kind == "hello":
                    ready.set()
                elif kind == "flow":
                    events.put((time.perf_counter(), data))

        threading.Thread(target=read, daemon=True).start()
        assert ready.wait(10)
        layer = info["layers"] // 2
        path = root / f"recipes/d_{layer}_0.py"
        latencies: list[float] = []
        rss: list[tuple[int, float]] = [(0, rss_mib(pid))]
        for i in range(1, args.edits + 1):
            text = recipe_text(layer, 0, const=i)
            t0 = time.perf_counter()
            path.write_text(text)
            t1, data = events.get(timeout=10)
            assert data["files"] == [path.relative_to(root).as_posix()], data
            latencies.append((t1 - t0) * 1000)
            if i % 500 == 0:
                rss.append((i, rss_mib(pid)))
                print(f"{i:>6} edits: p50 {statistics.median(latencies):.1f} ms, "
                      f"p95 {pct(latencies, 95):.1f} ms, RSS {rss[-1][1]:.0f} MiB", flush=True)
        # Put the recipe back as it was built, then time no-op builds through the API.
        if args.edits:
            path.write_text(recipe_text(layer, 0, const=0))
            events.get(timeout=10)
        settled = settle(pid)
        noop: list[float] = []
        for i in range(args.noops + 5):
            t0 = time.perf_counter()
            build = client.start_build(all=True)
            final = client.wait(build.id)
            if i >= 5:  # the first ones warm the daemon's code paths
                noop.append((time.perf_counter() - t0) * 1000)
            assert final.state.value == "succeeded"
            assert not any(k == "job" for k, _ in client.build_events(build.id)), "not a no-op"
        reads: list[float] = []
        for _ in range(30):
            t0 = time.perf_counter()
            report = client.statuses()
            reads.append((time.perf_counter() - t0) * 1000)
        assert len(report.datasets) == args.n
        result = {
            "n": args.n, "edits": args.edits,
            "update_ms": {"p50": statistics.median(latencies), "p95": pct(latencies, 95),
                          "p99": pct(latencies, 99), "max": max(latencies)} if latencies
            else None,
            "settled_s": settled, "rss_mib": rss, "rss_growth_mib": rss[-1][1] - rss[1][1] if len(rss) > 1 else 0.0,
            "noop_build_ms": {"p50": statistics.median(noop), "p95": pct(noop, 95),
                              "max": max(noop), "runs": len(noop)},
            "status_read_ms": {"p50": statistics.median(reads), "p95": pct(reads, 95)},
            "load_average": os.getloadavg(),
        }
        print(json.dumps(result["update_ms"]), json.dumps(result["noop_build_ms"]),
              json.dumps(result["status_read_ms"]))
        if len(rss) > 1:
            print(f"RSS after 500 edits {rss[1][1]:.0f} MiB, after {args.edits} "
                  f"{rss[-1][1]:.0f} MiB")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
    finally:
        subprocess.run([sys.executable, "-m", "weir", "daemon", "stop"], cwd=root, env=env,
                       capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
