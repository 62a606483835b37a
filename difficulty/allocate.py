"""Sampling plans: where more attempts most reduce the uncertainty of pass@K (or of the learnable set).

Preposterior analysis (Raiffa & Schlaifer 1961) under one population fit. For problem i with counts
(N_i, c_i), a quantity g(q) of its success probability q, and parameters theta:

    f(N, c)   = E[g(q) | N, c, theta]                  g = (1 - q)^K (pass@K) or 1{q_lo <= q <= q_hi} (learnable)
    V_i       = Var[g(q_i) | N_i, c_i]                 (mixed over the fit's parameter draws)
    P(s | a)  = C(a, s) [P(c+s | N+a) / C(N+a, c+s)] / [P(c | N) / C(N, c)]      (the marginal predictive)
    R_i(a)    = E_s[(f(N+a, c+s) - f(N, c))^2]         expected reduction of V_i after a more attempts

R_i(a) is the variance of the posterior mean over the predictive (law of total variance), so the
expected variance after a attempts is V_i - R_i(a). pass@K of these problems is 1 - mean_i f_i and the
problems are independent given theta, so Var(pass@K) = sum_i V_i / n^2: the total reduction is the sum
of the problems' own. Plans are greedy in batches by the largest expected reduction per attempt, with a
look-ahead over each problem's grid of batch counts (R_i(a) need not be concave in a: a problem with
c = 0 and q near 1/K gains little from one batch and much from many).

The parameters' share of the variance is shared by all problems and does not fall as 1/n: with the
target H(z) = scale * sum_i f_i at the fit's unconstrained parameters z (covariance Sigma), it is
g' Sigma g (delta method, g = dH/dz). More attempts on problem i add to the posterior precision the
expected Fisher information of their outcomes given what was seen,

    J_i(a)    = E_s[u u'],   u = d/dz log P(s | N_i, c_i, a, z)      (the predictive above)
    V_pop(a)  = g' (Sigma^-1 + sum_i J_i(a_i))^-1 g = g' (I + Sigma sum_i J_i)^-1 Sigma g

and the plan maximises the sum of both reductions per attempt. Attempts on problems never solved so
far say most about the never-solvable share and the tail of the population, which set pass@K at K far
beyond N; a plan that counted only the problems' own variance would leave them, since under the
fitted population their own variance is small.

Two plans sit beside it: uniform (the same number of attempts for every problem), and fewest successes
first (Kazdan et al. 2025, "Efficient Prediction of Pass@k Scaling in Large Language Models": each batch
to the problem with the fewest successes so far, ties to the fewest attempts). That rule is adaptive;
planned from the present counts alone, its new successes are unknown, so every batch goes to the
lowest success level, levelled by attempts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from .errors import DifficultyError

__all__ = ["AllocationPlan", "plan_allocation", "expected_reduction", "uniform_plan", "fewest_successes_plan",
           "TARGETS"]

TARGETS = ("pass@k", "learnable")
_EXACT_S = 32  # successes enumerated one by one up to here; beyond, a geometric grid with widths


def _log_comb(n, k):
    return gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)


def _s_grid(a: int):
    """Points s in 0..a at which the predictive is evaluated, and the number of integers each stands for."""
    if a <= 2 * _EXACT_S:
        s = np.arange(a + 1, dtype=np.int64)
        return s, np.ones(s.size)
    tail = np.unique(np.round(np.geomspace(_EXACT_S, a, 48)).astype(np.int64))
    s = np.concatenate([np.arange(_EXACT_S, dtype=np.int64), tail[tail >= _EXACT_S]])
    edges = np.concatenate([[-0.5], 0.5 * (s[1:] + s[:-1]), [a + 0.5]])
    return s, np.diff(edges)


class _Target:
    """f(N, c) and E[g^2 | N, c] for a stack of parameter draws (the model has shape (D,))."""

    def __init__(self, fit, thetas, target: str, k: float, band, cache=None):
        self.cls = fit.spec.cls
        self._cache = {} if cache is None else cache  # (N, c) pairs -> their marginal; may be shared
        self.model = fit.spec.cls.from_vector(thetas, fit.param_names, fit.spec.fixed)
        self.target = target
        self.k = float(k)
        if target == "learnable":
            from .ranking import band_to_q

            lo, hi = band_to_q(band, k)
            self.x = np.array([lo, min(hi, 1.0)])

    def marginal(self, n, c):
        """The marginal at these (N, c) pairs, built once: its quadrature nodes depend on the pairs only,
        and the predictive, the moments and the Fisher information all ask for the same pairs."""
        from .models.marginal import CountMarginal

        n = np.asarray(n, dtype=np.int64)
        c = np.asarray(c, dtype=np.int64)
        key = (n.tobytes(), c.tobytes())
        cm = self._cache.get(key)
        if cm is None:
            if len(self._cache) >= 8:
                self._cache.clear()
            cm = self._cache[key] = CountMarginal(self.cls, n, c)
        return cm

    def moments(self, n, c):
        """(f, E[g^2]) per draw and pair: two arrays (D, pairs)."""
        cm = self.marginal(n, c)
        with np.errstate(all="ignore"):
            if self.target == "pass@k":
                lu = cm.log_unsolved_after(self.model, np.array([self.k, 2 * self.k]))
                return np.exp(lu[..., 0]), np.exp(lu[..., 1])
            cdf = cm.posterior_cdf(self.model, self.x)
        f = np.clip(cdf[..., 1] - cdf[..., 0], 0.0, 1.0)
        return f, f

    def log_sequence(self, n, c):
        """log P(one particular sequence of N outcomes with c successes) per draw and pair."""
        with np.errstate(all="ignore"):
            return self.marginal(n, c).pointwise(self.model) - _log_comb(np.asarray(n, float), np.asarray(c, float))

    def predictive(self, n, c, a: int):
        """The successes s in ``a`` more attempts, on the grid of _s_grid: the pairs (N + a, c + s) flattened,
        log P(the new outcomes | N, c) per draw and the predictive weights of s, both (D, pairs, s)."""
        s, width = _s_grid(int(a))
        n2 = np.repeat(n + a, s.size)
        c2 = (c[:, None] + s[None, :]).ravel()
        D = self.model.shape[0] if self.model.shape else 1
        ls = self.log_sequence(n2, c2).reshape(D, n.size, s.size) - self.log_sequence(n, c)[..., None]
        lp = ls + _log_comb(float(a), s.astype(float)) + np.log(width)
        lp = np.where(np.isfinite(lp), lp, -np.inf)
        w = np.exp(lp - lp.max(axis=-1, keepdims=True))
        w /= w.sum(axis=-1, keepdims=True)
        return n2, c2, ls, w

    def reduction(self, n, c, a: int):
        """R(a) per pair, averaged over the draws: (pairs,)."""
        n = np.asarray(n, dtype=np.int64)
        c = np.asarray(c, dtype=np.int64)
        if a <= 0:
            return np.zeros(n.size)
        n2, c2, _, w = self.predictive(n, c, a)
        f2 = self.moments(n2, c2)[0].reshape(w.shape)
        fbar = np.sum(w * f2, axis=-1, keepdims=True)
        r = np.sum(w * (f2 - fbar) ** 2, axis=-1)
        return np.nan_to_num(r, nan=0.0).mean(axis=0)

    def variance(self, n, c):
        """V per pair: the variance of g(q) under the posterior mixed over the draws."""
        f, g2 = self.moments(n, c)
        return np.clip(g2.mean(axis=0) - f.mean(axis=0) ** 2, 0.0, None), f.mean(axis=0)

    def within_variance(self, n, c):
        """E_theta Var[g(q) | N, c, theta] per pair: the problems' own share, the parameters' left out."""
        f, g2 = self.moments(n, c)
        return np.clip(g2 - f**2, 0.0, None).mean(axis=0)


_STEP = 1e-3  # central-difference step in the unconstrained coordinates


class _Population:
    """The parameters' share of the target's variance and how more attempts shrink it (module docstring):
    the functional's gradient g and the outcomes' expected Fisher information J, both by central
    differences in the fit's unconstrained coordinates (one stack of 2P + 1 parameter sets)."""

    def __init__(self, fit, target: str, k: float, band, hist, scale: float, sigma: np.ndarray, cache=None):
        like = fit.likelihood
        z0 = np.clip(like.to_unconstrained(np.asarray(fit.estimate, dtype=float)), -30.0, 30.0)
        P = z0.size
        steps = np.concatenate([np.zeros((1, P)), _STEP * np.eye(P), -_STEP * np.eye(P)])
        self.P, self.sigma = P, sigma
        self.tg = _Target(fit, like.from_unconstrained(z0[None, :] + steps), target, k, band, cache)
        f = self.tg.moments(hist.n, hist.c)[0]  # (2P + 1, pairs)
        H = scale * (f * hist.weight).sum(axis=-1)
        self.g = np.nan_to_num((H[1:P + 1] - H[P + 1:]) / (2 * _STEP))
        self.sg = self.sigma @ self.g

    @classmethod
    def of(cls, fit, target, k, band, hist, scale, cache=None):
        """None when the fit carries no usable covariance of its parameters."""
        like = getattr(fit, "likelihood", None)
        cov = getattr(fit, "covariance", None)
        if like is None:
            return None
        if cov is not None and getattr(fit, "coords", "") == "unconstrained":
            sigma = np.asarray(cov, dtype=float)
        elif getattr(fit, "draws", None) is not None and fit.draws.shape[0] > fit.draws.shape[1] + 1:
            z = np.clip(like.to_unconstrained(fit.draws), -30.0, 30.0)
            sigma = np.atleast_2d(np.cov(z, rowvar=False))
        else:
            return None
        if sigma.shape != (len(fit.param_names),) * 2 or not np.all(np.isfinite(sigma)):
            return None
        return cls(fit, target, k, band, hist, scale, 0.5 * (sigma + sigma.T), cache)

    def info(self, n, c, a: int) -> np.ndarray:
        """J(a) per pair: (pairs, P, P)."""
        n = np.asarray(n, dtype=np.int64)
        c = np.asarray(c, dtype=np.int64)
        P = self.P
        if a <= 0:
            return np.zeros((n.size, P, P))
        _, _, ls, w = self.tg.predictive(n, c, a)
        w = w[0]  # at the estimate
        with np.errstate(invalid="ignore"):
            u = (ls[1:P + 1] - ls[P + 1:]) / (2 * _STEP)  # (P, pairs, s)
        u = np.where(np.isfinite(u) & (w > 0), u, 0.0)
        return np.einsum("ips,jps,ps->pij", u, u, np.nan_to_num(w))

    def variance(self, J) -> np.ndarray:
        """g' (I + Sigma J)^-1 Sigma g for a stack of information matrices J (..., P, P)."""
        J = np.asarray(J, dtype=float)
        M = np.eye(self.P) + np.einsum("ij,...jk->...ik", self.sigma, J)
        rhs = np.broadcast_to(self.sg[:, None], M.shape[:-1] + (1,))
        try:
            x = np.linalg.solve(M, rhs)[..., 0]
        except np.linalg.LinAlgError:
            x = (np.linalg.pinv(M) @ rhs)[..., 0]
        return np.clip(x @ self.g, 0.0, None)


