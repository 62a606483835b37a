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
from scipy.special import betaincinv, betaln, gammaln

from ..counts import EvalCounts
from ..errors import DifficultyError
from ..special import log_beta_ratio
from ..models.beta import _logs
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


def _logsumexp_last(x):
    """log sum exp over the last axis, for finite or -inf entries (rows of -inf give -inf): what
    scipy.special.logsumexp(x, axis=-1) returns, without its per-call overhead (a third of the
    sampler's time on small arrays)."""
    m = np.max(x, axis=-1, keepdims=True)
    m[~np.isfinite(m)] = 0.0
    with np.errstate(divide="ignore"):
        return np.log(np.sum(np.exp(x - m), axis=-1)) + m[..., 0]


def _beta_nodes(a, b):
    """Tanh-sinh nodes in the probability scale of q ~ Beta(a, b), for arrays a, b of one shape S:
    q, 1 - q (each computed from its own side, no cancellation) and log weights, shape S + (nodes,).
    Far-tail nodes where betaincinv underflows carry no mass: weight 0 (log -inf)."""
    u, um, w, _ = _tanh_sinh()
    a = np.asarray(a, dtype=float)[..., None]
    b = np.asarray(b, dtype=float)[..., None]
    upper = u > 0.5  # nodes above the median: 1 - q from the other tail
    q_low = betaincinv(a, b, u[~upper])
    qc_up = betaincinv(b, a, um[upper])
    q = np.concatenate([q_low, 1 - qc_up], axis=-1)
    qc = np.concatenate([1 - q_low, qc_up], axis=-1)
    valid = np.isfinite(q) & np.isfinite(qc) & (q > 0) & (qc > 0)
    with np.errstate(divide="ignore"):
        logw = np.where(valid, np.log(w), -np.inf)
    return np.where(valid, q, 0.5), np.where(valid, qc, 0.5), logw


def _half_step_matrix(even):
    """(nodes, 2): weights 1 for the rule, 2 on every other node for the rule of twice the step."""
    return np.stack([np.ones(even.size), 2.0 * even], axis=1)


def _tanh_sinh(h=1 / 8, tmax=6.2):
    """Tanh-sinh nodes u, 1 - u and weights on (0, 1), reaching u ~ 1e-300 at both ends, so
    that endpoint singularities like u^-0.85 lose nothing; and which nodes form the rule of
    step 2h (every other one): the difference of the two sums estimates the error of the finer."""
    t = np.arange(-tmax, tmax + h / 2, h)
    s = 0.5 * math.pi * np.sinh(t)
    with np.errstate(over="ignore", under="ignore"):
        u = 1.0 / (1.0 + np.exp(-2 * s))
        one_minus = 1.0 / (1.0 + np.exp(2 * s))
        w = h * 0.5 * math.pi * np.cosh(t) * u * one_minus * 2  # d u / d t = pi/2 cosh t * 2 u (1 - u)
    keep = (u > 1e-300) & (one_minus > 1e-300) & (w > 1e-300)
    even = (np.arange(t.size) % 2 == 0)[keep]
    return u[keep], one_minus[keep], w[keep], even


