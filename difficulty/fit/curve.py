"""Fits of aggregate pass@k curves with lmfit (for users who have only k and pass@k).

Residuals are whitened: with per-problem data, by the Cholesky factor of the covariance of
the mean pass@k across k (estimated from the per-problem estimates, whose errors are
strongly correlated across k); with a bare curve, by the binomial-type standard error
sqrt(pass (1 - pass) / n) of a mean over n problems. Several starting points are tried
and the best kept; intervals come from lmfit's covariance (stderr, correlations).

Curves:
* ``beta``           pass@k = A (1 - B(alpha + k, beta)/B(alpha, beta))           (Eq. 8)
* ``effective-k``    pass@k = A (1 - p^(H_k(kappa)))                             (Eq. 12)
* ``exp-power-law``  pass@k = exp(a k^b)                                          (Brown et al.)
* ``power-law``      log(-log pass@k) = log a - b log k, least squares in log-log (Schaeffer et al.)
"""
from __future__ import annotations

import math
import warnings

import lmfit
import numpy as np
from scipy import stats

from ..errors import DifficultyError
from ..models import make_model
from ..special import generalized_harmonic, log_beta_ratio
from .mle import FitResult

__all__ = ["fit_curve", "CURVE_MODELS", "curve_from_counts"]


def _beta_curve(k, alpha, beta, A):
    return A * -np.expm1(log_beta_ratio(alpha, beta, k))


def _effk_curve(k, p, kappa, A):
    return A * -np.expm1(generalized_harmonic(k, kappa) * np.log(p))


def _exp_pl_curve(k, a, b):
    return np.exp(a * k ** b)


CURVE_MODELS = {
    # name: (function, [(param, start values, min, max)], model name for make_model)
    "beta": (_beta_curve, [("alpha", (2.0, 0.5, 10.0), 1e-3, 1e3), ("beta", (0.35, 1.0, 0.1), 1e-3, 50.0),
                           ("A", (0.9, 1.0, 0.6), 1e-6, 1.0)], "beta"),
    "effective-k": (_effk_curve, [("p", (0.9, 0.99, 0.5), 1e-9, 1 - 1e-12), ("kappa", (0.3, 0.7, 0.0), 0.0, 5.0),
                                  ("A", (0.9, 1.0, 0.6), 1e-6, 1.0)], "effective-k"),
    "exp-power-law": (_exp_pl_curve, [("a", (-2.0, -0.5, -5.0), -1e3, -1e-9), ("b", (-0.3, -0.1, -0.8), -10.0, -1e-9)],
                      "exp-power-law"),
    "power-law": (None, [("a", (2.0,), 1e-12, 1e6), ("b", (0.3,), -10, 10)], "power-law"),
}


def curve_from_counts(counts, k):
    """Mean unbiased pass@k and its covariance across k (from the per-problem estimates)."""
    from ..passk import pass_at_k_matrix

    m = pass_at_k_matrix(counts, k)
    n = m.shape[0]
    cov = np.atleast_2d(np.cov(m, rowvar=False)) / n if n > 1 else None
    return m.mean(axis=0), cov, n


def _whitener(y, n_problems, cov):
    if cov is not None:
        c = cov + np.eye(len(y)) * (1e-12 + 1e-6 * np.mean(np.diag(cov)))
        try:
            L = np.linalg.cholesky(c)
            return lambda r: np.linalg.solve(L, r)
        except np.linalg.LinAlgError:
            pass
    n = n_problems or 100
    sd = np.sqrt(np.clip(y * (1 - y), 1.0 / n, None) / n)  # floor: one problem's worth
    return lambda r: r / sd


