"""What is specific to the backend suite: phase order, the locks that let two runs share one
stack, data shared by several tests (the smoke ``world``, a module's user), SQL in a
rolled-back transaction.

Everything generic (the stack, clients, factories, faults, waits) comes from the library's
pytest plugin (``e2e_shared.plugin``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from backend_e2e.exclusive import StackLock
from backend_e2e.scoped import Toolkit
from backend_e2e.world import World
from e2e_shared.waits import Poll, wait_until

# A run goes through the phases in their order: health first, the fault tests last.
PHASE_ORDER = ("health", "smoke", "flow", "integrity", "resilience")


def _phase(item: pytest.Item) -> int:
    for i, name in enumerate(PHASE_ORDER):
        if item.get_closest_marker(name) is not None:
            return i
    return len(PHASE_ORDER)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_phase)  # stable: the order within a phase is the file order


def pytest_collection_finish(session: pytest.Session) -> None:
    unmarked = [i.nodeid for i in session.items if _phase(i) == len(PHASE_ORDER)]
    if unmarked:  # every test decides its phase by exactly one marker
        raise pytest.UsageError(f"tests without a phase marker: {', '.join(unmarked)}")


@pytest.fixture(scope="session")
def _locks(stack: Any) -> Iterator[tuple[StackLock, StackLock]]:
    folder = Path(stack.settings.state_dir) / "locks"
    faults, load = StackLock(folder / "backend-e2e-faults.lock"), StackLock(folder / "backend-e2e-load.lock")
    faults.shared()  # before any shared data is made (the run's first fixtures call the API too)
    yield faults, load
    faults.close()
    load.close()


@pytest.fixture(scope="session")
def exclusive_stack(_locks: tuple[StackLock, StackLock]) -> Iterator[None]:
    """This run alone on the stack from now to its end: what fault scenarios need first."""
    _locks[0].exclusive()
    yield


@pytest.fixture
def quiet_stack() -> None:
    """Requested by a test that measures time under a load of its own making: while it runs, no
    test of another run of this suite runs against the stack (see ``_isolation``)."""


@pytest.fixture(autouse=True)
def _isolation(request: pytest.FixtureRequest, _locks: tuple[StackLock, StackLock]) -> Iterator[None]:
    """Two runs of the suite at once against one stack (see ``backend_e2e.exclusive``).

    Fault tests hold the fault lock exclusively (to the end of the run), all others share it.
    Per test, a ``quiet_stack`` test holds the load lock exclusively, all others share it.
    """
    faults, load = _locks
    if request.node.get_closest_marker("resilience") is not None:
        request.getfixturevalue("exclusive_stack")
        yield
        return
    faults.shared()
    if "quiet_stack" in request.fixturenames:
        load.exclusive()
    else:
        load.shared()
    yield
    load.release()


@pytest.fixture(scope="module")
def shared_user(make_toolkit: Callable[..., Toolkit], request: pytest.FixtureRequest) -> Iterator[Any]:
    """One signed-in user for a module's tests that only look at what they made themselves.

    Signing up and logging in cost an argon2 hash each (cheap in the local test stack, up to a
    second on a target at production cost): sharing the account where that is harmless keeps the
    suite fast. Tests that count or list a user's things use ``user``.
    """
    kit = make_toolkit(f"{request.module.__name__}::shared")
    yield kit.users.create("shared")
    kit.close()


@pytest.fixture
def sql(db: Any) -> Iterator[Any]:
    """A connection inside a transaction that is always rolled back: bad rows never stay."""
    with db.connect() as conn:
        trans = conn.begin()
        try:
            yield conn
        finally:
            trans.rollback()


@pytest.fixture(scope="session")
def make_toolkit(stack: Any, run_id: str, db: Any, s3: Any, _windows: Any) -> Callable[..., Toolkit]:
    """Factories for data shared by a module (or used by a thread); the caller closes them."""
    return lambda label, recorder=None: Toolkit.make(stack, run_id, label, db, s3, _windows, recorder)


@pytest.fixture(scope="session")
def world(make_toolkit: Callable[..., Toolkit]) -> Iterator[World]:
    """One user with a watchlist, an upload and a finished export, shared by the smoke tests."""
    kit = make_toolkit("backend_e2e::world")
    built = World.build(kit.api, kit.namer, kit.users, kit.trade_files)
    yield built
    built.cleanup()
    kit.close()


@pytest.fixture(scope="session")
def expired_token(world: World) -> str:
    """An access token of a live session whose lifetime has run out."""
    body = {"email": world.user.email, "password": world.user.password, "ttl_seconds": 1}
    token = world.api.post("/auth/login", json=body, expect=200).json()["access_token"]
    probe = world.api.with_token(token)

    def refused() -> Poll:
        resp = probe.get("/auth/me")
        return Poll(resp.status_code == 401, (resp.status_code, resp.text[:200]))

    wait_until(refused, what="a 1-second access token to be refused", timeout=5, interval=0.1)
    return token
