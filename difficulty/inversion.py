"""Recovering the perceived-difficulty density f(sigma), sigma = log(1/p) (Levi 2025, Eq. 10).

The failure curve is a Laplace transform in k:  1 - pass@k = (1 - A) + A integral exp(-sigma k) f(sigma) d sigma.

* :func:`invert_parametric`: f from a model's transform: Talbot or de Hoog (``mpmath.invertlaplace``,
  multi-precision) or the concentrated matrix-exponential rule (CME, double precision, never
  overshooting); :mod:`difficulty.laplace_inversion`.
* :func:`invert_curve`: from an aggregate curve (k, pass@k) alone. Known only at integer k and
  with noise, this is the Hausdorff moment problem, badly ill-posed. Solved as non-negative
  least squares on a log-spaced sigma grid, with explicit atoms for "never solved" (p = 1,
  sigma = 0: kernel 1 at every k) and "always solved" (p = 0: kernel 0, seen only through the
  sum-to-one row), a second-difference (Tikhonov) penalty, and the strength chosen by the
  discrepancy principle (whitened residual chi^2 = number of points). Residuals are whitened
  by the covariance of the curve across k when per-problem data exist (bootstrap over
  problems); by the noise given; or by the noise of the bare curve, estimated without a
  parametric model (:func:`estimate_curve_noise`: the residuals of the best completely monotone
  fit, i.e. of the unpenalised NNLS, over their degrees of freedom), plus, when the number of
  problems n is known, the problem-sampling covariance (<p^(k+k')> - <p^k><p^k'>) / n
  (:func:`curve_covariance`). Generalised cross-validation's strength is reported beside the
  discrepancy choice as a check. The band is a bootstrap over problems (per-problem data) or
  a parametric bootstrap of the noise; each replicate re-chooses its strength and is then
  *undersmoothed* (strength times ``undersmooth``, 0.001 by default): a band made of
  solutions as smooth as the estimate measures only their variance and misses the smoothing
  bias where the truth has structure.
* :func:`invert_counts`: the mixing distribution of the binomial mixture from per-problem
  counts: a smooth NPMLE, log-spline g-modelling (Efron 2016) with one weight per grid point,
  log-weights penalised by their second differences, the strength chosen by K-fold
  cross-validation over problems (held-out likelihood); band by bootstrap over problems. The
  plain smoothed EM (EMS, Silverman et al. 1990) remains as ``method="ems"``.

Mass at sigma below ~1/k_max is not separable from "never solved" without a parametric tail:
every result says so in ``note``, and :meth:`DensityEstimate.unresolved_mass` reports the two
together, as :func:`project_model` does for a known distribution, so that a truth and an
estimate are compared on the same basis.

Read-offs with intervals (:meth:`DensityEstimate.functionals`): the mass with success
probability in [a, b], the never-solved-or-unresolved mass, and <p^K> = 1 - pass@K. A share of
problems carried by a handful of them (the unresolved mass of a curve over 2,000 problems may be two)
is small exactly when few were drawn, and replicates drawn from that estimate see fewer still; where
the replicates draw n problems from the estimate, the interval of a share also holds Wilson's score
interval, whose sampling variance theta (1 - theta) / n is taken at each value tested. <p^K> at a K
the inverted curve holds is read from the curve's own value there, with the score interval of a mean
of p^K over the problems (:meth:`DensityEstimate._observed_interval`), not from the smoothed estimate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from .counts import EvalCounts
from .errors import DifficultyError

__all__ = ["DensityEstimate", "Functional", "CurveNoise", "invert_parametric", "invert_curve", "invert_counts",
           "wasserstein_p", "obtainable_mass", "tail_exponent", "estimate_curve_noise", "curve_covariance",
           "curve_noise", "invert_counts_curve", "parametric_density", "project_model", "model_functionals",
           "count_modes", "hard_band"]


def hard_band(budget: float) -> tuple[float, float]:
    """The default band of success probability for "difficult but obtainable" read-offs: [1/budget, 0.1],
    its lower end at most 0.05 so that a budget of 10 attempts or fewer still leaves a band."""
    return min(1.0 / float(budget), 0.05), 0.1


def _score_interval(t, a, s, level):
    """{theta : (t - theta)^2 <= z^2 (a theta (1 - theta) + s^2)} within [0, 1]: the score interval of a
    mean whose variance is a theta (1 - theta) plus noise s^2 (Wilson's for a share of n: a = 1 / n, s = 0)."""
    from scipy.stats import norm

    z2 = float(norm.ppf(0.5 + level / 2)) ** 2
    A, B, C = 1 + z2 * a, 2 * t + z2 * a, t * t - z2 * s * s
    root = math.sqrt(max(B * B - 4 * A * C, 0.0))
    return max((B - root) / (2 * A), 0.0), min((B + root) / (2 * A), 1.0)


@dataclass(frozen=True)
class Functional:
    """One read-off of a difficulty distribution with its interval (bootstrap percentiles, widened to
    hold the estimate)."""

    name: str
    value: float
    low: float | None
    high: float | None
    level: float
    definition: str

    def to_dict(self):
        return {"name": self.name, "value": self.value, "low": self.low, "high": self.high, "level": self.level,
                "definition": self.definition}


@dataclass
class DensityEstimate:
    """A recovered difficulty distribution: weights on a sigma grid plus explicit atoms.

    Each grid weight is the mass of its cell (``edges``), centred in log sigma on its grid point;
    read-offs that cut through a cell (:meth:`cdf_sigma`, :meth:`mass_q`, :meth:`functionals`)
    spread the mass uniformly in log sigma across it."""

    sigma: np.ndarray  # grid (log-spaced)
    weights: np.ndarray  # probability mass at each grid point
    never_solved: float  # atom at p = 1 (sigma = 0)
    always_solved: float  # atom at p = 0 (sigma = inf)
    method: str
    regularization: float | None = None
    weights_boot: np.ndarray | None = None  # (boot, grid)
    never_boot: np.ndarray | None = None
    level: float = 0.9
    note: str = ""
    extra: dict = field(default_factory=dict)
    k_max: float | None = None  # the largest k (attempts) the data reach: below sigma = 1/k_max nothing is resolved
    n_problems: int | None = None  # set when each replicate drew this many problems from the estimate
    observed: dict | None = None  # the curve inverted, by k: 1 - pass@k and its noise (see invert_curve)

    @property
    def edges(self):
        ls = np.log(self.sigma)
        mid = 0.5 * (ls[1:] + ls[:-1])
        e = np.concatenate([[ls[0] - (mid[0] - ls[0])], mid, [ls[-1] + (ls[-1] - mid[-1])]])
        return np.exp(e)

    def density(self, weights=None):
        """Density per unit sigma at the grid points (mass / cell width)."""
        w = self.weights if weights is None else weights
        return w / np.diff(self.edges)

    def band(self):
        """Pointwise band of the density at ``level`` (bootstrap quantiles, widened to hold the estimate)."""
        if self.weights_boot is None:
            return None, None
        d = self.weights_boot / np.diff(self.edges)
        lo, hi = np.quantile(d, [0.5 - self.level / 2, 0.5 + self.level / 2], axis=0)
        est = self.density()
        return np.minimum(lo, est), np.maximum(hi, est)

    def _cdf_rows(self, weights, never, always, p):
        """CDF of p for each row of grid weights (rows, points), atoms included."""
        below = np.exp(-self.sigma)[None, :] <= p.reshape(-1, 1)  # (points, grid); p_j = exp(-sigma_j)
        return always[:, None] + weights @ below.T + never[:, None] * (p.reshape(-1) >= 1)

    def cdf_band(self, p):
        """Pointwise band of the CDF of p at ``level`` (bootstrap quantiles, widened to hold the estimate)."""
        if self.weights_boot is None:
            return None, None
        p = np.asarray(p, dtype=float)
        always = np.clip(1.0 - self.weights_boot.sum(axis=1) - self.never_boot, 0.0, 1.0)  # the third atom
        boot = self._cdf_rows(self.weights_boot, self.never_boot, always, p)
        lo, hi = np.quantile(boot, [0.5 - self.level / 2, 0.5 + self.level / 2], axis=0)
        est = self.cdf_p(p).reshape(-1)
        return np.minimum(lo, est).reshape(p.shape), np.maximum(hi, est).reshape(p.shape)

    def cdf_p(self, p):
        """CDF of the failure probability p (atoms included) at p."""
        p = np.asarray(p, dtype=float)
        out = self._cdf_rows(self.weights[None, :], np.array([self.never_solved]), np.array([self.always_solved]), p)
        return out[0].reshape(p.shape)

    # -- read-offs that cut through cells: each cell's mass spread uniformly in log sigma
    def _rows(self):
        """(grid weights, never atoms) of the estimate (row 0) and of every bootstrap replicate."""
        if self.weights_boot is None:
            return self.weights[None, :], np.array([self.never_solved])
        return (np.vstack([self.weights[None, :], self.weights_boot]),
                np.concatenate([[self.never_solved], self.never_boot]))

    def _fraction_below(self, s):
        """(points, grid): the share of each cell's mass below sigma = s (uniform in log sigma)."""
        le = np.log(self.edges)
        ls = np.log(np.clip(np.asarray(s, dtype=float).reshape(-1, 1), 1e-300, None))
        return np.clip((ls - le[None, :-1]) / np.diff(le)[None, :], 0.0, 1.0)

    def cdf_sigma(self, s, weights=None, never=None):
        """P(sigma <= s), the never-solved atom (sigma = 0) included, at the points s."""
        w = self.weights if weights is None else weights
        n0 = self.never_solved if never is None else never
        s = np.asarray(s, dtype=float)
        return (n0 + self._fraction_below(s) @ w).reshape(s.shape)

    def mass_q(self, q_lo, q_hi):
        """Mass of problems with success probability q = 1 - p in [q_lo, q_hi] (atoms at q = 0 and
        q = 1 included when the interval reaches them)."""
        return float(self._mass_q_rows(q_lo, q_hi)[0])

    def _mass_q_rows(self, q_lo, q_hi):
        w, never = self._rows()
        always = np.clip(1.0 - w.sum(axis=1) - never, 0.0, 1.0)
        s = [(-math.log1p(-q) if q < 1 else np.inf) for q in (q_lo, q_hi)]
        frac = self._fraction_below([s[1]])[0] - self._fraction_below([s[0]])[0] if s[0] > 0 else \
            self._fraction_below([s[1]])[0]
        out = w @ frac
        if q_lo <= 0:
            out = out + never
        if q_hi >= 1:
            out = out + always
        return out

    def unresolved_mass(self):
        """Never solved plus the mass below sigma = 1/k_max (success probability below
        1 - exp(-1/k_max) ~ 1/k_max): what k_max attempts cannot tell apart."""
        if self.k_max is None:
            raise DifficultyError("this estimate does not know its k_max")
        return float(self.cdf_sigma(1.0 / self.k_max))

    def transform(self, K):
        """<p^K> over all problems, atoms included: 1 - pass@K (Eq. 10 read forward)."""
        K = np.asarray(K, dtype=float)
        return self.never_solved + np.exp(-np.multiply.outer(K, self.sigma)) @ self.weights

    def functionals(self, band_q=None, ks=None, budget: float | None = None):
        """Read-offs with intervals: the mass with success probability in ``band_q`` (default
        :func:`hard_band` of ``budget``), the unresolved mass (never solved or sigma below 1/k_max) and <p^K> at each
        K of ``ks`` (default k_max and ``budget``). Intervals: percentiles of the bootstrap
        replicates at ``level`` (for <p^K> also the basic bootstrap interval; at a K inside the
        range of an inverted curve, the score interval of the curve's own value), widened to hold
        the estimate."""
        budget = budget or 1000.0
        if band_q is None:
            band_q = hard_band(budget)
        if ks is None:
            ks = [k for k in (self.k_max, budget) if k is not None]
        w, never = self._rows()
        out = [self._functional(f"mass_q[{band_q[0]:.3g},{band_q[1]:.3g}]", self._mass_q_rows(*band_q),
                                f"mass of problems with success probability q in [{band_q[0]:.3g}, {band_q[1]:.3g}]",
                                share=True)]
        if self.k_max is not None:
            un = never + self._fraction_below([1.0 / self.k_max])[0] @ w.T
            out.append(self._functional("unresolved", un, f"never solved or q below 1 - exp(-1/k_max), k_max = "
                                                           f"{self.k_max:g}: what k_max attempts cannot separate",
                                        share=True))
        for K in ks:
            vals = never + np.exp(-float(K) * self.sigma) @ w.T
            beyond = self.k_max is not None and K > self.k_max
            seen = self._observed_interval(float(K))
            if seen is not None:
                out.append(Functional(f"p^{K:g}", float(vals[0]), float(min(seen[0], vals[0])),
                                      float(max(seen[1], vals[0])), self.level,
                                      f"<p^K> = 1 - pass@K at K = {K:g} (interval from the curve's own value there)"))
                continue
            out.append(self._functional(f"p^{K:g}", vals, f"<p^K> = 1 - pass@K at K = {K:g}"
                                        + (" (beyond k_max: extrapolated)" if beyond else "")))
        return {f.name: f for f in out}

    def _observed_interval(self, K):
        """Interval for <p^K> from the inverted curve's own value t at K (inside its range of k; values
        log-linear in log k between points), else None. t is a mean over the problems of p^K in
        [0, 1] plus noise of sd s; the problems' sampling variance (<p^2K> - <p^K>^2) / n is written
        a theta (1 - theta), so that the score interval {theta : (t - theta)^2 <= z^2 (a theta (1 -
        theta) + s^2)} takes it at each theta tested (as Wilson's): skewed where few problems carry
        <p^K> (p near 1 at large K). The ratio <p^2K> / <p^K> in a is the larger of the estimate's
        and the curve's own last ratio over a doubling, t(K) / t(K/2) (a local power law in k): beyond
        k_max / 2 the estimate extrapolates, and it spreads the mass of a few problems near p = 1
        into a lighter tail exactly when the sample held few of them. A bootstrap of the smoothed
        estimate would miss the smoothing's pull on the read-off."""
        o = self.observed
        if o is None or not (o["k"][0] <= K <= o["k"][-1]) or np.any(o["t"] <= 0):
            return None
        lk = np.log(o["k"])
        at = lambda v, kk=K: float(np.interp(math.log(kk), lk, v))
        t, s, a = math.exp(at(np.log(o["t"]))), at(o["s"]), at(o["a"])
        if o.get("n") and K / 2 >= o["k"][0] and t < 1:
            half = math.exp(at(np.log(o["t"]), K / 2))
            a = max(a, max(t * min(t / half, 1.0) - t * t, 0.0) / (t * (1 - t)) / o["n"])
        return _score_interval(t, a, s, self.level)

    def _functional(self, name, rows, definition, share=False):
        """Row 0's read-off with the percentiles of the replicates (rows 1...). ``share``: the read-off is
        the share of problems in a set; where each replicate drew ``n_problems`` problems from the
        estimate, the interval also holds Wilson's score interval for that share: drawn from an estimate
        that puts (nearly) no mass where the population has a few problems, replicates see none there
        and their percentiles shrink to a point; the score interval takes the sampling variance at each
        value it tests, theta (1 - theta) / n, not at the estimate."""
        rows = np.asarray(rows, dtype=float)
        value = float(rows[0])
        if rows.size < 3:
            return Functional(name, value, None, None, self.level, definition)
        lo, hi = np.quantile(rows[1:], [0.5 - self.level / 2, 0.5 + self.level / 2])
        if not share:  # also the basic (pivotal) interval: the replicates come from the smoothed estimate, and
            # where smoothing pulls the read-off one way the replicates' spread about it shows the pull
            lo, hi = min(lo, 2 * value - hi), max(hi, 2 * value - lo)
        if share and self.n_problems:
            w_lo, w_hi = _score_interval(min(max(value, 0.0), 1.0), 1.0 / self.n_problems, 0.0, self.level)
            lo, hi = min(lo, w_lo), max(hi, w_hi)
        return Functional(name, value, float(min(lo, value)), float(max(hi, value)), self.level, definition)

    def to_dict(self):
        lo, hi = self.band()
        d = {"sigma": self.sigma, "density": self.density(), "low": lo, "high": hi, "weights": self.weights,
             "never_solved": self.never_solved, "always_solved": self.always_solved, "method": self.method,
             "regularization": self.regularization, "level": self.level, "note": self.note, "k_max": self.k_max}
        if self.never_boot is not None:
            d["never_solved_low"], d["never_solved_high"] = np.quantile(self.never_boot, [0.5 - self.level / 2,
                                                                                       0.5 + self.level / 2]).tolist()
        if self.k_max is not None:
            u = self.functionals(ks=[])["unresolved"]
            d["unresolved_mass"], d["unresolved_low"], d["unresolved_high"] = u.value, u.low, u.high
        d.update(self.extra)
        return d


# ------------------------------------------------------------------ parametric
def invert_parametric(model, sigma, method: str | None = None, dps: int | None = None, order: int = 200):
    """A f(sigma) by numerical inversion of the model's Laplace transform (Eq. 10).

    ``talbot`` and ``dehoog`` (and ``stehfest``) run ``mpmath.invertlaplace`` on the model's mpmath
    transform at complex s. Talbot's contour needs the transform continued to Re(s) < 0, which
    models with a closed form have (the Beta family); for models whose transform is a quadrature over
    q (valid for Re(s) > 0), de Hoog's method, whose contour is a vertical line in Re(s) > 0, is the
    default. The working precision is 30 digits, raised with sigma so that values ~exp(-alpha sigma)
    keep their relative digits. ``cme``: the concentrated matrix-exponential rule of ``order`` in
    double precision on the transform at Re(s) > 0 (closed form or a quadrature over sigma): no
    overshoot, relative error ~1e-4 in the bulk of the density at order 200, more in its steep tails
    (:mod:`difficulty.laplace_inversion`)."""
    sig = np.atleast_1d(np.asarray(sigma, dtype=float))
    if method == "cme":
        from .laplace_inversion import double_transform, invert_cme

        if np.any(sig <= 0):
            raise DifficultyError("sigma must be > 0 (the atom at sigma = 0 is the never-solved mass)")
        return np.clip(invert_cme(double_transform(model), sig, order), 0.0, None) * model.ceiling
    import mpmath as mp

    method = method or ("talbot" if getattr(model, "analytic_transform", False) else "dehoog")
    if method not in ("talbot", "dehoog", "stehfest"):
        raise DifficultyError(f"unknown inversion method {method!r}: talbot, dehoog, stehfest or cme")
    if not hasattr(model, "mp_laplace_transform") or getattr(model, "shape", ()) != ():
        raise DifficultyError(f"model {model.name!r} has no mpmath transform to invert (one parameter set needed)")
    if np.any(sig <= 0):
        raise DifficultyError("sigma must be > 0 (the atom at sigma = 0 is the never-solved mass)")
    out = np.empty(sig.size)
    for i, s in enumerate(sig):
        work = dps or int(30 + max(0.0, s) / 2)
        with mp.workdps(work):
            F = lambda z: model.mp_laplace_transform(z, mp)  # noqa: E731
            out[i] = float(mp.invertlaplace(F, mp.mpf(s), method=method))
    return np.clip(out, 0.0, None) * model.ceiling


# ------------------------------------------------------------------ shared pieces
def _grid(k_max, noise, n_grid=120):
    lo = 0.1 / k_max
    hi = max(math.log(1.0 / max(noise, 1e-12)) + 5.0, 1.0)  # noise above e^5 (a curve at 1) must not end it below lo
    return np.exp(np.linspace(math.log(lo), math.log(hi), n_grid))


def _second_difference(n):
    D = np.zeros((n - 2, n))
    for i in range(n - 2):
        D[i, i:i + 3] = (1.0, -2.0, 1.0)
    return D


SUM_WEIGHT = 1e3  # weight of the sum-to-one row of the curve inversion


def _nnls_tikhonov(Kw, yw, lam, D, sum_weight=SUM_WEIGHT):
    """min ||Kw x - yw||^2 + lam ||D x_grid||^2, x >= 0, sum x = 1 (heavily weighted row)."""
    ng = D.shape[1]
    ncol = Kw.shape[1]
    Dfull = np.zeros((D.shape[0], ncol))
    Dfull[:, :ng] = D
    A = np.vstack([Kw, math.sqrt(lam) * Dfull, sum_weight * np.ones((1, ncol))])
    b = np.concatenate([yw, np.zeros(D.shape[0]), [sum_weight]])
    x, _ = optimize.nnls(A, b, maxiter=50 * ncol)
    return x


def _discrepancy(Kw, yw, D, target):
    """Largest strength whose whitened chi^2 is within the discrepancy target (bisection in log)."""
    def chi2(loglam):
        x = _nnls_tikhonov(Kw, yw, math.exp(loglam), D)
        r = Kw @ x - yw
        return float(r @ r), x

    lo, hi = -30.0, 45.0
    c_lo, x_lo = chi2(lo)
    if c_lo > target:  # even the closest fit misses: the noise was underestimated; allow that much more
        target = c_lo + target
    c_hi, x_hi = chi2(hi)
    if c_hi <= target:
        return math.exp(hi), x_hi
    best = (math.exp(lo), x_lo)
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        c, x = chi2(mid)
        if c <= target:
            lo, best = mid, (math.exp(mid), x)
        else:
            hi = mid
        if hi - lo < 0.05:
            break
    return best


def _influence_trace(Kw, D, x, lam, sum_weight=SUM_WEIGHT):
    """Degrees of freedom of a Tikhonov-NNLS fit: the trace of d(fit)/d(data) with the active set
    (positive coefficients) held fixed, the sum-to-one row included."""
    act = np.flatnonzero(x > 0)
    if act.size == 0:
        return 0.0
    ng = D.shape[1]
    Ka = Kw[:, act]
    Da = np.zeros((D.shape[0], act.size))
    grid = act < ng
    Da[:, grid] = D[:, act[grid]]
    M = Ka.T @ Ka + lam * Da.T @ Da + sum_weight**2 * np.ones((act.size, act.size))
    try:
        return float(np.trace(Ka @ np.linalg.solve(M, Ka.T)))
    except np.linalg.LinAlgError:
        return float(np.trace(Ka @ np.linalg.lstsq(M, Ka.T, rcond=None)[0]))


GCV_LOG_STRENGTHS = np.arange(-30.0, 45.1, 2.5)


def _gcv(Kw, yw, D, grid=GCV_LOG_STRENGTHS):
    """The strength minimising generalised cross-validation, n RSS / (n - df)^2, over a log grid;
    and the solution there."""
    n = Kw.shape[0]
    best = (np.inf, None, None)
    for loglam in grid:
        lam = math.exp(loglam)
        x = _nnls_tikhonov(Kw, yw, lam, D)
        r = Kw @ x - yw
        df = _influence_trace(Kw, D, x, lam)
        score = n * float(r @ r) / max(n - df, 0.5) ** 2
        if score < best[0]:
            best = (score, lam, x)
    return best[1], best[2]


def _design(k, sigma):
    K = np.exp(-np.outer(k, sigma))
    return np.hstack([K, np.ones((k.size, 1)), np.zeros((k.size, 1))])  # grid | never | always


NOTE = ("mass at sigma below ~1/k_max ({:.3g}) cannot be told apart from 'never solved' without a "
        "parametric tail; it is reported with the never-solved atom")


# ------------------------------------------------------------------ the noise of a bare curve
NOISE_SHAPES = ("relative", "absolute", "binomial")


def _noise_shape(shape, y):
    """The shape s_k of the noise of each pass@k value (sd = scale * s_k), floored so that none is 0."""
    t = 1.0 - y
    if shape == "relative":  # noise proportional to the failure rate, 1 - pass@k
        s = t
    elif shape == "absolute":
        s = np.ones_like(t)
    elif shape == "binomial":  # a mean of n Bernoulli-like terms: sqrt(pass (1 - pass))
        s = np.sqrt(np.clip(y * t, 0.0, None))
    else:
        raise DifficultyError(f"unknown noise shape {shape!r}: {', '.join(NOISE_SHAPES)} or auto")
    return np.maximum(s, 1e-3 * max(float(s.max()), 1e-300))


@dataclass(frozen=True)
class CurveNoise:
    """The noise of a bare pass@k curve, estimated without a parametric model."""

    sd: np.ndarray  # standard deviation of each pass@k value
    scale: float  # sd = scale * shape
    shape: str  # relative (to 1 - pass@k), absolute or binomial (sqrt(pass (1 - pass)))
    dof: float  # residual degrees of freedom of the completely monotone fit
    difference_scale: float  # the same scale by Gasser-Sroka-Jennen-Steinmetz differences in log k (a check)
    loglik: dict  # profile log-likelihood of each shape tried

    def to_dict(self):
        return {"sd": self.sd, "scale": self.scale, "shape": self.shape, "dof": self.dof,
                "difference_scale": self.difference_scale, "loglik": dict(self.loglik),
                "method": "residuals of the unpenalised NNLS (completely monotone) fit over their degrees of freedom"}


def _difference_scale(k, v):
    """Noise scale of v (already divided by its shape) from the second-order pseudo-residuals of
    Gasser, Sroka and Jennen-Steinmetz (1986) on the log-k grid: each point against the straight
    line through its neighbours, sum of squares normalised to the noise variance."""
    u = np.log(k)
    if u.size < 3:
        return float("nan")
    a = (u[2:] - u[1:-1]) / (u[2:] - u[:-2])
    e = a * v[:-2] + (1 - a) * v[2:] - v[1:-1]
    return float(math.sqrt(np.mean(e**2 / (a**2 + (1 - a) ** 2 + 1))))


def estimate_curve_noise(k, pass_at_k, shape: str = "auto", n_grid: int = 200) -> CurveNoise:
    """Noise of a bare curve without a parametric model.

    Every curve 1 - pass@k = <p^k> is completely monotone in k (a Laplace transform of a positive
    measure), so the best completely monotone fit, the unpenalised NNLS on a fine sigma grid, has
    no bias: its weighted residual sum of squares over its residual degrees of freedom (number of
    points minus the number of positive coefficients, Meyer and Woodroofe 2000) estimates the noise
    variance. ``shape``: how the noise varies across k (relative to 1 - pass@k, absolute, binomial
    sqrt(pass (1 - pass))), or ``auto``: the shape of largest profile likelihood. The second-order
    difference estimate in log k (Gasser et al. 1986) is reported beside it: it needs no fit but
    carries the curvature of the curve between points as noise (it reads 1.3-2.4x the true noise at
    0.1% noise on 40 points per four decades)."""
    k = np.asarray(k, dtype=float)
    y = np.asarray(pass_at_k, dtype=float)
    shapes = NOISE_SHAPES if shape == "auto" else (shape,)
    sigma = _grid(k.max(), 1e-6, n_grid)
    K = _design(k, sigma)
    D = _second_difference(sigma.size)
    fits, ll = {}, {}
    n = k.size
    for sh in shapes:
        s = _noise_shape(sh, y)
        x = _nnls_tikhonov(K / s[:, None], (1 - y) / s, 0.0, D)
        r = (K @ x - (1 - y)) / s
        df = int(np.sum(x[:-2] > 0) + (x[-2] > 0)) - int(x[-1] <= 0)  # a binding sum-to-one row takes one
        dof = max(n - df, 1)
        var = max(float(r @ r) / dof, 1e-300)
        ll[sh] = -0.5 * n * math.log(var) - float(np.sum(np.log(s)))  # Gaussian, sd = scale s_k, at its scale
        fits[sh] = (math.sqrt(var), dof, s)
    best = max(ll, key=ll.get)
    scale, dof, s = fits[best]
    v = (1 - y) / s
    return CurveNoise(scale * s, scale, best, float(dof), _difference_scale(k, v) if best != "relative" else
                      _difference_scale(k, np.log(np.clip(1 - y, 1e-300, None))), ll)


def curve_covariance(k, transform, n_problems: int):
    """Covariance across k of a mean pass@k over n problems drawn from a distribution whose
    transform is <p^K> = ``transform(K)``: Cov(p^k, p^k') / n = (<p^(k+k')> - <p^k><p^k'>) / n."""
    k = np.asarray(k, dtype=float)
    t = np.asarray(transform(k), dtype=float)
    tt = np.asarray(transform(k[:, None] + k[None, :]), dtype=float)
    return (tt - np.outer(t, t)) / float(n_problems)


# ------------------------------------------------------------------ from the aggregate curve
def invert_curve(k, pass_at_k, noise=None, cov=None, n_grid: int = 120, level: float = 0.9, n_boot: int = 100,
                 boot_curves=None, n_problems: int | None = None, undersmooth: float = 0.001,
                 seed=0, noise_shape: str = "auto") -> DensityEstimate:
    """Tikhonov-NNLS inversion of an aggregate pass@k curve (module docstring).

    ``noise``: standard deviation of each pass@k value (scalar or array). ``cov``: their
    covariance across k. ``boot_curves``: (B, len(k)) curves from a bootstrap over problems,
    used for the band (and for ``cov`` when it is not given). With none of the three, the noise is
    estimated from the curve (:func:`estimate_curve_noise`, of shape ``noise_shape``) and, when
    ``n_problems`` is given, the problem-sampling covariance of a curve averaged over that many
    problems is added (:func:`curve_covariance`, from a first inversion). ``undersmooth``: factor
    applied to each bootstrap replicate's own discrepancy strength (1 gives the plain percentile band).
    """
    k = np.asarray(k, dtype=float)
    y = np.asarray(pass_at_k, dtype=float)
    if k.ndim != 1 or k.shape != y.shape or k.size < 3:
        raise DifficultyError("the inversion needs at least 3 (k, pass@k) points")
    if np.any((y < 0) | (y > 1)) or np.any(k < 1):
        raise DifficultyError("pass@k must be in [0, 1] and k >= 1")
    if np.all(y == 0):
        raise DifficultyError("pass@k is 0 at every k (no problem was ever solved): nothing to invert")
    if np.all(y == 1):
        raise DifficultyError("pass@k is 1 at every k (every attempt succeeded): the difficulty distribution is an "
                              "atom at p = 0 (sigma = infinity), with no density to invert")
    if not (0 < undersmooth <= 1):
        raise DifficultyError(f"undersmooth must be in (0, 1], got {undersmooth}")
    if noise is not None and np.any(np.asarray(noise, dtype=float) <= 0):
        raise DifficultyError("the noise of the curve must be > 0")
    extra = {}
    user_cov = cov is not None
    measurement = None  # the part of the noise a bootstrap adds after drawing problems
    if boot_curves is not None and cov is None:
        cov = np.cov(boot_curves, rowvar=False)
    elif cov is None and noise is None:
        found = estimate_curve_noise(k, y, shape=noise_shape)
        extra["noise"] = found.to_dict()
        noise = measurement = found.sd
        if n_problems:  # a first inversion, at the binomial-type variance, gives <p^(k+k')> for the covariance
            pilot_sd = np.sqrt(curve_noise(y, int(n_problems)) ** 2 + found.sd**2)
            pilot = invert_curve(k, y, noise=pilot_sd, n_grid=n_grid, n_boot=0)
            cov = curve_covariance(k, pilot.transform, int(n_problems)) + np.diag(found.sd**2)
            extra["noise"]["n_problems"] = int(n_problems)
    if cov is not None:
        cov = np.atleast_2d(cov) + np.eye(k.size) * 1e-14
        L = np.linalg.cholesky(cov)
        white = lambda M: np.linalg.solve(L, M)
        sd = np.sqrt(np.diag(cov))
    else:
        sd = np.broadcast_to(np.asarray(noise, dtype=float), y.shape).copy()
        sd = np.maximum(sd, 1e-12)
        white = lambda M: M / (sd[:, None] if M.ndim == 2 else sd)
    rel_noise = float(np.median(sd / np.maximum(1 - y, 1e-12)))
    sigma = _grid(k.max(), max(rel_noise, 1e-9), n_grid)
    K = _design(k, sigma)
    D = _second_difference(sigma.size)
    t = 1.0 - y
    Kw, yw = white(K), white(t)
    lam, x = _discrepancy(Kw, yw, D, target=float(k.size))
    est = DensityEstimate(sigma, x[:-2], float(x[-2]), float(x[-1]), "tikhonov-nnls", lam, level=level,
                          note=NOTE.format(1.0 / k.max()), k_max=float(k.max()))
    if n_boot or boot_curves is not None:  # the cross-check costs a grid of fits: only for a full result
        lam_gcv, x_gcv = _gcv(Kw, yw, D)
        other = DensityEstimate(sigma, x_gcv[:-2], float(x_gcv[-2]), float(x_gcv[-1]), "gcv")
        grid_p = np.linspace(0, 1, 2001)
        extra["gcv"] = {"regularization": lam_gcv,
                        "w1_p_to_discrepancy": float(np.trapezoid(np.abs(other.cdf_p(grid_p) - est.cdf_p(grid_p)),
                                                                  grid_p))}
    est.extra.update(extra)
    # each 1 - pass@k about the population's <p^k>: measurement sd s and, when the curve averages n problems,
    # their sampling variance (<p^2k> - <p^k>^2) / n = a <p^k> (1 - <p^k>) (a from the estimate)
    s_meas, sampling, n_drawn = sd, np.zeros_like(sd), None
    if n_problems and boot_curves is None and not user_cov:
        s_meas, n_drawn = (sd if measurement is None else measurement), int(n_problems)
        m = est.transform(k)
        sampling = np.clip(np.diag(curve_covariance(k, est.transform, n_drawn)), 0.0, None) / np.clip(m * (1 - m),
                                                                                                     1e-300, None)
    order = np.argsort(k)
    est.observed = {"k": k[order], "t": t[order], "s": np.asarray(s_meas)[order], "a": sampling[order],
                    "n": n_drawn}
    rng = np.random.default_rng(seed)
    reps = []
    if boot_curves is not None:
        curves = boot_curves
    else:
        fitted = np.tile(K @ x, (n_boot, 1))
        if n_problems:
            atoms = np.concatenate([np.exp(-sigma), [1.0, 0.0]])
            probs = np.clip(x, 0, None) / np.clip(x, 0, None).sum()
            for b in range(n_boot):
                draw = rng.multinomial(int(n_problems), probs) / n_problems
                fitted[b] = (draw[None, :] * atoms[None, :] ** k[:, None]).sum(axis=1)
        if measurement is not None and n_problems:  # problems drawn above; only the measurement noise is left
            curves = 1 - (fitted + measurement * rng.standard_normal((n_boot, k.size)))
        elif cov is not None:
            curves = 1 - (fitted + (np.linalg.cholesky(cov) @ rng.standard_normal((k.size, n_boot))).T)
        else:
            curves = 1 - (fitted + sd * rng.standard_normal((n_boot, k.size)))
    for c in curves:  # each replicate chooses its own strength, so the band carries that choice too
        yb = white(1.0 - np.clip(c, 0, 1))
        lam_b, xb = _discrepancy(Kw, yb, D, target=float(k.size))
        reps.append(xb if undersmooth == 1 else _nnls_tikhonov(Kw, yb, lam_b * undersmooth, D))
    reps = np.array(reps) if reps else x[None, :]
    est.weights_boot, est.never_boot = reps[:, :-2], reps[:, -2]
    if boot_curves is None and n_problems:  # each replicate drew n_problems problems from the estimate
        est.n_problems = int(n_problems)
    return est


# ------------------------------------------------------------------ from per-problem counts
def _binom_loglik_matrix(n, c, q):
    """log Binomial(c; n, q_j) for each pair and grid point (q = 0, 1 handled exactly)."""
    from scipy.special import gammaln, xlog1py, xlogy

    coef = gammaln(n + 1) - gammaln(c + 1) - gammaln(n - c + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return coef[:, None] + xlogy(c[:, None], q[None, :]) + xlog1py((n - c)[:, None], -q[None, :])


def _check_invertible(n, c) -> None:
    """Counts that are all failures or all successes have no density to invert: say which."""
    if np.all(c == 0):
        raise DifficultyError("no problem was ever solved (all c = 0): nothing to invert")
    if np.all(c == n):
        raise DifficultyError("every attempt succeeded (all c = N): the difficulty distribution is an atom at "
                              "p = 0 (sigma = infinity), with no density to invert")


def _em(logL, weights, x0, iters, tol=1e-9, smooth=0):
    """EM for mixing weights on fixed components: x_j <- x_j * mean_i [L_ij / sum_j' L_ij' x_j'].

    With ``smooth`` > 0, each step is followed by ``smooth`` passes of a (1/4, 1/2, 1/4) kernel over
    the grid weights (EMS, Silverman et al. 1990); the two atoms (last columns) are not smoothed.
    """
    m = logL.max(axis=1, keepdims=True)
    L = np.exp(logL - m)
    x = x0.copy()
    n = weights.sum()
    for _it in range(iters):
        denom = L @ x
        # a pair left out of a bootstrap resample (weight 0) may have no likelihood left under x: 0, not 0/0
        ratio = np.divide(weights, denom, out=np.zeros_like(denom), where=weights > 0)
        new = x * (L.T @ ratio) / n
        for _ in range(smooth):
            g = new[:-2]
            padded = np.concatenate([[g[0]], g, [g[-1]]])
            new = np.concatenate([0.25 * padded[:-2] + 0.5 * padded[1:-1] + 0.25 * padded[2:], new[-2:]])
            new = new / new.sum()
        if np.max(np.abs(new - x)) < tol:
            x = new
            break
        x = new
    return x


def _spline_basis(u, n_basis, degree=3):
    """Cubic B-splines with equally spaced knots over u (the grid's log sigma): (len(u), n_basis)."""
    from scipy.interpolate import BSpline

    inner = np.linspace(u[0], u[-1], n_basis - degree + 1)
    h = inner[1] - inner[0]
    knots = np.concatenate([u[0] - h * np.arange(degree, 0, -1), inner, u[-1] + h * np.arange(1, degree + 1)])
    return BSpline.design_matrix(u, knots, degree).toarray()


class _LogSpline:
    """The penalised NPMLE of a binomial mixture on a grid plus two atoms (Efron 2016's g-modelling
    with a P-spline penalty, Eilers and Marx 1996): log-weights theta = X beta, theta on the grid a
    cubic B-spline in log sigma, the atoms free; maximise (1/n) sum_i w_i log(sum_j L_ij pi_j(beta))
    - lam ||D beta_spline||^2 with pi = softmax(theta), by Newton's method with Levenberg damping
    and a backtracking line search (exact gradient and Hessian)."""

    def __init__(self, L, sigma, n_basis=30):
        ng = sigma.size
        B = _spline_basis(np.log(sigma), n_basis)
        self.X = np.zeros((ng + 2, n_basis + 2))
        self.X[:ng, :n_basis] = B
        self.X[ng, n_basis] = self.X[ng + 1, n_basis + 1] = 1.0
        D = _second_difference(n_basis)
        self.P = np.zeros((n_basis + 2, n_basis + 2))
        self.P[:n_basis, :n_basis] = D.T @ D
        self.L = L

    def _evaluate(self, beta, Ll, wl, n, lam, full=True):
        pi = _softmax(self.X @ beta)
        m = Ll @ pi
        with np.errstate(divide="ignore"):  # a trial step may leave a pair no likelihood: f = inf, step refused
            f = -float(wl @ np.log(m)) / n + lam * float(beta @ self.P @ beta)
        if not full:
            return f
        g_em = Ll.T @ (wl / m)  # sum_i w_i L_ij / m_i: n at every positive weight of an unpenalised optimum
        grad = -self.X.T @ (pi * (g_em - n)) / n + 2 * lam * (self.P @ beta)
        J = (np.diag(pi) - np.outer(pi, pi)) @ self.X  # d pi / d beta
        A = (Ll * (np.sqrt(wl) / m)[:, None]) @ J
        gp = g_em * pi
        second = np.diag(pi * (g_em - n)) - np.outer(gp, pi) - np.outer(pi, gp) + 2 * n * np.outer(pi, pi)
        hess = (A.T @ A - self.X.T @ second @ self.X) / n + 2 * lam * self.P
        return f, grad, hess

    def fit(self, w, lam, beta0, maxiter=200):
        from scipy import linalg

        live = w > 0
        Ll, wl, n = self.L[live], w[live], float(w.sum())
        beta = beta0.copy()
        f, g, H = self._evaluate(beta, Ll, wl, n, lam)
        eye = np.eye(beta.size)
        mu = 1e-8
        for _ in range(maxiter):
            while True:  # Levenberg damping until the system is positive definite
                try:
                    factor = linalg.cho_factor(H + (mu + 1e-12) * eye)
                    break
                except linalg.LinAlgError:
                    mu = max(10 * mu, 1e-8)
            d = -linalg.cho_solve(factor, g)
            step, slope = 1.0, float(g @ d)
            while True:
                f_new = self._evaluate(beta + step * d, Ll, wl, n, lam, full=False)
                if f_new <= f + 1e-4 * step * slope:
                    break
                step *= 0.5
                if step < 1e-10:  # no descent along d: as good as this solver gets
                    return beta
            beta = beta + step * d
            done = f - f_new <= 1e-12 * max(abs(f), 1.0) and np.max(np.abs(g)) < 1e-7
            f, g, H = self._evaluate(beta, Ll, wl, n, lam)
            if done:
                break
            mu = mu * 0.3 if step == 1.0 else mu * 3
        return beta

    def weights(self, beta):
        return _softmax(self.X @ beta)


def _softmax(theta):
    e = np.exp(theta - theta.max())
    return e / e.sum()


def _held_out_loglik(L, w, pi):
    live = w > 0
    return float(w[live] @ np.log(L[live] @ pi))


def _fold_weights(w, folds, rng):
    """Split the problems of each (N, c) pair at random into ``folds`` folds: (folds, pairs) weights."""
    idx = np.repeat(np.arange(w.size), w.astype(int))
    fold = rng.permutation(idx.size) % folds
    return np.array([np.bincount(idx[fold == f], minlength=w.size) for f in range(folds)], dtype=float)


PENALTIES = np.exp(np.linspace(math.log(1e-7), math.log(10.0), 17))  # the strengths cross-validation chooses from


def _cross_validate(model, w, beta0, folds, rng, penalties=PENALTIES):
    """K-fold cross-validation over problems: the held-out log-likelihood of each penalty, and the
    largest penalty within one standard error of the best (Breiman et al. 1984's one-SE rule; the
    error of the difference from the best, paired over the held-out problems): the smoothest
    distribution the data cannot tell from the best-predicting one."""
    held = _fold_weights(w, folds, rng)
    per_pair = np.zeros((len(penalties), folds, w.size))  # log-likelihood of one held-out problem of each pair
    starts = [beta0.copy() for _ in range(folds)]
    for j in np.argsort(penalties)[::-1]:  # strong to weak: each fit starts from the last
        for f in range(folds):
            beta = model.fit(w - held[f], penalties[j], starts[f])
            starts[f] = beta
            with np.errstate(divide="ignore"):
                per_pair[j, f] = np.log(model.L @ model.weights(beta))
    mult = held.reshape(-1)  # problems behind each (fold, pair) entry
    live = mult > 0
    values = per_pair.reshape(len(penalties), -1)[:, live]
    mult = mult[live]
    scores = values @ mult
    best = int(np.argmax(scores))
    diff = values[best] - values
    n = mult.sum()
    mean = (diff @ mult) / n
    se = np.sqrt(np.maximum(((diff - mean[:, None]) ** 2) @ mult, 0.0) * n / max(n - 1, 1))
    # a held-out problem no fit can explain (log-likelihood -inf, as for c = 0 when its fold held all of them)
    # leaves the differences undefined: then no penalty is within one error of the best but the best itself
    within = np.flatnonzero(scores >= scores[best] - np.nan_to_num(se, nan=0.0))
    within = within if within.size else np.array([best])
    chosen = int(within[np.argmax(np.asarray(penalties)[within])])
    return float(penalties[chosen]), {"penalty": list(map(float, penalties)), "held_out_loglik": scores.tolist(),
                                      "standard_error": se.tolist(), "best": float(penalties[best]),
                                      "rule": "largest penalty within one standard error of the best",
                                      "folds": int(folds)}


def invert_counts(counts: EvalCounts, n_grid: int = 120, level: float = 0.9, n_boot: int = 50, iters: int = 3000,
                  smooth: int = 3, seed=0, method: str = "log-spline", penalty: float | None = None,
                  folds: int = 5, undersmooth: float = 0.01) -> DensityEstimate:
    """The distribution of p from per-problem counts: a smooth NPMLE on a sigma grid plus atoms.

    ``method="log-spline"`` (default): weights softmax(theta), theta's second differences penalised
    with strength ``penalty``, chosen by ``folds``-fold cross-validation over problems when None.
    ``method="ems"``: EM with ``smooth`` smoothing passes per step (``iters`` steps). Band and
    intervals: ``n_boot`` bootstrap resamples of the problems, each refitted at the same strength."""
    if method not in ("log-spline", "ems"):
        raise DifficultyError(f"unknown counts inversion {method!r}: log-spline or ems")
    h = counts.histogram()
    _check_invertible(h.n, h.c)
    n, c, w = h.n.astype(float), h.c.astype(float), h.weight.astype(float)
    k_max = float(n.max())
    sigma = _grid(k_max, 1.0 / (10 * k_max), n_grid)
    q = np.concatenate([-np.expm1(-sigma), [0.0, 1.0]])  # grid | never (q = 0) | always (q = 1)
    logL = _binom_loglik_matrix(n, c, q)
    rng = np.random.default_rng(seed)
    extra = {}
    if method == "ems":
        x = _em(logL, w, np.full(q.size, 1.0 / q.size), iters, smooth=smooth)
        refit = lambda wb: _em(logL, wb, x, iters // 3, smooth=smooth)
        name, strength = "npmle-em", None
    else:
        model = _LogSpline(np.exp(logL - logL.max(axis=1, keepdims=True)), sigma)
        beta0 = np.zeros(model.X.shape[1])
        if penalty is None:
            used = int(min(folds, w.sum()))
            if used >= 2:
                penalty, table = _cross_validate(model, w, beta0, used, rng)
                extra["cross_validation"] = table
            else:  # one problem: nothing to hold out; the weakest penalty, the plain NPMLE
                penalty = float(PENALTIES[0])
        beta = model.fit(w, penalty, beta0)
        x = model.weights(beta)
        refit = lambda wb: model.weights(model.fit(wb, penalty * undersmooth, beta))
        name, strength = "npmle-log-spline", float(penalty)
    reps = []
    for _ in range(int(n_boot)):
        wb = rng.multinomial(int(w.sum()), w / w.sum()).astype(float)
        reps.append(refit(wb))
    reps = np.array(reps) if reps else np.tile(x, (1, 1))
    return DensityEstimate(sigma, x[:-2], float(x[-2]), float(x[-1]), name, strength, reps[:, :-2], reps[:, -2],
                           level=level, note=NOTE.format(1.0 / k_max), extra=extra, k_max=k_max)


# ------------------------------------------------------------------ read-offs
def wasserstein_p(est: DensityEstimate, true_cdf, n=20001):
    """W1 between the recovered distribution of p and a true one (CDF callable on [0, 1])."""
    p = np.linspace(0, 1, n)
    return float(np.trapezoid(np.abs(est.cdf_p(p) - true_cdf(p)), p))


def obtainable_mass(est: DensityEstimate, budget: float, band=(0.5, 0.99)):
    """Mass of problems solved with probability in [lo, hi] within ``budget`` attempts, with the
    interval of the bootstrap replicates at ``est.level`` (widened to hold the estimate)."""
    from .ranking import band_to_q

    q_lo, q_hi = band_to_q(band, budget)
    s_lo, s_hi = -math.log1p(-q_lo), (-math.log1p(-q_hi) if q_hi < 1 else np.inf)
    inside = (est.sigma >= s_lo) & (est.sigma <= s_hi)
    mass = float(est.weights[inside].sum())
    if est.weights_boot is not None:
        b = est.weights_boot[:, inside].sum(axis=1)
        lo, hi = np.quantile(b, [0.5 - est.level / 2, 0.5 + est.level / 2])
        return mass, float(min(lo, mass)), float(max(hi, mass))
    return mass, None, None


def tail_exponent(est: DensityEstimate, k_max: float):
    """beta in F(sigma) ~ C sigma^beta as sigma -> 0 (the power law of the inference loss),
    by least squares of log F on log sigma over sigma in [1/k_max, 30/k_max]."""
    F = np.cumsum(est.weights)
    sel = (est.sigma >= 1.0 / k_max) & (est.sigma <= 30.0 / k_max) & (F > 0)
    if sel.sum() < 3:
        return None
    slope = np.polyfit(np.log(est.sigma[sel]), np.log(F[sel]), 1)[0]
    return float(slope)


def count_modes(est: DensityEstimate, prominence: float = 0.05):
    """Modes of sigma f(sigma) (the density per unit log sigma, as the figures draw it): local
    maxima of the grid weights whose prominence is at least ``prominence`` times the largest."""
    from scipy.signal import find_peaks

    w = np.concatenate([[0.0], est.weights, [0.0]])  # a maximum at either end of the grid counts too
    peaks, _ = find_peaks(w, prominence=prominence * float(w.max()))
    return int(peaks.size)


# ------------------------------------------------------------------ a known distribution on an estimate's basis
def _model_cumulative(model, upper):
    """sigma grid (log-spaced from 1e-300 to ``upper``) and the model's mass below each point,
    A integral_0^sigma f (trapezoid in log sigma; the density ~sigma^(b - 1) at 0 is smooth there)."""
    u = np.arange(math.log(1e-300), math.log(upper) + 0.01, 0.005)
    s = np.exp(u)
    with np.errstate(under="ignore"):
        g = np.asarray(model.density_sigma(s), dtype=float) * s
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (g[1:] + g[:-1]) * np.diff(u))])
    return u, cum


