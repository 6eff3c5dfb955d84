"""The lines each service logged during one test: byte offsets at start, read to the end after.

Offsets instead of timestamps because every service formats its time differently (or not at all).

In a parallel phase every suite's traffic lands in the same logs, so a window is narrowed to the
test's own requests: a service that logs request ids (``rid=<id>``, what the clients send as
``X-Request-ID``) keeps only lines with this test's id, and its lines without any id (startup,
outages, errors outside a request); a service that logs no ids keeps everything. Lines that are
known idle noise (the pipeline worker polling the landing bucket) are left out everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

RID = re.compile(r"\brid=([A-Za-z0-9._:-]+)")
# The worker lists the landing bucket several times a second when idle (moto's access log).
NOISE: tuple[re.Pattern[str], ...] = (
    re.compile(r'"GET /[^/?\s"]+/?\?list-type=2[^"]*" 200'),
)
# Lines that continue the record before them (a traceback under its error line).
_CONTINUATION = re.compile(r"^(\s|Traceback |During handling |The above exception )")


@dataclass
class Narrowed:
    lines: list[str]
    others: int = 0  # lines of other tests' requests left out
    noise: int = 0  # idle polling lines left out


def narrow(lines: list[str], request_id: str | None,
           noise: tuple[re.Pattern[str], ...] = NOISE) -> Narrowed:
    """The lines of one service that belong to the test with ``request_id`` (see module doc)."""
    out = Narrowed([])
    keep = True  # continuation lines follow the record they belong to
    for line in lines:
        if not _CONTINUATION.match(line):
            match = RID.search(line) if request_id else None
            if match is not None and match.group(1) != request_id:
                keep = False
                out.others += 1
                continue
            if any(p.search(line) for p in noise):
                keep = False
                out.noise += 1
                continue
            keep = True
            out.lines.append(line)
        elif keep:
            out.lines.append(line)
        else:
            out.others += 1
    return out


@dataclass
class LogWindow:
    paths: dict[str, Path]
    offsets: dict[str, int] = field(default_factory=dict)
    noise: tuple[re.Pattern[str], ...] = NOISE

    def open(self) -> LogWindow:
        self.offsets = {name: _size(p) for name, p in self.paths.items()}
        return self

    def raw(self) -> dict[str, list[str]]:
        """Every line written since :meth:`open`, per service; only services that logged."""
        out: dict[str, list[str]] = {}
        for name, path in self.paths.items():
            start = self.offsets.get(name, 0)
            size = _size(path)
            if size < start:  # the log was truncated or replaced: read it whole
                start = 0
            if size == start:
                continue
            with path.open("rb") as f:
                f.seek(start)
                out[name] = f.read(size - start).decode("utf-8", "replace").splitlines()
        return out

    def read(self, max_lines: int = 200, request_id: str | None = None) -> dict[str, list[str]]:
        """Lines written since :meth:`open`, per service, narrowed to ``request_id``'s requests
        and without idle noise; only services with lines left. What was left out is said in a
        last line per service."""
        out: dict[str, list[str]] = {}
        for name, lines in self.raw().items():
            kept = narrow(lines, request_id, self.noise)
            lines = kept.lines
            if len(lines) > max_lines:
                lines = [f"... {len(lines) - max_lines} earlier lines omitted"] + lines[-max_lines:]
            left = [f"{n} {what}" for n, what in ((kept.others, "lines of other tests' requests"),
                                                  (kept.noise, "idle polling lines")) if n]
            if left:
                lines = lines + [f"({' and '.join(left)} left out)"]
            if kept.lines:
                out[name] = lines
        return out


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
