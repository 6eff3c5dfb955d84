"""Notes: a deliberately small product. GET /health, POST/GET /notes, GET/DELETE /notes/<id>."""

from __future__ import annotations

import argparse
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg

URL = os.environ["NOTES_DATABASE_URL"]


def connect() -> psycopg.Connection:
    return psycopg.connect(URL, autocommit=True, connect_timeout=2)


class Handler(BaseHTTPRequestHandler):
    def _send(self, code: int, body: object = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _note_id(self) -> int | None:
        parts = self.path.strip("/").split("/")
        return int(parts[1]) if len(parts) == 2 and parts[0] == "notes" and parts[1].isdigit() else None

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        with connect() as conn:
            if self.path == "/health":
                conn.execute("select 1")
                return self._send(200, {"status": "ok"})
            if self.path == "/notes":
                rows = conn.execute("select id, title, body from notes order by id").fetchall()
                return self._send(200, [{"id": i, "title": t, "body": b} for i, t, b in rows])
            note_id = self._note_id()
            row = conn.execute("select id, title, body from notes where id = %s", (note_id,)).fetchone() \
                if note_id is not None else None
            if row is None:
                return self._send(404, {"code": "not_found", "message": "no such note"})
            return self._send(200, {"id": row[0], "title": row[1], "body": row[2]})

    def do_POST(self) -> None:  # noqa: N802
        if self.path != "/notes":
            return self._send(404, {"code": "not_found", "message": "no such route"})
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if not str(body.get("title", "")).strip():
            return self._send(422, {"code": "invalid", "message": "a note needs a title"})
        with connect() as conn:
            (note_id,) = conn.execute("insert into notes (title, body) values (%s, %s) returning id",
                                      (body["title"], body.get("body", ""))).fetchone()
        self._send(201, {"id": note_id, "title": body["title"], "body": body.get("body", "")})

    def do_DELETE(self) -> None:  # noqa: N802
        with connect() as conn:
            gone = conn.execute("delete from notes where id = %s", (self._note_id(),)).rowcount
        self._send(204 if gone else 404)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    with connect() as conn:  # the schema: the app owns it, as a real product would
        conn.execute("create table if not exists notes (id serial primary key, "
                     "title text not null unique, body text not null default '')")
    print(f"notes: listening on {port}", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
