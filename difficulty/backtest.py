"""Backtests: forecast pass@K from a subsample of m attempts per problem, score on the rest.

A random subset of m of a problem's N attempts has c' ~ Hypergeometric(N, c, m) successes:
exact, without needing the attempt-level outcomes. The truth is the unbiased pass@K of the
full data (Chen et al.), so only problems with N_i >= K take part.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .counts import EvalCounts
from .errors import DifficultyError
from .forecast import forecast_pass_at_k
from .passk import pass_at_k

__all__ = ["subsample_counts", "backtest", "FORECASTERS", "BacktestResult"]

FORECASTERS = {
    "loglog": dict(method="loglog"),
    "beta-curve": dict(method="lsq", model="beta"),
    "beta-binomial": dict(method="mle", model="beta"),
    "zi-beta-binomial": dict(method="mle", model="zi-beta"),
    "kumaraswamy-binomial": dict(method="mle", model="kumaraswamy"),
    "beta-binomial-mcmc": dict(method="mcmc", model="beta"),
    "kumaraswamy-binomial-mcmc": dict(method="mcmc", model="kumaraswamy"),
    "model-average-mcmc": dict(method="mcmc", model="average"),
    "selfcheck": dict(method="selfcheck"),
    "default": dict(),  # the Kumaraswamy posterior, its band widened by its extrapolation error inside the data
}


def subsample_counts(counts: EvalCounts, m: int, rng) -> EvalCounts:
    """Counts of a random subset of m attempts per problem drawn without replacement from its N_i
    (c' ~ Hypergeometric(N_i, c_i, m), exact); problem names and groups kept."""
    m = int(m)
    if m < 1:
        raise DifficultyError(f"--attempts must be >= 1, got {m}")
    short = counts.n < m
    if short.any():
        raise DifficultyError(f"{int(short.sum())} problem(s) have fewer than m={m} attempts")
    c = _hypergeometric(counts.c, counts.n - counts.c, m, rng)
    return EvalCounts(np.full(len(counts), m), c, problem=counts.problem, group=counts.group)


NUMPY_HYPERGEOMETRIC_MAX = 10**9  # numpy's sampler takes fewer than this many of each kind
SEQUENTIAL_MAX = 10**6


def _hypergeometric(good, bad, m: int, rng) -> np.ndarray:
    """Successes among m draws without replacement from good + bad items. Where numpy's sampler cannot
    (1e9 or more of a kind), the m draws are made one at a time, each with probability good left / all
    left: exact, in m vectorised steps."""
    good, bad = np.asarray(good, dtype=np.int64), np.asarray(bad, dtype=np.int64)
    big = (good >= NUMPY_HYPERGEOMETRIC_MAX) | (bad >= NUMPY_HYPERGEOMETRIC_MAX)
    out = np.zeros(good.shape, dtype=np.int64)
    if (~big).any():
        out[~big] = rng.hypergeometric(good[~big], bad[~big], m)
    if big.any():
        if m > SEQUENTIAL_MAX:
            raise DifficultyError(f"subsampling m={m} of N >= 1e9 attempts is not supported (m <= {SEQUENTIAL_MAX:g})")
        g, b = good[big].copy(), bad[big].copy()
        for _ in range(m):
            hit = rng.random(g.shape) * (g + b) < g  # exact to 2^-53 in the probability of a hit
            g -= hit
            b -= ~hit
        out[big] = good[big] - g
    return out


@dataclass
class BacktestResult:
    rows: list  # one dict per (seed, forecaster)
    attempts: int
    k: int
    level: float
    n_problems: int

    def table(self):
        import pandas as pd

        df = pd.DataFrame(self.rows)
        g = df.groupby("forecaster", sort=False)
        return pd.DataFrame({"mae": g["abs_error"].mean(), "coverage": g["covered"].mean(),
                             "mean_width": g["width"].mean(), "runs": g.size()})

    def to_dict(self):
        t = self.table()
        return {"attempts": self.attempts, "k": self.k, "level": self.level, "n_problems": self.n_problems,
                "forecasters": {name: {"mae": float(r.mae), "coverage": float(r.coverage),
                                       "mean_width": float(r.mean_width), "runs": int(r.runs)}
                                for name, r in t.iterrows()},
                "runs": self.rows}


def backtest(counts: EvalCounts, attempts: int, k: int, seeds=5, level: float = 0.9, forecasters=None,
             draws: int = 300) -> BacktestResult:
    """For each seed, subsample ``attempts`` per problem, forecast pass@k with every forecaster,
    and score against the unbiased pass@k of the full data (problems with N >= k)."""
    keep = counts.n >= k
    if keep.sum() < 2:
        raise DifficultyError(f"backtest needs at least 2 problems with N >= k={k}; {int(keep.sum())} have it")
    full = counts.select(keep)
    truth = float(pass_at_k(full.n, full.c, k).mean())
    rows = []
    names = forecasters or list(FORECASTERS)
    for seed in range(int(seeds)):
        rng = np.random.default_rng(seed)
        sub = subsample_counts(full, attempts, rng)
        for name in names:
            opts = FORECASTERS[name]
            try:
                f = forecast_pass_at_k(sub, [k], level=level, seed=seed, draws=draws, **opts)
                est, lo, hi = float(f.pass_at_k[0]), float(f.low[0]), float(f.high[0])
            except DifficultyError as e:
                rows.append({"seed": seed, "forecaster": name, "forecast": np.nan, "low": np.nan, "high": np.nan,
                             "truth": truth, "abs_error": np.nan, "covered": False, "width": np.nan, "error": str(e)})
                continue
            rows.append({"seed": seed, "forecaster": name, "forecast": est, "low": lo, "high": hi, "truth": truth,
                         "abs_error": abs(est - truth), "covered": bool(lo <= truth <= hi), "width": hi - lo})
    return BacktestResult(rows, attempts, k, level, int(keep.sum()))
