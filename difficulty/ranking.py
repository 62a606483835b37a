"""Ranking problems for fine-tuning: "difficult but obtainable", with uncertainty.

Under the fitted population model, each problem's success probability q_i has a posterior
given its own counts (empirical Bayes; with ``hyper="full"`` also averaged over the
uncertainty of the population parameters). For the Beta model (MATH.md):

    q_i | c_i ~ Beta(beta + c_i, alpha + N_i - c_i)
    P(solved within K more attempts) = 1 - B(alpha + N_i - c_i + K, beta + c_i) / B(alpha + N_i - c_i, beta + c_i)

with, for the zero-inflated model, an atom q_i = 0 of posterior weight
P(never | c_i = 0) = (1 - A) / (1 - A + A BB(0; N_i)). Models without a closed form use the
posterior on quadrature nodes. A problem is "difficult but obtainable" when its true
P(solved within K) = 1 - (1 - q_i)^K lies in [lo, hi]; it is selected when the posterior
probability of that event is at least ``confidence``. Intervals for q_i and for
P(solved within K) are posterior quantiles (the second is a monotone map of the first).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betainc

from .counts import EvalCounts
from .errors import DifficultyError

__all__ = ["RankedProblems", "rank_problems", "band_to_q"]


def band_to_q(band, budget):
    """[lo, hi] on P(solved within K) -> [q_lo, q_hi] on the success probability."""
    lo, hi = band
    K = float(budget)
    return -np.expm1(np.log1p(-lo) / K), (-np.expm1(np.log1p(-hi) / K) if hi < 1 else 1.0)


@dataclass
class RankedProblems:
    table: object  # pandas DataFrame, one row per problem
    budget: float
    band: tuple
    confidence: float
    level: float
    model: str
    expected_obtainable_selected: float

    def to_dict(self):
        return {"budget": self.budget, "band": list(self.band), "confidence": self.confidence, "level": self.level,
                "model": self.model, "n_selected": int(self.table["selected"].sum()),
                "expected_obtainable_selected": self.expected_obtainable_selected,
                "problems": self.table.to_dict(orient="records")}


def _posterior_pieces(like, theta):
    """Per pair: (prob of atom q = 0, Beta posterior shapes (a, b) or None, nodes (q, logw) or None)."""
    name = like.name
    if name in ("beta-binomial", "zi-beta-binomial"):
        a, b = float(theta[0]), float(theta[1])
        never = np.exp(like.log_never_solvable(theta)) if name == "zi-beta-binomial" else np.zeros(like.n.size)
        return never, (b + like.c, a + like.n - like.c), None
    if hasattr(like, "_q"):
        model = like.make_model(theta)
        with np.errstate(all="ignore"):
            lg = model._logpdf(like._p, like._q)
        lg = np.where(np.isfinite(lg), lg, -np.inf) + like._logw
        lg = lg - np.logaddexp.reduce(lg, axis=1, keepdims=True)
        return np.zeros(like.n.size), None, (like._q, np.exp(lg))
    raise DifficultyError(f"ranking is not available for the {name} likelihood")


def rank_problems(counts: EvalCounts, budget: float = 1000, band=(0.5, 0.99), model: str = "zi-beta",
                  confidence: float = 0.8, level: float = 0.9, hyper: str = "full", draws: int = 200,
                  top: int | None = None, seed=0) -> RankedProblems:
    """Per-problem posterior of q_i and of P(solved within ``budget`` attempts), and the selection."""
    import pandas as pd

    from .fit.likelihood import make_likelihood
    from .fit.mle import fit_mle
    from .forecast import laplace_draws

    lo, hi = (float(x) for x in band)
    if not (0 < lo < hi <= 1):
        raise DifficultyError(f"--band must satisfy 0 < LO < HI <= 1, got {lo},{hi}")
    if not budget >= 1:
        raise DifficultyError(f"--budget must be >= 1, got {budget}")
    if not 0 < confidence < 1:
        raise DifficultyError(f"confidence must be in (0, 1), got {confidence}")
    rng = np.random.default_rng(seed)
    like = make_likelihood(model, counts)
    fit = fit_mle(counts, model, level=level)
    thetas = laplace_draws(like, fit, draws, rng) if hyper == "full" else fit.value[None, :]
    q_lo, q_hi = band_to_q((lo, hi), budget)
    U = like.n.size
    per_draw = max(1, 2000 // len(thetas))
    samples = np.empty((U, len(thetas) * per_draw))
    in_band = np.zeros(U)
    p_never = np.zeros(U)
    p_solve = np.zeros(U)
    for d, th in enumerate(thetas):
        never, shapes, nodes = _posterior_pieces(like, th)
        p_never += never
        p_solve += 1 - np.exp(like.log_unsolved_after(th, [budget]))[:, 0]
        cols = slice(d * per_draw, (d + 1) * per_draw)
        if shapes is not None:
            a, b = shapes
            q = rng.beta(a[:, None], b[:, None], size=(U, per_draw))
            q = np.where(rng.random((U, per_draw)) < never[:, None], 0.0, q)
            cdf = lambda x: betainc(a, b, x)
            in_band += (1 - never) * (cdf(min(q_hi, 1.0)) - cdf(q_lo))
        else:
            qn, wn = nodes
            cum = np.cumsum(wn, axis=1)
            u = rng.random((U, per_draw))
            idx = np.minimum((cum[:, None, :] < u[:, :, None]).sum(axis=2), qn.shape[1] - 1)
            q = np.take_along_axis(qn, idx, axis=1)
            in_band += np.sum(wn * ((qn >= q_lo) & (qn <= q_hi)), axis=1)
        samples[:, cols] = q
    D = len(thetas)
    in_band, p_never, p_solve = in_band / D, p_never / D, p_solve / D
    a_lo, a_hi = 0.5 - level / 2, 0.5 + level / 2
    q_mean = samples.mean(axis=1)
    q_low, q_high = np.quantile(samples, [a_lo, a_hi], axis=1)
    to_solve = lambda q: -np.expm1(budget * np.log1p(-np.clip(q, 0, 1 - 1e-16)))
    inv = like.hist.inverse
    table = pd.DataFrame({
        "problem": counts.problem_ids, "n": counts.n, "c": counts.c,
        "q_mean": q_mean[inv], "q_low": q_low[inv], "q_high": q_high[inv],
        "p_solve_within_budget": p_solve[inv], "p_solve_within_budget_low": to_solve(q_low)[inv],
        "p_solve_within_budget_high": to_solve(q_high)[inv],
        "p_in_band": in_band[inv],
    })
    if like.name == "zi-beta-binomial":
        table["p_never"] = p_never[inv]
    table["selected"] = table["p_in_band"] >= confidence
    order = np.lexsort((table["q_mean"].to_numpy(), -table["p_in_band"].to_numpy()))
    rank = np.empty(len(table), dtype=int)
    rank[order] = np.arange(1, len(table) + 1)
    table["rank"] = rank
    if top is not None:
        keep = table.sort_values("rank").index[table.sort_values("rank")["selected"]][: int(top)]
        table["selected"] = table.index.isin(keep)
    expected = float(table.loc[table["selected"], "p_in_band"].sum())
    return RankedProblems(table, float(budget), (lo, hi), confidence, level, like.name, expected)


def stratified_pick(ranked: RankedProblems, n: int, seed=0):
    """n selected problems spread evenly over the range of posterior difficulty (q_mean)."""
    sel = ranked.table[ranked.table["selected"]].sort_values("q_mean")
    if len(sel) <= n:
        return sel
    idx = np.round(np.linspace(0, len(sel) - 1, n)).astype(int)
    return sel.iloc[idx]
