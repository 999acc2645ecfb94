"""The daemon's scheduler under load: many scenarios on one-minute schedules, and its idle cost.

    python bench/bench_scenarios.py [--scenarios 200] [--minutes 10] [--watched 50]
                                    [--idle 180] [--out bench/results/scenarios.json]

A project with one source, one output (built before the daemon starts, so a scenario's build
step has nothing to do but plan: "trivial build steps") and ``--watched`` more sources.

1. *Idle*: ``--scenarios`` scenarios on a daily cron (never due while measured) and
   ``--watched`` scenarios with a `dataset_changed` trigger each, on its own source, polled at
   the default period (1 min). The daemon's CPU time (it and its worker processes, from
   /proc) over ``--idle`` seconds, as a share of one core.
2. *Load*: the scenario files are rewritten to `cron: "* * * * *"` (the daemon picks them up
   live), and for ``--minutes`` whole minutes every scenario is due each minute. Afterwards each
   scenario's history says when every run started: for each minute, exactly one run per
   scenario (none missed, none doubled), and how late it started after its due time (the
   minute). The daemon's memory (RSS of it and its workers) is sampled every 10 s: flat means
   the last minute's median is within 10 % of the second minute's.

Targets (issue 14): every run starts within 1 s of its due time, none missed or doubled, flat
memory; idle CPU under 2 % of a core.
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

REPO = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def family(pid: int) -> list[int]:
    """The process and its descendants (the daemon's forkserver and workers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            kids = []
        todo += [int(k) for k in kids]
    return out


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def rss_mib(pids: list[int]) -> float:
    total = 0
    for p in pids:
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1])
        except OSError:
            continue
    return total * PAGE / 2**20


