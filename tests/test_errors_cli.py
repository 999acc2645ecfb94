"""Every user mistake: one clear `file:line: message` with a hint, exit 2, no traceback, and
nothing built or damaged."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SMALL, run_weir, write_files

CASES = {
    "unknown input": (
        {"recipes/x.py": "from weir import recipe\n\n@recipe\ndef x(orders_clen):\n"
                         "    return orders_clen\n"},
        "recipes/x.py:4: error: unknown input 'orders_clen'", "did you mean 'orders_clean'?"),
    "two producers": (
        {"recipes/customers.sql": "select distinct customer from orders"},
        "dataset 'customers' is built by two recipes", "each dataset has one producer"),
    "cycle": (
        {"recipes/loop.py": "from weir import recipe\n\n@recipe\ndef ping(pong):\n    return pong"
                            "\n\n@recipe\ndef pong(ping):\n    return ping\n"},
        "error: cycle in the Flow: p", "cannot depend on itself"),
    "unknown yaml key": (
        {"datasets/orders.yaml": "connection: landing\npath: orders.csv\ndescripton: x\n"},
        "datasets/orders.yaml:3: error: unknown key 'descripton' in a dataset",
        "did you mean 'description'?"),
    "bad yaml": (
        {"datasets/orders.yaml": "connection: landing\npath: [orders.csv\n"},
        "datasets/orders.yaml:3: error: invalid YAML", "indentation"),
    "python syntax error": (
        {"recipes/clean.py": "from weir import recipe\n\n@recipe\ndef orders_clean(orders)\n"
                             "    return orders\n"},
        "recipes/clean.py:4: error: Python syntax error", "fix the syntax"),
    "unknown connection": (
        {"datasets/orders.yaml": "connection: landign\npath: orders.csv\n"},
        "datasets/orders.yaml:1: error: unknown connection 'landign'", "did you mean 'landing'?"),
    "unknown variable": (
        {"recipes/per_customer.sql": "select * from orders_clean where amount > $min_amont"},
        "recipes/per_customer.sql:1: error: unknown variable 'min_amont'",
        "did you mean 'min_amount'?"),
    "bad connection type": (
        {"connections.yaml": "connections:\n  landing:\n    type: filesytem\n    root: landing\n"},
        "connections.yaml:3: error: connection 'landing' has unknown type 'filesytem'",
        "did you mean 'filesystem'?"),
    "source without path": (
        {"datasets/extra.yaml": "description: forgot the path\n"},
        "datasets/extra.yaml:1: error: dataset 'extra' has no recipe building it and no `path`",
        "a source dataset needs `path:`"),
    "sql syntax error in a recipe with a dataset file": (
        {"recipes/per_customer.sql": "SELECT customer, sum(amount FROM orders_clean\n",
         "datasets/per_customer.yaml": "description: revenue\nschema:\n  - {name: customer, type: string}\n"},
        "recipes/per_customer.sql:1: error: SQL syntax error", "fix the syntax"),
    "unknown default connection": (
        {"weir.yaml": "name: small\ndefault_connection: locl\nvariables:\n  min_amount: 2\n"},
        "weir.yaml:2: error: unknown connection 'locl'", "did you mean 'local'?"),
    "syntax error in a module that every recipe of it reads": (
        {"recipes/clean.py": "from weir import recipe\n\n@recipe(outputs=['orders_clean'\n"
                             "def split(orders):\n    return orders\n"},
        "recipes/clean.py:3: error: Python syntax error", "fix the syntax"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_user_mistakes(make_project, case: str) -> None:
    files, message, hint = CASES[case]
    root = make_project(SMALL, name="small")
    write_files(root, files)
    for command in (["build", "--all"], ["status"], ["flow"], ["plan", "--all"]):
        r = run_weir(*command, cwd=root)
        assert r.code == 2, (command, r.text)
        assert message in r.err, r.err
        assert hint in r.err, r.err
        # One mistake is one error: not echoed as "unknown input" in each reader, or once
        # per dataset that meets it.
        assert "1 error in the project" in r.err, r.err
        assert "Traceback" not in r.text
    assert not (root / "data").exists()


def test_broken_file_does_not_hide_other_errors(make_project) -> None:
    root = make_project(SMALL, name="small")
    write_files(root, {"recipes/bad.py": "def (:\n",
                       "datasets/orders.yaml": "connection: landing\npath: orders.csv\nx: 1\n"})
    r = run_weir("status", cwd=root)
    assert r.code == 2
    assert "recipes/bad.py:1" in r.err and "datasets/orders.yaml:3" in r.err
    assert "2 errors in the project" in r.err


def test_missing_source_data(make_project) -> None:
    root = make_project(SMALL, name="small")
    (root / "landing/orders.csv").unlink()
    r = run_weir("build", "--all", cwd=root)
    assert r.code == 2 and "source 'orders' has no data at landing:orders.csv" in r.err
    assert "Traceback" not in r.text
    r = run_weir("status", cwd=root)
    assert r.code == 0 and "data missing" in r.out


def test_unreadable_source_is_a_recipe_failure_not_a_crash(make_project) -> None:
    root = make_project(SMALL, name="small")
    (root / "landing/orders.csv").write_bytes(b'id,customer,amount\n1,a,2,extra\n')
    r = run_weir("build", "customers", cwd=root)
    assert r.code == 1
    assert "cannot read" in r.out and "Traceback (most recent call last):\n  File" not in r.out


def test_bad_arguments(small_project: Path) -> None:
    for args, text in [(["build", "--only", "--force", "x"], "not allowed with argument"),
                       (["build"], "nothing to build"),
                       (["build", "--jobs", "0", "--all"], "--jobs must be at least 1"),
                       (["frobnicate"], "invalid choice"),
                       (["clean"], "say what to clean")]:
        r = run_weir(*args, cwd=small_project)
        assert r.code == 2, (args, r.text)
        assert text in r.err, (args, r.err)
        assert "Traceback" not in r.text


def test_version_and_help(small_project: Path) -> None:
    r = run_weir("--version", cwd=small_project)
    assert r.code == 0 and r.out.startswith("weir ")
    r = run_weir("--help", cwd=small_project)
    for command in ("init", "flow", "status", "plan", "build", "show", "logs", "clean"):
        assert f"    {command}" in r.out


def test_a_broken_dataset_file_is_one_error_not_one_per_reader(make_project) -> None:
    root = make_project(SMALL, name="small")
    write_files(root, {"datasets/orders.yaml": "connection: landing\npath: [orders.csv\n"})
    r = run_weir("status", cwd=root)
    assert r.code == 2
    assert "datasets/orders.yaml:3: error: invalid YAML" in r.err
    assert "unknown input 'orders'" not in r.err  # clean.py reads it: no echo there
    assert "1 error in the project" in r.err


def test_flow_draws_what_can_be_read_before_the_errors(make_project) -> None:
    root = make_project(SMALL, name="small")
    write_files(root, {"recipes/x.py": "from weir import recipe\n\n@recipe\ndef x(nope):\n"
                                       "    return nope\n"})
    r = run_weir("flow", cwd=root)
    assert r.code == 2
    assert "└── orders_clean" in r.out and "per_customer" in r.out  # the rest of the Flow
    assert "recipes/x.py:4: error: unknown input 'nope'" in r.err
    assert r.err.rstrip().endswith("1 error in the project.")  # not "nothing was built"


def test_an_unknown_variable_is_reported_where_var_names_it(make_project) -> None:
    root = make_project(SMALL, name="small")
    clean = root / "recipes/clean.py"
    text = clean.read_text().replace('var("min_amount")', 'var("min_amont")')
    clean.write_text(text)
    line = text.splitlines().index(next(ln for ln in text.splitlines() if "min_amont" in ln)) + 1
    r = run_weir("status", cwd=root)
    assert r.code == 2
    assert f"recipes/clean.py:{line}: error: unknown variable 'min_amont'" in r.err
    assert "did you mean 'min_amount'?" in r.err


def test_flow_draws_a_cycle_as_far_as_it_can_be_read(make_project) -> None:
    root = make_project(SMALL, name="small")
    write_files(root, {"recipes/loop.py": "from weir import recipe\n\n@recipe\ndef ping(pong):\n"
                                          "    return pong\n\n@recipe\ndef pong(ping):\n"
                                          "    return ping\n"})
    r = run_weir("flow", cwd=root)
    assert r.code == 2
    assert "└── orders_clean" in r.out and "per_customer" in r.out  # the rest of the Flow
    assert "ping" in r.out and "invalid" in r.out  # the cycle's datasets, marked
    assert "error: cycle in the Flow: p" in r.err
    assert r.err.rstrip().endswith("1 error in the project.")


def test_counts_read_as_english(make_project) -> None:
    root = make_project({**SMALL, "recipes/per_customer.sql": "select 1 as one"}, name="small")
    (root / "recipes/clean.py").unlink()
    (root / "recipes/two.sql").write_text("select * from orders")
    r = run_weir("flow", cwd=root)
    assert "3 datasets (1 source), 2 recipes" in r.out, r.out
    r = run_weir("build", "per_customer", cwd=root)
    assert "1 row " in r.out and "1 rows" not in r.out, r.out
    assert run_weir("build", "--all", cwd=root).code == 0
    r = run_weir("status", "--stale", cwd=root)
    assert r.code == 0 and r.out == "nothing is stale: every dataset is up to date\n"
    r = run_weir("show", "per_customer", cwd=root)
    assert "1 row" in r.out and "1 rows" not in r.out
    r = run_weir("connections", "list", cwd=root)
    assert "1 dataset ·" in r.out and "1 datasets" not in r.out, r.out
