"""A partitioned dataset on the Flow page, in a real browser: its node says how many
partitions it has and how many are not up to date, its details panel counts them by state,
and both follow a build of one partition, and a new day of its source, as they happen; the
static page (`weir flow --format html`) shows the counts it was written with."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from conftest import run_weir
from test_flow_page import artifacts, assert_laid_out, daemon_and_browser  # noqa: F401

DAILY = '.node[data-name="daily"]'


def counts_shown(pg, name: str, said: str, timeout: float = 15_000) -> None:
    """Wait until ``name``'s node is labelled ``said``: on its label and in its data."""
    pg.wait_for_selector(f'.node[data-name="{name}"] .parts[data-counts="{said}"]',
                         timeout=timeout)
    assert pg.locator(f'.node[data-name="{name}"] .parts text').text_content() == said


def test_partition_counts_are_drawn_and_follow_builds_and_new_days(
        partitioned_project: Path, tmp_path: Path, artifacts: Path) -> None:  # noqa: F811
    root = partitioned_project
    with daemon_and_browser(root) as (info, pg):
        pg.goto(f"{info['url']}/?token={info['token']}")
        pg.wait_for_selector("#conn:has-text('live')")
        assert_laid_out(pg)  # laid out as any Flow, the labels drawn inside each node
        counts_shown(pg, "events", "3 partitions")
        counts_shown(pg, "daily", "3 · 3 never built")
        assert pg.locator(f"{DAILY} .parts rect.seg-never_built").count() == 1
        assert pg.locator(f'{DAILY}[data-status="never built"]').count() == 1
        assert "partitioned by day (event_date) · 3 partitions" in pg.locator(
            f"{DAILY} > title").text_content()
        pg.click(DAILY)
        pg.wait_for_selector("#panel-partitions")
        assert pg.locator("#panel-partitions").inner_text().split() == [
            "partitions", "by", "day", "(event_date)", "·", "3", "3", "never", "built"]

        # One day built through the daemon: the label, the bar and the panel say so at once.
        assert run_weir("build", "daily", "--partition", "2026-12-01", cwd=root).code == 0
        counts_shown(pg, "daily", "3 · 2 never built")
        pg.wait_for_selector(f'{DAILY}[data-status="stale"]')
        fill = "sel => getComputedStyle(document.querySelector(sel)).fill"
        assert pg.evaluate(fill, f"{DAILY} .parts rect.seg-up_to_date") == pg.evaluate(
            fill, ".node.status-up_to_date .dot, #legend .status-up_to_date .dot")  # green
        pg.wait_for_selector('#panel-partitions .part-count[data-state="up to date"]'
                             ":has-text('1 up to date')")
        assert pg.locator('#panel-partitions .part-count[data-state="never built"]'
                          ).inner_text() == "2 never built"
        pg.screenshot(path=str(artifacts / "partitions.png"))

        # A new day of the source, found by the daemon's poll: one partition more of each.
        new = root / "data/events/day=2026-12-04"
        new.mkdir()
        pq.write_table(pa.table({"amount": [4.0]}), new / "part-0.parquet")
        counts_shown(pg, "events", "4 partitions")
        counts_shown(pg, "daily", "4 · 3 never built")

        # Every partition built: the dataset is up to date, its label the count alone.
        assert run_weir("build", "daily", cwd=root).code == 0
        counts_shown(pg, "daily", "4 partitions")
        pg.wait_for_selector(f'{DAILY}[data-status="up to date"]')

        # The static page shows the counts as they were when it was written.
        page = tmp_path / "flow.html"
        assert run_weir("flow", "--format", "html", "-o", str(page), cwd=root).code == 0
        pg.goto(page.as_uri())
        counts_shown(pg, "daily", "4 partitions")
        counts_shown(pg, "events", "4 partitions")
