"""Seeded generators of evaluation counts with a known truth, for validation and demos."""
from __future__ import annotations

import numpy as np

from .counts import EvalCounts
from .errors import DifficultyError

__all__ = ["simulate_beta_counts"]


def simulate_beta_counts(alpha: float, beta: float, problems: int, attempts, seed=None, ceiling: float = 1.0):
    """Draw p_i ~ Beta(alpha, beta) (failure probability; a fraction 1 - ceiling has p_i = 1),
    then c_i ~ Binomial(N_i, 1 - p_i). Returns (EvalCounts, true p_i)."""
    if alpha <= 0 or beta <= 0:
        raise DifficultyError(f"alpha and beta must be > 0, got alpha={alpha}, beta={beta}")
    if problems < 1:
        raise DifficultyError(f"problems must be >= 1, got {problems}")
    if not 0 < ceiling <= 1:
        raise DifficultyError(f"ceiling A must be in (0, 1], got {ceiling}")
    rng = np.random.default_rng(seed)
    n = np.broadcast_to(np.asarray(attempts, dtype=np.int64), (problems,)).copy()
    if np.any(n < 1):
        raise DifficultyError("attempts must be >= 1")
    p = rng.beta(alpha, beta, size=problems)
    if ceiling < 1:
        p = np.where(rng.random(problems) < 1 - ceiling, 1.0, p)
    c = rng.binomial(n, 1.0 - p)
    return EvalCounts(n, c, problem=np.arange(problems)), p
