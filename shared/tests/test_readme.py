"""The README's quick start stays true: two commands, and CI runs exactly the test one."""

from __future__ import annotations

import re


def _quick_start_commands(root) -> list[str]:
    text = (root / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.S)]


def test_quick_start_has_exactly_two_commands_main_job_first(root):
    commands = _quick_start_commands(root)
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert "invoke stack.up" in commands[0]


def test_ci_runs_the_readme_test_command_and_nothing_else_after_installing(root):
    test_command = _quick_start_commands(root)[1]
    lines = [ln for ln in (root / ".ci" / "run").read_text().splitlines()
             if ln.strip() and not ln.lstrip().startswith("#")]
    assert lines[-1].strip() == test_command
