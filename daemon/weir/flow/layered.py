"""A layered drawing of the Flow, left to right, as plain coordinates: for `weir flow --format
svg` (the live page lays itself out in the browser).

Datasets and recipes are both boxes: a recipe sits between the datasets it reads and those it
writes, so datasets take the even layers and recipes the odd ones (a layer is the longest path
from a source). Within a layer, boxes are ordered by a few barycenter sweeps (the mean position
of their neighbours), which untangles most crossings; then each layer is a column, centred on
the tallest. Pure: a function of the Flow's shape, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

DATASET_W, DATASET_H = 200.0, 40.0
RECIPE_W, RECIPE_H = 34.0, 26.0
GAP_X, GAP_Y, MARGIN = 46.0, 16.0, 20.0
LANE_H = 8.0  # the room a long edge takes in a layer it crosses
SWEEPS = 4


@dataclass(frozen=True)
class Box:
    id: str  # "d:NAME" a dataset, "r:RECIPE_ID" a recipe, "e:…" a long edge's waypoint
    x: float
    y: float
    w: float
    h: float
    layer: int


@dataclass(frozen=True)
class Layout:
    boxes: dict[str, Box]
    # box id -> box id, each left to right, with the points a long edge passes through (one
    # in each layer it crosses, in the gaps kept for it, so it goes around the boxes there)
    edges: tuple[tuple[str, str, tuple[tuple[float, float], ...]], ...]
    width: float
    height: float


def layout(datasets: Sequence[str], inputs: Mapping[str, Sequence[str]],
           recipe_of: Mapping[str, str | None]) -> Layout:
    """``datasets`` in Flow order (every input before what reads it), ``inputs`` of each,
    ``recipe_of`` each output's recipe id (None for a source)."""
    recipe_inputs: dict[str, list[str]] = {}
    recipe_outputs: dict[str, list[str]] = {}
    for d in datasets:
        rid = recipe_of.get(d)
        if rid is None:
            continue
        recipe_outputs.setdefault(rid, []).append(d)
        ins = recipe_inputs.setdefault(rid, [])
        ins += [i for i in inputs.get(d, ()) if i not in ins]
    layer: dict[str, int] = {}
    for d in datasets:  # Flow order: a recipe's inputs are placed before its outputs
        rid = recipe_of.get(d)
        if rid is None:
            layer[f"d:{d}"] = 0
            continue
        if f"r:{rid}" not in layer:
            layer[f"r:{rid}"] = 1 + max((layer.get(f"d:{i}", 0) for i in recipe_inputs[rid]),
                                        default=0)
        layer[f"d:{d}"] = layer[f"r:{rid}"] + 1
    edges = tuple([(f"d:{i}", f"r:{rid}") for rid, ins in recipe_inputs.items() for i in ins]
                  + [(f"r:{rid}", f"d:{o}") for rid, outs in recipe_outputs.items()
                     for o in outs])
    # An edge across several layers gets a waypoint in each layer between: ordered with the
    # boxes there, it keeps a lane of its own instead of running through them.
    chains: dict[tuple[str, str], list[str]] = {}
    links: list[tuple[str, str]] = []
    for a, b in edges:
        chain = [f"e:{a}>{b}:{n}" for n in range(layer[a] + 1, layer[b])]
        for k, w in enumerate(chain):
            layer[w] = layer[a] + 1 + k
        chains[(a, b)] = chain
        path = [a, *chain, b]
        links += list(zip(path, path[1:], strict=False))
    columns: dict[int, list[str]] = {}
    for box in layer:  # first seen, first placed: Flow order
        columns.setdefault(layer[box], []).append(box)
    _untangle(columns, links)
    placed = _place(columns, layer)
    boxes = {k: v for k, v in placed.items() if not k.startswith("e:")}
    routed = tuple((a, b, tuple((placed[w].x + placed[w].w / 2, placed[w].y + placed[w].h / 2)
                                for w in chains[(a, b)])) for a, b in edges)
    width = max((bx.x + bx.w for bx in placed.values()), default=0.0) + MARGIN
    height = max((bx.y + bx.h for bx in placed.values()), default=0.0) + MARGIN
    return Layout(boxes, routed, width, height)


def _untangle(columns: dict[int, list[str]], edges: Sequence[tuple[str, str]]) -> None:
    before: dict[str, list[str]] = {}
    after: dict[str, list[str]] = {}
    for a, b in edges:
        after.setdefault(a, []).append(b)
        before.setdefault(b, []).append(a)
    order = sorted(columns)
    for sweep in range(SWEEPS):
        at = {box: i for col in columns.values() for i, box in enumerate(col)}
        side, layers = (before, order[1:]) if sweep % 2 == 0 else (after, order[-2::-1])
        for n in layers:
            col = columns[n]
            # The mean place of a box's neighbours on the side swept from; one with none
            # keeps its place.
            key = {box: (sum(at[x] for x in side[box]) / len(side[box]) if side.get(box)
                         else float(i)) for i, box in enumerate(col)}
            col.sort(key=key.__getitem__)
            at.update({box: i for i, box in enumerate(col)})


def _place(columns: dict[int, list[str]], layer: Mapping[str, int]) -> dict[str, Box]:
    def size(box: str) -> tuple[float, float]:
        if box.startswith("e:"):
            return (0.0, LANE_H)
        return (DATASET_W, DATASET_H) if box.startswith("d:") else (RECIPE_W, RECIPE_H)

    heights = {n: sum(size(b)[1] for b in col) + GAP_Y * (len(col) - 1)
               for n, col in columns.items()}
    tallest = max(heights.values(), default=0.0)
    boxes: dict[str, Box] = {}
    x = MARGIN
    for n in range(max(columns, default=-1) + 1):
        col = columns.get(n, [])
        width = max((size(b)[0] for b in col), default=RECIPE_W if n % 2 else DATASET_W)
        y = MARGIN + (tallest - heights.get(n, 0.0)) / 2
        for b in col:
            w, h = size(b)
            boxes[b] = Box(b, x + (width - w) / 2, y, w, h, layer[b])
            y += h + GAP_Y
        x += width + GAP_X
    return boxes
