"""The schema of [tool.e2e]: every mistake one line naming the key path, found and expected."""

from __future__ import annotations

import copy

import pytest

from e2e_shared import E2EError
from e2e_shared.cliargs import count
from e2e_shared.config import check_writable_dir, load_tool_config, read_pyproject
from e2e_shared.configschema import ConfigError, key_path, problems, validate


@pytest.fixture
def tool(root):
    return copy.deepcopy(load_tool_config(root, validate=False))


def test_the_workspace_configuration_is_valid(tool):
    assert problems(tool) == []


@pytest.mark.parametrize(("where", "value", "line"), [
    (("services", "db", "port"), "fifteen",
     '[tool.e2e.services.db] port: found "fifteen"; expected an integer port 0..65535 (0: any free port)'),
    (("services", "db", "port"), 99999,
     "[tool.e2e.services.db] port: found 99999; expected an integer port 0..65535 (0: any free port)"),
    (("services", "db", "port"), True,
     "[tool.e2e.services.db] port: found true; expected an integer port 0..65535 (0: any free port)"),
    (("phases", "smoke", "timeout"), "soon",
     '[tool.e2e.phases.smoke] timeout: found "soon"; expected a number of seconds > 0'),
    (("phases", "smoke", "timeout"), -1,
     "[tool.e2e.phases.smoke] timeout: found -1; expected a number of seconds > 0"),
    (("services", "api", "ready_timeout"), "long",
     '[tool.e2e.services.api] ready_timeout: found "long"; expected a number of seconds > 0'),
    (("phases", "resilience", "parallel"), "no",
     '[tool.e2e.phases.resilience] parallel: found "no"; expected true or false (TOML booleans, unquoted)'),
    (("phases", "flows", "blocking"), "false",
     '[tool.e2e.phases.flows] blocking: found "false"; expected true or false (TOML booleans, unquoted)'),
    (("phases", "flows", "needs"), "smoke",
     '[tool.e2e.phases.flows] needs: found "smoke"; expected a list of phase names, e.g. ["health"]'),
    (("phases", "flows", "suites"), [],
     "[tool.e2e.phases.flows] suites: found []; expected a list of suite names, e.g. [\"backend\"]"),
    (("services", "api", "depends_on"), ["db", "cache"],
     '[tool.e2e.services.api] depends_on[1]: found "cache"; expected a known service: '
     "db, objects, redis, api, api2, pipeline, web"),
    (("services", "api", "command"), ["python", 3],
     "[tool.e2e.services.api] command[1]: found 3; expected a string"),
    (("default_driver",), "k8s",
     '[tool.e2e] default_driver: found "k8s"; expected one of: auto, embedded, compose'),
])
def test_a_wrong_value_is_one_line_with_path_found_and_expected(tool, where, value, line):
    node = tool
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    assert problems(tool) == [line]


def test_a_command_as_one_string_is_refused(tool):
    tool["services"]["api"]["command"] = "python -m tradeboard.api"
    [line] = problems(tool)
    assert line.startswith('[tool.e2e.services.api] command: found "python -m tradeboard.api"; '
                           "expected a non-empty list of strings")


def test_a_misspelt_key_suggests_the_right_one(tool):
    tool["services"]["db"]["ready_timout"] = 5
    tool["phases"]["smoke"]["paralel"] = True
    found = problems(tool)
    assert found[0].startswith(
        "[tool.e2e.services.db] ready_timout: unknown key (did you mean ready_timeout?)")
    assert found[1].startswith("[tool.e2e.phases.smoke] paralel: unknown key (did you mean parallel?)")


@pytest.mark.parametrize(("table", "key", "template", "why"), [
    ("endpoints", "api_url", "http://127.0.0.1:{apix.port}", "apix is not a service (did you mean api?)"),
    ("endpoints", "api_url", "http://127.0.0.1:{port}", "{port} is not a template field here"),
    ("sut_env", "TB_X", "{db.host}", "service db has only {db.port}"),
    ("sut_env", "TB_X", "{secrett}", "{secrett} is not a template field here (did you mean secret?)"),
    ("sut_env", "TB_X", "{unclosed", "a broken template"),
])
def test_templates_name_only_known_services_and_fields(tool, table, key, template, why):
    tool[table][key] = template
    [line] = problems(tool)
    path = f"[tool.e2e.{table}] {key}"
    assert line.startswith(f"{path}: found {template!r}".replace("'", '"')), line
    assert why in line


def test_templates_in_a_service_command_and_env_are_checked(tool):
    tool["services"]["web"]["command"] = ["{python}", "--api", "{apix.port}"]
    tool["services"]["web"]["env"]["TB_API_PUBLIC_URL"] = "http://127.0.0.1:{api.port}"  # fine
    [line] = problems(tool)
    assert line.startswith('[tool.e2e.services.web] command[2]: found "{apix.port}": apix is not a service')


