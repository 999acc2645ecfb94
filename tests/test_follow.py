"""A deploying daemon (`weir --env prod daemon start --follow [REMOTE]`): it fetches the
environment's branch from a bare "remote" repository, deploys each new head that reads without
errors into a worktree of its own (a broken one is skipped, with its reason, and the last good
commit stays), fires the scenarios with a `commit` trigger on it, keeps its state and data in
the user's checkout — and never touches that checkout."""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import SMALL, git, run_weir, wait_until, write_files
from weir.client import DaemonClient
from weir.wire import DeployEvent, DeployEventKind

ENVIRONMENTS = """
environments:
  prod:
    branch: main
    connections:
      local: {root: prod-data}
  nobranch:
    description: no branch to follow
"""

ON_DEPLOY = """
triggers:
  - commit: main
    every: 1h           # never polled by time in a test: the deploy asks for the look
    debounce: 100ms
steps:
  - build: [orders_clean]
"""


def tracked(root: Path) -> dict[str, bytes]:
    """The user's checkout as git sees it: HEAD, branch, status and every tracked file."""
    files = {f: (root / f).read_bytes() for f in git(root, "ls-files").split()}
    return {"HEAD": git(root, "rev-parse", "HEAD").encode(),
            "branch": git(root, "branch", "--show-current").encode(),
            "status": git(root, "status", "--porcelain").encode(), **files}


@pytest.fixture
def repos(make_project, tmp_path: Path) -> tuple[Path, Path]:
    """The user's checkout (pushed to a bare remote, `origin`) and another clone of that
    remote, where the commits to deploy are made and pushed."""
    files = dict(SMALL)
    files["weir.yaml"] = textwrap.dedent(SMALL["weir.yaml"]).lstrip("\n") + ENVIRONMENTS
    files["scenarios/on_deploy.yaml"] = ON_DEPLOY
    files[".gitignore"] = ".weir/\ndata/\nprod-data/\n"
    project = make_project(files, name="shop")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(project, "remote", "add", "origin", str(remote))
    git(project, "push", "-q", "origin", "main")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    return project, other


def push(clone: Path, files: dict[str, str], message: str) -> str:
    write_files(clone, files)
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", message)
    git(clone, "push", "-q", "origin", "main")
    return git(clone, "rev-parse", "HEAD").strip()


@pytest.fixture
def following(repos: tuple[Path, Path]) -> Iterator[tuple[Path, Path, DaemonClient]]:
    project, other = repos
    r = run_weir("--env", "prod", "daemon", "start", "--follow", "--interval", "3600",
                 cwd=project)
    assert r.code == 0, r.text
    try:
        yield project, other, DaemonClient.for_project(project, "prod")
    finally:
        run_weir("--env", "prod", "daemon", "stop", "--now", cwd=project)


def names(client: DaemonClient) -> set[str]:
    return {n.name for n in client.flow().nodes}


def stream(client: DaemonClient) -> Iterator[tuple[str, Any]]:
    """The daemon's event stream, open (its first event, hello, arrived)."""
    events = client.events(idle_timeout=60)
    assert next(events)[0] == "hello"
    return events


def next_event(events: Iterator[tuple[str, Any]], kind: str,
               where: Callable[[Any], bool] = lambda data: True) -> Any:
    for k, data in events:
        if k == kind and where(data):
            return data
    raise AssertionError(f"the stream ended before a {kind} event")


def removed_but(worktrees: Path, commit: str, client: DaemonClient) -> bool:
    """Whether only ``commit``'s worktree is left (a fetch removes the others when idle)."""
    if [p.name for p in worktrees.iterdir()] == [commit[:12]]:
        return True
    client.deploy_fetch()
    return False


