"""The Flow, selection, status and the planner — pure functions tested on literal graphs."""

from __future__ import annotations

from pathlib import Path

import pytest

from weir.errors import PlanError, SelectionError
from weir.flow.fingerprint import check_components, expected_fingerprints
from weir.flow.fingerprint import Components
from weir.flow.graph import Flow, build_flow
from weir.flow.plan import Action, Mode, SourceCheck, plan_build
from weir.flow.selection import select
from weir.flow.status import State, Status, Stored, compute_status
from weir.model.loader import load_project

from conftest import write_files

#   s1 ─ a ─ b ─ d
#            c ─┘      (c reads a and s2; d reads b and c)
#   s2 ──────┘
GRAPH = {"a": ["s1"], "b": ["a"], "c": ["a", "s2"], "d": ["b", "c"]}


def flow_of(tmp_path: Path, graph: dict[str, list[str]], tags: dict[str, str] | None = None,
            variables: dict[str, list[str]] | None = None) -> Flow:
    files = {"weir.yaml": "name: t\nvariables:\n  v: 1\n  w: 2\n"}
    sources = {i for ins in graph.values() for i in ins} - set(graph)
    for s in sources:
        files[f"datasets/{s}.yaml"] = f"path: {s}.csv\n"
    for name, ins in graph.items():
        where = " ".join(f"AND ${v} > 0" for v in (variables or {}).get(name, []))
        joins = " CROSS JOIN ".join(ins)
        files[f"recipes/{name}.sql"] = f"SELECT * FROM {joins} WHERE 1 = 1 {where}"
        if tags and name in tags:
            files[f"datasets/{name}.yaml"] = f"tags: [{tags[name]}]\nzone: z_{tags[name]}\n"
    write_files(tmp_path, files)
    project, diags = load_project(tmp_path)
    assert project is not None and diags == [], diags
    flow, diags = build_flow(project)
    assert flow is not None and diags == []
    return flow


def statuses(flow: Flow, **overrides: State) -> dict[str, Status]:
    out = {}
    for n in flow.order:
        if flow.project.datasets[n].is_source:
            out[n] = Status(State.SOURCE, (), True)
        else:
            state = overrides.get(n, State.UP_TO_DATE)
            out[n] = Status(state, () if state is State.UP_TO_DATE else ("why",),
                            state is not State.NEVER_BUILT)
    return out


def planned(plan) -> list[str]:
    return [o for j in plan.jobs for o in j.outputs]


def test_flow_order_and_closures(tmp_path: Path) -> None:
    flow = flow_of(tmp_path, GRAPH)
    pos = {n: i for i, n in enumerate(flow.order)}
    for name, ins in GRAPH.items():
        assert all(pos[i] < pos[name] for i in ins)
    assert flow.ancestors(["d"]) == {"s1", "s2", "a", "b", "c"}
    assert flow.descendants(["a"]) == {"b", "c", "d"}
    assert flow.sinks() == ["d"]


def test_selection(tmp_path: Path) -> None:
    flow = flow_of(tmp_path, GRAPH, tags={"b": "report", "c": "report"})
    assert select(flow, ["+b"]) == ["s1", "a", "b"]
    assert select(flow, ["c+"]) == ["c", "d"]
    assert sorted(select(flow, ["tag:report"])) == ["b", "c"]
    assert sorted(select(flow, ["zone:z_report"])) == ["b", "c"]
    with pytest.raises(SelectionError, match="unknown dataset 'bb'"):
        select(flow, ["bb"])
    with pytest.raises(SelectionError) as exc:
        select(flow, ["tag:reprot"])
    assert exc.value.hint == "did you mean 'report'?"


def test_required_mode_builds_out_of_date_upstream_only(tmp_path: Path) -> None:
    flow = flow_of(tmp_path, GRAPH)
    assert planned(plan_build(flow, statuses(flow), ["d"])) == []
    plan = plan_build(flow, statuses(flow, b=State.STALE, d=State.STALE), ["d"])
    assert planned(plan) == ["b", "d"]
    # A target that is up to date is not built, and its upstream is not visited.
    plan = plan_build(flow, statuses(flow, a=State.STALE), ["b"])
    assert planned(plan) == []
    assert plan.up_to_date == ("b",)


