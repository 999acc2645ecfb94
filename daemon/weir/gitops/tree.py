"""A project as a commit holds it: its files read from git's objects, never from a checkout, so
`weir diff` and `weir promote` can compare commits without touching the user's work tree."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from weir.errors import WeirError
from weir.model.loader import is_project_file


@contextmanager
def open_repo(root: Path, why: str = "this") -> Iterator[Any]:
    """The git repository holding the project at ``root``; ``why`` says, in the error, what
    needed one ("weir diff", "--commit")."""
    try:
        import git

        repo = git.Repo(str(root), search_parent_directories=True)
    except Exception:  # noqa: BLE001 - not a repository, no git binary: one answer
        raise WeirError(f"{why} needs the project to be in a git repository",
                        hint="`git init` it, or `weir init DIR` makes a project that is") from None
    try:
        yield repo
    finally:
        repo.close()


def resolve(repo: Any, ref: str) -> str:
    """REF (a sha, branch, tag, ``HEAD~2``…) as a full commit sha, or one clear error."""
    try:
        return str(repo.commit(ref).hexsha)
    except Exception:  # noqa: BLE001 - gitdb's BadName, ValueError…: the ref does not resolve
        raise WeirError(f"unknown git revision '{ref}'",
                        hint="give a commit sha, a branch or a tag (`git log --oneline`)"
                        ) from None


def project_prefix(repo: Any, root: Path) -> str:
    """Where the project stands in the repository ('' at its top, else 'sub/dir/')."""
    top = Path(repo.working_tree_dir).resolve()
    rel = root.resolve().relative_to(top).as_posix()
    return "" if rel == "." else rel + "/"


def files_at(repo: Any, root: Path, sha: str) -> dict[str, bytes]:
    """Every file defining the Flow at commit ``sha``, by project-relative path, as
    ``read_flow(files=…)`` takes them. A commit without the project has no files: the reader
    then says weir.yaml is missing. The blobs are read in one `git cat-file --batch` (one
    request each through GitPython's object database would cost a round trip per file)."""
    prefix = project_prefix(repo, root)
    tree = repo.commit(sha).tree
    if prefix:
        try:
            tree = tree / prefix.rstrip("/")
        except KeyError:
            return {}
    wanted: dict[str, str] = {}  # blob sha -> path (paths with equal content share one)
    paths: list[tuple[str, str]] = []
    for item in tree.traverse():
        if item.type != "blob":
            continue
        rel = item.path[len(prefix):]
        if is_project_file(rel):
            wanted.setdefault(item.hexsha, rel)
            paths.append((rel, item.hexsha))
    blobs = _from_work_tree(root, wanted)
    blobs.update(_read_blobs(repo, [h for h in wanted if h not in blobs]))
    return {rel: blobs[hexsha] for rel, hexsha in paths}


def _from_work_tree(root: Path, wanted: dict[str, str]) -> dict[str, bytes]:
    """The blobs the checkout holds as they are: a file whose content hashes to the blob's id
    *is* that blob (git's own object id), and reading it costs less than asking git for it —
    most files of a commit near HEAD are unchanged."""
    found: dict[str, bytes] = {}
    for hexsha, rel in wanted.items():
        try:
            data = (root / rel).read_bytes()
        except OSError:
            continue
        if hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == hexsha:
            found[hexsha] = data
    return found


def _read_blobs(repo: Any, shas: list[str]) -> dict[str, bytes]:
    if not shas:
        return {}
    with tempfile.TemporaryFile() as requests:
        requests.write("".join(f"{s}\n" for s in shas).encode())
        requests.seek(0)
        out: bytes = repo.git.cat_file("--batch", istream=requests, stdout_as_string=False,
                                       strip_newline_in_stdout=False)
    blobs: dict[str, bytes] = {}
    at = 0
    for sha in shas:
        end = out.index(b"\n", at)
        header = out[at:end].split()
        size = int(header[2])
        blobs[sha] = out[end + 1:end + 1 + size]
        at = end + 1 + size + 1  # the content, then a newline
    return blobs
