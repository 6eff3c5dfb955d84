"""Tokens a client should never get through: garbage, and well-formed ones with a forged signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims(token: str) -> dict:
    """The (unverified) claims of a JWT."""
    return json.loads(_unb64(token.split(".")[1]))


def forged(token: str, key: bytes = b"not-the-server-key", **changes: object) -> str:
    """``token`` with its claims changed and signed (HS256) with a key the server does not have."""
    header, payload, _sig = token.split(".")
    body = {**claims(token), **changes}
    new_payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    signing_input = f"{header}.{new_payload}".encode()
    return f"{header}.{new_payload}.{_b64(hmac.new(key, signing_input, hashlib.sha256).digest())}"


MALFORMED = "not-a-jwt"


def unsigned(token: str) -> str:
    """``token`` re-issued with ``"alg": "none"`` and no signature."""
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{token.split('.')[1]}."
