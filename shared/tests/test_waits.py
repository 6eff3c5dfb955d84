from __future__ import annotations

import pytest

from e2e_shared.waits import Poll, WaitTimeout, tail, wait_until


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_wait_returns_the_first_truthy_value():
    values = iter([0, 0, "ok"])
    clock = FakeClock()
    assert wait_until(lambda: next(values), what="x", clock=clock, sleep=clock.sleep) == "ok"


def test_wait_accepts_poll_results_and_returns_their_state():
    polls = iter([Poll(False, "starting"), Poll(True, "ready")])
    clock = FakeClock()
    assert wait_until(lambda: next(polls), what="x", clock=clock, sleep=clock.sleep) == "ready"


def test_timeout_names_the_condition_last_state_and_log_tail(tmp_path):
    log = tmp_path / "svc.log"
    log.write_text("\n".join(f"line {i}" for i in range(100)))
    clock = FakeClock()
    with pytest.raises(WaitTimeout) as info:
        wait_until(lambda: Poll(False, "503 database"), what="api to be healthy", timeout=2,
                   interval=0.5, log=log, clock=clock, sleep=clock.sleep)
    msg = str(info.value)
    assert "api to be healthy" in msg
    assert "'503 database'" in msg
    assert "line 99" in msg and "line 79" not in msg  # the last 20 lines, not the whole log
    assert info.value.log_tail[-1] == "line 99"


def test_transient_errors_are_retried_and_remembered():
    calls = {"n": 0}

    def flaky():
        calls["n"] += 1
        raise ConnectionRefusedError("refused")

    clock = FakeClock()
    with pytest.raises(WaitTimeout) as info:
        wait_until(flaky, what="db", timeout=1, interval=0.1, transient=(ConnectionError,),
                   clock=clock, sleep=clock.sleep)
    assert calls["n"] >= 10
    assert "ConnectionRefusedError" in str(info.value.last)


def test_other_errors_propagate_at_once():
    clock = FakeClock()
    with pytest.raises(ZeroDivisionError):
        wait_until(lambda: 1 / 0, what="x", transient=(ConnectionError,), clock=clock,
                   sleep=clock.sleep)


def test_a_dead_process_ends_the_wait_early():
    clock = FakeClock()
    with pytest.raises(WaitTimeout) as info:
        wait_until(lambda: False, what="db", timeout=60, alive=lambda: False, clock=clock,
                   sleep=clock.sleep)
    assert "has exited" in str(info.value)
    assert clock.now == 0.0


def test_tail_of_a_missing_file_is_empty(tmp_path):
    assert tail(tmp_path / "nope.log") == []
