"""Distributions of the single-attempt *success* probability q = 1 - p, as used by Schaeffer
et al. (2025, "How Do Large Language Monkeys Get Their Power (Laws)?").

The transform <p^s> = integral_0^1 (1 - q)^s g(q) dq has no closed form here; it is
computed by adaptive quadrature in x = log q (the integrand for large s lives at q ~ 1/s),
scaled by its peak so that nothing underflows. Near q = 0 the density behaves as q^(a - 1),
which sets the power law of the inference loss: <p^k> ~ C Gamma(a) k^(-a).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import integrate
from scipy.special import betaincinv, betaln, gammaln

from .base import DifficultyModel, Param
from .beta import _logs


class SuccessDensityModel(DifficultyModel):
    """A model defined by the log density of q on (0, q_max); subclasses give ``_logpdf_q``."""

    q_max = 1.0

    def _logpdf_q(self, log_q, log_p):  # log density at q, given log q and log(1 - q)
        raise NotImplementedError

    def _logpdf(self, p, q):
        log_p, log_q = _logs(p, q)
        return self._logpdf_logs(q, log_p, log_q)

    def _log_quantile(self, u, um):
        """log q and log(1 - q) at the probability levels u (and um = 1 - u, given separately so
        that both tails keep their digits): the nodes of a quadrature in the scale of g itself."""
        raise NotImplementedError

    def _logpdf_logs(self, q, log_p, log_q):
        """The log density at q given log(1 - q) and log q already computed (quadrature nodes)."""
        with np.errstate(invalid="ignore"):
            out = self._logpdf_q(log_q, log_p)
        return np.where(q < self.q_max, out, -np.inf)

    def _log_transform_one(self, s):
        if s == 0:
            return 0.0
        sr = s.real if isinstance(s, complex) else s
        xmax = math.log(self.q_max)

        def log_integrand(x):  # log[(1 - q)^Re(s) g(q) q] at q = e^x
            q = math.exp(x)
            return sr * math.log1p(-q) + float(self._logpdf_q(np.float64(x), np.float64(math.log1p(-q)))) + x

        # locate the peak in x on a coarse grid, then scale by it
        xs = np.linspace(min(-math.log(max(sr, 1.0)) - 40.0, xmax - 60.0), xmax - 1e-12, 400)
        vals = np.array([log_integrand(x) for x in xs])
        i = int(np.argmax(vals))
        peak, x_peak = vals[i], xs[i]

        def f(x):
            q = math.exp(x)
            lp = math.log1p(-q)
            base = float(self._logpdf_q(np.float64(x), np.float64(lp))) + x - peak
            if isinstance(s, complex):
                return complex(np.exp(s * lp + base))
            return math.exp(sr * lp + base)

        opts = dict(epsabs=0.0, epsrel=1e-12, limit=400)
        if isinstance(s, complex):
            opts["complex_func"] = True
        left = integrate.quad(f, -np.inf, x_peak, **opts)[0]
        right = integrate.quad(f, x_peak, xmax, **opts)[0]
        return np.log(left + right) + peak

    def log_laplace_transform(self, s):
        s = np.asarray(s)
        flat = s.ravel()
        cplx = np.iscomplexobj(flat)
        out = np.array([self._log_transform_one(complex(v) if cplx else float(v)) for v in flat],
                       dtype=complex if cplx else float)
        return out.reshape(s.shape)


class KumaraswamyModel(SuccessDensityModel):
    """q ~ Kumaraswamy(a, b): g(q) = a b q^(a-1) (1 - q^a)^(b-1); pass@k = A (1 - E[(1-q)^k]).

    Large k: E[(1 - q)^k] ~ b Gamma(1 + a) k^(-a) (the exponent is a).
    """

    name = "kumaraswamy"
    params_spec = (
        Param("a", 0, 1e15, doc="Kumaraswamy shape at q = 0: the power-law exponent"),
        Param("b", 0, 1e15, doc="Kumaraswamy shape at q = 1"),
        Param("A", 0, 1, default=1.0, doc="ceiling", closed_high=True),
    )

    @staticmethod
    def log_density_q(a, b, log_q):
        """log g(q) = log(a b) + (a - 1) log q + (b - 1) log(1 - q^a), from log q; broadcasts over a, b."""
        return np.log(a * b) + (a - 1) * log_q + (b - 1) * np.log(-np.expm1(a * log_q))

    def _logpdf_q(self, log_q, log_p):
        return self.log_density_q(self.a, self.b, log_q)

    @staticmethod
    def log_quantile(a, b, u, um):
        """log q and log(1 - q) at CDF level u (um = 1 - u): q^a = 1 - (1 - u)^(1/b); broadcasts."""
        with np.errstate(divide="ignore"):
            y = np.where(u < 0.5, np.log1p(-u), np.log(um)) / b  # log (1 - u)^(1/b) <= 0
            log_x = np.where(y < -0.6931, np.log1p(-np.exp(y)), np.log(-np.expm1(y)))  # x = q^a
            log_q = log_x / a
            log_1mq = np.where(log_q < -0.6931, np.log1p(-np.exp(log_q)), np.log(-np.expm1(log_q)))
        return log_q, log_1mq

    def _log_quantile(self, u, um):
        return self.log_quantile(self.a, self.b, u, um)

    def _sample_solvable(self, size, rng):
        u = rng.random(size)
        q = (-np.expm1(np.log1p(-u) / self.b)) ** (1.0 / self.a)
        return 1.0 - q

    def inference_loss_asymptote(self, k):
        k = np.asarray(k, dtype=float)
        return self.ceiling * self.b * np.exp(gammaln(1 + self.a) - self.a * np.log(k))

    @property
    def tail_exponent(self):
        return self.a


class ScaledBetaModel(SuccessDensityModel):
    """q = scale * X, X ~ Beta(alpha, beta): success probability at most ``scale``.

    Large k: E[(1 - q)^k] ~ Gamma(alpha) / (scale^alpha B(alpha, beta)) k^(-alpha).
    """

    name = "scaled-beta"
    params_spec = (
        Param("alpha", 0, 1e15, doc="Beta shape of q at 0: the power-law exponent"),
        Param("beta", 0, 1e15, doc="Beta shape of q at scale"),
        Param("scale", 0, 1, doc="largest success probability", closed_high=True),
        Param("A", 0, 1, default=1.0, doc="ceiling", closed_high=True),
    )

    @property
    def q_max(self):
        return self.scale

    def _logpdf_q(self, log_q, log_p):
        log_x = log_q - math.log(self.scale)
        return ((self.alpha - 1) * log_x + (self.beta - 1) * np.log(-np.expm1(log_x))
                - betaln(self.alpha, self.beta) - math.log(self.scale))

    def _sample_solvable(self, size, rng):
        return 1.0 - self.scale * rng.beta(self.alpha, self.beta, size=size)

    def _log_quantile(self, u, um):
        lower = u <= 0.5  # X from its lower tail, 1 - X from the upper one
        x_low, xc_up = betaincinv(self.alpha, self.beta, u), betaincinv(self.beta, self.alpha, um)
        x = np.where(lower, x_low, 1 - xc_up)
        xc = np.where(lower, 1 - x_low, xc_up)
        with np.errstate(divide="ignore"):
            return math.log(self.scale) + np.log(x), np.log((1 - self.scale) + self.scale * xc)

    def inference_loss_asymptote(self, k):
        k = np.asarray(k, dtype=float)
        c = gammaln(self.alpha) - self.alpha * math.log(self.scale) - betaln(self.alpha, self.beta)
        return self.ceiling * np.exp(c - self.alpha * np.log(k))

    @property
    def tail_exponent(self):
        return self.alpha