class SuccessDensityBinomialLikelihood(CountLikelihood):
    """P(c) = integral C(N,c) q^c (1-q)^(N-c) g(q) dq for a density g of q (no closed form).

    Two tanh-sinh quadratures of the same integral, each exact in the limit:

    * in the probability scale of q ~ Beta(c+1, N-c+1), P(c) = 1/(N+1) E[g(q)]: the nodes
      depend only on the data, so they are computed once (betaincinv). Accurate while g is
      smooth across that Beta, the usual case.
    * in the probability scale of g itself (its quantile function), P(c) = E_g[Binomial(c; N, q)]:
      accurate when g is the narrower of the two (shapes far from 1: g piled up at a point, or
      almost all its mass at q ~ 0), where the first rule can miss g's peak entirely.

    Each sum is compared with the rule of twice the step (every other node); where the first
    rule's difference exceeds ``NESTED_TOL``, the second is computed and the one with the smaller
    difference is kept.
    """

    model_class: type = KumaraswamyModel
    NESTED_TOL = 1e-9

    def __init__(self, counts):
        super().__init__(counts)
        self._q, self._p, self._logw = _beta_nodes(self.c + 1, self.n - self.c + 1)
        self._lead = -np.log(self.n + 1)
        self._log_p, self._log_q = _logs(self._p, self._q)
        # the quantile-scale rule is used where g has features on two scales at once (a point mass
        # near 0 and the binomial's cut-off, say): a finer step, paid for only where it is needed
        self._u, self._um, w, even_u = _tanh_sinh(h=1 / 32)
        self._logw_u = np.log(w)
        # each rule's sum and its half-step sum, as one product: (nodes, 2) per rule, built once
        self._halves = _half_step_matrix(_tanh_sinh()[3])
        self._halves_u = _half_step_matrix(even_u)
        self._tilted = {}  # nodes for the K-tilted posteriors, by K (see log_unsolved_after)

    def _logpdf_batch(self, theta):
        """log g(q) at the nodes for a batch of parameter vectors (T, P) -> (T, pairs, nodes), where
        the model has a vectorised form (``_batched``); otherwise each theta is evaluated on its own."""
        raise NotImplementedError

    def _log_quantile_batch(self, theta):
        """log q, log(1 - q) at the quantile nodes of g for a batch (T, P) -> two (T, nodes)."""
        raise NotImplementedError

    _batched = False

    def _nested(self, terms, halves=None):
        """log sum exp of quadrature terms over the last axis, and an error estimate: its difference
        from the rule of twice the step (inf where only one of them vanishes), or the share of the
        outermost nodes when that is larger (mass beyond them, which the rules cannot see).
        One pass of exponentials serves all three."""
        m = np.max(terms, axis=-1, keepdims=True)
        m[~np.isfinite(m)] = 0.0
        e = np.exp(terms - m)
        sums = e @ (self._halves if halves is None else halves)  # (..., 2): the rule and its half
        edge = np.maximum(e[..., :3].max(axis=-1), e[..., -3:].max(axis=-1))
        with np.errstate(divide="ignore", invalid="ignore"):
            log_full, log_half = np.log(sums[..., 0]), np.log(sums[..., 1])
            err = np.maximum(np.abs(log_full - log_half), edge / sums[..., 0])
        return log_full + m[..., 0], np.where(np.isnan(err), 0.0, err)  # both zero: an exact zero

    def _binomial_terms(self, log_q, log_1mq, extra=None):
        """log Binomial(c; N, q) (1 - q)^extra at quantile nodes (..., nodes) -> (..., pairs, [K,] nodes)."""
        lq, l1 = log_q[..., None, :], log_1mq[..., None, :]
        c, f = self.c[:, None], (self.n - self.c)[:, None]
        with np.errstate(invalid="ignore"):
            t = np.nan_to_num(c * lq, nan=0.0, neginf=-np.inf) + np.nan_to_num(f * l1, nan=0.0, neginf=-np.inf)
            t = t + self.log_coef[:, None] + self._logw_u
            if extra is None:
                return t
            return t[..., None, :] + np.nan_to_num(extra[:, None] * l1[..., None, :], nan=0.0, neginf=-np.inf)

    def _pick(self, value, err, other):
        """Where the first rule's error is above tolerance, the second rule's value if it is better."""
        bad = err > self.NESTED_TOL
        if not bad.any():
            return value
        v2, e2 = other()
        return np.where(bad & (e2 < err), v2, value)

    def _pointwise_theta(self, theta):
        try:
            model = self.make_model(theta)
        except DifficultyError:  # outside the model's parameter space
            return np.full(self.n.shape, -np.inf)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            lg = model._logpdf_logs(self._q, self._log_p, self._log_q)
        lg = np.where(np.isfinite(lg), lg, -np.inf)
        value, err = self._nested(lg + self._logw)
        return self._pick(self._lead + value, err, lambda: self._nested(self._binomial_terms(
            *model._log_quantile(self._u, self._um)), self._halves_u))

    def pointwise(self, theta):
        return self._pointwise_theta(np.asarray(theta, dtype=float))

    def log_unsolved_after(self, theta, K):
        """log E[(1 - q)^K | N, c]. The K-weighted posterior q^c (1 - q)^(N - c + K) g(q) is a
        Beta(c + 1, N + K - c + 1) kernel times g, so

            E[(1 - q)^K | c] = B(c + 1, N + K - c + 1) / B(c + 1, N - c + 1) * E_K[g] / E_0[g],

        E_K the expectation under that Beta, each by tanh-sinh in its own probability scale: exact
        for the binomial part at any K (K >> N included). The nodes for each K depend only on the
        data and are kept for the next call (forecasts call once per draw). Where g is too narrow
        for those rules (class docstring), the ratio is taken in the quantile scale of g instead."""
        model = self.make_model(np.asarray(theta, dtype=float))
        K = np.asarray(K, dtype=float)
        kf = K.reshape(-1)
        key = kf.tobytes()
        nodes = self._tilted.get(key)
        if nodes is None:
            c, f = self.c[:, None], (self.n - self.c)[:, None]
            q, p, logw = _beta_nodes(c + 1, f + kf[None, :] + 1)  # (pairs, K, nodes)
            log_p, log_q = _logs(p, q)
            nodes = (q, log_p, log_q, logw, betaln(c + 1, f + kf[None, :] + 1) - betaln(c + 1, f + 1))
            if q.size <= 4_000_000:  # keep it unless it is large
                self._tilted = {key: nodes}
        q, log_p, log_q, logw, lbeta = nodes
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            g0 = model._logpdf_logs(self._q, self._log_p, self._log_q)
            gk = model._logpdf_logs(q, log_p, log_q)
        e0, err0 = self._nested(np.where(np.isfinite(g0), g0, -np.inf) + self._logw)  # (pairs,)
        ek, errk = self._nested(np.where(np.isfinite(gk), gk, -np.inf) + logw)  # (pairs, K)

        def quantile_scale():
            lq, l1 = model._log_quantile(self._u, self._um)
            p0, d0 = self._nested(self._binomial_terms(lq, l1), self._halves_u)
            pk, dk = self._nested(self._binomial_terms(lq, l1, extra=kf), self._halves_u)
            return pk - p0[:, None], dk + d0[:, None]

        out = self._pick(lbeta + ek - e0[:, None], errk + err0[:, None], quantile_scale)
        return out.reshape((self.n.size,) + K.shape)

    def loglike(self, theta):
        theta = np.asarray(theta, dtype=float)
        if theta.ndim == 1:
            return float(self._pointwise_theta(theta) @ self.w)
        flat = theta.reshape(-1, theta.shape[-1])
        if not self._batched:
            return np.array([self._pointwise_theta(t) @ self.w for t in flat]).reshape(theta.shape[:-1])
        out = np.empty(flat.shape[0])
        chunk = max(1, int(65536 // max(self._q.size, 1)))  # (chunk, pairs, nodes) near 64k values: larger
        # temporaries cost more to allocate (page faults) than to compute
        for s in range(0, flat.shape[0], chunk):
            th = flat[s:s + chunk]
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                lg = self._logpdf_batch(th)
                lg[np.isnan(lg)] = -np.inf
                lg += self._logw
                value, err = self._nested(lg)  # (T, pairs)
                value += self._lead
                rows = np.flatnonzero((err > self.NESTED_TOL).any(axis=1))
                if rows.size:
                    v2, e2 = self._nested(self._binomial_terms(*self._log_quantile_batch(th[rows])), self._halves_u)
                    value[rows] = np.where((err[rows] > self.NESTED_TOL) & (e2 < err[rows]), v2, value[rows])
            out[s:s + chunk] = value @ self.w
        return out.reshape(theta.shape[:-1])


class KumaraswamyBinomialLikelihood(SuccessDensityBinomialLikelihood):
    """q ~ Kumaraswamy(a, b) (Schaeffer et al. 2025), c ~ Binomial(N, q)."""

    name = "kumaraswamy-binomial"
    model_name = "kumaraswamy"
    param_names = ("a", "b")
    kinds = ("log", "log")

    def make_model(self, theta):
        return KumaraswamyModel(a=float(theta[0]), b=float(theta[1]))

    _batched = True

    def _logpdf_batch(self, theta):
        a, b = theta[:, 0, None, None], theta[:, 1, None, None]
        out = KumaraswamyModel.log_density_q(a, b, self._log_q)
        out[~((a > 0) & (b > 0) & np.isfinite(a) & np.isfinite(b))[:, 0, 0]] = -np.inf  # outside the parameter space
        return out

    def _log_quantile_batch(self, theta):
        return KumaraswamyModel.log_quantile(theta[:, 0, None], theta[:, 1, None], self._u, self._um)

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
