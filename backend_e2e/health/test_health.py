"""GET /health: the API answers and reports each dependency, with version and time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from e2e_shared.waits import Poll, wait_until

pytestmark = [pytest.mark.health, pytest.mark.contract("processes.api_ready", "health.checks")]

DEPENDENCIES = ("database", "storage", "redis", "pipeline")


@pytest.fixture
def health(api: Any) -> dict[str, Any]:
    return api.get("/health", expect=200).json()


def test_health_answers_ok_with_nothing_failing(health: dict[str, Any]) -> None:
    assert health["status"] == "ok"
    assert health["failing"] == []
    assert set(health["checks"]) == set(DEPENDENCIES)


@pytest.mark.parametrize("name", ["database", "storage", "redis"])
def test_health_reports_the_dependency_as_passing_with_its_latency(health: dict[str, Any],
                                                                    name: str) -> None:
    check = health["checks"][name]
    assert check["ok"] is True, check
    assert check["error"] is None
    assert isinstance(check["latency_ms"], int | float) and 0 <= check["latency_ms"] < 2000, check


@pytest.mark.contract("processes.pipeline_ready", "pipeline.heartbeat")
def test_health_reports_a_fresh_pipeline_heartbeat(health: dict[str, Any]) -> None:
    check = health["checks"]["pipeline"]
    assert check["ok"] is True, check
    assert check["error"] is None
    # The worker beats every second; /health calls it stale after 15 s.
    assert isinstance(check["heartbeat_age_s"], int | float) and 0 <= check["heartbeat_age_s"] < 15, check


def _beat_at(api: Any) -> datetime:
    body = api.get("/health", expect=200).json()
    age = body["checks"]["pipeline"]["heartbeat_age_s"]
    return datetime.fromisoformat(body["time"]) - timedelta(seconds=age)


@pytest.mark.contract("pipeline.heartbeat")
def test_pipeline_heartbeat_keeps_beating(api: Any) -> None:
    first = _beat_at(api)

    def renewed() -> Poll:
        beat = _beat_at(api)
        return Poll(beat - first > timedelta(seconds=0.5), beat.isoformat())

    # The worker beats every second: within 3 s a later beat must be reported.
    wait_until(renewed, what=f"a pipeline heartbeat later than {first.isoformat()}", timeout=3,
               interval=0.1)


@pytest.mark.contract("config.version")
def test_health_carries_the_version(health: dict[str, Any]) -> None:
    assert isinstance(health["version"], str)
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", health["version"]), health["version"]


def test_health_time_is_the_current_utc_time(health: dict[str, Any]) -> None:
    stamp = health["time"]
    assert stamp.endswith(("Z", "+00:00")), stamp
    reported = datetime.fromisoformat(stamp)
    assert abs(reported - datetime.now(UTC)) < timedelta(seconds=5), stamp


@pytest.mark.contract("auth.protected")
def test_health_needs_no_token(api: Any) -> None:
    resp = api.get("/health", headers={"Authorization": "Bearer not-a-token"}, expect=200)
    assert resp.headers["content-type"].startswith("application/json")
