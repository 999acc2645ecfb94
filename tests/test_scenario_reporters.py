"""Reporters against real servers on loopback: an HTTP server receives the webhook's JSON, an
SMTP server (aiosmtpd) the e-mail; a reporter whose server is down says so and the run goes on."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conftest import SMALL, run_weir


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    got: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server name
            got.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", got
    server.shutdown()
    server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[int, list[Any]]]:
    from aiosmtpd.controller import Controller

    got: list[Any] = []

    class Keep:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            got.append(envelope)
            return "250 OK"

    port = free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, got
    controller.stop()


def scenario_project(make_project: Callable[..., Path], reporters: str, step: str) -> Path:
    return make_project({**SMALL, "scenarios/nightly.yaml": f"steps:\n  - {step}\n"
                         f"reporters:\n{reporters}"}, name="small")


def test_a_failed_run_is_posted_to_the_webhook_and_mailed(
        make_project: Callable[..., Path], webhook: tuple[str, list[dict[str, Any]]],
        smtp: tuple[int, list[Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    url, posted = webhook
    port, mails = smtp
    monkeypatch.setenv("TEAM_WEBHOOK", url)  # a reference: the URL is a secret
    root = scenario_project(make_project, f"""\
  - webhook: {{url: "${{env:TEAM_WEBHOOK}}"}}
  - email:
      to: [data-team@example.com]
      smtp: {{host: 127.0.0.1, port: {port}}}
    on: failure
""", "python: nowhere:nothing")
    r = run_weir("scenario", "run", "nightly", cwd=root)
    assert r.code == 1, r.text
    assert "webhook (line 4) sent" in r.out and "e-mail (line 5) sent to data-team@example.com" \
        in r.out, r.out
    assert url not in r.text  # a secret reference's value is never shown
    assert len(posted) == 1 and posted[0]["text"].startswith("weir: scenario nightly failed")
    assert posted[0]["run"]["status"] == "failed" and posted[0]["scenario"] == "nightly"
    assert len(mails) == 1 and mails[0].rcpt_tos == ["data-team@example.com"]
    mail = mails[0].content.decode()
    assert "Subject: weir: scenario nightly failed" in mail
    assert "# Scenario nightly: failed" in mail  # the report, in the body


def test_start_and_success_conditions(make_project: Callable[..., Path],
                                      webhook: tuple[str, list[dict[str, Any]]],
                                      smtp: tuple[int, list[Any]]) -> None:
    url, posted = webhook
    port, mails = smtp
    root = scenario_project(make_project, f"""\
  - webhook: {{url: "{url}", on: [start, end]}}
  - email:
      to: [data-team@example.com]
      smtp: {{host: 127.0.0.1, port: {port}}}
    on: failure
""", "build: [customers]")
    r = run_weir("scenario", "run", "nightly", cwd=root)
    assert r.code == 0, r.text
    assert [p["text"].split(" (run")[0] for p in posted] == [
        "weir: scenario nightly started", "weir: scenario nightly succeeded"]
    assert mails == []  # only on failure


def test_a_reporter_whose_server_is_down_does_not_fail_the_run(
        make_project: Callable[..., Path]) -> None:
    port = free_port()  # nothing listens there
    root = scenario_project(make_project, f"""\
  - webhook: {{url: "http://127.0.0.1:{port}/hook"}}
  - email:
      to: [data-team@example.com]
      smtp: {{host: 127.0.0.1, port: {port}}}
""", "build: [customers]")
    r = run_weir("scenario", "run", "nightly", cwd=root)
    assert r.code == 0, r.text
    assert "! the webhook reporter (line 4) could not send: cannot reach it" in r.out, r.out
    assert "! the email reporter (line 5) could not send: SMTP 127.0.0.1" in r.out
    assert "Traceback" not in r.text
