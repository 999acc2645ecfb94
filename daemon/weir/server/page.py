"""The Flow page as a document: served live by the daemon, or written whole by
`weir flow --format html` — one file, the same drawing, the daemon's answers embedded.

The page reads two JSON data blocks before anything else: the wire's vocabulary (how states,
statuses and modes are named, ``wire.vocabulary()``) and, for a static page, a snapshot — the
answers the daemon would give (`/api/flow`, `/api/datasets/NAME`, `/api/scenarios`) as of when
it was written. With a snapshot the page asks nothing, builds nothing and follows no events, so
it opens from a file, an attachment or a static web server, with no daemon.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from weir import wire

STATIC = Path(__file__).resolve().parent / "static"
FLOW_PAGE = STATIC / "flow.html"
# The layout library (elkjs, static/vendor/README.md), inlined into the page as it is made: the
# page stays one file (a snapshot works offline) and a webview's nonce-only policy lets it run.
ELK = STATIC / "vendor" / "elk.bundled.js"
WIRE_SLOT = "{{WIRE}}"
SNAPSHOT_SLOT = "{{SNAPSHOT}}"
ELK_SLOT = "/*{{ELK}}*/"


def _embedded(data: Any) -> str:
    """JSON that cannot end the <script> block it is in."""
    return json.dumps(data).replace("<", "\\u003c")


def flow_page_html(snapshot: dict[str, Any] | None = None) -> str:
    """The page; with ``snapshot`` (``{at, project, commit, answers: {path: answer}}``) a
    static one."""
    page = FLOW_PAGE.read_text(encoding="utf-8")
    for slot in (WIRE_SLOT, SNAPSHOT_SLOT, ELK_SLOT):
        if slot not in page:
            raise RuntimeError(f"{FLOW_PAGE} has no {slot}")
    return (page.replace(WIRE_SLOT, _embedded(wire.vocabulary()), 1)
            .replace(SNAPSHOT_SLOT, _embedded(snapshot), 1)
            .replace(ELK_SLOT, _elk(), 1))


@functools.cache
def _elk() -> str:
    """The vendored library's text, read once; it cannot end its <script> block early."""
    return ELK.read_text(encoding="utf-8").replace("</script", "<\\/script")
