"""Reading Python recipe files with ``ast``: which functions are recipes, their inputs and outputs.

User code is never imported here: the Flow must be known instantly, safely, and even when the code
would not run. A recipe's ``code_hash`` covers the function and the module-level code it uses
(helpers, constants, imports), normalised so comments, docstrings and formatting do not count.
"""

from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import dataclass, replace

from weir.model.diagnostics import Diagnostic, Span, name_on_line, span
from weir.model.project import Interface, Location, Recipe, RecipeInput, RecipeKind
from weir.model.suggest import closest, hint_for

INTERFACES: dict[str, Interface] = {
    "pandas.DataFrame": Interface.PANDAS,
    "pandas.core.frame.DataFrame": Interface.PANDAS,
    "pyarrow.Table": Interface.ARROW,
    "pyarrow.lib.Table": Interface.ARROW,
    "polars.DataFrame": Interface.POLARS,
    "duckdb.DuckDBPyRelation": Interface.DUCKDB,
    "weir.Dataset": Interface.DATASET,
    "weir.dataset_api.Dataset": Interface.DATASET,
    "weir.Folder": Interface.FOLDER,
    "weir.folder_api.Folder": Interface.FOLDER,
    "pyspark.sql.DataFrame": Interface.SPARK,
    "pyspark.sql.dataframe.DataFrame": Interface.SPARK,
    "pyspark.sql.classic.dataframe.DataFrame": Interface.SPARK,  # Spark 4's own class
}
# A parameter annotated so takes the partition the job builds (as weir.partition() says it).
PARTITION_TYPES = {"weir.Partition", "weir.model.partitions.Partition"}
SUPPORTED = ("pandas.DataFrame, pyarrow.Table, polars.DataFrame, duckdb.DuckDBPyRelation, "
             "pyspark.sql.DataFrame or weir.Dataset")
DECORATOR_ARGS = ("outputs", "tags", "retries")


@dataclass(frozen=True)
class PythonFile:
    """What one recipe file holds. ``recipes`` carry a code hash of this file only; the loader
    folds in the hashes of the project modules listed in ``local_imports``."""

    recipes: tuple[Recipe, ...]
    local_imports: dict[str, tuple[str, ...]]  # recipe id -> project modules it imports
    module_hash: str  # the whole file, normalised: used when another recipe imports this module
    module_imports: tuple[str, ...] = ()  # every top-level module this file imports
    # Outputs this file means to define but cannot (a syntax error, an async recipe): readers
    # of them are invalid because of this file's error, not each told "unknown input".
    lost: tuple[str, ...] = ()


def _strip_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[1:]
    return body


class _DocstringStripper(ast.NodeTransformer):
    def _strip(self, node: ast.AST) -> ast.AST:
        self.generic_visit(node)
        body = _strip_docstring(node.body)  # type: ignore[attr-defined]
        node.body = body or [ast.Pass()]  # type: ignore[attr-defined]
        return node

    # The module's own docstring is kept here so statement indices match the original tree.
    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _strip


class _Dumps:
    """A statement's normalised text (what its code hash is made of), made once per
    statement: the module's hash and every recipe that uses the statement share it."""

    def __init__(self) -> None:
        self._seen: dict[int, tuple[ast.AST, str]] = {}

    def __call__(self, node: ast.AST) -> str:
        hit = self._seen.get(id(node))
        if hit is None:
            hit = (node, ast.dump(node, annotate_fields=False, include_attributes=False))
            self._seen[id(node)] = hit  # the node is kept, so its id is not reused
        return hit[1]


def _digest(*parts: str) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


