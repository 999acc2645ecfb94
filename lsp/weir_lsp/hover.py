"""Hover: what a dataset is — schema, rows, status and why, its partitioning and how many of
its partitions are in each state, last build, producer, consumers; in a dataset's
``checks:``, what a check kind does."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from lsprotocol import types as t

from weir.flow.partition_status import summary
from weir_lsp import check_yaml
from weir_lsp.navigation import name_at
from weir_lsp.projects import OpenProject

if TYPE_CHECKING:
    from weir_lsp.session import WeirLanguageServer


def hover_at(ls: WeirLanguageServer, uri: str, position: t.Position) -> t.Hover | None:
    """On a dataset or connection name, in any project file: what it is, as Markdown; on a
    check kind in a dataset's ``checks:``, what it checks and an example."""
    kind = _check_kind_at(ls, uri, position)
    if kind is not None:
        return kind
    found = name_at(ls, uri, position, ("dataset", "connection"))
    if found is None:
        return None
    text = (dataset_markdown(found.project, found.name) if found.kind == "dataset"
            else connection_markdown(found.project, found.name))
    return t.Hover(contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=text),
                   range=found.range)


def _check_kind_at(ls: WeirLanguageServer, uri: str, position: t.Position) -> t.Hover | None:
    found = ls.project_of(uri)
    if found is None or check_yaml.dataset_of(found[1]) is None:
        return None
    at = check_yaml.kind_at(ls.lines(uri), position.line, position.character)
    if at is None:
        return None
    word, start, end = at
    return t.Hover(contents=t.MarkupContent(kind=t.MarkupKind.Markdown,
                                            value=check_yaml.kind_markdown(word)),
                   range=t.Range(start=t.Position(line=position.line, character=start),
                                 end=t.Position(line=position.line, character=end)))


def dataset_markdown(project: OpenProject, name: str, now: float | None = None) -> str:
    assert project.project is not None and project.flow is not None
    ds = project.project.datasets[name]
    kind = "source" if ds.is_source else ("managed folder" if ds.is_folder else "dataset")
    lines = [f"**{name}**" + (f" — {ds.description}" if ds.description else ""),
             f"\n{kind} · `{ds.connection}:{ds.path}`"
             + (f" · tags: {', '.join(ds.tags)}" if ds.tags else "")]
    facts = project.records()
    status = project.status(name)
    counts = project.partition_counts(name) if ds.partitioning is not None else None
    if status is not None:
        # A partitioned dataset's reason is its counts, which the next line says.
        said = [r for r in status.reasons if not counts or r != summary(counts)]
        lines.append(f"\nstatus: **{status.state.value}"
                     + (f": {', '.join(said)}" if said else "") + "**")
    if ds.partitioning is not None:
        lines.append(f"\npartitioned by {ds.partitioning.explain()}" + _counted(counts))
    record = facts.records.get(name)
    if record is not None and record.built_at:
        when = f"\nlast built {_ago(record.built_at, now)}"
        commit = facts.commits.get(record.run_id or "")
        if commit:
            when += f" at commit `{commit[:10]}{'+' if commit.endswith('+') else ''}`" + (
                " (with uncommitted changes)" if commit.endswith("+") else "")
        if record.duration is not None:
            when += f" in {record.duration:.2f} s"
        lines.append(when)
    if record is not None and record.last_failed and record.error:
        # A source's record is of the last build that ran its checks.
        lines.append(f"\n{'its last checks' if ds.is_source else 'last build'} **failed**: "
                     f"{record.error.splitlines()[0]}")
    if record is not None and record.row_count is not None:
        lines.append(f"\n{record.row_count:,} row{'s' if record.row_count != 1 else ''}")
    checks = project.last_checks(name) if ds.checks else ()
    if checks:
        passed = sum(1 for c in checks if c.passed)
        said = [f"✓ {passed} passed"] if passed else []
        said += [f"✗ `{c.name}` failed" + (f" ({c.message})" if c.message else "")
                 for c in checks if not c.passed and c.severity.value == "error"]
        said += [f"! `{c.name}` warning" + (f" ({c.message})" if c.message else "")
                 for c in checks if not c.passed and c.severity.value == "warning"]
        lines.append("\nchecks: " + " · ".join(said))
    columns = None if ds.is_folder else project.schema(name)
    if columns:
        lines.append("\n| column | type | nullable |\n|---|---|---|")
        lines += [f"| {c.name} | {c.type} | {'yes' if c.nullable else 'no'} |" for c in columns]
    recipe = project.project.producer(name)
    if recipe is not None:
        lines.append(f"\nbuilt by `{recipe.name}` at `{recipe.file}:{recipe.line}`")
    consumers = project.flow.downstream.get(name, ())
    if consumers:
        lines.append("\nused by " + ", ".join(f"`{c}`" for c in sorted(consumers)))
    return "\n".join(lines)


def _counted(counts: dict[str, int] | None) -> str:
    """`` · 365 partitions: 363 up to date, 2 stale`` (a source's: how many), or nothing when
    the data has not been looked at."""
    if counts is None:
        return ""
    total = sum(counts.values())
    by_state = summary(counts)
    return f" · {total:,} partition{'s' if total != 1 else ''}" + (
        f": {by_state}" if by_state else "")


def connection_markdown(project: OpenProject, name: str) -> str:
    assert project.project is not None
    conn = project.project.connections[name]
    used = sorted(n for n, d in project.project.datasets.items() if d.connection == name)
    text = f"**{name}** — {conn.type} connection, defined at `{conn.location}`"
    if used:
        text += f"\n\n{len(used)} dataset{'s' if len(used) != 1 else ''}: " + ", ".join(f"`{u}`" for u in used[:20]) + (
            " …" if len(used) > 20 else "")
    return text


def _ago(when: float, now: float | None) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(when))
    seconds = max((now or time.time()) - when, 0)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{stamp} ({int(seconds // size)} {unit} ago)"
    return f"{stamp} (just now)"
