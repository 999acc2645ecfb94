"""What an event trigger's poll looks at: a dataset's data version, a git branch's commit (in
the project's repo or on its remote), a project function's answer.

Each answers one value (None when it cannot tell now: storage unreachable, no such branch —
which is no news, not a change); ``weir.scenarios.triggers`` decides what is news.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from typing import Any

from weir import wire
from weir.errors import WeirError
from weir.model.project import Project
from weir.model.scenarios import Trigger

log = logging.getLogger("weir.daemon")


class DatasetVersions:
    """A source's data version as builds see it (content hash, ETag, a table's change
    probe), with a stat cache of its own so an unchanged file is not hashed again — for a
    partitioned source, its partitions with their versions, so a new `day=…` is a change; an
    output's version is its last committed build."""

    def __init__(self, root: Path, state_dir: Path | None = None) -> None:
        self.root = root
        self.state_dir = state_dir or wire.state_dir(root, None)  # the environment's
        self.known: dict[str, tuple[str, str]] = {}

    def version(self, project: Project, name: str) -> str | None:
        from weir.build.state import StateStore
        from weir.storage.backends import Backends
        from weir.storage.locations import (partitions_version, source_partitions,
                                            source_versions)

        ds = project.datasets.get(name)
        if ds is None:
            return None
        if not ds.is_source:
            store = StateStore(self.state_dir / "state.db")
            try:
                record = store.records().get(name)
            finally:
                store.close()
            if record is None or record.fingerprint is None or record.last_failed:
                return None
            return f"{record.fingerprint}@{record.built_at}"
        problems: dict[str, WeirError] = {}
        backends = Backends(self.root, project.connections)
        if ds.partitioning is not None:
            found = source_partitions(project, backends, problems, only=[name]).get(name)
            versions = {name: None if found is None or name in problems
                        else partitions_version(found)}
        else:
            versions, updates = source_versions(project, self.known, backends, problems,
                                                only=[name])
            self.known.update(updates)
        if name in problems:
            log.info("cannot look at %s for its dataset_changed trigger: %s", name,
                     problems[name].message)
        return versions.get(name)


def branch_commit(root: Path, branch: str, remote: bool) -> str | None:
    """The branch's head commit: in the project's repository, or (``remote``) on its remote
    (``origin``, or its only remote), asked with ``git ls-remote``."""
    import git

    try:
        repo = git.Repo(root, search_parent_directories=True)
    except Exception:  # noqa: BLE001 - not a repository (yet): nothing to watch
        return None
    try:
        if not remote:
            ref = repo.heads[branch] if branch in repo.heads else None
            return None if ref is None else ref.commit.hexsha
        remotes = [r.name for r in repo.remotes]
        name = "origin" if "origin" in remotes else (remotes[0] if len(remotes) == 1 else None)
        if name is None:
            return None
        out = subprocess.run(["git", "ls-remote", name, f"refs/heads/{branch}"],
                             cwd=repo.working_tree_dir, capture_output=True, text=True,
                             timeout=60)
        if out.returncode != 0:
            log.info("cannot ask remote %s for %s: %s", name, branch, out.stderr.strip())
            return None
        first = out.stdout.split()
        return first[0] if first else None
    except Exception as exc:  # noqa: BLE001 - a poll that cannot look says nothing
        log.info("cannot read branch %s: %s", branch, exc)
        return None
    finally:
        repo.close()


def condition(root: Path, scenario: str, trigger: Trigger) -> bool:
    """A python trigger's function, called in a process of its own within its time limit;
    whether it said to start (a failure says no, and is logged)."""
    from weir.scenarios.calling import call_function

    function = trigger.params["function"]
    try:
        value: Any = call_function(root, function, {"scenario": scenario},
                                   trigger.params["timeout"])
    except WeirError as exc:
        log.warning("scenario %s: its python trigger %s failed: %s", scenario, function,
                    exc.message)
        return False
    return bool(value)
