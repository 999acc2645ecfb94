"""The Flow page's layouts, kept by the daemon between pages.

Laying a big Flow out is the slowest thing the page does (ELK: most of a second for 1,000
datasets, seconds for 5,000), and the answer depends only on the Flow's shape, not on its
statuses. So the page that lays a shape out hands the result here, and any page opened on
the same shape later draws it at once. A few shapes are kept (the page's groupings and folds
are shapes of their own), the least recently asked for going first; a restarted daemon starts
with none. The daemon does not read a layout: the page checks that one fits before drawing it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from weir import wire

KEPT = 8  # shapes: a few groupings and folds of one Flow
MAX_SHAPE = 64  # a digest, not the shape itself


class LayoutMemory:
    """The last KEPT layouts, by shape; safe to use from the API's threads."""

    def __init__(self, kept: int = KEPT) -> None:
        self._kept = kept
        self._layouts: OrderedDict[str, wire.FlowLayout] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, shape: str) -> wire.FlowLayout | None:
        with self._lock:
            layout = self._layouts.get(shape)
            if layout is not None:
                self._layouts.move_to_end(shape)
            return layout

    def put(self, layout: wire.FlowLayout) -> None:
        with self._lock:
            self._layouts[layout.shape] = layout
            self._layouts.move_to_end(layout.shape)
            while len(self._layouts) > self._kept:
                self._layouts.popitem(last=False)
