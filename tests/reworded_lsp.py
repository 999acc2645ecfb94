"""`weir lsp` as it would be if every diagnostic were worded differently.

Run as a script by tests/test_lsp.py. Each Diagnostic's message and hint are reworded the moment
it is made — wherever that is: a parser, the loader, the Flow, the editor's column check, the
parse cache — before anything reads it. Quotes become « », the words gain a prefix: so a feature
that still searched the English for a quoted name or a "did you mean" (ranges, quick fixes,
half-typed files) finds nothing, and its test fails.
"""

from __future__ import annotations

from typing import Any

from weir.wire import Diagnostic

PREFIX = "Bitte prüfen: "
_made = Diagnostic.__init__


def _reword(text: str) -> str:
    if text.startswith(PREFIX):
        return text  # already reworded (a diagnostic copied by dataclasses.replace, say)
    quoted = text.split("'")
    said = "".join(part + ("«" if i % 2 == 0 else "»") for i, part in enumerate(quoted[:-1]))
    return PREFIX + said + quoted[-1]


def _reworded(self: Diagnostic, *args: Any, **kwargs: Any) -> None:
    _made(self, *args, **kwargs)
    object.__setattr__(self, "message", _reword(self.message))
    if self.hint:
        object.__setattr__(self, "hint", _reword(self.hint))


Diagnostic.__init__ = _reworded  # type: ignore[method-assign]

if __name__ == "__main__":
    from weir_lsp.server import main

    main()
