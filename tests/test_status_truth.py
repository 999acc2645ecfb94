"""One status truth: the daemon keeps the data's status, and the API, the CLI and the language
server all say what it says — after a build, after a build made beside the daemon, after a
source file changes. The keeper's poll runs on an injected clock, so no test waits out a
period."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from conftest import SMALL, run_weir, wait_until, write_files
from lsp_support import SERVER, hover_text, open_doc, position_of, start
from weir import wire
from weir.client import DaemonClient
from weir.flow.status import Status
from weir.server.live import LiveProject
from weir.server.status import StatusKeeper
from weir_lsp.lenses import status_title

T = TypeVar("T")


def polling(period: str) -> str:
    """SMALL's weir.yaml with ``daemon: poll_sources: PERIOD``."""
    return SMALL["weir.yaml"] + f"daemon:\n          poll_sources: {period}\n"


FAST = polling("100ms")


class FakeClock:
    """Time that moves only when the test says: the keeper's thread sleeps until a deadline of
    this clock, and ``advance`` wakes it."""

    def __init__(self) -> None:
        self.t = 0.0
        self.deadlines: list[float] = []
        self._lock = threading.Lock()
        self._waiting: set[threading.Condition] = set()

    def now(self) -> float:
        return self.t

    def sleep_until(self, cond: threading.Condition, deadline: float) -> None:
        with self._lock:
            self._waiting.add(cond)
            self.deadlines.append(deadline)
            if self.t >= deadline:
                return
        cond.wait()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.t += seconds
            waiting = list(self._waiting)
        for cond in waiting:
            with cond:
                cond.notify_all()


class Changes:
    """What a keeper publishes, kept for the test to wait on."""

    def __init__(self) -> None:
        self.seen: list[wire.StatusChange] = []

    def __call__(self, change: wire.StatusChange) -> None:
        self.seen.append(change)

    def status_of(self, name: str) -> wire.DatasetStatus | None:
        for change in reversed(self.seen):
            for d in change.changed:
                if d.name == name:
                    return d
        return None


@pytest.fixture
def kept(make_project: Callable[..., Path]) -> Any:
    """A built project, its live Flow, and a keeper on a fake clock (no daemon process)."""
    root = make_project(SMALL, name="small")
    assert run_weir("build", "--all", cwd=root).code == 0
    live = LiveProject(root)
    clock = FakeClock()
    changes = Changes()
    keeper = StatusKeeper(root, root / ".weir", clock, changes)
    yield root, live, clock, changes, keeper
    keeper.stop()


def states(status: Any) -> dict[str, str]:
    return {n: s.state.value for n, s in status.statuses.items()}


def test_reads_take_in_a_build_beside_them_without_probing_storage(kept, monkeypatch) -> None:
    root, live, clock, changes, keeper = kept
    first = keeper.status(live.snapshot)
    assert set(states(first).values()) == {"source", "up to date"}
    import weir.server.status as status_module

    def no_probing(*args: Any) -> Any:
        raise AssertionError("a read probed storage")

    monkeypatch.setattr(status_module, "probe", no_probing)
    assert keeper.status(live.snapshot) is first  # nothing changed: the same snapshot
    assert run_weir("build", "orders_clean", "--force", "--no-daemon", cwd=root).code == 0
    status = keeper.status(live.snapshot)
    before, after = first.records["orders_clean"], status.records["orders_clean"]
    assert after.built_at is not None and before.built_at is not None
    assert after.built_at > before.built_at and after.row_count == 3
    assert states(status) == states(first)


def test_a_commit_by_another_process_is_in_the_very_next_read(kept) -> None:
    root, live, clock, changes, keeper = kept
    sql = root / "recipes/per_customer.sql"
    sql.write_text(sql.read_text().replace("sum(amount)", "max(amount)"))
    live.apply({"recipes/per_customer.sql"})
    assert states(keeper.status(live.snapshot))["per_customer"] == "stale"
    assert run_weir("build", "per_customer", "--no-daemon", cwd=root).code == 0
    assert states(keeper.status(live.snapshot))["per_customer"] == "up to date"
    assert changes.status_of("per_customer") == wire.DatasetStatus(
        "per_customer", wire.DatasetState.UP_TO_DATE, (),
        keeper.status(live.snapshot).records["per_customer"].built_at, 3)


