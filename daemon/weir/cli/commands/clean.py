"""``weir clean``: drop built data to free space. Sources are never touched."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from weir.cli import output
from weir.cli.plans import PartitionSpec
from weir.errors import WeirError
from weir.storage.locations import remove_path


def add_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("selectors", nargs="*", metavar="DATASET",
                   help="datasets whose data to drop (names or selectors)")
    p.add_argument("--intermediate", action="store_true",
                   help="drop every dataset that is not a source, not `keep: true` and not a "
                   "final output")
    p.add_argument("--partition", "-p", default="", metavar="PARTITIONS", action=PartitionSpec,
                   help="drop only these partitions of partitioned datasets (2026-12-01, a "
                   "range a..b, latest, a value, or a comma list)")
    p.add_argument("--dry-run", "-n", action="store_true", help="say what would be dropped")


def run(args: argparse.Namespace) -> int:
    if not args.selectors and not args.intermediate:
        raise WeirError("say what to clean", hint="`weir clean --intermediate` or "
                        "`weir clean DATASET…`")
    ws = output.open_workspace(args.project)
    project = ws.project
    names: list[str] = []
    if args.intermediate:
        names += [n for n in ws.flow.order if not project.datasets[n].is_source
                  and not project.datasets[n].keep and ws.flow.downstream[n]]
    if args.selectors:
        for n in ws.resolve_targets(args.selectors):
            if project.datasets[n].is_source:
                raise WeirError(f"'{n}' is a source: weir never deletes source data",
                                hint="delete it yourself if you really mean to")
            names.append(n)
    names = list(dict.fromkeys(names))
    if args.partition:
        return _clean_partitions(ws, names, args.partition, args.dry_run)
    freed = 0
    dropped = []
    for n in names:
        ds = project.datasets[n]
        backend = ws.backends[ds.connection]
        kept = ws.state.kept_for(n)
        exists = backend.exists(ds.path, ds.format)
        if not exists and not kept:
            continue
        path = backend.local_path(ds.path)
        freed += path.stat().st_size if path is not None and path.is_file() else 0
        dropped.append(n)
        if args.dry_run:
            continue
        if exists:
            backend.drop(ds.path, ds.format)
        if ds.partitioning is not None:
            ws.state.forget_partitions(n)
        for fp, kept_path in kept:
            try:
                if "://" in kept_path:  # a version its storage keeps (a table beside it)
                    backend.drop_copy(kept_path)
                else:
                    remove_path(Path(kept_path))
            except (OSError, WeirError):
                pass
            ws.state.drop_kept(n, fp)
    verb = "Would drop" if args.dry_run else "Dropped"
    if dropped:
        size = f" ({_size(freed)} of local files)" if freed else ""
        output.out(f"{verb} {len(dropped)} dataset{'s' if len(dropped) != 1 else ''}{size}: "
                   f"{', '.join(dropped)}")
    else:
        output.out("Nothing to clean.")
    return 0


def _clean_partitions(ws: Any, names: list[str], text: str, dry_run: bool) -> int:
    """Drop some partitions of each dataset named (and forget them: a later build makes
    them again, if it is asked for them)."""
    from weir.model.partitions import PartitionError, expand_request

    project = ws.project
    records = ws.state.partition_records(names)
    todo: list[tuple[str, list[str]]] = []
    for n in names:
        ds = project.datasets[n]
        if ds.partitioning is None:
            raise WeirError(f"'{n}' is not partitioned: --partition does not apply to it",
                            hint=f"`weir clean {n}` drops it whole")
        known = sorted(records.get(n, {}))
        try:
            asked = expand_request(ds.partitioning, text, known)
        except PartitionError as exc:
            raise WeirError(f"--partition {text}: {exc} (for '{n}')",
                            hint="e.g. --partition 2026-12-01, 2026-11-01..2026-11-30, "
                            "latest") from None
        keys = [k for k in asked if k in records.get(n, {})]
        if keys:
            todo.append((n, keys))
    if not todo:
        output.out("Nothing to clean: none of those partitions was built.")
        return 0
    for n, keys in todo:
        ds = project.datasets[n]
        if not dry_run:
            with ws.backends.using(ds.connection) as backend:
                for key in keys:
                    backend.drop_partition(ds.path, ds.format, ds.partitioning, key)
            ws.state.forget_partitions(n, keys)
        output.out(f"{'Would drop' if dry_run else 'Dropped'} {len(keys)} partition"
                   f"{'s' if len(keys) != 1 else ''} of {n}: {', '.join(keys[:5])}"
                   + (f" and {len(keys) - 5} more" if len(keys) > 5 else ""))
    return 0


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return output.count(n, "byte")
