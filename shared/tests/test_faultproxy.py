"""The fault proxy for real: sockets, its Toxiproxy-shaped API, and the embedded driver's routes."""

from __future__ import annotations

import json
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from e2e_shared import E2EError, procs
from e2e_shared.config import Settings, load_tool_config
from e2e_shared.drivers.embedded import EmbeddedDriver
from e2e_shared.faults import Faults
from e2e_shared.stackdef import parse
from e2e_shared.state import StackState
from e2e_shared.toxiproxy import ToxiproxyClient
from e2e_shared.waits import wait_until


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        pass  # a cut resets the proxy's upstream connection too: expected, not worth a traceback


@pytest.fixture
def upstream() -> Iterator[int]:
    server = _Server(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy_api() -> Iterator[ToxiproxyClient]:
    port = procs.free_port()
    proc = subprocess.Popen([sys.executable, "-m", "e2e_shared.services.faultproxy", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = ToxiproxyClient(f"http://127.0.0.1:{port}", timeout=2.0)

    def answers() -> bool:
        try:
            return bool(client.version())
        except E2EError:
            return False

    try:
        wait_until(answers, what="the fault proxy to answer", timeout=10.0, interval=0.05)
        yield client
    finally:
        proc.terminate()
        proc.wait(timeout=5)


@pytest.fixture
def route(proxy_api: ToxiproxyClient, upstream: int) -> tuple[ToxiproxyClient, int]:
    listen = procs.free_port()
    proxy_api.request("POST", "/proxies", {"name": "echo", "listen": f"127.0.0.1:{listen}",
                                           "upstream": f"127.0.0.1:{upstream}"})
    return proxy_api, listen


def _round_trip(port: int, payload: bytes = b"ping", timeout: float = 3.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(payload)
        return sock.recv(65536)


# --- the API's shapes (Toxiproxy's) ---------------------------------------------------------

def test_the_api_answers_in_toxiproxys_shapes(route):
    client, listen = route
    assert "version" in client.request("GET", "/version")
    proxies = client.proxies()
    assert proxies["echo"] | {"toxics": []} == {
        "name": "echo", "listen": f"127.0.0.1:{listen}", "upstream": proxies["echo"]["upstream"],
        "enabled": True, "toxics": []}
    toxic = client.request("POST", "/proxies/echo/toxics",
                           {"type": "latency", "attributes": {"latency": 10}})
    assert toxic == {"name": "latency_downstream", "type": "latency", "stream": "downstream",
                     "toxicity": 1.0, "attributes": {"latency": 10, "jitter": 0}}
    assert [t["name"] for t in client.toxics("echo")] == ["latency_downstream"]
    client.remove_toxic("echo", "latency_downstream")
    assert client.toxics("echo") == []


@pytest.mark.parametrize(("method", "path", "body", "status", "error"), [
    ("GET", "/proxies/nope", None, 404, "proxy not found"),
    ("POST", "/proxies", {"name": "echo", "listen": "127.0.0.1:1", "upstream": "127.0.0.1:2"}, 409,
     "proxy already exists"),
    ("POST", "/proxies/echo/toxics", {"type": "gremlins"}, 400, "invalid toxic type: 'gremlins'"),
    ("DELETE", "/proxies/echo/toxics/nope", None, 404, "toxic not found"),
])
def test_api_errors_are_json_with_error_and_status(route, method, path, body, status, error):
    client, _listen = route
    req = urllib.request.Request(client.base_url + path, method=method,
                                 data=None if body is None else json.dumps(body).encode())
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=2)
    assert info.value.code == status
    assert json.loads(info.value.read()) == {"error": error, "status": status}


def test_the_client_turns_an_api_error_into_one_line(route):
    client, _listen = route
    with pytest.raises(E2EError, match="answered 404: proxy not found"):
        client.set_enabled("nope", False)


# --- on the wire ----------------------------------------------------------------------------

def test_traffic_passes_through_unchanged(route):
    _client, listen = route
    assert _round_trip(listen, b"hello") == b"hello"


def test_latency_delays_the_answer_by_at_least_the_latency(route):
    client, listen = route
    client.add_toxic("echo", "latency", {"latency": 300})
    t0 = time.monotonic()
    assert _round_trip(listen) == b"ping"
    assert time.monotonic() - t0 >= 0.3


def test_cut_resets_open_connections_and_refuses_new_ones_until_enabled(route):
    client, listen = route
    sock = socket.create_connection(("127.0.0.1", listen), timeout=3)
    sock.sendall(b"a")
    assert sock.recv(10) == b"a"
    client.set_enabled("echo", False)
    with pytest.raises(ConnectionResetError):
        sock.sendall(b"b")
        if sock.recv(10) == b"":  # the reset may arrive as the read's error or as the next write's
            sock.sendall(b"c")
    sock.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", listen), timeout=3)
    client.set_enabled("echo", True)
    assert _round_trip(listen) == b"ping"


def test_blackhole_accepts_never_answers_and_restore_brings_traffic_back(route):
    client, listen = route
    client.add_toxic("echo", "timeout", {"timeout": 0}, stream="upstream", name="hole")
    held = socket.create_connection(("127.0.0.1", listen), timeout=0.5)  # accepted
    held.sendall(b"anyone?")
    with pytest.raises(TimeoutError):
        held.recv(10)
    client.restore("echo")
    held.settimeout(3)
    assert held.recv(10) == b""  # removing a timeout toxic closes what it held, as Toxiproxy does
    held.close()
    assert _round_trip(listen) == b"ping"


def test_bandwidth_slows_a_large_answer(route):
    client, listen = route
    client.add_toxic("echo", "bandwidth", {"rate": 100})  # 100 KB/s
    payload = b"x" * 40_000
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", listen), timeout=5) as sock:
        sock.sendall(payload)
        got = b""
        while len(got) < len(payload):
            got += sock.recv(65536)
    assert time.monotonic() - t0 >= 0.35  # 40 KB at 100 KB/s: 0.4 s, less the timer's slack


def test_reset_removes_every_toxic_and_enables_every_proxy(route):
    client, listen = route
    client.add_toxic("echo", "latency", {"latency": 5000})
    client.set_enabled("echo", False)
    client.reset()
    assert client.proxies()["echo"]["enabled"] is True and client.toxics("echo") == []
    assert _round_trip(listen) == b"ping"


def test_a_down_upstream_closes_the_clients_connection(proxy_api):
    listen, dead = procs.free_port(), procs.free_port()
    proxy_api.request("POST", "/proxies", {"name": "gone", "listen": f"127.0.0.1:{listen}",
                                           "upstream": f"127.0.0.1:{dead}"})
    assert _round_trip(listen) == b""


# --- the stack definition and the faults handle -------------------------------------------

def _tool(**services):
    base = {"command": ["run"], "ready": "tcp", "port": 0}
    return {"services": {name: {**base, **spec} for name, spec in services.items()}}


def test_a_proxied_service_depends_on_the_fault_proxy():
    stack = parse(_tool(faultproxy={}, redis={"proxy": True}, app={"depends_on": ["redis"]}))
    assert stack.services["redis"].depends_on == ("faultproxy",)
    assert stack.waves() == [["faultproxy"], ["redis"], ["app"]]
    assert stack.proxied == ["redis"]


def test_proxy_without_the_fault_proxy_service_is_refused():
    with pytest.raises(E2EError, match=r"no \[tool.e2e.services.faultproxy\]"):
        parse(_tool(redis={"proxy": True}))


def test_proxy_on_a_service_without_a_port_is_refused():
    with pytest.raises(E2EError, match="has no port"):
        parse({"services": {"faultproxy": {"command": ["x"], "ready": "tcp", "port": 0},
                            "worker": {"command": ["x"], "ready": "tcp", "proxy": True}}})


def test_a_wire_fault_on_a_service_not_behind_the_proxy_says_how_to_put_it_there():
    stack = parse(_tool(faultproxy={}, db={}))
    faults = Faults(SimpleNamespace(stack=stack))
    with pytest.raises(E2EError) as info:
        faults.latency("db", ms=100)
    assert str(info.value) == ("service db is not behind the fault proxy "
                               "(set proxy = true in [tool.e2e.services.db])")


# --- through the embedded driver -------------------------------------------------------------

def _driver(root, tmp_path) -> EmbeddedDriver:
    tool = load_tool_config(root)
    http = {"command": ["{python}", "-m", "http.server", "{port}", "--bind", "127.0.0.1"],
            "ready": "http", "port": 0, "proxy": True}
    tool = {**tool, "state_dir": str(tmp_path / "state"), "endpoints": {"api_url": "http://127.0.0.1:{web.port}"},
            "services": {"faultproxy": dict(tool["services"]["faultproxy"], port=0), "web": http}}
    return EmbeddedDriver(Settings(root=root, tool=tool, profile="embedded"), parse(tool))


def _get(url: str, timeout: float = 5.0) -> int:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.status


def test_the_embedded_driver_routes_a_service_through_the_proxy_and_faults_act_on_it(root, tmp_path):
    quiet = lambda _m: None  # noqa: E731
    driver = _driver(root, tmp_path)
    try:
        ep = driver.up(echo=quiet)
        st = StackState.load(driver.settings.state_file).services["web"]
        assert st.internal_port and st.internal_port != st.port
        assert ep.api_url == f"http://127.0.0.1:{st.port}"  # clients get the proxy's listener
        row = next(r for r in driver.status() if r.name == "web")
        assert (row.port, row.internal_port, row.ready) == (st.port, st.internal_port, True)
        assert _get(ep.api_url) == 200

        faults = Faults(driver)
        faults.cut("web")
        with pytest.raises(urllib.error.URLError):
            _get(ep.api_url)
        faults.latency("web", ms=300)
        faults.restore("web")
        assert _get(ep.api_url) == 200
        faults.latency("web", ms=300)
        t0 = time.monotonic()
        assert _get(ep.api_url) == 200 and time.monotonic() - t0 >= 0.3
        faults.restore()
        assert [e.what.split()[0] for e in faults.events] == ["cut", "latency", "restored", "latency",
                                                              "restored"]

        # A restarted proxy gets every route back, on the same public port.
        driver.kill("faultproxy")
        driver.start("faultproxy", echo=quiet)
        assert _get(ep.api_url) == 200
        # A restarted service keeps its public port; the route follows its own port.
        driver.restart("web", echo=quiet)
        assert StackState.load(driver.settings.state_file).services["web"].port == st.port
        assert _get(ep.api_url) == 200
    finally:
        driver.down(echo=quiet)
    assert not procs.port_in_use(st.port) and not procs.port_in_use(st.internal_port)


# --- recorded for the failure bundle, undone by restore() ----------------------------------------

class _FakeProxy:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def toxics(self, proxy):
        return []

    def add_toxic(self, proxy, kind, attributes, *, stream, name):
        self.calls.append(("add", proxy, kind, stream))

    def set_enabled(self, proxy, enabled):
        self.calls.append(("enabled", proxy, enabled))

    def restore(self, proxy):
        self.calls.append(("restore", proxy))


def test_wire_faults_are_recorded_shown_in_the_bundle_and_all_undone(monkeypatch):
    from e2e_shared import faults as faults_module
    from e2e_shared.plugin import TestContext, render_bundle

    proxy = _FakeProxy()
    stack = parse(_tool(faultproxy={}, api={"proxy": True}, redis={"proxy": True}))
    driver = SimpleNamespace(stack=stack, proxy_client=lambda: proxy)
    ups: list[object] = []
    monkeypatch.setattr(faults_module, "require_up", ups.append)
    ctx = TestContext()
    handle = Faults(driver)
    handle.events = ctx.faults
    handle.latency("redis", ms=300)
    handle.cut("api")
    handle.blackhole("api")
    bundle = render_bundle(ctx, "run1")
    assert "faults injected (3):" in bundle
    listed = bundle.split("faults injected (3):\n", 1)[1].splitlines()[:3]
    assert [line.split(" ", 3)[-1] for line in listed] == [
        "redis: latency 300 ms", "api: cut (connections reset, new ones refused)",
        "api: blackhole (accepts, never answers)"]
    handle.restore()
    assert ("restore", "redis") in proxy.calls and ("restore", "api") in proxy.calls
    assert ups == [driver] and handle.wired == []
