"""One difficulty model for many groups (models, checkpoints) evaluated on the same problems.

Fitting each group alone makes every problem a group never solved look the same. Across groups
they differ: a problem a larger model solves is likelier to be solvable by a smaller one. The
joint model (an item-response model with residual heterogeneity and never-solvable problems):

    c_ij ~ Binomial(N_ij, q_ij),   logit q_ij = a_i theta_j - b_i + eps_ij,   eps_ij ~ N(0, s^2)

and with probability pi problem i is never solvable (q_ij = 0 for every group j). Per cell the
binomial marginal is a 1-D integral over eps, computed by adaptive Gauss-Hermite quadrature at
the mode of the (log-concave) integrand, vectorised over all cells. Priors (weak, for
identifiability): theta_j ~ N(0, 30^2) or, with covariates x_j per group (log-linear terms and an
indicator per shared value, :func:`covariate_matrix`), theta_j ~ N(x_j beta, tau^2) with
beta ~ N(0, 3^2) and tau estimated beforehand by REML with its prior log tau ~ N(0, 1), then held
(:func:`_reml_log_tau`; fitted jointly with the abilities its mode is at zero, the funnel of a
hierarchical prior); log a_i ~ N(0, 0.5^2); b_i ~ N(0, 3^2); log s ~ N(0, 1); logit pi ~ Logistic
(pi uniform). The location and scale of theta are fixed by the priors on b and
log a, so theta's own prior can be vague; at N(0, 3^2) it held groups that solved nothing (untrained
checkpoints) within reach of the problems, and their pass@10,000 was forecast near 0.24 where the
truth was 0 to 0.15 (Pythia GSM8K, 100 attempts per cell).

The fit is the posterior mode (analytic gradients, L-BFGS-B on all parameters at once) and the
Laplace approximation around it (analytic Hessian, checked against differences of the gradient),
except where the posterior is one-sided: the ability of a group that solved nothing (the prior cut
off where its attempts would have started to succeed) and the difficulty of a problem no group
solved (given that it is solvable) are drawn from their exact 1-D conditionals at the mode of the
other parameters, and the never-solvable share pi from its conditional with those difficulties
integrated out: the joint mode compares "never" and "solvable but hard" at one point of b_i and so
overstates pi (:func:`_one_sided_draws`). Consumers
take the frozen :class:`JointFit`: the forecast kernel E[(1 - q_ij)^K | data] per cell (the
cell's posterior over eps given its own counts and the structured mean, averaged over parameter
draws), pass@K per group with a band, P(solved within K) per (group, problem), the
posterior probability that a problem is never solvable, and the forecast for a group left out
of the fit from its covariates.

The band of a group's pass@K holds the parameters' uncertainty, not the model's misfit. So the fit
takes the test the default per-group forecaster takes (:mod:`difficulty.selfcheck`): every cell is
thinned to m = k0 / 10 attempts (k0 = the smallest N of any cell), the joint model is fitted to the
thinned table alone, and each group's pass@k0 (which the data know exactly) is forecast from it. The
root mean square error e_c over the groups, at the ratio r_c = k0 / m, bounds each forecast's band
from below by mid +- z e_c log(k / k0) / log r_c, the lower end not below the group's own pass@k0
(:func:`difficulty.selfcheck.widen_forecast`). On Pythia GSM8K and MATH (100 attempts per cell,
pass@10,000, three subsamples each) the unwidened 90% bands held 0.77 / 0.81 of the models; widened,
0.88 / 0.95, and 0.94 / 0.89 with the abilities regressed on size and training tokens
(``benchmarks/bench_joint.py``). A group's forecast from its covariates alone
(:meth:`JointFit.predict_group`) is not widened: the check says nothing about a group without data.
"""
from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit, gammaln

from .counts import EvalCounts
from .errors import DifficultyError

__all__ = ["JointFit", "fit_joint", "log_cell_integral", "cell_log_marginal", "parse_size", "covariate_matrix"]

_GH_T, _GH_W = np.polynomial.hermite.hermgauss(16)
_LOG_GH_W = np.log(_GH_W) + _GH_T**2
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
PRIOR_THETA = 30.0  # vague: a group that solved nothing sits as low as its data allow (see the module docstring)
PRIOR_LOG_A = 0.5
PRIOR_B = 3.0
PRIOR_LOG_S = 1.0
PRIOR_BETA = 3.0
PRIOR_LOG_TAU = 1.0
_ETA_GRID = np.linspace(-36.0, 36.0, 289)  # logit q, step 0.25: brackets for the quantiles of a cell's mixture