def fit_curve(k, pass_at_k, model: str = "beta", n_problems: int | None = None, cov=None, level: float = 0.9) -> FitResult:
    """Least-squares fit of an aggregate pass@k curve with lmfit (see the module docstring)."""
    if model not in CURVE_MODELS:
        raise DifficultyError(f"unknown curve model {model!r}; choose from {', '.join(CURVE_MODELS)}")
    k = np.asarray(k, dtype=float)
    y = np.asarray(pass_at_k, dtype=float)
    if k.shape != y.shape or k.ndim != 1 or k.size < 3:
        raise DifficultyError("a curve fit needs at least 3 (k, pass@k) points of equal length")
    if np.any(~np.isfinite(y)) or np.any((y < 0) | (y > 1)):
        raise DifficultyError("pass@k values must lie in [0, 1]")
    if np.all(y == 0):
        raise DifficultyError("pass@k is 0 at every k: no curve can be fitted (nothing was ever solved)")
    if np.all(y == 1):
        raise DifficultyError("pass@k is 1 at every k: no curve can be fitted (everything was solved)")
    fn, spec, model_name = CURVE_MODELS[model]
    if model == "power-law":
        return _fit_loglog(k, y, n_problems, cov, level)
    white = _whitener(y, n_problems, cov)
    best = None
    n_starts = len(spec[0][1])
    for s in range(n_starts):
        params = lmfit.Parameters()
        for name, starts, lo, hi in spec:
            params.add(name, value=starts[s], min=lo, max=hi)

        def resid(p):
            vals = [p[name].value for name, *_ in spec]
            with np.errstate(all="ignore"):
                r = white(fn(k, *vals) - y)
            return np.where(np.isfinite(r), r, 1e6)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = lmfit.minimize(resid, params, method="leastsq")
        if best is None or res.chisqr < best.chisqr:
            best = res
    return _to_fit_result(best, spec, model_name, "lsq", level, k.size)


def _to_fit_result(res, spec, model_name, method, level, npts):
    names = tuple(name for name, *_ in spec)
    value = np.array([res.params[n].value for n in names])
    z = stats.norm.ppf(0.5 + level / 2)
    stderr = np.array([res.params[n].stderr if res.params[n].stderr is not None else np.nan for n in names])
    lo_b = np.array([res.params[n].min for n in names])
    hi_b = np.array([res.params[n].max for n in names])
    low = np.clip(value - z * np.nan_to_num(stderr, nan=np.inf), lo_b, hi_b)
    high = np.clip(value + z * np.nan_to_num(stderr, nan=np.inf), lo_b, hi_b)
    cov = res.covar if getattr(res, "covar", None) is not None else None
    correl = {n: {m: res.params[n].correl.get(m) for m in names if m != n and res.params[n].correl}
              for n in names if res.params[n].correl}
    extra = {"chisqr": float(res.chisqr), "redchi": float(res.redchi), "n_points": int(npts),
             "stderr": {n: (None if not math.isfinite(s) else float(s)) for n, s in zip(names, stderr)},
             "correlations": correl, "report": lmfit.fit_report(res)}

    def factory(v):
        return make_model(model_name, **dict(zip(names, map(float, v))))

    return FitResult(model_name, method, names, value, low, high, level, covariance=cov, coords="natural",
                     extra=extra, _model_factory=factory)


def _fit_loglog(k, y, n_problems, cov, level):
    """Least squares of log(-log pass@k) on log k (the aggregate power-law baseline)."""
    ok = (y > 0) & (y < 1)
    if ok.sum() < 3:
        raise DifficultyError("the log-log power law needs at least 3 points with 0 < pass@k < 1")
    x, t = np.log(k[ok]), np.log(-np.log(y[ok]))
    params = lmfit.Parameters()
    params.add("log_a", value=float(t[0]))
    params.add("b", value=0.3)
    res = lmfit.minimize(lambda p: (p["log_a"].value - p["b"].value * x) - t, params, method="leastsq")
    la, b = res.params["log_a"], res.params["b"]
    zq = stats.norm.ppf(0.5 + level / 2)
    value = np.array([math.exp(la.value), b.value])
    se_la = la.stderr if la.stderr is not None else np.nan
    se_b = b.stderr if b.stderr is not None else np.nan
    low = np.array([math.exp(la.value - zq * se_la) if math.isfinite(se_la) else 0.0, b.value - zq * se_b])
    high = np.array([math.exp(la.value + zq * se_la) if math.isfinite(se_la) else np.inf, b.value + zq * se_b])
    extra = {"chisqr": float(res.chisqr), "n_points": int(ok.sum()), "report": lmfit.fit_report(res),
             "stderr": {"log_a": se_la, "b": se_b}}
    cov_lb = res.covar if getattr(res, "covar", None) is not None else None

    def factory(v):
        return make_model("power-law", a=float(v[0]), b=float(max(v[1], 1e-9)))

    out = FitResult("power-law", "lsq", ("a", "b"), value, low, high, level, covariance=cov_lb, coords="log_a,b",
                    extra=extra, _model_factory=factory)
    return out
