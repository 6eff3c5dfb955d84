"""What only the pipeline suite needs: its readers of SQL, S3 and the API, the loader, and the lock
that keeps its fault tests apart from the tests of another run on the same stack."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e_shared.clients import ApiClient
from e2e_shared.naming import Namer
from pipeline_e2e.support.loading import Loader
from pipeline_e2e.support.locks import SuiteLock, held
from pipeline_e2e.support.market import Market
from pipeline_e2e.support.objects import Buckets
from pipeline_e2e.support.warehouse import Warehouse
from tradeboard_fixtures.factories import User, UserFactory

PHASES = ("health", "smoke", "flow", "integrity", "resilience")
# Honoured so that this suite and the backend suite can run at once against one stack: the backend
# suite's fault lock (shared by its ordinary tests, exclusive in its fault tests), and its worker
# lock (exclusive while it times journeys that need the one pipeline worker, shared by tests that
# give the worker seconds of work).
OTHER_SUITES_FAULT_LOCKS = ("locks/backend-e2e-faults.lock",)
WORKER_TIMING_LOCK = "locks/backend-e2e-worker.lock"
RELOGIN_AFTER_S = 600  # well inside the API's default 900 s access-token lifetime


def _phases(item: pytest.Item) -> list[str]:
    return [m.name for m in item.iter_markers() if m.name in PHASES]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test of this suite carries exactly one phase marker (it decides when the test runs);
    in a whole-suite run its phases go in their order, fault tests last, and within a phase the
    modules that set ``RUN_LAST_IN_PHASE`` after the others."""
    here = Path(__file__).parent
    slots = [i for i, item in enumerate(items) if here in Path(str(item.path)).parents]
    mine = [items[i] for i in slots]
    wrong = [f"{item.nodeid}: {_phases(item) or 'none'}" for item in mine if len(_phases(item)) != 1]
    if wrong:
        raise pytest.UsageError("tests need exactly one phase marker:\n  " + "\n  ".join(wrong))
    mine.sort(key=lambda item: (PHASES.index(_phases(item)[0]),  # stable: file order within a phase
                                getattr(getattr(item, "module", None), "RUN_LAST_IN_PHASE", False)))
    for slot, item in zip(slots, mine, strict=True):
        items[slot] = item


@pytest.fixture(scope="session")
def suite_lock(stack: Any) -> SuiteLock:
    state_dir = Path(stack.settings.state_dir)
    return SuiteLock(state_dir, others=[state_dir / path for path in OTHER_SUITES_FAULT_LOCKS])


@pytest.fixture(autouse=True)
def _one_fault_at_a_time(request: pytest.FixtureRequest, suite_lock: SuiteLock) -> Iterator[None]:
    """Fault tests run alone among the runs of this suite on this stack; the others share."""
    exclusive = request.node.get_closest_marker("resilience") is not None
    with suite_lock.exclusive() if exclusive else suite_lock.shared():
        yield


@pytest.fixture
def busy_worker(stack: Any) -> Iterator[None]:
    """For a test that gives the one pipeline worker seconds of work: never while a test of any
    run times the worker (``quiet_worker``)."""
    path = Path(stack.settings.state_dir) / WORKER_TIMING_LOCK
    with held(path, fcntl.LOCK_SH, f"{path} (a test timing the worker)"):
        yield


@pytest.fixture
def quiet_worker(stack: Any) -> Iterator[None]:
    """For a test that times the worker: no seconds-long loads or exports of other runs meanwhile."""
    path = Path(stack.settings.state_dir) / WORKER_TIMING_LOCK
    with held(path, fcntl.LOCK_EX, f"{path} (other runs' long work on the worker)"):
        yield


@pytest.fixture(scope="session")
def warehouse(db: Any) -> Warehouse:
    return Warehouse(db)


@pytest.fixture(scope="session")
def buckets(s3: Any) -> Buckets:
    return Buckets(s3)


@pytest.fixture(scope="session")
def _uploaders(stack: Any, run_id: str, db: Any) -> Iterator[tuple[UserFactory, User, list[float]]]:
    factory = UserFactory(ApiClient(stack.endpoints.api_url), Namer(run_id, "pipeline_e2e:uploader"), db)
    user = factory.create("pipeline")
    yield factory, user, [time.monotonic()]
    factory.cleanup()


@pytest.fixture
def uploader(_uploaders: tuple[UserFactory, User, list[float]]) -> User:
    """One signed-in user for the whole run (a sign-up per test would cost two argon2 hashes, up to
    a second each on a target at production cost); each test's files have their own names and
    time window, so sharing the account shares no data."""
    factory, user, logged_in = _uploaders
    if time.monotonic() - logged_in[0] > RELOGIN_AFTER_S:
        factory.login(user)
        logged_in[0] = time.monotonic()
    return user


@pytest.fixture
def market(api: Any, uploader: User) -> Market:
    """The market-data and status endpoints, read as the run's uploader."""
    return Market(api.as_user(uploader))


@pytest.fixture
def loader(trade_files: Any, uploader: User, market: Market, warehouse: Warehouse, api: Any) -> Loader:
    return Loader(trade_files, uploader, market, warehouse, api)


@pytest.fixture
def worker_log(stack: Any) -> Callable[[], list[str]]:
    """``worker_log()``: the pipeline's log lines written since the test started."""
    path = Path(stack.driver.log_path("pipeline") or "/nonexistent")
    start = path.stat().st_size if path.is_file() else 0

    def since_start() -> list[str]:
        if not path.is_file():
            return []
        with path.open("rb") as f:
            f.seek(start if path.stat().st_size >= start else 0)
            return f.read().decode("utf-8", "replace").splitlines()

    return since_start
