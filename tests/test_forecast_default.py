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


Z90 = 1.6448536269514722  # the 95% normal quantile: the half-width of a 90% band in sds


def test_check_subsample_size():
    """The default's check subsamples to k0 / 10 attempts when that leaves >= 8, else to 8 when k0 >= 24;
    below that nothing can be checked."""
    from difficulty.selfcheck import _check_attempts

    assert [_check_attempts(k) for k in (10_000, 1000, 100, 80, 79, 60, 24, 23, 5)] == \
        [1000, 100, 10, 8, 8, 8, 8, None, None]


def test_check_truth_runs_and_error():
    """The check's pass@k0 is the exact unbiased pass@k0 of the data (fractions: 1 - C(N - c, k0) / C(N, k0)
    averaged); each run's forecast is the Kumaraswamy MLE forecast of pass@k0 from a subsample drawn with the
    same seeded generator, its error forecast - truth, and the error checked their root mean square."""
    from difficulty.forecast import fit_for_forecast, forecast
    from difficulty.selfcheck import extrapolation_check

    rng = np.random.default_rng(4)
    q = rng.beta(0.4, 4.0, 96)
    n = np.where(np.arange(96) % 2, 120, 100)
    counts = EvalCounts(n, rng.binomial(n, q))
    ch = extrapolation_check(counts, seed=7)
    k0 = 100
    exact = sum(1 - Fraction(comb(int(N) - int(c), k0), comb(int(N), k0)) for N, c in zip(counts.n, counts.c)) / 96
    assert ch["k0"] == k0 and ch["attempts"] == 10 and ch["ratio_checked"] == 10.0
    assert ch["truth_at_k0"] == pytest.approx(float(exact), rel=1e-13)
    again = np.random.default_rng(7)
    for rep, run in enumerate(ch["runs"]):
        sub = subsample_counts(counts, 10, again)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = forecast(fit_for_forecast(sub, "kumaraswamy", "mle", seed=7 + rep), [k0], draws=200, seed=7 + rep)
        assert run["forecast"] == float(f.pass_at_k[0])
        assert run["error"] == pytest.approx(run["forecast"] - float(exact), abs=1e-13)
    assert len(ch["runs"]) == 3
    assert ch["error_checked"] == pytest.approx(np.sqrt(np.mean([r["error"] ** 2 for r in ch["runs"]])), rel=1e-12)


def test_widen_band_by_the_checked_error():
    """The band holds at least mid +- z e_c log(k / k0) / log r_c beyond k0 (z of a 90% band, e_c = 0.05,
    r_c = 10, k0 = 100: half-widths 0, 0, 0.05 z, 0.1 z, 0.2 z at k = 50, 100, 1000, 1e4, 1e6), clipped to
    [0, 1]; an end already wider is kept; at k <= k0 the band is untouched. Given the data's pass@k0, the
    widening of pass@k of these problems stops there (not for a new draw of problems)."""
    from dataclasses import replace

    from difficulty.forecast import Forecast
    from difficulty.selfcheck import widen_forecast

    k = np.array([50.0, 100.0, 1000.0, 1e4, 1e6])
    mid = np.array([0.40, 0.50, 0.60, 0.70, 0.90])
    lo, hi = mid - 0.01, mid + 0.01
    hi[3], hi[4] = 0.95, 0.96  # wider than the check asks (and nondecreasing in k, as a Forecast keeps its band)
    fc = Forecast(k, mid, lo, hi, 0.9, "kumaraswamy", "mcmc", "problems")
    check = {"k0": 100, "error_checked": 0.05, "ratio_checked": 10.0, "runs": [], "attempts": 10}
    w = widen_forecast(fc, check)
    half = Z90 * 0.05 * np.array([0.0, 0.0, 1.0, 2.0, 4.0])
    assert np.allclose(w.low, np.maximum(0.0, np.minimum(lo, mid - half)), atol=1e-15)
    assert np.allclose(w.high, np.minimum(1.0, np.maximum(hi, mid + half)), atol=1e-15)
    assert w.low[0] == lo[0] and w.high[1] == hi[1] and w.high[3] == 0.95 and w.high[4] == 1.0
    assert w.selfcheck["widened_by"] == pytest.approx(half.tolist(), abs=1e-15)
    assert fc.low[2] == pytest.approx(0.59)  # the forecast given is not modified
    floored = widen_forecast(fc, {**check, "truth_at_k0": 0.55})  # pass@k of these problems >= pass@k0 = 0.55
    assert np.allclose(floored.low[2:], np.maximum(0.0, np.minimum(lo[2:], np.maximum(mid[2:] - half[2:], 0.55))))
    assert floored.low[3] == pytest.approx(0.55) and floored.low[2] == pytest.approx(0.55)
    pop = widen_forecast(replace(fc, target="population"), {**check, "truth_at_k0": 0.55})  # a new draw: no floor
    assert np.allclose(pop.low, w.low)
    none = widen_forecast(fc, {"k0": 10, "error_checked": None, "ratio_checked": None, "runs": [], "attempts": None})
    assert any("too few attempts" in s for s in none.warnings)  # e_c = 0.1 at r_c = 10: 0.1 z at k = 100
    assert none.low[1] == pytest.approx(0.5 - 0.1 * Z90) and none.high[1] == pytest.approx(0.5 + 0.1 * Z90)


