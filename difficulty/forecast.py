"""Forecasting pass@k beyond the sampled k, with bands.

Forecasters (``method``):

* ``mle`` / ``mcmc``: a per-problem likelihood (``model``: beta, zi-beta, kumaraswamy, ...).
  Parameter uncertainty comes from posterior draws (emcee) or from the Laplace approximation
  at the maximum (normal in log/logit coordinates). For ``target="problems"`` (the default:
  pass@k of *these* problems, what a larger run on the same benchmark would measure), each
  problem's own counts enter through its posterior: E[1 - p_i^k | N_i, c_i] (MATH.md,
  empirical Bayes), and the band adds the spread of the p_i around those means. For
  ``target="population"`` it is the model's pass@k (Eq. 8) for a new draw of problems.
* ``mcmc`` with ``model="average"``: the Kumaraswamy and zero-inflated Beta posteriors mixed by
  their pseudo-BMA+ weights from leave-one-problem-out (fit.mcmc.compare_loo).
* ``lsq``: an aggregate-curve fit (lmfit) to the unbiased pass@k at k <= min N, band from
  the parameter covariance.
* ``loglog``: least squares of log(-log pass@k) on log k, extrapolated (the usual baseline).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .counts import EvalCounts
from .errors import DifficultyError

__all__ = ["Forecast", "forecast_pass_at_k", "DEFAULT_FORECAST", "laplace_draws"]

# the backtests' choice (README, benchmarks/bench_forecast.py): on real data forecast 100x beyond the
# sampled k, the Kumaraswamy posterior has the lowest error of the forecasters whose 90% bands hold
# the truth about 90% of the time; maximum-likelihood bands (Laplace) are too narrow when few problems
# were solved, since the likelihood then barely constrains the shape of the difficulty distribution
DEFAULT_FORECAST = {"model": "kumaraswamy", "method": "mcmc"}


@dataclass(frozen=True)
class Forecast:
    k: np.ndarray
    pass_at_k: np.ndarray
    low: np.ndarray
    high: np.ndarray
    level: float
    model: str
    method: str
    target: str
    weights: dict | None = None  # for model="average": each posterior's pseudo-BMA+ weight

    def to_dict(self):
        out = {"k": self.k.tolist(), "pass_at_k": self.pass_at_k.tolist(), "low": self.low.tolist(),
               "high": self.high.tolist(), "level": self.level, "model": self.model, "method": self.method,
               "target": self.target}
        if self.weights is not None:
            out["weights"] = dict(self.weights)
        return out


def laplace_draws(like, fit, n, rng):
    """Parameter draws from the Laplace approximation of a likelihood fit (unconstrained coords)."""
    z_hat = like.to_unconstrained(fit.value)
    cov = fit.covariance
    if cov is None or not np.all(np.isfinite(cov)):
        return np.repeat(fit.value[None, :], n, axis=0)
    cov = 0.5 * (cov + cov.T) + np.eye(len(z_hat)) * 1e-12
    z = rng.multivariate_normal(z_hat, cov, size=n, method="eigh")
    return like.from_unconstrained(np.clip(z, -30, 30))


def _set_forecast(like, thetas, k, level, rng):
    """pass@k of these problems: per draw, mean and spread of E[1 - p_i^k | counts_i]."""
    n = like.w.sum()
    vals = np.empty((len(thetas), k.size))
    both = np.concatenate([k, 2 * k])  # E[p^k] and E[p^2k] from one evaluation per draw
    for d, th in enumerate(thetas):
        lb = like.log_unsolved_after(th, both)
        l1, l2 = lb[:, :k.size], lb[:, k.size:]
        m1 = np.exp(l1)
        var = np.clip(np.exp(l2) - m1**2, 0, None)
        mean = like.w @ (1 - m1) / n
        sd = np.sqrt(like.w @ var) / n
        vals[d] = np.clip(mean + sd * rng.standard_normal(k.size), 0, 1)
    return vals


def _band(vals, level):
    lo, mid, hi = np.quantile(vals, [0.5 - level / 2, 0.5, 0.5 + level / 2], axis=0)
    return mid, lo, hi


def forecast_pass_at_k(counts: EvalCounts, k, model: str | None = None, method: str | None = None,
                       level: float = 0.9, target: str = "problems", draws: int = 400, seed=0,
                       posterior=None, fit_k=None, weights=None) -> Forecast:
    """Forecast pass@k at any k (up to 1e12) with a band at ``level`` (module docstring).

    ``posterior``: a Posterior of ``model`` to reuse (for model="average", {model: Posterior});
    ``weights``: for model="average", the models' weights when compare_loo has already given them."""
    model = model or DEFAULT_FORECAST["model"]
    method = method or DEFAULT_FORECAST["method"]
    k = np.atleast_1d(np.asarray(k, dtype=float))
    if np.any(~np.isfinite(k)) or np.any(k < 1):
        raise DifficultyError("forecast k must be finite and >= 1")
    if target not in ("problems", "population"):
        raise DifficultyError(f"target must be 'problems' or 'population', got {target!r}")
    rng = np.random.default_rng(seed)
    if method in ("mle", "mcmc") and model == "auto":
        from .fit.mle import compare_mle

        model = next(iter(compare_mle(counts, level=level)))
    if model == "average":
        if method != "mcmc":
            raise DifficultyError("model 'average' weighs posteriors: it needs --method mcmc")
        return _average_forecast(counts, k, level, target, draws, seed, posterior, weights)
    if method in ("mle", "mcmc"):
        from .fit.likelihood import make_likelihood

        like = make_likelihood(model, counts)
        if method == "mle":
            from .fit.mle import fit_mle

            fit = fit_mle(counts, model, level=level)
            thetas = laplace_draws(like, fit, draws, rng)
        else:
            from .fit.mcmc import sample_posterior

            if posterior is not None and posterior.likelihood.name != like.name:
                raise DifficultyError(f"the posterior given is of {posterior.likelihood.name}, not of {like.name}")
            post = posterior or sample_posterior(counts, model, seed=seed, progress=False)
            s = post.samples
            thetas = s[rng.choice(s.shape[0], min(draws, s.shape[0]), replace=False)]
        if target == "problems":
            vals = _set_forecast(like, thetas, k, level, rng)
        else:
            vals = np.array([like.make_model(t).pass_at_k(k) for t in thetas])
        mid, lo, hi = _band(vals, level)
        return Forecast(k, mid, lo, hi, level, like.name, method, target)
    if method in ("lsq", "loglog"):
        from .fit.curve import curve_from_counts, fit_curve

        nmin = int(counts.n.min())
        kk = fit_k if fit_k is not None else np.unique(np.round(np.logspace(0, np.log10(nmin), 25)).astype(int))
        y, cov, n = curve_from_counts(counts, kk)
        name = "power-law" if method == "loglog" else (model if model in ("beta", "effective-k", "exp-power-law") else "beta")
        fit = fit_curve(kk, y, name, n_problems=n, cov=None if method == "loglog" else cov, level=level)
        vals = _curve_draws(fit, k, draws, rng)
        mid = fit.model.pass_at_k(k)
        lo, hi = np.quantile(vals, [0.5 - level / 2, 0.5 + level / 2], axis=0)
        return Forecast(k, mid, np.minimum(lo, mid), np.maximum(hi, mid), level, name, method, "population")
    raise DifficultyError(f"unknown forecast method {method!r}; choose mle, mcmc, lsq or loglog")


