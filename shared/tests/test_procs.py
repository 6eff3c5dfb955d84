from __future__ import annotations

import os
import signal
import sys
import textwrap

import psutil

from e2e_shared import procs
from e2e_shared.waits import wait_until

# A parent that starts a grandchild and ignores SIGTERM, like a badly behaved service.
STUBBORN = textwrap.dedent("""
    import signal, subprocess, sys
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen([sys.executable, "-c", "import signal; signal.pause()"])
    print(child.pid, flush=True)
    while True:
        signal.pause()  # idle like a server; SIGTERM is ignored, only SIGKILL ends it
""")


def _child_pid(log) -> int:
    pids = wait_until(lambda: [x for x in log.read_text().splitlines() if x.isdigit()],
                      what="grandchild pid", timeout=10)
    return int(pids[0])


def test_stop_group_kills_grandchildren_of_a_process_that_ignores_sigterm(tmp_path):
    log = tmp_path / "svc.log"
    proc = procs.spawn([sys.executable, "-c", STUBBORN], log=log)
    grandchild = _child_pid(log)
    assert procs.stop_group(proc.pid, proof=procs.Proof(popen=proc), sig=signal.SIGTERM, grace=0.5)
    proc.wait(timeout=5)
    assert not psutil.pid_exists(grandchild) or psutil.Process(grandchild).status() == "zombie"
    assert procs.group_members(proc.pid) == []


def test_spawned_processes_lead_their_own_group(tmp_path):
    proc = procs.spawn([sys.executable, "-c", "import signal; signal.pause()"], log=tmp_path / "l")
    try:
        import os

        assert os.getpgid(proc.pid) == proc.pid != os.getpgid(0)
    finally:
        procs.kill_group(proc.pid, proof=procs.Proof(popen=proc))
        proc.wait(timeout=5)


def test_a_reused_pid_is_not_taken_for_ours():
    import os

    me = os.getpid()
    assert procs.is_alive(me, procs.create_time(me))
    assert not procs.is_alive(me, procs.create_time(me) - 100)


def test_port_holder_names_the_listening_process():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert procs.port_in_use(port)
        assert not procs.port_bindable(port)
        assert procs.port_holder(port).startswith(f"pid {os.getpid()} (")
    assert not procs.port_in_use(port)


def test_a_killed_child_is_reaped_at_once_not_left_a_zombie(tmp_path):
    proc = procs.spawn([sys.executable, "-c", "import signal; signal.pause()"], log=tmp_path / "l")
    os.kill(proc.pid, signal.SIGKILL)
    wait_until(lambda: not psutil.pid_exists(proc.pid), what="the killed child to be reaped", timeout=5)
    assert proc.poll() == -signal.SIGKILL
