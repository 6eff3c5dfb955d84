"""The notes product's fixtures: a factory that removes what it made after the test."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from e2e_shared.clients import ApiClient
from e2e_shared.naming import Namer


class NoteFactory:
    def __init__(self, api: ApiClient, namer: Namer) -> None:
        self.api, self.namer, self.created = api, namer, []

    def create(self, body: str = "") -> dict[str, Any]:
        note = self.api.post("/notes", json={"title": self.namer("note"), "body": body}, expect=201).json()
        self.created.append(note["id"])
        return note

    def cleanup(self) -> None:
        for note_id in self.created:
            with contextlib.suppress(Exception):
                self.api.delete(f"/notes/{note_id}")


@pytest.fixture
def notes(api: ApiClient, unique: Namer) -> Iterator[NoteFactory]:
    factory = NoteFactory(api, unique)
    yield factory
    factory.cleanup()
