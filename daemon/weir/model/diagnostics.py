"""Diagnostics: what a parser says about a file instead of raising.

Parsers return ``(value, diagnostics)`` so that one broken file never hides the rest of the
Flow. The type itself crosses every process boundary (the daemon's API, the language server),
so it is defined in the wire module; the model names it from here.
"""

from __future__ import annotations

from weir.wire import Diagnostic, Severity

__all__ = ["Diagnostic", "Severity"]
