"""The Flow page in a real browser (Debian's chromium, driven by Playwright): it draws the
graph (laid out by elkjs: every box in view, none overlapping, recipes between their inputs and
outputs, arrowheads), a click shows a dataset's schema and its lineage, a build button builds
and the colour changes, and the page follows builds made elsewhere. Screenshots are kept under
each test's tmp dir (``screenshots/``)."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import SMALL, run_weir

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextlib.contextmanager
def daemon_and_browser(root: Path) -> Iterator[tuple[dict, object]]:
    """A daemon on ``root`` and a chromium page (not yet opened on it)."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "chromium is not installed (make test installs it)"
    from weir import wire

    assert run_weir("daemon", "start", cwd=root).code == 0  # in $WEIR_ENV's environment, if set
    info = json.loads((wire.state_dir(root, os.environ.get("WEIR_ENV")) / "daemon.json")
                      .read_text())
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            yield info, browser.new_page(viewport={"width": 1300, "height": 800})
            browser.close()
    finally:
        run_weir("daemon", "stop", "--now", cwd=root)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where the screenshots are kept after the run (test-artifacts/flow-page/, or under
    $WEIR_TEST_ARTIFACTS): the pictures docs/flow-page.md describes."""
    base = Path(os.environ.get("WEIR_TEST_ARTIFACTS") or Path(__file__).parent.parent / "test-artifacts")
    where = base / "flow-page"
    where.mkdir(parents=True, exist_ok=True)
    return where


@pytest.fixture
def page(small_project: Path, tmp_path: Path):
    with daemon_and_browser(small_project) as (info, pg):
        yield small_project, info, pg


# Each box's own rectangle (its text, at a small scale, can round to more than the box).
BOXES = """sel => [...document.querySelectorAll(sel)].map(e => {
  const r = (e.querySelector("rect.box") || e.querySelector("rect")).getBoundingClientRect();
  return [e.dataset.name ? "d:" + e.dataset.name : e.dataset.group ? "g:" + e.dataset.group
          : "r:" + e.dataset.recipe,
          r.left, r.top, r.right, r.bottom]; })"""


def assert_laid_out(pg) -> dict[str, tuple[float, float, float, float]]:
    """Every dataset and recipe box inside the canvas, no two overlapping, each recipe right
    of its inputs and left of its outputs, and every edge ending in an arrowhead; the boxes
    by id ("d:NAME", "r:RECIPE", "g:GROUP" for a folded group)."""
    canvas = pg.locator("#canvas").bounding_box()
    boxes = {b[0]: tuple(b[1:]) for b in pg.evaluate(BOXES, "#viewport .node, #viewport .recipe")}
    assert boxes
    right, bottom = canvas["x"] + canvas["width"], canvas["y"] + canvas["height"]
    for name, (x1, y1, x2, y2) in boxes.items():
        assert canvas["x"] <= x1 and x2 <= right and canvas["y"] <= y1 and y2 <= bottom, name
    for (a, (ax1, ay1, ax2, ay2)), (b, (bx1, by1, bx2, by2)) in itertools.combinations(
            boxes.items(), 2):
        assert ax2 <= bx1 or bx2 <= ax1 or ay2 <= by1 or by2 <= ay1, f"{a} overlaps {b}"
    edges = pg.evaluate("[...document.querySelectorAll('#viewport .edge')].map(e => "
                        "[e.dataset.from, e.dataset.to, e.getAttribute('marker-end')])")
    assert edges and pg.locator("#graph defs marker#arrow path").count() == 1
    for a, b, marker in edges:
        assert marker == "url(#arrow)", (a, b, marker)
        assert boxes[a][2] <= boxes[b][0], f"{a} is not left of {b}"  # left to right
        assert a[0] in "rg" or b[0] in "rg" or not pg.evaluate(
            "n => flow.nodes.find(x => x.name === n).recipe", b[2:])
    return boxes


def lineage(flow: dict, name: str) -> set[str]:
    """NAME, all it reads from (transitively) and all that reads from it."""
    inputs = {n["name"]: n["inputs"] for n in flow["nodes"]}
    readers: dict[str, list[str]] = {}
    for reader, ins in inputs.items():
        for i in ins:
            readers.setdefault(i, []).append(reader)
    seen = {name}
    for step in (lambda m: inputs.get(m, []), lambda m: readers.get(m, [])):
        todo = [name]
        while todo:
            for m in step(todo.pop()):
                if m not in seen:
                    seen.add(m)
                    todo.append(m)
    return seen


def node_status(pg, name: str) -> str:
    return pg.locator(f'.node[data-name="{name}"]').get_attribute("data-status")


def test_flow_page_draws_selects_and_builds(page, tmp_path: Path) -> None:
    root, info, pg = page
    artifacts = tmp_path / "screenshots"
    artifacts.mkdir()
    assert httpx.get(info["url"] + "/").status_code == 401  # no token, no page
    pg.goto(f"{info['url']}/?token={info['token']}")
    pg.wait_for_selector(".node")
    assert pg.locator(".node").count() == 4
    # A recipe box between each dataset and its inputs: 3 recipes, each with 1 input.
    assert pg.locator(".recipe").count() == 3
    assert pg.locator(".edge").count() == 6
    assert pg.locator('.recipe[data-lang="python"]').count() >= 1
    assert_laid_out(pg)
    assert pg.locator("#legend").inner_text().count("\n") >= 8  # colours and shapes
    assert node_status(pg, "orders") == "source"
    assert node_status(pg, "per_customer") == "never built"
    pg.wait_for_selector("#conn:has-text('live')")
    from weir import wire

    assert pg.evaluate("WIRE") == wire.vocabulary()  # the daemon's, as the page reads it
    pg.screenshot(path=str(artifacts / "1-flow.png"))

    # A build started elsewhere (the CLI, through the daemon) turns the nodes green.
    assert run_weir("build", "orders_clean", cwd=root).code == 0
    pg.wait_for_function("document.querySelector('.node[data-name=\"orders_clean\"]')"
                         ".dataset.status === 'up to date'", timeout=10_000)

    # Click a node: its schema and status show in the side panel.
    pg.click('.node[data-name="orders_clean"]')
    pg.wait_for_selector("#schema")
    assert pg.locator("#panel-name").inner_text() == "orders_clean"
    assert "amount" in pg.locator("#schema").inner_text()
    pg.wait_for_selector("#log:has-text('python recipe orders_clean')")
    pg.screenshot(path=str(artifacts / "2-selected.png"))

    # The build button builds it, and its colour changes from grey to green.
    pg.click('.node[data-name="per_customer"]')
    pg.wait_for_selector("#panel-name:has-text('per_customer')")
    assert_lineage_shown(pg, info, "per_customer")
    pg.click("button[data-build='upstream']")
    pg.wait_for_function("document.querySelector('.node[data-name=\"per_customer\"]')"
                         ".dataset.status === 'up to date'", timeout=15_000)
    pg.wait_for_selector("#panel .badge:has-text('up to date')", timeout=10_000)  # the panel too
    pg.screenshot(path=str(artifacts / "3-built.png"))

    # The source's data changes on disk (no Flow file, no build): the daemon's poll finds it,
    # and its `status` event turns the nodes that read it stale.
    with (root / "landing/orders.csv").open("a") as f:
        f.write("5,d,99.0\n")
    pg.wait_for_function("document.querySelector('.node[data-name=\"orders_clean\"]')"
                         ".dataset.status === 'stale'", timeout=15_000)
    assert "input orders changed" in pg.locator(
        '.node[data-name="orders_clean"] title').text_content()

    # Search dims what does not match.
    pg.fill("#search", "per_")
    assert pg.locator(".node.dim").count() == 3
    # An edit elsewhere is followed live: a new recipe appears.
    (root / "recipes/extra.sql").write_text("select * from per_customer")
    pg.wait_for_selector('.node[data-name="extra"]', timeout=10_000)
    for png in artifacts.iterdir():
        assert png.stat().st_size > 1000


def test_a_page_opened_mid_build_and_a_typo(page, gates) -> None:
    """A page opened while a recipe runs shows it building; a typo saved while the page is
    open shows the error and keeps every dataset it does not touch."""
    from conftest import write_files
    from weir.client import DaemonClient

    root, info, pg = page
    gate = gates(root / "gate")  # the recipe waits there: no sleeping on either side
    write_files(root, {"recipes/slow.py": "from weir import recipe\n\n@recipe\n"
                       "def slow(orders):\n    open('gate').read()\n    return orders\n"})
    pg.goto(f"{info['url']}/?token={info['token']}")
    pg.wait_for_selector('.node[data-name="slow"]', timeout=10_000)
    client = DaemonClient.for_project(root)
    build = client.start_build(["slow"])
    gate.reached()  # the recipe runs
    pg.reload()
    pg.wait_for_selector('.node[data-name="slow"][data-status="building"]', timeout=10_000)
    assert client.dataset("slow").building is True
    gate.open()
    assert client.wait(build.id).state.value == "succeeded"
    pg.wait_for_selector('.node[data-name="slow"][data-status="up to date"]', timeout=10_000)

    write_files(root, {"recipes/stats.py": "from weir import recipe\n\n@recipe\n"
                       "def customer_stats(orders_clen):\n    return orders_clen\n"})
    pg.wait_for_selector('.node[data-name="customer_stats"][data-status="invalid"]',
                         timeout=10_000)
    # The status event may come before the Flow it belongs to is fetched: the error is shown
    # with that Flow, a moment later.
    pg.wait_for_selector("#diagnostics:has-text(\"recipes/stats.py:4: unknown input "
                         "'orders_clen'\")", timeout=10_000)
    assert node_status(pg, "slow") == "up to date"
    assert node_status(pg, "per_customer") == "never built"
    assert "Cannot load" not in pg.locator("#panel").inner_text()


def test_the_flow_page_names_every_state_through_the_wire() -> None:
    """The page has the wire's vocabulary from the daemon (embedded as it is served) and names
    no state, status, mode or kind by its value itself: a value added or renamed in
    weir/wire.py reaches it, where a copied list of strings would go stale."""
    from weir import wire
    from weir.server.page import FLOW_PAGE, flow_page_html

    served = flow_page_html()
    block = re.search(r'<script id="wire" type="application/json">(.*?)</script>', served, re.S)
    assert block and json.loads(block[1]) == wire.vocabulary()
    script = FLOW_PAGE.read_text(encoding="utf-8").split("<script>", 1)[1]
    values = {v for enum in wire.vocabulary()["enums"].values() for v in enum.values()}
    # A value in quotes that is not an HTML attribute's (data-build="downstream" names a button).
    quoted = sorted(v for v in values if re.search(rf'(?<![=\w])(["\'`]){re.escape(v)}\1',
                                                   script))
    assert not quoted, f"the Flow page names {quoted} itself: use WIRE (wire.vocabulary())"


def test_the_page_follows_scenario_runs(page, gates) -> None:
    """A scenario file saved while the page is open is listed with its next run; a run started
    through the API shows running while its build's recipe runs, then succeeded."""
    from conftest import write_files
    from weir.client import DaemonClient

    root, info, pg = page
    gate = gates(root / "gate")  # the recipe waits there: the page is seen mid-run
    pg.goto(f"{info['url']}/?token={info['token']}")
    pg.wait_for_selector("#conn:has-text('live')")
    assert pg.locator(".scenario").count() == 0
    write_files(root, {"recipes/slow.py": "from weir import recipe\n\n@recipe\n"
                       "def slow(orders):\n    open('gate').read()\n    return orders\n",
                       "scenarios/nightly.yaml": "description: the slow one\ntriggers:\n"
                       "  - cron: \"0 3 * * *\"\nsteps:\n  - build: [slow]\n"})
    row = '#scenarios [data-scenario="nightly"]'
    pg.wait_for_selector(f'{row}[data-last=""]', timeout=10_000)
    assert "never run" in pg.locator(row).inner_text()
    assert "next " in pg.locator(row).inner_text()  # its cron's next time, in local time

    client = DaemonClient.for_project(root)
    run = client.run_scenario("nightly", cause="a test")
    gate.reached()  # its build's recipe runs
    pg.wait_for_selector(f'{row}[data-running="yes"]', timeout=10_000)
    assert "running…" in pg.locator(row).inner_text()
    gate.open()
    assert client.wait_scenario(run.run_id).status == "succeeded"
    pg.wait_for_selector(f'{row}[data-running=""][data-last="succeeded"]', timeout=10_000)
    assert "succeeded" in pg.locator(f"{row} .badge").inner_text()
    assert "last " in pg.locator(row).inner_text()


