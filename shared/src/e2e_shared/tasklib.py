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
