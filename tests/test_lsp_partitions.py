"""A partitioned dataset's hover card, from a real LSP client talking to `weir lsp` over stdio:
it says what the dataset is cut by and how many of its partitions are in each state — worked
out by the server itself without a daemon, and the daemon's counts while it follows one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from conftest import run_weir
from lsp_support import SERVER, hover_text, open_doc, position_of, start

REFRESHED: dict[int, asyncio.Queue[None]] = {}


@pytest.fixture
def project(partitioned_project: Path) -> Path:
    yield partitioned_project
    run_weir("daemon", "stop", "--now", cwd=partitioned_project)


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, project: Path):
    queue: asyncio.Queue[None] = asyncio.Queue()
    REFRESHED[id(lsp_client)] = queue

    @lsp_client.feature(t.WORKSPACE_CODE_LENS_REFRESH)
    def on_refresh(params: None) -> None:  # the server's word that statuses changed
        queue.put_nowait(None)

    await start(lsp_client, project)
    yield
    await lsp_client.shutdown_session()


async def card(client: LanguageClient, path: Path, word: str) -> str:
    """The hover card on the first ``word`` in ``path``."""
    uri = open_doc(client, path)
    line, char = position_of(path.read_text(), word)
    text = await hover_text(client, uri, line, char)
    assert text is not None, f"no hover on {word}"
    return text


async def test_the_hover_says_the_partitioning_and_the_partition_counts(
        client: LanguageClient, project: Path) -> None:
    recipe = project / "recipes/daily.py"
    source = await card(client, recipe, "events:")
    assert "\nstatus: **source**" in source
    assert "\npartitioned by day (event_date) · 3 partitions\n" in source
    output = await card(client, recipe, "daily(")
    assert "\nstatus: **never built**" in output  # the counts are said once, on the next line
    assert "\npartitioned by day (event_date) · 3 partitions: 3 never built\n" in output

    # A partition built without a daemon: the server reads the state store again.
    assert run_weir("build", "daily", "--partition", "2026-12-01", "--no-daemon",
                    cwd=project).code == 0
    output = await card(client, recipe, "daily(")
    assert "\nstatus: **stale**" in output
    assert "· 3 partitions: 1 up to date, 2 never built\n" in output

    # With a daemon, its counts: a partition it builds is in the next card.
    queue = REFRESHED[id(client)]
    assert run_weir("daemon", "start", cwd=project).code == 0
    await card(client, recipe, "daily(")  # a question makes the server look for the daemon
    await asyncio.wait_for(queue.get(), 10)  # following its event stream
    assert run_weir("build", "daily", "--partition", "2026-12-02", cwd=project).code == 0
    await asyncio.wait_for(queue.get(), 10)  # its statuses changed
    output = await card(client, recipe, "daily(")
    assert "· 3 partitions: 2 up to date, 1 never built\n" in output, output
