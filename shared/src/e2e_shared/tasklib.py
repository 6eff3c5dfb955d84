"""Glue between Invoke tasks and the library: one-line errors, driver lookup."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

from invoke.exceptions import Exit

from . import E2EError
from .drivers import StackDriver, get_driver


def cli(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn an :class:`E2EError` into one line on stderr with the next step, and exit 1.

    Ctrl-C exits 130 after the driver has cleaned up what it was starting.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except E2EError as exc:
            hint = f"\n  next: {exc.hint}" if exc.hint else ""
            raise Exit(f"error: {exc.cause}{hint}", code=1) from None
        except KeyboardInterrupt:
            print("interrupted; cleaned up what was starting", file=sys.stderr)
            raise Exit(code=130) from None

    return wrapper


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
