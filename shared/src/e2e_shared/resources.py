"""The resource watch: each service's RSS, CPU, open descriptors and threads, sampled every second.

A service is its whole process tree: the pid in the stack's state file, its descendants, and
every process of the session it leads (the embedded driver starts each service as a session
leader; PostgreSQL and uvicorn fork children). Figures are sums over that tree. RSS counts
shared pages once per process (PostgreSQL's shared buffers in every backend), so it is a ceiling,
not a footprint; its growth over a run is what matters.

:class:`ResourceWatch` samples in a background thread for a whole run and appends JSON lines to
``<reports>/resources.jsonl`` as it goes (a Ctrl-C'd run keeps what it saw). The file's first
line says whether resources were watched at all (only the embedded driver runs the services
here). :func:`summarize` turns the file into the ``resources`` section of ``summary.json``.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

SAMPLES_FILE = "resources.jsonl"
INTERVAL = 1.0
SERIES_POINTS = 60  # points of each service's chart in summary.json
MB = 1024 * 1024
NOT_EMBEDDED = "resources are watched only on the embedded driver"


@dataclass(frozen=True)
class Usage:
    """One service's figures at one moment: sums over its process tree."""

    pid: int
    procs: int
    rss_mb: float
    fds: int
    threads: int
    cpu: float = 0.0  # percent of one core since the previous sample (0.0 on the first)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rss_mb": round(self.rss_mb, 2), "cpu": round(self.cpu, 1)}


@dataclass
class ProcessTable:
    """Every live pid by session and by parent: one pass over ``/proc`` serves every service."""

    sessions: dict[int, list[int]]
    children: dict[int, list[int]]

    @classmethod
    def read(cls) -> ProcessTable:
        sessions: dict[int, list[int]] = {}
        children: dict[int, list[int]] = {}
        for pid in psutil.pids():
            ids = _parent_and_session(pid)
            if ids is not None:
                children.setdefault(ids[0], []).append(pid)
                sessions.setdefault(ids[1], []).append(pid)
        return cls(sessions, children)

    def family(self, pid: int) -> set[int]:
        """``pid``, its descendants, and the members of the session it leads."""
        found, todo = {pid}, [pid]
        while todo:
            for child in self.children.get(todo.pop(), []):
                if child not in found:
                    found.add(child)
                    todo.append(child)
        return found | set(self.sessions.get(pid, []))


def _parent_and_session(pid: int) -> tuple[int, int] | None:
    """(ppid, sid) of ``pid``: one read of ``/proc/<pid>/stat`` on Linux (a sample reads every
    pid of the machine each second), else psutil; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()  # the name, in parentheses, may hold spaces
        return int(fields[1]), int(fields[3])
    except FileNotFoundError:
        if os.path.isdir("/proc"):
            return None  # gone
    except (OSError, IndexError, ValueError):
        return None
    try:
        return psutil.Process(pid).ppid(), os.getsid(pid)
    except (OSError, psutil.Error):
        return None


def process_tree(pid: int, table: ProcessTable | None = None) -> list[psutil.Process]:
    """``pid``, its descendants and the members of the session it leads (no zombies); empty
    when ``pid`` is gone."""
    if not psutil.pid_exists(pid):
        return []
    table = table or ProcessTable.read()
    live = []
    for member in sorted(table.family(pid)):
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(member)
            if proc.status() != psutil.STATUS_ZOMBIE:
                live.append(proc)
    return live if any(p.pid == pid for p in live) else []


class Meter:
    """Measures process trees; remembers CPU times between calls to give a CPU percentage."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.cpu_seen: dict[str, dict[tuple[int, float], float]] = {}  # service -> process -> seconds
        self.last_at: dict[str, float] = {}

    def measure(self, service: str, pid: int, table: ProcessTable | None = None) -> Usage | None:
        """The service's usage now; None when ``pid`` is gone."""
        procs = process_tree(pid, table)
        if not procs:
            return None
        rss = fds = threads = 0
        cpu_now: dict[tuple[int, float], float] = {}
        for proc in procs:
            try:
                with proc.oneshot():
                    key = (proc.pid, proc.create_time())
                    times = proc.cpu_times()
                    rss += proc.memory_info().rss
                    fds += proc.num_fds()
                    threads += proc.num_threads()
            except psutil.Error:  # exited meanwhile, or not ours to read
                continue
            cpu_now[key] = times.user + times.system
        now = self.clock()
        before, then = self.cpu_seen.get(service), self.last_at.get(service)
        cpu = 0.0
        if before is not None and then is not None and now > then:
            # A process born since the last sample counts from zero; one that ended is lost.
            used = sum(v - before.get(k, 0.0) for k, v in cpu_now.items())
            cpu = max(used, 0.0) / (now - then) * 100
        self.cpu_seen[service], self.last_at[service] = cpu_now, now
        return Usage(pid=pid, procs=len(cpu_now), rss_mb=rss / MB, fds=fds, threads=threads, cpu=cpu)


