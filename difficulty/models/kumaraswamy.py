"""The Kumaraswamy distribution of the success probability (Schaeffer et al. 2025).

    g(q) = a b q^(a - 1) (1 - q^a)^(b - 1),     0 < q < 1,     G^-1(u) = (1 - (1 - u)^(1/b))^(1/a)
    pass@k = A (1 - E[(1 - q)^k]),   E[(1 - q)^k] ~ b Gamma(1 + a) k^(-a)   (k -> inf)

Its shape near q = 0 (q^(a - 1)) sets the power law of -log pass@k: the exponent is a. The
transform and the counts likelihood use the shared quadrature (:mod:`.quadrature`).
"""
from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from .base import INF, DifficultyModel, Param, log1mexp

__all__ = ["KumaraswamyModel"]


class KumaraswamyModel(DifficultyModel):
    """q ~ Kumaraswamy(a, b) on the solvable fraction A: pass@k = A (1 - E[(1 - q)^k])."""

    name = "kumaraswamy"
    params_spec = (
        Param("a", 0, INF, doc="Kumaraswamy shape at q = 0: the power-law exponent", prior=(1e-3, 1e4)),
        Param("b", 0, INF, doc="Kumaraswamy shape at q = 1", prior=(1e-3, 1e4)),
        Param("A", 0, 1, default=1.0, doc="ceiling: fraction of problems ever solvable", closed_high=True),
    )
    variants = {"kumaraswamy": {"A": 1.0}, "zi-kumaraswamy": {}}
    compare = ("kumaraswamy",)
    aliases = {"kumaraswamy-binomial": "kumaraswamy"}

    def _log_density_q(self, log_q, log_1mq):
        """log g(q) = log(a b) + (a - 1) log q + (b - 1) log(1 - q^a)."""
        a, b = self.a, self.b
        return np.log(a * b) + (a - 1) * log_q + (b - 1) * log1mexp(a * log_q)

    def _mp_log_density_q(self, log_q, log_1mq, mp):
        a, b = mp.mpf(float(self.a)), mp.mpf(float(self.b))
        return mp.log(a * b) + (a - 1) * log_q + (b - 1) * mp.log(-mp.expm1(a * log_q))

    def _log_quantile(self, u, um):
        """log q and log(1 - q) at level u: q^a = 1 - (1 - u)^(1/b)."""
        with np.errstate(divide="ignore"):
            y = np.where(u < 0.5, np.log1p(-u), np.log(um)) / self.b  # log (1 - u)^(1/b) <= 0
            log_q = log1mexp(y) / self.a
        return log_q, log1mexp(log_q)

    def _sample_solvable(self, size, rng):
        u = rng.random(size)
        q = (-np.expm1(np.log1p(-u) / self.b)) ** (1.0 / self.a)
        return 1.0 - q

    def inference_loss_asymptote(self, k):
        """A b Gamma(1 + a) k^(-a)."""
        k = np.asarray(k, dtype=float)
        return self.ceiling * self.b * np.exp(gammaln(1 + self.a) - self.a * np.log(k))

    @property
    def tail_exponent(self):
        return float(self.a) if self.a.ndim == 0 else self.a

    @classmethod
    def initial_guesses(cls, stats):
        a, b = stats.moment_beta()
        A = stats.ceiling_guess
        return [dict(a=b, b=a, A=A), dict(a=0.4, b=3.0, A=A), dict(a=1.0, b=1.0, A=0.9), dict(a=0.2, b=10.0, A=0.9)]