def test_it_deploys_good_commits_skips_broken_ones_and_leaves_the_checkout_alone(
        following: tuple[Path, Path, DaemonClient]) -> None:
    project, other, client = following
    before = tracked(project)
    first = before["HEAD"].decode().strip()

    # At start, with no worktree yet: the branch's head, fetched, is deployed at once.
    d = client.deployment()
    assert d is not None and (d.branch, d.remote, d.environment) == ("main", "origin", "prod")
    assert d.commit == first and d.deployed_at and d.fetched_at and d.error is None
    worktree = Path(d.worktree or "")
    assert worktree.parent == project / ".weir/env/prod/worktrees"
    assert git(worktree, "rev-parse", "HEAD").strip() == first
    assert git(worktree, "branch", "--show-current").strip() == ""  # detached
    assert names(client) == {"orders", "orders_clean", "customers", "per_customer"}
    # Its state is the checkout's: `weir --env prod daemon status` there finds it, and says
    # what is deployed.
    status = run_weir("--env", "prod", "daemon", "status", cwd=project)
    assert status.code == 0 and f"Deploying origin/main (every 3600s): {first[:10]} deployed" \
        in status.out, status.text
    assert client.health().root == str(project)

    # A good commit, pushed elsewhere, fetched on demand: deployed, with its new dataset, and
    # the scenario with a commit trigger on the branch runs on it.
    good = push(other, {"recipes/big.py": """
        from weir import recipe


        @recipe
        def big_orders(orders_clean):
            return orders_clean[orders_clean.amount > 5]
        """}, "big orders")
    events = stream(client)
    d = client.deploy_fetch()
    assert d.commit == good and d.head == good and d.skipped_commit is None, d
    assert "big_orders" in names(client)
    assert git(Path(d.worktree or ""), "rev-parse", "HEAD").strip() == good
    said = DeployEvent.from_json(next_event(events, "deploy"))
    assert (said.event, said.commit, said.deployment.commit) == (DeployEventKind.DEPLOYED,
                                                                 good, good)
    run = next_event(events, "scenario", lambda e: e["scenario"] == "on_deploy"
                     and e["event"] == "start")
    assert f"a new commit on main ({good[:10]})" in run["cause"], run
    done = client.wait_scenario(run["run_id"])
    assert done.status == "succeeded", done
    # Its data is where the checkout's prod keeps it (a relative root resolves against the
    # checkout, not the worktree), so `weir --env prod status` there sees it built.
    assert (project / "prod-data/small/orders_clean.parquet").exists()
    assert not (worktree.parent / good[:12] / "prod-data").exists()
    statuses = json.loads(run_weir("--env", "prod", "status", "--json", cwd=project).out)
    assert {s["name"]: s["status"] for s in statuses["datasets"]}["orders_clean"] == \
        "up to date", statuses

    # A broken commit (a recipe reading an input that does not exist): not deployed; the last
    # good commit stays, and the API and the log say why.
    bad = push(other, {"recipes/typo.py": """
        from weir import recipe


        @recipe
        def typo(orders_clen):
            return orders_clen
        """}, "typo")
    d = client.deploy_fetch()
    assert d.commit == good and d.head == bad and d.skipped_commit == bad, d
    said = DeployEvent.from_json(next_event(events, "deploy"))
    assert (said.event, said.commit, said.deployment.commit) == (DeployEventKind.SKIPPED,
                                                                 bad, good)
    assert "recipes/typo.py:5" in said.message
    assert d.skipped_reason and "recipes/typo.py:5" in d.skipped_reason \
        and "orders_clen" in d.skipped_reason, d.skipped_reason
    assert "typo" not in names(client) and "big_orders" in names(client)
    log = (project / ".weir/env/prod/logs/daemon.log").read_text()
    assert f"{bad[:10]} not deployed, {good[:10]} stays" in log, log
    status = run_weir("--env", "prod", "daemon", "status", cwd=project)
    assert f"{bad[:10]} not deployed: recipes/typo.py:5" in status.out, status.text
    # Fetched again, the same broken head is no news.
    assert client.deploy_fetch().skipped_commit == bad
    assert log.count("not deployed") == \
        (project / ".weir/env/prod/logs/daemon.log").read_text().count("not deployed")

    # The fix is deployed; the previous worktrees go once nothing runs.
    fixed = push(other, {"recipes/typo.py": """
        from weir import recipe


        @recipe
        def typo(orders_clean):
            return orders_clean
        """}, "fix the typo")
    d = client.deploy_fetch()
    assert d.commit == fixed and "typo" in names(client)
    wait_until(lambda: removed_but(worktree.parent, fixed, client),
               what="the old worktrees removed")
    assert {w.split()[0] for w in git(project, "worktree", "list").splitlines()} == \
        {str(project), str(worktree.parent / fixed[:12])}

    # A remote that does not answer: said, and what is deployed stays.
    remote = project.parent / "remote.git"
    remote.rename(remote.with_name("gone.git"))
    d = client.deploy_fetch()
    assert d.commit == fixed and d.error and "cannot fetch main from origin" in d.error, d
    said = DeployEvent.from_json(next_event(events, "deploy", lambda e: e["event"] ==
                                            DeployEventKind.FETCH_FAILED.value))
    assert said.deployment.commit == fixed
    status = run_weir("--env", "prod", "daemon", "status", cwd=project)
    assert "the last fetch failed: cannot fetch main from origin" in status.out, status.text

    # The user's checkout was never touched: HEAD, branch, status and files.
    assert tracked(project) == before


