"""The language server on a 1,000-dataset project, measured from the client's side.

    python bench/bench_lsp.py [--n 1000] [--requests 300] [--starts 5] [--out FILE]

A real LSP client (pytest-lsp's, over stdio, with VS Code's capabilities) talks to
`python -m weir lsp` about the project bench_build.py generates, built once so hovers have
statuses, row counts and schemas to show. It times:

  initialize   spawning the server → the initialize answer (cold: a new process, the parse
               cache on disk), median of --starts
  ready        spawning → the first diagnostics for an opened recipe (the whole project read)
  completion   dataset names in a recipe's parameters (1,000 candidates) and columns after
               `df["` — per request, p50/p95
  hover        a dataset name in a recipe — p50/p95
  diagnostics  a keystroke (didChange) → the file's diagnostics published — p50/p95
  memory       the server's RSS after all of it

Targets (issue 5): completion and hover < 20 ms p95, diagnostics < 50 ms p95, initialize < 1 s,
memory < 250 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
try:
    import weir  # noqa: F401
    import weir_lsp  # noqa: F401
except ImportError:
    sys.path[:0] = [str(REPO / "daemon"), str(REPO / "lsp")]

from bench_build import generate, inputs_of, name, recipe_text  # noqa: E402
from bench_daemon import pct, rss_mib  # noqa: E402
from lsprotocol import types as t  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402
from pytest_lsp import client_capabilities  # noqa: E402


def env() -> dict[str, str]:
    paths = [str(REPO / "daemon"), str(REPO / "lsp")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        paths + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))}


class Client(LanguageClient):
    """pygls' plain client, counting the diagnostics published per file."""

    def __init__(self) -> None:
        super().__init__("weir-bench", "1")
        self.counts: dict[str, int] = {}

        @self.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_publish(params: t.PublishDiagnosticsParams) -> None:
            self.counts[params.uri] = self.counts.get(params.uri, 0) + 1

        @self.feature(t.CLIENT_REGISTER_CAPABILITY)
        def on_register(params: t.RegistrationParams) -> None:
            """As VS Code: yes (file watching; this bench changes no file on disk)."""

    async def open_session(self, root: Path) -> None:
        await self.start_io(sys.executable, "-m", "weir", "lsp", env=env(), cwd=str(root))
        await self.initialize_async(t.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"), root_uri=root.as_uri(),
            process_id=os.getpid()))
        self.initialized(t.InitializedParams())

    async def close_session(self) -> None:
        await self.shutdown_async(None)
        self.exit(None)
        await self.stop()


def open_recipe(client: Client, path: Path, text: str | None = None) -> str:
    uri = path.as_uri()
    client.text_document_did_open(t.DidOpenTextDocumentParams(
        text_document=t.TextDocumentItem(uri=uri, language_id="python", version=1,
                                          text=path.read_text() if text is None else text)))
    return uri


async def published(client: Client, uri: str, since: int) -> None:
    """Wait until the server has published diagnostics for ``uri`` more than ``since`` times."""
    while client.counts.get(uri, 0) <= since:
        await asyncio.sleep(0.0005)


async def cold_starts(root: Path, starts: int) -> dict[str, list[float]]:
    init, ready = [], []
    recipe = root / "recipes" / f"{name(50, 3)}.py"
    for _ in range(starts):
        client = Client()
        t0 = time.perf_counter()
        await client.open_session(root)
        init.append(time.perf_counter() - t0)
        uri = open_recipe(client, recipe)
        await published(client, uri, 0)
        ready.append(time.perf_counter() - t0)
        await client.close_session()
    return {"initialize": init, "ready": ready}


