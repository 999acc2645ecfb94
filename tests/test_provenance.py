"""Provenance (`weir log x [--commit REF]`): every build records the git commit it ran at (and
whether the work tree differed), the environment and who started it — the CLI, the API
(`weir.client`), the editor, the Flow page, a scenario — and `weir log` lists a dataset's
versions across environments, or says which version a commit built."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import git, run_weir
from test_environments import project  # noqa: F401 - the fixture: SMALL with dev and prod
from weir import wire
from weir.client import DaemonClient


def log(root: Path, *args: str) -> wire.DatasetLog:
    r = run_weir(*args, "log", "orders_clean", "--json", cwd=root)
    assert r.code in (0, 1), r.text
    return wire.DatasetLog.from_json(json.loads(r.out))


def test_every_build_says_its_commit_environment_and_trigger(project: Path) -> None:  # noqa: F811
    first = git(project, "rev-parse", "HEAD").strip()
    assert run_weir("build", "orders_clean", cwd=project).code == 0
    assert run_weir("--env", "prod", "daemon", "start", cwd=project).code == 0
    try:
        client = DaemonClient.for_project(project, "prod")
        build = client.start_build(["orders_clean"], "force")  # an API client says nothing
        assert client.wait(build.id).state is wire.BuildState.SUCCEEDED
        editor = client.start_build(["orders_clean"], "force", by="editor")
        assert client.wait(editor.id).state is wire.BuildState.SUCCEEDED
    finally:
        run_weir("--env", "prod", "daemon", "stop", cwd=project)
    (project / "recipes/clean.py").write_text((project / "recipes/clean.py").read_text()
                                             + "\n# a local edit\n")
    assert run_weir("--env", "dev", "build", "--force", "orders_clean", cwd=project).code == 0

    everywhere = log(project)
    seen = [(v.environment, v.trigger, v.commit, v.dirty) for v in everywhere.versions]
    assert seen == [("dev", "CLI", first, True), ("prod", "editor", first, False),
                    ("prod", "API", first, False), (None, "CLI", first, False)], seen
    assert all(v.status == "built" and v.duration is not None for v in everywhere.versions)
    assert {v.environment: v.rows for v in everywhere.versions} == {None: 3, "dev": 3, "prod": 2}
    # --env: only that environment's versions
    assert {v.environment for v in log(project, "--env", "prod").versions} == {"prod"}

    # The text says the same, one version a line.
    r = run_weir("log", "orders_clean", cwd=project)
    assert r.code == 0 and r.out.count(first[:10]) == 4 and "editor" in r.out, r.text
    assert "+: the work tree differed" in r.out


def test_which_version_a_commit_built(project: Path) -> None:  # noqa: F811
    assert run_weir("build", "orders_clean", cwd=project).code == 0
    first = git(project, "rev-parse", "HEAD").strip()
    (project / "recipes/clean.py").write_text((project / "recipes/clean.py").read_text()
                                             .replace(">= var", "> var"))  # other code
    git(project, "commit", "-qam", "second")
    assert run_weir("build", "orders_clean", cwd=project).code == 0
    r = run_weir("log", "orders_clean", "--commit", "HEAD~1", "--json", cwd=project)
    found = wire.DatasetLog.from_json(json.loads(r.out))
    assert r.code == 0 and found.commit == first and len(found.versions) == 1
    assert found.versions[0].commit == first
    # a commit that built nothing of it: said, exit 1
    git(project, "commit", "-q", "--allow-empty", "-m", "third")
    r = run_weir("log", "orders_clean", "--commit", "HEAD", cwd=project)
    assert r.code == 1 and "no build of orders_clean at commit" in r.out, r.text
    # a revision git does not know: one error with a hint
    r = run_weir("log", "orders_clean", "--commit", "no-such-branch", cwd=project)
    assert r.code == 2 and "unknown git revision 'no-such-branch'" in r.err
    assert "hint:" in r.err and "Traceback" not in r.err
    r = run_weir("log", "orders_clen", cwd=project)
    assert r.code == 2 and "orders_clean" in r.err  # did you mean


def test_a_state_store_from_before_runs_said_who_and_where(tmp_path: Path) -> None:
    """An older store's runs gain the columns, and their trigger is read from the command."""
    import sqlite3

    from weir.build.state import StateStore

    db = tmp_path / "state.db"
    old = sqlite3.connect(db)
    old.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY, pid INTEGER, started REAL,"
                " finished REAL, status TEXT, command TEXT, git_commit TEXT)")
    old.execute("INSERT INTO runs VALUES ('r1', 1, 10.0, 11.0, 'ok', 'daemon build b2', 'abc+')")
    old.execute("INSERT INTO runs VALUES ('r2', 1, 12.0, 13.0, 'ok', 'build x', NULL)")
    old.commit()
    old.close()
    store = StateStore(db)
    try:
        for run, at in (("r1", 10.0), ("r2", 12.0)):
            store.db.execute("INSERT INTO builds (run_id, dataset, status, started, finished)"
                             " VALUES (?, 'x', 'built', ?, ?)", (run, at, at + 1))
        versions = store.versions("x")
    finally:
        store.close()
    assert [(v.run_id, v.trigger, v.commit, v.dirty) for v in versions] == [
        ("r2", "CLI", None, False), ("r1", "API", "abc", True)]
