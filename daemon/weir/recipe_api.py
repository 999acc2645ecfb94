"""What recipe code calls: the ``@recipe`` decorator, ``var()`` and ``partition()``.

The decorator only marks the function: weir learns a recipe's inputs and outputs by parsing the
file, never by running it. ``var`` reads project variables — from the running job when inside a
build, else from the project's weir.yaml (so recipes can be tried in a notebook).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, overload

F = TypeVar("F", bound=Callable[..., Any])

job_variables: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar(
    "weir_job_variables", default=None)
job_partition: contextvars.ContextVar[Any] = contextvars.ContextVar("weir_job_partition",
                                                                    default=None)


@overload
def recipe(fn: F) -> F: ...


@overload
def recipe(*, outputs: Sequence[str] | None = None, tags: Sequence[str] | None = None,
           retries: int = 0) -> Callable[[F], F]: ...


def recipe(fn: Any = None, *, outputs: Sequence[str] | None = None,
           tags: Sequence[str] | None = None, retries: int = 0) -> Any:
    """Mark a function as a recipe: its name is its output, its parameters are its inputs."""

    def mark(f: F) -> F:
        f.__weir_recipe__ = {"outputs": list(outputs or [f.__name__]),  # type: ignore[attr-defined]
                             "tags": list(tags or []), "retries": retries}
        return f

    return mark(fn) if fn is not None else mark


def var(name: str) -> Any:
    """The value of project variable ``name`` (weir.yaml ``variables:``)."""
    values = job_variables.get()
    if values is None:
        values = _variables_from_project()
    if name not in values:
        from weir.errors import WeirError
        from weir.model.suggest import did_you_mean

        raise WeirError(f"unknown variable '{name}'", hint=did_you_mean(name, values)
                        or "define it under `variables:` in weir.yaml")
    return values[name]


def partition() -> Any:
    """The partition the running job builds (a ``weir.model.partitions.Partition``: its
    ``key``, ``time``, ``start``, ``end`` and ``value``). Outside a build of a partitioned
    dataset there is none: a clear error, not a guess."""
    current = job_partition.get()
    if current is None:
        from weir.errors import WeirError

        raise WeirError("weir.partition(): this job builds no partition",
                        hint="only a recipe whose outputs declare `partitioning:` builds one "
                        "partition at a time")
    return current


def _variables_from_project() -> Mapping[str, Any]:
    from weir.model.config_files import parse_project_config
    from weir.workspace import project_root

    root = project_root()
    config, _ = parse_project_config("weir.yaml", (root / "weir.yaml").read_text())
    return dict(config.variables) if config else {}
