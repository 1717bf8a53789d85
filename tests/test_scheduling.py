"""The scheduling examples in docs/ stay valid: the cron line and the Airflow DAG parse, and their
commands are accepted by today's `servicechain run` parser."""

from __future__ import annotations

import ast
import shlex
from pathlib import Path

import pytest

from servicechain import cli

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
FIELDS = [("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7)]


def _cron_field_ok(spec: str, lo: int, hi: int) -> bool:
    for part in spec.split(","):
        base, _, step = part.partition("/")
        if step and not step.isdigit():
            return False
        if base == "*":
            continue
        a, _, b = base.partition("-")
        if not a.isdigit() or (b and not b.isdigit()):
            return False
        if not (lo <= int(a) <= hi and (not b or lo <= int(b) <= hi)):
            return False
    return True


def _run_args(command: str) -> list[str]:
    """The arguments given to `servicechain run` in a shell command line."""
    first = command.split("&&")[-1].split(">>")[0].split("||")[0]
    words = shlex.split(first)
    i = next(i for i, w in enumerate(words) if w.endswith("servicechain"))
    assert words[i + 1] == "run"
    return words[i + 1:]


def _cron_entries() -> list[list[str]]:
    lines = [ln for ln in (EXAMPLES / "servicechain.cron").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert lines, "the cron example has no entry"
    return [ln.split(None, 6) for ln in lines]


def test_cron_line_fields_are_valid():
    for entry in _cron_entries():
        assert len(entry) == 7, "five time fields, a user, a command (system crontab format)"
        for value, (name, lo, hi) in zip(entry[:5], FIELDS):
            assert _cron_field_ok(value, lo, hi), f"cron {name} field {value!r} is invalid"


def test_cron_command_is_accepted_by_the_cli_and_logs_somewhere():
    for entry in _cron_entries():
        command = entry[6]
        args = cli.build_parser().parse_args(_run_args(command))
        assert args.command == "run" and args.quarter == "latest"
        assert ">>" in command, "the cron example appends output to a log file"


def test_airflow_dag_parses_and_runs_the_cli():
    tree = ast.parse((EXAMPLES / "servicechain_dag.py").read_text())
    calls = {n.func.id: n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert "DAG" in calls and "BashOperator" in calls
    kw = {k.arg: k.value for k in calls["DAG"].keywords}
    schedule = ast.literal_eval(kw["schedule"]).split()
    for value, (name, lo, hi) in zip(schedule, FIELDS):
        assert _cron_field_ok(value, lo, hi), f"DAG schedule {name} field {value!r} is invalid"
    assert ast.literal_eval(kw["max_active_runs"]) == 1
    bash = {k.arg: k.value for k in calls["BashOperator"].keywords}["bash_command"]
    args = cli.build_parser().parse_args(_run_args(ast.literal_eval(bash)))
    assert args.command == "run"


@pytest.mark.parametrize("bad", ["61 6 5 1 *", "0 6 5 13 *", "0 6 x 1 *"])
def test_cron_checker_catches_bad_fields(bad):
    assert not all(_cron_field_ok(v, lo, hi) for v, (_, lo, hi) in zip(bad.split(), FIELDS))
