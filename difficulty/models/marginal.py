"""The counts likelihood of any difficulty model: c ~ Binomial(N, q), q from the model.

A model's class supplies the solvable part through ``marginal_evaluator(n, c, w)`` (a closed
form for the Beta family, :mod:`.quadrature` otherwise). The never-solvable atom (a fraction
1 - A with q = 0) is added here, once, for every model:

    P(c = 0) = 1 - A + A P_s(0),      P(c > 0) = A P_s(c)                         (zero inflation)
    P(never | c = 0) = (1 - A) / (1 - A + A P_s(0))
    E[(1 - q)^K | c] = P(never | c) + (1 - P(never | c)) E_s[(1 - q)^K | c]       (forecast kernel)

Everything depends on the data only through the distinct (N, c) pairs and their weights.
"""
from __future__ import annotations

import numpy as np

__all__ = ["CountMarginal"]


def _log_ceiling(model):
    """log A and log(1 - A) broadcast to the model's shape, or None when A = 1 everywhere."""
    A = model._values.get("A")
    if A is None or np.all(A == 1.0):
        return None
    A = np.broadcast_to(A, model.shape)
    with np.errstate(divide="ignore"):
        return np.log(A), np.log1p(-A)


class CountMarginal:
    """log P(c | N, model) and the per-problem posterior quantities at fixed (N, c) pairs, for
    any model of one class (parameters broadcast: a stack of S parameter sets gives S + (pairs,))."""

    def __init__(self, model_class, n, c, w=None):
        self.n = np.asarray(n, dtype=np.int64)
        self.c = np.asarray(c, dtype=np.int64)
        self.w = np.ones(self.n.size) if w is None else np.asarray(w, dtype=float)
        self.model_class = model_class
        self.core = model_class.marginal_evaluator(self.n, self.c, self.w)
        self.zero = np.flatnonzero(self.c == 0)
        self.n_pos = float(self.w[self.c > 0].sum())

    def pointwise(self, model):
        """log P(c_u | N_u) per pair: shape model.shape + (pairs,)."""
        ls = self.core.log_solvable(model)
        lA = _log_ceiling(model)
        if lA is None:
            return ls
        la, l1a = (x[..., None] for x in lA)
        out = la + ls
        out[..., self.zero] = np.logaddexp(l1a[..., 0, None], la[..., 0, None] + ls[..., self.zero])
        return out

    def total(self, model):
        """sum_u w_u log P(c_u | N_u): shape model.shape. Uses the evaluator's fast sum when it has
        one (its cost then does not grow with the number of pairs) and corrects the zero pairs."""
        fast = getattr(self.core, "total_solvable", None)
        if fast is None:
            return self.pointwise(model) @ self.w
        T = fast(model)
        lA = _log_ceiling(model)
        if lA is None:
            return T
        la, l1a = lA
        if self.zero.size:
            l0 = self.core.log_solvable(model, self.zero)
            mix = np.logaddexp(l1a[..., None], la[..., None] + l0) - l0
            T = T + mix @ self.w[self.zero]
        return T + self.n_pos * la

    def log_never(self, model):
        """log P(never solvable | N, c) per pair (-inf where c > 0 or A = 1)."""
        out = np.full(model.shape + (self.n.size,), -np.inf)
        lA = _log_ceiling(model)
        if lA is None or not self.zero.size:
            return out
        la, l1a = (x[..., None] for x in lA)
        l0 = self.core.log_solvable(model, self.zero)
        with np.errstate(invalid="ignore"):
            out[..., self.zero] = l1a - np.logaddexp(l1a, la + l0)
        return out

    def log_unsolved_after(self, model, K):
        """log E[(1 - q)^K | N, c] per pair and K: shape model.shape + (pairs,) + K.shape."""
        K = np.asarray(K, dtype=float)
        kf = np.atleast_1d(K).ravel()
        solvable = self.core.log_tilted(model, kf)  # shape + (pairs, K)
        never = self.log_never(model)[..., None]
        if np.all(never == -np.inf):
            out = solvable
        else:
            with np.errstate(divide="ignore"):
                out = np.logaddexp(never, np.log(-np.expm1(never)) + solvable)
        return out.reshape(out.shape[:-1] + K.shape)

    def posterior_cdf(self, model, x, paired: bool = False):
        """P(q <= x | N, c) per pair and x (the never-solvable atom q = 0 included): shape
        model.shape + (pairs,) + x.shape; with ``paired``, x is (pairs, X), each pair at its own
        points, and the shape model.shape + (pairs, X)."""
        x = np.asarray(x, dtype=float)
        if paired:
            if x.ndim != 2 or x.shape[0] != self.n.size:
                raise ValueError(f"paired points must have shape ({self.n.size}, X), got {x.shape}")
            xf = x
        else:
            xf = np.atleast_1d(x).ravel()
        solvable = self.core.posterior_cdf(model, xf)  # shape + (pairs, X)
        never = np.exp(self.log_never(model))[..., None]
        out = never + (1.0 - never) * solvable
        return out if paired else out.reshape(out.shape[:-1] + x.shape)
