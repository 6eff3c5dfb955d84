"""Passwords, tokens and the failed-login lockout: the pure parts of authentication."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TokenType = Literal["access", "refresh"]
ALGORITHM = "HS256"

_hasher = PasswordHasher()
# Verifying against this when the email is unknown makes both answers take as long. Made on first
# use, at the configured cost (not at import, where it would slow every start of the API).
_dummy_hash: str | None = None


def configure_hasher(time_cost: int, memory_kib: int, parallelism: int) -> None:
    """Set the argon2 cost of new hashes (and of the unknown-email dummy check).

    Existing hashes keep verifying: each carries its own parameters.
    """
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    _dummy_hash = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    global _dummy_hash
    if password_hash is None and _dummy_hash is None:
        _dummy_hash = _hasher.hash("tradeboard-no-such-user")
    try:
        return _hasher.verify(password_hash or _dummy_hash, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Claims:
    sub: str
    sid: str
    typ: TokenType
    jti: str
    iat: int
    exp: int


class TokenError(Exception):
    """A token that cannot be used; ``code`` is the API error code."""

    def __init__(self, code: Literal["unauthorized", "token_expired", "token_revoked"],
                 message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def issue_token(secret: str, *, user_id: str, session_id: str, typ: TokenType, ttl: int,
                jti: str | None = None, now: float | None = None) -> tuple[str, Claims]:
    issued = int(now if now is not None else time.time())
    claims = Claims(sub=user_id, sid=session_id, typ=typ, jti=jti or uuid.uuid4().hex,
                    iat=issued, exp=issued + ttl)
    token = jwt.encode(claims.__dict__, secret, algorithm=ALGORITHM)
    return token, claims


def decode_token(secret: str, token: str, *, expected: TokenType,
                 now: float | None = None) -> Claims:
    """The claims of a well-signed, unexpired token of the expected type, else TokenError."""
    try:
        data = jwt.decode(token, secret, algorithms=[ALGORITHM],
                          options={"verify_exp": False, "require": ["exp", "iat", "sub"]})
    except jwt.PyJWTError:
        raise TokenError("unauthorized", "the token is malformed or its signature is invalid") \
            from None
    try:
        claims = Claims(sub=str(data["sub"]), sid=str(data["sid"]), typ=data["typ"],
                        jti=str(data["jti"]), iat=int(data["iat"]), exp=int(data["exp"]))
    except (KeyError, TypeError, ValueError):
        raise TokenError("unauthorized", "the token lacks required claims") from None
    if claims.typ != expected:
        raise TokenError("unauthorized",
                         f"this needs the {expected} token, not the {claims.typ} token")
    # Checked here rather than by PyJWT so that tests can pass their own clock.
    if claims.exp <= (now if now is not None else time.time()):
        raise TokenError("token_expired", "the token has expired")
    return claims


def parse_bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


@dataclass(frozen=True)
class FailureState:
    """Failed logins of one account: how many since ``window_started``, locked until when."""

    failures: int
    window_started: datetime
    locked_until: datetime | None = None


def lockout_remaining(state: FailureState | None, now: datetime) -> int:
    """Seconds (rounded up, at least 1) the account stays locked; 0 when it is not locked."""
    if state is None or state.locked_until is None or state.locked_until <= now:
        return 0
    return max(1, int(-(-(state.locked_until - now).total_seconds() // 1)))


def record_failure(state: FailureState | None, now: datetime, *, max_failures: int,
                   window: int) -> FailureState:
    """The state after one more failure: failures count within a window of ``window``
    seconds, and reaching ``max_failures`` locks the account for ``window`` seconds."""
    span = timedelta(seconds=window)
    if state is None or now - state.window_started >= span or (
            state.locked_until is not None and state.locked_until <= now):
        state = FailureState(failures=0, window_started=now)
    failures = state.failures + 1
    locked = now + span if failures >= max_failures else None
    return FailureState(failures=failures, window_started=state.window_started,
                        locked_until=locked)
