"""The plugin's masking of captured output and its per-test request id (pytester runs)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture
def workspace(pytester, tmp_path, monkeypatch):
    (pytester.path / "pyproject.toml").write_text(
        '[tool.e2e]\nproduct = "tradeboard_fixtures"\n'  # its baseline passwords are secrets
        '[tool.e2e.services.db]\ncommand = ["x"]\nready = "sql"\nport = 1\n')
    monkeypatch.setenv("E2E_ROOT", str(pytester.path))
    monkeypatch.setenv("E2E_PROFILE", "embedded")
    monkeypatch.delenv("E2E_STATE_DIR", raising=False)
    return pytester


def test_captured_output_and_assertion_messages_are_masked_in_junit_and_console(workspace):
    workspace.makepyfile("""
        JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl"
        def test_fails(request_id):
            print("got token", JWT, "for bob-local-pw")
            assert request_id.endswith(request_id[-6:])
            assert False, "login with bob-local-pw gave " + JWT
    """)
    result = workspace.runpytest_subprocess("--junitxml=out.xml", "-o", "junit_logging=all",
                                            "-p", "no:playwright")
    result.assert_outcomes(failed=1)
    xml = (workspace.path / "out.xml").read_text()
    assert "got token ***" in xml and "login with *** gave ***" in xml
    assert "got token ***" in result.stdout.str()
    for text in (xml, result.stdout.str()):
        assert "eyJzdWIiOiIxIn0" not in text and "bob-local-pw" not in text


def test_the_api_client_sends_the_tests_request_id(workspace):
    workspace.makepyfile("""
        from e2e_shared.clients import ApiClient, REQUEST_ID_HEADER
        class Session:
            def request(self, method, url, headers=None, **kw):
                self.headers = headers
                raise __import__("requests").ConnectionError("no server")
        def test_header(request_id):
            session = Session()
            client = ApiClient("http://x", request_id=request_id, session=session).with_token("t0ken")
            try:
                client.get("/a")
            except Exception:
                pass
            assert session.headers[REQUEST_ID_HEADER] == request_id
            assert len(request_id) > 10
    """)
    workspace.runpytest("-p", "no:playwright").assert_outcomes(passed=1)
