"""Watchlists through the page: create, rename, add and remove symbols, delete, and the limit
of ten. Each change shows on the page and is what the API then holds."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.flow, pytest.mark.contract("web.watchlists")]


@pytest.fixture
def account(own_account):
    """Counts and the limit are per user: each test has a user of its own."""
    return own_account


def saved(api, account) -> dict[str, list[str]]:
    """The user's watchlists as the API holds them: name -> symbols."""
    return {w["name"]: w["symbols"] for w in api.as_user(account).get("/watchlists", expect=200).json()}


def test_create_a_watchlist(watchlists_page, account, api, unique):
    name = unique("wl")
    watchlists_page.open()
    expect(watchlists_page.empty_message).to_be_visible()
    watchlists_page.create(name)
    expect(watchlists_page.card_heading(name)).to_be_visible()
    expect(watchlists_page.counter).to_have_text("1 of 10 watchlists")
    expect(watchlists_page.name_input).to_have_value("")
    assert saved(api, account) == {name: []}


def test_rename_a_watchlist(watchlists_page, watchlists, account, api, unique):
    old, new = unique("wl"), unique("renamed")
    watchlists.create(account, name=old, symbols=["AMD"])
    watchlists_page.open()
    watchlists_page.rename(old, new)
    expect(watchlists_page.card_heading(new)).to_be_visible()
    expect(watchlists_page.card_heading(old)).to_have_count(0)
    expect(watchlists_page.symbols_of(new)).to_have_text(["AMD"])
    assert saved(api, account) == {new: ["AMD"]}


def test_add_a_symbol_to_a_watchlist(watchlists_page, watchlists, account, api, unique):
    name = unique("wl")
    watchlists.create(account, name=name, symbols=["TSLA"])
    watchlists_page.open()
    watchlists_page.add_symbol(name, "AAPL")
    expect(watchlists_page.symbols_of(name)).to_have_text(["AAPL", "TSLA"])
    assert saved(api, account) == {name: ["AAPL", "TSLA"]}


def test_remove_a_symbol_from_a_watchlist(watchlists_page, watchlists, account, api, unique):
    name = unique("wl")
    watchlists.create(account, name=name, symbols=["GOOG", "META"])
    watchlists_page.open()
    watchlists_page.remove_symbol(name, "GOOG")
    expect(watchlists_page.symbols_of(name)).to_have_text(["META"])
    assert saved(api, account) == {name: ["META"]}


def test_delete_a_watchlist(watchlists_page, watchlists, account, api, unique):
    keep, drop = unique("keep"), unique("drop")
    watchlists.create(account, name=keep)
    watchlists.create(account, name=drop)
    watchlists_page.open()
    expect(watchlists_page.counter).to_have_text("2 of 10 watchlists")
    watchlists_page.delete(drop)
    expect(watchlists_page.card_heading(drop)).to_have_count(0)
    expect(watchlists_page.card_heading(keep)).to_be_visible()
    expect(watchlists_page.counter).to_have_text("1 of 10 watchlists")
    assert saved(api, account) == {keep: []}


def test_the_eleventh_watchlist_shows_the_limit_message(watchlists_page, watchlists, account, api, unique):
    for _ in range(10):
        watchlists.create(account)
    watchlists_page.open()
    expect(watchlists_page.counter).to_have_text("10 of 10 watchlists")
    eleventh = unique("eleventh")
    watchlists_page.create(eleventh)
    expect(watchlists_page.alert).to_have_text("You can have at most 10 watchlists")
    expect(watchlists_page.card_heading(eleventh)).to_have_count(0)
    expect(watchlists_page.counter).to_have_text("10 of 10 watchlists")
    assert len(saved(api, account)) == 10
