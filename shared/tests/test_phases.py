from __future__ import annotations

import pytest

from e2e_shared import E2EError
from e2e_shared.config import load_tool_config
from e2e_shared.phases import load, parse_shard


def _tool(**phases):
    return {"suites": {"backend": {}, "frontend": {}},
            "phases": {n: {"suites": ["backend"], **spec} for n, spec in phases.items()}}


def test_the_workspace_phases_follow_the_design(root):
    model = load(load_tool_config(root))
    assert model.order() == ["health", "smoke", "flows", "integrity", "resilience"]
    assert model.phase("resilience").needs == ("flows", "integrity")
    assert not model.phase("resilience").parallel and model.phase("resilience").destructive
    assert model.phase("health").blocking and not model.phase("flows").blocking
    assert model.phase("flows").marker == "flow"


def test_order_puts_needs_first_whatever_the_declaration_order():
    model = load(_tool(late={"needs": ["early"]}, early={}))
    assert model.order() == ["early", "late"]


def test_select_by_suite_keeps_only_phases_running_it():
    tool = _tool(a={}, b={"suites": ["frontend"]})
    plan = load(tool).select(suites=["frontend"])
    assert [(p.name, s) for p, s in plan] == [("b", ("frontend",))]


@pytest.mark.parametrize("kind,call", [("phase", lambda m: m.select(phases=["nope"])),
                                       ("suite", lambda m: m.select(suites=["nope"]))])
def test_unknown_names_list_the_valid_ones(kind, call):
    model = load(_tool(a={}, b={}))
    with pytest.raises(E2EError) as info:
        call(model)
    assert f"unknown {kind}" in info.value.cause
    assert ("a, b" if kind == "phase" else "backend, frontend") in info.value.hint


def test_a_phase_cycle_is_refused():
    with pytest.raises(E2EError, match="cycle"):
        load(_tool(a={"needs": ["b"]}, b={"needs": ["a"]}))


def test_a_phase_naming_an_unknown_suite_is_refused():
    with pytest.raises(E2EError, match="unknown suite 'mobile'"):
        load(_tool(a={"suites": ["mobile"]}))


@pytest.mark.parametrize("text,expected", [("1/2", (1, 2)), ("3/3", (3, 3)), (None, None)])
def test_shard_parsing(text, expected):
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text", ["0/2", "3/2", "x", "1-2"])
def test_bad_shards_are_refused_with_the_form(text):
    with pytest.raises(E2EError, match="--shard i/n"):
        parse_shard(text)