def test_the_poll_period_is_read_from_weir_yaml_and_finds_changed_data(kept) -> None:
    root, live, clock, changes, keeper = kept
    write_files(root, {"weir.yaml": polling("30s")})
    live.apply({"weir.yaml"})
    keeper.start(lambda: live.snapshot)
    wait_until(lambda: 30.0 in clock.deadlines, 10, "a sleep until the 30 s poll")
    assert states(keeper.status(live.snapshot))["orders_clean"] == "up to date"

    # The data changes underneath: a source saved, an output deleted. Nothing is said before
    # the poll; at the poll, both are.
    with (root / "landing/orders.csv").open("a") as f:
        f.write("5,d,99.0\n")
    built = root / "data/small/customers.parquet"
    assert built.exists()
    built.unlink()
    clock.advance(29)
    wait_until(lambda: clock.deadlines.count(30.0) >= 2, 10, "the keeper asleep again")
    assert keeper.polls == 0
    clock.advance(1)
    wait_until(lambda: keeper.polls == 1, 10, "the poll at 30 s")
    status = keeper.status(live.snapshot)
    assert status.statuses["orders_clean"].reasons == ("input orders changed",)
    assert status.statuses["customers"].reasons == ("input orders changed",)
    change = changes.seen[-1]
    assert change.cause is wire.StatusCause.POLL
    assert {d.name for d in change.changed} == {"orders_clean", "customers", "per_customer"}

    # A new period in weir.yaml is the next deadline.
    write_files(root, {"weir.yaml": polling("2s")})
    live.apply({"weir.yaml"})
    keeper.nudge()
    wait_until(lambda: 32.0 in clock.deadlines, 10, "a sleep until 30 s + 2 s")


def test_an_output_deleted_underneath_is_data_missing_after_the_poll(kept) -> None:
    root, live, clock, changes, keeper = kept
    keeper.start(lambda: live.snapshot)
    wait_until(lambda: 5.0 in clock.deadlines, 10, "a sleep until the default 5 s poll")
    (root / "data/small/customers.parquet").unlink()
    clock.advance(5)
    wait_until(lambda: changes.status_of("customers") is not None, 10, "a status change")
    customers = changes.status_of("customers")
    assert customers is not None and customers.status is wire.DatasetState.STALE
    assert customers.reasons == ("data missing",)


@pytest.mark.parametrize("value, said", [
    ("soon", "`poll_sources` must be a duration such as 5s, 500ms or 2min, not 'soon'"),
    ("0", "`poll_sources` must be a duration between 50 ms and 1 h, not 0"),
])
def test_a_bad_poll_period_is_said_at_its_line(make_project: Callable[..., Path], value: str,
                                               said: str) -> None:
    root = make_project({**SMALL, "weir.yaml": f"name: small\ndaemon:\n  poll_sources: {value}\n"},
                        name="small")
    r = run_weir("status", cwd=root)
    assert r.code == 2 and f"weir.yaml:3: error: {said}" in r.err, r.text
    r = run_weir("status", "--json", cwd=root)
    [diag] = [d for d in json.loads(r.out)["error"]["diagnostics"] if d["file"] == "weir.yaml"]
    assert (diag["line"], diag["code"], diag["subject"]) == (3, "invalid-duration",
                                                             "key:poll_sources")


# -- the front ends agree -------------------------------------------------------------------

def api_statuses(client: DaemonClient) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {d.name: (d.status.value, d.reasons) for d in client.statuses().datasets}


