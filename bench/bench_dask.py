#!/usr/bin/env python3
"""The Dask executor against the local one on the synthetic layered Flow (bench_build.py's).

    python bench/bench_dask.py [--n 1000] [--repeats 3] [--workers 2] [--out FILE]

The bench starts a real Dask cluster on loopback — `dask scheduler` and ``--workers`` `dask
worker --nthreads 1`, each a process of its own — and, round after round (the first one a
warm-up, dropped), in alternating order so that both executors see the same machine:

  cold build   `weir build --all --no-daemon --json` as a subprocess, wall time, after resetting
               `.weir/` and the built data as bench_build's ``reset_cold`` does: `--executor
               local --jobs W` against `--executor dask://127.0.0.1:PORT` (W workers); every one
               of the N−10 recipes must be reported built
  per job      the same cold build run in this process through weir's ``Runner``, as `weir
               build` runs it, each job timed from its `start` event to its `finish` event; its
               overhead is that span less the job's own time as its worker measured it
               (``JobResult.seconds``): what the executor and the runner add to each job

Target (the Dask executor's issue): under 20 ms of overhead per job on Dask. The project's
`local` connection says `shared: true` (a cluster refuses storage its workers cannot reach)
in both executors' runs, so the projects are identical.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_build  # noqa: E402  (the same generated project, the same CLI runner)

TARGET_MS = 20.0
CONNECTIONS = """\
connections:
  local:
    type: filesystem
    root: data
    shared: true
