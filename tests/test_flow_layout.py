"""The Flow page's layouts, kept by the daemon (server/layouts.py, `GET`/`PUT /api/flow/layout`):
a page that laid a shape out hands it over, the next page on that shape draws it without
laying the Flow out again (in chromium), a kept layout that does not fit the graph is not
drawn, and the route refuses what is not a layout."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from conftest import wait_until
from test_daemon import daemon  # noqa: F401 - the fixture
from test_flow_page import daemon_and_browser
from weir import wire
from weir.server.layouts import LayoutMemory

LAYOUT = {"at": {"d:a": [0, 0, 200, 38]}, "edges": [], "width": 200, "height": 38}


def test_the_memory_keeps_the_layouts_last_asked_for() -> None:
    memory = LayoutMemory(kept=2)
    for shape in ("one", "two"):
        memory.put(wire.FlowLayout(shape, LAYOUT))
    assert memory.get("one") is not None  # "one" is now the last asked for
    memory.put(wire.FlowLayout("three", LAYOUT))
    assert memory.get("two") is None
    assert memory.get("one") is not None and memory.get("three") is not None
    memory.put(wire.FlowLayout("three", {**LAYOUT, "width": 9}))  # the newer one wins
    assert memory.get("three") == wire.FlowLayout("three", {**LAYOUT, "width": 9})


def test_the_route_keeps_a_layout_and_refuses_what_is_not_one(daemon) -> None:  # noqa: F811
    _, info = daemon
    auth = {"Authorization": f"Bearer {info['token']}"}
    url = info["url"] + "/api/flow/layout"
    assert httpx.get(url, params={"shape": "00ff"}, headers=auth).status_code == 404
    r = httpx.put(url, json={"shape": "00ff", "layout": LAYOUT}, headers=auth)
    assert r.status_code == 204, r.text
    got = httpx.get(url, params={"shape": "00ff"}, headers=auth)
    assert got.status_code == 200
    assert wire.FlowLayout.from_json(got.json()) == wire.FlowLayout("00ff", LAYOUT)
    # Without the token, nothing is kept or told.
    assert httpx.put(url, json={"shape": "x", "layout": LAYOUT}).status_code == 401
    assert httpx.get(url, params={"shape": "00ff"}).status_code == 401
    # Not a layout: a clear 4xx, nothing kept.
    for body, said in (({"shape": "x" * 65, "layout": LAYOUT}, "at most 64"),
                       ({"shape": "x", "layout": [1, 2]}, "dictionary"),
                       ({"shape": "x", "layout": LAYOUT, "shpae": 1}, "shpae"),
                       ({"layout": LAYOUT}, "shape")):
        r = httpx.put(url, json=body, headers=auth)
        assert r.status_code == 422 and said in r.text, (body, r.text)
    assert httpx.get(url, params={"shape": "x"}, headers=auth).status_code == 404
    huge = {"shape": "big", "layout": {"at": {f"d:{i}": [i, i, 200, 38] for i in range(60_000)}}}
    assert httpx.put(url, json=huge, headers=auth).status_code == 413
    assert httpx.get(url, params={"shape": "big"}, headers=auth).status_code == 404


def test_a_page_draws_the_layout_another_page_made(small_project: Path) -> None:
    with daemon_and_browser(small_project) as (info, pg):
        auth = {"Authorization": f"Bearer {info['token']}"}
        url = f"{info['url']}/?token={info['token']}"
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(url)
        pg.wait_for_function("window.weirTimings.nodes === 4")
        assert pg.evaluate("window.weirTimings.by") == "elk"  # nobody had laid it out
        digest = pg.evaluate("laidOut.digest")
        kept = wait_until(lambda: (r := httpx.get(info["url"] + "/api/flow/layout",
                                                   params={"shape": digest}, headers=auth))
                          .status_code == 200 and r.json(), what="the page's layout, kept")
        assert set(kept["layout"]["at"]) == set(pg.evaluate("graph.nodes.map(n => n.id)"))
        placed = pg.evaluate("JSON.stringify(positions)")

        pg.goto(url)  # a second page on the same shape: drawn from the daemon's layout
        pg.wait_for_function("window.weirTimings.nodes === 4")
        assert pg.evaluate("window.weirTimings.by") == "daemon"
        assert pg.evaluate("typeof ELK") == "undefined"  # elkjs was not even run
        assert json.loads(pg.evaluate("JSON.stringify(positions)")) == to_a_tenth(placed)

        # A kept layout that does not fit the graph, or is not a layout at all, is not drawn:
        # the page lays the Flow out again, with no error (what the daemon keeps is any token
        # holder's, so nothing from it but finite numbers reaches the drawing).
        good = kept["layout"]
        a_box = next(k for k in good["at"] if k.startswith("d:"))
        bad = {
            "a box left out": {**good, "at": {k: v for k, v in good["at"].items() if k != a_box}},
            "a box of another size": {**good, "at": {**good["at"], a_box: [0, 0, 999, 38]}},
            "a coordinate as markup": {**good, "at": {**good["at"], a_box: [
                '0"><image href=x onerror="window.hacked=1">', 0, 200, 38]}},
            "an edge left out": {**good, "edges": good["edges"][1:]},
            "an edge of one point": {**good, "edges": [[e[0], [[1, 2]]] for e in good["edges"]]},
            "edges not a list": {**good, "edges": {}},
            "a section of null": {**good, "edges": [[e[0], [None]] for e in good["edges"]]},
            "no size": {k: v for k, v in good.items() if k != "width"},
            "boxes of null": {**good, "at": {k: None for k in good["at"]}},
        }
        for said, layout in bad.items():
            assert httpx.put(info["url"] + "/api/flow/layout", json={"shape": digest,
                             "layout": layout}, headers=auth).status_code == 204
            pg.goto(url)
            pg.wait_for_function("window.weirTimings.nodes === 4")
            assert pg.evaluate("window.weirTimings.by") == "elk", said
            assert pg.locator("#viewport .node").count() == 4, said
            assert not pg.evaluate("window.hacked"), said
            assert not errors, (said, errors)
            # and the page hands a good layout back, which the next page draws
            wait_until(lambda: httpx.get(info["url"] + "/api/flow/layout", params={
                "shape": digest}, headers=auth).json()["layout"] == good, what="a good layout")


def to_a_tenth(placed: str) -> object:
    """The first page's positions, to a tenth (a kept layout is rounded to that)."""
    return {name: pytest.approx(p, abs=0.051) for name, p in json.loads(placed).items()}
