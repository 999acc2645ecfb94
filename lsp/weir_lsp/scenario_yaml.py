"""`scenarios/NAME.yaml`: what the cursor is on there and what to offer — the sections, the
kinds of step, trigger and reporter, the datasets a step or trigger names, the scenarios
`run_scenario` and `after` name, the values of `if`, a build step's relative `partition`.

Read from the text as typed (a half-written item does not parse, and completion is asked for
exactly then); the kinds and keys are the model's (weir.model.scenarios).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from weir.model.scenarios import (EXAMPLES, REPORTER_KINDS, SCENARIO_KEYS, STEP_KINDS,
                                  STEP_OPTIONS, TRIGGER_KINDS, ReporterKind, StepKind,
                                  TriggerKind)

SECTION_ITEMS = {
    "steps": (*STEP_KINDS, *STEP_OPTIONS),
    "triggers": (*TRIGGER_KINDS, "timezone", "every", "timeout", "debounce", "outcome"),
    "reporters": (*REPORTER_KINDS, "on"),
}
RUN_IF = {"success": "the default: when every step before it succeeded",
          "failure": "when a step before it failed (to tell someone, to clean up)",
          "always": "whatever happened before"}
_DATASET_AT = re.compile(r"(?:^|\s|-\s*)(build|check|clear|dataset_changed|targets)\s*:\s*"
                         r"\[?(?:[^\]#]*,\s*)?([A-Za-z0-9_+]*)$")
_SCENARIO_AT = re.compile(r"(?:^|\s|-\s*)(run_scenario|after|scenario)\s*:\s*([A-Za-z0-9_]*)$")
_IF_AT = re.compile(r"(?:^|\s)if\s*:\s*([a-z]*)$")
_PARTITION_AT = re.compile(r"(?:^|\s|\{|,)partition\s*:\s*([a-z0-9 ]*)$")
PARTITIONS = {
    "yesterday": "the day before the run's, in the scenario's time zone",
    "today": "the day the run is in (not over yet)",
    "last 3 days": "the 3 whole days before the run's day (ending yesterday)",
    "last 6 hours": "the 6 whole hours before the run's hour",
    "this month": "the month the run is in",
    "last month": "the month before the run's",
    "latest": "the newest partition the target has",
}
_ITEM_AT = re.compile(r"^(\s*)(-\s+)?([A-Za-z_]*)$")


@dataclass(frozen=True)
class ScenarioSlot:
    """What goes at the cursor: ``what`` is section, item (of ``section``), dataset, scenario,
    if or partition; ``prefix`` what is typed of it."""

    what: str
    prefix: str
    section: str = ""


def is_scenario_file(rel: str) -> bool:
    path = PurePosixPath(rel)
    return path.parts[:1] == ("scenarios",) and path.suffix in (".yaml", ".yml")


def _section(lines: list[str], line: int) -> str:
    """The top-level key the line is under."""
    for i in range(line, -1, -1):
        m = re.match(r"^([A-Za-z_]+)\s*:", lines[i]) if i < len(lines) else None
        if m:
            return m[1]
    return ""


def scenario_slot(lines: list[str], line: int, char: int) -> ScenarioSlot | None:
    text = lines[line][:char] if line < len(lines) else ""
    if (m := _DATASET_AT.search(text)) is not None:
        return ScenarioSlot("dataset", m[2].lstrip("+"))
    if (m := _SCENARIO_AT.search(text)) is not None:
        return ScenarioSlot("scenario", m[2])
    if (m := _IF_AT.search(text)) is not None:
        return ScenarioSlot("if", m[1])
    if (m := _PARTITION_AT.search(text)) is not None:
        return ScenarioSlot("partition", m[1])
    if (m := _ITEM_AT.match(text)) is None:
        return None
    if not m[1] and not m[2]:
        return ScenarioSlot("section", m[3])
    section = _section(lines, line - 1) if line else ""
    if section in SECTION_ITEMS:
        return ScenarioSlot("item", m[3], section)
    return None


def kind_doc(word: str) -> str | None:
    """An example of a step, trigger or reporter kind, for the popup."""
    for enum in (StepKind, TriggerKind, ReporterKind):
        try:
            return EXAMPLES[enum(word)]
        except ValueError:
            continue
    return None


__all__ = ["PARTITIONS", "RUN_IF", "SCENARIO_KEYS", "SECTION_ITEMS", "ScenarioSlot", "is_scenario_file",
           "kind_doc", "scenario_slot"]
