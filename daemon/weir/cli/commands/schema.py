"""``weir schema x [--write]``: x's schema — observed at its last build, or for a source read
from its data — as the YAML a dataset file takes, printed or written into datasets/x.yaml so
it becomes a contract."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from weir.cli import output
from weir.errors import WeirError


def add_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset")
    p.add_argument("--write", action="store_true",
                   help="write it as the declared schema in datasets/DATASET.yaml")


def schema_yaml(columns: list[list[object]]) -> str:
    lines = ["schema:"]
    for name, type_, nullable in columns:
        extra = "" if nullable else ", nullable: false"
        lines.append(f'  - {{name: {_scalar(str(name))}, type: {_scalar(str(type_))}{extra}}}')
    return "\n".join(lines) + "\n"


def _scalar(text: str) -> str:
    return text if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text) else '"' + text.replace(
        '"', '\\"') + '"'


def replace_schema_block(text: str, block: str) -> str:
    """Swap the top-level `schema:` block of a YAML text for ``block``; keep everything else
    (comments included) as it was."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(r"schema\s*:", line)), None)
    if start is None:
        return text + ("" if not text or text.endswith("\n") else "\n") + block
    end = start + 1
    while end < len(lines) and (lines[end].startswith((" ", "\t", "-")) or not lines[end].strip()):
        end += 1
    return "".join(lines[:start]) + block + "".join(lines[end:])


def run(args: argparse.Namespace) -> int:
    ws = output.open_workspace(args.project)
    name = args.dataset
    ds = ws.dataset(name)
    if ds.is_folder:
        raise WeirError(f"'{name}' is a managed folder: it holds files, not a table with a schema",
                        hint=f"list its files with `weir show {name}`")
    record = ws.state.records().get(name)
    columns = record.schema if record is not None and record.schema else None
    if columns is None and ds.is_source:
        columns = ws.source_columns(name)
    if columns is None:
        if ds.schema:
            columns = [[c.name, c.type, c.nullable] for c in ds.schema]
        elif ds.is_source:
            raise WeirError(f"cannot read the schema of source '{name}' at "
                            f"{ds.connection}:{ds.path}",
                            hint="check that its data is there: `weir show " + name + "`")
        else:
            raise WeirError(f"'{name}' has no observed schema yet",
                            hint=f"build it first: weir build {name}")
    block = schema_yaml(columns)
    if not args.write:
        output.out(block.rstrip())
        return 0
    path = Path(ws.root) / (ds.location.file if ds.location.file.startswith("datasets/")
                            else f"datasets/{name}.yaml")
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(replace_schema_block(before, block), encoding="utf-8")
    output.out(f"Wrote the schema of {name} ({len(columns)} columns) to "
               f"{path.relative_to(ws.root)}: commit it to make it a contract.")
    return 0

