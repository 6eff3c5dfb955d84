"""The notes suite: a smoke check and a flow, on the baseline and on the test's own notes."""

from __future__ import annotations

import pytest
from notes_fixtures import BASELINE


@pytest.mark.smoke
def test_health_answers(api):
    assert api.get("/health", expect=200).json() == {"status": "ok"}


@pytest.mark.smoke
def test_the_baseline_is_seeded(api):
    titles = {note["title"] for note in api.get("/notes", expect=200).json()}
    assert {title for title, _ in BASELINE} <= titles


@pytest.mark.flow
def test_a_note_round_trips_and_is_gone_after_delete(api, notes):
    note = notes.create(body="buy milk")
    assert api.get(f"/notes/{note['id']}", expect=200).json()["body"] == "buy milk"
    api.delete(f"/notes/{note['id']}", expect=204)
    api.get(f"/notes/{note['id']}", expect=404)
