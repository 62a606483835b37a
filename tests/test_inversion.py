"""Eq. 10 inverted: parametric (Talbot vs the closed-form Beta density), from a curve, from counts."""
import math

import mpmath as mp
import numpy as np
import pytest
from scipy import stats

from difficulty import DifficultyError, EvalCounts
from difficulty.generate import simulate_counts
from difficulty.inversion import (
    invert_counts,
    invert_curve,
    invert_parametric,
    obtainable_mass,
    tail_exponent,
    wasserstein_p,
)
from difficulty.models import make_model


@pytest.mark.parametrize("method", ["talbot", "dehoog"])
def test_parametric_inversion_reproduces_closed_form_beta_density(method):
    """f(sigma) = exp(-alpha sigma)(1 - exp(-sigma))^(beta-1)/B(alpha, beta) (MATH.md), sigma in [1e-4, 20]."""
    m = make_model("beta", alpha=2.0, beta=0.35, A=0.8)
    sigma = np.array([1e-4, 1e-2, 0.5, 3.0, 20.0])
    got = invert_parametric(m, sigma, method=method)
    mp.mp.dps = 40
    for s, g in zip(sigma, got):
        ref = 0.8 * mp.exp(-2 * mp.mpf(s)) * (-mp.expm1(-mp.mpf(s))) ** (mp.mpf(0.35) - 1) / mp.beta(2, 0.35)
        assert abs(g - float(ref)) <= 1e-10 * float(ref), (method, s)


def test_parametric_inversion_of_a_mixture_matches_its_density():
    m = make_model("beta-mixture", weights=[0.4, 0.6], alphas=[1.0, 6.0], betas=[0.3, 2.0])
    s = np.array([0.01, 0.3, 2.0])
    assert np.allclose(invert_parametric(m, s), m.density_sigma(s), rtol=1e-10)


def _curve(model, n_prob, k, noise, rng):
    p = model.sample(n_prob, rng)
    t = np.array([np.mean(p ** kk) for kk in k])
    return 1 - t * (1 + noise * rng.standard_normal(k.size)), p


def test_curve_inversion_beats_two_sample_distance_at_0_1_percent_noise():
    """W1(p) of the recovered vs the true Beta(2, 0.35) within the W1 between two samples of 2,000
    from the truth (averaged over 5 repetitions), strength chosen automatically."""
    m = make_model("beta", alpha=2.0, beta=0.35)
    true = stats.beta(2.0, 0.35).cdf
    k = np.exp(np.linspace(0, math.log(1e4), 40))
    rng = np.random.default_rng(0)
    ours, two = [], []
    grid = np.linspace(0, 1, 20001)
    for _ in range(5):
        y, _ = _curve(m, 2000, k, 1e-3, rng)
        est = invert_curve(k, y, noise=1e-3 * (1 - y), n_boot=0)
        ours.append(wasserstein_p(est, true))
        a, b = np.sort(m.sample(2000, rng)), np.sort(m.sample(2000, rng))
        two.append(np.trapezoid(np.abs(np.searchsorted(a, grid, "right") - np.searchsorted(b, grid, "right")) / 2000,
                                grid))
        assert est.regularization > 0
    assert np.mean(ours) <= np.mean(two), (ours, two)


def test_curve_inversion_finds_the_never_solved_atom():
    m = make_model("beta", alpha=2.0, beta=1.0, A=0.8)
    k = np.exp(np.linspace(0, math.log(1e4), 40))
    y = m.pass_at_k(k) * (1 + 1e-4 * np.random.default_rng(1).standard_normal(k.size))
    est = invert_curve(k, y, noise=1e-4 * y, n_boot=20)
    assert abs(est.never_solved - 0.2) < 0.02
    lo, hi = est.band()
    assert lo.shape == est.sigma.shape and np.all(lo <= hi)


