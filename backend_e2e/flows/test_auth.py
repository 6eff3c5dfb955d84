"""Sign-up to logout: tokens issued, rotated, expired, refreshed and revoked.

The last test of the module carries on a short-lived session begun as the module starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from backend_e2e.contract import error_of
from e2e_shared.waits import Poll, wait_until
from tradeboard_fixtures.factories import User

pytestmark = pytest.mark.flow


def _login(api: Any, user: Any, **extra: Any) -> dict[str, Any]:
    return api.post("/auth/login", json={"email": user.email, "password": user.password, **extra},
                    expect=200).json()


@dataclass
class ShortSession:
    user: User
    tokens: dict[str, Any]
    watchlist: dict[str, Any]


@pytest.fixture(scope="module")
def short_session(make_toolkit: Any) -> Iterator[ShortSession]:
    """A session with 2-second access tokens, begun as the module starts: it expires while the
    module's other tests run, and the last test carries it on (instead of waiting alone).
    Two seconds, not one: ``iat`` is whole seconds, so a fresh token keeps at least one."""
    kit = make_toolkit(f"{__name__}::short")
    user = kit.users.create("short", login=False)
    tokens = _login(kit.api, user, ttl_seconds=2)
    wl = kit.api.with_token(tokens["access_token"]).post("/watchlists", json={"name": "during-session"},
                                                         expect=201).json()
    yield ShortSession(user, tokens, wl)
    kit.close()


@pytest.mark.contract("auth.login", "config.access_token_ttl")
def test_login_can_ask_for_a_short_lived_access_token(short_session: ShortSession) -> None:
    assert short_session.tokens["expires_in"] == 2
    assert short_session.watchlist["name"] == "during-session"  # made with it while it was fresh


@pytest.mark.contract(
    "auth.signup", "auth.login", "auth.me", "auth.refresh", "auth.logout", "auth.revocation")
def test_signup_login_me_refresh_logout_then_every_token_is_refused(api: Any, users: Any) -> None:
    user = users.create("journey", login=False)
    tokens = _login(api, user)
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] > 0
    me = api.with_token(tokens["access_token"]).get("/auth/me", expect=200).json()
    assert (me["id"], me["email"]) == (user.id, user.email)

    fresh = api.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}, expect=200).json()
    assert fresh["access_token"] != tokens["access_token"]
    assert fresh["refresh_token"] != tokens["refresh_token"]
    api.with_token(fresh["access_token"]).get("/auth/me", expect=200)

    api.with_token(fresh["access_token"]).post("/auth/logout", expect=204)
    for access in (tokens["access_token"], fresh["access_token"]):
        resp = api.with_token(access).get("/auth/me", expect=401)
        assert error_of(resp)["code"] == "token_revoked"
    for refresh in (tokens["refresh_token"], fresh["refresh_token"]):
        resp = api.post("/auth/refresh", json={"refresh_token": refresh}, expect=401)
        assert error_of(resp)["code"] == "token_revoked"


@pytest.mark.contract("auth.signup")
def test_signup_answers_the_new_account_without_its_password(api: Any, unique: Any, users: Any) -> None:
    email = unique.email("signup")
    body = api.post("/auth/signup", json={"email": email, "password": "long-enough-pw",
                                          "display_name": "Ada"}, expect=201).json()
    users.created.append(User(id=body["id"], email=email, password=""))  # removed after the test
    assert body["email"] == email and body["display_name"] == "Ada"
    assert set(body) == {"id", "email", "display_name", "created_at"}


@pytest.mark.contract("auth.refresh_rotates", "auth.refresh")
def test_used_refresh_token_is_refused_after_rotation(api: Any, user: Any) -> None:
    api.post("/auth/refresh", json={"refresh_token": user.refresh_token}, expect=200)
    resp = api.post("/auth/refresh", json={"refresh_token": user.refresh_token}, expect=401)
    assert error_of(resp)["code"] == "token_revoked"


@pytest.mark.contract("auth.logout", "auth.revocation")
def test_logout_ends_only_its_own_session(api: Any, users: Any, user: Any) -> None:
    other_session = _login(api, user)
    api.as_user(user).post("/auth/logout", expect=204)
    api.as_user(user).get("/auth/me", expect=401)
    api.with_token(other_session["access_token"]).get("/auth/me", expect=200)


@pytest.mark.contract("auth.emails_case_insensitive")
def test_login_compares_emails_case_insensitively(api: Any, users: Any) -> None:
    user = users.create("Case", login=False)
    tokens = api.post("/auth/login", json={"email": user.email.upper(), "password": user.password},
                      expect=200).json()
    assert api.with_token(tokens["access_token"]).get("/auth/me", expect=200).json()["id"] == user.id


@pytest.mark.contract("auth.signup", "auth.emails_case_insensitive")
def test_signup_with_a_taken_email_in_other_case_is_a_conflict(api: Any, users: Any) -> None:
    user = users.create("taken", login=False)
    resp = api.post("/auth/signup", json={"email": user.email.upper(), "password": "another-password"},
                    expect=409)
    assert error_of(resp)["code"] == "conflict"


@pytest.mark.contract("auth.login")
def test_wrong_password_is_invalid_credentials(api: Any, users: Any) -> None:
    user = users.create("wrong", login=False)
    resp = api.post("/auth/login", json={"email": user.email, "password": user.password + "x"}, expect=401)
    assert error_of(resp)["code"] == "invalid_credentials"


@pytest.mark.contract("auth.refresh", "auth.tokens")
def test_expired_access_token_is_refreshed_and_the_session_goes_on(api: Any,
                                                                   short_session: ShortSession) -> None:
    tokens, wl = short_session.tokens, short_session.watchlist
    session = api.with_token(tokens["access_token"])

    def expired() -> Poll:
        resp = session.get(f"/watchlists/{wl['id']}")
        return Poll(resp.status_code == 401, (resp.status_code, resp.text[:200]))

    wait_until(expired, what="the 2-second access token to expire", timeout=6, interval=0.1)
    assert error_of(session.get("/auth/me"))["code"] == "token_expired"

    renewed = api.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}, expect=200).json()
    again = api.with_token(renewed["access_token"])
    assert again.get(f"/watchlists/{wl['id']}", expect=200).json()["name"] == "during-session"
    assert again.get("/auth/me", expect=200).json()["id"] == short_session.user.id
