"""Maximum likelihood for any per-problem model (scipy.optimize), with Laplace intervals."""
from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import optimize
from scipy.special import ndtri

from ..counts import EvalCounts
from ..errors import DifficultyError
from .likelihood import Likelihood, make_likelihood
from .result import Fit

__all__ = ["fit_mle", "compare_mle", "numerical_hessian", "batched_hessian", "AUTO_CANDIDATES"]


def numerical_hessian(f, x, step=1e-4):
    """Central-difference Hessian of a scalar function f at x (f takes one point)."""
    return batched_hessian(lambda X: np.array([f(row) for row in X]), x, step)


def _hessian_points(x, h):
    """The points of a central-difference Hessian: x, x +- h_i e_i, x +- h_i e_i +- h_j e_j (i < j)."""
    n = x.size
    pts = [x]
    for i in range(n):
        for sgn in (1, -1):
            e = np.zeros(n)
            e[i] = sgn * h[i]
            pts.append(x + e)
    for i in range(n):
        for j in range(i + 1, n):
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                e = np.zeros(n)
                e[i], e[j] = si * h[i], sj * h[j]
                pts.append(x + e)
    return np.array(pts)


def batched_hessian(fb, x, step=1e-4):
    """Central-difference Hessian of f at x, all 2 n^2 + 1 points in one call of the batched
    fb(X: (m, n)) -> (m,)."""
    x = np.asarray(x, dtype=float)
    n = x.size
    h = step * np.maximum(1.0, np.abs(x))
    v = fb(_hessian_points(x, h))
    f0, k = v[0], 1 + 2 * n
    H = np.empty((n, n))
    for i in range(n):
        H[i, i] = (v[1 + 2 * i] - 2 * f0 + v[2 + 2 * i]) / h[i] ** 2
    for i in range(n):
        for j in range(i + 1, n):
            pp, pm, mp_, mm = v[k:k + 4]
            k += 4
            H[i, j] = H[j, i] = (pp - pm - mp_ + mm) / (4 * h[i] * h[j])
    return H


def _put(z, idx, values):
    out = np.array(z, dtype=float)
    out[idx] = values
    return out


ZMAX = 30.0  # |z| beyond this is a shape of e^30 or a fraction within 1e-13 of a bound: the edge of the space


def _maximise(like: Likelihood, starts=None):
    """Minimise the negative log-likelihood in the unconstrained coordinates z.

    Every starting point is evaluated in one batched call; L-BFGS-B runs from each, best first, with
    its gradient by central differences, the 2P + 1 points of each step also in one batched call
    (the likelihood is vectorised over parameter sets, so a gradient costs about one evaluation).
    Nelder-Mead polishes once, from the best point found, where the best run stopped short (a
    likelihood that is flat or not finite near a bound). The lowest finite value seen at any
    evaluation is kept: an optimiser that steps where the likelihood is not finite must not discard
    what it found on the way.
    """
    seen = {"fun": math.inf, "x": None}
    P = len(like.param_names)

    def nll_batch(Z):
        Z = np.clip(np.atleast_2d(np.asarray(Z, dtype=float)), -ZMAX, ZMAX)
        with np.errstate(all="ignore"):
            v = -np.atleast_1d(like.loglike(like.from_unconstrained(Z)))
        v = np.where(np.isfinite(v), v, 1e300)
        i = int(np.argmin(v))
        if v[i] < seen["fun"]:
            seen["fun"], seen["x"] = float(v[i]), Z[i].copy()
        return v

    def nll(z):
        return float(nll_batch(z)[0])

    def fun_grad(z):
        h = 1e-5 * np.maximum(1.0, np.abs(z))
        E = np.eye(P) * h
        v = nll_batch(np.vstack([z, z + E, z - E]))
        if not np.all(v < 1e299):  # at the edge of the finite region: a one-sided step, or none
            return float(v[0]), np.zeros(P)
        return float(v[0]), (v[1:1 + P] - v[1 + P:]) / (2 * h)

    Z0 = like.to_unconstrained(np.array([np.asarray(t, dtype=float) for t in (starts or like.start_points())]))
    order = np.argsort(nll_batch(Z0))
    best_run = None
    for z0 in Z0[order]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = optimize.minimize(fun_grad, z0, jac=True, method="L-BFGS-B",
                                    bounds=[(-ZMAX, ZMAX)] * P, options={"maxiter": 500})
        if best_run is None or res.fun < best_run.fun:
            best_run = res
    if best_run is not None and not _converged(best_run, seen["fun"]):
        # one polish, from the best point any run found: a likelihood flat along a ridge to a bound
        # (e.g. a Beta turning into a point mass) stops L-BFGS-B short, and Nelder-Mead walks the
        # ridge until the value stops changing
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            optimize.minimize(nll, seen["x"] if seen["x"] is not None else best_run.x, method="Nelder-Mead",
                              options={"maxfev": 300 * P, "xatol": 1e-7, "fatol": 1e-9})
    best = optimize.OptimizeResult(x=seen["x"] if seen["x"] is not None else Z0[order[0]],
                                   fun=seen["fun"] if seen["x"] is not None else 1e300)
    return best, nll_batch


