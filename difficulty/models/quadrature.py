"""One quadrature for the counts likelihood of any density g of the success probability q.

    P_s(c | N) = integral C(N, c) q^c (1 - q)^(N - c) g(q) dq

Two tanh-sinh rules of the same integral, each exact in the limit:

* in the probability scale of q ~ Beta(c+1, N-c+1): P_s(c) = 1/(N+1) E[g(q)]. The nodes depend
  only on the data, so they are computed once per data set (betaincinv). Accurate while g is
  smooth across that Beta, the usual case.
* in the probability scale of g itself (its quantile function, where the model has one):
  P_s(c) = E_g[Binomial(c; N, q)]. Accurate where g is the narrower of the two (shapes far from
  1: g piled up at a point, or almost all its mass at q ~ 0), where the first rule can miss g's
  peak entirely.

Each sum is compared with the rule of twice the step (every other node); where the first rule's
difference exceeds ``NESTED_TOL``, the second is computed and the one with the smaller
difference is kept. The forecast kernel E[(1 - q)^K | c] uses the same construction on the
K-tilted posterior: q^c (1 - q)^(N - c + K) g(q) is a Beta(c + 1, N + K - c + 1) kernel times g,

    E[(1 - q)^K | c] = B(c + 1, N + K - c + 1) / B(c + 1, N - c + 1) * E_K[g] / E_0[g],

exact in its binomial part at any K (K >> N included).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.special import betainccinv, betaincinv, betaln

from ..special import log_binomial
from .base import logs

__all__ = ["QuadratureMarginal", "tanh_sinh", "beta_nodes"]

NESTED_TOL = 1e-9
QUAD_TOL = 1e-7  # relative error of the adaptive quadrature of <p^s> below which it is said nothing of
CHUNK = 1 << 16  # values per temporary: larger ones cost more in page faults than in arithmetic


def tanh_sinh(h=1 / 8, tmax=6.2):
    """Tanh-sinh nodes u, 1 - u and weights on (0, 1), reaching u ~ 1e-300 at both ends, so that
    endpoint singularities like u^-0.85 lose nothing; and which nodes form the rule of step 2h
    (every other one): the difference of the two sums estimates the error of the finer."""
    t = np.arange(-tmax, tmax + h / 2, h)
    s = 0.5 * math.pi * np.sinh(t)
    with np.errstate(over="ignore", under="ignore"):
        u = 1.0 / (1.0 + np.exp(-2 * s))
        one_minus = 1.0 / (1.0 + np.exp(2 * s))
        w = h * 0.5 * math.pi * np.cosh(t) * u * one_minus * 2  # du/dt = pi/2 cosh t * 2 u (1 - u)
    keep = (u > 1e-300) & (one_minus > 1e-300) & (w > 1e-300)
    even = (np.arange(t.size) % 2 == 0)[keep]
    return u[keep], one_minus[keep], w[keep], even


_COARSE = tanh_sinh()
_FINE = tanh_sinh(h=1 / 32)


def beta_nodes(a, b):
    """Tanh-sinh nodes in the probability scale of q ~ Beta(a, b), for arrays a, b of one shape S:
    q, 1 - q (each from its own tail, no cancellation) and log weights, shape S + (nodes,).
    Far-tail nodes where betaincinv underflows carry no mass: log weight -inf."""
    u, um, w, _ = _COARSE
    a = np.asarray(a, dtype=float)[..., None]
    b = np.asarray(b, dtype=float)[..., None]
    upper = u > 0.5  # nodes above the median: 1 - q from the other tail
    q_low = betaincinv(a, b, u[~upper])
    qc_up = betaincinv(b, a, um[upper])
    q = np.concatenate([q_low, _other_side(qc_up, betainccinv, a, b, um[upper])], axis=-1)
    qc = np.concatenate([_other_side(q_low, betainccinv, b, a, u[~upper]), qc_up], axis=-1)
    valid = np.isfinite(q) & np.isfinite(qc) & (q > 0) & (qc > 0)
    with np.errstate(divide="ignore"):
        logw = np.where(valid, np.log(w), -np.inf)
    return np.where(valid, q, 0.5), np.where(valid, qc, 0.5), logw


def _other_side(x, inverse, a, b, level):
    """1 - x, and where that would cancel (x > 1/2: the result is the small one) the inverse of
    the other tail at ``level`` itself, so that q and 1 - q both keep their relative digits."""
    out = 1.0 - x
    bad = x > 0.5
    if bad.any():
        a_, b_, lv = (np.broadcast_to(v, x.shape)[bad] for v in (a, b, level))
        out[bad] = inverse(a_, b_, lv)
    return out


def _halves(even):
    """(nodes, 2): weights 1 for the rule, 2 on every other node for the rule of twice the step."""
    return np.stack([np.ones(even.size), 2.0 * even], axis=1)


_HALVES = _halves(_COARSE[3])
_HALVES_FINE = _halves(_FINE[3])
_LOGW_FINE = np.log(_FINE[2])


def _nested(terms, halves):
    """log sum exp of quadrature terms over the last axis, and an error estimate: the difference
    from the rule of twice the step, or the share of the outermost nodes when that is larger
    (mass beyond them, which neither rule sees). One pass of exponentials serves all three."""
    m = np.max(terms, axis=-1, keepdims=True)
    m[~np.isfinite(m)] = 0.0
    e = np.exp(terms - m)
    sums = e @ halves
    edge = np.maximum(e[..., :3].max(axis=-1), e[..., -3:].max(axis=-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_full, log_half = np.log(sums[..., 0]), np.log(sums[..., 1])
        err = np.maximum(np.abs(log_full - log_half), edge / sums[..., 0])
    return log_full + m[..., 0], np.where(np.isnan(err), 0.0, err)  # both zero: an exact zero


def _flatten(model):
    """The model's parameter stack as a flat (T,) stack, and its shape."""
    shape = model.shape
    flat = {k: np.broadcast_to(v, shape).reshape(-1) for k, v in model._values.items()}
    return type(model)._unchecked(flat), shape