# ------------------------------------------------------------------ the cell integral
def _mode(c, n, mu, s2, x0=None):
    """The maximum of h(eta) = c eta - n log(1 + e^eta) - (eta - mu)^2 / (2 s^2) (strictly concave):
    Newton's method kept inside a bracket of the root of h' (bisection when a step leaves it)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        frac = np.where((c > 0) & (c < n), c / np.where(n > 0, n, 1), 0.5)
        ell = np.log(frac) - np.log1p(-frac)
        lo = np.where(c > 0, np.minimum(mu, ell), mu - s2 * n * expit(mu) - 1e-9)
        hi = np.where(c < n, np.maximum(mu, ell), mu + s2 * n * expit(-mu) + 1e-9)
        lo = np.where(n == 0, mu, lo)
        hi = np.where(n == 0, mu, hi)
        e0 = np.log((c + 0.5) / (n + 1.0)) - np.log1p(-(c + 0.5) / (n + 1.0))
        info = (n + 1.0) * expit(e0) * expit(-e0)
        x = np.clip((mu / s2 + info * e0) / (1 / s2 + info) if x0 is None else x0, lo, hi)
    for _ in range(200):
        sig = expit(x)
        g = c - n * sig - (x - mu) / s2
        hh = n * sig * (1 - sig) + 1 / s2
        lo = np.where(g > 0, x, lo)
        hi = np.where(g <= 0, x, hi)
        new = x + g / hh
        out = (new <= lo) | (new >= hi)
        new = np.where(out, 0.5 * (lo + hi), new)
        done = np.abs(new - x) < 1e-10 * (1 + np.abs(x))
        x = new
        if done.all():
            break
    sig = expit(x)
    return x, n * sig * (1 - sig) + 1 / s2


def _h(eta, c, n, mu, s2):
    softplus = np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta)))
    return c * eta - n * softplus - 0.5 * (eta - mu) ** 2 / s2


def log_cell_integral(c, n, mu, s, moments: bool = False, x0=None):
    """log of integral q^c (1 - q)^(n - c) N(logit q; mu, s^2) d logit q (no binomial coefficient), by
    adaptive Gauss-Hermite quadrature (16 nodes at the mode, scaled by the curvature there). With
    ``moments``: also the posterior nodes eta and their normalised weights (shape + (nodes,)) and the
    modes (a start for the next call, ``x0``)."""
    c, n, mu, s = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (c, n, mu, s)))
    s2 = s * s
    x, curv = _mode(c, n, mu, s2, x0)
    sd = 1 / np.sqrt(curv)
    eta = x[..., None] + math.sqrt(2) * sd[..., None] * _GH_T
    hx = _h(x, c, n, mu, s2)
    terms = _LOG_GH_W + _h(eta, c[..., None], n[..., None], mu[..., None], s2[..., None]) - hx[..., None]
    m = terms.max(axis=-1, keepdims=True)
    w = np.exp(terms - m)
    tot = w.sum(axis=-1)
    val = hx + np.log(tot) + m[..., 0] + np.log(math.sqrt(2) * sd) - np.log(s) - _LOG_SQRT_2PI
    if not moments:
        return val
    return val, eta, w / tot[..., None], x


def cell_log_marginal(n, c, mu, s):
    """log P(c | N) of one cell: C(N, c) times the logit-normal integral."""
    n = np.asarray(n, dtype=float)
    c = np.asarray(c, dtype=float)
    return gammaln(n + 1) - gammaln(c + 1) - gammaln(n - c + 1) + log_cell_integral(c, n, mu, s)


def _q_window(budget: float, band=None, q_band=None) -> tuple[float, float]:
    """[q_lo, q_hi]: ``q_band`` on q as given, or the window where P(solved within ``budget``) =
    1 - (1 - q)^budget lies in ``band`` (default (0.5, 0.99))."""
    if q_band is not None:
        q_lo, q_hi = (float(v) for v in q_band)
        if not 0 <= q_lo < q_hi <= 1:
            raise DifficultyError(f"q_band must satisfy 0 <= LO < HI <= 1, got {q_lo:g},{q_hi:g}")
        return q_lo, q_hi
    lo_b, hi_b = (float(v) for v in (band if band is not None else (0.5, 0.99)))
    if not 0 < lo_b < hi_b <= 1:
        raise DifficultyError(f"band must satisfy 0 < LO < HI <= 1, got {lo_b:g},{hi_b:g}")
    q_lo = -math.expm1(math.log1p(-lo_b) / budget)
    return q_lo, (-math.expm1(math.log1p(-hi_b) / budget) if hi_b < 1 else 1.0)


class _CellPosteriors:
    """Each cell's posterior of eta = logit q given its counts and the structured mean (per parameter
    draw), tabulated on a sinh-spaced grid around its mode (dense at the peak, reaching 12 prior or
    posterior sds into the tails): its CDF by the trapezoid rule in the grid's coordinate, read at any
    eta by linear interpolation (the grid's coordinate is an explicit function of eta)."""

    GRID = 401

    def __init__(self, c, n, mu, s):
        s_ = np.asarray(s, dtype=float)[:, None]
        x, curv = _mode(c, n, mu, s_**2)
        self.x, self.sd = x, 1 / np.sqrt(curv)
        self.umax = np.arcsinh(12 * np.maximum(s_, self.sd) / self.sd)
        u = np.linspace(-1, 1, self.GRID)
        self.eta = x[..., None] + self.sd[..., None] * np.sinh(u * self.umax[..., None])
        jac = self.sd[..., None] * np.cosh(u * self.umax[..., None]) * self.umax[..., None]
        lw = _h(self.eta, c[:, None], n[:, None], mu[..., None], (s_**2)[..., None]) + np.log(jac)
        g = np.exp(lw - lw.max(axis=-1, keepdims=True))
        cum = np.concatenate([np.zeros(g.shape[:-1] + (1,)), np.cumsum(0.5 * (g[..., 1:] + g[..., :-1]), axis=-1)],
                             axis=-1)
        self.total = cum[..., -1]
        self.cum = cum / self.total[..., None]
        self._g = g

    def cdf(self, e, draws=slice(None)):
        """P(eta <= e) per draw (those of ``draws``, a slice) and cell; ``e`` a number (+-inf allowed) or
        a 1-D array of points, a trailing axis of the result."""
        x, sd, umax, cum = self.x[draws], self.sd[draws], self.umax[draws], self.cum[draws]
        e = np.asarray(e, dtype=float)
        if e.ndim == 0:
            if np.isinf(e):
                return np.full(x.shape, 1.0 if e > 0 else 0.0)
            e = e[None]
            squeeze = True
        else:
            squeeze = False
        with np.errstate(over="ignore", invalid="ignore"):
            u = np.arcsinh((e - x[..., None]) / sd[..., None]) / umax[..., None]
        pos = (np.clip(np.nan_to_num(u, nan=0.0), -1, 1) + 1) * 0.5 * (self.GRID - 1)
        i = np.minimum(np.floor(pos).astype(np.int64), self.GRID - 2)
        f = pos - i
        out = np.take_along_axis(cum, i, -1) * (1 - f) + np.take_along_axis(cum, i + 1, -1) * f
        return out[..., 0] if squeeze else out

    def mean_q(self):
        """E[q] per draw and cell (trapezoid rule on the grid)."""
        v = expit(self.eta) * self._g
        return 0.5 * (v[..., 1:] + v[..., :-1]).sum(-1) / self.total

    def _mixture_cdf(self, r, e):
        """The mixture over draws of r delta_0 + (1 - r) posterior, its CDF at eta = ``e`` (cells, L)
        per cell (or at the shared points ``e`` (L,)): (cells, L)."""
        D, P = r.shape
        L = np.shape(e)[-1]
        M = np.zeros((P, L))
        step = max(1, 4_000_000 // max(1, P * L))
        for a in range(0, D, step):
            sl = slice(a, a + step)
            M += (r[sl, :, None] + (1 - r[sl, :, None]) * self.cdf(e, sl)).sum(axis=0)
        return np.clip(M / D, 0, 1)

    def mixture_quantiles(self, r, probs, steps: int = 8):
        """Quantiles of q per cell under the mixture over draws of r delta_0 + (1 - r) posterior: the
        mixture's CDF on a grid of eta (step 0.25) brackets each, regula falsi (Illinois) on the CDF
        itself refines it; the never-solvable atom when it holds the level."""
        grid = _ETA_GRID
        P = r.shape[1]
        M = np.maximum.accumulate(self._mixture_cdf(r, grid), axis=1)
        atom = r.mean(axis=0)
        rows = np.arange(P)
        out = []
        for p in probs:
            hit = M[:, -1] >= p
            i = np.where(hit, np.maximum(np.argmax(M >= p, axis=1), 1), grid.size - 1)
            a, b = grid[i - 1], grid[i]
            fa, fb = M[rows, i - 1] - p, M[rows, i] - p
            side = np.zeros(P)
            for _ in range(steps):
                t = np.where(fb > fa, -fa / np.where(fb > fa, fb - fa, 1.0), 0.5)
                m = a + np.clip(t, 0.0, 1.0) * (b - a)
                fm = self._mixture_cdf(r, m[:, None])[:, 0] - p
                left = fm < 0
                a, fa = np.where(left, m, a), np.where(left, fm, fa)
                b, fb = np.where(left, b, m), np.where(left, fb, fm)
                fb = np.where(left & (side == 1), fb / 2, fb)  # Illinois: an end kept twice counts half
                fa = np.where(~left & (side == -1), fa / 2, fa)
                side = np.where(left, 1, -1)
            t = np.where(fb > fa, -fa / np.where(fb > fa, fb - fa, 1.0), 0.5)
            e = a + np.clip(t, 0.0, 1.0) * (b - a)
            q = np.where(hit, expit(e), 1.0)
            out.append(np.where(atom >= p, 0.0, q))
        return out


# ------------------------------------------------------------------ covariates
_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}


def parse_size(v) -> float:
    """A size such as 1.4B, 512M, 2e9 or 300 as a number (K, M, B/G, T suffixes)."""
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    m = re.fullmatch(r"\s*([0-9.eE+-]+)\s*([kKmMbBgGtT]?)\s*", str(v))
    if not m:
        raise DifficultyError(f"covariate value {v!r} is not a number (like 1.4B, 512M or 2e9)")
    try:
        return float(m.group(1)) * _SUFFIX[m.group(2).lower()]
    except ValueError:
        raise DifficultyError(f"covariate value {v!r} is not a number (like 1.4B, 512M or 2e9)") from None


def _log_covariate(v, group, column) -> float:
    """log of a covariate value, which must be a positive finite number (its log enters the design)."""
    x = parse_size(v)
    if not (math.isfinite(x) and x > 0):
        raise DifficultyError(f"covariate {column!r} of group {group!r} is {v!r}: it must be a positive finite "
                              f"number, its log enters the regression")
    return math.log(x)


def covariate_matrix(cov: dict, names, center=None):
    """Design rows per group: log of each covariate (standardised), their pairwise product, an
    intercept, and an indicator for each value a covariate takes in two or more of the fitted groups
    (the rungs of a ladder: a model size seen at several checkpoints, a checkpoint seen for several
    sizes). The indicators' coefficients, under the same N(0, 3^2) prior as the others, let each rung
    sit off the log-linear surface, so that a group left out whose size and checkpoint were both seen
    is placed by what those rungs did (an additive two-way layout) rather than by the surface's slope
    alone; a value seen in no more than one group adds nothing. ``cov``: {group: {column: value}}.
    Returns (X, center): center = (columns, mean, sd, rungs) for reuse on new groups."""
    if center is None:
        cols = sorted({k for v in cov.values() for k in v})
    else:
        cols = center[0]
    missing = [(g, k) for g in names for k in cols if k not in cov[g]]
    if missing:
        raise DifficultyError(f"group {missing[0][0]!r} has no covariate {missing[0][1]!r}")
    raw = np.array([[_log_covariate(cov[g][k], g, k) for k in cols] for g in names])
    if center is None:
        mean, sd = raw.mean(axis=0), raw.std(axis=0)
        sd = np.where(sd > 0, sd, 1.0)
        rungs = []
        for j in range(len(cols)):
            values, counts = np.unique(raw[:, j], return_counts=True)
            rungs.append(values[counts >= 2])
        center = (cols, mean, sd, rungs)
    cols, mean, sd, rungs = center
    z = (raw - mean) / sd
    parts = [np.ones((len(names), 1)), z]
    if z.shape[1] == 2:
        parts.append((z[:, 0] * z[:, 1])[:, None])
    for j, values in enumerate(rungs):
        if values.size:
            parts.append((raw[:, [j]] == values[None, :]).astype(float))
    return np.hstack(parts), center


# ------------------------------------------------------------------ the posterior
class _Posterior:
    """Log posterior and its gradient over the unconstrained vector
    [theta (J), log a (NI), b (NI), log s, logit pi, beta (P), log tau (if P)]."""

    def __init__(self, gi, gj, n, c, NI, J, X=None, log_tau=None):
        self.gi, self.gj, self.n, self.c, self.NI, self.J = gi, gj, n.astype(float), c.astype(float), NI, J
        self.X = X
        self.P = 0 if X is None else X.shape[1]
        self.log_tau = log_tau  # held fixed (estimated beforehand, see _reml_log_tau) when given
        self.size = J + 2 * NI + 2 + (self.P + 1 if self.P else 0)
        self.log_coef = gammaln(self.n + 1) - gammaln(self.c + 1) - gammaln(self.n - self.c + 1)
        solved = np.bincount(gi, weights=self.c, minlength=NI)
        self.never = solved == 0  # problems no group solved: the never-solvable branch is possible
        self._x = None  # the cells' modes at the last call: the start of the next (the optimiser moves little)

    def unpack(self, z):
        J, NI = self.J, self.NI
        th, la, b = z[:J], z[J:J + NI], z[J + NI:J + 2 * NI]
        ls, lp = z[J + 2 * NI], z[J + 2 * NI + 1]
        beta = z[J + 2 * NI + 2:J + 2 * NI + 2 + self.P]
        lt = z[-1] if self.P else None
        return th, la, b, ls, lp, beta, lt

    def __call__(self, z, grad=True):
        th, la, b, ls, lp, beta, lt = self.unpack(z)
        a, s = np.exp(la), math.exp(ls)
        gi, gj = self.gi, self.gj
        mu = a[gi] * th[gj] - b[gi]
        val, eta, w, self._x = log_cell_integral(self.c, self.n, mu, s, moments=True, x0=self._x)
        S = np.bincount(gi, weights=val + self.log_coef, minlength=self.NI)
        log_pi, log_1mpi = -np.logaddexp(0, -lp), -np.logaddexp(0, lp)
        with np.errstate(divide="ignore"):
            alt = np.where(self.never, log_pi, -np.inf)
        L = np.logaddexp(log_1mpi + S, alt)
        rho = np.exp(log_1mpi + S - L)  # P(solvable | data)
        lp_val = L.sum() + log_pi + log_1mpi  # logistic prior on logit pi
        lp_val += -0.5 * np.sum(la**2) / PRIOR_LOG_A**2 - 0.5 * np.sum(b**2) / PRIOR_B**2
        lp_val += -0.5 * ls**2 / PRIOR_LOG_S**2
        if self.P:
            tau = math.exp(lt)
            r = th - self.X @ beta
            lp_val += -0.5 * np.sum(r**2) / tau**2 - self.J * lt - 0.5 * np.sum(beta**2) / PRIOR_BETA**2
            lp_val += -0.5 * lt**2 / PRIOR_LOG_TAU**2
        else:
            lp_val += -0.5 * np.sum(th**2) / PRIOR_THETA**2
        if not grad:
            return lp_val
        d = eta - mu[:, None]
        dmu = (w * d).sum(-1) / s**2
        dls = (w * d * d).sum(-1) / s**2 - 1.0  # d/d log s
        g_mu = rho[gi] * dmu
        gth = np.bincount(gj, weights=g_mu * a[gi], minlength=self.J)
        gla = a * np.bincount(gi, weights=g_mu * th[gj], minlength=self.NI) - la / PRIOR_LOG_A**2
        gb = -np.bincount(gi, weights=g_mu, minlength=self.NI) - b / PRIOR_B**2
        gls = np.sum(rho[gi] * dls) - ls / PRIOR_LOG_S**2
        pi = math.exp(log_pi)
        glp = np.sum((1 - rho) - pi) + (1 - 2 * pi)
        out = [gth, gla, gb, [gls, glp]]
        if self.P:
            gth -= r / tau**2
            out.append(self.X.T @ r / tau**2 - beta / PRIOR_BETA**2)
            out.append([np.sum(r**2) / tau**2 - self.J - lt / PRIOR_LOG_TAU**2])
        else:
            gth -= th / PRIOR_THETA**2
        return lp_val, np.concatenate([np.atleast_1d(np.asarray(o, dtype=float)) for o in out])

    def hessian(self, z):
        """The Hessian of the log posterior, analytic: per cell the posterior (co)variances of eta - mu
        and (eta - mu)^2 give the second derivatives of log P(c | N) in (mu, log s), chained to the
        parameters; the never-solvable mixture adds rho (1 - rho) times the outer product of each
        problem's gradient."""
        th, la, b, ls, lp, beta, lt = self.unpack(z)
        a, s = np.exp(la), math.exp(ls)
        gi, gj, J, NI = self.gi, self.gj, self.J, self.NI
        mu = a[gi] * th[gj] - b[gi]
        val, eta, w, _ = log_cell_integral(self.c, self.n, mu, s, moments=True, x0=self._x)
        S = np.bincount(gi, weights=val + self.log_coef, minlength=NI)
        log_pi, log_1mpi = -np.logaddexp(0, -lp), -np.logaddexp(0, lp)
        with np.errstate(divide="ignore"):
            alt = np.where(self.never, log_pi, -np.inf)
        L = np.logaddexp(log_1mpi + S, alt)
        rho = np.exp(log_1mpi + S - L)
        pi = math.exp(log_pi)
        d = eta - mu[:, None]
        e1, e2 = (w * d).sum(-1), (w * d * d).sum(-1)
        v11 = (w * (d - e1[:, None]) ** 2).sum(-1)
        v12 = (w * (d - e1[:, None]) * (d * d - e2[:, None])).sum(-1)
        v22 = (w * (d * d - e2[:, None]) ** 2).sum(-1)
        s2 = s * s
        d1, dls = e1 / s2, e2 / s2 - 1.0
        hmm = v11 / s2**2 - 1 / s2
        hml = v12 / s2**2 - 2 * e1 / s2
        hll = v22 / s2**2 - 2 * e2 / s2
        A, T = a[gi], th[gj]
        idx = [gj, J + gi, J + NI + gi, np.full(gi.size, J + 2 * NI)]
        jac = [A, A * T, -np.ones(gi.size)]  # d mu / d (theta, log a, b)
        P = self.size
        H = np.zeros((P, P))
        r = rho[gi]
        local = np.empty((gi.size, 4, 4))
        for x in range(3):
            for y in range(3):
                local[:, x, y] = hmm * jac[x] * jac[y]
            local[:, x, 3] = local[:, 3, x] = hml * jac[x]
        local[:, 3, 3] = hll
        local[:, 0, 1] += d1 * A  # d2 mu / d theta d log a
        local[:, 1, 0] += d1 * A
        local[:, 1, 1] += d1 * A * T  # d2 mu / d log a^2
        for x in range(4):
            for y in range(4):
                np.add.at(H, (idx[x], idx[y]), r * local[:, x, y])
        mix = rho * (1 - rho)
        if np.any(mix > 0):
            G = np.zeros((NI, P))
            grads = [d1 * A, d1 * A * T, -d1, dls]
            for x in range(4):
                np.add.at(G, (gi, idx[x]), grads[x])
            H += (G * mix[:, None]).T @ G
            H[:, J + 2 * NI + 1] -= G.T @ mix
            H[J + 2 * NI + 1, :] -= G.T @ mix
        ilp = J + 2 * NI + 1
        H[ilp, ilp] += mix.sum() - NI * pi * (1 - pi) - 2 * pi * (1 - pi)
        H[np.arange(J, J + NI), np.arange(J, J + NI)] -= 1 / PRIOR_LOG_A**2
        H[np.arange(J + NI, J + 2 * NI), np.arange(J + NI, J + 2 * NI)] -= 1 / PRIOR_B**2
        H[J + 2 * NI, J + 2 * NI] -= 1 / PRIOR_LOG_S**2
        if self.P:
            tau2 = math.exp(2 * lt)
            res = th - self.X @ beta
            ib = np.arange(J + 2 * NI + 2, J + 2 * NI + 2 + self.P)
            H[np.arange(J), np.arange(J)] -= 1 / tau2
            H[np.ix_(np.arange(J), ib)] += self.X / tau2
            H[np.ix_(ib, np.arange(J))] += self.X.T / tau2
            H[np.ix_(ib, ib)] -= self.X.T @ self.X / tau2 + np.eye(self.P) / PRIOR_BETA**2
            H[:J, -1] += 2 * res / tau2
            H[-1, :J] += 2 * res / tau2
            H[ib, -1] -= 2 * self.X.T @ res / tau2
            H[-1, ib] -= 2 * self.X.T @ res / tau2
            H[-1, -1] += -2 * np.sum(res**2) / tau2 - 1 / PRIOR_LOG_TAU**2
        else:
            H[np.arange(J), np.arange(J)] -= 1 / PRIOR_THETA**2
        return H

    def initial(self):
        ell = np.log((self.c + 0.5) / (self.n + 1)) - np.log1p(-(self.c + 0.5) / (self.n + 1))
        cnt_j = np.bincount(self.gj, minlength=self.J)
        th = np.bincount(self.gj, weights=ell, minlength=self.J) / np.maximum(cnt_j, 1)
        th = th - th.mean()
        sd = th.std()
        th = th / (sd if sd > 0 else 1.0)
        cnt_i = np.bincount(self.gi, minlength=self.NI)
        b = -np.bincount(self.gi, weights=ell - th[self.gj], minlength=self.NI) / np.maximum(cnt_i, 1)
        z = np.concatenate([th, np.zeros(self.NI), b, [0.0, math.log((self.never.mean() + 0.02) / 1.0)]])
        if self.P:
            beta = np.linalg.lstsq(self.X, th, rcond=None)[0]
            z = np.concatenate([z, beta, [0.0]])
        return z

    def bounds(self):
        J, NI = self.J, self.NI
        bd = [(-30, 30)] * J + [(-4, 4)] * NI + [(-40, 40)] * NI + [(-6, 3), (-15, 15)]
        if self.P:
            bd += [(-30, 30)] * self.P + [(-6, 3) if self.log_tau is None else (self.log_tau, self.log_tau)]
        return bd


# ------------------------------------------------------------------ the frozen fit
@dataclass(frozen=True, eq=False)
class JointFit:
    """A joint fit over groups x problems: the posterior mode (where pi and the difficulties of the
    problems no group solved are the modes of their conditionals, see :func:`_one_sided_draws`), its
    Laplace covariance (unconstrained coordinates) and parameter draws; the table it was fitted to
    (cells ``gi``, ``gj``, ``n``, ``c``); the group and problem names; covariates when the fit had them;
    ``log_solvable``: log P(no success anywhere | solvable) of each problem no group solved, its
    difficulty integrated over the prior (0 for the others)."""

    groups: tuple
    problems: tuple
    gi: np.ndarray
    gj: np.ndarray
    n: np.ndarray
    c: np.ndarray
    estimate: np.ndarray
    covariance: np.ndarray
    draws: np.ndarray
    log_posterior: float
    level: float = 0.9
    design: np.ndarray | None = None
    center: tuple | None = None
    diagnostics: dict = field(default_factory=dict)
    log_solvable: np.ndarray | None = None
    check: dict | None = None  # the extrapolation check of the module docstring (None: not run)

    # -- parameters
    @property
    def _post(self):
        return _Posterior(self.gi, self.gj, self.n, self.c, len(self.problems), len(self.groups), self.design)

    def params(self, z=None) -> dict:
        th, la, b, ls, lp, beta, lt = self._post.unpack(self.estimate if z is None else z)
        out = {"theta": th, "a": np.exp(la), "b": b, "s": math.exp(ls), "pi": float(expit(lp))}
        if self.design is not None:
            out["beta"], out["tau"] = beta, math.exp(lt)
        return out

    def _draw_parts(self, draws):
        post = self._post
        Z = self.draws[:draws] if draws else self.draws
        J, NI = post.J, post.NI
        th, a, b = Z[:, :J], np.exp(Z[:, J:J + NI]), Z[:, J + NI:J + 2 * NI]
        s, pi = np.exp(Z[:, J + 2 * NI]), expit(Z[:, J + 2 * NI + 1])
        return Z, th, a, b, s, pi

    def _never(self, D: int):
        """P(problem never solvable | data) per draw: (D, NI) for the first ``D`` draws. Only a problem no
        group solved can be never solvable; for it, pi / (pi + (1 - pi) I_i) at each draw of pi, with
        I_i = P(no success anywhere | solvable), its difficulty integrated out (``log_solvable``)."""
        post = self._post
        r = np.zeros((len(self.draws[:D]), post.NI))
        if post.never.any():
            pi = expit(self.draws[:D, post.J + 2 * post.NI + 1])[:, None]
            solv = np.exp(self.log_solvable[post.never])[None, :]
            r[:, post.never] = pi / (pi + (1 - pi) * solv)
        return r

    def _group_index(self, group) -> int:
        try:
            return self.groups.index(str(group))
        except ValueError:
            raise DifficultyError(f"group {group!r} is not in the joint fit (groups: "
                                  f"{', '.join(self.groups[:8])}{', ...' if len(self.groups) > 8 else ''})") from None

    def _cells(self, group, draws):
        """The cells of ``group``: their problems' indices, N and c, and per parameter draw the posterior
        probability that each problem is never solvable r (D, cells), the structured mean of logit q,
        mu = a_i theta_j - b_i (D, cells), and the residual sd s (D,)."""
        j = self._group_index(group)
        Z, th, a, b, s, pi = self._draw_parts(draws)
        sel = self.gj == j
        cells_i = self.gi[sel]
        r = self._never(Z.shape[0])[:, cells_i]
        mu = a[:, cells_i] * th[:, j][:, None] - b[:, cells_i]
        return cells_i, self.n[sel], self.c[sel], r, mu, s

    def shared_share(self, group, draws: int = 100) -> float:
        """How much of ``group``'s problem-to-problem spread the shared part of the model explains: the
        share V / (V + s^2) of the variance of logit q over the group's problems, V the variance over them
        of the structured mean a_i theta_j - b_i and s the residual sd, averaged over the posterior draws.
        Near 1 where the problems' difficulties carry across the groups; near 0 where each group's q is
        its own (the joint model then says little about a problem beyond the group's own counts)."""
        _, _, _, _, mu, s = self._cells(group, draws)
        v = mu.var(axis=1)
        return float(np.mean(v / (v + s * s)))

    # -- the forecast kernel
    @staticmethod
    def _kernel(mu, n, c, s, k):
        """log E[(1 - q)^K | cell data, params] per draw and cell and K: (D, cells, K)."""
        s_ = s[:, None]
        base = log_cell_integral(c, n, mu, s_)
        kk = np.asarray(k, dtype=float)
        out = np.empty(mu.shape + (kk.size,))
        for t, K in enumerate(kk):
            out[..., t] = log_cell_integral(c, n + K, mu, s_) - base
        return np.minimum(out, 0.0)

    def unsolved_after(self, group, k, draws: int | None = None):
        """E[(1 - q_ij)^K | data] for every problem of ``group`` (the never-solvable mass included),
        per parameter draw: (D, problems, K), with the problems' indices."""
        cells_i, n, c, r, mu, s = self._cells(group, draws)
        lk = self._kernel(mu, n, c, s, k)
        return r[..., None] + (1 - r[..., None]) * np.exp(lk), cells_i

    def forecast(self, group, k, level: float | None = None, draws: int | None = None, seed=0, problems=None):
        """pass@K of ``group``'s problems (or the named subset ``problems``) with a band at ``level``:
        parameter draws, plus each problem's spread of q around its posterior mean (as the per-group
        forecast does)."""
        from .forecast import _check_k

        k = _check_k(k)
        level = level or self.level
        U, cells_i = self.unsolved_after(group, np.concatenate([k, 2 * k]), draws)
        if problems is not None:
            keep = np.isin(np.asarray(self.problems, dtype=object)[cells_i], np.asarray(problems, dtype=object))
            if not keep.any():
                raise DifficultyError(f"none of the named problems is in group {group!r}")
            U = U[:, keep]
            cells_i = cells_i[keep]
        fc = self._band(U, k, level, seed, "problems")
        if self.check is None:
            return fc
        from .selfcheck import widen_forecast

        j = self._group_index(group)
        sel = self.gj == j
        n, c = self.n[sel], self.c[sel]
        if problems is not None:
            n, c = n[keep], c[keep]
        k0 = self.check["k0"]
        from .passk import pass_at_k

        floor = float(np.mean(pass_at_k(n.astype(np.int64), c.astype(np.int64), k0)))  # these problems' pass@k0
        summary = {key: v for key, v in self.check.items() if key != "runs"}
        return widen_forecast(fc, {**summary, "groups_checked": len(self.check["runs"]), "truth_at_k0": floor})

    def _band(self, U, k, level, seed, target):
        from .forecast import Forecast

        m1, m2 = U[..., :k.size], U[..., k.size:]
        npb = U.shape[1]
        mean = 1 - m1.mean(axis=1)
        sd = np.sqrt(np.clip(m2 - m1**2, 0, None).sum(axis=1)) / npb
        rng = np.random.default_rng(seed)
        vals = np.clip(mean + sd * rng.standard_normal((mean.shape[0], 1)), 0, 1)  # one curve per draw
        lo, mid, hi = np.quantile(vals, [0.5 - level / 2, 0.5, 0.5 + level / 2], axis=0)
        return Forecast(k, mid, lo, hi, level, "joint", "laplace", target,
                        fit={"model": "joint", "method": "laplace", "groups": len(self.groups),
                             **{kk: v for kk, v in self.diagnostics.items() if isinstance(v, (int, float, str))}})

    def forecast_all(self, k, level=None, draws=None, seed=0) -> dict:
        return {g: self.forecast(g, k, level, draws, seed) for g in self.groups}

    def p_solved_within(self, group, budget, draws: int | None = None):
        """P(solved within ``budget`` more attempts) per problem of ``group`` (posterior mean over draws),
        and the problem names. ``budget`` may be one number or one per problem of the group."""
        cells_i, n, c, r, mu, s = self._cells(group, draws)
        budget = np.broadcast_to(np.asarray(budget, dtype=float), n.shape)
        lk = np.minimum(log_cell_integral(c, n + budget, mu, s[:, None]) - log_cell_integral(c, n, mu, s[:, None]), 0)
        p = (1 - r) * -np.expm1(lk)
        return p.mean(axis=0), np.asarray(self.problems, dtype=object)[cells_i]

    def p_never_solvable(self, draws: int | None = None) -> dict:
        """Posterior probability that each problem is never solvable: {problem: P}."""
        r = self._never(len(self.draws[:draws] if draws else self.draws)).mean(axis=0)
        return dict(zip(self.problems, r.tolist()))

    def problem_table(self, group, budget: float, band=None, q_band=None, level: float | None = None,
                      draws: int = 100):
        """Per problem of ``group``: n, c, P(solved within ``budget`` more attempts) with its interval at
        ``level``, the posterior probability that q lies in ``q_band`` [q_lo, q_hi] (or in the window
        where P(solved within budget) is in ``band``; default band (0.5, 0.99)), the posterior mean of q
        and its interval, and P(never solvable). Every quantity is the mixture over parameter draws of
        each cell's posterior given its own counts (a band from q = 0 holds the never-solvable atom).
        A pandas DataFrame, in the fit's order of the group's cells."""
        import pandas as pd

        level = level or self.level
        K = float(budget)
        q_lo, q_hi = _q_window(K, band, q_band)
        cells_i, n, c, r, mu, s = self._cells(group, draws)
        post = _CellPosteriors(c, n, mu, s)
        with np.errstate(divide="ignore"):
            e_lo = math.log(q_lo) - math.log1p(-q_lo) if q_lo > 0 else -np.inf
            e_hi = math.log(q_hi) - math.log1p(-q_hi) if q_hi < 1 else np.inf
        p_in = ((1 - r) * (post.cdf(e_hi) - post.cdf(e_lo)) + (r if q_lo == 0 else 0.0)).mean(axis=0)
        q_mean = ((1 - r) * post.mean_q()).mean(axis=0)
        lk = np.minimum(log_cell_integral(c, n + K, mu, s[:, None]) - log_cell_integral(c, n, mu, s[:, None]), 0)
        p_solve = ((1 - r) * -np.expm1(lk)).mean(axis=0)
        ql, qh = post.mixture_quantiles(r, [0.5 - level / 2, 0.5 + level / 2])
        to_solve = lambda qq: -np.expm1(K * np.log1p(-np.clip(qq, 0, 1 - 1e-16)))  # noqa: E731
        return pd.DataFrame({
            "problem": np.asarray(self.problems, dtype=object)[cells_i], "n": n.astype(np.int64),
            "c": c.astype(np.int64), "q_mean": q_mean, "q_low": ql, "q_high": qh,
            "p_solve_within_budget": p_solve,
            "p_solve_within_budget_low": to_solve(ql), "p_solve_within_budget_high": to_solve(qh),
            "p_in_band": np.clip(p_in, 0.0, 1.0), "p_never": r.mean(axis=0)})

    def density(self, group, sigma=None, level: float | None = None, draws: int = 100, budget: float = 1000,
                band=(0.5, 0.99), q_band=None, ks=()) -> dict:
        """The perceived-difficulty density of ``group``'s problems, f(sigma) with sigma = log(1/p) =
        -log(1 - q) (MATH.md, Eq. 10), as the joint posterior sees them: at each parameter draw the mean
        over the group's problems of their posteriors given their own counts, (1/I) sum_i (1 - r_i)
        f_i(sigma) (the posterior mean of the problem set's distribution), with the never-solvable atom
        (1/I) sum_i r_i at sigma = 0. ``density`` is the mean over draws, ``low``/``high`` a pointwise
        band over them at ``level``; the obtainable mass (problems whose P(solved within ``budget``) is
        in ``band``) with its band likewise; ``functionals``: the mass with q in ``q_band`` and <p^K> =
        1 - pass@K at each K of ``ks``, each with its band over draws. A dict in the shape of
        ``difficulty invert``'s results."""
        level = level or self.level
        sigma = np.logspace(-5, 1.5, 120) if sigma is None else np.asarray(sigma, dtype=float)
        if sigma.ndim != 1 or not np.all(np.isfinite(sigma)) or np.any(sigma <= 0):
            raise DifficultyError("sigma must be a 1-D array of finite values > 0")
        cells_i, n, c, r, mu, s = self._cells(group, draws)
        eta = sigma + np.log(-np.expm1(-sigma))  # logit q at q = 1 - exp(-sigma)
        q = -np.expm1(-sigma)
        dens = np.empty((r.shape[0], sigma.size))
        base = log_cell_integral(c, n, mu, s[:, None]) + np.log(s)[:, None] + _LOG_SQRT_2PI  # log of int e^h
        for d in range(r.shape[0]):  # log f_eta = h - log int e^h; f_sigma = f_eta / q (d sigma / d eta = q)
            lf = _h(eta[None, :], c[:, None], n[:, None], mu[d][:, None], s[d] ** 2) - base[d][:, None]
            dens[d] = ((1 - r[d])[:, None] * np.exp(lf)).mean(axis=0) / q
        never = r.mean(axis=1)
        q_lo, q_hi = _q_window(float(budget), band, None)
        post = _CellPosteriors(c, n, mu, s)
        e_lo = math.log(q_lo) - math.log1p(-q_lo)
        e_hi = math.log(q_hi) - math.log1p(-q_hi) if q_hi < 1 else np.inf
        mass = ((1 - r) * (post.cdf(e_hi) - post.cdf(e_lo))).mean(axis=1)
        tails = [0.5 - level / 2, 0.5 + level / 2]
        lo, hi = np.quantile(dens, tails, axis=0)
        m_lo, m_hi = np.quantile(mass, tails)
        n_lo, n_hi = np.quantile(never, tails)
        mid = dens.mean(axis=0)
        functionals = {}

        def functional(name, vals, definition):
            a, b = np.quantile(vals, tails)
            v = float(vals.mean())
            functionals[name] = {"name": name, "value": v, "low": float(min(a, v)), "high": float(max(b, v)),
                                 "level": level, "definition": definition}

        if q_band is not None:
            lo_q, hi_q = _q_window(float(budget), None, q_band)
            with np.errstate(divide="ignore"):
                a_e = math.log(lo_q) - math.log1p(-lo_q) if lo_q > 0 else -np.inf
                b_e = math.log(hi_q) - math.log1p(-hi_q) if hi_q < 1 else np.inf
            inside = ((1 - r) * (post.cdf(b_e) - post.cdf(a_e)) + (r if lo_q == 0 else 0.0)).mean(axis=1)
            functional(f"mass_q[{lo_q:.3g},{hi_q:.3g}]", inside,
                       f"mass of problems with success probability q in [{lo_q:.3g}, {hi_q:.3g}]")
        ks = np.asarray(ks, dtype=float).ravel()
        if ks.size:
            lk = self._kernel(mu, n, c, s, ks)
            pk = (r[..., None] + (1 - r[..., None]) * np.exp(lk)).mean(axis=1)  # (D, K)
            for t, K in enumerate(ks):
                functional(f"p^{K:g}", pk[:, t], f"<p^K> = 1 - pass@K at K = {K:g}")
        return {"sigma": sigma, "density": mid, "low": np.minimum(lo, mid), "high": np.maximum(hi, mid),
                "functionals": functionals,
                "never_solved": float(never.mean()), "never_solved_low": float(n_lo), "never_solved_high": float(n_hi),
                "always_solved": 0.0, "method": "joint", "group": str(group), "regularization": None, "level": level,
                "problems": int(cells_i.size),
                "note": ("the joint model's posterior mean of the group's problem-set density (each problem's "
                         "posterior given its counts and what the other groups did on it); band from the parameter "
                         "draws"),
                "obtainable_mass": {"budget": float(budget), "band": list(band), "mass": float(mass.mean()),
                                    "low": float(m_lo), "high": float(m_hi)}}

    # -- a group left out of the fit
    def predict_group(self, covariates: dict, k, problems=None, level: float | None = None,
                      draws: int | None = None, seed=0):
        """pass@K of a group not in the fit, from its covariates ({column: value}): theta ~ N(x beta,
        tau^2) at each parameter draw, each problem's q from the prior of its cell, averaged over the
        problems (all of the fit's, or the named ones)."""
        from .forecast import _check_k

        if self.design is None:
            raise DifficultyError("predicting a group needs a joint fit with covariates (--covariates)")
        k = _check_k(k)
        level = level or self.level
        X, _ = covariate_matrix({"to predict": covariates}, ["to predict"], self.center)
        Z, th, a, b, s, pi = self._draw_parts(draws)
        post = self._post
        beta = Z[:, post.J + 2 * post.NI + 2:post.J + 2 * post.NI + 2 + post.P]
        tau = np.exp(Z[:, -1])
        rng = np.random.default_rng(seed)
        th_new = beta @ X[0] + tau * rng.standard_normal(len(Z))
        idx = np.arange(post.NI)
        if problems is not None:
            pos = {p: i for i, p in enumerate(self.problems)}
            idx = np.array([pos[str(p)] for p in problems if str(p) in pos], dtype=int)
            if idx.size == 0:
                raise DifficultyError("none of the named problems is in the joint fit")
        r = self._never(Z.shape[0])[:, idx]
        zeros = np.zeros(idx.size)
        mu = a[:, idx] * th_new[:, None] - b[:, idx]
        lk = self._kernel(mu, zeros, zeros, s, np.concatenate([k, 2 * k]))
        U = r[..., None] + (1 - r[..., None]) * np.exp(lk)
        return self._band(U, k, level, seed, "problems")

    def to_dict(self) -> dict:
        p = self.params()
        out = {"model": "joint", "method": "laplace", "groups": len(self.groups), "problems": len(self.problems),
               "s": p["s"], "pi": p["pi"], "theta": dict(zip(self.groups, p["theta"].tolist())),
               "log_posterior": self.log_posterior}
        if self.design is not None:
            out["beta"], out["tau"] = p["beta"].tolist(), p["tau"]
        out["diagnostics"] = dict(self.diagnostics)
        if self.check is not None:
            out["check"] = dict(self.check)
        return out


# ------------------------------------------------------------------ fitting
def _hessian(post, z, h=1e-5):
    """Forward differences of the analytic gradient, symmetrised."""
    P = z.size
    H = np.empty((P, P))
    g0 = post(z)[1]
    for k in range(P):
        e = np.zeros(P)
        e[k] = h
        H[:, k] = (post(z + e)[1] - g0) / h
    return 0.5 * (H + H.T)


def _grid_table(log_density, lo: float, hi: float, coarse: int = 61, fine: int = 101):
    """The 1-D density exp(``log_density``) on [lo, hi] (unnormalised, vectorised over points) as a
    table to draw from: tabulated on ``coarse`` points, again on ``fine`` points over the range holding
    all but e^-40 of it; its points, its trapezoid-rule CDF (draw by inverting it), the log of its
    integral (the trapezoid rule on a smooth density that has fallen by e^-40 at both ends of its range
    converges geometrically: to ~1e-10 here) and the point of the fine grid where it is largest."""
    t = np.linspace(lo, hi, coarse)
    ld = log_density(t)
    hold = np.flatnonzero(ld > ld.max() - 40)
    t = np.linspace(t[max(hold[0] - 1, 0)], t[min(hold[-1] + 1, coarse - 1)], fine)
    ld = log_density(t)
    top = ld.max()
    w = np.exp(ld - top)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (w[1:] + w[:-1]) * np.diff(t))])
    return t, cdf / cdf[-1], top + math.log(cdf[-1]), float(t[np.argmax(ld)])


