"""Creating a project: copy the example template and make it a git repo with a first commit."""

from __future__ import annotations

import shutil
from pathlib import Path

from weir.errors import WeirError

GITIGNORE = ".weir/\ndata/\nprod-data/\n__pycache__/\n"


def template_dir() -> Path:
    """The example project: shipped inside the wheel, or beside the package in a checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "_template", here.parent.parent / "project-template"):
        if (candidate / "weir.yaml").is_file():
            return candidate
    raise WeirError("weir's example project is missing from this installation",
                    hint="reinstall weir (pip install --force-reinstall weir)")


def create_project(target: Path, git: bool = True) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise WeirError(f"{target} already exists and is not empty",
                        hint="choose a new directory name")
    source = template_dir()
    shutil.copytree(source, target, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", ".weir", "data"))
    gitignore = target / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text(GITIGNORE)
    if git:
        _git_init(target)


def _git_init(target: Path) -> None:
    try:
        import git
    except ImportError as exc:  # pragma: no cover - GitPython is a dependency
        raise WeirError("GitPython is not installed", hint="pip install GitPython") from exc
    try:
        repo = git.Repo.init(target, initial_branch="main")  # the example's prod branch
        repo.git.add(A=True)
        reader = repo.config_reader()
        has_identity = reader.has_option("user", "name") and reader.has_option("user", "email")
        actor = None if has_identity else git.Actor("weir", "weir@localhost")
        repo.index.commit("New weir project from the example", author=actor, committer=actor)
    except git.GitCommandNotFound:
        raise WeirError("git is not installed, so the project is not a git repository",
                        hint="install git, or pass --no-git") from None
