"""Secrets never reach an artifact: passwords, tokens and Authorization headers are masked."""

from __future__ import annotations

import re
import threading

MASK = "***"

_PATTERNS = [
    # Authorization: Bearer xxx  /  'Authorization': 'Bearer xxx'
    (re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(bearer\s+)?[^\s'\",}]+"), r"\1\2" + MASK),
    # JSON or dict fields whose name says secret
    (re.compile(r"(?i)(['\"]?(?:password|passwd|secret|access_token|refresh_token|token|api_key)"
                r"['\"]?\s*[:=]\s*['\"]?)[^'\"\s,}&]+"), r"\1" + MASK),
    # query strings: ?access_token=...&
    (re.compile(r"(?i)([?&](?:access_token|token|password)=)[^&\s'\"]+"), r"\1" + MASK),
    # anything shaped like a JWT
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"), MASK),
]


class SecretRegistry:
    """Known secret values (passwords the factories chose, tokens the API issued)."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *values: str | None) -> None:
        with self._lock:
            self._values.update(v for v in values if v and len(v) >= 4)

    def values(self) -> list[str]:
        with self._lock:
            return sorted(self._values, key=len, reverse=True)  # longest first: no partial leaks


SECRETS = SecretRegistry()


def mask(text: str, registry: SecretRegistry | None = None) -> str:
    """``text`` with every known secret value and every secret-shaped field masked."""
    if not text:
        return text
    for value in (registry or SECRETS).values():
        text = text.replace(value, MASK)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text
