"""Metrics (issue 13): every build measures what it writes — rows, and per column nulls, min,
max, distinct values and mean — and keeps the history, for `weir metrics`, `weir show` and the
API."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from conftest import SMALL, run_weir
from weir.build.metrics import SMALL as SMALL_TABLE
from weir.build.metrics import measure
from weir.client import DaemonClient


def test_a_small_table_is_measured_exactly() -> None:
    m = measure(pa.table({"id": [3, 1, 2, None], "s": ["b", "a", "b", "a"],
                          "x": [0.5, 1.5, None, None]}))
    by = {c.name: c for c in m.columns}
    assert m.rows == 4
    assert (by["id"].nulls, by["id"].min, by["id"].max, by["id"].distinct, by["id"].mean) == \
        (1, 1, 3, 3, 2.0)
    assert (by["s"].min, by["s"].max, by["s"].distinct, by["s"].mean) == ("a", "b", 2, None)
    assert (by["x"].nulls, by["x"].mean) == (2, 1.0)


def test_a_big_table_is_measured_in_one_pass_with_an_estimate_of_distinct_values() -> None:
    n = SMALL_TABLE * 3
    ids = np.arange(n)
    m = measure(pa.table({"id": ids, "bucket": ids % 1000}))
    by = {c.name: c for c in m.columns}
    assert m.rows == n and (by["id"].min, by["id"].max) == (0, n - 1)
    assert by["id"].mean == (n - 1) / 2
    assert abs(by["id"].distinct - n) / n < 0.05  # HyperLogLog: an estimate
    assert abs(by["bucket"].distinct - 1000) < 50


def test_every_build_records_its_metrics_and_the_history_is_shown(
        make_project: Callable[..., Path]) -> None:
    root = make_project(SMALL, name="small")
    assert run_weir("metrics", "orders_clean", cwd=root).out.startswith(
        "orders_clean has no metrics yet")
    assert run_weir("build", "orders_clean", cwd=root).code == 0
    with (root / "landing/orders.csv").open("a") as f:
        f.write("5,d,50.0\n")
    assert run_weir("build", "orders_clean", cwd=root).code == 0
    r = run_weir("metrics", "orders_clean", "--json", cwd=root)
    assert r.code == 0, r.text
    history = json.loads(r.out)
    assert history["name"] == "orders_clean"
    assert [b["rows"] for b in history["builds"]] == [4, 3]  # newest first
    amount = {c["name"]: c for c in history["builds"][0]["columns"]}["amount"]
    assert (amount["min"], amount["max"], amount["nulls"]) == (3.0, 50.0, 0)
    text = run_weir("metrics", "orders_clean", cwd=root).out
    assert "orders_clean — 2 builds, rows ▁█" in text, text
    assert "amount" in text and "50" in text
    shown = run_weir("show", "orders_clean", cwd=root).out
    assert "metrics:   rows ▁█ over the last 2 builds" in shown, shown

    assert run_weir("daemon", "start", cwd=root).code == 0
    try:
        got = DaemonClient.for_project(root).metrics("orders_clean")
        assert [b.rows for b in got.builds] == [4, 3]
    finally:
        run_weir("daemon", "stop", "--now", cwd=root)
    bad = run_weir("metrics", "orders_clen", cwd=root)
    assert bad.code == 2 and "did you mean 'orders_clean'" in bad.err
