"""Seeded generators of evaluation data with a known truth, from any difficulty model.

* :func:`simulate_counts`: per-problem p_i from the model, then c_i ~ Binomial(N_i, 1 - p_i):
  memory O(problems), so 10^5 problems x 10^4 attempts cost one binomial draw each.
* :func:`simulate_outcomes`: the per-attempt outcome matrix (problems x attempts, boolean),
  refused above a memory budget (use counts instead).
* Correlated trials (the effective-k models, Eq. 11-12): attempts are ordered and the first
  success time T of a problem with failure probability p has P(T > k) = p^(H_k(kappa)), so the
  fraction of problems solved within their first k attempts is exactly Eq. 12's pass@k.
  Conditionally on no success so far, attempt t fails with probability p^(t^-kappa); after
  the first success, attempts are independent with success probability 1 - p.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .counts import EvalCounts
from .errors import DifficultyError
from .models import BetaModel, CorrelatedTrialsModel, DifficultyModel
from .special import generalized_harmonic

__all__ = ["Simulation", "simulate_counts", "simulate_outcomes", "simulate_beta_counts", "first_success_times",
           "demo_data"]

MAX_MATRIX_CELLS = 200_000_000


@dataclass(frozen=True)
class Simulation:
    counts: EvalCounts
    p: np.ndarray  # true per-problem failure probability (1.0: never solvable)
    first_success: np.ndarray | None = None  # 1-based attempt of first success; N + 1 if none


def _attempts(attempts, problems):
    n = np.broadcast_to(np.asarray(attempts), (problems,))
    if n.dtype.kind not in "iu" and not np.all(n == np.round(n)):
        raise DifficultyError("attempts must be whole numbers")
    n = n.astype(np.int64).copy()
    if np.any(n < 1):
        raise DifficultyError("attempts must be >= 1")
    return n


def _check_model(model):
    if not isinstance(model, DifficultyModel):
        raise DifficultyError(f"model {model.name!r} describes only the aggregate curve: it cannot generate problems")


def first_success_times(p, kappa, n, rng):
    """First success times with P(T > k) = p^(H_k(kappa)) (Eq. 12), truncated: N + 1 = none.

    Inverse transform: T = min{t : H_t(kappa) >= log(U)/log(p)}, found by bisection on t.
    """
    p = np.asarray(p, dtype=float)
    u = rng.random(p.shape)
    with np.errstate(divide="ignore"):
        need = np.where(p >= 1, np.inf, np.where(p <= 0, 0.0, np.log(u) / np.log(np.where(p > 0, p, 0.5))))
    lo = np.zeros(p.shape)  # H_lo < need
    hi = n.astype(float) + 1  # answer is in (lo, hi]
    solved = np.isfinite(need) & (generalized_harmonic(n.astype(float), kappa) >= need)
    for _ in range(64):
        mid = np.floor((lo + hi) / 2)
        ok = generalized_harmonic(np.maximum(mid, 0), kappa) >= need
        hi = np.where(ok & (mid > lo), mid, hi)
        lo = np.where(~ok & (mid > lo), mid, lo)
        if np.all(hi - lo <= 1):
            break
    return np.where(solved, hi, n + 1).astype(np.int64)


def simulate_counts(model, problems: int, attempts, seed=None) -> Simulation:
    """Per-problem counts from ``model``: memory-light binomial draws (or first-success
    times plus a binomial for the rest, for correlated-trials models)."""
    _check_model(model)
    if int(problems) < 1:
        raise DifficultyError(f"problems must be >= 1, got {problems}")
    problems = int(problems)
    rng = np.random.default_rng(seed)
    n = _attempts(attempts, problems)
    p = model.sample(problems, rng)
    if isinstance(model, CorrelatedTrialsModel) and model.kappa > 0:
        t = first_success_times(p, model.kappa, n, rng)
        after = np.where(t <= n, n - t, 0)
        c = np.where(t <= n, 1 + rng.binomial(after, 1.0 - p), 0)
        return Simulation(EvalCounts(n, c, problem=np.arange(problems)), p, t)
    c = rng.binomial(n, 1.0 - p)
    return Simulation(EvalCounts(n, c, problem=np.arange(problems)), p)


def simulate_outcomes(model, problems: int, attempts: int, seed=None):
    """Per-attempt outcomes, a (problems x attempts) boolean matrix, and the true p_i."""
    _check_model(model)
    problems, attempts = int(problems), int(attempts)
    if problems * attempts > MAX_MATRIX_CELLS:
        raise DifficultyError(f"{problems} x {attempts} outcomes exceed {MAX_MATRIX_CELLS:.0e} cells; "
                              "simulate counts instead (simulate_counts)")
    rng = np.random.default_rng(seed)
    p = model.sample(problems, rng)
    if isinstance(model, CorrelatedTrialsModel) and model.kappa > 0:
        n = np.full(problems, attempts)
        t = first_success_times(p, model.kappa, n, rng)
        idx = np.arange(1, attempts + 1)[None, :]
        later = rng.random((problems, attempts)) < (1.0 - p)[:, None]
        return (idx == t[:, None]) | ((idx > t[:, None]) & later), p
    return rng.random((problems, attempts)) < (1.0 - p)[:, None], p


def simulate_beta_counts(alpha: float, beta: float, problems: int, attempts, seed=None, ceiling: float = 1.0):
    """p_i ~ Beta(alpha, beta) (a fraction 1 - ceiling never solvable), c_i ~ Binomial(N_i, 1 - p_i).

    Returns (EvalCounts, true p_i)."""
    sim = simulate_counts(BetaModel(alpha=alpha, beta=beta, A=ceiling), problems, attempts, seed)
    return sim.counts, sim.p


def demo_data(seed=0):
    """Built-in generated data with a known truth: three "models" of different strength whose
    problems' failure probabilities follow zero-inflated Beta distributions (a mixture of a
    never-solvable fraction and a Beta), 300 problems each, 200 attempts per problem.

    Returns (EvalCounts grouped by model, {model: its BetaModel})."""
    truths = {
        "strong-model": BetaModel(alpha=1.5, beta=0.6, A=0.95),
        "medium-model": BetaModel(alpha=3.0, beta=0.4, A=0.85),
        "weak-model": BetaModel(alpha=6.0, beta=0.3, A=0.7),
    }
    n, c, prob, grp = [], [], [], []
    for i, (name, model) in enumerate(truths.items()):
        sim = simulate_counts(model, 300, 200, seed=seed + i)
        n.append(sim.counts.n)
        c.append(sim.counts.c)
        prob.append(np.array([f"p{j:03d}" for j in range(300)], dtype=object))
        grp.append(np.full(300, name, dtype=object))
    counts = EvalCounts(np.concatenate(n), np.concatenate(c), problem=np.concatenate(prob), group=np.concatenate(grp),
                        source="built-in demo data (generated)")
    return counts, truths
