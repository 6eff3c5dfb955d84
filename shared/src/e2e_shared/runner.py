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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import E2EError, procs
from .phases import Phase, PhaseModel
from .waits import tail

Echo = Callable[[str], None]

# Results a job can end in.
PASSED, FAILED, FLAKY, SKIPPED, TIMEOUT, INTERRUPTED, NO_TESTS = (
    "passed", "failed", "flaky", "skipped", "timed out", "interrupted", "no tests")


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
    counts: dict[str, int] = field(default_factory=dict)

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
                 echo: Echo = print, seed: Callable[[], None] | None = None) -> None:
        self.root = root
        self.model = model
        self.options = options
        self.echo = echo
        self.seed = seed
        self.seeded = False
        self.junit_dir = root / "reports" / "junit"
        self.log_dir = root / "reports" / "logs"
        self.t0 = time.monotonic()
        self.jobs: list[Job] = []

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
                                junit=self.junit_dir / f"{name}.xml", log=self.log_dir / f"{name}.log"))
        return jobs

    def argv(self, job: Job, *, rerun: bool) -> list[str]:
        cache = self.root / ".e2e" / "pytest-cache" / job.junit.stem
        args = ["-m", job.phase.marker, f"--junitxml={job.rerun_junit if rerun else job.junit}",
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
        job.attempt += 1
        job.proc = procs.spawn(self.argv(job, rerun=rerun), log=job.log, cwd=self.root,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
        job.status = "running"
        self.say(job, "running" + (" (rerun of failed tests)" if rerun else ""))

    def finish(self, job: Job, code: int) -> None:
        """Decide a finished process's result; a first failure gets its one rerun."""
        counts = junit_counts(job.rerun_junit if job.attempt > 1 else job.junit)
        if job.attempt == 1:
            job.counts = dict(counts or {})
        if counts is None and job.attempt == 1:
            job.status, job.reason = FAILED, f"no JUnit written (exit {code}); see {job.log}"
            write_error_record(job.junit, job.phase.name, job.suite, job.reason, "RunError")
        elif job.attempt == 1 and counts and counts["tests"] == 0 and code not in (0, 5):
            # pytest stopped before its first test (e.g. the plugin found the stack down): a
            # failure, not an empty selection, and recorded as one so the verdict sees it.
            job.status = FAILED
            job.reason = f"pytest ended before any test ran (exit {code}): {exit_cause(job.log)}"
            write_error_record(job.junit, job.phase.name, job.suite, job.reason, "RunError")
        elif job.attempt == 1 and counts and counts["tests"] == 0:
            from .report import write_skipped

            job.status, job.reason = NO_TESTS, f"no tests marked {job.phase.marker}"
            write_skipped(job.junit, job.phase.name, job.suite, job.reason, None)
        elif code == 0 and job.attempt == 1:
            job.status = PASSED
        elif job.attempt == 1 and self.options.reruns > 0:
            self.start(job, rerun=True)
            return
        elif job.attempt > 1:
            passed_on_rerun = code == 0 and counts is not None
            job.status = FAILED if not passed_on_rerun or self.options.strict else FLAKY
            if passed_on_rerun and self.options.strict:
                job.reason = "flaky tests count as failures (--strict)"
            elif counts is None or not counts["tests"]:  # e.g. it found the stack down at once
                job.reason = (f"the rerun of the failed tests ran none (exit {code}: {exit_cause(job.log)}); "
                              "the first run's failures stand")
        else:
            job.status = FAILED
        job.duration = time.monotonic() - job.started
        c = job.counts
        detail = (f"{c.get('tests', 0) - c.get('failures', 0) - c.get('errors', 0) - c.get('skipped', 0)}"
                  f" passed, {c.get('failures', 0) + c.get('errors', 0)} failed, "
                  f"{c.get('skipped', 0)} skipped") if c.get("tests") else ""
        extra = f"; {job.reason}" if job.reason else ""
        self.say(job, f"{job.status.upper() if job.status == FAILED else job.status}"
                      f" in {job.duration:.1f}s" + (f" ({detail})" if detail else "") + extra)

    def skip(self, job: Job, reason: str) -> None:
        from .report import write_skipped

        job.status, job.reason = SKIPPED, reason
        write_skipped(job.junit, job.phase.name, job.suite, reason, None)
        self.say(job, f"skipped: {reason}")

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
            job.status, job.reason = why, why
            job.duration = time.monotonic() - job.started
            self.record_unfinished(job)

    def record_unfinished(self, job: Job) -> None:
        """A job stopped before pytest wrote its report still appears in the merged one."""
        counts = junit_counts(job.junit)
        if counts and counts["tests"]:
            return  # pytest wrote what it had
        if job.status == TIMEOUT:
            write_error_record(job.junit, job.phase.name, job.suite,
                               f"timed out after {job.phase.timeout:.0f}s; its process tree was stopped")
        else:
            from .report import write_skipped

            write_skipped(job.junit, job.phase.name, job.suite, f"{job.status} before it finished", None)

    # --- the DAG -------------------------------------------------------------------------------
    def phase_state(self, name: str) -> str:
        jobs = [j for j in self.jobs if j.phase.name == name]
        if not jobs:
            return "absent"
        if any(j.status in ("pending", "running") for j in jobs):
            return "open"
        bad = {FAILED, TIMEOUT, INTERRUPTED, SKIPPED}
        return "failed" if any(j.status in bad for j in jobs) else "passed"

    def run(self, jobs: list[Job]) -> list[Job]:
        self.jobs = jobs
        blocked_by: str | None = None
        try:
            while True:
                self.reap_and_time()
                for job in [j for j in jobs if j.status == "pending"]:
                    if blocked_by:
                        self.skip(job, f"blocked: phase {blocked_by} failed and is blocking")
                        continue
                    needs = [n for n in job.phase.needs if self.phase_state(n) != "absent"]
                    states = {n: self.phase_state(n) for n in needs}
                    if any(s == "failed" for s in states.values()):
                        failed = ", ".join(n for n, s in states.items() if s == "failed")
                        self.skip(job, f"needs {failed}, which did not pass")
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
            running = [j for j in jobs if j.status == "running"]
            self.stop_trees(running, INTERRUPTED)
            for job in running:
                self.say(job, "interrupted")
            for job in jobs:
                if job.status == "pending":
                    job.status, job.reason = SKIPPED, "run interrupted"
            raise
        except Exception as exc:  # e.g. the background seed failed: leave no suite running
            running = [j for j in jobs if j.status == "running"]
            self.stop_trees(running, FAILED)
            for job in jobs:
                if job.status == "pending":
                    job.status, job.reason = SKIPPED, f"run aborted: {exc}"
            raise

    def reap_and_time(self) -> None:
        for job in self.jobs:
            if job.status != "running" or job.proc is None:
                continue
            code = job.proc.poll()
            if code is not None:
                self.finish(job, code)
            elif time.monotonic() - job.started > job.phase.timeout:
                self.stop_tree(job, TIMEOUT)
                self.say(job, f"timed out after {job.phase.timeout:.0f}s; stopped its process tree")


def exit_cause(log: Path) -> str:
    """Why pytest stopped early, from the end of a job's log: its ``Exit`` line, else the log."""
    for line in reversed(tail(log, 40)):
        if "_pytest.outcomes.Exit:" in line:
            return line.split("_pytest.outcomes.Exit:", 1)[1].strip(" !")
    return f"see {log}"


def write_error_record(path: Path, phase: str, suite: str, message: str, kind: str = "Timeout") -> None:
    """A JUnit file with one errored case: a run that ended without a report of its own."""
    from junitparser import Error, JUnitXml, TestCase, TestSuite

    case = TestCase(f"{phase}-{suite}", classname=f"{phase}.{suite}")
    case.result = [Error(message, kind)]
    suite_el = TestSuite(f"{phase}-{suite}")
    suite_el.add_testcase(case)
    xml = JUnitXml()
    xml.add_testsuite(suite_el)
    path.parent.mkdir(parents=True, exist_ok=True)
    xml.write(str(path))


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
