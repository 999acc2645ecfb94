"""Architecture invariants: the core imports no I/O framework and `import weir` stays light."""

import subprocess
import sys

HEAVY = ["pandas", "pyarrow", "duckdb", "rich", "git", "watchdog", "apscheduler", "pygls",
         "fastapi", "polars"]


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    return set(out.split())


def test_model_and_flow_import_no_io_framework() -> None:
    loaded = _loaded_after("import weir.model.loader, weir.flow.plan, weir.flow.status")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_import_weir_is_light_for_recipes_and_cli() -> None:
    loaded = _loaded_after("import weir, weir.cli.main, weir.workspace")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


# -- who may import whom ------------------------------------------------------------------------
# Read from the source with `ast`, so an import inside a function (the lazy imports that keep
# start-up fast) counts as much as one at the top of a module.

import ast  # noqa: E402
from pathlib import Path  # noqa: E402

PACKAGES = {"weir": Path(__file__).resolve().parent.parent / "daemon" / "weir",
            "weir_lsp": Path(__file__).resolve().parent.parent / "lsp" / "weir_lsp"}


def _modules() -> dict[str, Path]:
    found = {}
    for top, base in PACKAGES.items():
        for path in base.rglob("*.py"):
            parts = path.relative_to(base).with_suffix("").parts
            name = ".".join((top, *parts))
            found[name.removesuffix(".__init__")] = path
    return found


def _imports(name: str, path: Path) -> set[str]:
    """The weir modules ``name`` imports anywhere in its file."""
    out: set[str] = set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    known = _modules()
    return {m for m in out if m in known and m != name}


def _offenders(importer: str, forbidden: tuple[str, ...]) -> list[str]:
    def under(module: str, prefix: str) -> bool:
        return module == prefix or module.startswith(prefix + ".")

    return sorted(f"{name} imports {dep}" for name, path in _modules().items()
                  if under(name, importer)
                  for dep in _imports(name, path) if any(under(dep, f) for f in forbidden))


def test_the_daemon_knows_nothing_of_the_cli() -> None:
    assert _offenders("weir.server", ("weir.cli",)) == []


def test_the_client_knows_nothing_of_the_daemon_or_the_model() -> None:
    assert _offenders("weir.client", ("weir.server", "weir.model", "weir.flow", "weir.build",
                                      "weir.cli", "weir.storage")) == []
    loaded = _loaded_after("import weir.client")
    assert not {m for m in loaded for p in ("weir.server", "weir.model", "weir.cli")
                if m == p or m.startswith(p + ".")}


def test_the_wire_format_is_a_leaf() -> None:
    assert _imports("weir.wire", _modules()["weir.wire"]) == set()
    # And only the standard library: a scheduler importing weir.client pays for nothing else.
    tree = ast.parse(_modules()["weir.wire"].read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
                for a in n.names} | {n.module.split(".")[0] for n in ast.walk(tree)
                                     if isinstance(n, ast.ImportFrom) and n.module}
    assert imported - {"__future__"} <= set(sys.stdlib_module_names), imported


def test_cli_commands_do_not_import_each_other() -> None:
    commands = [m for m in _modules() if m.startswith("weir.cli.commands.")]
    crossing = sorted(f"{a} imports {b}" for a in commands
                      for b in _imports(a, _modules()[a]) if b in commands)
    assert crossing == []


def test_the_core_knows_nothing_of_the_front_ends() -> None:
    front = ("weir.server", "weir.cli", "weir.client", "weir_lsp", "weir.build", "weir.storage",
             "weir.workspace")
    assert _offenders("weir.model", front) == []
    assert _offenders("weir.flow", front) == []


# -- the invariants ARCHITECTURE.md states, where a test can check them --------------------------

IO_MODULES = {"os", "io", "shutil", "tempfile", "subprocess", "socket", "sqlite3", "pathlib",
              "time", "random", "urllib", "http", "threading", "multiprocessing"}
# datetime is calendar arithmetic (partitions need it) until something asks it the time.
CLOCK_CALLS = {"now", "today", "utcnow", "fromtimestamp", "utcfromtimestamp"}


def _reads_clock(path: Path) -> list[int]:
    return [n.lineno for n in ast.walk(ast.parse(path.read_text()))
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
            and n.func.attr in CLOCK_CALLS]


def _stdlib_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return ({a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
             for a in n.names}
            | {n.module.split(".")[0] for n in ast.walk(tree)
               if isinstance(n, ast.ImportFrom) and n.module and not n.level})


def _calls(path: Path, function: str) -> list[int]:
    return [n.lineno for n in ast.walk(ast.parse(path.read_text()))
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == function]


def test_the_flow_does_no_io_and_reads_no_clock() -> None:
    """weir.flow: pure functions; what the disk or the clock knows comes in as arguments."""
    for name, path in _modules().items():
        if name.startswith("weir.flow"):
            assert not _stdlib_imports(path) & IO_MODULES, (name, _stdlib_imports(path))
            assert not _calls(path, "open"), name
            assert not _reads_clock(path), name


def test_the_model_reads_only_project_files_and_its_parse_cache() -> None:
    readers = {"weir.model.loader", "weir.model.parse_cache"}
    for name, path in _modules().items():
        if name.startswith("weir.model") and name not in readers:
            assert not _stdlib_imports(path) & IO_MODULES, (name, _stdlib_imports(path))
            assert not _calls(path, "open"), name
            assert not _reads_clock(path), name


def test_only_the_parent_writes_the_state_store() -> None:
    """A worker stages outputs; committing them and recording builds is the parent's."""
    workers = [m for m in _modules() if m.startswith("weir.build.worker")
               or m == "weir.build.forkserver"]
    assert workers
    for name in workers:
        assert not {d for d in _imports(name, _modules()[name])
                    if d in ("weir.build.state", "weir.build.runner")}, name


def test_library_code_never_prints() -> None:
    """Only the CLI writes to the terminal. (A worker's stdout is its job's log, which is what
    the recipe prints into; its own lines there say where the job is.)"""
    allowed = ("weir.cli", "weir.build.worker")
    printing = sorted(f"{name}:{line}" for name, path in _modules().items()
                      if not name.startswith(allowed) for line in _calls(path, "print"))
    assert printing == []


# -- no import circles ----------------------------------------------------------------------------
import graphlib  # noqa: E402


def _imports_that_run(name: str, path: Path) -> set[str]:
    """The weir modules ``name`` imports when it runs — at its top or in a function — leaving
    out what is imported only for type checkers (a class may name its owner's type) and
    counting ``from package import module`` as an import of that module alone (Python sets up
    the package either way)."""
    known = _modules()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(), filename=str(path))
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and ast.unparse(block.test).endswith("TYPE_CHECKING")
                   for n in ast.walk(block)}
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            for a in node.names:
                out.add(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base)
    return {m for m in out if m in known and m != name}


def test_no_module_imports_back_one_that_imports_it() -> None:
    """Import circles tie modules into one: none can be read, tested or moved without the
    others, and which half-initialised module wins depends on who is imported first."""
    graph = {name: _imports_that_run(name, path) for name, path in _modules().items()}
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        raise AssertionError(f"import circle: {' -> '.join(reversed(exc.args[1]))}") from None


def test_pyspark_is_imported_only_by_a_spark_job() -> None:
    """The build's parent and the forkserver's preload (the worker module) never load pyspark:
    a machine without it builds everything else, and no worker pays for it unasked."""
    loaded = _loaded_after("import weir.build.runner, weir.build.worker")
    assert not {m for m in loaded if m.split(".")[0] in ("pyspark", "py4j")}
