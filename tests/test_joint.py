"""The joint model over groups x problems: its cell integral against mpmath, its gradient against
finite differences, recovery of simulated parameters, what sharing across groups buys, bad input
and the CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import mpmath as mp
import numpy as np
import pytest
from scipy.special import expit, gammaln

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
        assert f["selfcheck"]["groups_checked"] == 5 and f["selfcheck"]["attempts"] == 10
    r = _cli("forecast", path, "--group-col", "model", "--k", "1000", "--joint")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("check: the joint model fitted to every cell thinned to 10 attempts") == 5
    r = _cli("forecast", path, "--group-col", "model", "--k", "100", "--joint", "--covariates", "params",
             "--predict-group", "m4")
    assert r.returncode == 0, r.stderr
    assert "m4" in r.stdout
    r = _cli("forecast", path, "--k", "100", "--joint")
    assert r.returncode != 0 and "--group-col" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("value", [-5, 0, "0M", float("inf"), float("nan")])
def test_covariate_that_has_no_log_is_refused_naming_group_and_column(value):
    """A size or token count enters the design by its log: zero, a negative or a non-finite value is an
    error naming the group and the column (it was clamped to 1e-300, a log of -690)."""
    from difficulty.joint import covariate_matrix

    cov = {"m0": {"params": "10M"}, "m1": {"params": value}, "m2": {"params": "40M"}}
    with pytest.raises(DifficultyError, match="covariate 'params' of group 'm1' .* positive finite"):
        covariate_matrix(cov, list(cov))
    X, center = covariate_matrix({"m0": {"params": "10M"}, "m2": {"params": "40M"}}, ["m0", "m2"])
    with pytest.raises(DifficultyError, match="group 'to predict'"):
        covariate_matrix({"to predict": {"params": value}}, ["to predict"], center)


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


# ------------------------------------------------------------------ the joint fit's per-problem posteriors
def _at_mode(fit):
    """The fit with its posterior mode as its only parameter draw (so that every per-cell quantity is one
    posterior, computed independently below with mpmath)."""
    import dataclasses

    return dataclasses.replace(fit, draws=fit.estimate[None, :])


def _unsolved(counts, problem):
    """The counts with every group's successes on ``problem`` set to 0 (a problem no group solved)."""
    c = np.where(counts.problem.astype(str) == problem, 0, counts.c)
    return EvalCounts(counts.n, c, problem=counts.problem, group=counts.group)


def _mp_cells(fit, group):
    """mpmath, 30 digits, at the mode: per cell of ``group`` the never-solvable probability r and the
    cell's posterior density of eta = logit q (a function), from the model's definition: the problem's
    likelihood is pi 1{all c = 0} + (1 - pi) prod_j int Binom(c_ij | n_ij, q) N(eta; mu_ij, s^2) d eta,
    and for a problem no group solved r = pi / (pi + (1 - pi) I) with its difficulty integrated out,
    I = int prod_j P(c_ij = 0 | b) N(b; 0, 3^2) db."""
    mp.mp.dps = 30
    p = fit.params()
    a, b, th, s, pi = p["a"], p["b"], p["theta"], mp.mpf(p["s"]), mp.mpf(p["pi"])
    j = fit.groups.index(group)

    def integrand(c, n, mu):
        norm = s * mp.sqrt(2 * mp.pi)
        return lambda e: mp.exp(c * e - n * mp.log1p(mp.exp(e)) - (e - mu) ** 2 / (2 * s * s)) / norm

    def integral(f, mu):
        return mp.quad(f, [mu - 40, mu - 10, mu, mu + 10, mu + 40])

    out = []
    for t in np.flatnonzero(fit.gj == j):
        i = fit.gi[t]
        cells = np.flatnonzero(fit.gi == i)
        lik = mp.mpf(1)
        for u in cells:
            mu_u = mp.mpf(a[i] * th[fit.gj[u]] - b[i])
            lik *= integral(integrand(int(fit.c[u]), int(fit.n[u]), mu_u), mu_u)
        r = mp.mpf(0)
        if all(fit.c[cells] == 0):  # nested adaptive quadrature (scipy, double precision) for I
            from scipy import integrate, stats

            def p_none(x, u, i=i):
                m, sd, n_ = a[i] * th[fit.gj[u]] - x, float(s), float(fit.n[u])
                def f(e):
                    return np.exp(-n_ * np.logaddexp(0, e) - (e - m) ** 2 / (2 * sd * sd)) / (sd * np.sqrt(2 * np.pi))

                return integrate.quad(f, m - 12 * sd, m + 12 * sd, points=[m], limit=200, epsabs=0, epsrel=1e-12)[0]

            def solvable(x, cells=cells):
                return stats.norm.pdf(x, 0, 3) * np.prod([p_none(x, u) for u in cells])

            big = mp.mpf(integrate.quad(solvable, -40, 40, points=[b[i] - 4, b[i], b[i] + 4], limit=400,
                                        epsabs=0, epsrel=1e-11)[0])
            r = pi / (pi + (1 - pi) * big)
        mu = mp.mpf(a[i] * th[j] - b[i])
        f = integrand(int(fit.c[t]), int(fit.n[t]), mu)
        z = integral(f, mu)
        out.append((r, (lambda e, f=f, z=z: f(e) / z), mu, int(fit.c[t]), int(fit.n[t])))
    return out