def _one_sided_draws(post, z, draws: int, rng, cov=None):
    """Draws of the coordinates whose posterior is one-sided, each from its exact 1-D conditional given
    the other parameters at the mode, and the never-solvable share pi from its conditional with the
    difficulties of the problems no group solved integrated out. Returns ({index in z: (draws,)},
    {index in z: the mode of that conditional}, log P(no success anywhere | solvable) per problem no
    group solved (the difficulty integrated over its prior), 0 elsewhere).

    The ability theta_j of a group that solved nothing: its likelihood is flat as theta_j -> -inf and
    falls off double-exponentially above the abilities at which its attempts would have succeeded,
    so its posterior is the prior cut off from above, with a long lower tail. The Laplace
    approximation puts a symmetric normal at the mode and half its draws beyond the cut-off, where the
    data rule them out (pass@1 forecast up to 0.16 after no success in 12,800 attempts). Groups with
    the same counts on the same problems share one table.

    A problem no group solved is either never solvable or solvable with a difficulty b_i above every
    group's reach. At the joint mode it is taken as never solvable (b_i at its prior mode, where its
    attempts would have succeeded), and pi there is the share of such problems: comparing the branches
    at a point of b_i, not over the prior mass above the cut-off, overstates pi (Pythia MATH, 100
    attempts per cell: 0.31 at the mode, 0.16 with b_i integrated out) and with it the problems that a
    larger budget will never crack. So b_i is drawn from its conditional given that the problem is
    solvable (the prior cut off from below), and pi from p(pi | rest) = (1 - pi)^(solved problems)
    prod_i (pi + (1 - pi) I_i) pi (1 - pi) in logit pi, I_i = int P(no success | b) N(b; 0, 3^2) db; the
    probability that problem i is never solvable is then pi / (pi + (1 - pi) I_i) at each draw of pi."""
    th, la, b, ls, lp, beta, lt = post.unpack(z)
    a, s = np.exp(la), math.exp(ls)
    gi, gj, J, NI = post.gi, post.gj, post.J, post.NI
    val = log_cell_integral(post.c, post.n, a[gi] * th[gj] - b[gi], s) + post.log_coef
    S = np.bincount(gi, weights=val, minlength=NI)
    log_pi, log_1mpi = -np.logaddexp(0, -lp), -np.logaddexp(0, lp)
    with np.errstate(divide="ignore"):
        alt = np.where(post.never, log_pi, -np.inf)
    if post.P:
        # theta_j ~ N(x_j beta, tau^2) with beta's uncertainty folded in: sd^2 = tau^2 + x_j' Cov(beta) x_j
        ib = slice(J + 2 * NI + 2, J + 2 * NI + 2 + post.P)
        vb = np.einsum("jp,pq,jq->j", post.X, cov[ib, ib], post.X) if cov is not None else 0.0
        prior_mean, prior_sd = post.X @ beta, np.sqrt(math.exp(2 * lt) + vb)
    else:
        prior_mean, prior_sd = np.zeros(J), np.full(J, PRIOR_THETA)
    bounds = post.bounds()
    tables, out, modes = {}, {}, {}
    for j in np.flatnonzero(np.bincount(gj, weights=post.c, minlength=J) == 0):
        sel = gj == j
        ii, nn = gi[sel], post.n[sel]
        rest = log_1mpi + S[ii] - val[sel]  # the problem's other groups, with the solvable branch's weight
        key = (ii.tobytes(), nn.tobytes(), rest.round(12).tobytes(), prior_mean[j], prior_sd[j])
        if key not in tables:
            def log_density(t, ii=ii, nn=nn, rest=rest, m=prior_mean[j], sd=prior_sd[j]):
                v = log_cell_integral(0.0, nn, a[ii] * t[:, None] - b[ii], s)
                return np.logaddexp(rest + v, alt[ii]).sum(axis=1) - 0.5 * ((t - m) / sd) ** 2

            tables[key] = _grid_table(log_density, *bounds[j])
        grid, cdf, *_ = tables[key]
        out[int(j)] = np.interp(rng.uniform(size=draws), cdf, grid)
    log_solvable = np.zeros(NI)
    log_norm_b = math.log(PRIOR_B * math.sqrt(2 * math.pi))
    for i in np.flatnonzero(post.never):
        sel = gi == i
        nn, th_i = post.n[sel], th[gj[sel]]

        def log_density(t, nn=nn, th_i=th_i, ai=a[i]):
            v = log_cell_integral(0.0, nn, ai * th_i - t[:, None], s).sum(axis=1)
            return v - 0.5 * t**2 / PRIOR_B**2 - log_norm_b

        grid, cdf, log_solvable[i], modes[J + NI + int(i)] = _grid_table(log_density, *bounds[J + NI + i], coarse=81)
        out[J + NI + int(i)] = np.interp(rng.uniform(size=draws), cdf, grid)
    if post.never.any():
        solved = NI - int(post.never.sum())
        ls_never = log_solvable[post.never]

        def log_density(t):
            lpi, l1mpi = -np.logaddexp(0, -t), -np.logaddexp(0, t)
            mix = np.logaddexp(lpi[:, None], l1mpi[:, None] + ls_never).sum(axis=1)
            return (solved + 1) * l1mpi + lpi + mix

        grid, cdf, _, modes[J + 2 * NI + 1] = _grid_table(log_density, *bounds[J + 2 * NI + 1], coarse=121, fine=201)
        out[J + 2 * NI + 1] = np.interp(rng.uniform(size=draws), cdf, grid)
    return out, modes, log_solvable