def project_model(model, est: DensityEstimate) -> DensityEstimate:
    """A known distribution of p (a model) on the basis of an estimate: the mass of each of its
    cells, the never-solved atom plus the mass below the grid's first edge, the always-solved atom
    the mass beyond its last. Compared with ``est`` on this basis (``unresolved_mass``,
    ``functionals``, ``cdf_sigma``), the truth and the estimate say the same thing."""
    if getattr(model, "shape", ()) != ():
        raise DifficultyError("projecting a model needs one parameter set, not a stack")
    e = est.edges
    u, cum = _model_cumulative(model, e[-1])
    at = np.interp(np.log(e), u, cum)
    solvable = float(model.ceiling)
    weights = np.diff(at)
    never = float(model.never_solved) + float(at[0])
    always = max(solvable - float(at[-1]), 0.0)
    return DensityEstimate(est.sigma.copy(), weights, never, always, f"{model.name} on the estimate's basis",
                           level=est.level, note=est.note, k_max=est.k_max)


def model_functionals(model, k_max: float, band_q=(1e-3, 0.1), ks=()):
    """The read-offs of :meth:`DensityEstimate.functionals` for a known distribution, exactly:
    mass with success probability in ``band_q``, the unresolved mass (never solved or sigma below
    1/k_max) and <p^K> = 1 - pass@K at each K of ``ks``."""
    s_lo = -math.log1p(-band_q[0]) if band_q[0] > 0 else 0.0
    s_hi = -math.log1p(-band_q[1]) if band_q[1] < 1 else np.inf
    upper = max(60.0, 2 * s_hi if np.isfinite(s_hi) else 60.0, 2.0 / k_max)
    u, cum = _model_cumulative(model, upper)
    F = lambda s: float(np.interp(math.log(s), u, cum)) if s > 0 else 0.0
    mass = (F(s_hi) if np.isfinite(s_hi) else float(model.ceiling)) - F(s_lo)
    if band_q[0] <= 0:
        mass += float(model.never_solved)
    out = {f"mass_q[{band_q[0]:.3g},{band_q[1]:.3g}]": mass,
           "unresolved": float(model.never_solved) + F(1.0 / k_max)}
    for K in ks:
        out[f"p^{K:g}"] = float(1.0 - model.pass_at_k(float(K)))
    return out