def test_only_force_missing_downstream(tmp_path: Path) -> None:
    flow = flow_of(tmp_path, GRAPH)
    st = statuses(flow, a=State.STALE)
    assert planned(plan_build(flow, st, ["c"], Mode.ONLY)) == ["c"]
    assert sorted(planned(plan_build(flow, st, ["d"], Mode.FORCE))) == ["a", "b", "c", "d"]
    assert planned(plan_build(flow, st, ["b"], Mode.FORCE)) == ["a", "b"]
    st = statuses(flow, b=State.NEVER_BUILT)
    assert sorted(planned(plan_build(flow, st, ["d"], Mode.MISSING))) == ["b", "d"]
    assert sorted(planned(plan_build(flow, statuses(flow), ["b"], Mode.DOWNSTREAM))) == \
        ["b", "d"]
    # Downstream of a source rebuilds everything reading it, not the source.
    assert sorted(planned(plan_build(flow, statuses(flow), ["s2"], Mode.DOWNSTREAM))) == \
        ["c", "d"]


def test_what_needs_unavailable_storage_is_blocked_and_the_rest_planned(tmp_path: Path) -> None:
    flow = flow_of(tmp_path, GRAPH)
    # s2 cannot be read (its connection is down; with no data to tell, it looks missing).
    st = {**statuses(flow, a=State.STALE, b=State.STALE, c=State.STALE, d=State.STALE),
          "s2": Status(State.SOURCE, ("data missing",), False)}
    for mode, built in ((Mode.REQUIRED, ["a", "b"]), (Mode.FORCE, ["a", "b"]),
                        (Mode.MISSING, ["b"])):  # a has (stale) data: missing leaves it
        plan = plan_build(flow, st, ["b", "d"], mode, unavailable={"s2"})
        assert planned(plan) == built, mode
        assert plan.blocked == ("c", "d"), mode
    plan = plan_build(flow, st, ["a"], Mode.DOWNSTREAM, unavailable={"s2"})
    assert planned(plan) == ["a", "b"] and plan.blocked == ("c", "d")
    plan = plan_build(flow, st, ["c"], Mode.ONLY, unavailable={"s2"})
    assert planned(plan) == [] and plan.blocked == ("c",) and plan.up_to_date == ()
    # An output whose storage is down blocks what reads it, not what it reads; a blocked
    # target is left out whole (its upstream is built only for another target).
    st_all = statuses(flow, a=State.STALE, b=State.STALE, c=State.STALE, d=State.STALE)
    plan = plan_build(flow, st_all, ["d"], unavailable={"b"})
    assert planned(plan) == [] and plan.blocked == ("b", "d") and plan.up_to_date == ()
    for mode in (Mode.REQUIRED, Mode.FORCE):
        plan = plan_build(flow, st_all, ["c", "d"], mode, unavailable={"b"})
        assert planned(plan) == ["a", "c"] and plan.blocked == ("b", "d"), mode
    # Without the cut, the missing source stops the whole plan, as it always did.
    with pytest.raises(PlanError, match="source 's2' has no data"):
        plan_build(flow, st, ["b", "d"])


def test_a_recipe_with_an_unavailable_output_blocks_its_siblings(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "weir.yaml": "name: t\n", "datasets/s.yaml": "path: s.csv\n",
        "recipes/two.py": "from weir import recipe\n\n\n@recipe(outputs=['x', 'y'])\n"
                          "def two(s):\n    return s, s\n\n\n@recipe\ndef z(x):\n"
                          "    return x\n\n\n@recipe\ndef w(s):\n    return s\n"})
    project, diags = load_project(tmp_path)
    assert project is not None and diags == [], diags
    flow, _ = build_flow(project)
    assert flow is not None
    st = statuses(flow, x=State.STALE, y=State.STALE, z=State.STALE, w=State.STALE)
    plan = plan_build(flow, st, ["z", "y", "w"], unavailable={"y"})
    assert planned(plan) == ["w"] and set(plan.blocked) == {"x", "y", "z"}


