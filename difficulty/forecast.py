"""Forecasting pass@k beyond the sampled k, with bands, from one fit.

Every forecaster takes a :class:`~difficulty.fit.result.Fit` and fits nothing itself:

* a per-problem fit (``mle`` or ``mcmc``, any model): parameter uncertainty from the posterior
  draws, or from the Laplace approximation at the maximum. For ``target="problems"`` (the
  default: pass@k of *these* problems, what a larger run on the same benchmark would measure),
  each problem's own counts enter through its posterior,

      pass@k = (1/n) sum_i E[1 - (1 - q_i)^k | N_i, c_i, theta]       (MATH.md, empirical Bayes)

  and the band adds the spread of the q_i around those means. For ``target="population"`` it is
  the model's pass@k (Eq. 8) for a new draw of problems.
* several posteriors mixed by weights (:func:`forecast_average`): pseudo-BMA+ weights from
  leave-one-problem-out (fit.mcmc.compare_loo) unless given.
* a curve fit (``lsq``, ``loglog``): the fitted curve with a band from the parameter covariance.

:func:`forecast_pass_at_k` is the convenience that fits (once) and forecasts.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .counts import EvalCounts
from .errors import DifficultyError

__all__ = ["Forecast", "forecast", "forecast_average", "forecast_pass_at_k", "fit_for_forecast", "DEFAULT_FORECAST",
           "AVERAGE_MODELS", "DEFAULT_METHOD"]

# the backtests' choice (README, benchmarks/bench_forecast.py): on real data forecast 100x beyond the
# sampled k, the Kumaraswamy posterior has the lowest error of the forecasters whose 90% bands hold
# the truth about 90% of the time; maximum-likelihood bands (Laplace) are too narrow when few problems
# were solved, since the likelihood then barely constrains the shape of the difficulty distribution
DEFAULT_FORECAST = {"model": "kumaraswamy", "method": "mcmc"}
# the default of forecast_pass_at_k and the forecast command when neither model nor method is named: the
# posterior above, its band widened by the error the model showed extrapolating inside the data
# (difficulty.selfcheck.extrapolation_check; a posterior's band holds the parameters' uncertainty, not the
# model's misfit). "selfcheck" (candidates weighted by their extrapolation skill inside the data) is
# reachable by name; benchmarks/bench_forecast_backtest.py does not show it ahead of the default. For
# groups that share problems the default forecast of each group is this one pooled with the joint model's
# (difficulty.pooled.forecast_groups, what the forecast command does with --group-col)
DEFAULT_METHOD = "mcmc"
AVERAGE_MODELS = ("kumaraswamy", "zi-beta")


@dataclass(frozen=True)
class Forecast:
    """pass@k at each ``k`` with a band [low, high] at ``level``. pass@k of a fixed set of problems (or of
    a population) never falls as k grows, so the point and the band's ends are kept nondecreasing in k
    (for k in any order): a lower end holds at every larger k, so the running maximum from the smallest
    k is taken, and an upper end at every smaller k, so the running minimum from the largest. Each k's
    band is no wider and holds, under the posterior, at least the probability it held: its new lower end
    is the lower end at some smaller k, which pass@k at k exceeds at least as often as pass@k there does
    (likewise the upper end, from a larger k)."""

    k: np.ndarray
    pass_at_k: np.ndarray
    low: np.ndarray
    high: np.ndarray
    level: float
    model: str
    method: str
    target: str
    weights: dict | None = None  # for an average: each posterior's weight
    fit: dict | None = None  # how the fit behind it was made: the sampler that ran and its diagnostics
    selfcheck: dict | None = None  # the self-backtest or the default's check: errors, the ratio checked, its runs
    warnings: list | None = None  # e.g. k/N beyond what the self-backtest could check
    draws: np.ndarray | None = field(default=None, repr=False, compare=False)  # (draws, K): the posterior's band
    # (a checked band, widened by the model's extrapolation error, may be wider than their quantiles)

    def __post_init__(self):
        mid, lo, hi = monotone_band(self.k, self.pass_at_k, self.low, self.high)
        object.__setattr__(self, "pass_at_k", mid)
        object.__setattr__(self, "low", lo)
        object.__setattr__(self, "high", hi)

    def to_dict(self):
        out = {"k": self.k.tolist(), "pass_at_k": self.pass_at_k.tolist(), "low": self.low.tolist(),
               "high": self.high.tolist(), "level": self.level, "model": self.model, "method": self.method,
               "target": self.target}
        if self.weights is not None:
            out["weights"] = dict(self.weights)
        if self.fit is not None:
            out["fit"] = self.fit
        if self.selfcheck is not None:
            out["selfcheck"] = self.selfcheck
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


def monotone_band(k, mid, low, high):
    """The point and band ends made nondecreasing in ``k`` (the :class:`Forecast` docstring): the running
    maximum of the point and of the lower end in increasing k, the running minimum of the upper end in
    decreasing k. New arrays; ``k`` in any order."""
    k = np.asarray(k, dtype=float)
    mid, low, high = (np.array(v, dtype=float) for v in (mid, low, high))
    if k.ndim != 1 or mid.shape != k.shape or low.shape != k.shape or high.shape != k.shape:
        return mid, low, high  # not a curve over k (validated where it is built)
    order = np.argsort(k, kind="stable")
    for v, up in ((mid, True), (low, True), (high, False)):
        w = v[order]
        v[order] = np.fmax.accumulate(w) if up else np.fmin.accumulate(w[::-1])[::-1]
    return mid, low, high


def _fit_info(fit) -> dict:
    """The fit's method and, for a posterior, which sampler ran and its diagnostics (per-parameter ones left out)."""
    return {"model": fit.model_name, "method": fit.method,
            **{k: v for k, v in fit.diagnostics.items() if k != "params"}}


