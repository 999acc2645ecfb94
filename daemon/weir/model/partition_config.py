"""A dataset file's ``partitioning:`` and ``inputs:`` sections, read into
`weir.model.partitions` values with a diagnostic at the line of each mistake.

```yaml
partitioning:
  day: {column: event_date}      # a time dimension: hour, day or month, over a column
  country: {values: [FR, DE]}    # a discrete one: its values, or `{}` to find them in the data
inputs:
  daily_revenue: {range: [-6, 0]}   # the 7 days up to the one built
  countries: all                    # every partition it has
```

`check_partitioned` then checks them against the Flow: ``inputs:`` names inputs its recipe
reads, a range needs time on both sides, a recipe's outputs are cut alike (a recipe writes a
partition of each at once).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from weir.model.diagnostics import Diagnostic, whole_line
from weir.model.partitions import (EQUALS, Grain, InputMapping, Partitioning, TimeDimension,
                                   ValueDimension)
from weir.model.suggest import closest
from weir.model.yamlfile import LineDict, check_keys

GRAINS = tuple(g.value for g in Grain)
TIME_KEYS = ("column",)
VALUE_KEYS = ("values",)
MAPPINGS = ("equals", "all")


def parse_partitioning(file: str, data: LineDict) -> tuple[Partitioning | None,
                                                          list[Diagnostic]]:
    """The dataset file's ``partitioning:`` (``data`` is the whole file)."""
    value = data.get("partitioning")
    if not isinstance(value, LineDict) or not value:
        return None, [Diagnostic(file, message="`partitioning` must name its dimensions",
                                 code="invalid-value", subject="key:partitioning",
                                 hint="e.g. `partitioning: {day: {column: event_date}}`",
                                 **data.key_span("partitioning"))]
    diags: list[Diagnostic] = []
    time: TimeDimension | None = None
    discrete: ValueDimension | None = None
    for name, settings in value.items():
        where = value.key_span(name)
        settings = LineDict(value.line_of(name)) if settings is None else settings
        if not isinstance(settings, LineDict):
            diags.append(Diagnostic(file, message=f"dimension '{name}' must be a mapping",
                                    code="not-a-mapping", subject=f"key:{name}",
                                    hint="e.g. `day: {column: event_date}` or "
                                    "`country: {values: [FR, DE]}`", **where))
            continue
        if name in GRAINS:
            if time is not None:
                diags.append(Diagnostic(file, message="a dataset has one time dimension; "
                                        f"'{name}' is a second", code="invalid-value",
                                        subject=f"key:{name}", hint="keep one of "
                                        f"{time.name} and {name}", **where))
                continue
            unknown = check_keys(file, settings, TIME_KEYS, f"a {name} dimension")
            diags += unknown  # `colum: d` is said once, as the typo it is
            column = settings.get("column")
            if unknown:
                continue
            if not isinstance(column, str) or not column:
                diags.append(Diagnostic(file, message=f"the {name} dimension needs the "
                                        "`column` that holds the time", code="missing-key",
                                        subject=f"key:{name}",
                                        hint=f"e.g. `{name}: {{column: event_date}}`", **where))
                continue
            time = TimeDimension(Grain(name), column)
            continue
        best = closest(name, GRAINS)
        if not isinstance(settings.get("values"), list) and "column" in settings:
            # `dya: {column: …}` (a typo of a grain) or `week: {column: …}` (no such grain)
            diags.append(Diagnostic(file, message=f"'{name}' is not a time dimension",
                                    code="invalid-value", subject=f"key:{name}",
                                    suggestion=best if best != name else None,
                                    hint=(f"did you mean '{best}'? " if best else "")
                                    + f"time dimensions are {', '.join(GRAINS)}; a discrete "
                                    "one takes `values` (or nothing, to find them in the data)",
                                    **where))
            continue
        if discrete is not None:
            diags.append(Diagnostic(file, message="a dataset has one discrete dimension; "
                                    f"'{name}' is a second", code="invalid-value",
                                    subject=f"key:{name}", hint=f"keep one of "
                                    f"{discrete.name} and {name}", **where))
            continue
        diags += check_keys(file, settings, VALUE_KEYS, f"the {name} dimension")
        values = settings.get("values")
        if values is not None and (not isinstance(values, list) or not values or not all(
                isinstance(v, str | int) and str(v) and "/" not in str(v) for v in values)):
            diags.append(Diagnostic(file, message=f"`values` of {name} must be a list of "
                                    "names", code="invalid-value", subject=f"key:{name}",
                                    hint="e.g. `values: [FR, DE]`, or leave `values` out to "
                                    "find them in the data", **settings.value_span("values")))
            continue
        discrete = ValueDimension(name, tuple(dict.fromkeys(str(v) for v in values))
                                  if values is not None else None)
    if time is None and discrete is None:
        return None, diags
    return Partitioning(time, discrete), diags


