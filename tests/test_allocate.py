"""Sampling plans (difficulty.allocate): the preposterior reduction against mpmath, the plans' budgets,
and the command."""
import itertools
import json

import mpmath as mp
import numpy as np
import pytest

from difficulty.allocate import _Target, fewest_successes_plan, plan_allocation, uniform_plan
from difficulty.cli import main
from difficulty.counts import EvalCounts
from difficulty.errors import DifficultyError
from difficulty.fit.mle import fit_mle

mp.mp.dps = 30


def _mp_reduction(alpha, beta, A, n, c, a, K):
    """sum_s P(s) (f_s - f_0)^2 with f = E[(1 - q)^K | N, c] for q ~ Beta(beta, alpha) w.p. A, q = 0 otherwise."""
    alpha, beta, A = mp.mpf(alpha), mp.mpf(beta), mp.mpf(A)

    def seq(n, c):  # P(one sequence), solvable part and the atom
        s = A * mp.beta(beta + c, alpha + n - c) / mp.beta(beta, alpha)
        return s + ((1 - A) if c == 0 else 0)

    def f(n, c):
        s = A * mp.beta(beta + c, alpha + n - c + K) / mp.beta(beta, alpha)
        return (s + ((1 - A) if c == 0 else 0)) / seq(n, c)

    f0, p0 = f(n, c), seq(n, c)
    return float(sum(mp.binomial(a, s) * seq(n + a, c + s) / p0 * (f(n + a, c + s) - f0) ** 2
                     for s in range(a + 1)))


class _FixedFit:
    """A stand-in Fit at known parameters (the class's own model maths, no fitting)."""

    def __init__(self, fit, theta):
        self.spec, self.param_names, self.estimate = fit.spec, fit.param_names, np.asarray(theta, float)
        self.likelihood, self.model_name, self.method = fit.likelihood, fit.model_name, "fixed"

    def parameter_draws(self, n, seed=0):
        return np.repeat(self.estimate[None, :], n, axis=0)


@pytest.mark.parametrize("a", [1, 7, 40, 300])
def test_reduction_matches_mpmath(a):
    """R(a) for the zero-inflated Beta, exact below 64 successes and on the widths grid above, vs mpmath."""
    counts = EvalCounts([30, 30, 30, 30], [0, 1, 5, 0])
    fit = fit_mle(counts, "zi-beta")
    theta = dict(alpha=3.0, beta=0.4, A=0.7)
    fixed = _FixedFit(fit, [theta[p] for p in fit.param_names])
    tg = _Target(fixed, fixed.estimate[None, :], "pass@k", 500, (0.5, 0.99))
    n, c = np.array([30, 30, 30]), np.array([0, 1, 5])
    got = tg.reduction(n, c, a)
    want = [_mp_reduction(3.0, 0.4, 0.7, 30, ci, a, 500) for ci in c]
    tol = 1e-9 if a <= 64 else 2e-3  # the geometric grid of s above 64 successes
    np.testing.assert_allclose(got, want, rtol=tol, atol=1e-14)


def test_variance_minus_reduction_is_expected_posterior_variance():
    """Monte Carlo: draw q from the posterior, s ~ Binomial(a, q); the mean posterior variance after s equals V - R."""
    counts = EvalCounts([20] * 4, [0, 2, 3, 1])
    fit = fit_mle(counts, "beta")
    fixed = _FixedFit(fit, [2.0, 0.5])
    tg = _Target(fixed, fixed.estimate[None, :], "pass@k", 50, (0.5, 0.99))
    v, _ = tg.variance(np.array([20]), np.array([1]))
    r = tg.reduction(np.array([20]), np.array([1]), 30)
    rng = np.random.default_rng(0)
    q = rng.beta(0.5 + 1, 2.0 + 19, size=200_000)  # q | c ~ Beta(beta + c, alpha + N - c)
    s = rng.binomial(30, q)
    post_v = tg.variance(np.full(31, 50), 1 + np.arange(31))[0]
    mc = post_v[s].mean()
    se = post_v[s].std() / np.sqrt(s.size)
    assert abs(mc - (v[0] - r[0])) < 5 * se + 1e-12


