"""Diagnostics carry structure, not only English: a stable code, what they are about, the name
that should replace the range, and the range itself — so no tool ever reads the message."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from weir.model.config_files import (parse_connection_layers, parse_dataset_file,
                                     parse_project_config)
from weir.model.diagnostics import Diagnostic, Severity
from weir.model.loader import load_project
from weir.model.parse_cache import ParseCache
from weir.model.python_recipes import parse_python_file
from weir.model.sql_recipes import parse_sql_file

from conftest import REPO, write_files


def documented_codes() -> set[str]:
    text = (REPO / "docs/project-format.md").read_text()
    table = text[text.index("| code | what it means |"):]
    return set(re.findall(r"^\| `([a-z0-9-]+)` \|", table, flags=re.MULTILINE))


def codes_in_source() -> set[str]:
    """Every ``code=`` given to a Diagnostic anywhere in weir and its language server."""
    found: set[str] = set()
    for path in [*(REPO / "daemon/weir").rglob("*.py"), *(REPO / "lsp/weir_lsp").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id == "Diagnostic":
                given = [k.value for k in node.keywords if k.arg == "code"] + node.args[3:4]
                found |= {c.value for value in given for c in ast.walk(value)
                          if isinstance(c, ast.Constant) and isinstance(c.value, str)}
            # A helper passing a code on (``code="…"``), or a file's reader saying a mistake
            # (``r.error(message, "code", where…)``).
            if isinstance(node, ast.Call):
                given = [k.value for k in node.keywords if k.arg == "code"]
                if isinstance(node.func, ast.Attribute) and node.func.attr == "error":
                    given += node.args[1:2]
                found |= {v.value for v in given if isinstance(v, ast.Constant)
                          and isinstance(v.value, str) and re.fullmatch(r"[a-z]+(-[a-z]+)+",
                                                                        v.value)}
    found.discard("")  # what a diagnostic from an older daemon, without a code, reads as
    return found


def test_every_code_is_documented_and_every_documented_code_exists() -> None:
    assert codes_in_source() == documented_codes()


def at(d: Diagnostic) -> tuple[int, int, int | None, int | None]:
    return d.line, d.col, d.end_line, d.end_col


def text_at(text: str, d: Diagnostic) -> str:
    """What the diagnostic's range covers in ``text`` (one line)."""
    assert d.end_line == d.line and d.end_col is not None, d
    return text.splitlines()[d.line - 1][d.col:d.end_col]


def test_a_projects_mistakes_have_codes_subjects_suggestions_and_the_names_range(
        tmp_path: Path) -> None:
    files = {
        "weir.yaml": "name: t\nvariables:\n  min_amount: 2\n",
        "datasets/src.yaml": "connection: landng\npath: s.csv\n",
        "datasets/lonely.yaml": "description: no path and no recipe\n",
        "connections.yaml": "connections:\n  landing:\n    type: filesystem\n    root: data\n",
        "recipes/a.py": "from weir import recipe, var\n\n@recipe\ndef a(srcc):\n"
                        "    return var('min_amont')\n",
        "recipes/q.sql": "select *\nfrom   srx where amount > $min_amout",
        "recipes/dup.sql": "select * from src",
        "recipes/z.py": "from weir import recipe\n\n@recipe\ndef dup(src):\n    return src\n",
    }
    write_files(tmp_path, files)
    _, diags = load_project(tmp_path)
    by_code = {(d.code, d.file): d for d in diags}
    assert {d.code for d in diags} <= documented_codes()

    d = by_code["unknown-input", "recipes/a.py"]
    assert (d.subject, d.suggestion) == ("dataset:srcc", "src")
    assert text_at(files["recipes/a.py"], d) == "srcc"
    d = by_code["unknown-input", "recipes/q.sql"]
    assert (d.subject, d.suggestion, at(d)) == ("dataset:srx", "src", (2, 7, 2, 10))
    d = by_code["unknown-variable", "recipes/a.py"]
    assert (d.subject, d.suggestion) == ("variable:min_amont", "min_amount")
    assert text_at(files["recipes/a.py"], d) == "min_amont"
    d = by_code["unknown-variable", "recipes/q.sql"]
    assert text_at(files["recipes/q.sql"], d) == "min_amout" and d.suggestion == "min_amount"
    d = by_code["unknown-connection", "datasets/src.yaml"]
    assert (d.subject, d.suggestion) == ("connection:landng", "landing")
    assert text_at(files["datasets/src.yaml"], d) == "landng"
    d = by_code["two-producers", "recipes/z.py"]
    assert d.subject == "dataset:dup" and d.suggestion is None
    assert text_at(files["recipes/z.py"], d) == "dup"
    d = by_code["dataset-without-data", "datasets/lonely.yaml"]
    assert (d.subject, d.suggestion) == ("dataset:lonely", None)
    # The people's words are as they were.
    assert by_code["unknown-input", "recipes/a.py"].message == "unknown input 'srcc'"
    assert by_code["unknown-input", "recipes/a.py"].hint == "did you mean 'src'?"


