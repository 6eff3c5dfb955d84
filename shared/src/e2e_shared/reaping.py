"""Stopping what this workspace started, from the state file and by marker, without its config.

``stack.down`` must work when ``state.json`` is missing, truncated or wrong (the processes are
found by their ``E2E_OWNER`` marker, see :mod:`.ownership`), and when ``[tool.e2e]`` cannot be
parsed (each service's stop signal is in the state file and in its environment). Nothing is
signalled without proof that it is ours now (:class:`.procs.Proof`), and a data directory is
never removed while a process still holds it.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable, Iterable
from pathlib import Path

from . import procs
from .ownership import JOB, RUN_ID_ENV, SERVICE, Owned, group_heads, holders, owned_processes, owner_id
from .procs import Proof
from .state import ServiceState, StackState, StateCorrupt, locked
from .waits import WaitTimeout, wait_until

Echo = Callable[[str], None]
GONE = "it is gone"


def load_tolerant(state_file: Path, root: Path | None) -> tuple[StackState | None, StateCorrupt | None]:
    """The state, or (None, the reason) when the file is corrupt."""
    try:
        return StackState.load(state_file, root), None
    except StateCorrupt as exc:
        return None, exc


def to_signal(name: str, default: signal.Signals = signal.SIGTERM) -> signal.Signals:
    return signal.Signals[name] if name in signal.Signals.__members__ else default


def proof_of(st: ServiceState, owner: str, root: Path | None = None) -> Proof:
    """The proof for a recorded service. An entry without a stop signal was written before
    services carried markers: for it, a cwd or command line in the workspace stands in."""
    legacy = () if st.stop_signal else tuple(str(p) for p in (owner, root) if p)
    return Proof(owner=owner, started=st.started, legacy=legacy)


def why_not_ours(st: ServiceState, owner: str, root: Path | None = None) -> str | None:
    """None when the recorded service still runs and is ours; else why not (or :data:`GONE`)."""
    if not st.pid:
        return GONE
    return proof_of(st, owner, root).fails(st.pid)


def stop_recorded(name: str, st: ServiceState, owner: str, sig: signal.Signals, echo: Echo,
                  grace: float = 5.0, root: Path | None = None) -> bool:
    """Stop one service named in the state file, if it is still ours; True when it was stopped."""
    why = why_not_ours(st, owner, root)
    proof = proof_of(st, owner, root)
    if why is None:
        clean = procs.stop_group(st.pid, proof=proof, sig=sig, grace=grace, leader_only=True)
        echo(f"{name}: stopped (pid {st.pid})" + ("" if clean else "; some processes resisted SIGKILL"))
        return True
    if why == GONE:
        if st.pid and procs.marked_leftovers(st.pid, owner):
            procs.stop_group(st.pid, proof=proof, grace=1.0)  # the leader died; its children hold on
            echo(f"{name}: cleaned up leftovers of pid {st.pid}")
            return True
        echo(f"{name}: was not running")
        return False
    echo(f"{name}: pid {st.pid} is no longer ours ({why}); forgotten")
    return False


def stop_owned(o: Owned, owner: str, *, grace: float = 5.0) -> bool:
    """Stop a process found by its marker (its whole group when it leads one); True when gone."""
    proof = Proof(owner=owner, started=o.create_time)
    if o.kind == "service":
        sig, leader_only = to_signal(o.stop_signal), True
    else:  # a suite run: nox, pytest, browsers all get it, so each can write what it has
        sig, leader_only = signal.SIGTERM, False
    if o.leads_group:
        return procs.stop_group(o.pid, proof=proof, sig=sig, grace=grace, leader_only=leader_only)
    # A member whose leader is gone (or not ours): only this proven process, never the group.
    if procs.signal_proven(o.pid, sig, proof=proof):
        try:
            wait_until(lambda: not procs.is_alive(o.pid, o.create_time), what=f"pid {o.pid} to stop",
                       timeout=grace, interval=0.05)
        except WaitTimeout:
            procs.signal_proven(o.pid, signal.SIGKILL, proof=proof)
    return not procs.is_alive(o.pid, o.create_time)


def reap_jobs(owner: str, echo: Echo, *, live_too: bool) -> list[Owned]:
    """Stop suite runs of this workspace whose ``invoke`` is gone (and, with ``live_too``, those of
    a live run as well). One line each; returns what was stopped."""
    stopped = []
    mine = os.environ.get(RUN_ID_ENV, "")  # a suite that brings the stack up or down itself
    for o in group_heads(owned_processes(owner, JOB)):
        if o.pgid == os.getpgid(0) or (mine and o.run_id == mine):
            continue  # the run this command is part of
        live = o.run_live()
        if live and not live_too:
            continue
        run = f"run {o.run_id}" if o.run_id else "an unknown run"
        whose = (f"of the live {run} (invoke pid {o.run_pid})" if live
                 else f"left by {run} whose invoke (pid {o.run_pid or '?'}) is gone")
        ok = stop_owned(o, owner, grace=3.0)
        echo(f"suite run {o.name} (pid {o.pid}) {whose}: "
             + ("stopped" if ok else "stop sent; some processes resisted"))
        stopped.append(o)
    return stopped


def stray_services(owner: str, known: Iterable[int]) -> list[Owned]:
    """Services carrying our marker that the state file does not name (its group leaders)."""
    known = set(known)
    found = owned_processes(owner, SERVICE)
    return [o for o in group_heads(found) if o.pid not in known and o.pgid not in known]


def reap_services(owner: str, known: Iterable[int], echo: Echo, *, why: str,
                  then: str = "") -> list[Owned]:
    """Stop services of ours the state file does not (validly) name; one line each."""
    out = []
    for o in stray_services(owner, known):
        ok = stop_owned(o, owner)
        echo(f"{o.name}: found running by its marker (pid {o.pid}, stack {o.stack_id or '?'}) "
             f"{why}; " + (f"stopped{then}" if ok else "stop sent; some processes resisted"))
        out.append(o)
    return out


def remove_data(state_dir: Path, echo: Echo) -> bool:
    """Remove ``state_dir/data`` unless a live process of ours, or any process, still holds it."""
    data = state_dir / "data"
    if not data.exists():
        return False
    ours = owned_processes(owner_id(state_dir))
    held = [f"pid {o.pid} ({o.role or o.cmdline[:40]})" for o in ours] or holders(data)
    if held:
        echo(f"kept {data}: still in use by {', '.join(held[:3])}"
             + (f" and {len(held) - 3} more" if len(held) > 3 else ""))
        return False
    shutil.rmtree(data, ignore_errors=True)
    echo(f"removed {data}")
    return True


def _wait_ports_free(ports: Iterable[int], echo: Echo) -> None:
    for port in filter(None, ports):
        try:
            wait_until(lambda p=port: not procs.port_in_use(p), what=f"port {port} to be free",
                       timeout=5.0)
        except WaitTimeout:
            echo(f"port {port} is still held by {procs.port_holder(port)} after the stop")


def teardown(state_dir: Path, root: Path | None, *, keep: bool, echo: Echo,
             order: list[str] | None = None,
             signals: dict[str, signal.Signals] | None = None) -> None:
    """Stop every suite run and service of the stack in ``state_dir``; remove data unless ``keep``.

    ``order`` (the stack's start order) and ``signals`` come from the stack definition when it
    could be read; without them the state file and the markers are enough.
    """
    owner = owner_id(state_dir)
    state_file = state_dir / "state.json"
    with locked(state_dir):
        state, corrupt = load_tolerant(state_file, root)
        if corrupt is not None:
            echo(f"{corrupt.cause}; finding what this workspace started by its marker")
        did = bool(reap_jobs(owner, echo, live_too=True))
        known: list[int] = []
        ports: list[int] = []
        if state is not None:
            names = [n for n in reversed(order or []) if n in state.services]
            names += [n for n in reversed(state.services) if n not in names]
            for name in names:
                st = state.services[name]
                sig = to_signal(st.stop_signal, (signals or {}).get(name, signal.SIGTERM))
                known.append(st.pid)
                if stop_recorded(name, st, owner, sig, echo, root=root):
                    ports += [st.port, st.internal_port]
                did = True
        why = "but the state file is corrupt" if corrupt else "but not in the state file"
        did = bool(reap_services(owner, known, echo, why=why)) or did
        _wait_ports_free(ports, echo)
        if not did:
            echo("no stack is up in this workspace; nothing to stop")
        state_file.unlink(missing_ok=True)
        if not keep:
            remove_data(state_dir, echo)


def prepare_up(state_dir: Path, root: Path | None, echo: Echo) -> StackState | None:
    """Before ``stack.up`` reuses a stack: stop suite runs a killed run left, and services that are
    ours but not (validly) recorded; forget recorded pids that are no longer ours.

    Orphaned services are stopped and started again rather than adopted: their ports and secret
    cannot be trusted without the state file. Call with the state lock held.
    """
    owner = owner_id(state_dir)
    state_file = state_dir / "state.json"
    state, corrupt = load_tolerant(state_file, root)
    if corrupt is not None:
        echo(f"{corrupt.cause}; stopping what it named (found by marker) and starting afresh")
    reap_jobs(owner, echo, live_too=False)
    known: list[int] = []
    if state is not None:
        for name, st in state.services.items():
            why = why_not_ours(st, owner, root)
            if why is None:
                known.append(st.pid)
            elif why != GONE:
                echo(f"{name}: pid {st.pid} is no longer ours ({why}); forgotten")
                st.pid, st.started = 0, 0.0  # keeps its port: its dependents were configured with it
    why = "but the state file is corrupt" if corrupt else "but not in the state file"
    reap_services(owner, known, echo, why=why, then=" (not adopted: what is asked for starts afresh)")
    if corrupt is not None:
        state_file.unlink(missing_ok=True)
    return state