class _Source:
    """The file's lines, to turn ``ast``'s columns (UTF-8 bytes) into the characters a
    diagnostic's range counts."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines()

    def col(self, lineno: int, byte_col: int) -> int:
        line = self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else ""
        if line.isascii():
            return byte_col
        return len(line.encode()[:byte_col].decode(errors="ignore"))

    def node(self, node: ast.expr | ast.arg | ast.keyword) -> Span:
        end_line = node.end_lineno or node.lineno
        return span(node.lineno, self.col(node.lineno, node.col_offset),
                    self.col(end_line, node.end_col_offset or node.col_offset), end_line)

    def name(self, node: ast.arg | ast.keyword, name: str) -> Span:
        """A parameter's or keyword's name (the node also spans its annotation or value)."""
        col = self.col(node.lineno, node.col_offset)
        return span(node.lineno, col, col + len(name))

    def definition(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> Span:
        return name_on_line(self.text, fn.lineno, fn.name)


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


class _Module:
    """Module-level names: where each is defined, and what imports stand for."""

    def __init__(self, tree: ast.Module) -> None:
        self.aliases: dict[str, str] = {}  # local name -> fully qualified name
        self.definitions: dict[str, list[ast.stmt]] = {}
        self.import_modules: dict[str, str] = {}  # local name -> top-level module imported
        for stmt in tree.body:
            for name in self._names_defined(stmt):
                self.definitions.setdefault(name, []).append(stmt)

    def _names_defined(self, stmt: ast.stmt) -> list[str]:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return [stmt.name]
        if isinstance(stmt, ast.Import):
            names = []
            for a in stmt.names:
                local = a.asname or a.name.split(".")[0]
                self.aliases[local] = a.name if a.asname else a.name.split(".")[0]
                self.import_modules[local] = a.name.split(".")[0]
                names.append(local)
            return names
        if isinstance(stmt, ast.ImportFrom):
            names = []
            for a in stmt.names:
                local = a.asname or a.name
                if stmt.module and not stmt.level:
                    self.aliases[local] = f"{stmt.module}.{a.name}"
                    self.import_modules[local] = stmt.module.split(".")[0]
                names.append(local)
            return names
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        return []

    def resolve(self, node: ast.AST) -> str | None:
        """``pd.DataFrame`` -> ``pandas.DataFrame`` using this module's imports."""
        dotted = _dotted(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        full = self.aliases.get(head, head)
        return f"{full}.{rest}" if rest else full


def _is_recipe_decorator(module: _Module, node: ast.expr) -> ast.Call | bool:
    target = node.func if isinstance(node, ast.Call) else node
    name = module.resolve(target)
    if name in ("weir.recipe", "recipe"):
        return node if isinstance(node, ast.Call) else True
    return False


def _names_used(nodes: list[ast.AST]) -> set[str]:
    """Names a statement reads from outside itself: a function's parameters and the names it
    assigns are its own (so a parameter that shares a helper's name does not pull the helper in).
    """
    used: set[str] = set()
    for node in nodes:
        local: set[str] = set()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            local = {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs,
                                     *([a.vararg] if a.vararg else []),
                                     *([a.kwarg] if a.kwarg else [])]}
            local |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name)
                      and isinstance(n.ctx, ast.Store)}
            if not isinstance(node, ast.Lambda):
                # decorators and annotations are evaluated outside the function's scope
                outer = [*node.decorator_list, *(x.annotation for x in
                                                 [*a.posonlyargs, *a.args, *a.kwonlyargs]
                                                 if x.annotation)]
                used |= {n.id for o in outer for n in ast.walk(o) if isinstance(n, ast.Name)}
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) and sub.id not in local:
                used.add(sub.id)
    return used


