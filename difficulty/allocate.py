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
c = 0 and q near 1/K gains little from one batch and much from many). Parameter uncertainty enters V_i
(draws of theta) but new data are not credited with reducing it (a conservative plan).

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

    def __init__(self, fit, thetas, target: str, k: float, band):
        self.cls = fit.spec.cls
        self.model = fit.spec.cls.from_vector(thetas, fit.param_names, fit.spec.fixed)
        self.target = target
        self.k = float(k)
        if target == "learnable":
            from .ranking import band_to_q

            lo, hi = band_to_q(band, k)
            self.x = np.array([lo, min(hi, 1.0)])

    def marginal(self, n, c):
        from .models.marginal import CountMarginal

        return CountMarginal(self.cls, np.asarray(n, dtype=np.int64), np.asarray(c, dtype=np.int64))

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

    def reduction(self, n, c, a: int):
        """R(a) per pair, averaged over the draws: (pairs,)."""
        n = np.asarray(n, dtype=np.int64)
        c = np.asarray(c, dtype=np.int64)
        if a <= 0:
            return np.zeros(n.size)
        s, width = _s_grid(int(a))
        n2 = np.repeat(n + a, s.size)
        c2 = (c[:, None] + s[None, :]).ravel()
        D = self.model.shape[0] if self.model.shape else 1
        f2 = self.moments(n2, c2)[0].reshape(D, n.size, s.size)
        lp = (self.log_sequence(n2, c2).reshape(D, n.size, s.size) - self.log_sequence(n, c)[..., None]
              + _log_comb(float(a), s.astype(float)) + np.log(width))
        lp = np.where(np.isfinite(lp), lp, -np.inf)
        w = np.exp(lp - lp.max(axis=-1, keepdims=True))
        w /= w.sum(axis=-1, keepdims=True)
        fbar = np.sum(w * f2, axis=-1, keepdims=True)
        r = np.sum(w * (f2 - fbar) ** 2, axis=-1)
        return np.nan_to_num(r, nan=0.0).mean(axis=0)

    def variance(self, n, c):
        """V per pair: the variance of g(q) under the posterior mixed over the draws."""
        f, g2 = self.moments(n, c)
        return np.clip(g2.mean(axis=0) - f.mean(axis=0) ** 2, 0.0, None), f.mean(axis=0)


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


def _greedy(R, grid, units: int, cap):
    """Batches per problem: repeatedly the step (to a later point of the grid) with the largest gain per
    batch that fits in what is left. R: (problems, grid) reductions at grid batch counts."""
    m = R.shape[0]
    cur = np.zeros(m, dtype=np.int64)  # index into grid
    left = units
    gridf = grid.astype(float)
    while left > 0:
        base = gridf[cur]
        cost = gridf[None, :] - base[:, None]
        gain = R - R[np.arange(m), cur][:, None]
        ok = (cost > 0) & (cost <= left) & (gridf[None, :] <= cap[:, None])
        if not ok.any():
            break
        ratio = np.where(ok, gain / np.where(ok, cost, 1.0), -np.inf)
        i, j = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
        if ratio[i, j] <= 0:  # nothing left to gain (every problem settled): the caller spreads the rest
            break
        left -= int(grid[j] - grid[cur[i]])
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


def _reductions(tg, n, c, extra):
    out = np.zeros(n.size)
    for a in np.unique(extra):
        if a > 0:
            idx = np.flatnonzero(extra == a)
            out[idx] = tg.reduction(n[idx], c[idx], int(a))
    return out


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
    tg = _Target(fit, thetas, target, k, band)
    h = like.hist
    var_u, est_u = tg.variance(h.n, h.c)

    units = budget // batch
    extra = np.zeros(m, dtype=np.int64)
    if units > 0:
        grid = _grid(units)
        R_u = np.stack([tg.reduction(h.n, h.c, int(g * batch)) for g in grid], axis=1)  # (pairs, grid)
        got, left = _greedy(R_u[h.inverse], grid, units, cap // batch)
        extra = got * batch
        rest = budget - int(extra.sum())
        if rest > 0:  # what no whole step could take: to the problems whose next step gains most per attempt
            extra += (uniform_plan(counts.n + extra, rest, cap - extra) if rest >= batch
                      else _fill(tg, counts, h, extra, rest, cap))
    n, c = counts.n, counts.c
    uni = uniform_plan(n, budget, cap)
    few = fewest_successes_plan(n, c, budget, batch, cap)
    var = var_u[h.inverse]
    red = {name: _reductions(tg, n, c, a) for name, a in (("plan", extra), ("uniform", uni), ("fewest_successes", few))}
    scale = 1.0 / m if target == "pass@k" else 1.0
    total = float(var.sum())
    sd = {"now": scale * math.sqrt(total)}
    for name, r in red.items():
        sd[name] = scale * math.sqrt(max(total - float(r.sum()), 0.0))
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
