"""The daemon's HTTP API: the public API of a project for the CLI, the editor and outside
schedulers. Bearer-token auth (the token is in .weir/daemon.json, readable only by its owner);
JSON by default, msgpack on ``Accept: application/msgpack``; Server-Sent Events on /api/events;
OpenAPI docs at /docs."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgpack
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from weir._version import __version__
from weir.errors import WeirError
from weir.flow.export import flow_json
from weir.server.events import sse

if TYPE_CHECKING:
    from weir.server.daemon import Daemon

COOKIE = "weir_token"
FLOW_PAGE = Path(__file__).resolve().parent / "static" / "flow.html"


class BuildBody(BaseModel):
    """What to build: targets and selectors as on the command line (`orders_clean`, `+x`,
    `x+`, `tag:t`, `zone:z`), a mode, or `all` / `stale`."""

    targets: list[str] = Field(default_factory=list, max_length=10_000)
    mode: str = "required"
    all: bool = False
    stale: bool = False
    jobs: int = 0
    fail_fast: bool = False


def respond(request: Request, data: Any) -> Response:
    if "application/msgpack" in request.headers.get("accept", ""):
        return Response(msgpack.packb(data, default=str), media_type="application/msgpack")
    return JSONResponse(data)


def create_app(daemon: Daemon) -> FastAPI:
    app = FastAPI(title="weir daemon", version=__version__,
                  description="The public API of one weir project: its Flow, datasets and "
                  "(soon) builds. Send `Authorization: Bearer <token>` with the token from "
                  "`.weir/daemon.json`.")
    bearer = HTTPBearer(auto_error=False)

    def authorised(request: Request,
                   credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        # The bearer token, or the cookie the Flow page gets when opened with ?token=.
        given = (credentials.credentials if credentials else
                 request.query_params.get("token") or request.cookies.get(COOKIE, ""))
        if not given or not secrets.compare_digest(given.encode(), daemon.token.encode()):
            raise HTTPException(401, "missing or wrong token: send `Authorization: Bearer "
                                "<token>` with the token from .weir/daemon.json",
                                headers={"WWW-Authenticate": "Bearer"})

    @app.on_event("startup")
    async def _bind_loop() -> None:
        daemon.hub.loop = asyncio.get_running_loop()

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def flow_page(request: Request, token: str = "") -> Response:
        """The Flow page. Open it once with ``?token=…`` (``weir daemon status`` prints the
        link); it then keeps the token in an HttpOnly cookie for its API calls."""
        cookie = request.cookies.get(COOKIE, "")
        if token and secrets.compare_digest(token.encode(), daemon.token.encode()):
            response = HTMLResponse(FLOW_PAGE.read_text(encoding="utf-8"))
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
            return response
        if cookie and secrets.compare_digest(cookie.encode(), daemon.token.encode()):
            return HTMLResponse(FLOW_PAGE.read_text(encoding="utf-8"))
        return HTMLResponse("<!doctype html><title>weir</title><p>Open this page with the "
                            "link <code>weir daemon status</code> prints (it carries the "
                            "token).</p>", status_code=401)

    @app.get("/api/health", dependencies=[Depends(authorised)])
    def health(request: Request) -> Response:
        snap = daemon.live.snapshot
        return respond(request, {"project": snap.project.name if snap.project else None,
                                 "root": str(daemon.root), "version": __version__,
                                 "pid": daemon.pid, "flow_version": snap.version,
                                 "errors": len(snap.errors), "started": daemon.started})

    @app.get("/api/flow", dependencies=[Depends(authorised)])
    def flow(request: Request) -> Response:
        snap = daemon.live.snapshot
        if snap.flow is None:
            data: dict[str, Any] = {"project": None, "nodes": [], "edges": []}
        else:
            data = flow_json(snap.flow, daemon.statuses(snap), daemon.builds.writing())
        data["flow_version"] = snap.version
        data["diagnostics"] = [d.to_json() for d in snap.diagnostics]
        return respond(request, data)

    @app.get("/api/datasets", dependencies=[Depends(authorised)])
    def datasets(request: Request) -> Response:
        snap = daemon.live.snapshot
        if snap.flow is None:
            return respond(request, [])
        statuses = daemon.statuses(snap)
        return respond(request, [{"name": n["name"], "kind": n["kind"], "status": n.get("status"),
                                  "reasons": n.get("reasons", []), "building": n["building"]}
                                 for n in flow_json(snap.flow, statuses,
                                                    daemon.builds.writing())["nodes"]])

    @app.get("/api/datasets/{name}", dependencies=[Depends(authorised)])
    def dataset(name: str, request: Request) -> Response:
        snap = daemon.live.snapshot
        if snap.flow is None or snap.project is None or name not in snap.project.datasets:
            from weir.model.suggest import did_you_mean

            known = snap.project.datasets if snap.project else {}
            raise HTTPException(404, f"unknown dataset '{name}'"
                                + (f" ({did_you_mean(name, known)})"
                                   if did_you_mean(name, known) else ""))
        return respond(request, daemon.dataset_detail(snap, name))

    def check_body(body: BuildBody) -> None:
        from weir.flow.plan import Mode

        if body.mode not in {m.value for m in Mode}:
            raise HTTPException(422, f"unknown mode '{body.mode}': one of "
                                f"{', '.join(m.value for m in Mode)}")
        if not body.targets and not body.all and not body.stale:
            raise HTTPException(422, "nothing to build: give targets, all or stale")
        if body.jobs < 0 or body.jobs > 256:
            raise HTTPException(422, "jobs must be between 0 (the number of cores) and 256")

    @app.post("/api/plan", dependencies=[Depends(authorised)])
    def plan(body: BuildBody, request: Request) -> Response:
        """What `POST /api/builds` with the same body would run now, and why — without
        running anything (as `weir plan --json`)."""
        check_body(body)
        try:
            data = daemon.plan(daemon.live.snapshot, list(body.targets), body.mode, body.all,
                               body.stale)
        except WeirError as exc:
            raise HTTPException(422, exc.message + (f" ({exc.hint})" if exc.hint else "")
                                ) from None
        return respond(request, data)

    @app.post("/api/builds", status_code=202, dependencies=[Depends(authorised)])
    def start_build(body: BuildBody, request: Request) -> Response:
        """Queue a build. It runs when the builds before it are done; follow it with
        GET /api/builds/{id}/events."""
        from weir.server.builds import BuildRequest

        check_body(body)
        build = daemon.builds.submit(BuildRequest(list(body.targets), body.mode, body.all,
                                                  body.stale, body.jobs, body.fail_fast))
        response = respond(request, build.summary())
        response.status_code = 202
        return response

    @app.get("/api/builds", dependencies=[Depends(authorised)])
    def list_builds(request: Request) -> Response:
        return respond(request, [b.summary() for b in reversed(daemon.builds.builds.values())])

    def _build(build_id: str) -> Any:
        build = daemon.builds.builds.get(build_id)
        if build is None:
            raise HTTPException(404, f"no build '{build_id}'")
        return build

    @app.get("/api/builds/{build_id}", dependencies=[Depends(authorised)])
    def get_build(build_id: str, request: Request) -> Response:
        build = _build(build_id)
        data = build.summary()
        data["events"] = [{"kind": k, **d} for k, d in build.events]
        return respond(request, data)

    @app.post("/api/builds/{build_id}/cancel", dependencies=[Depends(authorised)])
    def cancel_build(build_id: str, request: Request) -> Response:
        _build(build_id)
        return respond(request, daemon.builds.cancel(build_id).summary())

    @app.get("/api/builds/{build_id}/events", dependencies=[Depends(authorised)])
    async def follow_build(build_id: str) -> StreamingResponse:
        """The build's events from its start, then live; the stream ends with the build."""
        build = _build(build_id)

        async def stream() -> AsyncIterator[bytes]:
            index = 0
            while True:
                events, over = await asyncio.to_thread(daemon.builds.follow, build, index, 5.0)
                for kind, data in events:
                    yield sse(kind, data)
                index += len(events)
                if over and not events:
                    yield sse("end", build.summary())
                    return
                if not events:
                    # At least every 5 s, so a client can tell a silent recipe from a
                    # daemon that stopped answering.
                    yield b": keep-alive\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    @app.get("/api/datasets/{name}/log", dependencies=[Depends(authorised)])
    def dataset_log(name: str, request: Request) -> Response:
        """The log of the dataset's last build: what its recipe printed, and the traceback."""
        snap = daemon.live.snapshot
        if snap.project is None or name not in snap.project.datasets:
            raise HTTPException(404, f"unknown dataset '{name}'")
        path, status = daemon.last_log(name)
        if path is None:
            raise HTTPException(404, f"'{name}' has no build log yet")
        text = Path(path).read_text(encoding="utf-8", errors="replace")
        return respond(request, {"name": name, "status": status, "path": path,
                                 "log": text[-200_000:]})

    @app.get("/api/events", dependencies=[Depends(authorised)])
    async def events() -> StreamingResponse:
        queue = daemon.hub.subscribe()

        async def stream() -> AsyncIterator[bytes]:
            try:
                yield sse("hello", {"flow_version": daemon.live.snapshot.version})
                while True:
                    try:
                        kind, data = await asyncio.wait_for(queue.get(), timeout=15)
                    except TimeoutError:
                        yield b": keep-alive\n\n"
                        continue
                    yield sse(kind, data)
            finally:
                daemon.hub.unsubscribe(queue)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    return app
