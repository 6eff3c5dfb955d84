"""The resource watch: sampling real process trees, the summary's figures, the report's outputs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest

from e2e_shared import E2EError
from e2e_shared.orchestrate import describe_resources
from e2e_shared.report import merge
from e2e_shared.resources import (
    NOT_EMBEDDED,
    SAMPLES_FILE,
    Meter,
    ProcessTable,
    Resources,
    ResourceWatch,
    downsample,
    process_tree,
    read_samples,
    summarize,
    summarize_lines,
)
from e2e_shared.state import ServiceState, StackState
from e2e_shared.waits import WaitTimeout, wait_until

DATA = Path(__file__).parent / "data" / "report" / "run"

# A parent that forks two children which each hold a few extra descriptors, then all wait.
FAMILY = """
import os, subprocess, sys, time
kids = [subprocess.Popen([sys.executable, "-c",
        "import sys,time\\nfs=[open(sys.executable,'rb') for _ in range(5)]\\nprint('up',flush=True)\\n"
        "sys.stdin.read()"], stdin=subprocess.PIPE, stdout=subprocess.PIPE) for _ in range(2)]
for k in kids:
    k.stdout.readline()
print("ready", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def family(children: list[subprocess.Popen]) -> subprocess.Popen:
    """A process with two children, in its own session, like a service of the embedded driver."""
    proc = subprocess.Popen([sys.executable, "-c", FAMILY], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    children.append(proc)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def write_state(path: Path, services: dict[str, int], driver: str = "embedded") -> None:
    state = StackState(driver=driver, services={
        name: ServiceState(pid=pid, started=psutil.Process(pid).create_time() if pid else 0.0)
        for name, pid in services.items()})
    state.save(path)


def test_a_service_is_its_whole_process_tree(family: subprocess.Popen) -> None:
    tree = process_tree(family.pid)
    assert {p.pid for p in tree} == {family.pid, *(c.pid for c in psutil.Process(family.pid).children())}
    assert len(tree) == 3
    assert ProcessTable.read().family(family.pid) == {p.pid for p in tree}
    alone = Meter().measure("one", psutil.Process(family.pid).children()[0].pid)
    usage = Meter().measure("svc", family.pid)
    assert usage is not None and alone is not None
    assert usage.procs == 3
    assert usage.fds >= 2 * 5 + 3  # each child's five files, at least
    assert usage.threads >= 3
    assert usage.rss_mb > 2 * alone.rss_mb  # a sum over the tree, not the leader alone


def test_session_members_count_even_when_reparented(children: list[subprocess.Popen]) -> None:
    """A daemon that double-forks (as pg_ctl does) leaves the tree but stays in the session."""
    daemon = "import signal; signal.pause()"
    middle = (f"import subprocess,sys\np=subprocess.Popen([sys.executable,'-c',{daemon!r}],"
              "stdin=subprocess.DEVNULL,stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)\n"
              "print(p.pid,flush=True)")  # exits: the daemon is orphaned
    leader_code = (f"import subprocess,sys\nout=subprocess.run([sys.executable,'-c',{middle!r}],"
                   "capture_output=True,text=True).stdout\nprint(out.strip(),flush=True)\n"
                   "sys.stdin.read()")
    leader = subprocess.Popen([sys.executable, "-c", leader_code], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    children.append(leader)
    assert leader.stdout is not None
    orphan = int(leader.stdout.readline())
    try:
        assert orphan not in {c.pid for c in psutil.Process(leader.pid).children(recursive=True)}
        assert orphan in {p.pid for p in process_tree(leader.pid)}
    finally:
        psutil.Process(orphan).kill()


def test_cpu_percent_comes_from_cpu_time_deltas(children: list[subprocess.Popen]) -> None:
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
    children.append(busy)
    clock = [0.0]
    meter = Meter(clock=lambda: clock[0])
    first = meter.measure("busy", busy.pid)
    assert first is not None and first.cpu == 0.0  # no interval yet
    before = psutil.Process(busy.pid).cpu_times()
    wait_until(lambda: sum(psutil.Process(busy.pid).cpu_times()[:2]) - sum(before[:2]) >= 0.3,
               what="the busy loop to use 0.3 s of CPU", timeout=20)
    clock[0] = 1.0  # one "second" later: the CPU used since, over that second
    second = meter.measure("busy", busy.pid)
    assert second is not None and second.cpu >= 30.0


def test_the_watch_follows_a_restarted_service_and_records_its_death(
        tmp_path: Path, children: list[subprocess.Popen]) -> None:
    def start() -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                                stdin=subprocess.PIPE, start_new_session=True)
        children.append(proc)
        return proc

    state_file, out = tmp_path / "state.json", tmp_path / "reports" / SAMPLES_FILE
    first = start()
    write_state(state_file, {"api": first.pid})
    watch = ResourceWatch(state_file, out, run_id="r1")
    watch.start()
    lines: list[dict] = []
    watch.sample_once()  # primes the meter as the thread would
    lines += watch.sample_once()
    first.kill()
    first.wait()
    lines += watch.sample_once()  # dead, the state file still names it
    second = start()
    write_state(state_file, {"api": second.pid})  # the fault test restarted it
    lines += watch.sample_once()
    state_file.write_text("{not json")  # a state file being rewritten: skipped, no crash
    assert watch.sample_once() == []
    watch.stop()
    assert [(ln.get("pid"), ln.get("down", False)) for ln in lines] == [
        (first.pid, False), (None, True), (second.pid, False)]
    summary = summarize_lines({"kind": "header", "watched": True}, lines)["services"]["api"]
    assert summary["restarts"] == 1 and summary["down_samples"] == 1 and summary["samples"] == 2


def test_the_watch_thread_writes_lines_as_it_goes(tmp_path: Path, family: subprocess.Popen) -> None:
    state_file, out = tmp_path / "state.json", tmp_path / "reports" / SAMPLES_FILE
    write_state(state_file, {"db": family.pid, "gone": 0})
    watch = ResourceWatch(state_file, out, run_id="r2", interval=0.05).start()
    try:
        # Read while it runs: each sample is on disk already (a Ctrl-C'd run keeps them).
        wait_until(lambda: len(read_samples(out)[1]) >= 3, what="three samples on disk", timeout=20)
    finally:
        watch.stop()
    assert not watch.thread.is_alive()
    header, lines = read_samples(out)
    assert header is not None and header["run_id"] == "r2" and header["watched"] is True
    assert {ln["service"] for ln in lines} == {"db"}  # no pid, nothing to sample
    assert all(ln["procs"] == 3 for ln in lines)
    with out.open("a") as handle:
        handle.write('{"t": 1, "service": "db", "rss')  # cut off by a kill -9
    assert summarize(out)["services"]["db"]["samples"] == len(lines)  # type: ignore[index]


def test_summary_figures() -> None:
    lines = [{"t": 100.0 + i, "service": "api", "pid": 7, "procs": 2, "rss_mb": rss, "fds": fds,
              "threads": thr, "cpu": cpu}
             for i, (rss, fds, thr, cpu) in enumerate([(50, 10, 4, 0), (80, 30, 6, 90), (60, 12, 5, 30)])]
    got = summarize_lines({"kind": "header", "watched": True, "interval": 1.0}, lines)
    api = got["services"]["api"]
    assert api["rss_mb"] == {"first": 50, "peak": 80, "last": 60, "growth": 10}
    assert api["fds"] == {"first": 10, "peak": 30, "last": 12, "growth": 2}
    assert api["threads"] == {"first": 4, "peak": 6, "last": 5, "growth": 1}
    assert api["cpu"] == {"peak": 90, "mean": 60}  # the first sample has no interval
    assert api["series"] == [[0.0, 50, 10], [1.0, 80, 30], [2.0, 60, 12]]
    assert got["duration"] == 2.0 and api["restarts"] == 0 and api["procs_peak"] == 2


def test_downsampling_keeps_the_peaks() -> None:
    points = [(float(i), 10.0 + (50 if i == 77 else 0), 5.0) for i in range(600)]
    series = downsample(points, 60)
    assert len(series) == 60
    assert max(p[1] for p in series) == 60.0  # the one spike survives
    assert downsample([], 60) == []


def test_not_watched_on_compose_or_a_target(tmp_path: Path) -> None:
    for profile, target in (("compose", None), ("remote", "staging")):
        settings = SimpleNamespace(reports_dir=tmp_path, state_file=tmp_path / "state.json",
                                   profile=profile, target=target)
        watch = ResourceWatch.for_run(settings, "r3").start()
        watch.stop()
        assert watch.thread.ident is None  # no thread at all
        got = summarize(tmp_path / SAMPLES_FILE)
        assert got is not None and got["watched"] is False
        assert got["why"].startswith(NOT_EMBEDDED) and (target or profile) in got["why"]
        assert describe_resources(got).startswith("resources: not watched (")


def _junit_with_run_id(folder: Path, run_id: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "health-backend.xml"
    path.write_text(
        "<testsuites><testsuite name='pytest' tests='1' time='1' timestamp='2026-11-30T00:00:00'>"
        f"<properties><property name='e2e.run_id' value='{run_id}'/></properties>"
        "<testcase classname='t' name='ok' time='1'/></testsuite></testsuites>")
    return path


def _samples(out: Path, run_id: str) -> None:
    lines = [{"kind": "header", "run_id": run_id, "watched": True, "interval": 1.0}]
    lines += [{"t": 10.0 + i, "service": svc, "pid": 5, "procs": 3, "rss_mb": 40.0 + i, "fds": 9 + i % 2,
               "threads": 4, "cpu": 10.0} for i in range(90) for svc in ("api", "db")]
    out.mkdir(parents=True, exist_ok=True)
    (out / SAMPLES_FILE).write_text("".join(json.dumps(x) + "\n" for x in lines))


def test_the_merge_reports_resources_of_its_own_run(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    _junit_with_run_id(out / "junit", "run-a")
    _samples(out, "run-a")
    result = merge(out / "junit", out, step_summary=None)
    summary = json.loads((out / "summary.json").read_text())
    api = summary["resources"]["services"]["api"]
    assert summary["resources"]["watched"] is True and set(summary["resources"]["services"]) == {"api", "db"}
    assert api["rss_mb"] == {"first": 40.0, "peak": 129.0, "last": 129.0, "growth": 89.0}
    assert len(api["series"]) <= 60
    md = (out / "summary.md").read_text()
    assert "### Resources" in md and "| api | 129.0 MB | +89.0 MB | 10 | +1 | 4 | 10% | 10% | 0 |" in md
    html = (out / "index.html").read_text()
    section = html[html.index("<section id='resources'>"):]
    section = section[:section.index("</section>")]
    assert section.count("<svg class='spark'") == 2 and section.count("<polyline") == 4
    assert "129.0 MB" in section and "+89.0 MB" in section
    assert describe_resources(result.resources) == (
        "resources: api 129.0 MB peak (+89.0), 10 fds (+1); db 129.0 MB peak (+89.0), 10 fds (+1)")


def test_the_merge_leaves_out_another_runs_samples_or_none(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    shutil.copytree(DATA, out / "junit")  # a CI merge: JUnit files and no samples file
    merge(out / "junit", out, step_summary=None)
    assert json.loads((out / "summary.json").read_text())["resources"]["watched"] is False
    assert "### Resources" not in (out / "summary.md").read_text()
    assert "<section id='resources'>" not in (out / "index.html").read_text()
    _samples(out, "an-older-run")  # left behind by an earlier run: not this report's
    result = merge(out / "junit", out, step_summary=None)
    assert result.resources is None


def test_a_compose_run_says_so_in_every_output(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    _junit_with_run_id(out / "junit", "run-c")
    (out / SAMPLES_FILE).write_text(json.dumps(
        {"kind": "header", "run_id": "run-c", "watched": False,
         "why": f"{NOT_EMBEDDED}; this run used the compose driver"}) + "\n")
    merge(out / "junit", out, step_summary=None)
    why = f"{NOT_EMBEDDED}; this run used the compose driver"
    assert json.loads((out / "summary.json").read_text())["resources"] == {"watched": False, "why": why}
    assert f"Not watched: {why}." in (out / "summary.md").read_text()
    assert f"Not watched: {why}." in (out / "index.html").read_text()


def test_resources_fixture_snapshot_and_settle(tmp_path: Path, children: list[subprocess.Popen]) -> None:
    # A service that opens five files when asked, and closes them a moment after being asked.
    code = ("import sys,threading\nheld=[]\nprint('ready', flush=True)\nfor line in sys.stdin:\n"
            " if line.startswith('open'): held += [open(sys.executable,'rb') for _ in range(5)]\n"
            " else: threading.Timer(0.3, lambda: [f.close() for f in held]).start()\n"
            " print('ok', flush=True)\n")
    svc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           text=True, start_new_session=True)
    children.append(svc)
    assert svc.stdout is not None and svc.stdout.readline().strip() == "ready"  # imports done
    state_file = tmp_path / "state.json"
    write_state(state_file, {"api": svc.pid})
    res = Resources(state_file)
    before = res.snapshot("api")
    assert before.pid == svc.pid and before.rss_mb > 1 and before.threads >= 1
    assert svc.stdin is not None and svc.stdout is not None

    def ask(what: str) -> None:
        svc.stdin.write(what + "\n")
        svc.stdin.flush()
        svc.stdout.readline()

    ask("open")
    assert res.snapshot("api").fds == before.fds + 5
    started = time.monotonic()
    with pytest.raises(WaitTimeout, match="api's descriptors back to"):
        res.settle("api", fds=before.fds, tolerance=0, timeout=0.2)
    ask("close")
    after = res.settle("api", fds=before.fds, tolerance=0, timeout=10)
    assert after.fds <= before.fds and time.monotonic() - started < 10
    with pytest.raises(E2EError, match="no running service 'web'"):
        res.snapshot("web")
    svc.kill()
    svc.wait()
    with pytest.raises(E2EError, match="is not running"):
        res.snapshot("api")


def test_a_run_watches_from_its_phases_to_its_merge_and_a_ctrl_c_keeps_the_samples(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, family: subprocess.Popen) -> None:
    import threading

    from e2e_shared import orchestrate
    from e2e_shared.runner import Options

    settings = SimpleNamespace(reports_dir=tmp_path / "reports", state_dir=tmp_path / "state",
                               state_file=tmp_path / "state" / "state.json", profile="embedded",
                               target=None)
    write_state(settings.state_file, {"db": family.pid})
    out = settings.reports_dir / SAMPLES_FILE
    monkeypatch.setattr("e2e_shared.reaping.reap_jobs", lambda *_a, **_k: None)
    monkeypatch.setattr(orchestrate, "get_driver", lambda **_k: None)
    monkeypatch.setattr(orchestrate, "require_up", lambda *_a, **_k: None)
    monkeypatch.setattr(orchestrate, "prepare_envs", lambda *_a: 0.0)
    seen: dict[str, object] = {}

    def run(_jobs: list) -> None:  # the phases: interrupted once the watch has sampled twice
        wait_until(lambda: len(read_samples(out)[1]) >= 2, what="two samples", timeout=20)
        raise KeyboardInterrupt

    def merge_run(_runner: object, _jobs: list, _options: object, *, interrupted: bool, echo: object) -> None:
        seen["watching"] = any(t.name == "resource-watch" and t.is_alive() for t in threading.enumerate())
        seen["summary"] = summarize(out, ["run-x"])
        seen["interrupted"] = interrupted

    monkeypatch.setattr(orchestrate, "merge_run", merge_run)
    runner = SimpleNamespace(run_id="run-x", run=run, jobs=[])
    outcome = orchestrate._run_locked(settings, None, runner, [], None, Options(), lambda _m: None)
    assert outcome.code == 130 and seen["interrupted"] is True
    assert seen["watching"] is False  # stopped before the merge read its file
    summary = seen["summary"]
    assert isinstance(summary, dict) and summary["services"]["db"]["samples"] >= 2