def parse_python_file(file: str, text: str) -> tuple[PythonFile, list[Diagnostic]]:
    """Find the ``@recipe`` functions of one file. Never raises on bad user code."""
    try:
        tree = ast.parse(text, filename=file)
    except SyntaxError as exc:
        return PythonFile((), {}, "", lost=names_defined_loosely(text)), [Diagnostic(
            file, exc.lineno or 0, f"Python syntax error: {exc.msg}", code="python-syntax",
            hint="fix the syntax; the rest of the Flow is still known",
            col=max((exc.offset or 1) - 1, 0))]
    except ValueError as exc:  # e.g. null bytes
        return PythonFile((), {}, "", lost=names_defined_loosely(text)), [
            Diagnostic(file, 0, f"cannot parse: {exc}", code="python-syntax")]
    src = _Source(text)
    module = _Module(tree)
    # Docstrings go in place: they hold no names, calls or parameters, and every node left
    # keeps its position, so one tree serves both reading the recipes and hashing their code.
    _DocstringStripper().visit(tree)
    dumps = _Dumps()
    module_hash = _digest(*(dumps(stmt) for stmt in _strip_docstring(tree.body)))
    diags: list[Diagnostic] = []
    recipes: list[Recipe] = []
    local_imports: dict[str, tuple[str, ...]] = {}
    lost: list[str] = []
    for stmt in tree.body:
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        decorator = next((d for d in stmt.decorator_list if _is_recipe_decorator(module, d)), None)
        if decorator is None:
            continue
        if isinstance(stmt, ast.AsyncFunctionDef):
            diags.append(Diagnostic(file, message=f"recipe '{stmt.name}' is async",
                                    code="async-recipe", subject=f"recipe:{file}:{stmt.name}",
                                    hint="recipes are plain functions: remove `async`",
                                    **src.definition(stmt)))
            lost.append(stmt.name)
            continue
        recipe, uses, d = _read_recipe(file, src, stmt, decorator, module, dumps)
        diags += [replace(x, subject=f"recipe:{file}:{stmt.name}") for x in d]
        if recipe is not None:
            recipes.append(recipe)
            local_imports[recipe.id] = tuple(sorted(uses))
    return PythonFile(tuple(recipes), local_imports, module_hash,
                      tuple(sorted(set(module.import_modules.values()))), tuple(lost)), diags


_DEF = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)", re.M)
_OUTPUTS = re.compile(r"outputs\s*=\s*[\[(]([^\])]*)[\])]")
_STRING = re.compile(r"""["']([A-Za-z_]\w*)["']""")


def names_defined_loosely(text: str) -> tuple[str, ...]:
    """The outputs a file that does not parse probably defines: its function names and the
    names in ``outputs=[…]``. Only used to tell a reader of one of them that the problem is in
    this file, so a guess too many costs nothing."""
    names = set(_DEF.findall(text))
    for listed in _OUTPUTS.findall(text):
        names.update(_STRING.findall(listed))
    return tuple(sorted(names))


def _literal_strings(file: str, src: _Source, node: ast.expr, what: str,
                     diags: list[Diagnostic]) -> tuple[str, ...] | None:
    if isinstance(node, (ast.List, ast.Tuple)) and all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
        return tuple(e.value for e in node.elts)  # type: ignore[attr-defined]
    diags.append(Diagnostic(file, message=f"`{what}` must be a list of names written out",
                            code="not-literal",
                            hint=f'e.g. {what}=["train", "test"]; weir reads it without running '
                            "your code", **src.node(node)))
    return None


