"""The daemon's HTTP API: the public API of a project for the CLI, the editor and outside
schedulers. Bearer-token auth (the token is in .weir/daemon.json, readable only by its owner);
JSON by default, msgpack on ``Accept: application/msgpack``; Server-Sent Events on /api/events;
OpenAPI docs at /docs.

Every request under /api/ passes :class:`Guard` first: the token is checked before anything
reads the body, the path or the method, so a caller without it learns nothing (not even that
its body is malformed). Bodies are read as strict JSON (:func:`strict_json`) and every
malformed request is a 4xx whose ``detail`` is one readable string — never an echo of the
input, which may not even be serialisable (NaN) or may be megabytes long.
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgpack
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from weir import wire
from weir._version import __version__
from weir.errors import WeirError
from weir.flow.export import flow_graph
from weir.server.events import CLOSED, sse
from weir.server.layouts import MAX_SHAPE
from weir.server.page import flow_page_html

if TYPE_CHECKING:
    from weir.server.daemon import Daemon

COOKIE = "weir_token"
FETCH_WAIT = 60.0  # seconds POST /api/deploy/fetch waits for its fetch and deploy
MAX_BODY = 1 << 20  # 10,000 targets fit many times over; more is a mistake or an attack
UNAUTHORISED = ("missing or wrong token: send `Authorization: Bearer <token>` with the token "
                "from .weir/daemon.json")


class ChecksBody(BaseModel):
    """Whose checks to run: names and selectors as on the command line; none: every dataset
    that has checks."""

    model_config = ConfigDict(extra="forbid", strict=True)

    targets: list[str] = Field(default_factory=list, max_length=10_000)


class LayoutBody(BaseModel):
    """A layout the Flow page made (wire.FlowLayout): its shape's digest and the layout."""

    model_config = ConfigDict(extra="forbid", strict=True)

    shape: str = Field(min_length=1, max_length=MAX_SHAPE)
    layout: dict[str, Any]


class BuildBody(BaseModel):
    """What to build: targets and selectors as on the command line (`orders_clean`, `+x`,
    `x+`, `tag:t`, `zone:z`), a mode, or `all` / `stale`.

    Strict and closed: `"all": "yes"` or `"jobs": "3"` is a mistake to report, not to guess
    at, and a misspelt field (`fail_fsat`) would otherwise be silently ignored."""

    model_config = ConfigDict(extra="forbid", strict=True)

    targets: list[str] = Field(default_factory=list, max_length=10_000)
    mode: str = "required"
    all: bool = False
    stale: bool = False
    jobs: int = 0
    fail_fast: bool = False
    variables: dict[str, Any] = Field(default_factory=dict)  # other values, for this build
    by: str = Field(default="", max_length=200)  # who asks, in words: `weir log`'s trigger
    partitions: str = Field(default="", max_length=10_000)  # as `--partition` says them
    executor: str = Field(default="", max_length=300)  # `local`, `dask://HOST:PORT`; "": env's

    def request(self) -> wire.BuildRequest:
        """The request in the wire's own type (once the body has passed ``check_body``)."""
        return wire.BuildRequest(tuple(self.targets), wire.Mode(self.mode), self.all, self.stale,
                                 self.jobs, self.fail_fast, dict(self.variables), self.by,
                                 self.partitions, self.executor)


class ScenarioRunBody(BaseModel):
    """Who starts the run, in words for its history (e.g. "airflow dag nightly")."""

    model_config = ConfigDict(extra="forbid", strict=True)

    cause: str = Field(default="API", max_length=200)


def respond(request: Request, data: Any, status_code: int = 200) -> Response:
    if "application/msgpack" in request.headers.get("accept", ""):
        return Response(msgpack.packb(data, default=str), media_type="application/msgpack",
                        status_code=status_code)
    return JSONResponse(data, status_code=status_code)


def token_matches(given: str, token: str) -> bool:
    return bool(given) and secrets.compare_digest(given.encode(), token.encode())


