"""PySpark recipes end to end, on a real local Spark session (Java 17, pyspark from PyPI).

One Flow holds a Spark path and its pandas twin side by side — orders (Parquet) → a pandas
recipe → a Spark recipe (a join and a group-by) → a SQL recipe — so that one build compares
them. A JVM start costs seconds, so the Spark assertions share two builds (`--jobs 1`: one
worker, one session per build); the missing-pyspark and bad-settings tests start none.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from conftest import git, run_weir, wait_until, write_files

SETTINGS = """\
spark:
  master: local[1]
  conf: {spark.driver.memory: 512m, spark.ui.enabled: "false",
         spark.sql.shuffle.partitions: "2"}
"""

FLOW = {
    "weir.yaml": "name: sparky\n" + SETTINGS,
    "connections.yaml": """
        connections:
          landing: {type: filesystem, root: landing}
        """,
    "datasets/orders.yaml": "connection: landing\npath: orders.parquet\n",
    "datasets/customers.yaml": "connection: landing\npath: customers.csv\n",
    "datasets/by_region.yaml": """
        checks:
          - not_null: [region]
          - range: {revenue: {max: 1000}}
        """,
    "landing/customers.csv": "customer,region\na,north\nb,south\nc,north\nd,east\n",
    "recipes/clean.py": '''
        import pandas as pd
        from weir import recipe


        @recipe
        def orders_clean(orders: pd.DataFrame) -> pd.DataFrame:
            return orders[orders.amount >= 2]
        ''',
    "recipes/regions.py": '''
        from pyspark.sql import DataFrame
        from pyspark.sql import functions as F
        from weir import recipe


        @recipe
        def by_region(orders_clean: DataFrame, customers: DataFrame) -> DataFrame:
            joined = orders_clean.join(customers, "customer")
            return joined.groupBy("region").agg(F.sum("amount").alias("revenue"),
                                                F.count("*").alias("orders"),
                                                F.max("ordered_at").alias("last_order"))


        @recipe
        def misnamed(orders_clean: DataFrame) -> DataFrame:
            return orders_clean.select("no_such_column")


        @recipe
        def lazy_failure(orders_clean: DataFrame) -> DataFrame:
            return orders_clean.withColumn("x", F.raise_error(F.lit("amounts are all wrong")))
        ''',
    "recipes/regions_pd.py": '''
        import pandas as pd
        from weir import recipe


        @recipe
        def by_region_pd(orders_clean: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
            joined = orders_clean.merge(customers, on="customer")
            return joined.groupby("region", as_index=False).agg(
                revenue=("amount", "sum"), orders=("amount", "size"),
                last_order=("ordered_at", "max"))
        ''',
    "recipes/top.sql": "SELECT region, revenue, orders FROM by_region ORDER BY revenue DESC\n",
    "recipes/top_pd.sql": "SELECT region, revenue, orders FROM by_region_pd "
                          "ORDER BY revenue DESC\n",
}
MISNAMED_LINE = 16  # `return orders_clean.select("no_such_column")` in recipes/regions.py
LAZY_DEF_LINE = 20  # `def lazy_failure(…)`


def _orders(root: Path, rows: list[tuple[int, str, float]]) -> None:
    frame = pd.DataFrame(rows, columns=["id", "customer", "amount"])
    frame["ordered_at"] = pd.Timestamp("2026-12-01 08:00") + pd.to_timedelta(frame.id, "h")
    (root / "landing").mkdir(exist_ok=True)
    frame.to_parquet(root / "landing/orders.parquet", index=False)


def _data(root: Path, name: str) -> pd.DataFrame:
    files = list((root / "data").rglob(f"{name}.parquet"))
    assert len(files) == 1, files
    return pd.read_parquet(files[0]).sort_values("region").reset_index(drop=True)


def _jvms(root: Path) -> list[int]:
    """Java processes serving this project (weir puts it on the JVM's command line)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmdline and cmdline[0].endswith(b"java") and str(root).encode() in b" ".join(
                    cmdline):
                found.append(int(entry))
    return found


