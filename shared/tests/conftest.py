from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from e2e_shared import procs

ROOT = Path(__file__).resolve().parents[2]
# Inputs of the tests, not tests: data/masking_probe is a suite run by test_masking_end_to_end.
collect_ignore = ["data"]


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def children():
    """Processes a test starts, each in its own session; all stopped after the test."""
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            procs.kill_group(proc.pid, proof=procs.Proof(popen=proc))
        proc.wait(timeout=5)
