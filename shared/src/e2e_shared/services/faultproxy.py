"""A small asyncio TCP fault proxy that speaks a subset of Toxiproxy's HTTP API.

Run: ``python -m e2e_shared.services.faultproxy --port 8474``. The control API listens on
``--port``; each proxy (route) listens on its own ``listen`` address and forwards to ``upstream``.

The subset (names and semantics from Shopify/toxiproxy, so one client drives both this and the
real Toxiproxy of the compose stack):

- ``GET /version``; ``GET/POST /proxies``; ``POST /populate``; ``GET/POST/DELETE /proxies/{name}``;
  ``GET/POST /proxies/{name}/toxics``; ``GET/DELETE /proxies/{name}/toxics/{toxic}``; ``POST /reset``.
- Toxic types ``latency`` (latency, jitter ms), ``timeout`` (timeout ms; 0 drops data until the
  toxic is removed: a blackhole), ``reset_peer`` (timeout ms, then TCP RST), ``bandwidth`` (rate KB/s);
  ``stream`` upstream (client -> server) or downstream; ``toxicity`` (chance per connection).
- ``enabled: false`` closes the listener (new connections are refused) and resets open ones.
- Removing a ``timeout`` toxic closes the connections it held, as Toxiproxy's Cleanup does.

Latency is applied per chunk read, one after another: fine for request/response traffic, an
upper bound for a long stream. Not implemented: slow_close, slicer, limit_data, toxic update.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import socket
import struct
import sys
import time
from dataclasses import dataclass, field
from typing import Any

VERSION = "e2e-faultproxy 1.0 (toxiproxy API subset)"
TOXIC_TYPES = {"latency": {"latency": 0, "jitter": 0}, "timeout": {"timeout": 0},
               "reset_peer": {"timeout": 0}, "bandwidth": {"rate": 0}}
STREAMS = ("upstream", "downstream")
CHUNK = 65536


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Toxic:
    name: str
    type: str
    stream: str
    toxicity: float
    attributes: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "stream": self.stream,
                "toxicity": self.toxicity, "attributes": dict(self.attributes)}


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    try:
        return host or "0.0.0.0", int(port)
    except ValueError:
        raise ApiError(400, f"bad address {address!r}: expected host:port") from None


def _rst(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0) instead of an orderly FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@dataclass(eq=False)  # links live in sets: identity, not value
class Link:
    """One client connection and its upstream connection."""

    client: asyncio.StreamWriter
    server: asyncio.StreamWriter | None = None
    rolls: dict[str, bool] = field(default_factory=dict)  # toxicity, decided once per connection
    held_by: set[str] = field(default_factory=set)  # timeout toxics that dropped its data
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def hit(self, toxic: Toxic) -> bool:
        if toxic.name not in self.rolls:
            self.rolls[toxic.name] = random.random() < toxic.toxicity
        return self.rolls[toxic.name]

    def close(self, reset: bool = False) -> None:
        for w in (self.client, self.server):
            if w is None:
                continue
            if reset:
                _rst(w)
            else:
                w.close()
        for t in self.tasks:
            if t is not asyncio.current_task():
                t.cancel()


class Proxy:
    def __init__(self, name: str, listen: str, upstream: str) -> None:
        self.name, self.listen, self.upstream = name, listen, upstream
        self.toxics: dict[str, Toxic] = {}
        self.links: set[Link] = set()
        self.server: asyncio.AbstractServer | None = None

    @property
    def enabled(self) -> bool:
        return self.server is not None

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "listen": self.listen, "upstream": self.upstream,
                "enabled": self.enabled, "toxics": [t.as_json() for t in self.toxics.values()]}

    async def start(self) -> None:
        if self.server is not None:
            return
        host, port = _split(self.listen)
        try:
            self.server = await asyncio.start_server(self._accept, host, port, reuse_address=True)
        except OSError as exc:
            raise ApiError(500, f"proxy {self.name}: cannot listen on {self.listen}: {exc}") from None

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for link in list(self.links):
            link.close(reset=True)
        self.links.clear()

    def remove_toxic(self, name: str) -> None:
        toxic = self.toxics.pop(name)
        if toxic.type == "timeout":  # Toxiproxy's TimeoutToxic.Cleanup closes the stub
            for link in [ln for ln in self.links if name in ln.held_by]:
                link.close()
                self.links.discard(link)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = Link(client=writer)
        self.links.add(link)
        try:
            host, port = _split(self.upstream)
            try:
                up_reader, up_writer = await asyncio.open_connection(host, port)
            except OSError:
                link.close()  # the service is down: the client sees its connection closed
                return
            link.server = up_writer
            link.tasks = [asyncio.create_task(self._pipe(link, reader, up_writer, "upstream")),
                          asyncio.create_task(self._pipe(link, up_reader, writer, "downstream"))]
            await asyncio.gather(*link.tasks, return_exceptions=True)
        finally:
            self.links.discard(link)
            link.close()

    async def _pipe(self, link: Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    stream: str) -> None:
        try:
            while True:
                data = await reader.read(CHUNK)
                if not data:
                    break
                arrived = time.monotonic()
                delay, drop = 0.0, False
                for toxic in [t for t in self.toxics.values() if t.stream == stream]:
                    if not link.hit(toxic):
                        continue
                    attrs = toxic.attributes
                    if toxic.type == "latency":
                        jitter = float(attrs.get("jitter", 0))
                        delay += (float(attrs.get("latency", 0)) + random.uniform(-jitter, jitter)) / 1000
                    elif toxic.type == "bandwidth" and float(attrs.get("rate", 0)) > 0:
                        delay += len(data) / (float(attrs["rate"]) * 1000)
                    elif toxic.type == "timeout":
                        drop = True
                        link.held_by.add(toxic.name)
                        if float(attrs.get("timeout", 0)) > 0:
                            asyncio.get_running_loop().call_later(
                                float(attrs["timeout"]) / 1000, link.close)
                    elif toxic.type == "reset_peer":
                        # The toxic's own delay before the reset (Toxiproxy's timeout), not a wait.
                        await asyncio.sleep(float(attrs.get("timeout", 0)) / 1000)
                        link.close(reset=True)
                        return
                if drop:
                    continue
                if delay > 0:  # the injected latency itself: what the toxic is for, not a wait
                    await asyncio.sleep(max(0.0, arrived + delay - time.monotonic()))
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            # One side finished: pass the end on (half-close) so the other side can finish too.
            with contextlib.suppress(OSError, RuntimeError):
                if writer.can_write_eof() and not writer.is_closing():
                    writer.write_eof()


class FaultProxy:
    def __init__(self) -> None:
        self.proxies: dict[str, Proxy] = {}

    def _proxy(self, name: str) -> Proxy:
        try:
            return self.proxies[name]
        except KeyError:
            raise ApiError(404, "proxy not found") from None

    async def create(self, body: dict[str, Any], replace: bool = False) -> Proxy:
        name, listen, upstream = body.get("name"), body.get("listen"), body.get("upstream")
        if not name or not listen or not upstream:
            raise ApiError(400, "missing required field: name, listen and upstream")
        old = self.proxies.get(name)
        if old is not None:
            if not replace:
                raise ApiError(409, "proxy already exists")
            if old.listen == listen and old.upstream == upstream:
                return old  # as Toxiproxy's populate: an unchanged proxy keeps its state
            await old.stop()
            del self.proxies[name]
        proxy = Proxy(name, listen, upstream)
        if body.get("enabled", True):
            await proxy.start()
        self.proxies[name] = proxy
        return proxy

    async def update(self, name: str, body: dict[str, Any]) -> Proxy:
        proxy = self._proxy(name)
        if "listen" in body or "upstream" in body:
            was = proxy.enabled
            await proxy.stop()
            proxy.listen = body.get("listen", proxy.listen)
            proxy.upstream = body.get("upstream", proxy.upstream)
            if was:
                await proxy.start()
        if body.get("enabled") is False:
            await proxy.stop()
        elif body.get("enabled") is True:
            await proxy.start()
        return proxy

    def add_toxic(self, name: str, body: dict[str, Any]) -> Toxic:
        proxy = self._proxy(name)
        kind = body.get("type")
        if kind not in TOXIC_TYPES:
            raise ApiError(400, f"invalid toxic type: {kind!r}")
        stream = body.get("stream", "downstream")
        if stream not in STREAMS:
            raise ApiError(400, f"invalid stream: {stream!r}")
        toxic_name = body.get("name") or f"{kind}_{stream}"
        if toxic_name in proxy.toxics:
            raise ApiError(409, "toxic already exists")
        attrs = {**TOXIC_TYPES[kind], **(body.get("attributes") or {})}
        toxic = Toxic(toxic_name, kind, stream, float(body.get("toxicity", 1.0)), attrs)
        proxy.toxics[toxic_name] = toxic
        return toxic

    async def reset(self) -> None:
        for proxy in self.proxies.values():
            for name in list(proxy.toxics):
                proxy.remove_toxic(name)
            await proxy.start()

    async def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        parts = [p for p in path.split("?")[0].split("/") if p]
        if parts == ["version"] and method == "GET":
            return 200, {"version": VERSION}
        if parts == ["reset"] and method == "POST":
            await self.reset()
            return 204, None
        if parts == ["populate"] and method == "POST":
            items = body if isinstance(body, list) else []
            made = [await self.create(item, replace=True) for item in items]
            return 201, {"proxies": [p.as_json() for p in made]}
        if parts[:1] != ["proxies"]:
            raise ApiError(404, "not found")
        if len(parts) == 1:
            if method == "GET":
                return 200, {n: p.as_json() for n, p in self.proxies.items()}
            if method == "POST":
                return 201, (await self.create(body or {})).as_json()
        elif len(parts) == 2:
            if method == "GET":
                return 200, self._proxy(parts[1]).as_json()
            if method in ("POST", "PATCH"):
                return 200, (await self.update(parts[1], body or {})).as_json()
            if method == "DELETE":
                await self._proxy(parts[1]).stop()
                del self.proxies[parts[1]]
                return 204, None
        elif len(parts) == 3 and parts[2] == "toxics":
            if method == "GET":
                return 200, [t.as_json() for t in self._proxy(parts[1]).toxics.values()]
            if method == "POST":
                return 200, self.add_toxic(parts[1], body or {}).as_json()
        elif len(parts) == 4 and parts[2] == "toxics":
            proxy = self._proxy(parts[1])
            if parts[3] not in proxy.toxics:
                raise ApiError(404, "toxic not found")
            if method == "GET":
                return 200, proxy.toxics[parts[3]].as_json()
            if method == "DELETE":
                proxy.remove_toxic(parts[3])
                return 204, None
        raise ApiError(405, f"{method} {path} is not supported")

    async def serve_http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One request per connection (``Connection: close``): all the API needs."""
        status, payload = 500, None
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path = lines[0].split(" ")[:2]
            headers = {k.strip().lower(): v.strip() for k, _, v in
                       (ln.partition(":") for ln in lines[1:] if ln)}
            raw = await reader.readexactly(int(headers.get("content-length", "0") or 0))
            try:
                body = json.loads(raw) if raw.strip() else None
            except json.JSONDecodeError:
                raise ApiError(400, "bad request body: not JSON") from None
            status, payload = await self.handle(method, path, body)
        except ApiError as exc:
            status, payload = exc.status, {"error": exc.message, "status": exc.status}
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError):
            status, payload = 400, {"error": "bad request", "status": 400}
        data = b"" if payload is None else json.dumps(payload).encode() + b"\n"
        reason = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 404: "Not Found",
                  405: "Method Not Allowed", 409: "Conflict"}.get(status, "Error")
        head_out = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n")
        with contextlib.suppress(OSError):
            writer.write(head_out.encode() + data)
            await writer.drain()
            writer.close()


async def serve(host: str, port: int, ready: asyncio.Event | None = None,
                stop: asyncio.Event | None = None, state: list[FaultProxy] | None = None) -> None:
    """Run the control API until ``stop`` is set (tests) or the process is signalled."""
    proxy = FaultProxy()
    if state is not None:
        state.append(proxy)
    server = await asyncio.start_server(proxy.serve_http, host, port, reuse_address=True)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    print(f"faultproxy: API on {host}:{port}", flush=True)
    if ready is not None:
        ready.set()
    async with server:
        await stop.wait()
    for p in proxy.proxies.values():
        await p.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m e2e_shared.services.faultproxy",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8474)
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.host, args.port))
    except OSError as exc:
        print(f"faultproxy: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
