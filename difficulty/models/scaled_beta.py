"""A Beta distribution of the success probability scaled to (0, scale) (Schaeffer et al. 2025).

    q = scale X,  X ~ Beta(alpha, beta):   g(q) = (q/scale)^(alpha-1) (1 - q/scale)^(beta-1) / (scale B(alpha, beta))
    E[(1 - q)^k] ~ Gamma(alpha) / (scale^alpha B(alpha, beta)) k^(-alpha)   (k -> inf)

The transform and the counts likelihood use the shared quadrature (:mod:`.quadrature`).
"""
from __future__ import annotations

import numpy as np
from scipy.special import betaincinv, betaln, gammaln

from .base import INF, DifficultyModel, Param, log1mexp

__all__ = ["ScaledBetaModel"]


class ScaledBetaModel(DifficultyModel):
    """q = scale X, X ~ Beta(alpha, beta): success probability at most ``scale``."""

    name = "scaled-beta"
    params_spec = (
        Param("alpha", 0, INF, doc="Beta shape of q at 0: the power-law exponent", prior=(1e-3, 1e4)),
        Param("beta", 0, INF, doc="Beta shape of q at scale", prior=(1e-3, 1e4)),
        Param("scale", 0, 1, doc="largest success probability", closed_high=True),
        Param("A", 0, 1, default=1.0, doc="ceiling: fraction of problems ever solvable", closed_high=True),
    )
    variants = {"scaled-beta": {"A": 1.0}, "zi-scaled-beta": {}}
    compare = ("scaled-beta",)
    aliases = {"scaled-beta-binomial": "scaled-beta"}

    @property
    def q_max(self):
        return self.scale

    def _log_density_q(self, log_q, log_1mq):
        log_x = log_q - np.log(self.scale)
        with np.errstate(invalid="ignore"):
            out = ((self.alpha - 1) * log_x + (self.beta - 1) * log1mexp(np.minimum(log_x, 0.0))
                   - betaln(self.alpha, self.beta) - np.log(self.scale))
        return np.where(log_x < 0, out, -np.inf)

    def _mp_log_density_q(self, log_q, log_1mq, mp):
        a, b, s = (mp.mpf(float(v)) for v in (self.alpha, self.beta, self.scale))
        log_x = log_q - mp.log(s)
        return (a - 1) * log_x + (b - 1) * mp.log(-mp.expm1(log_x)) - mp.log(mp.beta(a, b)) - mp.log(s)

    def _sample_solvable(self, size, rng):
        return 1.0 - self.scale * rng.beta(self.alpha, self.beta, size=size)

    def _log_quantile(self, u, um):
        lower = u <= 0.5  # X from its lower tail, 1 - X from the upper one: each inverse only where it is used
        a, b = np.broadcast_arrays(self.alpha, self.beta)  # the caller gives them an axis for the nodes
        x_low, xc_up = _beta_inverses(a, b, u[lower], um[~lower])
        x = np.concatenate([x_low, 1 - xc_up], axis=-1)
        xc = np.concatenate([1 - x_low, xc_up], axis=-1)
        with np.errstate(divide="ignore"):
            return np.log(self.scale) + np.log(x), np.log((1 - self.scale) + self.scale * xc)

    def inference_loss_asymptote(self, k):
        k = np.asarray(k, dtype=float)
        c = gammaln(self.alpha) - self.alpha * np.log(self.scale) - betaln(self.alpha, self.beta)
        return self.ceiling * np.exp(c - self.alpha * np.log(k))

    @property
    def tail_exponent(self):
        return float(self.alpha) if self.alpha.ndim == 0 else self.alpha

    @classmethod
    def initial_guesses(cls, stats):
        s0 = min(max(1.2 * stats.q_max, 0.02), 0.999)
        s1 = min(max(1.1 * stats.rate_quantile(0.9), 0.02), 0.999)  # a cap below the few highest rates
        A = stats.ceiling_guess
        return [dict(alpha=0.4, beta=3.0, scale=s0, A=A), dict(alpha=1.0, beta=1.0, scale=s0, A=A),
                dict(alpha=0.2, beta=5.0, scale=min(2 * s0, 0.999), A=0.9), dict(alpha=0.4, beta=1.0, scale=s1, A=A),
                dict(alpha=0.3, beta=2.0, scale=min(0.5, s0), A=A)]


def _beta_inverses(a, b, u_low, um_up):
    """betaincinv(a, b, u_low) and betaincinv(b, a, um_up) for a stack of shapes (a, b of shape S + (1,)),
    each distinct (a, b) once: a likelihood's gradient by differences evaluates the model at 2P + 1
    points, of which those that move the scale or the ceiling share the centre's (a, b), and the inverse
    incomplete Beta function is most of the model's cost."""
    if a.ndim == 0 or a.shape[-1] != 1 or a.size < 2:
        return betaincinv(a, b, u_low), betaincinv(b, a, um_up)
    pairs = np.stack([a.reshape(-1), b.reshape(-1)], axis=1)
    uniq, inv = np.unique(pairs, axis=0, return_inverse=True)
    au, bu = uniq[:, :1], uniq[:, 1:]
    shape = a.shape[:-1]
    x_low = betaincinv(au, bu, u_low)[inv.reshape(-1)].reshape(shape + (u_low.size,))
    xc_up = betaincinv(bu, au, um_up)[inv.reshape(-1)].reshape(shape + (um_up.size,))
    return x_low, xc_up
