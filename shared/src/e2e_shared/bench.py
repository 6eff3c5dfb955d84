"""Benchmarks, recorded in docs/benchmarks.md (speed targets live here, not in tests)."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

from . import E2EError
from .config import Settings, find_root, load_settings
from .drivers.embedded import EmbeddedDriver
from .stackdef import parse
from .state import StackState

BEGIN = "<!-- bench:{name}:begin -->"
END = "<!-- bench:{name}:end -->"


def write_section(root: Path, name: str, body: str) -> Path:
    """Replace (or append) the named section of docs/benchmarks.md, keeping the others."""
    path = root / "docs" / "benchmarks.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    begin, end = BEGIN.format(name=name), END.format(name=name)
    block = f"{begin}\n{body.rstrip()}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def machine() -> str:
    return f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def isolated_driver(settings: Settings) -> EmbeddedDriver:
    """An embedded driver with its own state directory and free ports: a running stack is untouched."""
    tool = dict(settings.tool)
    tool["state_dir"] = str(settings.state_dir / "bench")
    tool["services"] = {k: dict(v, port=0) if "port" in v else v for k, v in tool["services"].items()}
    isolated = Settings(root=settings.root, tool=tool, profile="embedded")
    return EmbeddedDriver(isolated, parse(tool))


def bench_stack_up(runs: int = 3, services: list[str] | None = None) -> list[float]:
    """Time cold ``stack.up`` (no process running, no data) to ready, ``runs`` times."""
    settings = load_settings(profile="embedded")
    driver = isolated_driver(settings)
    wanted = services or ["db", "objects"]
    times = []
    for i in range(runs):
        t0 = time.perf_counter()
        driver.up(wanted, echo=lambda _m: None)
        times.append(time.perf_counter() - t0)
        t1 = time.perf_counter()
        driver.up(wanted, echo=lambda _m: None)
        reuse = time.perf_counter() - t1
        driver.down(echo=lambda _m: None)
        print(f"run {i + 1}: cold up {times[-1]:.2f}s, reuse {reuse:.2f}s")
    body = "\n".join([
        f"## Cold `stack.up` to ready ({' + '.join(wanted)})", "",
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}, embedded driver, {runs} runs; "
        "each run starts with no process and no data directory (initdb included), in-process "
        "(the `invoke` CLI adds about 0.4 s of interpreter start). "
        + ("Target: at most 3 s." if wanted == ["db", "objects"] else
           "The system under test's environment (.e2e/venv) was already built."), "",
        "| run | seconds |", "| --- | --- |",
        *[f"| {i + 1} | {t:.2f} |" for i, t in enumerate(times)],
        f"| median | {statistics.median(times):.2f} |",
    ])
    path = write_section(settings.root, "stack-up" if wanted == ["db", "objects"] else "stack-up-all", body)
    print(f"cold up median {statistics.median(times):.2f}s; written to {path}")
    return times


def proxy_cost(get_direct, get_proxied, requests_each: int = 300) -> dict[str, float]:
    """Median seconds per request directly and through the fault proxy, interleaved (one direct,
    one proxied, ...) so that the machine's load falls on both alike; and their ratio."""
    direct, proxied = [], []
    for _ in range(requests_each):
        for get, out in ((get_direct, direct), (get_proxied, proxied)):
            t0 = time.perf_counter()
            get()
            out.append(time.perf_counter() - t0)
    d, p = statistics.median(direct), statistics.median(proxied)
    return {"direct": d, "proxied": p, "ratio": p / d if d else float("nan")}


def bench_proxy(requests_each: int = 300, service: str = "api", path: str = "/health",
                also: tuple[str, ...] = ()) -> dict[str, float]:
    """The fault proxy's cost on a request: ``service`` (proxy = true) asked directly on its own
    port and through the proxy, in one run of an isolated stack (``service`` and ``also``, with
    what they depend on); written to docs/benchmarks.md."""
    import requests

    settings = load_settings(profile="embedded")
    driver = isolated_driver(settings)
    quiet = lambda _m: None  # noqa: E731
    driver.up([service, *also], echo=quiet)
    try:
        st = StackState.load(driver.settings.state_file).services[service]
        sessions = {"direct": requests.Session(), "proxied": requests.Session()}  # keep-alive, as the suites
        urls = {"direct": f"http://127.0.0.1:{st.internal_port}{path}",
                "proxied": f"http://127.0.0.1:{st.port}{path}"}

        def getter(kind: str):
            return lambda: sessions[kind].get(urls[kind], timeout=10).raise_for_status()

        for kind in urls:  # warm both paths (connections, the app's first-request work)
            for _ in range(10):
                getter(kind)()
        out = proxy_cost(getter("direct"), getter("proxied"), requests_each)
    finally:
        driver.down(echo=quiet)
    body = "\n".join([
        f"## The fault proxy's cost on a request (`GET {path}` of {service})", "",
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}, embedded driver (`invoke bench`): "
        f"{requests_each} requests straight to the service's own port and {requests_each} through "
        "the fault proxy (`e2e_shared.services.faultproxy`, no toxic), interleaved, each path on "
        "one keep-alive session; medians.", "",
        "| path | median ms per request |", "| --- | --- |",
        f"| direct (own port) | {out['direct'] * 1000:.2f} |",
        f"| through the proxy | {out['proxied'] * 1000:.2f} |",
        f"| ratio | {out['ratio']:.2f}x (+{(out['proxied'] - out['direct']) * 1000:.2f} ms) |",
    ])
    path_md = write_section(settings.root, "proxy", body)
    print(f"proxy: direct {out['direct'] * 1000:.2f} ms, proxied {out['proxied'] * 1000:.2f} ms, "
          f"ratio {out['ratio']:.2f}; written to {path_md}")
    return out