def test_band_ends_are_made_nondecreasing_in_k():
    """A Forecast's point and band ends never fall as k grows, k in any order: each lower end is the largest
    given at that k or a smaller one, each upper end the smallest given at that k or a larger one (checked
    against those maxima and minima written out); widening keeps it so (where the point levels off, the
    widened lower end stays at its value at k0 instead of falling with log k)."""
    from difficulty.forecast import Forecast
    from difficulty.selfcheck import widen_forecast

    rng = np.random.default_rng(3)
    k = rng.permutation(np.array([1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1e3, 1e4]))
    mid = rng.uniform(0.3, 0.6, k.size)
    lo, hi = mid - rng.uniform(0, 0.3, k.size), mid + rng.uniform(0, 0.3, k.size)
    given = (mid.copy(), lo.copy(), hi.copy())
    fc = Forecast(k, mid, lo, hi, 0.9, "kumaraswamy", "mcmc", "problems")
    for i in range(k.size):
        below, above = k <= k[i], k >= k[i]
        assert fc.pass_at_k[i] == max(mid[below]) and fc.low[i] == max(lo[below]) and fc.high[i] == min(hi[above])
    assert all(np.array_equal(a, b) for a, b in zip(given, (mid, lo, hi)))  # the arrays given are not modified
    order = np.argsort(k)
    assert all(np.all(np.diff(v[order]) >= 0) for v in (fc.low, fc.pass_at_k, fc.high))
    # widening by an error growing with log k pulls mid - half down where the point saturates: 0.89 at k0,
    # then 0.95 - 0.0822, 0.96 - 0.164, 0.97 - 0.329; pass@k >= pass@100 keeps the lower end at 0.89
    k2 = np.array([100.0, 1e3, 1e4, 1e6])
    m2 = np.array([0.90, 0.95, 0.96, 0.97])
    w = widen_forecast(Forecast(k2, m2, m2 - 0.01, m2 + 0.01, 0.9, "kumaraswamy", "mcmc", "population"),
                       {"k0": 100, "error_checked": 0.05, "ratio_checked": 10.0, "runs": [], "attempts": 10})
    assert np.allclose(w.low, 0.89, atol=1e-15)
    assert np.allclose(w.high, [0.91, 1.0, 1.0, 1.0], atol=1e-15)  # 0.95 + 0.0822 etc. clipped to 1