def test_problem_table_against_mpmath():
    counts, _ = _simulate(J=3, NI=6, n=60, seed=4, pi=0.3)
    counts = _unsolved(counts, "p5")  # one problem no group solved: r > 0 there
    fit = _at_mode(fit_joint(counts, draws=20))
    K, q_band = 500.0, (0.002, 0.05)
    t = fit.problem_table("m1", K, q_band=q_band, level=0.8)
    cells = _mp_cells(fit, "m1")
    assert len(t) == len(cells) == 6
    assert max(float(r) for r, *_ in cells) > 0.05  # the never-solvable branch is checked, not only its zeros
    e_lo, e_hi = (mp.log(q / (1 - q)) for q in map(mp.mpf, q_band))
    for row, (r, post, mu, *_) in zip(t.itertuples(), cells):
        pts = [mu - 40, mu - 10, mu, mu + 10, mu + 40]
        inside = mp.quad(post, [e_lo, e_hi])
        mean_q = mp.quad(lambda e: post(e) * mp.exp(e) / (1 + mp.exp(e)), pts)
        unsolved = mp.quad(lambda e: post(e) * (1 + mp.exp(e)) ** -K, pts)
        assert row.p_never == pytest.approx(float(r), abs=1e-6)
        assert row.p_in_band == pytest.approx(float((1 - r) * inside), abs=2e-4)  # the grid's trapezoid rule
        assert row.q_mean == pytest.approx(float((1 - r) * mean_q), rel=1e-3, abs=1e-9)
        assert row.p_solve_within_budget == pytest.approx(float((1 - r) * (1 - unsolved)), abs=1e-6)
        for level_p, got in ((0.1, row.q_low), (0.9, row.q_high)):
            if r >= level_p:  # the quantile is the never-solvable atom
                assert got == 0.0
                continue
            lo, hi = mu - 40, mu + 40  # bisection on the mixture's CDF r + (1 - r) P(eta <= e)
            for _ in range(60):
                mid = (lo + hi) / 2
                if r + (1 - r) * mp.quad(post, [mu - 40, min(mid, mu), mid]) < level_p:
                    lo = mid
                else:
                    hi = mid
            ref = (lo + hi) / 2
            assert got == pytest.approx(float(1 / (1 + mp.exp(-ref))), rel=2e-3)


def test_density_against_mpmath():
    counts, _ = _simulate(J=3, NI=6, n=60, seed=4, pi=0.3)
    counts = _unsolved(counts, "p5")  # one problem no group solved: r > 0 there
    fit = _at_mode(fit_joint(counts, draws=20))
    sig = np.array([1e-3, 0.02, 0.3])
    d = fit.density("m2", sigma=sig, budget=1000, band=(0.5, 0.99), q_band=(0.001, 0.1), ks=[60.0])
    cells = _mp_cells(fit, "m2")
    for x, got in zip(sig, d["density"]):
        eta = mp.log(mp.expm1(x))
        q = -mp.expm1(-x)
        ref = sum((1 - r) * post(eta) / q for r, post, *_ in cells) / len(cells)  # f_sigma = f_eta / (dsigma/deta)
        assert got == pytest.approx(float(ref), rel=1e-8, abs=1e-300)
    assert d["never_solved"] == pytest.approx(float(sum(r for r, *_ in cells) / len(cells)), abs=1e-6)
    q_lo, q_hi = -mp.expm1(mp.log1p(-0.5) / 1000), -mp.expm1(mp.log1p(-0.99) / 1000)
    ref = sum((1 - r) * mp.quad(post, [mp.log(q_lo / (1 - q_lo)), mp.log(q_hi / (1 - q_hi))])
              for r, post, *_ in cells) / len(cells)
    assert d["obtainable_mass"]["mass"] == pytest.approx(float(ref), abs=2e-4)
    p60 = sum(r + (1 - r) * mp.quad(lambda e: post(e) * (1 + mp.exp(e)) ** -60, [mu - 40, mu, mu + 40])
              for r, post, mu, *_ in cells) / len(cells)
    assert d["functionals"]["p^60"]["value"] == pytest.approx(float(p60), abs=1e-6)
    # the whole density and the atom make one
    fine = np.logspace(-9, 3, 6000)
    whole = fit.density("m2", sigma=fine)
    assert np.trapezoid(whole["density"], fine) + whole["never_solved"] == pytest.approx(1.0, abs=1e-3)