def test_only_refuses_when_an_input_has_no_data(tmp_path: Path) -> None:
    flow = flow_of(tmp_path, GRAPH)
    with pytest.raises(PlanError, match="'b' reads 'a', which has no data"):
        plan_build(flow, statuses(flow, a=State.NEVER_BUILT), ["b"], Mode.ONLY)


def test_missing_source_data_is_a_plan_error(tmp_path: Path) -> None:
    flow = flow_of(tmp_path, GRAPH)
    st = statuses(flow, a=State.STALE)
    st["s1"] = Status(State.SOURCE, ("data missing",), False)
    with pytest.raises(PlanError, match="source 's1' has no data"):
        plan_build(flow, st, ["a"])


def test_jobs_are_topologically_ordered_and_restore_only_when_not_forced(tmp_path: Path) -> None:
    flow = flow_of(tmp_path, GRAPH)
    st = statuses(flow, a=State.STALE, b=State.STALE, c=State.STALE, d=State.STALE)
    plan = plan_build(flow, st, ["d"], restorable={"a", "b"})
    order = [j.outputs[0] for j in plan.jobs]
    assert order.index("a") < order.index("b") < order.index("d")
    assert order.index("c") < order.index("d")
    actions = {j.outputs[0]: j.action for j in plan.jobs}
    assert actions == {"a": Action.RESTORE, "b": Action.RESTORE, "c": Action.RUN,
                       "d": Action.RUN}
    forced = plan_build(flow, st, ["d"], Mode.FORCE, restorable={"a", "b"})
    assert all(j.action is Action.RUN for j in forced.jobs)


def test_status_reasons(tmp_path: Path) -> None:
    flow = flow_of(tmp_path, GRAPH, variables={"b": ["v"]})
    versions = {"s1": "v1", "s2": "v1"}
    fps, comps = expected_fingerprints(flow, versions)
    stored = {n: Stored(fps[n], comps[n]) for n in comps}
    present = {n: True for n in flow.order}
    st = compute_status(flow, fps, comps, stored, present)
    assert all(s.up_to_date for s in st.values())

    fps2, comps2 = expected_fingerprints(flow, {"s1": "v2", "s2": "v1"})
    st = compute_status(flow, fps2, comps2, stored, present)
    assert st["a"].reasons == ("input s1 changed",)
    assert st["b"].reasons == ("input a is out of date",)
    assert st["c"].reasons == ("input a is out of date",)

    project2 = flow.project.__class__(
        root=flow.project.root, connections=flow.project.connections,
        datasets=flow.project.datasets, recipes=flow.project.recipes,
        config=flow.project.config.__class__(**{**flow.project.config.__dict__,
                                                "variables": {"v": 5, "w": 2}}))
    flow2 = Flow(project2, flow.upstream, flow.downstream, flow.order)
    fps3, comps3 = expected_fingerprints(flow2, versions)
    st = compute_status(flow2, fps3, comps3, stored, present)
    assert st["b"].reasons == ("variable v changed",)
    assert st["a"].up_to_date and st["c"].up_to_date  # they do not read v
    assert st["d"].reasons == ("input b is out of date",)

    st = compute_status(flow, fps, comps, stored, {**present, "c": False})
    assert st["c"].state is State.STALE and st["c"].reasons == ("data missing",)
    st = compute_status(flow, fps, comps, {k: v for k, v in stored.items() if k != "d"}, present)
    assert st["d"].state is State.NEVER_BUILT


