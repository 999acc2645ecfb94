"""`weir init` and the example project it creates: a git repo whose whole Flow builds."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from conftest import git, run_weir


def test_init_creates_a_git_repo_that_builds(tmp_path: Path) -> None:
    r = run_weir("init", "shop", cwd=tmp_path)
    assert r.code == 0, r.text
    root = tmp_path / "shop"
    assert "New weir project" in git(root, "log", "--oneline")
    assert git(root, "status", "--porcelain") == ""
    ignored = (root / ".gitignore").read_text().split()
    assert ".weir/" in ignored and "data/" in ignored

    flow = json.loads(run_weir("flow", "--format", "json", cwd=root).out)
    kinds = {n["name"]: (n["recipe"] or {}).get("kind", "source") for n in flow["nodes"]}
    assert {"python", "sql", "source"} <= set(kinds.values())
    assert len(kinds) >= 8

    r = run_weir("build", "--all", cwd=root)
    assert r.code == 0, r.text
    report = (root / "data/shop/monthly_report.csv").read_text().splitlines()
    assert report[0].startswith('"month"') and len(report) > 12
    orders = pq.read_table(root / "data/shop/orders_clean.parquet")
    assert orders.num_rows > 1000
    assert min(orders.column("amount").to_pylist()) >= 5  # min_order_value
    site = root / "data/shop/report_site"
    assert sorted(p.name for p in site.iterdir()) == ["index.html", "revenue.svg"]
    assert "<svg" in (site / "index.html").read_text()
    assert git(root, "status", "--porcelain") == ""  # built data stays out of git
    week = {d["name"]: d for d in json.loads(run_weir("status", "--json", cwd=root).out)[
        "datasets"]}["visits_7d"]
    assert week["partitions"] == {"up to date": 7}  # the partitioned part: a week of days
    assert sorted(p.name for p in (root / "data/shop/visits_7d").iterdir()) == [
        f"day=2024-06-0{d}" for d in range(1, 8)]

    # A variable change rebuilds exactly what reads it and its downstream.
    weir_yaml = root / "weir.yaml"
    weir_yaml.write_text(weir_yaml.read_text().replace("top_n: 10", "top_n: 3"))
    plan = json.loads(run_weir("plan", "--all", "--json", cwd=root).out)
    assert [j["outputs"] for j in plan["jobs"]] == [["top_products"], ["report_site"]]
    assert plan["jobs"][0]["reasons"] == {"top_products": ["variable top_n changed"]}
    assert plan["jobs"][1]["reasons"] == {"report_site": ["input top_products is out of date"]}
    assert run_weir("build", "--all", cwd=root).code == 0
    assert pq.read_table(root / "data/shop/top_products.parquet").num_rows == 3


def test_init_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken/file.txt").write_text("mine")
    r = run_weir("init", "taken", cwd=tmp_path)
    assert r.code == 2 and "already exists and is not empty" in r.err
    assert (tmp_path / "taken/file.txt").read_text() == "mine"
