"""Passwords at rest, read through SQL: a salted hash of a slow algorithm at or above the
contract's floor, never the password or a fast digest of it."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

pytestmark = [pytest.mark.integrity, pytest.mark.contract("auth.password_storage")]

# The floor of compose/CONTRACT.md ("Passwords at rest"): algorithm -> minimum parameters.
ARGON2_FLOOR = {"m": 8192, "t": 1, "p": 1}
BCRYPT_MIN_COST = 10
SCRYPT_MIN_LN = 14

ARGON2 = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)"
                    r"\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}$")
BCRYPT = re.compile(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$")
SCRYPT = re.compile(r"^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$")


def below_floor(stored: str) -> str | None:
    """Why ``stored`` is not an acceptable password hash, or None when it is."""
    if m := ARGON2.match(stored):
        params = {"m": int(m[1]), "t": int(m[2]), "p": int(m[3])}
        low = {k: v for k, v in params.items() if v < ARGON2_FLOOR[k]}
        return f"argon2id parameters below the floor {ARGON2_FLOOR}: {low}" if low else None
    if m := BCRYPT.match(stored):
        return None if int(m[1]) >= BCRYPT_MIN_COST else f"bcrypt cost {m[1]} < {BCRYPT_MIN_COST}"
    if m := SCRYPT.match(stored):
        return None if int(m[1]) >= SCRYPT_MIN_LN else f"scrypt ln {m[1]} < {SCRYPT_MIN_LN}"
    return "not an argon2id, bcrypt or scrypt hash in PHC format"


def _stored(db: Any, *user_ids: str) -> dict[str, str]:
    with db.connect() as conn:
        rows = conn.execute(sa.text("SELECT id::text, password_hash FROM users WHERE id::text = ANY(:ids)"),
                            {"ids": list(user_ids)}).all()
    return dict(rows)  # type: ignore[arg-type]


@pytest.fixture
def twins(users: Any, unique: Any) -> tuple[Any, Any, str]:
    """Two new users who chose the same password."""
    password = f"same-{unique('pw')}"
    return users.create("twin-a", password=password), users.create("twin-b", password=password), password


def test_two_users_with_the_same_password_get_different_stored_hashes(twins: tuple[Any, Any, str],
                                                                      db: Any) -> None:
    a, b, _ = twins
    stored = _stored(db, a.id, b.id)
    assert len(stored) == 2, stored.keys()
    assert stored[a.id] != stored[b.id], f"same password, same stored hash (unsalted?): {stored[a.id]}"


def test_stored_hash_names_a_slow_algorithm_at_or_above_the_floor(twins: tuple[Any, Any, str],
                                                                  db: Any) -> None:
    a, b, _ = twins
    for user_id, value in _stored(db, a.id, b.id).items():
        problem = below_floor(value)
        assert problem is None, f"user {user_id}: {problem}: {value[:40]}..."


def test_stored_hash_never_holds_the_password(twins: tuple[Any, Any, str], db: Any) -> None:
    a, _, password = twins
    value = _stored(db, a.id)[a.id]
    assert password not in value and password.encode().hex() not in value.lower()
