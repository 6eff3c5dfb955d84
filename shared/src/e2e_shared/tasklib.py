"""Glue between Invoke tasks and the library: one-line errors, driver lookup."""

from __future__ import annotations

import functools
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from invoke.exceptions import Exit

from . import E2EError, Terminated
from .drivers import StackDriver, get_driver


def cli(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn an :class:`E2EError` into one line on stderr with the next step, and exit 1.

    Ctrl-C exits 130 and SIGTERM (a CI cancel, ``timeout``) 143, after what was starting is
    cleaned up; when an e2e run was to follow (``invoke stack.up e2e.all``), its report says
    it was interrupted, so the last run's verdict is never taken for this one.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        previous = _term_as_interrupt()
        try:
            return fn(*args, **kwargs)
        except E2EError as exc:
            hint = f"\n  next: {exc.hint}" if exc.hint else ""
            raise Exit(f"error: {exc.cause}{hint}", code=1) from None
        except KeyboardInterrupt as exc:
            code = getattr(exc, "exit_code", 130)
            print("interrupted; cleaned up what was starting", file=sys.stderr)
            _record_pending_run("the run was interrupted before its suites started")
            raise Exit(code=code) from None
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    return wrapper


def _raise_terminated(_signum: int, _frame: Any) -> None:
    raise Terminated()


def _term_as_interrupt() -> Any:
    """SIGTERM takes Ctrl-C's orderly path (the previous handler is returned to restore).

    SIGINT is made Ctrl-C again too: a shell without job control starts background commands
    with it ignored (``setsid invoke e2e.all &``), and then nothing could stop the run in order.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    return signal.signal(signal.SIGTERM, _raise_terminated)


def pending_run(argv: list[str]) -> tuple[list[str] | None, list[str] | None] | None:
    """The e2e task named on the command line, as (phases, suites); None when there is none."""
    for token in argv[1:]:
        name = token.removeprefix("e2e.")
        if token == "e2e" or name == "all":
            return None, None
        if token.startswith("e2e.") and name in SUITE_NAMES:
            return None, [name]
        if token.startswith("e2e.") and name in PHASE_NAMES:
            return [name], None
    return None


def _record_pending_run(text: str) -> None:
    plan = pending_run(sys.argv)
    if plan is None:
        return
    from .orchestrate import record_unstarted_run

    try:
        record_unstarted_run(*plan, text, echo=lambda line: print(line, file=sys.stderr))
    except (E2EError, OSError) as exc:  # another run holds the workspace, say: leave its report
        print(f"note: no report written for the interrupted run ({exc})", file=sys.stderr)


def driver_for(driver: str | None, target: str | None) -> StackDriver:
    return get_driver(driver, target=target)


def _names(table: str) -> list[str]:
    """Phase or suite names from pyproject, for building tasks; empty outside a workspace."""
    from .config import find_root, load_tool_config

    try:
        return list(load_tool_config(find_root()).get(table, {}))
    except E2EError:
        return []


PHASE_NAMES = _names("phases")
SUITE_NAMES = _names("suites")


def run_e2e_task(phases: list[str] | None, suites: list[str] | None, *, strict: bool,
                 shard: str | None, target: str | None, allow_destructive: bool,
                 store_durations: bool = False) -> None:
    from .orchestrate import run_e2e
    from .phases import parse_shard
    from .runner import Options

    options = Options(strict=strict, shard=parse_shard(shard), target=target,
                      allow_destructive=allow_destructive, store_durations=store_durations)
    code = run_e2e(phases, suites, options=options)
    if code:
        raise Exit(code=code)


def merge_reports(junit_dir: str, *, strict: bool) -> int:
    from .report.__main__ import main

    return main(["merge", "--junit-dir", junit_dir, "--out", "reports", *(["--strict"] if strict else [])])


def run_all_tests(*, strict: bool) -> None:
    """Lint and unit tests, then a full E2E run on a stack this command brings up and always takes down."""
    import subprocess

    unit = subprocess.run([sys.executable, "-m", "nox", "-s", "lint", "unit", "app"], check=False)
    if unit.returncode != 0:
        raise Exit("error: lint or unit tests failed (see above)\n  next: `nox -s lint unit app`", code=1)
    driver = driver_for(None, None)
    was_up = driver.is_up()
    try:
        driver.up()
        run_e2e_task(None, None, strict=strict, shard=None, target=None, allow_destructive=False)
    finally:
        if not was_up:  # a stack the developer had running stays running
            driver.down()
