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
from ..models import ModelSpec, make_model, resolve
from .result import Fit

__all__ = ["fit_curve", "CURVE_MODELS", "curve_from_counts", "forecast_curve"]


def _curve_spec(name) -> ModelSpec:
    """The model a curve fit fits: the registry class, every parameter of the curve free."""
    return ModelSpec(name, resolve(name).cls, {})


def _curve_function(name, names):
    """pass@k of a registry model as a plain function of k and its parameters ``names`` (what lmfit
    fits): the model's own pass_at_k, not a copy of its formula."""
    cls = resolve(name).cls

    def fn(k, *values):
        params = dict(zip(names, values))
        return cls._unchecked({p.name: params.get(p.name, p.default) for p in cls.param_space()}).pass_at_k(k)

    return fn


# the curves a least-squares fit offers: starting values and the search box of each parameter
CURVE_MODELS = {
    "beta": [("alpha", (2.0, 0.5, 10.0), 1e-3, 1e3), ("beta", (0.35, 1.0, 0.1), 1e-3, 50.0),
             ("A", (0.9, 1.0, 0.6), 1e-6, 1.0)],
    "effective-k": [("p", (0.9, 0.99, 0.5), 1e-9, 1 - 1e-12), ("kappa", (0.3, 0.7, 0.0), 0.0, 5.0),
                    ("A", (0.9, 1.0, 0.6), 1e-6, 1.0)],
    "exp-power-law": [("a", (-2.0, -0.5, -5.0), -1e3, -1e-9), ("b", (-0.3, -0.1, -0.8), -10.0, -1e-9)],
    "power-law": [("a", (2.0,), 1e-12, 1e6), ("b", (0.3,), -10, 10)],
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


def fit_curve(k, pass_at_k, model: str = "beta", n_problems: int | None = None, cov=None,
              level: float = 0.9) -> Fit:
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
    if model == "power-law":
        return _fit_loglog(k, y, n_problems, cov, level)
    spec, model_name = CURVE_MODELS[model], model
    fn = _curve_function(model, [name for name, *_ in spec])
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

    return Fit(_curve_spec(model_name), method, names, value, low, high, level, covariance=cov, coords="natural",
               extra=extra)


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

    value[1] = max(value[1], 1e-9)
    return Fit(_curve_spec("power-law"), "lsq", ("a", "b"), value, low, high, level, covariance=cov_lb,
               coords="log_a,b", extra=extra)


def _curve_draws(fit, k, n, rng):
    """pass@k at ``k`` for ``n`` parameter draws from a curve fit's normal approximation (its
    covariance), one row per draw; draws outside a model's range are clipped into it or dropped."""
    cov = fit.covariance
    if cov is None or not np.all(np.isfinite(cov)):
        return np.repeat(fit.model.pass_at_k(k)[None, :], 2, axis=0)
    if fit.coords == "log_a,b":
        mean = np.array([np.log(fit.value[0]), fit.value[1]])
        z = rng.multivariate_normal(mean, cov, size=n, method="eigh")
        a, b = np.exp(z[:, 0:1]), z[:, 1:2]
        return np.exp(-a * k[None, :] ** (-b))
    with np.errstate(invalid="ignore"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a near-singular covariance is still usable
            z = rng.multivariate_normal(fit.value, 0.5 * (cov + cov.T), size=n, method="eigh")
    out = []
    for row in z:
        try:
            params = dict(zip(fit.param_names, map(float, row)))
            if "A" in params:
                params["A"] = min(max(params["A"], 1e-9), 1.0)
            for key in ("alpha", "beta"):
                if key in params:
                    params[key] = max(params[key], 1e-6)
            if "p" in params:
                params["p"] = min(max(params["p"], 1e-12), 1 - 1e-12)
            if "kappa" in params:
                params["kappa"] = max(params["kappa"], 0.0)
            for key in ("a", "b"):
                if key in params and fit.model_name == "exp-power-law":
                    params[key] = min(params[key], -1e-12)
            out.append(make_model(fit.model_name, **params).pass_at_k(k))
        except DifficultyError:
            continue
    return np.array(out) if out else np.repeat(fit.model.pass_at_k(k)[None, :], 2, axis=0)


def forecast_curve(k_obs, pass_at_k, k, model: str = "beta", n_problems: int | None = None, level: float = 0.9,
                   draws: int = 400, seed=0) -> dict:
    """Forecast pass@k at ``k`` from an aggregate curve (``pass_at_k`` observed at ``k_obs``).

    Fits ``model`` to the curve by least squares (:func:`fit_curve`), takes pass@k of the fitted
    curve as the forecast, and a band at ``level`` from the quantiles of pass@k over ``draws``
    parameter draws from the fit's normal approximation (widened to contain the forecast). The
    band is for the population of problems, the only target a bare curve can speak for.

    Returns a dict with k, pass_at_k, low, high (arrays), model, method ("lsq"), level and
    target ("population").
    """
    k = np.atleast_1d(np.asarray(k, dtype=float))
    fit = fit_curve(k_obs, pass_at_k, model, n_problems=n_problems, level=level)
    vals = _curve_draws(fit, k, draws, np.random.default_rng(seed))
    mid = fit.model.pass_at_k(k)
    lo, hi = np.quantile(vals, [0.5 - level / 2, 0.5 + level / 2], axis=0)
    return {"k": k, "pass_at_k": mid, "low": np.minimum(lo, mid), "high": np.maximum(hi, mid),
            "model": fit.model_name, "method": "lsq", "level": level, "target": "population"}
