"""Models of the aggregate curve only (no per-problem distribution behind them).

* Brown et al. 2024 ("Large Language Monkeys"): log(coverage) = a k^b, a < 0, b < 0.
* Schaeffer et al. 2025: -log(pass@k) = a k^(-b), a power law in k with exponent b > 0,
  usually fitted by least squares on log(-log pass@k) against log k.

The two are one family in two parameterisations; they are kept apart because they are
fitted differently (on pass@k, or on log(-log pass@k)).
"""
from __future__ import annotations

import numpy as np

from .base import Param, PassCurveModel, _as_k


class ExpPowerLawModel(PassCurveModel):
    """pass@k = exp(a k^b) with a < 0, b < 0 (Brown et al. 2024)."""

    name = "exp-power-law"
    params_spec = (
        Param("a", -1e6, 0, doc="log pass@1 (< 0)"),
        Param("b", -50, 0, doc="exponent (< 0)"),
    )

    def pass_at_k(self, k):
        k = _as_k(k)
        with np.errstate(divide="ignore"):
            return np.exp(self.a * k ** self.b)

    def inference_loss(self, k):
        """1 - pass@k = -expm1(a k^b): accurate when pass@k is within 1e-300 of 1."""
        k = _as_k(k)
        with np.errstate(divide="ignore"):
            return -np.expm1(self.a * k ** self.b)

    def inference_loss_asymptote(self, k):
        return -self.a * np.asarray(k, dtype=float) ** self.b

    @property
    def tail_exponent(self):
        return -self.b


class NegLogPowerLawModel(ExpPowerLawModel):
    """-log pass@k = a k^(-b), a > 0, b > 0 (Schaeffer et al. 2025)."""

    name = "power-law"
    params_spec = (
        Param("a", 0, 1e6, doc="-log pass@1 (> 0)"),
        Param("b", 0, 50, doc="power-law exponent of -log pass@k (> 0)"),
    )

    def __init__(self, **params):
        PassCurveModel.__init__(self, **params)
        self._a_exp, self._b_exp = -self.params["a"], -self.params["b"]

    def pass_at_k(self, k):
        k = _as_k(k)
        with np.errstate(divide="ignore"):
            return np.exp(self._a_exp * k ** self._b_exp)

    def inference_loss(self, k):
        k = _as_k(k)
        with np.errstate(divide="ignore"):
            return -np.expm1(self._a_exp * k ** self._b_exp)

    def inference_loss_asymptote(self, k):
        return self.params["a"] * np.asarray(k, dtype=float) ** (-self.params["b"])

    @property
    def tail_exponent(self):
        return self.params["b"]
