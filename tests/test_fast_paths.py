"""The fast paths give the same answers as the slow ones: importance-sampled posteriors against
long emcee chains, the likelihood at N = 1e9 against mpmath, groups in parallel (loky, Dask)
against one after another."""
import json
import warnings

import mpmath as mp
import numpy as np
import pandas as pd
import pytest

from difficulty import EvalCounts
from difficulty.fit import fit_mle, make_likelihood, sample_posterior
from difficulty.generate import simulate_counts
from difficulty.models import make_model
from difficulty.parallel import map_groups


@pytest.mark.parametrize("name,truth,problems,attempts", [
    ("zi-beta", dict(alpha=2.0, beta=0.5, A=0.8), 300, 40),
    ("kumaraswamy", dict(a=0.4, b=8.0), 128, 100),
])
def test_importance_sampling_agrees_with_a_long_emcee_run(name, truth, problems, attempts):
    """Posterior quantiles (5%, 50%, 95%) from importance sampling vs emcee (32 walkers x 6,000
    steps), in the unconstrained coordinates: within 4 Monte Carlo standard errors of the difference.
    The standard error of a quantile at level p from ESS draws is sqrt(p (1 - p) / ESS) / density at
    the quantile (a normal density with the posterior's sd), the two samples' errors combined."""
    from scipy.stats import norm

    sim = simulate_counts(make_model(name, **truth), problems, attempts, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fast = sample_posterior(sim.counts, name, seed=1)
        slow = sample_posterior(sim.counts, name, method="emcee", steps=6000, seed=2)
    assert fast.diagnostics["sampler"] == "importance" and fast.diagnostics["pareto_k"] <= 0.7
    assert slow.diagnostics["sampler"] == "emcee"
    ess_f = fast.diagnostics["ess"]
    ess_s = np.array([slow.diagnostics["params"][n]["ess"] for n in slow.param_names])
    z_f = fast.likelihood.to_unconstrained(fast.draws)
    z_s = slow.likelihood.to_unconstrained(slow.draws)
    sd = z_s.std(axis=0)
    for lv in (0.05, 0.5, 0.95):
        dens = norm.pdf(norm.ppf(lv)) / sd
        se = np.sqrt(lv * (1 - lv) * (1 / ess_f + 1 / ess_s)) / dens
        diff = np.abs(np.quantile(z_f, lv, axis=0) - np.quantile(z_s, lv, axis=0))
        assert np.all(diff < 4 * se), (lv, diff / se)


@pytest.mark.parametrize("name", ["kumaraswamy", "zi-beta"])
def test_adapted_importance_sampling_agrees_with_a_long_emcee_run(name):
    """Almost nothing solved in 50,000-100,000 attempts: the posterior is far from the Laplace
    approximation at the mode (for zi-beta the maximum lies far outside the prior, whose bound the
    posterior piles against), and a proposal fitted to weighted draws or to a short pilot chain
    takes over. Its quantiles against emcee (32 walkers x 6,000 steps) in z, within 4 Monte Carlo
    standard errors (as in the test above)."""
    from scipy.stats import norm

    n = np.array([100000] * 90 + [50000] * 38)
    c = np.zeros(128, dtype=int)
    c[[3, 17, 40, 41, 60, 77, 100]] = 1
    counts = EvalCounts(n, c)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fast = sample_posterior(counts, name, seed=1)
        slow = sample_posterior(counts, name, method="emcee", steps=6000, seed=2)
    d = fast.diagnostics
    assert d["sampler"] == "importance" and d["pareto_k"] <= 0.7 and d["ess"] >= 400
    assert "adaptation round" in d["proposal"] or "pilot" in d["proposal"]
    ess_s = np.array([slow.diagnostics["params"][k]["ess"] for k in slow.param_names])
    z_f = fast.likelihood.to_unconstrained(fast.draws)
    z_s = slow.likelihood.to_unconstrained(slow.draws)
    sd = z_s.std(axis=0)
    for lv in (0.05, 0.5, 0.95):
        se = np.sqrt(lv * (1 - lv) * (1 / d["ess"] + 1 / ess_s)) / (norm.pdf(norm.ppf(lv)) / sd)
        diff = np.abs(np.quantile(z_f, lv, axis=0) - np.quantile(z_s, lv, axis=0))
        assert np.all(diff < 4 * se), (lv, diff / se)


def test_fallback_to_emcee_says_why():
    """Homogeneous data: the shapes run to infinity; whatever path runs, the fit says which and why."""
    counts = EvalCounts(np.full(64, 1000), np.random.default_rng(0).binomial(1000, 0.01, 64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        post = sample_posterior(counts, "zi-beta", max_steps=1000)
    d = post.diagnostics
    assert d["sampler"] in ("importance", "emcee")
    if d["sampler"] == "emcee":
        assert d["fallback_reason"]
    else:
        assert d["pareto_k"] <= 0.7 and d["ess"] >= 400


def test_beta_binomial_at_a_billion_attempts_against_mpmath():
    """Set-up that does not grow with N: N = 1e9 (and its pointwise values) against mpmath at 40 digits."""
    n, c = [10**9, 10**9, 10**9, 5], [0, 1, 10**9 - 1, 2]
    counts = EvalCounts(n, c)
    like = make_likelihood("zi-beta", counts)
    a, b, A = 3.0, 0.4, 0.9
    got = like.loglike(np.array([a, b, A]))
    with mp.workdps(40):
        ref = 0
        for ni, ci in zip(n, c):
            bb = mp.binomial(ni, ci) * mp.beta(ci + b, ni - ci + a) / mp.beta(b, a)
            ref += mp.log((1 - mp.mpf(A) if ci == 0 else 0) + mp.mpf(A) * bb)
    assert got == pytest.approx(float(ref), rel=1e-12)
    assert np.isfinite(fit_mle(counts, "zi-beta").loglike)


def _square(x, seed):
    return float(np.random.default_rng(seed).normal() + x * x)


def test_map_groups_same_results_in_any_backend():
    items = [(x, 10 + x) for x in range(5)]
    serial = map_groups(_square, items, jobs=1)
    seen = []
    assert map_groups(_square, items, jobs=2, on_result=lambda i, r: seen.append(i)) == serial
    assert sorted(seen) == list(range(5))


def _warns(x):
    warnings.warn(f"numerical {x}", RuntimeWarning, stacklevel=1)
    warnings.warn(f"note {x}", UserWarning, stacklevel=1)
    return x


@pytest.mark.parametrize("jobs", [1, 2])
def test_map_groups_workers_warnings_follow_the_callers_filters(jobs):
    """A worker process has its own warning filters: its warnings are issued again in the caller, so the
    caller's filters apply (RuntimeWarning ignored here, as the CLI does) exactly as in a serial run."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", RuntimeWarning)
        assert map_groups(_warns, [(1,), (2,)], jobs=jobs) == [1, 2]
    assert sorted(str(w.message) for w in caught) == ["note 1", "note 2"]
    assert all(w.category is UserWarning for w in caught)


def _grouped_file(tmp_path):
    frames = []
    for g, m in {"a": make_model("beta", alpha=2, beta=0.5, A=0.9), "b": make_model("kumaraswamy", a=0.5, b=4.0),
                 "c": make_model("logit-normal", loc=-2.0, scale=1.5)}.items():
        df = simulate_counts(m, 100, 60, seed=ord(g)).counts.to_frame()
        df.insert(0, "model", g)
        frames.append(df)
    path = tmp_path / "grouped.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


def test_forecast_groups_in_parallel_equal_one_after_another(cli, tmp_path):
    path = _grouped_file(tmp_path)
    args = ("forecast", path, "--group-col", "model", "--k", "100,10000", "--method", "mle", "--json", "--quiet")
    code1, out1, err1 = cli(*args, "--jobs", "1")
    code2, out2, err2 = cli(*args, "--jobs", "2")
    assert code1 == 0 and code2 == 0, (err1, err2)
    assert json.loads(out1) == json.loads(out2)


def test_forecast_on_a_dask_cluster_equals_local(cli, tmp_path):
    from dask import distributed  # the test extra installs it
    path = _grouped_file(tmp_path)
    args = ("forecast", path, "--group-col", "model", "--k", "100,10000", "--method", "mle", "--json", "--quiet")
    code1, out1, err1 = cli(*args, "--jobs", "1")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        code2, out2, err2 = cli(*args, "--backend", "dask", "--scheduler", lc.scheduler_address)
    assert code1 == 0 and code2 == 0, (err1, err2)
    assert json.loads(out1) == json.loads(out2)
    code, _, err = cli(*args, "--backend", "dask")
    assert code == 2 and "--scheduler" in err


def test_scaled_beta_quantile_nodes_once_per_distinct_shape_equal_each_computed_alone(monkeypatch):
    """The scaled Beta's quantile nodes, computed once per distinct (alpha, beta) of a stack of parameter
    sets (a gradient's points share them), equal betaincinv evaluated for every set (bit for bit, the
    positions where it fails included), and so does the likelihood of such a stack."""
    from scipy.special import betaincinv

    from difficulty.models.quadrature import _FINE

    u, um = _FINE[0], _FINE[1]
    rng = np.random.default_rng(3)
    al, be = rng.uniform(0.1, 3, 4), rng.uniform(0.5, 20, 4)
    A = np.concatenate([al, al[:2], al[1:]])[:, None]
    B = np.concatenate([be, be[:2], be[1:]])[:, None]
    sc = rng.uniform(0.05, 1.0, A.shape)
    m = make_model("scaled-beta", alpha=A, beta=B, scale=sc, A=np.ones_like(A))
    lq, l1 = m._log_quantile(u, um)
    lower = u <= 0.5
    x_low, xc_up = betaincinv(A, B, u[lower]), betaincinv(B, A, um[~lower])
    with np.errstate(divide="ignore"):
        ref_q = np.log(sc) + np.log(np.concatenate([x_low, 1 - xc_up], axis=-1))
        ref_1 = np.log((1 - sc) + sc * np.concatenate([1 - x_low, xc_up], axis=-1))
    np.testing.assert_array_equal(lq, ref_q)
    np.testing.assert_array_equal(l1, ref_1)
    counts = simulate_counts(make_model("scaled-beta", alpha=0.3, beta=4.0, scale=0.6), 60, 200, seed=1).counts
    like = make_likelihood("scaled-beta", counts)
    theta = np.column_stack([A[:, 0], B[:, 0], sc[:, 0]])
    shared = like.loglike(theta)
    import difficulty.models.scaled_beta as sb

    each = lambda a, b, ul, uu: (betaincinv(a, b, ul), betaincinv(b, a, uu))  # noqa: E731
    monkeypatch.setattr(sb, "_beta_inverses", each)
    np.testing.assert_array_equal(shared, like.loglike(theta))
