"""Another user's watchlists, uploads and exports do not exist for you: 404, never 403 or the data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from backend_e2e.contract import error_of
from backend_e2e.scoped import Toolkit

pytestmark = [
    pytest.mark.flow,
    pytest.mark.contract(
        "errors.not_found", "watchlists.get", "watchlists.list", "uploads.list", "exports.list",
    ),
]


@dataclass
class Owned:
    kit: Toolkit
    owner: Any
    intruder: Any
    watchlist: dict[str, Any]
    upload_id: str
    export_id: str

    def snapshot(self) -> dict[str, Any]:
        """Everything the owner has, as the owner sees it."""
        me = self.kit.api.as_user(self.owner)
        return {"watchlist": me.get(f"/watchlists/{self.watchlist['id']}", expect=200).json(),
                "upload": me.get(f"/uploads/{self.upload_id}", expect=200).json(),
                "export": me.get(f"/exports/{self.export_id}", expect=200).json()}


@pytest.fixture(scope="module")
def owned(make_toolkit: Any) -> Iterator[Owned]:
    kit = make_toolkit(f"{__name__}::owned")
    owner, intruder = kit.users.create("owner"), kit.users.create("intruder")
    wl = kit.watchlists.create(owner, symbols=["AAPL", "MSFT"])
    tf = kit.trade_files.build(5, invalid=("malformed",))
    kit.trade_files.upload(owner, tf)
    kit.trade_files.wait_loaded(owner, tf)
    ex = kit.exports.create(owner, "AAPL", "2026-01-05T14:30:00Z", "2026-01-05T14:35:00Z")
    kit.exports.wait(owner, ex["id"])
    yield Owned(kit, owner, intruder, wl, tf.upload_id, ex["id"])
    kit.close()


ATTEMPTS = [
    ("GET", "/watchlists/{wl}", None),
    ("PATCH", "/watchlists/{wl}", {"name": "taken-over"}),
    ("DELETE", "/watchlists/{wl}", None),
    ("POST", "/watchlists/{wl}/symbols", {"symbol": "TSLA"}),
    ("DELETE", "/watchlists/{wl}/symbols/AAPL", None),
    ("GET", "/uploads/{up}", None),
    ("GET", "/uploads/{up}/rejections", None),
    ("GET", "/exports/{ex}", None),
    ("GET", "/exports/{ex}/events", None),
    ("GET", "/exports/{ex}/download", None),
    ("DELETE", "/exports/{ex}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ATTEMPTS, ids=[f"{m} {p}" for m, p, _ in ATTEMPTS])
def test_other_users_resource_answers_404_and_stays_untouched(owned: Owned, api: Any, method: str,
                                                              path: str, body: Any) -> None:
    before = owned.snapshot()
    url = path.format(wl=owned.watchlist["id"], up=owned.upload_id, ex=owned.export_id)
    kwargs = {"json": body} if body is not None else {}
    resp = api.as_user(owned.intruder).request(method, url, expect=404, **kwargs)
    assert error_of(resp)["code"] == "not_found"
    for secret in (owned.watchlist["name"], "AAPL", owned.owner.email):
        assert secret not in resp.text, f"the 404 reveals the owner's data: {resp.text[:300]}"
    assert owned.snapshot() == before


@pytest.mark.parametrize("listing", ["/watchlists", "/uploads", "/exports"])
def test_lists_show_only_the_users_own_resources(owned: Owned, api: Any, listing: str) -> None:
    theirs = api.as_user(owned.intruder).get(listing, expect=200).json()
    mine = api.as_user(owned.owner).get(listing, expect=200).json()
    assert theirs == [] and len(mine) == 1
