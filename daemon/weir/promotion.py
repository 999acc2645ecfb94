"""`weir promote SOURCE TARGET`: move TARGET's branch to what SOURCE built and checked.

The gates read the source branch's head as git holds it (never a checkout) in SOURCE's
environment, against SOURCE's state store: a commit whose datasets are not all up to date
there — failed, stale, never built, a source whose checks failed — is not promoted, so what
reaches the target is what was built and checked. The target then gets it by a git operation
(`weir.gitops.promotion`), and its next build copies what SOURCE built at the same
fingerprints (`weir.build.reuse`) instead of running recipes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from weir import wire
from weir.errors import WeirError
from weir.flow.plan import Mode, stale
from weir.model.diagnostics import Diagnostic
from weir.model.environments import Environment, unknown_environment
from weir.model.project import ProjectConfig
from weir.model.parse_cache import ParseCache
from weir.revisions import Revision, at_commit, diff
from weir.workspace import Workspace, machine_connections_file, parse_cache


@dataclass(frozen=True)
class Sides:
    """The two environments of a promotion, and the source branch's head."""

    source: Environment
    target: Environment
    source_commit: str


def environments(config: ProjectConfig, source: str, target: str
                 ) -> tuple[Environment, Environment]:
    """SOURCE and TARGET as weir.yaml declares them, each with its branch."""
    found = []
    for name in (source, target):
        env = config.environments.get(name)
        if env is None:
            d = unknown_environment("weir.yaml", name, config.environments,
                                    config.environments_line)
            raise WeirError(f"weir.yaml:{d.line}: {d.message}", hint=d.hint)
        if not env.branch:
            raise WeirError(f"weir.yaml:{env.line}: environment '{name}' names no git branch",
                            hint=f"add `branch: NAME` under `{name}:` in weir.yaml's "
                            "environments")
        found.append(env)
    if found[0].branch == found[1].branch:
        raise WeirError(f"{source} and {target} are both on branch {found[0].branch}: there is "
                        "nothing to promote", hint="give each environment its own branch")
    return found[0], found[1]


def read_in(repo: Any, root: Path, sha: str, environment: str, cache: ParseCache,
            files: dict[str, dict[str, bytes]]) -> Workspace:
    """The project at commit ``sha``, read in ``environment``, as a workspace over that
    environment's state (its status is the commit's in that environment). ``files``: each
    commit's files, read once for every environment it is read in."""
    rev = at_commit(repo, root, sha, environment, machine_connections_file(), cache, files)
    if rev.errors:
        raise WeirError(f"{sha[:10]} has {_count(len(rev.errors), 'error')} in the project: "
                        f"{_where(rev.errors[0])}",
                        hint="a commit whose project does not read cannot be promoted; fix "
                        "it on the source branch")
    assert rev.flow is not None
    return Workspace(root, rev.flow.project, rev.flow, [])


def gate(ws: Workspace, env: Environment, sha: str) -> None:
    """Refuse, saying why, unless every dataset of the commit is up to date in ``env``."""
    snap = ws.snapshot()
    bad = stale(snap.statuses)
    if not bad:
        return
    failed = [n for n in bad if snap.statuses[n].state is wire.DatasetState.FAILED]
    named = failed or bad
    listed = "; ".join(f"{n} ({snap.statuses[n].state.value}"
                       + (f": {snap.statuses[n].reasons[0]}" if snap.statuses[n].reasons else "")
                       + ")" for n in named[:3]) + (f" and {len(named) - 3} more"
                                                    if len(named) > 3 else "")
    if failed:
        raise WeirError(f"{env.branch} ({sha[:10]}) cannot be promoted: "
                        f"{_count(len(failed), 'dataset')} failed in {env.name} — {listed}",
                        hint=f"fix them and build in {env.name} (`weir --env {env.name} build "
                        "--stale`); `weir --env " + env.name + " status` says why")
    raise WeirError(f"{env.branch} ({sha[:10]}) cannot be promoted: "
                    f"{_count(len(bad), 'dataset')} not built at this commit in {env.name} — "
                    f"{listed}", hint=f"build them first: `weir --env {env.name} build --stale`")