def _check_k(k):
    k = np.atleast_1d(np.asarray(k, dtype=float))
    if k.ndim != 1 or np.any(~np.isfinite(k)) or np.any(k < 1):
        raise DifficultyError("forecast k must be finite and >= 1")
    return k


def _set_draws(like, thetas, k, rng):
    """pass@k of these problems at each parameter draw: the mean of E[1 - (1 - q_i)^k | c_i] plus
    a normal draw of the spread of the q_i around it (variance from E[(1 - q)^2k]), one draw per
    parameter draw for every k (the problems' q are one set across k, so each draw is one curve). (draws, K)."""
    n = like.w.sum()
    both = np.concatenate([k, 2 * k])  # E[p^k] and E[p^2k] from one evaluation
    lb = like.log_unsolved_after(thetas, both)  # (draws, pairs, 2K)
    m1 = np.exp(lb[..., :k.size])
    var = np.clip(np.exp(lb[..., k.size:]) - m1**2, 0, None)
    mean = np.einsum("u,duk->dk", like.w, 1 - m1) / n
    sd = np.sqrt(np.einsum("u,duk->dk", like.w, var)) / n
    return np.clip(mean + sd * rng.standard_normal((mean.shape[0], 1)), 0, 1)


def _population_draws(fit, thetas, k):
    model = fit.spec.cls.from_vector(thetas[:, None, :], fit.param_names, fit.spec.fixed)
    return np.asarray(model.pass_at_k(k[None, :]))


def _band(vals, level):
    lo, mid, hi = np.quantile(vals, [0.5 - level / 2, 0.5, 0.5 + level / 2], axis=0)
    return mid, lo, hi


def _draws_of(fit, k, n, target, rng, seed):
    if fit.likelihood is None:
        raise DifficultyError(f"a {fit.method} fit of {fit.model_name} has no per-problem likelihood")
    thetas = fit.parameter_draws(n, seed)
    if target == "problems":
        return _set_draws(fit.likelihood, thetas, k, rng)
    return _population_draws(fit, thetas, k)


def forecast(fit, k, level: float = 0.9, target: str = "problems", draws: int = 400, seed=0) -> Forecast:
    """pass@k at any k (up to 1e12) with a band at ``level``, from one fit (module docstring)."""
    k = _check_k(k)
    if target not in ("problems", "population"):
        raise DifficultyError(f"target must be 'problems' or 'population', got {target!r}")
    rng = np.random.default_rng(seed)
    if fit.method == "lsq":
        from .fit.curve import _curve_draws

        vals = _curve_draws(fit, k, draws, rng)
        mid = np.asarray(fit.model.pass_at_k(k), dtype=float)
        lo, hi = np.quantile(vals, [0.5 - level / 2, 0.5 + level / 2], axis=0)
        method = "loglog" if fit.model_name == "power-law" else "lsq"
        return Forecast(k, mid, np.minimum(lo, mid), np.maximum(hi, mid), level, fit.model_name, method, "population",
                        fit=_fit_info(fit))
    vals = _draws_of(fit, k, draws, target, rng, seed)
    mid, lo, hi = _band(vals, level)
    return Forecast(k, mid, lo, hi, level, fit.model_name, fit.method, target, fit=_fit_info(fit), draws=vals)


