"""The paper's models (Eq. 7-12) against mpmath at 50 digits and against Monte Carlo."""
import itertools
import math
import warnings

import mpmath as mp
import numpy as np
import pytest
from scipy import integrate

from difficulty import DifficultyError
from difficulty.generate import first_success_times, simulate_counts
from difficulty.models import MODELS, effective_k, make_model
from difficulty.passk import pass_at_k

mp.mp.dps = 50

ALPHAS = [0.05, 0.3, 2.0, 13.0, 50.0]
BETAS = [0.02, 0.35, 1.0, 4.0, 20.0]
KS = [1.0, 2.5, 10.0, 1e3, 1e6, 1e9, 1e12]


def rel(a, b):
    return abs(a - b) / abs(b)


@pytest.mark.parametrize("alpha,beta", list(itertools.product(ALPHAS, BETAS)))
def test_beta_transform_pass_at_k_and_loss_to_1e10(alpha, beta):
    """<p^k> = B(alpha+k, beta)/B(alpha, beta) (Eq. 7), pass@k (Eq. 8), L(k) (Eq. 9), A = 0.7."""
    A = 0.7
    m = make_model("beta", alpha=alpha, beta=beta, A=A)
    for k in KS:
        t = mp.beta(alpha + k, beta) / mp.beta(alpha, beta)
        assert rel(float(m.laplace_transform(k)), float(t)) <= 1e-10
        assert rel(float(m.pass_at_k(k)), float(A * (1 - t))) <= 1e-10
        assert rel(float(m.inference_loss(k)), float(A * t)) <= 1e-10


def test_beta_where_one_minus_pass_at_k_is_1e30():
    m = make_model("beta", alpha=0.05, beta=20.0)
    k = 1e12
    t = mp.beta(0.05 + k, 20) / mp.beta(0.05, 20)
    assert float(t) < 1e-200  # far below 1e-30
    assert rel(float(m.inference_loss(k)), float(t)) <= 1e-10
    m = make_model("beta", alpha=2.0, beta=4.0)
    k = 1.05e8  # 1 - pass@k ~ 1e-30
    t = mp.beta(2 + k, 4) / mp.beta(2, 4)
    assert 1e-31 < float(t) < 1e-29
    assert rel(float(m.inference_loss(k)), float(t)) <= 1e-10
    assert float(m.pass_at_k(k)) == 1.0 - float(t)


def test_beta_transform_at_complex_s():
    m = make_model("beta", alpha=2.0, beta=0.35)
    for s in (1 + 2j, 0.5 - 30j, 40 + 100j):
        ref = mp.beta(2 + mp.mpc(s), 0.35) / mp.beta(2, 0.35)
        assert abs(complex(m.laplace_transform(s)) - complex(ref)) <= 1e-10 * abs(complex(ref))


@pytest.mark.parametrize("kappa", [0, 0.3, 0.5, 0.99, 1, 1.01, 1.5, 3])
def test_effective_k_is_generalized_harmonic_number(kappa):
    """H_k(kappa) = sum_{i<=k} i^-kappa (Eq. 11) = zeta(kappa) - zeta(kappa, k+1)."""
    for k in [1, 2, 7, 19, 20, 21, 100, 12345, 10**6, 10**9, 3.5]:
        if kappa == 0:
            ref = mp.mpf(k)
        elif kappa == 1:
            ref = mp.harmonic(k)
        else:
            ref = mp.zeta(kappa) - mp.zeta(kappa, k + 1)
        assert rel(float(effective_k(k, kappa)), float(ref)) <= 1e-10, (kappa, k)
    if kappa >= 1.5:  # saturation at zeta(kappa)
        assert rel(float(effective_k(1e15, kappa)), float(mp.zeta(kappa))) <= 1e-6


