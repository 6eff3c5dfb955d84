"""A client for Toxiproxy's HTTP API: drives the real Toxiproxy (compose) and the embedded
fault proxy (``e2e_shared.services.faultproxy``) alike. Standard library only."""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from typing import Any

from . import E2EError

# The stack service that is the fault proxy; a service with ``proxy = true`` sits behind it.
PROXY_SERVICE = "faultproxy"


class ToxiproxyClient:
    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace").strip()
            with contextlib.suppress(ValueError, AttributeError):
                detail = json.loads(detail).get("error", detail)
            raise E2EError(f"fault proxy: {method} {path} answered {exc.code}: {detail}",
                           "see `invoke stack.logs faultproxy`") from None
        except OSError as exc:
            raise E2EError(f"fault proxy at {self.base_url} does not answer ({exc})",
                           "is the stack up? `invoke stack.status` shows the faultproxy service") from None
        return json.loads(raw) if raw.strip() else None

    # --- proxies ------------------------------------------------------------------------
    def version(self) -> str:
        out = self.request("GET", "/version")
        return out.get("version", "") if isinstance(out, dict) else str(out)

    def proxies(self) -> dict[str, Any]:
        return self.request("GET", "/proxies")

    def populate(self, routes: list[dict[str, Any]]) -> None:
        """Create or replace these proxies; a proxy already listening as asked is kept as it is."""
        self.request("POST", "/populate", routes)

    def set_enabled(self, name: str, enabled: bool) -> None:
        self.request("POST", f"/proxies/{name}", {"enabled": enabled})

    # --- toxics ---------------------------------------------------------------------------
    def add_toxic(self, proxy: str, type: str, attributes: dict[str, Any], *,
                  stream: str = "downstream", name: str | None = None, toxicity: float = 1.0) -> dict:
        body = {"type": type, "stream": stream, "toxicity": toxicity, "attributes": attributes,
                "name": name or f"{type}_{stream}"}
        return self.request("POST", f"/proxies/{proxy}/toxics", body)

    def toxics(self, proxy: str) -> list[dict[str, Any]]:
        return self.request("GET", f"/proxies/{proxy}/toxics")

    def remove_toxic(self, proxy: str, name: str) -> None:
        self.request("DELETE", f"/proxies/{proxy}/toxics/{name}")

    def restore(self, proxy: str) -> None:
        """Every toxic of ``proxy`` removed and the proxy enabled again."""
        for toxic in self.toxics(proxy):
            self.remove_toxic(proxy, toxic["name"])
        self.set_enabled(proxy, True)

    def reset(self) -> None:
        """Every proxy enabled, every toxic removed."""
        self.request("POST", "/reset")
