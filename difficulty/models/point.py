"""One failure probability p for every solvable problem (the single-p curves of Fig. 1).

    <p^k> = p^k,   pass@k = A (1 - p^k)
The difficulty distribution is an atom at sigma = log(1/p): it has no density.
"""
from __future__ import annotations

import numpy as np

from ..errors import DifficultyError
from .base import DifficultyModel, Param


class PointMassModel(DifficultyModel):
    """Every solvable problem fails with the same p: pass@k = A (1 - p^k)."""

    name = "point"
    params_spec = (
        Param("p", 0, 1, doc="failure probability of one attempt"),
        Param("A", 0, 1, default=1.0, doc="ceiling", closed_high=True),
    )

    def log_laplace_transform(self, s):
        return np.asarray(s) * np.log(self.p)

    def _logpdf(self, p, q):
        raise DifficultyError(f"model 'point' is an atom at sigma = {-np.log(self.p):.6g}: it has no density")

    def _sample_solvable(self, size, rng):
        return np.full(size, self.p)

    def mp_laplace_transform(self, s, mp):
        return mp.exp(s * mp.log(mp.mpf(self.p)))
