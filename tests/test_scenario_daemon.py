"""The daemon runs scenarios: on their triggers (an interval, a real git commit, a source's data
changing, another scenario ending), on request from another process through the API (and
cancelled from it), from `weir scenario run` with live output — its builds in the daemon's
build queue — and a broken scenario file is a diagnostic while the others keep running."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import SMALL, git, run_weir, wait_until, weir_env, write_files
from test_daemon import Events
from weir.client import DaemonClient

SLOW = '''
from pathlib import Path

from weir import recipe


@recipe
def held(orders):
    Path("gate").read_text()  # a FIFO: waits here until the test opens it
    return orders
'''


@pytest.fixture
def served(make_project: Callable[..., Path]):
    """A project with scenarios, served by a running daemon; its client and event stream."""
    made: list[Path] = []

    def serve(files: dict[str, str]) -> tuple[Path, DaemonClient, Events]:
        root = make_project({**SMALL, **files}, name="small")
        made.append(root)
        r = run_weir("daemon", "start", cwd=root)
        assert r.code == 0, r.text
        client = DaemonClient.running(root)
        assert client is not None
        return root, client, Events(root)

    yield serve
    Events.close_all()
    for root in made:
        run_weir("daemon", "stop", cwd=root)


def in_another_process(root: Path, code: str) -> dict:
    """Run ``code`` (which ends by printing JSON) in a fresh Python, as an outside scheduler
    would: only weir.client, talking HTTP to the daemon."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=root,
                         env=weir_env(), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_another_process_runs_a_scenario_through_the_api_waits_for_it_and_cancels_one(
        served, gates) -> None:
    root, client, events = served({
        "recipes/held.py": SLOW,
        "scenarios/quick.yaml": "steps:\n  - build: [per_customer]\n  - check: [orders]\n",
        "scenarios/slow.yaml": "steps:\n  - build: [held]\n  - build: [customers]\n",
        "datasets/orders.yaml": "connection: landing\npath: orders.csv\n"
                                "checks:\n  - not_null: [id]\n"})
    gate = gates(root / "gate")
    done = in_another_process(root, """
        import json
        from weir.client import DaemonClient

        client = DaemonClient.for_project(".")
        run = client.run_scenario("quick", cause="airflow dag nightly")
        report = client.wait_scenario(run.run_id)
        print(json.dumps({**report.to_json(), "first": run.status}))
        """)
    assert (done["first"], done["status"], done["cause"]) == (
        "running", "succeeded", "airflow dag nightly")
    assert [s["status"] for s in done["steps"]] == ["succeeded", "succeeded"]
    assert dict(map(tuple, done["steps"][0]["built"]))["per_customer"] == 3
    # Its build was one of the daemon's builds, said to be the scenario's.
    assert any(b.request.by == "scenario quick" and b.request.targets == ("per_customer",)
               for b in client.builds())

    slow = client.run_scenario("slow")
    gate.reached()  # its first build's job runs
    again = client.run_scenario("slow", cause="a second start")
    assert (again.status, again.skipped_for) == ("skipped", slow.run_id)
    events.next("scenario", lambda d: d["event"] == "skipped")
    cancelled = in_another_process(root, f"""
        import json
        from weir.client import DaemonClient

        client = DaemonClient.for_project(".")
        client.cancel_scenario("{slow.run_id}")
        print(json.dumps(client.wait_scenario("{slow.run_id}").to_json()))
        """)
    gate.forget()  # its job was killed with the build
    assert cancelled["status"] == "cancelled"
    assert [(s["status"], s["message"]) for s in cancelled["steps"]][1] == ("skipped",
                                                                           "cancelled")
    history = client.scenario_runs("slow")
    assert [r.status for r in history] == ["skipped", "cancelled"]  # newest first
    listed = {s.name: s for s in client.scenarios()}
    assert (listed["slow"].last_status, listed["slow"].running) == ("cancelled", None)
    assert listed["quick"].last_run == done["run_id"]


def test_the_cli_runs_a_scenario_through_the_daemon_with_live_output(served) -> None:
    root, client, _ = served({"scenarios/nightly.yaml": """
        steps:
          - build: [customers]
          - name: fails
            python: lib.ops:fail
        reporters:
          - report: [markdown]
          - webhook: {url: "http://127.0.0.1:9/nobody-listens", on: end}
        """, "lib/ops.py": "def fail(context):\n    print('looking at', context['scenario'])\n"
                           "    raise ValueError('the data is late')\n"})
    r = run_weir("scenario", "run", "nightly", cwd=root)
    assert r.code == 1, r.text
    assert "✓ build customers  succeeded" in r.out
    assert "| looking at nightly" in r.out  # what the function printed, as it printed it
    assert "✗ fails  failed: ValueError: the data is late" in r.out
    assert any(b.request.by == "scenario nightly" for b in client.builds())
    # A reporter that cannot send is said, and logged by the daemon; the run went on.
    assert "! the webhook reporter (line 7) could not send" in r.out
    assert "the webhook reporter (line 7) could not send" in (
        root / ".weir/logs/daemon.log").read_text()
    run_id = client.scenario_runs("nightly")[0].run_id
    md = (root / f".weir/reports/nightly/{run_id}.md").read_text()
    assert "## fails: what failed" in md and "raise ValueError('the data is late')" in md
    shown = run_weir("scenario", "show", run_id, "--json", cwd=root)
    assert json.loads(shown.out)["status"] == "failed"
    listed = run_weir("scenario", "list", cwd=root)
    assert "last: failed" in listed.out, listed.text


