"""Managed folders: written by one recipe, read by another, replaced whole, never escaped."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import weir
from weir.errors import WeirError

from conftest import SMALL, run_weir, write_files

CHARTS = {
    **SMALL,
    "folders/brand.yaml": "description: logos, committed\nconnection: landing\npath: brand\n",
    "landing/brand/logo.svg": "<svg/>\n",
    "recipes/charts.py": '''
        import pandas as pd
        import weir
        from weir import recipe

        @recipe(outputs=["charts"])
        def draw(orders_clean: pd.DataFrame, brand: weir.Folder, charts: weir.Folder):
            logo = brand.read_bytes("logo.svg")
            for customer, rows in orders_clean.groupby("customer"):
                charts.write_bytes(f"by_customer/{customer}.svg",
                                   logo + f"<!-- {rows.amount.sum()} -->".encode())
            with charts.open("index.html", "w") as f:
                f.write("<h1>charts</h1>")

        @recipe
        def chart_index(charts: weir.Folder) -> pd.DataFrame:
            files = charts.list()
            return pd.DataFrame({"file": files,
                                 "size": [len(charts.read_bytes(p)) for p in files]})
        ''',
}


def test_recipe_writes_a_folder_and_another_reads_it(make_project) -> None:
    root = make_project(CHARTS, name="charts")
    r = run_weir("build", "chart_index", cwd=root)
    assert r.code == 0, r.text
    folder = root / "data/small/charts"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) \
        == ["by_customer/a.svg", "by_customer/b.svg", "by_customer/c.svg", "index.html"]
    index = pq.read_table(root / "data/small/chart_index.parquet").to_pylist()
    assert [row["file"] for row in index][-1] == "index.html"
    st = {d["name"]: d["status"] for d in json.loads(
        run_weir("status", "--json", cwd=root).out)["datasets"]}
    assert st["charts"] == "up to date" and st["brand"] == "source"
    shown = run_weir("show", "charts", cwd=root).out
    assert "kind:      folder" in shown and "files:     4" in shown
    assert "4 files" in shown.split("recent builds:")[1]  # files, not "rows"
    # Outside a build, weir.Folder reads it.
    assert weir.Folder("charts", project=root).read_bytes("index.html") == b"<h1>charts</h1>"

    # A new version replaces the folder whole: files the recipe no longer writes are gone.
    weir_yaml = root / "weir.yaml"
    weir_yaml.write_text(weir_yaml.read_text().replace("min_amount: 2", "min_amount: 8"))
    assert run_weir("build", "chart_index", cwd=root).code == 0
    assert sorted(p.name for p in (folder / "by_customer").iterdir()) == ["a.svg"]
    assert not [p for p in folder.parent.iterdir() if ".weir-tmp-" in p.name]

    # A change to a source folder's files is a change of input.
    (root / "landing/brand/logo.svg").write_text("<svg>new</svg>\n")
    st = {d["name"]: d["reasons"] for d in json.loads(
        run_weir("status", "--json", cwd=root).out)["datasets"]}
    assert st["charts"] == ["input brand changed"]


def test_failed_folder_recipe_keeps_the_previous_folder(make_project) -> None:
    root = make_project(CHARTS, name="charts")
    assert run_weir("build", "charts", cwd=root).code == 0
    recipe = root / "recipes/charts.py"
    recipe.write_text(recipe.read_text().replace('f.write("<h1>charts</h1>")',
                                                 'raise ValueError("half way")'))
    r = run_weir("build", "charts", cwd=root)
    assert r.code == 1 and "ValueError: half way" in r.out
    assert (root / "data/small/charts/index.html").read_text() == "<h1>charts</h1>"
    assert not [p for p in (root / "data/small").iterdir() if ".weir-tmp-" in p.name]


@pytest.mark.parametrize(("evil", "refusal"), [
    ("../outside.txt", "'../outside.txt' leaves folder 'box'"),
    ("/tmp/weir-evil.txt", "'/tmp/weir-evil.txt' is not a path inside folder 'box'"),
    ("a/../../x", "'a/../../x' leaves folder 'box'")])
def test_paths_cannot_escape_a_folder(make_project, evil: str, refusal: str) -> None:
    root = make_project({**SMALL, "recipes/evil.py": f'''
        import weir
        from weir import recipe

        @recipe(outputs=["box"])
        def fill(orders, box: weir.Folder):
            box.write_bytes({evil!r}, b"x")
        '''}, name="evil")
    r = run_weir("build", "box", cwd=root)
    assert r.code == 1
    assert refusal in r.out, r.out
    assert not (root / "data/small/outside.txt").exists()
    assert not (root / "data/small/x").exists()
    assert not Path("/tmp/weir-evil.txt").exists()


def test_symlinks_out_of_a_folder_are_refused(make_project, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    root = make_project({**SMALL, "folders/docs.yaml": "connection: landing\npath: docs\n",
                         "landing/docs/ok.txt": "fine\n"}, name="links")
    os.symlink(secret, root / "landing/docs/leak.txt")
    docs = weir.Folder("docs", project=root)
    assert docs.read_bytes("ok.txt") == b"fine\n"
    with pytest.raises(WeirError, match="leads outside folder 'docs'"):
        docs.read_bytes("leak.txt")


def test_input_folders_are_read_only(make_project) -> None:
    root = make_project({**CHARTS, "recipes/more.py": '''
        import weir
        from weir import recipe

        @recipe
        def vandal(brand: weir.Folder):
            brand.write_bytes("logo.svg", b"defaced")
        '''}, name="ro")
    r = run_weir("build", "vandal", cwd=root)
    assert r.code == 1 and "folder 'brand' is an input here" in r.out
    assert (root / "landing/brand/logo.svg").read_text() == "<svg/>\n"


def test_folder_mistakes_are_reported_at_the_line(make_project) -> None:
    root = make_project({**CHARTS, "recipes/more.py": '''
        import pandas as pd
        import weir
        from weir import recipe

        @recipe
        def wrong_kind(brand: pd.DataFrame, orders: weir.Folder):
            return brand
        '''}, name="kinds")
    r = run_weir("status", cwd=root)
    assert r.code == 2
    assert "recipes/more.py:6: error: 'brand' is a managed folder, but the parameter is not " \
        "annotated weir.Folder" in r.err
    assert "'orders' is a dataset, but the parameter is annotated weir.Folder" in r.err
    write_files(root, {"recipes/more.py": "", "folders/brand.yaml": "path: b\nformat: csv\n"})
    r = run_weir("status", cwd=root)
    assert r.code == 2 and "folders/brand.yaml:2: error: unknown key 'format' in a managed " \
        "folder" in r.err


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _statuses(report: dict) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {d["name"]: (d["status"], tuple(d["reasons"])) for d in report["datasets"]}


def test_a_reverted_folder_comes_back_from_its_kept_version_without_running(
        make_project) -> None:
    root = make_project(CHARTS, name="charts")
    assert run_weir("build", "charts", cwd=root).code == 0
    folder = root / "data/small/charts"
    first = _files(folder)
    weir_yaml = root / "weir.yaml"
    weir_yaml.write_text(weir_yaml.read_text().replace("min_amount: 2", "min_amount: 8"))
    assert run_weir("build", "charts", cwd=root).code == 0
    assert _files(folder) != first
    second = _files(folder)

    weir_yaml.write_text(weir_yaml.read_text().replace("min_amount: 8", "min_amount: 2"))
    r = run_weir("build", "charts", "--json", cwd=root)
    assert r.code == 0, r.text
    assert _statuses(json.loads(r.out))["charts"][0] == "restored"  # no recipe ran
    assert _files(folder) == first
    # The version it replaced is kept in turn: forward again is a restore too.
    weir_yaml.write_text(weir_yaml.read_text().replace("min_amount: 2", "min_amount: 8"))
    r = run_weir("build", "charts", "--json", cwd=root)
    assert _statuses(json.loads(r.out))["charts"][0] == "restored"
    assert _files(folder) == second
    # A damaged state store, repaired, finds the kept folders again.
    db = root / ".weir/state.db"
    db.write_bytes(db.read_bytes()[:db.stat().st_size // 2])
    assert run_weir("state", "repair", cwd=root).code == 0
    weir_yaml.write_text(weir_yaml.read_text().replace("min_amount: 8", "min_amount: 2"))
    r = run_weir("build", "charts", "--json", cwd=root)
    assert _statuses(json.loads(r.out))["charts"][0] == "restored", r.out
    assert _files(folder) == first
    # A folder's files are written in place (weir.Folder outside a build): the kept versions
    # are copies, so such a write never reaches them.
    with weir.Folder("charts", project=root).open("index.html", "w") as f:
        f.write("edited by hand")
    weir_yaml.write_text(weir_yaml.read_text().replace("min_amount: 2", "min_amount: 8"))
    r = run_weir("build", "charts", "--json", cwd=root)
    assert _statuses(json.loads(r.out))["charts"][0] == "restored"
    assert _files(folder) == second
    weir_yaml.write_text(weir_yaml.read_text().replace("min_amount: 8", "min_amount: 2"))
    r = run_weir("build", "charts", "--json", cwd=root)
    assert _statuses(json.loads(r.out))["charts"][0] == "restored"
    assert _files(folder) == first  # not "edited by hand"
    # `weir clean` drops the kept versions with the folder.
    assert run_weir("clean", "charts", cwd=root).code == 0
    assert not folder.exists()
    assert not (root / ".weir/cache/outputs/charts").exists() or \
        not any((root / ".weir/cache/outputs/charts").iterdir())


def test_prod_copies_the_folder_dev_built_instead_of_running_its_recipe(make_project) -> None:
    files = dict(CHARTS)
    files["weir.yaml"] = SMALL["weir.yaml"] + """
        environments:
          dev: {branch: dev}
          prod:
            branch: main
            connections:
              local: {root: prod-data}
        """
    root = make_project(files, name="charts")
    assert run_weir("--env", "dev", "build", "charts", cwd=root).code == 0
    r = run_weir("--env", "prod", "build", "charts", "--json", cwd=root)
    assert r.code == 0, r.text
    status, reasons = _statuses(json.loads(r.out))["charts"]
    assert status == "restored" and "reused from dev" in reasons, (status, reasons)
    dev, prod = root / "data/small/charts", root / "prod-data/small/charts"
    assert _files(prod) == _files(dev) and len(_files(prod)) == 4
    # A file of dev's folder written in place leaves prod's copy as it was, and so does dev's
    # next version (its folder replaced whole).
    before = _files(prod)
    with open(dev / "index.html", "w") as f:
        f.write("dev scratch")
    assert _files(prod) == before
    weir_yaml = root / "weir.yaml"
    weir_yaml.write_text(weir_yaml.read_text().replace("min_amount: 2", "min_amount: 8"))
    assert run_weir("--env", "dev", "build", "charts", cwd=root).code == 0
    assert _files(dev) != before and _files(prod) == before
