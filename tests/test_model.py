"""Parsing project files: recipes found without importing them, and every mistake at file:line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from weir.model.config_files import (parse_connection_layers, parse_dataset_file,
                                     parse_project_config)
from weir.model.loader import load_project
from weir.model.parse_cache import ParseCache
from weir.model.project import Interface
from weir.model.python_recipes import parse_python_file
from weir.model.sql_recipes import engine_error, parse_sql_file

from conftest import write_files


def py(text: str):
    pf, diags = parse_python_file("recipes/r.py", textwrap.dedent(text).lstrip("\n"))
    return {r.name: r for r in pf.recipes}, diags


def test_python_recipe_inputs_outputs_and_interfaces() -> None:
    recipes, diags = py('''
        import pandas as pd
        import pyarrow as pa
        import polars as pl
        import duckdb
        from weir import recipe

        @recipe
        def out(a, b: pd.DataFrame, c: pa.Table, d: pl.DataFrame, e: duckdb.DuckDBPyRelation):
            return a

        @recipe(outputs=["train", "test"], tags=["ml"], retries=2)
        def split(out: "pa.Table"):
            return {}

        def not_a_recipe(x):
            return x
        ''')
    assert diags == []
    assert set(recipes) == {"out", "split"}
    r = recipes["out"]
    assert r.outputs == ("out",)
    assert [(i.name, i.interface) for i in r.inputs] == [
        ("a", Interface.PANDAS), ("b", Interface.PANDAS), ("c", Interface.ARROW),
        ("d", Interface.POLARS), ("e", Interface.DUCKDB)]
    s = recipes["split"]
    assert s.outputs == ("train", "test") and s.tags == ("ml",) and s.retries == 2
    assert s.inputs[0].interface is Interface.ARROW
    assert s.line == 12


def test_python_recipe_mistakes_are_diagnostics_with_lines() -> None:
    _, diags = py('''
        from weir import recipe, var

        @recipe(outputs=names)
        def a(x: int, *rest):
            return var(some_name)

        @recipe(output=["x"])
        def b(x):
            return x
        ''')
    messages = {(d.line, d.message.split(":")[0]) for d in diags}
    assert (3, "`outputs` must be a list of names written out") in messages
    assert any(d.line == 4 and "cannot hand data as" in d.message for d in diags)
    assert any(d.line == 4 and "*args" in d.message for d in diags)
    assert any(d.line == 5 and "var() needs" in d.message for d in diags)
    b = next(d for d in diags if "has no argument 'output'" in d.message)
    assert b.line == 7 and b.hint == "did you mean 'outputs'?"


def test_python_syntax_error_is_reported_not_raised() -> None:
    recipes, diags = py("from weir import recipe\n\n@recipe\ndef f(:\n    pass\n")
    assert recipes == {}
    assert len(diags) == 1 and diags[0].line == 4 and "syntax error" in diags[0].message


BASE = '''
import pandas as pd
from weir import recipe, var

LIMIT = 3

def helper(df):
    return df.head(LIMIT)

@recipe
def a(x):
    """Docs."""
    return helper(x)  # trailing comment

@recipe
def b(x):
    return x
'''


def hashes(text: str) -> dict[str, str]:
    recipes, diags = py(text)
    assert diags == []
    return {n: r.code_hash for n, r in recipes.items()}


def test_comments_whitespace_and_docstrings_do_not_change_the_hash() -> None:
    reformatted = BASE.replace("    return helper(x)  # trailing comment",
                               "    # a new comment\n\n    return helper( x )") \
        .replace('"""Docs."""', '"""Other docs, longer."""')
    assert hashes(BASE) == hashes(reformatted)


def test_code_changes_change_exactly_the_recipes_that_use_it() -> None:
    before = hashes(BASE)
    helper_changed = hashes(BASE.replace("df.head(LIMIT)", "df.tail(LIMIT)"))
    assert helper_changed["a"] != before["a"] and helper_changed["b"] == before["b"]
    const_changed = hashes(BASE.replace("LIMIT = 3", "LIMIT = 4"))
    assert const_changed["a"] != before["a"] and const_changed["b"] == before["b"]
    own_changed = hashes(BASE.replace("    return x", "    return x.copy()"))
    assert own_changed["b"] != before["b"] and own_changed["a"] == before["a"]


def test_module_docstring_and_its_changes() -> None:
    with_doc = '"""Module docs."""\n' + BASE
    assert hashes(with_doc) == hashes(BASE)
    pf1, _ = parse_python_file("r.py", with_doc)
    pf2, _ = parse_python_file("r.py", '"""Other docs."""\n' + BASE)
    assert pf1.module_hash == pf2.module_hash


def test_variables_read_directly_or_through_helpers() -> None:
    recipes, _ = py('''
        from weir import recipe, var
        import weir

        def cutoff():
            return var("min_amount")

        @recipe
        def a(x):
            return x[x.v > cutoff()]

        @recipe
        def b(x):
            return x.head(weir.var("n"))

        @recipe
        def c(a):
            return a
        ''')
    assert recipes["a"].variables == ("min_amount",)
    assert recipes["b"].variables == ("n",)
    assert recipes["c"].variables == ()  # parameter 'a' is not the recipe function a


def test_sql_inputs_skip_ctes_and_find_variables() -> None:
    recipe, diags = parse_sql_file("recipes/r.sql", "r", textwrap.dedent("""\
        -- comment
        WITH recent AS (SELECT * FROM orders WHERE ts > $since)
        SELECT r.*, c.name
        FROM recent r
        JOIN customers c ON c.id = r.customer_id
        LIMIT $top_n
        """))
    assert diags == []
    assert recipe is not None
    assert [(i.name, i.location.line) for i in recipe.inputs] == [("orders", 2),
                                                                    ("customers", 5)]
    assert recipe.variables == ("since", "top_n")


def test_sql_hash_ignores_comments_and_layout() -> None:
    a, _ = parse_sql_file("r.sql", "r", "select a, b from t -- x\nwhere a > 1")
    b, _ = parse_sql_file("r.sql", "r", "/* doc */\nSELECT a,\n       b\nFROM t\nWHERE a > 1\n")
    c, _ = parse_sql_file("r.sql", "r", "select a, b from t where a > 2")
    assert a and b and c
    assert a.code_hash == b.code_hash != c.code_hash


def test_sql_errors() -> None:
    _, diags = parse_sql_file("r.sql", "r", "SELECT * FROM (\n")
    assert diags and "SQL syntax error" in diags[0].message
    # In the user's words, not the parser's: the clause, and the token where it stopped.
    _, diags = parse_sql_file("r.sql", "r", "SELECT * FROM orders\nWHERE")
    assert diags[0].message == "SQL syntax error: WHERE is incomplete" and diags[0].line == 2
    _, diags = parse_sql_file("r.sql", "r", "SELECT * FRM orders")
    assert diags[0].message == "SQL syntax error: unexpected 'orders'"
    _, diags = parse_sql_file("r.sql", "r", "SELECT (a FROM t")
    assert diags[0].message == "SQL syntax error: expected ) before 'FROM'"
    assert "<class" not in diags[0].message
    # Not the parser's token objects nor its operator classes.
    _, diags = parse_sql_file("r.sql", "r", "SELECT a\nFROM t\nJOIN\n")
    assert (diags[0].line, diags[0].message) == (
        3, "SQL syntax error: expected table name after 'JOIN', but the query ends there")
    _, diags = parse_sql_file("r.sql", "r", "SELECT a\nFROM t JOIN\nWHERE a")
    assert diags[0].message == "SQL syntax error: expected table name before 'WHERE'"
    _, diags = parse_sql_file("r.sql", "r", "SELECT a\nFROM t\nWHERE a = = 1")
    assert (diags[0].line, diags[0].message) == (3, "SQL syntax error: '=' is incomplete")
    # What the tokenizer cannot read: where it starts.
    _, diags = parse_sql_file("r.sql", "r", "SELECT 'it''s'\nFROM t\nWHERE b = 'abc\n")
    assert (diags[0].line, diags[0].message) == (
        3, "SQL syntax error: a string is opened here and never closed (a ' is missing)")
    _, diags = parse_sql_file("r.sql", "r", "SELECT a -- a ' in a comment\n/* unclosed\nFROM t")
    assert (diags[0].line, diags[0].message) == (
        2, "SQL syntax error: a comment is opened here and never closed (a */ is missing)")
    _, diags = parse_sql_file("r.sql", "r", "select 1; select 2")
    assert "one query" in diags[0].message
    _, diags = parse_sql_file("r.sql", "r", "DELETE FROM t")
    assert "is a query" in diags[0].message


def test_sql_engine_errors_get_the_querys_line_and_words() -> None:
    text = "-- revenue\nSELECT customer,\n  sum(amont) AS r\nFROM t\nGROUP BY customer\n"
    # DuckDB's LINE wins; without one, the line where the quoted name appears.
    said = 'Binder Error: Referenced column "amont" not found in FROM clause!\n' \
           'Candidate bindings: "amount"'
    assert engine_error(text, said) == (
        3, 'Binder Error: Referenced column "amont" not found in FROM clause!',
        'did you mean "amount"?')
    assert engine_error(text, said + "\n\nLINE 5: GROUP BY customer\n ^^^")[0] == 5
    assert engine_error(text, 'Parser Error: syntax error at or near "GROUP"\n\nLINE 5: GR')[:2] \
        == (5, "SQL syntax error: unexpected 'GROUP'")
    assert engine_error(text, "Catalog Error: Scalar Function with name nosuch does not exist!") \
        == (0, "Catalog Error: Scalar Function with name nosuch does not exist!", None)


def test_yaml_unknown_key_and_bad_values_point_at_the_line() -> None:
    spec, diags = parse_dataset_file("datasets/x.yaml", "x",
                                     "path: x.csv\nfromat: csv\nkeep: maybe\ntags: 3\n")
    assert sorted((d.line, d.message) for d in diags) == [
        (2, "unknown key 'fromat' in a dataset"), (3, "`keep` must be true or false"),
        (4, "`tags` must be a list of words")]
    assert diags[0].hint == "did you mean 'format'?"
    _, diags = parse_dataset_file("datasets/x.yaml", "x", "path: [unclosed\n")
    assert diags[0].line == 2 and diags[0].message.startswith("invalid YAML")
    _, diags = parse_project_config("weir.yaml", "name: ok\ndefault_format: parqet\n")
    assert diags[0].line == 2 and diags[0].hint == "did you mean 'parquet'?"


def test_a_duplicate_key_is_an_error_in_every_yaml_file() -> None:
    """YAML itself keeps the last value silently; weir says where both are, in any file kind."""
    _, diags = parse_project_config("weir.yaml", "name: t\nvariables:\n  factor: 2\n"
                                                 "  factor: 3\n")
    assert [(d.line, d.message) for d in diags] == [
        (4, "duplicate key 'factor' (first at line 3)")]
    assert diags[0].hint and "delete" in diags[0].hint
    spec, diags = parse_dataset_file("datasets/x.yaml", "x", "path: a.csv\nschema:\n"
                                     "  - {name: id, type: int64, type: string}\n")
    assert spec is None and [(d.line, d.message) for d in diags] == [
        (3, "duplicate key 'type' (first at line 3)")]
    spec, diags = parse_dataset_file("folders/f.yaml", "f", "path: a\ntags: [x]\npath: b\n"
                                     "tags: [y]\n", folder=True)
    assert spec is None and [(d.line, d.message) for d in diags] == [
        (3, "duplicate key 'path' (first at line 1)"), (4, "duplicate key 'tags' (first at line 2)")]
    project = "connections:\n  wh:\n    type: filesystem\n    root: a\n"
    machine = "connections:\n  wh:\n    root: b\n  wh:\n    root: c\n"
    diags = parse_connection_layers([("connections.yaml", project),
                                     ("/etc/weir/connections.yaml", machine)]).diagnostics
    assert [(d.file, d.line, d.message) for d in diags] == [
        ("/etc/weir/connections.yaml", 4, "duplicate key 'wh' (first at line 2)")]
    # Overriding a key brought in by a merge (<<) is what merges are for, not a duplicate.
    _, diags = parse_project_config("weir.yaml", "name: t\nbase: &b {factor: 2}\n"
                                                 "variables:\n  <<: *b\n  factor: 3\n")
    assert not [d for d in diags if "duplicate" in d.message]


def test_loader_cross_file_errors(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "weir.yaml": "name: t\n",
        "datasets/src.yaml": "connection: nowhere\npath: s.csv\n",
        "datasets/lonely.yaml": "description: no path and no recipe\n",
        "recipes/a.py": "from weir import recipe, var\n\n@recipe\ndef a(srcc):\n"
                        "    return var('nope')\n",
        "recipes/a2.sql": "select * from src",
        "recipes/dup.sql": "select * from src",
        "recipes/z.py": "from weir import recipe\n\n@recipe\ndef dup(src):\n    return src\n",
    })
    project, diags = load_project(tmp_path)
    assert project is not None
    found = {(d.file, d.line, d.message) for d in diags}
    assert ("recipes/a.py", 4, "unknown input 'srcc'") in found
    assert ("recipes/a.py", 5, "unknown variable 'nope'") in found
    assert ("datasets/src.yaml", 1, "unknown connection 'nowhere'") in found
    assert any(f == "recipes/z.py" and "built by two recipes" in m and "recipes/dup.sql:1" in m
               for f, _, m in found)
    assert any(f == "datasets/lonely.yaml" and "no recipe building it" in m for f, _, m in found)
    hint = next(d.hint for d in diags if d.message == "unknown input 'srcc'")
    assert hint == "did you mean 'src'?"


def test_project_module_imports_count_in_the_fingerprint(tmp_path: Path) -> None:
    files = {
        "weir.yaml": "name: t\n",
        "datasets/src.yaml": "path: s.csv\n",
        "recipes/helpers.py": "def double(x):\n    return x * 2\n",
        "recipes/r.py": "from weir import recipe\nfrom helpers import double\n\n@recipe\n"
                        "def out(src):\n    return double(src)\n",
    }
    write_files(tmp_path, files)
    before = load_project(tmp_path)[0].recipes["recipes/r.py:out"].code_hash
    (tmp_path / "recipes/helpers.py").write_text("def double(x):\n    return x * 3\n")
    after = load_project(tmp_path)[0].recipes["recipes/r.py:out"].code_hash
    assert before != after


def test_parse_cache_is_used_validated_by_content_and_survives_corruption(tmp_path: Path) -> None:
    write_files(tmp_path, {"weir.yaml": "name: t\n", "datasets/s.yaml": "path: s.csv\n",
                           "recipes/r.sql": "select * from s"})
    cache_path = tmp_path / ".weir/cache/flow.msgpack"
    cache = ParseCache(cache_path)
    p1, _ = load_project(tmp_path, cache=cache)
    cache.save()
    assert cache_path.exists()
    # Same content: the result comes from the cache and is identical.
    p2, _ = load_project(tmp_path, cache=ParseCache(cache_path))
    assert p1.recipes == p2.recipes
    # Changed content: the cache entry is not trusted.
    (tmp_path / "recipes/r.sql").write_text("select * from s where 1 = 1")
    p3, _ = load_project(tmp_path, cache=ParseCache(cache_path))
    assert p3.recipes["recipes/r.sql"].code_hash != p1.recipes["recipes/r.sql"].code_hash
    # A corrupt cache is ignored.
    cache_path.write_bytes(b"\xc1garbage")
    p4, diags = load_project(tmp_path, cache=ParseCache(cache_path))
    assert diags == [] and p4.recipes == p3.recipes


@pytest.mark.parametrize("text,where", [
    ("name: t\nconnections: {}\n", 2),  # a key that belongs to another file
    ("name: t\nvariables: [1, 2]\n", 2),
])
def test_weir_yaml_errors(text: str, where: int) -> None:
    _, diags = parse_project_config("weir.yaml", text)
    assert diags and diags[0].line == where


def test_a_date_yaml_cannot_make_is_read_as_its_text_not_a_crash() -> None:
    """PyYAML raises a ValueError out of the parse for `2026-13-01`: the model never raises
    on a user's mistake, so the file's reader gets the text and says what is wrong."""
    import datetime as dt

    from weir.model.yamlfile import parse_yaml

    data, diags = parse_yaml("datasets/x.yaml", "when: 2026-13-01\nok: 2026-12-01\n")
    assert diags == [] and data == {"when": "2026-13-01", "ok": dt.date(2026, 12, 1)}