def test_effective_k_models_follow_eq_12():
    m = make_model("effective-k", p=0.9, kappa=0.5, A=0.8)
    for k in (1, 10, 1e6):
        h = mp.zeta(0.5) - mp.zeta(0.5, k + 1)
        assert rel(float(m.pass_at_k(k)), float(0.8 * (1 - mp.mpf(0.9) ** h))) <= 1e-10
    m = make_model("effective-k-beta", alpha=2, beta=0.35, kappa=0.3)
    for k in (1, 50, 1e9):
        h = mp.zeta(0.3) - mp.zeta(0.3, k + 1)
        ref = 1 - mp.beta(2 + h, 0.35) / mp.beta(2, 0.35)
        assert rel(float(m.pass_at_k(k)), float(ref)) <= 1e-10
    sat = make_model("effective-k", p=0.9, kappa=2.0)
    assert sat.plateau() == pytest.approx(1 - 0.9 ** float(mp.zeta(2)), rel=1e-12)
    assert float(sat.pass_at_k(1e12)) == pytest.approx(sat.plateau(), rel=1e-9)


DENSITY_MODELS = [
    ("beta", dict(alpha=2.0, beta=0.35, A=0.8)),
    ("beta", dict(alpha=0.3, beta=3.0)),
    ("kumaraswamy", dict(a=0.4, b=3.5, A=0.9)),
    ("scaled-beta", dict(alpha=0.15, beta=5.0, scale=0.8)),
    ("beta-mixture", dict(weights=[0.3, 0.7], alphas=[1.0, 8.0], betas=[0.3, 2.0], A=0.95)),
    ("effective-k-beta", dict(alpha=3.0, beta=0.5, kappa=0.4)),
]


def _integrate_sigma(f):
    """integral_0^inf f(sigma) d sigma in u = log sigma (the density may blow up at 0)."""
    g = lambda u: float(f(math.exp(u))) * math.exp(u)
    parts = [(-700, -60), (-60, -10), (-10, 0), (0, 2), (2, 6)]
    return sum(integrate.quad(g, a, b, epsabs=0, epsrel=1e-12, limit=400)[0] for a, b in parts)


@pytest.mark.parametrize("name,params", DENSITY_MODELS)
def test_density_integrates_to_its_mass_and_transforms_to_laplace_transform(name, params):
    """Eq. 10 tied to Eq. 8: integral f = A, integral exp(-sigma s) f = A <p^s>."""
    m = make_model(name, **params)
    mass = _integrate_sigma(lambda s: m.density_sigma(s))
    assert abs(mass - m.ceiling) <= 1e-8
    assert m.never_solved == pytest.approx(1 - m.ceiling)
    for s in (0.5, 3.0, 40.0):
        num = _integrate_sigma(lambda x: m.density_sigma(x) * math.exp(-s * x))
        assert abs(num - m.ceiling * float(m.laplace_transform(s))) <= 1e-8
    # the three coordinates agree: f_sigma(sigma) = f_p(e^-sigma) e^-sigma, f_q(q) = f_p(1 - q)
    sg = np.array([0.05, 0.7, 2.0])
    assert np.allclose(m.density_sigma(sg), m.density_p(np.exp(-sg)) * np.exp(-sg), rtol=1e-12)
    assert np.allclose(m.density_q(0.3), m.density_p(0.7), rtol=1e-12)


def test_kumaraswamy_and_scaled_beta_transforms_against_mpmath_quadrature():
    m = make_model("kumaraswamy", a=0.4, b=3.5)
    f = lambda q: 0.4 * 3.5 * q ** (0.4 - 1) * (1 - q**0.4) ** 2.5
    for k in (1, 30, 1e4):
        ref = mp.quad(lambda q: (1 - q) ** k * f(q), [0, mp.mpf(1) / (10 * k), mp.mpf(1) / k, 1])
        assert rel(float(m.laplace_transform(k)), float(ref)) <= 1e-9
    m = make_model("scaled-beta", alpha=0.4, beta=3.5, scale=0.1)
    sc = mp.mpf(0.1)  # the same binary number the model holds
    g = lambda q: (q / sc) ** (-0.6) * (1 - q / sc) ** 2.5 / mp.beta(0.4, 3.5) / sc
    for k in (1, 100, 1e5):
        pts = sorted({mp.mpf(0), min(sc, mp.mpf(1) / (10 * k)), min(sc, mp.mpf(1) / k), sc})
        ref = mp.quad(lambda q: (1 - q) ** k * g(q), pts)
        assert rel(float(m.laplace_transform(k)), float(ref)) <= 1e-9


