"""An R recipe's code as the editor reads it: the recipe function's tokens, the uses of a
variable in it, the columns read from a data frame (`orders$amount`, `orders[["amount"]]`).

Rename (an argument and its uses, the function that names an output) and the column check
read R through this. It tokenizes with the model's own reader (weir.model.r_recipes), so the
editor and the Flow agree on what R's tokens are and which function is the recipe; like the
model, it never runs R.
"""

from __future__ import annotations

from dataclasses import dataclass

from weir.model.r_recipes import (Token, check_brackets, read_header, tokenize,
                                   top_level_functions, unquote)

_OPEN, _CLOSE = ("(", "[", "{"), (")", "]", "}")
_ASSIGN = ("<-", "<<-", "=")
_RIGHT_ASSIGN = ("->", "->>")
_MEMBER = ("$", "@", "::", ":::")  # what makes the name after it a field, not a variable


@dataclass(frozen=True)
class RFunction:
    """A top-level function: its name where it is defined, and its code (comments and line
    breaks left out) from the formals' ``(`` to the body's end."""

    name: Token
    code: list[Token]

    def uses(self, variable: str) -> list[int]:
        """Where ``variable`` is read or written, as indexes into ``code``: in the formals and
        the body, not a field after `$` or `@`, not a namespace's member after `::`, not an
        argument's name in a call (`f(variable = …)`), never a string."""
        return [k for k, called in self._names(variable)
                if called is None and self._text(k - 1) not in _MEMBER]

    def list_names(self, name: str) -> list[int]:
        """Where ``name`` names an element of a list made in the function (`list(name = …)`):
        how an R recipe with several outputs returns each."""
        return [k for k, called in self._names(name) if called == "list"]

    def _names(self, name: str) -> list[tuple[int, str | None]]:
        """Each name token ``name`` in ``code``, with the function it names an argument of
        when it is one (`f(name = …)`: "f"; else None)."""
        found: list[tuple[int, str | None]] = []
        brackets: list[int] = []  # where the open brackets are
        for k, tok in enumerate(self.code):
            if tok.kind == "op" and tok.text in _OPEN:
                brackets.append(k)
            elif tok.kind == "op" and tok.text in _CLOSE and brackets:
                brackets.pop()
            if tok.kind != "name" or unquote(tok) != name:
                continue
            opener = brackets[-1] if brackets else None
            if self._text(k + 1) == "=" and opener is not None and self.code[opener].text != "{":
                found.append((k, self._text(opener - 1) or ""))
            else:
                found.append((k, None))
        return found

    def assigned(self, variable: str) -> bool:
        """Whether the function changes ``variable``: assigns it, a field or an element of it
        (`x <- …`, `x$col <- …`, `x[i, ] = …`, `names(x) <- …`, `… -> x`)."""
        for k in self.uses(variable):
            if self._text(k - 1) in _RIGHT_ASSIGN:
                return True
            end = self._after_accessors(k + 1)
            if self._text(end) in _ASSIGN or (
                    self._text(end) == ")" and self._text(end + 1) in _ASSIGN):
                return True
        return False

    def columns_read(self, variable: str) -> list[Token]:
        """The columns named on ``variable``: the name after `variable$`, the string in
        `variable[["…"]]`."""
        found: list[Token] = []
        for k in self.uses(variable):
            if self._text(k + 1) == "$" and k + 2 < len(self.code) \
                    and self.code[k + 2].kind in ("name", "string"):
                found.append(self.code[k + 2])
            elif self._text(k + 1) == "[" and self._text(k + 2) == "[" \
                    and k + 4 < len(self.code) and self.code[k + 3].kind == "string" \
                    and self._text(k + 4) == "]":
                found.append(self.code[k + 3])
        return found

    def _text(self, k: int) -> str | None:
        return self.code[k].text if 0 <= k < len(self.code) else None

    def _after_accessors(self, k: int) -> int:
        """The index after the `$name`, `@name` and bracketed subscripts that start at ``k``."""
        while k < len(self.code):
            if self.code[k].text in ("$", "@"):
                k += 2
            elif self.code[k].text == "[":
                k = _matching(self.code, k) + 1
            else:
                break
        return k


@dataclass(frozen=True)
class RCode:
    """An R file's tokens, read once for the questions asked of it."""

    tokens: list[Token]  # every token, comments and line breaks included

    @classmethod
    def read(cls, text: str) -> RCode:
        """Raises weir.model.r_recipes.RSyntaxError where the file does not tokenize (an
        unclosed string, a bracket closed by another kind), as the model reports it."""
        tokens = tokenize(text)
        check_brackets(tokens)
        return cls(tokens)

    def function(self, name: str) -> RFunction | None:
        """The top-level function ``name`` (the recipe, when named after its file)."""
        code = [t for t in self.tokens if t.kind not in ("comment", "newline")]
        open_at = top_level_functions(self.tokens).get(name)
        if open_at is None:
            return None
        close = _matching(code, open_at)
        return RFunction(code[open_at - 3], code[open_at:_body_end(code, close + 1)])

    def header_outputs(self) -> list[tuple[str, int, int]]:
        """The names `# outputs:` lists in the header: (name, line, col)."""
        header, _ = read_header("", self.tokens, [])
        return list(header.outputs)


def _matching(code: list[Token], open_at: int) -> int:
    """The index of the bracket that closes the one at ``open_at`` (brackets are balanced:
    RCode.read checked)."""
    depth = 0
    for k in range(open_at, len(code)):
        if code[k].kind == "op" and code[k].text in _OPEN:
            depth += 1
        elif code[k].kind == "op" and code[k].text in _CLOSE:
            depth -= 1
            if depth == 0:
                return k
    return len(code) - 1


def _body_end(code: list[Token], start: int) -> int:
    """The index after a function's body starting at ``start``: a braced block, else the
    expression, which ends at a line break outside brackets that no operator continues."""
    if start >= len(code):
        return start
    if code[start].text == "{":
        return _matching(code, start) + 1
    k = start
    while k < len(code):
        if code[k].text in _OPEN:
            k = _matching(code, k)
        k += 1
        last = code[k - 1]
        if k < len(code) and code[k].line > last.line and not (
                last.kind == "op" and last.text not in _CLOSE):
            break
    return k
