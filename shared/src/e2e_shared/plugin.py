"""The pytest plugin every suite gets by installing ``e2e-shared`` (entry point ``pytest11``).

Scope ladder: the stack, its clients and the run id live for the session; names, the API
client's request log and faults live for one test. The product's own fixtures (factories) come
from its package's plugin, loaded by the name in ``[tool.e2e] product``. A failing test's JUnit entry
carries its failure bundle: the requests it made and what each service logged meanwhile,
with secrets masked.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .clients import ApiClient, Recorder, s3_client, sql_engine
from .config import Endpoints, Settings, load_settings
from .faults import FaultEvent, Faults
from .logwindow import LogWindow
from .masking import mask
from .naming import Namer, new_run_id, node_tag
from .waits import tail

# What the phase runner needs from every suite process (progress, manifest, run watch).
pytest_plugins = ["e2e_shared.jobwatch"]

MARKERS = {
    "health": "the stack's health checks: run first, everything else needs them",
    "smoke": "fast checks that every part answers: run before the flows",
    "flow": "user journeys across several endpoints or pages",
    "integrity": "data and schema integrity, checked in the database",
    "resilience": "stops, kills or restarts services: never against a shared environment",
    "contract(*ids)": "the contract promises this test guards (ids of [tool.e2e] contract)",
}


@dataclass
class Stack:
    """The running stack as the suites see it."""

    settings: Settings
    driver: Any
    endpoints: Endpoints
    run_id: str

    def log_paths(self) -> dict[str, Path]:
        out = {}
        for name in self.driver.stack.names:
            path = self.driver.log_path(name)
            if path:
                out[name] = Path(path)
        return out


@dataclass
class TestContext:
    recorder: Recorder = field(default_factory=Recorder)
    window: LogWindow | None = None
    started: float = field(default_factory=time.time)
    request_id: str | None = None  # X-Request-ID of this test's requests (API client, browser)
    faults: list[FaultEvent] = field(default_factory=list)  # what the faults fixture injected


CTX = pytest.StashKey[TestContext]()
STACK = pytest.StashKey[Stack]()
RUN_ID = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("e2e", "E2E workspace")
    group.addoption("--e2e-target", default=None,
                    help="run against a remote target from [tool.e2e.targets] (nothing is started)")
    group.addoption("--e2e-autostart", action="store_true", default=False,
                    help="start the embedded stack when it is not up, and stop what was started")
    group.addoption("--e2e-artifacts", default=None,
                    help="where failure bundles, traces and screenshots go (default reports/artifacts)")


def pytest_configure(config: pytest.Config) -> None:
    for name, doc in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {doc}")
    config.stash[RUN_ID] = new_run_id()
    _load_product_plugin(config)


def _load_product_plugin(config: pytest.Config) -> None:
    """The product's fixtures (factories): ``<product>.plugin``, found by ``[tool.e2e] product``
    only; the engine imports no product by itself (e2e_shared.product)."""
    from . import E2EError
    from .config import find_root, load_tool_config
    from .product import plugin_module

    try:
        root = find_root()
        tool = load_tool_config(root, validate=False)
    except E2EError:
        return  # outside a workspace (a plain pytest run): no product to load
    # A phase of the workspace's own (one MARKERS does not know) needs no engine edit either.
    for phase, spec in (tool.get("phases") or {}).items():
        marker = spec.get("marker") if isinstance(spec, dict) else None
        if isinstance(marker, str) and marker not in MARKERS:
            config.addinivalue_line("markers", f"{marker}: the {phase} phase ([tool.e2e.phases])")
    try:
        name = plugin_module(tool, root)
    except E2EError as exc:
        raise pytest.UsageError(f"{exc.cause}; {exc.hint}") from None
    if name is not None:
        config.pluginmanager.import_plugin(name)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each test's contract ids become its JUnit property ``contract``; an id the contract
    does not have stops the run (a typo would otherwise guard nothing)."""
    from . import E2EError, contract
    declared: dict[str, str] = {}
    for item in items:
        try:
            ids = [i for m in item.iter_markers("contract") for i in contract.marker_ids(m.args)]
        except E2EError as exc:
            raise pytest.UsageError(f"{item.nodeid}: {exc}") from None
        if ids:
            item.user_properties.append((contract.PROPERTY, " ".join(dict.fromkeys(ids))))
            declared.update(dict.fromkeys(ids, item.nodeid))
    path = (contract.contract_path(config.rootpath) or contract.contract_path()) if declared else None
    if path is not None and path.is_file():
        try:
            bad = contract.unknown(contract.load(path), declared)
        except E2EError as exc:
            raise pytest.UsageError(str(exc)) from None
        if bad:
            raise pytest.UsageError(f"contract ids not in {path.name}: "
                                    + ", ".join(f"{i} ({declared[i]})" for i in bad))


