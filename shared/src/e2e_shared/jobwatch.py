"""The suite side of a phase run: what the runner needs to know about a job it may have to cut off.

Loaded by the plugin in every suite process. It does nothing unless the runner set its
variables, so an ad-hoc ``nox -s backend`` is unaffected:

- ``E2E_RUN_PID``/``E2E_RUN_STARTED``: the ``invoke`` process that runs this job. When it is gone
  (``kill -9``, a CI runner that vanished) the job ends its whole process group at once, before
  it writes a report that a later run could merge.
- ``E2E_MANIFEST``: every test of the suite with its markers, written at collection (before the
  ``-m`` selection), so that tests a run never reached can be reported one by one.
- ``E2E_PROGRESS``: the tests this job selected, then the test running now, so that a job cut off
  by Ctrl-C or its timeout is reported with how far it got.
- ``E2E_RUN_ID``: written into the JUnit file, so that a merge takes only its own run's files;
  beside it ``e2e.exit``, pytest's exit status, which a partial file (Ctrl-C) lacks or says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
from pathlib import Path

import pytest

from .jobreport import EXIT_PROPERTY, RUN_ID_PROPERTY

WATCH_INTERVAL = 0.5


def _write(path: Path, text: str) -> None:
    """Atomic, so that the runner never reads half a file."""
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)


def _watch(pid: int, started: float, stop: threading.Event) -> None:
    from .ownership import run_is_live

    while not stop.wait(WATCH_INTERVAL):  # poll: the run's process
        if not run_is_live(pid, started):
            # The run is gone: nothing will merge or clean up after this job, so end it and
            # everything it started (nox, pytest, the browser driver) without writing a report.
            # Only a group the runner made (its own session, led by nox): never a shell's.
            group = os.getpgrp()
            if group > 1 and os.getsid(0) == group:
                os.killpg(group, signal.SIGKILL)
            os._exit(137)


def _xml(config: pytest.Config):  # the junitxml plugin's writer, when --junitxml is given
    from _pytest.junitxml import xml_key

    return config.stash.get(xml_key, None)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    pid, started = os.environ.get("E2E_RUN_PID", ""), os.environ.get("E2E_RUN_STARTED", "")
    # Both, or no watch: a pid alone could be a reused one.
    if pid.isdigit() and started and not hasattr(config, "workerinput"):
        stop = threading.Event()
        config.stash[_STOP] = stop
        threading.Thread(target=_watch, args=(int(pid), float(started), stop),
                         name="e2e-run-watch", daemon=True).start()
    run_id = os.environ.get("E2E_RUN_ID")
    xml = _xml(config)
    if run_id and xml is not None:
        xml.add_global_property(RUN_ID_PROPERTY, run_id)


_STOP = pytest.StashKey[threading.Event]()


def pytest_unconfigure(config: pytest.Config) -> None:
    stop = config.stash.get(_STOP, None)
    if stop is not None:
        stop.set()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Before ``-m`` deselects anything: the whole suite, with each test's markers."""
    path = os.environ.get("E2E_MANIFEST")
    if path:
        # Marker names, and each guarded contract promise as "contract:<id>" (a test that never
        # runs is still reported with the promises it guards).
        manifest = {item.nodeid: sorted({m.name for m in item.iter_markers()}
                                        | {f"contract:{a}" for m in item.iter_markers("contract")
                                           for a in m.args})
                    for item in items}
        _write(Path(path), json.dumps(manifest, indent=0))


def pytest_collection_finish(session: pytest.Session) -> None:
    path = os.environ.get("E2E_PROGRESS")
    if path:
        _write(Path(path + ".selected"), json.dumps([item.nodeid for item in session.items]))


def pytest_runtest_logstart(nodeid: str, location: object) -> None:
    path = os.environ.get("E2E_PROGRESS")
    if path:
        _write(Path(path), nodeid)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # tryfirst: before junitxml's own sessionfinish writes the file.
    xml = _xml(session.config)
    if xml is not None and os.environ.get("E2E_RUN_ID"):
        xml.add_global_property(EXIT_PROPERTY, str(int(exitstatus)))
