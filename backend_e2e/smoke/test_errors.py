"""Unknown routes and resources answer 404 in JSON; no error answer ever shows a stack trace."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from backend_e2e.contract import MAX_UPLOAD_BYTES, error_of, leaks, reflected

pytestmark = pytest.mark.smoke

UNKNOWN_ROUTES = [("GET", "/nope"), ("POST", "/auth/nope"), ("GET", "/api/v2/watchlists"),
                  ("DELETE", "/watchlists/{watchlist}/nope"), ("GET", "/health/details")]


@pytest.mark.contract("errors.not_found", "errors.json_shape")
@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
@pytest.mark.parametrize(("method", "path"), UNKNOWN_ROUTES)
def test_unknown_route_answers_404_with_a_json_error(method: str, path: str, signed_in: bool, world: Any,
                                                     api: Any) -> None:
    client = api.as_user(world.user) if signed_in else api
    resp = client.request(method, world.fill(path), expect=404)
    assert resp.headers["content-type"].startswith("application/json")
    assert error_of(resp)["code"] == "not_found"


@pytest.mark.contract("errors.not_found")
@pytest.mark.parametrize("path", ["/watchlists/{id}", "/uploads/{id}", "/uploads/{id}/rejections",
                                  "/exports/{id}", "/exports/{id}/download", "/exports/{id}/events",
                                  "/watchlists/not-a-uuid", "/exports/42"])
def test_unknown_resource_id_answers_404(path: str, world: Any, api: Any) -> None:
    resp = api.as_user(world.user).get(path.format(id=uuid.uuid4()), expect=404)
    assert error_of(resp)["code"] == "not_found"


@pytest.mark.contract("errors.method_not_allowed")
def test_wrong_method_on_a_known_route_answers_405(world: Any, api: Any) -> None:
    resp = api.as_user(world.user).put("/watchlists", json={"name": "x"}, expect=405)
    assert error_of(resp)["code"] == "method_not_allowed"


# --- no stack traces (a 429 is checked with the lockout, in flows) ------------------------

def _cancelled_download(api: Any, world: Any) -> Any:
    me = api.as_user(world.user)
    ex_id = world.new_export()
    me.delete(f"/exports/{ex_id}", expect=200)
    return me.get(f"/exports/{ex_id}/download")


def _revoked_token(api: Any, world: Any) -> Any:
    body = {"email": world.user.email, "password": world.user.password}
    token = api.post("/auth/login", json=body, expect=200).json()["access_token"]
    api.with_token(token).post("/auth/logout", expect=204)
    return api.with_token(token).get("/auth/me")


def _eleventh_watchlist(api: Any, fx: Callable[[str], Any]) -> Any:
    user = fx("users").create("limit")
    me = api.as_user(user)
    for i in range(10):
        me.post("/watchlists", json={"name": f"wl-{i}"}, expect=201)
    return me.post("/watchlists", json={"name": "wl-10"})


ERRORS: dict[str, Callable[..., Any]] = {
    "401-missing-token": lambda api, w, u: api.get("/auth/me"),
    "401-garbage-token": lambda api, w, u: api.get("/auth/me", headers={"Authorization": "Bearer \x7f{]"}),
    "401-wrong-password": lambda api, w, u: api.post("/auth/login", json={"email": u.email("nobody"),
                                                                          "password": "wrong"}),
    "401-garbage-refresh": lambda api, w, u: api.post("/auth/refresh", json={"refresh_token": "a.b.c"}),
    "404-unknown-route": lambda api, w, u: api.get("/does/not/exist"),
    "404-not-a-uuid": lambda api, w, u: api.as_user(w.user).get("/exports/%27%3B--"),
    "405-wrong-method": lambda api, w, u: api.as_user(w.user).put("/symbols"),
    "409-email-taken": lambda api, w, u: api.post("/auth/signup", json={"email": w.user.email.upper(),
                                                                        "password": "long-enough-pw"}),
    "409-not-ready": lambda api, w, u: _cancelled_download(api, w),
    "422-broken-json": lambda api, w, u: api.as_user(w.user).post(
        "/watchlists", data=b'{"name": ', headers={"Content-Type": "application/json"}),
    "422-deeply-wrong-types": lambda api, w, u: api.as_user(w.user).post(
        "/exports", data=b'{"symbol": [1], "from": {"x": null}, "to": 1e999}',
        headers={"Content-Type": "application/json"}),
    "422-huge-number": lambda api, w, u: api.post("/auth/login", json={
        "email": "a@e2e.test", "password": "x", "ttl_seconds": 10**400}),
    "422-bad-upload": lambda api, w, u: api.as_user(w.user).post(
        "/uploads", files={"file": ("x.csv", b"\xff\xfe\x00garbage", "text/csv")}),
    "nul-byte-in-input": lambda api, w, u: api.as_user(w.user).get("/bars", params={"symbol": "\x00"}),
    "401-token-expired": lambda api, w, u, fx: api.with_token(fx("expired_token")).get("/auth/me"),
    "401-token-revoked": lambda api, w, u: _revoked_token(api, w),
    "409-watchlist-limit": lambda api, w, u, fx: _eleventh_watchlist(api, fx),
    "413-payload-too-large": lambda api, w, u: api.as_user(w.user).post(
        "/uploads", files={"file": ("big.csv", b"x" * (MAX_UPLOAD_BYTES + 1), "text/csv")}),
    "422-unknown-symbol": lambda api, w, u: api.as_user(w.user).get(
        "/trades/latest", params={"symbol": "NOPE"}),
    "422-unsupported-format": lambda api, w, u: api.as_user(w.user).post(
        "/uploads", files={"file": ("t.txt", b"hello", "text/plain")}),
    "422-malformed-file": lambda api, w, u: api.as_user(w.user).post(
        "/uploads", files={"file": ("t.csv", b"id,sym\n1,A\n", "text/csv")}),
}


@pytest.mark.contract("errors.no_stack_trace", "errors.no_leak")
@pytest.mark.parametrize("name", list(ERRORS))
def test_error_answer_shows_no_stack_trace(name: str, world: Any, api: Any, unique: Any,
                                           request: pytest.FixtureRequest) -> None:
    call = ERRORS[name]
    fx = request.getfixturevalue
    resp = call(api, world, unique, fx) if call.__code__.co_argcount == 4 else call(api, world, unique)
    assert resp.status_code >= 400, f"{name}: expected an error, got {resp.status_code}"
    assert resp.headers["content-type"].startswith("application/json"), resp.headers["content-type"]
    error_of(resp)
    leaked = leaks(resp.text)
    assert not leaked, f"{name}: the error body leaks internals ({leaked}): {resp.text[:500]}"


# --- no submitted secret comes back -------------------------------------------------------
# Each case sends a password or token (unique to the call) and returns the answer with them.

def _secret(unique: Any) -> str:
    return f"S3cret-{unique('pw')}"


def _signup(api: Any, u: Any, **fields: Any) -> tuple[Any, list[str]]:
    pw = fields.pop("password", None) or _secret(u)
    return api.post("/auth/signup", json={"email": u.email("leak"), "password": pw, **fields}), [pw]


SECRET_CASES: dict[str, Callable[[Any, Any, Any], tuple[Any, list[str]]]] = {
    "signup-422-not-an-email": lambda api, w, u: _signup(api, u, email="not-an-email"),
    "signup-422-password-too-long": lambda api, w, u: _signup(api, u, password="P" * 100 + _secret(u)),
    "signup-422-bad-display-name": lambda api, w, u: _signup(api, u, display_name={"x": 1}),
    "signup-409-email-taken": lambda api, w, u: _signup(api, u, email=w.user.email),
    "login-401-wrong-password": lambda api, w, u: (lambda pw: (api.post(
        "/auth/login", json={"email": w.user.email, "password": pw}), [pw]))(_secret(u)),
    "login-422-bad-ttl": lambda api, w, u: (lambda pw: (api.post(
        "/auth/login", json={"email": w.user.email, "password": pw, "ttl_seconds": 0}), [pw]))(_secret(u)),
    "login-200-right-password": lambda api, w, u: (api.post(
        "/auth/login", json={"email": w.user.email, "password": w.user.password}), [w.user.password]),
    "refresh-401-unknown-token": lambda api, w, u: (lambda t: (api.post(
        "/auth/refresh", json={"refresh_token": t}), [t]))("eyJ" + _secret(u)),
    "me-401-bad-bearer": lambda api, w, u: (lambda t: (api.with_token(t).get("/auth/me"), [t]))(
        "eyJ" + _secret(u)),
    "events-401-bad-query-token": lambda api, w, u: (lambda t: (api.get(
        f"/exports/{w.export_id}/events", params={"access_token": t}), [t]))("eyJ" + _secret(u)),
    "404-with-a-valid-token": lambda api, w, u: (lambda c: (c.get("/no/such/route"), [c.token]))(
        api.as_user(w.user)),
}


@pytest.mark.contract("errors.no_leak")
@pytest.mark.parametrize("name", list(SECRET_CASES))
def test_answer_never_echoes_a_submitted_secret(name: str, world: Any, api: Any, unique: Any) -> None:
    resp, secrets = SECRET_CASES[name](api, world, unique)
    assert all(secrets), f"{name}: nothing secret was sent"
    echoed = reflected(resp, secrets)
    assert not echoed, f"{name} ({resp.status_code}): a submitted secret came back: {echoed}"
    if resp.status_code >= 400:
        assert not leaks(resp.text), f"{name}: internals in the error: {leaks(resp.text)} {resp.text[:300]}"
