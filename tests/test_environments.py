"""Environments (weir.yaml's `environments:`, `weir --env NAME`, `WEIR_ENV`): each reads the
project with its own connection keys and variables and keeps its own state, so a build in one
never makes another look up to date; a mistake in the section, or an environment that is not
declared, is one diagnostic at weir.yaml's line with a hint."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest

from conftest import SMALL, run_weir

BASE = textwrap.dedent(SMALL["weir.yaml"]).lstrip("\n")  # 4 lines: name, variables

ENVIRONMENTS = """
environments:
  dev:
    branch: dev
    description: everyone's own
  prod:
    branch: main
    connections:
      local: {root: prod-data}
    variables:
      min_amount: 5
"""


@pytest.fixture
def project(make_project) -> Path:
    files = dict(SMALL)
    files["weir.yaml"] = BASE + ENVIRONMENTS
    return make_project(files, name="envs")


def statuses(root: Path, *env: str) -> dict[str, str]:
    r = run_weir(*env, "status", "--json", cwd=root)
    assert r.code == 0, r.text
    return {d["name"]: d["status"] for d in json.loads(r.out)["datasets"]}


def test_each_environment_has_its_connections_variables_and_state(project: Path) -> None:
    r = run_weir("--env", "dev", "build", "orders_clean", cwd=project)
    assert r.code == 0, r.text
    assert "small · environment dev (branch dev)" in r.err  # the header says where it runs
    dev = pq.read_table(project / "data/small/orders_clean.parquet")
    assert dev.num_rows == 3  # min_amount 2, the project's own

    # prod has not built it: dev's build does not make it (or the project with no
    # environment) look up to date.
    assert statuses(project, "--env", "prod")["orders_clean"] == "never built"
    assert statuses(project)["orders_clean"] == "never built"
    assert statuses(project, "--env", "dev")["orders_clean"] == "up to date"

    # prod writes where its override of `local` says, with its own variables.
    r = run_weir("--env", "prod", "build", "orders_clean", cwd=project)
    assert r.code == 0, r.text
    prod = pq.read_table(project / "prod-data/small/orders_clean.parquet")
    assert prod.num_rows == 2  # min_amount 5
    assert pq.read_table(project / "data/small/orders_clean.parquet").equals(dev)  # untouched
    assert (project / ".weir/env/prod/state.db").exists()
    assert (project / ".weir/env/dev/state.db").exists()


def test_weir_env_is_the_default_and_the_flag_wins(project: Path, monkeypatch) -> None:
    monkeypatch.setenv("WEIR_ENV", "prod")
    r = run_weir("build", "orders_clean", cwd=project)
    assert r.code == 0 and "environment prod (branch main)" in r.err, r.text
    assert (project / "prod-data/small/orders_clean.parquet").exists()
    assert not (project / "data/small/orders_clean.parquet").exists()
    assert statuses(project, "--env", "dev")["orders_clean"] == "never built"
    flow = json.loads(run_weir("flow", "--format", "json", cwd=project).out)
    assert flow["environment"] == "prod"


def test_an_environments_daemon_is_its_own(project: Path) -> None:
    r = run_weir("--env", "prod", "daemon", "start", cwd=project)
    assert r.code == 0 and "in prod" in r.out, r.text
    try:
        info = json.loads((project / ".weir/env/prod/daemon.json").read_text())
        assert not (project / ".weir/daemon.json").exists()
        auth = {"Authorization": f"Bearer {info['token']}"}
        assert httpx.get(info["url"] + "/api/health", headers=auth).json()["environment"] == "prod"
        assert httpx.get(info["url"] + "/api/flow", headers=auth).json()["environment"] == "prod"
        # No daemon runs for the project with no environment, nor for dev.
        assert run_weir("daemon", "status", cwd=project).code == 1
        assert run_weir("--env", "dev", "daemon", "status", cwd=project).code == 1
        status = run_weir("--env", "prod", "daemon", "status", cwd=project)
        assert status.code == 0 and "in prod" in status.out, status.text
        # A build in prod goes through prod's daemon and writes prod's data.
        r = run_weir("--env", "prod", "build", "orders_clean", cwd=project)
        assert r.code == 0, r.text
        assert pq.read_table(project / "prod-data/small/orders_clean.parquet").num_rows == 2
        assert statuses(project, "--env", "dev")["orders_clean"] == "never built"
    finally:
        run_weir("--env", "prod", "daemon", "stop", "--now", cwd=project)


BAD = {  # the section starts at line 5 (BASE is 4 lines)
    "an unknown key": ("  prod:\n    brnach: main\n", "unknown-key", 7, "branch"),
    "a branch git refuses": ("  prod:\n    branch: 'two words'\n", "invalid-value", 7,
                             "git branch"),
    "an undeclared variable": ("  prod:\n    variables: {min_amont: 5}\n", "unknown-variable",
                               7, "min_amount"),
    "an unknown connection": ("  prod:\n    connections:\n      landng: {root: x}\n",
                              "unknown-connection", 8, "landing"),
    "settings that are not a mapping": ("  prod: main\n", "not-a-mapping", 6, "prod"),
}


@pytest.mark.parametrize("mistake", sorted(BAD))
def test_a_mistake_in_environments_is_one_diagnostic_at_its_line(make_project,
                                                                 mistake: str) -> None:
    text, code, line, said = BAD[mistake]
    files = dict(SMALL)
    files["weir.yaml"] = BASE + "environments:\n" + text
    root = make_project(files, name="bad")
    r = run_weir("--env", "prod", "build", "--all", cwd=root)
    assert r.code == 2, r.text
    assert f"weir.yaml:{line}:" in r.err and said in r.err, r.text
    assert "Traceback" not in r.text and "nothing was built" in r.err
    r = run_weir("--env", "prod", "status", "--json", cwd=root)  # with its stable code
    assert r.code == 2
    diagnostics = json.loads(r.out)["error"]["diagnostics"]
    assert [(d["code"], d["line"]) for d in diagnostics] == [(code, line)], diagnostics
    assert not (root / "data").exists() and not (root / "x").exists()  # nothing written


def test_an_environment_weir_yaml_does_not_declare(project: Path, make_project) -> None:
    r = run_weir("--env", "prd", "status", cwd=project)
    assert r.code == 2
    assert "weir.yaml:6: error: unknown environment 'prd'" in r.err, r.err
    assert "did you mean 'prod'?" in r.err and "Traceback" not in r.err
    root = make_project(dict(SMALL), name="plain")
    r = run_weir("--env", "prod", "status", cwd=root)
    assert r.code == 2 and "declares no `environments:`" in r.err, r.err
    assert not (root / ".weir/env").exists() or not any((root / ".weir/env").iterdir())
    assert os.environ.get("WEIR_ENV") is None  # the tests' own environment is untouched


def test_the_flow_page_names_the_environment(project: Path, monkeypatch) -> None:
    from test_flow_page import daemon_and_browser

    monkeypatch.setenv("WEIR_ENV", "prod")  # the daemon daemon_and_browser starts is prod's
    with daemon_and_browser(project) as (info, pg):
        assert (project / ".weir/env/prod/daemon.json").exists()
        pg.goto(f"{info['url']}/?token={info['token']}")
        pg.wait_for_selector("#title:has-text('weir · small · prod')")


def test_weir_environments_lists_them_from_weir_yaml_alone(project: Path) -> None:
    # A broken recipe does not hide them: only weir.yaml is read.
    (project / "recipes/broken.py").write_text("def (:\n")
    r = run_weir("--env", "prod", "environments", "--json", cwd=project)
    assert r.code == 0, r.text
    listed = json.loads(r.out)
    assert listed["active"] == "prod"
    assert [(e["name"], e["branch"], e["connections"], e["variables"], e["active"])
            for e in listed["environments"]] == [
        ("dev", "dev", [], [], False), ("prod", "main", ["local"], ["min_amount"], True)]
    assert listed["environments"][0]["description"] == "everyone's own"
    assert listed["environments"][1]["defined_in"] == "weir.yaml:10"
    text = run_weir("environments", cwd=project).out
    assert "prod         branch main" in text and "connections: local" in text
    r = run_weir("--env", "prd", "environments", cwd=project)
    assert r.code == 2 and "unknown environment 'prd'" in r.err and "'prod'" in r.err
    # weir.yaml's own mistake is one error at its line.
    (project / "weir.yaml").write_text(BASE + "environments: 3\n")
    r = run_weir("environments", cwd=project)
    assert r.code == 2 and "weir.yaml:5: error: `environments` must be a mapping" in r.err
    assert "Traceback" not in r.err