def _reml_log_tau(theta, var, X, lo: float = -6.0, hi: float = 3.0, prior_sd: float | None = PRIOR_LOG_TAU):
    """log tau of the regression theta_j ~ N(x_j beta, tau^2 + v_j) by restricted maximum likelihood
    (the random-effects meta-regression of estimates ``theta`` with sampling variances ``var``), with the
    model's prior log tau ~ N(0, ``prior_sd``^2) (``None``: none): beta at its weighted least squares
    for each tau, the criterion 0.5 sum(w r^2 - log w) + 0.5 log det(X' W X) (over the directions X
    spans) + 0.5 (log tau / prior_sd)^2, w = 1 / (tau^2 + v). Where the abilities' sampling variances
    explain their scatter about the regression, the restricted likelihood is flat as tau -> 0 and the
    prior holds tau near its scale (Pythia MATH, 100 attempts per cell, 22 covariate columns over 33
    groups: 0.002 without it, 0.24 with it). Returns (log tau, None) or, with fewer than two degrees of
    freedom left over the regression, (None, why)."""
    from scipy.optimize import minimize_scalar

    theta, var, X = (np.asarray(v, dtype=float) for v in (theta, var, X))
    sv = np.linalg.svd(X, compute_uv=False)
    rank = int(np.sum(sv > 1e-10 * (sv[0] if sv.size else 1.0)))
    if theta.size - rank < 2:
        return None, f"{theta.size} abilities for a regression of rank {rank}"

    def crit(lt):
        w = 1 / (math.exp(2 * lt) + var)
        sw = np.sqrt(w)
        beta = np.linalg.lstsq(X * sw[:, None], theta * sw, rcond=None)[0]
        r = theta - X @ beta
        ev = np.linalg.eigvalsh((X * w[:, None]).T @ X)
        prior = 0.0 if prior_sd is None else 0.5 * (lt / prior_sd) ** 2
        return 0.5 * np.sum(w * r * r - np.log(w)) + 0.5 * np.sum(np.log(ev[-rank:])) + prior

    return float(minimize_scalar(crit, bounds=(lo, hi), method="bounded", options={"xatol": 1e-6}).x), None


