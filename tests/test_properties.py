"""Property-based tests on random Flows: the build engine against a naive reference evaluation.

For any DAG: after a build everything is up to date and every output equals the reference;
after editing one recipe, a rebuild runs exactly that recipe and its downstream.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from weir.build.runner import Runner
from weir.flow.plan import Mode
from weir.workspace import Workspace


@st.composite
def dags(draw: st.DrawFn) -> tuple[int, dict[str, list[str]], dict[str, int]]:
    n_sources = draw(st.integers(1, 3))
    n_recipes = draw(st.integers(1, 8))
    graph: dict[str, list[str]] = {}
    names = [f"s{i}" for i in range(n_sources)]
    consts = {}
    for i in range(n_recipes):
        name = f"d{i}"
        k = draw(st.integers(1, min(3, len(names))))
        graph[name] = draw(st.lists(st.sampled_from(names), min_size=k, max_size=k,
                                    unique=True))
        consts[name] = draw(st.integers(0, 100))
        names.append(name)
    return n_sources, graph, consts


def write_project(root: Path, n_sources: int, graph: dict[str, list[str]],
                  consts: dict[str, int]) -> None:
    (root / "datasets").mkdir(parents=True)
    (root / "recipes").mkdir()
    (root / "data").mkdir()
    (root / "weir.yaml").write_text("name: prop\n")
    for i in range(n_sources):
        (root / f"datasets/s{i}.yaml").write_text(f"path: s{i}.parquet\n")
        pq.write_table(pa.table({"v": [i + 1, 10 * (i + 1)]}), root / f"data/s{i}.parquet")
    for name in graph:
        write_recipe(root, name, graph[name], consts[name])


def write_recipe(root: Path, name: str, inputs: list[str], const: int) -> None:
    args = ", ".join(inputs)
    total = " + ".join(f"int({i}.v.sum())" for i in inputs)
    (root / f"recipes/{name}.py").write_text(
        "import pandas as pd\nfrom weir import recipe\n\n\n@recipe\n"
        f"def {name}({args}):\n    return pd.DataFrame({{'v': [{total} + {const}]}})\n")


def reference(n_sources: int, graph: dict[str, list[str]], consts: dict[str, int]
              ) -> dict[str, int]:
    values = {f"s{i}": (i + 1) + 10 * (i + 1) for i in range(n_sources)}
    for name, inputs in graph.items():  # graph is in creation order: inputs come first
        values[name] = sum(values[i] for i in inputs) + consts[name]
    return values


def build_all(root: Path) -> dict[str, str]:
    ws = Workspace.open(root)
    try:
        snap = ws.snapshot()
        plan = ws.plan(ws.resolve_targets([], all_=True), Mode.REQUIRED, snap)
        result = Runner(ws, plan, snap, jobs=2).run()
        assert result.ok, [(o.recipe, o.error, o.traceback) for o in result.outcomes]
        return {name: o.status for o in result.outcomes for name in o.outputs}
    finally:
        ws.close()


def check(root: Path, expected: dict[str, int], graph: dict[str, list[str]]) -> None:
    ws = Workspace.open(root)
    try:
        snap = ws.snapshot()
        assert all(s.up_to_date for s in snap.statuses.values()), snap.statuses
    finally:
        ws.close()
    for name in graph:
        got = pq.read_table(root / f"data/prop/{name}.parquet").column("v").to_pylist()
        assert got == [expected[name]], name


def downstream(graph: dict[str, list[str]], start: str) -> set[str]:
    out = {start}
    changed = True
    while changed:
        changed = False
        for name, inputs in graph.items():
            if name not in out and out & set(inputs):
                out.add(name)
                changed = True
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dags(), st.data())
def test_builds_match_reference_and_rebuild_exactly_the_downstream(dag, data) -> None:
    n_sources, graph, consts = dag
    root = Path(tempfile.mkdtemp(prefix="weir-prop-"))
    try:
        write_project(root, n_sources, graph, consts)
        first = build_all(root)
        assert set(first) == set(graph) and set(first.values()) == {"built"}
        check(root, reference(n_sources, graph, consts), graph)
        assert build_all(root) == {}  # a second build has nothing to do

        edited = data.draw(st.sampled_from(sorted(graph)), label="edited recipe")
        consts = {**consts, edited: consts[edited] + 1}
        write_recipe(root, edited, graph[edited], consts[edited])
        second = build_all(root)
        assert set(second) == downstream(graph, edited)
        assert set(second.values()) == {"built"}
        check(root, reference(n_sources, graph, consts), graph)

        # Reverting the edit restores the earlier outputs instead of recomputing them.
        consts = {**consts, edited: consts[edited] - 1}
        write_recipe(root, edited, graph[edited], consts[edited])
        third = build_all(root)
        assert set(third) == downstream(graph, edited)
        assert set(third.values()) == {"restored"}
        check(root, reference(n_sources, graph, consts), graph)
    finally:
        shutil.rmtree(root, ignore_errors=True)


# -- the model never raises on a user's mistake --------------------------------------------------

from conftest import SMALL  # noqa: E402

from weir.assemble import read_flow  # noqa: E402

SMALL_TEXTS = {path: __import__("textwrap").dedent(text).lstrip("\n")
               for path, text in SMALL.items() if not path.startswith("landing/")}


@st.composite
def damaged_projects(draw: st.DrawFn) -> dict[str, bytes]:
    """The small project with one file cut, spliced or replaced by garbage: the edits a
    half-typed save, a bad merge or a wrong paste make."""
    files = {p: t.encode() for p, t in SMALL_TEXTS.items()}
    path = draw(st.sampled_from(sorted(files)))
    text = files[path].decode()
    how = draw(st.sampled_from(["cut", "splice", "garbage"]))
    if how == "cut":
        at = draw(st.integers(0, len(text)))
        text = text[:at]
    elif how == "splice":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.text(max_size=40)) + text[at:]
    else:
        text = draw(st.text(max_size=200))
    files[path] = text.encode("utf-8", "surrogatepass") if draw(st.booleans()) else \
        text.encode("utf-8", "replace")
    return files


@settings(max_examples=300, deadline=None)
@given(damaged_projects())
def test_no_damaged_file_makes_reading_the_project_raise(files: dict[str, bytes]) -> None:
    read = read_flow(Path("/nonexistent/project"), files=files)
    for d in read.diagnostics:
        assert d.file and isinstance(d.line, int) and d.message
    if read.flow is not None:  # and every status of what it still knows is computable
        from weir.flow.fingerprint import expected_fingerprints
        from weir.flow.status import State, compute_status

        assert set(read.flow.order) == set(read.flow.project.datasets)
        expected, components = expected_fingerprints(read.flow, {})
        statuses = compute_status(read.flow, expected, components, {}, {})
        assert set(statuses) == set(read.flow.order)
        assert {n for n, s in statuses.items() if s.state is State.INVALID} == \
            set(read.flow.invalid)
