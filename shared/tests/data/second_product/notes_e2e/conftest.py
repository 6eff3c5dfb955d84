"""Records, at the end of each run, which product modules this pytest process imported."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def pytest_sessionfinish(session, exitstatus):
    tops = sorted({name.split(".")[0] for name in sys.modules})
    out = Path(session.config.rootpath) / ".e2e" / "imported" / f"{os.getpid()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(tops))
