"""Telling people of a scenario run: a webhook (a JSON POST with a Slack-compatible `text`)
and an e-mail (SMTP; STARTTLS and login when asked), each on `start` and/or at the end, with
a condition (`on: failure`…). Credentials are `${env:…}` / `${file:…}` references resolved only
now. A reporter that cannot send says so and the run goes on: telling is never the run's
failure. (Report files are ``run.write_reports``.)"""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from weir import wire
from weir.model.scenarios import Reporter, ReporterKind, Scenario
from weir.storage.secrets import redact, resolve_value

TIMEOUT = 10.0  # seconds a server may take to answer before the reporter gives up


def due(reporter: Reporter, event: str, status: str | None) -> bool:
    """``event`` start or end; at the end ``status`` succeeded or failed."""
    on = reporter.on
    if event == "start":
        return "start" in on
    return "end" in on or (status == "succeeded" and "success" in on) or (
        status == "failed" and "failure" in on)


def summary(scenario: str, run_id: str, event: str, report: wire.ScenarioRunReport | None
            ) -> str:
    """One line a person reads in a chat or a subject."""
    if report is None:
        return f"weir: scenario {scenario} started (run {run_id})"
    failed = [s for s in report.steps if s.status == "failed"]
    said = f"weir: scenario {scenario} {report.status} (run {run_id}, " \
        f"{report.finished - report.started:.1f}s)"
    if failed:
        said += ": " + "; ".join(f"{s.name}: {s.message}" for s in failed)
    return said


def send(scenario: Scenario, run_id: str, event: str, report: wire.ScenarioRunReport | None,
         body: str, say: Callable[[str], None]) -> list[str]:
    """Send every reporter due now; what each did, in words (also said)."""
    done: list[str] = []
    status = report.status if report is not None else None
    for r in scenario.reporters:
        if r.kind is ReporterKind.REPORT or not due(r, event, status):
            continue
        secrets: list[str] = []
        try:
            text = summary(scenario.name, run_id, event, report)
            if r.kind is ReporterKind.WEBHOOK:
                _webhook(scenario.name, r, text, report, secrets)
                said = f"webhook (line {r.line}) sent"
            else:
                _email(scenario.name, r, text, body, secrets)
                said = f"e-mail (line {r.line}) sent to {', '.join(r.params['to'])}"
        except Exception as exc:  # noqa: BLE001 - a reporter that fails never fails the run
            message = redact(str(exc) or type(exc).__name__, secrets)
            said = f"the {r.kind.value} reporter (line {r.line}) could not send: {message}"
        say(("" if "could not" not in said else "! ") + said)
        done.append(said)
    return done


def _webhook(scenario: str, r: Reporter, text: str, report: wire.ScenarioRunReport | None,
             secrets: list[str]) -> None:
    where = f"scenario {scenario} webhook"
    url = str(resolve_value(r.params["url"], where, "url"))
    if url != r.params["url"]:
        secrets.append(url)
    headers = {"content-type": "application/json", "user-agent": "weir"}
    for k, v in r.params.get("headers", {}).items():
        resolved = str(resolve_value(v, where, k))
        if resolved != v:
            secrets.append(resolved)
        headers[str(k)] = resolved
    payload: dict[str, Any] = {"text": text, "scenario": scenario,
                               "run": report.to_json() if report is not None else None}
    request = urllib.request.Request(url, json.dumps(payload).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # noqa: S310
            answer.read()
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"the server answered {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise RuntimeError(f"cannot reach it: {exc.reason}") from None


def _email(scenario: str, r: Reporter, text: str, body: str, secrets: list[str]) -> None:
    smtp = r.params["smtp"]
    where = f"scenario {scenario} email"
    msg = EmailMessage()
    msg["Subject"] = r.params.get("subject") or text
    msg["From"] = r.params["from"]
    msg["To"] = ", ".join(r.params["to"])
    msg.set_content(body or text)
    try:
        with smtplib.SMTP(smtp["host"], smtp["port"], timeout=TIMEOUT) as server:
            if smtp["starttls"]:
                server.starttls()
            if smtp.get("user"):
                password = str(resolve_value(smtp.get("password") or "", where, "password"))
                if password != (smtp.get("password") or ""):
                    secrets.append(password)
                server.login(str(smtp["user"]), password)
            server.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise RuntimeError(f"SMTP {smtp['host']}:{smtp['port']}: {exc}") from None
