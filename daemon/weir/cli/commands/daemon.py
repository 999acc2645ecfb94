"""``weir daemon``: run the project's daemon in the foreground, or start/stop/status/logs it in
the background."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from weir import wire
from weir.cli import output
from weir.errors import WeirError


def add_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", nargs="?", default="run",
                   choices=["run", "start", "stop", "status", "logs"],
                   help="run in the foreground (default), or manage a background daemon")
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default "
                   "127.0.0.1: this machine only)")
    p.add_argument("--lines", "-n", type=int, default=50, help="with logs: how many lines")
    p.add_argument("--now", action="store_true",
                   help="with stop: cancel running builds instead of waiting for them")
    p.add_argument("--follow", nargs="?", const="origin", default=None, metavar="REMOTE",
                   help="with run/start and --env NAME: deploy the environment's branch — "
                   "fetch it from REMOTE (default origin), check each new commit out into a "
                   "worktree of its own and serve its Flow, keeping the last good commit "
                   "when one has errors")
    p.add_argument("--interval", type=float, default=30.0, metavar="SECONDS",
                   help="with --follow: seconds between two fetches (default 30)")


def _root(args: argparse.Namespace) -> Path:
    from weir.workspace import project_root

    return project_root(args.project)


def _alive(pid: int) -> bool:
    from weir.processes import process_alive

    return process_alive(pid)


def _answers(info: wire.DaemonInfo) -> bool:
    from weir.client import DaemonClient

    try:
        DaemonClient(info.url, info.token, timeout=2).health()
        return True
    except WeirError:
        return False


def _wait_for_builds(info: wire.DaemonInfo) -> None:
    """Let queued and running builds finish before stopping (Ctrl-C or --now cancels them)."""
    from weir.client import DaemonClient

    client = DaemonClient(info.url, info.token)
    said = False
    while True:
        try:
            busy = [b for b in client.builds() if not b.state.final]
        except WeirError:
            return
        if not busy:
            return
        if not said:
            output.out(f"Waiting for {len(busy)} build{'s' if len(busy) != 1 else ''} to "
                       "finish (`weir daemon stop --now` cancels them)…")
            said = True
        time.sleep(0.2)


def _deployed(d: wire.Deployment) -> str:
    """What a deploying daemon serves, for `weir daemon status`."""
    now = time.time()

    def ago(t: float | None) -> str:
        return "never" if t is None else f"{max(0.0, now - t):.0f}s ago"

    lines = [f"Deploying {d.remote}/{d.branch} (every {d.interval:g}s): "
             + (f"{d.commit[:10]} deployed {ago(d.deployed_at)}" if d.commit else
                "nothing deployed") + f", last fetched {ago(d.fetched_at)}"]
    if d.error:
        lines.append(f"  the last fetch failed: {d.error}")
    if d.skipped_commit:
        lines.append(f"  {d.skipped_commit[:10]} not deployed: {d.skipped_reason}")
    return "\n".join(lines)


def _last_words(log_path: Path) -> str:
    """The error a daemon that stopped at once wrote last (e.g. a --follow whose branch's
    head has errors), to say it where it was started."""
    try:
        lines = [line for line in log_path.read_text(errors="replace").splitlines() if line]
    except OSError:
        return ""
    said = [line for line in lines[-5:] if line.startswith("error:")]
    return f": {said[-1].removeprefix('error:').strip()}" if said else ""


def run(args: argparse.Namespace) -> int:
    from weir.workspace import active_environment

    root = _root(args)
    env = active_environment()  # each environment has its own daemon (wire.state_dir)
    log_path = wire.state_dir(root, env) / "logs" / "daemon.log"
    info = wire.DaemonInfo.read(root, env)
    where = f" in {env}" if env else ""
    running = info is not None and _alive(info.pid)
    follow = None
    if args.follow is not None and args.action in ("run", "start"):
        from weir.server.deploy import following

        follow = following(root, env, args.follow, args.interval)  # said before it starts
    elif args.follow is not None:
        raise WeirError(f"--follow goes with `weir daemon run` or `start`, not `{args.action}`",
                        hint="`weir --env NAME daemon status` says what a deploying daemon "
                        "deploys")
    if args.action == "run":
        from weir.server.daemon import Daemon

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                            datefmt="%H:%M:%S")
        Daemon(root, args.host, args.port, follow=follow).run()
        return 0
    if args.action == "start":
        if running:
            assert info is not None
            output.out(f"A daemon already runs for this project{where}: pid {info.pid}, "
                       f"{info.url}")
            output.out(f"Flow page: {info.page}")
            return 0
        log_path.parent.mkdir(parents=True, exist_ok=True)
        follow_args = ["--follow", follow.remote, "--interval", f"{follow.interval:g}"] \
            if follow is not None else []
        with open(log_path, "a") as log:
            proc = subprocess.Popen([sys.executable, "-m", "weir", "--project", str(root),
                                     "daemon", "run", "--host", args.host, "--port",
                                     str(args.port), *follow_args], stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            info = wire.DaemonInfo.read(root, env)
            if info and info.pid == proc.pid and _answers(info):
                output.out(f"Started the weir daemon{where}: pid {proc.pid}, {info.url} "
                           f"(logs: {output.rel(str(log_path), os.getcwd())})")
                output.out(f"Flow page: {info.page}")
                return 0
            if proc.poll() is not None:
                raise WeirError("the daemon stopped at once" + _last_words(log_path),
                                hint=f"see {log_path}")
            time.sleep(0.05)
        raise WeirError("the daemon did not start within 30 s", hint=f"see {log_path}")
    if args.action == "stop":
        if not running:
            output.out(f"No daemon runs for this project{where}.")
            return 0
        assert info is not None
        pid = info.pid
        if not args.now:
            _wait_for_builds(info)
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + 20
        while _alive(pid) and time.time() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        output.out(f"Stopped the weir daemon{where} (pid {pid}).")
        return 0
    if args.action == "status":
        if not running:
            output.out(f"No daemon runs for this project{where}.")
            return 1
        from weir.client import DaemonClient

        assert info is not None
        health = DaemonClient(info.url, info.token).health()
        up = time.time() - health.started
        output.out(f"weir daemon for {health.project}"
                   + (f" in {health.environment}" if health.environment else "")
                   + f": pid {health.pid}, {info.url}, "
                   f"up {up:.0f}s, Flow version {health.flow_version}, "
                   f"{output.count(health.errors, 'error')} in the project")
        deployment = DaemonClient(info.url, info.token).deployment()
        if deployment is not None:
            output.out(_deployed(deployment))
        output.out(f"Flow page: {info.page}")
        return 0
    # logs
    if not log_path.exists():
        raise WeirError("the daemon has no log yet", hint="`weir daemon start` writes one")
    lines = log_path.read_text(errors="replace").splitlines()[-args.lines:]
    output.out("\n".join(lines))
    return 0