def test_a_spark_recipe_between_pandas_and_sql_gives_the_pandas_flows_result(
        make_project: Callable[..., Path]) -> None:
    root = make_project(FLOW, name="sparky", commit=False)
    _orders(root, [(1, "a", 1.5), (2, "b", 3.0), (3, "a", 10.0), (4, "c", 7.25),
                   (5, "b", 2.0), (6, "d", 40.0)])
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "initial")

    r = run_weir("build", "--all", "--jobs", "1", cwd=root, timeout=300)
    assert r.code == 1, r.text  # the two broken recipes fail; everything else is built
    spark, pandas = _data(root, "by_region"), _data(root, "by_region_pd")
    pd.testing.assert_frame_equal(spark, pandas, check_dtype=False)
    assert list(spark.region) == ["east", "north", "south"]
    pd.testing.assert_frame_equal(_data(root, "top"), _data(root, "top_pd"), check_dtype=False)

    log = run_weir("logs", "by_region", cwd=root).out
    assert "Spark reads orders_clean itself" in log, log  # pandas' Parquet, by Spark
    assert "customers is read by weir and handed to Spark as Arrow" in log, log  # CSV
    assert "by_region is written by Spark itself" in log, log
    assert "Spark session started (local[1])" in log, log

    shown = json.loads(run_weir("show", "by_region", "--json", cwd=root).out)
    assert shown["status"] == "up to date"
    assert [c[:2] for c in shown["schema"]] == [
        ["region", "string"], ["revenue", "double"], ["orders", "int64"],
        ["last_order", "timestamp[us]"]]  # what the staged Parquet file says
    assert [c["passed"] for c in shown["checks"]] == [True, True], shown["checks"]
    metrics = json.loads(run_weir("metrics", "by_region", "--json", cwd=root).out)
    revenue = {c["name"]: c for c in metrics["builds"][0]["columns"]}["revenue"]
    assert metrics["builds"][0]["rows"] == 3 and revenue["max"] == 40.0

    # A mistake in the recipe's own code: at its line, Spark's error in one line, no JVM.
    lines = r.text.splitlines()
    headline = lines[lines.index("✗ misnamed  failed") + 1]
    assert f"recipes/regions.py:{MISNAMED_LINE}" in headline, r.text
    assert "AnalysisException" in headline and "no_such_column" in headline, headline
    # One that fails only when Spark computes the result: at the recipe's def.
    assert (f"recipes/regions.py:{LAZY_DEF_LINE}: recipe 'lazy_failure': computing "
            "'lazy_failure' in Spark failed:") in r.text, r.text
    assert "amounts are all wrong" in r.text
    assert "at org.apache" not in r.text and "py4j" not in r.text.lower(), r.text
    wait_until(lambda: not _jvms(root), 30, "the build's JVM to end")

    # Bad data arrives: the Spark output fails its `error` check, the previous version stays.
    before = _data(root, "by_region")
    _orders(root, [(1, "a", 1.5), (2, "b", 3.0), (7, "c", 5000.0)])
    r = run_weir("build", "by_region", "top", "--jobs", "1", cwd=root, timeout=300)
    assert r.code == 1, r.text
    assert "range(revenue)" in r.text and "failed" in r.text, r.text
    pd.testing.assert_frame_equal(_data(root, "by_region"), before)
    assert (root / ".weir/rejected").is_dir()
    shown = json.loads(run_weir("show", "by_region", "--json", cwd=root).out)
    assert shown["rows"] == 3
    wait_until(lambda: not _jvms(root), 30, "the build's JVM to end")


BLOCK_PYSPARK = '''
import sys


class _NoPyspark:
    """pyspark as if it were not installed (the test's only)."""

    def find_spec(self, name, path=None, target=None):
        if name == "pyspark" or name.startswith("pyspark."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NoPyspark())
'''