def _read_recipe(file: str, src: _Source, fn: ast.FunctionDef, decorator: ast.expr,
                 module: _Module, dumps: _Dumps
                 ) -> tuple[Recipe | None, set[str], list[Diagnostic]]:
    diags: list[Diagnostic] = []
    outputs: tuple[str, ...] = (fn.name,)
    outputs_at = src.definition(fn)
    tags: tuple[str, ...] = ()
    retries = 0
    if isinstance(decorator, ast.Call):
        if decorator.args:
            diags.append(Diagnostic(file, message="@recipe takes keyword arguments only",
                                    code="positional-argument",
                                    hint='e.g. @recipe(outputs=["train", "test"])',
                                    **src.node(decorator.args[0])))
        for kw in decorator.keywords:
            if kw.arg == "outputs":
                outputs = _literal_strings(file, src, kw.value, "outputs", diags) or outputs
                outputs_at = src.node(kw.value)
            elif kw.arg == "tags":
                tags = _literal_strings(file, src, kw.value, "tags", diags) or ()
            elif kw.arg == "retries":
                if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, int) \
                        and kw.value.value >= 0:
                    retries = kw.value.value
                else:
                    diags.append(Diagnostic(file, message="`retries` must be a whole number "
                                            "written out", code="not-literal",
                                            **src.node(kw.value)))
            else:
                best = closest(kw.arg, DECORATOR_ARGS) if kw.arg else None
                diags.append(Diagnostic(file, message=f"@recipe has no argument '{kw.arg}'",
                                        code="unknown-argument", suggestion=best,
                                        hint=hint_for(best)
                                        or f"arguments: {', '.join(DECORATOR_ARGS)}",
                                        **(src.name(kw, kw.arg) if kw.arg else src.node(kw))))
    args = fn.args
    if args.vararg or args.kwarg:
        star = args.vararg or args.kwarg
        assert star is not None
        diags.append(Diagnostic(file, message=f"recipe '{fn.name}' takes *args or **kwargs",
                                code="variadic-recipe",
                                hint="name each input dataset as a parameter",
                                **src.name(star, star.arg)))
    inputs: list[RecipeInput] = []
    folder_outputs: list[str] = []
    partition_parameter: str | None = None
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
        if arg.arg in outputs:
            if arg.annotation is not None and INTERFACES.get(
                    module.resolve(arg.annotation) or "") is Interface.FOLDER:
                folder_outputs.append(arg.arg)  # a writable folder handle
                continue
            diags.append(Diagnostic(file, message=f"parameter '{arg.arg}' is also an output",
                                    code="parameter-is-output",
                                    hint="return a dataset's data; only a managed folder is "
                                    "taken as a parameter (annotate it weir.Folder)",
                                    **src.name(arg, arg.arg)))
            continue
        interface = Interface.PANDAS
        if arg.annotation is not None:
            annotation = arg.annotation
            if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
                try:
                    annotation = ast.parse(annotation.value, mode="eval").body
                except SyntaxError:
                    pass
            resolved = module.resolve(annotation)
            if resolved in PARTITION_TYPES:  # the partition being built, not an input
                if partition_parameter is not None:
                    diags.append(Diagnostic(
                        file, message=f"recipe '{fn.name}' takes the partition twice "
                        f"('{partition_parameter}' and '{arg.arg}')",
                        code="duplicate-parameter", hint="one weir.Partition parameter is enough",
                        **src.name(arg, arg.arg)))
                partition_parameter = arg.arg
                continue
            found = INTERFACES.get(resolved or "")
            if found is None:
                diags.append(Diagnostic(
                    file, message=f"input '{arg.arg}' has an annotation weir cannot hand data "
                    f"as: {ast.unparse(arg.annotation)}", code="unsupported-annotation",
                    hint=f"use {SUPPORTED}, or no annotation for pandas",
                    **src.node(arg.annotation)))
            else:
                interface = found
        inputs.append(RecipeInput(arg.arg, interface, Location(file, arg.lineno),
                                  src.col(arg.lineno, arg.col_offset)))
    # The code this recipe depends on: its own body and, transitively, the module-level
    # definitions it names. Other recipes in the same file do not count.
    seen: set[str] = set()
    parts = [dumps(fn)]
    project_modules: set[str] = set()
    variables: set[str] = set()
    queue = [fn]
    frontier = list(_names_used([fn]))
    while frontier:
        name = frontier.pop()
        if name in seen or name == fn.name:
            continue
        seen.add(name)
        if name in module.import_modules:
            project_modules.add(module.import_modules[name])
        for stmt in module.definitions.get(name, ()):
            parts.append(dumps(stmt))
            frontier.extend(_names_used([stmt]))
            if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
                queue.append(stmt)  # type: ignore[arg-type]
    for node in queue:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call) and module.resolve(sub.func) in ("weir.var", "var"):
                if sub.args and isinstance(sub.args[0], ast.Constant) \
                        and isinstance(sub.args[0].value, str):
                    variables.add(sub.args[0].value)
                else:
                    diags.append(Diagnostic(file, message="var() needs the variable's name "
                                            "written out", code="not-literal",
                                            hint='e.g. var("min_order_value"), so weir knows '
                                            "which recipes read it", **src.node(sub)))
    recipe = Recipe(name=fn.name, kind=RecipeKind.PYTHON, file=file, line=fn.lineno,
                    inputs=tuple(inputs), outputs=outputs, code_hash=_digest(*sorted(parts)),
                    variables=tuple(sorted(variables)), retries=retries, tags=tags,
                    folder_outputs=tuple(folder_outputs),
                    partition_parameter=partition_parameter)
    if len(set(outputs)) != len(outputs):
        diags.append(Diagnostic(file, message=f"recipe '{fn.name}' lists an output twice",
                                code="duplicate-output", **outputs_at))
    return recipe, project_modules, diags
