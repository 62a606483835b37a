"""The interface every model shares (as scipy.stats distributions share pdf/cdf/rvs).

Two levels:

* :class:`PassCurveModel`: a model of the aggregate curve only (pass@k, inference loss).
* :class:`DifficultyModel`: a distribution of per-problem failure probability p (a fraction
  ``1 - A`` of problems never solved, kept as an explicit atom at p = 1), from which the
  curve follows: pass@k = A (1 - <p^k>) (Eq. 8), L(k) = A <p^k> (Eq. 9), where
  <p^s> = integral exp(-sigma s) f(sigma) d sigma is the Laplace transform of the density of
  sigma = log(1/p) over the solvable problems (Eq. 10).

Every method broadcasts over its argument; parameters are validated once, at construction.
"""
from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from ..errors import DifficultyError

__all__ = ["PassCurveModel", "DifficultyModel", "Param"]


class Param:
    """A parameter: name, bounds (open or closed), default, and a one-line meaning."""

    def __init__(self, name, low, high, default=None, doc="", closed_low=False, closed_high=False):
        self.name, self.low, self.high, self.default, self.doc = name, low, high, default, doc
        self.closed_low, self.closed_high = closed_low, closed_high

    def check(self, value) -> float:
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise DifficultyError(f"parameter {self.name} must be a number, got {value!r}") from None
        if not math.isfinite(v):
            raise DifficultyError(f"parameter {self.name} must be finite, got {v}")
        lo_ok = v >= self.low if self.closed_low else v > self.low
        hi_ok = v <= self.high if self.closed_high else v < self.high
        if not (lo_ok and hi_ok):
            lb = "[" if self.closed_low else "("
            rb = "]" if self.closed_high else ")"
            raise DifficultyError(f"parameter {self.name}={v:g} is outside {lb}{self.low:g}, {self.high:g}{rb}")
        return v


def _as_k(k):
    arr = np.asarray(k)
    if np.iscomplexobj(arr):
        return arr
    arr = arr.astype(float)
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        raise DifficultyError("k must be finite and >= 0")
    return arr


class PassCurveModel:
    """A model of pass@k as a function of the number of attempts k."""

    name: ClassVar[str] = ""
    params_spec: ClassVar[tuple[Param, ...]] = ()

    def __init__(self, **params):
        known = {p.name for p in self.params_spec}
        unknown = set(params) - known
        if unknown:
            raise DifficultyError(f"model {self.name!r} has no parameter {sorted(unknown)[0]!r}; "
                                  f"its parameters are {', '.join(p.name for p in self.params_spec)}")
        values = {}
        for p in self.params_spec:
            if p.name in params:
                values[p.name] = p.check(params[p.name])
            elif p.default is not None:
                values[p.name] = p.default
            else:
                raise DifficultyError(f"model {self.name!r} needs parameter {p.name} ({p.doc})")
        self.params = values
        for key, v in values.items():
            setattr(self, key, v)

    @property
    def ceiling(self) -> float:
        """A: the limit of pass@k as k grows (1 - never-solved fraction)."""
        return float(self.params.get("A", 1.0))

    def pass_at_k(self, k):
        raise NotImplementedError

    def inference_loss(self, k):
        """L(k) = A - pass@k (Eq. 9): the part of the ceiling not yet reached."""
        return self.ceiling - self.pass_at_k(k)

    def inference_loss_asymptote(self, k):
        """Large-k power law of the inference loss, or an error when the model has none."""
        raise DifficultyError(f"model {self.name!r} has no power-law asymptote")

    @property
    def tail_exponent(self) -> float | None:
        """Exponent of the power-law decay of the inference loss (beta in the Beta model)."""
        return None

    def to_dict(self) -> dict:
        return {"model": self.name, "params": dict(self.params)}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v:.6g}" for k, v in self.params.items())
        return f"{type(self).__name__}({inner})"


class DifficultyModel(PassCurveModel):
    """A distribution of per-problem failure probability p, with never-solved mass 1 - A.

    Subclasses implement :meth:`log_laplace_transform` (log <p^s>, real s >= 0 and complex s
    where analytic), :meth:`_logpdf` (log density of p over the solvable problems, given p and
    q = 1 - p both computed accurately), :meth:`_sample_solvable`.
    """

    def log_laplace_transform(self, s):
        raise NotImplementedError

    def laplace_transform(self, s):
        """<p^s> = integral_0^inf exp(-sigma s) f(sigma) d sigma over solvable problems (Eq. 10)."""
        return np.exp(self.log_laplace_transform(_as_k(s)))

    def pass_at_k(self, k):
        """pass@k = A (1 - <p^k>) (Eq. 8)."""
        return self.ceiling * -np.expm1(self.log_laplace_transform(_as_k(k)))

    def inference_loss(self, k):
        """L(k) = A <p^k> (Eq. 9), accurate when it is 1e-300."""
        return self.ceiling * np.exp(self.log_laplace_transform(_as_k(k)))

    @property
    def never_solved(self) -> float:
        """Mass of the atom at p = 1 (sigma = 0): problems no number of attempts solves."""
        return 1.0 - self.ceiling

    def _logpdf(self, p, q):
        raise NotImplementedError

    def density_p(self, p):
        """Density of the failure probability p over (0, 1); integrates to A (the atom is separate)."""
        p = np.asarray(p, dtype=float)
        inside = (p > 0) & (p < 1)
        pc = np.where(inside, p, 0.5)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            out = self.ceiling * np.exp(self._logpdf(pc, 1.0 - pc))
        return np.where(inside, out, 0.0)

    def density_q(self, q):
        """Density of the success probability q = 1 - p; integrates to A."""
        q = np.asarray(q, dtype=float)
        inside = (q > 0) & (q < 1)
        qc = np.where(inside, q, 0.5)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            out = self.ceiling * np.exp(self._logpdf(1.0 - qc, qc))
        return np.where(inside, out, 0.0)

    def density_sigma(self, sigma):
        """Density f of sigma = log(1/p) (Eq. 10) times A: integrates to A over sigma > 0."""
        sigma = np.asarray(sigma, dtype=float)
        inside = sigma > 0
        s = np.where(inside, sigma, 1.0)
        p = np.exp(-s)
        q = -np.expm1(-s)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):
            out = self.ceiling * np.exp(self._logpdf(p, q) - s)
        return np.where(inside & np.isfinite(out), out, 0.0)

    def sample(self, size, rng=None):
        """Per-problem failure probabilities p_i; never-solved problems get p_i = 1 exactly."""
        rng = np.random.default_rng(rng)
        p = np.asarray(self._sample_solvable(int(size), rng), dtype=float)
        if self.ceiling < 1:
            p = np.where(rng.random(p.shape) < self.never_solved, 1.0, p)
        return p

    def _sample_solvable(self, size, rng):
        raise NotImplementedError

    def mean_failure(self) -> float:
        """<p> over all problems, the never-solved atom included: 1 - pass@1."""
        return 1.0 - float(self.pass_at_k(1.0))