def _converged(res, best_seen: float) -> bool:
    """L-BFGS-B reached a stationary point inside the box (the gradient projected on the bounds
    is small) at the best value any evaluation found."""
    if res.fun >= 1e299 or res.fun > best_seen + 1e-9 * max(1.0, abs(best_seen)):
        return False
    g = np.asarray(res.jac, dtype=float)
    at_low, at_high = res.x <= -ZMAX + 1e-9, res.x >= ZMAX - 1e-9
    g = np.where((at_low & (g > 0)) | (at_high & (g < 0)), 0.0, g)  # pushing against a bound: done there
    return bool(res.success and np.max(np.abs(g)) <= 1e-2)


def fit_mle(counts: EvalCounts, model="beta", level: float = 0.9, starts=None, also_from=()) -> Fit:
    """Maximum likelihood of any per-problem model (a registry name, e.g. "zi-beta"), from several
    starting points: theta_hat = argmax sum_i log P(c_i | N_i, theta).

    Intervals: a Laplace (normal) approximation in the unconstrained coordinates (log of
    shapes, logit of fractions), mapped back, so they respect the parameter bounds.
    """
    like = make_likelihood(model, counts)
    if also_from:  # the estimates of other fits of this model class (a nested variant) as more starts
        starts = list(starts or like.start_points()) + [_start_from(like, f) for f in also_from]
    best, nll = _maximise(like, starts)
    z = best.x
    if best.fun >= 1e299:
        raise DifficultyError(f"maximum likelihood for {like.name} failed: no finite likelihood found")
    # parameters driven to a bound of their range (e.g. A -> 1) have no Laplace interval: their
    # row of the Hessian is dropped and their interval reported as unknown (NaN, null in JSON)
    free = (np.abs(z) < 12.0) | np.array([p.kind == "identity" for p in like.params])
    cov = np.full((z.size, z.size), np.nan)
    if free.any():
        idx = np.flatnonzero(free)
        H = batched_hessian(lambda Zf: nll(np.array([_put(z, idx, zf) for zf in Zf])), z[idx])
        try:
            sub = np.linalg.inv(H)
            if np.all(np.isfinite(sub)) and np.all(np.diag(sub) > 0):
                cov[np.ix_(idx, idx)] = sub
        except np.linalg.LinAlgError:
            pass
    zq = float(ndtri(0.5 + level / 2))
    sd = np.sqrt(np.diag(cov))
    value = like.from_unconstrained(z)
    low = like.from_unconstrained(z - zq * sd)
    high = like.from_unconstrained(z + zq * sd)
    if not free.all():
        cov = np.where(np.isfinite(cov), cov, 0.0) if free.any() else None
    return Fit(like.spec, "mle", like.param_names, value, low, high, level, loglike=-best.fun,
               n_problems=like.n_problems, covariance=cov, coords="unconstrained", likelihood=like)


def _start_from(like: Likelihood, fit: Fit) -> np.ndarray:
    """A starting point for ``like`` at another fit's estimate of the same model class: its values
    of the parameters they share, the rest at their defaults, all moved just inside their bounds."""
    values = fit.model._values
    theta = []
    for p in like.params:
        v = float(np.asarray(values.get(p.name, p.default if p.default is not None else 1.0)))
        lo = p.low if math.isfinite(p.low) else -1e300
        hi = p.high if math.isfinite(p.high) else 1e300
        inside = 1e-12 * max(min(hi - lo, 1.0), 1e-12)  # A = 1 becomes 1 - 1e-12: within ZMAX, and costs
        theta.append(min(max(v, lo + inside), hi - inside))  # the log-likelihood ~1e-12 per solved problem
    return np.array(theta)


def _auto_candidates() -> tuple:
    """The registry entries each model class puts forward for automatic comparison (``compare``)."""
    from ..models import MODEL_CLASSES

    return tuple(name for cls in MODEL_CLASSES for name in getattr(cls, "compare", ()))


AUTO_CANDIDATES = _auto_candidates()


def compare_mle(counts: EvalCounts, candidates=AUTO_CANDIDATES, level: float = 0.9) -> dict:
    """Fit each candidate model by maximum likelihood; returns {name: Fit} sorted by AIC."""
    from ..models import resolve

    fits, reasons = {}, []
    specs = {name: resolve(name) for name in candidates}
    first = {}
    for name in candidates:
        first.setdefault(specs[name].cls, len(first))
    # within a model class, the variant with the fewest free parameters first: the others start from it
    for name in sorted(candidates, key=lambda m: (first[specs[m].cls], len(specs[m].fixed) * -1)):
        cls = specs[name].cls
        # a nested variant (zi-beta holds beta at A = 1) starts from the other's estimate too, so that
        # its maximum is never below the smaller model's
        kin = [f for f in fits.values() if f.spec.cls is cls]
        try:
            fits[name] = fit_mle(counts, name, level=level, also_from=kin)
        except DifficultyError as e:
            reasons.append(str(e))
            continue
    if not fits:
        reason = reasons[0] if reasons and all(r == reasons[0] for r in reasons) else "; ".join(dict.fromkeys(reasons))
        raise DifficultyError(f"no candidate model could be fitted to these counts: {reason}")
    return dict(sorted(fits.items(), key=lambda kv: kv[1].aic))
