"""YAML with line numbers, so every configuration mistake can be reported as ``file:line``.

PyYAML's composer keeps each node's position; we turn mappings into :class:`LineDict` (a dict
that remembers the line of each key) instead of losing it in plain dicts. A key written twice in
one mapping is an error: YAML would keep the last value without a word, so an edit "that does
nothing" (the earlier line) would go unnoticed.
"""

from __future__ import annotations

from typing import Any

import yaml

from weir.model.diagnostics import Diagnostic
from weir.model.suggest import did_you_mean

try:  # the C loader is several times faster on big projects
    _BaseLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _BaseLoader = yaml.SafeLoader


class LineDict(dict[str, Any]):
    """A mapping that also knows the 1-based line of each key (and of itself)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class _Loader(_BaseLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        # (key, its line, the line it first appeared at), for every key written twice
        self.duplicates: list[tuple[str, int, int]] = []


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _construct_mapping(loader: Any, node: yaml.MappingNode) -> LineDict:
    # Before merges (<<) are flattened in: a key overriding a merged one is not a duplicate.
    first: dict[str, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
            continue
        key, line = str(loader.construct_object(key_node)), key_node.start_mark.line + 1
        if key in first:
            loader.duplicates.append((key, line, first[key]))
        else:
            first[key] = line
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        result[str(key)] = loader.construct_object(value_node, deep=True)
        result.key_lines[str(key)] = key_node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


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
        return None, [Diagnostic(file, line, f"invalid YAML: {problem}",
                                 hint="check the indentation and quoting around this line")]
    except yaml.YAMLError as exc:
        return None, [Diagnostic(file, 0, f"invalid YAML: {exc}")]
    finally:
        loader.dispose()
    if loader.duplicates:  # the file is broken, as for any other YAML error
        return None, [Diagnostic(file, line, f"duplicate key '{key}' (first at line {at})",
                                 hint="a key can appear once in a mapping; delete the line you "
                                 "do not mean (YAML would silently keep the last one)")
                      for key, line, at in sorted(loader.duplicates, key=lambda d: d[1])]
    return data, []


def check_keys(file: str, mapping: LineDict, allowed: tuple[str, ...],
               what: str) -> list[Diagnostic]:
    """One diagnostic per key that ``what`` does not have, with the closest allowed key."""
    out = []
    for key in mapping:
        if key not in allowed:
            hint = did_you_mean(key, allowed) or f"{what} keys are: {', '.join(allowed)}"
            out.append(Diagnostic(file, mapping.line_of(key), f"unknown key '{key}' in {what}",
                                  hint=hint))
    return out


def line_of(value: Any, default: int = 0) -> int:
    return value.line if isinstance(value, LineDict) else default
