"""Bad input and edge cases, command by command (the table "Bad input" in README.md): each ends in a
right answer (exit 0) or in one line naming the row or argument (exit 2), never a traceback."""
import json

import numpy as np
import pytest
from scipy import stats
from scipy.special import betaln, gammaln

COUNTS_COMMANDS = {  # every command that reads a data file, with the options that make it quick
    "passk": [],
    "fit": ["--method", "mle"],
    "forecast": ["--k", "100", "--method", "mle"],
    "backtest": ["--attempts", "2", "--k", "3", "--seeds", "1", "--forecasters", "loglog"],
    "rank": [],
    "invert": [],
    "analyze": ["-o", "{tmp}/report", "--no-plots"],
}
FILES = {
    "empty": ("", "the file is empty"),
    "header": ("n,c\n", "no rows"),
    "text": ("n,c\n10,3\n10,abc\n", "row 2 of column 'c' is 'abc', not a number"),
    "c_over_n": ("n,c\n10,3\n10,11\n", "successes c=11 exceed attempts N=10 for row 2"),
    "negative_n": ("n,c\n10,3\n-5,0\n", "attempts (N) of row 2 is negative (-5)"),
    "duplicate": ("problem,n,c\na,10,1\nb,10,2\na,10,2\n", "duplicate problem id 'a' (rows 1 and 3)"),
    "curve": ("k,pass_at_k\n1,0.2\n10,0.5\n100,0.8\n", "is an aggregate k,pass_at_k curve"),
}
ALL_SOLVED = "n,c\n" + "".join(f"{n},{n}\n" for n in (10, 20, 10, 50, 10))
NONE_SOLVED = "n,c\n" + "".join(f"{n},0\n" for n in (10, 20, 10, 50, 10))
ONE = "n,c\n10,3\n"
BIG = "n,c\n" + "".join(f"1000000000,{c}\n" for c in (0, 1, 999999999, 0, 1, 999999999, 0, 0))


def one_line_error(code, out, err, *words):
    assert code == 2 and out == "", (code, out, err)
    assert err.startswith("difficulty: error: ") and err.count("\n") == 1, err
    for w in words:
        assert w in err, err


def answer(code, out, err):
    assert code == 0, err
    return json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} in the JSON output"))


def _argv(command, path, tmp_path, *extra):
    return [command, path, *[a.format(tmp=tmp_path) for a in COUNTS_COMMANDS[command]], *extra]


# ---------------------------------------------------------------- bad files, every command that reads one
@pytest.mark.parametrize("command,kind", [
    (command, kind) for command in COUNTS_COMMANDS for kind in FILES
    if not (kind == "curve" and command in ("fit", "forecast", "invert"))  # these read a curve: see below
])
def test_a_bad_file_is_one_line_naming_the_row(cli, tmp_path, command, kind):
    text, message = FILES[kind]
    path = tmp_path / "data.csv"
    path.write_text(text)
    one_line_error(*cli(*_argv(command, path, tmp_path)), message)


@pytest.mark.parametrize("command", COUNTS_COMMANDS)
def test_a_missing_file_and_a_folder_are_one_line(cli, tmp_path, command):
    one_line_error(*cli(*_argv(command, tmp_path / "nope.csv", tmp_path)), "nope.csv: no such file")
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    one_line_error(*cli(*_argv(command, folder, tmp_path)), "is a directory, not a data file")