def test_default_forecast_band_is_nondecreasing_at_many_k():
    """The default forecast (its band widened by the check, whose half-width grows with log k) at 40 k from 1 to
    1e7 in shuffled order: point and band ends nondecreasing in k, and the same forecast as with k sorted."""
    rng = np.random.default_rng(5)
    q = rng.beta(0.3, 2.0, 150) * (rng.random(150) > 0.2)
    counts = _sim(q, 100, 6)
    k = np.unique(np.round(np.geomspace(1, 1e7, 40)))
    shuffled = rng.permutation(k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = forecast_pass_at_k(counts, k, seed=1)
        g = forecast_pass_at_k(counts, shuffled, seed=1)
    assert all(np.all(np.diff(v) >= 0) for v in (f.low, f.pass_at_k, f.high))
    back = np.argsort(shuffled)
    assert np.allclose(g.low[back], f.low) and np.allclose(g.high[back], f.high)
    assert np.allclose(g.pass_at_k[back], f.pass_at_k)


def test_default_forecast_is_checked_and_the_switch_works():
    """With neither model nor method the forecast is the Kumaraswamy posterior's, its band widened by the
    check (the point unchanged; check=False gives the posterior's own band); the check is refused where there
    is no single per-problem model to check, and with selfcheck, which widens its band itself."""
    from difficulty.errors import DifficultyError

    rng = np.random.default_rng(8)
    counts = _sim(rng.beta(0.3, 3.0, 80), 100, 9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = forecast_pass_at_k(counts, [100, 1e4])
        plain = forecast_pass_at_k(counts, [100, 1e4], check=False)
        post = forecast_pass_at_k(counts, [100, 1e4], model="kumaraswamy", method="mcmc")
    assert d.model == "kumaraswamy" and d.method == "mcmc" and d.selfcheck["error_checked"] > 0
    assert np.array_equal(d.pass_at_k, post.pass_at_k) and post.selfcheck is None
    assert np.array_equal(plain.low, post.low) and np.array_equal(plain.high, post.high)
    assert d.low[0] == post.low[0] and d.high[0] == post.high[0]  # k = N: nothing to extrapolate
    half = Z90 * d.selfcheck["error_checked"] * 2.0  # log(1e4 / 100) / log 10
    assert d.high[1] == pytest.approx(min(1.0, max(post.high[1], d.pass_at_k[1] + half)), abs=1e-12)
    for kw in (dict(method="loglog", check=True), dict(model="average", method="mcmc", check=True),
               dict(method="selfcheck", check=False)):
        with pytest.raises(DifficultyError, match="check"):
            forecast_pass_at_k(counts, [1e4], **kw)


@pytest.mark.slow
def test_checked_band_covers_outside_the_family():
    """Monte Carlo, 20 data sets of 128 problems, N = 100, success rates logit-normal(-5, 2) (outside the
    Kumaraswamy family), truth pass@1e4 of the simulated rates: the posterior's own band covers the truth in
    at most 12 of them, the checked default's in at least 16 (a 90% band would miss 5 or more of 20 with
    probability 0.04)."""
    from difficulty.forecast import fit_for_forecast, forecast
    from difficulty.selfcheck import extrapolation_check, widen_forecast

    rng = np.random.default_rng(11)
    own = checked = 0
    for r in range(20):
        q = 1 / (1 + np.exp(-rng.normal(-5.0, 2.0, 128)))
        counts = EvalCounts(np.full(128, 100), rng.binomial(100, q))
        truth = float(np.mean(1 - (1 - q) ** 1e4))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fc = forecast(fit_for_forecast(counts, seed=r), [1e4], draws=200, seed=r)
            w = widen_forecast(fc, extrapolation_check(counts, seed=r))
        own += fc.low[0] <= truth <= fc.high[0]
        checked += w.low[0] <= truth <= w.high[0]
    assert own <= 12 and checked >= 16, (own, checked)


def test_check_of_data_no_model_fits_at_the_subsample():
    """Subsamples no model can be fitted to count as the forecast they imply: every attempt a success
    (49 problems at 100/100, one at 99/100: a subsample of 10 attempts is all successes with probability
    0.9) forecasts pass@100 = 1, the data's own value, so the error is 0 and the band stays at 1; one
    success in 5,000 attempts (a subsample of 10 attempts per problem holds it with probability 0.1)
    forecasts 0, an error of -0.02, the data's pass@100."""
    from difficulty.selfcheck import extrapolation_check

    full = EvalCounts(np.full(50, 100), np.r_[np.full(49, 100), 99])
    ch = extrapolation_check(full, seed=1)
    assert ch["truth_at_k0"] == 1.0
    assert len(ch["runs"]) == 3  # with this seed each subsample is all successes
    assert all(r["forecast"] == 1.0 and r["error"] == 0.0 for r in ch["runs"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = forecast_pass_at_k(full, [1e4])
    assert f.low[0] >= 0.999
    one = EvalCounts(np.full(50, 100), np.r_[np.zeros(49, int), 1])
    ch = extrapolation_check(one, seed=1)
    assert ch["truth_at_k0"] == pytest.approx(0.02, abs=1e-15)
    assert all(r["error"] == pytest.approx(-0.02, abs=1e-15) for r in ch["runs"] if r["solved"] == 0)
