from __future__ import annotations

import pytest

from e2e_shared import E2EError
from e2e_shared.config import load_settings
from e2e_shared.drivers import get_driver
from e2e_shared.phases import load
from e2e_shared.runner import Options, refuse_destructive


@pytest.fixture
def remote(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.e2e]\n[tool.e2e.services.db]\ncommand = ["x"]\nready = "sql"\n'
        '[tool.e2e.targets.staging]\napi_url = "http://127.0.0.1:9"\n')
    monkeypatch.delenv("E2E_API_URL", raising=False)
    return get_driver(settings=load_settings(tmp_path, target="staging"))


def test_a_target_selects_the_remote_driver_with_its_endpoints(remote):
    assert remote.name == "remote"
    assert remote.endpoints().api_url == "http://127.0.0.1:9"


def test_faults_and_restarts_are_refused_on_a_remote_target(remote):
    for action in (remote.stop, remote.kill, remote.start):
        with pytest.raises(E2EError, match="never starts or stops a deployed environment"):
            action("db")


def test_down_on_a_remote_target_touches_nothing(remote):
    said: list[str] = []
    remote.down(echo=said.append)
    assert "nothing to stop" in said[0]


def _model(root):
    from e2e_shared.config import load_tool_config

    return load(load_tool_config(root))


def test_an_explicitly_asked_destructive_phase_is_refused_on_a_target(root):
    model = _model(root)
    with pytest.raises(E2EError) as info:
        refuse_destructive(model, model.select(["resilience"]), Options(target="staging"), ["resilience"])
    assert "--allow-destructive" in info.value.hint


def test_allow_destructive_lets_it_through(root):
    model = _model(root)
    plan = model.select(["resilience"])
    assert refuse_destructive(model, plan, Options(target="staging", allow_destructive=True),
                              ["resilience"]) == plan
