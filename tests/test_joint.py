"""The joint model over groups x problems: its cell integral against mpmath, its gradient against
finite differences, recovery of simulated parameters, what sharing across groups buys, bad input
and the CLI."""
from __future__ import annotations

import json
import subprocess
import sys

import mpmath as mp
import numpy as np
import pytest
from scipy.special import expit

from difficulty.counts import EvalCounts
from difficulty.errors import DifficultyError
from difficulty.joint import _Posterior, cell_log_marginal, fit_joint, parse_size


def _simulate(J=8, NI=60, n=300, seed=1, pi=0.1, s=0.6):
    rng = np.random.default_rng(seed)
    theta = np.linspace(-2, 2, J)
    a = np.exp(0.3 * rng.standard_normal(NI))
    b = rng.normal(2.5, 1.5, NI)
    never = rng.random(NI) < pi
    rows = []
    for j in range(J):
        for i in range(NI):
            q = 0.0 if never[i] else expit(a[i] * theta[j] - b[i] + s * rng.standard_normal())
            rows.append((f"m{j}", f"p{i}", n, rng.binomial(n, q)))
    g, p, N, c = map(np.array, zip(*rows))
    return EvalCounts(N, c, problem=p, group=g), theta


@pytest.mark.parametrize("c,n,mu,s", [(0, 100, -3.0, 1.5), (0, 1e6, 2.0, 1.0), (3, 1e5, -8.0, 2.0),
                                      (50, 50, 1.0, 0.5), (10, 128, -1.0, 3.0), (0, 10000, -20.0, 0.3)])
def test_cell_marginal_against_mpmath(c, n, mu, s):
    mp.mp.dps = 30
    f = lambda e: mp.binomial(n, c) * mp.exp(c * e - n * mp.log1p(mp.exp(e)) - (e - mu) ** 2 / (2 * s * s)) / (  # noqa: E731
        s * mp.sqrt(2 * mp.pi))
    ref = float(mp.log(mp.quad(f, mp.linspace(-80, 80, 321))))
    assert cell_log_marginal(n, c, mu, s) == pytest.approx(ref, abs=1e-5)


def test_gradient_against_finite_differences():
    counts, _ = _simulate(J=4, NI=12, n=100)
    g = counts.group.astype(str)
    p = counts.problem.astype(str)
    gj = np.unique(g, return_inverse=True)[1]
    gi = np.unique(p, return_inverse=True)[1]
    X = np.column_stack([np.ones(4), np.arange(4.0)])
    for design in (None, X):
        post = _Posterior(gi, gj, counts.n, counts.c, 12, 4, design)
        rng = np.random.default_rng(0)
        z = post.initial() + 0.1 * rng.standard_normal(post.size)
        grad = post(z)[1]
        post._x = None
        h = 1e-6
        for k in rng.choice(post.size, 12, replace=False):
            e = np.zeros(post.size)
            e[k] = h
            fd = (post(z + e, grad=False) - post(z - e, grad=False)) / (2 * h)
            assert grad[k] == pytest.approx(fd, rel=1e-4, abs=1e-4)


def test_hessian_against_differences_of_the_gradient():
    from difficulty.joint import _hessian

    counts, _ = _simulate(J=4, NI=12, n=100, pi=0.4)
    gj = np.unique(counts.group.astype(str), return_inverse=True)[1]
    gi = np.unique(counts.problem.astype(str), return_inverse=True)[1]
    for design in (None, np.column_stack([np.ones(4), np.arange(4.0)])):
        post = _Posterior(gi, gj, counts.n, counts.c, 12, 4, design)
        z = post.initial() + 0.1 * np.random.default_rng(0).standard_normal(post.size)
        post(z)
        fd = _hessian(post, z, 1e-6)
        assert np.abs(post.hessian(z) - fd).max() < 1e-3 * max(1.0, np.abs(fd).max())