def test_adaptive_quadrature_of_the_transform_says_nothing_when_it_is_accurate():
    """Where the vectorised rule falls back to adaptive quadrature (a scaled Beta fitted to real counts,
    whose density is singular at q = scale), scipy's note that it missed its 1e-12 goal is not passed on:
    the result is checked here against the closed form 2F1(-s, alpha; alpha + beta; scale) at 40 digits,
    and a warning is raised only when the quadrature's own error estimate exceeds QUAD_TOL."""
    from difficulty.models.quadrature import QUAD_TOL, log_transform_by_quad

    al, be, sc = 0.07710642926155857, 0.5945309532197475, 0.011918516109258249
    m = make_model("scaled-beta", alpha=al, beta=be, scale=sc)
    mp.mp.dps = 40
    for s in (78.59033692288872, 109.94279602868987, 181.9127830329233):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = log_transform_by_quad(m, s)
        ref = mp.hyp2f1(-s, al, al + be, sc)
        assert rel(float(np.exp(got)), float(ref)) <= QUAD_TOL


@pytest.mark.parametrize("a,b", [(0.05, 0.4), (0.3, 2.0), (1.5, 0.2), (3.0, 50.0)])
def test_kumaraswamy_transform_on_a_k_grid_against_mpmath(a, b):
    """The vectorised rule (one pass over every k) against mpmath quadrature in x = log q at 40
    digits, split at the peak of the integrand, from k = 0.5 to 1e9; a stack of parameter sets
    gives what each set gives alone."""
    mp.mp.dps = 40
    ks = np.array([0.5, 1.0, 3.0, 100.0, 1e3, 1e4, 1e6, 1e9])
    m = make_model("kumaraswamy", a=a, b=b)
    got = m.log_laplace_transform(ks)
    A, B = mp.mpf(a), mp.mpf(b)
    for k, v in zip(ks, got):
        K = mp.mpf(float(k))
        f = lambda x: mp.exp(K * mp.log1p(-mp.exp(x)) + mp.log(A * B) + A * x + (B - 1) * mp.log(-mp.expm1(A * x)))
        peak = -mp.log(K + 1)
        pts = [-mp.inf] + [peak + d for d in (-40, -10, -3, -1, 0, 1, 3)] + [mp.mpf(0)]
        pts = sorted(set(p for p in pts if p <= 0))
        ref = mp.log(mp.quad(f, pts))
        assert abs(v - float(ref)) <= 1e-10 * max(1.0, abs(float(ref))), (a, b, k)
    assert float(m.log_laplace_transform(0.0)) == 0.0
    stack = make_model("kumaraswamy", a=np.array([a, 2 * a]), b=np.array([b, b]))
    both = stack.log_laplace_transform(1e4)
    assert both[0] == pytest.approx(float(m.log_laplace_transform(1e4)), rel=1e-14)
    assert both[1] == pytest.approx(float(make_model("kumaraswamy", a=2 * a, b=b).log_laplace_transform(1e4)),
                                    rel=1e-14)


@pytest.mark.parametrize("name", ["beta", "kumaraswamy", "scaled-beta", "beta-mixture"])
def test_asymptote_is_the_large_k_limit(name):
    m = {"beta": make_model("beta", alpha=2, beta=0.35), "kumaraswamy": make_model("kumaraswamy", a=0.4, b=3.5),
         "scaled-beta": make_model("scaled-beta", alpha=0.4, beta=3.5, scale=0.5),
         "beta-mixture": make_model("beta-mixture", weights=[0.5, 0.5], alphas=[2, 5], betas=[0.3, 1.0])}[name]
    gaps = [abs(float(m.inference_loss_asymptote(k)) / float(m.inference_loss(k)) - 1) for k in (1e2, 1e4, 1e6)]
    assert gaps[2] < gaps[1] < gaps[0] and gaps[2] < 1e-2


MC_MODELS = [
    ("beta", dict(alpha=2.0, beta=0.35, A=0.8)),
    ("point", dict(p=0.97)),
    ("kumaraswamy", dict(a=0.4, b=3.5)),
    ("scaled-beta", dict(alpha=0.4, beta=3.5, scale=0.8, A=0.9)),
    ("beta-mixture", dict(weights=[0.3, 0.7], alphas=[1.0, 8.0], betas=[0.3, 2.0])),
]