def test_weir_flow_html_writes_a_page_that_works_from_a_file_with_no_daemon(
        small_project: Path, tmp_path: Path) -> None:
    """`weir flow --format html -o FILE`: the same drawing, with the statuses and schemas as of
    then, opened from the file with nothing to talk to — it asks nothing over the network."""
    from playwright.sync_api import sync_playwright

    root = small_project
    assert run_weir("build", "orders_clean", "--no-daemon", cwd=root).code == 0
    r = run_weir("flow", "--format", "html", "-o", str(tmp_path / "flow.html"), cwd=root)
    assert r.code == 0 and "wrote" in r.out, r.text
    assert not (root / ".weir/daemon.json").exists()  # no daemon was asked or started
    asked: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        pg = browser.new_page(viewport={"width": 1300, "height": 800})
        pg.on("request", lambda req: asked.append(req.url))
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto((tmp_path / "flow.html").as_uri())
        pg.wait_for_selector(".node")
        assert pg.locator(".node").count() == 4 and pg.locator(".edge").count() == 6
        assert_laid_out(pg)  # the vendored layout, inlined: no network
        assert node_status(pg, "orders_clean") == "up to date"
        assert node_status(pg, "per_customer") == "never built"
        pg.wait_for_selector("#conn:has-text('snapshot of')")
        pg.click('.node[data-name="orders_clean"]')
        pg.wait_for_selector("#schema")
        assert "amount" in pg.locator("#schema").inner_text()
        assert pg.locator("button[data-build]").count() == 0  # nothing to build with
        # Its build and metrics, as they were: the charts work from the file too.
        assert pg.locator("#chart-rows circle.pt").count() == 1
        pg.wait_for_selector("#chart-nulls circle.pt")
        pg.screenshot(path=str(tmp_path / "static-flow.png"))
        # Never built: no metrics in the file either, and the panel says so without an error.
        pg.click('.node[data-name="per_customer"]')
        pg.wait_for_selector("#no-trend")
        assert pg.locator("#nulls-chart").inner_text() == ""
        browser.close()
    assert [u for u in asked if not u.startswith("file:")] == []
    assert errors == []