def _optimise(post, start):
    from scipy.optimize import minimize

    def neg(z):
        v, g = post(z)
        return -v, -g

    return minimize(neg, np.clip(start, *np.array(post.bounds()).T), jac=True, method="L-BFGS-B",
                    bounds=post.bounds(),
                    options={"maxiter": 2000, "maxfun": 4000, "ftol": 1e-10, "gtol": 1e-5, "maxcor": 30})


def _laplace(post, z):
    """Eigenvalues and vectors of the negative Hessian at ``z`` (a fixed log tau taken out: the other
    coordinates' precision given it)."""
    post(z)  # the modes at z: the start of the Hessian's cells
    H = -post.hessian(z)
    if post.P and post.log_tau is not None:
        H[-1, :] = H[:, -1] = 0.0
        H[-1, -1] = 1e12
    vals, vecs = np.linalg.eigh(H)
    return np.maximum(vals, 1e-6), vecs


CHECK_DRAWS = 100  # parameter draws of the check's fit (its forecasts' points only are used)


def _extrapolation_check(counts: EvalCounts, covariates, level: float, seed) -> dict:
    """The joint model's extrapolation error inside the data (module docstring): fitted to every cell
    thinned to k0 / 10 attempts, its forecast of each group's pass@k0 against the data's."""
    from .backtest import subsample_counts
    from .passk import pass_at_k
    from .selfcheck import _check_attempts

    k0 = int(counts.n.min())
    m = _check_attempts(k0)
    out = {"model": "joint", "method": "laplace", "k0": k0, "attempts": m, "runs": []}
    if m is None:
        return {**out, "ratio_checked": None, "error_checked": None}
    thin = subsample_counts(counts, m, np.random.default_rng([int(seed), 10]))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ft = fit_joint(thin, covariates, level, draws=CHECK_DRAWS, seed=seed, check=False)
    except DifficultyError as e:
        return {**out, "ratio_checked": None, "error_checked": None,
                "reason": f"the joint model could not be fitted to the data thinned to {m} attempts per cell ({e})"}
    grp = counts.group.astype(str)
    for g in ft.groups:
        sel = grp == g
        truth = float(np.mean(pass_at_k(counts.n[sel], counts.c[sel], k0)))
        est = float(ft.forecast(g, [k0]).pass_at_k[0])
        out["runs"].append({"group": g, "forecast": est, "error": est - truth, "truth": truth,
                            "solved": int(np.count_nonzero(thin.c[sel]))})
    err = np.array([r["error"] for r in out["runs"]])
    return {**out, "ratio_checked": k0 / m, "error_checked": float(np.sqrt(np.mean(err**2)))}


