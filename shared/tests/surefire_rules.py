"""The Maven Surefire 3.0 report rules, written out in code: what each merged ``<testsuite>`` must
satisfy for Jenkins and the other readers that follow Surefire.

Kept in the tests' own words (the schema file itself is not part of the product); the rules are
those of ``surefire-test-report-3.0.xsd``: allowed attributes and children, their order and how
often each may occur, and the time format.
"""

from __future__ import annotations

import re

from lxml import etree

TIME = re.compile(r"(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]{0,3})?")
SUITE_ATTRS = {"version", "name", "time", "tests", "errors", "skipped", "failures", "group"}
SUITE_REQUIRED = {"name", "tests", "errors", "skipped", "failures"}
CASE_ATTRS = {"name", "classname", "group", "time"}
# A testcase's children in the order the schema's sequence wants, with their maximum count.
CASE_CHILDREN = [
    ("failure", None), ("rerunFailure", None), ("flakyFailure", None), ("skipped", 1),
    ("error", 1), ("rerunError", None), ("flakyError", None), ("system-out", 1),
    ("system-err", 1),
]
ATTEMPTS = {"rerunFailure", "flakyFailure", "rerunError", "flakyError"}


def surefire_errors(suite: etree._Element) -> list[str]:
    """Every way ``suite`` breaks the Surefire 3.0 rules; empty when it is valid."""
    errors: list[str] = []
    where = f"testsuite {suite.get('name')!r}"
    if suite.tag != "testsuite":
        return [f"{suite.tag}: not a testsuite"]
    errors += [f"{where}: attribute {a} not allowed" for a in set(suite.attrib) - SUITE_ATTRS]
    errors += [f"{where}: attribute {a} missing" for a in SUITE_REQUIRED - set(suite.attrib)]
    if "time" in suite.attrib and not TIME.fullmatch(suite.get("time", "")):
        errors.append(f"{where}: time {suite.get('time')!r} is not a Surefire time")
    seen_case = False
    for child in suite:
        if child.tag == "properties":
            if seen_case:
                errors.append(f"{where}: <properties> after a <testcase>")
            for prop in child:
                if prop.tag != "property" or set(prop.attrib) != {"name", "value"}:
                    errors.append(f"{where}: bad property {etree.tostring(prop)[:80]!r}")
        elif child.tag == "testcase":
            seen_case = True
            errors += _case_errors(child)
        else:
            errors.append(f"{where}: <{child.tag}> not allowed in a testsuite")
    return errors


def _case_errors(case: etree._Element) -> list[str]:
    where = f"testcase {case.get('classname')}::{case.get('name')}"
    errors = [f"{where}: attribute {a} not allowed" for a in set(case.attrib) - CASE_ATTRS]
    if "name" not in case.attrib:
        errors.append(f"{where}: no name")
    if not TIME.fullmatch(case.get("time", "x")):
        errors.append(f"{where}: time {case.get('time')!r} missing or not a Surefire time")
    order = [tag for tag, _ in CASE_CHILDREN]
    position = 0
    counts: dict[str, int] = {}
    for child in case:
        if child.tag not in order:
            errors.append(f"{where}: <{child.tag}> not allowed")
            continue
        index = order.index(child.tag)
        if index < position:
            errors.append(f"{where}: <{child.tag}> after <{order[position]}>")
        position = max(position, index)
        counts[child.tag] = counts.get(child.tag, 0) + 1
        limit = dict(CASE_CHILDREN)[child.tag]
        if limit is not None and counts[child.tag] > limit:
            errors.append(f"{where}: more than {limit} <{child.tag}>")
        errors += _child_errors(where, child)
    return errors


def _child_errors(where: str, child: etree._Element) -> list[str]:
    tag = child.tag
    if tag in ("system-out", "system-err"):
        return [f"{where}: <{tag}> has attributes or children"] if child.attrib or len(child) else []
    allowed = {"message"} if tag == "skipped" else {"message", "type"}
    errors = [f"{where}: <{tag}> attribute {a} not allowed" for a in set(child.attrib) - allowed]
    if tag != "skipped" and "type" not in child.attrib:
        errors.append(f"{where}: <{tag}> has no type")
    if tag in ATTEMPTS:
        kids = [k.tag for k in child]
        if not kids or kids[0] != "stackTrace":
            errors.append(f"{where}: <{tag}> must start with <stackTrace>")
        rest = kids[1:]
        if rest not in ([], ["system-out"], ["system-err"], ["system-out", "system-err"]):
            errors.append(f"{where}: <{tag}> children {kids} not allowed")
        errors += [f"{where}: <{tag}><{k.tag}> has children" for k in child if len(k)]
    elif len(child):
        errors.append(f"{where}: <{tag}> must hold text only")
    return errors