def test_a_command_readiness_check_needs_its_command(tool):
    del tool["services"]["pipeline"]["ready_command"]
    [line] = problems(tool)
    assert line.startswith("[tool.e2e.services.pipeline] ready_command: missing; expected a list of strings")


def test_every_mistake_is_reported_at_once_in_document_order(tool):
    tool["phases"]["flows"]["parallel"] = "no"
    tool["services"]["db"]["port"] = "fifteen"
    tool["typo"] = 1
    with pytest.raises(ConfigError) as info:
        validate(tool, "pyproject.toml")
    assert [p.split(":")[0] for p in info.value.problems] == [
        "[tool.e2e.services.db] port", "[tool.e2e.phases.flows] parallel", "[tool.e2e] typo"]
    assert info.value.hint == "fix [tool.e2e] in pyproject.toml (3 mistakes)"
    # The CLI prints "error: <cause>": each mistake on its own "error:" line.
    assert info.value.cause.count("\nerror: ") == 2


def test_key_paths_name_the_toml_table():
    assert key_path(["services", "db", "port"]) == "[tool.e2e.services.db] port"
    assert key_path(["services", "db", "command", 0]) == "[tool.e2e.services.db] command[0]"
    assert key_path(["services", "api", "env", "X"]) == "[tool.e2e.services.api] env.X"
    assert key_path(["endpoints", "api_url"]) == "[tool.e2e.endpoints] api_url"
    assert key_path(["state_dir"]) == "[tool.e2e] state_dir"
    assert key_path(["services", "db"]) == "[tool.e2e.services.db]"
    assert key_path([]) == "[tool.e2e]"


def test_a_toml_syntax_error_is_one_line_with_file_line_and_column(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.e2e]\nstate_dir = \n')
    with pytest.raises(E2EError) as info:
        read_pyproject(tmp_path / "pyproject.toml")
    assert info.value.cause == "pyproject.toml:2:13: TOML syntax error: Invalid value"
    (tmp_path / "pyproject.toml").write_text('[tool.e2e]\nstate_dir = "open\n')
    with pytest.raises(E2EError, match=r"^pyproject.toml:2:\d+: TOML syntax error"):
        read_pyproject(tmp_path / "pyproject.toml")


def test_load_can_skip_the_schema_for_commands_that_must_work_anyway(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.e2e]\n[tool.e2e.services.db]\nport = "fifteen"\n')
    with pytest.raises(ConfigError):
        load_tool_config(tmp_path)
    assert load_tool_config(tmp_path, validate=False)["services"]["db"]["port"] == "fifteen"


def test_the_task_list_survives_a_broken_configuration(tmp_path, monkeypatch):
    from e2e_shared import tasklib

    (tmp_path / "pyproject.toml").write_text("[tool.e2e]\nstate_dir = \n")
    monkeypatch.setenv("E2E_ROOT", str(tmp_path))
    names, error = tasklib._load_names()
    assert names == {} and "TOML syntax error" in error.cause
    (tmp_path / "pyproject.toml").write_text('[tool.e2e]\nstate_dir = 5\n[tool.e2e.phases.smoke]\n')
    names, error = tasklib._load_names()  # a schema mistake: the names still come from the file
    assert names == {"phases": ["smoke"], "suites": []} and "state_dir" in error.cause
    monkeypatch.setenv("E2E_ROOT", str(tmp_path / "nowhere"))
    assert tasklib._load_names() == ({}, None)  # outside a workspace: no names, nothing broken


def test_check_writable_dir_refuses_a_file_in_the_way_and_creates_the_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports").write_text("")
    with pytest.raises(E2EError) as info:
        check_writable_dir(tmp_path / "reports" / "junit", "the JUnit folder")
    assert info.value.cause == ("the JUnit folder reports/junit cannot be written: "
                                "reports is a file, not a folder")
    assert check_writable_dir(tmp_path / "out" / "junit", "x").is_dir()
    assert list((tmp_path / "out" / "junit").iterdir()) == []  # the probe file is gone


def test_check_writable_dir_refuses_a_folder_it_cannot_create(tmp_path):
    with pytest.raises(E2EError, match="cannot be written"):
        check_writable_dir(__import__("pathlib").Path("/proc/self/reports"), "the reports folder")


@pytest.mark.parametrize(("value", "cause"), [
    ("abc", "-n 'abc' is not a whole number"),
    ("-5", "-n -5 is too small: it must be 0 or more"),
    ("2.5", "-n '2.5' is not a whole number"),
])
def test_count_arguments_are_whole_numbers(value, cause):
    with pytest.raises(E2EError) as info:
        count(value, option="-n", default=50, minimum=0)
    assert info.value.cause == cause
    assert info.value.hint.startswith("give a number, e.g.")


def test_count_arguments_default_and_convert():
    assert count(None, option="--runs", default=3) == 3
    assert count("7", option="--runs", default=3) == 7
