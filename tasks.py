"""Invoke tasks: bring the stack up and down, seed data, run the suites, merge reports.

Each task is a table-of-contents entry; the logic lives in the ``e2e_shared`` library.
"""

from __future__ import annotations

from pathlib import Path

from invoke import Collection, task

from e2e_shared.cliargs import count
from e2e_shared.tasklib import (
    PHASE_NAMES,
    SUITE_NAMES,
    cli,
    driver_for,
    merge_reports,
    run_all_tests,
    run_e2e_task,
)

DRIVER_HELP = "embedded or compose (default: compose when a Docker engine answers, else embedded)"
TARGET_HELP = "a remote target from [tool.e2e.targets]: nothing is started or stopped"


@task(help={"driver": DRIVER_HELP, "target": TARGET_HELP,
            "service": "start only this service and what it needs (repeatable)"}, iterable=["service"])
@cli
def up(c, driver=None, target=None, service=None):
    """Bring the stack up (reusing what is already healthy) and wait until every service is ready."""
    driver_for(driver, target).up(service or None)


@task(help={"keep": "keep the data directories for the next up", "driver": DRIVER_HELP,
            "target": TARGET_HELP})
@cli
def down(c, keep=False, driver=None, target=None):
    """Stop every service this workspace started; remove its data unless --keep."""
    from e2e_shared.stackops import stack_down

    stack_down(driver, target, keep=keep)


@task(help={"driver": DRIVER_HELP, "target": TARGET_HELP})
@cli
def status(c, driver=None, target=None):
    """Show each service's state, pid, port, uptime and readiness."""
    from e2e_shared.stackops import status_report

    print(status_report(driver_for(driver, target)))


@task(help={"service": "the service whose log to show", "n": "how many lines (default 50)",
            "f": "follow the log until Ctrl-C", "driver": DRIVER_HELP})
@cli
def logs(c, service, n=None, f=False, driver=None):
    """Show the last lines of a service's log; -f follows it."""
    from e2e_shared.stackops import show_logs

    lines = count(n, option="-n", default=50, minimum=0, usage=f"invoke stack.logs {service} -n 100")
    show_logs(driver_for(driver, None), service, lines=lines, follow=f)


@task(help={"service": "the service to restart", "driver": DRIVER_HELP})
@cli
def restart(c, service, driver=None):
    """Restart one service and wait until it is ready again."""
    driver_for(driver, None).restart(service)


@task(help={"strict": "count flaky tests as failures"})
@cli
def test(c, strict=False):
    """Run everything: lint and the library's unit tests, then the stack up, every phase, and down."""
    run_all_tests(strict=strict)


@task(help={"runs": "how many cold starts to time (default 3)",
            "e2e": "also time stack.up + e2e.all against the sum of the suites and the critical path",
            "live": "instead: the live feed's latency, upload to a row in the browser, on the running stack",
            "uploads": "with --live: how many uploads to time (default 20)"})
@cli
def bench(c, runs=None, e2e=False, live=False, uploads=None):
    """Time a cold stack.up, a 100,000-case merge and the fault proxy's cost on a request
    (--e2e: a whole run; --live: the live feed's latency); write docs/benchmarks.md."""
    from e2e_shared.bench import (
        bench_e2e,
        bench_merge_section,
        bench_proxy,
        bench_stack_up,
        run_in_suite_env,
    )

    if live:
        n = count(uploads, option="--uploads", default=20, usage="invoke bench --live --uploads 20")
        run_in_suite_env("frontend", "frontend_e2e.live_bench", "--uploads", str(n))
        return
    runs = count(runs, option="--runs", default=3, usage="invoke bench --runs 3")
    bench_stack_up(runs=runs)
    bench_stack_up(runs=runs, services=["db", "objects", "api", "pipeline", "web"])
    bench_merge_section(Path(__file__).parent)
    bench_proxy(service="api", path="/health", also=("pipeline",))  # /health wants the worker's heartbeat
    if e2e:
        bench_e2e()


# --- data ---------------------------------------------------------------------------------

@task(name="seed")
@cli
def data_seed(c):
    """Load the product's deterministic baseline ([tool.e2e] product; idempotent)."""
    from e2e_shared.seeding import seed_baseline

    print(f"seeded: {seed_baseline()}")