def fit_joint(counts: EvalCounts, covariates: dict | None = None, level: float = 0.9, draws: int = 200,
              seed=0, exclude=(), check: bool = True) -> JointFit:
    """Fit the joint model to grouped per-problem counts (``counts.group`` and ``counts.problem`` set).
    ``covariates``: {group: {column: value}} for theta's regression (log of each, standardised, with
    their product, and an indicator per value shared by two or more groups: see covariate_matrix).
    ``exclude``: groups left out of the fit (to forecast them by predict_group). ``check``: the
    extrapolation check that widens the groups' forecast bands (module docstring; one more fit)."""
    import time

    if counts.group is None:
        raise DifficultyError("the joint model needs a group column (--group-col), e.g. the model name")
    if counts.problem is None:
        raise DifficultyError("the joint model needs a problem id column (--problem-col) shared by the groups")
    keep = ~np.isin(counts.group.astype(str), [str(g) for g in exclude])
    grp = counts.group.astype(str)[keep]
    prob = counts.problem.astype(str)[keep]
    groups = tuple(dict.fromkeys(grp.tolist()))
    problems = tuple(dict.fromkeys(prob.tolist()))
    if len(groups) < 2:
        raise DifficultyError(f"the joint model needs at least two groups, got {len(groups)}"
                              + (f" ({groups[0]!r})" if groups else ""))
    gpos = {g: i for i, g in enumerate(groups)}
    ppos = {p: i for i, p in enumerate(problems)}
    gj = np.array([gpos[g] for g in grp], dtype=np.int64)
    gi = np.array([ppos[p] for p in prob], dtype=np.int64)
    n, c = counts.n[keep].astype(float), counts.c[keep].astype(float)
    X = center = None
    if covariates is not None:
        missing = [g for g in groups if g not in covariates]
        if missing:
            raise DifficultyError(f"no covariates for group {missing[0]!r}")
        X, center = covariate_matrix(covariates, groups)
    J, NI = len(groups), len(problems)
    t0 = time.perf_counter()
    post = _Posterior(gi, gj, n, c, NI, J)
    res = _optimise(post, post.initial())
    extra = {}
    if X is not None:
        # The spread tau of the abilities around the covariates' regression, by REML over the abilities of
        # the fit without covariates (groups with a success: the others' abilities are one-sided), then
        # held fixed. Fitted jointly with the abilities, the mode of tau is at zero whenever some
        # abilities are free to sit on the regression (groups that solved nothing): the likelihood does
        # not object and -J log tau grows without bound (the funnel of a hierarchical prior), and the
        # optimiser ends there (Pythia GSM8K, 100 attempts per cell: tau at its bound, pass@10,000 off by
        # 0.26 on average).
        vals, vecs = _laplace(post, res.x)
        var = ((vecs**2) / vals).sum(axis=1)[:J]
        ok = np.bincount(gj, weights=c, minlength=J) > 0
        lt, why = _reml_log_tau(res.x[:J][ok], var[ok], X[ok])
        extra = {"tau_reml_groups": int(ok.sum()),
                 "covariates": sorted({col for g in groups for col in covariates[g]})}
        if lt is None:
            lt = 0.0
            extra["tau_note"] = (f"the abilities' spread about the covariates' regression is held at 1 (its prior's "
                                 f"median): {why}, too few to estimate it")
        th0 = res.x[:J]
        beta0 = np.linalg.lstsq(X, th0, rcond=None)[0]
        post = _Posterior(gi, gj, n, c, NI, J, X, log_tau=lt)
        res = _optimise(post, np.concatenate([res.x, beta0, [lt]]))
    z = res.x
    t_opt = time.perf_counter() - t0
    vals, vecs = _laplace(post, z)
    cov = (vecs / vals) @ vecs.T
    rng = np.random.default_rng(seed)
    Zd = z + (rng.standard_normal((draws, z.size)) / np.sqrt(vals)) @ vecs.T
    lo, hi = np.array(post.bounds()).T
    Zd = np.clip(Zd, lo, hi)
    one_sided, modes, log_solvable = _one_sided_draws(post, z, draws, rng, cov)
    for k, v in one_sided.items():
        Zd[:, k] = v
    z = z.copy()
    for k, v in modes.items():  # pi and the difficulties of the problems nobody solved: their conditionals' modes
        z[k] = v
    ilp = post.J + 2 * post.NI + 1
    diag = {"converged": bool(res.success), "iterations": int(res.nit), "evaluations": int(res.nfev),
            "groups_theta_conditional": sum(k < post.J for k in one_sided),
            "problems_b_conditional": sum(post.J + post.NI <= k < ilp - 1 for k in one_sided),
            "pi_joint_mode": float(expit(res.x[ilp])),
            "seconds_optimise": round(t_opt, 3), "cells": int(n.size), **extra}
    if not res.success:
        diag["message"] = str(res.message)
        warnings.warn(f"the joint fit stopped before its optimum after {res.nit} iterations ({res.message}): its "
                      "forecasts are from that point", RuntimeWarning, stacklevel=2)
    if "tau_note" in extra:
        warnings.warn(extra["tau_note"], RuntimeWarning, stacklevel=2)
    chk = None
    if check:
        t1 = time.perf_counter()
        kept = EvalCounts(counts.n[keep], counts.c[keep], problem=prob, group=grp)
        chk = _extrapolation_check(kept, covariates, level, seed)
        diag["seconds_check"] = round(time.perf_counter() - t1, 3)
    fit = JointFit(groups, problems, gi, gj, n, c, z, cov, Zd, float(post(z, grad=False)), level, X, center, diag,
                   log_solvable, chk)
    diag["seconds"] = round(time.perf_counter() - t0, 3)
    return fit
