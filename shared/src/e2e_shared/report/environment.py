"""What a report says about where it ran: commit, driver, endpoints, versions.

Read when the report is written, from the workspace (git), the stack's state file and the
installed packages; each item is optional (a CI merge job has no stack). Passwords in endpoint
URLs are masked; the stack's secret is never read.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PACKAGES = ("e2e-workspace", "e2e-shared", "pytest", "playwright", "pytest-playwright", "junitparser", "nox")
_CI_VARS = {"GITHUB_RUN_ID": "ci run", "GITHUB_REF_NAME": "ci ref", "GITHUB_WORKFLOW": "ci workflow"}


def _git(root: Path, *args: str) -> str:
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""


def _safe_url(url: str) -> str:
    """The URL without the password of its user part."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def collect(root: str | Path | None = None, state_file: str | Path | None = None) -> dict[str, str]:
    """Ordered ``name -> value`` pairs for the report's environment section."""
    root = Path(root or os.environ.get("E2E_ROOT") or Path.cwd())
    env: dict[str, str] = {}
    commit = os.environ.get("GITHUB_SHA") or _git(root, "rev-parse", "HEAD")
    if commit:
        dirty = _git(root, "status", "--porcelain", "--untracked-files=no")
        env["commit"] = commit[:12] + (" (with uncommitted changes)" if dirty else "")
    branch = _git(root, "rev-parse", "--abbrev-ref", "HEAD")
    if branch and branch != "HEAD":
        env["branch"] = branch
    if state_file is None:
        state_dir = Path(os.environ.get("E2E_STATE_DIR") or root / ".e2e")
        state_file = state_dir / "state.json"
    try:
        state = json.loads(Path(state_file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    if isinstance(state, dict) and state:
        env["driver"] = str(state.get("driver", ""))
        if state.get("run_id"):
            env["stack run id"] = str(state["run_id"])
        endpoints = state.get("endpoints") or {}
        for key in sorted(endpoints):
            if key.endswith("_url") and isinstance(endpoints[key], str):
                env[key.removesuffix("_url") + " endpoint"] = _safe_url(endpoints[key])
    for key, label in _CI_VARS.items():
        if os.environ.get(key):
            env[label] = os.environ[key]
    env["python"] = platform.python_version()
    for name in PACKAGES:
        try:
            env[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    env["platform"] = platform.platform(terse=True)
    env["host"] = platform.node()
    return env
