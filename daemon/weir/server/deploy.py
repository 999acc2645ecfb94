"""A deploying daemon (`weir --env NAME daemon --follow [REMOTE]`): it fetches the environment's
branch (weir.yaml's ``environments: NAME: {branch: …}``) from the remote every ``interval``
seconds and when asked (``POST /api/deploy/fetch``), and deploys each new head that reads
without errors.

Deploying a commit checks it out into a worktree of its own
(``<state dir>/worktrees/<commit>``, detached at that commit) and moves the daemon's Flow
there (``LiveProject.switch``). One worktree per commit, not one worktree moved from commit to
commit: a build or scenario run that took the previous Flow snapshot keeps running the
previous commit's recipes from the previous worktree, never a mix of two commits' code under
one set of fingerprints. Worktrees no longer deployed are removed once nothing runs.

A broken commit — the project at it has errors (``read_flow``'s diagnostics of severity
error, or a weir.yaml that cannot be used) — is judged from git's objects before anything is
checked out, and not deployed: the last good commit stays, and why is said on the event stream
(a `deploy` event), in ``GET /api/deploy`` and in the daemon's log. It is judged once: the same
head fetched again is no news.

Only the project's files come from the worktree. The state directory (state store,
daemon.json, logs, claims, kept outputs, this module's ``deploy.json``) stays the user's
checkout's ``wire.state_dir(root, env)``, so `weir --env prod status` and `weir --env prod
daemon status` run there find this daemon and its state; and relative connection roots resolve
against the checkout too (``Workspace.data_root``): where an environment's data lives must not
depend on which checkout built it.

Fetching and judging run on the deployer's own thread; its interval is measured with the
daemon's injected clock. Timestamps said (deployed at, fetched at) are wall-clock time.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir import wire
from weir.errors import WeirError
from weir.gitops import follow as gitops

if TYPE_CHECKING:
    from weir.server.daemon import Daemon

log = logging.getLogger("weir.daemon")
DEPLOY_FILE = "deploy.json"
WORKTREES = "worktrees"
DEFAULT_INTERVAL = 30.0
SAID = 3  # errors named in a skipped commit's reason


@dataclass(frozen=True)
class Following:
    """What a deploying daemon follows: checked once, before it starts (``following``)."""

    environment: str
    branch: str
    remote: str
    interval: float


def following(root: Path, environment: str | None, remote: str,
              interval: float = DEFAULT_INTERVAL) -> Following:
    """The branch ``--follow`` deploys, from the checkout's weir.yaml; each reason it cannot
    be followed (no environment, one without a branch, a remote the repository does not
    have) is one WeirError for the CLI to say."""
    from weir.model.loader import load_project

    if not environment:
        raise WeirError("`--follow` deploys an environment's branch: name the environment",
                        hint="`weir --env prod daemon --follow` (weir.yaml: `environments: "
                        "prod: {branch: main}`)")
    if not interval > 0:
        raise WeirError(f"--interval must be a positive number of seconds, not {interval:g}",
                        hint="e.g. `--interval 300`: a fetch every five minutes (default 30)")
    project, _ = load_project(root, environment=environment)
    if project is None:
        raise WeirError("weir.yaml cannot be read, so no branch can be followed",
                        hint="`weir status` says what is wrong with it")
    env = project.config.environments.get(environment)
    if env is None:
        raise WeirError(f"weir.yaml declares no environment '{environment}' to follow",
                        hint=f"declare it: `environments: {environment}: {{branch: main}}`")
    if not env.branch:
        raise WeirError(f"environment '{environment}' names no branch to follow",
                        hint=f"give it one in weir.yaml: `environments: {environment}: "
                        "{branch: main}`")
    gitops.check_remote(root, remote)
    return Following(environment, str(env.branch), remote, float(interval))


class Deployer:
    """The deploying daemon's fetch-judge-deploy loop, on a thread of its own. ``prepare``
    (before the daemon reads its Flow) says which directory to read it from; ``state`` is
    what ``GET /api/deploy`` answers."""

    def __init__(self, daemon: Daemon, follow: Following,
                 machine_connections: tuple[str, str] | None,
                 wall: Callable[[], float] = time.time) -> None:
        self.daemon = daemon
        self.follow = follow
        self.machine_connections = machine_connections
        self.wall = wall
        self.worktrees = daemon.state_dir / WORKTREES
        self._file = daemon.state_dir / DEPLOY_FILE
        self._cond = threading.Condition()
        self._asked = 0  # rounds asked for (POST /api/deploy/fetch) ...
        self._done = 0  # ... and the last of them a round has served
        self._stopping = False
        self._fresh = False  # deployed by prepare: the first fetch waits one interval
        self._thread: threading.Thread | None = None
        self.state = wire.Deployment(follow.environment, follow.branch, follow.remote,
                                     follow.interval)

    # -- starting -----------------------------------------------------------------------------
    def prepare(self) -> Path:
        """The directory of the deployed commit's project files: the one this daemon (or its
        predecessor) deployed last, if its worktree is still there; otherwise the branch's
        head, fetched, judged and checked out now — a head with errors leaves nothing to
        serve, which is said as the WeirError the daemon cannot start for."""
        saved = self._load()
        if saved is not None and saved.commit and saved.worktree \
                and gitops.worktree_commit(self._worktree(saved.commit)) == saved.commit:
            self.state = replace(saved, remote=self.follow.remote, branch=self.follow.branch,
                                 interval=self.follow.interval)
            return Path(saved.worktree)
        f = self.follow
        head = gitops.fetch(self.daemon.root, f.remote, f.branch)
        now = self.wall()
        self.state = replace(self.state, fetched_at=now, head=head)
        problem = self._problem(head)
        if problem is not None:
            raise WeirError(f"nothing to deploy: {f.remote}/{f.branch} is at {head[:10]}, "
                            f"whose project has errors: {problem}",
                            hint=f"push a fix to {f.branch}; the daemon deploys a commit "
                            "whose project reads without errors")
        self._fresh = True
        return self._check_out(head, now)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="weir-deploy", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(10)

    # -- asked ----------------------------------------------------------------------------------
    def fetch_now(self, timeout: float) -> tuple[wire.Deployment, bool]:
        """Ask for a round now and wait for it (the request's patience, in real seconds: it
        is not the deploy's schedule): what the daemon deploys then, and whether the round
        ended within ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._asked += 1
            ticket = self._asked
            self._cond.notify_all()
            while self._done < ticket and not self._stopping:
                left = deadline - time.monotonic()
                if left <= 0:
                    return self.state, False
                self._cond.wait(left)
        return self.state, self._done >= ticket

    # -- the loop -------------------------------------------------------------------------------
    def _run(self) -> None:
        clock = self.daemon.clock
        due = clock.now() + (self.follow.interval if self._fresh else 0.0)
        while True:
            with self._cond:
                while not self._stopping and self._asked == self._done and clock.now() < due:
                    clock.sleep_until(self._cond, due)
                if self._stopping:
                    return
                serving = self._asked
            try:
                self._round()
            except Exception:  # noqa: BLE001 - one failed round must not end the deploys
                log.exception("deploying %s failed", self.follow.branch)
            due = clock.now() + self.follow.interval
            with self._cond:
                self._done = serving
                self._cond.notify_all()

    def _round(self) -> None:
        """Fetch; judge a new head; deploy it, or say why not."""
        f = self.follow
        try:
            head = gitops.fetch(self.daemon.root, f.remote, f.branch)
        except WeirError as exc:
            news = exc.message != self.state.error
            self.state = replace(self.state, error=exc.message)
            if news:
                log.warning("deploy: %s", exc.message)
                self._said(wire.DeployEventKind.FETCH_FAILED, None, exc.message)
            return
        now = self.wall()
        self.state = replace(self.state, fetched_at=now, head=head, error=None)
        if head not in (self.state.commit, self.state.skipped_commit):
            problem = self._problem(head)
            if problem is None:
                path = self._check_out(head, now)
                self.daemon.deployed(path, f.branch)
                log.info("deploy: %s/%s at %s deployed (%s)", f.remote, f.branch, head[:10],
                         path)
                self._said(wire.DeployEventKind.DEPLOYED, head, f"deployed {head[:10]}")
            else:
                self.state = replace(self.state, skipped_commit=head, skipped_reason=problem)
                self._save()
                log.warning("deploy: %s/%s at %s not deployed, %s stays: %s", f.remote,
                            f.branch, head[:10], (self.state.commit or "?")[:10], problem)
                self._said(wire.DeployEventKind.SKIPPED, head,
                           f"{head[:10]} not deployed: {problem}")
        self._prune()

    # -- judging and deploying ------------------------------------------------------------------
    def _problem(self, commit: str) -> str | None:
        """Why the project at ``commit`` cannot be deployed (its errors, read from git's
        objects as the daemon would read the checked-out files), or None."""
        from weir.assemble import read_flow
        from weir.gitops.tree import files_at, open_repo

        try:
            with open_repo(self.daemon.root) as repo:
                files = files_at(repo, self.daemon.root, commit)
        except Exception as exc:  # noqa: BLE001 - a commit git cannot read is not deployable
            return f"its files cannot be read: {exc}"
        read = read_flow(self._worktree(commit), files=files,
                         machine_connections=self.machine_connections,
                         environment=self.follow.environment)
        errors = [d for d in read.diagnostics if d.severity is wire.Severity.ERROR]
        if not errors and read.flow is not None:
            return None
        if not errors:
            return "weir.yaml cannot be used"
        said = "; ".join(f"{d.location}: {d.message}" for d in errors[:SAID])
        return said + (f" (and {len(errors) - SAID} more)" if len(errors) > SAID else "")

    def _worktree(self, commit: str) -> Path:
        return self.worktrees / commit[:12]

    def _check_out(self, commit: str, now: float) -> Path:
        path = gitops.add_worktree(self.daemon.root, self._worktree(commit), commit)
        self.state = replace(self.state, commit=commit, deployed_at=now, worktree=str(path))
        self._save()
        return path

    def _prune(self) -> None:
        """Remove the worktrees of commits no longer deployed — only while no build or
        scenario run could still be reading one's recipes."""
        if not self.worktrees.is_dir() or not self.daemon.idle():
            return
        keep = self._worktree(self.state.commit).name if self.state.commit else None
        for path in self.worktrees.iterdir():
            if path.name != keep and path.is_dir():
                gitops.remove_worktree(self.daemon.root, path)
                log.info("deploy: removed the worktree of %s", path.name)

    # -- saying ---------------------------------------------------------------------------------
    def _said(self, kind: wire.DeployEventKind, commit: str | None, message: str) -> None:
        self.daemon.hub.publish("deploy", wire.DeployEvent(kind, commit, message,
                                                           self.state).to_json())

    def _save(self) -> None:
        """What was deployed survives a restart: the daemon serves it again at once."""
        tmp = self._file.with_name(f".{DEPLOY_FILE}.tmp")
        self._file.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(self.state.to_json()))
        tmp.replace(self._file)

    def _load(self) -> wire.Deployment | None:
        try:
            data: Any = json.loads(self._file.read_text())
            return wire.Deployment.from_json(data)
        except (OSError, ValueError, KeyError, TypeError):
            return None
