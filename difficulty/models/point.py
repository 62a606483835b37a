"""One failure probability p for every solvable problem (the single-p curves of Fig. 1).

    <p^k> = p^k,   pass@k = A (1 - p^k),   P_s(c | N) = Binomial(c; N, 1 - p)
The difficulty distribution is an atom at sigma = log(1/p): it has no density.
"""
from __future__ import annotations

import numpy as np

from ..errors import DifficultyError
from ..special import log_binomial
from .base import DifficultyModel, Param

__all__ = ["PointMassModel"]


class PointMassMarginal:
    """Binomial counts with one success probability 1 - p."""

    def __init__(self, n, c, w=None):
        self.n, self.c = np.asarray(n, dtype=float), np.asarray(c, dtype=float)
        self.f = self.n - self.c
        self.log_coef = log_binomial(self.n, self.c)

    def log_solvable(self, model, idx=None):
        idx = slice(None) if idx is None else idx
        p = model.p[..., None]
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.log_coef[idx] + np.nan_to_num(self.c[idx] * np.log1p(-p), nan=0.0) + self.f[idx] * np.log(p)

    def log_tilted(self, model, kf):
        return np.broadcast_to(kf * np.log(model.p)[..., None, None], model.shape + (self.n.size, kf.size)).copy()

    def posterior_cdf(self, model, x):
        q = (1.0 - model.p)[..., None, None]
        return np.broadcast_to((q <= x).astype(float), model.shape + (self.n.size, x.shape[-1])).copy()


class PointMassModel(DifficultyModel):
    """Every solvable problem fails with the same p: pass@k = A (1 - p^k)."""

    name = "point"
    params_spec = (
        Param("p", 0, 1, doc="failure probability of one attempt"),
        Param("A", 0, 1, default=1.0, doc="ceiling: fraction of problems ever solvable", closed_high=True),
    )
    variants = {"point": {"A": 1.0}, "zi-point": {}}
    analytic_transform = True

    def log_laplace_transform(self, s):
        return np.asarray(s) * np.log(self.p)

    def _log_density_q(self, log_q, log_1mq):
        raise DifficultyError(f"model 'point' is an atom at sigma = {float(-np.log(self.p)):.6g}: it has no density")

    def _sample_solvable(self, size, rng):
        return np.full(size, float(self.p))

    def mp_laplace_transform(self, s, mp):
        return mp.exp(s * mp.log(mp.mpf(float(self.p))))

    @classmethod
    def marginal_evaluator(cls, n, c, w=None):
        return PointMassMarginal(n, c, w)

    @classmethod
    def initial_guesses(cls, stats):
        return [dict(p=min(max(1 - stats.mean_q, 1e-6), 1 - 1e-6), A=stats.ceiling_guess), dict(p=0.5, A=0.9)]