def test_it_fetches_on_its_interval_and_keeps_its_deploy_across_restarts(repos: tuple[Path, Path]) -> None:
    project, other = repos
    r = run_weir("--env", "prod", "daemon", "start", "--follow", "origin", "--interval", "0.2",
                 cwd=project)
    assert r.code == 0, r.text
    try:
        client = DaemonClient.for_project(project, "prod")
        events = stream(client)
        new = push(other, {"datasets/customers.yaml": "description: one row per customer\n"},
                   "describe")
        said = DeployEvent.from_json(next_event(events, "deploy"))
        assert said.commit == new and said.event is DeployEventKind.DEPLOYED, said
        # Restarted, it serves what it deployed at once (and fetches: nothing new).
        assert run_weir("--env", "prod", "daemon", "stop", cwd=project).code == 0
        r = run_weir("--env", "prod", "daemon", "start", "--follow", "--interval", "3600",
                     cwd=project)
        assert r.code == 0, r.text
        again = DaemonClient.for_project(project, "prod").deploy_fetch()
        assert (again.commit, again.deployed_at, again.head) == (new, said.deployment.deployed_at,
                                                                 new), again
    finally:
        run_weir("--env", "prod", "daemon", "stop", "--now", cwd=project)


def test_a_second_following_daemon_is_refused_before_it_deploys_anything(
        following: tuple[Path, Path, DaemonClient]) -> None:
    """The daemon lock comes first: a second daemon of the environment touches neither the
    worktrees nor deploy.json of the one that runs."""
    project, other, client = following
    push(other, {"datasets/customers.yaml": "description: newer\n"}, "newer, not fetched")
    state = project / ".weir/env/prod"
    before = (sorted(p.name for p in (state / "worktrees").iterdir()),
              (state / "deploy.json").read_bytes())
    r = run_weir("--env", "prod", "daemon", "run", "--follow", cwd=project)
    assert r.code == 2 and "a daemon already runs for this project in prod" in r.err, r.text
    assert (sorted(p.name for p in (state / "worktrees").iterdir()),
            (state / "deploy.json").read_bytes()) == before
    assert client.health().pid != 0  # the first one still answers


def test_a_broken_head_with_nothing_deployed_yet_does_not_start(repos: tuple[Path, Path]
                                                                 ) -> None:
    project, other = repos
    push(other, {"datasets/broken.yaml": "connection: [nope\n"}, "broken yaml")
    r = run_weir("--env", "prod", "daemon", "start", "--follow", cwd=project)
    assert r.code == 2, r.text
    assert "nothing to deploy: origin/main is at" in r.err and "datasets/broken.yaml" in r.err, \
        r.err
    assert "Traceback" not in r.text
    assert run_weir("--env", "prod", "daemon", "status", cwd=project).code == 1


@pytest.mark.parametrize(("args", "said"), [
    (("daemon", "run", "--follow"), "`--follow` deploys an environment's branch"),
    (("--env", "nobranch", "daemon", "start", "--follow"),
     "environment 'nobranch' names no branch to follow"),
    (("--env", "prod", "daemon", "run", "--follow", "upstream"),
     "the project's repository has no remote 'upstream' to follow"),
    (("--env", "prod", "daemon", "start", "--follow", "--interval", "0"),
     "--interval must be a positive number of seconds"),
    (("--env", "prod", "daemon", "status", "--follow"), "--follow goes with"),
])
def test_follow_arguments_that_cannot_work_are_one_clear_error(
        repos: tuple[Path, Path], args: tuple[str, ...], said: str) -> None:
    project, _ = repos
    r = run_weir(*args, cwd=project)
    assert r.code == 2, r.text
    assert f"error: {said}" in r.err and "hint:" in r.err, r.err
    assert "Traceback" not in r.text
    assert not (project / ".weir/env/prod/worktrees").exists()


def test_a_project_not_in_git_cannot_follow(make_project) -> None:
    files = dict(SMALL)
    files["weir.yaml"] = textwrap.dedent(SMALL["weir.yaml"]).lstrip("\n") + ENVIRONMENTS
    project = make_project(files, name="loose", commit=False)
    r = subprocess.run(["git", "rev-parse"], cwd=project, capture_output=True)
    if r.returncode == 0:
        pytest.skip("tmp_path is inside a git repository")
    r = run_weir("--env", "prod", "daemon", "start", "--follow", cwd=project)
    assert r.code == 2 and "is not in a git repository" in r.err, r.text