def critical_path(jobs: list, order: list[str], needs: dict[str, tuple[str, ...]],
                  parallel: dict[str, bool]) -> float:
    """The shortest possible wall time of the phases: the longest chain of phase durations.

    A phase lasts as long as its slowest suite when its suites run at once, else their sum.
    """
    span: dict[str, float] = {}
    for phase in order:
        runs = [j.duration for j in jobs if j.phase.name == phase]
        if not runs:
            continue
        span[phase] = max(runs) if parallel[phase] else sum(runs)
    finish: dict[str, float] = {}
    for phase in order:
        if phase in span:
            finish[phase] = max((finish.get(n, 0.0) for n in needs[phase]), default=0.0) + span[phase]
    return max(finish.values(), default=0.0)


def browser_launch_seconds() -> float | None:
    """Time to launch and close the system Chromium through Playwright, when both are there."""
    try:
        from playwright.sync_api import sync_playwright

        from .browser import find_chromium, launch_args

        exe = find_chromium(install=None)
    except Exception:
        return None
    with sync_playwright() as p:
        t0 = time.perf_counter()
        browser = p.chromium.launch(**launch_args(exe))
        took = time.perf_counter() - t0
        browser.close()
    return took


def bench_merge_section(root: Path) -> float:
    from .report import bench_merge

    took = bench_merge(100_000)
    write_section(root, "merge", "\n".join([
        "## Merging 100,000 test cases", "",
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}: `report.merge` of 100,000 generated "
        "cases in 15 files (1% failing, half of those flaky with a rerun file), junitparser for "
        f"reading and writing with lxml in the hot path: **{took:.2f} s** (target: at most 3 s).",
    ]))
    print(f"merge of 100,000 cases: {took:.2f}s")
    return took


def bench_e2e() -> dict[str, float]:
    """Time `stack.up` + `e2e.all` on a stack of its own, against the sequential sum and critical path."""
    from .orchestrate import run_e2e_detailed
    from .phases import load as load_phases
    from .runner import Options

    base = load_settings(profile="embedded")
    os.environ["E2E_STATE_DIR"] = str(base.root / ".e2e" / "bench-e2e")  # a stack of its own
    settings = load_settings(profile="embedded")
    driver = isolated_driver(settings)
    driver.settings = settings
    t0 = time.perf_counter()
    driver.up(echo=lambda _m: None)
    t_up = time.perf_counter() - t0
    try:
        outcome = run_e2e_detailed(options=Options())
    finally:
        driver.down(echo=lambda _m: None)
        os.environ.pop("E2E_STATE_DIR", None)
    model = load_phases(settings.tool)
    order = model.order()
    crit = critical_path(outcome.jobs, order, {p: model.phases[p].needs for p in order},
                         {p: model.phases[p].parallel for p in order})
    sequential = sum(j.duration for j in outcome.jobs)
    phases_wall = outcome.timings["phases"]
    wall = t_up + outcome.timings["total"]
    launch = browser_launch_seconds()
    merge100k = bench_merge_section(settings.root)
    rows = [
        ("`stack.up` + `e2e.all`, wall time", wall, "at most 120 s"),
        ("the phases alone (scheduler wall time)", phases_wall, ""),
        ("every phase x suite one after another (sum of their run times)", sequential, ""),
        ("critical path of the phases", crit, ""),
        ("phases wall time / critical path", phases_wall / crit if crit else 0.0, "at most 1.15"),
        ("fixed overhead: `stack.up` (cold, SUT env already built)", t_up, ""),
        ("fixed overhead: suite environments (`nox --install-only`, reused)",
         outcome.timings.get("environments", 0.0), ""),
        ("fixed overhead: `data.seed`", outcome.timings.get("seed", 0.0), ""),
        ("fixed overhead: merge of this run's reports", outcome.timings.get("merge", 0.0), ""),
        ("fixed overhead: Chromium launch", launch if launch is not None else float("nan"), ""),
        ("merge of 100,000 generated test cases", merge100k, "at most 3 s"),
    ]
    jobs = sorted(outcome.jobs, key=lambda j: -j.duration)
    body = "\n".join([
        "## `e2e.all` end to end", "",
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}, every figure from one run "
        f"(`invoke bench --e2e`; verdict: exit {outcome.code}, {outcome.merge.totals.passed} passed, "
        f"{outcome.merge.totals.failed + outcome.merge.totals.errored} failed, "
        f"{outcome.merge.totals.flaky} flaky).", "",
        "| figure | value | target |", "| --- | --- | --- |",
        *[f"| {name} | {value:.2f}{'' if 'critical path' in name and '/' in name else ' s'} | {target} |"
          for name, value, target in rows],
        "", "Each phase x suite run:", "", "| run | status | seconds |", "| --- | --- | --- |",
        *[f"| {j.label} | {j.status} | {j.duration:.1f} |" for j in jobs],
    ])
    write_section(settings.root, "e2e", body)
    print(body)
    return {"wall": wall, "critical_path": crit, "sequential": sequential, "merge100k": merge100k}


def run_in_suite_env(session: str, module: str, *args: str, root: Path | None = None) -> None:
    """Run ``python -m module args`` in a suite's own nox environment (a browser benchmark needs
    the suite's dependencies, which the host's environment does not have); built first if missing."""
    root = root or find_root()
    python = root / ".nox" / session / "bin" / "python"
    if not python.exists():
        subprocess.run(["nox", "-s", session, "--install-only"], cwd=root, check=True)
    proc = subprocess.run([str(python), "-m", module, *args], cwd=root)
    if proc.returncode:
        raise E2EError(f"{module} failed (exit {proc.returncode})", "see its output above")