def cli_statuses(root: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    r = run_weir("status", "--json", cwd=root)
    assert r.code == 0, r.text
    return {d["name"]: (d["status"], tuple(d["reasons"])) for d in json.loads(r.out)["datasets"]}


def described(status: tuple[str, tuple[str, ...]]) -> str:
    state, reasons = status
    return f"status: **{state}{': ' + ', '.join(reasons) if reasons else ''}**"


class Refreshes:
    """The `workspace/codeLens/refresh` requests the server sends: it sends one whenever the
    statuses it shows changed (a daemon `status` event applied, a build ended), so a test that
    waits for the editor to catch up waits for the next one, not for a clock."""

    def __init__(self) -> None:
        self.count = 0
        self.changed = asyncio.Event()

    def seen(self) -> None:
        self.count += 1
        self.changed.set()

    async def until(self, check: Callable[[], Awaitable[T]], what: str,
                    timeout: float = 20) -> T:
        """``check()`` now, and again after each refresh, until it returns something true."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            before = self.count
            self.changed.clear()
            if value := await check():
                return value
            if self.count == before:  # nothing new came while it checked: wait for it
                try:
                    await asyncio.wait_for(self.changed.wait(), deadline - loop.time())
                except TimeoutError:
                    raise AssertionError(f"timed out after {timeout} s waiting for "
                                         f"{what}") from None


@pytest.fixture
def shop(make_project: Callable[..., Path]) -> Any:
    root = make_project({**SMALL, "weir.yaml": FAST}, name="small")
    assert run_weir("daemon", "start", cwd=root).code == 0
    yield root
    run_weir("daemon", "stop", "--now", cwd=root)


REFRESHES = "weir_refreshes"  # the client's Refreshes, as an attribute


@pytest_lsp.fixture(config=SERVER)
async def editor(lsp_client: LanguageClient, shop: Path):
    refreshes = Refreshes()
    setattr(lsp_client, REFRESHES, refreshes)

    @lsp_client.feature(t.WORKSPACE_CODE_LENS_REFRESH)
    def on_refresh(params: None) -> None:  # as VS Code would, it asks again when it next shows
        refreshes.seen()

    await start(lsp_client, shop)
    yield
    await lsp_client.shutdown_session()


async def test_the_api_the_cli_and_the_language_server_agree(editor: LanguageClient,
                                                             shop: Path) -> None:
    root = shop
    client = DaemonClient.for_project(root)
    sql = open_doc(editor, root / "recipes/per_customer.sql", language="sql")
    names = ("orders", "orders_clean", "customers", "per_customer")

    async def hovers() -> dict[str, str | None]:
        # Each dataset's name in the SQL file or in clean.py, hovered.
        out = {}
        for name, (uri, line, col) in where.items():
            text = await hover_text(editor, uri, line, col)
            out[name] = next((ln.strip() for ln in (text or "").splitlines()
                              if ln.strip().startswith("status:")), None)
        return out

    clean = open_doc(editor, root / "recipes/clean.py")
    clean_text = (root / "recipes/clean.py").read_text()
    where = {"orders_clean": (sql, *position_of((root / "recipes/per_customer.sql").read_text(),
                                                "orders_clean")),
             "orders": (clean, *position_of(clean_text, "(orders", 1)),
             "customers": (clean, *position_of(clean_text, "def customers", 4))}

    async def lens_titles() -> set[str]:
        found = await editor.text_document_code_lens_async(t.CodeLensParams(
            text_document=t.TextDocumentIdentifier(uri=clean)))
        return {lens.command.title for lens in found or [] if lens.command
                and lens.command.title.startswith("▶ Build")}

    def titles(api: dict[str, tuple[str, tuple[str, ...]]]) -> set[str]:
        return {"▶ Build · " + str(status_title([Status(wire.DatasetState(api[n][0]),
                                                        api[n][1])]))
                for n in ("orders_clean", "customers")}

    async def agree(what: str) -> None:
        last: dict[str, Any] = {}

        async def same() -> bool:
            last["api"] = api = api_statuses(client)
            last["cli"] = cli_statuses(root)
            last["editor"] = shown = await hovers()
            last["lenses"] = await lens_titles()
            return api == last["cli"] and all(shown[n] == described(api[n]) for n in shown) \
                and last["lenses"] == titles(api)

        try:
            await getattr(editor, REFRESHES).until(
                same, f"the API, the CLI and the editor to agree {what}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {last}") from None

    await agree("at the start")
    assert api_statuses(client)["orders_clean"][0] == "never built"

    # A build through the daemon.
    assert run_weir("build", "--all", cwd=root).code == 0
    await agree("after a build")
    assert {api_statuses(client)[n][0] for n in names} == {"source", "up to date"}

    # A source file changes: the poll finds it.
    with (root / "landing/orders.csv").open("a") as f:
        f.write("5,d,99.0\n")
    await agree("after the source changed")
    assert api_statuses(client)["orders_clean"] == ("stale", ("input orders changed",))

    # A build beside the daemon, not through it.
    assert run_weir("build", "--all", "--no-daemon", cwd=root).code == 0
    assert api_statuses(client)["orders_clean"][0] == "up to date"  # at once: no poll needed
    await agree("after a build beside the daemon")


def test_a_status_event_follows_a_build_and_a_source_change(shop: Path) -> None:
    root = shop
    client = DaemonClient.for_project(root)
    seen: list[wire.StatusChange] = []
    ready = threading.Event()

    def read() -> None:
        for kind, data in client.events():
            if kind == "hello":
                ready.set()
            elif kind == "status":
                seen.append(wire.StatusChange.from_json(data))

    threading.Thread(target=read, daemon=True).start()
    assert ready.wait(10)
    base = {d.name: d for d in client.statuses().datasets}

    def applied() -> dict[str, wire.DatasetStatus]:
        out = dict(base)
        for change in list(seen):
            out.update({d.name: d for d in change.changed})
            for name in change.removed:
                out.pop(name, None)
        return out

    assert run_weir("build", "--all", cwd=root).code == 0
    wait_until(lambda: applied() == {d.name: d for d in client.statuses().datasets}
               and applied()["per_customer"].rows == 3, 10, "the events to say the build")
    os.utime(root / "landing/orders.csv")  # touched, not changed: its content hash says so
    with (root / "landing/orders.csv").open("a") as f:
        f.write("5,d,99.0\n")
    wait_until(lambda: applied()["orders_clean"].status is wire.DatasetState.STALE, 10,
               "a status event for the changed source")
    assert seen[-1].cause is wire.StatusCause.POLL
    assert applied() == {d.name: d for d in client.statuses().datasets}


def test_the_language_server_takes_the_daemons_statuses_while_it_follows_one(
        make_project: Callable[..., Path]) -> None:
    """While the daemon's statuses are followed they are the editor's (even where this process
    would compute otherwise), except what the open buffers make invalid; without them, the
    editor computes its own again."""
    from weir_lsp.projects import Projects

    root = make_project(SMALL, name="small")
    project = Projects().for_path(root)
    assert project is not None
    assert project.status("orders_clean").state is wire.DatasetState.NEVER_BUILT

    def said(name: str, state: wire.DatasetState, reasons: tuple[str, ...] = ()) -> Any:
        return wire.DatasetStatus(name, state, reasons, 1.0, 3)

    project.take_daemon_statuses(wire.StatusReport("small", (
        said("orders", wire.DatasetState.SOURCE),
        said("orders_clean", wire.DatasetState.UP_TO_DATE),
        said("customers", wire.DatasetState.UP_TO_DATE))))
    assert project.status("orders_clean").state is wire.DatasetState.UP_TO_DATE
    project.apply_status_change(wire.StatusChange(2, wire.StatusCause.POLL, (
        said("orders_clean", wire.DatasetState.STALE, ("input orders changed",)),), ()))
    assert project.status("orders_clean").describe() == "stale: input orders changed"
    project.apply_status_change(wire.StatusChange(3, wire.StatusCause.COMMIT, (
        said("orders_clean", wire.DatasetState.UP_TO_DATE),), ()))
    # An edit not saved yet: the daemon cannot know it, the editor shows it as the user types.
    saved = (root / "recipes/clean.py").read_text()
    project.overlays["recipes/clean.py"] = saved.replace(
        "df.amount >= var", "df.amount > var")
    project.reload()
    assert project.status("orders_clean").describe() == "stale: changed in an unsaved edit"
    assert project.status("customers").state is wire.DatasetState.UP_TO_DATE  # reads orders
    assert project.status("orders").state is wire.DatasetState.SOURCE
    project.overlays["recipes/clean.py"] = saved.replace('"""Orders above', '"""Orders over')
    project.reload()  # a docstring is not code: the daemon's word stands
    assert project.status("orders_clean").state is wire.DatasetState.UP_TO_DATE
    project.overlays["recipes/clean.py"] = saved.replace(
        "def customers(orders)", "def customers(orders_clen)")
    project.reload()
    assert project.status("customers").state is wire.DatasetState.INVALID
    project.take_daemon_statuses(None)
    assert project.status("orders_clean").state is wire.DatasetState.NEVER_BUILT
