"""weir.Dataset in notebooks and scripts, and as a streaming recipe parameter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import weir
from weir.errors import WeirError

from conftest import SMALL, run_weir, weir_env, write_files


@pytest.fixture
def built(small_project: Path) -> Path:
    assert run_weir("build", "--all", cwd=small_project).code == 0
    return small_project


def test_reading_in_every_shape(built: Path) -> None:
    ds = weir.Dataset("per_customer", project=built)
    assert ds.to_pandas().to_dict("records") == [
        {"customer": "a", "revenue": 10.0}, {"customer": "b", "revenue": 3.0},
        {"customer": "c", "revenue": 7.25}]
    assert ds.to_arrow(columns=["revenue"]).column_names == ["revenue"]
    assert ds.to_polars()["revenue"].sum() == 20.25
    assert [b.num_rows for b in ds.iter_batches(batch_size=2)] == [2, 1]
    assert ds.duckdb().aggregate("sum(revenue)").fetchall() == [(20.25,)]
    assert ds.schema.names == ["customer", "revenue"]
    # A CSV source streams too, typed as its file says.
    src = weir.Dataset("orders", project=built)
    assert sum(b.num_rows for b in src.iter_batches(batch_size=3)) == 4
    assert src.duckdb().count("*").fetchall() == [(4,)]


def test_unknown_dataset_suggests(built: Path) -> None:
    with pytest.raises(WeirError) as exc:
        weir.Dataset("per_custmer", project=built).to_pandas()
    assert exc.value.hint == "did you mean 'per_customer'?"


def test_found_from_the_working_directory_or_weir_project(built: Path, tmp_path: Path) -> None:
    code = ("import weir; print(len(weir.Dataset('orders_clean').to_pandas())); "
            "print(weir.var('min_amount'))")
    for cwd, extra in ((built / "recipes", {}), (tmp_path, {"WEIR_PROJECT": str(built)})):
        out = subprocess.run([sys.executable, "-c", code], cwd=cwd, env={**weir_env(), **extra},
                             capture_output=True, text=True, check=True).stdout.split()
        assert out == ["3", "2"]


def test_write_replaces_atomically_and_status_notices(built: Path) -> None:
    import pandas as pd

    orders = weir.Dataset("orders", project=built)
    rows = orders.write(pd.DataFrame({"id": [1, 9], "customer": ["a", "z"],
                                      "amount": [5.0, 99.0]}))
    assert rows == 2
    assert orders.to_pandas()["customer"].tolist() == ["a", "z"]
    status = json.loads(run_weir("status", "--json", cwd=built).out)
    reasons = {d["name"]: d["reasons"] for d in status["datasets"]}
    assert reasons["orders_clean"] == ["input orders changed"]
    # Batches (a generator) stream in.
    gen = (pa.record_batch({"id": [i], "customer": ["x"], "amount": [1.0]}) for i in range(5))
    assert orders.write(gen) == 5
    assert len(orders.to_pandas()) == 5
    assert not [p for p in (built / "landing").iterdir() if ".weir-tmp-" in p.name]


def test_streaming_recipe_with_dataset_parameters(make_project) -> None:
    root = make_project({**SMALL, "recipes/stream.py": '''
        import pyarrow.compute as pc
        import weir
        from weir import recipe

        @recipe
        def doubled(orders: weir.Dataset):
            for batch in orders.iter_batches(batch_size=1):
                yield batch.set_column(2, "amount", pc.multiply(batch["amount"], 2))

        @recipe
        def frames(doubled: weir.Dataset):
            return (b.to_pandas() for b in doubled.iter_batches(batch_size=2))
        '''}, name="streaming")
    r = run_weir("build", "frames", cwd=root)
    assert r.code == 0, r.text
    table = pq.read_table(root / "data/small/frames.parquet")
    assert table.column("amount").to_pylist() == [3.0, 6.0, 20.0, 14.5]


def test_csv_not_matching_its_declared_schema(make_project) -> None:
    root = make_project({**SMALL, "datasets/orders.yaml": '''
        connection: landing
        path: orders.csv
        schema:
          - {name: id, type: int64}
          - {name: customer, type: int64}
          - {name: amount, type: double}
        '''}, name="badcsv")
    r = run_weir("build", "customers", cwd=root)
    assert r.code == 1
    assert "cannot read" in r.out and "orders.csv as csv" in r.out
    assert "Traceback (most recent call last)" not in r.out
    write_files(root, {"datasets/orders.yaml": "connection: landing\npath: orders.csv\n"})
    assert run_weir("build", "customers", cwd=root).code == 0


def test_a_typo_in_a_notebook_shows_the_hint(built: Path) -> None:
    code = ("import weir\n"
            f"weir.Dataset('orders_clen', project={str(built)!r}).to_pandas()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=weir_env())
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-2:]
    assert last == ["weir.errors.WeirError: unknown dataset 'orders_clen'",
                    "hint: did you mean 'orders_clean'?"]
