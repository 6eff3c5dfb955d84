"""The plugin's side of the seam: the product's fixtures and the workspace's phase markers come
from the configuration, by name (pytester runs)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

CONFIG = """\
[tool.e2e]
product = "demo_product"
product_path = "prod"
[tool.e2e.services.db]
command = ["x"]
ready = "sql"
port = 1
[tool.e2e.suites.demo]
path = "."
session = "demo"
[tool.e2e.phases.canary]
marker = "canary"
suites = ["demo"]
"""


@pytest.fixture
def workspace(pytester, monkeypatch):
    (pytester.path / "pyproject.toml").write_text(CONFIG)
    package = pytester.path / "prod" / "src" / "demo_product"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('SECRETS = ("demo-baseline-pw",)\n')
    (package / "plugin.py").write_text(
        "import pytest\n\n@pytest.fixture\ndef widgets(unique):\n    return [unique('widget')]\n")
    monkeypatch.setenv("E2E_ROOT", str(pytester.path))
    monkeypatch.setenv("E2E_PROFILE", "embedded")
    monkeypatch.delenv("E2E_STATE_DIR", raising=False)
    return pytester


def test_the_product_named_in_the_config_brings_its_fixtures_and_secrets(workspace):
    workspace.makepyfile("""
        import pytest
        @pytest.mark.canary
        def test_uses_product_fixture(widgets):
            assert widgets[0].startswith("widget")
            assert False, "typed demo-baseline-pw"
    """)
    result = workspace.runpytest_subprocess("--strict-markers", "-p", "no:playwright")
    result.assert_outcomes(failed=1)  # the fixture resolved and the marker is known
    out = result.stdout.str()
    assert "typed ***" in out and "demo-baseline-pw" not in out  # the product's SECRETS are masked


def test_a_product_that_cannot_be_found_is_one_line_with_the_fix(workspace):
    (workspace.path / "pyproject.toml").write_text(CONFIG.replace("demo_product", "missing_product"))
    workspace.makepyfile("def test_x():\n    pass\n")
    result = workspace.runpytest_subprocess("-p", "no:playwright")
    assert result.ret != 0
    err = result.stderr.str()
    assert "the product package 'missing_product' ([tool.e2e] product) is not installed" in err
    assert "pip install -e prod" in err and "Traceback" not in err
