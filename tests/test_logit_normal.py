"""The logit-normal model: logit q ~ Normal(loc, scale), never-solvable fraction 1 - A.

Its counts likelihood and forecast kernel against mpmath quadrature at 30 digits, and the model
working in every command."""
import json

import mpmath as mp
import numpy as np
import pandas as pd
import pytest

from difficulty import EvalCounts
from difficulty.fit import fit_mle, make_likelihood
from difficulty.generate import simulate_counts
from difficulty.models import make_model

PAIRS = [(20, 0), (100, 3), (100, 100), (1000, 0), (1000, 999), (10000, 17)]


def _mp_integral(n, c, loc, scale, extra=0):
    """integral C(N, c) q^c (1 - q)^(N - c + extra) phi((logit q - loc)/scale)/scale over t = logit q."""
    loc, scale = mp.mpf(loc), mp.mpf(scale)

    def f(t):
        lq, l1 = -mp.log1p(mp.exp(-t)), -mp.log1p(mp.exp(t))
        return mp.exp(mp.log(mp.binomial(n, c)) + c * lq + (n - c + extra) * l1
                      - (t - loc) ** 2 / (2 * scale**2)) / (scale * mp.sqrt(2 * mp.pi))

    # split every 2 scales of the normal and around the binomial's peak in t, so that a narrow
    # integrand is seen whichever factor makes it narrow
    peak = float(mp.log((c + mp.mpf(0.5)) / (n + extra - c + mp.mpf(0.5))))
    pts = sorted({float(loc + scale * z) for z in range(-40, 41, 2)} | {peak + d for d in (-8, -2, 0, 2, 8)})
    return mp.quad(f, [-mp.inf] + pts + [mp.inf])


@pytest.mark.parametrize("loc,scale,A", [(-3.0, 1.5, 0.9), (0.5, 0.05, 1.0), (-6.0, 8.0, 0.7)])
def test_log_marginal_against_mpmath_at_30_digits(loc, scale, A):
    m = make_model("logit-normal", loc=loc, scale=scale, A=A)
    got = m.log_marginal([n for n, _ in PAIRS], [c for _, c in PAIRS])
    with mp.workdps(30):
        for (n, c), v in zip(PAIRS, got):
            ref = float(mp.log((1 - mp.mpf(A) if c == 0 else 0) + mp.mpf(A) * _mp_integral(n, c, loc, scale)))
            if ref < -400:  # the mass sits beyond g's 1e-300 quantile (z ~ -37): doubles only know it is tiny
                assert v < -400, (n, c, v, ref)
                continue
            assert abs(v - ref) <= 1e-9 * max(1.0, abs(ref)), (n, c, v, ref)


def test_forecast_kernel_against_mpmath():
    """E[(1 - q)^K | N, c] = P(never | c) + (1 - P(never | c)) I(K) / I(0), K up to 100 N."""
    loc, scale, A = -4.0, 2.0, 0.8
    m = make_model("logit-normal", loc=loc, scale=scale, A=A)
    Ks = np.array([1.0, 1e3, 1e5])
    pairs = [(100, 0), (100, 4), (1000, 1)]
    got = m.log_unsolved_after([n for n, _ in pairs], [c for _, c in pairs], Ks)
    with mp.workdps(30):
        for i, (n, c) in enumerate(pairs):
            i0 = _mp_integral(n, c, loc, scale)
            never = (1 - mp.mpf(A)) / (1 - mp.mpf(A) + mp.mpf(A) * i0) if c == 0 else mp.mpf(0)
            for j, K in enumerate(Ks):
                ref = mp.log(never + (1 - never) * _mp_integral(n, c, loc, scale, int(K)) / i0)
                assert abs(got[i, j] - float(ref)) <= 1e-8 * max(1.0, abs(float(ref))), (n, c, K)


def test_fit_recovers_the_generator():
    truth = dict(loc=-2.5, scale=1.8, A=0.85)
    sim = simulate_counts(make_model("logit-normal", **truth), 4000, 200, seed=11)
    fit = fit_mle(sim.counts, "logit-normal", level=0.999)
    for i, name in enumerate(fit.param_names):
        assert fit.low[i] < truth[name] < fit.high[i], (name, fit.low[i], fit.high[i])
    like = make_likelihood("logit-normal", sim.counts)
    assert like.param_names == ("loc", "scale", "A")


def test_logit_normal_in_every_command(cli, tmp_path):
    code, out, err = cli("model", "logit-normal", "--loc", "-2", "--scale", "1.5", "--A", "0.9", "--k", "1,1e4",
                         "--json")
    assert code == 0, err
    r = json.loads(out)
    assert 0 < r["pass_at_k"][0] < r["pass_at_k"][1] < 0.9
    data = tmp_path / "sim.csv"
    code, _, err = cli("simulate", "logit-normal", "--loc", "-2", "--scale", "1.5", "--A", "0.9", "--problems", "150",
                       "--attempts", "100", "--seed", "2", "-o", data)
    assert code == 0, err
    assert len(pd.read_csv(data)) == 150
    code, out, err = cli("fit", data, "--model", "logit-normal", "--json")
    assert code == 0, err
    assert set(json.loads(out)["params"]) == {"loc", "scale", "A"}
    code, out, err = cli("forecast", data, "--model", "logit-normal", "--method", "mle", "--k", "1000,100000", "--json")
    assert code == 0, err
    f = json.loads(out)
    assert f["model"] == "logit-normal" and f["low"][1] <= f["pass_at_k"][1] <= f["high"][1] <= 1.0
    code, out, err = cli("rank", data, "--model", "logit-normal", "--budget", "1000", "--json")
    assert code == 0, err
    assert json.loads(out)["model"] == "logit-normal"
    code, out, err = cli("invert", data, "--model", "logit-normal", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["method"] == "parametric (logit-normal)" and d["never_solved"] == pytest.approx(1 - d["ceiling"])


def test_logit_normal_joins_the_automatic_comparison():
    from difficulty.fit.mle import AUTO_CANDIDATES

    assert "logit-normal" in AUTO_CANDIDATES
    counts = EvalCounts([50] * 4, [0, 1, 5, 40])
    assert np.isfinite(fit_mle(counts, "logit-normal").loglike)


@pytest.mark.filterwarnings("ignore:.*run longer:RuntimeWarning")  # 300 steps: short on purpose
def test_posterior_starts_when_the_mode_has_a_flat_direction():
    """One success in 128 x 32 attempts: the maximum-likelihood ceiling is 1 with no curvature and the scale
    runs below its prior's range. The ensemble used to start every walker at one value in those directions
    (emcee then refuses: "linearly independent"); it now starts spread, and the walkers move in every
    parameter."""
    from difficulty.fit.mcmc import sample_posterior

    counts = EvalCounts(np.full(128, 32), np.r_[1, np.zeros(127, dtype=int)])
    fit = sample_posterior(counts, "logit-normal", method="emcee", steps=300, seed=1)
    draws = fit.parameter_draws(400, seed=0)
    assert np.all(np.isfinite(draws))
    assert np.all(np.std(draws, axis=0) > 0)
    auto = sample_posterior(counts, "logit-normal", seed=1)  # the default path, whose pilot is the same ensemble
    assert np.all(np.std(auto.parameter_draws(400, seed=0), axis=0) > 0)
