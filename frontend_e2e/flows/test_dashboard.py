"""The dashboard's counts equal what the API and the database hold for the user."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from frontend_e2e.support.truth import SEEDED_OPEN, SEEDED_SYMBOL, db_counts

pytestmark = [pytest.mark.flow, pytest.mark.contract("web.dashboard")]


@pytest.fixture
def busy_account(users, watchlists, trade_files, exports):
    """A user of its own with two watchlists, one upload and one export."""
    user = users.create("browser")
    watchlists.create(user)
    watchlists.create(user, symbols=["AMD"])
    trade_files.upload(user, trade_files.build(5, symbols=("META",)))
    exports.create(user, SEEDED_SYMBOL, SEEDED_OPEN, SEEDED_OPEN + timedelta(minutes=5))
    return user


@pytest.fixture
def account(busy_account):
    return busy_account


def test_dashboard_counts_equal_the_api_and_the_database(dashboard_page, account, api, db):
    dashboard_page.open()
    expect(dashboard_page.watchlist_count).to_have_text(re.compile(r"^\d+$"))
    shown = {"watchlists": dashboard_page.watchlist_count.inner_text(),
             "uploads": dashboard_page.upload_count.inner_text(),
             "exports": dashboard_page.export_count.inner_text()}
    client = api.as_user(account)
    from_api = {name: str(len(client.get(f"/{name}", expect=200).json())) for name in shown}
    from_db = {name: str(count) for name, count in db_counts(db, account.id).items()}
    assert shown == from_api == from_db == {"watchlists": "2", "uploads": "1", "exports": "1"}
