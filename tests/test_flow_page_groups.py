"""Finding your way on the Flow page, in a real browser (Debian's chromium, driven by
Playwright): zones drawn as groups that fold into one box (and, by the toggle, tags), search
that unfolds what it finds, lineage across a folded group, and a 1,000-dataset Flow that opens
navigable (a minimap that moves the view, Fit that shows it all with nothing overlapping).
Screenshots are kept (test_flow_page's artifacts fixture)."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from conftest import run_weir
from test_flow_page import (artifacts, assert_laid_out, daemon_and_browser,  # noqa: F401
                            lineage)

BENCH = Path(__file__).resolve().parent.parent / "bench"

BOX = """sel => { const r = document.querySelector(sel).getBoundingClientRect();
                  return [r.left, r.top, r.right, r.bottom]; }"""


def the_flow(info: dict) -> dict:
    return httpx.get(info["url"] + "/api/flow",
                     headers={"Authorization": f"Bearer {info['token']}"}).json()


def shown(pg, selector: str, attribute: str) -> set[str]:
    return set(pg.evaluate(f"[...document.querySelectorAll({json.dumps(selector)})]"
                           f".map(e => e.getAttribute({json.dumps(attribute)}))"))


@contextlib.contextmanager
def demo_page(tmp_path: Path) -> Iterator[tuple[dict, Any, list[str]]]:
    """`weir init`'s demo Flow open in chromium, drawn; the page's errors are collected."""
    root = tmp_path / "demo"
    assert run_weir("init", str(root), cwd=tmp_path).code == 0
    with daemon_and_browser(root) as (info, pg):
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(f"{info['url']}/?token={info['token']}")
        pg.wait_for_selector("#viewport .recipe")
        yield info, pg, errors


def test_zones_are_groups_that_fold_and_tags_by_the_toggle(tmp_path: Path,
                                                            artifacts: Path) -> None:  # noqa: F811
    with demo_page(tmp_path) as (info, pg, errors):
        flow = the_flow(info)
        zones: dict[str, set[str]] = {}
        for n in flow["nodes"]:
            if n["zone"]:
                zones.setdefault(n["zone"], set()).add(n["name"])
        assert len(zones) >= 2  # the example has zones to show
        assert shown(pg, "#viewport .zone", "data-group") == {f"zone:{z}" for z in zones}
        # Each zone's datasets are drawn inside its box.
        for zone, members in zones.items():
            zx1, zy1, zx2, zy2 = pg.evaluate(BOX, f'.zone[data-group="zone:{zone}"] rect')
            for m in members:
                x1, y1, x2, y2 = pg.evaluate(BOX, f'.node[data-name="{m}"] rect.box')
                assert zx1 <= x1 and x2 <= zx2 and zy1 <= y1 and y2 <= zy2, (zone, m)
        assert_laid_out(pg)
        pg.screenshot(path=str(artifacts / "demo-zones.png"))

        # Folding a zone: its datasets are gone, one box stands for them, joined to what
        # reads them; the rest is laid out again with nothing overlapping.
        zone = "ingest"
        members = zones[zone]
        pg.click(f'.zone[data-group="zone:{zone}"] .zone-label')
        pg.wait_for_selector(f'.group-node[data-group="zone:{zone}"]')
        assert not shown(pg, "#viewport .node[data-name]", "data-name") & members
        assert shown(pg, "#viewport .node[data-name]", "data-name") == (
            {n["name"] for n in flow["nodes"]} - members)
        assert_laid_out(pg)
        readers = {n["name"] for n in flow["nodes"] if set(n["inputs"]) & members}
        ends = pg.evaluate(f"""[...document.querySelectorAll('#viewport .edge[data-from="g:zone:{zone}"]')]
                              .map(e => e.dataset.to)""")
        reached = {pg.evaluate(f"graph.recipes.get({json.dumps(e[2:])}).outputs[0]")
                   if e.startswith("r:") else e[2:] for e in ends}
        assert reached == readers - members
        # Its status: the worst of its members' (the sources, here).
        assert pg.get_attribute(f'.group-node[data-group="zone:{zone}"]', "data-status") == "source"
        pg.screenshot(path=str(artifacts / "demo-zone-folded.png"))

        # Lineage across a folded group: with each other zone folded in turn, selecting each
        # dataset dims the folded box exactly when none of its members is in the lineage (both
        # ways happen in the demo).
        seen = set()
        pg.click(f'.group-node[data-group="zone:{zone}"]')  # unfolds ingest
        pg.wait_for_selector(f'.node[data-name="{sorted(members)[0]}"]')
        for folding, inside in zones.items():
            pg.click(f'.zone[data-group="zone:{folding}"] .zone-label')
            box = f'.group-node[data-group="zone:{folding}"]'
            pg.wait_for_selector(box)
            for other in sorted({n["name"] for n in flow["nodes"]} - inside):
                pg.click(f'.node[data-name="{other}"]')
                pg.wait_for_selector(f"#panel-name:has-text('{other}')")
                faded = pg.evaluate(f"document.querySelector('{box}').classList.contains('faded')")
                assert faded == (not lineage(flow, other) & inside), (folding, other)
                seen.add(faded)
            pg.keyboard.press("Escape")  # lets go of the selection
            pg.wait_for_function("!document.querySelector('#viewport .faded')")
            pg.click(box)  # unfolds it
            pg.wait_for_selector(f'.zone[data-group="zone:{folding}"]')
        assert seen == {True, False}
        pg.click(f'.zone[data-group="zone:{zone}"] .zone-label')  # ingest folded again
        pg.wait_for_selector(f'.group-node[data-group="zone:{zone}"]')

        # Searching for a dataset in a folded zone unfolds it and brings the dataset into view.
        target = sorted(members)[0]
        pg.fill("#search", target)
        pg.wait_for_selector(f'#viewport .node[data-name="{target}"]')
        assert pg.locator(".group-node").count() == 0
        canvas = pg.locator("#canvas").bounding_box()
        x1, y1, x2, y2 = pg.evaluate(BOX, f'.node[data-name="{target}"] rect.box')
        assert canvas["x"] <= x1 and x2 <= canvas["x"] + canvas["width"]
        assert canvas["y"] <= y1 and y2 <= canvas["y"] + canvas["height"]
        pg.fill("#search", "")

        # The toggle: groups by each dataset's first tag, or none at all.
        tags = {n["tags"][0] for n in flow["nodes"] if n["tags"]}
        pg.select_option("#groupby", "tag")
        pg.wait_for_function("(n => { const z = [...document.querySelectorAll('#viewport .zone')];"
                             " return z.length === n && z.every(e => e.dataset.group.startsWith"
                             f"('tag:')); }})({len(tags)})")
        assert shown(pg, "#viewport .zone", "data-group") == {f"tag:{t}" for t in tags}
        assert_laid_out(pg)
        pg.select_option("#groupby", "none")
        pg.wait_for_function("!document.querySelector('#viewport .zone')")
        assert_laid_out(pg)
        assert not errors, errors


def test_a_1000_dataset_flow_opens_navigable(tmp_path: Path, artifacts: Path) -> None:  # noqa: F811
    """1,000 datasets (never built: the page needs no data): it opens at a readable size on
    the sources' end with a minimap; a click on the minimap moves the view there; Fit shows all
    of it, every dataset in view and no two boxes overlapping."""
    sys.path.insert(0, str(BENCH))
    from bench_build import generate

    root = tmp_path / "big"
    generate(root, 1000)
    with daemon_and_browser(root) as (info, pg):
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(f"{info['url']}/?token={info['token']}")
        pg.wait_for_function("document.querySelectorAll('#viewport .node').length === 1000"
                             " && window.weirTimings.nodes === 1000", timeout=120_000)
        pg.wait_for_selector("#minimap:not(.hidden)")
        pg.screenshot(path=str(artifacts / "flow-1000.png"))
        before = pg.evaluate("view.x")
        box = pg.locator("#minimap").bounding_box()
        pg.mouse.click(box["x"] + box["width"] - 4, box["y"] + box["height"] / 2)
        after = pg.evaluate("view.x")
        width = pg.evaluate("bounds.w")
        assert after - before > width / 2  # moved to the far (final outputs') end
        pg.screenshot(path=str(artifacts / "flow-1000-minimap-moved.png"))

        pg.click("#fit")
        pg.wait_for_selector("#minimap.hidden", state="attached")
        boxes = assert_laid_out(pg)
        assert sum(1 for b in boxes if b.startswith("d:")) == 1000
        pg.screenshot(path=str(artifacts / "flow-1000-fit.png"))
        assert not errors, errors


# A Flow made up in the page (no files): a source; `view`, read straight from it with no recipe,
# in zone z1; a recipe R2 writing `out1` (z1) and `out2` (z2); `solo`, written from out2.
MADE_UP = """(() => {
  const recipe = (id, kind) => ({id, kind, name: id, file: "recipes/" + id, line: 1});
  const node = (name, kind, zone, inputs, r) => ({name, kind, zone, tags: [], inputs,
    recipe: r || null, status: WIRE.enums.DatasetState.NEVER_BUILT, connection: "c", format: "f"});
  const {SOURCE, DATASET, FOLDER} = WIRE.enums.NodeKind;
  return {project: "made up", diagnostics: [], nodes: [
    node("src", SOURCE, null, []), node("view", FOLDER, "z1", ["src"]),
    node("out1", DATASET, "z1", ["view"], recipe("R2", "python")),
    node("out2", DATASET, "z2", ["view"], recipe("R2", "python")),
    node("solo", DATASET, null, ["out2"], recipe("R3", "sql"))]};
})()"""

EDGES = "graph.edges.map(e => [e.sources[0], e.targets[0], e.drawnTo])"


def test_folded_groups_keep_every_edge_in_and_out_and_light_only_real_lineage(
        tmp_path: Path) -> None:
    with demo_page(tmp_path) as (info, pg, errors):
        show = ("async folds => { flow = " + MADE_UP + "; flowByName = new Map(flow.nodes.map("
                "n => [n.name, n])); folded.clear(); folds.forEach(k => folded.add(k));"
                " await render(); }")

        # z1 folded: what its datasets read (src → view, no recipe) and what reads them reach
        # its box; the recipe writing into both zones stays a box of its own.
        pg.evaluate(show, ["zone:z1"])
        assert sorted(map(tuple, pg.evaluate(EDGES))) == sorted([
            ("d:src", "g:zone:z1", "g:zone:z1"), ("g:zone:z1", "r:R2", "r:R2"),
            ("r:R2", "g:zone:z1", "g:zone:z1"), ("r:R2", "d:out2", "d:out2"),
            ("d:out2", "d:solo", "r:R3")])
        assert_laid_out_ok(pg)

        # Both folded: a cycle through the recipe (z1 → R2 → z1) is still laid out, by ELK and
        # by the plain layering the page falls back on.
        pg.evaluate(show, ["zone:z1", "zone:z2"])
        assert sorted(map(tuple, pg.evaluate(EDGES))) == sorted([
            ("d:src", "g:zone:z1", "g:zone:z1"), ("g:zone:z1", "r:R2", "r:R2"),
            ("r:R2", "g:zone:z1", "g:zone:z1"), ("r:R2", "g:zone:z2", "g:zone:z2"),
            ("g:zone:z2", "d:solo", "r:R3")])
        assert_laid_out_ok(pg)
        assert pg.evaluate("Object.keys(plainLayout(graph).at).length") == 5

        # solo's lineage is src, view, out2 and itself: the edge into z2 (out2) is lit, the one
        # back into z1 (out1, not in it) is not; both folded boxes hold some of it.
        pg.evaluate("mark('solo')")
        lit = {tuple(e) for e in pg.evaluate(
            "[...document.querySelectorAll('#viewport .edge.hl')].map(e => [e.dataset.from,"
            " e.dataset.to])")}
        assert ("r:R2", "g:zone:z2") in lit and ("r:R2", "g:zone:z1") not in lit
        assert ("d:src", "g:zone:z1") in lit and ("g:zone:z2", "r:R3") in lit
        assert pg.locator("#viewport .group-node.faded").count() == 0
        assert not errors, errors


def assert_laid_out_ok(pg) -> None:
    """Every box of the made-up graph is placed, none overlapping (in layout coordinates)."""
    boxes = pg.evaluate("graph.nodes.map(n => { const b = laidOut.result.at[n.id];"
                        " return [n.id, b.x, b.y, b.x + b.width, b.y + b.height]; })")
    assert len(boxes) == pg.evaluate("graph.nodes.length")
    for i, (a, ax1, ay1, ax2, ay2) in enumerate(boxes):
        for b, bx1, by1, bx2, by2 in boxes[i + 1:]:
            assert ax2 <= bx1 or bx2 <= ax1 or ay2 <= by1 or by2 <= ay1, f"{a} overlaps {b}"
