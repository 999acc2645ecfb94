"""Git-based promotion (issue 16): `weir diff` between revisions, `weir build --changed-since`,
`weir promote SOURCE TARGET` with each of its gates, fast-forwards, merges and refused
conflicts in real repositories with a bare remote, and zero-recompute reuse of what dev built
in prod — on files and in one PostgreSQL database."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import SMALL, git, run_weir

ENVS = """
environments:
  dev:
    branch: dev
  prod:
    branch: main
    connections:
      local: {root: prod-data}
"""


@pytest.fixture
def repo(make_project, tmp_path: Path) -> Path:
    """SMALL with dev and prod (prod writes elsewhere, same variables), on branch dev, main
    pushed to a bare remote."""
    files = dict(SMALL)
    files["weir.yaml"] = textwrap.dedent(SMALL["weir.yaml"]).lstrip("\n") + ENVS
    files[".gitignore"] = ".weir/\ndata/\nprod-data/\n"
    root = make_project(files, name="shop")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(root, "remote", "add", "origin", str(remote))
    git(root, "push", "-q", "origin", "main")
    git(root, "checkout", "-q", "-b", "dev")
    return root


def weir_ok(root: Path, *args: str) -> str:
    r = run_weir(*args, cwd=root)
    assert r.code == 0, r.text
    return r.out


def refused(root: Path, *args: str) -> str:
    r = run_weir(*args, cwd=root)
    assert r.code == 2, r.text
    assert "Traceback" not in r.err, r.err
    return r.err


def edit(root: Path, rel: str, old: str, new: str, message: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    git(root, "commit", "-qam", message)


def heads(root: Path) -> dict[str, str]:
    return {b: git(root, "rev-parse", b).strip() for b in ("main", "dev")}


# -- weir diff, --changed-since ----------------------------------------------------------------

def test_diff_names_what_changed_and_what_goes_stale(repo: Path) -> None:
    assert "No change in the Flow" in weir_ok(repo, "diff")
    (repo / "recipes/clean.py").write_text((repo / "recipes/clean.py").read_text().replace(
        '[["customer"]]', '[["customer", "id"]]'))
    out = json.loads(weir_ok(repo, "diff", "--json"))
    assert out["base"] == "HEAD" and out["head"] == "work tree" and out["head_commit"] is None
    changes = {c["name"]: (c["change"], c["what"]) for c in out["datasets"]}
    assert changes == {"customers": ("modified", ["code"])}  # orders_clean's code is as it was
    assert [r["name"] for r in out["recipes"]] == ["recipes/clean.py:customers"]

    # A variable's value: every reader is modified, what reads them goes stale.
    git(repo, "checkout", "-q", ".")
    edit(repo, "weir.yaml", "min_amount: 2", "min_amount: 3", "raise the minimum")
    out = json.loads(weir_ok(repo, "diff", "HEAD~1", "HEAD", "--json"))
    changes = {c["name"]: (c["change"], c["what"]) for c in out["datasets"]}
    assert changes == {"orders_clean": ("modified", ["variable min_amount"]),
                       "per_customer": ("stale", ["upstream orders_clean changed"])}
    text = weir_ok(repo, "diff", "HEAD~1")
    assert "orders_clean" in text and "variable min_amount" in text and "stale" in text


def test_a_dataset_added_and_removed_is_said(repo: Path) -> None:
    (repo / "recipes/extra.sql").write_text("SELECT customer FROM customers\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "extra")
    out = json.loads(weir_ok(repo, "diff", "HEAD~1", "HEAD", "--json"))
    assert [(c["name"], c["change"]) for c in out["datasets"]] == [("extra", "added")]
    out = json.loads(weir_ok(repo, "diff", "HEAD", "HEAD~1", "--json"))
    assert [(c["name"], c["change"]) for c in out["datasets"]] == [("extra", "removed")]


def test_build_changed_since_builds_exactly_the_changed_and_their_downstream(repo: Path) -> None:
    weir_ok(repo, "build", "--all")
    edit(repo, "recipes/per_customer.sql", "sum(amount) AS revenue", "sum(amount) AS total",
         "rename a column")
    plan = json.loads(weir_ok(repo, "plan", "--changed-since", "HEAD~1", "--json"))
    assert [o for j in plan["jobs"] for o in j["outputs"]] == ["per_customer"]
    report = json.loads(weir_ok(repo, "build", "--changed-since", "HEAD~1", "--json"))
    assert [(d["name"], d["status"]) for d in report["datasets"]] == [("per_customer", "built")]
    assert "Nothing to build" in weir_ok(repo, "build", "--changed-since", "HEAD")


def test_diff_mistakes_are_one_clear_message(repo: Path, make_project) -> None:
    err = refused(repo, "diff", "no-such-branch")
    assert "unknown git revision 'no-such-branch'" in err and "hint:" in err
    plain = make_project(dict(SMALL), name="plain", commit=False)
    err = refused(plain, "diff")
    assert "needs the project to be in a git repository" in err


# -- weir promote: the gates -------------------------------------------------------------------

def test_promote_refuses_what_dev_has_not_built_and_a_dirty_tree(repo: Path) -> None:
    before = heads(repo)
    err = refused(repo, "promote", "dev", "prod")
    assert "cannot be promoted" in err and "not built at this commit in dev" in err
    assert "weir --env dev build --stale" in err
    weir_ok(repo, "--env", "dev", "build", "--all")
    (repo / "recipes/per_customer.sql").write_text("SELECT 1 AS one\n")
    err = refused(repo, "promote", "dev", "prod")
    assert "uncommitted changes (recipes/per_customer.sql)" in err
    git(repo, "checkout", "-q", ".")
    # A commit dev has not built (here: changed code) is refused, saying which and why.
    edit(repo, "recipes/per_customer.sql", "sum(amount)", "max(amount)", "max")
    err = refused(repo, "promote", "dev", "prod")
    assert "per_customer (stale: recipe changed)" in err
    assert heads(repo)["main"] == before["main"]  # nothing moved


def test_promote_refuses_a_commit_whose_checks_fail_in_dev(repo: Path) -> None:
    (repo / "datasets/orders.yaml").write_text(
        "connection: landing\npath: orders.csv\nchecks:\n  - range: {amount: {min: 5}}\n")
    git(repo, "commit", "-qam", "a check the data fails")
    r = run_weir("--env", "dev", "build", "--all", cwd=repo)
    assert r.code == 1, r.text
    err = refused(repo, "promote", "dev", "prod")
    assert "failed in dev" in err and "orders (failed" in err


def test_promote_refuses_a_commit_with_project_errors(repo: Path) -> None:
    (repo / "datasets/broken.yaml").write_text("connection: [nope\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "broken")
    git(repo, "checkout", "-q", "main")  # the work tree reads; dev's head does not
    err = refused(repo, "promote", "dev", "prod")
    assert "1 error in the project: datasets/broken.yaml:2: invalid YAML" in err
    assert "cannot be promoted" in err


def test_promote_mistakes_in_the_names(repo: Path) -> None:
    err = refused(repo, "promote", "dev", "prdo")
    assert "unknown environment 'prdo'" in err and "prod" in err
    assert "name the environments" in refused(repo, "promote")


# -- weir promote: moving the branch, and reuse ---------------------------------------------

def test_promote_fast_forwards_pushes_records_and_prod_reuses_dev_data(repo: Path) -> None:
    edit(repo, "recipes/per_customer.sql", "ORDER BY customer", "ORDER BY revenue DESC", "order")
    weir_ok(repo, "--env", "dev", "build", "--all")
    dev_head = heads(repo)["dev"]
    dry = json.loads(weir_ok(repo, "promote", "dev", "prod", "--dry-run", "--json"))
    assert dry["how"] == "dry run" and dry["after"] is None
    fates = {d["name"]: (d["fate"], d["reused_from"]) for d in dry["datasets"]}
    assert fates == {n: ("reuse", "dev") for n in ("orders_clean", "customers", "per_customer")}
    assert heads(repo)["main"] != dev_head  # a dry run moves nothing

    out = weir_ok(repo, "promote", "dev", "prod")
    assert "fast-forwarded" in out and "pushed to origin" in out
    assert heads(repo)["main"] == dev_head
    assert git(repo, "ls-remote", "origin", "main").split()[0] == dev_head
    history = json.loads(weir_ok(repo, "promote", "--history", "--json"))["promotions"]
    assert [(p["source"], p["target"], p["how"], p["after"]) for p in history] == [
        ("dev", "prod", "fast-forward", dev_head)]

    # prod's build runs no recipe: every output is copied from dev's, and equal to it.
    report = json.loads(weir_ok(repo, "--env", "prod", "build", "--all", "--json"))
    assert {d["status"] for d in report["datasets"]} == {"restored"}
    assert all("reused from dev" in d["reasons"] for d in report["datasets"])
    for name in ("orders_clean", "customers", "per_customer"):
        dev = pq.read_table(repo / f"data/small/{name}.parquet")
        assert pq.read_table(repo / f"prod-data/small/{name}.parquet").equals(dev)
    status = json.loads(weir_ok(repo, "--env", "prod", "status", "--json"))
    assert {d["status"] for d in status["datasets"] if d["name"] != "orders"} == {"up to date"}
    # Promoting again has nothing to do.
    assert "Nothing to promote" in weir_ok(repo, "promote", "dev", "prod")


def test_prod_rebuilds_what_its_variables_change_and_says_why(repo: Path) -> None:
    edit(repo, "weir.yaml", "      local: {root: prod-data}",
         "      local: {root: prod-data}\n    variables:\n      min_amount: 5", "prod's minimum")
    weir_ok(repo, "--env", "dev", "build", "--all")
    dry = json.loads(weir_ok(repo, "promote", "dev", "prod", "--dry-run", "--json"))
    fates = {d["name"]: d for d in dry["datasets"]}
    assert fates["customers"]["fate"] == "reuse"  # reads no variable: dev's data is prod's
    assert fates["orders_clean"]["fate"] == "rebuild"
    assert any("another value of variable min_amount" in w for w in fates["orders_clean"]["why"])
    assert fates["per_customer"]["fate"] == "rebuild"
    text = weir_ok(repo, "promote", "dev", "prod", "--dry-run")
    assert "1 to reuse" in text and "2 to rebuild" in text
    weir_ok(repo, "promote", "dev", "prod")
    report = json.loads(weir_ok(repo, "--env", "prod", "build", "--all", "--json"))
    assert {d["name"]: d["status"] for d in report["datasets"]} == {
        "customers": "restored", "orders_clean": "built", "per_customer": "built"}


def test_a_non_fast_forward_needs_merge_and_a_conflict_changes_nothing(repo: Path) -> None:
    edit(repo, "recipes/per_customer.sql", "ORDER BY customer", "ORDER BY revenue DESC", "order")
    weir_ok(repo, "--env", "dev", "build", "--all")
    # main gets a commit of its own (a hotfix) that dev does not have.
    git(repo, "checkout", "-q", "main")
    (repo / "NOTES.md").write_text("hotfix notes\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "hotfix on main")
    git(repo, "checkout", "-q", "dev")
    before = heads(repo)
    err = refused(repo, "promote", "dev", "prod")
    assert "not a fast-forward" in err and "--merge" in err
    assert heads(repo) == before

    out = weir_ok(repo, "promote", "dev", "prod", "--merge", "--no-push")
    assert "merge commit" in out
    merged = heads(repo)["main"]
    parents = git(repo, "rev-list", "--parents", "-n", "1", merged).split()[1:]
    assert set(parents) == {before["main"], before["dev"]}
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "dev"  # tree untouched
    assert git(repo, "ls-remote", "origin", "main").split()[0] != merged  # --no-push

    # Now both change the same line: the merge conflicts, and nothing is touched.
    git(repo, "checkout", "-q", "main")
    edit(repo, "recipes/per_customer.sql", "sum(amount)", "min(amount)", "main's change")
    git(repo, "checkout", "-q", "dev")
    edit(repo, "recipes/per_customer.sql", "sum(amount)", "max(amount)", "dev's change")
    weir_ok(repo, "--env", "dev", "build", "--all")
    before = heads(repo)
    files = (repo / "recipes/per_customer.sql").read_text()
    err = refused(repo, "promote", "dev", "prod", "--merge")
    assert "conflicts in recipes/per_customer.sql" in err and "nothing was changed" in err
    assert heads(repo) == before
    assert (repo / "recipes/per_customer.sql").read_text() == files
    assert git(repo, "status", "--porcelain").strip() == ""


def test_promote_creates_the_target_branch_when_it_does_not_exist(repo: Path) -> None:
    edit(repo, "weir.yaml", "    branch: main", "    branch: release", "release branch")
    weir_ok(repo, "--env", "dev", "build", "--all")
    out = weir_ok(repo, "promote", "dev", "prod", "--no-push")
    assert "release created at" in out
    assert git(repo, "rev-parse", "release").strip() == heads(repo)["dev"]


# -- reuse in one PostgreSQL database ----------------------------------------------------------

def test_prod_reuses_dev_tables_in_one_postgresql_database(make_project, postgres, tmp_path,
                                                            monkeypatch) -> None:
    import psycopg

    from conftest import PG_SECRET

    postgres.create_database("promo")
    with psycopg.connect(host=postgres.host, port=postgres.port, user=postgres.user,
                         password=postgres.password, dbname="promo", autocommit=True) as con:
        con.execute("CREATE SCHEMA dev")
        con.execute("CREATE SCHEMA prod")
    monkeypatch.setenv("PG_PASSWORD", PG_SECRET)
    files = dict(SMALL)
    files["weir.yaml"] = (textwrap.dedent(SMALL["weir.yaml"]).lstrip("\n")
                          + "default_connection: warehouse\n" + textwrap.dedent("""
        environments:
          dev:
            branch: dev
          prod:
            branch: main
            connections:
              warehouse: {schema: prod}
        """))
    files["connections.yaml"] = textwrap.dedent(SMALL["connections.yaml"]) + textwrap.indent(
        textwrap.dedent(f"""
        warehouse:
          type: postgresql
          host: {postgres.host}
          port: {postgres.port}
          database: promo
          user: {postgres.user}
          password: ${{env:PG_PASSWORD}}
          schema: dev
        """), "  ")
    root = make_project(files, name="pgshop")
    git(root, "checkout", "-q", "-b", "dev")
    weir_ok(root, "--env", "dev", "build", "--all")
    dry = json.loads(weir_ok(root, "promote", "dev", "prod", "--dry-run", "--json"))
    assert {d["fate"] for d in dry["datasets"]} == {"reuse"}
    weir_ok(root, "promote", "dev", "prod")
    report = json.loads(weir_ok(root, "--env", "prod", "build", "--all", "--json"))
    assert {d["status"] for d in report["datasets"]} == {"restored"}  # no recipe ran

    def rows(schema: str, table: str) -> list[tuple]:
        with psycopg.connect(host=postgres.host, port=postgres.port, user=postgres.user,
                             password=postgres.password, dbname="promo") as con:
            return con.execute(f"SELECT * FROM {schema}.{table} ORDER BY 1").fetchall()

    for table in ("orders_clean", "customers", "per_customer"):
        assert rows("prod", table) == rows("dev", table) and rows("dev", table)
    status = json.loads(weir_ok(root, "--env", "prod", "status", "--json"))
    assert {d["status"] for d in status["datasets"] if d["name"] != "orders"} == {"up to date"}
