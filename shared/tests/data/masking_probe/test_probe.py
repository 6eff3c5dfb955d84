"""A failing test that leaks on purpose: tokens on stdout (captured and raw), in an assertion,
in a browser's network traffic and console; the seeded password and another one typed into
password fields. Nothing of it may be readable under reports/ afterwards."""

from __future__ import annotations

import json
import os

ACCESS = os.environ["PROBE_ACCESS"]
REFRESH = os.environ["PROBE_REFRESH"]
TYPED = os.environ["PROBE_TYPED"]  # known to no secret registry
PAGE = """<!doctype html><title>sign in</title><form>
<label>Email <input id=email></label><label>Password <input id=pw type=password></label>
<label>Confirm <input id=again type=password></label></form>"""


def test_probe_leaks_everything(context):
    print("access token:", ACCESS, "refresh token:", REFRESH)  # captured by pytest
    os.write(1, f"raw stdout: Bearer {ACCESS}\n".encode())  # fd 1: captured by pytest

    def serve(route):
        if "/auth/" in route.request.url:  # the API answer carries the token pair, as Tradeboard's
            route.fulfill(status=200, content_type="application/json",
                          body=json.dumps({"access_token": ACCESS, "refresh_token": REFRESH}))
        else:
            route.fulfill(status=200, content_type="text/html", body=PAGE)

    context.route("http://probe.test/**", serve)
    page = context.new_page()
    page.goto("http://probe.test/login")
    page.fill("#email", "bob@tradeboard.test")
    page.fill("#pw", "bob-local-pw")
    page.locator("#again").press_sequentially(TYPED)
    page.evaluate("""async () => { const r = await fetch('/auth/login', {method: 'POST',
        headers: {'Authorization': 'Bearer ' + 'x'}, body: JSON.stringify({password: 'p'})});
        console.log('signed in with', (await r.json()).access_token); }""")
    assert page.title() == "dashboard", f"bob (bob-local-pw) is not signed in; token {ACCESS}"
