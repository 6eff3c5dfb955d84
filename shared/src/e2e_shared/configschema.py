"""The schema of ``[tool.e2e]``, checked when the configuration is loaded.

Types, ranges, lists, strict booleans, known keys, names that refer to other entries (a
service's ``depends_on``, a phase's ``suites`` and ``needs``) and the templates in commands,
environments and endpoints are all checked by one JSON Schema (jsonschema, Draft 2020-12),
built for the document at hand so that the names it may refer to are in the schema too.
Every mistake becomes one line: the key path, what was found, what is expected.
"""

from __future__ import annotations

import difflib
import json
import re
import signal
import string
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import jsonschema
from jsonschema import ValidationError
from jsonschema.validators import extend

from . import E2EError

# Plain template fields of a service's command, env and ready_command (see EmbeddedDriver._ctx).
SERVICE_FIELDS = ("python", "port", "data", "root", "state_dir", "secret")
ENDPOINT_KEYS = ("api_url", "web_url", "database_url", "admin_database_url", "s3_url",
                 "s3_access_key", "s3_secret_key", "s3_region", "redis_url")
READY_KINDS = ("sql", "s3", "http", "tcp", "redis", "command")
RUNTIMES = ("host", "sut")
INITS = ("postgres", "buckets")
DRIVERS = ("auto", "embedded", "compose")
NAME = {"pattern": "^[A-Za-z0-9_-]+$"}

# ``expected`` is ours (jsonschema ignores unknown keywords): what the one-line message says.
PORT = {"type": "integer", "minimum": 0, "maximum": 65535,
        "expected": "an integer port 0..65535 (0: any free port)"}
SECONDS = {"type": "number", "exclusiveMinimum": 0, "expected": "a number of seconds > 0"}
BOOL = {"type": "boolean", "expected": "true or false (TOML booleans, unquoted)"}
TEXT = {"type": "string", "expected": "a string"}
PATH_TEXT = {"type": "string", "minLength": 1, "expected": "a non-empty path"}


def _argv(templates: dict[str, Any] | None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "string", "expected": "a string"}
    if templates is not None:
        item["templates"] = templates
    return {"type": "array", "items": item, "minItems": 1,
            "expected": 'a non-empty list of strings (an argv), e.g. ["{python}", "-m", "app"]'}


def _names(kind: str, known: Sequence[str]) -> dict[str, Any]:
    listed = ", ".join(known) or "none defined"
    return {"type": "array", "expected": f"a list of {kind} names, e.g. [\"{known[0] if known else 'x'}\"]",
            "items": {"type": "string", "enum": list(known), "expected": f"a known {kind}: {listed}"}}


def _strings(templates: dict[str, Any] | None) -> dict[str, Any]:
    value: dict[str, Any] = {"type": "string", "expected": "a string (environment values are text)"}
    if templates is not None:
        value["templates"] = templates
    return {"type": "object", "additionalProperties": value, "expected": "a table of strings"}


