"""Secrets never reach an artifact: passwords, tokens and Authorization headers are masked.

Three layers, so that a secret one layer misses the next one catches:

- :func:`mask` on every text the workspace writes (failure texts, bundles, captured output):
  values in the :data:`SECRETS` registry (factory passwords, issued tokens, the seeded users'
  passwords), then secret-shaped text (JWTs, ``password=...`` fields, bearer headers, the
  factories' ``pw-secret-...`` passwords, which other processes' registries know);
- :func:`mask_trace` on a Playwright trace: every value typed into a password field (read from
  the trace's own DOM snapshots and actions) joins the secrets, then every text member is masked;
- :func:`mask_file` / :func:`mask_tree` on files written by something that cannot mask as it
  writes (the suites' console logs under ``reports/logs/``), text or zip, in place.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import threading
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

MASK = "***"
MIN_SECRET = 4  # shorter values would mask ordinary text

_PATTERNS = [
    # Authorization: Bearer xxx  /  'Authorization': 'Bearer xxx'
    (re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(bearer\s+)?[^\s'\",}]+"), r"\1\2" + MASK),
    # JSON or dict fields whose name says secret
    (re.compile(r"(?i)(['\"]?(?:password|passwd|secret|access_token|refresh_token|token|api_key)"
                r"['\"]?\s*[:=]\s*['\"]?)[^'\"\s,}&]+"), r"\1" + MASK),
    # query strings: ?access_token=...&
    (re.compile(r"(?i)([?&](?:access_token|token|password)=)[^&\s'\"]+"), r"\1" + MASK),
    # anything shaped like a JWT
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"), MASK),
    # the user factory's passwords (pw-secret-<run>-<test>-<n>), in processes that did not make them
    (re.compile(r"pw-secret-[0-9a-z]+-[0-9a-f]{6}-\d+"), MASK),
]


class SecretRegistry:
    """Known secret values (passwords the factories chose, tokens the API issued)."""

    def __init__(self, builtin: bool = False) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._builtin = builtin

    def add(self, *values: str | None) -> None:
        with self._lock:
            self._values.update(v for v in values if v and len(v) >= MIN_SECRET)

    def values(self) -> list[str]:
        with self._lock:
            found = set(self._values)
        if self._builtin:
            found.update(seeded_passwords())
        return sorted(found, key=len, reverse=True)  # longest first: no partial leaks


@functools.cache
def seeded_passwords() -> tuple[str, ...]:
    """The product's baseline secrets (its ``SECRETS``, e.g. the seeded users' passwords):
    secrets in every process."""
    from .product import product_secrets

    return product_secrets()


SECRETS = SecretRegistry(builtin=True)


def mask(text: str, registry: SecretRegistry | None = None, extra: Iterable[str] = ()) -> str:
    """``text`` with every known secret value (and ``extra``) and every secret-shaped field masked."""
    if not text:
        return text
    values = (registry or SECRETS).values()
    if extra:
        values = sorted({*values, *(v for v in extra if v and len(v) >= MIN_SECRET)},
                        key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


# --- files ----------------------------------------------------------------------------------

def _replace_atomically(path: Path, write: Any) -> None:
    tmp = path.with_name(f".{path.name}.masking")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def mask_text_file(path: Path, registry: SecretRegistry | None = None) -> bool:
    """Mask a UTF-8 text file in place, line by line; True when something was masked."""
    changed = False

    def write(tmp: Path) -> None:
        nonlocal changed
        with path.open(encoding="utf-8", errors="surrogateescape", newline="") as src, \
                tmp.open("w", encoding="utf-8", errors="surrogateescape", newline="") as dst:
            for line in src:
                masked = mask(line, registry)
                changed = changed or masked != line
                dst.write(masked)
        if not changed:
            raise _Unchanged

    with contextlib.suppress(_Unchanged):
        _replace_atomically(path, write)
    return changed


class _Unchanged(Exception):
    """Nothing to mask: the original file stays (and keeps its mtime)."""


def mask_file(path: str | Path, registry: SecretRegistry | None = None) -> bool:
    """Mask one file in place: a zip (a Playwright trace) member by member, else as text.

    Binary files (images) are left alone. Returns True when something was masked. This is the
    step for files written by a process that could not mask as it wrote, e.g. the runner's
    ``reports/logs/<phase>-<suite>.log``.
    """
    path = Path(path)
    if not path.is_file():
        return False
    with path.open("rb") as f:
        head = f.read(4096)
    if head.startswith(b"PK\x03\x04"):
        return mask_trace(path, registry)
    if b"\x00" in head:
        return False
    return mask_text_file(path, registry)


def mask_tree(root: str | Path, registry: SecretRegistry | None = None) -> list[Path]:
    """Mask every text file and zip under ``root`` (``reports/``); the paths that changed."""
    changed = []
    for path in sorted(Path(root).rglob("*")):
        if path.suffix.lower() in _BINARY_SUFFIXES or not path.is_file():
            continue
        if mask_file(path, registry):
            changed.append(path)
    return changed


_BINARY_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webm", ".gif", ".webp"})


# --- Playwright traces ----------------------------------------------------------------------

# Actions that type text: fill(value), type/pressSequentially(text).
_TYPING = {"fill": "value", "type": "text", "pressSequentially": "text", "press": "key"}
_PASSWORDISH = re.compile(r"(?i)pass(word|wd|phrase)?|pwd|secret")
_VALUE_ATTR = "__playwright_value_"


def _walk_snapshot(node: Any) -> Iterator[dict[str, Any]]:
    """The attribute dicts of every element in a snapshot's ``["TAG", {attrs}, *children]`` tree."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list) and item:
            if isinstance(item[0], str) and len(item) > 1 and isinstance(item[1], dict):
                if item[0].upper() == "INPUT":
                    yield item[1]
                stack.extend(item[2:])
            else:
                stack.extend(item)


