"""A small client for a running weir daemon (stdlib only), for scripts and schedulers.

    from weir.client import DaemonClient
    client = DaemonClient.for_project("path/to/project")
    client.flow()["nodes"]
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from weir.errors import WeirError


class DaemonNotRunning(WeirError):
    """No daemon answers for this project."""


class DaemonClient:
    def __init__(self, url: str, token: str, timeout: float = 10) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    @classmethod
    def for_project(cls, root: str | Path) -> DaemonClient:
        from weir.server.daemon import daemon_info

        info = daemon_info(Path(root))
        if not info:
            raise DaemonNotRunning(f"no weir daemon runs for {root}",
                                   hint="start one with `weir daemon start`")
        return cls(str(info["url"]), str(info["token"]))

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = json.loads(exc.read() or b"{}").get("detail", exc.reason)
            raise WeirError(f"the daemon answered {exc.code}: {detail}") from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            raise DaemonNotRunning(f"the daemon at {self.url} does not answer ({exc})",
                                   hint="`weir daemon status`; restart it with "
                                   "`weir daemon start`") from None

    def health(self) -> dict[str, Any]:
        return self._request("GET", "/api/health")

    def flow(self) -> dict[str, Any]:
        return self._request("GET", "/api/flow")

    def datasets(self) -> list[dict[str, Any]]:
        return self._request("GET", "/api/datasets")

    def dataset(self, name: str) -> dict[str, Any]:
        return self._request("GET", f"/api/datasets/{name}")

    def events(self) -> Iterator[tuple[str, Any]]:
        """Server-Sent Events as ``(kind, data)``, until the connection closes."""
        req = urllib.request.Request(self.url + "/api/events",
                                     headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(req, timeout=None) as resp:
            kind, data = None, []
            for raw in resp:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif not line and kind:
                    yield kind, json.loads("\n".join(data))
                    kind, data = None, []