"""


# -- the cluster --------------------------------------------------------------------------------

@dataclass
class Cluster:
    """A scheduler and its workers on loopback, each a process of its own (as tests/servers.py's
    ``start_dask``, without pytest)."""

    port: int
    processes: list[subprocess.Popen[bytes]]

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"dask://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) used so far by the scheduler and by the workers (each
        worker process and its nanny)."""
        return {"scheduler": tree_cpu(self.processes[0].pid),
                "workers": sum(tree_cpu(p.pid) for p in self.processes[1:])}

    def stop(self) -> None:
        for process in reversed(self.processes):  # the workers first, then the scheduler
            process.terminate()
        for process in reversed(self.processes):
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of ``pid`` and of its live descendants."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            stats[int(entry)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, ()))
        if p in stats:
            total += int(stats[p][11]) + int(stats[p][12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def start_cluster(workers: int, logs: Path) -> Cluster:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    logs.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(port, [])

    def spawn(module: str, log: str, *args: str) -> None:
        cluster.processes.append(subprocess.Popen(
            [sys.executable, "-m", f"distributed.cli.{module}", *args, "--no-dashboard"],
            env=bench_build.ENV, stdout=subprocess.DEVNULL, stderr=open(logs / log, "wb")))

    try:
        spawn("dask_scheduler", "scheduler.log", "--host", "127.0.0.1", "--port", str(port))
        for i in range(workers):
            spawn("dask_worker", f"worker-{i}.log", cluster.address, "--nthreads", "1",
                  "--name", f"worker-{i}", "--local-directory", str(logs / f"w{i}"))
        from distributed import Client

        with Client(cluster.address, timeout="30s", set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=60)
    except BaseException:
        cluster.stop()
        raise
    return cluster


# -- a cold build through the CLI ---------------------------------------------------------------

def cli_build(project: Path, executor: list[str], recipes: int) -> dict[str, Any]:
    bench_build.reset_cold(project)
    wall, result = bench_build.weir_json(project, "build", "--all", "--no-daemon", *executor)
    built = bench_build.built_names(result)
    if len(built) != recipes or len(result["datasets"]) != recipes:
        raise SystemExit(f"a cold build ({' '.join(executor)}) ran {len(built)} recipes, "
                         f"not {recipes}")
    return {"wall": wall, "built": len(built), "jobs_per_s": recipes / wall,
            "worker_seconds": sum(d["seconds"] for d in result["datasets"])}


# -- a cold build in this process, every job timed -----------------------------------------------

@dataclass
class JobTimes:
    start: float = 0.0  # the runner's `start` event
    submitted: float = 0.0  # pool.submit returned
    collected: float = 0.0  # pool.wait returned it
    finish: float = 0.0  # the runner's `finish` event (its output committed)
    seconds: float = 0.0  # the job's own time, as its worker measured it
    status: str = ""


@dataclass
class Timing:
    """The listener of a Runner, and the pool it drives wrapped: the times of each job."""

    jobs: dict[str, JobTimes] = field(default_factory=dict)

    def listen(self, kind: str, outcome: Any) -> None:
        now = time.perf_counter()
        job = self.jobs.setdefault(outcome.id, JobTimes())
        if kind == "start":
            job.start = now
        else:
            job.finish, job.seconds, job.status = now, outcome.seconds, outcome.status.value

    def wrap(self, pool: Any) -> Any:
        timing = self

        class Timed:
            def __getattr__(self, attr: str) -> Any:
                return getattr(pool, attr)

            @property
            def busy(self) -> int:
                return pool.busy

            def submit(self, job_id: str, job: Any) -> None:
                pool.submit(job_id, job)
                timing.jobs.setdefault(job_id, JobTimes()).submitted = time.perf_counter()

            def wait(self, timeout: float | None = None) -> list[Any]:
                done = pool.wait(timeout)
                now = time.perf_counter()
                for finished in done:
                    timing.jobs[finished.job].collected = now
                return done

        return Timed()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary_ms(values: list[float]) -> dict[str, float]:
    ms = [v * 1e3 for v in values]
    return {"median": statistics.median(ms), "p90": percentile(ms, 0.9),
            "mean": statistics.fmean(ms), "max": max(ms)}


def api_build(project: Path, jobs: int, on: Cluster | None, recipes: int) -> dict[str, Any]:
    """A cold `build --all` through weir's Python API, as `weir build` runs it (without the
    claims: nothing else builds here), every job's times recorded."""
    from weir.build.runner import Runner
    from weir.flow.plan import Mode
    from weir.workspace import Workspace

    bench_build.reset_cold(project)
    timing = Timing()
    executor_url = on.url if on is not None else None

    class TimedRunner(Runner):
        def _pool(self) -> Any:
            return timing.wrap(super()._pool())

    t0 = time.perf_counter()
    if executor_url is None:
        from weir.build.pool import prestart

        prestart()  # as `weir build` does: the forkserver imports pandas while it plans
    ws = Workspace.open(project)
    cluster = None
    try:
        snapshot = ws.snapshot()
        plan = ws.plan(ws.resolve_targets([], all_=True, snapshot=snapshot), Mode.REQUIRED,
                       snapshot)
        if executor_url is not None:
            from weir.build.dask_pool import connect, executor_flag

            executor = executor_flag(executor_url)
            assert executor is not None
            cluster = connect(executor)
        planned = time.perf_counter()
        cpu_before = (os.times(), on.cpu_seconds() if on is not None else {})
        result = TimedRunner(ws, plan, snapshot, jobs, listener=timing.listen,
                             cluster=cluster).run()
        mine = os.times()
        cpu = {"this_process": mine.user + mine.system - cpu_before[0].user
               - cpu_before[0].system}
        if on is not None:
            cpu.update((k, v - cpu_before[1][k]) for k, v in on.cpu_seconds().items())
    finally:
        if cluster is not None:
            cluster.close()
        ws.close()
    wall = time.perf_counter() - t0
    built = [t for t in timing.jobs.values() if t.status == "built"]
    if not result.ok or len(built) != recipes or len(timing.jobs) != recipes:
        raise SystemExit(f"an in-process build ({executor_url or 'local'}) built {len(built)} "
                         f"of {recipes} recipes (ok: {result.ok})")
    over = [t.finish - t.start - t.seconds for t in built]
    return {
        "wall": wall, "runner_seconds": result.seconds, "setup_seconds": planned - t0,
        "jobs_per_s": recipes / result.seconds,
        "worker_seconds": sum(t.seconds for t in built),
        "overhead_ms": summary_ms(over),
        "job_ms": summary_ms([t.seconds for t in built]),
        "parts_ms": {  # where the overhead goes (medians of the parts; they need not add up)
            "submit": summary_ms([t.submitted - t.start for t in built]),
            "round_trip_beyond_job": summary_ms([t.collected - t.submitted - t.seconds
                                                 for t in built]),
            "after_collected": summary_ms([t.finish - t.collected for t in built]),
        },
        # CPU per job: this process (the runner, and on Dask its client's threads), and on
        # Dask the scheduler and the workers (their nannies included)
        "cpu_ms_per_job": {k: v / recipes * 1e3 for k, v in cpu.items()},
        "overheads_ms": [round(v * 1e3, 3) for v in over],
    }


# -- the rounds ---------------------------------------------------------------------------------

def med(rows: list[dict[str, Any]], *path: str) -> float:
    def get(row: dict[str, Any]) -> float:
        for key in path:
            row = row[key]
        return float(row)  # type: ignore[arg-type]

    return statistics.median(get(r) for r in rows)


def table(results: dict[str, Any]) -> str:
    r = results["rounds"]
    loc, dsk = r["cli_local"], r["cli_dask"]
    al, ad = r["api_local"], r["api_dask"]
    w = results["workers"]
    rows = [
        ("cold `weir build --all`, wall (s)", med(loc, "wall"), med(dsk, "wall"), ".2f",
         med(r["ratios"], "cli_wall")),
        ("… jobs / s", med(loc, "jobs_per_s"), med(dsk, "jobs_per_s"), ".0f", None),
        ("in process: the Runner's build (s)", med(al, "runner_seconds"),
         med(ad, "runner_seconds"), ".2f", med(r["ratios"], "api_runner")),
        ("… jobs / s", med(al, "jobs_per_s"), med(ad, "jobs_per_s"), ".0f", None),
        ("per-job overhead, median (ms)", med(al, "overhead_ms", "median"),
         med(ad, "overhead_ms", "median"), ".2f", med(r["ratios"], "overhead_median")),
        ("per-job overhead, p90 (ms)", med(al, "overhead_ms", "p90"),
         med(ad, "overhead_ms", "p90"), ".2f", None),
        ("… submit (ms, median)", med(al, "parts_ms", "submit", "median"),
         med(ad, "parts_ms", "submit", "median"), ".2f", None),
        ("… round trip beyond the job (ms, median)",
         med(al, "parts_ms", "round_trip_beyond_job", "median"),
         med(ad, "parts_ms", "round_trip_beyond_job", "median"), ".2f", None),
        ("… collected to `finish` (commit) (ms, median)",
         med(al, "parts_ms", "after_collected", "median"),
         med(ad, "parts_ms", "after_collected", "median"), ".2f", None),
        ("the job in its worker, median (ms)", med(al, "job_ms", "median"),
         med(ad, "job_ms", "median"), ".2f", None),
        ("CPU of the building process per job (ms)", med(al, "cpu_ms_per_job", "this_process"),
         med(ad, "cpu_ms_per_job", "this_process"), ".2f", None),
    ]
    lines = [f"| N = {results['n']:,} ({results['recipes']} jobs), medians of "
             f"{results['repeats']} | local (`--jobs {w}`) | Dask ({w} workers) | "
             "Dask / local (same round) |", "|---|---|---|---|"]
    for label, a, b, fmt, ratio in rows:
        lines.append(f"| {label} | {a:{fmt}} | {b:{fmt}} | "
                     + (f"{ratio:.2f}×" if ratio is not None else "") + " |")
    lines.append(f"\nOn Dask, CPU per job of the scheduler "
                 f"{med(ad, 'cpu_ms_per_job', 'scheduler'):.2f} ms and of the workers "
                 f"(nannies included) {med(ad, 'cpu_ms_per_job', 'workers'):.2f} ms.")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=1000, help="datasets (sources included)")
    p.add_argument("--repeats", type=int, default=3, help="timed rounds (after one warm-up)")
    p.add_argument("--workers", type=int, default=2,
                   help="Dask workers (one thread each), and the local build's --jobs")
    p.add_argument("--out", type=Path, default=None,
                   help="results JSON (default: bench/results/dask-n<N>-<date>.json)")
    p.add_argument("--workdir", type=Path, default=None,
                   help="where to generate the project (default: a temporary directory)")
    args = p.parse_args()

    tmp = args.workdir or Path(tempfile.mkdtemp(prefix="weir-bench-dask-"))
    tmp.mkdir(parents=True, exist_ok=True)
    bench_build.ENV = bench_build.weir_env(tmp.resolve() / "pycache")
    # The in-process builds' local workers (forked from this process's forkserver) see the
    # same environment as the CLI's and the Dask workers.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ.update(bench_build.ENV)
    started = time.perf_counter()
    project = tmp / f"flow_{args.n}"
    info = bench_build.generate(project, args.n)
    (project / "connections.yaml").write_text(CONNECTIONS)
    recipes = info["recipes"]
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"), "n": args.n, "recipes": recipes,
        "repeats": args.repeats, "workers": args.workers,
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(),
                    "python": sys.version.split()[0], "executable": sys.executable,
                    "load_before": os.getloadavg()},
        "weir_source": bench_build.weir_source_hash(),
    }
    rounds: dict[str, list[dict[str, Any]]] = {k: [] for k in (
        "cli_local", "cli_dask", "api_local", "api_dask", "ratios")}
    cluster = start_cluster(args.workers, tmp / "dask")
    try:
        import distributed

        results["distributed"] = distributed.__version__
        local = ["--executor", "local", "--jobs", str(args.workers)]
        dask = ["--executor", cluster.url]
        print(f"N = {args.n} ({recipes} recipes); Dask at {cluster.address}, {args.workers} "
              f"workers; load {os.getloadavg()[0]:.2f}", file=sys.stderr, flush=True)
        for i in range(args.repeats + 1):  # round 0 warms up the page cache and the workers
            measures = {
                "cli_local": lambda: cli_build(project, local, recipes),
                "cli_dask": lambda: cli_build(project, dask, recipes),
                "api_local": lambda: api_build(project, args.workers, None, recipes),
                "api_dask": lambda: api_build(project, args.workers, cluster, recipes),
            }
            order = list(measures) if i % 2 == 0 else [  # Dask first every other round
                "cli_dask", "cli_local", "api_dask", "api_local"]
            got = {key: measures[key]() for key in order}
            print(f"round {i}{' (warm-up)' if i == 0 else ''}: cold build local "
                  f"{got['cli_local']['wall']:.2f} s, dask {got['cli_dask']['wall']:.2f} s; "
                  f"per-job overhead (median/p90) local "
                  f"{got['api_local']['overhead_ms']['median']:.2f}/"
                  f"{got['api_local']['overhead_ms']['p90']:.2f} ms, dask "
                  f"{got['api_dask']['overhead_ms']['median']:.2f}/"
                  f"{got['api_dask']['overhead_ms']['p90']:.2f} ms; load "
                  f"{os.getloadavg()[0]:.2f}", file=sys.stderr, flush=True)
            if i == 0:
                continue
            for key, value in got.items():
                rounds[key].append(value)
            rounds["ratios"].append({
                "cli_wall": got["cli_dask"]["wall"] / got["cli_local"]["wall"],
                "api_runner": got["api_dask"]["runner_seconds"]
                / got["api_local"]["runner_seconds"],
                "overhead_median": got["api_dask"]["overhead_ms"]["median"]
                / got["api_local"]["overhead_ms"]["median"]})
    finally:
        cluster.stop()
        if args.workdir is None:
            shutil.rmtree(tmp, ignore_errors=True)
    results["rounds"] = rounds
    results["machine"]["load_after"] = os.getloadavg()
    results["total_seconds"] = time.perf_counter() - started
    md = table(results)
    results["table_markdown"] = md
    dask_median = med(rounds["api_dask"], "overhead_ms", "median")
    results["target"] = (f"per-job overhead on Dask < {TARGET_MS:.0f} ms: median "
                         f"{dask_median:.2f} ms, p90 "
                         f"{med(rounds['api_dask'], 'overhead_ms', 'p90'):.2f} ms — "
                         f"{'MET' if dask_median < TARGET_MS else 'NOT MET'}")
    out = args.out or bench_build.HERE / "results" / f"dask-n{args.n}-{time.strftime('%Y%m%d')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print("\n" + md + "\n")
    print(results["target"])
    load = results["machine"]
    print(f"load average before {load['load_before'][0]:.2f}, after {load['load_after'][0]:.2f}"
          f" ({os.cpu_count()} cores)")
    print(f"\nresults: {out} (bench took {results['total_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