def test_a_commit_trigger_fires_on_a_real_git_commit_here_and_on_the_remote(
        served, tmp_path: Path) -> None:
    root, client, events = served({"scenarios/on_commit.yaml": """
        triggers:
          - commit: main
            every: 1s
            debounce: 0s
        steps:
          - build: [customers]
        """, "scenarios/on_push.yaml": """
        triggers:
          - commit: {branch: main, remote: true}
            every: 1s
            debounce: 0s
        steps:
          - build: [customers]
        """})
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    git(root, "remote", "add", "origin", str(remote))
    git(root, "push", "-q", "origin", "main")
    # The first look is where watching starts: no run for the commit already there.
    wait_until(lambda: _remembered(root, "seen:commit:main"), what="the first look at main")
    wait_until(lambda: _remembered(root, "seen:remote:main"), what="the first look at origin")
    assert client.scenario_runs("on_commit") == [] and client.scenario_runs("on_push") == []
    write_files(root, {"notes.md": "a change\n"})
    git(root, "add", "notes.md")
    git(root, "commit", "-qm", "a change")
    head = git(root, "rev-parse", "HEAD").strip()
    end = events.next("scenario", lambda d: d["event"] == "end" and d["scenario"] == "on_commit",
                      timeout=30)
    assert end["status"] == "succeeded" and f"a new commit on main ({head[:10]})" in end["cause"]
    assert client.scenario_runs("on_push") == []  # not pushed yet
    # Someone else pushes to the remote: the project's own branch does not move.
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(remote), str(other)], check=True)
    write_files(other, {"more.md": "pushed\n"})
    git(other, "add", "more.md")
    git(other, "commit", "-qm", "pushed from elsewhere")
    git(other, "push", "-q", "origin", "main")
    pushed = git(other, "rev-parse", "HEAD").strip()
    end = events.next("scenario", lambda d: d["event"] == "end" and d["scenario"] == "on_push",
                      timeout=30)
    assert f"a new commit on origin/main ({pushed[:10]})" in end["cause"]


def test_a_python_trigger_starts_a_run_when_its_function_says_so(served) -> None:
    root, client, events = served({
        "lib/ready.py": "from pathlib import Path\n\n\ndef landed(context):\n"
                        "    return Path('landing/READY').exists()\n\n\n"
                        "def hangs(context):\n    import threading\n"
                        "    threading.Event().wait()  # never set: only the time limit ends it\n",
        "scenarios/when_ready.yaml": "triggers:\n  - python: lib.ready:landed\n    every: 1s\n"
                                     "    debounce: 0s\nsteps:\n  - build: [customers]\n",
        "scenarios/never.yaml": "triggers:\n  - python: lib.ready:hangs\n    every: 1s\n"
                                "    timeout: 1s\nsteps:\n  - build: [customers]\n"})
    log = root / ".weir/logs/daemon.log"
    wait_until(lambda: "lib.ready:hangs failed: lib.ready:hangs took longer than its "
               "timeout (1s)" in log.read_text(), what="the hanging condition's time limit")
    assert client.scenario_runs("when_ready") == []
    (root / "landing/READY").write_text("")
    end = events.next("scenario", lambda d: d["event"] == "end", timeout=30)
    assert (end["scenario"], end["cause"]) == ("when_ready", "its python condition said so")
    assert client.scenario_runs("never") == []


def _watched(source: str, build: str) -> str:
    """A scenario file whose run a change of ``source`` starts at once."""
    return (f"triggers:\n  - dataset_changed: {source}\n    every: 1s\n    debounce: 0s\n"
            f"steps:\n  - build: [{build}]\n")


def _run_on_change(root: Path, events: Events, source: str, path: str, row: str) -> dict:
    """Once the daemon has first looked at ``source``, a row appended to ``path``; the end of
    the run that starts."""
    wait_until(lambda: _remembered(root, f"seen:dataset:{source}"),
               what=f"the first look at {source}")
    with open(root / path, "a") as f:
        f.write(row)
    return events.next("scenario", lambda d: d["event"] == "end", timeout=30)


