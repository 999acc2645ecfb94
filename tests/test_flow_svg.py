"""`weir flow --format svg`: a drawing of the Flow for documents — every dataset a box with its
status, every recipe a small box between what it reads and writes, edges with arrowheads,
left to right, nothing on top of anything (the layout's properties, for any Flow)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_weir
from weir.flow.layered import layout

SVG = "{http://www.w3.org/2000/svg}"


def test_the_svg_has_every_dataset_recipe_and_edge_with_its_status(small_project: Path,
                                                                   tmp_path: Path) -> None:
    assert run_weir("build", "orders_clean", "--no-daemon", cwd=small_project).code == 0
    r = run_weir("flow", "--format", "svg", "-o", str(tmp_path / "flow.svg"), cwd=small_project)
    assert r.code == 0, r.text
    root = ET.parse(tmp_path / "flow.svg").getroot()
    groups = list(root.iter(f"{SVG}g"))
    nodes = {g.get("data-name"): g.get("data-status") for g in groups
             if g.get("class") == "node"}
    assert nodes == {"orders": "source", "orders_clean": "up to date",
                     "customers": "never built", "per_customer": "never built"}
    recipes = [g for g in groups if g.get("class") == "recipe"]
    assert len(recipes) == 3  # clean.py's two recipes and per_customer.sql
    assert {t.text for g in recipes for t in g.iter(f"{SVG}text")} == {"py", "sql"}
    edges = [p for p in root.iter(f"{SVG}path") if p.get("class") == "edge"]
    assert len(edges) == 6  # each input to its recipe, each recipe to its output
    assert all(e.get("marker-end") == "url(#arrow)" for e in edges)
    assert root.find(f"{SVG}defs/{SVG}marker[@id='arrow']") is not None
    assert any(g.get("class") == "legend" for g in groups)
    # On standard output without -o, for a pipe.
    piped = run_weir("flow", "--format", "svg", cwd=small_project)
    assert piped.code == 0 and piped.out.lstrip().startswith("<svg")


def test_a_partitioned_dataset_is_drawn_with_its_partition_counts(partitioned_project: Path
                                                                  ) -> None:
    root = partitioned_project
    assert run_weir("build", "daily", "--partition", "2026-12-01", "--no-daemon",
                    cwd=root).code == 0
    r = run_weir("flow", "--format", "svg", cwd=root)
    assert r.code == 0, r.text
    nodes = {g.get("data-name"): g for g in ET.fromstring(r.out).iter(f"{SVG}g")
             if g.get("class") == "node"}
    label = {name: "".join(t.text or "" for g in node.iter(f"{SVG}g")
                           if g.get("class") == "parts" for t in g.iter(f"{SVG}text"))
             for name, node in nodes.items()}
    assert label == {"events": "3 partitions", "daily": "3 · 2 never built"}
    assert nodes["daily"].findtext(f"{SVG}title") == (
        "daily — stale\npartitioned by day (event_date): 1 up to date, 2 never built")


@st.composite
def flows(draw: st.DrawFn) -> tuple[list[str], dict[str, list[str]], dict[str, str | None]]:
    """A random Flow: datasets in order, each output made by a recipe (some recipes making two
    outputs) from earlier datasets."""
    n = draw(st.integers(1, 25))
    names = [f"d{i}" for i in range(n)]
    inputs: dict[str, list[str]] = {}
    recipe_of: dict[str, str | None] = {}
    for i, name in enumerate(names):
        if i == 0 or draw(st.booleans()) and i < 3:
            recipe_of[name] = None
            continue
        ins = draw(st.lists(st.sampled_from(names[:i]), min_size=1, max_size=3, unique=True))
        shared = i > 1 and recipe_of.get(names[i - 1]) and draw(st.integers(0, 4)) == 0
        if shared:  # the same recipe writes this one and the one before it
            recipe_of[name] = recipe_of[names[i - 1]]
            inputs[name] = inputs[names[i - 1]]
        else:
            recipe_of[name] = f"r{i}"
            inputs[name] = ins
    return names, inputs, recipe_of


@settings(max_examples=150, deadline=None)
@given(flows())
def test_boxes_never_overlap_and_every_edge_goes_left_to_right(flow) -> None:
    names, inputs, recipe_of = flow
    drawn = layout(names, inputs, recipe_of)
    boxes = list(drawn.boxes.values())
    assert {b.id for b in boxes if b.id.startswith("d:")} == {f"d:{n}" for n in names}
    for i, a in enumerate(boxes):
        assert a.x >= 0 and a.y >= 0 and a.x + a.w <= drawn.width and a.y + a.h <= drawn.height
        for b in boxes[i + 1:]:
            apart = (a.x + a.w <= b.x or b.x + b.w <= a.x or a.y + a.h <= b.y
                     or b.y + b.h <= a.y)
            assert apart, (a, b)
    for a, b, via in drawn.edges:
        xs = [drawn.boxes[a].x + drawn.boxes[a].w, *(x for x, _ in via), drawn.boxes[b].x]
        assert xs == sorted(xs) and xs[0] < xs[-1]
        # A waypoint is in a gap of its layer: inside no box.
        for x, y in via:
            assert not any(c.x <= x <= c.x + c.w and c.y <= y <= c.y + c.h for c in boxes)
