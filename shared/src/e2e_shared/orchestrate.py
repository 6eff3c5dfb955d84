"""What ``invoke e2e.*`` does: check the stack, prepare environments, run the plan, merge, verdict."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import E2EError, jobreport
from .config import check_writable_dir, load_settings, shown_path
from .drivers import get_driver
from .phases import load as load_phases
from .runlock import run_lock
from .runner import (
    BAD,
    ERRORED,
    INTERRUPTED,
    SKIPPED,
    TIMEOUT,
    Echo,
    Job,
    Options,
    Runner,
    refuse_destructive,
)
from .signals import shielded
from .stackops import require_up


def prepare_envs(sessions: list[str], python: str, echo: Echo) -> float:
    """Install each suite's environment once, so every phase run reuses it (``nox -R``).

    One ``nox --install-only`` per session, all at once: the environments are independent, and
    one by one they are a fixed cost of every run.
    """
    t0 = time.monotonic()
    argvs = {name: [python, "-m", "nox", "--install-only", "-s", name] for name in sessions}
    # Each in its own group, so that Ctrl-C or SIGTERM stops uv and its build helpers too.
    running = {name: subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                      start_new_session=True)
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
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    if failed:
        name, tail = failed[0]
        raise E2EError(f"preparing the {name} environment failed:\n" + "\n".join(tail),
                       f"run `{' '.join(argvs[name][1:])}` to see why")
    took = time.monotonic() - t0
    echo(f"environments ready ({', '.join(sessions)}) in {took:.1f}s")
    return took


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
        from .seeding import describe_counts

        shown = describe_counts(self.settings, counts) if counts else ""
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
    """:func:`run_e2e`, returning the jobs and where the time went (for ``invoke bench``).

    Once the plan is known, every way out (a pass, a failure, Ctrl-C, SIGTERM, a stack that is
    not up) writes this run's merged report, whose verdict is ``pass`` only when every job ran
    to its end and passed.
    """
    options = options or Options()
    t0 = time.monotonic()
    settings = load_settings(target=options.target)
    check_writable_dir(settings.reports_dir / "junit", "the JUnit folder")  # before any test runs
    model = load_phases(settings.tool)
    selected = model.select(phases, suites)
    if not selected:
        raise E2EError("nothing to run: no phase runs the chosen suites",
                       f"phases: {', '.join(model.phases)}; suites: {', '.join(model.suites)}")
    selected = refuse_destructive(model, selected, options, phases)
    seeder_timings: dict[str, float] = {}
    seeder = Seeder(settings, seeder_timings, echo)
    runner = Runner(settings.root, model, options, echo=echo, seed=seeder.wait,
                    reports_dir=settings.reports_dir, state_dir=settings.state_dir)
    jobs = runner.plan(selected)
    with run_lock(settings.state_dir, runner.run_id):
        outcome = _run_locked(settings, model, runner, jobs, seeder, options, echo)
    outcome.timings.update(seeder_timings)
    outcome.timings["total"] = time.monotonic() - t0
    return outcome


def _run_locked(settings: Any, model: Any, runner: Runner, jobs: list[Job], seeder: Seeder,
                options: Options, echo: Echo) -> RunOutcome:
    from .ownership import owner_id
    from .reaping import reap_jobs
    from .resources import ResourceWatch

    timings: dict[str, float] = {}
    # Suites of a run that was killed (kill -9 of invoke) must not write into this run's reports.
    reap_jobs(owner_id(settings.state_dir), echo, live_too=False)
    clear_run_outputs(settings.reports_dir)
    stopped: KeyboardInterrupt | None = None
    error: E2EError | None = None
    t_phases = time.monotonic()
    watch = ResourceWatch.for_run(settings, runner.run_id)
    try:
        require_up(get_driver(settings=settings), wait=15.0)
        sessions = sorted({job.session for job in jobs})
        timings["environments"] = prepare_envs(sessions, options.python, echo)
        t_phases = time.monotonic()
        watch.start()  # from the phases' start to the merge, whichever way the run ends
        for job in jobs:
            if job.phase.destructive and options.target and not options.allow_destructive:
                runner.skip(job, f"not run: destructive phase refused on target {options.target} "
                                 "(--allow-destructive allows it)")
        if not options.target and any(job.phase.seed for job in jobs):
            seeder.start()  # meanwhile the phases that need no data (health) run
        runner.run(jobs)
        collect_missing_manifests(runner, jobs, options.python, echo)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (Terminated)
        stopped = exc
    except E2EError as exc:
        error = exc
    with shielded():  # a second Ctrl-C must not cut the report short
        watch.stop()
        timings["phases"] = time.monotonic() - t_phases
        if stopped is not None or error is not None:
            why = INTERRUPTED if stopped is not None else ERRORED
            text = "the run was interrupted" if stopped is not None else error.cause  # type: ignore[union-attr]
            if any(j.status in ("pending", "running") for j in jobs):
                runner.jobs = jobs
                runner.abort(why, f"not run: {text}")
            ensure_recorded_error(runner, jobs, why, text)
        t_merge = time.monotonic()
        result = merge_run(runner, jobs, options, interrupted=stopped is not None, echo=echo)
        timings["merge"] = time.monotonic() - t_merge
    if error is not None:
        raise error
    if stopped is not None:
        code = getattr(stopped, "exit_code", 130)
    else:
        # The merged verdict, and never a pass while a job did not end well.
        # (A job not run is either behind a failure already counted, or refused on a target.)
        broken = any(job.status in BAD - {SKIPPED} for job in jobs)
        code = 0 if result.verdict == "pass" and not broken else 1
    return RunOutcome(code=code, jobs=jobs, merge=result, timings=timings)


def clear_run_outputs(reports_dir: Path) -> None:
    """The merged verdict and the logs speak of this run only."""
    for folder in ("junit", "logs"):
        (reports_dir / folder).mkdir(parents=True, exist_ok=True)
        for stale in (reports_dir / folder).glob("*"):
            if stale.is_file():
                stale.unlink()


def ensure_recorded_error(runner: Runner, jobs: list[Job], why: str, text: str) -> None:
    """A run that did not finish carries at least one error record, so no reader sees it green."""
    if any(job.status in (INTERRUPTED, TIMEOUT, ERRORED) for job in jobs):
        return
    first = next((job for job in jobs if job.status == SKIPPED), None)
    if first is not None:
        first.status, first.reason = why, f"{text} before this job started"
        first.junit.unlink(missing_ok=True)
        runner.complete_report(first, why, first.reason, skip_reason=f"not run: {text}")


def collect_missing_manifests(runner: Runner, jobs: list[Job], python: str, echo: Echo) -> None:
    """Suites none of whose jobs ran this time: collect their tests, so that their not-run jobs
    list every test (a run whose health phase fails reports as many tests as a green one)."""
    started = runner.t0_wall

    def uncollected(job: Job) -> bool:  # never got as far as choosing its tests
        if job.status == SKIPPED:
            return True
        manifest = jobreport.read_manifest(runner.manifest(job.suite))
        return job.status in (TIMEOUT, ERRORED) and runner.selection(job, manifest) is None

    suites = {job.suite: job.session for job in jobs if uncollected(job)}
    missing = {s: session for s, session in suites.items()
               if not runner.manifest(s).exists() or runner.manifest(s).stat().st_mtime < started}
    if not missing:
        return
    procs_ = {}
    for suite, session in missing.items():
        env = {**os.environ, "E2E_MANIFEST": str(runner.manifest(suite))}
        procs_[suite] = subprocess.Popen(
            [python, "-m", "nox", "-R", "-s", session, "--", "--collect-only", "-q", "-p", "no:randomly",
             "-p", "no:cacheprovider", f"--junitxml={os.devnull}"],
            cwd=runner.root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
    try:
        for suite, proc in procs_.items():
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                echo(f"warning: collecting the {suite} tests took over 120 s; its jobs are one case each")
    finally:  # Ctrl-C, or a collection that hangs: leave none behind
        for proc in procs_.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    for job in jobs:
        if job.suite in missing and uncollected(job):
            job.junit.unlink(missing_ok=True)
            if job.status == SKIPPED:
                runner.complete_report(job, None, skip_reason=job.reason)
            else:
                runner.complete_report(job, job.status, job.reason,
                                       skip_reason=f"not run: {job.label} {job.status}")


def merge_run(runner: Runner, jobs: list[Job], options: Options, *, interrupted: bool,
              echo: Echo) -> Any:
    """Merge this run's own JUnit files (by run id) and show what failed, then the summary line."""
    from .contract import after_merge
    from .report import merge, summary_line

    names = [p.name for job in jobs for p in (job.junit, job.rerun_junit)
             if p.exists() and jobreport.run_id_of(p) == runner.run_id]
    result = merge(runner.junit_dir, runner.reports_dir, strict=options.strict,
                   interrupted=interrupted, only=names)
    for warning in result.warnings:
        echo(f"warning: {warning}")
    for case in result.flaky:
        echo(f"flaky: {case.phase}/{case.suite} {case.classname}::{case.name}")
    shown = result.failures[:MAX_FAILURES_SHOWN]
    for case in shown:
        bundle = next((a for a in case.attachments if a.endswith(".bundle.txt")), "")
        # Attachment paths are relative to the reports folder (they survive a CI artifact move).
        where = f" [bundle: {shown_path(runner.reports_dir / bundle)}]" if bundle else ""
        headline = ((case.message or case.outcome).splitlines() or [""])[0][:200]
        echo(f"FAILED {case.phase}/{case.suite} {case.test}: {headline}{where}")
    if len(result.failures) > len(shown):
        echo(f"... and {len(result.failures) - len(shown)} more failures (see the report)")
    resources_line = describe_resources(result.resources)
    if resources_line:
        echo(resources_line)
    contract_line = after_merge(runner.reports_dir, runner.root)
    if contract_line:
        echo(contract_line)
    echo(f"report: {shown_path(runner.reports_dir / 'index.html')}")
    echo(f"verdict: {result.verdict}")
    echo(summary_line(result))
    return result