def pytest_report_header(config: pytest.Config) -> str:
    return f"e2e run id: {config.stash[RUN_ID]}"


# --- session scope: the stack and its clients --------------------------------------------------

@pytest.fixture(scope="session")
def run_id(pytestconfig: pytest.Config) -> str:
    """Unique per run: part of every name the factories make."""
    return pytestconfig.stash[RUN_ID]


@pytest.fixture(scope="session")
def stack(pytestconfig: pytest.Config, run_id: str) -> Iterator[Stack]:
    """The running stack: endpoints and the driver handle. Fails in one line when it is not up."""
    from . import E2EError
    from .drivers import get_driver
    from .stackops import require_up

    target = pytestconfig.getoption("--e2e-target")
    started = False
    try:
        settings = load_settings(target=target)
        driver = get_driver(settings=settings)
        try:
            require_up(driver, wait=15.0)
        except E2EError:
            if not pytestconfig.getoption("--e2e-autostart") or target:
                raise
            driver.up(echo=lambda _m: None)
            started = True
    except E2EError as exc:
        pytest.exit(f"{exc.cause}; {exc.hint}" if exc.hint else exc.cause, returncode=4)
    handle = Stack(settings=settings, driver=driver, endpoints=driver.endpoints(), run_id=run_id)
    pytestconfig.stash[STACK] = handle
    yield handle
    if started:  # tear down only what this run started
        driver.down(echo=lambda _m: None)


@pytest.fixture(scope="session")
def endpoints(stack: Stack) -> Endpoints:
    return stack.endpoints


