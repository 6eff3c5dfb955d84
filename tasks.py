"""Invoke tasks: bring the stack up and down, seed data, run the suites, merge reports.

Each task is a table-of-contents entry; the logic lives in the ``e2e_shared`` library.
"""

from __future__ import annotations

from invoke import Collection, task

from e2e_shared.tasklib import cli, driver_for

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
    driver_for(driver, target).down(keep=keep)


@task(help={"driver": DRIVER_HELP, "target": TARGET_HELP})
@cli
def status(c, driver=None, target=None):
    """Show each service's state, pid, port, uptime and readiness."""
    from e2e_shared.stackops import status_table

    print(status_table(driver_for(driver, target).status()))


@task(help={"service": "the service whose log to show", "n": "how many lines (default 50)",
            "f": "follow the log until Ctrl-C", "driver": DRIVER_HELP})
@cli
def logs(c, service, n=50, f=False, driver=None):
    """Show the last lines of a service's log; -f follows it."""
    from e2e_shared.stackops import show_logs

    show_logs(driver_for(driver, None), service, lines=int(n), follow=f)


@task(help={"service": "the service to restart", "driver": DRIVER_HELP})
@cli
def restart(c, service, driver=None):
    """Restart one service and wait until it is ready again."""
    driver_for(driver, None).restart(service)


@task(help={"runs": "how many cold starts to time (default 3)"})
@cli
def bench(c, runs=3):
    """Time a cold stack.up to ready and write the figures to docs/benchmarks.md."""
    from e2e_shared.bench import bench_stack_up

    bench_stack_up(runs=int(runs))


stack = Collection("stack", up, down, status, logs, restart)
ns = Collection(stack, bench)