def _check_plan_args(budget, k, batch, target, band):
    if not (isinstance(budget, (int, np.integer)) or float(budget).is_integer()) or budget < 0:
        raise DifficultyError(f"budget must be a whole number of attempts >= 0, got {budget}")
    if not (np.isfinite(k) and k >= 1):
        raise DifficultyError(f"k must be a finite number of attempts >= 1, got {k}")
    if batch is not None and (int(batch) != batch or batch < 1):
        raise DifficultyError(f"batch must be a whole number >= 1, got {batch}")
    if target not in TARGETS:
        raise DifficultyError(f"target must be one of {', '.join(TARGETS)}, got {target!r}")
    lo, hi = (float(x) for x in band)
    if not (0 < lo < hi <= 1):
        raise DifficultyError(f"band must satisfy 0 < LO < HI <= 1, got {lo},{hi}")


def _grid(units: int) -> np.ndarray:
    """Batch counts a problem's allocation may jump between: every count up to 16, then steps of 1.25x."""
    dense = np.arange(min(units, 16) + 1)
    if units <= 16:
        return dense
    tail = np.unique(np.round(np.geomspace(16, units, int(math.log(units / 16) / math.log(1.25)) + 2)))
    return np.unique(np.concatenate([dense, tail, [units]])).astype(np.int64)