@pytest.fixture(scope="session")
def db(stack: Stack) -> Iterator[Any]:
    """A SQLAlchemy engine (psycopg) on the application's database."""
    engine = sql_engine(stack.endpoints.database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def s3(stack: Stack) -> Any:
    """A boto3 S3 client for the stack's object store."""
    return s3_client(stack.endpoints)


# --- function scope: names, clients, factories, faults ------------------------------------------

@pytest.fixture
def unique(request: pytest.FixtureRequest, run_id: str) -> Namer:
    """``unique("wl")`` -> a name no other test or run uses; ``unique.email()`` likewise."""
    return Namer(run_id, request.node.nodeid)


@pytest.fixture
def api(request: pytest.FixtureRequest, stack: Stack) -> ApiClient:
    """A requests session on the API; ``api.as_user(user)`` acts as that user."""
    ctx = request.node.stash.setdefault(CTX, TestContext())
    _open_window(request.node)  # on a session's first test the stack exists only from here on
    return ApiClient(stack.endpoints.api_url, recorder=ctx.recorder,
                     request_id=_request_id(request.node))


@pytest.fixture
def request_id(request: pytest.FixtureRequest) -> str:
    """This test's request id: send it as ``X-Request-ID`` (the ``api`` client does; the browser
    suite sets it on its contexts) and its failure bundle shows only these requests' log lines."""
    return _request_id(request.node)


def _request_id(item: pytest.Item) -> str:
    ctx = item.stash.setdefault(CTX, TestContext())
    if ctx.request_id is None:
        ctx.request_id = f"{item.config.stash[RUN_ID]}-{node_tag(item.nodeid)}"
    return ctx.request_id


@pytest.fixture
def faults(request: pytest.FixtureRequest, stack: Stack) -> Iterator[Faults]:
    """Stop, kill or restart services, or disturb their traffic through the fault proxy
    (latency, cut, blackhole, bandwidth); everything is undone and the stack ready before the
    next test. What was injected, and when, is in the test's failure bundle."""
    if stack.settings.profile == "remote":
        pytest.fail("fault injection is refused on a remote target", pytrace=False)
    handle = Faults(stack.driver)
    ctx = request.node.stash.setdefault(CTX, TestContext())
    handle.events = ctx.faults  # the same list: the bundle shows them even mid-test
    try:
        yield handle
    finally:
        handle.restore()


@pytest.fixture
def resources(stack: Stack) -> Any:
    """A service's RSS, descriptors and threads now (``resources.snapshot("api")``), and
    ``resources.settle("api", fds=before.fds)`` to wait until its descriptors come back.
    Only on the embedded driver: elsewhere the services' processes are not on this machine."""
    from .resources import NOT_EMBEDDED, Resources

    if stack.settings.target or stack.settings.profile != "embedded":
        pytest.fail(f"{NOT_EMBEDDED} (this stack: {stack.settings.target or stack.settings.profile})",
                    pytrace=False)
    return Resources(stack.settings.state_file)


# --- failure bundles ---------------------------------------------------------------------------

def _open_window(item: pytest.Item) -> None:
    ctx = item.stash.setdefault(CTX, TestContext())
    handle = item.config.stash.get(STACK, None)
    if ctx.window is None and handle is not None:
        ctx.window = LogWindow(handle.log_paths()).open()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    item.stash[CTX] = TestContext()
    _open_window(item)
    yield
    _open_window(item)  # the stack fixture may only exist now, on the first test


def render_bundle(ctx: TestContext, run_id: str, stack: Stack | None = None) -> str:
    lines = [f"--- e2e failure bundle (run {run_id}, test started "
             f"{time.strftime('%H:%M:%S', time.localtime(ctx.started))}) ---"]
    dead = stack.driver.dead_services() if stack is not None else []
    for service in dead:  # a killed service logs nothing: say so, with the end of its log
        lines.append(f"service {service} was NOT RUNNING when the test failed; last lines of its log:")
        lines += [f"  [{service}] {e}" for e in tail(stack.log_paths().get(service), 10)]
    if ctx.faults:
        lines.append(f"faults injected ({len(ctx.faults)}):")
        lines += [f"  {e.render()}" for e in ctx.faults]
    reqs = ctx.recorder.render()
    lines.append(f"requests made ({len(ctx.recorder.exchanges)}):")
    lines += [f"  {r}" for r in reqs] or ["  (none)"]
    logs = ctx.window.read(request_id=ctx.request_id) if ctx.window else {}
    if ctx.request_id:
        lines.append(f"service log lines during the test (request id {ctx.request_id}, "
                     "plus lines of no request):" if logs else "service logs: nothing logged")
    else:
        lines.append("service log lines during the test:" if logs
                     else "service logs: nothing logged")
    for service, entries in logs.items():
        lines += [f"  [{service}] {e}" for e in entries]
    return mask("\n".join(lines))


def _safe(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid)[-150:]


def failure_headline(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    """The exception's type and the first line of its message: ``AssertionError: expected 200``.

    What CI readers show as a failure's headline (pytest's JUnit ``message``, the terminal's short
    summary, the merged reports); the rest of the message stays in the failure's text.
    """
    kind = excinfo.type.__name__
    first = next((line.strip() for line in str(excinfo.value).splitlines() if line.strip()), "")
    return f"{kind}: {first}" if first else kind


def _mask_longrepr(longrepr: Any) -> Any:
    """Mask secrets in a failure's representation in place, keeping it an object: junitxml
    reads its ``reprcrash`` for the headline, and the terminal keeps its colours."""
    if isinstance(longrepr, str):
        return mask(longrepr)
    traceback = getattr(longrepr, "reprtraceback", None)
    if traceback is None:
        return longrepr
    chain = getattr(longrepr, "chain", None) or [(traceback, longrepr.reprcrash, None)]
    for tb, crash, _ in chain:
        if crash is not None:
            crash.message = mask(crash.message)
        for entry in tb.reprentries:
            entry.lines = [mask(line) for line in entry.lines]
            funcargs = getattr(entry, "reprfuncargs", None)
            if funcargs is not None:
                funcargs.args = [(name, mask(str(value))) for name, value in funcargs.args]
            reprlocals = getattr(entry, "reprlocals", None)
            if reprlocals is not None:
                reprlocals.lines = [mask(line) for line in reprlocals.lines]
        if tb.extraline:
            tb.extraline = mask(tb.extraline)
    longrepr.sections = [(name, mask(text), sep) for name, text, sep in longrepr.sections]
    return longrepr


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    # Captured output goes to the JUnit file's <system-out>: no token may ride along.
    report.sections = [(title, mask(text)) for title, text in report.sections]
    if not report.failed or hasattr(report, "wasxfail"):
        return
    ctx = item.stash.get(CTX, None) or TestContext()
    run = item.config.stash[RUN_ID]
    try:
        bundle = render_bundle(ctx, run, item.config.stash.get(STACK, None))
    except Exception as exc:  # a broken bundle must never hide the test's own failure
        bundle = f"--- e2e failure bundle unavailable: {type(exc).__name__}: {exc} ---"
    # The longrepr stays an object (junitxml takes the failure's message from its reprcrash);
    # the headline is the exception's own first line, the bundle a section of the text.
    report.longrepr = _mask_longrepr(report.longrepr)
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None and call.excinfo is not None:
        crash.message = mask(failure_headline(call.excinfo))
    if hasattr(report.longrepr, "addsection"):
        report.longrepr.addsection("e2e failure bundle", bundle)
    else:  # a plain-text longrepr (e.g. a strict xfail that passed): append to it
        report.longrepr = f"{report.longrepr}\n\n{bundle}"
    base = item.config.getoption("--e2e-artifacts")
    folder = (Path(base) if base else item.config.rootpath / "reports" / "artifacts") / run
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{_safe(item.nodeid)}.{report.when}.bundle.txt"
        path.write_text(bundle + "\n", encoding="utf-8")
        # JUnit takes properties from the teardown report, which copies the item's.
        item.user_properties.append(("attachment", str(path)))
    except OSError:
        pass  # the bundle is in the JUnit failure text already