def given_token(request: Request) -> str:
    """The bearer token, else ``?token=`` (an EventSource cannot set headers), else the cookie
    the Flow page gets when opened with ``?token=``."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.query_params.get("token") or request.cookies.get(COOKIE, "")


class Guard:
    """Checks the token of every /api/ request before the app sees it, then hands the app the
    body read in full, at most MAX_BODY bytes.

    A middleware, because FastAPI reads and parses a route's body before it runs the route's
    dependencies: a token check there would answer a malformed body's 422 to a caller without
    the token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == "/api" or path.startswith("/api/")):
            await self.app(scope, receive, send)
            return
        if not token_matches(given_token(Request(scope)), self.token):
            await JSONResponse({"detail": UNAUTHORISED}, 401,
                               {"WWW-Authenticate": "Bearer"})(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD"):  # an event stream keeps receive() to itself
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > MAX_BODY:
                await JSONResponse({"detail": f"the request body is larger than "
                                    f"{MAX_BODY / (1 << 20):g} MiB"}, 413)(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        body: list[Message] = [{"type": "http.request", "body": b"".join(chunks),
                                "more_body": False}]

        async def replay() -> Message:
            return body.pop() if body else await receive()

        await self.app(scope, replay, send)


def strict_json(raw: bytes) -> Any:
    """JSON as RFC 8259 has it. Python's json module also takes NaN, Infinity and numbers
    that overflow to infinity, and strings with lone surrogates: none of them can be sent
    back or stored, so they are refused here, as a decode error FastAPI turns into a 422."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise json.JSONDecodeError("the body is not UTF-8", "", exc.start) from None

    def constant(name: str) -> Any:
        raise json.JSONDecodeError(f"{name} is not a JSON number", text, max(text.find(name), 0))

    def finite(number: str) -> float:
        value = float(number)
        if not math.isfinite(value):
            raise json.JSONDecodeError(f"{number} is not a finite number", text,
                                       max(text.find(number), 0))
        return value

    try:
        value = json.loads(text, parse_constant=constant, parse_float=finite)
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError("it is nested too deeply", text, 0) from None
    except UnicodeEncodeError:
        raise json.JSONDecodeError("a string holds a lone surrogate (an escape between "
                                   "\\ud800 and \\udfff that is no character)", text,
                                   0) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise json.JSONDecodeError(str(exc), text, 0) from None
    return value


class StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_json(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """A route that reads its body with :func:`strict_json`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict


def validation_detail(errors: Sequence[Any]) -> str:
    """One message for a request FastAPI could not validate, naming fields, not echoing
    values."""
    fields = list(BuildBody.model_fields)
    parts: list[str] = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ())]
        where = ".".join(loc[1:]) if loc[:1] == ["body"] else ".".join(loc)
        kind = error.get("type", "")
        if kind == "json_invalid":
            parts.append(f"the body is not valid JSON: {error.get('ctx', {}).get('error')}")
        elif kind == "missing" and loc == ["body"]:
            parts.append('the body is missing: send a JSON object such as '
                         '{"targets": ["orders_clean"]}')
        elif kind in ("model_attributes_type", "model_type", "dict_type") and loc == ["body"]:
            parts.append("the body must be a JSON object, sent with "
                         "Content-Type: application/json")
        elif kind == "extra_forbidden":
            from weir.model.suggest import did_you_mean

            name = loc[-1]
            suggestion = did_you_mean(name, fields)
            parts.append(f"unknown field '{name}'" + (f" ({suggestion})" if suggestion else
                                                       f" (fields: {', '.join(fields)})"))
        else:
            parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else
                         str(error.get("msg", "invalid")))
    return "; ".join(dict.fromkeys(parts)) or "invalid request"


def replay(follow: Callable[[int], tuple[list[tuple[str, Any]], bool]],
           end: Callable[[], Any]) -> StreamingResponse:
    """A build's or a scenario run's events from its start, then live, as Server-Sent
    Events; once it is over (it records nothing more), an `end` event with ``end()``.
    ``follow(index)`` gives the events from ``index`` on, waiting up to 5 s for one."""

    async def stream() -> AsyncIterator[bytes]:
        index = 0
        while True:
            events, over = await asyncio.to_thread(follow, index)
            for kind, data in events:
                yield sse(kind, data)
            index += len(events)
            if over:
                yield sse("end", end())
                return
            if not events:
                # At least every 5 s, so a client can tell a silent recipe from a daemon
                # that stopped answering.
                yield b": keep-alive\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


