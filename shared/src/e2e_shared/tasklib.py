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


def _load_names() -> tuple[dict[str, list[str]], E2EError | None]:
    """Phase and suite names from pyproject, for building tasks; never raises.

    Outside a workspace there are none. With a ``[tool.e2e]`` that breaks its schema the names
    still come from the file (so ``invoke e2e.smoke`` exists and says what is wrong); with a TOML
    syntax error there are none. Either way the error is kept: ``invoke --list`` must still work
    and say the configuration is broken, and every task run gives the error itself.
    """
    from .config import find_root, load_tool_config

    try:
        root = find_root()
    except E2EError:
        return {}, None
    try:
        tool = load_tool_config(root)
        error = None
    except E2EError as exc:
        error = exc
        try:
            tool = load_tool_config(root, validate=False)
        except E2EError:
            return {}, exc
    names = {}
    for table in ("phases", "suites"):
        value = tool.get(table)
        names[table] = [str(k) for k in value] if isinstance(value, dict) else []
    return names, error


def _names(table: str) -> list[str]:
    return list(_NAMES.get(table, []))


def config_note() -> str:
    """One line saying the configuration is broken (empty when it is fine)."""
    if CONFIG_ERROR is None:
        return ""
    first = CONFIG_ERROR.cause.split("\n")[0]
    missing = "" if _NAMES else "; the e2e.<phase> and e2e.<suite> tasks are missing until it is fixed"
    return f"warning: the workspace configuration is broken ({first}){missing}; every task run says why"


_NAMES, CONFIG_ERROR = _load_names()
PHASE_NAMES = _names("phases")
SUITE_NAMES = _names("suites")
# Said where it helps: in the task list, and before Invoke's "No idea what 'e2e.smoke' is!".
if CONFIG_ERROR is not None and any(a in ("-l", "--list") or (a.startswith("e2e.") and not _NAMES)
                                    for a in sys.argv[1:]):
    print(config_note(), file=sys.stderr)


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