def test_plans_spend_the_budget_and_respect_capacity():
    n = np.array([10, 10, 20, 5])
    c = np.array([0, 3, 0, 1])
    assert uniform_plan(n, 10).tolist() == [3, 2, 2, 3]  # 2 each, the remainder to the fewest N + extra
    assert fewest_successes_plan(n, c, 10).tolist() == [10, 0, 0, 0]  # lowest level, levelled by N + extra
    assert fewest_successes_plan(n, c, 30, capacity=[4, 100, 4, 100]).tolist() == [4, 0, 4, 22]
    counts = EvalCounts([40] * 30, [0] * 15 + [1] * 5 + [10] * 10)
    fit = fit_mle(counts, "zi-beta")
    plan = plan_allocation(fit, 1000, 1000, batch=5)
    t = plan.table
    assert t["extra"].sum() == 1000 and t["extra_uniform"].sum() == 1000 and t["extra_fewest_successes"].sum() == 1000
    assert plan.sd["plan"] <= plan.sd["uniform"] <= plan.sd["now"]
    cap = np.full(30, 20)
    assert plan_allocation(fit, 300, 1000, batch=5, capacity=cap).table["extra"].max() <= 20


def test_greedy_close_to_best_allocation_on_a_grid():
    """Three problems, 12 batches: the plan's total reduction vs every allocation in whole batches."""
    counts = EvalCounts([32, 32, 32, 32, 32], [0, 1, 6, 0, 2])
    fit = fit_mle(counts, "zi-beta")
    fixed = _FixedFit(fit, fit.estimate)
    plan = plan_allocation(fixed, 48, 1000, batch=4, draws=1)
    from difficulty.allocate import expected_reduction

    best = max(expected_reduction(fixed, counts.n, counts.c, 4 * np.array(a), 1000, draws=1).sum()
               for a in itertools.product(range(13), repeat=5) if sum(a) == 12)
    got = plan.table["expected_reduction"].sum()
    assert got >= 0.95 * best


def test_learnable_target_and_bad_arguments():
    counts = EvalCounts([40] * 20, [0] * 8 + [1] * 6 + [5] * 6)
    fit = fit_mle(counts, "zi-beta")
    plan = plan_allocation(fit, 400, 100, target="learnable", band=(0.5, 0.99))
    assert plan.table["extra"].sum() == 400 and "p_learnable" in plan.table
    assert plan.sd["plan"] <= plan.sd["now"]
    with pytest.raises(DifficultyError, match="target"):
        plan_allocation(fit, 10, 100, target="x")
    with pytest.raises(DifficultyError, match="band"):
        plan_allocation(fit, 10, 100, band=(0.9, 0.5))
    with pytest.raises(DifficultyError, match="budget"):
        plan_allocation(fit, -1, 100)


def test_cli_allocate_writes_csv_and_json(tmp_path, capsys):
    import pandas as pd

    rng = np.random.default_rng(3)
    q = np.where(rng.random(40) < 0.3, 0.0, rng.beta(0.4, 3.0, 40))
    data = tmp_path / "d.csv"
    pd.DataFrame({"problem": range(40), "n": 32, "c": rng.binomial(32, q)}).to_csv(data, index=False)
    out = tmp_path / "plan.csv"
    assert main(["allocate", str(data), "--budget", "640", "--k", "1000", "-o", str(out)]) == 0
    t = pd.read_csv(out)
    assert t["extra"].sum() == 640 and {"problem", "n", "c", "expected_reduction"} <= set(t.columns)
    assert main(["allocate", str(data), "--budget", "640", "-o", str(out)]) == 2  # exists, no --force
    js = tmp_path / "plan.json"
    assert main(["allocate", str(data), "--budget", "64", "--learnable", "-o", str(js), "--json"]) == 0
    d = json.loads(js.read_text())
    assert d["target"] == "learnable" and sum(p["extra"] for p in d["problems"]) == 64
    capsys.readouterr()
    assert main(["allocate", str(data), "--budget", "64", "--band", "0.9,0.1", "--learnable"]) == 2
    assert "band" in capsys.readouterr().err


