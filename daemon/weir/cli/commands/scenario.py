"""``weir scenario list|run|history|show``: the project's scenarios (``scenarios/<name>.yaml``) —
what starts each, its steps, when its schedule next starts it, how it last went — and running
one now: through the project's daemon when one runs (its builds queue beside the others', and
its output streams here), else in this process."""

from __future__ import annotations

import argparse
import time
from typing import Any

from weir import wire
from weir.cli import output


def add_parser(p: argparse.ArgumentParser) -> None:
    subs = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = subs.add_parser("list", help="every scenario: its triggers, steps and next run")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    running = subs.add_parser("run", help="run a scenario now, step by step (through the "
                              "daemon when it runs)")
    running.add_argument("name", help="the scenario (scenarios/NAME.yaml)")
    running.add_argument("--json", action="store_true", help="machine-readable output")
    running.add_argument("--no-daemon", action="store_true",
                         help="run it in this process even if the project's daemon runs")
    history = subs.add_parser("history", help="a scenario's last runs, newest first")
    history.add_argument("name", help="the scenario")
    history.add_argument("--last", type=int, default=20, metavar="N", help="runs (default 20)")
    history.add_argument("--json", action="store_true", help="machine-readable output")
    show = subs.add_parser("show", help="one run: each step, its outcome and what it did")
    show.add_argument("run_id", metavar="RUN", help="a run id (from `weir scenario history`)")
    show.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    if args.action == "run":
        return run_now(args)
    if args.action == "history":
        return history_of(args)
    if args.action == "show":
        return show_run(args)
    from weir.scenarios.timing import summaries

    ws = output.open_workspace(args.project)
    from weir.client import DaemonClient, DaemonNotRunning

    client = DaemonClient.running(ws.root)
    listed = None
    try:  # the daemon knows what runs now and when its scheduler starts each next
        listed = client.scenarios() if client is not None else None
    except DaemonNotRunning:
        pass
    if listed is None:
        listed = summaries(ws.project.scenarios, time.time(), ws.state.last_scenario_runs())
    if args.json:
        output.print_json({"scenarios": [s.to_json() for s in listed]})
        return 0
    if not listed:
        output.out("no scenarios yet: add scenarios/<name>.yaml (docs/project-format.md)")
        return 0
    for s in listed:
        when = time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(s.next_run)) \
            if s.next_run is not None else "not scheduled"
        last = (f"  last: {s.last_status} {_when(s.last_finished)}"
                if s.last_status and s.last_finished else "")
        now = f"  running ({s.running})" if s.running else ""
        output.out(f"{output.style(s.name, 'bold')}  next: {when}{last}{now}  ({s.file})")
        for t in s.triggers:
            output.out(f"    on   {t}")
        for i, step in enumerate(s.steps, 1):
            output.out(f"    {i:>2}.  {step}")
    return 0


def run_now(args: argparse.Namespace) -> int:
    """`weir scenario run NAME`: its steps, with each line said as it comes (through the
    daemon when it runs); exit 1 when one failed."""
    from weir.scenarios.run import run_scenario, unknown_scenario

    ws = output.open_workspace(args.project)
    if args.name not in ws.project.scenarios:
        raise unknown_scenario(ws, args.name)
    report = None if args.no_daemon else _through_daemon(ws, args)
    if report is None:
        report = run_scenario(ws, args.name, "weir scenario run",
                              (lambda s: None) if args.json else output.out)
    if args.json:
        output.print_json(report.to_json())
    else:
        said = f"scenario {report.scenario} {report.status} in " \
            f"{report.finished - report.started:.1f}s"
        output.out(said + (f"; report: {', '.join(report.reports)}" if report.reports else ""))
    return 0 if report.ok else 1


def _through_daemon(ws: Any, args: argparse.Namespace) -> wire.ScenarioRunReport | None:
    """The run, by the daemon, its lines printed as they come; None when no daemon runs."""
    from weir.client import DaemonClient, DaemonNotRunning
    from weir.errors import WeirError

    client = DaemonClient.running(ws.root)
    if client is None:
        return None
    try:
        started = client.run_scenario(args.name, "weir scenario run")
    except DaemonNotRunning:
        return None
    if started.status == "skipped":
        raise WeirError(f"scenario {args.name} is running already (run {started.skipped_for}):"
                        " this start was skipped",
                        hint=f"`weir scenario show {started.skipped_for}` shows how it goes")
    for kind, data in client.scenario_events(started.run_id):
        if kind == "end":
            return wire.ScenarioRunReport.from_json(data)
        event = wire.ScenarioEvent.from_json(data)
        if event.event is wire.ScenarioEventKind.LINE and not args.json:
            output.out(event.line)
    return client.scenario_run(started.run_id)


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def history_of(args: argparse.Namespace) -> int:
    from weir.errors import WeirError

    ws = output.open_workspace(args.project)
    if args.last < 1:
        raise WeirError("--last must be at least 1")
    runs = ws.state.scenario_runs(args.name, args.last)
    if not runs and args.name not in ws.project.scenarios:
        from weir.model.suggest import did_you_mean

        best = did_you_mean(args.name, ws.project.scenarios)
        raise WeirError(f"no scenario '{args.name}'" + (f" ({best})" if best else ""),
                        hint="`weir scenario list` lists them")
    if args.json:
        output.print_json({"scenario": args.name, "runs": [r.to_json() for r in runs]})
        return 0
    if not runs:
        output.out(f"{args.name} has not run yet (`weir scenario run {args.name}`)")
        return 0
    for r in runs:
        mark = {"succeeded": "built", "skipped": "skipped"}.get(r.status, "failed")
        failed = [s.name for s in r.steps if s.status == "failed"]
        output.out(f"{output.mark(mark)} {r.run_id}  {_when(r.started)}  {r.status}"
                   f"  {r.finished - r.started:.1f}s  ({r.cause})"
                   + (f"  failed: {', '.join(failed)}" if failed else "")
                   + (f"  (it was running: {r.skipped_for})" if r.skipped_for else ""))
    return 0


def show_run(args: argparse.Namespace) -> int:
    from weir.errors import WeirError

    ws = output.open_workspace(args.project)
    r = ws.state.scenario_run(args.run_id)
    if r is None:  # a run in progress is the daemon's to say
        from weir.client import DaemonClient, DaemonError, DaemonNotRunning

        client = DaemonClient.running(ws.root)
        try:
            r = client.scenario_run(args.run_id) if client is not None else None
        except (DaemonNotRunning, DaemonError):
            r = None
    if r is None:
        raise WeirError(f"no scenario run '{args.run_id}'",
                        hint="`weir scenario history NAME` lists a scenario's runs")
    if args.json:
        output.print_json(r.to_json())
        return 0
    output.out(f"{output.style(r.scenario, 'bold')} {r.run_id}: {r.status} ({r.cause}), "
               f"{_when(r.started)}, {r.finished - r.started:.1f}s"
               + (f", commit {r.commit[:12]}" if r.commit else ""))
    for s in r.steps:
        mark = {"succeeded": "built", "failed": "failed", "skipped": "skipped"}[s.status]
        output.out(f"{output.mark(mark)} {s.name}  {s.status}"
                   + (f" after {s.attempts} attempts" if s.attempts > 1 else "")
                   + (f": {s.message}" if s.message else ""))
        for name, rows in s.built:
            output.out(f"    built {name}" + (f"  {rows:,} rows" if rows is not None else ""))
    for f in r.reports:
        output.out(f"report: {f}")
    return 0
