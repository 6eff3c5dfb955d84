from __future__ import annotations

import pytest

from e2e_shared import E2EError
from e2e_shared.drivers.base import ServiceStatus
from e2e_shared.stackops import fmt_uptime, require_up, status_table


def test_status_table_has_one_aligned_row_per_service():
    table = status_table([
        ServiceStatus("db", "running", 12, 54329, 75, True),
        ServiceStatus("objects", "down", None, 59000, None, False),
    ])
    lines = table.splitlines()
    assert lines[0].split() == ["SERVICE", "STATE", "PID", "PORT", "UPTIME", "READY"]
    assert lines[1].split() == ["db", "running", "12", "54329", "1m15s", "yes"]
    assert lines[2].split() == ["objects", "down", "-", "59000", "-", "no"]
    assert len({line.index("STATE") if "STATE" in line else None for line in lines[:1]}) == 1


def test_uptime_formats():
    assert [fmt_uptime(s) for s in (None, 5, 125, 7300)] == ["-", "5s", "2m05s", "2h01m"]


class _Driver:
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