def create_app(daemon: Daemon) -> FastAPI:
    app = FastAPI(title="weir daemon", version=__version__,
                  description="The public API of one weir project: its Flow, datasets and "
                  "builds. Send `Authorization: Bearer <token>` with the token from "
                  "`.weir/daemon.json`.")
    app.add_middleware(Guard, token=daemon.token)
    # Guard checks the token; this dependency only declares the scheme in the OpenAPI docs.
    api = APIRouter(prefix="/api", route_class=StrictJSONRoute,
                    dependencies=[Depends(HTTPBearer(auto_error=False))])

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")),
                   "type": str(e.get("type", ""))} for e in exc.errors()[:20]]
        return JSONResponse({"detail": validation_detail(exc.errors()), "errors": errors}, 422)

    @app.on_event("startup")
    async def _bind_loop() -> None:
        daemon.hub.loop = asyncio.get_running_loop()

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def flow_page(request: Request, token: str = "") -> Response:
        """The Flow page. Open it once with ``?token=…`` (``weir daemon status`` prints the
        link); it then keeps the token in an HttpOnly cookie for its API calls."""
        if token_matches(token, daemon.token):
            response = HTMLResponse(flow_page_html())
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
            return response
        if token_matches(request.cookies.get(COOKIE, ""), daemon.token):
            return HTMLResponse(flow_page_html())
        return HTMLResponse("<!doctype html><title>weir</title><p>Open this page with the "
                            "link <code>weir daemon status</code> prints (it carries the "
                            "token).</p>", status_code=401)

    @api.get("/health")
    def health(request: Request) -> Response:
        snap = daemon.live.snapshot
        return respond(request, wire.Health(snap.project.name if snap.project else None,
                                            str(daemon.root), __version__, daemon.pid,
                                            snap.version, len(snap.errors),
                                            daemon.started, daemon.environment).to_json())

    def deployer() -> Any:
        if daemon.deployer is None:
            raise HTTPException(404, "this daemon deploys nothing: it serves the project's "
                                "own files (`weir --env NAME daemon --follow` deploys a branch)")
        return daemon.deployer

    @api.get("/deploy")
    def deployment(request: Request) -> Response:
        """What a deploying daemon serves (wire.Deployment): the commit deployed, the last
        fetch, the last commit it did not deploy and why."""
        return respond(request, deployer().state.to_json())

    @api.post("/deploy/fetch")
    def deploy_fetch(request: Request) -> Response:
        """Fetch the branch now and deploy its head if it is new and reads without errors;
        answered once that is done (202 with where it stands if that takes over a minute)."""
        state, done = deployer().fetch_now(FETCH_WAIT)
        return respond(request, state.to_json(), 200 if done else 202)

    @api.get("/wire")
    def wire_vocabulary(request: Request) -> Response:
        """The wire's enums (weir/wire.py), member name -> value, the final build states and
        the job statuses that succeeded: what a client names states by."""
        return respond(request, wire.vocabulary())

    @api.get("/flow")
    def flow(request: Request) -> Response:
        snap = daemon.live.snapshot
        graph = wire.FlowGraph(None, (), ())
        if snap.flow is not None:
            state = daemon.data_status(snap)
            graph = flow_graph(snap.flow, state.statuses, daemon.builds.writing(),
                               state.all_partition_counts())
        return respond(request, replace(graph, flow_version=snap.version,
                                        diagnostics=snap.diagnostics,
                                        environment=daemon.environment).to_json())

    @api.get("/flow/layout")
    def flow_layout(request: Request, shape: str = "") -> Response:
        """The layout a page made of this shape, if the daemon keeps one (server/layouts.py)."""
        kept = daemon.layouts.get(shape)
        if kept is None:
            raise HTTPException(404, "no layout kept for this shape of the Flow")
        return respond(request, kept.to_json())

    @api.put("/flow/layout", status_code=204)
    def keep_flow_layout(body: LayoutBody) -> Response:
        daemon.layouts.put(wire.FlowLayout(body.shape, body.layout))
        return Response(status_code=204)

    @api.get("/scenarios")
    def scenarios(request: Request) -> Response:
        """The project's scenarios — triggers in words, steps, next run — as `weir scenario
        list --json` says them; a scenario file with a mistake is not among them (its
        diagnostics are in GET /api/flow)."""
        listed = daemon.scenarios.summaries(daemon.live.snapshot)
        return respond(request, {"scenarios": [s.to_json() for s in listed]})

    @api.post("/scenarios/{name}/runs", status_code=202)
    def run_scenario(name: str, request: Request,
                     body: ScenarioRunBody | None = None) -> Response:
        """Start the scenario now: the run (status `running`; follow it with
        GET /api/scenario-runs/{run_id}/events), or — it is running already — the start,
        skipped and recorded (status `skipped`, `skipped_for` the run in progress)."""
        snap = daemon.live.snapshot
        known = snap.project.scenarios if snap.project else {}
        try:
            got = daemon.scenarios.run(name, body.cause if body else "API")
        except WeirError as exc:  # an unknown scenario, or a project that cannot be read
            raise HTTPException(404 if name not in known else 422, exc.message) from None
        report = got if isinstance(got, wire.ScenarioRunReport) else got.detail()
        response = respond(request, report.to_json())
        response.status_code = 202
        return response

    @api.get("/scenarios/{name}/runs")
    def scenario_runs(name: str, request: Request, last: int = 20) -> Response:
        """The scenario's last runs, newest first (a run in progress first of all)."""
        runs = daemon.scenarios.history(name, max(1, min(last, 500)))
        return respond(request, {"scenario": name, "runs": [r.to_json() for r in runs]})

    def _scenario_run(run_id: str) -> Any:
        run = daemon.scenarios.runs.get(run_id)
        if run is None:
            raise HTTPException(404, f"no scenario run '{run_id}' in progress or recent")
        return run

    @api.get("/scenario-runs/{run_id}")
    def scenario_run(run_id: str, request: Request) -> Response:
        """A run: its steps so far (status `running`) or its report."""
        report = daemon.scenarios.detail(run_id)
        if report is None:
            raise HTTPException(404, f"no scenario run '{run_id}'")
        return respond(request, report.to_json())

    @api.post("/scenario-runs/{run_id}/cancel")
    def cancel_scenario_run(run_id: str, request: Request) -> Response:
        """Stop the run: the step it is in is stopped (a build cancelled, a python step's
        process killed), the steps after it are skipped; the run ends `cancelled`."""
        return respond(request, daemon.scenarios.cancel(_scenario_run(run_id).run_id
                                                        ).detail().to_json())

    @api.get("/scenario-runs/{run_id}/events")
    async def follow_scenario_run(run_id: str) -> StreamingResponse:
        """The run's `scenario` events from its start, then live; the stream ends with an
        `end` event carrying its report."""
        run = _scenario_run(run_id)
        return replay(lambda index: run.follow(index, 5.0), lambda: run.detail().to_json())

    @api.get("/status")
    def status(request: Request) -> Response:
        """Every dataset's status, reasons, rows and last build, in Flow order (what
        `weir status --json` says), and the Flow version they are of; the `status` event
        says each change since."""
        snap = daemon.live.snapshot
        if snap.flow is None or snap.project is None:
            raise HTTPException(409, "the project cannot be read: see GET /api/flow's "
                                "diagnostics")
        return respond(request, daemon.status_report(snap).to_json())

    @api.get("/datasets")
    def datasets(request: Request) -> Response:
        snap = daemon.live.snapshot
        if snap.flow is None:
            return respond(request, [])
        graph = flow_graph(snap.flow, daemon.statuses(snap), daemon.builds.writing())
        return respond(request, [wire.DatasetSummary.of(n).to_json() for n in graph.nodes])

    @api.get("/datasets/{name}")
    def dataset(name: str, request: Request) -> Response:
        snap = daemon.live.snapshot
        if snap.flow is None or snap.project is None or name not in snap.project.datasets:
            from weir.model.suggest import did_you_mean

            known = snap.project.datasets if snap.project else {}
            raise HTTPException(404, f"unknown dataset '{name}'"
                                + (f" ({did_you_mean(name, known)})"
                                   if did_you_mean(name, known) else ""))
        return respond(request, daemon.dataset_detail(snap, name).to_json())

    def check_body(body: BuildBody) -> None:
        from weir.wire import Mode

        if body.mode not in {m.value for m in Mode}:
            raise HTTPException(422, f"unknown mode '{body.mode}': one of "
                                f"{', '.join(m.value for m in Mode)}")
        if not body.targets and not body.all and not body.stale:
            raise HTTPException(422, "nothing to build: give targets, all or stale")
        if body.jobs < 0 or body.jobs > 256:
            raise HTTPException(422, "jobs must be between 0 (the number of cores) and 256")
        if body.executor:
            from weir.model.executor_settings import EXAMPLE, read_executor

            read = read_executor(body.executor)
            if isinstance(read, str):
                raise HTTPException(422, f"executor: {read} (use {EXAMPLE})")

    @api.post("/plan")
    def plan(body: BuildBody, request: Request) -> Response:
        """What `POST /api/builds` with the same body would run now, and why — without
        running anything (as `weir plan --json`)."""
        check_body(body)
        try:
            data = daemon.plan(daemon.live.snapshot, body.request()).to_json()
        except WeirError as exc:
            raise HTTPException(422, exc.message + (f" ({exc.hint})" if exc.hint else "")
                                ) from None
        return respond(request, data)

    @api.post("/checks")
    def run_checks(body: ChecksBody, request: Request) -> Response:
        """Run datasets' checks on the data they hold now, without building (as `weir check
        --json`): in the daemon's workers; answered when they are done."""
        try:
            data = daemon.check(daemon.live.snapshot, body.targets).to_json()
        except WeirError as exc:
            raise HTTPException(422, exc.message + (f" ({exc.hint})" if exc.hint else "")
                                ) from None
        return respond(request, data)

    @api.post("/builds", status_code=202)
    def start_build(body: BuildBody, request: Request) -> Response:
        """Queue a build. It runs when the builds before it are done; follow it with
        GET /api/builds/{id}/events."""
        check_body(body)
        build = daemon.builds.submit(body.request())
        response = respond(request, build.summary().to_json())
        response.status_code = 202
        return response

    @api.get("/builds")
    def list_builds(request: Request) -> Response:
        return respond(request, [b.summary().to_json()
                                 for b in reversed(daemon.builds.builds.values())])

    def _build(build_id: str) -> Any:
        build = daemon.builds.builds.get(build_id)
        if build is None:
            raise HTTPException(404, f"no build '{build_id}'")
        return build

    @api.get("/builds/{build_id}")
    def get_build(build_id: str, request: Request) -> Response:
        build = _build(build_id)
        data = build.summary().to_json()
        data["events"] = [{"kind": k, **d} for k, d in build.events]
        return respond(request, data)

    @api.post("/builds/{build_id}/cancel")
    def cancel_build(build_id: str, request: Request) -> Response:
        _build(build_id)
        return respond(request, daemon.builds.cancel(build_id).summary().to_json())

    @api.get("/builds/{build_id}/events")
    async def follow_build(build_id: str) -> StreamingResponse:
        """The build's events from its start, then live; the stream ends with the build."""
        build = _build(build_id)
        return replay(lambda index: daemon.builds.follow(build, index, 5.0),
                      lambda: build.summary().to_json())

    @api.get("/datasets/{name}/log")
    def dataset_log(name: str, request: Request) -> Response:
        """The log of the dataset's last build: what its recipe printed, and the traceback."""
        snap = daemon.live.snapshot
        if snap.project is None or name not in snap.project.datasets:
            raise HTTPException(404, f"unknown dataset '{name}'")
        path, status = daemon.last_log(name)
        if path is None:
            raise HTTPException(404, f"'{name}' has no build log yet")
        text = Path(path).read_text(encoding="utf-8", errors="replace")
        return respond(request, wire.BuildLog(name, str(status), path,
                                               text[-200_000:]).to_json())

    @api.get("/datasets/{name}/metrics")
    def dataset_metrics(name: str, request: Request, last: int = 20) -> Response:
        """The dataset's metrics at its last builds, newest first (`weir metrics x --json`)."""
        snap = daemon.live.snapshot
        if snap.project is None or name not in snap.project.datasets:
            raise HTTPException(404, f"unknown dataset '{name}'")
        return respond(request, daemon.metrics(name, max(1, min(last, 500))).to_json())

    @api.get("/events")
    async def events() -> StreamingResponse:
        queue = daemon.hub.subscribe()

        async def stream() -> AsyncIterator[bytes]:
            try:
                yield sse("hello", wire.Hello(daemon.live.snapshot.version).to_json())
                while True:
                    try:
                        kind, data = await asyncio.wait_for(queue.get(), timeout=15)
                    except TimeoutError:
                        yield b": keep-alive\n\n"
                        continue
                    if kind == CLOSED:
                        return  # the daemon is stopping: the stream ends, cleanly
                    yield sse(kind, data)
            finally:
                daemon.hub.unsubscribe(queue)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    app.include_router(api)
    return app
