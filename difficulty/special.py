"""Special functions the models need at full precision, in log space.

* :func:`log_gamma_ratio` = log Gamma(x + h) - log Gamma(x), without the cancellation of
  two large log-gammas (it decides Beta-model accuracy at k = 1e12).
* :func:`generalized_harmonic` = H_k(kappa) = sum_{i<=k} i^-kappa for every kappa >= 0 and
  real k >= 0 (the effective number of trials of Eq. 11), exact for huge k.
* :class:`ShiftedLogGammaSum` = sum_v w_v [lgamma(x + v) - lgamma(x)] over many integers v at a
  cost that grows with neither their number nor their size (the beta-binomial likelihood).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import exprel, gammaln, loggamma

__all__ = ["log_gamma_ratio", "log_beta_ratio", "generalized_harmonic", "stirling_correction", "ShiftedLogGammaSum"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_X0 = 10.0  # Stirling's series is used for arguments >= _X0 (truncation error < 1e-16)
# Bernoulli numbers B_2j / (2j (2j - 1)): coefficients of Stirling's series for log Gamma
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156, -3617 / 122400)


def stirling_correction(x):
    """delta(x) = log Gamma(x) - [(x - 1/2) log x - x + log(2 pi)/2], for x >= 10."""
    x = np.asarray(x, dtype=float)
    inv = 1.0 / x
    inv2 = inv * inv
    acc = np.zeros_like(x)
    for coef in reversed(_STIRLING):
        acc = acc * inv2 + coef
    return acc * inv


def log_gamma_ratio(x, h):
    """log Gamma(x + h) - log Gamma(x) for x > 0, x + h > 0 (broadcast).

    Both arguments are first shifted above 10 by the recurrence Gamma(z + 1) = z Gamma(z);
    then Stirling's series gives
        h log x + (x + h - 1/2) log1p(h/x) - h + delta(x + h) - delta(x),
    whose terms are each of the size of the result: no large log-gammas cancel. Complex h
    is handled through scipy's complex ``loggamma``.
    """
    x = np.asarray(x, dtype=float)
    h = np.asarray(h)
    if np.iscomplexobj(h):
        return loggamma(x + h) - loggamma(x)
    h = h.astype(float)
    x, h = np.broadcast_arrays(x, h)
    x = x.copy()
    out = np.zeros(x.shape)
    # shift both x and x + h above _X0: log G(x+h) - log G(x) = R(x+n, h) - sum_j log1p(h/(x+j))
    lo = np.minimum(x, x + h)
    n_shift = np.where(lo < _X0, np.ceil(_X0 - lo), 0.0)
    for j in range(int(n_shift.max()) if n_shift.size else 0):
        m = n_shift > j
        out[m] -= np.log1p(h[m] / (x[m] + j))
    x = x + n_shift
    with np.errstate(divide="ignore", invalid="ignore"):
        core = h * np.log(x) + (x + h - 0.5) * np.log1p(h / x) - h
        core = core + stirling_correction(x + h) - stirling_correction(x)
    return np.where(h == 0, 0.0, out + core)


def log_beta_ratio(a, b, s):
    """log [B(a + s, b) / B(a, b)] = log <p^s> for p ~ Beta(a, b) (MATH.md, Eq. 8).

    Written as log_gamma_ratio(a, b) - log_gamma_ratio(a + s, b): the k-dependence enters
    through a ratio Gamma(a+s)/Gamma(a+b+s) of size ~ s^-b, never through log Gamma(a + s).
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    s = np.asarray(s)
    if np.iscomplexobj(s):
        return (loggamma(a + s) - loggamma(a + b + s)) + (loggamma(a + b) - loggamma(a))
    return log_gamma_ratio(a, b) - log_gamma_ratio(a + s, b)


# Bernoulli numbers B_2j / (2j)! for the Euler-Maclaurin tail of the Hurwitz zeta function
_B2J_FACT = (1 / 12, -1 / 720, 1 / 30240, -1 / 1209600, 1 / 47900160, -691 / 1307674368000,
             1 / 74724249600, -3617 / 10670622842880000)
_M = 20  # terms summed directly before the asymptotic tail


def _zeta_tail_correction(s, q):
    """zeta(s, q) - q^(1-s)/(s-1) for q >= 20 (Euler-Maclaurin; valid for every real s)."""
    out = 0.5 * q ** (-s)
    poch = s  # rising factorial s (s+1) ... (s + 2j - 2)
    qpow = q ** (-s - 1.0)
    for j, coef in enumerate(_B2J_FACT, start=1):
        out = out + coef * poch * qpow
        poch = poch * (s + 2 * j - 1) * (s + 2 * j)
        qpow = qpow / (q * q)
    return out