def test_recovers_simulated_abilities():
    counts, theta = _simulate()
    fit = fit_joint(counts, draws=50)
    est = fit.params()["theta"]
    order = [fit.groups.index(f"m{j}") for j in range(len(theta))]
    assert np.corrcoef(est[order], theta)[0, 1] > 0.95  # tolerance: the ladder's order and spacing


def test_problem_solved_elsewhere_is_likelier_solvable():
    rows = []
    for j in range(5):  # p_easy solved by the strong groups, p_never by none; both 0 in group m0
        rows += [(f"m{j}", "p_easy", 200, [0, 2, 10, 40, 90][j]), (f"m{j}", "p_never", 200, 0)]
        rows += [(f"m{j}", f"x{i}", 200, int(200 * expit(j - 2 - i / 3))) for i in range(12)]
    g, p, N, c = map(np.array, zip(*rows))
    fit = fit_joint(EvalCounts(N, c, problem=p, group=g), draws=40)
    ps, names = fit.p_solved_within("m0", 10000)
    d = dict(zip(names, ps))
    assert d["p_easy"] > d["p_never"] + 0.1
    never = fit.p_never_solvable()
    assert never["p_never"] > never["p_easy"]


def test_bad_input():
    counts, _ = _simulate(J=3, NI=5, n=20)
    with pytest.raises(DifficultyError, match="problem id column"):
        fit_joint(EvalCounts(counts.n, counts.c, group=counts.group))
    one = counts.group == "m0"
    with pytest.raises(DifficultyError, match="at least two groups"):
        fit_joint(EvalCounts(counts.n[one], counts.c[one], problem=counts.problem[one], group=counts.group[one]))
    with pytest.raises(DifficultyError, match="group column"):
        fit_joint(EvalCounts(counts.n[one], counts.c[one], problem=counts.problem[one]))
    assert parse_size("1.4B") == pytest.approx(1.4e9) and parse_size("512M") == pytest.approx(5.12e8)
    with pytest.raises(DifficultyError):
        parse_size("big")


def _write(tmp_path, counts):
    import pandas as pd

    sizes = {f"m{j}": f"{10 * 2**j}M" for j in range(8)}
    df = pd.DataFrame({"model": counts.group, "params": [sizes[g] for g in counts.group],
                       "problem_id": counts.problem, "n": counts.n, "c": counts.c})
    path = tmp_path / "ladder.csv"
    df.to_csv(path, index=False)
    return path


