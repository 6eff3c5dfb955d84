"""Tradeboard's side of the seam: the hooks the engine asks for by name."""

from __future__ import annotations

import tradeboard_fixtures
from e2e_shared.masking import MASK, mask
from tradeboard_fixtures.seed import USERS


def test_the_secrets_every_process_masks_are_the_seeded_users_passwords():
    assert set(tradeboard_fixtures.SECRETS) == {u.password for u in USERS}
    assert mask(f"login {USERS[0].password}") == f"login {MASK}"


def test_the_seed_summary_names_what_the_baseline_counts():
    counts = {"symbols": 10, "users": 2, "trades": 36000, "bars": 1170, "uploaded": 0}
    assert tradeboard_fixtures.describe(counts) == "10 symbols, 2 users, 36000 trades"
