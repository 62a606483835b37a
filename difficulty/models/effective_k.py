"""Correlated trials: the effective-k model (Levi 2025, Eq. 11-12).

When attempts are correlated, k attempts are worth k_eff = H_k(kappa) independent ones:

    k_eff(k; kappa) = H_k(kappa) = sum_{i=1..k} i^(-kappa)                         (Eq. 11)
    pass@k          = A (1 - <p^(H_k(kappa))>)                                     (Eq. 12)

with one p for all problems (``point`` base: A (1 - p^H_k), as in Fig. 1) or per-problem p_i
from any difficulty model (``beta`` base: A (1 - B(alpha + H_k, beta)/B(alpha, beta))).
kappa = 0 is independent trials; kappa > 1 saturates at zeta(kappa): pass@k plateaus below A.
"""
from __future__ import annotations

from ..errors import DifficultyError
from ..special import generalized_harmonic
from .base import DifficultyModel, Param, as_k
from .beta import BetaModel
from .point import PointMassModel


def effective_k(k, kappa):
    """k_eff = H_k(kappa) = sum_{i=1..k} i^(-kappa) (Eq. 11), exact for any k >= 0, kappa >= 0."""
    return generalized_harmonic(k, kappa)


class CorrelatedTrialsModel(DifficultyModel):
    """A difficulty model whose attempts are correlated: k -> H_k(kappa) in pass@k (Eq. 12).

    The difficulty density (and its Laplace transform) is the base model's; only the map from
    attempts to effective attempts changes.
    """

    base_class: type[DifficultyModel] = PointMassModel
    _kappa = Param("kappa", 0, 50, doc="decay exponent of trial correlations", closed_low=True)
    analytic_transform = True

    def __init__(self, **params):
        kappa = params.pop("kappa", None)
        if kappa is None:
            raise DifficultyError(f"model {self.name!r} needs parameter kappa ({self._kappa.doc})")
        base = self.base_class(**params)
        self._set({**base._values, "kappa": self._kappa.check(kappa)})

    def _set(self, values):
        super()._set(values)
        self.base = self.base_class._unchecked({k: v for k, v in values.items() if k != "kappa"})

    @property
    def ceiling(self):
        return self.base.ceiling

    def effective_k(self, k):
        return generalized_harmonic(as_k(k), self.kappa)

    def log_laplace_transform(self, s):
        return self.base.log_laplace_transform(s)

    def pass_at_k(self, k):
        """A (1 - <p^(H_k(kappa))>) (Eq. 12)."""
        return self.base.pass_at_k(self.effective_k(k))

    def inference_loss(self, k):
        return self.base.inference_loss(self.effective_k(k))

    def inference_loss_asymptote(self, k):
        if self.kappa >= 1:
            raise DifficultyError("with kappa >= 1 the effective k grows at most like log k: no power law")
        return self.base.inference_loss_asymptote(self.effective_k(k))

    @property
    def tail_exponent(self):
        t = self.base.tail_exponent
        return None if t is None or self.kappa >= 1 else t * (1 - float(self.kappa))

    def plateau(self) -> float:
        """lim pass@k as k -> inf: A for kappa <= 1, below A for kappa > 1 (H saturates at zeta)."""
        if self.kappa <= 1:
            return self.ceiling
        from scipy.special import zeta

        return float(self.base.pass_at_k(zeta(float(self.kappa))))

    def _logpdf(self, p, q):
        return self.base._logpdf(p, q)

    def _log_density_q(self, log_q, log_1mq):
        return self.base._log_density_q(log_q, log_1mq)

    @classmethod
    def marginal_evaluator(cls, n, c, w=None):
        raise DifficultyError(f"model {cls.name!r} describes correlated attempts, whose counts are not binomial: "
                              "it has no per-problem likelihood (fit its curve instead)")

    def _sample_solvable(self, size, rng):
        return self.base._sample_solvable(size, rng)

    def sample(self, size, rng=None):
        return self.base.sample(size, rng)

    def mp_laplace_transform(self, s, mp):
        return self.base.mp_laplace_transform(s, mp)


class EffectiveKModel(CorrelatedTrialsModel):
    """One p for all problems, correlated trials: pass@k = A (1 - p^(H_k(kappa))) (Eq. 12)."""

    name = "effective-k"
    variants = {"effective-k": {}}
    base_class = PointMassModel
    params_spec = PointMassModel.params_spec + (CorrelatedTrialsModel._kappa,)


class EffectiveKBetaModel(CorrelatedTrialsModel):
    """p_i ~ Beta(alpha, beta), correlated trials: A (1 - B(alpha + H_k, beta)/B(alpha, beta)) (Eq. 12)."""

    name = "effective-k-beta"
    variants = {"effective-k-beta": {}}
    base_class = BetaModel
    params_spec = BetaModel.params_spec + (CorrelatedTrialsModel._kappa,)
