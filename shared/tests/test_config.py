from __future__ import annotations

import json

import pytest

from e2e_shared import E2EError
from e2e_shared.config import Endpoints, endpoints, find_root, load_settings


def _workspace(tmp_path, extra: str = "") -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.e2e]\nstate_dir = ".e2e"\n[tool.e2e.services.db]\ncommand=["x"]\nready="sql"\n'
        + extra)


def test_find_root_walks_up_to_the_workspace(tmp_path, monkeypatch):
    monkeypatch.delenv("E2E_ROOT", raising=False)
    _workspace(tmp_path)
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert find_root(tmp_path / "a" / "b") == tmp_path


def test_find_root_outside_a_workspace_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("E2E_ROOT", raising=False)
    with pytest.raises(E2EError, match="E2E_ROOT"):
        find_root(tmp_path)


def test_endpoints_come_from_the_state_file(tmp_path, monkeypatch):
    for var in ("E2E_API_URL", "E2E_DATABASE_URL", "E2E_STATE_DIR", "E2E_PROFILE", "E2E_TARGET"):
        monkeypatch.delenv(var, raising=False)
    _workspace(tmp_path)
    (tmp_path / ".e2e").mkdir()
    (tmp_path / ".e2e" / "state.json").write_text(json.dumps(
        {"driver": "embedded", "endpoints": {"api_url": "http://127.0.0.1:1", "buckets": ["a"]}}))
    ep = endpoints(load_settings(tmp_path))
    assert ep.api_url == "http://127.0.0.1:1"
    assert ep.buckets == ("a",)


def test_environment_overrides_the_state_file(tmp_path, monkeypatch):
    _workspace(tmp_path)
    (tmp_path / ".e2e").mkdir()
    (tmp_path / ".e2e" / "state.json").write_text(json.dumps(
        {"endpoints": {"api_url": "http://127.0.0.1:1", "database_url": "postgresql://a"}}))
    monkeypatch.setenv("E2E_API_URL", "http://override:2")
    monkeypatch.delenv("E2E_DATABASE_URL", raising=False)
    ep = endpoints(load_settings(tmp_path))
    assert ep.api_url == "http://override:2"
    assert ep.database_url == "postgresql://a"


def test_a_target_takes_its_endpoints_from_pyproject(tmp_path, monkeypatch):
    monkeypatch.delenv("E2E_API_URL", raising=False)
    _workspace(tmp_path, '[tool.e2e.targets.staging]\napi_url = "https://staging.example"\n')
    settings = load_settings(tmp_path, target="staging")
    assert settings.profile == "remote"
    assert endpoints(settings).api_url == "https://staging.example"


def test_an_unknown_target_lists_the_valid_ones(tmp_path):
    _workspace(tmp_path, '[tool.e2e.targets.staging]\napi_url = "https://s"\n')
    with pytest.raises(E2EError) as info:
        load_settings(tmp_path, target="prod")
    assert "staging" in info.value.hint


def test_an_unknown_profile_lists_the_valid_ones(tmp_path):
    _workspace(tmp_path)
    with pytest.raises(E2EError, match="embedded, compose, remote"):
        load_settings(tmp_path, profile="k8s")


def test_state_dir_can_be_moved_by_environment(tmp_path, monkeypatch):
    _workspace(tmp_path)
    monkeypatch.setenv("E2E_STATE_DIR", str(tmp_path / "elsewhere"))
    assert load_settings(tmp_path).state_file == tmp_path / "elsewhere" / "state.json"


def test_s3_client_kwargs_use_the_endpoint():
    ep = Endpoints(s3_url="http://127.0.0.1:9", s3_access_key="k", s3_secret_key="s")
    assert ep.s3_client_kwargs()["endpoint_url"] == "http://127.0.0.1:9"
    assert ep.s3_client_kwargs()["aws_secret_access_key"] == "s"
