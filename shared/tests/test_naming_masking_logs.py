from __future__ import annotations

from e2e_shared.clients import Exchange, Recorder
from e2e_shared.logwindow import LogWindow
from e2e_shared.masking import MASK, SecretRegistry, mask
from e2e_shared.naming import Namer, new_run_id, node_tag


def test_names_differ_per_call_per_test_and_per_run():
    a, b = Namer("run1", "t.py::a"), Namer("run1", "t.py::b")
    c = Namer("run2", "t.py::a")
    names = {a("wl"), a("wl"), b("wl"), c("wl")}
    assert len(names) == 4
    assert a("My List!").startswith("my-list-run1-")


def test_the_same_test_keeps_its_tag_across_runs():
    assert node_tag("x.py::t") == node_tag("x.py::t") != node_tag("x.py::u")


def test_run_ids_are_unique_even_when_made_together():
    assert len({new_run_id() for _ in range(200)}) == 200


def test_emails_are_unique_and_valid_looking():
    n = Namer("r", "t")
    first, second = n.email(), n.email()
    assert first != second and first.endswith("@e2e.test")


def test_mask_hides_registered_secret_values():
    reg = SecretRegistry()
    reg.add("hunter2-very-secret")
    assert mask("login with hunter2-very-secret failed", reg) == f"login with {MASK} failed"


def test_mask_hides_authorization_headers_and_token_fields():
    text = ("{'Authorization': 'Bearer abc.def.ghi'} "
            '{"password": "pw-123456", "refresh_token": "r-789", "email": "a@b.c"}')
    out = mask(text, SecretRegistry())
    assert "abc.def.ghi" not in out and "pw-123456" not in out and "r-789" not in out
    assert "a@b.c" in out  # not a secret


def test_mask_hides_jwts_and_query_tokens():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl"
    out = mask(f"GET /exports/1/events?access_token={jwt}&x=1 saw {jwt}", SecretRegistry())
    assert jwt not in out and "x=1" in out


def test_recorder_renders_masked_lines_and_limits_length():
    rec = Recorder([Exchange("GET", f"http://h/x?access_token=tok{i}", 200, 1.0) for i in range(60)])
    lines = rec.render(limit=50)
    assert lines[0].startswith("... 10 earlier")
    assert all(f"=tok{i}" not in ln for i in range(60) for ln in lines)
    assert len(lines) == 51


def test_log_window_returns_only_lines_written_during_the_test(tmp_path):
    api, db = tmp_path / "api.log", tmp_path / "db.log"
    api.write_text("before 1\nbefore 2\n")
    window = LogWindow({"api": api, "db": db}).open()
    with api.open("a") as f:
        f.write("during 1\nduring 2\n")
    assert window.read() == {"api": ["during 1", "during 2"]}


def test_log_window_survives_a_truncated_log(tmp_path):
    log = tmp_path / "svc.log"
    log.write_text("x" * 100 + "\n")
    window = LogWindow({"svc": log}).open()
    log.write_text("fresh\n")
    assert window.read() == {"svc": ["fresh"]}


def test_log_window_caps_the_number_of_lines(tmp_path):
    log = tmp_path / "svc.log"
    log.write_text("")
    window = LogWindow({"svc": log}).open()
    log.write_text("".join(f"{i}\n" for i in range(500)))
    lines = window.read(max_lines=10)["svc"]
    assert lines[0] == "... 490 earlier lines omitted" and lines[-1] == "499"


def test_log_window_keeps_the_tests_own_requests_and_lines_without_ids(tmp_path):
    api, objects = tmp_path / "api.log", tmp_path / "objects.log"
    api.write_text("")
    objects.write_text("")
    window = LogWindow({"api": api, "objects": objects}).open()
    api.write_text(
        "2026-01-01 10:00:00 INFO tradeboard.api GET /a 200 1.0ms rid=run1-aaaaaa\n"
        "2026-01-01 10:00:00 INFO tradeboard.api GET /b 200 1.0ms rid=run2-bbbbbb\n"
        "2026-01-01 10:00:01 ERROR tradeboard.api unhandled error in GET /c rid=run2-bbbbbb\n"
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1\n'
        "2026-01-01 10:00:02 WARNING tradeboard.api database unavailable\n"
        "2026-01-01 10:00:03 INFO tradeboard.api POST /d 201 2.0ms rid=run1-aaaaaa\n")
    objects.write_text(
        '127.0.0.1 - - [x] "GET /landing?list-type=2&prefix=&encoding-type=url HTTP/1.1" 200 -\n'
        '127.0.0.1 - - [x] "PUT /landing/u/1.csv HTTP/1.1" 200 -\n')
    logs = window.read(request_id="run1-aaaaaa")
    assert logs["api"] == [
        "2026-01-01 10:00:00 INFO tradeboard.api GET /a 200 1.0ms rid=run1-aaaaaa",
        "2026-01-01 10:00:02 WARNING tradeboard.api database unavailable",
        "2026-01-01 10:00:03 INFO tradeboard.api POST /d 201 2.0ms rid=run1-aaaaaa",
        "(4 lines of other tests' requests left out)",
    ]
    assert logs["objects"] == ['127.0.0.1 - - [x] "PUT /landing/u/1.csv HTTP/1.1" 200 -',
                               "(1 idle polling lines left out)"]


def test_recorder_shows_masked_capped_bodies_of_the_last_requests():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl"
    rec = Recorder([Exchange("POST", "http://h/auth/login", 200, 1.0,
                             '{"email": "a@b.c", "password": "hunter2-x"}',
                             f'{{"access_token": "{jwt}", "note": "{"x" * 900}"}}')])
    lines = rec.render(body_limit=100)
    assert lines[0] == "POST http://h/auth/login -> 200 (1 ms)"
    assert lines[1].startswith("    > ") and "a@b.c" in lines[1] and "hunter2-x" not in lines[1]
    assert lines[2].startswith("    < ") and jwt not in lines[2]
    assert lines[2].endswith("more characters)") and len(lines[2]) < 160


def test_recorder_does_not_repeat_the_same_bodies_of_a_polling_loop():
    rec = Recorder([Exchange("GET", "http://h/x", 200, 1.0, "", '{"state": "running"}')
                    for _ in range(3)])
    lines = rec.render()
    assert lines.count('    < {"state": "running"}') == 1
    assert lines.count("    (bodies as above)") == 2
