"""Fault injection through the stack driver, always undone after the test."""

from __future__ import annotations

from .drivers import StackDriver
from .stackops import require_up


class Faults:
    """Stop, kill or restart one service; :meth:`restore` brings every touched one back, ready."""

    def __init__(self, driver: StackDriver) -> None:
        self.driver = driver
        self.touched: list[str] = []

    def _touch(self, service: str) -> None:
        self.driver.stack.get(service)
        if service not in self.touched:
            self.touched.append(service)

    def stop(self, service: str) -> None:
        self._touch(service)
        self.driver.stop(service)

    def kill(self, service: str) -> None:
        self._touch(service)
        self.driver.kill(service)

    def start(self, service: str) -> None:
        self.driver.start(service, echo=lambda _m: None)

    def restart(self, service: str) -> None:
        self._touch(service)
        self.driver.restart(service, echo=lambda _m: None)

    def restore(self) -> None:
        """Start whatever this test stopped, then check the whole stack answers its readiness checks."""
        for service in self.touched:
            self.driver.start(service, echo=lambda _m: None)
        self.touched.clear()
        require_up(self.driver)