def _remembered(root: Path) -> set[str]:
    """What the daemon's scheduler has saved (its `scheduler` table in the state store)."""
    import sqlite3

    with sqlite3.connect(root / ".weir/state.db") as db:
        try:
            return {k for (k,) in db.execute("SELECT key FROM scheduler")}
        except sqlite3.OperationalError:
            return set()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenarios", type=int, default=200)
    p.add_argument("--minutes", type=int, default=10)
    p.add_argument("--watched", type=int, default=50)
    p.add_argument("--idle", type=float, default=180.0)
    p.add_argument("--out", type=Path, default=REPO / "bench/results/scenarios.json")
    args = p.parse_args()

    root = Path(tempfile.mkdtemp(prefix="weir-bench-scenarios-"))
    env = {**os.environ, "PYTHONPATH": str(REPO / "daemon") + os.pathsep
           + os.environ.get("PYTHONPATH", "")}

    def weir(*argv: str) -> str:
        r = subprocess.run([sys.executable, "-m", "weir", *argv], cwd=root, env=env,
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            sys.exit(f"weir {' '.join(argv)} failed:\n{r.stdout}\n{r.stderr}")
        return r.stdout

    files = {
        "weir.yaml": "name: bench_scenarios\n",
        "connections.yaml": "connections:\n  landing:\n    type: filesystem\n    root: landing\n",
        "datasets/orders.yaml": "connection: landing\npath: orders.csv\n",
        "recipes/x.py": "from weir import recipe\n\n\n@recipe\ndef x(orders):\n"
                        "    return orders\n",
        "landing/orders.csv": "id,amount\n1,2.5\n2,3.5\n",
        ".gitignore": ".weir/\ndata/\n",
    }
    for i in range(args.watched):
        files[f"datasets/src{i:03}.yaml"] = f"connection: landing\npath: src{i:03}.csv\n"
        files[f"landing/src{i:03}.csv"] = "id\n1\n"
        files[f"scenarios/w{i:03}.yaml"] = (f"triggers:\n  - dataset_changed: src{i:03}\n"
                                           "steps:\n  - build: [x]\n")

    def scheduled(cron: str) -> None:
        for i in range(args.scenarios):
            path = root / f"scenarios/s{i:03}.yaml"
            tmp = path.with_suffix(".tmp")
            tmp.write_text(f'triggers:\n  - cron: "{cron}"\nsteps:\n  - build: [x]\n')
            os.replace(tmp, path)

    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "scenarios").mkdir(exist_ok=True)
    scheduled("0 3 * * *")
    for argv in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "bench"]):
        subprocess.run(["git", *argv], cwd=root, check=True)
    weir("build", "x", "--no-daemon")
    weir("daemon", "start")
    info = json.loads((root / ".weir/daemon.json").read_text())
    pid = info["pid"]
    sys.path.insert(0, str(REPO / "daemon"))
    from weir.client import DaemonClient

    client = DaemonClient.for_project(root)
    try:
        deadline = time.time() + 60
        while len(client.scenarios()) < args.scenarios + args.watched:
            if time.time() > deadline:
                sys.exit("the daemon did not list every scenario within 60 s")
            time.sleep(0.5)
        # Idle means after the first poll of each watched source (its baseline) is done.
        wanted = {f"seen:dataset:src{i:03}" for i in range(args.watched)}
        deadline = time.time() + 120
        while not wanted <= _remembered(root):
            if time.time() > deadline:
                sys.exit("the daemon did not look at every watched source within 120 s")
            time.sleep(0.5)
        # 1. Idle.
        pids = family(pid)
        c0, t0 = cpu_seconds(pids), time.monotonic()
        time.sleep(args.idle)
        pids = family(pid)
        idle = (cpu_seconds(pids) - c0) / (time.monotonic() - t0)
        print(f"idle: {idle * 100:.2f} % of a core with {args.scenarios} scheduled scenarios "
              f"and {args.watched} dataset_changed triggers ({args.idle:.0f} s)", flush=True)

        # 2. Load: every minute, from the next whole minute on.
        scheduled("* * * * *")
        deadline = time.time() + 60
        while sum(1 for s in client.scenarios() if s.next_run is not None
                  and s.next_run - time.time() <= 60) < args.scenarios:
            if time.time() > deadline:
                sys.exit("the daemon did not take the new schedules within 60 s")
            time.sleep(0.5)
        first = (int(time.time()) // 60 + 1) * 60
        last = first + (args.minutes - 1) * 60
        memory: list[tuple[float, float]] = []
        while time.time() < last + 50:
            memory.append((time.time(), rss_mib(family(pid))))
            time.sleep(10)
        late: list[float] = []
        missed = doubled = 0
        gaps: list[str] = []
        for i in range(args.scenarios):
            runs = [r for r in client.scenario_runs(f"s{i:03}", last=args.minutes + 10)
                    if first - 1 <= r.started < last + 59]
            by_minute: dict[int, list[float]] = {}
            for r in runs:
                by_minute.setdefault(int(r.started // 60) * 60, []).append(r.started)
            for minute in range(first, last + 1, 60):
                starts = by_minute.get(minute, [])
                if not starts:
                    missed += 1
                    gaps.append(f"s{i:03} at {time.strftime('%H:%M', time.gmtime(minute))} UTC")
                doubled += max(0, len(starts) - 1)
                late += [s - minute for s in starts]
            skipped = [r for r in runs if r.status == "skipped"]
            doubled += len(skipped)
        cpu = cpu_seconds(family(pid))
    finally:
        subprocess.run([sys.executable, "-m", "weir", "daemon", "stop"], cwd=root, env=env,
                       capture_output=True)
    late.sort()
    second = [m for t, m in memory if first + 60 <= t < first + 120]
    final = [m for t, m in memory if last - 60 <= t]
    result = {
        "scenarios": args.scenarios, "minutes": args.minutes, "watched": args.watched,
        "idle_cpu_share": idle, "runs": len(late), "expected": args.scenarios * args.minutes,
        "missed": missed, "doubled": doubled,
        "late_median": statistics.median(late) if late else None,
        "late_p99": late[int(len(late) * 0.99) - 1] if late else None,
        "late_max": late[-1] if late else None,
        "memory_mib_second_minute": statistics.median(second) if second else None,
        "memory_mib_last_minute": statistics.median(final) if final else None,
        "memory_samples": memory, "daemon_cpu_seconds": cpu, "missed_runs": gaps,
    }
    def said(key: str, unit: str, digits: int) -> str:
        value = result[key]
        return "–" if value is None else f"{value:.{digits}f} {unit}"

    print(f"load: {len(late)} runs of {args.scenarios * args.minutes} expected, {missed} missed, "
          f"{doubled} doubled; started after their due time: median "
          f"{said('late_median', 's', 3)}, p99 {said('late_p99', 's', 3)}, max "
          f"{said('late_max', 's', 3)}; memory {said('memory_mib_second_minute', 'MiB', 0)} in "
          f"the second minute, {said('memory_mib_last_minute', 'MiB', 0)} in the last")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    if gaps:  # what the daemon said is what to look at
        print("missed:", ", ".join(gaps[:20]))
        shutil.copy(root / ".weir/logs/daemon.log", args.out.with_suffix(".daemon.log"))
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