def test_population_information_matches_closed_form_for_one_attempt():
    """J(1) for the Beta model: one more attempt is a Bernoulli with p = (beta + c) / (alpha + beta + N), whose
    Fisher information in z = (log alpha, log beta) is grad p grad p' / (p (1 - p)) (closed form)."""
    from difficulty.allocate import _Population

    counts = EvalCounts([30] * 40, [0] * 10 + [1] * 10 + [4] * 10 + [12] * 10)
    fit = fit_mle(counts, "beta")
    h = fit.likelihood.hist
    pop = _Population.of(fit, "pass@k", 1000, (0.5, 0.99), h, 1.0 / counts.n_problems)
    assert pop is not None
    al, be = (fit.estimate[fit.param_names.index(x)] for x in ("alpha", "beta"))
    J = pop.info(h.n, h.c, 1)
    for i in range(h.n.size):
        n, c = float(h.n[i]), float(h.c[i])
        S = al + be + n
        p = (be + c) / S
        grad = np.array([-al * (be + c) / S**2, be * (al + n - c) / S**2])
        np.testing.assert_allclose(J[i], np.outer(grad, grad) / (p * (1 - p)), rtol=1e-5, atol=1e-10)
    # the parameters' share after the information: g' (Sigma^-1 + J)^-1 g, by an explicit inverse
    Jt = J.sum(axis=0) * 5
    want = pop.g @ np.linalg.inv(np.linalg.inv(pop.sigma) + Jt) @ pop.g
    np.testing.assert_allclose(pop.variance(Jt), want, rtol=1e-9)
    assert pop.variance(Jt) < pop.variance(np.zeros((2, 2)))


def test_plan_spends_on_never_solved_problems_when_the_ceiling_is_uncertain():
    """With a fitted never-solvable share, more attempts on problems never solved so far are what narrow it:
    the plan's expected sd of pass@K is below both other plans', and it gives those problems more than uniform."""
    rng = np.random.default_rng(0)
    q = np.where(rng.random(128) < 0.8, rng.beta(0.3, 5, 128), 0.0)
    counts = EvalCounts(np.full(128, 32), rng.binomial(32, q))
    fit = fit_mle(counts, "zi-beta")
    plan = plan_allocation(fit, 128 * 16, 1000)
    t = plan.table
    assert plan.sd["plan"] < min(plan.sd["uniform"], plan.sd["fewest_successes"]) < plan.sd["now"]
    assert t.loc[t.c == 0, "extra"].mean() > 16


def test_reductions_and_information_over_distinct_pairs_equal_the_per_problem_ones():
    """Plans sum the reductions and the information over distinct (N, c, extra) triples; the same sums problem by
    problem, each with a marginal of its own (Kumaraswamy: the quadrature marginal), give the same numbers."""
    from difficulty.allocate import _information, _Population, _reductions

    rng = np.random.default_rng(3)
    n = rng.choice([20, 30], 24)
    c = rng.binomial(n, rng.beta(0.4, 3, 24))
    c[:3] = 0
    fit = fit_mle(EvalCounts(n, c), "kumaraswamy")
    extra = rng.choice([0, 3, 10], 24)
    h = fit.likelihood.hist
    pop = _Population.of(fit, "pass@k", 500, (0.5, 0.99), h, 1.0 / 24)
    assert pop is not None
    tg = _Target(fit, fit.parameter_draws(3, 0), "pass@k", 500, (0.5, 0.99))
    got_r, got_j = _reductions(tg, n, c, extra), _information(pop, n, c, extra)
    want_r = np.zeros(24)
    want_j = np.zeros((pop.P, pop.P))
    for i in range(24):
        if extra[i]:
            fresh = _Target(fit, fit.parameter_draws(3, 0), "pass@k", 500, (0.5, 0.99))
            want_r[i] = fresh.reduction(n[i:i + 1], c[i:i + 1], int(extra[i]))[0]
            want_j += pop.info(n[i:i + 1], c[i:i + 1], int(extra[i]))[0]
    np.testing.assert_allclose(got_r, want_r, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(got_j, want_j, rtol=1e-10, atol=1e-14)
    assert np.all(got_r[extra > 0] > 0) and np.all(got_r[extra == 0] == 0)
