"""The embedded driver: every service is a local process in its own process group.

No Docker engine needed. State lives in ``.e2e/``: ``state.json``, ``logs/<service>.log`` and
``data/<service>/``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from .. import E2EError, checks, procs, reaping
from ..config import Endpoints, Settings
from ..ownership import (
    JOB,
    carries,
    group_heads,
    owned_processes,
    owner_id,
    service_markers,
    without_markers,
)
from ..signals import shielded
from ..stackdef import ServiceDef, StackDef, render, template_context
from ..state import ServiceState, StackState, locked
from ..toxiproxy import PROXY_SERVICE, ToxiproxyClient
from ..waits import Poll, WaitTimeout, tail, wait_until
from .base import Echo, ServiceStatus, StackDriver


class EmbeddedDriver(StackDriver):
    name = "embedded"

    def __init__(self, settings: Settings, stack: StackDef) -> None:
        super().__init__(settings, stack)
        # The children this driver object started, by service: proof enough to stop one.
        self._spawned: dict[str, subprocess.Popen[bytes]] = {}

    # --- paths -----------------------------------------------------------------------
    @property
    def state_dir(self) -> Path:
        return self.settings.state_dir

    def log_path(self, service: str) -> str:
        self.stack.get(service)
        return str(self.state_dir / "logs" / f"{service}.log")

    def data_dir(self, service: str) -> Path:
        return self.state_dir / "data" / service

    @property
    def owner(self) -> str:
        """This stack's ``E2E_OWNER`` marker: its resolved state directory."""
        return owner_id(self.state_dir)

    def _check_driver(self, state: StackState | None) -> StackState | None:
        if state and state.driver != self.name:
            raise E2EError(f"a {state.driver} stack is up in this workspace",
                           f"run `invoke stack.down --driver {state.driver}` first")
        return state

    def _load(self) -> StackState | None:
        """The state; a corrupt file raises :class:`StateCorrupt` (one line, with the way out)."""
        return self._check_driver(StackState.load(self.settings.state_file, self.settings.root))

    def _alive(self, st: ServiceState | None) -> bool:
        """Running and provably ours: same create time and our marker, not merely the same pid."""
        return bool(st) and reaping.why_not_ours(st, self.owner, self.settings.root) is None

    def _proof(self, st: ServiceState) -> procs.Proof:
        return reaping.proof_of(st, self.owner, self.settings.root)

    # --- readiness ---------------------------------------------------------------------
    def _check(self, svc: ServiceDef, port: int) -> Poll:
        if svc.ready == "sql":
            return checks.sql_ready(port)
        if svc.ready == "s3":
            return checks.s3_ready(port)
        if svc.ready == "http":
            return checks.http_ready(port, svc.ready_path)
        if svc.ready == "tcp":
            return checks.tcp_ready(port)
        if svc.ready == "redis":
            return checks.redis_ready(port)
        ports, own = self._current_ports(), self._own_ports()
        argv = render(list(svc.ready_command), self._ctx(ports, svc, own=own.get(svc.name)))
        return checks.command_ready(argv, env=self._env(svc, ports, own=own.get(svc.name)))

    def _ready_now(self, svc: ServiceDef, port: int) -> bool:
        try:
            return self._check(svc, port).ok
        except checks.transient_errors():
            return False
        except Exception:  # a status probe must never crash `stack.status`
            return False

    def _wait_ready(self, svc: ServiceDef, st: ServiceState, proc_poll=None) -> None:
        def alive() -> bool:
            if proc_poll is not None and proc_poll() is not None:
                return False
            return procs.is_alive(st.pid)

        try:
            wait_until(lambda: self._check(svc, st.port), what=f"{svc.name} to be ready "
                       f"({svc.ready} check on port {st.port})", timeout=svc.ready_timeout,
                       interval=0.05, log=st.log, alive=alive,
                       transient=checks.transient_errors())
        except WaitTimeout as exc:
            code = proc_poll() if proc_poll is not None else None
            if code is not None:
                lines = "\n".join(tail(st.log, 20))
                raise E2EError(f"service {svc.name} exited with code {code} during start; "
                               f"last lines of {st.log}:\n{lines}",
                               "fix the cause above, then run `invoke stack.up` again") from None
            raise E2EError(str(exc), f"see `invoke stack.logs {svc.name}`") from None
        if not carries(st.pid, self.owner):
            # Without its marker the service could never be proven ours again: stack.down would
            # leave it running. Servers that rewrite their process title (Redis) overwrite the
            # environment block where the marker lives.
            raise E2EError(f"service {svc.name} (pid {st.pid}) overwrote its environment, so the "
                           "workspace cannot prove later that it started it",
                           "stop it from rewriting its process title (redis-server: "
                           "--set-proc-title no), then run `invoke stack.up` again")
        if svc.init:
            checks.INIT[svc.init](st.port, self.stack.endpoints)

    # --- templates and environment ------------------------------------------------------
    def _current_ports(self) -> dict[str, int]:
        state, _corrupt = reaping.load_tolerant(self.settings.state_file, self.settings.root)
        return {k: v.port for k, v in (state.services if state else {}).items()}

    def _own_ports(self) -> dict[str, int]:
        state, _corrupt = reaping.load_tolerant(self.settings.state_file, self.settings.root)
        return {k: v.own_port for k, v in (state.services if state else {}).items()}

    def _python(self, svc: ServiceDef, host_python: str = "") -> str:
        if svc.runtime == "sut":
            from ..sutenv import sut_python

            return str(sut_python(self.settings))
        return host_python or sys.executable

    def _ctx(self, ports: dict[str, int], svc: ServiceDef, secret: str = "", host_python: str = "",
             own: int | None = None) -> dict:
        """``{NAME.port}`` is what clients use (the proxy's listener for a proxied service);
        ``{port}``, the service's own port, is ``own`` when it is behind the proxy."""
        return template_context(
            ports, port=own or ports.get(svc.name, 0), python=self._python(svc, host_python),
            data=str(self.data_dir(svc.name)), root=str(self.settings.root),
            state_dir=str(self.state_dir), secret=secret,
        )

    def _env(self, svc: ServiceDef, ports: dict[str, int], secret: str = "",
             own: int | None = None) -> dict[str, str]:
        env = without_markers(dict(os.environ))  # started from a suite, it must not pose as the suite
        env["PYTHONUNBUFFERED"] = "1"
        ctx = self._ctx(ports, svc, secret, own=own)
        env.update({k: str(render(v, ctx)) for k, v in svc.env.items()})
        return env

    def _choose_port(self, svc: ServiceDef, wanted: int | None, echo: Echo, fixed: bool) -> int:
        if svc.port is None:
            return 0
        if wanted and procs.port_bindable(wanted) and not procs.port_in_use(wanted):
            return wanted
        if wanted:
            holder = procs.port_holder(wanted)
            if fixed:
                raise E2EError(f"port {wanted} of {svc.name} is held by {holder}",
                               "stop that process or run `invoke stack.down` and `stack.up` again")
            port = procs.free_port()
            echo(f"{svc.name}: port {wanted} is held by {holder}; using {port} instead")
            return port
        return procs.free_port()

    def _internal_port(self, wanted: int) -> int:
        """A proxied service's own port: the one it had, else any free one (clients never see it:
        the proxy's route follows it)."""
        if wanted and procs.port_bindable(wanted) and not procs.port_in_use(wanted):
            return wanted
        return procs.free_port()

    # --- the fault proxy's routes ----------------------------------------------------------
    def proxy_client(self, state: StackState | None = None) -> ToxiproxyClient:
        state = state or self._load()
        st = state.services.get(PROXY_SERVICE) if state else None
        if st is None or not st.port:
            raise E2EError(f"the {PROXY_SERVICE} service is not running", "run `invoke stack.up` first")
        return ToxiproxyClient(f"http://127.0.0.1:{st.port}")

    def _register_routes(self, state: StackState, names: list[str]) -> None:
        """Point the proxy's listener for each service at the service's own port."""
        routes = [{"name": n, "listen": f"127.0.0.1:{state.services[n].port}",
                   "upstream": f"127.0.0.1:{state.services[n].internal_port}", "enabled": True}
                  for n in names if n in state.services and state.services[n].internal_port]
        if routes:
            self.proxy_client(state).populate(routes)

    # --- lifecycle -------------------------------------------------------------------------
    def _clean_stale(self, state: StackState, echo: Echo) -> StackState | None:
        """A state file none of whose processes lives was left by a killed run: clean it."""
        if any(self._alive(s) for s in state.services.values()):
            return state
        echo("found the state of a stack whose processes are gone (a killed run?); cleaning it up")
        for st in state.services.values():
            if st.pid and procs.marked_leftovers(st.pid, self.owner):
                procs.stop_group(st.pid, proof=self._proof(st), grace=1.0)
        reaping.remove_data(self.state_dir, echo=lambda _m: None)
        self.settings.state_file.unlink(missing_ok=True)
        return None

    def up(self, services: list[str] | None = None, *, echo: Echo = print) -> Endpoints:
        waves = self.stack.waves(services)
        with locked(self.state_dir):
            # Leftover suite runs of a killed run, orphaned services and stale pids first.
            state = self._check_driver(reaping.prepare_up(self.state_dir, self.settings.root, echo))
            if state is not None:
                state = self._clean_stale(state, echo)
            state = state or StackState(driver=self.name, run_id=uuid.uuid4().hex[:12],
                                        secret=secrets.token_hex(24), host_python=sys.executable)
            names = [n for wave in waves for n in wave]
            to_start = [n for n in names if not self._alive(state.services.get(n))]
            if any(self.stack.services[n].runtime == "sut" for n in to_start):
                from ..sutenv import ensure_sut_env

                ensure_sut_env(self.settings, echo=echo)
            started: list[str] = []
            try:
                for wave in waves:
                    self._start_wave([n for n in wave if n in to_start], state, started, echo)
                    # Already-running services are reused when they answer their check.
                    for n in wave:
                        svc, st = self.stack.services[n], state.services.get(n)
                        if n in to_start or self._ready_now(svc, st.port):
                            continue
                        if self._alive(st):
                            self._wait_ready(svc, st)
                        else:  # it died since we looked
                            self._start_wave([n], state, started, echo)
            except BaseException:
                # Ctrl-C or a failed start: leave nothing behind that this call started; all at
                # once (Ctrl-C should end the command within seconds), and a second Ctrl-C waits.
                with shielded(), ThreadPoolExecutor(max_workers=max(len(started), 1)) as pool:
                    for n in reversed(started):
                        st = state.services.pop(n)
                        # The child we hold is ours even if it lost its marker (see _wait_ready).
                        proof = replace(self._proof(st), popen=self._spawned.get(n))
                        pool.submit(procs.stop_group, st.pid, proof=proof,
                                    sig=self.stack.services[n].signal, grace=3.0, leader_only=True)
                if state.services:
                    state.save(self.settings.state_file)
                else:
                    self.settings.state_file.unlink(missing_ok=True)
                raise
            state.endpoints = self._render_endpoints(state)
            state.save(self.settings.state_file)
            if not to_start:
                echo(f"stack already up ({', '.join(names)}); reused")
            return Endpoints.from_mapping(state.endpoints)

    def _start_wave(self, wave: list[str], state: StackState, started: list[str],
                    echo: Echo) -> None:
        if not wave:
            return
        popens = {}
        for name in wave:
            svc = self.stack.services[name]
            previous = state.services.get(name)
            internal = 0
            if svc.proxy and previous and previous.port:
                # The proxy holds its public port: keep it; only its own port may change.
                port, internal = previous.port, self._internal_port(previous.internal_port)
            else:
                # A service that ran before keeps its port: its dependents were configured with it.
                port = self._choose_port(svc, previous.port if previous else svc.port, echo,
                                         fixed=bool(previous and previous.port))
                if svc.proxy:
                    internal = self._internal_port(0)
            state.services[name] = ServiceState(port=port, log=self.log_path(name),
                                                stop_signal=svc.stop_signal, internal_port=internal)
        # The route exists before the service starts: its readiness is checked through the proxy.
        self._register_routes(state, [n for n in wave if self.stack.services[n].proxy])
        ports = {k: v.port for k, v in state.services.items()}
        for name in wave:
            svc = self.stack.services[name]
            st = state.services[name]
            argv = render(list(svc.command), self._ctx(ports, svc, state.secret, state.host_python,
                                                       own=st.internal_port))
            env = self._env(svc, ports, state.secret, own=st.internal_port)
            env.update(service_markers(self.owner, name, state.run_id, svc.stop_signal))
            _require_program(svc, argv[0], env)
            # Servers such as redis-server refuse a {data} folder that does not exist yet.
            self.data_dir(name).mkdir(parents=True, exist_ok=True)
            proc = procs.spawn(argv, log=Path(st.log), env=env, cwd=self.settings.root)
            st.pid = proc.pid
            st.started = procs.create_time(proc.pid) or time.time()
            popens[name] = proc
            self._spawned[name] = proc
            started.append(name)
            via = f" through {PROXY_SERVICE}, own port {st.internal_port}" if st.internal_port else ""
            echo(f"{name}: starting (pid {proc.pid}, port {st.port}{via})")
        state.save(self.settings.state_file)  # a Ctrl-C from here on is cleaned by the next up
        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=len(wave)) as pool:
            futures = {n: pool.submit(self._wait_ready, self.stack.services[n], state.services[n],
                                      popens[n].poll) for n in wave}
            errors = []
            for name, fut in futures.items():
                try:
                    fut.result()
                    echo(f"{name}: ready in {time.monotonic() - t0:.2f}s")
                except E2EError as exc:
                    errors.append(exc)
            if errors:
                raise errors[0]
        if PROXY_SERVICE in wave:  # a (re)started proxy knows no routes: give it every one
            self._register_routes(state, [n for n in state.services
                                          if n in self.stack.services and self.stack.services[n].proxy])

    def _render_endpoints(self, state: StackState) -> dict:
        ports = {k: v.port for k, v in state.services.items()}
        ctx = template_context(ports)
        out = {}
        for key, value in self.stack.endpoints.items():
            try:
                out[key] = render(value, ctx)
            except E2EError:
                continue  # an endpoint of a service that is not part of this stack
        return out

    def down(self, *, keep: bool = False, echo: Echo = print) -> None:
        state, _corrupt = reaping.load_tolerant(self.settings.state_file, self.settings.root)
        self._check_driver(state)
        order = [n for wave in self.stack.waves() for n in wave]
        signals = {n: svc.signal for n, svc in self.stack.services.items()}
        reaping.teardown(self.state_dir, self.settings.root, keep=keep, echo=echo, order=order,
                         signals=signals)

    def status(self) -> list[ServiceStatus]:
        state, _corrupt = reaping.load_tolerant(self.settings.state_file, self.settings.root)
        self._check_driver(state)
        now = time.time()
        found = {name: state.services.get(name) if state else None for name in self.stack.services}
        alive = {name: st is not None and self._alive(st) for name, st in found.items()}
        # Ours by marker but not (validly) recorded: shown, so status never says "not started"
        # about a process that runs.
        strays = {o.name: o for o in reaping.stray_services(
            self.owner, [st.pid for name, st in found.items() if st is not None and alive[name]])}
        # The probes run at once: every test run and every fault test's restore asks for them.
        with ThreadPoolExecutor(max_workers=len(found) or 1) as pool:
            ready = {name: pool.submit(self._ready_now, self.stack.services[name], st.port)
                     for name, st in found.items() if st is not None and alive[name]}
        rows = []
        for name, st in found.items():
            if st is not None and alive[name]:
                rows.append(ServiceStatus(name, "running", st.pid, st.port, now - st.started,
                                          ready[name].result(), internal_port=st.internal_port or None))
            elif name in strays:
                o = strays[name]
                rows.append(ServiceStatus(name, "orphaned", o.pid, None, now - o.create_time, False,
                                          "found by its marker, not in the state file"))
            elif st is None:
                rows.append(ServiceStatus(name, "not started", None, None, None, False))
            else:
                rows.append(ServiceStatus(name, "down", None, st.port, None, False,
                                          internal_port=st.internal_port or None))
        return rows

    def findings(self) -> list[str]:
        """What ``stack.status`` says under its table: a corrupt state file, stale pids, orphaned
        services and suite runs of this workspace. One line each; empty when all is in order."""
        state, corrupt = reaping.load_tolerant(self.settings.state_file, self.settings.root)
        lines = [f"error: {corrupt.cause}"] if corrupt else []
        known = []
        for name, st in (state.services.items() if state else []):
            why = reaping.why_not_ours(st, self.owner, self.settings.root)
            if why is None:
                known.append(st.pid)
            elif why != reaping.GONE:
                lines.append(f"{name}: pid {st.pid} in the state file is no longer ours ({why})")
        for o in reaping.stray_services(self.owner, known):
            lines.append(f"{o.name}: running as pid {o.pid} (found by its marker) but "
                         + ("the state file is corrupt" if corrupt else "not in the state file"))
        for o in group_heads(owned_processes(self.owner, JOB)):
            run = (f"of the live run {o.run_id} (invoke pid {o.run_pid})" if o.run_live()
                   else f"left by run {o.run_id or '?'} whose invoke is gone")
            lines.append(f"suite run {o.name}: running as pid {o.pid}, {run}")
        if lines:
            lines.append("next: run `invoke stack.down` to stop what this workspace started"
                         + (" and clear the state file" if corrupt else ""))
        return lines

    def check_state(self) -> None:
        """Raise :class:`StateCorrupt` (one line, with the way out) when the state file is corrupt."""
        self._load()

    def dead_services(self) -> list[str]:
        state, _corrupt = reaping.load_tolerant(self.settings.state_file, self.settings.root)
        if state is None:
            return []
        return [name for name, st in state.services.items() if not self._alive(st)]

    def endpoints(self) -> Endpoints:
        state = self._load()
        return Endpoints.from_mapping(state.endpoints if state else {}).with_env()

    # --- single services -------------------------------------------------------------
    def _service_state(self, service: str) -> tuple[ServiceDef, StackState, ServiceState]:
        svc = self.stack.get(service)
        state = self._load()
        if state is None or service not in state.services:
            raise E2EError(f"service {service} is not part of a running stack",
                           "run `invoke stack.up` first")
        return svc, state, state.services[service]

    def stop(self, service: str) -> None:
        with locked(self.state_dir):
            svc, _state, st = self._service_state(service)
            if self._alive(st):
                procs.stop_group(st.pid, proof=self._proof(st), sig=svc.signal, grace=5.0,
                                 leader_only=True)
            own = st.own_port  # behind the proxy, the public port stays held by the proxy
            if own and procs.port_in_use(own) and not procs.group_members(st.pid):
                raise E2EError(f"port {own} of {service} is held by {procs.port_holder(own)}, "
                               "a process this stack did not start",
                               f"stop that process, or `invoke stack.down` then `invoke stack.up` "
                               f"to give {service} a free port")
            wait_until(lambda: not own or not procs.port_in_use(own),
                       what=f"port {own} of {service} to be free", timeout=5.0, log=st.log)

    def kill(self, service: str) -> None:
        with locked(self.state_dir):
            _svc, _state, st = self._service_state(service)
            if self._alive(st):
                procs.kill_group(st.pid, proof=self._proof(st))
                # Every process of the group (postgres backends too) must be gone before a restart.
                wait_until(lambda: not procs.group_members(st.pid),
                           what=f"{service} (pid {st.pid}) to be gone", timeout=5.0, log=st.log)

    def start(self, service: str, *, echo: Echo = print) -> None:
        with locked(self.state_dir):
            svc, state, st = self._service_state(service)
            if self._alive(st):
                if not self._ready_now(svc, st.port):
                    self._wait_ready(svc, st)
                return
            started: list[str] = []
            try:
                self._start_wave([service], state, started, echo)
            except BaseException:
                if started:  # do not leave a half-started service behind
                    st = state.services[service]
                    procs.stop_group(st.pid, proof=self._proof(st), sig=svc.signal, grace=3.0,
                                     leader_only=True)
                raise
            finally:
                state.save(self.settings.state_file)


def _require_program(svc: ServiceDef, program: str, env: dict[str, str]) -> None:
    """A service whose program is not installed: one line and how to install it, not a traceback."""
    if shutil.which(program, path=env.get("PATH")) is None:
        hint = svc.install_hint or (f"install {program}, or change [tool.e2e.services.{svc.name}] "
                                    "command")
        raise E2EError(f"service {svc.name}: {program!r} is not installed (not found on PATH)", hint)