def generalized_harmonic(k, kappa):
    """H_k(kappa) = sum_{i=1..k} i^(-kappa) (Eq. 11), for real k >= 0 and kappa >= 0.

    Defined for real k as zeta(kappa) - zeta(kappa, k + 1). Computed as
        sum_{i<20} i^-kappa + [zeta(kappa, 20) - zeta(kappa, k + 1)],
    the bracket by Euler-Maclaurin, its leading part ((k+1)^(1-kappa) - 20^(1-kappa))/(1-kappa)
    written as 20^(1-kappa) L exprel((1-kappa) L), L = log((k+1)/20), which is exact at
    kappa = 1 (the harmonic number) and loses nothing near it. For k < 19 the sum is direct
    (integer k) or shifted by the recurrence zeta(s, q) = q^-s + zeta(s, q + 1). No sum over
    k terms: k = 1e12 costs the same as k = 20. kappa = 0 gives k; kappa > 1 saturates at zeta(kappa).
    """
    k, kappa = np.broadcast_arrays(np.asarray(k, dtype=float), np.asarray(kappa, dtype=float))
    if np.any(k < 0) or np.any(kappa < 0) or not (np.all(np.isfinite(k)) and np.all(np.isfinite(kappa))):
        raise ValueError("generalized_harmonic needs finite k >= 0 and kappa >= 0")
    head = np.zeros(k.shape)  # sum_{i <= min(k, 19)} i^-kappa
    full = np.zeros(k.shape)  # sum_{i < 20} i^-kappa
    for i in range(1, _M):
        term = float(i) ** (-kappa)
        head = head + term * (k >= i)
        full = full + term
    # zeta(kappa, k+1) for k+1 < 20 (non-integer k) is shifted up by whole steps
    q = k + 1.0
    shift = np.where(q < _M, np.ceil(_M - q), 0.0)
    small_int = (q < _M) & (k == np.round(k))
    extra = np.zeros(k.shape)  # = zeta(kappa, q) - zeta(kappa, q + shift)
    for j in range(int(shift.max()) if shift.size else 0):
        m = shift > j
        extra[m] += (q[m] + j) ** (-kappa[m])
    qs = q + shift
    L = np.log(qs / _M)
    lead = float(_M) ** (1.0 - kappa) * L * exprel((1.0 - kappa) * L)
    tail = _zeta_tail_correction(kappa, float(_M)) - _zeta_tail_correction(kappa, qs)
    general = full + lead + tail - extra
    # integer k < 19: head already is the exact sum (head counts only i <= k)
    out = np.where(small_int, head, general)
    return np.where(kappa == 0, k, out)


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
    DENSE_MAX = 1 << 16

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
        # the dense form's set-up costs O(max v): above DENSE_MAX (and well above the number of
        # distinct values) only the form over distinct values is used, so N = 1e9 costs what N = 100 does
        self.dense = vmax <= max(self.DENSE_MAX, 8 * uv.size)
        if vmax == 0 or not self.dense:
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
        if not self.dense or self.RATIO * xmax > 3.0 * self._v.size + 64:  # over the distinct values
            xe = x[..., None]
            # lgamma(v + x) - lgamma(v) without cancelling two log-gammas of size v log v
            return (log_gamma_ratio(self._v, xe) - gammaln(xe)) @ self._w
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


def log_binomial(n, c):
    """log C(n, c) for integers 0 <= c <= n (broadcast), without cancelling log-gammas of size
    n log n: log Gamma(n + 1) - log Gamma(n - m + 1) - log Gamma(m + 1), m = min(c, n - c), the
    first difference as a log-gamma ratio (exact to a few ulps at n = 1e9, where gammaln loses 1e-6)."""
    n = np.asarray(n, dtype=float)
    c = np.asarray(c, dtype=float)
    m = np.minimum(c, n - c)
    return log_gamma_ratio(n - m + 1.0, m) - gammaln(m + 1.0)


def log_beta_binomial(n, c, a, b):
    """log P(c) of BetaBinomial(n; a, b) = log C(n, c) + log B(c + a, n - c + b) - log B(a, b), written
    as three log-gamma ratios so that nothing of size n log n cancels (n up to 1e9 and beyond)."""
    n, c, a, b = (np.asarray(x, dtype=float) for x in (n, c, a, b))
    f = n - c
    return (log_gamma_ratio(c + 1.0, a - 1.0) + log_gamma_ratio(f + 1.0, b - 1.0)
            - log_gamma_ratio(n + 1.0, a + b - 1.0) - (gammaln(a) + gammaln(b) - gammaln(a + b)))
