"""YAML with line numbers, so every configuration mistake can be reported as ``file:line``.

PyYAML's composer keeps each node's position; we turn mappings into :class:`LineDict` (a dict
that remembers the line of each key) instead of losing it in plain dicts. A key written twice in
one mapping is an error: YAML would keep the last value without a word, so an edit "that does
nothing" (the earlier line) would go unnoticed.
"""

from __future__ import annotations

from typing import Any

import yaml

from weir.model.diagnostics import Diagnostic, Span, span, whole_line
from weir.model.suggest import closest, hint_for

try:  # the C loader is several times faster on big projects
    _BaseLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _BaseLoader = yaml.SafeLoader


_Where = tuple[int, int, int, int]  # line (1-based), column, end line, end column (0-based)


class LineDict(dict[str, Any]):
    """A mapping that also knows the 1-based line of each key (and of itself), and where each
    key and each scalar value stands, so a mistake in either is underlined exactly."""

    line: int = 0
    key_lines: dict[str, int]
    key_where: dict[str, _Where]
    value_where: dict[str, _Where]  # scalar values only, inside their quotes

    def __init__(self, line: int = 0) -> None:
        super().__init__()
        self.line = line
        self.key_lines, self.key_where, self.value_where = {}, {}, {}

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)

    def key_span(self, key: str) -> Span:
        where = self.key_where.get(key)
        return _span(where) if where else whole_line(self.line_of(key))

    def value_span(self, key: str) -> Span:
        """The key's value when it is a non-empty scalar on one line, else the key."""
        where = self.value_where.get(key)
        return _span(where) if where else self.key_span(key)


def _span(where: _Where) -> Span:
    line, col, end_line, end_col = where
    return span(line, col, end_col, end_line)


def _where(node: yaml.Node) -> _Where | None:
    start, end = node.start_mark, node.end_mark
    if start.line != end.line or start.index == end.index:
        return None
    col, end_col = start.column, end.column
    if isinstance(node, yaml.ScalarNode) and node.style in ("'", '"'):
        col, end_col = col + 1, end_col - 1
    return start.line + 1, col, end.line + 1, end_col


class _Loader(_BaseLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        # (key, where it is, the line it first appeared at), for every key written twice
        self.duplicates: list[tuple[str, Span, int]] = []


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _construct_mapping(loader: Any, node: yaml.MappingNode) -> LineDict:
    # Before merges (<<) are flattened in: a key overriding a merged one is not a duplicate.
    first: dict[str, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
            continue
        key, line = str(loader.construct_object(key_node)), key_node.start_mark.line + 1
        if key in first:
            where = _where(key_node)
            loader.duplicates.append((key, _span(where) if where else whole_line(line),
                                      first[key]))
        else:
            first[key] = line
    loader.flatten_mapping(node)
    result = LineDict(node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = str(loader.construct_object(key_node, deep=True))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
        where = _where(key_node)
        if where is not None:
            result.key_where[key] = where
        where = _where(value_node) if isinstance(value_node, yaml.ScalarNode) else None
        if where is not None:
            result.value_where[key] = where
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _construct_timestamp(loader: Any, node: yaml.ScalarNode) -> Any:
    """A date YAML cannot make (``2026-13-01``) is left as the text written, for the file's
    reader to say what is wrong with it: PyYAML would raise a ValueError out of the parse."""
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def parse_yaml(file: str, text: str) -> tuple[Any, list[Diagnostic]]:
    """Parse ``text``; on a syntax error or a duplicate key return ``(None, diagnostics)``, each
    at its line."""
    loader = _Loader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{exc.context}, {problem}"
        return None, [Diagnostic(file, line, f"invalid YAML: {problem}", code="yaml-syntax",
                                 hint="check the indentation and quoting around this line",
                                 col=mark.column if mark else 0)]
    except yaml.YAMLError as exc:
        return None, [Diagnostic(file, 0, f"invalid YAML: {exc}", code="yaml-syntax")]
    finally:
        loader.dispose()
    if loader.duplicates:  # the file is broken, as for any other YAML error
        return None, [Diagnostic(file, message=f"duplicate key '{key}' (first at line {at})",
                                 code="duplicate-key", subject=f"key:{key}",
                                 hint="a key can appear once in a mapping; delete the line you "
                                 "do not mean (YAML would silently keep the last one)",
                                 **where)
                      for key, where, at in sorted(loader.duplicates,
                                                   key=lambda d: d[1]["line"])]
    return data, []


def check_keys(file: str, mapping: LineDict, allowed: tuple[str, ...],
               what: str) -> list[Diagnostic]:
    """One diagnostic per key that ``what`` does not have, with the closest allowed key."""
    out = []
    for key in mapping:
        if key not in allowed:
            best = closest(key, allowed)
            hint = hint_for(best) or f"{what} keys are: {', '.join(allowed)}"
            out.append(Diagnostic(file, message=f"unknown key '{key}' in {what}",
                                  code="unknown-key", subject=f"key:{key}", suggestion=best,
                                  hint=hint, **mapping.key_span(key)))
    return out


def line_of(value: Any, default: int = 0) -> int:
    return value.line if isinstance(value, LineDict) else default
