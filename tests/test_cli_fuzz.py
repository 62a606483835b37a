"""Random command lines on random files (tests/cli_fuzz.py): every case ends in clean JSON (exit 0)
or in one line, ``difficulty: error: ...`` (exit 2); never an exception, a raw warning or NaN in JSON."""
import json

import pytest
from cli_fuzz import FILE_COMMANDS, SLOW, Case, cli_cases, run_case
from hypothesis import given, settings


def _check(case):
    outcome = run_case(case)
    assert not outcome.failed, outcome.report()
    return outcome


@settings(max_examples=250)
@given(cli_cases(commands=("passk", "model", "plan", "invert")))
def test_fast_commands_answer_or_give_one_line(case):
    _check(case)


@pytest.mark.slow
@settings(max_examples=120)
@given(cli_cases(commands=SLOW, max_rows=6))
def test_fit_and_rank_answer_or_give_one_line(case):
    _check(case)


# ---------------------------------------------------------------- the harness itself
@pytest.mark.parametrize("command", FILE_COMMANDS)
def test_the_harness_tells_a_clean_answer_from_a_one_line_error(command):
    good = "n,c\n20,0\n20,3\n20,7\n20,12\n20,1\n20,5\n"
    ok = _check(Case([command, "{data}", "--json"] + (["--quiet"] if command in ("rank", "invert") else []), good))
    assert ok.kind == "ok" and isinstance(json.loads(ok.out), dict)
    bad = _check(Case([command, "{data}", "--json"], "n,c\n20,3\n20,x\n"))
    assert bad.kind == "error" and "row 2" in bad.detail


def test_the_harness_reports_an_escaping_exception(monkeypatch):
    def boom(*a, **k):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("difficulty.passk.estimate_pass_at_k", boom)
    outcome = run_case(Case(["passk", "{data}", "--json"], "n,c\n10,3\n"))
    assert outcome.kind == "traceback" and "ZeroDivisionError: a bug" in outcome.detail


def test_the_harness_rejects_nan_in_json_and_stray_stderr(monkeypatch):
    def nan_json(args):
        print('{"pass_at_k": NaN}')
        return 0

    monkeypatch.setattr("difficulty.cli.passk.run", nan_json)  # main builds its parser anew: this run is used
    outcome = run_case(Case(["passk", "{data}", "--json"], "n,c\n10,3\n"))
    assert outcome.kind == "output" and "NaN" in outcome.detail

    def warns(args):
        import sys

        print("/x.py:1: RuntimeWarning: overflow", file=sys.stderr)
        print("{}")
        return 0

    monkeypatch.setattr("difficulty.cli.passk.run", warns)
    assert run_case(Case(["passk", "{data}", "--json"], "n,c\n10,3\n")).kind == "stderr"
