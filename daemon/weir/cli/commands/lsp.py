"""``weir lsp``: the language server, over stdio (editors start it; see docs/editor.md)."""

from __future__ import annotations

import argparse


def add_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (the default)")


def run(args: argparse.Namespace) -> int:
    from weir_lsp.server import main

    main()
    return 0
