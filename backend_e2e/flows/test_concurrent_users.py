"""Ten users doing a whole session at the same time: no one sees another's data, each within 5 s.

A session: login, a watchlist, an upload loaded and queried as bars, an export downloaded and
checked, the lists, logout. The accounts exist beforehand (sign-up is not part of a session).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from backend_e2e import objects
from backend_e2e.market import api_bars, csv_trades, expected_bars, iso, sent_trades
from backend_e2e.scoped import Toolkit

pytestmark = [pytest.mark.flow, pytest.mark.contract("watchlists.create", "auth.login")]

USERS = 10
FLOW_SECONDS = 5.0  # the bound for one user's whole journey under this load


@dataclass
class Journey:
    index: int
    kit: Toolkit
    user: Any = None  # signed up beforehand: the journey is a session, from login to logout
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage, for the failure message
    _last: float = 0.0

    def check(self, ok: bool, what: str) -> None:
        if not ok:
            self.problems.append(what)

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages[stage] = round(now - self._last, 2)
        self._last = now

    def run(self) -> Journey:
        """One user's session, timed from login to logout."""
        started = self._last = time.perf_counter()
        kit, user = self.kit, self.user
        kit.users.login(user)
        me = kit.api.as_user(user)
        self.check(me.get("/auth/me", expect=200).json()["email"] == user.email, "me is someone else")
        self.lap("login+me")
        wl = kit.watchlists.create(user, symbols=["AAPL", "NVDA"])
        self.lap("watchlist")
        tf = kit.trade_files.build(60, symbols=("AMZN",), spread_minutes=30)
        kit.trade_files.upload(user, tf)
        status = kit.trade_files.wait_loaded(user, tf, timeout=FLOW_SECONDS * 2)
        self.check(status["rows_new"] == 60, f"upload loaded {status['rows_new']} new rows, not 60")
        self.lap("upload+load")
        bars = me.get("/bars", params={"symbol": "AMZN", "interval": "5m", "from": iso(tf.window[0]),
                                       "to": iso(tf.window[1])}, expect=200).json(parse_float=Decimal)
        self.check(api_bars(bars) == expected_bars(sent_trades(tf.valid), "5m"), "bars differ from my rows")
        self.lap("bars")
        ex = kit.exports.create(user, "AMZN", *tf.window)
        kit.exports.wait(user, ex["id"], timeout=FLOW_SECONDS * 2)
        content = me.get(f"/exports/{ex['id']}/download", expect=200).content
        self.check(csv_trades(content) == sent_trades(tf.valid), "export differs from my rows")
        self.lap("export+download")
        listed = {name: [x["id"] for x in me.get(f"/{name}", expect=200).json()]
                  for name in ("watchlists", "uploads", "exports")}
        self.check(listed == {"watchlists": [wl["id"]], "uploads": [tf.upload_id], "exports": [ex["id"]]},
                   f"my lists hold other ids: {listed}")
        self.lap("lists")
        me.post("/auth/logout", expect=204)
        self.lap("logout")
        self.seconds = time.perf_counter() - started
        self.ids = {"watchlist": wl["id"], "upload": tf.upload_id, "export": ex["id"], "user": user.id}
        return self


@pytest.fixture
def journeys(make_toolkit: Any, request: pytest.FixtureRequest, api: Any, s3: Any) -> Any:
    # One recorder for all: every request shows in the failure bundle.
    made = [Journey(i, make_toolkit(f"{request.node.nodeid}::{i}", api.recorder)) for i in range(USERS)]
    with ThreadPoolExecutor(max_workers=USERS) as pool:  # at once: each sign-up hashes a password
        users = list(pool.map(lambda j: j.kit.users.create(f"crowd{j.index}", login=False), made))
    for j, user in zip(made, users, strict=True):
        j.user = user
    yield made
    for j in made:
        # The journey ended with a logout, so the API no longer takes its token: remove the
        # export's file as an operator would (the rows go with the user).
        for _user, export_id in j.kit.exports.created:
            objects.delete(s3, objects.EXPORTS_BUCKET, f"exports/{export_id}.csv")
        j.kit.close()


@pytest.mark.usefixtures("quiet_stack")
def test_ten_users_complete_full_journeys_at_once_without_seeing_each_other(journeys: list[Journey]) -> None:
    with ThreadPoolExecutor(max_workers=USERS) as pool:
        done = list(pool.map(Journey.run, journeys))
    problems = {j.index: j.problems for j in done if j.problems}
    assert not problems, f"cross-contamination or wrong data: {problems}"
    all_ids = [j.ids[k] for j in done for k in j.ids]
    assert len(set(all_ids)) == len(all_ids) == 4 * USERS
    slow = {j.index: (round(j.seconds, 2), j.stages) for j in done if j.seconds > FLOW_SECONDS}
    assert not slow, f"journeys over {FLOW_SECONDS} s (seconds, stages): {slow}"
