"""The one result every fit returns, and every consumer (forecast, rank, invert, report) takes.

A :class:`Fit` is frozen: the model (registry entry), the estimate with intervals, the
covariance in the fit's coordinates, the posterior draws and their arviz InferenceData when the
fit sampled them, diagnostics, and the likelihood it was fitted with (so that per-problem
posteriors can be computed without fitting again).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..models import ModelSpec

__all__ = ["Fit"]


@dataclass(frozen=True, eq=False)
class Fit:
    """A fitted model. ``covariance`` is in the coordinates named by ``coords``: "unconstrained"
    (each parameter's own transform, see Param) for likelihood fits, "natural" for curve fits."""

    spec: ModelSpec
    method: str  # "mle", "mcmc", "lsq"
    param_names: tuple
    estimate: np.ndarray
    low: np.ndarray
    high: np.ndarray
    level: float
    loglike: float | None = None
    n_problems: int | None = None
    covariance: np.ndarray | None = None
    coords: str = "unconstrained"
    draws: np.ndarray | None = None  # posterior draws (draws, P), natural parameters, chain after chain
    chains: int = 1  # how many chains the draws came from (in order)
    diagnostics: dict = field(default_factory=dict)
    likelihood: object = field(default=None, repr=False)
    extra: dict = field(default_factory=dict)

    @property
    def idata(self):
        """arviz InferenceData of the posterior draws (built on first use: importing arviz costs seconds
        that a forecast does not need), or None for a fit without draws."""
        if self.draws is None:
            return None
        cached = self.__dict__.get("_idata")
        if cached is None:
            import arviz as az

            d = self.draws.reshape(self.chains, -1, self.draws.shape[1])
            attrs = {"model": self.spec.name, **{k: v for k, v in self.diagnostics.items()
                                                 if isinstance(v, (str, int, float))}}
            cached = az.from_dict(posterior={n: d[..., i] for i, n in enumerate(self.param_names)}, attrs=attrs)
            object.__setattr__(self, "_idata", cached)
        return cached

    @property
    def model_name(self) -> str:
        return self.spec.name

    @property
    def value(self) -> np.ndarray:
        return self.estimate

    @property
    def samples(self) -> np.ndarray | None:
        return self.draws

    @property
    def model(self):
        """The model at the estimate (posterior median for a sampled fit)."""
        return self.spec.cls.from_vector(self.estimate, self.param_names, self.spec.fixed)

    @property
    def aic(self) -> float | None:
        return None if self.loglike is None else 2 * len(self.param_names) - 2 * self.loglike

    @property
    def warnings(self) -> list:
        return list(self.diagnostics.get("warnings", []))

    def parameter_draws(self, n: int, seed=0) -> np.ndarray:
        """n parameter vectors (n, P) carrying the fit's uncertainty: posterior draws when the fit
        has them (without replacement while there are enough), else draws from the Laplace
        (normal) approximation in the fit's coordinates, else the estimate repeated."""
        rng = np.random.default_rng(seed)
        if self.draws is not None:
            d = self.draws
            return d[rng.choice(d.shape[0], n, replace=n > d.shape[0])]
        cov = self.covariance
        if cov is None or not np.all(np.isfinite(cov)):
            return np.repeat(self.estimate[None, :], n, axis=0)
        cov = 0.5 * (cov + cov.T) + np.eye(len(self.estimate)) * 1e-12
        if self.coords == "unconstrained" and self.likelihood is not None:
            z_hat = self.likelihood.to_unconstrained(self.estimate)
            z = rng.multivariate_normal(z_hat, cov, size=n, method="eigh")
            return self.likelihood.from_unconstrained(np.clip(z, -30, 30))
        return rng.multivariate_normal(self.estimate, cov, size=n, method="eigh")

    def models(self, n: int | None = None, seed=0):
        """The model at n parameter draws (a stack of shape (n,)), or at every posterior draw."""
        theta = self.draws if n is None and self.draws is not None else self.parameter_draws(n or 400, seed)
        return self.spec.cls.from_vector(theta, self.param_names, self.spec.fixed)

    def summary(self, level: float | None = None):
        """arviz summary of the posterior (mean, sd, HDI, R-hat, ESS) as a DataFrame."""
        if self.idata is None:
            raise ValueError("this fit has no posterior draws (fit with method='mcmc')")
        import arviz as az

        return az.summary(self.idata, hdi_prob=level or self.level, round_to="none")

    def save(self, path: str) -> None:
        """Write the posterior (arviz InferenceData) as netCDF."""
        if self.idata is None:
            raise ValueError("this fit has no posterior draws to save")
        self.idata.to_netcdf(path)

    def to_dict(self) -> dict:
        out = {
            "model": self.spec.name,
            "method": self.method,
            "params": {n: {"value": float(v), "low": float(lo), "high": float(hi)}
                       for n, v, lo, hi in zip(self.param_names, self.estimate, self.low, self.high)},
            "level": self.level,
        }
        if self.spec.fixed:
            out["fixed"] = dict(self.spec.fixed)
        if self.loglike is not None:
            out["loglike"] = float(self.loglike)
            out["aic"] = float(self.aic)
        if self.n_problems is not None:
            out["n_problems"] = self.n_problems
        for name, d in self.diagnostics.get("params", {}).items():
            out["params"][name].update(d)
        diag = {k: v for k, v in self.diagnostics.items() if k != "params"}
        if diag:
            out["diagnostics"] = diag
        out.update(self.extra)
        return out