def _greedy(R, grid, units: int, cap, pop=None, J=None):
    """Batches per problem: repeatedly the step (to a later point of the grid) with the largest gain per
    batch that fits in what is left. R: (problems, grid) reductions at grid batch counts; with ``pop``,
    J: (problems, grid, P, P) the information each step adds, and the gain includes the fall of the
    parameters' share of the variance."""
    m = R.shape[0]
    rows = np.arange(m)
    cur = np.zeros(m, dtype=np.int64)  # index into grid
    left = units
    gridf = grid.astype(float)
    total_J = None if pop is None else np.zeros((pop.P, pop.P))
    v_now = None if pop is None else float(pop.variance(total_J))
    while left > 0:
        base = gridf[cur]
        cost = gridf[None, :] - base[:, None]
        gain = R - R[rows, cur][:, None]
        if pop is not None:
            gain = gain + (v_now - pop.variance(total_J + J - J[rows, cur][:, None]))
        ok = (cost > 0) & (cost <= left) & (gridf[None, :] <= cap[:, None])
        if not ok.any():
            break
        ratio = np.where(ok, gain / np.where(ok, cost, 1.0), -np.inf)
        i, j = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
        if ratio[i, j] <= 0:  # nothing left to gain (every problem settled): the caller spreads the rest
            break
        left -= int(grid[j] - grid[cur[i]])
        if pop is not None:
            total_J = total_J + J[i, j] - J[i, cur[i]]
            v_now = float(pop.variance(total_J))
        cur[i] = j
    return grid[cur], left


