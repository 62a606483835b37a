"""Likelihoods on the (N, c) histogram, maximum likelihood, emcee posteriors, forecasts, backtests."""
import json
import math
import warnings

import arviz as az
import mpmath as mp
import numpy as np
import pytest
from scipy import stats
from scipy.special import betaln

from difficulty import DifficultyError, EvalCounts
from difficulty.backtest import backtest, subsample_counts
from difficulty.fit import fit_mle, make_likelihood, sample_posterior
from difficulty.fit.curve import curve_from_counts, fit_curve
from difficulty.forecast import forecast_pass_at_k
from difficulty.generate import simulate_beta_counts, simulate_counts
from difficulty.models import make_model


def test_beta_binomial_on_histogram_equals_per_problem_scipy_sum():
    counts, _ = simulate_beta_counts(2.0, 0.35, 5000, [50, 200, 1000, 10000] * 1250, seed=3)
    like = make_likelihood("beta", counts)
    assert like.n.size < 5000  # the histogram is smaller than the data
    for a, b in [(2.0, 0.35), (0.5, 3.0), (40.0, 0.05)]:
        ref = stats.betabinom.logpmf(counts.c, counts.n, b, a).sum()  # q = 1 - p ~ Beta(b, a)
        got = float(like.loglike(np.array([a, b])))
        assert abs(got - ref) <= 1e-9 * abs(ref)
    vec = like.loglike(np.array([[2.0, 0.35], [0.5, 3.0]]))
    assert vec.shape == (2,)


def test_beta_binomial_pointwise_against_mpmath():
    counts = EvalCounts([10, 3000, 7], [0, 17, 7])
    like = make_likelihood("beta", counts)
    mp.mp.dps = 40
    pw = like.pointwise(np.array([1.7, 0.3]))
    for n, c, v in zip(like.n, like.c, pw):
        n, c = int(n), int(c)
        ref = mp.log(mp.binomial(n, c) * mp.beta(c + 0.3, n - c + 1.7) / mp.beta(0.3, 1.7))
        assert abs(v - float(ref)) < 1e-10


def test_zero_inflated_likelihood_matches_direct_formula():
    counts, _ = simulate_beta_counts(2.0, 0.5, 400, 30, seed=1, ceiling=0.7)
    like = make_likelihood("zi-beta", counts)
    a, b, A = 2.0, 0.5, 0.7
    bb = stats.betabinom.pmf(counts.c, counts.n, b, a)
    ref = np.sum(np.log(np.where(counts.c == 0, 1 - A + A * bb, A * bb)))
    assert float(like.loglike(np.array([a, b, A]))) == pytest.approx(ref, rel=1e-10)
    assert float(like.pointwise(np.array([a, b, A])) @ like.w) == pytest.approx(ref, rel=1e-10)


def test_kumaraswamy_binomial_against_mpmath_quadrature():
    counts = EvalCounts([20, 100, 1000, 1000], [0, 3, 0, 999])
    like = make_likelihood("kumaraswamy", counts)
    a, b = 0.3, 3.0
    pw = like.pointwise(np.array([a, b]))
    mp.mp.dps = 30
    for n, c, v in zip(like.n, like.c, pw):
        n, c = int(n), int(c)
        f = lambda q: mp.binomial(n, c) * q**c * (1 - q) ** (n - c) * a * b * q ** (a - 1) * (1 - q**a) ** (b - 1)
        mode = mp.mpf(c + a) / (n + 1)
        ref = mp.log(mp.quad(f, [0, mode / 10, mode, min(1, 3 * mode + mp.mpf(10) / n), 1]))
        assert abs(v - float(ref)) < 1e-8, (n, c)
    # the posterior probability of failing K more attempts, E[(1 - q)^K | N, c] (what forecasts average),
    # K up to 100x N. With b = 3, (1 - q^a)^2 expands into three terms, so each integral
    # int q^c (1 - q)^(N - c + K) g(q) dq is a sum of Beta functions: exact, in mpmath at 50 digits
    Ks = np.array([1.0, 1e3, 1e5])
    lu = like.log_unsolved_after(np.array([a, b]), Ks)

    def integral(n, c, K):
        with mp.workdps(50):
            A = mp.mpf(a)
            return sum(mp.binomial(2, j) * (-1) ** j * mp.beta(c + A + j * A, n - c + K + 1) for j in range(3))

    for i, (n, c) in enumerate(zip(like.n, like.c)):
        n, c = int(n), int(c)
        for j, K in enumerate(Ks):
            ref = float(mp.log(integral(n, c, int(K)) / integral(n, c, 0)))
            assert abs(lu[i, j] - ref) < 1e-9 * max(1.0, abs(ref)), (n, c, K, lu[i, j], ref)
    # the vectorised form over a batch of parameters (what the sampler calls) gives the same sums
    total = float(pw @ like.w)
    batch = like.loglike(np.array([[a, b], [a, b], [-1.0, b]]))
    assert abs(batch[0] - total) < 1e-9 and batch[1] == batch[0] and batch[2] == -np.inf


