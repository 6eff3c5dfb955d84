from __future__ import annotations

import json

import pytest
import yaml

from e2e_shared import E2EError
from e2e_shared.config import load_tool_config
from e2e_shared.stackdef import parse, render, template_context
from e2e_shared.toxiproxy import PROXY_SERVICE


def _tool(**services):
    base = {"command": ["run"], "ready": "sql"}
    return {"services": {name: {**base, **spec} for name, spec in services.items()}}


def test_independent_services_share_the_first_wave():
    stack = parse(_tool(db={}, objects={}, api={"depends_on": ["db", "objects"]},
                        web={"depends_on": ["api"]}))
    assert stack.waves() == [["db", "objects"], ["api"], ["web"]]


def test_waves_for_a_subset_include_its_dependencies_only():
    stack = parse(_tool(db={}, objects={}, api={"depends_on": ["db"]}))
    assert stack.waves(["api"]) == [["db"], ["api"]]


def test_an_unknown_service_lists_the_valid_names():
    stack = parse(_tool(db={}, objects={}))
    with pytest.raises(E2EError) as info:
        stack.get("dbb")
    assert "db, objects" in info.value.hint


def test_an_unknown_dependency_is_refused():
    with pytest.raises(E2EError, match="unknown service 'cache'"):
        parse(_tool(api={"depends_on": ["cache"]}))


def test_a_dependency_cycle_is_refused():
    with pytest.raises(E2EError, match="cycle"):
        parse(_tool(a={"depends_on": ["b"]}, b={"depends_on": ["a"]}))


def test_an_unknown_readiness_check_is_refused():
    with pytest.raises(E2EError, match="ready"):
        parse(_tool(db={"ready": "vibes"}))


def test_templates_resolve_other_services_ports():
    ctx = template_context({"db": 5432}, python="/py", port=1)
    assert render(["{python}", "--db", "127.0.0.1:{db.port}", "-p", "{port}"], ctx) == [
        "/py", "--db", "127.0.0.1:5432", "-p", "1"]


def test_an_unknown_template_field_is_named():
    with pytest.raises(E2EError, match="nope"):
        render("{nope}", template_context({}))


# --- the workspace's own definition, and its agreement with compose.yaml ---------------

def _compose(root):
    return yaml.safe_load((root / "compose" / "compose.yaml").read_text())


def _stack_services(compose):
    """compose services that are part of the stack (not one-shot init jobs)."""
    return {name: svc for name, svc in compose["services"].items()
            if "e2e.init-for" not in (svc.get("labels") or {})}


def test_the_workspace_definition_parses(root):
    stack = parse(load_tool_config(root))
    assert {"db", "objects"} <= set(stack.names)


def test_compose_names_the_same_services_as_the_definition(root):
    stack = parse(load_tool_config(root))
    assert set(_stack_services(_compose(root))) == set(stack.names)


def test_compose_has_the_same_dependencies_all_waiting_for_health(root):
    stack = parse(load_tool_config(root))
    for name, svc in _stack_services(_compose(root)).items():
        deps = svc.get("depends_on") or {}
        assert set(deps) == set(stack.services[name].depends_on), name
        for dep, cond in deps.items():
            assert cond == {"condition": "service_healthy"}, f"{name} -> {dep}"


def test_compose_publishes_the_definition_ports(root):
    """A proxied service's port is published by the fault proxy, not by the service."""
    stack = parse(load_tool_config(root))
    for name, svc in _stack_services(_compose(root)).items():
        published = {int(p.split(":")[-2]) for p in svc.get("ports", [])}
        port = stack.services[name].port
        if name == PROXY_SERVICE:
            expected = {port, *(stack.services[n].port for n in stack.proxied)}
        else:
            expected = {port} if port is not None and not stack.services[name].proxy else set()
        assert published == expected, name


def test_compose_toxiproxy_routes_every_proxied_service_from_its_port_to_the_service(root):
    stack = parse(load_tool_config(root))
    compose = _compose(root)
    routes = json.loads((root / "compose" / "toxiproxy.json").read_text())
    assert sorted(r["name"] for r in routes) == sorted(stack.proxied)
    for r in routes:
        assert r["listen"] == f"0.0.0.0:{stack.services[r['name']].port}", r
        host, _, port = r["upstream"].partition(":")
        assert host == r["name"] and port.isdigit() and not compose["services"][host].get("ports"), r


def test_compose_file_is_structurally_valid(root):
    compose = _compose(root)
    allowed_top = {"name", "services", "volumes", "networks", "configs", "secrets"}
    assert {k for k in compose if not k.startswith("x-")} <= allowed_top
    volumes = set(compose.get("volumes") or {})
    for name, svc in compose["services"].items():
        assert "image" in svc or "build" in svc, name
        for dep in svc.get("depends_on") or {}:
            assert dep in compose["services"], f"{name} depends on missing {dep}"
        for vol in svc.get("volumes") or []:
            source = vol.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in volumes, f"{name} uses undeclared volume {source}"
        if name in _stack_services(compose):
            assert svc.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_compose_init_jobs_wait_for_the_service_they_initialise(root):
    compose = _compose(root)
    for name, svc in compose["services"].items():
        target = (svc.get("labels") or {}).get("e2e.init-for")
        if target:
            assert svc["depends_on"][target] == {"condition": "service_healthy"}, name


def test_compose_gives_the_app_the_same_fixed_settings_as_the_embedded_stack(root):
    tool = load_tool_config(root)
    fixed = {k: v for k, v in tool["sut_env"].items() if "{" not in v}
    app_env = _compose(root)["x-app-env"]
    assert fixed and {k: str(app_env.get(k)) for k in fixed} == fixed
