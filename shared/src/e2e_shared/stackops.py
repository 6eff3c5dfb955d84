"""What the ``stack.*`` tasks do, as importable and testable functions."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from . import E2EError
from .drivers import StackDriver, get_driver
from .drivers.base import Echo, ServiceStatus
from .waits import tail


def fmt_uptime(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _port(row: ServiceStatus) -> str:
    """``18000 (own 41234)``: clients use the fault proxy's port; the service listens on its own."""
    if row.internal_port:
        return f"{row.port} (own {row.internal_port})"
    return str(row.port or "-")


def status_table(rows: list[ServiceStatus]) -> str:
    header = ("SERVICE", "STATE", "PID", "PORT", "UPTIME", "READY")
    body = [(r.name, r.state, str(r.pid or "-"), _port(r), fmt_uptime(r.uptime),
             "yes" if r.ready else "no") for r in rows]
    widths = [max(len(row[i]) for row in (header, *body)) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                     for row in (header, *body))


def status_report(driver: StackDriver) -> str:
    """The status table, then what the driver found amiss (corrupt state, orphans), one line each."""
    table = status_table(driver.status())
    findings = getattr(driver, "findings", lambda: [])()
    return "\n".join([table, *findings])


def _fallback_state_dir() -> tuple[Path, Path]:
    """(root, state dir) without parsing ``[tool.e2e]``: ``E2E_STATE_DIR``, else a plain
    ``state_dir = "..."`` line of the pyproject, else ``.e2e``."""
    from .config import find_root

    try:
        root = find_root()
    except E2EError:
        root = Path.cwd().resolve()
    name = os.environ.get("E2E_STATE_DIR")
    if not name:
        try:
            text = (root / "pyproject.toml").read_text(encoding="utf-8")
        except OSError:
            text = ""
        match = re.search(r'^\s*state_dir\s*=\s*"([^"]+)"', text, re.MULTILINE)
        name = match.group(1) if match else ".e2e"
    return root, root / name


def stack_down(driver_name: str | None, target: str | None, *, keep: bool, echo: Echo = print) -> None:
    """``stack.down``: through the driver; when ``[tool.e2e]`` cannot be read, an embedded stack is
    still stopped from its state file and its processes' markers (stop signals are recorded there)."""
    from .reaping import load_tolerant, teardown

    try:
        driver = get_driver(driver_name, target=target)
    except (E2EError, ValueError) as exc:  # ValueError: a TOML syntax error
        if target or driver_name not in (None, "embedded"):
            raise
        root, state_dir = _fallback_state_dir()
        state, _corrupt = load_tolerant(state_dir / "state.json", root)
        if state is not None and state.driver != "embedded":
            raise
        cause = exc.cause if isinstance(exc, E2EError) else f"pyproject.toml: {exc}"
        echo(f"warning: {cause}; stopping what the state file and the process markers name, "
             "without the configuration")
        teardown(state_dir, root, keep=keep, echo=echo)
        return
    driver.down(keep=keep, echo=echo)


def require_up(driver: StackDriver, wait: float = 0.0) -> None:
    """Fail in one line, with the command to run, when the stack is not up and ready.

    With ``wait``, a stack whose processes all run gets that long to answer its readiness checks
    (a busy machine can be slow to answer one probe); a dead or never started service fails at once.
    """
    from .waits import Poll, WaitTimeout, wait_until

    getattr(driver, "check_state", lambda: None)()  # a corrupt state file: say so, not "not ready"
    rows = driver.status()
    hopeless = driver.dead_services() or any(r.state == "not started" for r in rows)
    if wait and not hopeless and not all(r.ready for r in rows):
        def ready() -> Poll:
            current = driver.status()
            return Poll(all(r.ready for r in current), current)

        try:
            rows = wait_until(ready, what="the stack to answer its readiness checks", timeout=wait,
                              interval=0.5)
        except WaitTimeout as exc:
            rows = exc.last or rows
    down = [r.name for r in rows if not r.ready]
    if down:
        raise E2EError(f"the stack is not up ({', '.join(down)} not ready)",
                       "run `invoke stack.up` first")


def show_logs(driver: StackDriver, service: str, *, lines: int = 50, follow: bool = False,
              echo: Echo = print, keep_going: Callable[[], bool] = lambda: True) -> None:
    driver.stack.get(service)  # unknown names list the valid ones
    path = driver.log_path(service)
    if path is None:
        argv = driver.logs_argv(service, lines, follow)  # type: ignore[attr-defined]
        import subprocess

        subprocess.run(argv, check=False)
        return
    log = Path(path)
    if not log.exists():
        raise E2EError(f"{service} has no log yet at {log}", "run `invoke stack.up` first")
    for line in tail(log, lines):
        echo(line)
    if not follow:
        return
    with log.open("r", encoding="utf-8", errors="replace") as f:
        f.seek(0, 2)
        while keep_going():
            line = f.readline()
            if line:
                echo(line.rstrip("\n"))
            else:
                time.sleep(0.2)  # poll: waiting for the service to write more


__all__ = ["get_driver", "require_up", "show_logs", "stack_down", "status_report", "status_table"]
