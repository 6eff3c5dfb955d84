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
