"""The commit a project is at, so a build can say which code produced a dataset."""

from __future__ import annotations

from pathlib import Path


def head_commit(root: Path) -> str | None:
    """HEAD's commit hash, with ``+`` appended when tracked files differ from it; None when the
    project is not in a git repository (or git cannot answer) — a build never fails for this."""
    try:
        import git

        repo = git.Repo(root, search_parent_directories=True)
        try:
            sha = repo.head.commit.hexsha
            dirty = repo.is_dirty(untracked_files=False)
        finally:
            repo.close()
    except Exception:  # noqa: BLE001 - no repo, no commit yet, no git binary: all mean "unknown"
        return None
    return sha + ("+" if dirty else "")
