"""R recipes: read without running R, built with Rscript, data handed over losslessly.

Real R (Debian's r-base-core, installed by `make test`), real builds through the CLI.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run_weir, write_files

pytestmark = pytest.mark.skipif(shutil.which("Rscript") is None,
                                reason="R is not installed (make test installs it)")

EVERY_TYPE = pa.table({
    "small_int": pa.array([1, None, -7, 2**31 - 1], pa.int64()),
    "big_int": pa.array([2**40, None, -(2**53), 3], pa.int64()),  # beyond int32: R doubles
    "double": pa.array([1.5, None, float("nan"), 1 / 3], pa.float64()),
    "text": pa.array(["é ü 漢字 🙂", None, "", "a,\"b\"\n\tc"], pa.string()),
    "flag": pa.array([True, None, False, True], pa.bool_()),
    "day": pa.array([dt.date(2026, 12, 1), None, dt.date(1900, 1, 1), dt.date(2100, 2, 28)],
                    pa.date32()),
    "utc": pa.array([dt.datetime(2026, 12, 1, 10, 30, 0, 123456), None,
                     dt.datetime(1969, 12, 31, 23, 59, 59, 999999), dt.datetime(2000, 1, 1)],
                    pa.timestamp("us", "UTC")),
    "paris": pa.array([dt.datetime(2026, 3, 29, 1, 30), None, dt.datetime(2026, 10, 25, 0, 59),
                       dt.datetime(2026, 7, 14, 12)], pa.timestamp("us", "Europe/Paris")),
    "naive": pa.array([dt.datetime(2026, 12, 1, 8, 0, 0, 1), None, dt.datetime(1970, 1, 1),
                       dt.datetime(2038, 1, 19, 3, 14, 8)], pa.timestamp("us")),
})


def project(make_project, files: dict[str, str]) -> Path:
    base = {
        "weir.yaml": """
            name: rproj
            variables:
              factor: 3
              label: "x"
            """,
        "connections.yaml": """
            connections:
              landing: {type: filesystem, root: landing}
            """,
        "datasets/typed.yaml": "connection: landing\npath: typed.parquet\n",
    }
    root = make_project({**base, **files}, name="rproj", commit=False)
    (root / "landing").mkdir(exist_ok=True)
    pq.write_table(EVERY_TYPE, root / "landing" / "typed.parquet")
    return root


def read(root: Path, name: str) -> pa.Table:
    import weir

    return weir.Dataset(name, project=root).to_arrow()


def test_every_type_survives_the_round_trip_through_r(make_project) -> None:
    root = project(make_project, {"recipes/echo.R": """
        # Returns its input as it came.
        echo <- function(typed) {
          stopifnot(is.integer(typed$small_int), is.double(typed$big_int),
                    is.logical(typed$flag), inherits(typed$day, "Date"),
                    identical(attr(typed$paris, "tzone"), "Europe/Paris"),
                    is.na(typed$double[[2]]), is.nan(typed$double[[3]]),
                    !is.na(typed$double[[3]]) || is.nan(typed$double[[3]]),
                    identical(typed$text[[1]], "\\u00e9 \\u00fc \\u6f22\\u5b57 \\U0001f642"),
                    identical(typed$text[[3]], ""), is.na(typed$text[[2]]))
          typed
        }
        """})
    r = run_weir("build", "echo", cwd=root)
    assert r.code == 0, r.text
    back = read(root, "echo")
    # R has no 64-bit integer: integers beyond 32 bits are R doubles (exact to 2^53), and a
    # double is what comes back; every other type comes back as it went.
    want_schema = EVERY_TYPE.schema.set(1, pa.field("big_int", pa.float64()))
    assert back.schema == want_schema
    for name in EVERY_TYPE.column_names:
        want, got = EVERY_TYPE.column(name), back.column(name)
        if name == "double":  # NaN is not equal to itself: compare it apart
            assert got.is_null().to_pylist() == [False, True, False, False]
            assert str(got[2].as_py()) == "nan"
            want, got = want.take([0, 1, 3]), got.take([0, 1, 3])
        assert got.to_pylist() == want.to_pylist(), name
        if name == "big_int":
            assert [None if v is None else int(v) for v in got.to_pylist()] == \
                EVERY_TYPE.column(name).to_pylist()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(
    st.one_of(st.none(), st.integers(-(2**31) + 1, 2**31 - 1)),
    st.one_of(st.none(), st.floats(allow_nan=False)),
    st.one_of(st.none(), st.text(st.characters(blacklist_categories=("Cs",),
                                               blacklist_characters="\0"), max_size=8)),
    # R holds a time as a double of seconds: to the microsecond within 2^32 s of 1970.
    st.one_of(st.none(), st.datetimes(min_value=dt.datetime(1834, 1, 1),
                                      max_value=dt.datetime(2105, 12, 31))),
), max_size=20))
def test_random_frames_come_back_equal(tmp_path_factory, rows) -> None:
    """Hand-over and R's side, through Rscript: any values of these types come back equal."""
    from weir.build.jobspec import ConnectionSpec, InputSpec, OutputSpec, WorkerJob
    from weir.build.r_runner import run_r
    from weir.model.project import Interface, RecipeKind

    tmp = tmp_path_factory.mktemp("r")
    (tmp / "echo.R").write_text("echo <- function(x) x\n")
    table = pa.table({
        "i": pa.array([r[0] for r in rows], pa.int64()),
        "d": pa.array([r[1] for r in rows], pa.float64()),
        "s": pa.array([r[2] for r in rows], pa.string()),
        "t": pa.array([r[3] for r in rows], pa.timestamp("us", "America/New_York")),
    })
    conn = ConnectionSpec("c", "filesystem", {})
    job = WorkerJob(recipe="echo", kind=RecipeKind.R, project_root=str(tmp),
                    file=str(tmp / "echo.R"), rel_file="echo.R", line=1, recipes_dir=str(tmp),
                    inputs=(InputSpec("x", conn, "x", "parquet", Interface.PANDAS, None),),
                    outputs=(OutputSpec("echo", conn, "echo", "parquet", "t", None, ""),),
                    variables={}, sql_variables=(), log_path=str(tmp / "log"),
                    data_root=str(tmp), rscript=shutil.which("Rscript"))
    said: list[str] = []
    back = run_r(job, lambda inp: table, lambda inp: None, {}, said.append)["echo"]
    assert back.equals(table), (back.to_pylist(), table.to_pylist())
    assert said[0].startswith("weir: inputs handed over in "), said


