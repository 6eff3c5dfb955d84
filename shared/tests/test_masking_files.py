"""Masking beyond single strings: seeded and factory passwords, files, trees and traces."""

from __future__ import annotations

import json
import zipfile

from e2e_shared.masking import (
    MASK,
    SECRETS,
    SecretRegistry,
    mask,
    mask_file,
    mask_trace,
    mask_tree,
    trace_secrets,
)

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl"


def test_seeded_passwords_are_secrets_in_every_process():
    assert mask("alice typed alice-local-pw, bob bob-local-pw") == f"alice typed {MASK}, bob {MASK}"
    assert "bob-local-pw" in SECRETS.values()


def test_factory_passwords_are_masked_by_shape_where_the_registry_does_not_know_them():
    out = mask("login pw-secret-11292155abc123-0a1b2c-3 failed", SecretRegistry())
    assert out == f"login {MASK} failed"


def test_mask_file_rewrites_a_log_in_place_and_leaves_clean_files_untouched(tmp_path):
    log = tmp_path / "flows-backend.log"
    log.write_text(f"token {JWT}\nplain line\n")
    clean = tmp_path / "clean.log"
    clean.write_text("nothing here\n")
    before = clean.stat().st_mtime_ns
    assert mask_file(log) is True
    assert log.read_text() == f"token {MASK}\nplain line\n"
    assert mask_file(clean) is False and clean.stat().st_mtime_ns == before
    assert not list(tmp_path.glob(".*masking"))


def test_mask_file_leaves_binary_files_alone(tmp_path):
    png = tmp_path / "shot.bin"
    png.write_bytes(b"\x89PNG\x00\x00" + JWT.encode())
    assert mask_file(png) is False and JWT.encode() in png.read_bytes()


def _trace(path, events, extra=None):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("trace.trace", "\n".join(json.dumps(e) for e in events) + "\n")
        for name, text in (extra or {}).items():
            z.writestr(name, text)


SNAPSHOT = {"type": "frame-snapshot", "snapshot": {"html": ["HTML", {}, ["BODY", {}, [
    "LABEL", {}, ["INPUT", {"__playwright_value_": "typed-secret-1more", "type": "password"}]],
    ["INPUT", {"__playwright_value_": "visible-name", "id": "name"}]]]}}


def test_trace_secrets_come_from_password_fields_and_password_selectors():
    events = [
        {"type": "before", "method": "fill", "params": {"selector": "#pw", "value": "typed-secret-1"}},
        {"type": "before", "method": "type", "params": {"selector": "#x", "text": "1more"}},
        {"type": "before", "method": "fill",
         "params": {"selector": "internal:label=\"Password\"i", "value": "by-label-pw"}},
        {"type": "before", "method": "fill", "params": {"selector": "#name", "value": "visible-name"}},
        SNAPSHOT,
    ]
    found = trace_secrets(json.dumps(e) for e in events)
    assert found == {"typed-secret-1", "1more", "typed-secret-1more", "by-label-pw"}


def test_mask_trace_masks_typed_passwords_and_known_secrets_in_every_member(tmp_path):
    trace = tmp_path / "trace.zip"
    events = [{"type": "before", "method": "fill", "params": {"selector": "#pw",
                                                              "value": "typed-secret-1"}}, SNAPSHOT]
    _trace(trace, events, {"resources/abc.json": f'{{"access": "{JWT}", "echo": "typed-secret-1"}}',
                           "resources/img.png": "\x89PNG"})
    assert mask_trace(trace) is True
    with zipfile.ZipFile(trace) as z:
        text = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        names = z.namelist()
    assert "typed-secret" not in text and JWT not in text and "1more" not in text
    assert "visible-name" in text and "resources/img.png" in names


def test_mask_tree_walks_reports_including_traces(tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.log").write_text(f"Bearer {JWT}\n")
    (tmp_path / "artifacts" / "t").mkdir(parents=True)
    _trace(tmp_path / "artifacts" / "t" / "trace.zip", [SNAPSHOT])
    (tmp_path / "artifacts" / "t" / "shot.png").write_bytes(b"\x89PNG" + JWT.encode())
    changed = mask_tree(tmp_path)
    assert sorted(p.name for p in changed) == ["a.log", "trace.zip"]