def test_weir_flow_html_to_a_place_it_cannot_write_says_so(small_project: Path,
                                                            tmp_path: Path) -> None:
    r = run_weir("flow", "--format", "html", "-o", str(tmp_path / "no/such/dir/flow.html"),
                 cwd=small_project)
    assert r.code == 2 and "cannot write" in r.err and "Traceback" not in r.err, r.text
    assert "hint:" in r.err


def assert_lineage_shown(pg, info: dict, name: str) -> None:
    """Exactly the datasets outside NAME's lineage are dimmed, and so are their recipes."""
    flow = httpx.get(info["url"] + "/api/flow",
                     headers={"Authorization": f"Bearer {info['token']}"}).json()
    outside = {n["name"] for n in flow["nodes"]} - lineage(flow, name)
    dimmed = set(pg.evaluate("[...document.querySelectorAll('#viewport .node.faded')]"
                             ".map(n => n.dataset.name)"))
    assert dimmed == outside
    recipes = {n["recipe"]["id"]: n["name"] for n in flow["nodes"] if n["recipe"]}
    dimmed_recipes = set(pg.evaluate("[...document.querySelectorAll('#viewport .recipe.faded')]"
                                     ".map(n => n.dataset.recipe)"))
    assert dimmed_recipes == {r for r, out in recipes.items() if out in outside}


