"""The language server's reading of R code (weir_lsp/r_code.py), without an editor: which names
are a variable, what the function assigns, which columns it reads, where a function ends."""

from __future__ import annotations

import pytest

from weir.model.r_recipes import RSyntaxError
from weir_lsp.r_code import RCode, RFunction

TEXT = """\
# outputs: a, b
helper <- function(x) x + 1
f <- function(orders, `n`, k = orders) {
  orders$orders <- 1; g(orders = n, stats::orders)
  list(a = orders[["amount"]], b = `n`$total, "orders")
}
after <- function(orders) orders
"""


def function(name: str, text: str = TEXT) -> RFunction:
    fn = RCode.read(text).function(name)
    assert fn is not None
    return fn


def where(fn: RFunction, indexes: list[int]) -> list[tuple[int, int]]:
    return [(fn.code[k].line, fn.code[k].col) for k in indexes]


def test_the_uses_of_a_variable_are_its_names_not_fields_arguments_or_strings() -> None:
    fn = function("f")
    assert fn.name.text == "f" and fn.name.line == 3
    # The formal, `orders$…` (not the field after $), the default k = orders, g(…, n) and
    # orders[[…]]; not `orders =` in g(…), `stats::orders` or the string.
    assert where(fn, fn.uses("orders")) == [(3, 14), (3, 31), (4, 2), (5, 11)]
    assert where(fn, fn.uses("n")) == [(3, 22), (4, 33), (5, 35)]  # backquoted too
    assert where(fn, fn.list_names("a")) == [(5, 7)]
    assert fn.list_names("orders") == []  # g(orders = …) is not a list


def test_what_a_function_assigns_and_the_columns_it_reads() -> None:
    fn = function("f")
    assert fn.assigned("orders")  # orders$orders <- 1
    assert not fn.assigned("n")
    assert [t.text for t in fn.columns_read("orders")] == ["orders", '"amount"']
    assert [t.text for t in fn.columns_read("n")] == ["total"]
    for code in ("x[1, ] = 2", "names(x) <- 'a'", "3 -> x", "x <<- 1", "x$a$b <- 1"):
        assert function("h", f"h <- function(x) {{\n  {code}\n}}\n").assigned("x"), code
    assert not function("h", "h <- function(x) {\n  y <- x$a\n  f(x = 1)\n}\n").assigned("x")


def test_a_body_without_braces_ends_with_its_expression() -> None:
    assert [t.text for t in function("helper").code] == ["(", "x", ")", "x", "+", "1"]
    # An operator at the end of a line continues the expression on the next.
    fn = function("h", "h <- function(x) x +\n  x$a\ny <- 2\n")
    assert [t.text for t in fn.code][-3:] == ["x", "$", "a"]
    assert function("after").uses("orders") != []


def test_no_such_function_and_a_file_that_does_not_tokenize() -> None:
    assert RCode.read(TEXT).function("missing") is None
    assert RCode.read("x$orders <- function(a) a\n").function("orders") is None  # a field
    assert RCode.read(TEXT).header_outputs() == [("a", 1, 11), ("b", 1, 14)]
    with pytest.raises(RSyntaxError):
        RCode.read('f <- function(x) {\n  "open\n}\n')
    with pytest.raises(RSyntaxError):
        RCode.read("f <- function(x) {\n  x[1)\n}\n")
