"""Per-problem likelihoods of counts under a difficulty model (the hierarchical model).

c_i ~ Binomial(N_i, q_i), q_i = 1 - p_i, p_i drawn from the difficulty model (a fraction
1 - A never solvable). Every likelihood depends on the data only through the histogram of
(N_i, c_i): its cost grows with the number of distinct pairs, not of problems.

* beta-binomial: p ~ Beta(alpha, beta), so c ~ BetaBinomial(N; a = beta, b = alpha):
      log P(c) = log C(N, c) + log B(c + beta, N - c + alpha) - log B(beta, alpha)
  summed as  sum_i [lgamma(x + v_i) - lgamma(x)]  terms, each computed either densely as
  sum_j T[j] log(x + j) with T[j] = #{i : v_i > j} (cheap logs) or sparsely by lgamma over
  distinct values, split where the cost is least.
* zero-inflated beta-binomial: P(c = 0) = 1 - A + A BB(0), P(c > 0) = A BB(c).
* beta-mixture-binomial: a mixture of beta-binomials (log-sum-exp over components).
* Any density of q (Kumaraswamy, scaled Beta): P(c) = integral C(N,c) q^c (1-q)^(N-c) g(q) dq
  = 1/(N+1) E[g(q)], q ~ Beta(c+1, N-c+1), by tanh-sinh quadrature in the Beta(c+1, N-c+1)
  probability scale; the nodes depend only on (N, c), so they are computed once.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import betaincinv, betaln, gammaln, logsumexp

from ..counts import EvalCounts
from ..errors import DifficultyError
from ..special import log_beta_ratio
from ..models import (BetaMixtureModel, BetaModel, DifficultyModel, KumaraswamyModel, ScaledBetaModel)

__all__ = ["CountLikelihood", "LIKELIHOODS", "make_likelihood", "ShiftedLogGammaSum"]


class ShiftedLogGammaSum:
    """S(x) = sum_v w_v [lgamma(x + v) - lgamma(x) - lgamma(v)] for integers v >= 0 (lgamma(0) := 0),
    vectorised in x, at a cost independent of the number of problems and of max v.

    With T[j] = total weight of v > j,  S(x) = T[0] log x + sum_{j>=1} T[j] log1p(x/j).
    The terms j < J are summed directly; for j >= J >= 4 x, log1p(x/j) is expanded in powers
    of x/j <= 1/4 (28 terms: truncation < 1e-18), whose coefficients sum_{j>=J} T[j] j^-m are
    precomputed at J = 2^e. So an evaluation costs ~4 x logs plus a short polynomial, whatever
    N and the number of problems.
    The constant sum_v w_v lgamma(v) is kept apart (``constant``), computed once.
    """

    ORDER = 28  # (1/4)^28 / 28 < 1e-18
    RATIO = 4.0  # direct terms up to j = RATIO * x

    def __init__(self, values, weights):
        v = np.asarray(values, dtype=np.int64)
        w = np.asarray(weights, dtype=float)
        keep = v > 0
        v, w = v[keep], w[keep]
        self.constant = float(w @ gammaln(v.astype(float))) if v.size else 0.0
        # distinct values, for the direct lgamma form when x is so large that the dense sum is longer
        uv, inv = np.unique(v, return_inverse=True)
        self._v = uv.astype(float)
        self._w = np.bincount(inv.ravel(), weights=w, minlength=uv.size) if v.size else np.zeros(0)
        vmax = int(v.max()) if v.size else 0
        self.vmax = vmax
        if vmax == 0:
            self.T = np.zeros(1)
            self.cuts = np.array([1])
            self.moments = np.zeros((1, self.ORDER))
            return
        # T[j] = weight of v > j for j = 0 .. vmax - 1
        hist = np.bincount(v, weights=w, minlength=vmax + 1)
        self.T = (w.sum() - np.cumsum(hist))[:vmax]
        emax = max(int(math.ceil(math.log2(vmax))), 0) + 1
        self.cuts = 2 ** np.arange(emax + 1)
        j = np.arange(1, vmax, dtype=float)
        moments = np.zeros((self.cuts.size, self.ORDER))
        inv = 1.0 / j
        powr = np.ones_like(j)
        for m in range(self.ORDER):
            powr = powr * inv
            tail = np.concatenate([np.cumsum((self.T[1:] * powr)[::-1])[::-1], [0.0]])  # sum_{j' >= j}
            idx = np.minimum(self.cuts - 1, tail.size - 1)
            moments[:, m] = np.where(self.cuts < vmax, tail[idx], 0.0)
        self.moments = moments

    def __call__(self, x):
        x = np.asarray(x, dtype=float)
        if self.vmax == 0:
            return np.zeros(x.shape)
        xmax = float(np.max(x)) if x.size else 0.0
        if self.RATIO * xmax > 3.0 * self._v.size + 64:  # lgamma over the distinct values is cheaper
            xe = x[..., None]
            return (gammaln(xe + self._v) - gammaln(xe)) @ self._w - self.constant
        e = int(np.searchsorted(self.cuts, max(self.RATIO * xmax, 1.0)))
        e = min(e, self.cuts.size - 1)
        J = int(min(self.cuts[e], self.vmax))
        xe = x[..., None]
        out = self.T[0] * np.log(x)
        if J > 1:
            j = np.arange(1, J, dtype=float)
            out = out + np.log1p(xe / j) @ self.T[1:J]
        if J < self.vmax:
            # sum_{j>=J} T[j] log1p(x/j) = sum_m (-1)^(m+1) x^m / m * sum_{j>=J} T[j] j^-m
            powx = np.ones(x.shape)
            for m in range(1, self.ORDER + 1):
                powx = powx * x
                out = out + ((-1) ** (m + 1) / m) * powx * self.moments[e, m - 1]
        return out


def _log_binom_coef(n, c):
    return gammaln(n + 1.0) - gammaln(c + 1.0) - gammaln(n - c + 1.0)


class CountLikelihood:
    """Log-likelihood of counts under a parametric difficulty model.

    ``theta`` is an array (..., n_params) in the natural parameters, in ``param_names`` order.
    """

    name = ""
    model_name = ""
    param_names: tuple = ()
    # per parameter: (low, high); "log" parameters live on (0, inf), "unit" on (0, 1)
    kinds: tuple = ()

    def __init__(self, counts: EvalCounts):
        if not isinstance(counts, EvalCounts):
            raise DifficultyError("the likelihood needs EvalCounts")
        h = counts.histogram()
        self.counts = counts
        self.hist = h
        self.n = h.n.astype(float)
        self.c = h.c.astype(float)
        self.w = h.weight.astype(float)
        self.n_problems = h.n_problems
        self.log_coef = _log_binom_coef(self.n, self.c)
        self.const = float(self.w @ self.log_coef)
        if np.all(h.c == 0):
            raise DifficultyError("no problem was ever solved (all c = 0): the data say only that pass@k is small; "
                                  "a difficulty distribution cannot be fitted")
        if np.all(h.c == h.n):
            raise DifficultyError("every attempt succeeded (all c = N): a difficulty distribution cannot be fitted")

    # natural <-> unconstrained
    def to_unconstrained(self, theta):
        theta = np.asarray(theta, dtype=float)
        out = np.empty_like(theta)
        with np.errstate(divide="ignore"):
            for i, kind in enumerate(self.kinds):
                t = theta[..., i]
                out[..., i] = np.log(t) if kind == "log" else np.log(t) - np.log1p(-t)
        return out

    def from_unconstrained(self, z):
        z = np.asarray(z, dtype=float)
        out = np.empty_like(z)
        with np.errstate(over="ignore"):
            for i, kind in enumerate(self.kinds):
                out[..., i] = np.exp(z[..., i]) if kind == "log" else 1.0 / (1.0 + np.exp(-z[..., i]))
        return out

    def log_jacobian(self, z):
        """log |d theta / d z| of from_unconstrained."""
        z = np.asarray(z, dtype=float)
        out = np.zeros(z.shape[:-1])
        for i, kind in enumerate(self.kinds):
            zi = z[..., i]
            out = out + (zi if kind == "log" else -np.logaddexp(0, zi) - np.logaddexp(0, -zi))
        return out

    def loglike(self, theta):
        raise NotImplementedError

    def pointwise(self, theta):
        """log P(c | N, theta) per distinct (N, c) pair (multiply by ``self.w`` to sum)."""
        raise NotImplementedError

    def make_model(self, theta) -> DifficultyModel:
        raise NotImplementedError

    def start_points(self) -> list:
        raise NotImplementedError

    def log_unsolved_after(self, theta, K):
        """log E[p^K | N, c, theta] per distinct pair: the posterior probability that a problem
        with these counts fails K more attempts (MATH.md, empirical Bayes). K broadcasts as (..., 1)."""
        raise NotImplementedError

    def log_never_solvable(self, theta):
        """log P(problem is never solvable | N, c, theta) per distinct pair (-inf where A = 1)."""
        return np.full(self.n.shape, -np.inf)

    def _moment_beta(self):
        """Method-of-moments Beta(alpha, beta) for p from the per-problem rates (a start point)."""
        q = np.clip(self.c / self.n, 1e-4, 1 - 1e-4)
        m = float(self.w @ q / self.w.sum())
        v = float(self.w @ (q - m) ** 2 / self.w.sum())
        v = min(max(v, 1e-6), m * (1 - m) * 0.999)
        conc = m * (1 - m) / v - 1
        return max((1 - m) * conc, 0.05), max(m * conc, 0.05)


class BetaBinomialLikelihood(CountLikelihood):
    """c ~ BetaBinomial(N; beta, alpha): p ~ Beta(alpha, beta) (Eq. 7) under binomial sampling."""

    name = "beta-binomial"
    model_name = "beta"
    param_names = ("alpha", "beta")
    kinds = ("log", "log")

    def __init__(self, counts):
        super().__init__(counts)
        self._sc = ShiftedLogGammaSum(self.c, self.w)
        self._snc = ShiftedLogGammaSum(self.n - self.c, self.w)
        self._sn = ShiftedLogGammaSum(self.n, self.w)
        self._bb_const = self.const + self._sc.constant + self._snc.constant - self._sn.constant

    def _bb_sum(self, a, b):
        """sum_i w_i log BB(c_i; N_i, beta, alpha) through three shifted log-gamma sums."""
        return self._bb_const + self._sc(b) + self._snc(a) - self._sn(a + b)

    def loglike(self, theta):
        theta = np.asarray(theta, dtype=float)
        return self._bb_sum(theta[..., 0], theta[..., 1])

    def _bb_pointwise(self, a, b):
        return self.log_coef + betaln(self.c + b, self.n - self.c + a) - betaln(b, a)

    def pointwise(self, theta):
        return self._bb_pointwise(float(theta[0]), float(theta[1]))

    def make_model(self, theta):
        return BetaModel(alpha=float(theta[0]), beta=float(theta[1]))

    def log_unsolved_after(self, theta, K):
        a, b = float(theta[0]), float(theta[1])
        K = np.asarray(K, dtype=float)
        # q | c ~ Beta(beta + c, alpha + N - c):  E[p^K] = B(alpha + N - c + K, beta + c) / B(alpha + N - c, beta + c)
        return log_beta_ratio(a + (self.n - self.c)[:, None], b + self.c[:, None], K[None, ...].reshape(1, -1)).reshape(
            (self.n.size,) + K.shape)

    def start_points(self):
        a, b = self._moment_beta()
        return [np.array([a, b]), np.array([2.0, 0.5]), np.array([5.0, 0.3]), np.array([1.0, 1.0])]


class ZeroInflatedBetaBinomialLikelihood(BetaBinomialLikelihood):
    """A fraction 1 - A never solvable: P(0) = 1 - A + A BB(0), P(c > 0) = A BB(c)."""

    name = "zi-beta-binomial"
    model_name = "beta"
    param_names = ("alpha", "beta", "A")
    kinds = ("log", "log", "unit")

    def __init__(self, counts):
        super().__init__(counts)
        zero = self.c == 0
        self._zn, self._zw = self.n[zero], self.w[zero]
        self._n_pos = float(self.w[~zero].sum())
        self._zero_coef = self.log_coef[zero]  # = 0

    def _log_bb0(self, a, b):
        """log BB(0; N) = log B(beta, N + alpha) - log B(beta, alpha), per zero pair."""
        a = np.asarray(a)[..., None]
        b = np.asarray(b)[..., None]
        return betaln(b, self._zn + a) - betaln(b, a)

    def loglike(self, theta):
        theta = np.asarray(theta, dtype=float)
        a, b, A = theta[..., 0], theta[..., 1], theta[..., 2]
        total = self._bb_sum(a, b)
        l0 = self._log_bb0(a, b)
        mix = np.logaddexp(np.log1p(-A)[..., None], np.log(A)[..., None] + l0)
        return total - l0 @ self._zw + self._n_pos * np.log(A) + mix @ self._zw

    def pointwise(self, theta):
        a, b, A = (float(t) for t in theta)
        bb = self._bb_pointwise(a, b)
        with np.errstate(divide="ignore"):
            l1a, la = np.log1p(-A), np.log(A)
        return np.where(self.c == 0, np.logaddexp(l1a, la + bb), la + bb)

    def make_model(self, theta):
        return BetaModel(alpha=float(theta[0]), beta=float(theta[1]), A=float(theta[2]))

    def log_never_solvable(self, theta):
        a, b, A = (float(t) for t in theta)
        l0 = betaln(b, self.n + a) - betaln(b, a)  # log BB(0; N)
        with np.errstate(divide="ignore", invalid="ignore"):
            post = np.log1p(-A) - np.logaddexp(np.log1p(-A), np.log(A) + l0)
        return np.where(self.c == 0, post, -np.inf)

    def log_unsolved_after(self, theta, K):
        solvable = BetaBinomialLikelihood.log_unsolved_after(self, theta[:2], K)
        never = self.log_never_solvable(theta).reshape((-1,) + (1,) * (solvable.ndim - 1))
        with np.errstate(divide="ignore"):
            return np.logaddexp(never, np.log(-np.expm1(never)) + solvable)

    def start_points(self):
        a, b = self._moment_beta()
        frac0 = float(self.w[self.c == 0].sum() / self.w.sum())
        A0 = min(max(1 - 0.5 * frac0, 0.05), 0.99)
        return [np.array([a, b, A0]), np.array([2.0, 0.5, 0.9]), np.array([5.0, 0.3, 0.7]), np.array([1.0, 1.0, 0.5])]


class BetaMixtureBinomialLikelihood(CountLikelihood):
    """p ~ w Beta(alpha1, beta1) + (1 - w) Beta(alpha2, beta2): a mixture of beta-binomials."""

    name = "beta-mixture-binomial"
    model_name = "beta-mixture"
    param_names = ("w", "alpha1", "beta1", "alpha2", "beta2")
    kinds = ("unit", "log", "log", "log", "log")

    def _comp(self, a, b):
        a = np.asarray(a)[..., None]
        b = np.asarray(b)[..., None]
        return self.log_coef + betaln(self.c + b, self.n - self.c + a) - betaln(b, a)

    def _pointwise_many(self, theta):
        theta = np.asarray(theta, dtype=float)
        w = theta[..., 0][..., None]
        l1 = np.log(w) + self._comp(theta[..., 1], theta[..., 2])
        l2 = np.log1p(-w) + self._comp(theta[..., 3], theta[..., 4])
        return np.logaddexp(l1, l2)

    def loglike(self, theta):
        return self._pointwise_many(theta) @ self.w

    def pointwise(self, theta):
        return self._pointwise_many(np.asarray(theta, dtype=float))

    def make_model(self, theta):
        w, a1, b1, a2, b2 = (float(t) for t in theta)
        return BetaMixtureModel([w, 1 - w], [a1, a2], [b1, b2])

    def log_unsolved_after(self, theta, K):
        w, a1, b1, a2, b2 = (float(t) for t in theta)
        K = np.asarray(K, dtype=float).reshape(1, -1)
        with np.errstate(divide="ignore"):
            l1 = np.log(w) + self._comp(a1, b1)
            l2 = np.log1p(-w) + self._comp(a2, b2)
        r1 = l1 - np.logaddexp(l1, l2)  # posterior weight of component 1
        nc = (self.n - self.c)[:, None]
        e1 = log_beta_ratio(a1 + nc, b1 + self.c[:, None], K)
        e2 = log_beta_ratio(a2 + nc, b2 + self.c[:, None], K)
        return np.logaddexp(r1[:, None] + e1, np.log(-np.expm1(r1))[:, None] + e2)

    def start_points(self):
        a, b = self._moment_beta()
        return [np.array([0.5, a, b * 0.5, a * 2, b * 2]), np.array([0.3, 1.0, 0.2, 5.0, 2.0]),
                np.array([0.5, 3.0, 0.3, 1.0, 3.0])]


def _tanh_sinh(h=1 / 8, tmax=6.2):
    """Tanh-sinh nodes u, 1 - u and weights on (0, 1), reaching u ~ 1e-300 at both ends, so
    that endpoint singularities like u^-0.85 lose nothing."""
    t = np.arange(-tmax, tmax + h / 2, h)
    s = 0.5 * math.pi * np.sinh(t)
    with np.errstate(over="ignore", under="ignore"):
        u = 1.0 / (1.0 + np.exp(-2 * s))
        one_minus = 1.0 / (1.0 + np.exp(2 * s))
        w = h * 0.5 * math.pi * np.cosh(t) * u * one_minus * 2  # d u / d t = pi/2 cosh t * 2 u (1 - u)
    keep = (u > 1e-300) & (one_minus > 1e-300) & (w > 1e-300)
    return u[keep], one_minus[keep], w[keep]


class SuccessDensityBinomialLikelihood(CountLikelihood):
    """P(c) = 1/(N+1) E[g(q)] with q ~ Beta(c+1, N-c+1) for a density g of q (no closed form).

    The expectation is a tanh-sinh quadrature in u = I_q(c+1, N-c+1) (probability scale), so
    the nodes q(u) depend only on the data and are computed once (betaincinv).
    """

    model_class: type = KumaraswamyModel

    def __init__(self, counts):
        super().__init__(counts)
        u, um, w = _tanh_sinh()
        a = self.c[:, None] + 1
        b = self.n[:, None] - self.c[:, None] + 1
        use_upper = u > 0.5
        q = np.where(use_upper[None, :], 1 - betaincinv(b, a, um[None, :]), betaincinv(a, b, u[None, :]))
        qc = np.where(use_upper[None, :], betaincinv(b, a, um[None, :]), 1 - q)
        # far-tail nodes where betaincinv underflows carry no mass: drop them (weight 0)
        valid = np.isfinite(q) & np.isfinite(qc) & (q > 0) & (qc > 0)
        self._q = np.where(valid, q, 0.5)
        self._p = np.where(valid, qc, 0.5)
        with np.errstate(divide="ignore"):
            self._logw = np.where(valid, np.log(w)[None, :], -np.inf)
        self._lead = -np.log(self.n + 1)

    def _pointwise_theta(self, theta):
        try:
            model = self.make_model(theta)
        except DifficultyError:  # outside the model's parameter space
            return np.full(self.n.shape, -np.inf)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            lg = model._logpdf(self._p, self._q)
        lg = np.where(np.isfinite(lg), lg, -np.inf)
        return self._lead + logsumexp(lg + self._logw, axis=1)

    def pointwise(self, theta):
        return self._pointwise_theta(np.asarray(theta, dtype=float))

    def log_unsolved_after(self, theta, K):
        """log E[(1 - q)^K | c] with the posterior of q on the quadrature nodes."""
        model = self.make_model(np.asarray(theta, dtype=float))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            lg = model._logpdf(self._p, self._q)
        lg = np.where(np.isfinite(lg), lg, -np.inf) + self._logw
        lg = lg - logsumexp(lg, axis=1, keepdims=True)
        K = np.asarray(K, dtype=float).reshape(1, 1, -1)
        return logsumexp(lg[:, :, None] + K * np.log(self._p)[:, :, None], axis=1)

    def loglike(self, theta):
        theta = np.asarray(theta, dtype=float)
        if theta.ndim == 1:
            return float(self._pointwise_theta(theta) @ self.w)
        return np.array([self._pointwise_theta(t) @ self.w for t in theta.reshape(-1, theta.shape[-1])]).reshape(theta.shape[:-1])


class KumaraswamyBinomialLikelihood(SuccessDensityBinomialLikelihood):
    """q ~ Kumaraswamy(a, b) (Schaeffer et al. 2025), c ~ Binomial(N, q)."""

    name = "kumaraswamy-binomial"
    model_name = "kumaraswamy"
    param_names = ("a", "b")
    kinds = ("log", "log")

    def make_model(self, theta):
        return KumaraswamyModel(a=float(theta[0]), b=float(theta[1]))

    def start_points(self):
        a, b = self._moment_beta()
        return [np.array([b, a]), np.array([0.4, 3.0]), np.array([1.0, 1.0]), np.array([0.2, 10.0])]


class ScaledBetaBinomialLikelihood(SuccessDensityBinomialLikelihood):
    """q = scale X, X ~ Beta(alpha, beta) (Schaeffer et al. 2025), c ~ Binomial(N, q)."""

    name = "scaled-beta-binomial"
    model_name = "scaled-beta"
    param_names = ("alpha", "beta", "scale")
    kinds = ("log", "log", "unit")

    def make_model(self, theta):
        return ScaledBetaModel(alpha=float(theta[0]), beta=float(theta[1]), scale=float(theta[2]))

    def start_points(self):
        qmax = float(np.max(self.c / self.n))
        s0 = min(max(1.2 * qmax, 0.02), 0.999)
        return [np.array([0.4, 3.0, s0]), np.array([1.0, 1.0, s0]), np.array([0.2, 5.0, min(2 * s0, 0.999)])]


LIKELIHOODS = {cls.name: cls for cls in (BetaBinomialLikelihood, ZeroInflatedBetaBinomialLikelihood,
                                         BetaMixtureBinomialLikelihood, KumaraswamyBinomialLikelihood,
                                         ScaledBetaBinomialLikelihood)}
# model names accepted for the same likelihoods
ALIASES = {"beta": "beta-binomial", "zi-beta": "zi-beta-binomial", "beta-mixture": "beta-mixture-binomial",
           "kumaraswamy": "kumaraswamy-binomial", "scaled-beta": "scaled-beta-binomial"}


def make_likelihood(name: str, counts: EvalCounts) -> CountLikelihood:
    """The named likelihood of these counts, built once per counts object (its set-up, not its
    evaluation, is the costly part for N in the millions) and kept with them."""
    key = ALIASES.get(name, name)
    if key not in LIKELIHOODS:
        raise DifficultyError(f"unknown per-problem likelihood {name!r}; choose from {', '.join(LIKELIHOODS)}")
    cache = counts.__dict__.get("_likelihoods")
    if cache is None:
        cache = {}
        object.__setattr__(counts, "_likelihoods", cache)  # counts are frozen and read-only: safe to memoise
    if key not in cache:
        cache[key] = LIKELIHOODS[key](counts)
    return cache[key]
