"""``invoke new.suite NAME``: a suite package, its nox session and its ``[tool.e2e.suites]`` table.

The templates here are the ones docs/adopting.md shows (``shared/tests/test_scaffold.py`` keeps
the two the same), rendered for ``mobile`` there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from . import E2EError

SUITE_PYPROJECT = '''\
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

# The {name} suite as an installable package: its own dependencies, installed by its nox session
# into an environment of its own (with ../shared, the engine, and the product package).
[project]
name = "{name}-e2e"
version = "0.1.0"
description = "The {name} suite."
requires-python = ">=3.11"
dependencies = ["pytest>=8", "requests>=2.31", "e2e-shared"]

[tool.setuptools]
package-dir = {{"{name}_e2e" = "."}}
packages = ["{name}_e2e"]
'''

SUITE_SMOKE_TEST = '''\
"""The {name} suite's first test: the API answers its health check."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.smoke


def test_the_api_answers_its_health_check(api):
    api.get("/health", expect=200)
'''

NOX_SESSION = '''

@nox.session(python=PYTHON, tags=["suites"])
def {name}(session: nox.Session) -> None:
    """Run the {name} suite against the running stack (args go to pytest)."""
    _run_suites(session, "{name}")
'''

SUITE_TABLE = '''
[tool.e2e.suites.{name}]
path = "{name}_e2e"
session = "{name}"
'''


@dataclass
class Written:
    files: list[Path]
    next_step: str


def check_name(name: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name or ""):
        raise E2EError(f"bad suite name {name!r}: lowercase letters, digits and _ only",
                       "e.g. invoke new.suite mobile")
    return name


def new_suite(root: Path, name: str) -> Written:
    """Write ``<name>_e2e/`` and add its session to noxfile.py and its table to pyproject.toml."""
    name = check_name(name)
    folder = root / f"{name}_e2e"
    pyproject, noxfile = root / "pyproject.toml", root / "noxfile.py"
    text = pyproject.read_text(encoding="utf-8")
    if folder.exists() or f"[tool.e2e.suites.{name}]" in text:
        raise E2EError(f"a suite {name!r} exists already ({folder.name}/ or [tool.e2e.suites.{name}])",
                       "choose another name, or remove the old suite first")
    nox_text = noxfile.read_text(encoding="utf-8")
    suites = re.search(r"^SUITES = \{(.*?)\}$", nox_text, re.M)
    if suites is None:
        raise E2EError("noxfile.py has no one-line `SUITES = {...}` table",
                       f'add "{name}": "{name}_e2e" to it and a session by hand (docs/adopting.md)')
    entries = suites.group(1).strip()
    entry = f'"{name}": "{name}_e2e"'
    nox_text = (nox_text[:suites.start()] + f"SUITES = {{{entries}, {entry}}}" if entries else
                nox_text[:suites.start()] + f"SUITES = {{{entry}}}") + nox_text[suites.end():]
    (folder / "smoke").mkdir(parents=True)
    files = {
        folder / "pyproject.toml": SUITE_PYPROJECT.format(name=name),
        folder / "__init__.py": "",
        folder / "smoke" / "__init__.py": "",
        folder / "smoke" / f"test_{name}_answers.py": SUITE_SMOKE_TEST.format(name=name),
    }
    for path, content in files.items():
        path.write_text(content, encoding="utf-8")
    noxfile.write_text(nox_text.rstrip("\n") + "\n" + NOX_SESSION.format(name=name), encoding="utf-8")
    pyproject.write_text(_insert_table(text, SUITE_TABLE.format(name=name)), encoding="utf-8")
    return Written(files=[*files, noxfile, pyproject],
                   next_step=f'add "{name}" to the `suites` of its phases in [tool.e2e.phases], '
                             f"then `invoke stack.up e2e.{name}`")


def _insert_table(text: str, table: str) -> str:
    """``table`` after the last ``[tool.e2e.suites.*]`` table (its keys), else at the end."""
    lines = text.splitlines(keepends=True)
    heads = [i for i, line in enumerate(lines) if line.startswith("[tool.e2e.suites.")]
    if not heads:
        return text.rstrip("\n") + "\n" + table
    end = heads[-1] + 1
    while end < len(lines) and lines[end].strip() and not lines[end].startswith("["):
        end += 1
    block = table.strip("\n") + "\n"
    if end == len(lines):
        return "".join(lines).rstrip("\n") + "\n\n" + block
    return "".join(lines[:end]) + "\n" + block + "".join(lines[end:])
