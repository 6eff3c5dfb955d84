"""``invoke new.suite``: what it writes is a working suite entry, and what the docs show."""

from __future__ import annotations

import shutil

import pytest

from e2e_shared import E2EError
from e2e_shared.config import load_tool_config
from e2e_shared.phases import load as load_phases
from e2e_shared.scaffold import NOX_SESSION, SUITE_PYPROJECT, SUITE_SMOKE_TEST, SUITE_TABLE, new_suite


@pytest.fixture
def workspace(root, tmp_path):
    for name in ("pyproject.toml", "noxfile.py"):
        shutil.copy(root / name, tmp_path / name)
    return tmp_path


def test_a_new_suite_gets_its_package_session_and_table(workspace):
    written = new_suite(workspace, "mobile")
    tool = load_tool_config(workspace)  # still valid against the schema
    assert tool["suites"]["mobile"] == {"path": "mobile_e2e", "session": "mobile"}
    assert "mobile" in load_phases(tool).suites
    noxfile = (workspace / "noxfile.py").read_text()
    compile(noxfile, "noxfile.py", "exec")
    assert '"pipeline": "pipeline_e2e", "mobile": "mobile_e2e"}' in noxfile
    assert "def mobile(session: nox.Session) -> None:" in noxfile
    test = workspace / "mobile_e2e" / "smoke" / "test_mobile_answers.py"
    compile(test.read_text(), str(test), "exec")
    assert (workspace / "mobile_e2e" / "pyproject.toml").is_file()
    assert "e2e.mobile" in written.next_step


def test_a_suite_that_exists_or_a_bad_name_is_refused_in_one_line(workspace):
    with pytest.raises(E2EError, match="a suite 'backend' exists already"):
        new_suite(workspace, "backend")
    with pytest.raises(E2EError, match="bad suite name 'Mobile App'"):
        new_suite(workspace, "Mobile App")
    assert not (workspace / "backend_e2e").exists()


def test_the_adoption_guide_shows_the_templates_the_task_writes(root):
    guide = (root / "docs" / "adopting.md").read_text()
    for template in (SUITE_PYPROJECT, SUITE_SMOKE_TEST, NOX_SESSION, SUITE_TABLE):
        assert template.format(name="mobile").strip("\n") in guide
