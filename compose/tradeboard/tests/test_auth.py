"""Tokens, bearer headers, passwords and the failed-login lockout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from tradeboard import auth

SECRET = "unit-test-secret-of-sufficient-length"


def issue(typ: auth.TokenType = "access", ttl: int = 60, now: float = 1_000_000.0) -> str:
    token, _ = auth.issue_token(SECRET, user_id="u1", session_id="s1", typ=typ, ttl=ttl, now=now)
    return token


def test_round_trip_carries_every_claim() -> None:
    token, claims = auth.issue_token(SECRET, user_id="u1", session_id="s1", typ="refresh",
                                     ttl=60, jti="j1", now=1000)
    assert auth.decode_token(SECRET, token, expected="refresh", now=1059) == claims
    assert claims == auth.Claims(sub="u1", sid="s1", typ="refresh", jti="j1", iat=1000, exp=1060)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_expired_at_exp() -> None:
    token = issue(ttl=60, now=1000)
    with pytest.raises(auth.TokenError) as err:
        auth.decode_token(SECRET, token, expected="access", now=1060)
    assert err.value.code == "token_expired"


def test_wrong_type_is_unauthorized() -> None:
    with pytest.raises(auth.TokenError) as err:
        auth.decode_token(SECRET, issue("refresh"), expected="access", now=1_000_001)
    assert err.value.code == "unauthorized"


@pytest.mark.parametrize("token", ["", "abc", "a.b.c"])
def test_garbage_is_unauthorized(token: str) -> None:
    with pytest.raises(auth.TokenError) as err:
        auth.decode_token(SECRET, token, expected="access")
    assert err.value.code == "unauthorized"


def test_other_key_or_algorithm_is_unauthorized() -> None:
    forged = jwt.encode({"sub": "u1", "sid": "s1", "typ": "access", "jti": "j", "iat": 1,
                         "exp": 4_000_000_000}, "another-secret-of-sufficient-length", "HS256")
    unsigned = jwt.encode({"sub": "u1", "sid": "s1", "typ": "access", "jti": "j", "iat": 1,
                           "exp": 4_000_000_000}, None, "none")
    for token in (forged, unsigned):
        with pytest.raises(auth.TokenError) as err:
            auth.decode_token(SECRET, token, expected="access")
        assert err.value.code == "unauthorized"


def test_missing_claims_are_unauthorized() -> None:
    token = jwt.encode({"sub": "u1", "iat": 1, "exp": 4_000_000_000}, SECRET, "HS256")
    with pytest.raises(auth.TokenError) as err:
        auth.decode_token(SECRET, token, expected="access")
    assert err.value.code == "unauthorized"


@pytest.mark.parametrize(("header", "token"), [
    ("Bearer abc", "abc"), ("bearer  abc ", "abc"), (None, None), ("", None), ("Basic abc", None),
    ("Bearer", None), ("Bearer a b", None),
])
def test_parse_bearer(header: str | None, token: str | None) -> None:
    assert auth.parse_bearer(header) == token


def test_passwords() -> None:
    hashed = auth.hash_password("correct horse")
    assert hashed.startswith("$argon2")
    assert auth.verify_password(hashed, "correct horse")
    assert not auth.verify_password(hashed, "wrong horse")
    assert not auth.verify_password(None, "correct horse")
    assert not auth.verify_password("not-a-hash", "correct horse")


def test_configured_cost_applies_to_new_hashes_and_old_hashes_still_verify() -> None:
    old = auth.hash_password("correct horse")
    try:
        auth.configure_hasher(time_cost=1, memory_kib=8192, parallelism=1)
        cheap = auth.hash_password("correct horse")
        assert "$m=8192,t=1,p=1$" in cheap
        assert auth.verify_password(cheap, "correct horse")
        assert auth.verify_password(old, "correct horse")
        assert not auth.verify_password(None, "correct horse")
    finally:
        auth.configure_hasher(time_cost=3, memory_kib=65536, parallelism=4)
    assert "$m=65536,t=3,p=4$" in auth.hash_password("correct horse")


NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)


def fail(state: auth.FailureState | None, at: datetime) -> auth.FailureState:
    return auth.record_failure(state, at, max_failures=3, window=60)


def test_lockout_after_max_failures_within_the_window() -> None:
    state = None
    for i in range(3):
        assert auth.lockout_remaining(state, NOW) == 0
        state = fail(state, NOW + timedelta(seconds=i))
    assert state.locked_until == NOW + timedelta(seconds=62)
    assert auth.lockout_remaining(state, NOW + timedelta(seconds=2)) == 60
    assert auth.lockout_remaining(state, NOW + timedelta(seconds=61, milliseconds=500)) == 1
    assert auth.lockout_remaining(state, NOW + timedelta(seconds=62)) == 0


def test_failures_outside_the_window_start_over() -> None:
    state = fail(fail(None, NOW), NOW + timedelta(seconds=1))
    assert state.failures == 2
    state = fail(state, NOW + timedelta(seconds=60))
    assert (state.failures, state.locked_until) == (1, None)


def test_after_a_lockout_ends_counting_starts_over() -> None:
    state = None
    for _ in range(3):
        state = fail(state, NOW)
    state = fail(state, NOW + timedelta(seconds=61))
    assert (state.failures, state.locked_until) == (1, None)