def fates(ws: Workspace) -> tuple[tuple[wire.PromotedDataset, ...], int]:
    """What the target's next build of the whole Flow does for each dataset (only those it
    builds), and how many are up to date already."""
    from weir.build.reuse import explain

    snap = ws.snapshot()
    targets = [n for n in ws.flow.order if not ws.project.datasets[n].is_source]
    plan = ws.plan(targets, Mode.REQUIRED, snap)
    out: list[wire.PromotedDataset] = []
    runs = [o for j in plan.jobs if j.action is wire.Action.RUN for o in j.outputs]
    why_not = explain(ws, snap.expected, snap.components, runs)
    for job in plan.jobs:
        for o in job.outputs:
            reasons = job.reasons.get(o, ())
            if job.action is wire.Action.RUN:
                out.append(wire.PromotedDataset(o, wire.Fate.REBUILD, None,
                                                (*reasons, why_not.get(o, ""))
                                                if why_not.get(o) else tuple(reasons)))
            elif o in job.reused_from:
                out.append(wire.PromotedDataset(o, wire.Fate.REUSE, job.reused_from[o],
                                                tuple(reasons)))
            else:
                out.append(wire.PromotedDataset(o, wire.Fate.RESTORE, None, tuple(reasons)))
    return tuple(out), len(targets) - len(out)


def promote(root: Path, config: ProjectConfig, source: str, target: str, *,
            merge: bool = False, dry_run: bool = False, push: bool = True, by: str = "CLI"
            ) -> tuple[wire.Promotion, int]:
    """Check SOURCE's head and move TARGET's branch to it (``dry_run``: only say what TARGET
    would get: the diff and each dataset's fate). Returns the promotion and, for a dry run,
    how many datasets TARGET already has up to date. The work tree's Flow is never read: what
    is promoted is a commit, read from git."""
    from weir.gitops.promotion import branch_head, dirty_files, move_branch
    from weir.gitops.promotion import push as push_branch
    from weir.gitops.tree import open_repo

    src, dst = environments(config, source, target)
    assert src.branch is not None and dst.branch is not None
    with open_repo(root, "weir promote") as repo:
        if not dry_run:
            dirty = dirty_files(repo)
            if dirty:
                raise WeirError(f"the work tree has uncommitted changes ({', '.join(dirty[:3])}"
                                + (f" and {len(dirty) - 3} more" if len(dirty) > 3 else "")
                                + ")", hint="commit them (and build them in "
                                f"{source}) or set them aside, then promote")
        sha = branch_head(repo, src.branch)
        if sha is None:
            raise WeirError(f"{source}'s branch {src.branch} does not exist",
                            hint=f"create it (`git branch {src.branch}`) or fix `branch:` in "
                            "weir.yaml")
        before = branch_head(repo, dst.branch)
        cache = parse_cache(root)
        files: dict[str, dict[str, bytes]] = {}
        in_source = read_in(repo, root, sha, source, cache, files)
        try:
            gate(in_source, src, sha)
        finally:
            in_source.close()
        now = time.time()
        if dry_run:
            base = (at_commit(repo, root, before, target, machine_connections_file(), cache,
                              files) if before else None)
            in_target = read_in(repo, root, sha, target, cache, files)
            cache.save()
            changes = (diff(base, Revision(src.branch, sha, in_target.flow), target)
                       if base else None)
            try:
                datasets, fine = fates(in_target)
            finally:
                in_target.close()
            return wire.Promotion(source, target, src.branch, dst.branch, sha, before, None,
                                  "dry run", now, None, by, changes, datasets), fine
        cache.save()
        moved = move_branch(repo, dst.branch, sha, merge,
                            f"Promote {source} ({sha[:10]}) to {target}")
        pushed = push_branch(repo, dst.branch) if push and moved.how != "unchanged" else None
    promotion = wire.Promotion(source, target, src.branch, dst.branch, sha, moved.before,
                               moved.after, moved.how, now, pushed, by)
    if moved.how != "unchanged":
        from weir.build.state import StateStore

        store = StateStore(wire.state_dir(root, target) / "state.db")
        try:
            store.record_promotion(promotion)
        finally:
            store.close()
    return promotion, 0


def history(root: Path, config: ProjectConfig, target: str | None, limit: int
            ) -> list[wire.Promotion]:
    """The promotions into ``target`` (every environment's, newest first, without one)."""
    from weir.build.state import StateStore

    names: Mapping[str, Environment] = config.environments
    found: list[wire.Promotion] = []
    for name in ([target] if target else list(names)):
        path = wire.state_dir(root, name) / "state.db"
        if path.is_file():
            store = StateStore(path)
            try:
                found += store.promotions(limit)
            finally:
                store.close()
    return sorted(found, key=lambda p: p.at, reverse=True)[:limit]


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _where(d: Diagnostic) -> str:
    return f"{d.file}:{d.line}: {d.message}"
