"""Run the phase plan: each phase x suite is one nox session run, phases as their needs allow.

Why not nox's own ``--parallel`` with ``requires=``: see docs/orchestration.md. In short, nox
aborts dependents of a failed session but cannot express a phase whose failure stops
unrelated phases (``blocking``), buffers each session's output until it ends (no live
progress), and has no per-phase timeout with a SIGINT -> SIGTERM -> SIGKILL escalation, no
rerun-once for flaky tests and no skip records. nox still provides what it is good at: one
isolated environment per suite, installed once and reused by every run here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from . import E2EError, jobreport, procs
from .config import shown_path
from .phases import Phase, PhaseModel
from .waits import tail

Echo = Callable[[str], None]

# Results a job can end in. Only passed, flaky (unless --strict) and no tests let a verdict pass.
PASSED, FAILED, FLAKY, SKIPPED, TIMEOUT, INTERRUPTED, NO_TESTS, ERRORED = (
    "passed", "failed", "flaky", "not run", "timed out", "interrupted", "no tests", "errored")
BAD = frozenset({FAILED, SKIPPED, TIMEOUT, INTERRUPTED, ERRORED})


@dataclass
class Options:
    strict: bool = False
    shard: tuple[int, int] | None = None
    target: str | None = None
    allow_destructive: bool = False
    reruns: int = 1
    store_durations: bool = False  # record per-test durations for balanced shards
    pytest_args: list[str] = field(default_factory=list)
    python: str = sys.executable


@dataclass
class Job:
    phase: Phase
    suite: str
    session: str
    junit: Path
    log: Path
    status: str = "pending"
    reason: str = ""
    started: float = 0.0
    duration: float = 0.0
    proc: subprocess.Popen[bytes] | None = None
    attempt: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # the first attempt's
    final: dict[str, int] = field(default_factory=dict)  # after the rerun, if there was one
    progress: Path | None = None  # where the plugin says what it selected and runs now

    @property
    def label(self) -> str:
        return f"{self.phase.name}/{self.suite}"

    @property
    def rerun_junit(self) -> Path:
        return self.junit.with_name(self.junit.stem + ".rerun.xml")


def junit_counts(path: Path) -> dict[str, int] | None:
    """tests/failures/errors/skipped of a pytest JUnit file, or None when there is none readable."""
    from junitparser import JUnitXml

    try:
        xml = JUnitXml.fromfile(str(path))
    except Exception:
        return None
    suites = list(xml) if isinstance(xml, JUnitXml) else [xml]  # <testsuites> or a lone <testsuite>
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for s in suites:
        for key in total:
            total[key] += int(getattr(s, key, 0) or 0)
    return total


def failed_nodeids_from(cache_dir: Path) -> list[str]:
    """The node ids pytest recorded as failed in its cache (``--lf`` reads the same file)."""
    import json

    path = cache_dir / "v" / "cache" / "lastfailed"
    try:
        return sorted(json.loads(path.read_text()))
    except (OSError, ValueError):
        return []


class Runner:
    def __init__(self, root: Path, model: PhaseModel, options: Options, *,
                 echo: Echo = print, seed: Callable[[], None] | None = None,
                 reports_dir: Path | None = None, state_dir: Path | None = None,
                 run_id: str = "") -> None:
        self.root = root
        self.model = model
        self.options = options
        self.echo = echo
        self.seed = seed
        self.seeded = False
        self.reports_dir = reports_dir or root / "reports"
        self.state_dir = state_dir or root / ".e2e"
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self.junit_dir = self.reports_dir / "junit"
        self.log_dir = self.reports_dir / "logs"
        self.t0 = time.monotonic()
        self.t0_wall = time.time()
        self.jobs: list[Job] = []
        self.causes: dict[str, str] = {}  # phase -> why it did not pass, as first caused

    # --- output -----------------------------------------------------------------------
    def say(self, job: Job, text: str) -> None:
        self.echo(f"[{time.monotonic() - self.t0:6.1f}s] {job.label:<22} {text}")

    # --- planning --------------------------------------------------------------------------
    def plan(self, selected: list[tuple[Phase, tuple[str, ...]]]) -> list[Job]:
        shard = self.options.shard
        suffix = f"-shard{shard[0]}" if shard else ""
        jobs = []
        for phase, suites in selected:
            for suite in suites:
                name = f"{phase.name}-{suite}{suffix}"
                jobs.append(Job(phase=phase, suite=suite, session=self.model.suites[suite].session,
                                junit=self.junit_dir / f"{name}.xml", log=self.log_dir / f"{name}.log",
                                progress=self.state_dir / "progress" / name))
        return jobs

    def manifest(self, suite: str) -> Path:
        """Every test of a suite with its markers, as the plugin last collected it."""
        return self.state_dir / "manifest" / f"{suite}.json"

    def job_env(self, job: Job) -> dict[str, str]:
        """The markers by which a job is known as this run's (and stopped when the run is gone)."""
        me = psutil.Process()
        return {**os.environ, "PYTHONUNBUFFERED": "1",
                "E2E_OWNER": str(self.state_dir.resolve()), "E2E_ROLE": f"job:{job.junit.stem}",
                "E2E_RUN_ID": self.run_id, "E2E_RUN_PID": str(me.pid),
                "E2E_RUN_STARTED": repr(me.create_time()),
                "E2E_MANIFEST": str(self.manifest(job.suite)), "E2E_PROGRESS": str(job.progress)}

    def argv(self, job: Job, *, rerun: bool) -> list[str]:
        cache = self.state_dir / "pytest-cache" / job.junit.stem
        args = ["-m", job.phase.marker, f"--junitxml={job.rerun_junit if rerun else job.junit}",
                f"--e2e-artifacts={self.reports_dir / 'artifacts'}",
                "-o", f"cache_dir={cache}", "-o", "junit_family=xunit1",
                "-o", f"junit_suite_name={job.phase.name}-{job.suite}", "-p", "no:randomly"]
        if rerun:
            args += ["--last-failed", "--last-failed-no-failures", "none"]
        else:
            durations = self.root / self.model.suites[job.suite].path / ".test_durations"
            if self.options.shard:
                index, total = self.options.shard
                args += ["--splits", str(total), "--group", str(index), "--durations-path", str(durations)]
            elif self.options.store_durations:
                args += ["--store-durations", "--durations-path", str(durations)]
        if self.options.target:
            args += ["--e2e-target", self.options.target]
        args += self.options.pytest_args
        # -R: reuse the suite's environment and skip installs (prepared once before the run).
        return [self.options.python, "-m", "nox", "-R", "-s", job.session, "--", *args]

    # --- execution -----------------------------------------------------------------------------
    def start(self, job: Job, *, rerun: bool = False) -> None:
        if job.phase.seed and not self.seeded and self.seed is not None and not self.options.target:
            self.seed()
            self.seeded = True
        job.log.parent.mkdir(parents=True, exist_ok=True)
        job.junit.parent.mkdir(parents=True, exist_ok=True)
        if not rerun:
            for stale in (job.junit, job.rerun_junit):
                stale.unlink(missing_ok=True)
            job.started = time.monotonic()
        if job.progress is not None:
            for stale in (job.progress, Path(f"{job.progress}.selected")):
                stale.unlink(missing_ok=True)
        job.attempt += 1
        job.proc = procs.spawn(self.argv(job, rerun=rerun), log=job.log, cwd=self.root,
                               env=self.job_env(job))
        job.status = "running"
        self.say(job, "running" + (" (rerun of failed tests)" if rerun else ""))

    def finish(self, job: Job, code: int) -> None:
        """Decide a finished process's result; a first failure gets its one rerun."""
        path = job.rerun_junit if job.attempt > 1 else job.junit
        counts = junit_counts(path)
        if job.attempt == 1:
            job.counts = dict(counts or {})
            job.final = dict(job.counts)
        if job.attempt == 1 and (counts is None or not jobreport.is_complete(job.junit)) \
                and code not in (0, 1, 5):
            # No report, or pytest's partial one (it was interrupted, or stopped before its
            # first test because the plugin found the stack down): an error, never a pass.
            what = "no JUnit written" if counts is None else (
                "pytest ended before any test ran" if not counts["tests"] else "pytest stopped early")
            job.status = ERRORED
            job.reason = f"{what} (exit {code}): {exit_cause(job.log)}"
            self.complete_report(job, ERRORED, job.reason)
        elif job.attempt == 1 and counts is None:
            job.status, job.reason = ERRORED, f"no JUnit written (exit {code}); see {job.log}"
            self.complete_report(job, ERRORED, job.reason)
        elif job.attempt == 1 and counts and counts["tests"] == 0:
            job.status, job.reason = NO_TESTS, f"no tests marked {job.phase.marker}"
            self.complete_report(job, None, skip_reason=job.reason)
        elif code == 0 and job.attempt == 1:
            job.status = PASSED
        elif job.attempt == 1 and self.options.reruns > 0:
            self.start(job, rerun=True)
            return
        elif job.attempt > 1:
            passed_on_rerun = code == 0 and counts is not None
            job.status = FAILED if not passed_on_rerun or self.options.strict else FLAKY
            if counts is not None and counts["tests"]:
                still = counts["failures"] + counts["errors"]
                first = job.counts.get("failures", 0) + job.counts.get("errors", 0)
                job.final = {**job.counts, "failures": min(still, first), "errors": 0}
            if passed_on_rerun and self.options.strict:
                job.reason = "flaky tests count as failures (--strict)"
            elif counts is None or not counts["tests"]:  # e.g. it found the stack down at once
                job.reason = (f"the rerun of the failed tests ran none (exit {code}: {exit_cause(job.log)}); "
                              "the first run's failures stand")
        else:
            job.status = FAILED
        job.duration = time.monotonic() - job.started
        mask_log(job)
        self.say(job, self.outcome_text(job))

    def outcome_text(self, job: Job) -> str:
        """``FAILED in 3.2s (5 passed, 1 failed, 0 skipped); log: reports/logs/...``"""
        c = job.final or job.counts
        failed = c.get("failures", 0) + c.get("errors", 0)
        detail = (f" ({c.get('tests', 0) - failed - c.get('skipped', 0)} passed, {failed} failed, "
                  f"{c.get('skipped', 0)} skipped)") if c.get("tests") else ""
        shown = job.status.upper() if job.status in BAD else job.status
        extra = f"; {job.reason}" if job.reason else ""
        log = f"; log: {shown_path(job.log)}" if job.status in BAD | {FLAKY} else ""
        return f"{shown} in {job.duration:.1f}s{detail}{extra}{log}"

    def complete_report(self, job: Job, status: str | None, message: str = "",
                        skip_reason: str = "") -> None:
        """Write the job's JUnit so that it names every test it was to run (see jobreport)."""
        manifest = jobreport.read_manifest(self.manifest(job.suite))
        selected = self.selection(job, manifest)
        started = selected is not None
        if selected is None:
            selected = jobreport.tests_for(manifest, job.phase.marker, self.options.shard)
        running = jobreport.read_running(job.progress) if started and status else ""  # type: ignore[arg-type]
        done = len(jobreport.read_partial(job.junit).done)
        if status:
            how_far = f"{status} after {done} of {len(selected) or '?'} tests"
            where = f", while running {running}" if running else ""
            message = f"{how_far}{where}: {message}" if message else f"{how_far}{where}"
            skip_reason = skip_reason or f"not run: the job {status}"
        jobreport.complete(job.junit, job.phase.name, job.suite, tests=selected, running=running,
                           status=status, message=message, skip_reason=skip_reason, run_id=self.run_id,
                           contract=jobreport.contract_ids(manifest))

    def selection(self, job: Job, manifest: dict[str, list[str]] | None) -> list[str] | None:
        """The tests this job's pytest selected in this run, or None when it never got that far."""
        if job.progress is None or job.attempt == 0:  # its files would be an old run's
            return None
        selected = jobreport.read_selected(job.progress)
        if manifest and selected and any(job.phase.marker not in manifest.get(t, [job.phase.marker])
                                         for t in selected):
            return None  # written by a pytest cut off mid-collection: not the job's selection
        return selected

    def skip(self, job: Job, reason: str) -> None:
        job.status, job.reason = SKIPPED, reason
        self.complete_report(job, None, skip_reason=reason)
        self.say(job, reason)

    def stop_tree(self, job: Job, why: str) -> None:
        self.stop_trees([job], why)

    def stop_trees(self, jobs: list[Job], why: str) -> None:
        """SIGINT, then SIGTERM, then SIGKILL to every job's process group at once, within ~2 s.

        The SIGINT goes to the processes under nox (pytest and what it started), not to nox:
        nox would kill its pytest 0.3 s later, before pytest writes its partial JUnit.
        """
        live = [j for j in jobs if j.proc is not None and j.proc.poll() is None]
        for sig, wait in ((signal.SIGINT, 1.2), (signal.SIGTERM, 0.5), (signal.SIGKILL, 0.3)):
            for job in live:
                assert job.proc is not None
                targets = [p for p in procs.group_members(job.proc.pid) if p != job.proc.pid]
                if sig != signal.SIGINT or not targets:
                    targets = [-job.proc.pid]  # the whole group
                for pid in targets:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(-pid, sig) if pid < 0 else os.kill(pid, sig)
            deadline = time.monotonic() + wait
            while live and time.monotonic() < deadline:
                for job in live:
                    job.proc.poll()  # type: ignore[union-attr]
                live = [j for j in live if procs.group_members(j.proc.pid)]  # type: ignore[union-attr]
                time.sleep(0.05)  # poll
            if not live:
                break
        for job in jobs:
            if job.proc is not None:
                job.proc.poll()
            job.status = why
            job.duration = time.monotonic() - job.started
            mask_log(job)
            self.record_unfinished(job)

    def record_unfinished(self, job: Job) -> None:
        """A job stopped before it finished: its report says so and lists every test it was to run."""
        if job.attempt > 1 and junit_counts(job.junit):
            # Stopped during the rerun: the first run's report is whole and its failures stand.
            job.reason = f"{job.status} during the rerun of its failed tests"
            return
        if job.status == TIMEOUT:
            job.reason = f"timed out after {job.phase.timeout:.0f}s; its process tree was stopped"
        else:
            job.reason = job.reason or "the run was interrupted"
        self.complete_report(job, job.status, job.reason,
                             skip_reason=f"not run: {job.label} {job.status}")
        self.causes.setdefault(job.phase.name, f"{job.phase.name} {job.status}")

    # --- the DAG -------------------------------------------------------------------------------
    def phase_state(self, name: str) -> str:
        jobs = [j for j in self.jobs if j.phase.name == name]
        if not jobs:
            return "absent"
        if any(j.status in ("pending", "running") for j in jobs):
            return "open"
        bad = BAD | ({FLAKY} if self.options.strict else set())
        return "failed" if any(j.status in bad for j in jobs) else "passed"

    def cause(self, name: str) -> str:
        """Why phase ``name`` did not pass, naming the phase that actually failed (not a chain)."""
        if name not in self.causes:
            jobs = [j for j in self.jobs if j.phase.name == name]
            failed = sum((j.final or j.counts).get("failures", 0) + (j.final or j.counts).get("errors", 0)
                         for j in jobs if j.status in (FAILED, ERRORED))
            states = sorted({j.status for j in jobs if j.status in BAD | {FLAKY}})
            if failed:
                self.causes[name] = f"{name} failed ({failed} failed)"
            else:
                self.causes[name] = f"{name} failed ({', '.join(states) or 'no report'})"
        return self.causes[name]

    def run(self, jobs: list[Job]) -> list[Job]:
        self.jobs = jobs
        blocked_by: str | None = None
        try:
            while True:
                self.reap_and_time()
                for job in [j for j in jobs if j.status == "pending"]:
                    if blocked_by:
                        self.causes.setdefault(job.phase.name, self.cause(blocked_by))
                        self.skip(job, f"not run: {self.cause(blocked_by)}, and {blocked_by} is blocking")
                        continue
                    needs = [n for n in job.phase.needs if self.phase_state(n) != "absent"]
                    states = {n: self.phase_state(n) for n in needs}
                    failed = [n for n, s in states.items() if s == "failed"]
                    if failed:
                        root = self.cause(failed[0])
                        self.causes.setdefault(job.phase.name, root)
                        self.skip(job, f"not run: {root}")
                        continue
                    if any(s == "open" for s in states.values()):
                        continue
                    siblings = [j for j in jobs if j.phase is job.phase and j is not job]
                    if not job.phase.parallel and any(j.status == "running" for j in siblings):
                        continue
                    self.start(job)
                for job in jobs:
                    if job.phase.blocking and self.phase_state(job.phase.name) == "failed" and not blocked_by:
                        blocked_by = job.phase.name
                if all(j.status not in ("pending", "running") for j in jobs):
                    return jobs
                time.sleep(0.1)  # poll: child processes
        except KeyboardInterrupt:
            self.echo("interrupted: stopping every running suite (SIGINT, SIGTERM, SIGKILL) ...")
            self.abort(INTERRUPTED, "not run: the run was interrupted")
            raise
        except Exception as exc:  # e.g. the background seed failed: leave no suite running
            self.abort(ERRORED, f"not run: run aborted: {exc}")
            raise

    def abort(self, why: str, reason: str) -> None:
        """Stop every running job and record every pending one, so the report names each test."""
        running = [j for j in self.jobs if j.status == "running"]
        for job in running:
            job.reason = reason.removeprefix("not run: ")
        self.stop_trees(running, why)
        for job in running:
            self.say(job, job.status)
        for job in self.jobs:
            if job.status == "pending":
                job.status, job.reason = SKIPPED, reason
                self.complete_report(job, None, skip_reason=reason)

    def reap_and_time(self) -> None:
        for job in self.jobs:
            if job.status != "running" or job.proc is None:
                continue
            code = job.proc.poll()
            if code is not None:
                self.finish(job, code)
            elif time.monotonic() - job.started > job.phase.timeout:
                self.stop_tree(job, TIMEOUT)
                self.say(job, f"TIMED OUT after {job.phase.timeout:.0f}s; stopped its process tree; "
                              f"log: {shown_path(job.log)}")


def mask_log(job: Job) -> None:
    """The job's log is uploaded by CI: tokens a suite printed outside pytest's capture go."""
    from .masking import mask_file

    with contextlib.suppress(OSError):
        mask_file(job.log)


def exit_cause(log: Path) -> str:
    """Why pytest stopped early, from the end of a job's log: its ``Exit`` line, else the log."""
    for line in reversed(tail(log, 40)):
        if "_pytest.outcomes.Exit:" in line:
            return line.split("_pytest.outcomes.Exit:", 1)[1].strip(" !")
    return f"see {log}"


def refuse_destructive(model: PhaseModel, selected: list[tuple[Phase, tuple[str, ...]]],
                       options: Options, explicit: list[str] | None) -> list[tuple[Phase, tuple[str, ...]]]:
    """On a remote target, destructive phases are refused (explicitly asked) or left out (as part of all)."""
    if not options.target or options.allow_destructive:
        return selected
    for phase, _ in selected:
        if phase.destructive and explicit and phase.name in explicit:
            raise E2EError(f"phase {phase.name} stops services and is refused on target {options.target}",
                           "add --allow-destructive if that environment may be disrupted")
    return selected