@pytest.mark.parametrize("name,params", MC_MODELS)
def test_generated_counts_match_model_pass_at_k_within_4_standard_errors(name, params):
    m = make_model(name, **params)
    sim = simulate_counts(m, 20000, 64, seed=7)
    for k in (1, 8, 64):
        v = pass_at_k(sim.counts.n, sim.counts.c, k)
        se = v.std(ddof=1) / math.sqrt(v.size)
        assert abs(v.mean() - float(m.pass_at_k(k))) <= 4 * se + 1e-12, (name, k)


@pytest.mark.parametrize("kappa", [0.3, 1.0, 1.7])
def test_correlated_generator_makes_effective_k_the_truth(kappa):
    m = make_model("effective-k-beta", alpha=2.0, beta=0.5, kappa=kappa)
    sim = simulate_counts(m, 20000, 500, seed=11)
    for k in (1, 10, 500):
        hit = sim.first_success <= k
        se = max(hit.std(ddof=1), 1e-3) / math.sqrt(hit.size)
        assert abs(hit.mean() - float(m.pass_at_k(k))) <= 4 * se, (kappa, k)
    assert np.all(sim.counts.c[sim.first_success > 500] == 0)
    assert np.all(sim.counts.c[sim.first_success <= 500] >= 1)


def test_first_success_times_point_mass_exact_distribution():
    rng = np.random.default_rng(0)
    t = first_success_times(np.full(200000, 0.8), 0.5, np.full(200000, 50), rng)
    for k in (1, 3, 20):
        ref = 1 - 0.8 ** float(effective_k(k, 0.5))
        assert abs((t <= k).mean() - ref) < 4 * math.sqrt(ref * (1 - ref) / t.size)


def test_every_model_shares_the_interface_and_rejects_bad_parameters():
    for name, spec in MODELS.items():
        cls = spec.cls
        assert cls.__doc__ and ("=" in cls.__doc__ or "~" in cls.__doc__), name
    with pytest.raises(DifficultyError, match="alpha=-1 is outside"):
        make_model("beta", alpha=-1, beta=1)
    with pytest.raises(DifficultyError, match="needs parameter beta"):
        make_model("beta", alpha=1)
    with pytest.raises(DifficultyError, match="no parameter 'gamma'"):
        make_model("beta", alpha=1, beta=1, gamma=2)
    with pytest.raises(DifficultyError, match="aggregate curve"):
        simulate_counts(make_model("power-law", a=1, b=0.3), 10, 10)


@pytest.mark.parametrize("params", [dict(alpha=1e-3, beta=1e-3), dict(alpha=1e5, beta=1e-3), dict(alpha=1e-3, beta=1e5),
                                    dict(alpha=1e5, beta=1e5, A=1e-6)])
def test_extreme_parameters_give_numbers_without_warnings(params):
    m = make_model("beta", **params)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        k = np.array([0.0, 1.0, 1e3, 1e12])
        for v in (m.pass_at_k(k), m.inference_loss(k), m.density_sigma([1e-8, 1.0, 500.0]), m.laplace_transform(k)):
            assert np.all(np.isfinite(v)) and np.all(v >= 0)
        assert np.all(np.diff(m.pass_at_k(k)) >= 0)


def test_curve_models_are_one_family_in_two_parameterisations():
    """Brown: pass@k = exp(a k^b); Schaeffer: -log pass@k = a k^-b (computed here with math)."""
    brown = make_model("exp-power-law", a=-2.0, b=-0.3)
    schaeffer = make_model("power-law", a=2.0, b=0.3)
    for k in (1.0, 10.0, 1e6):
        ref = math.exp(-2.0 * k ** -0.3)
        assert float(brown.pass_at_k(k)) == pytest.approx(ref, rel=1e-14)
        assert float(schaeffer.pass_at_k(k)) == pytest.approx(ref, rel=1e-14)
        assert float(schaeffer.inference_loss(k)) == pytest.approx(-math.expm1(-2.0 * k ** -0.3), rel=1e-13)
    assert schaeffer.tail_exponent == brown.tail_exponent == pytest.approx(0.3)
