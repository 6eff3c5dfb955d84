"""``invoke drill.interrupt``: stop ``invoke stack.up e2e.all`` at random points and check the aftermath.

What a user relies on when a run is cut short (Ctrl-C, a CI cancel's SIGTERM, a ``kill -9``):
the command exits promptly with its status (130, 143), nothing of the run keeps running, the
report never says ``pass`` and records the interruption, and ``stack.status`` tells the truth.
Each drill is a real run on this machine's stack; every fifth starts from a stopped stack so
that some signals land inside ``stack.up``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

from . import procs
from .config import load_settings

EXPECTED_CODE = {"INT": 130, "TERM": 143, "KILL": -9}


@dataclass
class DrillResult:
    n: int
    signal: str
    delay: float
    from_down: bool
    code: int | None = None
    exit_seconds: float | None = None
    finished_first: bool = False
    left: list[str] = field(default_factory=list)
    verdict: str | None = None
    recorded: bool = False
    status_truthful: bool = True
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems


def run_processes(owner: Path, pgid: int) -> list[psutil.Process]:
    """Processes of a run: its process group, and suite jobs of this workspace (by their marker)."""
    from .ownership import JOB, owned_processes

    pids = {o.pid for o in owned_processes(owner, JOB)} | set(procs.group_members(pgid))
    pids.discard(os.getpid())
    found = []
    for pid in sorted(pids):
        try:
            found.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            continue
    return found


def _describe(procs: list[psutil.Process]) -> list[str]:
    out = []
    for proc in procs:
        try:
            out.append(f"{proc.pid} {' '.join(proc.cmdline())[:100]}")
        except psutil.Error:
            continue
    return out


def status_is_truthful(root: Path, env: dict[str, str]) -> tuple[bool, str]:
    """``stack.status`` rows against the processes themselves: a running row's pid lives, and a
    live service process of this workspace is shown as running."""
    code = ("import json; from e2e_shared.drivers import get_driver; "
            "print(json.dumps([[r.name, r.state, r.pid] for r in get_driver().status()]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True,
                         text=True, timeout=60)
    if out.returncode != 0:
        return False, f"stack.status failed: {(out.stderr.strip().splitlines() or ['?'])[-1]}"
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    for name, state, pid in rows:
        if state == "running" and not (pid and psutil.pid_exists(pid)):
            return False, f"{name} shown running with pid {pid}, which is gone"
    shown = {pid for _name, state, pid in rows if state in ("running", "orphaned")}
    from .ownership import SERVICE, owned_processes

    for o in owned_processes(load_settings(root).state_dir, SERVICE):
        if o.pgid == o.pid and o.pid not in shown:  # a service leads its own group
            return False, f"{o.role} runs as pid {o.pid} but stack.status does not show it"
    return True, ""


def drill_once(n: int, sig: str, root: Path, rng: random.Random, max_delay: float,
               echo=print) -> DrillResult:
    settings = load_settings(root)
    owner = settings.state_dir.resolve()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    from_down = n % 5 == 0
    if from_down:
        subprocess.run(["invoke", "stack.down"], cwd=root, env=env, capture_output=True, timeout=120)
    delay = rng.uniform(1.0, 4.0) if from_down else rng.uniform(1.0, max_delay)
    result = DrillResult(n=n, signal=sig, delay=round(delay, 1), from_down=from_down)
    summary = settings.reports_dir / "summary.json"
    summary.unlink(missing_ok=True)
    log = (settings.reports_dir / "drill").joinpath(f"run-{n}.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(["invoke", "stack.up", "e2e.all"], cwd=root, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        # The drill's chosen moment; a run that ends before it has nothing to interrupt.
        proc.wait(timeout=delay)
        result.finished_first = True
        result.code = proc.returncode
        return result
    except subprocess.TimeoutExpired:
        pass
    t0 = time.monotonic()
    if sig == "INT":  # Ctrl-C in a terminal reaches the whole foreground group
        os.killpg(proc.pid, signal.SIGINT)
    else:  # a CI cancel, `timeout` or kill -9 reach the process itself
        os.kill(proc.pid, signal.SIGTERM if sig == "TERM" else signal.SIGKILL)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        result.problems.append("did not exit within 60 s")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    result.exit_seconds = round(time.monotonic() - t0, 2)
    result.code = proc.returncode
    if sig == "KILL":
        # The suites notice their run is gone; then what stack.down finds must be stopped too.
        down = subprocess.run(["invoke", "stack.down"], cwd=root, env=env, capture_output=True,
                              text=True, timeout=120)
        if down.returncode != 0:
            result.problems.append(f"stack.down failed: {down.stderr.strip()[-200:]}")
        deadline = time.monotonic() + 5
        left = run_processes(owner, proc.pid)
        while left and time.monotonic() < deadline:
            time.sleep(0.2)  # poll: processes on their way out
            left = run_processes(owner, proc.pid)
        result.left = _describe(left)
        if result.left:
            result.problems.append(f"{len(result.left)} processes left after stack.down")
        return result
    if result.code != EXPECTED_CODE[sig]:
        result.problems.append(f"exit {result.code}, expected {EXPECTED_CODE[sig]}")
    if result.exit_seconds > 3.0:
        result.problems.append(f"took {result.exit_seconds}s to exit (limit 3 s)")
    left = run_processes(owner, proc.pid)
    result.left = _describe(left)
    if result.left:
        result.problems.append(f"{len(result.left)} processes of the run left")
    try:
        data = json.loads(summary.read_text())
        result.verdict = data.get("verdict")
    except (OSError, ValueError):
        result.verdict = None
    if result.verdict == "pass":
        result.problems.append("summary.json says pass")
    junit = settings.reports_dir / "junit.xml"
    try:
        from lxml import etree

        tree = etree.parse(str(junit))
        result.recorded = bool(tree.xpath("//error[@type='e2e.interrupted']"))
    except (OSError, etree.XMLSyntaxError) as exc:
        result.problems.append(f"junit.xml unreadable: {exc}")
    if result.verdict is None:
        result.problems.append("no summary.json written for the interrupted run")
    if not result.recorded:
        result.problems.append("junit.xml does not record the interruption")
    truthful, why = status_is_truthful(root, env)
    result.status_truthful = truthful
    if not truthful:
        result.problems.append(f"stack.status: {why}")
    return result


def drill(runs: int, sig: str = "INT", *, seed: int | None = None, max_delay: float = 60.0,
          echo=print) -> list[DrillResult]:
    root = load_settings().root
    rng = random.Random(seed)
    results = []
    for n in range(1, runs + 1):
        res = drill_once(n, sig, root, rng, max_delay, echo)
        results.append(res)
        state = "finished before the signal" if res.finished_first else (
            "clean" if res.clean else "PROBLEM: " + "; ".join(res.problems))
        where = " (from a stopped stack)" if res.from_down else ""
        echo(f"drill {n}/{runs}: SIG{sig} after {res.delay}s{where}"
             f" -> exit {res.code} in {res.exit_seconds}s, verdict {res.verdict}: {state}")
    settings = load_settings()
    out = settings.reports_dir / f"drill-{sig.lower()}.json"
    out.write_text(json.dumps([asdict(r) for r in results], indent=2))
    tried = [r for r in results if not r.finished_first]
    clean = sum(r.clean for r in tried)
    echo(f"drill: {clean}/{len(tried)} clean (SIG{sig}); details in {out}")
    return results


def run_drill(runs: object, sig: object, seed: object, max_delay: object) -> None:
    """The task's arguments checked, the drill run; exit 1 unless every drill was clean."""
    from . import E2EError

    try:
        count, delay = int(str(runs)), float(str(max_delay))
        seed_ = int(str(seed)) if seed is not None else None
    except ValueError:
        raise E2EError(f"bad drill arguments: runs={runs!r}, max_delay={max_delay!r}, seed={seed!r}",
                       "use whole numbers, e.g. --runs 20 --max-delay 60 --seed 7") from None
    name = str(sig).upper().removeprefix("SIG")
    if count < 1 or delay <= 1 or name not in EXPECTED_CODE:
        raise E2EError(f"bad drill arguments: runs={runs}, signal={sig}, max_delay={max_delay}",
                       "--runs 1 or more, --signal INT, TERM or KILL, --max-delay over 1 second")
    results = drill(count, name, seed=seed_, max_delay=delay)
    if any(not r.clean for r in results):
        raise SystemExit(1)
