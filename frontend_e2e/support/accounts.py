"""Signed-in browser sessions without the login form: the web app keeps its tokens in
localStorage, so a Playwright ``storage_state`` holding a user's API tokens is a signed-in tab.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from tradeboard_fixtures.factories import User, UserFactory

ACCESS_KEY = "tb.access_token"
REFRESH_KEY = "tb.refresh_token"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def signed_in_state(web_url: str, user: User) -> dict[str, Any]:
    """A storage state in which the web app at ``web_url`` is signed in as ``user``."""
    return {"cookies": [], "origins": [{"origin": origin(web_url), "localStorage": [
        {"name": ACCESS_KEY, "value": user.access_token},
        {"name": REFRESH_KEY, "value": user.refresh_token},
    ]}]}


class SessionAccount:
    """The run's user, signed in once through the API and reused by every test that runs as it.

    Its tokens are renewed (one more API login) once they are ``max_age`` seconds old, well
    inside the API's access token lifetime (15 minutes by default): a long run never hands a
    test an expiring token, whose refresh would rotate the pair under the other tests.
    """

    def __init__(self, factory: UserFactory, max_age: float = 600.0) -> None:
        self.factory = factory
        self.max_age = max_age
        self._user = factory.create("browser")
        self._signed_in = time.monotonic()

    @property
    def user(self) -> User:
        if time.monotonic() - self._signed_in > self.max_age:
            self.factory.login(self._user)
            self._signed_in = time.monotonic()
        return self._user
