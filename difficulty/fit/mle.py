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

__all__ = ["fit_mle", "compare_mle", "numerical_hessian", "AUTO_CANDIDATES"]


def numerical_hessian(f, x, step=1e-4):
    """Central-difference Hessian of a scalar function f at x."""
    x = np.asarray(x, dtype=float)
    n = x.size
    H = np.empty((n, n))
    h = step * np.maximum(1.0, np.abs(x))
    f0 = f(x)
    for i in range(n):
        for j in range(i, n):
            if i == j:
                e = np.zeros(n)
                e[i] = h[i]
                H[i, i] = (f(x + e) - 2 * f0 + f(x - e)) / h[i] ** 2
            else:
                ei = np.zeros(n)
                ej = np.zeros(n)
                ei[i], ej[j] = h[i], h[j]
                H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej)
                                     + f(x - ei - ej)) / (4 * h[i] * h[j])
    return H


def _put(z, idx, values):
    out = np.array(z, dtype=float)
    out[idx] = values
    return out


def _maximise(like: Likelihood, starts=None):
    """Minimise the negative log-likelihood from each start (L-BFGS-B, then Nelder-Mead).

    The lowest finite value seen at any evaluation is kept: an optimiser that steps into a
    region where the likelihood is not finite (shapes near their bounds) may report that
    point, and its failure must not discard what it found on the way.
    """
    seen = {"fun": math.inf, "x": None}

    def nll(z):
        z = np.clip(np.asarray(z, dtype=float), -30, 30)
        with np.errstate(all="ignore"):
            v = float(like.loglike(like.from_unconstrained(z)))
        if not math.isfinite(v):
            return 1e300
        if -v < seen["fun"]:
            seen["fun"], seen["x"] = -v, z.copy()
        return -v

    for theta0 in (starts or like.start_points()):
        z0 = like.to_unconstrained(np.asarray(theta0, dtype=float))
        for method in ("L-BFGS-B", "Nelder-Mead"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = optimize.minimize(nll, z0, method=method,
                                        options={"maxiter": 4000} if method == "Nelder-Mead" else {})
            z0 = res.x if res.fun < 1e299 else (seen["x"] if seen["x"] is not None else z0)
    best = optimize.OptimizeResult(x=seen["x"] if seen["x"] is not None else z0,
                                   fun=seen["fun"] if seen["x"] is not None else 1e300)
    return best, nll


def fit_mle(counts: EvalCounts, model="beta", level: float = 0.9, starts=None) -> Fit:
    """Maximum likelihood of any per-problem model (a registry name, e.g. "zi-beta"), from several
    starting points: theta_hat = argmax sum_i log P(c_i | N_i, theta).

    Intervals: a Laplace (normal) approximation in the unconstrained coordinates (log of
    shapes, logit of fractions), mapped back, so they respect the parameter bounds.
    """
    like = make_likelihood(model, counts)
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
        H = numerical_hessian(lambda zf: nll(np.where(free, _put(z, idx, zf), z)), z[idx])
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


def _auto_candidates() -> tuple:
    """The registry entries each model class puts forward for automatic comparison (``compare``)."""
    from ..models import MODEL_CLASSES

    return tuple(name for cls in MODEL_CLASSES for name in getattr(cls, "compare", ()))


AUTO_CANDIDATES = _auto_candidates()


def compare_mle(counts: EvalCounts, candidates=AUTO_CANDIDATES, level: float = 0.9) -> dict:
    """Fit each candidate model by maximum likelihood; returns {name: Fit} sorted by AIC."""
    fits, reasons = {}, []
    for name in candidates:
        try:
            fits[name] = fit_mle(counts, name, level=level)
        except DifficultyError as e:
            reasons.append(str(e))
            continue
    if not fits:
        reason = reasons[0] if reasons and all(r == reasons[0] for r in reasons) else "; ".join(dict.fromkeys(reasons))
        raise DifficultyError(f"no candidate model could be fitted to these counts: {reason}")
    return dict(sorted(fits.items(), key=lambda kv: kv[1].aic))
