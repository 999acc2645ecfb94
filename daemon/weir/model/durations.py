"""Durations as people write them in weir.yaml and dataset files (``500ms``, ``5s``, ``2min``,
``1h``, ``2d``, or plain seconds): one reading for every key that takes one."""

from __future__ import annotations

import re
from typing import Any

DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|min|m|h|d)?\s*$")
DURATION_UNITS = {"ms": 0.001, "s": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0, "d": 86400.0,
                  None: 1.0}


def parse_duration(value: Any) -> float | None:
    """Seconds in ``5``, ``2.5``, ``"5s"``, ``"500ms"``, ``"2min"``, ``"1h"``, ``"2d"``; None if
    it is no duration."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str) or (m := DURATION_RE.match(value)) is None:
        return None
    return float(m[1]) * DURATION_UNITS[m[2]]