def uniform_plan(n, budget: int, capacity=None) -> np.ndarray:
    """The same number of extra attempts for every problem; the remainder to the problems with fewest attempts."""
    n = np.asarray(n, dtype=np.int64)
    cap = np.full(n.size, np.iinfo(np.int64).max) if capacity is None else np.asarray(capacity, dtype=np.int64)
    extra = np.zeros(n.size, dtype=np.int64)
    left = int(budget)
    while left > 0:
        open_ = extra < cap
        if not open_.any():
            break
        each = left // int(open_.sum())
        if each == 0:
            order = np.lexsort((np.arange(n.size), n + extra))
            order = order[open_[order]][:left]
            extra[order] += 1
            break
        add = np.minimum(each, cap - extra) * open_
        extra += add
        left -= int(add.sum())
    return extra


def fewest_successes_plan(n, c, budget: int, batch: int = 1, capacity=None) -> np.ndarray:
    """Kazdan et al. (2025): each batch to the problem with the fewest successes, ties to the fewest attempts
    (N + extra so far). With no new outcomes known, the lowest success level takes every batch."""
    n = np.asarray(n, dtype=np.int64)
    c = np.asarray(c, dtype=np.int64)
    cap = np.full(n.size, np.iinfo(np.int64).max) if capacity is None else np.asarray(capacity, dtype=np.int64)
    extra = np.zeros(n.size, dtype=np.int64)
    left = int(budget)
    while left > 0:
        open_ = np.flatnonzero(extra < cap)
        if not open_.size:
            break
        i = open_[np.lexsort((n[open_] + extra[open_], c[open_]))[0]]
        step = int(min(batch, left, cap[i] - extra[i]))
        extra[i] += step
        left -= step
    return extra


