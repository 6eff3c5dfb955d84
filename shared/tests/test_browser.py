from __future__ import annotations

import os
import stat

import pytest

from e2e_shared import E2EError
from e2e_shared.browser import ENV_VAR, LAUNCH_ARGS, find_chromium, launch_args


def _exe(tmp_path, name="chromium"):
    path = tmp_path / name
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def _nothing(_name):
    return None


def test_the_environment_override_wins(tmp_path):
    exe = _exe(tmp_path, "my-chrome")
    other = _exe(tmp_path, "chromium")
    assert find_chromium(environ={ENV_VAR: exe}, which=lambda _n: other, paths=[],
                         bundled=lambda: None, install=None) == exe


def test_a_system_chromium_on_path_comes_next(tmp_path):
    exe = _exe(tmp_path)
    assert find_chromium(environ={}, which=lambda n: exe if n == "chromium" else None, paths=[],
                         bundled=lambda: None, install=None) == exe


def test_playwrights_own_browser_is_installed_as_a_last_resort(tmp_path):
    exe = _exe(tmp_path, "pw-chromium")
    state = {"installed": False}

    def install():
        state["installed"] = True
        return True, "ok"

    found = find_chromium(environ={}, which=_nothing, paths=[],
                          bundled=lambda: exe if state["installed"] else None, install=install)
    assert found == exe and state["installed"]


def test_nothing_found_says_what_was_tried_and_how_to_fix_it(tmp_path):
    with pytest.raises(E2EError) as info:
        find_chromium(environ={ENV_VAR: str(tmp_path / "missing")}, which=_nothing, paths=[],
                      bundled=lambda: None, install=lambda: (False, "download refused"))
    cause, hint = info.value.cause, info.value.hint
    assert ENV_VAR in cause and "PATH" in cause and "download refused" in cause
    assert "apt-get install -y chromium" in hint and "playwright install chromium" in hint


def test_launch_args_carry_the_required_flags():
    args = launch_args("/usr/bin/chromium")
    assert args["executable_path"] == "/usr/bin/chromium"
    assert set(LAUNCH_ARGS) <= set(args["args"])
    assert "--no-sandbox" in args["args"] and "--disable-background-networking" in args["args"]


@pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="needs Debian's chromium")
def test_the_machines_debian_chromium_is_found():
    assert find_chromium(environ={}, install=None).endswith("chromium")