@pytest.mark.parametrize("b", [1, 2, 10])
def test_kumaraswamy_binomial_exact_at_extreme_shapes(b):
    """With integer b, (1 - q^a)^(b-1) expands into b terms and P(c) is a sum of Beta functions:
    exact in mpmath (120 digits, for the cancellation). Shapes from a point mass at q ~ 0
    (a = 0.001) to a sharp peak (a = 100), N up to 10^4: where g is too narrow or too spread for the
    posterior-scale rule, the quantile-scale rule takes over."""
    pairs = [(100, 0), (100, 1), (100, 5), (100, 50), (100, 100), (10000, 0), (10000, 3), (10000, 500), (10000, 9999)]
    counts = EvalCounts([n for n, _ in pairs], [c for _, c in pairs])
    like = make_likelihood("kumaraswamy", counts)
    for a in (1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0):
        got = like.pointwise(np.array([a, float(b)]))
        for n, c, v in zip(like.n, like.c, got):
            with mp.workdps(120):
                A = mp.mpf(a)
                s = sum(mp.binomial(b - 1, j) * (-1) ** j * mp.beta(int(c) + A + A * j, int(n - c) + 1)
                        for j in range(b))
                ref = float(mp.log(mp.binomial(int(n), int(c)) * A * b * s))
            assert abs(v - ref) <= 1e-5 * max(1.0, abs(ref)), (a, b, n, c, v, ref)
    # a Weibull-like limit (b huge) that the posterior-scale rule alone got wrong (log P > 0)
    like2 = make_likelihood("kumaraswamy", EvalCounts([100] * 128, [0] * 127 + [1]))
    v = like2.pointwise(np.array([3.2, 1e13]))
    with mp.workdps(40):  # q = (1 - (1 - u)^(1/b))^(1/a): integrate over u, split where q ~ 1/N
        f = lambda u, c: mp.binomial(100, c) * (lambda q: q**c * (1 - q) ** (100 - c))(
            (-mp.expm1(mp.log1p(-u) / mp.mpf(1e13))) ** (1 / mp.mpf(3.2)))
        for c, got in zip(like2.c, v):
            ref = float(mp.log(mp.quad(lambda u: f(u, int(c)), [0, 0.001, 0.01, 0.1, 0.3, 0.6, 0.9, 0.99, 1])))
            assert got < 0 and abs(got - ref) < 1e-8, (c, got, ref)


def test_mle_recovers_generator_parameters():
    counts, _ = simulate_beta_counts(2.0, 0.35, 20000, 100, seed=5, ceiling=0.8)
    fit = fit_mle(counts, "zi-beta", level=0.999)
    for name, true in zip(fit.param_names, (2.0, 0.35, 0.8)):
        i = fit.param_names.index(name)
        assert fit.low[i] < true < fit.high[i], name
    assert fit.to_dict()["params"]["A"]["value"] == pytest.approx(0.8, abs=0.03)


