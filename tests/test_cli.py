"""The command line: its output rules, list options with negative values, help, and a light start."""
import io
import json
import os
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from difficulty.cli import build_parser
from difficulty.cli.progress import make_progress

COMMANDS = ("passk", "simulate", "model", "plan", "fit", "forecast", "backtest", "rank", "invert", "analyze", "demo")
HEAVY = ("pandas", "scipy.stats", "matplotlib", "arviz", "emcee", "lmfit")
# the computation of each command, replaced in the output tests by a function that fails if reached
RANK, SAMPLE = "difficulty.ranking.rank_problems", "difficulty.fit.mcmc.sample_posterior"
SIMULATE = "difficulty.generate.simulate_counts"
ANALYZE, DEMO = "difficulty.report.analyze", "difficulty.report.demo_data"


@pytest.fixture
def data(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("n,c\n" + "".join(f"20,{c}\n" for c in (0, 1, 3, 7, 12, 20, 2, 5)))
    return p


def _no_work(monkeypatch, target):
    """Make ``target`` (the command's computation) fail loudly if it is ever reached."""
    def boom(*a, **k):
        raise AssertionError(f"{target} ran before the output was checked")

    monkeypatch.setattr(target, boom)


def _one_line_error(code, out, err, *words):
    assert code == 2 and out == "", (code, out, err)
    assert err.startswith("difficulty: error: ") and err.count("\n") == 1, err
    for w in words:
        assert w in err, err


def _leftovers(folder):
    return [n for n in os.listdir(folder) if n.startswith(".tmp-")]


# ---------------------------------------------------------------- outputs
@pytest.mark.parametrize("args,target", [
    (["rank", "{data}", "-o", "{data}", "--force"], RANK),
    (["fit", "{data}", "--method", "mcmc", "--save-posterior", "{data}", "--force"], SAMPLE),
    (["analyze", "{data}", "-o", "{data}", "--force"], ANALYZE),
])
def test_an_input_file_is_never_written_over(cli, data, monkeypatch, args, target):
    before = data.read_bytes()
    _no_work(monkeypatch, target)
    code, out, err = cli(*[a.format(data=data) for a in args])
    _one_line_error(code, out, err, "input file")
    assert data.read_bytes() == before


def test_a_report_folder_holding_the_input_is_not_replaced(cli, data, monkeypatch):
    _no_work(monkeypatch, ANALYZE)
    code, out, err = cli("analyze", data, "-o", data.parent, "--force")
    _one_line_error(code, out, err, "input file")
    assert data.exists()


@pytest.mark.parametrize("args,target", [
    (["rank", "{data}", "-o", "{out}"], RANK),
    (["simulate", "beta", "--alpha", "2", "--beta", "0.5", "-o", "{out}"], SIMULATE),
    (["fit", "{data}", "--method", "mcmc", "--save-posterior", "{out}"], SAMPLE),
    (["demo", "-o", "{out}"], DEMO),
])
def test_an_existing_output_is_refused_without_force(cli, data, tmp_path, monkeypatch, args, target):
    out_path = tmp_path / "existing"
    out_path.write_text("keep me")
    _no_work(monkeypatch, target)
    code, out, err = cli(*[a.format(data=data, out=out_path) for a in args])
    _one_line_error(code, out, err, "exists", "--force")
    assert out_path.read_text() == "keep me"


def test_an_existing_output_is_replaced_with_force(cli, tmp_path):
    out = tmp_path / "sim.csv"
    out.write_text("old")
    code, _, err = cli("simulate", "beta", "--alpha", "2", "--beta", "0.5", "--problems", "30", "--attempts", "10",
                       "--seed", "1", "-o", out, "--force")
    assert code == 0, err
    df = pd.read_csv(out)
    assert len(df) == 30 and {"n", "c", "true_p"} <= set(df.columns)
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("args,target", [
    (["rank", "{data}", "-o", "{missing}/r.csv"], RANK),
    (["simulate", "beta", "--alpha", "2", "--beta", "0.5", "-o", "{missing}/s.csv"], SIMULATE),
    (["fit", "{data}", "--method", "mcmc", "--save-posterior", "{missing}/p.nc"], SAMPLE),
    (["analyze", "{data}", "-o", "{missing}/rep"], ANALYZE),
    (["demo", "-o", "{missing}/rep"], DEMO),
])
def test_a_missing_output_folder_is_refused_before_any_work(cli, data, tmp_path, monkeypatch, args, target):
    missing = tmp_path / "missing" / "dir"
    _no_work(monkeypatch, target)
    code, out, err = cli(*[a.format(data=data, missing=missing) for a in args])
    _one_line_error(code, out, err, "does not exist")
    assert not (tmp_path / "missing").exists()


def test_a_refused_write_leaves_no_temporary_file(cli, data, tmp_path):
    (tmp_path / "r2.csv").write_text("x")
    code, _, err = cli("rank", data, "-o", tmp_path / "r2.csv")
    assert code == 2 and "exists" in err
    assert _leftovers(tmp_path) == [] and (tmp_path / "r2.csv").read_text() == "x"


# ---------------------------------------------------------------- list options with negative values
@pytest.mark.parametrize("args,message", [
    (["passk", "{data}", "--k", "-5,1"], "k must be >= 1"),
    (["passk", "{data}", "--k", "-5"], "k must be >= 1"),
    (["model", "beta", "--alpha", "2", "--beta", "0.35", "--k", "-1,10"], "--k values must be >= 0"),
    (["model", "beta", "--alpha", "2", "--beta", "0.35", "--sigma", "-1"], "--sigma values must be > 0"),
    (["rank", "{data}", "--band", "-0.5,0.9"], "--band"),
    (["forecast", "{data}", "--k", "-5,10", "--method", "mle"], "k must be finite and >= 1"),
])
def test_a_negative_list_value_gets_the_real_error(cli, data, args, message):
    code, out, err = cli(*[a.format(data=data) for a in args])
    _one_line_error(code, out, err, message)


def test_a_missing_list_value_is_still_an_argparse_error(cli, data):
    code, _, err = cli("passk", data, "--k", "--json")
    assert code == 2 and "expected one argument" in err


# ---------------------------------------------------------------- help
@pytest.mark.parametrize("name", COMMANDS)
def test_every_subcommand_has_help_with_an_example_that_parses(cli, name):
    code, out, err = cli(name, "--help")
    assert code == 0, err
    example = out.split("example:\n", 1)[1].strip()
    argv = example.split()
    assert argv[:2] == ["difficulty", name]
    args, extras = build_parser().parse_known_args(argv[1:])  # the example is valid for its command
    assert args.command == name
    assert not extras or name in ("simulate", "model", "plan")  # model parameters are the extras


def test_version(cli):
    code, out, _ = cli("--version")
    assert code == 0 and out.startswith("difficulty ")


# ---------------------------------------------------------------- light start
PROBE = """
import sys
import difficulty.cli
difficulty.cli.build_parser()
for argv in {runs!r}:
    try:
        difficulty.cli.main(argv)
    except SystemExit:
        pass
print("HEAVY:" + ",".join(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)
"""


@pytest.mark.parametrize("runs", [
    [],
    [["--help"], ["--version"]],
    [["model", "beta", "--alpha", "2", "--beta", "0.35", "--k", "1,10"]],
    [["plan", "--model", "beta", "--alpha", "2", "--beta", "0.35", "--target", "0.9", "--prompt-tokens", "500",
      "--decode-tokens", "300"]],
])
def test_the_parser_and_light_commands_import_nothing_heavy(runs):
    r = subprocess.run([sys.executable, "-c", PROBE.format(runs=runs, heavy=HEAVY)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip().splitlines()[-1] == "HEAVY:"


def test_the_command_line_modules_themselves_import_nothing_heavy():
    """Without the package's own __init__ (a stand-in module), so that only difficulty.cli and
    what it imports are measured."""
    probe = textwrap.dedent(f"""
        import importlib.util, sys, types
        stand_in = types.ModuleType("difficulty")  # find_spec locates the package without running it
        stand_in.__path__ = list(importlib.util.find_spec("difficulty").submodule_search_locations)
        stand_in.__version__ = "0"
        sys.modules["difficulty"] = stand_in
        import difficulty.cli
        difficulty.cli.build_parser()
        print(",".join(m for m in {HEAVY!r} if m in sys.modules))
    """)
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ""


# ---------------------------------------------------------------- a bare curve
def test_forecast_from_a_curve_file(cli, tmp_path):
    p = tmp_path / "curve.csv"
    p.write_text("k,pass_at_k,n_problems\n1,0.2,300\n2,0.3,300\n5,0.45,300\n10,0.55,300\n20,0.65,300\n50,0.75,300\n")
    code, out, err = cli("forecast", p, "--k", "100,1000", "--level", "0.8", "--json")
    assert code == 0, err
    r = json.loads(out)
    assert set(r) == {"k", "pass_at_k", "low", "high", "model", "method", "level", "target"}
    assert r["k"] == [100, 1000] and r["method"] == "lsq" and r["target"] == "population" and r["level"] == 0.8
    assert all(lo <= v <= hi for lo, v, hi in zip(r["low"], r["pass_at_k"], r["high"]))
    assert 0.75 < r["pass_at_k"][0] < r["pass_at_k"][1] <= 1  # beyond the last observed point, still rising


# ---------------------------------------------------------------- progress and JSON
def test_progress_off_a_terminal_prints_a_line_per_stage_start_and_end():
    assert make_progress(True) is None
    stream = io.StringIO()
    progress = make_progress(False, stream)
    for done in range(0, 1201, 60):
        progress("sampling", done, 1200)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[0] == "  sampling: started"
    assert lines[1].startswith("  sampling: 1200/1200 (") and lines[1].endswith(" s)")


def test_json_output_has_null_for_nan():
    import numpy as np

    from difficulty.io import to_json

    text = to_json({"a": np.float64("nan"), "b": np.arange(3), "c": [float("inf"), np.int64(2)]})
    assert json.loads(text) == {"a": None, "b": [0, 1, 2], "c": [None, 2]}
