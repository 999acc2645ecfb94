"""The Flow page with a 1,000-dataset project in headless Chromium (median of 5, a fresh page
each time): the time from navigation until every dataset is laid out and drawn, the page's own
layout and drawing times, and a status change repainted (the page's `status` event handler
called with one dataset's new status, until the frame showing it is painted).

Each run is timed twice: laid out by elkjs in the page (the daemon's kept layouts hidden from
it: GET /api/flow/layout answered 404 by Playwright, as for a shape no page laid out before),
then drawn from the layout the daemon keeps (what every later page on the same shape does).

    python bench/bench_page.py [--n 1000] [--repeats 5]

Targets: issue 4, 1,000 nodes shown in under 2 s; issue 15, 1,000 datasets laid out and drawn
in under 1 s, 5,000 in under 5 s (--n 5000), a status change repainted in under 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
from bench_build import generate  # noqa: E402

# One dataset's status changed as a `status` event would say, timed until the frame with it is
# painted (a task queued from requestAnimationFrame runs once that frame's paint is done).
REPAINT = """async () => {
  const name = flow.nodes[flow.nodes.length - 1].name;
  const t0 = performance.now();
  applyStatus({changed: [{name, status: WIRE.enums.DatasetState.STALE, reasons: ["bench"]}]});
  await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
  return performance.now() - t0;
}"""
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> None:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", type=Path, default=REPO / "bench/results/page.json")
    ap.add_argument("--screenshot", type=Path, help="save the laid-out Flow here (PNG)")
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO / "daemon") + os.pathsep
           + os.environ.get("PYTHONPATH", "")}
    work = Path(tempfile.mkdtemp(prefix="weir-bench-page-"))
    root = work / "flow"
    try:
        generate(root, args.n)
        subprocess.run([sys.executable, "-m", "weir", "build", "--all", "--no-daemon"],
                       cwd=root, env=env, check=True, capture_output=True)
        subprocess.run([sys.executable, "-m", "weir", "daemon", "start"], cwd=root, env=env,
                       check=True, capture_output=True)
        info = json.loads((root / ".weir/daemon.json").read_text())
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        runs: dict[str, dict[str, list[float]]] = {
            by: {"seconds": [], "layout": [], "draw": [], "repaint": []} for by in ("elk", "daemon")}
        url = f"{info['url']}/?token={info['token']}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=ARGS, headless=True)
            for i in range(args.repeats + 1):  # the first, discarded, warms the browser
                for by in ("elk", "daemon"):
                    page = browser.new_page(viewport={"width": 1400, "height": 900})
                    if by == "elk":  # as if no page had laid this shape out before
                        page.route("**/api/flow/layout*", lambda route: route.fulfill(
                            status=404, json={"detail": "hidden by bench_page.py"})
                            if route.request.method == "GET" else route.continue_())
                    t0 = time.perf_counter()
                    page.goto(url)
                    page.wait_for_function(
                        f"document.querySelectorAll('.node').length === {args.n}"
                        " && window.weirTimings.nodes", timeout=300_000)
                    elapsed = time.perf_counter() - t0
                    timings = page.evaluate("window.weirTimings")
                    assert timings["by"] == by, (by, timings)
                    repaint = page.evaluate(REPAINT) / 1000
                    if by == "elk":  # the layout handed to the daemon, for the next page
                        page.wait_for_function("window.weirTimings.kept", timeout=60_000)
                    if args.screenshot and by == "elk":
                        page.screenshot(path=str(args.screenshot))
                    page.close()
                    if i:
                        for key, value in (("seconds", elapsed), ("layout", timings["layout"] / 1000),
                                           ("draw", timings["draw"] / 1000), ("repaint", repaint)):
                            runs[by][key].append(value)
            browser.close()
        result: dict = {"n": args.n}
        for by, said in (("elk", "laid out by elkjs and drawn"),
                         ("daemon", "drawn from the daemon's kept layout")):
            r = runs[by]
            result[by] = {**r, **{key + "_median": statistics.median(r[key]) for key in r}}
            print(f"{args.n} datasets {said} (from navigation): median "
                  f"{statistics.median(r['seconds']):.2f} s "
                  f"({', '.join(f'{t:.2f}' for t in r['seconds'])}); layout "
                  f"{statistics.median(r['layout']):.2f} s, drawing "
                  f"{statistics.median(r['draw']):.3f} s; a status repaint "
                  f"{statistics.median(r['repaint']) * 1000:.0f} ms")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
    finally:
        subprocess.run([sys.executable, "-m", "weir", "daemon", "stop", "--now"], cwd=root,
                       env=env, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
