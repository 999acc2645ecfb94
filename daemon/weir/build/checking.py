"""Running datasets' checks on the data they hold now, without building: in workers, like a
build's jobs, so neither `weir check` nor the daemon (``POST /api/checks``) ever loads a
dataset into its own process. What they say is recorded like a build's checks."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Sequence

from weir import wire
from weir.build import specs
from weir.build.pool import WorkerPool, Workers
from weir.flow.fingerprint import check_components
from weir.workspace import DataStatus, Workspace


def check_now(ws: Workspace, names: Sequence[str], snapshot: DataStatus,
              workers: Workers | None = None) -> wire.CheckReport:
    """Each dataset's checks, at most as many at once as there are cores (``workers``: the
    daemon's warm ones). A source's verdict is also kept at its check fingerprint (as a build
    keeps it): checks that passed here are not run again by the next build on the same data,
    and a source they failed on is ``failed`` until its data or its checks change. A
    recipe's output keeps its status (it says whether the data is what its recipe makes);
    what its checks said is in `weir show`, the Flow page and the editor's hover."""
    current = {n: r.fingerprint for n, r in snapshot.records.items() if r.fingerprint}
    current.update({n: snapshot.expected[n] for n, d in ws.project.datasets.items()
                    if d.is_source and n in snapshot.expected})
    started: dict[str, float] = {}
    logs: dict[str, str] = {}
    run_id = time.strftime("check-%Y%m%d-%H%M%S-") + secrets.token_hex(3)
    waiting = list(names)
    found: dict[str, wire.DatasetChecks] = {}
    pool = WorkerPool(max(1, min(len(waiting), os.cpu_count() or 1)), workers)
    try:
        while waiting or pool.busy:
            while waiting and pool.has_capacity():
                name = waiting.pop(0)
                log = ws.state_dir / "logs" / "checks" / name / f"{run_id}.log"
                started[name], logs[name] = time.time(), str(log)
                pool.submit(name, specs.check_job(ws.project, ws.root, ws.data_root, log, name,
                                                        hint=""))
            for done in pool.wait(timeout=None):
                result = done.result
                said = (result.checks or {}).get(done.job)
                if said is None:  # not checked: no data, storage that cannot be used
                    error = (result.error or "not checked").split("\n  hint:")[0]
                    found[done.job] = wire.DatasetChecks(done.job, error=error)
                    continue
                ws.state.record_checks(run_id, done.job, said)
                comps = check_components(ws.flow, done.job, current) \
                    if ws.project.datasets[done.job].is_source else None
                if comps is not None:
                    ws.state.record_source_checked(
                        run_id, f"check:{done.job}", done.job, comps.fingerprint(done.job),
                        comps, started[done.job], logs[done.job],
                        None if result.ok else result.error)
                found[done.job] = wire.DatasetChecks(done.job, said)
    finally:
        pool.close()
    report = tuple(found[n] for n in names)
    ok = all(c.passed or c.severity is wire.Severity.WARNING for d in report for c in d.checks)
    return wire.CheckReport(ok, report)
