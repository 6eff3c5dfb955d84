"""The notes suite's session: the engine, the product package and pytest, in an env of its own."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"


@nox.session
def notes(session: nox.Session) -> None:
    """Run the notes suite against the running stack (args go to pytest)."""
    session.install("-e", "./shared", "-e", "./product", "pytest")
    session.run("pytest", "notes_e2e", *session.posargs)
