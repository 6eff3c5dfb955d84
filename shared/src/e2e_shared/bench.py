"""Benchmarks, recorded in docs/benchmarks.md (speed targets live here, not in tests)."""

from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path

from .config import Settings, load_settings
from .drivers.embedded import EmbeddedDriver
from .stackdef import parse

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
        "each run starts with no process and no data directory (initdb included). "
        "Target: at most 3 s.", "",
        "| run | seconds |", "| --- | --- |",
        *[f"| {i + 1} | {t:.2f} |" for i, t in enumerate(times)],
        f"| median | {statistics.median(times):.2f} |",
    ])
    path = write_section(settings.root, "stack-up", body)
    print(f"cold up median {statistics.median(times):.2f}s; written to {path}")
    return times