def services_of(state_file: Path) -> dict[str, tuple[int, float]]:
    """``{service: (pid, started)}`` of a state file; empty when it is missing or unreadable
    (a stack going down, a file being replaced): the watch must never stop a run."""
    from .state import StackState, StateCorrupt

    try:
        state = StackState.load(state_file)
    except (StateCorrupt, OSError):
        return {}
    if state is None or state.driver != "embedded":
        return {}
    return {name: (svc.pid, svc.started) for name, svc in state.services.items() if svc.pid > 0}


def same_process(pid: int, started: float) -> bool:
    """``pid`` is still the process the state file recorded (not a reused pid)."""
    try:
        return not started or abs(psutil.Process(pid).create_time() - started) < 1.0
    except psutil.Error:
        return False


class ResourceWatch:
    """Samples every service of the state file each ``interval`` seconds into ``out`` (JSON lines).

    The state file is read again at each sample: a service killed and restarted by a fault test
    is followed to its new pid. Any error in a sample is skipped over; the run never waits on it.
    """

    def __init__(self, state_file: Path, out: Path, *, run_id: str = "", interval: float = INTERVAL,
                 watched: bool = True, why_not: str = "") -> None:
        self.state_file, self.out, self.run_id, self.interval = state_file, out, run_id, interval
        self.watched, self.why_not = watched, why_not
        self.meter = Meter()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="resource-watch", daemon=True)
        self.samples = 0
        self.errors = 0

    @classmethod
    def for_run(cls, settings: Any, run_id: str, *, interval: float = INTERVAL) -> ResourceWatch:
        """The watch for a run with these settings: a silent one on compose or a remote target."""
        out = settings.reports_dir / SAMPLES_FILE
        if settings.target or settings.profile != "embedded":
            where = f"target {settings.target}" if settings.target else f"the {settings.profile} driver"
            return cls(settings.state_file, out, run_id=run_id, interval=interval, watched=False,
                       why_not=f"{NOT_EMBEDDED}; this run used {where}")
        return cls(settings.state_file, out, run_id=run_id, interval=interval)

    def start(self) -> ResourceWatch:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        header = {"kind": "header", "run_id": self.run_id, "watched": self.watched,
                  "interval": self.interval, "started": time.time()}
        if not self.watched:
            header["why"] = self.why_not
        try:
            self.out.write_text(json.dumps(header) + "\n", encoding="utf-8")  # a new run: a new file
        except OSError:
            return self  # no samples beats a stopped run; the report says none were taken
        if self.watched:
            self.thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        if self.thread.ident is not None:
            self.thread.join(timeout)

    def __enter__(self) -> ResourceWatch:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def sample_once(self) -> list[dict[str, Any]]:
        """One sample of every service, as the lines written."""
        services = services_of(self.state_file)
        table = ProcessTable.read() if services else None
        now = time.time()
        lines = []
        for name, (pid, started) in sorted(services.items()):
            usage = self.meter.measure(name, pid, table) if same_process(pid, started) else None
            if usage is None:
                lines.append({"t": round(now, 3), "service": name, "down": True})
            else:
                lines.append({"t": round(now, 3), "service": name, **usage.as_dict()})
        return lines

    def _loop(self) -> None:
        with self.out.open("a", encoding="utf-8") as handle:
            while not self.stopping.is_set():
                started = time.monotonic()
                try:
                    lines = self.sample_once()
                    handle.write("".join(json.dumps(line) + "\n" for line in lines))
                    handle.flush()  # a run killed next second keeps this sample
                    self.samples += 1
                except Exception:  # noqa: BLE001 - a failed sample must never stop or slow a run
                    self.errors += 1
                # poll: the next sample one interval after this one began, or at once on stop
                self.stopping.wait(max(self.interval - (time.monotonic() - started), 0.05))


# --- the tests' view: the ``resources`` fixture -------------------------------------------------

@dataclass(frozen=True)
class Snapshot:
    """A service's usage as a test sees it."""

    service: str
    pid: int
    procs: int
    rss_mb: float
    fds: int
    threads: int

    def __str__(self) -> str:
        return (f"{self.service} (pid {self.pid}, {self.procs} processes): {self.rss_mb:.1f} MB RSS, "
                f"{self.fds} fds, {self.threads} threads")


