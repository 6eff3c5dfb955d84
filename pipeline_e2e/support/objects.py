"""The object store as the pipeline leaves it: landing objects (what was received) and quarantine objects."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

LANDING = "landing"
QUARANTINE = "quarantine"


def quarantine_key(landing_key: str) -> str:
    """Where the contract puts the rejected rows of a landing object (in the quarantine bucket)."""
    return f"quarantine/{landing_key}.rejected.jsonl"


def data_rows(body: bytes, key: str) -> int:
    """Rows in a trade file: non-blank lines, less the header of a CSV (by name, else by content)."""
    text = body.decode("utf-8-sig")
    lines = [line for line in text.split("\n") if line.strip()]
    named = key.endswith((".csv", ".jsonl", ".ndjson"))
    is_jsonl = key.endswith((".jsonl", ".ndjson")) or (not named and text.lstrip().startswith("{"))
    return len(lines) if is_jsonl else max(len(lines) - 1, 0)


class Buckets:
    def __init__(self, s3: Any, landing: str = LANDING, quarantine: str = QUARANTINE) -> None:
        self.s3 = s3
        self.landing = landing
        self.quarantine = quarantine

    def landing_body(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.landing, Key=key)["Body"].read()

    def landing_rows(self, key: str) -> int:
        """How many rows the pipeline received in the landing object ``key``."""
        return data_rows(self.landing_body(key), key)

    def quarantined(self, landing_key: str) -> list[dict[str, Any]]:
        """The entries of the quarantine object of ``landing_key``, one dict per rejected row."""
        body = self.s3.get_object(Bucket=self.quarantine, Key=quarantine_key(landing_key))["Body"].read()
        return [json.loads(line) for line in body.decode().splitlines() if line.strip()]

    def has_quarantine(self, landing_key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.quarantine, Key=quarantine_key(landing_key))
        except self.s3.exceptions.ClientError:
            return False
        return True

    def snapshot(self, keys: Iterable[str]) -> dict[str, bytes]:
        return {k: self.landing_body(k) for k in keys}

    def restore(self, saved: dict[str, bytes]) -> None:
        for key, body in saved.items():
            self.s3.put_object(Bucket=self.landing, Key=key, Body=body)
