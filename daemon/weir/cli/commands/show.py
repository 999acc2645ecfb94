"""``weir show x``: one dataset — where it lives, who builds it, its status, schema and builds."""

from __future__ import annotations

import argparse
import time
from typing import Any

from weir.cli import output


def add_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--rejected", action="store_true",
                   help="the last output its checks rejected (never published): the checks it "
                   "failed and its first rows")


def run(args: argparse.Namespace) -> int:
    ws = output.open_workspace(args.project)
    name = args.dataset
    ds = ws.dataset(name)
    if args.rejected:
        return _rejected(ws, name, args.json)
    detail = ws.dataset_detail(name, ws.snapshot(), history=5)
    if args.json:
        output.print_json(detail.to_json())  # what GET /api/datasets/{name} answers
        return 0
    kind = detail.kind.value if not ds.is_source else (
        "source folder" if ds.is_folder else "source")
    recipe = detail.recipe
    status = detail.status.value + (f": {', '.join(detail.reasons)}" if detail.reasons else "")
    fields: list[tuple[str, object]] = [
        ("kind", kind), ("location", f"{detail.connection}:{detail.path}"),
        ("format", detail.format),
        ("recipe", f"{recipe.file}:{recipe.line} ({recipe.kind})" if recipe else None),
        ("inputs", ", ".join(detail.inputs)), ("consumers", ", ".join(detail.consumers)),
        ("tags", ", ".join(detail.tags)), ("zone", detail.zone), ("status", status),
        ("files" if ds.is_folder else "rows", detail.rows)]
    output.out(output.style(name, "bold") + (f" — {ds.description}" if ds.description else ""))
    for key, value in fields:
        if value not in (None, ""):
            output.out(f"  {key + ':':<11}{value}")
    if detail.built_at:
        output.out(f"  {'built:':<11}"
                   f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(detail.built_at))}")
    schema = detail.schema or detail.declared_schema
    if schema:
        output.out(f"  schema ({'observed' if detail.schema else 'declared'}):")
        width = max(len(c[0]) for c in schema)
        for col, typ, nullable in schema:
            output.out(f"    {col:<{width}}  {typ}{'' if nullable else '  not null'}")
    history = ws.state.metrics_history(name, 10)
    if history:
        output.out(f"  {'metrics:':<11}rows "
                   f"{output.trend([float(m.rows) for m in reversed(history)])}"
                   f" over the last {output.count(len(history), 'build')} (`weir metrics {name}`)")
    if detail.checks:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(detail.checked_at or 0))
        output.out(f"  checks ({when}):")
        for c in detail.checks:
            mark = output.mark("built" if c.passed else (
                "failed" if c.severity.value == "error" else "warning"))
            said = "passed" if c.passed else ("failed" if c.severity.value == "error"
                                              else "warning")
            output.out(f"    {mark} {c.name}  {said}" + (f": {c.message}" if c.message else ""))
    if detail.builds:
        output.out("  recent builds:")
        for h in detail.builds:
            # an interrupted job never finished: when it started is what is known
            when = time.strftime("%Y-%m-%d %H:%M:%S",
                                 time.localtime(h.finished or h.started or 0))
            unit = "file" if ds.is_folder else "row"  # a folder's "rows" are its files
            rows = output.count(h.rows, unit) if h.rows is not None else ""
            commit = f"  at {h.commit[:10]}{'+' if h.commit.endswith('+') else ''}" \
                if h.commit else ""
            output.out(f"    {when}  {h.status:<11} {rows}{commit}".rstrip())
    if detail.scenario_runs:
        # which scenario last touched the data, and how that run went (`weir scenario show ID`)
        output.out("  scenario runs:")
        width = max(len(r.scenario) for r in detail.scenario_runs)
        for r in detail.scenario_runs:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.finished or r.started))
            did = ", ".join(w for w, yes in (("built", r.built), ("checked", r.checked)) if yes)
            output.out(f"    {when}  {r.scenario:<{width}}  {r.status:<11} {did}  {r.run_id}")
    return 0


def _rejected(ws: Any, name: str, as_json: bool, head: int = 10) -> int:
    """What a build of ``name`` wrote and its checks would not publish."""
    import pyarrow.parquet as pq

    from weir.storage.locations import rejected_file

    path = rejected_file(ws.root, name)
    table = pq.read_table(path)
    _, checks = ws.state.last_checks(name)
    failed = [c for c in checks if not c.passed]
    when = path.stat().st_mtime
    if as_json:
        output.print_json({"name": name, "path": str(path), "rows": table.num_rows,
                           "rejected_at": when, "checks": [c.to_json() for c in failed],
                           "head": table.slice(0, head).to_pylist()})
        return 0
    output.out(output.style(f"{name} (rejected)", "bold") + f" — {output.count(table.num_rows, 'row')}"
               f", {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(when))}, never published")
    output.out(f"  {'file:':<11}{output.rel(str(path), str(ws.root))}")
    for c in failed:
        output.out(f"  {output.mark('failed')} {c.name}" + (f": {c.message}" if c.message else ""))
    frame = table.slice(0, head).to_pandas()
    output.out("")
    output.out(frame.to_string(index=False))
    if table.num_rows > head:
        output.out(f"… {output.count(table.num_rows - head, 'more row')}; read it all with "
                   f"weir.Dataset({name!r}).rejected().to_pandas()")
    return 0
