"""Every row of docs/bad-inputs.md, run for real: exit status and the exact message, no traceback.

Each row gets a throwaway workspace (a copy of this workspace's pyproject.toml with the row's
mistake, found through ``E2E_ROOT``) and runs its command in a subprocess; rows run in parallel
threads. The table is the specification: change a message there and here at once.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "docs" / "bad-inputs.md"
TIMEOUT = 60.0


@dataclass
class Row:
    number: str
    steps: list[str]
    command: str
    exit: int
    message: str
    next_step: str
    env: dict[str, str] = field(default_factory=dict)


def _cell(text: str) -> str:
    """A table cell's content: code-span delimiters off, ``\\|`` back to ``|``."""
    text = text.strip().replace("\\|", "|")
    for fence in ("`` ", "`"):
        if text.startswith(fence) and text.endswith(fence[::-1]) and len(text) > 2 * len(fence):
            return text[len(fence):-len(fence)]
    return text


def _spans(text: str) -> list[str]:
    """The code spans of a cell: each is one setup step."""
    return [a or b for a, b in re.findall(r"``\s(.+?)\s``|`([^`]+)`", text.replace("\\|", "|"))]


def parse_table(path: Path = TABLE) -> list[Row]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not re.match(r"\|\s*\d+\s*\|", line):
            continue
        cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
        number, steps, command, code, message, next_step = cells
        rows.append(Row(number.strip(), _spans(steps), _cell(command), int(_cell(code)),
                        _cell(message), "" if _cell(next_step) in ("", "-") else _cell(next_step)))
    return rows


def set_key(text: str, table: str, key: str, value: str | None) -> str:
    """``key = value`` in ``[table]`` of a TOML text (replaced, added, or with ``None`` removed)."""
    lines = text.splitlines()
    header = f"[{table}]"
    try:
        start = next(i for i, ln in enumerate(lines) if ln.split("#")[0].strip() == header)
    except StopIteration:
        assert value is not None, f"no table {header} to remove {key} from"
        return text + f"\n{header}\n{key} = {value}\n"
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    for i in range(start + 1, end):
        if re.match(rf"{re.escape(key)}\s*=", lines[i].strip()):
            if value is None:
                del lines[i]
            else:
                lines[i] = f"{key} = {value}"
            break
    else:
        assert value is not None, f"{header} has no {key} to remove"
        lines.insert(start + 1, f"{key} = {value}")
    return "\n".join(lines) + "\n"


def _bin(name: str) -> list[str]:
    exe = Path(sys.executable).parent / name
    return [str(exe)] if exe.exists() else [sys.executable, "-m", name]


def argv_of(command: str) -> list[str]:
    words = shlex.split(command.replace("<repo>", str(ROOT)))
    if words[0] == "invoke":
        return [*_bin("invoke"), "-r", str(ROOT), *words[1:]]
    if words[0] == "python":
        return [sys.executable, *words[1:]]
    return words


# --- named setups: what a table cell cannot say in one step ------------------------------------

MINI = """[tool.e2e]
default_driver = "embedded"
[tool.e2e.services.api]
port = 0
ready = "http"
command = ["{python}", "-m", "http.server", "--bind", "127.0.0.1", "{port}"]
"""


