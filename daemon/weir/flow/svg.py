"""The Flow as an SVG document (`weir flow --format svg`): for a design doc, a wiki, a review —
no script, no daemon, one file that any browser or editor shows.

Datasets are boxes coloured by their status as of when it was drawn (sources, folders and final
outputs told apart by their outline; a partitioned one with a label on its top edge saying how
many partitions it has and how many are not up to date), recipes small boxes labelled with their language between
what they read and what they write, edges curves with arrowheads; a legend says which is which.
"""

from __future__ import annotations

from html import escape

from weir import wire
from weir.flow.layered import Box, layout
from weir.flow.partition_status import badge, summary

COLOURS = {wire.DatasetState.SOURCE: "#7c8da6", wire.DatasetState.UP_TO_DATE: "#2e9e5b",
           wire.DatasetState.STALE: "#d9a21b", wire.DatasetState.NEVER_BUILT: "#9aa3ad",
           wire.DatasetState.FAILED: "#d64545", wire.DatasetState.INVALID: "#b03060"}
UNKNOWN = "#9aa3ad"  # no status known (drawn without looking at the data)
LANGUAGE = {"python": "py", "sql": "sql", "r": "R"}
LEGEND_H = 34.0


def flow_svg(graph: wire.FlowGraph) -> str:
    nodes = {n.name: n for n in graph.nodes}
    drawn = layout([n.name for n in graph.nodes], {n.name: n.inputs for n in graph.nodes},
                   {n.name: n.recipe.id if n.recipe else None for n in graph.nodes})
    recipes = {n.recipe.id: n.recipe for n in graph.nodes if n.recipe}
    read = {i for n in graph.nodes for i in n.inputs}
    width, height = max(drawn.width, 760.0), drawn.height + LEGEND_H
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
           f'width="{width:.0f}" height="{height:.0f}" font-family="sans-serif" font-size="12">',
           f"<title>weir Flow: {escape(graph.project or '')}</title>",
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
           'fill="#6b7280"/></marker></defs>',
           f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>']
    out += _legend()
    out.append(f'<g transform="translate(0 {LEGEND_H:.0f})">')
    for a, b, via in drawn.edges:
        out.append(_edge(drawn.boxes[a], drawn.boxes[b], via))
    for box in drawn.boxes.values():
        if box.id.startswith("r:"):
            recipe = recipes[box.id[2:]]
            out.append(_recipe(box, recipe))
        else:
            name = box.id[2:]
            out.append(_dataset(box, nodes[name], final=name not in read))
    out += ["</g>", "</svg>"]
    return "\n".join(out) + "\n"


def _edge(a: Box, b: Box, via: tuple[tuple[float, float], ...]) -> str:
    """A smooth curve from a's right side to b's left side, through a long edge's waypoints."""
    points = [(a.x + a.w, a.y + a.h / 2), *via, (b.x - 1, b.y + b.h / 2)]
    d = [f"M{points[0][0]:.1f},{points[0][1]:.1f}"]
    for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False):
        mid = (x1 + x2) / 2
        d.append(f"C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}")
    return (f'<path class="edge" d="{" ".join(d)}" fill="none" stroke="#6b7280" '
            f'stroke-width="1.3" marker-end="url(#arrow)"/>')


