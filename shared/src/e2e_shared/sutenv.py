"""The system under test's own environment: ``.e2e/venv``, never a suite's.

Built with uv from ``[tool.e2e] sut_project`` (the product's app package) and rebuilt
only when that project's pyproject changes.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from . import E2EError
from .config import Settings
from .drivers.base import Echo


def sut_project(settings: Settings) -> Path:
    if not settings.tool.get("sut_project"):
        raise E2EError("a service has runtime = \"sut\" but [tool.e2e] names no sut_project",
                       "set [tool.e2e] sut_project to your app's folder (the one with its pyproject.toml)")
    return settings.root / settings.tool["sut_project"]


def sut_venv(settings: Settings) -> Path:
    # Shared by every state directory of the workspace (tests and benchmarks use their own).
    return settings.root / ".e2e" / "venv"


def sut_python(settings: Settings) -> Path:
    return sut_venv(settings) / "bin" / "python"


def _fingerprint(project: Path) -> str:
    return hashlib.sha256((project / "pyproject.toml").read_bytes()).hexdigest()[:16]


def _uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def ensure_sut_env(settings: Settings, *, echo: Echo = print) -> Path:
    """Create or refresh the SUT environment; return its interpreter."""
    project = sut_project(settings)
    if not (project / "pyproject.toml").is_file():
        raise E2EError(f"the system under test's project {project} has no pyproject.toml",
                       "set [tool.e2e] sut_project to your app's folder")
    venv = sut_venv(settings)
    marker = venv / ".e2e-fingerprint"
    want = _fingerprint(project)
    if sut_python(settings).exists() and marker.is_file() and marker.read_text() == want:
        return sut_python(settings)
    echo(f"building the system under test's environment in {venv} (uv) ...")
    steps = [
        [*_uv(), "venv", "--quiet", "--allow-existing", "--python", sys.executable, str(venv)],
        [*_uv(), "pip", "install", "--quiet", "--python", str(sut_python(settings)),
         "-e", str(project)],
    ]
    for argv in steps:
        proc = subprocess.run(argv, capture_output=True, text=True)
        if proc.returncode != 0:
            out = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
            raise E2EError(f"`{' '.join(argv)}` failed (exit {proc.returncode}):\n" + "\n".join(out),
                           "check the package index is reachable and the project installs")
    marker.write_text(want)
    return sut_python(settings)