def _foreign_port_holder(ws: Path, env: dict[str, str]) -> Iterator[None]:
    """A one-service stack whose api died and whose port a process of someone else's took."""
    (ws / "pyproject.toml").write_text(MINI, encoding="utf-8")
    invoke = [*_bin("invoke"), "-r", str(ROOT)]
    subprocess.run([*invoke, "stack.up"], cwd=ws, env=env, check=True, capture_output=True, timeout=TIMEOUT)
    import json

    api = json.loads((ws / ".e2e" / "state.json").read_text())["services"]["api"]
    os.kill(api["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    foreign = None
    try:
        while time.monotonic() < deadline:  # the port is free once the killed server is reaped
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind(("127.0.0.1", api["port"]))
                except OSError:
                    time.sleep(0.05)  # poll
                    continue
            foreign = subprocess.Popen(
                [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(api["port"])],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            break
        assert foreign is not None, "the killed api's port never became free"
        while True:  # poll until the foreign server listens
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", api["port"])) == 0:
                    break
            assert foreign.poll() is None and time.monotonic() < deadline, "foreign server did not listen"
            time.sleep(0.05)  # poll
        yield
    finally:
        if foreign is not None:
            foreign.kill()
            foreign.wait()
        subprocess.run([*invoke, "stack.down"], cwd=ws, env=env, capture_output=True, timeout=TIMEOUT)


SETUPS: dict[str, Callable[[Path, dict[str, str]], Iterator[None]]] = {
    "setup: api's port held by a foreign process": _foreign_port_holder,
}


# --- running one row ------------------------------------------------------------------------

def _clean_env(ws: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("E2E_")}
    env.update(E2E_ROOT=str(ws), COLUMNS="200", PYTHONDONTWRITEBYTECODE="1")
    return env


def run_row(row: Row, base: Path) -> tuple[int, str]:
    ws = base / f"row{row.number}"
    ws.mkdir()
    env = _clean_env(ws)
    (ws / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text(encoding="utf-8"),
                                       encoding="utf-8")
    setups = []
    for step in row.steps:
        if step in SETUPS:
            setups.append(SETUPS[step](ws, env))
        elif m := re.fullmatch(r"\[([^\]]+)\] del (\S+)", step):
            path = ws / "pyproject.toml"
            path.write_text(set_key(path.read_text(), m[1], m[2], None), encoding="utf-8")
        elif m := re.fullmatch(r"\[([^\]]+)\] (\S+) = (.+)", step):
            path = ws / "pyproject.toml"
            path.write_text(set_key(path.read_text(), m[1], m[2], m[3]), encoding="utf-8")
        elif m := re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", step):
            env[m[1]] = m[2]
        elif step.startswith("$ "):
            subprocess.run(step[2:], shell=True, cwd=ws, env=env, check=True, timeout=TIMEOUT)
        else:
            raise AssertionError(f"row {row.number}: cannot read the step {step!r}")
    try:
        for setup in setups:
            next(setup)
        proc = subprocess.run(argv_of(row.command), cwd=ws, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    finally:
        for setup in setups:
            next(setup, None)
    # pytest frames an exit message in "!" (as many as the terminal is wide): not part of it.
    output = "\n".join(re.sub(r"^!+ | !+$", "", line) for line in (proc.stderr + proc.stdout).splitlines())
    return proc.returncode, output


def _pattern(expected: str, ws: Path) -> re.Pattern[str]:
    """``<pid>``/``<port>`` stand for any number, ``<name>`` for a word, ``<root>`` for the workspace."""
    text = re.escape(expected)
    text = text.replace(re.escape("<pid>"), r"\d+").replace(re.escape("<port>"), r"\d+")
    text = text.replace(re.escape("<name>"), r"[\w.-]+")
    text = text.replace(re.escape("<root>"), re.escape(str(ws)))
    return re.compile(rf"^{text}$", re.MULTILINE)


ROWS = parse_table()


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def test_the_table_covers_the_issue_and_fifteen_more():
    assert len(ROWS) >= 18 + 15
    assert len({r.number for r in ROWS}) == len(ROWS), "row numbers repeat"


def test_every_bad_input_gives_its_documented_one_line_message(tmp_path):
    started, cpu = time.monotonic(), _children_cpu()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(zip(ROWS, pool.map(lambda r: run_row(r, tmp_path), ROWS), strict=True))
    took, cpu = time.monotonic() - started, _children_cpu() - cpu
    wrong = []
    for row, (code, output) in results:
        ws = tmp_path / f"row{row.number}"
        problems = []
        if "Traceback" in output:
            problems.append("a traceback")
        if code != row.exit:
            problems.append(f"exit {code}, documented {row.exit}")
        if not _pattern(row.message, ws).search(output):
            problems.append(f"no line {row.message!r}")
        if row.next_step and not _pattern(f"  next: {row.next_step}", ws).search(output):
            problems.append(f"no line '  next: {row.next_step}'")
        if problems:
            wrong.append(f"row {row.number} `{row.command}`: {'; '.join(problems)}\n{output}")
    print(f"{len(ROWS)} rows in {took:.1f}s ({cpu:.1f}s CPU in the commands)")
    assert not wrong, "\n".join(wrong)


def test_set_key_replaces_adds_and_removes():
    text = '[a]\nx = 1\ny = 2\n[b]\nx = 3\n'
    assert set_key(text, "a", "x", '"s"') == '[a]\nx = "s"\ny = 2\n[b]\nx = 3\n'
    assert set_key(text, "b", "z", "4") == '[a]\nx = 1\ny = 2\n[b]\nz = 4\nx = 3\n'
    assert set_key(text, "a", "y", None) == '[a]\nx = 1\n[b]\nx = 3\n'


def test_the_table_parser_reads_code_spans():
    row = '| 7 | `$ touch reports` `E2E_X=1` | `invoke e2e.all` | 1 | `` error: a `b` `` | - |'
    cells = re.split(r"(?<!\\)\|", row.strip())[1:-1]
    assert _spans(cells[1]) == ["$ touch reports", "E2E_X=1"]
    assert _cell(cells[4]) == "error: a `b`"


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"row{r.number}")
def test_rows_name_a_known_command(row):
    assert row.command.split()[0] in ("invoke", "python"), row.command
