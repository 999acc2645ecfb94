"""From a directory of project files to a :class:`Project` and the list of what is wrong.

This is the one place that reads project files. ``overlays`` lets an editor pass unsaved buffers.
Cross-file rules live here too: unknown inputs, two producers of one dataset, unknown connections
and variables, sources without a location. (Cycles are the Flow's business: ``weir.flow``.)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any
from dataclasses import replace
from pathlib import Path

from weir.model.config_files import (ConnectionLayers, ConnectionSpecs, builtin_local_connection,
                                     builtin_local_layer,
                                     parse_connection_layers, parse_dataset_file,
                                     parse_project_config)
from weir.model.diagnostics import Diagnostic, Severity, Span, name_on_line, span, whole_line
from weir.model.environments import unknown_environment
from weir.model.partition_config import check_partitioned
from weir.model.parse_cache import (ParseCache, content_hash, decode_python, decode_sql,
                                    encode_python, encode_sql)
from weir.model.project import (EXTENSION_FORMATS, FILE_CONNECTION_TYPES, FORMATS, Dataset,
                                DatasetSpec, Interface, Project, ProjectConfig, Recipe,
                                RecipeKind, frozen_map)
from weir.model.python_recipes import PythonFile, _digest, parse_python_file
from weir.model.r_recipes import parse_r_file, var_span
from weir.model.scenarios import Scenario, parse_scenario_file, scenario_references
from weir.model.sql_recipes import parse_sql_file, variable_span
from weir.model.suggest import closest, hint_for

PROJECT_FILE = "weir.yaml"
SKIP_DIRS = {"__pycache__", "node_modules", ".git", ".weir", ".venv", "venv"}
RECIPE_SUFFIXES = (".py", ".sql", ".R", ".r")


def find_project_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` holding a weir.yaml."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / PROJECT_FILE).is_file():
            return candidate
    return None


def _walk(root: Path, sub: str, suffixes: tuple[str, ...]) -> list[str]:
    """Project-relative paths (forward slashes) of files under ``root/sub`` with the suffixes."""
    found: list[str] = []
    base = root / sub
    if not base.is_dir():
        return found
    stack = [base]
    while stack:
        directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(".") or entry.name in SKIP_DIRS:
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
            elif entry.name.endswith(suffixes):
                found.append(Path(entry.path).relative_to(root).as_posix())
    return sorted(found)


def project_files(root: Path) -> list[str]:
    """Every file whose content defines the Flow."""
    files = [f for f in (PROJECT_FILE, "connections.yaml") if (root / f).is_file()]
    files += _walk(root, "datasets", (".yaml", ".yml"))
    files += _walk(root, "folders", (".yaml", ".yml"))
    files += _walk(root, "recipes", RECIPE_SUFFIXES)
    files += _walk(root, "scenarios", (".yaml", ".yml"))
    return files


def read_project_files(root: Path) -> tuple[dict[str, bytes], list[Diagnostic]]:
    """The bytes of every file that defines the Flow, by project-relative path."""
    texts: dict[str, bytes] = {}
    diags: list[Diagnostic] = []
    for f in project_files(root):
        try:
            texts[f] = (root / f).read_bytes()
        except OSError as exc:
            diags.append(Diagnostic(f, 0, f"cannot read: {exc.strerror}", code="unreadable-file"))
    return texts, diags


def is_project_file(rel: str) -> bool:
    """Does this project-relative path define part of the Flow?"""
    parts = rel.split("/")
    if any(p.startswith(".") or p in SKIP_DIRS for p in parts):
        return False
    if rel in (PROJECT_FILE, "connections.yaml"):
        return True
    if parts[0] in ("datasets", "folders", "scenarios") and len(parts) > 1:
        return rel.endswith((".yaml", ".yml"))
    return parts[0] == "recipes" and len(parts) > 1 and rel.endswith(RECIPE_SUFFIXES)


def load_project(root: Path, overlays: Mapping[str, str] | None = None,
                 cache: ParseCache | None = None,
                 machine_connections: tuple[str, str] | None = None,
                 files: Mapping[str, bytes] | None = None,
                 environment: str | None = None,
                 ) -> tuple[Project | None, list[Diagnostic]]:
    """Read and check every project file. The Project is None only if weir.yaml is unusable.

    ``machine_connections`` is ``(path, text)`` of the machine's connections file, merged over
    the project's connections.yaml key by key. ``files`` gives every file's bytes instead of
    reading the disk (the daemon keeps them in memory and re-reads only what changed);
    ``overlays`` replace single files (an editor's unsaved buffers). ``environment``: read the
    project in this environment of weir.yaml's (its connection keys merged over the others,
    its variables over the project's); one weir.yaml does not declare is an error.
    """
    overlays = overlays or {}
    diags: list[Diagnostic] = []
    if files is None:
        texts, diags = read_project_files(root)
    else:
        texts = dict(files)
    for f, overlay in overlays.items():
        texts[f] = overlay.encode()
    files_list = sorted(texts)

    def text_of(f: str) -> str | None:
        try:
            return texts[f].decode("utf-8")
        except UnicodeDecodeError:
            diags.append(Diagnostic(f, 0, "the file is not UTF-8 text", code="not-utf8"))
            return None

    if PROJECT_FILE not in texts:
        return None, [Diagnostic(PROJECT_FILE, 0, "weir.yaml is missing",
                                 code="missing-project-file",
                                 hint="run `weir init` or create weir.yaml with `name: …`")]
    config_text = text_of(PROJECT_FILE)
    config, d = parse_project_config(PROJECT_FILE, config_text or "")
    diags += d
    if config is None:
        return None, diags

    env = None
    if environment is not None:
        env = config.environments.get(environment)
        if env is None:
            diags.append(unknown_environment(PROJECT_FILE, environment, config.environments,
                                             config.environments_line or 1))
        else:
            config = replace(config, environment=environment, variables=frozen_map(
                {**config.variables, **(env.variables or {})}),
                executor=env.executor or config.executor,
                spark=env.spark.over(config.spark) if env.spark else config.spark)

    layers: list[tuple[str, str | ConnectionSpecs]] = []
    if "connections.yaml" in texts:
        layers.append(("connections.yaml", text_of("connections.yaml") or ""))
    if machine_connections is not None:
        layers.append(machine_connections)
    parsed = parse_connection_layers(layers)
    diags += parsed.diagnostics
    known = set(parsed.connections) | set(parsed.unusable) | {"local"}
    diags += _unknown_overrides(config, known)
    overrides = {name: spec for name, spec in (env.connections or {}).items()
                 if name in known or "type" in spec[1]} if env is not None else {}
    if overrides:  # (an override of an unknown connection is diagnosed above, once)
        if "local" not in parsed.connections and "local" not in parsed.unusable:
            layers.insert(0, ("connections.yaml", builtin_local_layer()))  # the built-in one
        parsed = parse_connection_layers(layers + [(PROJECT_FILE, overrides)])
        diags += [d for d in parsed.diagnostics if d.file == PROJECT_FILE]
    connections = parsed.connections
    connections.setdefault("local", builtin_local_connection())

    specs: dict[str, DatasetSpec] = {}
    # Names a file means to define but cannot, each with that file's error: reported there,
    # once, and not echoed as "unknown input" in every reader.
    lost: dict[str, Diagnostic] = {}
    for f in files_list:
        if not f.startswith(("datasets/", "folders/")) or not f.endswith((".yaml", ".yml")):
            continue
        name = Path(f).stem
        text = text_of(f)
        if text is None:
            lost.setdefault(name, diags[-1])
            continue
        spec, d = parse_dataset_file(f, name, text, folder=f.startswith("folders/"))
        diags += d
        if spec is None:
            lost.setdefault(name, _first_error(d) or Diagnostic(f, 0, "cannot be read",
                                                                code="unreadable-file"))
            continue
        if name in specs:
            diags.append(Diagnostic(f, 0, f"'{name}' is also defined in "
                                    f"{specs[name].location.file}",
                                    code="duplicate-definition", subject=f"dataset:{name}",
                                    hint="datasets and folders share one namespace: keep one "
                                    "file per name"))
            continue
        specs[name] = spec

    python_files: dict[str, PythonFile] = {}
    sql_recipes: list[Recipe] = []
    for f in files_list:
        if not f.startswith("recipes/"):
            continue
        raw = texts.get(f)
        if raw is None:
            continue
        digest = content_hash(raw)
        if f.endswith(".py"):
            cached = cache.decoded(f, digest, decode_python) if cache is not None else None
            if cached is not None:
                pf, d = cached
            else:
                text = text_of(f)
                if text is None:
                    continue
                pf, d = parse_python_file(f, text)
                if cache is not None:
                    cache.remember(f, digest, encode_python(pf, d), (pf, d))
            python_files[f] = pf
            cause = _first_error(d)
            for name in pf.lost:
                if cause is not None:
                    lost.setdefault(name, cause)
        else:
            cached = cache.decoded(f, digest, decode_sql) if cache is not None else None
            if cached is not None:
                recipe, d = cached
            else:
                text = text_of(f)
                if text is None:
                    lost.setdefault(Path(f).stem, diags[-1])
                    continue
                parse = parse_sql_file if f.endswith(".sql") else parse_r_file
                recipe, d = parse(f, Path(f).stem, text)
                if cache is not None:
                    cache.remember(f, digest, encode_sql(recipe, d), (recipe, d))
            if recipe is not None:
                sql_recipes.append(recipe)
            elif _first_error(d) is not None:
                lost.setdefault(Path(f).stem, _first_error(d))  # type: ignore[arg-type]
        diags += d
    if cache is not None:
        cache.retain({f for f in files_list if f.startswith("recipes/")})

    recipes = _link_project_modules(python_files) + sql_recipes
    project = _assemble(root, config, parsed, specs, recipes, texts, diags, lost)
    if project is not None:
        scenarios = _scenarios(files_list, text_of, diags)
        wrong = scenario_references(scenarios, project.datasets)
        diags += wrong
        # A scenario naming what is not there (or in a cycle) does not run until it is fixed.
        broken = {d.file for d in wrong}
        project = replace(project, scenarios=frozen_map(
            {n: s for n, s in scenarios.items() if s.file not in broken}))
    return project, _once(diags)


def _scenarios(files: list[str], text_of: Any, diags: list[Diagnostic]) -> dict[str, Scenario]:
    """Every scenario file that reads: a broken one is its diagnostics, the others run."""
    scenarios: dict[str, Scenario] = {}
    for f in files:
        if not f.startswith("scenarios/") or not f.endswith((".yaml", ".yml")):
            continue
        text = text_of(f)
        if text is None:
            continue
        name = Path(f).stem
        scenario, d = parse_scenario_file(f, name, text)
        diags += d
        if scenario is None:
            continue
        if name in scenarios:
            diags.append(Diagnostic(f, 0, f"scenario '{name}' is also defined in "
                                    f"{scenarios[name].file}", code="duplicate-definition",
                                    subject=f"scenario:{name}", hint="one file per scenario"))
            continue
        scenarios[name] = scenario
    return scenarios


def _link_project_modules(python_files: dict[str, PythonFile]) -> list[Recipe]:
    """Fold the code of project modules a recipe imports (transitively) into its code hash."""
    by_module: dict[str, PythonFile] = {}
    for f, pf in python_files.items():
        parts = f.split("/")[1:]  # drop "recipes/" (plain strings: this runs on every save)
        if len(parts) == 1:
            by_module[parts[0][:-3]] = pf  # "helpers.py" -> "helpers"
        elif len(parts) == 2 and parts[1] == "__init__.py":
            by_module[parts[0]] = pf
    recipes: list[Recipe] = []
    for pf in python_files.values():
        for recipe in pf.recipes:
            todo = list(pf.local_imports.get(recipe.id, ()))
            seen: set[str] = set()
            hashes = []
            while todo:
                m = todo.pop()
                if m in seen or m not in by_module:
                    continue
                seen.add(m)
                hashes.append(f"{m}:{by_module[m].module_hash}")
                todo.extend(by_module[m].module_imports)
            if hashes:
                recipe = replace(recipe, code_hash=_digest(recipe.code_hash, *sorted(hashes)))
            recipes.append(recipe)
    return recipes


def _assemble(root: Path, config: ProjectConfig, parsed: ConnectionLayers,
              specs: dict[str, DatasetSpec], recipes: list[Recipe], texts: Mapping[str, bytes],
              diags: list[Diagnostic], lost: dict[str, Diagnostic]) -> Project:
    connections = parsed.connections

    def source(file: str) -> str | None:
        raw = texts.get(file)
        return raw.decode("utf-8", "replace") if raw is not None else None

    def name_at(file: str, line: int, name: str, col: int | None = None) -> Span:
        """Where ``name`` stands on ``line``: at ``col`` when the parser said so (and the
        source agrees), else as a whole word of the line, else the whole line."""
        text = source(file)
        if col is not None and text is not None:
            lines = text.splitlines()
            if 0 < line <= len(lines) and lines[line - 1][col:col + len(name)] == name:
                return span(line, col, col + len(name))
        return name_on_line(text, line, name)

    # Each error is said once, where it is; ``broken`` remembers which datasets it makes
    # unusable, so the rest of the Flow keeps its fingerprints and statuses.
    broken: dict[str, Diagnostic] = {}
    errors_in = _errors_by_file(diags)
    for name, defined in specs.items():
        if defined.location.file in errors_in:
            broken[name] = errors_in[defined.location.file][0]
    recipe_errors: dict[str, Diagnostic] = {}
    for d in diags:
        if d.subject and d.subject.startswith("recipe:") and d.severity is Severity.ERROR:
            recipe_errors.setdefault(d.subject[len("recipe:"):], d)

    producers: dict[str, Recipe] = {}
    kept_recipes: dict[str, Recipe] = {}
    for recipe in sorted(recipes, key=lambda r: (r.file, r.line)):
        clash: Diagnostic | None = None
        for out in recipe.outputs:
            if out in producers:
                first = producers[out]
                clash = Diagnostic(
                    recipe.file,
                    message=f"dataset '{out}' is built by two recipes: here and {first.location}",
                    code="two-producers", subject=f"dataset:{out}",
                    hint="each dataset has one producer; rename one of the outputs",
                    **name_at(recipe.file, recipe.line, out))
                diags.append(clash)
                broken.setdefault(out, clash)
        if clash is not None:
            for out in recipe.outputs:
                if out not in producers:
                    lost.setdefault(out, clash)
            continue
        for out in recipe.outputs:
            producers[out] = recipe
        kept_recipes[recipe.id] = recipe
        cause = recipe_errors.get(recipe.id) or (
            errors_in[recipe.file][0] if recipe.kind is not RecipeKind.PYTHON
            and recipe.file in errors_in else None)
        if cause is not None:
            for out in recipe.outputs:
                broken.setdefault(out, cause)

    datasets: dict[str, Dataset] = {}
    for name in sorted(set(specs) | set(producers)):
        spec = specs.get(name)
        producer = producers.get(name)
        connection = (spec.connection if spec and spec.connection else None) \
            or config.default_connection
        conn = connections.get(connection)
        if conn is None:
            cause = parsed.unusable.get(connection) or parsed.unreadable
            if cause is None:
                if spec and spec.connection:
                    file, at = spec.location.file, spec.value_spans.get("connection") or \
                        whole_line(spec.key_lines.get("connection", 1))
                else:
                    file, at = "weir.yaml", config.default_connection_span
                best = closest(connection, connections)
                cause = Diagnostic(file, message=f"unknown connection '{connection}'",
                                   code="unknown-connection", subject=f"connection:{connection}",
                                   suggestion=best,
                                   hint=hint_for(best)
                                   or f"connections: {', '.join(sorted(connections))} "
                                   "(define more in connections.yaml)", **at)
                diags.append(cause)
            broken.setdefault(name, cause)
        holds_files = conn is None or conn.type in FILE_CONNECTION_TYPES
        if spec is not None and conn is not None:
            wrong = "table" if holds_files else "path"
            if getattr(spec, wrong) is not None:
                right = "path" if holds_files else "table"
                d = Diagnostic(spec.location.file,
                               message=f"`{wrong}` does not fit a {conn.type} connection",
                               code="key-does-not-fit", subject=f"key:{wrong}",
                               hint=f"datasets on '{conn.name}' take `{right}:`",
                               **_key_span(spec, wrong))
                diags.append(d)
                lost.setdefault(name, d)
                continue
            if not holds_files and spec.format is not None:
                d = Diagnostic(spec.location.file,
                               message=f"`format` does not fit a {conn.type} connection",
                               code="key-does-not-fit", subject="key:format",
                               hint="its datasets are tables; remove `format`",
                               **_key_span(spec, "format"))
                diags.append(d)
                broken.setdefault(name, d)
        given = (spec.path if holds_files else spec.table) if spec else None
        if spec is not None and producer is None and given is None:
            if name in lost:
                continue  # its recipe's file has an error, reported there
            best = closest(name, producers)
            key = "path" if holds_files else "table"
            d = Diagnostic(
                spec.location.file, 1,
                f"dataset '{name}' has no recipe building it and no `{key}` to its data",
                code="dataset-without-data", subject=f"dataset:{name}",
                hint=(f"a recipe builds '{best}': rename one of them"
                      if best else f"a source dataset needs `{key}:` (on its connection); a "
                      "recipe output is named by its function or file"))
            diags.append(d)
            lost.setdefault(name, d)
            continue
        is_folder = bool(spec and spec.folder) or bool(producer and name in
                                                        producer.folder_outputs)
        if producer and spec and (name in producer.folder_outputs) != spec.folder:
            d = Diagnostic(
                producer.file,
                message=f"'{name}' is a {'folder' if spec.folder else 'dataset'} "
                f"({spec.location.file}) but recipe '{producer.name}' writes it as a "
                f"{'dataset' if spec.folder else 'folder'}",
                code="output-kind-mismatch", subject=f"dataset:{name}",
                hint=("an R recipe writes a folder through an argument named after it and "
                      "returns a dataset's data" if producer.kind is RecipeKind.R else
                      "take a folder output as a parameter annotated weir.Folder; return a "
                      "dataset's data"), **name_at(producer.file, producer.line, name))
            diags.append(d)
            broken.setdefault(name, d)
        fmt: str
        if is_folder:
            if not holds_files:
                where = spec.location if spec else producer.location  # type: ignore[union-attr]
                d = Diagnostic(where.file, where.line,
                               f"folder '{name}' is on a connection that holds tables, not files",
                               code="folder-on-table-connection", subject=f"dataset:{name}",
                               hint="put folders on a filesystem or s3 connection")
                diags.append(d)
                lost.setdefault(name, d)
                continue
            fmt, path = "folder", given or f"{config.name}/{name}"
        elif holds_files:
            found = spec.format if spec and spec.format else None
            if given and found is None:
                found = EXTENSION_FORMATS.get(Path(given).suffix.lower())
            fmt = found or config.default_format
            # A partitioned dataset is a directory of partitions (the Hive layout).
            path = given or (f"{config.name}/{name}" if spec and spec.partitioning
                             else f"{config.name}/{name}.{FORMATS[fmt]}")
        else:
            fmt, path = "table", given or name
        tags = tuple(dict.fromkeys([*(spec.tags if spec else ()),
                                    *(producer.tags if producer else ())]))
        datasets[name] = Dataset(
            name=name, connection=connection, path=path, format=fmt,
            recipe=producer.id if producer else None, tags=tags, zone=spec.zone if spec else None,
            keep=spec.keep if spec else False, schema=spec.schema if spec else None,
            description=spec.description if spec else None,
            version_query=spec.version_query if spec else None,
            location=spec.location if spec else producer.location,  # type: ignore[union-attr]
            checks=spec.checks if spec else (),
            partitioning=spec.partitioning if spec else None,
            input_mappings=spec.input_mappings if spec else frozen_map({}))
    for name, cause in lost.items():
        if name in datasets:  # e.g. a recipe's output whose YAML does not parse
            broken.setdefault(name, cause)
    diags += _check_references(datasets)
    for name, d in check_partitioned(datasets, specs, producers):
        diags.append(d)
        broken.setdefault(name, d)

    for rid, recipe in list(kept_recipes.items()):
        if recipe.kind is RecipeKind.R:  # R has no annotations: a folder input is a path
            kept_recipes[rid] = replace(recipe, inputs=tuple(
                replace(i, interface=Interface.FOLDER) if i.name in datasets
                and datasets[i.name].is_folder else i for i in recipe.inputs))
    for recipe in kept_recipes.values():
        def invalid(cause: Diagnostic, recipe: Recipe = recipe) -> None:
            for out in recipe.outputs:
                broken.setdefault(out, cause)

        for inp in recipe.inputs:
            if inp.name not in datasets and inp.name in lost:
                invalid(lost[inp.name])  # its own file's error says what is wrong, once
            elif inp.name not in datasets:
                best = closest(inp.name, datasets)
                d = Diagnostic(
                    inp.location.file, message=f"unknown input '{inp.name}'",
                    code="unknown-input", subject=f"dataset:{inp.name}", suggestion=best,
                    hint=hint_for(best)
                    or "a dataset is a recipe's output or has a file in datasets/",
                    **name_at(inp.location.file, inp.location.line, inp.name, inp.col))
                diags.append(d)
                invalid(d)
            elif datasets[inp.name].is_folder != (inp.interface is Interface.FOLDER):
                folder = datasets[inp.name].is_folder
                d = Diagnostic(
                    inp.location.file,
                    message=f"'{inp.name}' is a {'managed folder' if folder else 'dataset'}, "
                    f"but the parameter is {'not ' if folder else ''}annotated weir.Folder",
                    code="input-kind-mismatch", subject=f"dataset:{inp.name}",
                    hint="annotate it `weir.Folder`" if folder else
                    "a dataset is handed over as a DataFrame, a Table, a relation or "
                    "weir.Dataset",
                    **name_at(inp.location.file, inp.location.line, inp.name, inp.col))
                diags.append(d)
                invalid(d)
        for variable in recipe.variables:
            if variable not in config.variables:
                at = whole_line(recipe.line)
                text = source(recipe.file)
                if text is not None:
                    if recipe.file.endswith(".sql"):
                        at = variable_span(text, variable)
                    elif recipe.kind is RecipeKind.R:
                        at = var_span(text, variable) or at
                    else:  # where var("…") names it, when that is in the recipe's own file
                        at = _var_call(text, variable) or at
                best = closest(variable, config.variables)
                d = Diagnostic(recipe.file, message=f"unknown variable '{variable}'",
                               code="unknown-variable", subject=f"variable:{variable}",
                               suggestion=best,
                               hint=hint_for(best) or "define it under `variables:` in weir.yaml",
                               **at)
                diags.append(d)
                invalid(d)
    return Project(root=str(root), config=config, connections=frozen_map(connections),
                   datasets=frozen_map(datasets), recipes=frozen_map(kept_recipes),
                   broken=frozen_map(broken))


def _key_span(spec: DatasetSpec, key: str) -> Span:
    return spec.key_spans.get(key) or whole_line(spec.key_lines.get(key, 1))


def _var_call(text: str, variable: str) -> Span | None:
    """The variable's name in the first ``var("…")`` that reads it."""
    call = re.search(r"""\bvar\(\s*["'](""" + re.escape(variable) + ")[\"']", text)
    if call is None:
        return None
    line_start = text.rfind("\n", 0, call.start(1)) + 1
    return span(text.count("\n", 0, call.start(1)) + 1, call.start(1) - line_start,
                call.end(1) - line_start)


def _first_error(diags: list[Diagnostic]) -> Diagnostic | None:
    return next((d for d in diags if d.severity is Severity.ERROR), None)


def _errors_by_file(diags: list[Diagnostic]) -> dict[str, list[Diagnostic]]:
    out: dict[str, list[Diagnostic]] = {}
    for d in diags:
        if d.severity is Severity.ERROR:
            out.setdefault(d.file, []).append(d)
    return out


def _once(diags: list[Diagnostic]) -> list[Diagnostic]:
    """The same error found from several places (a default connection that does not exist,
    seen by every dataset on it) is reported once."""
    return list(dict.fromkeys(diags))


def errors(diags: list[Diagnostic]) -> list[Diagnostic]:
    from weir.model.diagnostics import blocks_builds

    return [d for d in diags if blocks_builds(d)]


def _check_references(datasets: dict[str, Dataset]) -> list[Diagnostic]:
    """The columns and datasets the checks name, now that every dataset is known (a column is
    known where the dataset declares its schema)."""
    from weir.model.checks import check_references

    known = {n: [c.name for c in d.schema] if d.schema else None for n, d in datasets.items()}
    diags: list[Diagnostic] = []
    for name, ds in datasets.items():
        if ds.checks:
            diags += check_references(ds.location.file, name, ds.checks, known[name], known)
    return diags


def _unknown_overrides(config: ProjectConfig, known: set[str]) -> list[Diagnostic]:
    """An environment's override of a connection no connections file defines (a typo, most
    likely): unless it defines the whole connection itself (it has a `type`), it is an error in
    weir.yaml, whichever environment is chosen."""
    out = []
    for env in config.environments.values():
        for name, (line, keys) in (env.connections or {}).items():
            if name in known or "type" in keys:
                continue
            best = closest(name, known)
            out.append(Diagnostic(PROJECT_FILE, line, f"environment '{env.name}' overrides "
                                  f"connection '{name}', which no connections file defines",
                                  code="unknown-connection", subject=f"connection:{name}",
                                  suggestion=best, hint=hint_for(best) or "define it in "
                                  "connections.yaml, or give it a `type` and all its keys here"))
    return out
