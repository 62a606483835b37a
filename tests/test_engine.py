"""The engine: each model the one home of its mathematics, broadcasting, the generic likelihood,
one fit per consumer. Every reference value is computed independently (mpmath, scipy, sums)."""
import math
import warnings

import mpmath as mp
import numpy as np
import pytest
from scipy import stats

from difficulty import DifficultyError, EvalCounts
from difficulty.fit import fit_mle, make_likelihood
from difficulty.generate import simulate_counts
from difficulty.inversion import invert_parametric
from difficulty.models import MODELS, make_model, resolve


def test_parameters_broadcast_like_numpy_against_mpmath():
    """A stack of parameter sets (3, 1) against k (4,) gives (3, 4): Eq. 8 per entry, at 30 digits."""
    alpha = np.array([[0.5], [2.0], [13.0]])
    m = make_model("beta", alpha=alpha, beta=0.35, A=0.8)
    k = np.array([1.0, 10.0, 1e4, 1e9])
    got = m.pass_at_k(k)
    assert got.shape == (3, 4)
    with mp.workdps(30):
        for i, a in enumerate(alpha[:, 0]):
            for j, kk in enumerate(k):
                ref = 0.8 * (1 - mp.beta(a + kk, 0.35) / mp.beta(a, 0.35))
                assert abs(got[i, j] - float(ref)) <= 1e-12 * float(ref)


@pytest.mark.parametrize("name,params", [
    ("zi-beta", dict(alpha=2.0, beta=0.4, A=0.8)),
    ("kumaraswamy", dict(a=0.4, b=3.0)),
    ("zi-kumaraswamy", dict(a=0.7, b=2.0, A=0.9)),
    ("scaled-beta", dict(alpha=0.5, beta=2.0, scale=0.6)),
    ("beta-mixture", dict(weights=[0.3, 0.7], alphas=[1.0, 6.0], betas=[0.3, 2.0])),
    ("point", dict(p=0.97)),
])
def test_marginal_is_a_probability_distribution_over_c(name, params):
    """sum_{c=0..N} P(c | N) = 1 for every per-problem model, N = 1 and N = 60, and
    P(c | N) = E over the model's own draws of Binomial(c; N, q) (Monte Carlo, 4 standard errors)."""
    m = make_model(name, **params)
    for n in (1, 60):
        c = np.arange(n + 1)
        p = np.exp(m.log_marginal(np.full(c.size, n), c))
        assert abs(p.sum() - 1) < 1e-9, (name, n, p.sum())
    rng = np.random.default_rng(7)
    q = 1 - m.sample(200_000, rng)
    for c in (0, 3, 30):
        mc = stats.binom.pmf(c, 60, q)
        ref, se = mc.mean(), mc.std() / math.sqrt(q.size)
        assert abs(float(np.exp(m.log_marginal(60, c))) - ref) <= 4 * se + 1e-12, (name, c)


def test_three_component_mixture_likelihood_equals_scipy_sum():
    """The mixture likelihood takes any number of components: J = 3 against scipy's beta-binomial."""
    w, a, b = np.array([0.2, 0.5, 0.3]), np.array([1.0, 4.0, 20.0]), np.array([0.3, 1.5, 0.5])
    sim = simulate_counts(make_model("beta-mixture", weights=w, alphas=a, betas=b), 500, [20, 200] * 250, seed=1)
    like = make_likelihood("beta-mixture-3", sim.counts)
    assert like.param_names == ("v1", "v2", "alpha1", "alpha2", "alpha3", "beta1", "beta2", "beta3")
    v = [w[0], w[1] / (1 - w[0])]  # stick breaking
    got = like.loglike(np.array([*v, *a, *b]))
    ref = np.log(sum(wj * stats.betabinom.pmf(sim.counts.c, sim.counts.n, bj, aj) for wj, aj, bj in zip(w, a, b)))
    assert got == pytest.approx(ref.sum(), rel=1e-11)
    fit = fit_mle(sim.counts, "beta-mixture-3")
    assert fit.loglike >= got - 1e-6


