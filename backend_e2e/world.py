"""One user and one of each resource, made once per run, so that every endpoint can be called.

The smoke tests call each endpoint of the contract with a valid request built here. Calls that
consume or destroy something (logout, refresh, the DELETEs) get a fresh one made just for
them, so the shared resources stay as they were.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from backend_e2e.contract import Endpoint
from e2e_shared.clients import ApiClient
from e2e_shared.naming import Namer
from e2e_shared.waits import Poll, wait_until
from tradeboard_fixtures.factories import TradeFileFactory, User, UserFactory

# A short stretch of the seeded day: exports of it are small and quick.
SEED_FROM = "2026-01-05T14:30:00Z"
SEED_TO = "2026-01-05T14:31:00Z"


@dataclass
class Call:
    path: str
    token: str | None
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    api: ApiClient
    namer: Namer
    users: UserFactory
    user: User
    watchlist_id: str = ""
    upload_id: str = ""
    export_id: str = ""
    exports: list[str] = field(default_factory=list)

    # --- building -----------------------------------------------------------------------
    @classmethod
    def build(cls, api: ApiClient, namer: Namer, users: UserFactory, files: TradeFileFactory) -> World:
        world = cls(api, namer, users, users.create("world"))
        me = api.as_user(world.user)
        world.watchlist_id = me.post("/watchlists", json={"name": namer("wl")}, expect=201).json()["id"]
        me.post(f"/watchlists/{world.watchlist_id}/symbols", json={"symbol": "AAPL"}, expect=201)
        world.upload_id = files.upload(world.user, files.build(3))["id"]
        world.export_id = world.new_export()

        def succeeded() -> Poll:
            ex = me.get(f"/exports/{world.export_id}", expect=200).json()
            return Poll(ex["status"] == "succeeded", ex)

        wait_until(succeeded, what=f"the world's export {world.export_id} to succeed", timeout=30,
                   interval=0.1)
        return world

    def new_export(self) -> str:
        body = {"symbol": "AAPL", "from": SEED_FROM, "to": SEED_TO}
        ex_id = self.api.as_user(self.user).post("/exports", json=body, expect=202).json()["id"]
        self.exports.append(ex_id)
        return ex_id

    def fresh_login(self) -> dict[str, str]:
        body = {"email": self.user.email, "password": self.user.password}
        return self.api.post("/auth/login", json=body, expect=200).json()

    def cleanup(self) -> None:
        me = self.api.as_user(self.user)
        for ex_id in self.exports:  # their objects; the rows go with the user
            with contextlib.suppress(Exception):
                me.delete(f"/exports/{ex_id}")

    # --- requests -----------------------------------------------------------------------
    def fill(self, path: str, symbol: str = "AAPL") -> str:
        return path.format(watchlist=self.watchlist_id, upload=self.upload_id,
                           export=self.export_id, symbol=symbol)

    def valid_body(self, ep: Endpoint, files: TradeFileFactory | None = None) -> dict[str, Any]:
        """Request keywords that make a valid call (body, query, upload)."""
        name = ep.id
        if name == "POST /auth/signup":
            email = self.namer.email("signup")
            self.users.created.append(User(id="", email=email, password=""))  # removed at cleanup
            return {"json": {"email": email, "password": f"pw-{self.namer('pw')}"}}
        if name == "POST /auth/login":
            return {"json": {"email": self.user.email, "password": self.user.password}}
        if name in ("POST /watchlists", "PATCH /watchlists/{watchlist}"):
            return {"json": {"name": self.namer("wl")}}
        if name == "POST /watchlists/{watchlist}/symbols":
            return {"json": {"symbol": "MSFT"}}
        if name == "GET /trades/latest":
            return {"params": {"symbol": "AAPL", "limit": 5}}
        if name == "GET /bars":
            return {"params": {"symbol": "AAPL", "interval": "5m", "from": SEED_FROM, "to": SEED_TO}}
        if name == "POST /uploads":
            content = files.build(2).content() if files else b"trade_id,symbol,price,quantity,ts\n"
            return {"files": {"file": (f"{self.namer('up')}.csv", content, "text/csv")}}
        if name == "POST /exports":
            return {"json": {"symbol": "AAPL", "from": SEED_FROM, "to": SEED_TO}}
        if name == "GET /exports/{export}/events":
            return {"stream": True}
        return {}

    def valid_call(self, ep: Endpoint, files: TradeFileFactory) -> Call:
        """A valid call of ``ep``, with a fresh resource when the call uses it up."""
        me = self.api.as_user(self.user)
        token: str | None = self.user.access_token if ep.protected else None
        kwargs = self.valid_body(ep, files)
        path = self.fill(ep.path)
        if ep.id == "POST /auth/refresh":
            kwargs = {"json": {"refresh_token": self.fresh_login()["refresh_token"]}}
        elif ep.id == "POST /auth/logout":
            token = self.fresh_login()["access_token"]
        elif ep.id == "DELETE /watchlists/{watchlist}":
            wl = me.post("/watchlists", json={"name": self.namer("wl")}, expect=201).json()
            path = f"/watchlists/{wl['id']}"
        elif ep.id == "DELETE /watchlists/{watchlist}/symbols/{symbol}":
            me.post(f"/watchlists/{self.watchlist_id}/symbols", json={"symbol": "NVDA"}, expect=201)
            path = self.fill(ep.path, symbol="NVDA")
        elif ep.id == "DELETE /exports/{export}":
            path = f"/exports/{self.new_export()}"
        return Call(path, token, kwargs)

    def adopt(self, ep: Endpoint, resp: Any) -> None:
        """Remember what a call made, so that cleanup removes it."""
        if ep.id == "POST /exports" and resp.status_code == 202:
            self.exports.append(resp.json()["id"])
