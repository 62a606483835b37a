"""The logit-normal distribution of the success probability.

    logit q ~ Normal(loc, scale):   g(q) = phi((logit q - loc) / scale) / (scale q (1 - q)),
    G^-1(u) = expit(loc + scale Phi^-1(u)),   pass@k = A (1 - E[(1 - q)^k])

with a never-solvable fraction 1 - A. Real per-problem success rates often look like this: a
bell in logit q, with tails thinner than a Beta's power law near q = 0. E[(1 - q)^k] then falls
faster than any power of k once k passes exp(-loc + a few scale): there is no power-law tail.
The transform and the counts likelihood use the shared quadrature (:mod:`.quadrature`).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import expit, ndtri

from .base import INF, DifficultyModel, Param

__all__ = ["LogitNormalModel"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class LogitNormalModel(DifficultyModel):
    """logit q ~ Normal(loc, scale) on the solvable fraction A."""

    name = "logit-normal"
    params_spec = (
        Param("loc", -INF, INF, doc="mean of logit q", prior=(-30.0, 30.0)),
        Param("scale", 0, INF, doc="standard deviation of logit q", prior=(1e-2, 30.0)),
        Param("A", 0, 1, default=1.0, doc="ceiling: fraction of problems ever solvable", closed_high=True),
    )
    variants = {"logit-normal": {}}
    compare = ("logit-normal",)

    def _log_density_q(self, log_q, log_1mq):
        z = (log_q - log_1mq - self.loc) / self.scale
        return -0.5 * z * z - np.log(self.scale) - _HALF_LOG_2PI - log_q - log_1mq

    def _mp_log_density_q(self, log_q, log_1mq, mp):
        loc, scale = mp.mpf(float(self.loc)), mp.mpf(float(self.scale))
        z = (log_q - log_1mq - loc) / scale
        return -z * z / 2 - mp.log(scale) - mp.log(2 * mp.pi) / 2 - log_q - log_1mq

    def _log_quantile(self, u, um):
        """logit q = loc + scale Phi^-1(u), each tail from its own side."""
        with np.errstate(divide="ignore"):
            t = self.loc + self.scale * np.where(u < 0.5, ndtri(u), -ndtri(um))
        return -np.logaddexp(0.0, -t), -np.logaddexp(0.0, t)

    def _sample_solvable(self, size, rng):
        return expit(-(self.loc + self.scale * rng.standard_normal(size)))

    @classmethod
    def initial_guesses(cls, stats):
        m, s = stats.logit_moments()
        A = stats.ceiling_guess
        return [dict(loc=m, scale=s, A=A), dict(loc=m - 2.0, scale=2 * s + 0.5, A=0.9),
                dict(loc=-3.0, scale=2.0, A=0.9)]
