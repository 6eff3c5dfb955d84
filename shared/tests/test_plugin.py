"""The pytest plugin, exercised in a throwaway pytest run (pytester)."""

from __future__ import annotations

import pytest
from lxml import etree

from e2e_shared.report import merge

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


JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJlLXNpZw"


def test_failure_headline_is_the_exception_type_and_first_line(workspace, tmp_path):
    workspace.makepyfile(test_head=f"""
        import pytest
        class Boom(Exception):
            pass
        @pytest.fixture
        def broken():
            raise Boom("setup went wrong\\nsecond line")
        def test_status():
            status = 503
            assert status == 200, f"expected 200, got {{status}}"
        def test_plain():
            assert 1 == 2
        def test_custom():
            print("got {JWT}")
            raise Boom("token {JWT} refused")
        def test_setup(broken):
            pass
    """)
    result = workspace.runpytest_subprocess(
        "--junitxml=junit/smoke-backend.xml", "-p", "no:playwright", "-o", "junit_logging=all")
    result.assert_outcomes(failed=3, errors=1)
    result.stdout.fnmatch_lines(["FAILED test_head.py::test_status - AssertionError: expected 200, got 503"])
    raw = (workspace.path / "junit" / "smoke-backend.xml").read_text()
    assert JWT not in raw and JWT not in result.stdout.str()
    doc = etree.fromstring(raw.encode())

    def result_of(name):
        (el,) = doc.xpath("//testcase[@name=$n]/*[self::failure or self::error]", n=name)
        return el

    # pytest's own JUnit file already carries the headline, not the first source line
    assert result_of("test_status").get("message") == "AssertionError: expected 200, got 503"
    assert result_of("test_plain").get("message") == "AssertionError: assert 1 == 2"
    assert result_of("test_custom").get("message") == "Boom: token *** refused"
    assert result_of("test_setup").get("message") == 'failed on setup with "Boom: setup went wrong"'
    status_text = result_of("test_status").text
    assert "E       AssertionError: expected 200, got 503" in status_text  # the full text
    assert "e2e failure bundle" in status_text  # and the bundle after it
    assert "got ***" in doc.xpath("//testcase[@name='test_custom']/system-out")[0].text

    merged = merge(workspace.path / "junit", tmp_path / "out", step_summary=None)
    out = etree.parse(str(tmp_path / "out" / "junit.xml"))
    headlines = {
        el.getparent().get("name"): (el.get("type"), el.get("message"))
        for el in out.xpath("//failure | //error")
    }
    assert headlines == {
        "test_status": ("AssertionError", "AssertionError: expected 200, got 503"),
        "test_plain": ("AssertionError", "AssertionError: assert 1 == 2"),
        "test_custom": ("Boom", "Boom: token *** refused"),
        "test_setup": ("Boom", "Boom: setup went wrong"),
    }
    assert [f.type for f in merged.failures] == ["AssertionError", "AssertionError", "Boom", "Boom"]
