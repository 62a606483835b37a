"""Ranking problems for fine-tuning: "difficult but obtainable", with uncertainty.

Under a fitted population model (any per-problem model), each problem's success probability q_i
has a posterior given its own counts (empirical Bayes; with ``hyper="full"`` also averaged over
the uncertainty of the population parameters, from the fit's posterior or Laplace draws). For
the Beta model (MATH.md):

    q_i | c_i ~ Beta(beta + c_i, alpha + N_i - c_i)
    P(solved within K more attempts) = 1 - B(alpha + N_i - c_i + K, beta + c_i) / B(alpha + N_i - c_i, beta + c_i)

with an atom q_i = 0 of posterior weight P(never | c_i = 0) = (1 - A) / (1 - A + A P_s(0; N_i)) when
a never-solvable fraction is fitted; other models use the same quantities from their own
marginal (quadrature). A problem is "difficult but obtainable" when its true P(solved within K)
= 1 - (1 - q_i)^K lies in [lo, hi]; it is selected when the posterior probability of that event
is at least ``confidence``. Intervals for q_i are quantiles of its posterior mixed over the draws;
those for P(solved within K) are their image under the monotone map q -> 1 - (1 - q)^K.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .counts import EvalCounts
from .errors import DifficultyError

__all__ = ["RankedProblems", "rank_problems", "band_to_q", "stratified_pick"]

_Q_GRID = np.concatenate([[0.0], np.logspace(-12, 0, 1201)])  # posterior CDFs are read off here


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


def _quantiles(cdf, probs):
    """Quantiles of each row's distribution from its CDF on _Q_GRID (linear in log q between points)."""
    out = np.empty((len(probs), cdf.shape[0]))
    logx = np.log(np.maximum(_Q_GRID, 1e-300))
    for j, pr in enumerate(probs):
        i = np.argmax(cdf >= pr, axis=1)  # first grid point at or past the level
        i0 = np.maximum(i - 1, 0)
        c0, c1 = cdf[np.arange(cdf.shape[0]), i0], cdf[np.arange(cdf.shape[0]), i]
        t = np.where(c1 > c0, (pr - c0) / np.where(c1 > c0, c1 - c0, 1.0), 1.0)
        val = np.exp(logx[i0] + t * (logx[i] - logx[i0]))
        out[j] = np.where((i == 0) | (i0 == 0) & (t <= 0), _Q_GRID[i], val)
    return out


def rank_problems(counts: EvalCounts | None = None, budget: float = 1000, band=(0.5, 0.99), model: str = "zi-beta",
                  confidence: float = 0.8, level: float = 0.9, hyper: str = "full", draws: int = 200,
                  top: int | None = None, seed=0, fit=None) -> RankedProblems:
    """Per-problem posterior of q_i and of P(solved within ``budget`` attempts), and the selection.

    ``fit``: the population fit to use (any per-problem model); without it, ``model`` is fitted
    to ``counts`` by maximum likelihood (once)."""
    import pandas as pd

    lo, hi = (float(x) for x in band)
    if not (0 < lo < hi <= 1):
        raise DifficultyError(f"--band must satisfy 0 < LO < HI <= 1, got {lo},{hi}")
    if not budget >= 1:
        raise DifficultyError(f"--budget must be >= 1, got {budget}")
    if not 0 < confidence < 1:
        raise DifficultyError(f"confidence must be in (0, 1), got {confidence}")
    if fit is None:
        from .fit.mle import fit_mle

        fit = fit_mle(counts, model, level=level)
    like = fit.likelihood
    if like is None:
        raise DifficultyError(f"ranking needs a per-problem fit; {fit.model_name} ({fit.method}) has none")
    counts = like.counts
    thetas = fit.parameter_draws(draws, seed) if hyper == "full" else fit.estimate[None, :]
    q_lo, q_hi = band_to_q((lo, hi), budget)
    D = len(thetas)
    p_solve = (1 - np.exp(like.log_unsolved_after(thetas, [budget, 1.0]))).mean(axis=0)  # (pairs, 2)
    p_never = np.exp(like.log_never_solvable(thetas)).mean(axis=0)
    cdf = np.zeros((like.n.size, _Q_GRID.size))
    step = max(1, 64 // max(1, like.n.size // 64))
    for s in range(0, D, step):  # the mixture over draws of each problem's posterior CDF
        cdf += like.posterior_cdf(thetas[s:s + step], _Q_GRID).sum(axis=0)
    cdf /= D
    band_cdf = like.posterior_cdf(thetas, np.array([q_lo, min(q_hi, 1.0)])).mean(axis=0)  # (pairs, 2)
    in_band = np.clip(band_cdf[:, 1] - band_cdf[:, 0], 0.0, 1.0)
    q_low, q_high = _quantiles(np.maximum.accumulate(cdf, axis=1), [0.5 - level / 2, 0.5 + level / 2])
    q_mean = p_solve[:, 1]
    to_solve = lambda q: -np.expm1(budget * np.log1p(-np.clip(q, 0, 1 - 1e-16)))  # noqa: E731
    inv = like.hist.inverse
    table = pd.DataFrame({
        "problem": counts.problem_ids, "n": counts.n, "c": counts.c,
        "q_mean": q_mean[inv], "q_low": q_low[inv], "q_high": q_high[inv],
        "p_solve_within_budget": p_solve[inv, 0], "p_solve_within_budget_low": to_solve(q_low)[inv],
        "p_solve_within_budget_high": to_solve(q_high)[inv],
        "p_in_band": in_band[inv],
    })
    if "A" in fit.param_names:
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
    return RankedProblems(table, float(budget), (lo, hi), confidence, level, fit.model_name, expected)


def stratified_pick(ranked: RankedProblems, n: int, seed=0):
    """n selected problems spread evenly over the range of posterior difficulty (q_mean)."""
    sel = ranked.table[ranked.table["selected"]].sort_values("q_mean")
    if len(sel) <= n:
        return sel
    idx = np.round(np.linspace(0, len(sel) - 1, n)).astype(int)
    return sel.iloc[idx]
