"""Contract traceability: every promise of the product's contract, the tests that guard it, and
how they did.

A contract is a markdown file (``[tool.e2e] contract`` in pyproject, the reference product's
``compose/CONTRACT.md`` here). A promise is any line that carries a stable id written
``{#area.promise}``: the line, id removed, is the promise's text. Tests declare what they guard
with ``@pytest.mark.contract("area.promise", ...)``; the plugin records the ids as the JUnit
property ``contract`` of each test. From the merged ``junit.xml``, :func:`write_report` lists
every promise with its guarding tests and their outcomes, and the promises no test guarded.
:func:`guards_in_sources` finds the markers statically (no stack, no suite installed), so a
unit test can fail when a promise has no guarding test at all.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from . import E2EError

PROMISE_ID = re.compile(r"\{#([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)\}")
ID_SHAPE = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+$")
PROPERTY = "contract"
# The merger moves testcase properties into the testsuite's output (Ant schema) as
# ``===== classname::name =====`` blocks holding ``[[PROPERTY|name=value]]`` lines.
_BLOCK = re.compile(r"^===== (.+) =====$", re.M)
_PROP_LINE = re.compile(r"^\[\[PROPERTY\|contract=(.*)\]\]$", re.M)


@dataclass(frozen=True)
class Promise:
    id: str
    text: str
    line: int


@dataclass
class Guard:
    test: str
    outcome: str  # passed | failed | skipped | flaky


@dataclass
class PromiseStatus:
    promise: Promise
    tests: list[Guard] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``unguarded`` (no test ran for it), ``failed``, ``skipped`` (none ran to the end) or ``passed``."""
        outcomes = {g.outcome for g in self.tests}
        if not outcomes:
            return "unguarded"
        if "failed" in outcomes:
            return "failed"
        if outcomes <= {"skipped"}:
            return "skipped"
        return "passed"

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.promise.id, "text": self.promise.text, "line": self.promise.line,
                "status": self.status, "tests": [g.__dict__ for g in self.tests]}


# --- the contract file ---------------------------------------------------------------------------

def _clean(line: str) -> str:
    text = PROMISE_ID.sub("", line).strip().strip("|").strip()
    text = re.sub(r"\s*\|\s*", " | ", text)  # a table row reads as its cells
    text = re.sub(r"^[-*]\s+|^#+\s+", "", text)
    return re.sub(r"\s+", " ", text)[:300]


def _statement(lines: list[str], index: int) -> str:
    """The whole sentence block an id closes: its table row, list item or paragraph."""
    line = lines[index]
    if line.lstrip().startswith("|"):
        return line
    start = index
    while start > 0 and not lines[start].lstrip().startswith(("- ", "* ")):
        above = lines[start - 1]
        if not above.strip() or above.lstrip().startswith(("|", "#")) or PROMISE_ID.search(above):
            break
        start -= 1
    return " ".join(lines[start:index + 1])


def parse(text: str, source: str = "contract") -> list[Promise]:
    """The promises of a contract text, in file order; a repeated id is an error."""
    promises: list[Promise] = []
    seen: dict[str, int] = {}
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        for found in PROMISE_ID.finditer(line):
            pid = found[1]
            if pid in seen:
                raise E2EError(f"{source}:{number}: promise id {pid!r} already used on line {seen[pid]}",
                               "give each promise its own id")
            seen[pid] = number
            promises.append(Promise(pid, _clean(_statement(lines, number - 1)), number))
    return promises


def load(path: Path) -> list[Promise]:
    """The promises of the contract file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise E2EError(f"cannot read the contract {path}: {exc.strerror}",
                       "set [tool.e2e] contract in pyproject.toml to your contract file") from None
    promises = parse(text, str(path))
    if not promises:
        raise E2EError(f"{path} names no promise", "mark each promise with an id, e.g. {#watchlists.limit}")
    return promises


def contract_path(root: Path | None = None) -> Path | None:
    """The workspace's contract file (``[tool.e2e] contract``), or None when it names none."""
    from .config import find_root, load_tool_config
    try:
        root = root or find_root()
        name = load_tool_config(root).get("contract")
    except (E2EError, OSError):
        return None
    return (root / name) if name else None