class Resources:
    """``snapshot(service)`` now; ``settle(service, ...)`` waits until its descriptors come back."""

    def __init__(self, state_file: Path) -> None:
        self.state_file = state_file
        self.meter = Meter()

    def snapshot(self, service: str) -> Snapshot:
        from . import E2EError

        services = services_of(self.state_file)
        if service not in services:
            known = ", ".join(sorted(services)) or "none"
            raise E2EError(f"no running service {service!r} in {self.state_file.name}",
                           f"services with a process: {known}")
        pid, started = services[service]
        usage = self.meter.measure(service, pid) if same_process(pid, started) else None
        if usage is None:
            raise E2EError(f"service {service!r} (pid {pid}) is not running",
                           f"`invoke stack.status`; `invoke stack.restart {service}`")
        return Snapshot(service, usage.pid, usage.procs, usage.rss_mb, usage.fds, usage.threads)

    def settle(self, service: str, *, fds: int, tolerance: int = 2, timeout: float = 10.0,
               interval: float = 0.2) -> Snapshot:
        """Wait until ``service`` holds at most ``fds + tolerance`` descriptors (connections close
        a moment after their last answer) and return that snapshot; a :class:`WaitTimeout` says
        how many it still held."""
        from .waits import Poll, wait_until

        def settled() -> Poll:
            now = self.snapshot(service)
            return Poll(now.fds <= fds + tolerance, now)

        return wait_until(settled, what=f"{service}'s descriptors back to {fds} (+{tolerance})",
                          timeout=timeout, interval=interval)


# --- the summary ---------------------------------------------------------------------------------

def read_samples(path: Path) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The header and the sample lines of a samples file; a cut-off last line is dropped."""
    header: dict[str, Any] | None = None
    lines: list[dict[str, Any]] = []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None, []
    for raw in text.splitlines():
        try:
            item = json.loads(raw)
        except json.JSONDecodeError:
            continue  # the line being written when the run was killed
        if not isinstance(item, dict):
            continue
        if item.get("kind") == "header":
            header = item
        elif isinstance(item.get("service"), str):
            lines.append(item)
    return header, lines


def _figures(values: list[float], digits: int = 1) -> dict[str, float]:
    return {"first": round(values[0], digits), "peak": round(max(values), digits),
            "last": round(values[-1], digits), "growth": round(values[-1] - values[0], digits)}


def downsample(points: list[tuple[float, float, float]], limit: int = SERIES_POINTS
               ) -> list[list[float]]:
    """At most ``limit`` points ``[seconds, rss_mb, fds]``: each the peak of its slice, so no
    spike is averaged away."""
    if not points:
        return []
    size = max(1, -(-len(points) // limit))
    out = []
    for i in range(0, len(points), size):
        chunk = points[i:i + size]
        out.append([round(chunk[0][0], 1), round(max(p[1] for p in chunk), 1),
                    max(int(p[2]) for p in chunk)])
    return out


def summarize_lines(header: dict[str, Any] | None, lines: Iterable[dict[str, Any]]
                    ) -> dict[str, Any]:
    """The ``resources`` section of summary.json from a samples file's content."""
    if header is not None and not header.get("watched", True):
        return {"watched": False, "why": header.get("why") or NOT_EMBEDDED}
    by_service: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        by_service.setdefault(line["service"], []).append(line)
    t0 = min((float(line["t"]) for group in by_service.values() for line in group), default=0.0)
    services = {}
    for name, group in sorted(by_service.items()):
        up = [s for s in group if not s.get("down") and "rss_mb" in s]
        entry: dict[str, Any] = {"samples": len(up), "down_samples": len(group) - len(up)}
        pids = []
        for s in up:
            if not pids or pids[-1] != s.get("pid"):
                pids.append(s.get("pid"))
        entry["restarts"] = max(len(pids) - 1, 0)
        if up:
            entry["rss_mb"] = _figures([float(s["rss_mb"]) for s in up])
            entry["fds"] = _figures([float(s["fds"]) for s in up], 0)
            entry["threads"] = _figures([float(s["threads"]) for s in up], 0)
            cpu = [float(s.get("cpu", 0.0)) for s in up[1:]] or [0.0]  # the first has no interval
            entry["cpu"] = {"peak": round(max(cpu), 1), "mean": round(sum(cpu) / len(cpu), 1)}
            entry["procs_peak"] = max(int(s.get("procs", 1)) for s in up)
            entry["series"] = downsample([(float(s["t"]) - t0, float(s["rss_mb"]), float(s["fds"]))
                                          for s in up])
        services[name] = entry
    span = max((float(line["t"]) for group in by_service.values() for line in group), default=t0) - t0
    return {"watched": True, "interval": (header or {}).get("interval", INTERVAL),
            "duration": round(span, 1), "services": services}


def summarize(path: Path, run_ids: Iterable[str | None] | None = None) -> dict[str, Any] | None:
    """The ``resources`` section from a samples file; None when there is no file, or (with
    ``run_ids``) when the file is another run's."""
    if not path.is_file():
        return None
    header, lines = read_samples(path)
    if run_ids is not None:  # lazily: the first match ends the search
        own = (header or {}).get("run_id")
        if not own or not any(r == own for r in run_ids):
            return None
    return summarize_lines(header, lines)