MAX_FAILURES_SHOWN = 20


def describe_resources(resources: dict[str, Any] | None) -> str:
    """``resources: api 85.1 MB peak (+3.2), 14 fds (+0); ...``, or why none were watched."""
    if not resources:
        return ""
    if not resources.get("watched"):
        return f"resources: not watched ({resources.get('why', '')})"
    parts = [f"{name} {svc['rss_mb']['peak']:.1f} MB peak ({svc['rss_mb']['growth']:+.1f}), "
             f"{svc['fds']['last']:.0f} fds ({svc['fds']['growth']:+.0f})"
             for name, svc in resources.get("services", {}).items() if "rss_mb" in svc]
    return "resources: " + ("; ".join(parts) if parts else "no service was sampled")


def record_unstarted_run(phases: list[str] | None, suites: list[str] | None, text: str,
                         echo: Echo = print) -> None:
    """``invoke stack.up e2e.all`` stopped before e2e.all began: its report still says so, so
    that the previous run's verdict is never read as this one's."""
    settings = load_settings()
    model = load_phases(settings.tool)
    runner = Runner(settings.root, model, Options(), echo=lambda _line: None,
                    reports_dir=settings.reports_dir, state_dir=settings.state_dir)
    jobs = runner.plan(model.select(phases, suites))
    with shielded(), run_lock(settings.state_dir, runner.run_id):
        clear_run_outputs(settings.reports_dir)
        runner.jobs = jobs
        runner.abort(INTERRUPTED, f"not run: {text}")
        ensure_recorded_error(runner, jobs, INTERRUPTED, text)
        merge_run(runner, jobs, Options(), interrupted=True, echo=echo)