@task(name="reset")
@cli
def data_reset(c):
    """Remove everything the tests created and return to the seeded baseline."""
    from e2e_shared.seeding import reset_baseline

    print(f"reset: {reset_baseline()}")


# --- e2e -----------------------------------------------------------------------------------

E2E_HELP = {
    "strict": "count flaky tests (failed, then passed on the rerun) as failures",
    "shard": "run slice i of n of every suite, balanced by recorded durations (e.g. 1/2)",
    "target": TARGET_HELP,
    "allow_destructive": "allow phases that stop services (resilience) on a remote target",
    "suite": "limit to this suite (repeatable): backend, frontend, pipeline",
    "phase": "limit to this phase (repeatable): health, smoke, flows, integrity, resilience",
    "store_durations": "record each test's duration in <suite>/.test_durations (commit it for shards)",
}


def _e2e_task(name, doc, phases=None, suites=None):
    @task(name=name, help=E2E_HELP, iterable=["suite", "phase"])
    @cli
    def run(c, strict=False, shard=None, target=None, allow_destructive=False, suite=None, phase=None,
            store_durations=False):
        run_e2e_task(phase or phases, suite or suites, strict=strict, shard=shard, target=target,
                     allow_destructive=allow_destructive, store_durations=store_durations)

    run.__doc__ = doc
    run.body.__doc__ = doc
    return run


e2e = Collection("e2e")
e2e.add_task(_e2e_task("all", "Run every phase in dependency order, merge the reports, print the verdict."),
             default=True)
for _suite in SUITE_NAMES:
    e2e.add_task(_e2e_task(_suite, f"Run every phase of the {_suite} suite.", suites=[_suite]))
for _phase in PHASE_NAMES:
    e2e.add_task(_e2e_task(_phase, f"Run the {_phase} phase of every suite.", phases=[_phase]))


@task(name="repeat", iterable=["suite", "phase"],
      help={"runs": "how many times to run the selection (default 20)",
            "suite": "limit to this suite (repeatable; default frontend)",
            "phase": "limit to this phase (repeatable; default smoke and flows)",
            "k": "only tests matching this pytest -k expression"})
@cli
def repeat(c, runs=20, suite=None, phase=None, k=None):
    """Run a selection N times on one stack; report each test's failure rate and duration spread."""
    from e2e_shared.repeat import run_repeat
    raise SystemExit(run_repeat(int(runs), phase or ["smoke", "flows"], suite or ["frontend"], keyword=k))


e2e.add_task(repeat)

# --- reports ---------------------------------------------------------------------------------

@task(name="merge", help={"strict": "count flaky tests as failures",
                          "junit_dir": "where the JUnit files are (default reports/junit)"})
@cli
def report_merge(c, strict=False, junit_dir="reports/junit"):
    """Merge reports/junit/*.xml into reports/junit.xml, summary.json/.md and index.html."""
    raise SystemExit(merge_reports(junit_dir, strict=strict))


stack = Collection("stack", up, down, status, logs, restart)
data = Collection("data", data_seed, data_reset)
report = Collection("report", report_merge)


# --- drills ----------------------------------------------------------------------------------

@task(name="interrupt", help={"runs": "how many interrupted runs (default 20)",
                              "signal": "INT (Ctrl-C, default), TERM (a CI cancel) or KILL (kill -9)",
                              "seed": "random seed, to replay a drill",
                              "max_delay": "latest moment to send the signal, in seconds (default 60)"})
@cli
def drill_interrupt(c, runs=20, signal="INT", seed=None, max_delay=60.0):
    """Stop `invoke stack.up e2e.all` at random points and check exit, leftovers, verdict and status."""
    from e2e_shared.drill import run_drill

    run_drill(runs, signal, seed, max_delay)


drill = Collection("drill", drill_interrupt)


# --- scaffolding -------------------------------------------------------------------------------

@task(name="suite", help={"name": "the new suite: NAME_e2e/, nox session NAME, [tool.e2e.suites.NAME]"})
@cli
def new_suite(c, name):
    """Write a suite package, its nox session and its [tool.e2e.suites] table (docs/adopting.md)."""
    from e2e_shared.config import find_root
    from e2e_shared.scaffold import new_suite as write_suite

    written = write_suite(find_root(), name)
    for path in written.files:
        print(f"wrote {path}")
    print(f"next: {written.next_step}")


new = Collection("new", new_suite)
ns = Collection(stack, data, e2e, report, drill, new, bench, test)