def test_a_source_changing_starts_a_scenario_and_its_end_starts_the_next(served) -> None:
    root, client, events = served({
        "scenarios/landed.yaml": _watched("orders", "orders_clean"),
        "scenarios/after.yaml": "triggers:\n  - after: landed\n    outcome: success\n"
                                "    debounce: 0s\nsteps:\n  - build: [per_customer]\n"})
    first = _run_on_change(root, events, "orders", "landing/orders.csv", "5,d,99.0\n")
    assert (first["scenario"], first["status"], first["cause"]) == (
        "landed", "succeeded", "orders changed")
    second = events.next("scenario", lambda d: d["event"] == "end", timeout=30)
    assert (second["scenario"], second["cause"]) == ("after", "after landed (succeeded)")
    assert second["status"] == "succeeded"


def test_a_new_day_of_a_partitioned_source_starts_its_dataset_changed_scenario(
        served) -> None:
    """A partitioned source's version is its partitions: a new `day=…` directory is a change,
    and so is a partition whose files change."""
    days = {f"landing/events/day={d}/part-0.csv": "id,amount\n1,2.0\n"
            for d in ("2026-11-30", "2026-12-01")}
    root, client, events = served({
        **days,
        "datasets/events.yaml": "connection: landing\npath: events\nformat: csv\n"
                                "partitioning:\n  day: {column: day}\n",
        "scenarios/landed.yaml": _watched("events", "customers")})
    wait_until(lambda: _remembered(root, "seen:dataset:events"), what="the first look at events")
    landing = root / "landing/events/.day=2026-12-02"  # hidden: no partition until renamed
    landing.mkdir()
    (landing / "part-0.csv").write_text("id,amount\n3,1.0\n")
    landing.rename(landing.with_name("day=2026-12-02"))  # the day lands at once
    end = events.next("scenario", lambda d: d["event"] == "end", timeout=30)
    assert (end["scenario"], end["status"], end["cause"]) == ("landed", "succeeded",
                                                              "events changed")
    end = _run_on_change(root, events, "events", "landing/events/day=2026-11-30/part-0.csv",
                         "4,9.5\n")
    assert (end["scenario"], end["cause"]) == ("landed", "events changed")


def test_a_broken_scenario_file_is_a_diagnostic_and_the_others_keep_running(served) -> None:
    root, client, events = served({
        "scenarios/tick.yaml": "triggers:\n  - interval: 1s\nsteps:\n  - build: [customers]\n",
        "scenarios/other.yaml": "steps:\n  - build: [customers]\n"})
    events.next("scenario", lambda d: d["event"] == "end" and d["scenario"] == "tick",
                timeout=30)
    write_files(root, {"scenarios/other.yaml": "steps:\n  - bild: [customers]\n",
                       "scenarios/loop.yaml": "steps:\n  - run_scenario: loop\n",
                       "scenarios/cron.yaml": 'triggers:\n  - cron: "61 * * * *"\n'
                                              "steps:\n  - build: [customers]\n",
                       "scenarios/typo.yaml": "steps:\n  - build: [custmers]\n"})
    flow = events.flow_until(lambda f: len(f.diagnostics) >= 4, "the broken scenario files")
    said = {(d.file, d.line, d.code) for d in flow.diagnostics}
    assert {("scenarios/other.yaml", 2, "unknown-step"), ("scenarios/cron.yaml", 2, "invalid-cron"),
            ("scenarios/typo.yaml", 2, "unknown-dataset")} <= said
    assert any(d.code == "scenario-cycle" for d in flow.diagnostics)
    assert [s.name for s in client.scenarios()] == ["tick"]
    events.next("scenario", lambda d: d["event"] == "end" and d["scenario"] == "tick",
                timeout=30)  # still on its schedule
    r = run_weir("scenario", "run", "other", cwd=root)
    assert r.code == 2 and "no scenario 'other'" in r.err


def _remembered(root: Path, key: str) -> bool:
    import sqlite3

    with sqlite3.connect(root / ".weir/state.db") as db:
        try:
            return db.execute("SELECT 1 FROM scheduler WHERE key=?", (key,)).fetchone() is not None
        except sqlite3.OperationalError:
            return False


def test_a_run_whose_daemon_was_killed_is_interrupted_in_its_history(served, gates) -> None:
    import os
    import signal

    root, client, _ = served({"recipes/held.py": SLOW,
                              "scenarios/slow.yaml": "steps:\n  - build: [held]\n"})
    gate = gates(root / "gate")
    run = client.run_scenario("slow")
    gate.reached()
    assert client.scenario_runs("slow")[0].status == "running"
    os.kill(client.health().pid, signal.SIGKILL)
    wait_until(lambda: DaemonClient.running(root) is None, what="the daemon to be gone")
    gate.forget()
    assert run_weir("daemon", "start", cwd=root).code == 0
    again = DaemonClient.running(root)
    assert again is not None
    history = again.scenario_runs("slow")
    assert (history[0].run_id, history[0].status) == (run.run_id, "interrupted")
    assert "the daemon stopped" in (history[0].error or "")
