"""The parse cache: recipe files already read, keyed by their content's hash.

Parsing a thousand recipe files costs far more than reading them, so a cold ``weir`` command or
language server reuses earlier results for files whose bytes are unchanged. The cache is never
trusted blindly: entries are looked up by content hash, a version mismatch or a corrupt file is
ignored (and rewritten), and writes are atomic.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import msgpack

from weir.model.diagnostics import Diagnostic, Severity
from weir.model.project import Interface, Location, Recipe, RecipeInput, RecipeKind
from weir.model.python_recipes import PythonFile

# 5: diagnostics' subjects, lost names, SQL syntax errors in new words; 6: diagnostics' codes,
# suggestions and ranges, inputs' columns
FORMAT_VERSION = 7


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _enc_recipe(r: Recipe) -> list[Any]:
    return [r.name, r.kind.value, r.file, r.line,
            [[i.name, i.interface.value, i.location.line, i.col] for i in r.inputs],
            list(r.outputs), r.code_hash, list(r.variables), r.retries, list(r.tags),
            list(r.folder_outputs), r.partition_parameter]


def _dec_recipe(v: list[Any]) -> Recipe:
    name, kind, file, line, inputs, outputs, code_hash, variables, retries, tags, folders, \
        partition = v
    return Recipe(name=name, kind=RecipeKind(kind), file=file, line=line,
                  inputs=tuple(RecipeInput(n, Interface(i), Location(file, ln), col)
                               for n, i, ln, col in inputs),
                  outputs=tuple(outputs), code_hash=code_hash, variables=tuple(variables),
                  retries=retries, tags=tuple(tags), folder_outputs=tuple(folders),
                  partition_parameter=partition)


def _enc_diag(d: Diagnostic) -> list[Any]:
    return [d.file, d.line, d.message, d.code, d.hint, d.severity.value, d.col, d.end_line,
            d.end_col, d.subject, d.suggestion]


def _dec_diag(v: list[Any]) -> Diagnostic:
    file, line, message, code, hint, severity, col, end_line, end_col, subject, suggestion = v
    return Diagnostic(file, line, message, code, hint, Severity(severity), col, end_line, end_col,
                      subject, suggestion)


def encode_python(pf: PythonFile, diags: list[Diagnostic]) -> list[Any]:
    return [[_enc_recipe(r) for r in pf.recipes], {k: list(v) for k, v in pf.local_imports.items()},
            pf.module_hash, list(pf.module_imports), [_enc_diag(d) for d in diags],
            list(pf.lost)]


def decode_python(v: list[Any]) -> tuple[PythonFile, list[Diagnostic]]:
    recipes, local_imports, module_hash, module_imports, diags, lost = v
    pf = PythonFile(tuple(_dec_recipe(r) for r in recipes),
                    {k: tuple(x) for k, x in local_imports.items()}, module_hash,
                    tuple(module_imports), tuple(lost))
    return pf, [_dec_diag(d) for d in diags]


def encode_sql(recipe: Recipe | None, diags: list[Diagnostic]) -> list[Any]:
    return [_enc_recipe(recipe) if recipe else None, [_enc_diag(d) for d in diags]]


def decode_sql(v: list[Any]) -> tuple[Recipe | None, list[Diagnostic]]:
    recipe, diags = v
    return (_dec_recipe(recipe) if recipe else None), [_dec_diag(d) for d in diags]


class ParseCache:
    """``relative path -> (content hash, encoded parse result)``, loaded and saved as a whole."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, list[Any]] = {}
        self.dirty = False
        # Decoded results by (file, digest): a long-lived process (the daemon, the language
        # server) re-assembles the Flow on every save without decoding every file again.
        self._decoded: dict[str, tuple[str, Any]] = {}
        if path is not None:
            self._load(path)

    def _load(self, path: Path) -> None:
        try:
            data = msgpack.unpackb(path.read_bytes(), raw=False, strict_map_key=False)
        except FileNotFoundError:
            return
        except Exception:  # corrupt or foreign: start over, it is only a cache
            self.dirty = True
            return
        if isinstance(data, dict) and data.get("version") == FORMAT_VERSION \
                and isinstance(data.get("files"), dict):
            self.entries = data["files"]
        else:
            self.dirty = True

    def get(self, file: str, digest: str) -> Any | None:
        entry = self.entries.get(file)
        if isinstance(entry, list) and len(entry) == 2 and entry[0] == digest:
            return entry[1]
        return None

    def decoded(self, file: str, digest: str, decode: Any) -> Any | None:
        """The decoded entry for ``file`` at ``digest`` (memoised), or None if not cached."""
        memo = self._decoded.get(file)
        if memo is not None and memo[0] == digest:
            return memo[1]
        raw = self.get(file, digest)
        if raw is None:
            return None
        value = decode(raw)
        self._decoded[file] = (digest, value)
        return value

    def remember(self, file: str, digest: str, encoded: Any, value: Any) -> None:
        """Store a fresh parse result, encoded for disk and decoded for this process."""
        self.put(file, digest, encoded)
        self._decoded[file] = (digest, value)

    def put(self, file: str, digest: str, value: Any) -> None:
        self.entries[file] = [digest, value]
        self.dirty = True

    def retain(self, files: set[str]) -> None:
        for gone in set(self.entries) - files:
            del self.entries[gone]
            self.dirty = True
        for gone in set(self._decoded) - files:
            del self._decoded[gone]

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".flow-", suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                f.write(msgpack.packb({"version": FORMAT_VERSION, "files": self.entries}))
            os.replace(tmp, self.path)
            self.dirty = False
        except OSError:
            pass  # a read-only checkout still works, only slower
