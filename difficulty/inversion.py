"""Recovering the perceived-difficulty density f(sigma), sigma = log(1/p) (Levi 2025, Eq. 10).

The failure curve is a Laplace transform in k:  1 - pass@k = (1 - A) + A integral exp(-sigma k) f(sigma) d sigma.

* :func:`invert_parametric`: f from a model's transform by ``mpmath.invertlaplace`` (Talbot by
  default; de Hoog and Stehfest selectable), at a working precision that grows with sigma.
* :func:`invert_curve`: from an aggregate curve (k, pass@k) alone. Known only at integer k and
  with noise, this is the Hausdorff moment problem, badly ill-posed. Solved as non-negative
  least squares on a log-spaced sigma grid, with explicit atoms for "never solved" (p = 1,
  sigma = 0: kernel 1 at every k) and "always solved" (p = 0: kernel 0, seen only through the
  sum-to-one row), a second-difference (Tikhonov) penalty, and the strength chosen by the
  discrepancy principle (whitened residual chi^2 = number of points). Residuals are whitened
  by the covariance of the curve across k when per-problem data exist (bootstrap over
  problems), else by a noise level given or estimated from a parametric fit. The band is a
  bootstrap over problems (per-problem data) or a parametric bootstrap of the noise; each
  replicate re-chooses its strength and is then *undersmoothed* (strength times
  ``undersmooth``, 0.001 by default): a band made of solutions as smooth as the estimate
  measures only their variance and misses the smoothing bias where the truth has structure
  (measured over 30 curves: the 90% band covers the true CDF of a bimodal truth at 71% of
  points undersmoothed 100x, 81% at 1000x; benchmarks/bench_inversion.py).
* :func:`invert_counts`: the mixing distribution of the binomial mixture from per-problem
  counts, by EM on a grid (the NPMLE, with the same atoms), band by bootstrap over problems.

Mass at sigma below ~1/k_max is not separable from "never solved" without a parametric tail:
every result says so in ``note``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from .counts import EvalCounts
from .errors import DifficultyError

__all__ = ["DensityEstimate", "invert_parametric", "invert_curve", "invert_counts", "wasserstein_p",
           "obtainable_mass", "tail_exponent"]


@dataclass
class DensityEstimate:
    """A recovered difficulty distribution: weights on a sigma grid plus explicit atoms."""

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

    def to_dict(self):
        lo, hi = self.band()
        d = {"sigma": self.sigma, "density": self.density(), "low": lo, "high": hi, "weights": self.weights,
             "never_solved": self.never_solved, "always_solved": self.always_solved, "method": self.method,
             "regularization": self.regularization, "level": self.level, "note": self.note}
        if self.never_boot is not None:
            d["never_solved_low"], d["never_solved_high"] = np.quantile(self.never_boot, [0.5 - self.level / 2,
                                                                                       0.5 + self.level / 2]).tolist()
        d.update(self.extra)
        return d


# ------------------------------------------------------------------ parametric
def invert_parametric(model, sigma, method: str | None = None, dps: int | None = None):
    """A f(sigma) by numerical inversion of the model's Laplace transform (mpmath.invertlaplace).

    The transform is evaluated in mpmath arithmetic at complex s. Talbot's contour needs the
    transform continued to Re(s) < 0, which models with a closed form have (the Beta family); for
    models whose transform is a quadrature over q (valid for Re(s) > 0), de Hoog's method, whose
    contour is a vertical line in Re(s) > 0, is the default. The working precision is 30 digits,
    raised with sigma so that values ~exp(-alpha sigma) keep their relative digits.
    """
    import mpmath as mp

    method = method or ("talbot" if getattr(model, "analytic_transform", False) else "dehoog")
    if method not in ("talbot", "dehoog", "stehfest"):
        raise DifficultyError(f"unknown inversion method {method!r}: talbot, dehoog or stehfest")
    if not hasattr(model, "mp_laplace_transform") or getattr(model, "shape", ()) != ():
        raise DifficultyError(f"model {model.name!r} has no mpmath transform to invert (one parameter set needed)")
    sig = np.atleast_1d(np.asarray(sigma, dtype=float))
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
    hi = math.log(1.0 / max(noise, 1e-12)) + 5.0
    return np.exp(np.linspace(math.log(lo), math.log(hi), n_grid))


def _second_difference(n):
    D = np.zeros((n - 2, n))
    for i in range(n - 2):
        D[i, i:i + 3] = (1.0, -2.0, 1.0)
    return D


def _nnls_tikhonov(Kw, yw, lam, D, sum_weight=1e3):
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


def _design(k, sigma):
    K = np.exp(-np.outer(k, sigma))
    return np.hstack([K, np.ones((k.size, 1)), np.zeros((k.size, 1))])  # grid | never | always


NOTE = ("mass at sigma below ~1/k_max ({:.3g}) cannot be told apart from 'never solved' without a "
        "parametric tail; it is reported with the never-solved atom")


# ------------------------------------------------------------------ from the aggregate curve
def invert_curve(k, pass_at_k, noise=None, cov=None, n_grid: int = 120, level: float = 0.9, n_boot: int = 100,
                 boot_curves=None, n_problems: int | None = None, undersmooth: float = 0.001,
                 seed=0) -> DensityEstimate:
    """Tikhonov-NNLS inversion of an aggregate pass@k curve (module docstring).

    ``noise``: standard deviation of each pass@k value (scalar or array). ``cov``: their
    covariance across k. ``boot_curves``: (B, len(k)) curves from a bootstrap over problems,
    used for the band (and for ``cov`` when it is not given). ``undersmooth``: factor applied
    to each bootstrap replicate's own discrepancy strength (1 gives the plain percentile band).
    """
    k = np.asarray(k, dtype=float)
    y = np.asarray(pass_at_k, dtype=float)
    if k.ndim != 1 or k.shape != y.shape or k.size < 3:
        raise DifficultyError("the inversion needs at least 3 (k, pass@k) points")
    if np.any((y < 0) | (y > 1)) or np.any(k < 1):
        raise DifficultyError("pass@k must be in [0, 1] and k >= 1")
    if not (0 < undersmooth <= 1):
        raise DifficultyError(f"undersmooth must be in (0, 1], got {undersmooth}")
    if boot_curves is not None and cov is None:
        cov = np.cov(boot_curves, rowvar=False)
    if cov is not None:
        cov = np.atleast_2d(cov) + np.eye(k.size) * 1e-14
        L = np.linalg.cholesky(cov)
        white = lambda M: np.linalg.solve(L, M)
        sd = np.sqrt(np.diag(cov))
    else:
        if noise is None:
            noise = _estimate_noise(k, y)
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
                          note=NOTE.format(1.0 / k.max()))
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
        if cov is not None:
            curves = 1 - (fitted + (np.linalg.cholesky(cov) @ rng.standard_normal((k.size, n_boot))).T)
        else:
            curves = 1 - (fitted + sd * rng.standard_normal((n_boot, k.size)))
    for c in curves:  # each replicate chooses its own strength, so the band carries that choice too
        yb = white(1.0 - np.clip(c, 0, 1))
        lam_b, xb = _discrepancy(Kw, yb, D, target=float(k.size))
        reps.append(xb if undersmooth == 1 else _nnls_tikhonov(Kw, yb, lam_b * undersmooth, D))
    reps = np.array(reps) if reps else x[None, :]
    est.weights_boot, est.never_boot = reps[:, :-2], reps[:, -2]
    return est


def _estimate_noise(k, y):
    """Noise level of a bare curve, from the residuals of a smooth parametric (Beta) fit."""
    from .fit.curve import fit_curve

    try:
        fit = fit_curve(k, y, "beta", n_problems=10**6)
        r = fit.model.pass_at_k(k) - y
        s = float(np.sqrt(np.mean(r**2)))
    except DifficultyError:
        s = 0.0
    return max(s, 1e-4 * float(np.mean(1 - y)), 1e-9)


# ------------------------------------------------------------------ from per-problem counts
def _binom_loglik_matrix(n, c, q):
    """log Binomial(c; n, q_j) for each pair and grid point (q = 0, 1 handled exactly)."""
    from scipy.special import gammaln, xlog1py, xlogy

    coef = gammaln(n + 1) - gammaln(c + 1) - gammaln(n - c + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return coef[:, None] + xlogy(c[:, None], q[None, :]) + xlog1py((n - c)[:, None], -q[None, :])


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
        new = x * (L.T @ (weights / denom)) / n
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


def invert_counts(counts: EvalCounts, n_grid: int = 120, level: float = 0.9, n_boot: int = 50, iters: int = 3000,
                  smooth: int = 3, seed=0) -> DensityEstimate:
    """NPMLE of the distribution of p from per-problem counts (EM on a sigma grid plus atoms)."""
    h = counts.histogram()
    if np.all(h.c == 0):
        raise DifficultyError("no problem was ever solved (all c = 0): nothing to invert")
    n, c, w = h.n.astype(float), h.c.astype(float), h.weight.astype(float)
    k_max = float(n.max())
    sigma = _grid(k_max, 1.0 / (10 * k_max), n_grid)
    q = np.concatenate([-np.expm1(-sigma), [0.0, 1.0]])  # grid | never (q = 0) | always (q = 1)
    logL = _binom_loglik_matrix(n, c, q)
    x0 = np.full(q.size, 1.0 / q.size)
    x = _em(logL, w, x0, iters, smooth=smooth)
    rng = np.random.default_rng(seed)
    reps = []
    for _ in range(int(n_boot)):
        wb = rng.multinomial(int(w.sum()), w / w.sum()).astype(float)
        reps.append(_em(logL, wb, x, iters // 3, smooth=smooth))
    reps = np.array(reps) if reps else np.tile(x, (1, 1))
    est = DensityEstimate(sigma, x[:-2], float(x[-2]), float(x[-1]), "npmle-em", None, reps[:, :-2], reps[:, -2],
                          level=level, note=NOTE.format(1.0 / k_max))
    return est


# ------------------------------------------------------------------ read-offs
def wasserstein_p(est: DensityEstimate, true_cdf, n=20001):
    """W1 between the recovered distribution of p and a true one (CDF callable on [0, 1])."""
    p = np.linspace(0, 1, n)
    return float(np.trapezoid(np.abs(est.cdf_p(p) - true_cdf(p)), p))


def obtainable_mass(est: DensityEstimate, budget: float, band=(0.5, 0.99)):
    """Mass of problems solved with probability in [lo, hi] within ``budget`` attempts."""
    from .ranking import band_to_q

    q_lo, q_hi = band_to_q(band, budget)
    s_lo, s_hi = -math.log1p(-q_lo), (-math.log1p(-q_hi) if q_hi < 1 else np.inf)
    inside = (est.sigma >= s_lo) & (est.sigma <= s_hi)
    mass = float(est.weights[inside].sum())
    if est.weights_boot is not None:
        b = est.weights_boot[:, inside].sum(axis=1)
        lo, hi = np.quantile(b, [0.5 - est.level / 2, 0.5 + est.level / 2])
        return mass, float(lo), float(hi)
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


# ------------------------------------------------------------------ the curve of a file or of counts
def curve_noise(pass_at_k, n_problems: int):
    """Binomial standard error of a mean pass@k over ``n_problems`` problems,
    sqrt(pass (1 - pass) / n), with pass (1 - pass) floored at 1/n (one problem's worth) so
    that a curve at 0 or 1 still has noise."""
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