@pytest.mark.slow
def test_posterior_calibration_small():
    """90% credible intervals of alpha, beta, A and pass@(10 N) cover the truth in 75-100% of
    40 generated datasets (binomial standard error of 0.9 coverage at 40 runs: 0.047)."""
    true = dict(alpha=2.0, beta=0.5, A=0.8)
    truth_pass = 0.8 * (1 - math.exp(betaln(2.0 + 400, 0.5) - betaln(2.0, 0.5)))
    hits = np.zeros(4)
    runs = 40
    for seed in range(runs):
        counts, _ = simulate_beta_counts(2.0, 0.5, 300, 40, seed=100 + seed, ceiling=0.8)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            post = sample_posterior(counts, "zi-beta", walkers=16, steps=800, seed=seed, progress=False)
        lo, hi = np.quantile(post.samples, [0.05, 0.95], axis=0)
        hits[:3] += [(lo[i] <= v <= hi[i]) for i, v in enumerate(true.values())]
        pk = post.models().pass_at_k(400.0)  # one value per posterior draw
        hits[3] += np.quantile(pk, 0.05) <= truth_pass <= np.quantile(pk, 0.95)
    cover = hits / runs
    assert np.all(cover >= 0.75), cover


def test_posterior_idata_roundtrip_and_rhat_warning(tmp_path):
    counts, _ = simulate_beta_counts(2.0, 0.5, 300, 40, seed=1)
    with pytest.warns(RuntimeWarning, match=r"(R-hat|effective sample size) of (alpha|beta)"):
        post = sample_posterior(counts, "beta", walkers=8, steps=40, progress=False)
    path = tmp_path / "post.nc"
    post.save(str(path))
    back = az.from_netcdf(str(path))
    assert np.allclose(back.posterior["alpha"].values, post.idata.posterior["alpha"].values)
    summ = post.summary()
    assert {"mean", "r_hat", "ess_bulk"} <= set(summ.columns)


@pytest.mark.parametrize("c", [0, 40])
def test_degenerate_data_give_clear_messages(c):
    counts = EvalCounts([40] * 30, [c] * 30)
    with pytest.raises(DifficultyError, match="all c ="):
        fit_mle(counts, "beta")
    with pytest.raises(DifficultyError, match="pass@k is [01] at every k"):
        y, cov, n = curve_from_counts(counts, [1, 2, 4, 8])
        fit_curve([1, 2, 4, 8], y, "beta", n)


def test_curve_fit_recovers_beta_parameters():
    counts, _ = simulate_beta_counts(2.0, 0.35, 20000, 1000, seed=2, ceiling=0.9)
    k = np.unique(np.round(np.logspace(0, 3, 20)).astype(int))
    y, cov, n = curve_from_counts(counts, k)
    fit = fit_curve(k, y, "beta", n_problems=n, cov=cov, level=0.999)
    for i, true in enumerate((2.0, 0.35, 0.9)):
        assert fit.low[i] < true < fit.high[i]
    assert "correlations" in fit.to_dict() and "[[Fit Statistics]]" in fit.extra["report"]


@pytest.mark.slow
def test_forecast_band_covers_model_truth_for_new_problems():
    m = make_model("beta", alpha=2.0, beta=0.35)
    sim = simulate_counts(m, 3000, 100, seed=4)
    f = forecast_pass_at_k(sim.counts, [1e3, 1e6, 1e9], model="beta", target="population")
    truth = m.pass_at_k(f.k)
    assert np.all((f.low <= truth) & (truth <= f.high))
    g = forecast_pass_at_k(sim.counts, [1e4], model="beta")  # these problems: 1 - p_i^k averaged
    truth_set = np.mean(1 - sim.p ** 1e4)
    assert g.low[0] <= truth_set <= g.high[0]