# --- which tests guard what ----------------------------------------------------------------------

def marker_ids(args: Iterable[Any]) -> list[str]:
    """The ids of one ``contract`` marker; a malformed id is a usage error."""
    ids = []
    for arg in args:
        if not isinstance(arg, str) or not ID_SHAPE.match(arg):
            raise E2EError(f"contract marker argument {arg!r} is not a promise id",
                           "write ids as in the contract, e.g. contract('watchlists.limit')")
        ids.append(arg)
    return ids


def _contract_calls(tree: ast.AST) -> Iterable[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == PROPERTY and isinstance(node.func.value, ast.Attribute) \
                and node.func.value.attr == "mark":
            yield node


def guards_in_sources(folders: Iterable[Path]) -> dict[str, list[str]]:
    """Promise id -> the files whose tests declare it (``pytest.mark.contract(...)``), read statically."""
    found: dict[str, list[str]] = {}
    for folder in folders:
        for path in sorted(Path(folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for call in _contract_calls(tree):
                for arg in call.args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        files = found.setdefault(arg.value, [])
                        if str(path) not in files:
                            files.append(str(path))
    return found


def unguarded(promises: Iterable[Promise], guarded: Iterable[str]) -> list[str]:
    """Ids of the promises no test declares."""
    have = set(guarded)
    return [p.id for p in promises if p.id not in have]


def unknown(promises: Iterable[Promise], guarded: Iterable[str]) -> list[str]:
    """Ids tests declare that the contract does not have (a typo, or a promise removed)."""
    known = {p.id for p in promises}
    return sorted(set(guarded) - known)


# --- outcomes from the merged junit.xml ---------------------------------------------------------------

def _outcome(tc: etree._Element) -> str:
    tags = {child.tag for child in tc}
    if tags & {"failure", "error"}:
        return "failed"
    if "skipped" in tags:
        return "skipped"
    if tags & {"flakyFailure", "flakyError"}:
        return "flaky"
    return "passed"


def _suite_properties(suite: etree._Element) -> dict[str, list[str]]:
    """Test -> contract ids, from the ``[[PROPERTY|contract=...]]`` blocks of a suite's output."""
    out: dict[str, list[str]] = {}
    for sysout in suite.findall("system-out"):
        text = sysout.text or ""
        heads = list(_BLOCK.finditer(text))
        for i, head in enumerate(heads):
            end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
            for prop in _PROP_LINE.finditer(text, head.end(), end):
                out.setdefault(head[1], []).extend(prop[1].split())
    return out


def guards_in_junit(junit: Path) -> dict[str, list[Guard]]:
    """Promise id -> each test that declared it in this run, with its outcome."""
    tree = etree.parse(str(junit))
    found: dict[str, list[Guard]] = {}
    for suite in tree.iter("testsuite"):
        moved = _suite_properties(suite)
        flaky = {p.get("value") for p in suite.findall("properties/property") if p.get("name") == "flaky"}
        for tc in suite.findall("testcase"):
            classname, name = tc.get("classname", ""), tc.get("name", "")
            test = f"{classname}::{name}" if classname else name
            ids = list(moved.get(test, []))
            ids += [i for p in tc.findall("properties/property") if p.get("name") == PROPERTY
                    for i in (p.get("value") or "").split()]
            # The Surefire form the merge writes: the test's own <system-out> holds its properties.
            ids += [i for out in tc.findall("system-out") for m in _PROP_LINE.finditer(out.text or "")
                    for i in m[1].split()]
            outcome = _outcome(tc)
            if outcome == "passed" and test in flaky:
                outcome = "flaky"
            for pid in dict.fromkeys(ids):
                found.setdefault(pid, []).append(Guard(test, outcome))
    return found


def report(promises: list[Promise], junit: Path, contract_file: str = "") -> dict[str, Any]:
    """Every promise with its guarding tests and their outcome; the unguarded ones; unknown ids."""
    guards = guards_in_junit(junit)
    statuses = [PromiseStatus(p, guards.get(p.id, [])) for p in promises]
    counts = dict.fromkeys(("passed", "failed", "skipped", "unguarded"), 0)
    for s in statuses:
        counts[s.status] = counts.get(s.status, 0) + 1
    return {
        "contract": contract_file,
        "totals": {"promises": len(statuses), **counts},
        "unguarded": [s.promise.id for s in statuses if s.status == "unguarded"],
        "unknown_ids": unknown(promises, guards),
        "promises": [s.as_dict() for s in statuses],
    }


STATUS_MARK = {"passed": "✅", "failed": "❌", "skipped": "⏭️", "unguarded": "🚫"}


def render_markdown(rep: dict[str, Any]) -> str:
    """The contract section of summary.md: totals, the unguarded and failed promises, then all."""
    totals = rep["totals"]
    parts = [f"{totals.get(k, 0)} {k}" for k in ("passed", "failed", "skipped", "unguarded") if totals.get(k)]
    out = ["", "## Contract", "",
           f"{totals['promises']} promises in `{rep['contract']}`: {', '.join(parts) or 'none'}.", ""]
    if rep["unguarded"]:
        out += ["**No test guarded:** " + ", ".join(f"`{i}`" for i in rep["unguarded"]), ""]
    if rep["unknown_ids"]:
        out += ["**Ids tests declare that the contract lacks:** "
                + ", ".join(f"`{i}`" for i in rep["unknown_ids"]), ""]
    out += ["| promise | status | tests |", "| --- | --- | --- |"]
    for p in rep["promises"]:
        n = len(p["tests"])
        failed = [g["test"] for g in p["tests"] if g["outcome"] == "failed"]
        detail = f"{n} ({len(failed)} failed: {', '.join(failed[:3])})" if failed else str(n)
        out.append(f"| `{p['id']}` | {STATUS_MARK.get(p['status'], '')} {p['status']} | {detail} |")
    return "\n".join(out) + "\n"


def write_report(out_dir: Path, contract_file: Path | None = None,
                 step_summary: Path | None = None) -> dict[str, Any] | None:
    """After a merge: ``contract.json``, a section appended to ``summary.md`` (and the step
    summary), and the list under ``"contract"`` in ``summary.json``. None without a contract."""
    contract_file = contract_file or contract_path()
    junit = out_dir / "junit.xml"
    if contract_file is None or not contract_file.is_file() or not junit.is_file():
        return None
    rep = report(load(contract_file), junit, contract_file.name)
    (out_dir / "contract.json").write_text(json.dumps(rep, indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    section = render_markdown(rep)
    for md in (out_dir / "summary.md", step_summary):
        if md is not None:
            with md.open("a", encoding="utf-8") as f:
                f.write(section)
    summary = out_dir / "summary.json"
    if summary.is_file():
        data = json.loads(summary.read_text(encoding="utf-8"))
        data["contract"] = {"totals": rep["totals"], "unguarded": rep["unguarded"],
                            "promises": [{"id": p["id"], "status": p["status"], "tests": p["tests"]}
                                         for p in rep["promises"]]}
        summary.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return rep


def after_merge(out_dir: Path, root: Path | None = None) -> str | None:
    """What a merge entry point calls last: writes the contract report (also into
    ``$GITHUB_STEP_SUMMARY`` when set) and returns its one console line, or None without a contract."""
    import os
    step = os.environ.get("GITHUB_STEP_SUMMARY")
    try:
        rep = write_report(Path(out_dir), contract_path(root), Path(step) if step else None)
    except E2EError as exc:
        return f"contract: {exc}"
    if rep is None:
        return None
    t = rep["totals"]
    line = (f"contract: {t['promises']} promises, {t.get('passed', 0)} passed, {t.get('failed', 0)} failed, "
            f"{t.get('unguarded', 0)} unguarded")
    if rep["unguarded"]:
        line += f" ({', '.join(rep['unguarded'][:8])}{', ...' if len(rep['unguarded']) > 8 else ''})"
    return line
