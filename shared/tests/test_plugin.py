"""The pytest plugin, exercised in a throwaway pytest run (pytester)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture
def workspace(pytester, tmp_path, monkeypatch):
    (pytester.path / "pyproject.toml").write_text(
        '[tool.e2e]\n[tool.e2e.services.db]\ncommand = ["x"]\nready = "sql"\nport = 1\n')
    monkeypatch.setenv("E2E_ROOT", str(pytester.path))
    monkeypatch.setenv("E2E_PROFILE", "embedded")
    monkeypatch.delenv("E2E_STATE_DIR", raising=False)
    return pytester


def test_markers_are_registered_so_strict_markers_holds(workspace):
    workspace.makepyfile("""
        import pytest
        @pytest.mark.smoke
        @pytest.mark.health
        @pytest.mark.flow
        @pytest.mark.integrity
        @pytest.mark.resilience
        def test_x():
            assert True
    """)
    workspace.runpytest("--strict-markers", "-p", "no:playwright").assert_outcomes(passed=1)


def test_a_stack_that_is_not_up_fails_in_one_line_with_the_command(workspace):
    workspace.makepyfile("""
        def test_needs_stack(stack):
            pass
    """)
    result = workspace.runpytest("-p", "no:playwright")
    assert result.ret == 4
    result.stdout.fnmatch_lines(["*the stack is not up*run `invoke stack.up` first*"])
    assert "Traceback" not in result.stdout.str()


def test_a_failure_carries_a_masked_bundle_with_the_requests(workspace):
    workspace.makepyfile("""
        from e2e_shared.plugin import CTX
        from e2e_shared.clients import Exchange
        def test_fails(request):
            ctx = request.node.stash[CTX]
            ctx.recorder.exchanges.append(Exchange("POST", "http://api/auth/login", 401, 3.0))
            password = "pw-hunter2-secret"
            from e2e_shared.masking import SECRETS
            SECRETS.add(password)
            assert password == "something else"
    """)
    # A subprocess: the secret registry of this process must not learn the inner test's password.
    result = workspace.runpytest_subprocess("--junitxml=out.xml", "-p", "no:playwright")
    result.assert_outcomes(failed=1)
    xml = (workspace.path / "out.xml").read_text()
    assert "e2e failure bundle" in xml
    assert "POST http://api/auth/login -&gt; 401" in xml
    assert "pw-hunter2-secret" not in xml
    assert "pw-hunter2-secret" not in result.stdout.str()
    assert 'name="attachment"' in xml


def test_unique_names_differ_between_tests(workspace):
    workspace.makepyfile("""
        seen = []
        def test_a(unique):
            seen.append(unique("wl"))
        def test_b(unique):
            seen.append(unique("wl"))
            assert len(set(seen)) == 2
    """)
    workspace.runpytest("-p", "no:playwright").assert_outcomes(passed=2)


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