@pytest.mark.slow
def test_default_forecast_band_covers_these_problems_far_beyond_n():
    """The posterior forecaster (the former default, Kumaraswamy posterior) at k = 100 N on sparse data (few problems
    solved, as in the real backtests): the 90% band holds the problems' own pass@k, computed from
    their simulated q_i, in at least 7 of 10 datasets (binomial(10, 0.9) falls below 7 with
    probability 0.013)."""
    from difficulty.forecast import DEFAULT_FORECAST

    assert DEFAULT_FORECAST == {"model": "kumaraswamy", "method": "mcmc"}
    model = make_model("kumaraswamy", a=0.4, b=8.0)
    hits = 0
    for seed in range(10):
        sim = simulate_counts(model, 128, 100, seed=100 + seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            f = forecast_pass_at_k(sim.counts, [1e4], seed=seed, draws=300, **DEFAULT_FORECAST)
        truth = np.mean(1 - sim.p ** 1e4)
        hits += bool(f.low[0] <= truth <= f.high[0])
        assert f.method == "mcmc" and f.low[0] <= f.pass_at_k[0] <= f.high[0]
    assert hits >= 7, hits


@pytest.mark.slow
def test_model_average_weighs_posteriors_by_loo_and_covers():
    """Counts from a zero-inflated Beta (15% never solvable): the Kumaraswamy model has no
    never-solvable atom and over-forecasts far beyond N; the LOO-weighted average puts most weight
    on the zero-inflated Beta and its band holds the problems' own pass@(100 N), computed from their
    simulated p_i (the never-solvable ones have p = 1)."""
    sim = simulate_counts(make_model("beta", alpha=3.0, beta=0.4, A=0.85), 300, 200, seed=21)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        f = forecast_pass_at_k(sim.counts, [2e4], model="average", method="mcmc", draws=300)
    truth = np.mean(1 - sim.p ** 2e4)
    assert f.model == "average" and set(f.weights) == {"kumaraswamy", "zi-beta"}
    assert sum(f.weights.values()) == pytest.approx(1.0) and f.weights["zi-beta"] > 0.5
    assert f.low[0] <= truth <= f.high[0]
    assert "weights" in f.to_dict()
    with pytest.raises(DifficultyError, match="needs --method mcmc"):
        forecast_pass_at_k(sim.counts, [2e4], model="average", method="mle")


def test_subsample_is_hypergeometric():
    counts = EvalCounts([1000] * 20000, [300] * 20000)
    sub = subsample_counts(counts, 50, np.random.default_rng(0))
    assert sub.n[0] == 50
    assert abs(sub.c.mean() - 15) < 4 * math.sqrt(stats.hypergeom(1000, 300, 50).var() / 20000)


@pytest.mark.slow
def test_backtest_and_cli(cli, tmp_path):
    sim = simulate_counts(make_model("beta", alpha=2.0, beta=0.5), 300, 2000, seed=1)
    r = backtest(sim.counts, 50, 1000, seeds=2, forecasters=["loglog", "beta-binomial"])
    t = r.table()
    assert set(t.index) == {"loglog", "beta-binomial"} and (t["runs"] == 2).all()
    path = tmp_path / "s.csv"
    sim.counts.to_frame().to_csv(path, index=False)
    code, out, err = cli("backtest", path, "--attempts", "50", "--k", "1000", "--seeds", "1", "--forecasters",
                         "loglog,beta-binomial", "--json")
    assert code == 0, err
    assert "beta-binomial" in json.loads(out)["forecasters"]
    code, out, err = cli("fit", path, "--model", "beta", "--method", "mcmc", "--steps", "300", "--json")
    assert code == 0, err
    r = json.loads(out)
    assert r["method"] == "mcmc" and {"value", "low", "high", "r_hat", "ess"} <= set(r["params"]["alpha"])
    code, out, err = cli("forecast", path, "--k", "100,100000", "--json")
    assert code == 0, err
    r = json.loads(out)
    assert {"k", "pass_at_k", "low", "high", "model"} <= set(r)
    curve = tmp_path / "curve.csv"
    k = np.array([1, 2, 5, 10, 20, 50, 100])
    curve.write_text("k,pass_at_k\n" + "\n".join(f"{a},{b}" for a, b in zip(k, m_curve(k))))
    code, out, err = cli("fit", curve, "--model", "beta", "--json")
    assert code == 0, err
    assert json.loads(out)["method"] == "lsq"


def m_curve(k):
    return make_model("beta", alpha=2.0, beta=0.5, A=0.9).pass_at_k(k)


def test_loo_on_the_histogram_equals_arviz_on_every_problem():
    """Weighted PSIS-LOO over distinct (N, c) pairs = arviz's LOO over all problems."""
    counts, _ = simulate_beta_counts(2.0, 0.5, 300, 20, seed=9, ceiling=0.8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        posts = {m: sample_posterior(counts, m, walkers=16, steps=600, progress=False) for m in ("zi-beta", "beta")}
        from difficulty.fit import compare_loo

        table = compare_loo(posts, max_draws=300, seed=1)
    assert list(table.columns[:4]) == ["elpd_loo", "se", "elpd_diff", "dse"]
    post = posts["zi-beta"]
    rng = np.random.default_rng(1)
    draws = post.samples[rng.choice(post.samples.shape[0], 300, replace=False)]
    ll = np.array([stats.betabinom.logpmf(counts.c, counts.n, t[1], t[0]) for t in draws])
    ll = np.where(counts.c[None, :] == 0, np.log(1 - draws[:, 2:3] + draws[:, 2:3] * np.exp(ll)),
                  np.log(draws[:, 2:3]) + ll)
    idata = az.from_dict(posterior={"alpha": draws[None, :, 0]}, log_likelihood={"c": ll[None]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = az.loo(idata)
    assert table.loc["zi-beta", "elpd_loo"] == pytest.approx(ref.elpd_loo, abs=0.5)
    assert table.loc["zi-beta", "se"] == pytest.approx(ref.se, rel=0.05)
    # pseudo-BMA+ weights: softmax of n * sum_i u_i elpd_i, u ~ Dirichlet(1, ..., 1) over the 300
    # problems themselves (the same posterior draws as the table's), averaged; Monte Carlo +- 0.02
    drb = posts["beta"].samples[rng.choice(posts["beta"].samples.shape[0], 300, replace=False)]
    llb = np.array([stats.betabinom.logpmf(counts.c, counts.n, t[1], t[0]) for t in drb])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_b = az.loo(az.from_dict(posterior={"alpha": drb[None, :, 0]}, log_likelihood={"c": llb[None]}),
                       pointwise=True)
        ref_z = az.loo(idata, pointwise=True)
    E = np.column_stack([np.asarray(ref_z.loo_i), np.asarray(ref_b.loo_i)])
    z = 300 * np.random.default_rng(5).dirichlet(np.ones(300), size=4000) @ E
    z = np.exp(z - z.max(axis=1, keepdims=True))
    w_ref = (z / z.sum(axis=1, keepdims=True)).mean(axis=0)
    assert table.loc["zi-beta", "weight"] == pytest.approx(w_ref[0], abs=0.02)
    assert table["weight"].sum() == pytest.approx(1.0)


@pytest.mark.slow
def test_homogeneous_data_fit_at_infinite_concentration_and_sample():
    """Every problem with the same p: the Beta shapes run to infinity. The fit must still come back,
    close to the homogeneous-binomial limit (scipy), and the posterior must start inside its prior."""
    rng = np.random.default_rng(3)
    n = np.full(128, 10_000)
    c = rng.binomial(n, 1e-4)
    counts = EvalCounts(n, c)
    p_hat = c.sum() / n.sum()
    limit = float(stats.binom.logpmf(c, n, p_hat).sum())
    for model in ("beta", "zi-beta"):
        fit = fit_mle(counts, model)
        assert np.isfinite(fit.loglike)
        assert fit.loglike >= limit - 2.0, (model, fit.loglike, limit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        post = sample_posterior(counts, "zi-beta", walkers=16, steps=400, progress=False)
    assert np.all(np.isfinite(post.samples))
    assert post.samples[:, :2].max() <= 1e4 and np.ptp(post.samples[:, 0]) > 0  # inside the prior, and moving


def test_a_nested_variant_is_never_below_the_smaller_model():
    """zi-beta holds beta at A = 1: its maximum likelihood is at least beta's, also where both run
    along a ridge to a point mass (nearly nothing solved in 1e5 attempts)."""
    from difficulty.fit import compare_mle

    n = np.array([100000] * 90 + [50000] * 38)
    c = np.zeros(128, dtype=int)
    c[[3, 17, 40, 41, 60, 77, 100]] = 1
    fits = compare_mle(EvalCounts(n, c), candidates=("zi-beta", "beta"))
    assert fits["zi-beta"].loglike >= fits["beta"].loglike - 1e-9
