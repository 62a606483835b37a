"""Models of the aggregate curve only (no per-problem distribution behind them).

* Brown et al. 2024 ("Large Language Monkeys"): log(coverage) = a k^b, a < 0, b < 0.
* Schaeffer et al. 2025: -log(pass@k) = a k^(-b), a power law in k with exponent b > 0,
  usually fitted by least squares on log(-log pass@k) against log k.

The two are one family in two parameterisations; they are kept apart because they are
fitted differently (on pass@k, or on log(-log pass@k)).
"""
from __future__ import annotations

import numpy as np

from .base import INF, Param, PassCurveModel, as_k


class ExpPowerLawModel(PassCurveModel):
    """pass@k = exp(a k^b) with a < 0, b < 0 (Brown et al. 2024)."""

    name = "exp-power-law"
    params_spec = (
        Param("a", -INF, 0, doc="log pass@1 (< 0)"),
        Param("b", -50, 0, doc="exponent (< 0)"),
    )
    variants = {"exp-power-law": {}}

    def _exponent_form(self):
        """(a, b) of log pass@k = a k^b."""
        return self.a, self.b

    def pass_at_k(self, k):
        a, b = self._exponent_form()
        with np.errstate(divide="ignore"):
            return np.exp(a * as_k(k) ** b)

    def inference_loss(self, k):
        """1 - pass@k = -expm1(a k^b): accurate when pass@k is within 1e-300 of 1."""
        a, b = self._exponent_form()
        with np.errstate(divide="ignore"):
            return -np.expm1(a * as_k(k) ** b)

    def inference_loss_asymptote(self, k):
        a, b = self._exponent_form()
        return -a * np.asarray(k, dtype=float) ** b

    @property
    def tail_exponent(self):
        b = -self._exponent_form()[1]
        return float(b) if np.ndim(b) == 0 else b


class NegLogPowerLawModel(ExpPowerLawModel):
    """-log pass@k = a k^(-b), a > 0, b > 0 (Schaeffer et al. 2025)."""

    name = "power-law"
    params_spec = (
        Param("a", 0, INF, doc="-log pass@1 (> 0)"),
        Param("b", 0, 50, doc="power-law exponent of -log pass@k (> 0)"),
    )
    variants = {"power-law": {}}
    aliases = {"loglog": "power-law"}

    def _exponent_form(self):
        return -self.a, -self.b
