"""``weir show x``: one dataset — where it lives, who builds it, its status, schema and builds."""

from __future__ import annotations

import argparse
import time
from typing import Any

from weir.cli import output
from weir.errors import WeirError
from weir.model.suggest import did_you_mean


def add_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    ws = output.open_workspace(args.project)
    name = args.dataset
    if name not in ws.project.datasets:
        raise WeirError(f"unknown dataset '{name}'", hint=did_you_mean(name, ws.project.datasets)
                        or "`weir flow` lists every dataset")
    ds = ws.project.datasets[name]
    snap = ws.snapshot()
    record = snap.records.get(name)
    observed = record.schema if record and record.schema else None
    if observed is None and ds.is_source and not ds.is_folder and name not in snap.problems:
        try:
            observed = ws.source_columns(name)
        except WeirError:
            observed = None  # e.g. no table there: the status says the data is missing
    recipe = ws.project.recipes[ds.recipe] if ds.recipe else None
    info: dict[str, Any] = {
        "name": name, "description": ds.description,
        "kind": ("source folder" if ds.is_folder else "source") if ds.is_source
        else ("folder" if ds.is_folder else "dataset"),
        "location": f"{ds.connection}:{ds.path}", "format": ds.format,
        "recipe": f"{recipe.file}:{recipe.line} ({recipe.kind.value})" if recipe else None,
        "inputs": list(ws.flow.upstream[name]), "consumers": list(ws.flow.downstream[name]),
        "tags": list(ds.tags), "zone": ds.zone, "keep": ds.keep,
        "status": snap.statuses[name].describe(),
        "rows": record.row_count if record else None,
        "built_at": record.built_at if record else None,
        "schema": observed,
        "declared_schema": [[c.name, c.type, c.nullable] for c in ds.schema] if ds.schema
        else None,
        "history": ws.state.history(name, 5),
    }
    if args.json:
        output.print_json(info)
        return 0
    output.out(output.style(name, "bold") + (f" — {ds.description}" if ds.description else ""))
    for key in ("kind", "location", "format", "recipe", "inputs", "consumers", "tags", "zone",
                "status", "rows"):
        value = info[key]
        if key == "rows" and ds.is_folder and value is not None:
            key, value = "files", value
        if value in (None, [], False):
            continue
        if isinstance(value, list):
            value = ", ".join(value)
        output.out(f"  {key + ':':<11}{value}")
    if info["built_at"]:
        output.out(f"  {'built:':<11}{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(info['built_at']))}")
    schema = info["schema"] or info["declared_schema"]
    if schema:
        output.out(f"  schema ({'observed' if info['schema'] else 'declared'}):")
        width = max(len(c[0]) for c in schema)
        for col, typ, nullable in schema:
            output.out(f"    {col:<{width}}  {typ}{'' if nullable else '  not null'}")
    if info["history"]:
        output.out("  recent builds:")
        for h in info["history"]:
            # an interrupted job never finished: when it started is what is known
            when = time.strftime("%Y-%m-%d %H:%M:%S",
                                 time.localtime(h["finished"] or h["started"] or 0))
            unit = "file" if ds.is_folder else "row"  # a folder's "rows" are its files
            rows = output.count(h["rows"], unit) if h["rows"] is not None else ""
            commit = f"  at {h['commit'][:10]}{'+' if h['commit'].endswith('+') else ''}" \
                if h.get("commit") else ""
            output.out(f"    {when}  {h['status']:<11} {rows}{commit}".rstrip())
    return 0
