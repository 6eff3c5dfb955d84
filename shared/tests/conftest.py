from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Inputs of the tests, not tests: data/masking_probe is a suite run by test_masking_end_to_end.
collect_ignore = ["data"]


@pytest.fixture
def root() -> Path:
    return ROOT
