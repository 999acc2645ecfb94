"""The daemon's HTTP API: the public API of a project for the CLI, the editor and outside
schedulers. Bearer-token auth (the token is in .weir/daemon.json, readable only by its owner);
JSON by default, msgpack on ``Accept: application/msgpack``; Server-Sent Events on /api/events;
OpenAPI docs at /docs."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import msgpack
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from weir._version import __version__
from weir.flow.export import flow_json
from weir.server.events import sse

if TYPE_CHECKING:
    from weir.server.daemon import Daemon


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

    def authorised(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if credentials is None or not secrets.compare_digest(credentials.credentials.encode(),
                                                             daemon.token.encode()):
            raise HTTPException(401, "missing or wrong token: send `Authorization: Bearer "
                                "<token>` with the token from .weir/daemon.json",
                                headers={"WWW-Authenticate": "Bearer"})

    @app.on_event("startup")
    async def _bind_loop() -> None:
        daemon.hub.loop = asyncio.get_running_loop()

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
            data = flow_json(snap.flow, daemon.statuses(snap))
        data["flow_version"] = snap.version
        data["diagnostics"] = [{"file": d.file, "line": d.line, "message": d.message,
                                "hint": d.hint, "severity": d.severity.value}
                               for d in snap.diagnostics]
        return respond(request, data)

    @app.get("/api/datasets", dependencies=[Depends(authorised)])
    def datasets(request: Request) -> Response:
        snap = daemon.live.snapshot
        if snap.flow is None:
            return respond(request, [])
        statuses = daemon.statuses(snap)
        return respond(request, [{"name": n["name"], "kind": n["kind"], "status": n.get("status"),
                                  "reasons": n.get("reasons", [])}
                                 for n in flow_json(snap.flow, statuses)["nodes"]])

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
