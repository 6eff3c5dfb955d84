"""One e2e run per workspace: a second is refused in one line naming the first."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from e2e_shared import E2EError
from e2e_shared.runlock import run_lock

HOLDER = textwrap.dedent("""
    import sys, pathlib
    from e2e_shared.runlock import run_lock
    with run_lock(pathlib.Path(sys.argv[1]), "r1", command="invoke e2e.backend"):
        print("held", flush=True)
        sys.stdin.readline()  # hold it until the test says so
""")


def test_a_second_run_is_refused_naming_the_first_and_a_finished_run_frees_the_lock(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(E2EError) as err, run_lock(tmp_path, "r2"):
            pass
        assert f"pid {holder.pid} (`invoke e2e.backend`)" in err.value.cause
        assert "E2E_STATE_DIR" in err.value.hint
    finally:
        holder.communicate("\n", timeout=10)
    with run_lock(tmp_path, "r3"):  # the first run ended: the lock is free again
        pass


def test_a_killed_run_does_not_block_the_next(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait()
    with run_lock(tmp_path, "r2"):
        assert '"run_id": "r2"' in (tmp_path / "run.lock").read_text()
