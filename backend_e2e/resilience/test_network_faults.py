"""The API behind the fault proxy: what a client sees when the network, not the process, fails.

Each fault acts on the wire (``faults.cut``, ``latency``, ``blackhole``) and is undone by the
``faults`` fixture after the test.
"""

from __future__ import annotations

import time

import pytest
import requests

from e2e_shared.clients import ApiClient

pytestmark = pytest.mark.resilience


def test_with_the_api_cut_a_request_fails_fast_and_works_again_after_restore(api: ApiClient, faults) -> None:
    assert api.get("/health").status_code == 200
    faults.cut("api")
    t0 = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        api.get("/health", timeout=10)
    assert time.monotonic() - t0 < 2.0, "a refused connection should fail at once, not time out"
    faults.restore("api")
    assert api.get("/health").status_code == 200


def test_with_300_ms_of_latency_on_the_api_a_request_takes_at_least_300_ms(api: ApiClient, faults) -> None:
    faults.latency("api", ms=300)
    t0 = time.monotonic()
    response = api.get("/health")
    assert response.status_code == 200
    assert time.monotonic() - t0 >= 0.3


def test_with_the_api_blackholed_a_request_times_out_and_works_after_restore(
        api: ApiClient, faults) -> None:
    faults.blackhole("api")
    t0 = time.monotonic()
    with pytest.raises(requests.Timeout):
        api.get("/health", timeout=0.5)
    assert time.monotonic() - t0 >= 0.5
    faults.restore("api")
    assert api.get("/health").status_code == 200