def test_the_demo_flow_is_laid_out_and_shows_lineage(tmp_path: Path, artifacts: Path) -> None:
    """The example project of `weir init`: laid out in view with nothing overlapping, fitted
    again when the window is resized; selecting a dataset dims what is outside its lineage and
    a click on the background brings it back. Screenshots kept (the artifacts fixture)."""
    root = tmp_path / "demo"
    assert run_weir("init", str(root), cwd=tmp_path).code == 0
    with daemon_and_browser(root) as (info, pg):
        pg.goto(f"{info['url']}/?token={info['token']}")
        pg.wait_for_selector("#conn:has-text('live')")
        pg.wait_for_selector("#viewport .recipe")
        assert pg.locator(".node").count() >= 10
        assert_laid_out(pg)
        pg.screenshot(path=str(artifacts / "demo-flow.png"))

        middle = pg.evaluate("flow.nodes[Math.floor(flow.nodes.length / 2)].name")
        pg.click(f'.node[data-name="{middle}"]')
        pg.wait_for_selector(f"#panel-name:has-text('{middle}')")
        assert_lineage_shown(pg, info, middle)
        pg.screenshot(path=str(artifacts / "demo-lineage.png"))
        pg.mouse.click(*corner_of_canvas(pg))
        pg.wait_for_function("!document.querySelector('#viewport .faded')")

        # The keyboard: an arrow selects the first dataset, then the nearest one to its right.
        first = pg.evaluate("flow.nodes[0].name")
        pg.keyboard.press("ArrowRight")
        pg.wait_for_selector(f"#panel-name:has-text('{first}')")
        pg.keyboard.press("ArrowRight")
        pg.wait_for_function(f"selected !== {json.dumps(first)}")
        assert pg.evaluate(f"positions[selected].x > positions[{json.dumps(first)}].x")
        pg.mouse.click(*corner_of_canvas(pg))
        pg.wait_for_function("!document.querySelector('#viewport .faded')")

        assert not pg.evaluate("userMoved"), "clicks and arrow keys within view are not moves"
        pg.set_viewport_size({"width": 800, "height": 600})  # fitted again
        pg.wait_for_function("document.querySelector('#viewport').getBoundingClientRect()"
                             ".right <= document.querySelector('#canvas')"
                             ".getBoundingClientRect().right")
        assert_laid_out(pg)
        pg.screenshot(path=str(artifacts / "demo-flow-narrow.png"))
        # The plain layering the page falls back on when ELK fails (a very large Flow).
        pg.evaluate("draw(graph, plainLayout(graph)); fit(true)")  # all of it, however small
        assert_laid_out(pg)
    for png in ("demo-flow.png", "demo-lineage.png", "demo-flow-narrow.png"):
        assert (artifacts / png).stat().st_size > 1000