def test_a_sources_checks_are_due_when_what_their_verdict_depends_on_changes(
        tmp_path: Path) -> None:
    flow = flow_of(tmp_path, GRAPH)
    write_files(tmp_path, {"datasets/s1.yaml": """
        path: s1.csv
        checks:
          - not_null: [id]
          - relationships: {id: s2.id}
        """})
    project, diags = load_project(tmp_path)
    assert project is not None and diags == [], diags
    flow = Flow(project, flow.upstream, flow.downstream, flow.order)
    fps, comps = expected_fingerprints(flow, {"s1": "v1", "s2": "v1"})
    present = {n: True for n in flow.order}
    built = {n: Stored(fps[n], comps[n]) for n in comps}
    checked = check_components(flow, "s1", fps)
    assert checked is not None and check_components(flow, "s2", fps) is None
    passed = Stored(checked.fingerprint("s1"), checked)
    failed = Stored(checked.fingerprint("s1"), checked, True,
                    "check not_null(id) failed on 's1': 1 row with a null\n    id=None")

    def statuses_with(stored: Stored | None, versions: dict[str, str] | None = None
                      ) -> dict[str, Status]:
        f, c = expected_fingerprints(flow, versions or {"s1": "v1", "s2": "v1"})
        return compute_status(flow, f, c, {**built, **({"s1": stored} if stored else {})},
                              present)

    def source(stored: Stored | None, versions: dict[str, str] | None = None) -> Status:
        return statuses_with(stored, versions)["s1"]

    assert source(None) == Status(State.SOURCE, (), True, ("never checked",))
    assert source(passed) == Status(State.SOURCE, (), True, ())
    assert source(failed) == Status(State.FAILED, ("check not_null(id) failed",), True,
                                    ("failed last time",))
    # What they depend on changed: due again, and a failure on other data says nothing now.
    assert source(passed, {"s1": "v2", "s2": "v1"}).checks == ("data changed",)
    assert source(failed, {"s1": "v2", "s2": "v1"}) == Status(State.SOURCE, (), True,
                                                              ("data changed",))
    assert source(passed, {"s1": "v1", "s2": "v2"}).checks == ("s2 changed",)
    before = Components(checked.code, "other checks", {}, dict(checked.inputs))
    assert source(Stored(before.fingerprint("s1"), before)).checks == ("checks changed",)
    st = compute_status(flow, fps, comps, built, {**present, "s1": False})
    assert st["s1"] == Status(State.SOURCE, ("data missing",), False)

    # The plan checks a source first where a job reads it (a restore too), and only then.
    st = statuses_with(passed, {"s1": "v2", "s2": "v1"})
    plan = plan_build(flow, st, ["a"])
    assert plan.checks == (SourceCheck("s1", ("data changed",)),)
    assert plan.checks_before(flow, plan.jobs[0]) == plan.checks
    assert plan.checks[0].task == "check:s1"
    restore = plan_build(flow, st, ["a"], restorable={"a"})
    assert restore.jobs[0].action is Action.RESTORE and restore.checks == plan.checks
    assert plan_build(flow, st, ["b"], Mode.ONLY).checks == ()  # b reads a, not s1
    assert plan_build(flow, statuses_with(passed), ["a"], Mode.FORCE).checks == ()  # passed
    assert plan.to_wire().checks[0].source == "s1"
    assert plan.from_wire(plan.to_wire()) == plan


def test_cycle_is_reported_with_its_path(tmp_path: Path) -> None:
    write_files(tmp_path, {"weir.yaml": "name: t\n", "recipes/x.sql": "select * from z",
                           "recipes/y.sql": "select * from x", "recipes/z.sql": "select * from y"})
    write_files(tmp_path, {"datasets/src.yaml": "path: src.csv\n",
                           "recipes/w.sql": "select * from src"})
    project, _ = load_project(tmp_path)
    flow, diags = build_flow(project)
    assert len(diags) == 1
    message = diags[0].message
    assert message.startswith("cycle in the Flow: ")
    path = message.split(": ", 1)[1].split(" → ")
    assert path[0] == path[-1] and len(path) == 4
    reads = {"x": "z", "y": "x", "z": "y"}  # data flows from what a dataset reads, to it
    for a, b in zip(path, path[1:], strict=False):
        assert reads[b] == a
    # The Flow is still there: the cycle's datasets are invalid, the rest is untouched.
    assert set(flow.order) == {"src", "w", "x", "y", "z"}
    assert set(flow.invalid) == {"x", "y", "z"}
    assert all("cycle in the Flow" in why for why in flow.invalid.values())
    assert flow.upstream["w"] == ("src",)
    fps, _components = expected_fingerprints(flow, {"src": "v1"})
    assert set(fps) == {"src", "w"}
    statuses = compute_status(flow, fps, {}, {}, {})
    assert statuses["x"].state is State.INVALID and statuses["w"].state is State.NEVER_BUILT