def test_the_default_connection_and_yaml_values_are_underlined_exactly() -> None:
    text = "name: t\ndefault_connection: 'landng'\ndefault_format: parqet\nvaribles: x\n"
    _, diags = parse_project_config("weir.yaml", text)
    by_code = {d.code: d for d in diags}
    d = by_code["unknown-format"]
    assert (d.subject, d.suggestion, text_at(text, d)) == ("key:default_format", "parquet",
                                                           "parqet")
    d = by_code["unknown-key"]
    assert (d.subject, d.suggestion, text_at(text, d)) == ("key:varibles", "variables",
                                                           "varibles")
    # The loader checks the connection; inside the quotes, so a quick fix keeps them.
    config, _ = parse_project_config("weir.yaml", "name: t\ndefault_connection: 'landng'\n")
    assert config is not None and config.default_connection_span == {
        "line": 2, "col": 21, "end_line": 2, "end_col": 27}

    text = "path: ../x.csv\nformat: parket\nkeep: maybe\ntags: 3\npath: again\n"
    _, diags = parse_dataset_file("datasets/x.yaml", "x", text)
    assert [(d.code, d.subject, at(d)) for d in diags] == [
        ("duplicate-key", "key:path", (5, 0, 5, 4))]
    _, diags = parse_dataset_file("datasets/x.yaml", "x", text[:text.index("path: again")])
    assert [(d.code, d.subject, d.suggestion, text_at(text, d)) for d in diags] == [
        ("unknown-format", "key:format", "parquet", "parket"),
        ("path-outside-root", "key:path", None, "../x.csv"),
        ("invalid-value", "key:tags", None, "3"),
        ("invalid-value", "key:keep", None, "maybe")]
    _, diags = parse_dataset_file("datasets/x.yaml", "x", "path: [unclosed\n")
    assert diags[0].code == "yaml-syntax"

    layers = [("connections.yaml", "connections:\n  wh:\n    type: filesytem\n    root: a\n"
               "  pg:\n    type: postgresql\n    host: h\n    database: d\n    pasword: x\n"
               "    password: secret\n")]
    diags = parse_connection_layers(layers).diagnostics
    found = {(d.code, d.subject, d.suggestion, text_at(layers[0][1], d), d.severity)
             for d in diags}
    assert found == {
        ("unknown-connection-type", "connection:wh", "filesystem", "filesytem", Severity.ERROR),
        ("unknown-key", "key:pasword", "password", "pasword", Severity.ERROR),
        ("secret-in-project", "connection:pg", None, "secret", Severity.WARNING)}


