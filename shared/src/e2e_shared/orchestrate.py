"""What ``invoke e2e.*`` does: check the stack, prepare environments, run the plan, merge, verdict."""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import E2EError
from .config import load_settings
from .drivers import get_driver
from .phases import load as load_phases
from .runner import FAILED, SKIPPED, TIMEOUT, Echo, Options, Runner, refuse_destructive
from .stackops import require_up


def prepare_envs(sessions: list[str], python: str, echo: Echo) -> float:
    """Install each suite's environment once, so every phase run reuses it (``nox -R``).

    One ``nox --install-only`` per session, all at once: the environments are independent, and
    one by one they are a fixed cost of every run.
    """
    t0 = time.monotonic()
    argvs = {name: [python, "-m", "nox", "--install-only", "-s", name] for name in sessions}
    running = {name: subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for name, argv in argvs.items()}
    failed = []
    try:
        for name, proc in running.items():
            out, _ = proc.communicate()
            if proc.returncode != 0:
                failed.append((name, out.strip().splitlines()[-20:]))
    finally:  # Ctrl-C: leave no installer behind
        for proc in running.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if failed:
        name, tail = failed[0]
        raise E2EError(f"preparing the {name} environment failed:\n" + "\n".join(tail),
                       f"run `{' '.join(argvs[name][1:])}` to see why")
    took = time.monotonic() - t0
    echo(f"environments ready ({', '.join(sessions)}) in {took:.1f}s")
    return took


def shown_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it (shorter to read)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class Seeder:
    """``data.seed`` in a thread from the start of the run; the first phase that needs the data
    waits for it (``wait``), and gets its error if it failed."""

    def __init__(self, settings: Any, timings: dict[str, float], echo: Echo) -> None:
        self.settings, self.timings, self.echo = settings, timings, echo
        self.thread = threading.Thread(target=self._seed, name="data.seed", daemon=True)
        self.error: BaseException | None = None

    def _seed(self) -> None:
        from .seeding import seed_baseline

        t = time.monotonic()
        try:
            counts = seed_baseline(self.settings)
        except BaseException as exc:  # noqa: BLE001 - handed to the phase that waits for it
            self.error = exc
            return
        self.timings["seed"] = time.monotonic() - t
        shown = ", ".join(f"{counts[k]} {k}" for k in ("symbols", "users", "trades") if k in counts)
        self.echo(f"data.seed: baseline ready in {self.timings['seed']:.1f}s ({shown or counts})")

    def start(self) -> None:
        self.thread.start()

    def wait(self) -> None:
        if not self.thread.is_alive() and self.thread.ident is None:
            self.start()  # nobody started it: seed now
        self.thread.join()
        if self.error is not None:
            raise self.error


@dataclass
class RunOutcome:
    code: int
    jobs: list[Any] = field(default_factory=list)
    merge: Any = None
    timings: dict[str, float] = field(default_factory=dict)


def run_e2e(phases: list[str] | None = None, suites: list[str] | None = None, *,
            options: Options | None = None, echo: Echo = print) -> int:
    """Run the selected phases and suites against the stack; return the process exit code."""
    return run_e2e_detailed(phases, suites, options=options, echo=echo).code


def run_e2e_detailed(phases: list[str] | None = None, suites: list[str] | None = None, *,
                     options: Options | None = None, echo: Echo = print) -> RunOutcome:
    """:func:`run_e2e`, returning the jobs and where the time went (for ``invoke bench``)."""
    from .contract import after_merge
    from .report import merge, summary_line

    options = options or Options()
    t0 = time.monotonic()
    settings = load_settings(target=options.target)
    model = load_phases(settings.tool)
    selected = model.select(phases, suites)
    if not selected:
        raise E2EError("nothing to run: no phase runs the chosen suites",
                       f"phases: {', '.join(model.phases)}; suites: {', '.join(model.suites)}")
    selected = refuse_destructive(model, selected, options, phases)
    require_up(get_driver(settings=settings), wait=15.0)

    sessions = sorted({model.suites[s].session for _, suites_ in selected for s in suites_})
    timings = {"environments": prepare_envs(sessions, options.python, echo)}

    seeder = Seeder(settings, timings, echo)
    runner = Runner(settings.root, model, options, echo=echo, seed=seeder.wait)
    jobs = runner.plan(selected)
    junit_dir = settings.root / "reports" / "junit"
    junit_dir.mkdir(parents=True, exist_ok=True)
    for stale in junit_dir.glob("*.xml"):  # the merged verdict speaks of this run only
        stale.unlink()
    interrupted = False
    t_phases = time.monotonic()
    try:
        for job in jobs:
            if job.phase.destructive and options.target and not options.allow_destructive:
                runner.skip(job, f"destructive phase refused on target {options.target} "
                                 "(--allow-destructive allows it)")
        if not options.target and any(job.phase.seed for job in jobs):
            seeder.start()  # meanwhile the phases that need no data (health) run
        runner.run(jobs)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        timings["phases"] = time.monotonic() - t_phases
        for job in jobs:
            if job.status == SKIPPED and not job.junit.exists():
                runner.skip(job, job.reason or "not run")
        t_merge = time.monotonic()
        result = merge(settings.root / "reports" / "junit", settings.root / "reports",
                       strict=options.strict, interrupted=interrupted,
                       only=[name for job in jobs for name in (job.junit.name, job.rerun_junit.name)])
        for warning in result.warnings:
            echo(f"warning: {warning}")
        for case in result.flaky:
            echo(f"flaky: {case.phase}/{case.suite} {case.classname}::{case.name}")
        contract_line = after_merge(settings.root / "reports", settings.root)
        if contract_line:
            echo(contract_line)
        timings["merge"] = time.monotonic() - t_merge
        echo(f"report: {shown_path(settings.root / 'reports' / 'index.html')}")
        echo(summary_line(result))
    timings["total"] = time.monotonic() - t0
    # The merged verdict, and never a pass while a job failed without a report to say so.
    broken = any(job.status in (FAILED, TIMEOUT) for job in jobs)
    code = 130 if interrupted else (0 if result.verdict == "pass" and not broken else 1)
    return RunOutcome(code=code, jobs=jobs, merge=result, timings=timings)
