"""What ``invoke e2e.*`` prepares around the phases: the seeding thread and the environments."""

from __future__ import annotations

import sys
import threading
import types
from pathlib import Path
from types import SimpleNamespace

import pytest

from e2e_shared import E2EError, orchestrate


def test_seeding_runs_once_in_the_background_and_the_waiter_gets_its_timing(monkeypatch):
    calls, release = [], threading.Event()

    def fake_seed(settings):
        release.wait(5)
        calls.append(settings)
        return {"symbols": 10, "users": 2, "trades": 36000, "bars": 1170}

    monkeypatch.setattr("e2e_shared.seeding.seed_baseline", fake_seed)
    # The summary is the product's words (its describe()), asked by the name in [tool.e2e].
    product = types.ModuleType("some_product")
    product.describe = lambda counts: f"{counts['symbols']} symbols, {counts['users']} users"
    monkeypatch.setitem(sys.modules, "some_product", product)
    settings = SimpleNamespace(tool={"product": "some_product"})
    timings, lines = {}, []
    seeder = orchestrate.Seeder(settings, timings, lines.append)
    seeder.start()
    assert seeder.thread.is_alive()  # the run goes on while it seeds
    release.set()
    seeder.wait()
    seeder.wait()
    assert calls == [settings] and "seed" in timings
    assert lines[0].startswith("data.seed: baseline ready in ")
    assert lines[0].endswith("s (10 symbols, 2 users)")


def test_a_failed_seed_is_raised_to_the_phase_that_waits_for_it(monkeypatch):
    def broken(_settings):
        raise E2EError("the api refused the seed user", "run `invoke stack.up` first")

    monkeypatch.setattr("e2e_shared.seeding.seed_baseline", broken)
    seeder = orchestrate.Seeder("settings", {}, lambda _line: None)
    seeder.start()
    with pytest.raises(E2EError, match="refused the seed user"):
        seeder.wait()


def test_waiting_on_a_seeder_nobody_started_seeds_there_and_then(monkeypatch):
    monkeypatch.setattr("e2e_shared.seeding.seed_baseline", lambda _s: {})
    timings = {}
    orchestrate.Seeder("settings", timings, lambda _line: None).wait()
    assert "seed" in timings


def test_an_unknown_session_names_its_environment_and_the_command_to_rerun():
    with pytest.raises(E2EError) as err:
        orchestrate.prepare_envs(["no-such-session"], sys.executable, lambda _line: None)
    assert "preparing the no-such-session environment failed" in str(err.value)
    assert "--install-only -s no-such-session" in str(err.value)


def test_report_path_is_shown_relative_below_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert orchestrate.shown_path(tmp_path / "reports" / "index.html") == "reports/index.html"
    assert orchestrate.shown_path(Path("/elsewhere/index.html")) == "/elsewhere/index.html"


def test_the_host_side_imports_without_pytest():
    """`pip install -e .` gives the host no pytest: what the tasks import must not need it."""
    import subprocess

    code = ("import sys; sys.modules['pytest'] = None; sys.modules['_pytest'] = None\n"
            "import e2e_shared.orchestrate, e2e_shared.drill, e2e_shared.tasklib, e2e_shared.repeat, "
            "e2e_shared.reaping, e2e_shared.bench, e2e_shared.seeding, e2e_shared.report.__main__")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