def test_rank_from_the_joint_fit():
    from difficulty.ranking import rank_problems

    rows = []
    for j in range(5):  # as above: p_easy solved by the strong groups, p_never by none; both 0 in m0
        rows += [(f"m{j}", "p_easy", 200, [0, 2, 10, 40, 90][j]), (f"m{j}", "p_never", 200, 0)]
        rows += [(f"m{j}", f"x{i}", 200, int(200 * expit(j - 2 - i / 3))) for i in range(12)]
    g, p, N, c = map(np.array, zip(*rows))
    fit = fit_joint(EvalCounts(N, c, problem=p, group=g), draws=40)
    r = rank_problems(fit=fit, group="m0", question="hidden", budget=10000)
    t = r.table.set_index("problem")
    table = fit.problem_table("m0", 10000, draws=40).set_index("problem")
    zero = t["c"] == 0
    assert np.allclose(t.loc[zero, "probability"], table.loc[zero[zero].index, "p_solve_within_budget"])
    assert (t.loc[~zero, "probability"] == 0).all()
    assert t.loc["p_easy", "rank"] < t.loc["p_never", "rank"]
    assert r.model == "joint" and "joint posterior" in r.posterior
    assert r.expected_in_top(len(t)) == pytest.approx(t["probability"].sum())
    learn = rank_problems(fit=fit, group="m1", q_band=(1e-4, 0.2), budget=10000)
    tl = learn.table.set_index("problem")
    ref = fit.problem_table("m1", 10000, q_band=(1e-4, 0.2), draws=200).set_index("problem")
    assert np.allclose(tl["probability"], ref.loc[tl.index, "p_in_band"])
    with pytest.raises(DifficultyError, match="needs group="):
        rank_problems(fit=fit)
    with pytest.raises(DifficultyError, match="not in the joint fit"):
        rank_problems(fit=fit, group="m9")
    with pytest.raises(DifficultyError, match="hyper='eb'"):
        rank_problems(fit=fit, group="m0", hyper="eb")


def test_cli_rank_invert_analyze_joint(tmp_path):
    counts, _ = _simulate(J=3, NI=20, n=100, seed=2)
    path = _write(tmp_path, counts)
    out = tmp_path / "ranked.jsonl"
    r = _cli("rank", path, "--group-col", "model", "--joint", "--hidden", "--budget", "1000", "-o", out, "--json",
             "--quiet")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)["groups"]
    assert set(res) == {"m0", "m1", "m2"} and all(g["model"] == "joint" for g in res.values())
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == len(counts.n) and {x["group"] for x in lines} == {"m0", "m1", "m2"}
    r = _cli("invert", path, "--group-col", "model", "--joint", "--json")
    assert r.returncode == 0, r.stderr
    inv = json.loads(r.stdout)["groups"]
    assert set(inv) == {"m0", "m1", "m2"}
    for g in inv.values():
        assert g["method"] == "joint" and 0 <= g["never_solved"] <= 1 and "p^100" in g["functionals"]
    for cmd, extra, message in (("rank", ["--model", "beta"], "give one of them"),
                                ("rank", ["--posterior", "sample"], "--posterior sample"),
                                ("invert", ["--method", "npmle-em"], "--method belongs"),
                                ("rank", [], "--group-col"), ("invert", [], "--group-col")):
        group = ["--group-col", "model"] if message != "--group-col" else []
        r = _cli(cmd, path, "--joint", *group, *extra)
        assert r.returncode != 0 and message in r.stderr and "Traceback" not in r.stderr, (cmd, extra, r.stderr)
    r = _cli("analyze", path, "--joint", "-o", tmp_path / "rep")
    assert r.returncode != 0 and "--group-col" in r.stderr and not (tmp_path / "rep").exists()
    # the abilities regressed on a per-group column: the CLI ranks from the fit the library gives with those
    # covariates (read from the file: 10M, 20M, 40M), and without --joint it is refused
    out_cov = tmp_path / "ranked_cov.jsonl"
    r = _cli("rank", path, "--group-col", "model", "--joint", "--covariates", "params", "--hidden", "--budget",
             "1000", "-o", out_cov, "--quiet")
    assert r.returncode == 0, r.stderr
    from difficulty.joint import fit_joint
    from difficulty.ranking import rank_problems

    with pytest.warns(RuntimeWarning, match="too few to estimate it"):  # 3 groups, a regression of rank 2
        fit = fit_joint(counts, covariates={f"m{j}": {"params": 10e6 * 2**j} for j in range(3)}, level=0.9, seed=0,
                        check=False)
    lines = [json.loads(x) for x in out_cov.read_text().splitlines()]
    for name in fit.groups:
        want = rank_problems(fit=fit, group=name, budget=1000, question="hidden", level=0.9, seed=0).ranked
        got = {x["problem"]: x["probability"] for x in lines if x["group"] == name}
        assert len(got) == len(want)
        assert all(got[p] == pytest.approx(v, abs=1e-9) for p, v in zip(want["problem"], want["probability"]))
    for cmd in ("rank", "invert", "forecast"):
        r = _cli(cmd, path, "--group-col", "model", "--covariates", "params", *(["--k", "100"] if cmd == "forecast"
                                                                                 else []))
        assert r.returncode == 2 and "go" in r.stderr and "--joint" in r.stderr and "Traceback" not in r.stderr, cmd


