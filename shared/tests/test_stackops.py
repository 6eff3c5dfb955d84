from __future__ import annotations

import pytest

from e2e_shared import E2EError
from e2e_shared.drivers.base import ServiceStatus
from e2e_shared.stackops import fmt_uptime, require_up, status_table


def test_status_table_has_one_aligned_row_per_service():
    table = status_table([
        ServiceStatus("db", "running", 12, 15432, 75, True),
        ServiceStatus("objects", "down", None, 19000, None, False),
    ])
    lines = table.splitlines()
    assert lines[0].split() == ["SERVICE", "STATE", "PID", "PORT", "UPTIME", "READY"]
    assert lines[1].split() == ["db", "running", "12", "15432", "1m15s", "yes"]
    assert lines[2].split() == ["objects", "down", "-", "19000", "-", "no"]
    assert len({line.index("STATE") if "STATE" in line else None for line in lines[:1]}) == 1


def test_uptime_formats():
    assert [fmt_uptime(s) for s in (None, 5, 125, 7300)] == ["-", "5s", "2m05s", "2h01m"]


class _Driver:
    def dead_services(self):
        return []

    def __init__(self, rows):
        self.rows = rows

    def status(self):
        return self.rows


def test_require_up_names_what_is_not_ready_and_the_command():
    driver = _Driver([ServiceStatus("db", "down", None, 1, None, False)])
    with pytest.raises(E2EError) as info:
        require_up(driver)  # type: ignore[arg-type]
    assert "db" in info.value.cause
    assert "invoke stack.up" in info.value.hint


class _SlowDriver:
    """Alive but not ready for its first few probes, as a busy machine can be."""

    def __init__(self, slow_probes: int, dead: list[str] | None = None):
        self.left = slow_probes
        self.dead = dead or []

    def status(self):
        self.left -= 1
        return [ServiceStatus("web", "running", 1, 2, 3, self.left < 0)]

    def dead_services(self):
        return self.dead


def test_require_up_waits_for_a_running_stack_that_is_slow_to_answer():
    driver = _SlowDriver(slow_probes=2)
    require_up(driver, wait=5)  # type: ignore[arg-type]
    assert driver.left < 0


def test_require_up_fails_at_once_when_a_service_is_dead():
    import time

    driver = _SlowDriver(slow_probes=100, dead=["web"])
    t0 = time.monotonic()
    with pytest.raises(E2EError, match="web not ready"):
        require_up(driver, wait=30)  # type: ignore[arg-type]
    assert time.monotonic() - t0 < 2