@dataclass(frozen=True)
class AllocationPlan:
    """Extra attempts per problem and what each plan is expected to leave of the uncertainty.

    ``table``: one row per problem (problem, n, c, extra, expected_reduction, variance, estimate,
    extra_uniform, extra_fewest_successes). ``sd``: the posterior sd of the target now and its expected
    value after each plan ("now", "plan", "uniform", "fewest_successes"): of pass@K for target pass@k,
    of the number of learnable problems for target learnable."""

    table: object
    target: str
    k: float
    budget: int
    batch: int
    model: str
    method: str
    sd: dict
    estimate: float
    band: tuple | None = None

    def to_dict(self) -> dict:
        out = {"target": self.target, "k": self.k, "budget": self.budget, "batch": self.batch, "model": self.model,
               "method": self.method, "estimate": self.estimate, "sd": dict(self.sd),
               "problems": self.table.to_dict(orient="records")}
        if self.band is not None:
            out["band"] = list(self.band)
        return out


def expected_reduction(fit, n, c, extra, k: float, target: str = "pass@k", band=(0.5, 0.99), draws: int = 8,
                       seed=0) -> np.ndarray:
    """R_i(extra_i): the expected reduction of Var[g(q_i) | N_i, c_i] after extra_i more attempts, per problem
    (module docstring), averaged over ``draws`` parameter draws of the fit (0: its estimate only)."""
    thetas = fit.parameter_draws(draws, seed) if draws else fit.estimate[None, :]
    tg = _Target(fit, thetas, target, k, band)
    return _reductions(tg, np.asarray(n), np.asarray(c), np.asarray(extra))


def _by_pair(n, c, extra):
    """The distinct (N, c, extra) triples with extra > 0: for each extra, the distinct (N, c) pairs given it
    and, per problem, which of them it is. Yields (extra, problems, pairs' N, pairs' c, inverse)."""
    for a in np.unique(extra):
        if a > 0:
            idx = np.flatnonzero(extra == a)
            pairs, inv = np.unique(np.stack([n[idx], c[idx]], axis=1), axis=0, return_inverse=True)
            yield int(a), idx, pairs[:, 0], pairs[:, 1], inv.ravel()


def _reductions(tg, n, c, extra):
    out = np.zeros(n.size)
    for a, idx, pn, pc, inv in _by_pair(np.asarray(n), np.asarray(c), np.asarray(extra)):
        out[idx] = tg.reduction(pn, pc, a)[inv]
    return out


def _information(pop, n, c, extra):
    """sum_i J_i(extra_i) over the problems: (P, P)."""
    J = np.zeros((pop.P, pop.P))
    for a, _, pn, pc, inv in _by_pair(np.asarray(n), np.asarray(c), np.asarray(extra)):
        J += np.einsum("u,uij->ij", np.bincount(inv, minlength=pn.size).astype(float), pop.info(pn, pc, a))
    return J


