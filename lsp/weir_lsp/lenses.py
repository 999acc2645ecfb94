"""CodeLens over each recipe (build it, its upstream or its downstream, with its status) and
over each scenario file that reads (run it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as t

from weir.flow.status import State, Status
from weir.wire import Severity
from weir_lsp.projects import OpenProject

if TYPE_CHECKING:
    from weir_lsp.session import WeirLanguageServer

BUILD_COMMAND = "weir.build"
# Not `weir.runScenario`: that is the VS Code extension's own command (the palette's, the
# tree's), and a language client registers each of the server's commands under its name.
RUN_SCENARIO_COMMAND = "weir.scenario.run"


def status_title(statuses: list[Status | None]) -> str | None:
    """One short word for a recipe's outputs, worst first: invalid, failed, stale, never
    built."""
    known = [s for s in statuses if s is not None]
    if not known:
        return None
    for state, mark in ((State.INVALID, "⊘ invalid"), (State.FAILED, "✗ failed"),
                        (State.STALE, "● stale"), (State.NEVER_BUILT, "○ never built")):
        hit = next((s for s in known if s.state is state), None)
        if hit is not None:
            explained = state in (State.STALE, State.INVALID)
            return mark + (f": {hit.reasons[0]}" if hit.reasons and explained else "")
    return "✓ up to date"


def lenses_at(ls: WeirLanguageServer, uri: str) -> list[t.CodeLens] | None:
    found = ls.project_of(uri)
    return None if found is None else recipe_lenses(*found) + scenario_lenses(*found)


def recipe_lenses(project: OpenProject, rel: str) -> list[t.CodeLens]:
    if project.project is None:
        return []
    root = str(project.root)
    out: list[t.CodeLens] = []
    for recipe in sorted(project.project.recipes.values(), key=lambda r: r.line):
        if recipe.file != rel:
            continue
        outputs = list(recipe.outputs)
        status = status_title([project.status(o) for o in outputs])
        line = max(recipe.line - 1, 0)
        rng = t.Range(start=t.Position(line=line, character=0),
                      end=t.Position(line=line, character=0))
        what = ", ".join(outputs)
        for title, targets, mode in (
                ("▶ Build" + (f" · {status}" if status else ""), outputs, "required"),
                ("Build upstream", ["+" + o for o in outputs], "force"),
                ("Build downstream", outputs, "downstream")):
            out.append(t.CodeLens(range=rng, command=t.Command(
                title=title, command=BUILD_COMMAND,
                arguments=[{"root": root, "targets": targets, "mode": mode,
                            "label": f"{title.split(' · ')[0].lstrip('▶ ')} {what}"}])))
    return out


def scenario_lenses(project: OpenProject, rel: str) -> list[t.CodeLens]:
    """"▶ Run scenario" at the top of a scenario file, while it has no error: a file with one
    is not a scenario the daemon runs (or, half-typed, is not the one it would run)."""
    if project.project is None:
        return []
    if any(d.file == rel and d.severity is Severity.ERROR for d in project.diagnostics):
        return []
    found = next((s for s in project.project.scenarios.values() if s.file == rel), None)
    if found is None:
        return []
    top = t.Range(start=t.Position(line=0, character=0), end=t.Position(line=0, character=0))
    return [t.CodeLens(range=top, command=t.Command(
        title="▶ Run scenario", command=RUN_SCENARIO_COMMAND,
        arguments=[{"root": str(project.root), "scenario": found.name,
                    "label": f"Run scenario {found.name}"}]))]