def corner_of_canvas(pg) -> tuple[float, float]:
    """A point on the canvas's background (top right: the legend is at the bottom left)."""
    box = pg.locator("#canvas").bounding_box()
    return box["x"] + box["width"] - 5, box["y"] + 5


CHECKED_FLAKY = {
    "datasets/orders_clean.yaml": """
        checks:
          - not_null: [customer]
          - name: few
            row_count: {max: 2}
            severity: warning
        """,
    # Fails while a file named `fail` is there: a failed build among its recent ones.
    "recipes/flaky.py": '''
        from pathlib import Path

        from weir import recipe


        @recipe
        def flaky(orders):
            if Path("fail").exists():
                raise RuntimeError("told to fail")
            return orders
        ''',
    "scenarios/nightly.yaml": """
        steps:
          - build: {targets: [orders_clean], mode: force}
          - check: [orders_clean]
        """,
}


def test_the_details_panel_charts_builds_lists_checks_and_scenario_runs(
        make_project, tmp_path: Path) -> None:
    """The details panel of a dataset built three times (twice as builds, once by a scenario):
    a point per build on its rows and build-time lines, its checks with their outcome, the
    scenario run that built and checked it, its columns' nulls (latest in the schema, one
    column's over the builds, picked from a select). A failed build is marked; a dataset never
    built says so and draws no chart — and no script error anywhere."""
    from weir.client import DaemonClient

    root = make_project({**SMALL, **CHECKED_FLAKY}, name="small")
    artifacts = tmp_path / "screenshots"
    artifacts.mkdir()
    with daemon_and_browser(root) as (info, pg):
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        client = DaemonClient.for_project(root)
        assert client.wait(client.start_build(["orders_clean"]).id).state.value == "succeeded"
        with (root / "landing/orders.csv").open("a") as f:
            f.write("5,d,99.0\n")  # 4 rows from now on
        assert client.wait(client.start_build(["orders_clean"], mode="force").id) \
            .state.value == "succeeded"
        run = client.run_scenario("nightly", cause="a test")
        assert client.wait_scenario(run.run_id).status == "succeeded"
        assert client.wait(client.start_build(["flaky"]).id).state.value == "succeeded"
        (root / "fail").write_text("")
        assert client.wait(client.start_build(["flaky"], mode="force").id) \
            .state.value == "failed"
        detail = client.dataset("orders_clean")
        with_rows = [b for b in detail.builds if b.rows is not None]
        assert len(with_rows) == 3 and [r.run_id for r in detail.scenario_runs] == [run.run_id]

        pg.goto(f"{info['url']}/?token={info['token']}")
        pg.wait_for_selector("#conn:has-text('live')")
        pg.click('.node[data-name="orders_clean"]')
        pg.wait_for_selector("#panel-name:has-text('orders_clean')")
        assert pg.locator("#chart-rows circle.pt").count() == len(with_rows)
        assert pg.locator("#chart-time circle.pt").count() == len(with_rows)
        titles = pg.locator("#chart-rows circle.pt title").all_text_contents()
        assert all(t.endswith(f"— {b.rows} rows (built)") for t, b in
                   zip(titles, reversed(with_rows), strict=True)), titles  # oldest left
        assert [b.rows for b in with_rows] == [4, 4, 3]  # newest first
        head = " ".join(pg.locator("#trends .spark-head").first.inner_text().split())
        assert head == "rows 4 min 3 · max 4", head  # the latest, and the range
        # Its checks, as they said when the scenario's check step ran them.
        outcomes = {c.get_attribute("data-check"): c.get_attribute("data-outcome")
                    for c in pg.locator("#checks .check").all()}
        assert outcomes == {"not_null(customer)": "pass", "few": "warn"}
        assert "wanted at most 2" in pg.locator('#checks [data-check="few"]').inner_text()
        row = pg.locator(f'#ds-runs .ds-run[data-run="{run.run_id}"]')
        assert row.get_attribute("data-scenario") == "nightly"
        assert row.get_attribute("data-status") == "succeeded"
        assert "built it, checked it" in row.inner_text()
        # The metrics: each column's nulls at the last build, and one column's over the builds.
        pg.wait_for_selector("#chart-nulls")
        assert pg.locator("#schema td.nulls").all_text_contents() == ["0", "0", "0"]
        assert pg.locator("#chart-nulls circle.pt").count() == 3
        assert "at every build" in pg.locator("#nulls-chart").inner_text()  # 0% each time
        pg.select_option("#null-col", "amount")
        pg.wait_for_function("document.querySelector('#chart-nulls title').textContent"
                             ".includes('0 nulls of 3 rows')")
        assert pg.locator("#null-col").input_value() == "amount"
        pg.screenshot(path=str(artifacts / "panel.png"))
        pg.emulate_media(color_scheme="dark")
        pg.screenshot(path=str(artifacts / "panel-dark.png"))
        pg.emulate_media(color_scheme="light")

        # A failed build: a red point on the build-time line and a tick under the rows.
        pg.click('.node[data-name="flaky"]')
        pg.wait_for_selector("#panel-name:has-text('flaky')")
        pg.wait_for_selector("#chart-time")
        assert pg.locator("#chart-rows circle.pt").count() == 1
        assert pg.locator("#chart-rows .tick").count() == 1
        assert pg.locator("#chart-time circle.pt.bad").count() == 1
        assert "1 failed" in pg.locator("#trends").inner_text()
        assert pg.locator("#chart-rows .tick title").text_content().endswith("— failed, no rows")

        # Never built: no chart, and it says so.
        pg.click('.node[data-name="per_customer"]')
        pg.wait_for_selector("#panel-name:has-text('per_customer')")
        pg.wait_for_selector("#no-trend")
        assert pg.locator("svg.spark").count() == 0
        assert pg.locator("#ds-runs, #checks").count() == 0
        pg.screenshot(path=str(artifacts / "panel-never-built.png"))
    assert errors == []
