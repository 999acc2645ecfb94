"""Secret references in connection settings: ``${env:NAME}`` and ``${file:PATH}``.

They are resolved only when a connection is used, never stored in state, logs or messages: an
error says *which* reference failed, not its value, and :func:`redact` scrubs resolved values
out of any text a driver produces before weir shows it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from weir.errors import WeirError

REF_RE = re.compile(r"\$\{(env|file):([^}]+)\}")


class MissingSecret(WeirError):
    """A reference cannot be resolved: unset variable, unreadable file."""


def resolve_value(value: Any, connection: str, key: str) -> Any:
    if not isinstance(value, str) or "${" not in value:
        return value

    def one(match: re.Match[str]) -> str:
        kind, ref = match.group(1), match.group(2)
        if kind == "env":
            found = os.environ.get(ref)
            if found is None:
                raise MissingSecret(
                    f"connection '{connection}': `{key}` refers to the environment variable "
                    f"{ref}, which is not set",
                    hint=f"export {ref}=… where weir runs (weir never stores its value)")
            return found
        try:
            return Path(os.path.expanduser(ref)).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise MissingSecret(f"connection '{connection}': `{key}` refers to the file {ref}, "
                                f"which cannot be read ({exc.strerror})",
                                hint="check the path and its permissions") from None

    return REF_RE.sub(one, value)


def resolve_params(connection: str, params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: resolve_value(v, connection, k) for k, v in params.items()}


def secret_values(params: Mapping[str, Any], resolved: Mapping[str, Any]) -> list[str]:
    """The resolved values that came from references (what must never be shown)."""
    return [str(resolved[k]) for k, v in params.items()
            if isinstance(v, str) and REF_RE.search(v) and resolved.get(k)]


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted((s for s in secrets if s and len(s) >= 3), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