def _clean(x):
    return np.where(np.isnan(x), -np.inf, x)


class QuadratureMarginal:
    """log P_s(c | N), E_s[(1 - q)^K | c] and the posterior CDF of q for any model with a density
    of q (``_log_density_q``) and, optionally, a quantile function (``_log_quantile``)."""

    def __init__(self, n, c, w=None):
        self.n = np.asarray(n, dtype=float)
        self.c = np.asarray(c, dtype=float)
        self.f = self.n - self.c
        self.log_coef = log_binomial(self.n, self.c)
        self._q, self._p, self._logw = beta_nodes(self.c + 1, self.f + 1)
        self._log_p, self._log_q = logs(self._p, self._q)
        self._lead = -np.log(self.n + 1)
        self._tilted = {}

    # -- pieces
    def _data_rule(self, model, idx, log_q, log_p, logw):
        """log sum_j g(q_j) w_j per pair over the data-scale nodes, and its error (model (T,1,1))."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            lg = _clean(model._log_density_q(log_q, log_p))
        return _nested(lg + logw, _HALVES)

    def _quantile_terms(self, model, idx, extra=None):
        """log Binomial(c; N, q) [(1 - q)^K] w at g's own quantile nodes: (T, pairs[, K], nodes),
        or None where the model has no quantile function."""
        u, um = _FINE[0], _FINE[1]
        got = model._log_quantile(u, um)
        if got is None:
            return None
        lq, l1 = (np.asarray(x)[..., None, :] for x in got)  # (T, 1, nodes)
        c, f = self.c[idx][:, None], self.f[idx][:, None]
        bad = np.isnan(lq) | np.isnan(l1)  # a quantile the special function could not give carries no mass
        with np.errstate(invalid="ignore"):
            t = np.where(c == 0, 0.0, c * lq) + np.where(f == 0, 0.0, f * l1)  # 0 log 0 = 0
            t = np.where(bad, -np.inf, t + self.log_coef[idx][:, None] + _LOGW_FINE)
            if extra is None:
                return t
            return t[..., None, :] + np.where(extra[:, None] == 0, 0.0, extra[:, None] * l1[..., None, :])

    def _chunks(self, T, per):
        step = max(1, CHUNK // max(per, 1))
        return [slice(s, min(s + step, T)) for s in range(0, T, step)]

    # -- the evaluator's interface
    def log_solvable(self, model, idx=None):
        """log P_s(c | N) per pair (all, or those in ``idx``): shape model.shape + (pairs,)."""
        idx = np.arange(self.n.size) if idx is None else np.asarray(idx)
        flat, shape = _flatten(model)
        T = flat.shape[0]
        out = np.empty((T, idx.size))
        lq, lp, lw = self._log_q[idx], self._log_p[idx], self._logw[idx]
        for sl in self._chunks(T, lq.size):
            m = flat[sl].expand(2)
            value, err = self._data_rule(m, idx, lq, lp, lw)
            value += self._lead[idx]
            cols = np.flatnonzero((err > NESTED_TOL).any(axis=0))
            if cols.size:  # the quantile-scale rule, only for the pairs that need it
                tq = self._quantile_terms(flat[sl].expand(1), idx[cols])
                if tq is not None:
                    v2, e2 = _nested(tq, _HALVES_FINE)
                    sub_err = err[:, cols]
                    value[:, cols] = np.where((sub_err > NESTED_TOL) & (e2 < sub_err), v2, value[:, cols])
            out[sl] = value
        return out.reshape(shape + (idx.size,))

    def _tilted_nodes(self, kf):
        key = kf.tobytes()
        nodes = self._tilted.get(key)
        if nodes is None:
            c, f = self.c[:, None], self.f[:, None]
            q, p, logw = beta_nodes(c + 1, f + kf[None, :] + 1)  # (pairs, K, nodes)
            log_p, log_q = logs(p, q)
            nodes = (log_q, log_p, logw, betaln(c + 1, f + kf[None, :] + 1) - betaln(c + 1, f + 1))
            self._tilted = {key: nodes}  # forecasts ask for the same K once per draw
        return nodes

    def log_tilted(self, model, kf):
        """log E_s[(1 - q)^K | N, c]: shape model.shape + (pairs, K)."""
        return self.log_tilted_with_error(model, kf)[0]

    def log_tilted_with_error(self, model, kf):
        """log E_s[(1 - q)^K | N, c] and the estimate of its error (that of the rule kept), each of
        shape model.shape + (pairs, K)."""
        log_q, log_p, logw, lbeta = self._tilted_nodes(kf)
        flat, shape = _flatten(model)
        T = flat.shape[0]
        U, K = self.n.size, kf.size
        out = np.empty((T, U, K))
        out_err = np.empty((T, U, K))
        idx = np.arange(U)
        for sl in self._chunks(T, log_q.size):
            m2 = flat[sl].expand(2)
            e0, err0 = self._data_rule(m2, idx, self._log_q, self._log_p, self._logw)  # (t, U)
            m3 = flat[sl].expand(3)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                gk = _clean(m3._log_density_q(log_q, log_p))
            ek, errk = _nested(gk + logw, _HALVES)  # (t, U, K)
            value = lbeta + ek - e0[..., None]
            err = errk + err0[..., None]
            if np.any(err > NESTED_TOL):
                m1 = flat[sl].expand(1)
                t0 = self._quantile_terms(m1, idx)
                if t0 is not None:
                    p0, d0 = _nested(t0, _HALVES_FINE)
                    pk, dk = _nested(self._quantile_terms(m1, idx, extra=kf), _HALVES_FINE)
                    v2, e2 = pk - p0[..., None], dk + d0[..., None]
                    better = (err > NESTED_TOL) & (e2 < err)
                    value = np.where(better, v2, value)
                    err = np.where(better, e2, err)
            out[sl] = value
            out_err[sl] = err
        return out.reshape(shape + (U, K)), out_err.reshape(shape + (U, K))

    def posterior_cdf(self, model, x):
        """P_s(q <= x | N, c) per pair and x: shape model.shape + (pairs, X), for x of shape (X,)
        (the same points for every pair) or (pairs, X) (each pair its own). From the nodes of the
        data-scale rule (posterior weight of each node), or of g's quantile rule where that is the
        better one."""
        flat, shape = _flatten(model)
        T = flat.shape[0]
        U = self.n.size
        X = x.shape[-1]
        xx = x if x.ndim == 2 else x[None, :]  # (pairs or 1, X)
        out = np.empty((T, U, X))
        for sl in self._chunks(T, self._q.size * max(1, X // 8)):
            m2 = flat[sl].expand(2)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                lg = _clean(m2._log_density_q(self._log_q, self._log_p)) + self._logw
            value, err = _nested(lg, _HALVES)
            wts = np.exp(lg - value[..., None])
            cdf = np.einsum("tun,unx->tux", wts, (self._q[..., None] <= xx[:, None, :]).astype(float))
            if np.any(err > NESTED_TOL):
                tq = self._quantile_terms(flat[sl].expand(1), np.arange(U))
                if tq is not None:
                    v2, e2 = _nested(tq, _HALVES_FINE)
                    w2 = np.exp(tq - v2[..., None])  # (t, pairs, nodes)
                    lq = np.asarray(flat[sl].expand(1)._log_quantile(_FINE[0], _FINE[1])[0])
                    lq = np.broadcast_to(lq, (w2.shape[0], lq.shape[-1]))  # (t, nodes)
                    below = np.exp(lq)[:, None, :, None] <= xx[None, :, None, :]  # (t, pairs or 1, nodes, X)
                    cdf2 = np.einsum("tun,tunx->tux", w2, np.broadcast_to(below, w2.shape + (X,)).astype(float))
                    cdf = np.where(((err > NESTED_TOL) & (e2 < err))[..., None], cdf2, cdf)
            out[sl] = np.clip(cdf, 0.0, 1.0)
        return out.reshape(shape + (U, X))


def log_transform_by_rule(model, s):
    """log <p^s> = log integral_0^qmax (1 - q)^s g(q) dq for real s >= 0, vectorised: a tanh-sinh
    rule in x = q / qmax, in the probability scale of Beta(1, s qmax + 1), where (1 - q)^s lives at
    any s. With qmax = 1,

        <p^s> = E[g(q); q ~ Beta(1, s + 1)] / (s + 1);

    below 1 the integrand carries the smooth factor (1 - q)^s / (1 - x)^(s qmax) besides. Where
    g's own quantile scale gives the smaller error estimate, that rule is kept. Returns the values
    and their error estimates, each of shape model.shape + s.shape (the parameters and s broadcast
    elementwise)."""
    s = np.asarray(s, dtype=float)
    shape = np.broadcast_shapes(model.shape, s.shape)
    flat, _ = _flatten(model)
    T = flat.shape[0]
    if model.shape == ():  # one parameter set: every s in one pass
        uniq, inv = np.unique(s.ravel(), return_inverse=True)
    else:  # a stack of parameter sets: each distinct s once over the whole stack
        uniq, inv = np.unique(np.broadcast_to(s, shape).ravel(), return_inverse=True)
    qmax = np.broadcast_to(np.asarray(flat.q_max, dtype=float), (T,))
    full = bool(np.all(qmax == 1.0))
    b = (uniq + 1.0)[None, :] if full else qmax[:, None] * uniq[None, :] + 1.0  # (1 or T, S)
    x, xc, logw = beta_nodes(np.ones_like(b), b)  # (1 or T, S, nodes)
    log_xc, log_x = logs(xc, x)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if full:
            log_q, log_1mq, extra = log_x, log_xc, 0.0
        else:
            Q = qmax[:, None, None]
            log_q = np.log(Q) + log_x
            log_1mq = np.log((1.0 - Q) + Q * xc)  # no cancellation near x = 1
            extra = np.log(Q) + uniq[None, :, None] * (log_1mq - Q * log_xc)
        lg = _clean(flat.expand(2)._log_density_q(log_q, log_1mq) + extra)  # (T, S, nodes)
        value, err = _nested(lg + logw, _HALVES)
        value = value - np.log(b)  # log B(1, b) = -log b
        if np.any(err > NESTED_TOL):
            rule = QuadratureMarginal(np.zeros(1), np.zeros(1))
            tq = rule._quantile_terms(flat.expand(1), np.arange(1), extra=uniq)  # (T, 1, S, nodes)
            if tq is not None:
                v2, e2 = _nested(tq[:, 0], _HALVES_FINE)
                better = (err > NESTED_TOL) & (e2 < err)
                value, err = np.where(better, v2, value), np.where(better, e2, err)
    value, err = np.broadcast_to(value, (T, uniq.size)), np.broadcast_to(err, (T, uniq.size))
    if model.shape == ():
        v, e = value[0, inv].reshape(s.shape), err[0, inv].reshape(s.shape)
        v, e = np.broadcast_to(v, shape), np.broadcast_to(e, shape)
    else:
        rows = np.broadcast_to(np.arange(T).reshape(model.shape), shape).ravel()
        v, e = value[rows, inv].reshape(shape), err[rows, inv].reshape(shape)
    zero = np.broadcast_to(s == 0, shape)
    return np.where(zero, 0.0, v), np.where(zero, 0.0, e)


def log_transform_by_quad(model, s):
    """log <p^s> = log integral_0^qmax (1 - q)^s g(q) dq for one parameter set and one s (real, or
    complex where the integral converges), by adaptive quadrature in x = log q: the integrand for
    large s lives at q ~ 1/s, so the peak is located on a coarse grid and the integral scaled by
    it (nothing underflows), then split there."""
    from scipy import integrate

    if s == 0:
        return 0.0
    sr = s.real if isinstance(s, complex) else s
    xmax = math.log(model.q_max)

    def log_g(x):
        return float(model._log_density_q(np.float64(x), np.float64(math.log1p(-math.exp(x)))))

    xs = np.linspace(min(-math.log(max(sr, 1.0)) - 40.0, xmax - 60.0), xmax - 1e-12, 400)
    vals = np.array([sr * math.log1p(-math.exp(x)) + log_g(x) + x for x in xs])
    vals = np.where(np.isnan(vals), -np.inf, vals)
    i = int(np.argmax(vals))
    peak, x_peak = vals[i], xs[i]

    def f(x):
        lp = math.log1p(-math.exp(x))
        base = log_g(x) + x - peak
        if isinstance(s, complex):
            return complex(np.exp(s * lp + base))
        return math.exp(sr * lp + base)

    opts = dict(epsabs=0.0, epsrel=1e-12, limit=400)
    if isinstance(s, complex):
        opts["complex_func"] = True
    with warnings.catch_warnings():  # asked for 1e-12; what it reached is judged below, not by scipy's note
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        left, e_left = integrate.quad(f, -np.inf, x_peak, **opts)[:2]
        right, e_right = integrate.quad(f, x_peak, xmax, **opts)[:2]
    total = left + right
    if abs(e_left) + abs(e_right) > QUAD_TOL * abs(total):
        warnings.warn(f"<p^s> at s = {s:.6g} by adaptive quadrature: estimated relative error "
                      f"{(abs(e_left) + abs(e_right)) / abs(total):.1e}", RuntimeWarning, stacklevel=3)
    return np.log(total) + peak
