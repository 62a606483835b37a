"""The Beta model of Levi (2025), Eq. 7-9.

Failure probability p ~ Beta(alpha, beta) on the solvable fraction A of problems:

    <p^k>   = B(alpha + k, beta) / B(alpha, beta)                                 (Eq. 7)
    pass@k  = A (1 - B(alpha + k, beta) / B(alpha, beta))                         (Eq. 8)
    L(k)    = A B(alpha + k, beta) / B(alpha, beta)
            ~ A Gamma(alpha + beta) / Gamma(alpha) k^(-beta)      (k -> inf)       (Eq. 9)
    f(sigma) = exp(-alpha sigma) (1 - exp(-sigma))^(beta - 1) / B(alpha, beta)     (Eq. 10)
"""
from __future__ import annotations

import numpy as np
from scipy.special import betaln, gammaln

from ..special import log_beta_ratio
from .base import DifficultyModel, Param


def _logs(p, q):
    """log p and log q, each from whichever of p, q = 1 - p is the small one (no cancellation)."""
    with np.errstate(divide="ignore"):
        log_p = np.where(p < 0.5, np.log(p), np.log1p(-q))
        log_q = np.where(q < 0.5, np.log(q), np.log1p(-p))
    return log_p, log_q


class BetaModel(DifficultyModel):
    """p ~ Beta(alpha, beta) with ceiling A: pass@k = A (1 - B(alpha + k, beta)/B(alpha, beta)) (Eq. 8)."""

    name = "beta"
    params_spec = (
        Param("alpha", 0, 1e15, doc="Beta shape on p (failure probability)"),
        Param("beta", 0, 1e15, doc="Beta shape on 1 - p; the power-law exponent of the inference loss"),
        Param("A", 0, 1, default=1.0, doc="ceiling: fraction of problems ever solvable", closed_high=True),
    )

    def log_laplace_transform(self, s):
        return log_beta_ratio(self.alpha, self.beta, s)

    def _logpdf(self, p, q):
        log_p, log_q = _logs(p, q)
        return (self.alpha - 1) * log_p + (self.beta - 1) * log_q - betaln(self.alpha, self.beta)

    def _sample_solvable(self, size, rng):
        return rng.beta(self.alpha, self.beta, size=size)

    def inference_loss_asymptote(self, k):
        """A Gamma(alpha + beta)/Gamma(alpha) k^(-beta) (Eq. 9)."""
        k = np.asarray(k, dtype=float)
        return self.ceiling * np.exp(gammaln(self.alpha + self.beta) - gammaln(self.alpha) - self.beta * np.log(k))

    @property
    def tail_exponent(self):
        return self.beta

    def mp_laplace_transform(self, s, mp):
        """<p^s> in mpmath arithmetic (for Talbot inversion at complex s)."""
        a, b = mp.mpf(self.alpha), mp.mpf(self.beta)
        return mp.exp(mp.loggamma(a + s) - mp.loggamma(a + b + s) + mp.loggamma(a + b) - mp.loggamma(a))

    def mp_density_sigma(self, sigma, mp):
        a, b = mp.mpf(self.alpha), mp.mpf(self.beta)
        return mp.exp(-a * sigma) * (-mp.expm1(-sigma)) ** (b - 1) / mp.beta(a, b)
