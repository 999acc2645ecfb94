"""The language server in scenario files, through a real LSP client: it completes sections,
step, trigger and reporter kinds, dataset and scenario names and `if:` values, and reports a
mistake as a diagnostic at its line while the file is typed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import pytest_lsp
from pytest_lsp import LanguageClient

from conftest import SMALL
from lsp_support import SERVER, complete, diagnostics_for, open_doc, start
from weir.model.scenarios import REPORTER_KINDS, SCENARIO_KEYS, STEP_KINDS, TRIGGER_KINDS
from weir_lsp.scenario_yaml import scenario_slot


@pytest.fixture
def project(make_project: Callable[..., Path]) -> Path:
    return make_project({**SMALL, "scenarios/hourly.yaml": "steps:\n  - build: [customers]\n"},
                        name="small")


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, project: Path):
    await start(lsp_client, project)
    yield
    await lsp_client.shutdown_session()


async def test_completion_in_a_scenario_file(client: LanguageClient, project: Path) -> None:
    text = ("\ntriggers:\n  - \n  - dataset_changed: ord\nsteps:\n  - \n  - build: [customers, \n"
            "  - run_scenario: h\n    if: \nreporters:\n  - \n")
    uri = open_doc(client, project / "scenarios/nightly.yaml", text, "yaml")
    assert await complete(client, uri, 0, 0) == sorted(SCENARIO_KEYS)
    assert set(TRIGGER_KINDS) <= set(await complete(client, uri, 2, 4))
    assert await complete(client, uri, 3, 24) == ["orders", "orders_clean"]
    assert set(STEP_KINDS) <= set(await complete(client, uri, 5, 4))
    assert "cron" not in await complete(client, uri, 5, 4)
    assert await complete(client, uri, 6, 22) == ["customers", "orders", "orders_clean",
                                                  "per_customer"]
    assert await complete(client, uri, 7, 19) == ["hourly"]
    assert await complete(client, uri, 8, 8) == ["always", "failure", "success"]
    assert set(REPORTER_KINDS) <= set(await complete(client, uri, 10, 4))


async def test_a_mistake_in_a_scenario_is_a_diagnostic_at_its_line(client: LanguageClient,
                                                                   project: Path) -> None:
    text = "steps:\n  - biuld: [customers]\n"
    uri = open_doc(client, project / "scenarios/nightly.yaml", text, "yaml")
    got = await diagnostics_for(client, uri, code="unknown-step")
    said = next(d for d in got if d.code == "unknown-step")
    assert said.range.start.line == 1 and "unknown step kind 'biuld'" in said.message


@pytest.mark.parametrize(("line", "what"), [
    ("", ("section", "")),
    ("ste", ("section", "ste")),
    ("  - bu", ("item", "bu")),
    ("  - build: [a, cu", ("dataset", "cu")),
    ("  - build: [+cu", ("dataset", "cu")),
    ("  - check: ", ("dataset", "")),
    ("  - after: ni", ("scenario", "ni")),
    ("    if: f", ("if", "f")),
    ("    partition: last ", ("partition", "last ")),
    ("  - build: {targets: [daily], partition: ye", ("partition", "ye")),
    ("    parti", ("item", "parti")),
    ("  - python: lib.x:", None),
])
def test_the_slot_in_a_scenario_file(line: str, what: tuple[str, str] | None) -> None:
    got = scenario_slot(["steps:\n", line], 1, len(line)) if line.startswith(" ") else \
        scenario_slot([line], 0, len(line))
    assert (None if got is None else (got.what, got.prefix)) == what
