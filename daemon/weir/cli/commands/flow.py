"""``weir flow``: the DAG as a tree (sources at the left), dot / mermaid / json for tools, or
the Flow page as one self-contained HTML file (statuses and schemas as of now, no daemon), or
an SVG drawing for documents."""

from __future__ import annotations

import argparse
from typing import Any

from weir.cli import output
from weir.flow.graph import Flow


def add_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=["tree", "dot", "mermaid", "json", "html", "svg"],
                   default="tree", help="tree for people (default), dot/mermaid/json for "
                   "tools, html: the Flow page as a file to attach or publish, svg: a drawing "
                   "for documents (both with the statuses as of now)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write to FILE instead of standard output")


def run(args: argparse.Namespace) -> int:
    from weir.errors import ProjectInvalid

    try:
        ws = output.open_workspace(args.project)
    except ProjectInvalid:
        if args.format == "tree":
            _draw_what_can_be_read(args.project)
        raise  # the errors, file:line each, and exit 2
    if args.format == "html":
        result: Any = html_page(ws)
    elif args.format == "svg":
        from weir.flow.export import flow_graph
        from weir.flow.svg import flow_svg

        state = ws.snapshot()
        result = flow_svg(flow_graph(ws.flow, state.statuses,
                                     partitions=state.all_partition_counts()))
    else:
        result = {"tree": tree, "dot": dot, "mermaid": mermaid, "json": as_json}[
            args.format](ws.flow)
    if args.output:
        import json
        import os
        from pathlib import Path

        target = Path(args.output)
        tmp = target.with_name(f".{target.name}.tmp")
        text = result if isinstance(result, str) else json.dumps(result, indent=2)
        try:
            tmp.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
            os.replace(tmp, target)
        except OSError as exc:
            from weir.errors import WeirError

            if tmp.parent.is_dir():
                tmp.unlink(missing_ok=True)
            raise WeirError(f"cannot write {target}: {exc.strerror}",
                            hint="give -o a file in a directory that exists and you can "
                            "write to") from None
        if args.format in ("html", "svg"):
            output.out(f"wrote {target} ({output.count(len(ws.flow.order), 'dataset')}, as of "
                       "now: open it in a browser, no daemon needed)")
    elif isinstance(result, str):
        output.out(result)
    else:
        output.print_json(result)
    return 0


def html_page(ws: Any) -> str:
    """The Flow page with what the daemon would answer now embedded: the Flow with every
    dataset's status, each dataset's detail (schema, rows, builds, checks, scenario runs) and
    metrics (the last 20 builds', as the daemon's route answers by default), the scenarios."""
    import time
    from dataclasses import replace

    from weir.flow.export import flow_graph
    from weir.gitops.head import head_commit
    from weir.scenarios.timing import summaries
    from weir.server.page import flow_page_html
    from weir.wire import MetricsHistory

    state = ws.snapshot()
    graph = replace(flow_graph(ws.flow, state.statuses, partitions=state.all_partition_counts()),
                    diagnostics=tuple(ws.diagnostics))
    answers: dict[str, Any] = {"/api/flow": graph.to_json()}
    for name in ws.flow.order:
        answers[f"/api/datasets/{quote(name)}"] = ws.dataset_detail(name, state).to_json()
        # its details panel's chart of nulls; a dataset never measured asks for what is not
        # there, and the page leaves that chart out (as a daemon's empty answer would)
        metrics = ws.state.metrics_history(name, 20)
        if metrics:
            answers[f"/api/datasets/{quote(name)}/metrics"] = MetricsHistory(
                name, tuple(metrics)).to_json()
    answers["/api/scenarios"] = {"scenarios": [s.to_json() for s in summaries(
        ws.project.scenarios, time.time(), ws.state.last_scenario_runs())]}
    return flow_page_html({"at": time.time(), "project": ws.project.name,
                           "commit": head_commit(ws.root), "answers": answers})


def quote(name: str) -> str:
    """As the page's encodeURIComponent writes a dataset's name into a path."""
    from urllib.parse import quote as q

    return q(name, safe="-_.!~*'()")


def _draw_what_can_be_read(project_dir: Any) -> None:
    """A broken file hides only itself: draw the rest of the Flow before the errors."""
    from weir.assemble import read_flow
    from weir.workspace import machine_connections_file, project_root

    try:
        root = project_root(project_dir)
        flow = read_flow(root, machine_connections=machine_connections_file()).flow
        drawn = tree(flow) if flow is not None and flow.order else None
    except Exception:  # noqa: BLE001 - a partial drawing is a courtesy; the errors still print
        return
    if drawn:
        output.out(output.style("The Flow as far as it can be read (the errors are below):",
                                "dim"))
        output.out(drawn)


def _label(flow: Flow, name: str) -> str:
    ds = flow.project.datasets[name]
    invalid = f"  {output.style('⊘ invalid', 'red')}" if name in flow.invalid else ""
    if ds.is_source:
        return f"{output.style(name, 'bold')}  {output.style(f'source · {ds.connection}:{ds.path}', 'dim')}{invalid}"
    recipe = flow.project.recipes[ds.recipe]  # type: ignore[index]
    tags = f" #{' #'.join(ds.tags)}" if ds.tags else ""
    return f"{name}  {output.style(f'{recipe.kind.value} · {recipe.file}{tags}', 'dim')}{invalid}"


def tree(flow: Flow) -> str:
    """Each dataset under the datasets it reads; a dataset met again is shown once, then '…'."""
    lines: list[str] = []
    shown: set[str] = set()

    def walk(name: str, prefix: str, last: bool, depth: int) -> None:
        branch = "" if depth == 0 else ("└── " if last else "├── ")
        again = name in shown and flow.downstream[name]
        lines.append(prefix + branch + _label(flow, name) + (output.style("  …", "dim")
                                                              if again else ""))
        if again:
            return
        shown.add(name)
        children = flow.downstream[name]
        ext = "" if depth == 0 else ("    " if last else "│   ")
        for i, child in enumerate(children):
            walk(child, prefix + ext, i == len(children) - 1, depth + 1)

    roots = [n for n in flow.order if not flow.upstream[n]]
    for root in roots:
        walk(root, "", True, 0)
    n_src = sum(1 for d in flow.project.datasets.values() if d.is_source)
    lines.append(output.style(f"{output.count(len(flow.order), 'dataset')} "
                              f"({output.count(n_src, 'source')}), "
                              f"{output.count(len(flow.project.recipes), 'recipe')}", "dim"))
    return "\n".join(lines)


def dot(flow: Flow) -> str:
    lines = ["digraph flow {", "  rankdir=LR;", "  node [shape=box, style=rounded];"]
    for name in flow.order:
        shape = ', shape=cylinder' if flow.project.datasets[name].is_source else ""
        lines.append(f'  "{name}" [label="{name}"{shape}];')
    for name in flow.order:
        for inp in flow.upstream[name]:
            lines.append(f'  "{inp}" -> "{name}";')
    lines.append("}")
    return "\n".join(lines)


def mermaid(flow: Flow) -> str:
    lines = ["flowchart LR"]
    for name in flow.order:
        lines.append(f"  {name}[({name})]" if flow.project.datasets[name].is_source
                     else f"  {name}[{name}]")
    for name in flow.order:
        for inp in flow.upstream[name]:
            lines.append(f"  {inp} --> {name}")
    return "\n".join(lines)


def as_json(flow: Flow) -> dict[str, Any]:
    from weir.flow.export import flow_json

    return flow_json(flow)
