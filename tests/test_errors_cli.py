"""Every user mistake: one clear `file:line: message` with a hint, no traceback of weir's, a
non-zero exit (2 before anything runs, 1 for a recipe that fails), the same as JSON with
`--json`, and nothing built or damaged."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import SMALL, run_weir, write_files

EVERY_COMMAND = (("build", "--all"), ("status",), ("flow",), ("plan", "--all"))


@dataclass(frozen=True)
class Mistake:
    """What the user wrote (or broke), what weir must say about it, and how it exits: 2 for a
    mistake found before anything runs (said on stderr), 1 for a recipe that fails when run
    (said in the build's report on stdout)."""

    files: dict[str, str]
    message: str
    hint: str | None  # None: the user's own traceback says it all
    commands: tuple[tuple[str, ...], ...] = EVERY_COMMAND
    code: int = 2
    prepare: Callable[[Path], None] | None = None  # run after the files are written
    absent: tuple[str, ...] = ()  # what must not be shown (weir's or libraries' insides)
    traceback: bool = False  # the user's own frames are part of the answer


def _recipe(body: str, head: str = "") -> dict[str, str]:
    """recipes/x.py: a recipe `x` reading the source `orders`; its `def` is on line 5 + the
    number of lines in ``head``."""
    return {"recipes/x.py": f"{head}from weir import recipe\n\n\n@recipe\ndef x(orders):\n"
                            + "".join(f"    {line}\n" for line in body.splitlines())}


def _sql(text: str) -> dict[str, str]:
    return {"recipes/x.sql": text}


BUILD_X = (("build", "x"),)
STATE_COMMANDS = (("build", "--all"), ("status",), ("plan", "--all"), ("show", "orders_clean"))


def _build_then_cut_the_state_short(root: Path) -> None:
    assert run_weir("build", "--all", cwd=root).code == 0
    _cut_state_short(root)


def _cut_state_short(root: Path) -> None:
    """A real state store, cut in half as a full disk or an interrupted copy leaves it."""
    db = root / ".weir/state.db"
    assert not (root / ".weir/state.db-wal").exists()  # all of it is in the file
    db.write_bytes(db.read_bytes()[:db.stat().st_size // 2])


CASES = {
    "unknown input": Mistake(
        {"recipes/x.py": "from weir import recipe\n\n@recipe\ndef x(orders_clen):\n"
                         "    return orders_clen\n"},
        "recipes/x.py:4: error: unknown input 'orders_clen'", "did you mean 'orders_clean'?"),
    "two producers": Mistake(
        {"recipes/customers.sql": "select distinct customer from orders"},
        "dataset 'customers' is built by two recipes", "each dataset has one producer"),
    "cycle": Mistake(
        {"recipes/loop.py": "from weir import recipe\n\n@recipe\ndef ping(pong):\n    return pong"
                            "\n\n@recipe\ndef pong(ping):\n    return ping\n"},
        "error: cycle in the Flow: p", "cannot depend on itself"),
    "unknown yaml key": Mistake(
        {"datasets/orders.yaml": "connection: landing\npath: orders.csv\ndescripton: x\n"},
        "datasets/orders.yaml:3: error: unknown key 'descripton' in a dataset",
        "did you mean 'description'?"),
    "bad yaml": Mistake(
        {"datasets/orders.yaml": "connection: landing\npath: [orders.csv\n"},
        "datasets/orders.yaml:3: error: invalid YAML", "indentation"),
    "python syntax error": Mistake(
        {"recipes/clean.py": "from weir import recipe\n\n@recipe\ndef orders_clean(orders)\n"
                             "    return orders\n"},
        "recipes/clean.py:4: error: Python syntax error", "fix the syntax"),
    "unknown connection": Mistake(
        {"datasets/orders.yaml": "connection: landign\npath: orders.csv\n"},
        "datasets/orders.yaml:1: error: unknown connection 'landign'", "did you mean 'landing'?"),
    "unknown variable": Mistake(
        {"recipes/per_customer.sql": "select * from orders_clean where amount > $min_amont"},
        "recipes/per_customer.sql:1: error: unknown variable 'min_amont'",
        "did you mean 'min_amount'?"),
    "bad connection type": Mistake(
        {"connections.yaml": "connections:\n  landing:\n    type: filesytem\n    root: landing\n"},
        "connections.yaml:3: error: connection 'landing' has unknown type 'filesytem'",
        "did you mean 'filesystem'?"),
    "source without path": Mistake(
        {"datasets/extra.yaml": "description: forgot the path\n"},
        "datasets/extra.yaml:1: error: dataset 'extra' has no recipe building it and no `path`",
        "a source dataset needs `path:`"),
    "sql syntax error in a recipe with a dataset file": Mistake(
        {"recipes/per_customer.sql": "SELECT customer, sum(amount FROM orders_clean\n",
         "datasets/per_customer.yaml": "description: revenue\nschema:\n  - {name: customer, type: string}\n"},
        "recipes/per_customer.sql:1: error: SQL syntax error", "fix the syntax"),
    "unknown default connection": Mistake(
        {"weir.yaml": "name: small\ndefault_connection: locl\nvariables:\n  min_amount: 2\n"},
        "weir.yaml:2: error: unknown connection 'locl'", "did you mean 'local'?"),
    "syntax error in a module that every recipe of it reads": Mistake(
        {"recipes/clean.py": "from weir import recipe\n\n@recipe(outputs=['orders_clean'\n"
                             "def split(orders):\n    return orders\n"},
        "recipes/clean.py:3: error: Python syntax error", "fix the syntax"),
    "duplicate key in weir.yaml": Mistake(
        {"weir.yaml": "name: small\nvariables:\n  min_amount: 2\n  label: shop\n"
                      "  min_amount: 3\n"},
        "weir.yaml:5: error: duplicate key 'min_amount' (first at line 3)",
        "a key can appear once"),
    "duplicate key in a dataset": Mistake(
        {"datasets/orders.yaml": "connection: landing\npath: orders.csv\npath: other.csv\n"},
        "datasets/orders.yaml:3: error: duplicate key 'path' (first at line 2)",
        "a key can appear once"),
    "SQL syntax error at the end of the query": Mistake(
        {"recipes/per_customer.sql": "SELECT customer\nFROM orders_clean\nJOIN\n"},
        "recipes/per_customer.sql:3: error: SQL syntax error: expected table name after 'JOIN', "
        "but the query ends there", "fix the syntax", absent=("<Token", "SENTINEL")),
    "state store is not a database": Mistake(
        {".weir/state.db": "these are not the bytes of a database\n" * 200},
        "error: .weir/state.db is damaged: file is not a database", "weir state repair",
        STATE_COMMANDS),
    "state store cut short": Mistake(
        {}, "error: .weir/state.db is damaged: database disk image is malformed",
        "weir state repair", STATE_COMMANDS, prepare=_build_then_cut_the_state_short),
    "state store cannot be opened": Mistake(
        {}, "error: cannot use .weir/state.db: unable to open database file",
        "check that .weir/state.db and its directory are yours to read and write",
        STATE_COMMANDS, prepare=lambda root: (root / ".weir/state.db").mkdir(parents=True)),
    # Found when the recipe runs: exit 1, said in the build's report, at the recipe's line.
    "recipe returns a list": Mistake(
        _recipe("return [1, 2, 3]"), "recipes/x.py:5: recipe 'x' returned a list, not a "
        "DataFrame", "a recipe returns a pandas or polars DataFrame", BUILD_X, code=1),
    "recipe returns nothing": Mistake(
        _recipe("orders.amount.sum()"), "recipes/x.py:5: recipe 'x' returned None, not a "
        "DataFrame", "is a `return` missing?", BUILD_X, code=1),
    "recipe calls sys.exit": Mistake(
        _recipe("print('bye')\nsys.exit('giving up')", head="import sys\n"),
        "recipes/x.py:8: recipe 'x' called sys.exit('giving up')",
        "or raises an exception to fail", BUILD_X, code=1, absent=("died",), traceback=True),
    "recipe writes outside its folder": Mistake(
        {"recipes/x.py": "import weir\nfrom weir import recipe\n\n\n@recipe(outputs=['box'])\n"
                         "def fill(orders, box: weir.Folder):\n"
                         "    box.write_bytes('../../x', b'x')\n"},
        "recipes/x.py:7: '../../x' leaves folder 'box'", "paths are relative to the folder",
        (("build", "box"),), code=1),
    "error at a recipe module's top level": Mistake(
        _recipe("return orders", head="LIMIT = 1 / 0\n"),
        'File "recipes/x.py", line 1, in <module>\n        LIMIT = 1 / 0\n    ZeroDivisionError',
        None, BUILD_X, code=1, absent=("<frozen", "importlib", "weir/build"), traceback=True),
    "error inside pyarrow": Mistake(
        _recipe("return pa.table({'a': [1, 'x']})", head="import pyarrow as pa\n"),
        'File "recipes/x.py", line 7, in x\n        return pa.table', None, BUILD_X, code=1,
        absent=(".pxi", "site-packages"), traceback=True),
    "SQL syntax only DuckDB refuses": Mistake(
        _sql("SELECT customer\nFROM orders\nGROUP\n"),
        "recipes/x.sql:3: SQL syntax error: unexpected 'GROUP'", "fix the syntax", BUILD_X,
        code=1),
    "SQL reads a column that does not exist": Mistake(
        _sql("-- revenue\nSELECT customer,\n       sum(amont) AS revenue\nFROM orders\n"
             "GROUP BY customer\n"),
        'recipes/x.sql:3: Binder Error: Referenced column "amont" not found',
        'hint: did you mean "amount"?', BUILD_X, code=1),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_user_mistakes(make_project, case: str) -> None:
    mistake = CASES[case]
    root = make_project(SMALL, name="small")
    write_files(root, mistake.files)
    if mistake.prepare is not None:
        mistake.prepare(root)
    data = _data_files(root)
    for command in mistake.commands:
        r = run_weir(*command, cwd=root)
        assert r.code == mistake.code, (command, r.text)
        said = r.err if mistake.code == 2 else r.out
        assert mistake.message in said, (command, r.text)
        if mistake.hint is not None:
            assert mistake.hint in said, (command, r.text)
        if "in the project" in said:
            # One mistake is one error: not echoed as "unknown input" in each reader, or once
            # per dataset that meets it.
            assert "1 error in the project" in said, (command, r.text)
        if mistake.traceback:
            assert "Traceback (most recent call last):" in said, (command, r.text)
        else:
            assert "Traceback" not in r.text
        for text in mistake.absent:
            assert text not in r.text, (command, text, r.text)
    if mistake.code == 2 and ("build", "--all") in mistake.commands:
        # For a script: the same error as JSON on stdout, and the same exit code.
        r = run_weir("build", "--all", "--json", cwd=root)
        assert r.code == 2 and mistake.message in r.err
        reply = json.loads(r.out)
        assert reply["ok"] is False
        assert mistake.message in _as_text(reply["error"]), reply
        assert mistake.hint in _as_text(reply["error"]), reply
    if mistake.code == 1:  # the report as JSON says the same
        r = run_weir(*mistake.commands[0], "--json", cwd=root)
        failed = [d for d in json.loads(r.out)["datasets"] if d["status"] == "failed"]
        assert failed and mistake.message.replace("\n    ", "\n") in \
            f"{failed[0]['error']}\n{failed[0]['traceback']}", failed
    assert _data_files(root) == data  # nothing built, nothing damaged


def _as_text(error: dict) -> str:
    """A JSON error written out as the terminal shows it, to compare with what a person sees."""
    lines = [f"error: {error['message']}", f"  hint: {error['hint']}"]
    for d in error.get("diagnostics", []):
        lines += [f"{d['file']}:{d['line']}: {d['severity']}: {d['message']}",
                  f"  hint: {d['hint']}"]
    return "\n".join(lines)


def _data_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in (root / "data").rglob("*") if p.is_file()}


def test_a_damaged_state_store_is_repaired_from_the_data_and_the_kept_outputs(
        make_project) -> None:
    root = make_project(SMALL, name="small")
    weir_yaml = root / "weir.yaml"
    assert run_weir("build", "--all", cwd=root).code == 0
    # Build another version of orders_clean and per_customer, then go back to the first: their
    # data is now the other version, and the first is kept by fingerprint.
    weir_yaml.write_text(weir_yaml.read_text().replace("min_amount: 2", "min_amount: 8"))
    assert run_weir("build", "--all", cwd=root).code == 0
    weir_yaml.write_text(weir_yaml.read_text().replace("min_amount: 8", "min_amount: 2"))
    before = json.loads(run_weir("status", "--json", cwd=root).out)["datasets"]
    _cut_state_short(root)
    damaged = (root / ".weir/state.db").read_bytes()
    data = _data_files(root)

    r = run_weir("state", "check", cwd=root)
    assert r.code == 2 and ".weir/state.db is damaged" in r.err and "weir state repair" in r.err
    r = run_weir("state", "repair", cwd=root)
    assert r.code == 0, r.text
    aside = [p for p in (root / ".weir").iterdir() if p.name.startswith("state.db.corrupt-")]
    assert len(aside) == 1 and aside[0].read_bytes() == damaged  # moved, never deleted
    assert f".weir/{aside[0].name}" in r.out
    assert "customers" in r.out and "up to date" in r.out
    assert run_weir("state", "check", cwd=root).code == 0
    assert _data_files(root) == data

    # customers' data is the kept output of the build it needs: up to date again. The others
    # hold the other version: they are built again — from the kept outputs, not by running.
    after = {d["name"]: d["status"] for d in json.loads(
        run_weir("status", "--json", cwd=root).out)["datasets"]}
    assert after == {"orders": "source", "customers": "up to date",
                     "orders_clean": "never built", "per_customer": "never built"}, after
    assert {d["name"]: d["status"] for d in before}["customers"] == "up to date"
    r = run_weir("build", "--all", "--json", cwd=root)
    assert {d["name"]: d["status"] for d in json.loads(r.out)["datasets"]} == {
        "orders_clean": "restored", "per_customer": "restored"}, r.out
    assert run_weir("build", "--all", cwd=root).out.startswith("Nothing to do")
    r = run_weir("state", "repair", cwd=root)
    assert r.code == 0 and "nothing to repair" in r.out


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
        if args[0] == "build":
            r = run_weir(*args, "--json", cwd=small_project)
            assert r.code == 2, (args, r.text)
            reply = json.loads(r.out)
            assert reply["ok"] is False and text in reply["error"]["message"], reply


def test_json_errors_for_every_command_that_speaks_json(small_project: Path) -> None:
    for args, text in [(["build", "nosuch", "--json"], "unknown dataset 'nosuch'"),
                       (["build", "--json", "--jobs", "x"], "invalid int value"),
                       (["plan", "nosuch", "--json"], "unknown dataset 'nosuch'"),
                       (["show", "nosuch", "--json"], "unknown dataset 'nosuch'"),
                       (["status", "nosuch", "--json"], "unknown dataset 'nosuch'")]:
        r = run_weir(*args, cwd=small_project)
        assert r.code == 2, (args, r.text)
        reply = json.loads(r.out)
        assert reply == {"ok": False, "error": {"message": reply["error"]["message"],
                                                "hint": reply["error"]["hint"]}}, reply
        assert text in reply["error"]["message"], (args, reply)
        assert text in r.err  # a person reading the terminal sees it too
    write_files(small_project, {"datasets/orders.yaml": "connection: landing\npath: o.csv\nx: 1\n"})
    for args in (["flow", "--format", "json"], ["status", "--json"]):
        r = run_weir(*args, cwd=small_project)
        assert r.code == 2, (args, r.text)
        diagnostics = json.loads(r.out)["error"]["diagnostics"]
        assert diagnostics == [{"file": "datasets/orders.yaml", "line": 3, "col": 0,
                                "end_line": 3, "end_col": 1, "code": "unknown-key",
                                "subject": "key:x", "suggestion": None, "severity": "error",
                                "message": "unknown key 'x' in a dataset",
                                "hint": diagnostics[0]["hint"]}], diagnostics


def test_version_and_help(small_project: Path) -> None:
    r = run_weir("--version", cwd=small_project)
    assert r.code == 0 and r.out.startswith("weir ")
    r = run_weir("--help", cwd=small_project)
    for command in ("init", "flow", "status", "plan", "build", "show", "logs", "clean", "state"):
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
