"""Finding your way on the Flow page, in a real browser (Debian's chromium, driven by
Playwright): zones drawn as groups that fold into one box (and, by the toggle, tags), search
that unfolds what it finds, lineage across a folded group, and a 1,000-dataset Flow that opens
navigable (a minimap that moves the view, Fit that shows it all with nothing overlapping).
Screenshots are kept (test_flow_page's artifacts fixture)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

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


def test_zones_are_groups_that_fold_and_tags_by_the_toggle(tmp_path: Path,
                                                            artifacts: Path) -> None:  # noqa: F811
    root = tmp_path / "demo"
    assert run_weir("init", str(root), cwd=tmp_path).code == 0
    with daemon_and_browser(root) as (info, pg):
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(f"{info['url']}/?token={info['token']}")
        pg.wait_for_selector("#viewport .recipe")
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

        # Lineage across a folded group: it is dimmed exactly when none of its members is in
        # the selected dataset's lineage.
        other = next(n["name"] for n in flow["nodes"] if n["name"] not in members)
        pg.click(f'.node[data-name="{other}"]')
        pg.wait_for_selector(f"#panel-name:has-text('{other}')")
        faded = pg.evaluate(f"""document.querySelector('.group-node[data-group="zone:{zone}"]')
                               .classList.contains('faded')""")
        assert faded == (not lineage(flow, other) & members)
        pg.keyboard.press("Escape")  # lets go of the selection
        pg.wait_for_function("!document.querySelector('#viewport .faded')")

        # Searching for a dataset in a folded zone unfolds it and brings the dataset into view.
        target = sorted(members)[0]
        pg.fill("#search", target)
        pg.wait_for_selector(f'#viewport .node[data-name="{target}"]')
        assert pg.locator(".group-node").count() == 0
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