def test_scaled_beta_likelihood_against_mpmath():
    counts = EvalCounts([30, 500, 500], [0, 7, 260])
    like = make_likelihood("zi-scaled-beta", counts)
    al, be, s, A = 0.6, 2.5, 0.7, 0.85
    got = like.pointwise(np.array([al, be, s, A]))
    with mp.workdps(30):
        for (n, c), v in zip(zip(like.n.astype(int), like.c.astype(int)), got):
            f = lambda q: mp.binomial(n, c) * q**c * (1 - q) ** (n - c) * (q / s) ** (al - 1) * (1 - q / s) ** (be - 1)
            mode = mp.mpf(c + 0.5) / (n + 1)
            pts = sorted({mp.mpf(0), min(mode / 3, s), min(mode, s), min(3 * mode, s), mp.mpf(s)})
            ps = mp.quad(f, pts) / (s * mp.beta(al, be))
            ref = mp.log((1 - A if c == 0 else 0) + A * ps)
            assert abs(v - float(ref)) < 1e-8, (n, c, v, float(ref))


def test_scaled_beta_likelihood_where_the_data_lie_above_the_scale():
    """c/N = 0.5 with success probabilities capped at 0.3: a tiny probability, never above 1
    (scipy's adaptive quadrature as the reference)."""
    from scipy import integrate, special

    al, be, s = 0.222, 1.0000011, 0.299
    m = make_model("scaled-beta", alpha=al, beta=be, scale=s)
    for n, c in ((200, 101), (200, 30), (200, 0)):
        def f(q, n=n, c=c):
            return stats.binom.pmf(c, n, q) * (q / s) ** (al - 1) * (1 - q / s) ** (be - 1) / (s * special.beta(al, be))

        ref = math.log(integrate.quad(f, 0, s, points=[s / 2], limit=200, epsabs=0, epsrel=1e-12)[0])
        assert float(m.log_marginal(n, c)) == pytest.approx(ref, rel=1e-7, abs=1e-7), (n, c)


def test_every_name_and_alias_resolves_to_one_class():
    for alias, target in (("zi-beta-binomial", "zi-beta"), ("beta-binomial", "beta"),
                          ("kumaraswamy-binomial", "kumaraswamy"), ("scaled-beta-binomial", "scaled-beta")):
        assert resolve(alias) == MODELS[target]
    assert resolve("zi-beta").cls is resolve("beta").cls and resolve("beta").fixed == {"A": 1.0}
    assert make_model("zi-beta", alpha=1, beta=1, A=0.5).ceiling == 0.5
    with pytest.raises(DifficultyError, match="unknown model"):
        resolve("gamma")
    with pytest.raises(DifficultyError, match="no per-problem likelihood"):
        make_likelihood("effective-k", EvalCounts([10, 10], [1, 2]))


@pytest.mark.parametrize("name,params", [
    ("kumaraswamy", dict(a=0.5, b=3.0)),
    ("scaled-beta", dict(alpha=0.5, beta=2.0, scale=0.8)),
    ("beta-mixture", dict(weights=[0.4, 0.6], alphas=[1.0, 5.0], betas=[0.3, 2.0])),
])
def test_every_distribution_can_be_inverted_from_its_mpmath_transform(name, params):
    """Eq. 10 inverted numerically from the model's mpmath transform = its density (closed form)."""
    m = make_model(name, **params, A=0.9)
    sigma = np.array([0.3])
    got = invert_parametric(m, sigma, dps=15)
    ref = m.density_sigma(sigma)
    assert abs(got[0] - ref[0]) <= 1e-6 * ref[0], (got, ref)


def test_each_consumer_reuses_the_fit(monkeypatch):
    """Forecast and ranking take a fit and optimise nothing themselves."""
    from difficulty.fit import mle as mle_module
    from difficulty.forecast import forecast
    from difficulty.ranking import rank_problems

    sim = simulate_counts(make_model("beta", alpha=2.0, beta=0.5, A=0.85), 200, 50, seed=3)
    fit = fit_mle(sim.counts, "zi-beta")
    calls = []
    monkeypatch.setattr(mle_module, "_maximise", lambda *a, **k: calls.append(1) or (_ for _ in ()).throw(
        AssertionError("a consumer fitted again")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        f = forecast(fit, [100, 1e4], draws=50)
        r = rank_problems(fit=fit, budget=500, draws=20)
    assert not calls and f.model == "zi-beta" and r.model == "zi-beta"
    assert np.all(f.low <= f.pass_at_k) and np.all(f.pass_at_k <= f.high)