def build_schema(tool: Mapping[str, Any]) -> dict[str, Any]:
    """The schema for ``tool``: the names it defines are the names its references may use."""
    def keys(table: str) -> list[str]:
        value = tool.get(table)
        return [str(k) for k in value] if isinstance(value, dict) else []

    services, suites, phases = keys("services"), keys("suites"), keys("phases")
    in_service = {"fields": list(SERVICE_FIELDS), "services": services}
    in_endpoint = {"fields": [], "services": services}
    service = {
        "type": "object", "expected": "a table",
        "additionalProperties": False,
        "required": ["command", "ready"],
        "properties": {
            "command": _argv(in_service),
            "ready": {"enum": list(READY_KINDS), "expected": f"one of: {', '.join(READY_KINDS)}"},
            "runtime": {"enum": list(RUNTIMES), "expected": f"one of: {', '.join(RUNTIMES)}"},
            "port": PORT,
            "depends_on": _names("service", services),
            "ready_path": {"type": "string", "pattern": "^/", "expected": 'a URL path starting with "/"'},
            "ready_command": _argv(in_service),
            "ready_timeout": SECONDS,
            "init": {"enum": list(INITS), "expected": f"one of: {', '.join(INITS)}"},
            "env": _strings(in_service),
            "stop_signal": {"enum": list(signal.Signals.__members__),
                            "expected": "a signal name, e.g. SIGTERM or SIGINT"},
            "install_hint": TEXT,  # shown when the command's program is not installed
            "proxy": BOOL,  # behind the fault proxy service (faults.latency, cut, blackhole)
        },
        "allOf": [
            # A command readiness check needs its command.
            {"if": {"properties": {"ready": {"const": "command"}}, "required": ["ready"]},
             "then": {"required": ["ready_command"],
                      "properties": {"ready_command": {**_argv(in_service), "expected": (
                          'a list of strings (ready = "command" runs it), '
                          'e.g. ["{python}", "-m", "probe"]')}}}},
            # The fault proxy listens on the port clients use: a proxied service needs one.
            {"if": {"properties": {"proxy": {"const": True}}, "required": ["proxy"]},
             "then": {"required": ["port"], "properties": {"port": {
                 **PORT, "expected": "a port (proxy = true puts the fault proxy's listener on it)"}}}},
        ],
    }
    endpoint_props: dict[str, Any] = {k: {**TEXT, "templates": in_endpoint} for k in ENDPOINT_KEYS}
    endpoint_props["buckets"] = {"type": "array", "items": TEXT, "expected": "a list of bucket names"}
    target_props: dict[str, Any] = {k: TEXT for k in ENDPOINT_KEYS}
    target_props["buckets"] = endpoint_props["buckets"]
    suite = {"type": "object", "expected": "a table", "additionalProperties": False,
             "properties": {"path": PATH_TEXT, "session": {**TEXT, "minLength": 1}}}
    phase = {
        "type": "object", "expected": "a table", "additionalProperties": False,
        "required": ["suites"],
        "properties": {
            "marker": {**TEXT, **NAME, "expected": "a pytest marker name"},
            "suites": {**_names("suite", suites), "minItems": 1},
            "needs": _names("phase", phases),
            "parallel": BOOL, "blocking": BOOL, "destructive": BOOL, "seed": BOOL,
            "timeout": SECONDS,
        },
    }

    def table_of(item: dict[str, Any], what: str) -> dict[str, Any]:
        return {"type": "object", "expected": f"a table of {what}", "propertyNames": NAME,
                "additionalProperties": item}

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object", "expected": "a table",
        "additionalProperties": False,
        "properties": {
            "default_driver": {"enum": list(DRIVERS), "expected": f"one of: {', '.join(DRIVERS)}"},
            "state_dir": PATH_TEXT,
            "sut_project": PATH_TEXT,
            "product": {**TEXT, "pattern": r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$",
                        "expected": "an importable module name, e.g. tradeboard_fixtures"},
            "product_path": PATH_TEXT,
            "compose_file": PATH_TEXT,
            "contract": PATH_TEXT,  # the product's contract file, promises with {#ids}
            "services": {**table_of(service, "services"), "minProperties": 1},
            "sut_env": _strings(in_service),
            # The product's own endpoints are ``*_url`` keys (``api2_url``); anything else is a typo.
            "endpoints": {"type": "object", "expected": "a table", "additionalProperties": False,
                          "properties": endpoint_props,
                          "patternProperties": {"^[a-z][a-z0-9_]*_url$": {
                              **TEXT, "templates": in_endpoint}}},
            "suites": table_of(suite, "suites"),
            "phases": table_of(phase, "phases"),
            "targets": table_of({"type": "object", "expected": "a table",
                                 "additionalProperties": False, "properties": target_props,
                                 "patternProperties": {"^[a-z][a-z0-9_]*_url$": TEXT}},
                                "targets"),
        },
    }


def _templates(validator: Any, spec: dict[str, Any], instance: Any, schema: dict[str, Any]
               ) -> Iterator[ValidationError]:
    """Keyword ``templates``: every ``{field}`` names a known field or ``{service.port}``."""
    if not isinstance(instance, str):
        return
    services, fields = spec["services"], spec["fields"]
    known = ", ".join([*(f"{{{f}}}" for f in fields), *(f"{{{s}.port}}" for s in services)]) or "none"
    try:
        parsed = list(string.Formatter().parse(instance))
    except ValueError as exc:
        yield ValidationError(f"found {_shown(instance)}, a broken template ({exc}); "
                              "expected {field} placeholders, {{ and }} for literal braces")
        return
    for _text, field_name, _spec, _conv in parsed:
        if field_name is None:
            continue
        head, _, rest = field_name.partition(".")
        head = head.split("[")[0]
        if head in services and rest == "port":
            continue
        if head in fields and not rest:
            continue
        if head in services:
            why = f"service {head} has only {{{head}.port}}"
        elif rest:
            hint = _did_you_mean(head, services)
            why = f"{head} is not a service{hint}"
        else:
            why = f"{{{field_name}}} is not a template field here{_did_you_mean(head, fields)}"
        yield ValidationError(f"found {_shown(instance)}: {why}; expected one of {known}")


