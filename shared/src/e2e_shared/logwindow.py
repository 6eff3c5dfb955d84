"""The lines each service logged during one test: byte offsets at start, read to the end after.

Offsets instead of timestamps because every service formats its time differently (or not at all).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class LogWindow:
    paths: dict[str, Path]
    offsets: dict[str, int] = field(default_factory=dict)

    def open(self) -> LogWindow:
        self.offsets = {name: _size(p) for name, p in self.paths.items()}
        return self

    def read(self, max_lines: int = 200) -> dict[str, list[str]]:
        """Lines written since :meth:`open`, per service; only services that logged anything."""
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
                lines = f.read(size - start).decode("utf-8", "replace").splitlines()
            if len(lines) > max_lines:
                lines = [f"... {len(lines) - max_lines} earlier lines omitted"] + lines[-max_lines:]
            out[name] = lines
        return out


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
