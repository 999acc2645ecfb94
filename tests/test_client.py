"""weir.client against real HTTP servers on loopback: whatever a server answers, a caller gets
one WeirError carrying the HTTP status and the server's own words — never a decoding error."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from weir.client import DaemonClient, DaemonError, DaemonNotRunning
from weir.errors import WeirError

ANSWERS: dict[str, tuple[int, str, bytes]] = {
    "/api/flow": (500, "text/plain; charset=utf-8", b"Internal Server Error"),
    "/api/datasets": (422, "application/json", json.dumps({"detail": [
        {"loc": ["body", "jobs"], "msg": "Input should be a finite number"}]}).encode()),
    "/api/health": (200, "text/html", b"<html>not a daemon</html>"),
    "/api/builds": (404, "application/json",
                    json.dumps({"detail": "no build 'b9'", "hint": "see GET /api/builds"}
                               ).encode()),
    "/api/events": (503, "application/json", b'{"detail": "shutting down"}'),
}


@pytest.fixture
def server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            status, kind, body = ANSWERS[self.path]
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_error_answers_become_one_clean_error(server: str) -> None:
    client = DaemonClient(server, "token")
    with pytest.raises(DaemonError) as failed:
        client.flow()
    assert failed.value.status == 500
    assert failed.value.message == "the daemon answered 500: Internal Server Error"
    assert failed.value.hint and "weir daemon logs" in failed.value.hint
    with pytest.raises(DaemonError) as failed:
        client.datasets()
    assert failed.value.status == 422
    assert failed.value.message == "the daemon answered 422: jobs: Input should be a finite number"
    with pytest.raises(DaemonError) as failed:
        client.builds()
    assert (failed.value.status, failed.value.hint) == (404, "see GET /api/builds")
    with pytest.raises(DaemonError) as failed:
        client.health()
    assert failed.value.status == 200 and "not JSON" in failed.value.message
    with pytest.raises(DaemonError) as failed:
        next(client.events())
    assert failed.value.status == 503 and failed.value.message.endswith("shutting down")
    assert issubclass(DaemonError, WeirError)


def test_no_server_is_daemon_not_running() -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = DaemonClient(f"http://127.0.0.1:{port}", "token", timeout=2)
    with pytest.raises(DaemonNotRunning):
        client.flow()
    with pytest.raises(DaemonNotRunning):
        next(client.events())
