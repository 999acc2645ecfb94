"""``weir clean``: drop built data to free space. Sources are never touched."""

from __future__ import annotations

import argparse
from pathlib import Path

from weir.cli import output
from weir.errors import WeirError
from weir.storage.locations import remove_path


def add_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("selectors", nargs="*", metavar="DATASET",
                   help="datasets whose data to drop (names or selectors)")
    p.add_argument("--intermediate", action="store_true",
                   help="drop every dataset that is not a source, not `keep: true` and not a "
                   "final output")
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


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return output.count(n, "byte")
