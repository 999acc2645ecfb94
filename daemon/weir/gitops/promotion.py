"""Moving an environment's branch to another's commit: the git half of `weir promote`.

Nothing here touches the user's work tree unless the branch moved is the one checked out
(then a fast-forward, which a clean tree takes as git itself would). A merge is computed by
`git merge-tree --write-tree` — in git's object store, not in a checkout — so a conflict
leaves every file and every ref as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from weir.errors import WeirError


@dataclass(frozen=True)
class Moved:
    how: str  # "created", "fast-forward", "merge", "unchanged"
    before: str | None  # the branch's commit before (None: it did not exist)
    after: str


def branch_head(repo: Any, branch: str) -> str | None:
    head = repo.heads[branch] if branch in repo.heads else None
    return None if head is None else str(head.commit.hexsha)


def checked_out(repo: Any) -> str | None:
    """The branch the user's work tree is on (None: a detached HEAD)."""
    try:
        return str(repo.active_branch.name)
    except TypeError:
        return None


def dirty_files(repo: Any) -> list[str]:
    """Tracked files that differ from HEAD (staged or not): a promotion refuses while there
    are any, since what is promoted must be what was built and checked."""
    changed = {d.a_path for d in repo.index.diff(None)}
    if repo.head.is_valid():
        changed |= {d.a_path for d in repo.index.diff("HEAD")}
    return sorted(changed)


def move_branch(repo: Any, branch: str, to: str, merge: bool, message: str) -> Moved:
    """Point ``branch`` at commit ``to``: create it, fast-forward it, or (``merge``) make a
    merge commit when it has commits ``to`` lacks. Refuses a non-fast-forward without
    ``merge``, and a merge with conflicts, with nothing changed."""
    before = branch_head(repo, branch)
    if before is None:
        repo.create_head(branch, to)
        return Moved("created", None, to)
    if before == to or repo.is_ancestor(to, before):
        return Moved("unchanged", before, before)
    if repo.is_ancestor(before, to):
        _set(repo, branch, before, to)
        return Moved("fast-forward", before, to)
    if not merge:
        ahead = sum(1 for _ in repo.iter_commits(f"{to}..{before}"))
        raise WeirError(f"{branch} has {ahead} commit{'s' if ahead != 1 else ''} that "
                        f"{to[:10]} does not: promoting it is not a fast-forward",
                        hint="pass --merge to make a merge commit, or bring those commits "
                        "into the source branch first")
    import git

    try:
        tree = repo.git.merge_tree("--write-tree", "--name-only", "--no-messages",
                                   before, to).splitlines()[0]
    except git.GitCommandError as exc:
        lines = str(exc.stdout or "").strip().strip("'").split("\n")
        files = [f for f in lines[1:] if f.strip()]
        raise WeirError(f"merging {to[:10]} into {branch} conflicts"
                        + (f" in {', '.join(files[:5])}" if files else "")
                        + "; nothing was changed",
                        hint=f"merge them yourself (`git checkout {branch} && git merge "
                        f"{to[:10]}`), then promote again") from None
    merged = repo.git.commit_tree(tree, "-p", before, "-p", to, "-m", message)
    _set(repo, branch, before, merged)
    return Moved("merge", before, merged)


def _set(repo: Any, branch: str, before: str, after: str) -> None:
    """Move the ref, checking it still is where we read it (another process may have moved it
    since); the checked-out branch moves with its files, by a fast-forward."""
    if checked_out(repo) == branch:
        repo.git.merge("--ff-only", "--quiet", after)
    else:
        repo.git.update_ref(f"refs/heads/{branch}", after, before)


def push(repo: Any, branch: str) -> str | None:
    """Push ``branch`` to its remote (its upstream's, else ``origin``, else the only one);
    None when the repository has none. A refused push is one clear error."""
    remotes = {r.name: r for r in repo.remotes}
    if not remotes:
        return None
    tracking = repo.heads[branch].tracking_branch()
    name = (tracking.remote_name if tracking is not None else
            "origin" if "origin" in remotes else sorted(remotes)[0])
    infos = remotes[name].push(f"refs/heads/{branch}:refs/heads/{branch}")
    import git

    bad = [i for i in infos if i.flags & (git.PushInfo.ERROR | git.PushInfo.REJECTED
                                            | git.PushInfo.REMOTE_REJECTED)]
    if bad or not infos:
        summary = bad[0].summary.strip() if bad else "no answer"
        raise WeirError(f"{branch} moved here, but pushing it to {name} failed: {summary}",
                        hint=f"`git push {name} {branch}` once {name} accepts it")
    return str(name)
