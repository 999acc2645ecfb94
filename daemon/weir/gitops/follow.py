"""git for a deploying daemon (`weir --env NAME daemon --follow`): fetch the environment's
branch from a remote, and check a commit out into a worktree of its own, detached at that
commit (`weir.gitops.tree` reads a commit's files first, so a broken one is judged before
anything is checked out).

The user's checkout is never touched: its HEAD, branch, index and files stay as they are. A
fetch updates only the remote-tracking ref of the branch followed (``REMOTE/BRANCH``), as
`git fetch` would.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from weir.errors import WeirError


def _repo(root: Path) -> Any:
    import git

    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise WeirError(f"{root} is not in a git repository: there is no branch to follow",
                        hint="`git init`, push it to a remote, then `weir --env NAME daemon "
                        "--follow`") from None


def _prefix(repo: Any, root: Path) -> str:
    """The project's folder in the repository ('' when the project is the repository)."""
    rel = os.path.relpath(os.path.realpath(root), os.path.realpath(repo.working_tree_dir))
    return "" if rel == "." else rel.replace(os.sep, "/")


def check_remote(root: Path, remote: str) -> None:
    """That the project's repository has ``remote``; else one error naming those it has."""
    repo = _repo(root)
    try:
        names = [r.name for r in repo.remotes]
    finally:
        repo.close()
    if remote not in names:
        raise WeirError(f"the project's repository has no remote '{remote}' to follow",
                        hint=(f"its remotes: {', '.join(names)} (`--follow NAME`)" if names
                              else "add one: `git remote add origin URL`"))


def fetch(root: Path, remote: str, branch: str) -> str:
    """Fetch ``branch`` from ``remote`` into ``REMOTE/BRANCH``; its commit there."""
    import git

    repo = _repo(root)
    try:
        tracking = f"refs/remotes/{remote}/{branch}"
        try:
            repo.remote(remote).fetch(f"+refs/heads/{branch}:{tracking}")
            return str(repo.commit(tracking).hexsha)
        except ValueError:  # GitPython: no such remote
            raise WeirError(f"the project's repository has no remote '{remote}'") from None
        except git.GitCommandError as exc:
            said = (exc.stderr or str(exc)).strip().replace("stderr: ", "").strip("'\n ")
            raise WeirError(f"cannot fetch {branch} from {remote}: {said}",
                            hint=f"is the branch on the remote? `git ls-remote {remote} "
                            f"{branch}`") from None
    finally:
        repo.close()


def add_worktree(root: Path, path: Path, commit: str) -> Path:
    """Check ``commit`` out at ``path``, a worktree of the project's repository with a
    detached HEAD (no branch is made or moved); the project's folder in it."""
    import git

    repo = _repo(root)
    try:
        prefix = _prefix(repo, root)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            repo.git.worktree("prune")  # one removed by hand is forgotten first
            try:
                repo.git.worktree("add", "--detach", str(path), commit)
            except git.GitCommandError as exc:
                raise WeirError(f"cannot check {commit[:10]} out at {path}: "
                                f"{(exc.stderr or str(exc)).strip()}") from None
        return path / prefix if prefix else path
    finally:
        repo.close()


def worktree_commit(path: Path) -> str | None:
    """The commit a worktree is at, or None when there is no worktree there."""
    import git

    if not (path / ".git").exists():
        return None
    try:
        repo = git.Repo(path)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    try:
        return str(repo.head.commit.hexsha)
    except ValueError:
        return None
    finally:
        repo.close()


def remove_worktree(root: Path, path: Path) -> None:
    """Remove a worktree (its files and git's record of it)."""
    import git

    repo = _repo(root)
    try:
        try:
            repo.git.worktree("remove", "--force", str(path))
        except git.GitCommandError:
            shutil.rmtree(path, ignore_errors=True)  # not one git knows: its files at least
            repo.git.worktree("prune")
    finally:
        repo.close()
