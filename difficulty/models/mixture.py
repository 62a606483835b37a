"""A finite mixture of Beta distributions of p: the flexible parametric family.

    <p^k> = sum_j w_j B(alpha_j + k, beta_j) / B(alpha_j, beta_j),   pass@k = A (1 - <p^k>)
Large k: L(k) ~ A sum_j w_j Gamma(alpha_j + beta_j)/Gamma(alpha_j) k^(-beta_j), led by min beta_j.
"""
from __future__ import annotations

import numpy as np
from scipy.special import betaln, gammaln, logsumexp

from ..errors import DifficultyError
from ..special import log_beta_ratio
from .base import DifficultyModel, Param
from .beta import _logs


def _floats(name, values):
    if isinstance(values, str):
        values = [v for v in values.split(",") if v.strip()]
    try:
        arr = np.atleast_1d(np.asarray(values, dtype=float))
    except (TypeError, ValueError):
        raise DifficultyError(f"{name} must be a list of numbers, got {values!r}") from None
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise DifficultyError(f"{name} must be a non-empty list of finite numbers")
    return arr


class BetaMixtureModel(DifficultyModel):
    """p ~ sum_j w_j Beta(alpha_j, beta_j), ceiling A."""

    name = "beta-mixture"
    params_spec = (Param("A", 0, 1, default=1.0, doc="ceiling", closed_high=True),)

    def __init__(self, weights, alphas, betas, A=1.0):
        w, a, b = _floats("weights", weights), _floats("alphas", alphas), _floats("betas", betas)
        if not (w.size == a.size == b.size):
            raise DifficultyError(f"weights, alphas and betas differ in length ({w.size}, {a.size}, {b.size})")
        if np.any(w < 0) or w.sum() <= 0:
            raise DifficultyError("mixture weights must be >= 0 and not all 0")
        if np.any(a <= 0) or np.any(b <= 0):
            raise DifficultyError("mixture alphas and betas must be > 0")
        super().__init__(A=A)
        self.weights, self.alphas, self.betas = w / w.sum(), a, b
        for j in range(w.size):
            self.params[f"w{j + 1}"] = float(self.weights[j])
            self.params[f"alpha{j + 1}"] = float(a[j])
            self.params[f"beta{j + 1}"] = float(b[j])

    def log_laplace_transform(self, s):
        s = np.asarray(s)
        terms = [np.log(w) + log_beta_ratio(a, b, s) for w, a, b in zip(self.weights, self.alphas, self.betas) if w > 0]
        return logsumexp(np.stack(terms), axis=0)

    def _logpdf(self, p, q):
        log_p, log_q = _logs(p, q)
        terms = [np.log(w) + (a - 1) * log_p + (b - 1) * log_q - betaln(a, b)
                 for w, a, b in zip(self.weights, self.alphas, self.betas) if w > 0]
        return logsumexp(np.stack(terms), axis=0)

    def _sample_solvable(self, size, rng):
        comp = rng.choice(self.weights.size, size=size, p=self.weights)
        return rng.beta(self.alphas[comp], self.betas[comp])

    def inference_loss_asymptote(self, k):
        k = np.asarray(k, dtype=float)
        out = 0.0
        for w, a, b in zip(self.weights, self.alphas, self.betas):
            out = out + w * np.exp(gammaln(a + b) - gammaln(a) - b * np.log(k))
        return self.ceiling * out

    @property
    def tail_exponent(self):
        return float(self.betas[self.weights > 0].min())

    def mp_laplace_transform(self, s, mp):
        out = mp.mpf(0)
        for w, a, b in zip(self.weights, self.alphas, self.betas):
            a, b = mp.mpf(a), mp.mpf(b)
            out += mp.mpf(w) * mp.exp(mp.loggamma(a + s) - mp.loggamma(a + b + s) + mp.loggamma(a + b) - mp.loggamma(a))
        return out