def _dataset(box: Box, node: wire.FlowNode, final: bool) -> str:
    colour = COLOURS.get(node.status, UNKNOWN) if node.status else UNKNOWN
    dash = ' stroke-dasharray="5 3"' if node.kind is wire.NodeKind.FOLDER else ""
    outline = 3.0 if final and node.kind is not wire.NodeKind.SOURCE else 1.5
    rx = 14 if node.kind is wire.NodeKind.SOURCE else 6
    where = (f"{node.kind.value} · {node.connection}" if node.kind is not wire.NodeKind.DATASET
             else f"{node.connection}:{node.format or 'table'}")
    status = node.status.value if node.status else ""
    return (f'<g class="node" data-name="{escape(node.name)}" data-status="{escape(status)}">'
            f"<title>{escape(node.name)}{' — ' + escape(status) if status else ''}"
            f"{chr(10) + escape(_partitions_said(node)) if node.partitioning else ''}"
            f"{chr(10) + escape(node.description) if node.description else ''}</title>"
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.0f}" height="{box.h:.0f}" '
            f'rx="{rx}" fill="{colour}" fill-opacity="0.16" stroke="{colour}" '
            f'stroke-width="{outline}"{dash}/>'
            f'<text x="{box.x + 10:.1f}" y="{box.y + 17:.1f}" font-weight="600">'
            f"{escape(_short(node.name, 26))}</text>"
            f'<text x="{box.x + 10:.1f}" y="{box.y + 31:.1f}" fill="#6b7280" font-size="10">'
            f"{escape(_short(where, 32))}</text>{_partitions_label(box, node, colour)}</g>")


def _partitions_said(node: wire.FlowNode) -> str:
    """``partitioned by day (event_date): 2 up to date, 1 stale`` (a source's: how many)."""
    counts = node.partitions or {}
    total = sum(counts.values())
    said = summary(counts) or (f"{total} partition{'s' if total != 1 else ''}" if counts else "")
    return f"partitioned by {node.partitioning}" + (f": {said}" if said else "")


def _partitions_label(box: Box, node: wire.FlowNode, colour: str) -> str:
    """A partitioned dataset's counts, ``365 · 2 stale``, on the top edge of its box at the
    right (over the gap above it, clear of its name)."""
    if not node.partitions:
        return ""
    text = badge(node.partitions)
    w = 10 + 5.0 * len(text)
    x, y = box.x + box.w - w - 8, box.y - 6
    return (f'<g class="parts"><rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="12" '
            f'rx="6" fill="#ffffff" stroke="{colour}"/><text x="{x + w / 2:.1f}" '
            f'y="{y + 9:.1f}" text-anchor="middle" font-size="9" fill="#374151">'
            f"{escape(text)}</text></g>")


def _recipe(box: Box, recipe: wire.RecipeRef) -> str:
    label = LANGUAGE.get(recipe.kind, recipe.kind[:3])
    return (f'<g class="recipe" data-recipe="{escape(recipe.id)}">'
            f"<title>recipe {escape(recipe.name)} ({escape(recipe.kind)}) — "
            f"{escape(recipe.file)}:{recipe.line}</title>"
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.0f}" height="{box.h:.0f}" '
            f'rx="4" fill="#eef2ff" stroke="#6366f1" stroke-width="1.2"/>'
            f'<text x="{box.x + box.w / 2:.1f}" y="{box.y + box.h / 2 + 4:.1f}" '
            f'text-anchor="middle" font-size="10" fill="#4338ca">{escape(label)}</text></g>')


def _legend() -> list[str]:
    out = ['<g class="legend" font-size="11">']
    x = 20.0
    for state, colour in COLOURS.items():
        out.append(f'<rect x="{x:.0f}" y="11" width="12" height="12" rx="3" fill="{colour}" '
                   f'fill-opacity="0.3" stroke="{colour}"/><text x="{x + 17:.0f}" y="21">'
                   f"{escape(state.value)}</text>")
        x += 26 + 6.5 * len(state.value)
    out.append(f'<rect x="{x:.0f}" y="10" width="20" height="14" rx="3" fill="#eef2ff" '
               f'stroke="#6366f1"/><text x="{x + 25:.0f}" y="21">recipe (py, sql, R)</text>')
    x += 140
    out.append(f'<rect x="{x:.0f}" y="10" width="20" height="14" rx="3" fill="none" '
               f'stroke="#374151" stroke-width="3"/><text x="{x + 25:.0f}" y="21">final output'
               "</text></g>")
    return out


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"