def test_analyze_joint_gives_each_group_the_joint_results(monkeypatch, tmp_path):
    import pandas as pd

    import difficulty

    counts, _ = _simulate(J=3, NI=25, n=100, seed=5)
    c = counts.c.copy()
    c[counts.group == "m0"] = 0  # a group that solved nothing: no per-group fit, the joint still speaks of it
    df = pd.DataFrame({"model": counts.group, "task": counts.problem, "n": counts.n, "c": c})
    res = difficulty.analyze(df, group="model", problem="task", n="n", c="c", joint=True, max_steps=500)
    assert res.joint is not None and res.joint.groups == ("m0", "m1", "m2")
    m0 = res["m0"].data
    assert "skipped" in m0 and m0["joint"]["hidden"]["never_solved_here"] == 25
    assert m0["ranking"]["model"] == "joint" and len(res["m0"].ranked) == 25
    for name in ("m1", "m2"):
        d = res[name].data
        fc = d["joint"]["forecast"]
        assert fc["model"] == "joint" and len(fc["k"]) == len(d["forecast"]["k"])
        # the pooled forecast (as `difficulty forecast` gives it): each quantile the mean of the group's own and
        # the joint's
        pooled, own = d["joint"]["forecast_pooled"], d["forecast"]
        assert pooled["method"] == "pooled"
        for key in ("pass_at_k", "low", "high"):
            assert pooled[key] == [0.5 * a + 0.5 * b for a, b in zip(own[key], fc[key])]
        # the ranking pooled as `difficulty rank --group-col` gives it: the group's
        # own ranking and the joint model's, their rates averaged (both kept)
        own_r, joint_r = d["ranking_per_group"], d["joint"]["ranking_joint"]
        assert own_r["model"] == d["forecast"]["model"] and joint_r["model"] == "joint"
        assert d["ranking"]["model"] == f"{own_r['model']} + joint"
        assert d["ranking"]["posterior"].startswith("pooled: this group's")
        assert res[name].ranked["problem"].tolist() == res[name].ranked.sort_values("rank")["problem"].tolist()
    # the figures draw the joint beside the per-group results and say so
    import matplotlib.pyplot as plt

    from difficulty.report import figures, staging

    drawn = {}

    def keep(fig, path):
        ax = fig.axes[0]
        labels = [t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else []
        drawn[os.path.basename(path).split("_")[0]] = (ax.get_title(), labels)
        plt.close(fig)

    monkeypatch.setattr(figures, "_save", keep)
    staging._draw(str(tmp_path), "m1", res["m1"])
    assert any(t.startswith("joint model over 3 groups, 90% band") for t in drawn["passk"][1])
    assert any(t.startswith("joint model over 3 groups") and "never solvable" in t for t in drawn["density"][1])
    assert drawn["ranking"][0] == "ranking: m1 (pooled with the joint model over 3 groups)"
    # a group no per-group model fits: the joint's figures, and the report shows them
    drawn.clear()
    made = staging._draw(str(tmp_path), "m0", res["m0"])
    assert set(made) == {"pass_at_k", "density", "ranking"} and set(drawn) == {"passk", "density", "ranking"}
    assert any(t.startswith("joint model over 3 groups") for t in drawn["passk"][1])
    assert any(t.startswith("joint model over 3 groups") for t in drawn["density"][1])
    from difficulty.report.markdown import render_markdown

    text = render_markdown([{**res["m0"].data, "figures": made}], "t.csv", "x", 1.0)
    assert all(f"]({made[k]})" in text for k in ("pass_at_k", "density", "ranking"))
    text = render_markdown([{**res["m1"].data, "figures": {}}], "t.csv", "x", 1.0)
    assert "Pooled forecast" in text and " pooled | 90% band |" in text
    w = res["m1"].data["ranking"]["fit"]["weights"]["joint"]  # the ranking's own weight, as the text gives it
    assert f"averaged with the same weights, the joint model's {w:.2f}, from the share" in text


def test_analyze_joint_with_ten_attempts_per_problem():
    """The default budget is the median N; at N = 10 the read-off band [1/budget, 0.1] would be empty: it
    starts at 0.05 instead (hard_band), for the joint's density as for the per-group one."""
    import pandas as pd

    import difficulty
    from difficulty.inversion import hard_band

    assert hard_band(1000) == (0.001, 0.1) and hard_band(10) == (0.05, 0.1) and hard_band(4) == (0.05, 0.1)
    counts, _ = _simulate(J=2, NI=12, n=10, seed=6)
    df = pd.DataFrame({"model": counts.group, "task": counts.problem, "n": counts.n, "c": counts.c})
    res = difficulty.analyze(df, group="model", problem="task", n="n", c="c", joint=True, max_steps=300)
    for name in ("m0", "m1"):
        d = res[name].data
        assert "mass_q[0.05,0.1]" in d["joint"]["density"]["functionals"]
        if "skipped" not in d:
            assert "mass_q[0.05,0.1]" in d["density"]["functionals"]


def test_one_sided_posteriors_draw_from_their_conditionals():
    """theta of a group with no success, and b of a problem no group solved, are drawn from their exact
    conditional posteriors at the mode of the other parameters (the Laplace normal is symmetric where
    each posterior is cut off on one side): the draws' CDF against that conditional by adaptive
    quadrature (scipy.integrate.quad at both levels), within the Kolmogorov-Smirnov bound
    1.95 / sqrt(draws) (99.9%) plus the grid's error."""
    from scipy import integrate, stats

    counts, _ = _simulate(J=3, NI=6, n=60, seed=4, pi=0.3)
    c = np.where((counts.group.astype(str) == "m0") | (counts.problem.astype(str) == "p0"), 0, counts.c)
    counts = EvalCounts(counts.n, c, problem=counts.problem, group=counts.group)
    D = 4000
    fit = fit_joint(counts, draws=D, seed=3)
    assert fit.diagnostics["groups_theta_conditional"] == 1
    p = fit.params()
    a, b, th, s, pi = p["a"], p["b"], p["theta"], p["s"], p["pi"]
    j = fit.groups.index("m0")

    def cell(c_, n_, mu):  # int q^c (1 - q)^(n - c) N(eta; mu, s^2) d eta, adaptive
        f = lambda e: np.exp(c_ * e - n_ * np.logaddexp(0, e) - (e - mu) ** 2 / (2 * s * s)) / (s * np.sqrt(2 * np.pi))  # noqa: E731
        return integrate.quad(f, mu - 12 * s, mu + 12 * s, points=[mu], limit=200, epsabs=0, epsrel=1e-10)[0]

    others = {}
    for t in np.flatnonzero(fit.gj != j):
        i = fit.gi[t]
        mu = a[i] * th[fit.gj[t]] - b[i]
        coef = np.exp(gammaln(fit.n[t] + 1) - gammaln(fit.c[t] + 1) - gammaln(fit.n[t] - fit.c[t] + 1))
        others[i] = others.get(i, 1.0) * coef * cell(fit.c[t], fit.n[t], mu)
    never = {i: not any(fit.c[fit.gi == i]) for i in others}

    def density(t):
        out = stats.norm.pdf(t, 0, 30)
        for u in np.flatnonzero(fit.gj == j):
            i = fit.gi[u]
            solv = (1 - pi) * others[i] * cell(0, fit.n[u], a[i] * t - b[i])
            out *= solv + (pi if never[i] else 0.0)
        return out

    top = th[j] + 10
    total = integrate.quad(density, -30, top, points=[th[j]], limit=200)[0]
    assert integrate.quad(density, top, 30, limit=200)[0] < 1e-12 * total  # nothing above the mode's reach
    draws = fit.draws[:, j]
    assert draws.max() < top
    for x in np.quantile(draws, [0.05, 0.2, 0.4, 0.6, 0.8, 0.95]):
        ref = integrate.quad(density, -30, x, limit=200)[0] / total
        assert np.mean(draws <= x) == pytest.approx(ref, abs=1.95 / np.sqrt(D) + 2e-3)
    # what it changes: no success in 6 x 60 attempts bounds pass@1 (the Laplace draws put it up to ~0.1)
    fc = fit.forecast("m0", [1])
    assert fc.high[0] < 0.01
    # the difficulty b_i of a problem no group solved, given that it is solvable: its prior cut off from
    # below where its attempts would have succeeded
    nobody = [i for i in range(len(fit.problems)) if not any(fit.c[fit.gi == i])]
    assert fit.diagnostics["problems_b_conditional"] == len(nobody) >= 1

    def solvable(x, i):  # P(no success anywhere | b_i = x) N(x; 0, 3^2)
        return stats.norm.pdf(x, 0, 3) * np.prod([cell(0, fit.n[u], a[i] * th[fit.gj[u]] - x)
                                                  for u in np.flatnonzero(fit.gi == i)])

    i = nobody[0]
    draws = fit.draws[:, len(fit.groups) + len(fit.problems) + i]
    total = integrate.quad(solvable, -40, 40, args=(i,), points=[b[i]], limit=200)[0]
    for x in np.quantile(draws, [0.05, 0.2, 0.4, 0.6, 0.8, 0.95]):
        ref = integrate.quad(solvable, -40, x, args=(i,), points=[b[i]] if b[i] < x else None, limit=200)[0] / total
        assert np.mean(draws <= x) == pytest.approx(ref, abs=1.95 / np.sqrt(D) + 2e-3)
    # pi, with the difficulties of the problems nobody solved integrated out: p(logit pi | rest) =
    # (1 - pi)^(solved) prod_i (pi + (1 - pi) I_i) pi (1 - pi); and P(never) = pi / (pi + (1 - pi) I_i)
    big = {u: integrate.quad(solvable, -40, 40, args=(u,), points=[b[u]], limit=200)[0] for u in nobody}
    solved = len(fit.problems) - len(nobody)

    def density_lp(t):
        p_ = 1 / (1 + np.exp(-t))
        return (1 - p_) ** (solved + 1) * p_ * np.prod([p_ + (1 - p_) * v for v in big.values()])

    draws = fit.draws[:, len(fit.groups) + 2 * len(fit.problems) + 1]
    total = integrate.quad(density_lp, -15, 15, limit=200)[0]
    for x in np.quantile(draws, [0.05, 0.2, 0.4, 0.6, 0.8, 0.95]):
        ref = integrate.quad(density_lp, -15, x, limit=200)[0] / total
        assert np.mean(draws <= x) == pytest.approx(ref, abs=1.95 / np.sqrt(D) + 2e-3)
    p_pi = 1 / (1 + np.exp(-draws))
    never = fit.p_never_solvable()
    for u in nobody:
        assert never[fit.problems[u]] == pytest.approx(np.mean(p_pi / (p_pi + (1 - p_pi) * big[u])), rel=1e-6)


# ------------------------------------------------------------------ the spread of the abilities around the covariates
def test_reml_tau_has_its_closed_form_when_the_variances_are_equal():
    """With equal sampling variances v the REML estimate is tau^2 = RSS / (n - rank X) - v (the weights are
    equal, beta is the least-squares fit for every tau, and the criterion is minimised in 1 / w = tau^2 + v
    at RSS / (n - rank)); a repeated column changes nothing; too few abilities for the regression give a
    reason, not a number."""
    from difficulty.joint import _reml_log_tau

    rng = np.random.default_rng(4)
    X = np.column_stack([np.ones(30), rng.normal(size=30), rng.normal(size=30) > 0])
    theta = X @ [1.0, -2.0, 0.5] + rng.normal(0, 0.8, 30) + rng.normal(0, 0.3, 30)
    v = 0.09
    rss = np.sum((theta - X @ np.linalg.lstsq(X, theta, rcond=None)[0]) ** 2)
    want = rss / (30 - 3) - v
    for design in (X, np.column_stack([X, X[:, 1]])):
        lt, why = _reml_log_tau(theta, np.full(30, v), design, prior_sd=None)
        assert why is None
        assert np.exp(2 * lt) == pytest.approx(want, rel=1e-5)
    lt, why = _reml_log_tau(theta[:4], np.full(4, v), X[:4])
    assert lt is None and "rank 3" in why
    # with the prior log tau ~ N(0, 1): equal variances make the restricted log-likelihood
    # -0.5 ((n - rank) log(tau^2 + v) + RSS / (tau^2 + v)); its maximum with the prior, on a fine grid
    lts = np.linspace(-6, 3, 900_001)
    u = np.exp(2 * lts) + v
    want_lt = lts[np.argmin(0.5 * (27 * np.log(u) + rss / u) + 0.5 * lts**2)]
    lt, _ = _reml_log_tau(theta, np.full(30, v), X)
    assert lt == pytest.approx(want_lt, abs=2e-5)
    # scatter smaller than the sampling variances: no spread without the prior, the prior's pull with it
    flat = X @ [1.0, -2.0, 0.5] + rng.normal(0, 0.1, 30)
    assert _reml_log_tau(flat, np.full(30, 1.0), X, prior_sd=None)[0] == pytest.approx(-6, abs=1e-3)
    assert _reml_log_tau(flat, np.full(30, 1.0), X)[0] > -3


def test_covariate_fit_with_groups_that_solved_nothing_converges():
    """4 sizes x 5 steps, abilities additive in both plus N(0, 0.5^2), 40 problems at N = 50; the first
    step's groups solve nothing. Fitted jointly with the abilities, tau's mode is at zero (the abilities of
    the groups that solved nothing sit on the regression at no cost, and -J log tau grows without bound):
    the optimiser ran into its iteration limit with tau at its bound. Estimated by REML beforehand and
    held, the fit converges with tau inside its range."""
    rng = np.random.default_rng(5)
    NI = 40
    a = np.exp(0.2 * rng.standard_normal(NI))
    b = rng.normal(6.0, 1.5, NI)
    sizes = {"10M": -1.0, "100M": 0.0, "1000M": 0.8, "3000M": 1.2}
    steps = {1: -6.0, 2: -1.0, 3: 0.5, 4: 1.0, 5: 1.3}
    rows, cov = [], {}
    for sz, se in sizes.items():
        for st, te in steps.items():
            g = f"{sz}-{st}"
            cov[g] = {"params": sz, "step": st}
            q = expit(a * (se + te + 0.5 * rng.standard_normal()) - b + 0.5 * rng.standard_normal(NI))
            rows += [(g, f"p{i}", 50, rng.binomial(50, q[i])) for i in range(NI)]
    g, p, N, c = map(np.array, zip(*rows))
    assert sum(c[g == x].sum() == 0 for x in cov) == 4
    fit = fit_joint(EvalCounts(N, c, problem=p, group=g), covariates=cov, draws=50)
    assert fit.diagnostics["converged"]
    assert fit.diagnostics["tau_reml_groups"] == 16
    assert 0.05 < fit.params()["tau"] < 2.0
    assert np.all(fit.draws[:, -1] == fit.estimate[-1])  # held: not drawn


def test_a_fit_that_stops_short_or_cannot_estimate_tau_says_so(monkeypatch):
    """An optimiser stopped by its iteration limit, and a regression with too few groups to estimate the
    abilities' spread about it, each give a warning in words (the numbers are still returned)."""
    import scipy.optimize

    counts, _ = _simulate(J=4, NI=12, n=100)
    cov = {f"m{j}": {"params": f"{10 ** (j + 1)}M", "tokens": f"{2 ** j}B"} for j in range(4)}
    with pytest.warns(RuntimeWarning, match="held at 1 .*4 abilities for a regression of rank 3"):
        fit_joint(counts, covariates=cov, draws=10)
    real = scipy.optimize.minimize

    def short(*a, **k):
        return real(*a, **{**k, "options": {**k["options"], "maxiter": 3}})

    monkeypatch.setattr(scipy.optimize, "minimize", short)
    with pytest.warns(RuntimeWarning, match="stopped before its optimum after 3 iterations"):
        fit = fit_joint(counts, draws=10)
    assert fit.diagnostics["converged"] is False


def test_joint_check_is_the_thinned_fit_error_and_bounds_the_band():
    """The extrapolation check: the joint model fitted to every cell thinned to N / 10 attempts (the same
    seeded draw, made here by hand), its forecast of each group's pass@N against the data's (with N
    attempts per cell, pass@N is the share of problems solved at least once); the forecast's band then
    holds mid +- z e log(k / N) / log 10, its lower end not below the group's pass@N, both ends nondecreasing
    in k."""
    import dataclasses

    from difficulty.backtest import subsample_counts

    counts, _ = _simulate(J=4, NI=40, n=80, seed=3)
    fit = fit_joint(counts, draws=60, seed=2)
    chk = fit.check
    assert (chk["k0"], chk["attempts"], chk["ratio_checked"]) == (80, 8, 10.0)
    thin = subsample_counts(counts, 8, np.random.default_rng([2, 10]))
    alone = fit_joint(thin, draws=100, seed=2, check=False)
    assert alone.check is None
    errs = []
    for g in alone.groups:
        solved = float(np.mean(counts.c[counts.group == g] > 0))
        errs.append(alone.forecast(g, [80]).pass_at_k[0] - solved)
        run = next(r for r in chk["runs"] if r["group"] == g)
        assert run["truth"] == pytest.approx(solved, abs=1e-12)
    assert chk["error_checked"] == pytest.approx(float(np.sqrt(np.mean(np.square(errs)))), rel=1e-9)
    z = 1.6448536269514722  # the standard normal's 95% point
    raw_fit = dataclasses.replace(fit, check=None)
    ks = np.array([40.0, 80.0, 800.0, 8000.0])
    for g in fit.groups:
        fc, raw = fit.forecast(g, ks), raw_fit.forecast(g, ks)
        floor = float(np.mean(counts.c[counts.group == g] > 0))
        np.testing.assert_array_equal(fc.pass_at_k, raw.pass_at_k)
        half = z * chk["error_checked"] * np.log(np.maximum(ks / 80, 1)) / np.log(10)
        # ends kept nondecreasing in k (ks ascending): running max of the lower, running min from the right of the upper
        want_high = np.clip(np.maximum(raw.high, raw.pass_at_k + half), 0, 1)
        np.testing.assert_allclose(fc.high, np.minimum.accumulate(want_high[::-1])[::-1], atol=1e-12)
        want_low = np.minimum(raw.low, np.maximum(raw.pass_at_k - half, np.minimum(floor, raw.low)))
        np.testing.assert_allclose(fc.low, np.maximum.accumulate(np.clip(want_low, 0, 1)), atol=1e-12)
        assert fc.selfcheck["truth_at_k0"] == pytest.approx(floor, abs=1e-12)
        np.testing.assert_array_equal(fc.low[:2], raw.low[:2])  # nothing added at k <= N


def test_analyze_joint_with_covariates(tmp_path):
    """``covariates`` (API) and ``--covariates`` (analyze --joint): the joint fit regresses the abilities on
    them, the report says so; without the joint model, or with a column the data lack, one clear error."""
    import pandas as pd

    import difficulty
    from difficulty.report.markdown import render_markdown

    counts, _ = _simulate(J=4, NI=20, n=100, seed=7)
    sizes = {f"m{j}": f"{10 * 2**j}M" for j in range(4)}
    df = pd.DataFrame({"model": counts.group, "task": counts.problem, "n": counts.n, "c": counts.c,
                       "params": [sizes[g] for g in counts.group]})
    res = difficulty.analyze(df, group="model", problem="task", n="n", c="c", joint=True, covariates=["params"],
                             max_steps=300)
    assert res.joint.design is not None and res.joint.diagnostics["covariates"] == ["params"]
    assert res.options["covariates"] == ["params"]
    d = res["m2"].data["joint"]
    assert d["tau"] == pytest.approx(res.joint.params()["tau"]) and d["forecast"]["selfcheck"]["groups_checked"] == 4
    text = render_markdown([res["m2"].data], "t.csv", "x", 1.0)
    assert "abilities are regressed on `params`" in text
    assert "The joint band is widened by the error the model showed" in text
    df_before = df.copy()
    with pytest.raises(DifficultyError, match="go with the joint model: give joint=True"):
        difficulty.analyze(df, group="model", problem="task", n="n", c="c", covariates=["params"])
    with pytest.raises(DifficultyError, match="covariates need group="):
        difficulty.analyze(df, problem="task", n="n", c="c", joint=True, covariates=["params"])
    with pytest.raises(DifficultyError, match="no column 'size'"):
        difficulty.analyze(df, group="model", problem="task", n="n", c="c", joint=True, covariates=["size"])
    pd.testing.assert_frame_equal(df, df_before)
    path = _write(tmp_path, counts)
    r = _cli("analyze", path, "--group-col", "model", "--covariates", "params", "-o", tmp_path / "rep")
    assert r.returncode == 2 and "--covariates goes with --joint" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "rep").exists()
