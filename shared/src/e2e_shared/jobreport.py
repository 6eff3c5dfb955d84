"""The JUnit file of a job that did not run to its end: every test in it, one by one.

A job cut off by Ctrl-C, SIGTERM or its timeout, one that stopped before its first test, and one
that never started (its phase was not run) all still report every test they were to run: the
tests pytest finished keep their results, the test that was running (or, when none was, the first
one not run) carries an error naming how far the job got, and each other test is skipped with the
root cause. So the same commit always reports the same number of tests, and a partial file is
never read as a clean pass.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

SKIP_TYPE = "e2e.not-run"
# Written by the plugin's jobwatch into every suite JUnit file of a phase run.
RUN_ID_PROPERTY = "e2e.run_id"
EXIT_PROPERTY = "e2e.exit"
# The error type of a job that did not finish, by how it ended.
ERROR_TYPES = {"interrupted": "e2e.interrupted", "timed out": "e2e.timeout", "errored": "e2e.run-error"}


def split_nodeid(test: str, fallback_classname: str) -> tuple[str, str]:
    """pytest's node id ``pkg/mod.py::Class::test`` as its JUnit ``(classname, name)``."""
    if "::" not in test:
        return fallback_classname, test
    path, *rest = test.split("::")
    module = path.removesuffix(".py").replace("/", ".").replace("\\", ".")
    return ".".join([module, *rest[:-1]]), rest[-1]


def read_manifest(path: Path) -> dict[str, list[str]] | None:
    """``{nodeid: [markers]}`` as the plugin wrote it at collection, or None."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def tests_for(manifest: dict[str, list[str]] | None, marker: str,
              shard: tuple[int, int] | None = None) -> list[str]:
    """The node ids a job selects by its phase's marker; a shard takes every n-th of them.

    Sharded runs balance by recorded durations, which a job that never ran cannot know; every
    n-th test still gives each shard a disjoint part, so the shards add up to the whole suite.
    """
    tests = [t for t, markers in (manifest or {}).items() if marker in markers]
    if shard:
        index, total = shard
        tests = [t for i, t in enumerate(sorted(tests)) if i % total == index - 1]
    return tests


def contract_ids(manifest: dict[str, list[str]] | None) -> dict[str, str]:
    """Node id -> the contract promises it guards (space-separated), from the manifest."""
    out = {}
    for test, markers in (manifest or {}).items():
        ids = [m.removeprefix("contract:") for m in markers if m.startswith("contract:")]
        if ids:
            out[test] = " ".join(ids)
    return out


def read_selected(progress: Path) -> list[str] | None:
    try:
        data = json.loads(Path(str(progress) + ".selected").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, list) else None


def read_running(progress: Path) -> str:
    try:
        return progress.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


@dataclass
class Partial:
    """What pytest wrote before it stopped: its testsuite element and the tests it finished."""

    suite: etree._Element | None
    done: set[tuple[str, str]]
    exit_status: str | None
    run_id: str | None


def read_partial(path: Path) -> Partial:
    try:
        root = etree.parse(str(path), etree.XMLParser(huge_tree=True)).getroot()
    except (OSError, etree.XMLSyntaxError):
        return Partial(None, set(), None, None)
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        return Partial(None, set(), None, None)
    for tc in list(suite.iter("testcase")):
        # pytest cut off by Ctrl-C leaves a case with no name for the test it was running.
        if not tc.get("name"):
            tc.getparent().remove(tc)
    done = {(tc.get("classname", ""), tc.get("name", "")) for tc in suite.iter("testcase")}
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    return Partial(suite, done, props.get(EXIT_PROPERTY), props.get(RUN_ID_PROPERTY))


def is_complete(path: Path) -> bool:
    """A pytest JUnit file that says the session finished (not Ctrl-C'd, exit status not 2)."""
    partial = read_partial(path)
    return partial.suite is not None and partial.exit_status not in (None, "2")


def _new_suite(name: str) -> etree._Element:
    suite = etree.Element("testsuite", name=name)
    suite.set("timestamp", datetime.now(UTC).isoformat(timespec="seconds"))
    suite.set("hostname", socket.gethostname() or "localhost")
    return suite


def _set_property(suite: etree._Element, name: str, value: str) -> None:
    props = suite.find("properties")
    if props is None:
        props = etree.Element("properties")
        suite.insert(0, props)
    for prop in props.findall("property"):
        if prop.get("name") == name:
            prop.set("value", value)
            return
    etree.SubElement(props, "property", name=name, value=value)


def _recount(suite: etree._Element) -> None:
    cases = list(suite.iter("testcase"))
    suite.set("tests", str(len(cases)))
    for attr, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
        suite.set(attr, str(sum(1 for tc in cases if tc.find(tag) is not None)))
    suite.set("time", suite.get("time") or "0")


def complete(path: Path, phase: str, suite_name: str, *, tests: Iterable[str], running: str = "",
             status: str | None = None, message: str = "", skip_reason: str = "",
             run_id: str = "", contract: dict[str, str] | None = None) -> Path:
    """Rewrite ``path`` so that it holds every one of ``tests``.

    ``status`` (``interrupted``, ``timed out``, ``errored``) puts an error of that kind, with
    ``message``, on the test that was running, else on the first test not run, else on a case
    named after the job. Every other test not in the file is skipped with ``skip_reason``.
    ``contract`` (node id -> promise ids) keeps a test's promises on it, as the plugin would.
    """
    contract = contract or {}

    def add_case(test: str) -> etree._Element:
        classname, case_name = split_nodeid(test, name)
        case = etree.SubElement(suite, "testcase", classname=classname, name=case_name, time="0")
        if test in contract:
            props = etree.SubElement(case, "properties")
            etree.SubElement(props, "property", name="contract", value=contract[test])
        return case

    name = f"{phase}-{suite_name}"
    partial = read_partial(path)
    suite = partial.suite if partial.suite is not None else _new_suite(name)
    suite.set("name", suite.get("name") or name)
    missing = [t for t in dict.fromkeys(tests) if split_nodeid(t, name) not in partial.done]
    if status:
        target = running if running in missing else (missing[0] if missing else "")
        case = add_case(target) if target else etree.SubElement(
            suite, "testcase", classname=name, name=name, time="0")
        etree.SubElement(case, "error", message=message, type=ERROR_TYPES.get(status, status)).text = message
        missing = [t for t in missing if t != target]
        _set_property(suite, "e2e.job", status)
    for test in missing:
        case = add_case(test)
        etree.SubElement(case, "skipped", message=skip_reason, type=SKIP_TYPE)
    if not status and not partial.done and not missing:  # nothing known: one case for the job
        case = etree.SubElement(suite, "testcase", classname=name, name=name, time="0")
        etree.SubElement(case, "skipped", message=skip_reason, type=SKIP_TYPE)
    _set_property(suite, "phase", phase)
    _set_property(suite, "suite", suite_name)
    if skip_reason and not partial.done:
        _set_property(suite, "skipped", skip_reason)
    if run_id:
        _set_property(suite, RUN_ID_PROPERTY, run_id)
    _recount(suite)
    root = etree.Element("testsuites")
    root.append(suite)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    etree.ElementTree(root).write(str(tmp), xml_declaration=True, encoding="utf-8", pretty_print=True)
    os.replace(tmp, path)
    return path


def run_id_of(path: Path) -> str | None:
    """The run id a JUnit file carries (written by the plugin or by :func:`complete`)."""
    return read_partial(path).run_id
