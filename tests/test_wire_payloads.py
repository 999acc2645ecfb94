"""The wire format as a real daemon sends it, recorded for the VS Code extension's tests.

A real daemon runs a project made to show every shape of its API (a source with a check, a
managed folder, a declared schema, a recipe that fails, one whose output is skipped, a typo that makes a
dataset invalid, a build that cannot start, a scenario run), and each answer and event is captured
over real HTTP. Every payload must round-trip through its type in ``weir.wire``, and must have the shape
of the recording committed in ``vscode-extension/test/payloads/`` — the files the extension's
types (``src/api.ts``) are checked against, and its unit tests' fakes are built from. So the
Python wire, the recordings and the TypeScript cannot disagree unnoticed.

``WEIR_RECORD_PAYLOADS=1`` writes the recordings instead (see RE_RECORD). Machine-specific
values — paths, times, pids, ports, tokens, run ids, fingerprints, commits — are replaced by
placeholders when recording, so re-recording an unchanged API changes no file.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import REPO, SMALL, git, run_weir, write_files
from weir import wire
from weir.build.claims import Claims, Holder
from weir.client import DaemonClient

PAYLOADS = REPO / "vscode-extension" / "test" / "payloads"
RECORDING = os.environ.get("WEIR_RECORD_PAYLOADS") == "1"
RE_RECORD = ("re-record them: WEIR_RECORD_PAYLOADS=1 pytest tests/test_wire_payloads.py, then "
             "make vscode-extension/src/api.ts and its validators (test/apiChecks.ts) agree: "
             "cd vscode-extension && npm run typecheck && npx vitest run")

PROJECT = {
    **SMALL,
    # A source with a check: the plan checks it first, and the build reports its `checked` job.
    "datasets/orders.yaml": SMALL["datasets/orders.yaml"] + """
        checks:
          - not_null: [id]
        """,
    "datasets/customers.yaml": """
        description: one row per customer
        zone: sales
        tags: [crm]
        schema:
          - {name: customer, type: string}
        """,
    "folders/brand.yaml": "description: logos\nconnection: landing\npath: brand\n",
    "landing/brand/logo.svg": "<svg/>\n",
    "recipes/charts.py": '''
        import pandas as pd
        import weir
        from weir import recipe


        @recipe(outputs=["charts"])
        def draw(orders_clean: pd.DataFrame, brand: weir.Folder, charts: weir.Folder):
            print(f"drawing {len(orders_clean)} orders")
            charts.write_bytes("index.svg", brand.read_bytes("logo.svg"))
        ''',
    "recipes/bad.py": '''
        from weir import recipe


        @recipe
        def bad(orders):
            raise ValueError("no amount column")


        @recipe
        def after_bad(bad):
            return bad
        ''',
    # A source cut by day and an output cut the same way, never built: their partition counts
    # (`partitions`) in the Flow's nodes, the statuses and their events.
    "datasets/visits.yaml": """
        connection: landing
        path: visits
        format: csv
        partitioning:
          day: {column: visit_date}
        """,
    "landing/visits/day=2026-12-01/part-0.csv": "page\nhome\n",
    "landing/visits/day=2026-12-02/part-0.csv": "page\nhome\n",
    "datasets/daily_visits.yaml": "partitioning:\n  day: {column: visit_date}\n",
    "recipes/daily_visits.sql": "SELECT visit_date, count(*) AS n FROM visits GROUP BY 1\n",
    # A scheduled scenario (so it has a next run) that writes a report: run once through the API.
    "scenarios/nightly.yaml": """
        description: the customers, every night
        triggers:
          - cron: "0 3 * * *"
        steps:
          - build: {targets: [orders_clean], mode: force}
          - check: [orders]
        reporters:
          - report: [json]
        """,
}
SCENARIO_CAUSE = {"cause": "airflow dag shop_nightly"}
TYPO = {"recipes/stats.py": "from weir import recipe\n\n\n@recipe\n"
                            "def customer_stats(orders_clen):\n    return orders_clen\n"}
BUILD = {"targets": ["per_customer", "charts", "customers"], "jobs": 1}  # one job at a time:
FAILING = {"targets": ["after_bad"], "jobs": 1}  # the events come in one order

# The keys a build's event stream adds around a wire type (the build's id; the plan's project
# root and folders, for the CLI's progress; whether a job starts or finishes), and the key
# /api/events adds to every build's event. Anything else a payload holds must be its type's.
ENVELOPE = {"plan": {"id", "root", "folders"}, "job": {"id", "event"}, "log": {"id"}, "wait": {"id"},
            "result": {"id"}, "build": set(), "end": set(), "hello": set(), "flow": set(),
            "status": set(), "scenario": set()}
EVENT_TYPES: dict[str, Any] = {
    "build": wire.BuildChange, "wait": wire.BuildWait, "plan": wire.Plan, "job": wire.JobReport, "log": wire.LogLines,
    "result": wire.BuildEnd, "end": wire.BuildSummary, "hello": wire.Hello,
    "flow": wire.FlowChange, "status": wire.StatusChange, "scenario": wire.ScenarioEvent}


# -- capturing ---------------------------------------------------------------------------------

class Api:
    """The daemon's API over real HTTP, each answer kept as it came."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.http = httpx.Client(base_url=info["url"], timeout=30,
                                 headers={"Authorization": f"Bearer {info['token']}"})
        self.client = DaemonClient(info["url"], info["token"])

    def get(self, path: str, status: int = 200) -> Any:
        answer = self.http.get(path)
        assert answer.status_code == status, answer.text
        return answer.json()

    def post(self, path: str, body: dict[str, Any], status: int = 200) -> Any:
        answer = self.http.post(path, json=body)
        assert answer.status_code == status, answer.text
        return answer.json()

    def build(self, body: dict[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
        """Starts a build; returns the POST's answer and the build's events to its `end`."""
        queued = self.post("/api/builds", body, 202)
        events = [{"event": kind, "data": data}
                  for kind, data in self.client.build_events(queued["id"])]
        assert events[-1]["event"] == "end"
        return queued, events


class Stream:
    """``GET /api/events`` read in a thread, every event kept."""

    def __init__(self, client: DaemonClient) -> None:
        self.events: list[dict[str, Any]] = []
        self.changed = threading.Condition()

        def read() -> None:
            for kind, data in client.events():
                with self.changed:
                    self.events.append({"event": kind, "data": data})
                    self.changed.notify_all()

        threading.Thread(target=read, daemon=True).start()

    def wait(self, predicate: Callable[[dict[str, Any]], bool], what: str) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: any(predicate(e) for e in self.events), 30), \
                f"no {what} on /api/events"


def capture(root: Path) -> dict[str, Any]:
    """Every payload, by file name (without .json), straight from a daemon running on
    ``root``."""
    assert run_weir("daemon", "start", cwd=root).code == 0
    try:
        info = json.loads((root / wire.DAEMON_FILE).read_text())
        api = Api(info)
        stream = Stream(api.client)
        stream.wait(lambda e: e["event"] == "hello", "hello")
        out: dict[str, Any] = {"daemon": info, "wire": api.get("/api/wire")}
        out["plan"] = api.post("/api/plan", {"targets": BUILD["targets"]})
        out["build-queued"], out["build-events"] = api.build(BUILD)
        built = out["build-queued"]["id"]
        out["build"] = api.get(f"/api/builds/{built}")
        _, out["failed-build-events"] = api.build(FAILING)
        out["dataset"] = api.get("/api/datasets/customers")
        out["dataset-failed"] = api.get("/api/datasets/bad")
        out["dataset-log"] = api.get("/api/datasets/customers/log")
        out["http-error"] = api.get("/api/datasets/orders_clen", 404)

        # A typo (customer_stats is invalid) and an edit (per_customer is stale).
        write_files(root, TYPO)
        sql = root / "recipes/per_customer.sql"
        sql.write_text(sql.read_text().replace("sum(amount)", "max(amount)"))

        def flow_event(key: str, name: str) -> Callable[[dict[str, Any]], bool]:
            return lambda e: e["event"] == "flow" and name in e["data"][key]

        stream.wait(flow_event("added", "customer_stats"), "flow event adding customer_stats")
        stream.wait(flow_event("changed", "per_customer"), "flow event changing per_customer")
        out["flow"] = api.get("/api/flow")
        statuses = {n["name"]: n["status"] for n in out["flow"]["nodes"]}
        assert (statuses["customer_stats"], statuses["per_customer"]) == ("invalid", "stale")
        out["datasets"] = api.get("/api/datasets")
        out["status"] = api.get("/api/status")
        out["health"] = api.get("/api/health")
        _, out["error-build-events"] = api.build({"targets": ["orders_clean"]})
        out["builds"] = api.get("/api/builds")
        # The global stream: its hello, the first build's events as everyone sees them, the
        # Flow's changes and the statuses' (merged: how the keeper batches them is timing).
        out["events"] = [e for e in stream.events if e["event"] in ("hello", "flow", "status")
                         or e["data"].get("build") == built]

        # A build that must write what another build is writing waits for it: here the other
        # is this process, holding the claim as a CLI build without the daemon does.
        (root / "recipes/stats.py").unlink()
        stream.wait(flow_event("removed", "customer_stats"), "flow event removing the typo")
        claim, _ = Claims(root / ".weir").try_claim(
            ["customers"], Holder(4242, None, "build customers --no-daemon"))
        assert claim is not None
        queued = api.post("/api/builds", {"targets": ["customers"], "mode": "force",
                                          "jobs": 1}, 202)
        stream.wait(lambda e: e["event"] == "wait" and e["data"]["build"] == queued["id"],
                    "the build to wait for the claim")
        claim.release()
        out["wait-build-events"] = [{"event": kind, "data": data}
                                    for kind, data in api.client.build_events(queued["id"])]
        out["events"] += [e for e in stream.events if e["event"] == "wait"]

        # A scenario run, started as an outside scheduler starts one, followed on its own
        # stream to its end; then its detail, its history and the list that says how it went.
        # Its first build waits for a claim held here until the start is answered, so the
        # answer is the run before any step ended, every time.
        claim, _ = Claims(root / ".weir").try_claim(
            ["orders_clean"], Holder(4242, None, "build orders_clean --no-daemon"))
        assert claim is not None
        started = api.post("/api/scenarios/nightly/runs", SCENARIO_CAUSE, 202)
        claim.release()
        out["scenario-run-started"] = started
        out["scenario-events"] = [{"event": kind, "data": data} for kind, data
                                  in api.client.scenario_events(started["run_id"])]
        out["scenario-run"] = api.get(f"/api/scenario-runs/{started['run_id']}")
        out["scenario-runs"] = api.get("/api/scenarios/nightly/runs?last=5")
        out["scenarios"] = api.get("/api/scenarios")
        stream.wait(lambda e: e["event"] == "scenario" and e["data"]["event"] == "end",
                    "the scenario run's end")
        out["events"] += first_of_each_kind(e for e in stream.events if e["event"] == "scenario")
        # A dataset the run built, whose detail now lists the run.
        out["dataset-scenario"] = api.get("/api/datasets/orders_clean")
        assert [r["run_id"] for r in out["dataset-scenario"]["scenario_runs"]] == [
            started["run_id"]]
        return out
    finally:
        assert run_weir("daemon", "stop", cwd=root).code == 0


def first_of_each_kind(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """A run's `scenario` events, one of each kind (start, line, step, end): how many lines
    a run says is not the API's shape."""
    seen: dict[str, dict[str, Any]] = {}
    for e in events:
        seen.setdefault(e["data"]["event"], e)
    return list(seen.values())


# -- placeholders -------------------------------------------------------------------------------

TIMES = {"created": 1_800_000_000.0, "started": 1_800_000_001.0, "finished": 1_800_000_002.0,
         "built_at": 1_800_000_002.0, "seconds": 0.25, "last_finished": 1_800_000_002.0,
         "next_run": 1_800_003_600.0}
RUN_ID = re.compile(r"\b\d{8}-\d{6}-[0-9a-f]{6}(?:[0-9a-f]{4})?\b")  # a build's, a scenario run's
FINGERPRINT_KEYS = {"fingerprint"}


class Placeholders:
    """Replaces what differs from one machine or run to the next by stable stand-ins of the
    same JSON type: a recording changes only when the API does."""

    def __init__(self, root: Path, info: dict[str, Any]) -> None:
        self.root = str(root)
        self.weir = str(Path(wire.__file__).parent)  # in a warning a library prints
        self.token = str(info["token"])
        self.port = int(info["port"])
        self.runs: dict[str, str] = {}

    def text(self, value: str) -> str:
        value = value.replace(self.root, "<root>").replace(self.token, "<token>")
        value = value.replace(self.weir, "<weir>")
        value = value.replace(f"127.0.0.1:{self.port}", "127.0.0.1:40285")
        value = re.sub(r"done in \d+\.\d+s \(checks and metrics \d+\.\d+s\), peak memory \d+ MiB",
                       "done in 0.250s (checks and metrics 0.001s), peak memory 200 MiB", value)
        return RUN_ID.sub(lambda m: self.runs.setdefault(m[0], f"<run-{len(self.runs) + 1}>"),
                          value)

    def __call__(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: self(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, float | int) and not isinstance(value, bool):
            if key in TIMES:
                return TIMES[key]
            if key == "pid":
                return 4242
            if key == "port":
                return 40285
        if isinstance(value, str):
            if key == "token":
                return "<token>"
            if key == "version":
                return "<version>"  # weir's
            if key == "fingerprint":
                return "<fingerprint>"
            if key == "commit":
                return "<commit>" + ("+" if value.endswith("+") else "")
            return self.text(value)
        return value


def merge_logs(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive `log` events of one job as one: how a job's lines are cut into events
    depends on when the daemon looked at its log file, not on the API."""
    out: list[dict[str, Any]] = []
    for e in events:
        last = out[-1] if out else None
        if (last and e["event"] == last["event"] == "log"
                and e["data"]["recipe"] == last["data"]["recipe"]):
            last["data"] = {**last["data"], "lines": last["data"]["lines"] + e["data"]["lines"]}
        else:
            out.append({"event": e["event"], "data": dict(e["data"])})
    return out


def merge_statuses(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every `status` event as one, where the last was: which changes the daemon's status
    keeper announces together depends on when its thread woke, not on the API. The merged
    event says each dataset as it was last announced, in name order."""
    statuses = [e["data"] for e in events if e["event"] == "status"]
    if not statuses:
        return events
    changed: dict[str, Any] = {}
    removed: set[str] = set()
    for data in statuses:
        for d in data["changed"]:
            changed[d["name"]] = d
            removed.discard(d["name"])
        for name in data["removed"]:
            changed.pop(name, None)
            removed.add(name)
    merged = {**statuses[-1], "changed": [changed[n] for n in sorted(changed)],
              "removed": sorted(removed)}
    last = max(i for i, e in enumerate(events) if e["event"] == "status")
    return [({"event": "status", "data": merged} if i == last else e)
            for i, e in enumerate(events) if e["event"] != "status" or i == last]


def normalised(payloads: dict[str, Any]) -> dict[str, Any]:
    place = Placeholders(Path(payloads["health"]["root"]), payloads["daemon"])
    out = {}
    for name, payload in payloads.items():
        if name.endswith("events"):
            payload = merge_statuses(merge_logs(payload))
        elif name == "build":
            kinds = [{"event": e["kind"], "data": e} for e in payload["events"]]
            payload = {**payload, "events": [e["data"] for e in merge_logs(kinds)]}
        out[name] = place(payload)
    return out


# -- shapes -------------------------------------------------------------------------------------

ENUM_KEYS = {"state", "status", "kind", "action", "mode", "event", "severity"}


def shape(payload: Any) -> dict[str, set[str]]:
    """What a payload is made of, path by path: each value's JSON type, the values seen under
    keys that hold an enum, and "absent" where an object of a list lacks a key its siblings
    have. A list's objects are told apart by their `event` (an event file's entries) or
    `kind` (nodes, a build's events): a job event and a plan event are two shapes."""
    out: dict[str, set[str]] = {}
    keysets: dict[str, list[set[str]]] = {}

    def walk(value: Any, path: str, key: str) -> None:
        kinds = out.setdefault(path, set())
        if isinstance(value, dict):
            kinds.add("object")
            keysets.setdefault(path, []).append(set(value))
            for k, v in value.items():
                walk(v, f"{path}.{k}", k)
        elif isinstance(value, list):
            kinds.add("array")
            for item in value:
                tag = ""
                if isinstance(item, dict):
                    if isinstance(item.get("event"), str) and "data" in item:
                        tag = f"event={item['event']}"
                    elif isinstance(item.get("kind"), str):
                        tag = f"kind={item['kind']}"
                walk(item, f"{path}[{tag}]", "")
        else:
            kinds.add({bool: "boolean", int: "integer", float: "number", str: "string",
                       type(None): "null"}[type(value)])
            if key in ENUM_KEYS and isinstance(value, str):
                kinds.add(f"={value}")

    walk(payload, "$", "")
    for path, sets in keysets.items():
        every = set().union(*sets)
        for keys in sets:
            for missing in every - keys:
                out[f"{path}.{missing}"].add("absent")
    return out


def shape_difference(recorded: Any, fresh: Any) -> list[str]:
    before, now = shape(recorded), shape(fresh)
    return [f"  {path}: recorded {sorted(before.get(path, {'(nothing)'}))}, "
            f"now {sorted(now.get(path, {'(nothing)'}))}"
            for path in sorted(before.keys() | now.keys())
            if before.get(path) != now.get(path)]


# -- round trips --------------------------------------------------------------------------------

def round_trip(cls: Any, payload: dict[str, Any], envelope: set[str] = frozenset()) -> None:
    """``payload`` is exactly what its wire type writes, once its envelope keys are set
    aside: no key the type does not know, none it would write that is missing."""
    body = {k: v for k, v in payload.items() if k not in envelope}
    assert cls.from_json(body).to_json() == body, f"{cls.__name__} does not round-trip"


def round_trip_event(kind: str, data: dict[str, Any], stream: str) -> None:
    """An event of ``stream``: a build's own (``build-events``…), the global one (``events``:
    a build's events say which build), a build's list of them (``build``: each says its
    kind), or a scenario run's own (``scenario-events``: its `end` is the run's report)."""
    if stream == "scenario-events" and kind == "end":
        round_trip(wire.ScenarioRunReport, data)
        return
    envelope = ENVELOPE[kind] | ({"build"} if stream == "events" and kind in
                                 ("build", "wait", "plan", "job", "log", "result") else set())
    round_trip(EVENT_TYPES[kind], data, envelope | ({"kind"} if stream == "build" else set()))


def check_round_trips(payloads: dict[str, Any]) -> None:
    """Every payload through its type in weir.wire (and the two that are not the wire's:
    FastAPI's error body, and the vocabulary, which is wire.vocabulary() itself)."""
    by_name: dict[str, Callable[[Any], None]] = {
        "daemon": lambda p: round_trip(wire.DaemonInfo, p),
        "health": lambda p: round_trip(wire.Health, p),
        "flow": lambda p: round_trip(wire.FlowGraph, p),
        "datasets": lambda p: [round_trip(wire.DatasetSummary, d) for d in p],
        "status": lambda p: round_trip(wire.StatusReport, p),
        "dataset": lambda p: round_trip(wire.DatasetDetail, p),
        "dataset-failed": lambda p: round_trip(wire.DatasetDetail, p),
        "dataset-scenario": lambda p: round_trip(wire.DatasetDetail, p),
        "dataset-log": lambda p: round_trip(wire.BuildLog, p),
        "plan": lambda p: round_trip(wire.Plan, p),
        "build-queued": lambda p: round_trip(wire.BuildSummary, p),
        "builds": lambda p: [round_trip(wire.BuildSummary, b) for b in p],
        "build": lambda p: (round_trip(wire.BuildSummary, p, {"events"}),
                            [round_trip_event(e["kind"], e, "build") for e in p["events"]]),
        "scenarios": lambda p: [round_trip(wire.ScenarioSummary, x) for x in p["scenarios"]],
        "scenario-run-started": lambda p: round_trip(wire.ScenarioRunReport, p),
        "scenario-run": lambda p: round_trip(wire.ScenarioRunReport, p),
        "scenario-runs": lambda p: [round_trip(wire.ScenarioRunReport, r) for r in p["runs"]],
        "http-error": lambda p: (set(p) == {"detail"} and isinstance(p["detail"], str)) or
        pytest.fail(f"an error answer is FastAPI's {{detail}}, not {p}"),
        "wire": lambda p: p == json.loads(json.dumps(wire.vocabulary())) or
        pytest.fail("the recorded vocabulary is not wire.vocabulary()"),
    }
    for name, payload in payloads.items():
        if name.endswith("events"):
            for e in payload:
                round_trip_event(e["event"], e["data"], name)
        else:
            by_name[name](payload)
    assert by_name.keys() <= payloads.keys()


# -- the tests ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One daemon session's payloads, with placeholders."""
    root = tmp_path_factory.mktemp("payloads") / "shop"
    root.mkdir()
    write_files(root, {**PROJECT, "weir.yaml": SMALL["weir.yaml"].replace("small", "shop"),
                       ".gitignore": ".weir/\ndata/\n"})
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "initial")
    return normalised(capture(root))


def recorded() -> Iterator[tuple[str, Any]]:
    for path in sorted(PAYLOADS.glob("*.json")):
        yield path.stem, json.loads(path.read_text())


def test_every_payload_round_trips_through_its_wire_type(fresh: dict[str, Any]) -> None:
    check_round_trips(fresh)
    if not RECORDING:
        check_round_trips(dict(recorded()))


def test_the_recorded_payloads_have_the_daemons_shapes(fresh: dict[str, Any]) -> None:
    if RECORDING:
        PAYLOADS.mkdir(parents=True, exist_ok=True)
        for old in PAYLOADS.glob("*.json"):
            old.unlink()
        for name, payload in fresh.items():
            (PAYLOADS / f"{name}.json").write_text(json.dumps(payload, indent=2,
                                                              ensure_ascii=False) + "\n")
        return
    saved = dict(recorded())
    problems = [f"{name}.json: the daemon no longer sends it" for name in saved.keys() -
                fresh.keys()]
    problems += [f"{name}.json: not recorded" for name in fresh.keys() - saved.keys()]
    for name in sorted(saved.keys() & fresh.keys()):
        if name == "wire":  # the vocabulary is the same everywhere: compared whole
            if saved[name] != fresh[name]:
                problems.append("wire.json: the enums changed")
            continue
        difference = shape_difference(saved[name], fresh[name])
        if difference:
            problems.append(f"{name}.json:\n" + "\n".join(difference))
    assert not problems, (f"the daemon's payloads differ from those recorded in {PAYLOADS}:\n"
                          + "\n".join(problems) + f"\nIf the change is meant, {RE_RECORD}")


def test_the_shape_comparison_sees_a_renamed_key_a_new_type_and_a_new_enum_value() -> None:
    job = {"event": "job", "data": {"event": "finish", "status": "built", "rows": {"a": 1},
                                    "error": None}}
    same = {"event": "job", "data": {"event": "finish", "status": "built", "rows": {"a": 9},
                                     "error": None}}
    assert shape_difference([job], [same]) == []  # values are not shapes
    renamed = {"event": "job", "data": {"event": "finish", "state": "built", "rows": {"a": 1},
                                        "error": None}}
    assert any(".state" in d for d in shape_difference([job], [renamed]))
    retyped = {"event": "job", "data": {**job["data"], "error": "boom"}}
    assert any(".error" in d and "string" in d for d in shape_difference([job], [retyped]))
    new_value = {"event": "job", "data": {**job["data"], "status": "vanished"}}
    assert any("=vanished" in d for d in shape_difference([job], [new_value]))
    sometimes = [{"kind": "dataset", "zone": "z"}, {"kind": "dataset"}]
    assert any("absent" in d for d in shape_difference([{"kind": "dataset", "zone": "z"}],
                                                       sometimes))


def test_a_payload_with_a_key_its_type_does_not_know_does_not_round_trip() -> None:
    health = {"project": "shop", "root": "<root>", "version": "<version>", "pid": 4242,
              "flow_version": 1, "errors": 0, "started": 1_800_000_000.0, "environment": None}
    round_trip(wire.Health, health)
    with pytest.raises(AssertionError, match="Health does not round-trip"):
        round_trip(wire.Health, {**health, "uptime": 3.0})
    with pytest.raises(AssertionError, match="JobReport does not round-trip"):
        round_trip_event("job", {"id": "b1", "event": "start", "recipe": "r", "outputs": [],
                                 "status": "running"}, "build-events")