# ------------------------------------------------------------------ the curve of a file or of counts
def curve_noise(pass_at_k, n_problems: int):
    """Binomial standard error of a mean pass@k over ``n_problems`` problems,
    sqrt(pass (1 - pass) / n), with pass (1 - pass) floored at 1/n (one problem's worth) so
    that a curve at 0 or 1 still has noise. An upper bound: the exact variance is
    (<p^(2k)> - <p^k>^2) / n (:func:`curve_covariance`)."""
    y = np.asarray(pass_at_k, dtype=float)
    n = float(n_problems)
    return np.sqrt(np.clip(y * (1 - y), 1.0 / n, None) / n)


def invert_counts_curve(counts: EvalCounts, n_k: int = 40, n_boot: int = 100, level: float = 0.9,
                        seed=0) -> DensityEstimate:
    """Tikhonov-NNLS inversion (:func:`invert_curve`) of the aggregate curve built from counts.

    The curve is the mean unbiased pass@k over problems at ``n_k`` log-spaced k up to the
    smallest N; its noise and band come from ``n_boot`` bootstrap resamples of the problems
    (each a mean of the per-problem pass@k of a resample drawn with replacement)."""
    from .passk import pass_at_k_matrix

    _check_invertible(counts.n, counts.c)
    nmin = int(counts.n.min())
    k = np.unique(np.round(np.logspace(0, np.log10(nmin), n_k)).astype(int))
    m = pass_at_k_matrix(counts, k)
    rng = np.random.default_rng(seed)
    boots = np.array([m[rng.integers(0, m.shape[0], m.shape[0])].mean(axis=0) for _ in range(n_boot)])
    return invert_curve(k, m.mean(axis=0), boot_curves=boots, level=level, seed=seed)


