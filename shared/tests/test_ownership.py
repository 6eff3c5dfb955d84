"""Ownership you can prove: markers, proofs, and the signals that are never sent. Real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import psutil
import pytest

from e2e_shared import procs
from e2e_shared.ownership import (
    OWNER_ENV,
    ROLE_ENV,
    RUN_ID_ENV,
    RUN_PID_ENV,
    RUN_STARTED_ENV,
    job_markers,
    owned_processes,
    owner_id,
    run_is_live,
    service_markers,
    without_markers,
)
from e2e_shared.state import ServiceState, StackState, StateCorrupt
from e2e_shared.waits import wait_until

PAUSE = "import signal\nwhile True:\n    signal.pause()"


@pytest.fixture
def owner(tmp_path) -> str:
    return owner_id(tmp_path / "state")


def _foreign_sleep(children) -> subprocess.Popen:
    """An unrelated process leading its own group, like `setsid sleep 600` (no marker)."""
    env = without_markers(dict(os.environ))
    proc = subprocess.Popen(["setsid", "sleep", "600"], env=env)  # setsid execs: same pid
    children.append(proc)
    wait_until(lambda: psutil.Process(proc.pid).name() == "sleep", what="setsid to exec sleep",
               timeout=5)
    return proc


def _dead_process() -> tuple[int, float]:
    """The pid and create time of a process that has exited (a killed invoke)."""
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                            stdin=subprocess.PIPE)
    started = psutil.Process(proc.pid).create_time()
    proc.communicate(b"")
    return proc.pid, started


# --- the signals that are never sent ----------------------------------------------------------

def test_group_1_pid_1_and_our_own_group_or_parent_are_refused():
    assert procs.refusal(1, group=True) and procs.refusal(1, group=False)
    assert procs.refusal(0, group=True) and procs.refusal(-5, group=False)
    assert "caller's own" in procs.refusal(os.getpgid(0), group=True)
    assert procs.refusal(os.getpid(), group=False) and procs.refusal(os.getppid(), group=False)
    # Even with a proof that holds, nothing is sent to them.
    me = procs.Proof(owner="x", started=procs.create_time(os.getpid()))
    assert not procs.signal_proven(1, signal.SIGKILL, proof=me, group=True)
    assert not procs.signal_proven(os.getpgid(0), signal.SIGKILL, proof=me, group=True)
    assert not procs.stop_group(1, proof=me, sig=signal.SIGKILL, grace=0.1)
    assert not procs.kill_group(1, proof=me)


def test_our_own_group_never_receives_the_signal(children):
    # A witness in our own process group: it prints every SIGUSR1 it gets, and stops at SIGUSR2.
    # Both are blocked and read in order (SIGUSR1 < SIGUSR2), so a stray SIGUSR1 shows first.
    witness = subprocess.Popen([sys.executable, "-c", (
        "import signal, sys\n"
        "sigs = {signal.SIGUSR1, signal.SIGUSR2}\n"
        "signal.pthread_sigmask(signal.SIG_BLOCK, sigs)\n"
        "print('ready', flush=True)\n"
        "while True:\n"
        "    info = signal.sigwaitinfo(sigs)\n"
        "    print(signal.Signals(info.si_signo).name, flush=True)\n"
        "    if info.si_signo == signal.SIGUSR2:\n"
        "        break\n")], stdout=subprocess.PIPE, text=True)
    assert witness.stdout.readline().strip() == "ready"
    assert os.getpgid(witness.pid) == os.getpgid(0)
    proof = procs.Proof(popen=witness)  # a proof that holds for the witness itself
    pgid = os.getpgid(0)
    assert not procs.signal_proven(pgid, signal.SIGUSR1, proof=proof, group=True)
    assert not procs.signal_proven(witness.pid, signal.SIGUSR1, proof=proof, group=True)  # no leader
    assert not procs.stop_group(pgid, proof=proof, sig=signal.SIGUSR1, grace=0.1)
    assert not procs.kill_group(pgid, proof=proof)  # would end this test run, were it sent
    os.kill(witness.pid, signal.SIGUSR2)
    out, _ = witness.communicate(timeout=10)
    assert out.split() == ["SIGUSR2"]


def test_a_foreign_process_on_a_recorded_pid_is_not_ours_even_with_its_create_time(children, owner):
    sleeper = _foreign_sleep(children)
    started = psutil.Process(sleeper.pid).create_time()
    proof = procs.Proof(owner=owner, started=started)  # the pid and create time match; no marker
    assert proof.fails(sleeper.pid) == "now `sleep 600`"
    assert not procs.signal_proven(sleeper.pid, signal.SIGTERM, proof=proof, group=True)
    assert not procs.stop_group(sleeper.pid, proof=proof, grace=0.1)
    assert not procs.kill_group(sleeper.pid, proof=proof)
    assert sleeper.poll() is None and procs.is_alive(sleeper.pid, started)


def test_a_marked_process_is_ours_only_with_its_create_time(tmp_path, children, owner):
    env = {**os.environ, **service_markers(owner, "db", "stack1", "SIGINT")}
    proc = procs.spawn([sys.executable, "-c", PAUSE], log=tmp_path / "l", env=env)
    children.append(proc)
    started = psutil.Process(proc.pid).create_time()
    assert procs.Proof(owner=owner, started=started).fails(proc.pid) is None
    assert procs.Proof(owner=owner, started=started - 100).fails(proc.pid).startswith("now `")
    assert procs.Proof(owner=owner + "-other", started=started).fails(proc.pid).startswith("now `")
    [found] = owned_processes(owner)
    assert (found.pid, found.role, found.name, found.kind) == (proc.pid, "service:db", "db", "service")
    assert found.stack_id == "stack1" and found.stop_signal == "SIGINT" and found.leads_group
    assert owned_processes(owner, "job:") == []
    assert procs.stop_group(proc.pid, proof=procs.Proof(owner=owner, started=started), grace=2)
    assert owned_processes(owner) == []


def test_run_is_live_needs_the_same_pid_and_create_time():
    me = psutil.Process()
    assert run_is_live(me.pid, me.create_time())
    assert not run_is_live(me.pid, me.create_time() - 100)  # the pid, reused
    dead_pid, dead_started = _dead_process()
    assert not run_is_live(dead_pid, dead_started)
    assert not run_is_live(None, None)


def test_job_markers_name_this_process_as_the_run(owner):
    env = job_markers(owner, "smoke", "backend", "run42")
    assert env[ROLE_ENV] == "job:smoke-backend" and env[RUN_ID_ENV] == "run42"
    assert run_is_live(int(env[RUN_PID_ENV]), float(env[RUN_STARTED_ENV]))
    assert env[OWNER_ENV] == owner
    assert OWNER_ENV not in without_markers({**os.environ, **env})


# --- the state file is validated -----------------------------------------------------------

GOOD = {"driver": "embedded", "run_id": "r", "secret": "s", "host_python": "/p",
        "services": {"db": {"pid": 12, "started": 1.5, "port": 5432, "log": "l"}}, "endpoints": {}}


@pytest.mark.parametrize(("content", "why"), [
    ("", "Expecting value: line 1 column 1"),
    ('{"driver": "embedded", "services": {"db": {"pid": 12', "line 1 column"),
    ("not json at all", "Expecting value: line 1 column 1"),
    ("[]", "expected an object, found list"),
    ('"a string"', "expected an object, found str"),
    ("null", "expected an object, found null"),
    (json.dumps({**GOOD, "services": {"db": {"pid": "12"}}}), 'services.db.pid is "12", expected int'),
    (json.dumps({**GOOD, "services": {"db": {"pid": True}}}), "services.db.pid is true, expected int"),
    (json.dumps({**GOOD, "colour": "blue"}), "unknown key 'colour'"),
    (json.dumps({**GOOD, "services": {"db": {"pid": 1, "cpu": 3}}}), "unknown key services.db.cpu"),
    (json.dumps({**GOOD, "services": []}), "services is [], expected dict"),
    (json.dumps({**GOOD, "services": {"db": 7}}), "services.db is 7, expected an object"),
    (json.dumps({**GOOD, "driver": "podman"}), "driver is 'podman'"),
    (json.dumps({**GOOD, "services": {"db": {"pid": -3}}}), "out of range"),
])
def test_a_corrupt_state_file_is_one_line_naming_the_file_and_the_way_out(tmp_path, content, why):
    path = tmp_path / ".e2e" / "state.json"
    path.parent.mkdir()
    path.write_text(content)
    with pytest.raises(StateCorrupt) as info:
        StackState.load(path, tmp_path)
    assert info.value.cause.startswith(".e2e/state.json is corrupt (")
    assert why in info.value.cause
    assert "\n" not in info.value.cause
    assert info.value.hint.startswith("run `invoke stack.down`")


def test_a_good_state_file_round_trips_and_an_old_one_without_stop_signals_loads(tmp_path):
    path = tmp_path / "state.json"
    path.write_text(json.dumps(GOOD))
    old = StackState.load(path)
    assert old.services["db"] == ServiceState(pid=12, started=1.5, port=5432, log="l")
    old.services["db"].stop_signal = "SIGINT"
    old.save(path)
    assert StackState.load(path).services["db"].stop_signal == "SIGINT"
    assert StackState.load(tmp_path / "missing.json") is None
