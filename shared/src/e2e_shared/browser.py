"""Find a Chromium to drive: ``$E2E_CHROMIUM``, then a system Chromium/Chrome, then Playwright's own.

Playwright's browser download cannot work on machines without internet access, so a system
Chromium (Debian: ``apt-get install chromium``) is preferred and launched by path.

``tab_state``/``save_tab_states`` ask an open tab how it is (title, visibility, focus, element
count, animation frames) for a failed test's artifacts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import E2EError

ENV_VAR = "E2E_CHROMIUM"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
SYSTEM_NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"]
SYSTEM_PATHS = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome",
                "/usr/bin/google-chrome-stable", "/snap/bin/chromium",
                "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
                "/Applications/Chromium.app/Contents/MacOS/Chromium"]
FIX = ("install one: `apt-get install -y chromium` (Debian/Ubuntu), or `playwright install chromium` "
       f"where downloads work, or set {ENV_VAR} to a Chromium/Chrome executable")


def _executable(path: str | Path) -> bool:
    p = Path(path)
    return p.is_file() and os.access(p, os.X_OK)


def playwright_chromium() -> str | None:
    """The path of Playwright's own Chromium when it is installed, else None."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as p:
            path = p.chromium.executable_path
    except Exception:
        return None
    return path if path and _executable(path) else None


def _install_playwright_chromium() -> tuple[bool, str]:
    try:
        proc = subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"],
                              capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    last = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or [""]
    return proc.returncode == 0, last[0]


def find_chromium(*, environ: dict[str, str] | None = None,
                  which: Callable[[str], str | None] = shutil.which,
                  paths: list[str] | None = None,
                  bundled: Callable[[], str | None] = playwright_chromium,
                  install: Callable[[], tuple[bool, str]] | None = _install_playwright_chromium) -> str:
    """The Chromium executable to launch; raises with everything tried and the fix."""
    env = os.environ if environ is None else environ
    tried: list[str] = []
    override = env.get(ENV_VAR)
    if override:
        if _executable(override):
            return override
        tried.append(f"${ENV_VAR}={override} (not an executable file)")
    for name in SYSTEM_NAMES:
        found = which(name)
        if found and _executable(found):
            return found
    tried.append(f"PATH names {', '.join(SYSTEM_NAMES)}")
    for path in paths if paths is not None else SYSTEM_PATHS:
        if _executable(path):
            return path
    tried.append("the usual install paths")
    found = bundled()
    if found:
        return found
    tried.append("Playwright's own Chromium (not installed)")
    if install is not None:
        ok, detail = install()
        found = bundled() if ok else None
        if found:
            return found
        tried.append(f"`playwright install chromium` ({detail or 'failed'})")
    raise E2EError(f"no Chromium found; tried {'; '.join(tried)}", FIX)


def launch_args(executable: str) -> dict[str, object]:
    """Keyword arguments for ``browser_type.launch``."""
    return {"executable_path": executable, "args": list(LAUNCH_ARGS), "headless": True}


# A click that times out has two causes a screenshot cannot tell apart: the app never rendered
# (few elements, the document's own title) or the tab got no animation frames (Playwright's
# "stable" check waits for two). This asks the tab for both; polled by timer, not by frame, and
# bounded, so a hung or throttled tab still answers or is named.
TAB_STATE = """() => {
  const s = window.__e2eTabState || (window.__e2eTabState = (() => {
    const st = {frames: [], t0: performance.now()};
    const step = () => { st.frames.push(Math.round(performance.now() - st.t0));
                         if (st.frames.length < 3) requestAnimationFrame(step); };
    requestAnimationFrame(step);
    return st;
  })());
  const waited = performance.now() - s.t0;
  if (s.frames.length < 3 && waited < 2500) return false;
  return {url: location.href, title: document.title, visibility: document.visibilityState,
          focused: document.hasFocus(), ready_state: document.readyState,
          elements: document.body ? document.body.getElementsByTagName('*').length : 0,
          frames_ms: s.frames, frames_wanted: 3, waited_ms: Math.round(waited)};
}"""
TAB_STATE_TIMEOUT_MS = 4000


def tab_state(page: Any) -> dict[str, object]:
    """What one tab says of itself: URL, title, visibility, focus, how many elements it has and
    when its next three animation frames came (ms; fewer than three means it got no frames)."""
    from playwright.sync_api import Error  # the engine itself runs without Playwright

    try:
        return page.wait_for_function(TAB_STATE, polling=100, timeout=TAB_STATE_TIMEOUT_MS).json_value()
    except Error as exc:
        return {"url": page.url, "error": f"no answer in {TAB_STATE_TIMEOUT_MS} ms: "
                f"{str(exc).splitlines()[0]}"}


def save_tab_states(context: Any, path: Path) -> Path:
    """Every tab of the context, in the order they were opened, as ``tabs.json``."""
    states = [tab_state(page) for page in context.pages]
    path.write_text(json.dumps(states, indent=2) + "\n", encoding="utf-8")
    return path