AVERAGE_MODELS = ("kumaraswamy", "zi-beta")


def _average_forecast(counts, k, level, target, draws, seed, posteriors=None, weights=None):
    """Posterior-predictive pass@k averaged over models, each weighted by its pseudo-BMA+ weight
    from leave-one-problem-out (compare_loo): the draws of each model in proportion to its weight.
    ``posteriors``: {model name: Posterior} to reuse (any of AVERAGE_MODELS not given is sampled)."""
    from .fit.likelihood import make_likelihood
    from .fit.mcmc import compare_loo, sample_posterior

    posts = {}
    for m in AVERAGE_MODELS:
        like = make_likelihood(m, counts)
        given = (posteriors or {}).get(m)
        if given is not None and given.likelihood.name != like.name:
            raise DifficultyError(f"the posterior given for {m} is of {given.likelihood.name}")
        posts[like.name] = given or sample_posterior(counts, m, seed=seed, progress=False)
    if weights is None or set(weights) != set(posts):
        weights = compare_loo(posts, max_draws=300, seed=seed)["weight"].to_dict()
    rng = np.random.default_rng(seed)
    vals = []
    for name, post in posts.items():
        n = int(round(draws * weights[name]))
        if n == 0:
            continue
        s = post.samples
        thetas = s[rng.choice(s.shape[0], n, replace=n > s.shape[0])]
        if target == "problems":
            vals.append(_set_forecast(post.likelihood, thetas, k, level, rng))
        else:
            vals.append(np.array([post.likelihood.make_model(t).pass_at_k(k) for t in thetas]))
    mid, lo, hi = _band(np.vstack(vals), level)
    return Forecast(k, mid, lo, hi, level, "average", "mcmc", target, weights={m: float(w) for m, w in weights.items()})


def _curve_draws(fit, k, n, rng):
    cov = fit.covariance
    if cov is None or not np.all(np.isfinite(cov)):
        return np.repeat(fit.model.pass_at_k(k)[None, :], 2, axis=0)
    if fit.coords == "log_a,b":
        mean = np.array([np.log(fit.value[0]), fit.value[1]])
        z = rng.multivariate_normal(mean, cov, size=n, method="eigh")
        a, b = np.exp(z[:, 0:1]), z[:, 1:2]
        return np.exp(-a * k[None, :] ** (-b))
    with np.errstate(invalid="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a near-singular covariance is still usable
            z = rng.multivariate_normal(fit.value, 0.5 * (cov + cov.T), size=n, method="eigh")
    out = []
    from .models import make_model

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