def forecast_average(fits: dict, k, weights: dict | None = None, level: float = 0.9, target: str = "problems",
                     draws: int = 400, seed=0, reuse: dict | None = None) -> Forecast:
    """Posterior-predictive pass@k averaged over models: each fit contributes draws in proportion
    to its weight (pseudo-BMA+ from leave-one-problem-out, computed here unless given).

    ``reuse``: {name: Forecast} made earlier from the same fits at the same k and target; their
    draws are taken (the first ones, as many as the weight asks) instead of computed again."""
    k = _check_k(k)
    if weights is None or set(weights) != set(fits):
        from .fit.mcmc import compare_loo

        weights = compare_loo(fits, max_draws=300, seed=seed)["weight"].to_dict()
    rng = np.random.default_rng(seed)
    vals = []
    for name, fit in fits.items():
        n = int(round(draws * weights[name]))
        if not n:
            continue
        given = (reuse or {}).get(name)
        if (given is not None and given.draws is not None and given.draws.shape[0] >= n and given.target == target
                and np.array_equal(given.k, k)):
            vals.append(given.draws[:n])
        else:
            vals.append(_draws_of(fit, k, n, target, rng, seed))
    mid, lo, hi = _band(np.vstack(vals), level)
    return Forecast(k, mid, lo, hi, level, "average", "mcmc", target, weights={m: float(w) for m, w in weights.items()},
                    fit={m: _fit_info(f) for m, f in fits.items()})


def fit_for_forecast(counts: EvalCounts, model: str | None = None, method: str | None = None, level: float = 0.9,
                     seed=0, fit_k=None, progress=None, sampler: str = "auto"):
    """The fit a forecast of these counts uses: a per-problem fit (mle, mcmc) or a curve fit (lsq,
    loglog) of the unbiased pass@k at k <= min N; ``model="average"`` gives {name: posterior}.
    ``sampler``: how mcmc draws its posterior (auto, importance, emcee; see sample_posterior)."""
    model = model or DEFAULT_FORECAST["model"]
    method = method or DEFAULT_FORECAST["method"]
    if method in ("mle", "mcmc") and model == "auto":
        from .fit.mle import compare_mle

        model = next(iter(compare_mle(counts, level=level)))
    if model == "average":
        if method != "mcmc":
            raise DifficultyError("model 'average' weighs posteriors: it needs --method mcmc")
        return {m: fit_for_forecast(counts, m, "mcmc", level, seed, progress=progress, sampler=sampler)
                for m in AVERAGE_MODELS}
    if method == "mle":
        from .fit.mle import fit_mle

        return fit_mle(counts, model, level=level)
    if method == "mcmc":
        from .fit.mcmc import sample_posterior

        with warnings.catch_warnings():  # its diagnostics are kept in the fit
            warnings.simplefilter("ignore", RuntimeWarning)
            return sample_posterior(counts, model, seed=seed, level=level, progress=progress, method=sampler)
    if method in ("lsq", "loglog"):
        from .fit.curve import curve_from_counts, fit_curve

        nmin = int(counts.n.min())
        kk = fit_k if fit_k is not None else np.unique(np.round(np.logspace(0, np.log10(nmin), 25)).astype(int))
        y, cov, n = curve_from_counts(counts, kk)
        name = "power-law" if method == "loglog" else (model if model in ("beta", "effective-k", "exp-power-law")
                                                      else "beta")
        return fit_curve(kk, y, name, n_problems=n, cov=None if method == "loglog" else cov, level=level)
    raise DifficultyError(f"unknown forecast method {method!r}; choose mle, mcmc, lsq or loglog")


def forecast_pass_at_k(counts: EvalCounts, k, model: str | None = None, method: str | None = None,
                       level: float = 0.9, target: str = "problems", draws: int = 400, seed=0, fit_k=None,
                       progress=None, sampler: str = "auto", check: bool | None = None) -> Forecast:
    """Fit (once) and forecast pass@k at any k with a band at ``level`` (module docstring). With neither
    ``model`` nor ``method``: DEFAULT_FORECAST, its band widened by the model's extrapolation error inside
    the data (``check``, on by default only there; :func:`difficulty.selfcheck.extrapolation_check`);
    method "selfcheck": candidates weighted by a self-backtest inside the data
    (:func:`difficulty.selfcheck.forecast_selfcheck`)."""
    k = _check_k(k)
    if method == "selfcheck" or (method is None and model == "selfcheck"):
        if check is not None:
            raise DifficultyError("--method selfcheck widens its band itself: leave out check / --check")
        from .selfcheck import forecast_selfcheck

        return forecast_selfcheck(counts, k, level=level, draws=draws, seed=seed)
    if check is None:
        check = model is None and method is None
    fit = fit_for_forecast(counts, model, method, level, seed, fit_k, progress, sampler)
    if check and (isinstance(fit, dict) or fit.method not in ("mle", "mcmc")):
        raise DifficultyError("check (--check) widens the band of one per-problem model (--method mle or mcmc), "
                              f"not of {'--model average' if isinstance(fit, dict) else '--method ' + str(method)}")
    if isinstance(fit, dict):
        return forecast_average(fit, k, level=level, target=target, draws=draws, seed=seed)
    fc = forecast(fit, k, level=level, target=target, draws=draws, seed=seed)
    if check:
        from .selfcheck import extrapolation_check, widen_forecast

        fc = widen_forecast(fc, extrapolation_check(counts, fit.model_name, seed=seed))
    return fc


