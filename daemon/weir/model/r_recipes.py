"""Reading R recipe files without running R: a header comment and one function's signature.

``recipes/forecast.R`` builds ``forecast`` with a function of that name whose arguments are its
inputs; a header comment (``# outputs: train, test``) names several outputs, which the function
returns as a named list. A tokenizer of R's lexical grammar (strings, raw strings, comments,
backquoted names, brackets) is all the Flow needs: it finds the function and its formals, the
``var("name")`` calls, and gives the token stream the fingerprint hashes — so comments and
layout do not count, and a broken body never stops the Flow from being read (R reports it when
the recipe runs). Mistakes in what the Flow reads — the header, the signature, an unclosed
string or bracket — are ``file:line`` diagnostics like Python's.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from weir.model.diagnostics import Diagnostic, Severity, Span, span, whole_line
from weir.model.project import Interface, Location, Recipe, RecipeInput, RecipeKind
from weir.model.suggest import closest, hint_for

HEADER_KEYS = ("outputs", "tags", "retries")


@dataclass(frozen=True)
class Token:
    kind: str  # name | string | number | op | newline | comment
    text: str
    line: int  # 1-based
    col: int  # 0-based, in characters


class RSyntaxError(Exception):
    def __init__(self, line: int, col: int, message: str, hint: str) -> None:
        super().__init__(message)
        self.line, self.col, self.message, self.hint = line, col, message, hint


_NAME = re.compile(r"(?:[^\W\d_]|\.(?!\d))[\w.]*|\.")
_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+[Li]?|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[Li]?")
_OPERATORS = ("<<-", "->>", ":::", "<-", "->", "|>", "==", "!=", "<=", ">=", "&&", "||", "::",
              "**")
_RAW = re.compile(r"[rR](['\"])(-*)([(\[{])")
_CLOSE = {"(": ")", "[": "]", "{": "}"}


def tokenize(text: str) -> list[Token]:
    """R's tokens, comments and newlines included. Raises RSyntaxError for a string, name or
    raw string opened and never closed."""
    tokens: list[Token] = []
    i, line, line_start, n = 0, 1, 0, len(text)
    while i < n:
        c = text[i]
        col = i - line_start
        if c == "\n":
            tokens.append(Token("newline", "\n", line, col))
            i, line, line_start = i + 1, line + 1, i + 1
            continue
        if c in " \t\r\f":
            i += 1
            continue
        if c == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            tokens.append(Token("comment", text[i:end], line, col))
            i = end
            continue
        raw = _RAW.match(text, i)
        if raw:
            closer = _CLOSE[raw.group(3)] + raw.group(2) + raw.group(1)
            end = text.find(closer, raw.end())
            if end < 0:
                raise RSyntaxError(line, col, "a raw string is opened here and never closed",
                                   f"end it with {closer}")
            end += len(closer)
        elif c in "'\"`":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                what = "a backquoted name" if c == "`" else "a string"
                raise RSyntaxError(line, col, f"{what} is opened here and never closed",
                                   f"a closing {c} is missing")
            end = j + 1
        else:
            number = _NUMBER.match(text, i) if c.isdigit() or (
                c == "." and i + 1 < n and text[i + 1].isdigit()) else None
            name = None if number else _NAME.match(text, i)
            if number:
                tokens.append(Token("number", number.group(), line, col))
                i = number.end()
            elif name:
                tokens.append(Token("name", name.group(), line, col))
                i = name.end()
            elif c == "%":
                end = text.find("%", i + 1)
                if end < 0 or "\n" in text[i:end]:
                    raise RSyntaxError(line, col, "an operator %…% is opened here and never "
                                       "closed", "a closing % is missing")
                tokens.append(Token("op", text[i:end + 1], line, col))
                i = end + 1
            else:
                op = next((o for o in _OPERATORS if text.startswith(o, i)), c)
                tokens.append(Token("op", op, line, col))
                i += len(op)
            continue
        body = text[i:end]
        tokens.append(Token("name" if c == "`" else "string", body, line, col))
        line += body.count("\n")
        if "\n" in body:
            line_start = i + body.rindex("\n") + 1
        i = end
    return tokens


def check_brackets(tokens: list[Token]) -> None:
    """Every bracket closed by its own kind, or RSyntaxError at the one that is not."""
    stack: list[Token] = []
    for t in tokens:
        if t.kind != "op":
            continue
        if t.text in _CLOSE:
            stack.append(t)
        elif t.text in (")", "]", "}"):
            if not stack or _CLOSE[stack[-1].text] != t.text:
                expected = f", expected '{_CLOSE[stack[-1].text]}'" if stack else ""
                raise RSyntaxError(t.line, t.col, f"unexpected '{t.text}'{expected}",
                                   "brackets must be closed in the order they were opened")
            stack.pop()
    if stack:
        t = stack[-1]
        raise RSyntaxError(t.line, t.col, f"'{t.text}' is opened here and never closed",
                           f"a '{_CLOSE[t.text]}' is missing")


def unquote(token: Token) -> str:
    """A string or backquoted name's value (R's common escapes)."""
    body = token.text
    raw = _RAW.match(body)
    if raw:
        return body[raw.end():len(body) - len(raw.group(2)) - 2]
    inner = body[1:-1] if body[:1] in "'\"`" else body
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), inner)


# Tokens after which an expression cannot end, so a line break there is layout.
_CONTINUES = frozenset({"+", "-", "*", "/", "^", "<-", "<<-", "=", "==", "!=", "<", ">", "<=",
                        ">=", "&", "&&", "|", "||", "~", "?", ":", "|>", "->", "->>", "$", "@",
                        ",", "!", "**", "::", ":::", "else", "function", "\\", "in", "{",
                        ";"})
_NEEDS_BODY = frozenset({"if", "for", "while", "function", "\\"})


def _canonical(t: Token) -> str:
    """A token as the fingerprint sees it: a string by its value (quotes, raw or not, do not
    count), a backquoted syntactic name as the plain name."""
    if t.kind == "string":
        return json.dumps(unquote(t), ensure_ascii=False)
    if t.kind == "name" and t.text.startswith("`"):
        plain = unquote(t)
        return plain if _NAME.fullmatch(plain) and plain not in _RESERVED else t.text
    return t.text


_RESERVED = frozenset({"if", "else", "repeat", "while", "function", "for", "next", "break",
                       "TRUE", "FALSE", "NULL", "Inf", "NaN", "NA", "in"})


def normalised(tokens: list[Token]) -> str:
    """The code as the fingerprint sees it: no comments, no layout. A line break counts only
    where R reads it as the end of an expression — outside parentheses and square brackets,
    not after an operator or a comma, not between ``if (…)``/``function (…)`` and its body, not
    before a ``{`` — and a run of them counts once."""
    out: list[str] = []
    depth: list[tuple[str, bool]] = []  # open brackets: (which, whether a body must follow)
    pending = False  # a line break seen, not yet known to count
    body_due = False  # just closed the parentheses of if/for/while/function
    previous: Token | None = None
    for t in tokens:
        if t.kind == "comment":
            continue
        if t.kind == "newline":
            inside = bool(depth) and depth[-1][0] != "{"
            if not inside and out and not body_due and not (
                    previous is not None and previous.text in _CONTINUES):
                pending = True
            continue
        if pending and t.text not in ("{", "}", "else"):
            out.append("\n")
        pending = False
        body_due = False
        if t.kind == "op" and t.text in _CLOSE:
            depth.append((t.text, previous is not None and previous.text in _NEEDS_BODY))
        elif t.kind == "op" and t.text in (")", "]", "}") and depth:
            _, body_due = depth.pop()
        out.append(_canonical(t))
        previous = t
    return " ".join(out).replace(" \n ", "\n")


@dataclass(frozen=True)
class Header:
    outputs: tuple[tuple[str, int, int], ...]  # (name, line, col)
    tags: tuple[str, ...]
    retries: int


def read_header(file: str, tokens: list[Token],
                diags: list[Diagnostic]) -> tuple[Header, int]:
    """The ``# key: value`` lines of the comment block the file starts with, and the line of
    ``# outputs:`` (0: not given)."""
    outputs: list[tuple[str, int, int]] = []
    tags: list[str] = []
    retries, outputs_line = 0, 0
    for t in tokens:
        if t.kind == "newline":
            continue
        if t.kind != "comment":
            break
        m = re.match(r"#+'?\s*([A-Za-z_]+)\s*:(.*)", t.text)
        if not m:
            continue
        key, value = m.group(1).lower(), m.group(2)
        value_col = t.col + m.start(2)
        if key == "outputs":
            outputs_line = t.line
            for item in re.finditer(r"[^,\s]+", value):
                name = item.group()
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                    diags.append(Diagnostic(
                        file, message=f"'{name}' is not a dataset name", code="r-header",
                        hint="an output is a name of letters, digits and _",
                        **span(t.line, value_col + item.start(), value_col + item.end())))
                    continue
                outputs.append((name, t.line, value_col + item.start()))
            if not outputs:
                diags.append(Diagnostic(file, message="`# outputs:` names no output",
                                        code="r-header", hint="e.g. # outputs: train, test",
                                        **whole_line(t.line)))
        elif key == "tags":
            tags += re.findall(r"[^,\s]+", value)
        elif key == "retries":
            if value.strip().isdigit():
                retries = int(value.strip())
            else:
                diags.append(Diagnostic(file, message="`# retries:` must be a whole number",
                                        code="r-header", hint="e.g. # retries: 2",
                                        **whole_line(t.line)))
        elif key in ("output", "inputs", "input"):
            best = closest(key, HEADER_KEYS)
            diags.append(Diagnostic(
                file, message=f"an R recipe's header has no key '{key}'", code="r-header",
                suggestion=best, severity=Severity.WARNING,
                hint=hint_for(best) if key == "output" else
                "the function's arguments are its inputs; the header names its outputs",
                **span(t.line, t.col + m.start(1), t.col + m.end(1))))
    return Header(tuple(outputs), tuple(dict.fromkeys(tags)), retries), outputs_line


def top_level_functions(tokens: list[Token]) -> dict[str, int]:
    """Top-level ``name <- function(`` (or ``=``, ``<<-``, ``\\(``): name -> index of its '('."""
    code = [t for t in tokens if t.kind not in ("comment", "newline")]
    found: dict[str, int] = {}
    depth = 0
    for k, t in enumerate(code):
        if t.kind == "op" and t.text in _CLOSE:
            depth += 1
        elif t.kind == "op" and t.text in (")", "]", "}"):
            depth -= 1
        elif depth == 0 and t.kind == "name" and k + 3 < len(code) \
                and code[k + 1].text in ("<-", "=", "<<-") \
                and (code[k + 2].text == "function" or code[k + 2].text == "\\") \
                and code[k + 3].text == "(" and (k == 0 or code[k - 1].text not in ("$", "@")):
            found.setdefault(t.text.strip("`"), k + 3)
    return found


def _formals(code: list[Token], open_at: int) -> list[tuple[Token, bool]]:
    """The names of a function's formals (the token, whether it has a default)."""
    formals: list[tuple[Token, bool]] = []
    depth, expect_name = 0, True
    for t in code[open_at:]:
        if t.kind == "op" and t.text in _CLOSE:
            depth += 1
            if depth == 1:
                continue
        elif t.kind == "op" and t.text in (")", "]", "}"):
            depth -= 1
            if depth == 0:
                break
        if depth != 1:
            continue
        if t.text == ",":
            expect_name = True
        elif expect_name and t.kind == "name":
            formals.append((t, False))
            expect_name = False
        elif t.text == "=" and formals:
            formals[-1] = (formals[-1][0], True)
    return formals


def parse_r_file(file: str, name: str, text: str) -> tuple[Recipe | None, list[Diagnostic]]:
    subject = f"recipe:{file}"  # an R recipe's id is its file, as a SQL recipe's
    try:
        tokens = tokenize(text)
        check_brackets(tokens)
    except RSyntaxError as exc:
        return None, [Diagnostic(file, exc.line, f"R syntax error: {exc.message}",
                                 code="r-syntax", subject=subject, col=exc.col,
                                 hint=f"weir reads the function's signature to find its "
                                 f"inputs; {exc.hint}")]
    diags: list[Diagnostic] = []
    header, _ = read_header(file, tokens, diags)
    functions = top_level_functions(tokens)
    code = [t for t in tokens if t.kind not in ("comment", "newline")]
    if name not in functions:
        others = sorted(functions)
        best = closest(name, others)
        return None, [Diagnostic(
            file, 1 if not code else code[0].line,
            f"{file} defines no function '{name}'", code="r-no-function", subject=subject,
            hint=(f"an R recipe is a function named after its file: rename '{best}' to "
                  f"'{name}', or the file to {best}.R" if best else
                  f"an R recipe is a function named after its file: {name} <- function("
                  f"input, …) {{ … }}" + (f" (it defines {', '.join(others)})"
                                          if others else "")))]
    open_at = functions[name]
    fn_token = code[open_at - 3]
    outputs = tuple(o for o, _, _ in header.outputs) or (name,)
    inputs: list[RecipeInput] = []
    folder_outputs: list[str] = []
    for formal, has_default in _formals(code, open_at):
        arg = formal.text.strip("`")
        if arg == "...":
            diags.append(Diagnostic(file, message=f"recipe '{name}' takes `...`",
                                    code="variadic-recipe", subject=subject,
                                    hint="name each input dataset as an argument",
                                    **span(formal.line, formal.col, formal.col + 3)))
            continue
        if arg in outputs:
            folder_outputs.append(arg)  # a folder written into (the loader checks it is one)
            continue
        if has_default:
            continue  # an argument with a default is the function's own, not an input
        inputs.append(RecipeInput(arg, Interface.PANDAS, Location(file, formal.line),
                                  formal.col))
    variables: set[str] = set()
    for k, t in enumerate(code):
        if t.kind == "name" and t.text == "var" and k + 1 < len(code) and code[k + 1].text == "(" \
                and (k == 0 or code[k - 1].text not in ("$", "@", "::")):
            named = code[k + 2] if k + 2 < len(code) else None
            if named is not None and named.kind == "string" and k + 3 < len(code) \
                    and code[k + 3].text in (")", ","):
                variables.add(unquote(named))
            else:
                diags.append(Diagnostic(file, message="var() needs the variable's name written "
                                        "out", code="not-literal", subject=subject,
                                        hint='e.g. var("min_order_value"), so weir knows which '
                                        "recipes read it", **span(t.line, t.col, t.col + 3)))
    seen: set[str] = set()
    for out, line, col in header.outputs:
        if out in seen:
            diags.append(Diagnostic(file, message=f"recipe '{name}' lists an output twice",
                                    code="duplicate-output", subject=subject,
                                    **span(line, col, col + len(out))))
        seen.add(out)
    code_hash = hashlib.blake2b(normalised(tokens).encode(), digest_size=16).hexdigest()
    recipe = Recipe(name=name, kind=RecipeKind.R, file=file, line=fn_token.line,
                    inputs=tuple(inputs), outputs=outputs, code_hash=code_hash,
                    variables=tuple(sorted(variables)), retries=header.retries,
                    tags=header.tags, folder_outputs=tuple(folder_outputs))
    return recipe, diags


def var_span(text: str, variable: str) -> Span | None:
    """Where ``var("variable")`` names it in an R file, for the unknown-variable diagnostic."""
    m = re.search(r"""\bvar\(\s*(['"])(?P<name>""" + re.escape(variable) + r")\1", text)
    if m is None:
        return None
    start = m.start("name")
    line_start = text.rfind("\n", 0, start) + 1
    return span(text.count("\n", 0, start) + 1, start - line_start, m.end("name") - line_start)
