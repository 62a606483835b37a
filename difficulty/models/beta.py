"""The Beta model of Levi (2025), Eq. 7-9, and its beta-binomial likelihood.

Failure probability p ~ Beta(alpha, beta) on the solvable fraction A of problems:

    <p^k>   = B(alpha + k, beta) / B(alpha, beta)                                 (Eq. 7)
    pass@k  = A (1 - B(alpha + k, beta) / B(alpha, beta))                         (Eq. 8)
    L(k)    = A B(alpha + k, beta) / B(alpha, beta)
            ~ A Gamma(alpha + beta) / Gamma(alpha) k^(-beta)      (k -> inf)       (Eq. 9)
    f(sigma) = exp(-alpha sigma) (1 - exp(-sigma))^(beta - 1) / B(alpha, beta)     (Eq. 10)

Counts: c ~ BetaBinomial(N; beta, alpha) on the solvable problems (MATH.md),
    log P_s(c) = log C(N, c) + log B(c + beta, N - c + alpha) - log B(beta, alpha),
the posterior of a problem's success probability is q | c ~ Beta(beta + c, alpha + N - c), and
E[p^K | c] = B(alpha + N - c + K, beta + c) / B(alpha + N - c, beta + c).
"""
from __future__ import annotations

import numpy as np
from scipy.special import betainc, betaln, gammaln

from ..special import ShiftedLogGammaSum, log_beta_binomial, log_beta_ratio
from .base import INF, DifficultyModel, Param

__all__ = ["BetaModel", "BetaBinomialMarginal"]


class BetaBinomialMarginal:
    """The solvable part's counts likelihood under p ~ Beta(alpha, beta), in closed form.

    The sum over pairs, sum_u w_u log BB(c_u; N_u), is computed from three shifted log-gamma sums
    (:class:`difficulty.special.ShiftedLogGammaSum`) whose cost grows with neither the number of
    problems nor N."""

    def __init__(self, n, c, w=None):
        self.n = np.asarray(n, dtype=float)
        self.c = np.asarray(c, dtype=float)
        self.w = np.ones(self.n.size) if w is None else np.asarray(w, dtype=float)
        self.f = self.n - self.c
        self._sums = None

    def _shifted(self):
        if self._sums is None:  # built on first use: pointwise-only users never pay for it
            sc, snc, sn = (ShiftedLogGammaSum(v, self.w) for v in (self.c, self.f, self.n))
            # log C(N, c) + lgamma(c) + lgamma(N - c) - lgamma(N) = log N - log c - log(N - c) (0 when c
            # or N - c is 0): the sums' constants in closed form, with nothing of size N log N to cancel
            both = (self.c > 0) & (self.f > 0)
            with np.errstate(divide="ignore"):
                k = np.where(both, np.log(self.n) - np.log(self.c) - np.log(self.f), 0.0)
            self._sums = (sc, snc, sn, float(self.w @ k))
        return self._sums

    def log_solvable(self, model, idx=None):
        idx = slice(None) if idx is None else idx
        a, b = model.alpha[..., None], model.beta[..., None]
        return log_beta_binomial(self.n[idx], self.c[idx], b, a)  # q ~ Beta(beta, alpha)

    def total_solvable(self, model):
        sc, snc, sn, const = self._shifted()
        a, b = np.broadcast_arrays(model.alpha, model.beta)
        return const + sc(b) + snc(a) - sn(a + b)

    def log_tilted(self, model, kf):
        a, b = model.alpha[..., None, None], model.beta[..., None, None]
        return log_beta_ratio(a + self.f[:, None], b + self.c[:, None], kf)

    def posterior_cdf(self, model, x):
        a, b = model.alpha[..., None, None], model.beta[..., None, None]
        return betainc(b + self.c[:, None], a + self.f[:, None], x)


class BetaModel(DifficultyModel):
    """p ~ Beta(alpha, beta) with ceiling A: pass@k = A (1 - B(alpha + k, beta)/B(alpha, beta)) (Eq. 8)."""

    name = "beta"
    params_spec = (
        Param("alpha", 0, INF, doc="Beta shape on p (failure probability)", prior=(1e-3, 1e4)),
        Param("beta", 0, INF, doc="Beta shape on 1 - p; the power-law exponent of the inference loss",
              prior=(1e-3, 1e4)),
        Param("A", 0, 1, default=1.0, doc="ceiling: fraction of problems ever solvable", closed_high=True),
    )
    variants = {"beta": {"A": 1.0}, "zi-beta": {}}
    compare = ("zi-beta", "beta")
    aliases = {"beta-binomial": "beta", "zi-beta-binomial": "zi-beta"}
    analytic_transform = True

    def log_laplace_transform(self, s):
        return log_beta_ratio(self.alpha, self.beta, s)

    def _log_density_q(self, log_q, log_1mq):
        return (self.alpha - 1) * log_1mq + (self.beta - 1) * log_q - betaln(self.alpha, self.beta)

    def _sample_solvable(self, size, rng):
        return rng.beta(self.alpha, self.beta, size=size)

    def inference_loss_asymptote(self, k):
        """A Gamma(alpha + beta)/Gamma(alpha) k^(-beta) (Eq. 9)."""
        k = np.asarray(k, dtype=float)
        # log Gamma(a + b) - log Gamma(a) = log Gamma(b) - log B(a, b): no difference of two huge log-gammas
        # (alpha = 1e308 would give inf - inf); beyond double precision the result is inf or 0, silently
        with np.errstate(divide="ignore", over="ignore", under="ignore"):
            return self.ceiling * np.exp(gammaln(self.beta) - betaln(self.alpha, self.beta) - self.beta * np.log(k))

    @property
    def tail_exponent(self):
        return float(self.beta) if self.beta.ndim == 0 else self.beta

    def mp_laplace_transform(self, s, mp):
        """<p^s> = Gamma(a + s) Gamma(a + b) / (Gamma(a + b + s) Gamma(a)) in mpmath."""
        a, b = mp.mpf(float(self.alpha)), mp.mpf(float(self.beta))
        return mp.exp(mp.loggamma(a + s) - mp.loggamma(a + b + s) + mp.loggamma(a + b) - mp.loggamma(a))

    def mp_density_sigma(self, sigma, mp):
        a, b = mp.mpf(float(self.alpha)), mp.mpf(float(self.beta))
        return mp.exp(-a * sigma) * (-mp.expm1(-sigma)) ** (b - 1) / mp.beta(a, b)

    @classmethod
    def marginal_evaluator(cls, n, c, w=None):
        return BetaBinomialMarginal(n, c, w)

    @classmethod
    def initial_guesses(cls, stats):
        a, b = stats.moment_beta()
        return [dict(alpha=a, beta=b, A=stats.ceiling_guess), dict(alpha=2.0, beta=0.5, A=0.9),
                dict(alpha=5.0, beta=0.3, A=0.7), dict(alpha=1.0, beta=1.0, A=0.5)]
