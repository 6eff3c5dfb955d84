"""Server-sent events, read the way a client reads them: ``requests`` with ``stream=True``."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import requests


@dataclass(frozen=True)
class Event:
    event: str
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


def parse(lines: Any, *, deadline: float) -> list[Event]:
    """Events from an iterator of decoded lines, until the stream ends or ``deadline`` passes."""
    events: list[Event] = []
    name, data = "message", []
    for line in lines:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the event stream was still open at its deadline; got {events}")
        if line == "":  # a blank line dispatches the event
            if data:
                events.append(Event(name, "\n".join(data)))
            name, data = "message", []
        elif line.startswith(":"):
            continue  # a comment (keep-alive)
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
    if data:
        events.append(Event(name, "\n".join(data)))
    return events


def read(url: str, token: str, *, timeout: float = 20.0) -> tuple[requests.Response, list[Event]]:
    """Open ``url`` as an event stream and read it to its end (at most ``timeout`` seconds)."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    with requests.get(url, headers=headers, stream=True, timeout=(3, timeout)) as resp:
        if resp.status_code != 200:
            return resp, []
        lines = resp.iter_lines(decode_unicode=True)
        return resp, parse(lines, deadline=time.monotonic() + timeout)
