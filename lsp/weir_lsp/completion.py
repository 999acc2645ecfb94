"""Completion: dataset, folder, column, connection and variable names where one is expected,
and in a dataset's ``checks:`` the check kinds, severities, its columns and relationship
targets (check_yaml.py says which)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types as t

from weir_lsp import check_yaml, scenario_yaml
from weir_lsp.context import Slot, SlotKind, completion_slot, params_above, sql_tables
from weir.model.project import ColumnSpec
from weir_lsp.conversion import language_of
from weir_lsp.projects import OpenProject

if TYPE_CHECKING:
    from weir_lsp.session import WeirLanguageServer

# At most this many items per answer, marked incomplete so the editor asks again as the user
# types on: a popup shows a dozen, and sending a thousand costs more than the rest of the work.
MAX_ITEMS = 200


def complete_at(ls: WeirLanguageServer, uri: str, position: t.Position
                ) -> t.CompletionList | None:
    found = ls.project_of(uri)
    if found is None:
        return None
    project, rel = found
    caps = ls.client_capabilities.text_document
    item_caps = caps.completion.completion_item if caps and caps.completion else None
    snippets = bool(item_caps and item_caps.snippet_support)
    return complete(project, language_of(rel), ls.lines(uri), position, rel, snippets)


def resolve(ls: WeirLanguageServer, item: t.CompletionItem) -> t.CompletionItem:
    """The item the user looks at gets its documentation (its project's root is its data)."""
    project = ls.projects.by_root.get(Path(str(item.data))) if item.data else None
    if project is not None:
        item.documentation = documentation(project, item.label)
    return item


def complete(project: OpenProject, language: str, lines: list[str],
             position: t.Position, rel: str = "", snippets: bool = False
             ) -> t.CompletionList | None:
    dataset = check_yaml.dataset_of(rel) if language == "yaml" else None
    if dataset is not None and project.project is not None:
        slot = check_yaml.check_slot(lines, position.line, position.character)
        if slot is not None:
            return t.CompletionList(is_incomplete=False,
                                    items=_in_checks(project, dataset, slot, snippets))
    if language == "yaml" and scenario_yaml.is_scenario_file(rel) \
            and project.project is not None:
        sslot = scenario_yaml.scenario_slot(lines, position.line, position.character)
        return None if sslot is None else t.CompletionList(
            is_incomplete=False, items=_in_scenario(project, sslot)[:MAX_ITEMS])
    items = _complete(project, language, lines, position)
    if items is None:
        return None
    return t.CompletionList(is_incomplete=len(items) > MAX_ITEMS, items=items[:MAX_ITEMS])


def _complete(project: OpenProject, language: str, lines: list[str],
              position: t.Position) -> list[t.CompletionItem] | None:
    line = lines[position.line].rstrip("\r\n") if position.line < len(lines) else ""
    slot = completion_slot(language, line, position.character)
    if slot is None or project.project is None:
        return None
    if slot.kind is SlotKind.DATASET:
        # A SQL query reads tables: a managed folder (files) cannot stand after FROM.
        return _datasets(project, slot, folders=language != "sql")
    if slot.kind is SlotKind.CONNECTION:
        return [t.CompletionItem(label=name, kind=t.CompletionItemKind.Module,
                                 detail=f"{c.type} connection ({c.location})")
                for name, c in sorted(project.project.connections.items())
                if name.startswith(slot.prefix)]
    if slot.kind is SlotKind.VARIABLE:
        return [t.CompletionItem(label=name, kind=t.CompletionItemKind.Constant,
                                 detail=f"= {value!r}")
                for name, value in sorted(project.project.config.variables.items())
                if name.startswith(slot.prefix)]
    owners = _column_owners(project, language, lines, position.line, slot)
    items: dict[str, t.CompletionItem] = {}
    records = project.records()
    for dataset in owners:
        for col in project.schema(dataset, records) or ():
            if not col.name.startswith(slot.prefix) or col.name in items:
                continue
            if slot.attribute and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", col.name):
                continue
            items[col.name] = _column_item(col, dataset)
    return list(items.values())


def _in_scenario(project: OpenProject, slot: scenario_yaml.ScenarioSlot
                 ) -> list[t.CompletionItem]:
    """What goes at ``slot`` of a scenario file."""
    assert project.project is not None
    if slot.what == "dataset":
        return [t.CompletionItem(label=n, kind=t.CompletionItemKind.Reference,
                                 detail="source" if d.is_source else "dataset")
                for n, d in sorted(project.project.datasets.items())
                if n.startswith(slot.prefix)]
    if slot.what == "scenario":
        return [t.CompletionItem(label=n, kind=t.CompletionItemKind.Reference,
                                 detail=f"scenario ({s.file})")
                for n, s in sorted(project.project.scenarios.items())
                if n.startswith(slot.prefix)]
    if slot.what == "if":
        return [t.CompletionItem(label=w, kind=t.CompletionItemKind.EnumMember, detail=why)
                for w, why in scenario_yaml.RUN_IF.items() if w.startswith(slot.prefix)]
    if slot.what == "partition":
        return [t.CompletionItem(label=w, kind=t.CompletionItemKind.Value, detail=why)
                for w, why in scenario_yaml.PARTITIONS.items() if w.startswith(slot.prefix)]
    words = scenario_yaml.SCENARIO_KEYS if slot.what == "section" else \
        scenario_yaml.SECTION_ITEMS[slot.section]
    return [t.CompletionItem(label=w, kind=t.CompletionItemKind.Property, insert_text=f"{w}: ",
                             detail=scenario_yaml.kind_doc(w))
            for w in words if w.startswith(slot.prefix)]


def _in_checks(project: OpenProject, dataset: str, slot: check_yaml.CheckSlot,
               snippets: bool) -> list[t.CompletionItem]:
    """What goes at ``slot`` of ``dataset``'s ``checks:``."""
    assert project.project is not None
    if slot.what == "item":
        has_kind = any(k in check_yaml.KINDS for k in slot.present)
        words = [w for w in (*([] if has_kind else check_yaml.KINDS), "name", "severity")
                 if w not in slot.present and w.startswith(slot.prefix)]
        return [_check_key_item(w, dataset, snippets) for w in words]
    if slot.what == "severity":
        return [t.CompletionItem(label=s, kind=t.CompletionItemKind.EnumMember, detail=why)
                for s, why in check_yaml.SEVERITY_DOCS.items() if s.startswith(slot.prefix)]
    if slot.what == "setting":
        keys = ("min", "max") if slot.kind == "range" else check_yaml.SETTING_KEYS[
            str(slot.kind)]
        return [t.CompletionItem(label=k, kind=t.CompletionItemKind.Property,
                                 insert_text=f"{k}: ") for k in keys if k.startswith(slot.prefix)]
    if slot.what == "dataset":
        root = str(project.root)
        return [t.CompletionItem(label=name, kind=t.CompletionItemKind.Variable,
                                 detail=f"{'source' if ds.is_source else 'dataset'} · "
                                 f"{ds.connection}:{ds.path}", insert_text=f"{name}.",
                                 data=root)
                for name, ds in sorted(project.project.datasets.items())
                if name.startswith(slot.prefix) and not ds.is_folder][:MAX_ITEMS]
    owner = slot.other if slot.what == "target-column" else dataset
    if owner is None:
        return []
    return [_column_item(col, owner) for col in project.schema(owner) or ()
            if col.name.startswith(slot.prefix)]


def _check_key_item(word: str, dataset: str, snippets: bool) -> t.CompletionItem:
    doc = check_yaml.kind_markdown(word)
    return t.CompletionItem(
        label=word, kind=t.CompletionItemKind.Keyword if word in check_yaml.KINDS
        else t.CompletionItemKind.Property,
        detail="check" if word in check_yaml.KINDS else "of a check",
        documentation=t.MarkupContent(kind=t.MarkupKind.Markdown, value=doc),
        insert_text=check_yaml.snippet(word, dataset) if snippets else check_yaml.plain(word),
        insert_text_format=t.InsertTextFormat.Snippet if snippets
        else t.InsertTextFormat.PlainText)


def _datasets(project: OpenProject, slot: Slot, folders: bool = True
              ) -> list[t.CompletionItem]:
    """Names with their kind and location; the schema comes on resolve, for the one item the
    user looks at (a thousand schemas per keystroke would be slow to send and to render)."""
    assert project.project is not None
    items: list[t.CompletionItem] = []
    root = str(project.root)
    for name, ds in sorted(project.project.datasets.items()):
        if not name.startswith(slot.prefix) or (ds.is_folder and not folders):
            continue
        if slot.output and not ds.is_source:
            # An output names what this recipe will build: only a dataset declared in
            # datasets/ that nothing builds yet fits. Anything with a recipe already would be
            # built twice — including the name being typed, which this recipe now builds.
            continue
        if len(items) > MAX_ITEMS:
            break
        kind = "source" if ds.is_source else ("folder" if ds.is_folder else "dataset")
        items.append(t.CompletionItem(
            label=name, kind=t.CompletionItemKind.Folder if ds.is_folder
            else t.CompletionItemKind.Variable,
            detail=f"{kind} · {ds.connection}:{ds.path}", data=root))
    return items


def documentation(project: OpenProject, name: str) -> t.MarkupContent | None:
    """A dataset's description and schema, for completionItem/resolve."""
    if project.project is None or name not in project.project.datasets:
        return None
    ds = project.project.datasets[name]
    columns = None if ds.is_folder else project.schema(name)
    doc = ds.description or ""
    if columns:
        doc += ("\n\n" if doc else "") + "\n".join(f"- `{c.name}` {c.type}" for c in columns)
    return t.MarkupContent(kind=t.MarkupKind.Markdown, value=doc) if doc else None


def _column_item(col: ColumnSpec, dataset: str) -> t.CompletionItem:
    return t.CompletionItem(label=col.name, kind=t.CompletionItemKind.Field,
                            detail=f"{col.type}{'' if col.nullable else ' not null'} · {dataset}")


def _column_owners(project: OpenProject, language: str, lines: list[str],
                   line: int, slot: Slot) -> list[str]:
    """The datasets whose columns fit the slot."""
    assert project.project is not None
    datasets = project.project.datasets
    if language == "sql":
        tables = sql_tables("".join(lines))
        if slot.owner is not None:
            table = tables.get(slot.owner)
            return [table] if table is not None and table in datasets else []
        return [tbl for tbl in dict.fromkeys(tables.values()) if tbl in datasets]
    if slot.owner is None or slot.owner not in datasets:
        return []
    # The parameters of the function the cursor is in, read from the text: while a line is
    # half-typed the file does not parse, and the model has no recipe there to ask.
    return [slot.owner] if slot.owner in params_above(language, lines, line) else []