def parametric_density(fit, sigma=None, level: float = 0.9, draws: int = 300, budget: float = 1000,
                       band=(0.5, 0.99), check: int = 0, seed=0) -> dict:
    """The difficulty density of a fitted per-problem model: A f(sigma) at the estimate with a
    pointwise band from the fit's parameter draws, the never-solvable atom 1 - A, and the mass
    of problems with P(solved within ``budget``) in ``band`` (integral of A f over that sigma range,
    trapezoid in log sigma). ``check`` > 0: that many points are also recovered by inverting the
    model's mpmath transform numerically (Eq. 10), and the largest relative difference is reported."""
    from .ranking import band_to_q

    model = fit.model
    if sigma is None:
        sigma = np.logspace(-5, 1.5, 120)
    sigma = np.asarray(sigma, dtype=float)
    dens = np.asarray(model.density_sigma(sigma), dtype=float)
    stack = fit.models(draws, seed).expand(1).density_sigma(sigma)
    lo, hi = np.quantile(stack, [0.5 - level / 2, 0.5 + level / 2], axis=0)
    q_lo, q_hi = band_to_q(band, budget)
    s_lo, s_hi = -math.log1p(-q_lo), (-math.log1p(-q_hi) if q_hi < 1 else 50.0)
    fine = np.exp(np.linspace(math.log(s_lo), math.log(s_hi), 400))
    mass = float(np.trapezoid(np.asarray(model.density_sigma(fine)) * fine, np.log(fine)))
    out = {"sigma": sigma, "density": dens, "low": np.minimum(lo, dens), "high": np.maximum(hi, dens),
           "never_solved": float(model.never_solved), "always_solved": 0.0, "ceiling": float(model.ceiling),
           "method": f"parametric ({fit.model_name})", "regularization": None, "level": level,
           "params": dict(zip(fit.param_names, map(float, fit.estimate))),
           "note": "density of the fitted model; band from its parameter uncertainty",
           "obtainable_mass": {"budget": budget, "band": list(band), "mass": mass, "low": None, "high": None}}
    if check:
        live = sigma[dens >= 1e-12 * dens.max()]
        pts = live[np.unique(np.linspace(0, live.size - 1, int(check)).astype(int))]
        inv = invert_parametric(model, pts, dps=15)
        ref = model.density_sigma(pts)
        out["inversion_check_max_rel_diff"] = float(np.max(np.abs(inv - ref) / ref))
    return out