Validator = extend(jsonschema.Draft202012Validator, {"templates": _templates})


def _shown(value: Any) -> str:
    """A value as it is written in TOML (short)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{k} = {_shown(v)}" for k, v in value.items()) + "}"
    else:
        text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


# Tables whose entries are tables themselves: [tool.e2e.services.db], not [tool.e2e.services] db.
_NESTED = ("services", "suites", "phases", "targets")


def key_path(path: Sequence[str | int]) -> str:
    """``("services", "db", "command", 0)`` -> ``[tool.e2e.services.db] command[0]``."""
    parts = list(path)
    head = parts[0] if parts else None
    depth = 2 if head in _NESTED else 1 if head in ("sut_env", "endpoints") else 0
    if len(parts) <= depth:  # the path is a table itself
        return "[" + ".".join(["tool", "e2e", *map(str, parts)]) + "]"
    table = ".".join(["tool", "e2e", *map(str, parts[:depth])])
    rest = ""
    for p in parts[depth:]:
        rest += f"[{p}]" if isinstance(p, int) else (f".{p}" if rest else str(p))
    return f"[{table}] {rest}"


def _expected(error: ValidationError) -> str:
    return error.schema.get("expected", error.message) if isinstance(error.schema, dict) else error.message


def _lines(error: ValidationError) -> list[tuple[list[str | int], str]]:
    """The error's lines, each with the key path it is about (for ordering)."""
    path = list(error.absolute_path)
    where = key_path(path)
    kind = error.validator
    if kind == "templates":
        return [(path, f"{where}: {error.message}")]
    if kind == "additionalProperties":
        known = list(error.schema.get("properties", {}))
        patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
        # A key a pattern allows (a product's own ``api2_url``) is not unknown.
        extra = [k for k in error.instance if k not in known and not any(p.search(k) for p in patterns)]
        listed = f"; expected one of: {', '.join(known)}" if known else ""
        return [([*path, k], f"{key_path([*path, k])}: unknown key{_did_you_mean(k, known)}{listed}")
                for k in extra]
    if kind == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        props = error.schema.get("properties", {})
        return [([*path, k], f"{key_path([*path, k])}: missing; expected "
                 f"{props.get(k, {}).get('expected', 'a value')}") for k in missing]
    if kind == "propertyNames":
        line = f"{where}: found the name {_shown(error.instance)}; expected letters, digits, - and _"
    elif kind == "minProperties":
        line = f"{where}: found an empty table; expected at least one entry"
    elif kind == "minItems":
        line = f"{where}: found []; expected {_expected(error)}"
    elif kind == "minLength":
        line = f"{where}: found \"\"; expected {_expected(error)}"
    else:
        line = f"{where}: found {_shown(error.instance)}; expected {_expected(error)}"
    return [(path, line)]


def _order(tool: Mapping[str, Any], path: Sequence[str | int]) -> tuple[int, ...]:
    """Where a path sits in the document, so mistakes are listed top to bottom."""
    out, node = [], tool
    for p in path:
        if isinstance(node, Mapping):
            keys = list(node)
            out.append(keys.index(p) if p in keys else len(keys))
            node = node.get(p)
        elif isinstance(node, list) and isinstance(p, int):
            out.append(p)
            node = node[p] if p < len(node) else None
        else:
            break
    return tuple(out)


def problems(tool: Any) -> list[str]:
    """Every mistake in ``tool`` (the ``[tool.e2e]`` mapping), one line each, in document order."""
    doc = tool if isinstance(tool, dict) else {}
    validator = Validator(build_schema(doc))
    found = [item for error in validator.iter_errors(tool) for item in _lines(error)]
    lines: list[str] = []
    for _path, line in sorted(found, key=lambda item: _order(doc, item[0])):
        if line not in lines:
            lines.append(line)
    return lines


class ConfigError(E2EError):
    """``[tool.e2e]`` has mistakes: each is one line (``problems``)."""

    def __init__(self, problems: list[str], hint: str) -> None:
        self.problems = problems
        # The CLI prints "error: <cause>"; further mistakes follow as their own "error:" lines.
        super().__init__("\nerror: ".join(problems), hint)


def validate(tool: Any, source: str = "pyproject.toml") -> None:
    """Raise :class:`ConfigError` listing every mistake in ``tool``; ``source`` names the file."""
    found = problems(tool)
    if found:
        many = f" ({len(found)} mistakes)" if len(found) > 1 else ""
        raise ConfigError(found, f"fix [tool.e2e] in {source}{many}")