def _cli(*args):
    import os

    env = dict(os.environ)
    return subprocess.run([sys.executable, "-m", "difficulty", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=300)


def test_cli_forecast_joint(tmp_path):
    counts, _ = _simulate(J=5, NI=30, n=100)
    path = _write(tmp_path, counts)
    r = _cli("forecast", path, "--group-col", "model", "--k", "10,1000", "--joint", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)["groups"]
    assert set(out) == {f"m{j}" for j in range(5)}
    for name, f in out.items():
        sub = counts.c[counts.group == name]
        # pass@10 forecast against the plug-in estimate from the counts (n = 100 >= 10), loose: it is a model
        obs = np.mean(1 - (1 - sub / 100) ** 10)
        assert abs(f["pass_at_k"][0] - obs) < 0.1
        assert f["low"][1] <= f["pass_at_k"][1] <= f["high"][1]
    r = _cli("forecast", path, "--group-col", "model", "--k", "100", "--joint", "--covariates", "params",
             "--predict-group", "m4")
    assert r.returncode == 0, r.stderr
    assert "m4" in r.stdout
    r = _cli("forecast", path, "--k", "100", "--joint")
    assert r.returncode != 0 and "--group-col" in r.stderr and "Traceback" not in r.stderr
    r = _cli("rank", path, "--group-col", "model", "--joint")
    assert r.returncode != 0 and "not built" in r.stderr and "Traceback" not in r.stderr


def test_covariate_design_has_an_indicator_per_shared_rung():
    """Sizes {1M, 2M} x steps {10, 20, 30}, and a size 4M seen once: columns intercept, the two
    standardised logs, their product, one indicator per size seen in >= 2 groups (1M, 2M: not 4M) and
    per step seen in >= 2 groups (10, 20, 30); a new group at (2M, 30) reuses those columns, one at an
    unseen size gets zeros for the sizes."""
    from difficulty.joint import covariate_matrix

    cov = {f"s{s}t{t}": {"params": f"{s}M", "step": t} for s in (1, 2) for t in (10, 20, 30)}
    cov["s4t10"] = {"params": "4M", "step": 10}
    names = list(cov)
    X, center = covariate_matrix(cov, names)
    lp = np.log([1e6 if "s1" in g else 2e6 if "s2" in g else 4e6 for g in names])
    ls = np.log([float(cov[g]["step"]) for g in names])
    zp, zs = (lp - lp.mean()) / lp.std(), (ls - ls.mean()) / ls.std()
    want = np.column_stack([np.ones(7), zp, zs, zp * zs,
                            [g.startswith("s1") for g in names], [g.startswith("s2") for g in names],
                            [cov[g]["step"] == 10 for g in names], [cov[g]["step"] == 20 for g in names],
                            [cov[g]["step"] == 30 for g in names]]).astype(float)
    assert X.shape == (7, 9)
    assert np.allclose(X, want, atol=1e-12)
    new, _ = covariate_matrix({"n": {"params": "2M", "step": 30}}, ["n"], center)
    assert np.allclose(new[0], want[names.index("s2t30")], atol=1e-12)
    far, _ = covariate_matrix({"n": {"params": "8M", "step": 20}}, ["n"], center)
    assert far[0, 4:6].tolist() == [0.0, 0.0] and far[0, 6:].tolist() == [0.0, 1.0, 0.0]
    with pytest.raises(DifficultyError, match="no covariate 'step'"):
        covariate_matrix({"n": {"params": "2M"}}, ["n"], center)


@pytest.mark.slow
def test_left_out_rung_placed_by_its_row_and_column():
    """Abilities additive in size and step but far from log-linear (theta = size effect + step effect,
    saturating in size, not monotone in the step), 3 sizes x 4 steps, 40 problems, N = 200; the largest
    size at the last step left out and predicted from its covariates: the forecast of pass@100 is within
    0.05 of that group's truth, the mean of 1 - (1 - q_i)^100 over its simulated rates (0.57; the
    log-linear surface without the rungs' indicators says 0.81 here)."""
    rng = np.random.default_rng(3)
    NI = 40
    a = np.exp(0.2 * rng.standard_normal(NI))
    b = rng.normal(6.0, 1.5, NI)
    size_eff = {"10M": -1.5, "100M": 0.5, "1000M": 0.7}  # saturating in size
    step_eff = {1: -1.5, 2: 0.6, 3: 0.2, 4: 0.4}  # not monotone in the step
    rows, cov, qs = [], {}, {}
    for sz, se in size_eff.items():
        for st, te in step_eff.items():
            g = f"{sz}-{st}"
            cov[g] = {"params": sz, "step": st}
            q = expit(a * (se + te) - b + 0.3 * rng.standard_normal(NI))
            qs[g] = q
            rows += [(g, f"p{i}", 200, rng.binomial(200, q[i])) for i in range(NI)]
    g, p, N, c = map(np.array, zip(*rows))
    counts = EvalCounts(N, c, problem=p, group=g)
    held = "1000M-4"
    fit = fit_joint(counts, covariates=cov, exclude=[held], draws=100)
    fc = fit.predict_group(cov[held], [100], draws=200)
    truth = float(np.mean(1 - (1 - qs[held]) ** 100))
    assert abs(fc.pass_at_k[0] - truth) <= 0.05, (fc.pass_at_k[0], truth)