def test_counts_inversion_recovers_a_bimodal_truth_and_never_solved_mass():
    m = make_model("beta-mixture", weights=[0.5, 0.5], alphas=[1.0, 20.0], betas=[4.0, 1.0], A=0.8)
    sim = simulate_counts(m, 3000, 200, seed=2)
    est = invert_counts(sim.counts, n_boot=10)

    def true_cdf(p):  # atom at p = 1 of mass 0.2, the mixture below
        mix = 0.5 * stats.beta(1, 4).cdf(p) + 0.5 * stats.beta(20, 1).cdf(p)
        return 0.8 * mix + 0.2 * (p >= 1)

    assert wasserstein_p(est, true_cdf) < 0.03
    assert abs(est.never_solved - 0.2) < 0.05
    mass, lo, hi = obtainable_mass(est, 200)
    assert lo <= mass <= hi


def test_tail_exponent_reads_beta_off_the_density():
    m = make_model("beta", alpha=2.0, beta=0.5)
    k = np.exp(np.linspace(0, math.log(1e5), 60))
    est = invert_curve(k, m.pass_at_k(k), noise=1e-6 * np.ones(k.size), n_boot=0)
    assert abs(tail_exponent(est, 1e5) - 0.5) < 0.15


def test_invert_cli_on_counts_and_curve(cli, tmp_path, real_dir):
    code, out, err = cli("invert", real_dir / "bon_text_jailbreaking_counts.csv", "--group-col", "model", "--json")
    assert code == 0, err
    import json

    r = json.loads(out)["groups"]
    for g in r.values():
        assert {"sigma", "density", "low", "high", "never_solved", "method", "regularization"} <= set(g)
    curve = tmp_path / "c.csv"
    k = np.unique(np.round(np.logspace(0, 3, 20)))
    y = make_model("beta", alpha=2, beta=0.35, A=0.9).pass_at_k(k)
    curve.write_text("k,pass_at_k,n_problems\n" + "\n".join(f"{a},{b},1000" for a, b in zip(k, y)))
    code, out, err = cli("invert", curve, "--json")
    assert code == 0, err
    r = json.loads(out)
    assert r["method"] == "tikhonov-nnls" and r["regularization"] > 0


def test_inversion_errors():
    with pytest.raises(DifficultyError, match="all c = 0"):
        invert_counts(EvalCounts([10, 10], [0, 0]))
    with pytest.raises(DifficultyError, match="at least 3"):
        invert_curve([1, 2], [0.1, 0.2])
    with pytest.raises(DifficultyError, match="sigma must be > 0"):
        invert_parametric(make_model("beta", alpha=1, beta=1), [0.0])


def test_curve_band_covers_the_true_cdf():
    """Monte Carlo: 90% bands from 6 independent curves (2,000 problems, 0.1% noise) cover the true
    CDF of p at >= 75% of points on average (the benchmark's 100-repetition figure is ~85-90%)."""
    m = make_model("beta-mixture", weights=[0.5, 0.5], alphas=[1.0, 20.0], betas=[4.0, 1.0])
    k = np.exp(np.linspace(0, math.log(1e4), 40))
    pts = np.linspace(0.01, 0.999, 100)
    truth = 0.5 * stats.beta.cdf(pts, 1, 4) + 0.5 * stats.beta.cdf(pts, 20, 1)
    rng = np.random.default_rng(5)
    cover = []
    for rep in range(6):
        p = m.sample(2000, rng)
        t = np.array([np.mean(p**kk) for kk in k]) * (1 + 1e-3 * rng.standard_normal(k.size))
        est = invert_curve(k, 1 - t, noise=1e-3 * t, n_boot=40, n_problems=2000, seed=rep)
        lo, hi = est.cdf_band(pts)
        assert np.all(lo <= est.cdf_p(pts) + 1e-12) and np.all(est.cdf_p(pts) <= hi + 1e-12)
        cover.append(np.mean((lo <= truth) & (truth <= hi)))
    assert np.mean(cover) >= 0.75, cover