def plan_allocation(fit, budget: int, k: float, target: str = "pass@k", band=(0.5, 0.99), batch: int | None = None,
                    capacity=None, draws: int = 8, seed=0) -> AllocationPlan:
    """How many more attempts each problem of the fit's counts should get, ``budget`` in all, to most
    reduce the posterior variance of pass@``k`` (target "pass@k") or of the learnable set (target
    "learnable": problems whose P(solved within k attempts) lies in ``band``); module docstring.

    ``batch``: attempts are given in multiples of it (default: budget / (8 x problems), at least 1).
    ``capacity``: the most extra attempts each problem can take (per problem, or None)."""
    _check_plan_args(budget, k, batch, target, band)
    import pandas as pd

    like = fit.likelihood
    if like is None:
        raise DifficultyError(f"a sampling plan needs a per-problem fit; {fit.model_name} ({fit.method}) has none")
    counts = like.counts
    m = counts.n_problems
    budget = int(budget)
    batch = int(batch) if batch is not None else max(1, budget // (8 * m))
    cap = (np.full(m, np.iinfo(np.int64).max) if capacity is None
           else np.broadcast_to(np.asarray(capacity, dtype=np.int64), (m,)).copy())
    if np.any(cap < 0):
        raise DifficultyError("capacity must be >= 0 for every problem")
    thetas = fit.parameter_draws(draws, seed) if draws else fit.estimate[None, :]
    cache = {}
    tg = _Target(fit, thetas, target, k, band, cache)
    h = like.hist
    var_u, est_u = tg.variance(h.n, h.c)
    scale = 1.0 / m if target == "pass@k" else 1.0
    pop = _Population.of(fit, target, k, band, h, scale, cache)

    units = budget // batch
    extra = np.zeros(m, dtype=np.int64)
    if units > 0:
        grid = _grid(units)
        # each batch count's predictive pairs serve its reduction and its information, then are dropped
        R_u = np.empty((h.n.size, grid.size))
        J = None if pop is None else np.empty((h.n.size, grid.size, pop.P, pop.P))
        for j, g in enumerate(grid):
            R_u[:, j] = tg.reduction(h.n, h.c, int(g * batch))
            if pop is not None:
                J[:, j] = pop.info(h.n, h.c, int(g * batch))
        J = None if J is None else J[h.inverse]
        got, left = _greedy(scale**2 * R_u[h.inverse], grid, units, cap // batch, pop, J)
        extra = got * batch
        rest = budget - int(extra.sum())
        if rest > 0:  # what no whole step could take: to the problems whose next step gains most per attempt
            extra += (uniform_plan(counts.n + extra, rest, cap - extra) if rest >= batch
                      else _fill(tg, counts, h, extra, rest, cap))
    n, c = counts.n, counts.c
    uni = uniform_plan(n, budget, cap)
    few = fewest_successes_plan(n, c, budget, batch, cap)
    var = var_u[h.inverse]
    plans = {"plan": extra, "uniform": uni, "fewest_successes": few}
    red = {name: _reductions(tg, n, c, a) for name, a in plans.items()}
    if pop is None:  # the parameters' share rides in each problem's variance (mixed over draws)
        total = float(var.sum())
        sd = {"now": scale * math.sqrt(total)}
        for name, r in red.items():
            sd[name] = scale * math.sqrt(max(total - float(r.sum()), 0.0))
    else:  # the problems' own share plus the parameters' share g' Sigma g, each after its own fall
        own = float(tg.within_variance(h.n, h.c)[h.inverse].sum())
        sd = {"now": math.sqrt(scale**2 * own + float(pop.variance(np.zeros((pop.P, pop.P)))))}
        for name, a in plans.items():
            J_a = _information(pop, n, c, a)
            sd[name] = math.sqrt(scale**2 * max(own - float(red[name].sum()), 0.0) + float(pop.variance(J_a)))
    est = est_u[h.inverse]
    if target == "pass@k":
        estimate, est_col = float(np.mean(1 - est)), 1 - est
    else:
        estimate, est_col = float(est.sum()), est
    table = pd.DataFrame({"problem": counts.problem_ids, "n": n, "c": c, "extra": extra,
                          "expected_reduction": red["plan"], "variance": var,
                          ("pass_at_k" if target == "pass@k" else "p_learnable"): est_col,
                          "extra_uniform": uni, "extra_fewest_successes": few})
    return AllocationPlan(table, target, float(k), budget, batch, fit.model_name, fit.method, sd, estimate,
                          tuple(float(x) for x in band) if target == "learnable" else None)


def _fill(tg, counts, h, extra, rest, cap):
    """``rest`` attempts (less than a batch step) to the one problem they help most."""
    n, c = counts.n, counts.c
    ok = cap - extra >= rest
    if not ok.any():
        return uniform_plan(n + extra, rest, cap - extra)
    before = _reductions(tg, n, c, extra)
    after = _reductions(tg, n, c, np.where(ok, extra + rest, extra))
    gain = np.where(ok, after - before, -np.inf)
    add = np.zeros(n.size, dtype=np.int64)
    add[int(np.argmax(gain))] = rest
    return add
