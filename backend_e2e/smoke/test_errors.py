"""Unknown routes and resources answer 404 in JSON; no error answer ever shows a stack trace."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from backend_e2e.contract import error_of, leaks

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


ERRORS: dict[str, Callable[[Any, Any, Any], Any]] = {
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
}


@pytest.mark.contract("errors.no_stack_trace", "errors.no_leak")
@pytest.mark.parametrize("name", list(ERRORS))
def test_error_answer_shows_no_stack_trace(name: str, world: Any, api: Any, unique: Any) -> None:
    resp = ERRORS[name](api, world, unique)
    assert resp.status_code >= 400, f"{name}: expected an error, got {resp.status_code}"
    assert resp.headers["content-type"].startswith("application/json"), resp.headers["content-type"]
    error_of(resp)
    leaked = leaks(resp.text)
    assert not leaked, f"{name}: the error body leaks internals ({leaked}): {resp.text[:500]}"
