"""Nox sessions: one isolated environment per suite, plus the library's unit tests and lint.

A bare ``nox`` runs only the cheap sessions; the suites need a stack (``invoke stack.up``).
"""

from __future__ import annotations

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "unit"]

PYTHON = "3.11"


@nox.session(python=PYTHON)
def unit(session: nox.Session) -> None:
    """Run the fixtures library's unit tests (and its stack round-trip test)."""
    session.install("-e", "./shared[stack,test]")
    session.run("pytest", "shared/tests", *(session.posargs or ["-q"]))


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Lint the workspace with ruff."""
    session.install("ruff")
    session.run("ruff", "check", ".", *session.posargs)
