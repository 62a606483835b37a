"""The default forecaster: self-backtest inside the data, weights, bands, warnings, the ceiling."""
import warnings
from fractions import Fraction
from math import comb

import numpy as np
import pytest

from difficulty.backtest import subsample_counts
from difficulty.counts import EvalCounts
from difficulty.forecast import forecast_pass_at_k
from difficulty.selfcheck import SELFCHECK_CANDIDATES, forecast_selfcheck


def _sim(q, n, seed):
    rng = np.random.default_rng(seed)
    return EvalCounts(np.full(q.size, n), rng.binomial(n, q))


def test_subsample_is_hypergeometric():
    """m attempts drawn without replacement from (N, c): the frequencies of c' match the exact
    hypergeometric pmf C(c, j) C(N - c, m - j) / C(N, m) (fractions) within 0.01 over 40,000 draws
    (the standard error of each frequency is below 0.0025)."""
    N, c, m, reps = 20, 7, 5, 40_000
    counts = EvalCounts(np.full(reps, N), np.full(reps, c))
    sub = subsample_counts(counts, m, np.random.default_rng(3))
    assert np.all(sub.n == m)
    freq = np.bincount(sub.c, minlength=m + 1) / reps
    exact = [Fraction(comb(c, j) * comb(N - c, m - j), comb(N, m)) for j in range(m + 1)]
    assert sum(exact) == 1
    assert np.max(np.abs(freq - np.array([float(e) for e in exact]))) < 0.01


def test_subsample_all_successes_or_none_is_exact():
    """c = N gives c' = m and c = 0 gives c' = 0, whatever the draw."""
    counts = EvalCounts(np.array([50, 50, 80]), np.array([50, 0, 80]))
    sub = subsample_counts(counts, 10, np.random.default_rng(0))
    assert sub.c.tolist() == [10, 0, 10]


@pytest.mark.slow
def test_weights_sum_to_one_and_favour_the_true_model():
    """Counts from a zero-inflated Beta (30% never solvable, 256 problems, N = 1000): the weights sum
    to 1, and in at least 2 of 3 Monte Carlo data sets the zero-inflated Beta, the generating model,
    gets more weight than the Kumaraswamy model, which has no ceiling."""
    wins = 0
    for seed in range(3):
        rng = np.random.default_rng(seed)
        q = np.where(rng.random(256) < 0.3, 0.0, 1 - rng.beta(3.0, 0.4, 256))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = forecast_selfcheck(_sim(q, 1000, seed + 10), [1e5], seed=seed)
        assert sum(f.weights.values()) == pytest.approx(1.0, abs=1e-12)
        assert set(f.weights) == set(SELFCHECK_CANDIDATES)
        wins += f.weights["zi-beta"] > f.weights["kumaraswamy"]
    assert wins >= 2, wins


@pytest.mark.slow
def test_ceiling_and_warning():
    """30% never solvable (Beta(3, 0.4) failure rates on the rest): the Monte Carlo truth at k = 1e9
    is below 0.70, and the default forecast there stays below 0.75; k/N = 1e6 is beyond 100 x the
    ratio the self-backtest checked (100), so a warning is recorded and printed in the dict; at
    k = 1e4 (k/N = 10) there is none."""
    rng = np.random.default_rng(5)
    q = np.where(rng.random(256) < 0.3, 0.0, 1 - rng.beta(3.0, 0.4, 256))
    truth = float(np.mean(1 - (1 - q) ** 1e9))
    assert truth < 0.70
    counts = _sim(q, 1000, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = forecast_pass_at_k(counts, [1e9], method="selfcheck")
        g = forecast_pass_at_k(counts, [1e4], method="selfcheck")
    assert f.method == "selfcheck"
    assert f.pass_at_k[0] < 0.75
    assert f.low[0] <= f.pass_at_k[0] <= f.high[0]
    assert f.warnings and "beyond" in f.warnings[0]
    d = f.to_dict()
    assert d["warnings"] and "scores" in d["selfcheck"] and "weights" in d
    assert not g.warnings


def test_no_check_possible_is_said():
    """N = 30 attempts per problem: no subsample of >= 20 attempts at a ratio of 2 or more exists, so
    nothing is checked; the forecast says so and its band reaches at least 0.1 z either side of it (within [0, 1])."""
    rng = np.random.default_rng(1)
    q = rng.beta(0.5, 3.0, 64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = forecast_selfcheck(_sim(q, 30, 2), [300], candidates=("beta", "loglog"))
    assert f.selfcheck["runs"] == []
    assert any("too few attempts" in w for w in f.warnings)
    z = 1.6448536269514722  # the 95% normal quantile: a 90% band
    assert f.low[0] <= max(0.0, f.pass_at_k[0] - 0.1 * z) + 1e-9
    assert f.high[0] >= min(1.0, f.pass_at_k[0] + 0.1 * z) - 1e-9
