"""The phase model: which suites each phase runs, what it needs, and how it may run.

Declared in ``[tool.e2e.phases]`` and ``[tool.e2e.suites]``; this module only reads, checks and
plans. :mod:`e2e_shared.runner` executes the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import E2EError


@dataclass(frozen=True)
class Suite:
    name: str
    path: str
    session: str


@dataclass(frozen=True)
class Phase:
    name: str
    marker: str
    suites: tuple[str, ...]
    needs: tuple[str, ...] = ()
    parallel: bool = True
    timeout: float = 600.0
    blocking: bool = True
    destructive: bool = False
    seed: bool = True  # the phase needs the seeded baseline


@dataclass(frozen=True)
class PhaseModel:
    phases: dict[str, Phase]
    suites: dict[str, Suite]

    def phase(self, name: str) -> Phase:
        try:
            return self.phases[name]
        except KeyError:
            raise E2EError(f"unknown phase {name!r}", f"valid phases: {', '.join(self.phases)}") from None

    def suite(self, name: str) -> Suite:
        try:
            return self.suites[name]
        except KeyError:
            raise E2EError(f"unknown suite {name!r}", f"valid suites: {', '.join(self.suites)}") from None

    def order(self) -> list[str]:
        """Phases in dependency order (declaration order among equals)."""
        done: list[str] = []

        def visit(name: str, trail: tuple[str, ...]) -> None:
            if name in trail:
                raise E2EError(f"phase cycle: {' -> '.join((*trail, name))}",
                               "fix `needs` in [tool.e2e.phases]")
            if name in done:
                return
            for need in self.phases[name].needs:
                visit(need, (*trail, name))
            done.append(name)

        for name in self.phases:
            visit(name, ())
        return done

    def select(self, phases: list[str] | None = None, suites: list[str] | None = None
               ) -> list[tuple[Phase, tuple[str, ...]]]:
        """The plan: (phase, its suites to run) in dependency order, for the chosen phases and suites."""
        wanted_phases = {self.phase(p).name for p in phases} if phases else set(self.phases)
        wanted_suites = {self.suite(s).name for s in suites} if suites else set(self.suites)
        plan = []
        for name in self.order():
            phase = self.phases[name]
            if name not in wanted_phases:
                continue
            chosen = tuple(s for s in phase.suites if s in wanted_suites)
            if chosen:
                plan.append((phase, chosen))
        return plan


def load(tool: dict[str, Any]) -> PhaseModel:
    raw_suites = tool.get("suites") or {}
    suites = {name: Suite(name=name, path=spec.get("path", f"{name}_e2e"),
                          session=spec.get("session", name)) for name, spec in raw_suites.items()}
    phases: dict[str, Phase] = {}
    for name, spec in (tool.get("phases") or {}).items():
        where = f"[tool.e2e.phases.{name}]"
        if "suites" not in spec:
            raise E2EError(f"{where} lacks 'suites'", "name the suites the phase runs")
        phase = Phase(
            name=name, marker=spec.get("marker", name), suites=tuple(spec["suites"]),
            needs=tuple(spec.get("needs", ())), parallel=bool(spec.get("parallel", True)),
            timeout=float(spec.get("timeout", 600)), blocking=bool(spec.get("blocking", True)),
            destructive=bool(spec.get("destructive", False)), seed=bool(spec.get("seed", True)),
        )
        for suite in phase.suites:
            if suite not in suites:
                raise E2EError(f"{where} names unknown suite {suite!r}",
                               f"valid suites: {', '.join(suites)}")
        phases[name] = phase
    for phase in phases.values():
        for need in phase.needs:
            if need not in phases:
                raise E2EError(f"phase {phase.name!r} needs unknown phase {need!r}",
                               f"valid phases: {', '.join(phases)}")
    model = PhaseModel(phases=phases, suites=suites)
    model.order()  # raises on cycles
    return model


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"2/4"`` -> (2, 4); refuses anything else with the expected form."""
    if not text:
        return None
    try:
        index, total = (int(x) for x in text.split("/"))
    except ValueError:
        raise E2EError(f"bad shard {text!r}", "use --shard i/n, e.g. --shard 1/2") from None
    if not 1 <= index <= total:
        raise E2EError(f"bad shard {text!r}: i must be between 1 and n", "use --shard i/n, e.g. --shard 1/2")
    return index, total
