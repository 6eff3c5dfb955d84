"""Synthetic pytest-style JUnit files for the merger's tests and its benchmark."""

from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lxml import etree

from .merge import merge

# Which suites each phase runs (DESIGN.md, "Phases"), in running order.
PHASE_SUITES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("health", ("backend",)),
    ("smoke", ("backend", "frontend", "pipeline")),
    ("flows", ("backend", "frontend", "pipeline")),
    ("integrity", ("backend", "pipeline")),
    ("resilience", ("backend", "pipeline")),
)
COMBOS = tuple((phase, suite) for phase, suites in PHASE_SUITES for suite in suites)
BASE_TIME = datetime(2025, 1, 6, 9, 0, 0, tzinfo=UTC)


def _suite_element(root: etree._Element, start: datetime, hostname: str) -> etree._Element:
    return etree.SubElement(
        root, "testsuite", name="pytest", errors="0", failures="0", skipped="0", tests="0",
        time="0", timestamp=start.isoformat(), hostname=hostname,
    )


def _finish(suite_el: etree._Element, path: Path) -> None:
    """Fill in pytest's own counts (which the merger ignores) and write the file."""
    tests = failures = errors = skipped = 0
    took = 0.0
    for tc in suite_el:
        tests += 1
        took += float(tc.get("time", "0"))
        tag = tc[0].tag if len(tc) and tc[0].tag != "properties" else ""
        failures += tag == "failure"
        errors += tag == "error"
        skipped += tag == "skipped"
    suite_el.attrib.update(
        {"tests": str(tests), "failures": str(failures), "errors": str(errors),
         "skipped": str(skipped), "time": f"{took:.3f}"}
    )
    path.write_bytes(etree.tostring(suite_el.getroottree(), xml_declaration=True,
                                    encoding="utf-8"))


def _failure(tc: etree._Element, rng: random.Random, k: int, attempt: str) -> None:
    if rng.random() < 0.2:
        el = etree.SubElement(tc, "error", message=f'failed on setup with "TimeoutError: {k}"')
        el.text = (
            f"fixture stack\n>   raise TimeoutError({k})\nE   TimeoutError\n\n"
            "conftest.py:7: TimeoutError"
        )
    else:
        el = etree.SubElement(tc, "failure", message=f"AssertionError: expected {k}, got {k + 1}")
        el.text = (
            f"def test_case_{k}():\n>       assert got == {k}\nE       AssertionError: "
            f"expected {k}, got {k + 1} ({attempt})\n\ntest_mod.py:{k % 300}: AssertionError"
        )
    etree.SubElement(tc, "system-out").text = f"step 1\nstep 2 <{attempt}>\n"
    etree.SubElement(tc, "system-err").text = "api.log tail:\n" + "".join(
        f"2025-01-06 09:00:{i:02d} INFO request {k}-{i} & done\n" for i in range(5)
    )


def generate_cases(
    junit_dir: str | Path,
    n_cases: int,
    n_files: int,
    fail_ratio: float = 0.02,
    seed: int = 0,
    *,
    skip_ratio: float = 0.02,
    flaky_share: float = 0.5,
) -> list[Path]:
    """Write ``n_cases`` test cases spread over ``n_files`` pytest-style JUnit files.

    Files go round the phase x suite pairs of DESIGN.md; a pair that gets more than one file
    is sharded (``<phase>-<suite>-shard<k>.xml``). About ``fail_ratio`` of the cases fail or
    error (with captured output; frontend failures attach a trace) and are rerun into
    ``<name>.rerun.xml``, where ``flaky_share`` of them pass. Every 20th case records a property.
    Returns the paths written, first attempts then reruns.
    """
    rng = random.Random(seed)
    junit_dir = Path(junit_dir)
    junit_dir.mkdir(parents=True, exist_ok=True)
    per_combo = [0] * len(COMBOS)
    for i in range(n_files):
        per_combo[i % len(COMBOS)] += 1
    written: list[Path] = []
    reruns: list[Path] = []
    k = 0
    for i in range(n_files):
        index = i % len(COMBOS)
        phase, suite = COMBOS[index]
        shard = i // len(COMBOS) + 1
        stem = f"{phase}-{suite}" + (f"-shard{shard}" if per_combo[index] > 1 else "")
        phase_no = [p for p, _ in PHASE_SUITES].index(phase)
        start = BASE_TIME + timedelta(minutes=10 * phase_no, seconds=rng.uniform(0, 5))
        root = etree.Element("testsuites", name="pytest tests")
        suite_el = _suite_element(root, start, f"ci-{shard}")
        rerun_root = etree.Element("testsuites", name="pytest tests")
        rerun_el = _suite_element(rerun_root, start + timedelta(minutes=5), f"ci-{shard}")
        count = n_cases // n_files + (1 if i < n_cases % n_files else 0)
        for _ in range(count):
            k += 1
            name = f"test_case_{k}" + (f"[p{k % 3}]" if k % 7 == 0 else "")
            attrs = {"classname": f"{suite}_e2e.{phase}.test_mod{k % 40}", "name": name,
                     "time": f"{rng.expovariate(20):.3f}"}
            tc = etree.SubElement(suite_el, "testcase", attrs)
            if k % 20 == 0:
                props = etree.SubElement(tc, "properties")
                etree.SubElement(props, "property", name="request_id", value=f"req-{k}")
            roll = rng.random()
            if roll < fail_ratio:
                _failure(tc, rng, k, "first attempt")
                if suite == "frontend":
                    props = tc.find("properties")
                    if props is None:
                        props = etree.Element("properties")
                        tc.insert(0, props)
                    etree.SubElement(props, "property", name="attachment",
                                     value=f"reports/artifacts/{name}/trace.zip")
                again = etree.SubElement(rerun_el, "testcase", attrs)
                if rng.random() >= flaky_share:
                    _failure(again, rng, k, "rerun")
            elif roll < fail_ratio + skip_ratio:
                skip = etree.SubElement(tc, "skipped", type="pytest.skip", message="not on CI")
                skip.text = f"test_mod.py:{k % 300}: not on CI"
        path = junit_dir / f"{stem}.xml"
        _finish(suite_el, path)
        written.append(path)
        if len(rerun_el):
            rerun_path = junit_dir / f"{stem}.rerun.xml"
            _finish(rerun_el, rerun_path)
            reruns.append(rerun_path)
    return written + reruns


def bench_merge(n: int = 100_000, n_files: int = 15, fail_ratio: float = 0.01) -> float:
    """Seconds :func:`merge` takes over ``n`` generated cases (generation not counted)."""
    with tempfile.TemporaryDirectory(prefix="e2e-report-bench-") as tmp:
        junit_dir = Path(tmp) / "junit"
        generate_cases(junit_dir, n, n_files, fail_ratio, seed=1)
        started = time.perf_counter()
        merge(junit_dir, Path(tmp) / "out", step_summary=None)
        return time.perf_counter() - started