def test_python_and_sql_recipe_mistakes() -> None:
    text = ('from weir import recipe, var\n\n@recipe(output=["x"], retries="2")\n'
            "def b(x: int, *rest):\n    return var(name)\n\n"
            "@recipe\nasync def c(y):\n    return y\n")
    _, diags = parse_python_file("recipes/r.py", text)
    found = sorted((d.line, d.col, d.code, d.subject, d.suggestion, text_at(text, d))
                   for d in diags)
    assert [f[2:] for f in found] == [
        ("unknown-argument", "recipe:recipes/r.py:b", "outputs", "output"),
        ("not-literal", "recipe:recipes/r.py:b", None, '"2"'),
        ("unsupported-annotation", "recipe:recipes/r.py:b", None, "int"),
        ("variadic-recipe", "recipe:recipes/r.py:b", None, "rest"),
        ("not-literal", "recipe:recipes/r.py:b", None, "var(name)"),
        ("async-recipe", "recipe:recipes/r.py:c", None, "c")]
    _, diags = parse_python_file("recipes/r.py", "def f(:\n")
    assert [(d.code, d.line) for d in diags] == [("python-syntax", 1)]
    for query, code in [("select * from (", "sql-syntax"), ("select 'x", "sql-syntax"),
                        ("", "sql-empty"), ("select 1; select 2", "sql-not-one-query"),
                        ("delete from t", "sql-not-a-query")]:
        _, diags = parse_sql_file("recipes/r.sql", "r", query)
        assert [(d.code, d.subject) for d in diags] == [(code, "recipe:recipes/r.sql")], query


def test_columns_count_characters_not_bytes(tmp_path: Path) -> None:
    """``ast`` counts UTF-8 bytes; an editor underlines characters."""
    text = ("from weir import recipe\n\n@recipe\n"
            "def out(café, srcc):  # é is two bytes\n    return srcc\n")
    write_files(tmp_path, {"weir.yaml": "name: t\n", "datasets/src.yaml": "path: s.csv\n",
                           "datasets/café.yaml": "path: c.csv\n", "recipes/r.py": text})
    _, diags = load_project(tmp_path)
    d = next(d for d in diags if d.code == "unknown-input")
    assert text_at(text, d) == "srcc"


def test_the_parse_cache_keeps_every_field(tmp_path: Path) -> None:
    write_files(tmp_path, {"weir.yaml": "name: t\n", "datasets/src.yaml": "path: s.csv\n",
                           "recipes/r.py": "from weir import recipe\n\n@recipe(retris=2)\n"
                                           "def out(srcc):\n    return srcc\n",
                           "recipes/q.sql": "select * from src where"})
    cache_path = tmp_path / ".weir/cache/flow.msgpack"
    cache = ParseCache(cache_path)
    fresh_project, fresh = load_project(tmp_path, cache=cache)
    cache.save()
    cached_project, cached = load_project(tmp_path, cache=ParseCache(cache_path))
    assert cached == fresh and {d.code for d in cached} == {
        "unknown-argument", "unknown-input", "sql-syntax"}
    assert fresh_project is not None and cached_project is not None
    assert cached_project.recipes == fresh_project.recipes  # inputs keep their columns


def test_the_wire_form_carries_every_field() -> None:
    d = Diagnostic("recipes/a.py", 4, "unknown input 'srcc'", "unknown-input",
                   hint="did you mean 'src'?", col=6, end_line=4, end_col=10,
                   subject="dataset:srcc", suggestion="src")
    assert d.to_json() == {"file": "recipes/a.py", "line": 4, "col": 6, "end_line": 4,
                           "end_col": 10, "code": "unknown-input", "subject": "dataset:srcc",
                           "suggestion": "src", "message": "unknown input 'srcc'",
                           "hint": "did you mean 'src'?", "severity": "error"}
    assert Diagnostic.from_json(d.to_json()) == d
    # What a daemon of an older weir sends still reads.
    old = Diagnostic.from_json({"file": "weir.yaml", "line": 2, "message": "m", "hint": None,
                                "severity": "warning"})
    assert (old.code, old.col, old.end_col, old.severity) == ("", 0, None, Severity.WARNING)