async def requests(root: Path, layers: int, n_requests: int) -> dict[str, object]:
    client = Client()
    await client.open_session(root)
    rng = random.Random(0)
    docs = []
    for _ in range(20):
        layer, j = rng.randrange(1, layers), rng.randrange(10)
        a, _b = inputs_of(layer, j)
        # The recipe as generated, plus a helper where completion is asked for: a dataset
        # name in weir.Dataset("d_…") (most of the project's names) and a column in a["…"].
        text = ("import weir\n" + recipe_text(layer, j) + f"\n\ndef probe({a}):\n"
                f'    first = weir.Dataset("d_")\n    return {a}[""]\n')
        path = root / "recipes" / f"{name(layer, j)}.py"
        uri = open_recipe(client, path, text)
        lines = text.splitlines()
        def_line = next(i for i, ln in enumerate(lines) if ln.startswith(f"def {name(layer, j)}"))
        docs.append((uri, text, lines, def_line, a))
        await published(client, uri, 0)

    def pos(line: int, char: int) -> t.Position:
        return t.Position(line=line, character=char)

    completion, columns, hover, diagnostics = [], [], [], []
    sizes = set()
    for i in range(n_requests):
        uri, text, lines, def_line, a = docs[i % len(docs)]
        doc = t.TextDocumentIdentifier(uri=uri)
        probe = len(lines) - 2
        t0 = time.perf_counter()
        result = await client.text_document_completion_async(
            t.CompletionParams(text_document=doc, position=pos(probe, lines[probe].index(
                '"d_') + 3)))
        completion.append((time.perf_counter() - t0) * 1000)
        sizes.add(len(result.items))
        last = len(lines) - 1
        t0 = time.perf_counter()
        cols = await client.text_document_completion_async(
            t.CompletionParams(text_document=doc, position=pos(last, len(lines[last]) - 2)))
        columns.append((time.perf_counter() - t0) * 1000)
        assert cols is not None and {c.label for c in cols.items} == {"id", "x"}, cols
        t0 = time.perf_counter()
        found = await client.text_document_hover_async(t.HoverParams(
            text_document=doc, position=pos(def_line, lines[def_line].index(a + ":") + 1)))
        hover.append((time.perf_counter() - t0) * 1000)
        assert found is not None and a in found.contents.value and "rows" in found.contents.value
    for i in range(n_requests):
        uri, text, lines, def_line, a = docs[i % len(docs)]
        seen = client.counts.get(uri, 0)
        t0 = time.perf_counter()
        client.text_document_did_change(t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=i + 2),
            content_changes=[t.TextDocumentContentChangeWholeDocument(
                text=text.replace("* 0.5", f"* 0.{5 + i % 4}"))]))
        await published(client, uri, seen)
        diagnostics.append((time.perf_counter() - t0) * 1000)
    rss = rss_mib(client._server.pid)
    await client.close_session()
    return {"completion_datasets_ms": completion, "completion_columns_ms": columns,
            "hover_ms": hover, "diagnostics_ms": diagnostics, "rss_mib": rss,
            "completion_sizes": sorted(sizes)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--out", type=Path, default=REPO / "bench/results/lsp.json")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="weir-bench-lsp-"))
    root = work / "flow"
    try:
        info = generate(root, args.n)
        print(f"built the {args.n}-dataset project once …", flush=True)
        subprocess.run([sys.executable, "-m", "weir", "build", "--all", "--no-daemon"],
                       cwd=root, env=env(), check=True, capture_output=True)
        cold = asyncio.run(cold_starts(root, args.starts))
        hot = asyncio.run(requests(root, info["layers"], args.requests))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    lat = {k: v for k, v in hot.items() if k.endswith("_ms")}
    summary = {
        "n": args.n, "requests": args.requests, "starts": args.starts,
        "initialize_s_median": statistics.median(cold["initialize"]),
        "ready_s_median": statistics.median(cold["ready"]),
        **{f"{k[:-3]}_p50_ms": pct(v, 50) for k, v in lat.items()},  # type: ignore[arg-type]
        **{f"{k[:-3]}_p95_ms": pct(v, 95) for k, v in lat.items()},  # type: ignore[arg-type]
        "rss_mib": hot["rss_mib"], "completion_items": hot["completion_sizes"],
        "load_avg": os.getloadavg(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "cold": cold, "latencies": lat},
                                   indent=1))
    for key, value in summary.items():
        print(f"{key:32} {value}")


if __name__ == "__main__":
    main()
