"""Watchlists: create, read, rename, symbols in and out, delete; names unique; ten per user."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from backend_e2e.contract import error_of

pytestmark = pytest.mark.flow


@pytest.mark.contract(
    "watchlists.create", "watchlists.get", "watchlists.rename", "watchlists.delete",
    "watchlists.symbols_add", "watchlists.symbols_remove", "watchlists.shape")
def test_watchlist_full_lifecycle(api: Any, user: Any, unique: Any) -> None:
    me = api.as_user(user)
    name, new_name = unique("wl"), unique("renamed")
    wl = me.post("/watchlists", json={"name": name}, expect=201).json()
    assert (wl["name"], wl["symbols"]) == (name, [])
    assert me.get(f"/watchlists/{wl['id']}", expect=200).json() == wl
    assert [w["id"] for w in me.get("/watchlists", expect=200).json()] == [wl["id"]]

    renamed = me.patch(f"/watchlists/{wl['id']}", json={"name": new_name}, expect=200).json()
    assert renamed["name"] == new_name and renamed["created_at"] == wl["created_at"]

    for symbol in ("TSLA", "aapl", "MSFT"):
        me.post(f"/watchlists/{wl['id']}/symbols", json={"symbol": symbol}, expect=201)
    assert me.get(f"/watchlists/{wl['id']}", expect=200).json()["symbols"] == ["AAPL", "MSFT", "TSLA"]
    me.delete(f"/watchlists/{wl['id']}/symbols/MSFT", expect=204)
    assert me.get(f"/watchlists/{wl['id']}", expect=200).json()["symbols"] == ["AAPL", "TSLA"]

    me.delete(f"/watchlists/{wl['id']}", expect=204)
    me.get(f"/watchlists/{wl['id']}", expect=404)
    assert me.get("/watchlists", expect=200).json() == []


@pytest.mark.contract("watchlists.list")
def test_watchlists_are_listed_oldest_first(api: Any, shared_user: Any, watchlists: Any) -> None:
    made = [watchlists.create(shared_user)["id"] for _ in range(3)]
    listed = [w["id"] for w in api.as_user(shared_user).get("/watchlists", expect=200).json()]
    assert [i for i in listed if i in made] == made


@pytest.mark.contract("watchlists.symbols_add")
def test_adding_a_symbol_twice_is_a_no_op(api: Any, shared_user: Any, watchlists: Any) -> None:
    wl = watchlists.create(shared_user, symbols=["NVDA"])
    again = api.as_user(shared_user).post(f"/watchlists/{wl['id']}/symbols", json={"symbol": "NVDA"},
                                   expect=201).json()
    assert again["symbols"] == ["NVDA"]
    assert again["updated_at"] == wl["updated_at"]


@pytest.mark.contract("watchlists.shape")
def test_symbol_changes_move_updated_at_forward(api: Any, shared_user: Any, watchlists: Any) -> None:
    wl = watchlists.create(shared_user)
    added = api.as_user(shared_user).post(f"/watchlists/{wl['id']}/symbols", json={"symbol": "AMD"},
                                   expect=201).json()
    assert datetime.fromisoformat(added["updated_at"]) > datetime.fromisoformat(wl["updated_at"])
    assert added["created_at"] == wl["created_at"]


@pytest.mark.contract("watchlists.symbols_remove")
def test_removing_a_symbol_not_in_the_list_is_404(api: Any, shared_user: Any, watchlists: Any) -> None:
    wl = watchlists.create(shared_user, symbols=["AAPL"])
    resp = api.as_user(shared_user).delete(f"/watchlists/{wl['id']}/symbols/MSFT", expect=404)
    assert error_of(resp)["code"] == "not_found"


@pytest.mark.contract("watchlists.create")
def test_duplicate_watchlist_name_is_a_conflict(api: Any, shared_user: Any, watchlists: Any) -> None:
    wl = watchlists.create(shared_user)
    resp = api.as_user(shared_user).post("/watchlists", json={"name": wl["name"]}, expect=409)
    assert error_of(resp)["code"] == "conflict"


@pytest.mark.contract("watchlists.rename")
def test_renaming_onto_another_watchlists_name_is_a_conflict(api: Any, shared_user: Any,
                                                             watchlists: Any) -> None:
    first, second = watchlists.create(shared_user), watchlists.create(shared_user)
    me = api.as_user(shared_user)
    resp = me.patch(f"/watchlists/{second['id']}", json={"name": first["name"]}, expect=409)
    assert error_of(resp)["code"] == "conflict"
    assert me.get(f"/watchlists/{second['id']}", expect=200).json()["name"] == second["name"]


@pytest.mark.contract("watchlists.create")
def test_two_users_may_use_the_same_watchlist_name(user: Any, shared_user: Any, watchlists: Any,
                                                   unique: Any) -> None:
    name = unique("same-name")
    assert watchlists.create(user, name=name)["name"] == watchlists.create(shared_user, name=name)["name"]


@pytest.mark.contract("watchlists.create", "validation.edges")
def test_eleventh_watchlist_is_refused_with_watchlist_limit(api: Any, user: Any, watchlists: Any) -> None:
    for _ in range(10):
        watchlists.create(user)
    resp = api.as_user(user).post("/watchlists", json={"name": "one-too-many"}, expect=409)
    assert error_of(resp)["code"] == "watchlist_limit"
    assert len(api.as_user(user).get("/watchlists", expect=200).json()) == 10


@pytest.mark.contract("watchlists.delete")
def test_deleting_a_watchlist_frees_a_slot_under_the_limit(api: Any, user: Any, watchlists: Any) -> None:
    made = [watchlists.create(user) for _ in range(10)]
    me = api.as_user(user)
    me.delete(f"/watchlists/{made[0]['id']}", expect=204)
    wl = me.post("/watchlists", json={"name": "after-delete"}, expect=201).json()
    watchlists.created.append((user, wl["id"]))
    assert len(me.get("/watchlists", expect=200).json()) == 10