def test_without_pyspark_only_the_spark_recipes_fail_saying_what_to_install(
        make_project: Callable[..., Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    files = dict(FLOW)
    files["recipes/regions.py"] = FLOW["recipes/regions.py"].split("@recipe\n        def misn")[0]
    root = make_project(files, name="nospark")
    _orders(root, [(1, "a", 3.0), (2, "b", 4.0)])
    blocker = tmp_path / "block"
    write_files(blocker, {"sitecustomize.py": BLOCK_PYSPARK})
    monkeypatch.setenv("PYTHONPATH", f"{blocker}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")

    r = run_weir("build", "--all", cwd=root)
    assert r.code == 2, r.text
    assert "recipe 'by_region' takes Spark DataFrames but pyspark is not installed" in r.text
    assert 'pip install "weir[spark]"' in r.text
    assert "Traceback" not in r.text
    assert len(list((root / "data").rglob("top_pd.parquet"))) == 1  # the rest is built
    assert not list((root / "data").rglob("by_region.parquet"))
    assert not _jvms(root)


BAD = {  # weir.yaml: `name:` on line 1, `spark:` on line 2
    "settings that are not a mapping": ("spark: local[2]\n", "not-a-mapping", 2),
    "an unknown key": ("spark:\n  mastr: local[2]\n", "unknown-key", 3),
    "a master that is no string": ("spark:\n  master: 4\n", "invalid-value", 3),
    "a conf value that is a list": ("spark:\n  conf:\n    spark.jars: [a.jar, b.jar]\n",
                                    "invalid-value", 4),
    "an environment's": ("environments:\n  prod:\n    spark: {conf: [x]}\n", "not-a-mapping",
                         4),
}


@pytest.mark.parametrize("mistake", sorted(BAD))
def test_a_wrong_spark_section_is_a_diagnostic_at_its_line(make_project: Callable[..., Path],
                                                          mistake: str) -> None:
    text, code, line = BAD[mistake]
    root = make_project({"weir.yaml": "name: bad\n" + text}, name="bad")
    r = run_weir("status", "--json", cwd=root)
    assert r.code == 2, r.text
    found = [(d["line"], d["code"]) for d in json.loads(r.out)["error"]["diagnostics"]]
    assert found == [(line, code)], r.out


def test_a_spark_annotation_hands_the_input_over_as_a_spark_dataframe() -> None:
    """Read as the Flow, the editor and the build read it: no diagnostic, a Spark input."""
    from weir.model.project import Interface
    from weir.model.python_recipes import parse_python_file

    parsed, diags = parse_python_file("recipes/x.py", (
        "import pyspark.sql as ps\nfrom pyspark.sql import DataFrame\nfrom weir import recipe\n"
        "\n\n@recipe\ndef x(a: DataFrame, b: ps.DataFrame, c: 'DataFrame') -> DataFrame:\n"
        "    return a.join(b, 'k').join(c, 'k')\n"))
    assert diags == []
    assert [i.interface for i in parsed.recipes[0].inputs] == [Interface.SPARK] * 3


def test_a_spark_recipe_on_s3_without_s3a_reads_and_writes_through_arrow(
        make_project: Callable[..., Path], s3_server, monkeypatch: pytest.MonkeyPatch) -> None:
    """No hadoop-aws on this machine (no Maven): the s3 input comes through weir, the log
    says so and what to add, and the output on s3 is written by weir from Spark's Arrow."""
    import io

    import boto3

    s3 = boto3.client("s3", endpoint_url=s3_server.endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket="sparklake")
    orders = pd.DataFrame({"customer": ["a", "b", "a", "c"], "amount": [1.5, 3.0, 10.0, 7.25]})
    s3.put_object(Bucket="sparklake", Key="shop/orders.parquet",
                  Body=orders.to_parquet(index=False))
    monkeypatch.setenv("S3_SECRET", "testing")
    root = make_project({
        "weir.yaml": "name: sparks3\n" + SETTINGS,
        "connections.yaml": f"""
            connections:
              lake:
                type: s3
                bucket: sparklake
                prefix: shop
                endpoint_url: {s3_server.endpoint}
                region: us-east-1
                access_key_id: testing
                secret_access_key: ${{env:S3_SECRET}}
            """,
        "datasets/orders.yaml": "connection: lake\npath: orders.parquet\n",
        "datasets/by_customer.yaml": "connection: lake\npath: by_customer.parquet\n",
        "recipes/totals.py": '''
            from pyspark.sql import DataFrame
            from pyspark.sql import functions as F
            from weir import recipe


            @recipe
            def by_customer(orders: DataFrame) -> DataFrame:
                return orders.groupBy("customer").agg(F.sum("amount").alias("total"))
            ''',
    }, name="sparks3")
    r = run_weir("build", "by_customer", cwd=root, timeout=300)
    assert r.code == 0, r.text
    log = run_weir("logs", "by_customer", cwd=root).out
    assert "orders is read through Arrow, not by Spark: this Spark has no s3a" in log, log
    assert "spark.jars.packages: org.apache.hadoop:hadoop-aws" in log
    assert "by_customer is collected from Spark as Arrow" in log, log
    body = s3.get_object(Bucket="sparklake", Key="shop/by_customer.parquet")["Body"].read()
    got = pd.read_parquet(io.BytesIO(body)).sort_values("customer").reset_index(drop=True)
    want = orders.groupby("customer", as_index=False).agg(total=("amount", "sum"))
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    wait_until(lambda: not _jvms(root), 30, "the build's JVM to end")


def test_an_environments_spark_settings_merge_over_the_projects(
        make_project: Callable[..., Path]) -> None:
    from weir.model.loader import load_project

    root = make_project({"weir.yaml": "name: envs\n" + SETTINGS + (
        "environments:\n  prod:\n    spark:\n      master: spark://spark.prod:7077\n"
        "      conf: {spark.driver.memory: 4g, spark.executor.cores: 4}\n")}, name="envs")
    project, diags = load_project(root, environment="prod")
    assert diags == [] and project is not None
    assert project.config.spark.as_job() == {
        "master": "spark://spark.prod:7077",
        "conf": {"spark.driver.memory": "4g", "spark.ui.enabled": "false",
                 "spark.sql.shuffle.partitions": "2", "spark.executor.cores": 4}}
    project, _ = load_project(root)
    assert project is not None and project.config.spark.as_job()["master"] == "local[1]"


def test_the_editor_says_a_column_a_spark_input_does_not_have(
        make_project: Callable[..., Path]) -> None:
    """`orders["amont"]` on a Spark DataFrame is a column Spark cannot resolve: the language
    server's column check covers Spark inputs as it does pandas ones."""
    from weir.model.loader import load_project
    from weir_lsp.checks import column_diagnostics

    text = ("from pyspark.sql import DataFrame\nfrom weir import recipe\n\n\n@recipe\n"
            "def big(orders: DataFrame) -> DataFrame:\n"
            "    return orders.where(orders[\"amont\"] > 5)\n")
    root = make_project({"datasets/orders.yaml": "path: orders.parquet\n",
                         "recipes/big.py": text}, name="cols")
    project, _ = load_project(root)
    assert project is not None
    said = column_diagnostics(project, "recipes/big.py", text,
                              lambda name: ["id", "amount"] if name == "orders" else None)
    assert [(d.line, d.code, d.suggestion) for d in said] == [(7, "unknown-column", "amount")]
