"""Sequential per-attempt data with adaptive stopping (difficulty.sequential): first success times,
the likelihood's equivalence with counts, the exact pass@k path refusing k > N_i, and the model's
forecast against the truth of generated data."""
import warnings

import mpmath as mp
import numpy as np
import pandas as pd
import pytest

from difficulty.cli import main
from difficulty.counts import EvalCounts
from difficulty.errors import DifficultyError
from difficulty.io import counts_from_frame, load_counts
from difficulty.models import make_model
from difficulty.passk import estimate_pass_at_k
from difficulty.sequential import sequential_from_frame

mp.mp.dps = 30


def _adaptive_rows(q, batch=60, cap=1200, seed=0):
    """Per-attempt rows of best-of-N sampling: batches of ``batch`` until a batch holds a success."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, qi in enumerate(q):
        t = 0
        while t < cap:
            out = rng.random(batch) < qi
            rows += [(f"p{i}", t + j, bool(o)) for j, o in enumerate(out)]
            t += batch
            if out.any():
                break
    df = pd.DataFrame(rows, columns=["prompt_idx", "sample_idx", "success"])
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # order is the attempt column's job


def test_first_success_times_and_censoring():
    df = pd.DataFrame({"problem": ["a"] * 4 + ["b"] * 3, "attempt": [3, 1, 2, 4, 2, 1, 3],
                       "correct": [1, 0, 0, 1, 0, 0, 0]})
    seq = sequential_from_frame(df, "problem", "attempt", df["correct"].to_numpy().astype(bool))
    assert seq.counts.n.tolist() == [4, 3] and seq.counts.c.tolist() == [2, 0]
    assert seq.first_success.tolist() == [3, 0] and seq.censored.tolist() == [False, True]
    assert seq.counts.stopping == "sequential"
    dup = pd.DataFrame({"problem": ["a", "a"], "attempt": [1, 1], "correct": [1, 0]})
    with pytest.raises(DifficultyError, match="row 2 repeats attempt 1"):
        counts_from_frame(dup)
    with pytest.raises(DifficultyError, match="not an attempt number"):
        counts_from_frame(pd.DataFrame({"problem": ["a"], "attempt": ["x"], "correct": [1]}))


@pytest.mark.parametrize("t", [1, 7, 60])
def test_beta_geometric_equals_counts_likelihood(t):
    """P(T = t) = B(beta + 1, alpha + t - 1)/B(beta, alpha) (Beta-geometric, mpmath) = P(c = 1 | N = t) / t; and
    P(T > N) = P(c = 0 | N): the censored first-success likelihood is the counts likelihood."""
    m = make_model("beta", alpha=2.5, beta=0.3)
    a, b = mp.mpf(2.5), mp.mpf(0.3)
    geo = mp.beta(b + 1, a + t - 1) / mp.beta(b, a)
    got = float(m.log_marginal(t, 1)) - np.log(t)
    assert got == pytest.approx(float(mp.log(geo)), rel=1e-12)
    surv = mp.beta(b, a + t) / mp.beta(b, a)
    assert float(m.log_marginal(t, 0)) == pytest.approx(float(mp.log(surv)), rel=1e-12)


def test_exact_pass_at_k_refuses_beyond_each_problems_attempts():
    q = np.random.default_rng(1).beta(0.3, 3.0, 50)
    df = _adaptive_rows(q, seed=1)
    counts = counts_from_frame(df)
    assert counts.stopping == "sequential"
    with pytest.raises(DifficultyError, match="stopped on a success.*forecast it with a model"):
        estimate_pass_at_k(counts, [int(counts.n.max())])
    with pytest.warns(UserWarning, match="biased"):
        estimate_pass_at_k(counts, [1, 60])
    fixed = EvalCounts(counts.n, counts.c)  # the same counts without the order: the old message
    with pytest.raises(DifficultyError, match="no unbiased estimate for k > N"):
        estimate_pass_at_k(fixed, [int(counts.n.max())])


def test_forecast_beyond_own_attempts_matches_truth(tmp_path):
    """Batches of 60 until a success (cap 1200), 300 prompts, q from a zero-inflated Beta. The zero-inflated Beta
    posterior forecast of pass@K of these prompts, K = 10,000 (beyond every prompt's N), against the truth
    mean_i 1 - (1 - q_i)^K: within 0.05, and inside the 90% band widened by 0.02."""
    from difficulty.forecast import forecast_pass_at_k

    rng = np.random.default_rng(7)
    true = make_model("beta", alpha=3.0, beta=0.35, A=0.8)
    q = 1 - true.sample(300, rng)
    df = _adaptive_rows(q, seed=7)
    path = tmp_path / "bon.csv"
    df.to_csv(path, index=False)
    counts = load_counts(str(path), attempt_col="sample_idx")
    assert counts.stopping == "sequential" and counts.n.max() <= 1200
    K = 10_000
    truth = float(np.mean(-np.expm1(K * np.log1p(-q))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fc = forecast_pass_at_k(counts, [K], model="zi-beta", method="mcmc", seed=0)
    assert abs(fc.pass_at_k[0] - truth) < 0.05
    assert fc.low[0] - 0.02 <= truth <= fc.high[0] + 0.02


def test_cli_reads_attempt_column_and_refuses_passk_beyond_n(tmp_path, capsys):
    q = np.random.default_rng(2).beta(0.3, 3.0, 30)
    df = _adaptive_rows(q, seed=2).rename(columns={"sample_idx": "step"})
    path = tmp_path / "bon.csv"
    df.to_csv(path, index=False)
    assert main(["passk", str(path), "--attempt-col", "step", "--k", "2000"]) == 2
    err = capsys.readouterr().err
    assert "stopped on a success" in err and "forecast" in err
    assert main(["passk", str(path), "--attempt-col", "nope", "--k", "1"]) == 2
    assert "no column 'nope'" in capsys.readouterr().err