def test_what_r_cannot_hold_is_refused_by_name(make_project) -> None:
    root = project(make_project, {"recipes/echo.R": "echo <- function(huge) huge\n",
                                  "datasets/huge.yaml": "connection: landing\n"
                                                        "path: huge.parquet\n"})
    pq.write_table(pa.table({"id": pa.array([2**60], pa.int64())}),
                   root / "landing" / "huge.parquet")
    r = run_weir("build", "echo", cwd=root)
    assert r.code == 1
    assert "column 'id' of input 'huge' holds integers beyond 2^53" in r.out, r.text
    assert "Traceback" not in r.text


def test_an_r_recipe_between_python_and_sql_in_the_example(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    assert run_weir("init", str(root), cwd=tmp_path).code == 0
    r = run_weir("build", "monthly_report", cwd=root)
    assert r.code == 0, r.text
    assert "customer_cohorts" in r.out and "monthly_report" in r.out
    import weir

    stats = weir.Dataset("customer_stats", project=root).to_pandas()
    cohorts = weir.Dataset("customer_cohorts", project=root).to_pandas()
    joined = stats.groupby(stats.first_order.dt.strftime("%Y-%m")).size()
    assert cohorts.new_customers.tolist() == joined.tolist()
    assert [d.strftime("%Y-%m") for d in cohorts.month] == list(joined.index)
    assert cohorts.new_customers.sum() == len(stats)
    report = weir.Dataset("monthly_report", project=root).to_pandas()
    assert report.new_customers.sum() == len(stats)
    shown = json.loads(run_weir("show", "customer_cohorts", "--json", cwd=root).out)
    assert shown["recipe"] == {"name": "customer_cohorts", "id": "recipes/customer_cohorts.R",
                               "kind": "r", "file": "recipes/customer_cohorts.R", "line": 7}
    assert [c[:2] for c in shown["schema"]] == [["month", "date32"], ["new_customers", "int64"],
                                               ["revenue_per_customer", "double"]]


def test_comments_and_layout_do_not_count_code_does(make_project) -> None:
    root = project(make_project, {"recipes/scaled.R": """
        # Scales the small integers.
        scaled <- function(typed) {
          data.frame(v = typed$small_int[c(1, 3)] * var("factor"))
        }
        """})
    assert run_weir("build", "scaled", cwd=root).code == 0
    assert read(root, "scaled").column("v").to_pylist() == [3, -21]
    recipe = root / "recipes/scaled.R"
    recipe.write_text("# A new comment.\nscaled <- function(typed)\n{\n\n  data.frame(\n"
                      "    v = typed$small_int[c(1, 3)] * var('factor')   # the same code\n  )\n}\n")
    status = json.loads(run_weir("status", "scaled", "--json", cwd=root).out)
    assert status["datasets"][0]["status"] == "up to date", status
    recipe.write_text(recipe.read_text().replace("* var('factor')", "* var('factor') + 1L"))
    status = json.loads(run_weir("status", "scaled", "--json", cwd=root).out)
    assert status["datasets"][0]["reasons"] == ["recipe changed"], status
    # A variable it reads, changed: stale for that reason.
    write_files(root, {"weir.yaml": "name: rproj\nvariables:\n  factor: 4\n  label: x\n"})
    status = json.loads(run_weir("status", "scaled", "--json", cwd=root).out)
    assert "variable factor changed" in status["datasets"][0]["reasons"], status


def test_several_outputs_a_folder_and_variables(make_project) -> None:
    root = project(make_project, {
        "folders/charts.yaml": "description: charts\n",
        "recipes/split.R": """
            # outputs: small, large, charts
            split <- function(typed, charts) {
              png(file.path(charts, "hist.png"))
              plot(typed$double[is.finite(typed$double)])
              dev.off()
              writeLines(var("label"), file.path(charts, "label.txt"))
              cat("split into two\\n")
              list(small = typed[!is.na(typed$small_int) & typed$small_int < 2, c("small_int", "text")],
                   large = typed[!is.na(typed$small_int) & typed$small_int >= 2, "small_int", drop = FALSE])
            }
            """})
    r = run_weir("build", "small", "large", "charts", cwd=root)
    assert r.code == 0, r.text
    assert read(root, "small").column("small_int").to_pylist() == [1, -7]
    assert read(root, "large").column("small_int").to_pylist() == [2**31 - 1]
    charts = root / "data" / "rproj" / "charts"
    assert (charts / "hist.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (charts / "label.txt").read_text() == "x\n"
    assert "split into two" in run_weir("logs", "small", cwd=root).out
    # A wrong return is said, and the outputs keep their version.
    recipe = root / "recipes/split.R"
    recipe.write_text(recipe.read_text().replace("list(small =", "list(tiny ="))
    r = run_weir("build", "small", cwd=root)
    assert r.code == 1
    assert "recipe 'split' must return a named list of small, large; it returned " \
           "list(tiny, large)" in r.out, r.text
    assert read(root, "small").num_rows == 2


def test_a_recipe_using_debians_data_table(make_project) -> None:
    root = project(make_project, {"recipes/by_flag.R": """
        library(data.table)
        by_flag <- function(typed) {
          dt <- as.data.table(typed)
          dt[!is.na(flag), .(n = .N, biggest = max(small_int, na.rm = TRUE)), by = flag][order(flag)]
        }
        """})
    r = run_weir("build", "by_flag", cwd=root)
    assert r.code == 0, r.text
    assert read(root, "by_flag").to_pylist() == [
        {"flag": False, "n": 1, "biggest": -7}, {"flag": True, "n": 2, "biggest": 2**31 - 1}]


def test_an_r_error_is_said_with_its_frames_and_keeps_the_data(make_project) -> None:
    root = project(make_project, {"recipes/fails.R": """
        check <- function(x) {
          if (nrow(x) > 0) stop("too many rows: ", nrow(x))
          x
        }

        fails <- function(typed) {
          print("starting")
          check(typed)
        }
        """})
    recipe = root / "recipes/fails.R"
    good = "fails <- function(typed) typed[1, c('text'), drop = FALSE]\n"
    broken = recipe.read_text()
    recipe.write_text(good)
    assert run_weir("build", "fails", cwd=root).code == 0
    recipe.write_text(broken)
    r = run_weir("build", "fails", cwd=root)
    assert r.code == 1
    assert "Error in check(typed): too many rows: 4" in r.out, r.text
    assert "recipes/fails.R:8: check(typed)" in r.out
    assert "recipes/fails.R:2: stop(" in r.out
    assert "Traceback (most recent call last)" not in r.text  # no Python traceback of weir's
    log = run_weir("logs", "fails", cwd=root).out
    assert '[1] "starting"' in log and "too many rows" in log
    assert read(root, "fails").column("text").to_pylist() == ["é ü 漢字 🙂"]
    status = json.loads(run_weir("status", "fails", "--json", cwd=root).out)
    assert status["datasets"][0]["status"] == "failed"


def test_without_rscript_r_recipes_fail_saying_what_to_do_and_the_rest_builds(
        make_project, monkeypatch, tmp_path: Path) -> None:
    root = project(make_project, {
        "recipes/in_r.R": "in_r <- function(typed) typed\n",
        "recipes/after_r.sql": "SELECT * FROM in_r\n",
        "recipes/in_python.py": "from weir import recipe\n\n\n@recipe\n"
                                "def in_python(typed):\n    return typed\n",
    })
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").symlink_to(shutil.which("git"))  # type: ignore[arg-type]
    monkeypatch.setenv("PATH", str(bin_dir))
    r = run_weir("build", "--all", cwd=root)
    assert r.code == 2, r.text
    assert "R recipes need Rscript, which is not on PATH" in r.out
    assert "hint: install R (e.g. apt-get install r-base-core), or set " \
           "`r: {rscript: /path/to/Rscript}` in weir.yaml" in r.out
    assert "in_python  built" in r.out and "after_r  skipped: upstream in_r did not build" \
        in r.out, r.out
    assert "Traceback" not in r.text
    # weir.yaml naming an Rscript that is not there: said at its line.
    write_files(root, {"weir.yaml": "name: rproj\nvariables:\n  factor: 3\n  label: x\n"
                                    "r:\n  rscript: /opt/no/Rscript\n"})
    r = run_weir("build", "in_r", cwd=root)
    assert r.code == 2
    assert "weir.yaml:6: r.rscript '/opt/no/Rscript' is not an executable file" in r.out, r.out
    # And given where it is, it runs (PATH still has no R).
    write_files(root, {"weir.yaml": "name: rproj\nvariables:\n  factor: 3\n  label: x\n"
                       f"r:\n  rscript: {os.path.realpath(shutil.which('Rscript', path=os.defpath) or '/usr/bin/Rscript')}\n"})
    r = run_weir("build", "after_r", cwd=root)
    assert r.code == 0, r.text


@pytest.mark.parametrize("text, line, message", [
    ("bad <- function(typed) typed\n", 1, "recipes/bad_name.R defines no function 'bad_name'"),
    ("bad_name <- function(typed, {\n  typed\n}\n", 1,
     "R syntax error: '(' is opened here and never closed"),
    ("# about\nbad_name <- function(typed) {\n  x <- 'unclosed\n}\n", 3,
     "R syntax error: a string is opened here and never closed"),
    ("bad_name <- function(typo_d) typo_d\n", 1, "unknown input 'typo_d'"),
    ("bad_name <- function(typed) typed * var('facter')\n", 1, "unknown variable 'facter'"),
    ("# outputs: a, a\nbad_name <- function(typed) list(a = typed)\n", 1,
     "recipe 'bad_name' lists an output twice"),
])
def test_mistakes_in_what_the_flow_reads_are_said_at_their_line(make_project, text: str,
                                                                line: int, message: str) -> None:
    root = project(make_project, {"recipes/bad_name.R": text})
    r = run_weir("status", cwd=root)
    assert r.code == 2, r.text
    assert f"recipes/bad_name.R:{line}" in r.out + r.err and message in r.out + r.err, r.text
    assert "Traceback" not in r.text


def test_an_unsigned_integer_beyond_2_53_is_refused_not_wrapped(tmp_path: Path) -> None:
    from weir.build.r_handover import write_frame
    from weir.build.returns import RecipeError

    with pytest.raises(RecipeError, match="column 'u' of x holds integers beyond 2\\^53"):
        write_frame(pa.table({"u": pa.array([1, 2**64 - 1], pa.uint64())}), tmp_path / "f",
                    "x")


def test_column_names_stay_utf8_whatever_the_locale(make_project, monkeypatch) -> None:
    monkeypatch.setenv("LANG", "C")
    monkeypatch.setenv("LC_ALL", "C")
    root = project(make_project, {"recipes/echo.R": "echo <- function(named) named\n",
                                  "datasets/named.yaml": "connection: landing\n"
                                                         "path: named.parquet\n"})
    pq.write_table(pa.table({"café": [1], "漢字": ["é"]}), root / "landing/named.parquet")
    r = run_weir("build", "echo", cwd=root)
    assert r.code == 0, r.text
    assert read(root, "echo").to_pylist() == [{"café": 1, "漢字": "é"}]
