"""weir.yaml's `spark:` section: the Spark session a PySpark recipe runs in.

A recipe whose inputs are annotated ``pyspark.sql.DataFrame`` runs in a Spark session its worker
makes from these settings: ``master`` (``local[*]`` unless said) and ``conf``, Spark
configuration keys to scalar values. An environment may set its own (``environments: {prod:
{spark: …}}``): its ``master`` replaces the project's, its ``conf`` is merged over the
project's key by key — a cluster in prod, the laptop's cores in dev, with the same Flow.

Pure: parsed from weir.yaml's mapping; nothing here imports pyspark.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from weir.model.diagnostics import Diagnostic
from weir.model.yamlfile import LineDict, check_keys

SPARK_KEYS = ("master", "conf")
DEFAULT_MASTER = "local[*]"
_EXAMPLE = "e.g. `spark: {master: local[*], conf: {spark.driver.memory: 2g}}`"


@dataclass(frozen=True)
class SparkSettings:
    """One layer of Spark settings as weir.yaml writes it. ``master`` None: not set here (the
    project's, else ``local[*]``); ``line``: where the section is, for messages."""

    master: str | None = None
    conf: Mapping[str, str | int | float | bool] = field(default_factory=dict)
    line: int = 0

    def over(self, base: SparkSettings) -> SparkSettings:
        """These settings (an environment's) applied over ``base`` (the project's)."""
        return SparkSettings(self.master or base.master, {**base.conf, **self.conf},
                             self.line or base.line)

    def as_job(self) -> dict[str, Any]:
        """As a worker gets them: plain values, the default master filled in."""
        return {"master": self.master or DEFAULT_MASTER, "conf": dict(self.conf)}


def parse_spark(file: str, owner: LineDict, what: str) -> tuple[SparkSettings | None,
                                                                list[Diagnostic]]:
    """``owner``'s `spark:` (weir.yaml's top level, or one environment's), checked: a mapping
    of known keys, a master that is a string, a conf of scalars. None when it is absent or
    not a mapping; a wrong value is left out (and said), the rest kept."""
    if "spark" not in owner:
        return None, []
    section = owner["spark"]
    if section is None:
        return SparkSettings(line=owner.line_of("spark")), []
    if not isinstance(section, LineDict):
        return None, [Diagnostic(file, message=f"{what}: `spark` must be a mapping of its "
                                 "settings (master, conf)", code="not-a-mapping",
                                 subject="key:spark", hint=_EXAMPLE, **owner.key_span("spark"))]
    diags = check_keys(file, section, SPARK_KEYS, f"{what}'s `spark:`")
    master = section.get("master")
    if master is not None and not (isinstance(master, str) and master.strip()):
        diags.append(Diagnostic(file, message=f"{what}: `spark.master` must be a Spark master "
                                f"URL, not {master!r}", code="invalid-value",
                                subject="key:master", hint="e.g. `master: local[*]` or "
                                "`master: spark://host:7077`", **section.value_span("master")))
        master = None
    conf, d = _conf(file, section, what)
    return SparkSettings(master.strip() if master else None, conf,
                         owner.line_of("spark")), diags + d


def _conf(file: str, section: LineDict, what: str) -> tuple[dict[str, Any], list[Diagnostic]]:
    value = section.get("conf")
    if value is None:
        return {}, []
    if not isinstance(value, LineDict):
        return {}, [Diagnostic(file, message=f"{what}: `spark.conf` must map Spark "
                               "configuration keys to values", code="not-a-mapping",
                               subject="key:conf", hint="e.g. `conf: {spark.driver.memory: 2g}`",
                               **section.key_span("conf"))]
    out: dict[str, Any] = {}
    diags: list[Diagnostic] = []
    for key, item in value.items():
        if isinstance(item, (str, int, float, bool)):
            out[str(key)] = item
            continue
        diags.append(Diagnostic(file, message=f"{what}: Spark conf '{key}' must be a single "
                                "value (a string, number or boolean)", code="invalid-value",
                                subject=f"key:{key}", hint='e.g. `spark.executor.memory: 4g`; '
                                'a list is written as Spark takes it: "a,b"',
                                **value.value_span(key)))
    return out, diags