def trace_secrets(lines: Iterable[str]) -> set[str]:
    """Values typed into password fields, from a trace's event lines (``*.trace`` members).

    A password field is an ``<input type=password>`` in a DOM snapshot (its current value is
    recorded there), or the target of a typing action whose selector names a password. A typed
    value that is part of a password field's value is a secret too (``fill`` then ``type``).
    """
    field_values: set[str] = set()
    typed: list[tuple[str, str]] = []
    for line in lines:
        if _VALUE_ATTR not in line and '"method"' not in line:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        if event.get("type") == "before" and event.get("method") in _TYPING:
            params = event.get("params") or {}
            value = params.get(_TYPING[event["method"]])
            if isinstance(value, str) and value:
                typed.append((str(params.get("selector", "")), value))
        snapshot = event.get("snapshot")
        if isinstance(snapshot, dict) and _VALUE_ATTR in line:
            for attrs in _walk_snapshot(snapshot.get("html")):
                if str(attrs.get("type", "")).lower() == "password" and attrs.get(_VALUE_ATTR):
                    field_values.add(str(attrs[_VALUE_ATTR]))
    found = {v for v in field_values if len(v) >= MIN_SECRET}
    for selector, value in typed:
        if len(value) < MIN_SECRET:
            continue
        if _PASSWORDISH.search(selector) or any(value in v for v in field_values):
            found.add(value)
    return found


def mask_trace(path: str | Path, registry: SecretRegistry | None = None) -> bool:
    """Mask a Playwright trace (or any zip) in place; True when something was masked.

    It records request headers (bearer tokens), API answers (token pairs), typed passwords and
    the SSE URLs' ``access_token``. Values typed into password fields are found first
    (:func:`trace_secrets`) and masked in every member; binary members stay as they are.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as src:
            texts: dict[str, str] = {}
            for info in src.infolist():
                with contextlib.suppress(UnicodeDecodeError):
                    texts[info.filename] = src.read(info).decode("utf-8")
            typed: set[str] = set()
            for name, text in texts.items():
                if name.endswith(".trace"):
                    typed |= trace_secrets(text.splitlines())
            # JSON-escaped forms too: a password with a quote or backslash is stored escaped.
            extra = typed | {json.dumps(v)[1:-1] for v in typed}
            masked = {name: mask(text, registry, extra) for name, text in texts.items()}
            if all(masked[n] == texts[n] for n in texts):
                return False

            def write(tmp: Path) -> None:
                with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
                    for info in src.infolist():
                        if info.filename in masked:
                            dst.writestr(info, masked[info.filename].encode("utf-8"))
                        else:
                            dst.writestr(info, src.read(info))

            _replace_atomically(path, write)
    except zipfile.BadZipFile:
        return False
    return True