def test_a_file_that_is_not_text_is_one_line(cli, tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_bytes(b"\xff\xfe\x00b")
    one_line_error(*cli("passk", path), "not a text file in UTF-8")


def test_a_curve_is_read_where_a_curve_makes_sense(cli, tmp_path):
    path = tmp_path / "curve.csv"
    path.write_text("k,pass_at_k\n1,0.2\n2,0.3\n5,0.45\n10,0.55\n20,0.65\n50,0.75\n")
    assert answer(*cli("fit", path, "--json"))["method"] == "lsq"
    one_line_error(*cli("invert", path, "--from", "counts"), "needs per-problem counts")
    path.write_text("k,pass_at_k\n1,1\n2,1\n5,1\n10,1\n")
    one_line_error(*cli("invert", path), "pass@k is 1 at every k")
    path.write_text("k,pass_at_k\n1,0\n2,0\n5,0\n10,0\n")
    one_line_error(*cli("invert", path), "pass@k is 0 at every k")


# ---------------------------------------------------------------- bad arguments
GOOD = "n,c\n" + "".join(f"20,{c}\n" for c in (0, 1, 3, 7, 12, 20, 2, 5))
BETA = ["--alpha", "2", "--beta", "0.35"]
PLAN = ["--target", "0.9", "--prompt-tokens", "500", "--decode-tokens", "300"]


@pytest.mark.parametrize("args,message", [
    (["model", "nosuch"], "unknown model 'nosuch'"),
    (["plan", "--model", "nosuch", *PLAN], "unknown model 'nosuch'"),
    (["simulate", "nosuch", "-o", "{tmp}/s.csv"], "unknown model 'nosuch'"),
    (["fit", "{data}", "--model", "nosuch"], "unknown model 'nosuch'"),
    (["forecast", "{data}", "--k", "100", "--model", "nosuch", "--method", "mle"], "unknown model 'nosuch'"),
    (["rank", "{data}", "--model", "nosuch"], "unknown model 'nosuch'"),
    (["invert", "{data}", "--model", "nosuch"], "unknown model 'nosuch'"),
    (["fit", "{data}", "--model", "power-law", "--method", "mle"], "has no per-problem likelihood"),
    (["fit", "{data}", "--method", "foo"], "argument --method: invalid choice: 'foo'"),
    (["forecast", "{data}", "--k", "10", "--method", "foo"], "argument --method: invalid choice: 'foo'"),
    (["invert", "{data}", "--method", "foo"], "argument --method: invalid choice: 'foo'"),
    (["passk", "{data}", "--level", "1.5"], "argument --level: must be in (0, 1), got 1.5"),
    (["fit", "{data}", "--level", "1.5"], "argument --level: must be in (0, 1), got 1.5"),
    (["forecast", "{data}", "--k", "10", "--level", "1.5"], "argument --level: must be in (0, 1), got 1.5"),
    (["backtest", "{data}", "--attempts", "5", "--k", "10", "--level", "1.5"], "argument --level"),
    (["rank", "{data}", "--level", "1.5"], "argument --level: must be in (0, 1), got 1.5"),
    (["invert", "{data}", "--level", "1.5"], "argument --level: must be in (0, 1), got 1.5"),
    (["plan", "--model", "beta", *BETA, "--target", "1.5", "--prompt-tokens", "1", "--decode-tokens", "1"],
     "argument --target: must be in (0, 1), got 1.5"),
    (["rank", "{data}", "--budget", "0"], "argument --budget: must be a finite number of attempts >= 1, got 0"),
    (["rank", "{data}", "--budget", "inf"], "argument --budget: must be a finite number of attempts >= 1"),
    (["invert", "{data}", "--budget", "0"], "argument --budget: must be a finite number of attempts >= 1, got 0"),
    (["rank", "{data}", "--band", "0.9,0.1"], "--band must satisfy 0 < LO < HI <= 1, got 0.9,0.1"),
    (["rank", "{data}", "--band", "0.5"], "--band takes LO,HI"),
    (["rank", "{data}", "--top", "-1"], "argument --top: must be >= 0, got -1"),
    (["passk", "{data}", "--k", "0"], "k must be >= 1, got 0"),
    (["forecast", "{data}", "--k", "0", "--method", "mle"], "k must be finite and >= 1"),
    (["backtest", "{data}", "--attempts", "5", "--k", "0"], "argument --k: must be >= 1, got 0"),
    (["passk", "{data}", "--k", "1e20"], "k = 1e+20 is larger than any number of attempts N"),
    (["passk", "{data}", "--k", "100"], "k=100 exceeds the attempts of 8 problem(s)"),
    (["backtest", "{data}", "--attempts", "5", "--k", "1e20"], "argument --k: must be a whole number (below 2^53)"),
    (["backtest", "{data}", "--attempts", "5", "--k", "10", "--seeds", "0"], "argument --seeds: must be >= 1"),
    (["fit", "{data}", "--method", "mcmc", "--steps", "0"], "argument --steps: must be >= 1, got 0"),
    (["invert", "{data}", "--model", "beta", "--check", "-3"], "argument --check: must be >= 0, got -3"),
    (["model", "beta", *BETA, "--sigma", "0"], "--sigma values must be > 0"),
    (["passk", "{data}", "--bogus"], "unrecognized arguments: --bogus (see difficulty passk --help)"),
    (["forecast", "{data}", "--k", "10", "--method", "mle", "--seed", "-1"], "--seed must be >= 0, got -1"),
    (["demo", "--seed", "-1", "-o", "{tmp}/demo"], "--seed must be >= 0, got -1"),
    (["analyze", "{data}", "--budget", "0", "-o", "{tmp}/report"], "--budget must be a finite number of attempts >= 1"),
    (["backtest", "{data}", "--attempts", "2", "--k", "100"], "backtest needs at least 2 problems with N >= k=100"),
])
def test_a_bad_argument_is_one_line_naming_it(cli, tmp_path, args, message):
    data = tmp_path / "data.csv"
    data.write_text(GOOD)
    one_line_error(*cli(*[a.format(data=data, tmp=tmp_path) for a in args]), message)


def test_k_at_the_ends_is_answered_by_model_and_forecast(cli, tmp_path):
    r = answer(*cli("model", "beta", *BETA, "--k", "0,1e20", "--json"))
    assert r["pass_at_k"][0] == 0.0  # no attempt, no success
    # 1 - B(alpha + k, beta)/B(alpha, beta) at k = 1e20, from the log-beta ratio
    assert abs(r["pass_at_k"][1] - (1 - np.exp(betaln(2 + 1e20, 0.35) - betaln(2, 0.35)))) < 1e-15
    assert r["inference_loss_asymptote"][0] is None
    assert "diverges at k = 0" in r["inference_loss_asymptote_note"]
    data = tmp_path / "data.csv"
    data.write_text(GOOD)
    f = answer(*cli("forecast", data, "--k", "1e20", "--method", "mle", "--json"))
    assert f["low"][0] <= f["pass_at_k"][0] <= f["high"][0] <= 1


# ---------------------------------------------------------------- numbers beyond double precision
def test_an_overflowing_asymptote_is_null_with_the_reason(cli):
    code, out, err = cli("model", "beta", "--alpha", "1e-6", "--beta", "1e6", "--k", "1,1e15", "--json")
    r = answer(code, out, err)
    assert err == ""  # no raw RuntimeWarning
    assert r["inference_loss_asymptote"][0] is None
    note = r["inference_loss_asymptote_note"]
    assert note.startswith("entry 0 is not finite: overflows: A Gamma(alpha+beta)/Gamma(alpha) is beyond double "
                           "precision at alpha=1e-06, beta=1e+06")
    log_c = gammaln(1e6 + 1e-6) - gammaln(1e-6)  # its log, as the note says
    assert f"its log is {log_c:.6g}" in note
    assert r["inference_loss_asymptote"][1] == 0.0  # exp(log_c - 1e6 log 1e15) underflows: a true 0 in doubles


def test_the_asymptote_has_no_cancellation_at_huge_alpha(cli):
    r = answer(*cli("model", "beta", "--alpha", "1e308", "--beta", "1e-308", "--k", "1,10", "--json"))
    # Gamma(a + b)/Gamma(a) ~ a^b = exp(1e-308 * 709.2) = 1 to double precision; k^-b = 1 too
    assert r["inference_loss_asymptote"] == [1.0, 1.0]


def test_a_value_the_model_cannot_compute_is_null_with_the_reason(cli, monkeypatch):
    def overflow(self, k):
        raise OverflowError("math range error")

    monkeypatch.setattr("difficulty.models.kumaraswamy.KumaraswamyModel.pass_at_k", overflow)
    r = answer(*cli("model", "kumaraswamy", "--a", "0.5", "--b", "2", "--k", "1,10", "--json"))
    assert r["pass_at_k"] == [None, None]
    assert "cannot be evaluated in double precision at a=0.5, b=2" in r["pass_at_k_note"]
    assert "OverflowError" in r["pass_at_k_note"]
    code, out, err = cli("plan", "--model", "kumaraswamy", "--a", "0.5", "--b", "2", *PLAN)
    one_line_error(code, out, err, "cannot be evaluated in double precision", "OverflowError")


def test_a_maximum_at_the_edge_gets_a_note_for_its_missing_interval(cli, tmp_path):
    data = tmp_path / "one.csv"
    data.write_text(ONE)
    r = answer(*cli("fit", data, "--json"))
    for p in ("alpha", "beta"):
        assert r["params"][p]["low"] is None and "no Laplace interval" in r["params"][p]["low_note"]
    # every problem alike: the shapes run off together, their ratio held at the observed rate
    a, b = r["params"]["alpha"]["value"], r["params"]["beta"]["value"]
    assert abs(b / (a + b) - 0.3) < 0.01  # the mean of q; the optimiser stops where the likelihood is flat


def test_notes_follow_every_value_that_is_not_finite():
    from difficulty.cli.common import with_notes

    out = with_notes({"a": np.array([1.0, np.inf, np.nan]), "b": 1.0, "c": [None, 2.0], "d": {"e": float("nan")},
                      "f": [{"g": np.inf}], "h": [[1.0, np.nan]]},
                     {"a": {1: "overflows", 2: "undefined"}})
    assert out["a_note"] == "entry 1 is not finite: overflows; entry 2 is not finite: undefined"
    assert "b_note" not in out and "c_note" not in out  # finite, or already null on purpose
    assert out["d"]["e_note"] == "not finite in double precision"
    assert out["f"][0]["g_note"] == "not finite in double precision"
    assert out["h_note"] == "entry 1 is not finite in double precision"  # flat index of a nested array


def test_warnings_never_reach_the_user_raw(cli, monkeypatch):
    import warnings

    def noisy(name, extras):
        np.exp(1000.0)  # numpy: overflow (RuntimeWarning)
        np.log(np.zeros(1))
        warnings.warn("scipy-ish round-off", RuntimeWarning, stacklevel=1)
        warnings.warn("a library says: something", UserWarning, stacklevel=1)
        from difficulty.models import make_model

        return make_model("beta", alpha=2.0, beta=0.35)

    monkeypatch.setattr("difficulty.cli.model.model_from_args", noisy)
    code, out, err = cli("model", "beta", "--k", "1", "--json")
    assert code == 0
    assert err == "difficulty: warning: a library says: something\n"


# ---------------------------------------------------------------- everything solved, nothing solved, one, N = 1e9
@pytest.mark.parametrize("command,extra", [
    ("fit", []), ("forecast", ["--k", "100"]), ("rank", []), ("invert", []), ("invert", ["--from", "curve"]),
    ("backtest", ["--attempts", "5", "--k", "10"]),
])
def test_every_attempt_succeeded_is_one_line(cli, tmp_path, command, extra):
    data = tmp_path / "solved.csv"
    data.write_text(ALL_SOLVED)
    one_line_error(*cli(command, data, *extra), "every attempt succeeded (all c = N)")


@pytest.mark.parametrize("command,extra", [
    ("fit", []), ("forecast", ["--k", "100"]), ("rank", []), ("invert", []), ("invert", ["--from", "curve"]),
    ("backtest", ["--attempts", "5", "--k", "10"]),
])
def test_nothing_ever_solved_is_one_line(cli, tmp_path, command, extra):
    data = tmp_path / "unsolved.csv"
    data.write_text(NONE_SOLVED)
    one_line_error(*cli(command, data, *extra), "no problem was ever solved (all c = 0)")


@pytest.mark.parametrize("text,value", [(ALL_SOLVED, 1.0), (NONE_SOLVED, 0.0)])
def test_passk_answers_at_the_ends(cli, tmp_path, text, value):
    data = tmp_path / "ends.csv"
    data.write_text(text)
    r = answer(*cli("passk", data, "--k", "1,10", "--json"))
    assert r["pass_at_k"] == [value, value]


def test_one_problem(cli, tmp_path):
    data = tmp_path / "one.csv"
    data.write_text(ONE)
    r = answer(*cli("passk", data, "--k", "1,2,8", "--json"))
    # 1 - C(7, k)/C(10, k): 0.3, 1 - 21/45, 1 (8 > N - c = 7)
    assert np.allclose(r["pass_at_k"], [0.3, 1 - 21 / 45, 1.0], rtol=0, atol=1e-15)
    inv = answer(*cli("invert", data, "--json"))
    # the NPMLE of one binomial count is an atom at its rate: the mass sits near q = 0.3
    q = -np.expm1(-np.asarray(inv["sigma"]))
    w = np.asarray(inv["weights"])
    assert abs((w * q).sum() / w.sum() - 0.3) < 0.05
    f = answer(*cli("forecast", data, "--k", "100", "--method", "mle", "--json"))
    assert 0.99 < f["pass_at_k"][0] <= 1  # 1 - 0.7^100, under any posterior near q = 0.3
    rk = answer(*cli("rank", data, "--json"))
    (row,) = rk["problems"]
    # 3 of 10: its posterior mean lies between the rate 0.3 and the uniform-prior mean 4/12
    assert 0.29 < row["q_mean"] < 0.34


def test_a_billion_attempts(cli, tmp_path):
    data = tmp_path / "big.csv"
    data.write_text(BIG)
    r = answer(*cli("passk", data, "--k", "1,1000000000", "--json"))
    # pass@1 = mean c/N; pass@N = the fraction of problems ever solved (4 of 8)
    assert r["pass_at_k"][0] == pytest.approx((2 * 1e-9 + 2 * (1 - 1e-9)) / 8, rel=1e-12)
    assert r["pass_at_k"][1] == 4 / 8
    for command, extra in (("fit", []), ("rank", []), ("invert", []), ("forecast", ["--k", "1e10", "--method", "mle"])):
        answer(*cli(command, data, *extra, "--json"))


# ---------------------------------------------------------------- the subsample of a backtest at N >= 1e9
def test_backtest_subsample_is_hypergeometric_beyond_numpys_range():
    from difficulty.backtest import _hypergeometric

    rng = np.random.default_rng(0)
    good = np.full(40000, 3 * 10**9)
    bad = np.full(40000, 10**9)
    x = _hypergeometric(good, bad, 20, rng)
    expected = stats.hypergeom(4 * 10**9, 3 * 10**9, 20).pmf(np.arange(21)) * x.size
    observed = np.bincount(x, minlength=21)
    keep = expected > 5
    chi2 = float((((observed - expected) ** 2 / expected)[keep]).sum())
    assert chi2 < stats.chi2(keep.sum() - 1).ppf(0.999), chi2


def test_invert_when_a_held_out_problem_has_no_likelihood(cli, tmp_path):
    """Two problems, one never solved in 10^4 attempts: a cross-validation fold without it cannot
    explain it (held-out log-likelihood -inf); the strength is still chosen and the density given."""
    data = tmp_path / "two.csv"
    data.write_text("n,c\n10000,5000\n10000,0\n")
    r = answer(*cli("invert", data, "--json", "--quiet"))
    w = np.asarray(r["weights"], dtype=float)
    assert np.all(w >= 0) and w.sum() + r["never_solved"] + r["always_solved"] == pytest.approx(1, abs=1e-6)