def parse_input_mappings(file: str, data: LineDict) -> tuple[dict[str, InputMapping],
                                                            list[Diagnostic]]:
    """The dataset file's ``inputs:``: how each named input's partitions are read (`equals`
    when not said)."""
    value = data.get("inputs")
    if not isinstance(value, LineDict):
        return {}, [Diagnostic(file, message="`inputs` must map input names to how they are "
                               "read", code="invalid-value", subject="key:inputs",
                               hint="e.g. `inputs: {daily_revenue: {range: [-6, 0]}}`",
                               **data.key_span("inputs"))]
    mappings: dict[str, InputMapping] = {}
    diags: list[Diagnostic] = []
    for name, how in value.items():
        where = value.value_span(name)
        if how is None or how == "equals":
            mappings[name] = EQUALS
        elif how == "all":
            mappings[name] = InputMapping("all")
        elif isinstance(how, LineDict) and list(how) == ["range"]:
            bounds = how["range"]
            if isinstance(bounds, list) and len(bounds) == 2 and all(
                    isinstance(b, int) and not isinstance(b, bool) for b in bounds) \
                    and bounds[0] <= bounds[1]:
                mappings[name] = InputMapping("range", bounds[0], bounds[1])
            else:
                diags.append(Diagnostic(file, message="`range` must be [FIRST, LAST]: two "
                                        "whole numbers, the first not after the last",
                                        code="invalid-value", subject=f"key:{name}",
                                        hint="e.g. `range: [-6, 0]`: the 7 periods up to the "
                                        "one built", **how.value_span("range")))
        else:
            said = how if isinstance(how, str) else None
            best = closest(said, MAPPINGS) if said else None
            diags.append(Diagnostic(file, message=f"input '{name}' is read by `equals`, `all` "
                                    "or `{range: [FIRST, LAST]}`", code="invalid-value",
                                    subject=f"key:{name}", suggestion=best,
                                    hint=f"did you mean '{best}'?" if best else
                                    "e.g. `daily_revenue: {range: [-6, 0]}`", **where))
    return mappings, diags


def check_partitioned(datasets: Mapping[str, Any], specs: Mapping[str, Any],
                      producers: Mapping[str, Any]) -> list[tuple[str, Diagnostic]]:
    """The mistakes in how partitioned datasets fit the Flow, each with the dataset it makes
    unusable (``datasets``: weir.model.project.Dataset by name; ``specs``: their files;
    ``producers``: the recipe writing each output)."""
    out: list[tuple[str, Diagnostic]] = []
    for name, ds in datasets.items():
        spec = specs.get(name)
        if spec is None:
            continue
        file = spec.location.file
        recipe = producers.get(name)
        if ds.input_mappings and recipe is None:
            out.append((name, Diagnostic(
                file, message="`inputs` does not fit a source: no recipe reads anything for it",
                code="key-does-not-fit", subject="key:inputs",
                hint="say how a partition reads its inputs on the dataset a recipe builds",
                **spec.key_spans.get("inputs", whole_line(1)))))
            continue
        if ds.input_mappings and ds.partitioning is None:
            out.append((name, Diagnostic(
                file, message="`inputs` needs `partitioning`: an unpartitioned dataset reads "
                "every partition of its inputs", code="key-does-not-fit", subject="key:inputs",
                hint="add `partitioning:`, or remove `inputs:`",
                **spec.key_spans.get("inputs", whole_line(1)))))
            continue
        for inp, mapping in ds.input_mappings.items():
            where = spec.input_spans.get(inp, whole_line(1))
            if recipe is not None and inp not in recipe.input_names:
                best = closest(inp, recipe.input_names)
                out.append((name, Diagnostic(
                    file, message=f"'{inp}' is not an input of {recipe.location}",
                    code="unknown-input", subject=f"dataset:{inp}", suggestion=best,
                    hint=f"did you mean '{best}'?" if best else
                    f"it reads {', '.join(recipe.input_names) or 'nothing'}", **where)))
                break
            other = datasets.get(inp)
            if mapping.kind == "range" and (ds.partitioning.time is None or other is None
                                            or other.partitioning is None
                                            or other.partitioning.time is None):
                out.append((name, Diagnostic(
                    file, message=f"a `range` of '{inp}' needs a time dimension on both "
                    f"{name} and {inp}", code="invalid-value", subject=f"key:{inp}",
                    hint="use `equals` or `all`", **where)))
                break
        if recipe is not None and len(recipe.outputs) > 1:
            cuts = {o: datasets[o].partitioning for o in recipe.outputs if o in datasets}
            if len({repr(c) for c in cuts.values()}) > 1:
                out.append((name, Diagnostic(
                    file, message=f"the outputs of {recipe.location} are partitioned "
                    "differently", code="invalid-value", subject="key:partitioning",
                    hint="a recipe writes one partition of each of its outputs at once: give "
                    f"{', '.join(recipe.outputs)} the same `partitioning:`",
                    **spec.key_spans.get("partitioning", whole_line(1)))))
    return out
