"""The log-likelihood of counts under any per-problem model, as a function of its free parameters.

c_i ~ Binomial(N_i, q_i), q_i from the model (a fraction 1 - A never solvable). The model's
class supplies log P(c | N) (:mod:`difficulty.models.marginal`); this module only turns it into
a function of a parameter vector theta (..., P), with the unconstrained coordinates z a fit
works in (each parameter's own transform) and the default prior. The likelihood depends on the
data only through the histogram of (N_i, c_i); it is built once per counts and kept with them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..counts import EvalCounts
from ..errors import DifficultyError
from ..models import ModelSpec, resolve
from ..models.marginal import CountMarginal

__all__ = ["Likelihood", "make_likelihood", "DataStats"]


@dataclass(frozen=True)
class DataStats:
    """Summary statistics of the counts from which each model draws its starting points."""

    rates: np.ndarray  # c/N per distinct pair
    weights: np.ndarray
    n: np.ndarray

    @property
    def mean_q(self) -> float:
        return float(self.weights @ self.rates / self.weights.sum())

    @property
    def q_max(self) -> float:
        return float(self.rates.max())

    def rate_quantile(self, level: float) -> float:
        """The level-quantile of c/N over problems."""
        order = np.argsort(self.rates)
        cum = np.cumsum(self.weights[order]) / self.weights.sum()
        return float(self.rates[order][min(np.searchsorted(cum, level), order.size - 1)])

    @property
    def frac_zero(self) -> float:
        return float(self.weights[self.rates == 0].sum() / self.weights.sum())

    @property
    def ceiling_guess(self) -> float:
        return min(max(1 - 0.5 * self.frac_zero, 0.05), 0.99)

    def moment_beta(self) -> tuple[float, float]:
        """Method-of-moments Beta(alpha, beta) for p from the per-problem rates."""
        q = np.clip(self.rates, 1e-4, 1 - 1e-4)
        m = float(self.weights @ q / self.weights.sum())
        v = float(self.weights @ (q - m) ** 2 / self.weights.sum())
        v = min(max(v, 1e-6), m * (1 - m) * 0.999)
        conc = m * (1 - m) / v - 1
        return max((1 - m) * conc, 0.05), max(m * conc, 0.05)

    def logit_moments(self) -> tuple[float, float]:
        """Mean and standard deviation of logit((c + 1/2)/(N + 1)) over problems."""
        r = (self.rates * self.n + 0.5) / (self.n + 1)
        t = np.log(r) - np.log1p(-r)
        m = float(self.weights @ t / self.weights.sum())
        s = float(np.sqrt(self.weights @ (t - m) ** 2 / self.weights.sum()))
        return m, max(s, 0.1)


class Likelihood:
    """log P(counts | theta) for a registry model (``spec``): theta holds its free parameters in
    ``param_names`` order; ``loglike`` broadcasts over leading axes of theta."""

    def __init__(self, spec, counts: EvalCounts):
        if not isinstance(counts, EvalCounts):
            raise DifficultyError("the likelihood needs EvalCounts")
        self.spec: ModelSpec = resolve(spec)
        if not self.spec.per_problem:
            raise DifficultyError(f"model {self.spec.name!r} has no per-problem likelihood; per-problem models are "
                                  + ", ".join(n for n, s in _per_problem_specs().items()))
        h = counts.histogram()
        if np.all(h.c == 0):
            raise DifficultyError("no problem was ever solved (all c = 0): the data say only that pass@k is small; "
                                  "a difficulty distribution cannot be fitted")
        if np.all(h.c == h.n):
            raise DifficultyError("every attempt succeeded (all c = N): a difficulty distribution cannot be fitted")
        self.counts = counts
        self.hist = h
        self.n = h.n.astype(float)
        self.c = h.c.astype(float)
        self.w = h.weight.astype(float)
        self.n_problems = h.n_problems
        self.marginal = CountMarginal(self.spec.cls, h.n, h.c, self.w)
        self.params = self.spec.free
        self.param_names = tuple(p.name for p in self.params)
        self.stats = DataStats(self.c / self.n, self.w, self.n)
        self._inside = self.start_points()[0]  # stands in for invalid theta, whose value is then discarded

    @property
    def name(self) -> str:
        return self.spec.name

    def model(self, theta):
        """The model at theta (..., P): a stack of parameter sets of shape theta.shape[:-1]."""
        return self.spec.cls.from_vector(theta, self.param_names, self.spec.fixed)

    def _valid(self, theta):
        ok = np.all(np.isfinite(theta), axis=-1)
        for i, p in enumerate(self.params):
            t = theta[..., i]
            with np.errstate(invalid="ignore"):
                ok &= (t >= p.low) if p.closed_low else (t > p.low)
                ok &= (t <= p.high) if p.closed_high else (t < p.high)
        return ok

    def loglike(self, theta):
        """sum_i log P(c_i | N_i, theta): shape theta.shape[:-1]; -inf outside the parameter space."""
        theta = np.asarray(theta, dtype=float)
        ok = self._valid(theta)
        safe = np.where(ok[..., None], theta, self._inside)
        with np.errstate(all="ignore"):
            out = np.asarray(self.marginal.total(self.model(safe)), dtype=float)
        out = np.where(ok & ~np.isnan(out), out, -np.inf)
        return float(out) if out.ndim == 0 else out

    def pointwise(self, theta):
        """log P(c | N, theta) per distinct (N, c) pair (multiply by ``w`` to sum): theta.shape[:-1] + (pairs,)."""
        with np.errstate(all="ignore"):
            return self.marginal.pointwise(self.model(np.asarray(theta, dtype=float)))

    def log_unsolved_after(self, theta, K):
        """log E[(1 - q)^K | N, c, theta] per pair: theta.shape[:-1] + (pairs,) + K.shape."""
        with np.errstate(all="ignore"):
            return self.marginal.log_unsolved_after(self.model(np.asarray(theta, dtype=float)), K)

    def log_never_solvable(self, theta):
        """log P(never solvable | N, c, theta) per pair."""
        with np.errstate(all="ignore"):
            return self.marginal.log_never(self.model(np.asarray(theta, dtype=float)))

    def posterior_cdf(self, theta, x):
        """P(q <= x | N, c, theta) per pair and x."""
        with np.errstate(all="ignore"):
            return self.marginal.posterior_cdf(self.model(np.asarray(theta, dtype=float)), x)

    # unconstrained coordinates
    def to_unconstrained(self, theta):
        theta = np.asarray(theta, dtype=float)
        return np.stack([p.to_z(theta[..., i]) for i, p in enumerate(self.params)], axis=-1)

    def from_unconstrained(self, z):
        z = np.asarray(z, dtype=float)
        return np.stack([p.from_z(z[..., i]) for i, p in enumerate(self.params)], axis=-1)

    def log_jacobian(self, z):
        z = np.asarray(z, dtype=float)
        return sum(p.log_jacobian(z[..., i]) for i, p in enumerate(self.params))

    def log_prior_z(self, z):
        """The default prior's log density in z (each parameter's own; see Param)."""
        z = np.asarray(z, dtype=float)
        return sum(p.log_prior_z(z[..., i]) for i, p in enumerate(self.params))

    def prior_box_z(self):
        """(low, high) of the default prior's support in z, per parameter."""
        return np.array([p.prior_z() for p in self.params]).T

    def start_points(self) -> list:
        """Starting points (natural parameters) from the model's guesses, moved inside its bounds."""
        out = []
        for g in self.spec.cls.initial_guesses(self.stats):
            theta = []
            for p in self.params:
                v = float(g.get(p.name, p.default if p.default is not None else 1.0))
                lo = p.low if math.isfinite(p.low) else -1e6
                hi = p.high if math.isfinite(p.high) else 1e6
                span = hi - lo
                v = min(max(v, lo + 1e-6 * max(span, 1e-6)), hi - 1e-6 * max(span, 1e-6))
                if p.prior is not None:
                    v = min(max(v, p.prior[0]), p.prior[1])
                theta.append(v)
            out.append(np.array(theta))
        return out


def _per_problem_specs():
    from ..models import MODELS

    return {n: s for n, s in MODELS.items() if s.per_problem}


def make_likelihood(spec, counts: EvalCounts) -> Likelihood:
    """The likelihood of these counts under a model, built once per (model, counts) and kept with the
    counts (its set-up, not its evaluation, is the costly part for N in the millions)."""
    key = resolve(spec)
    cache = counts.__dict__.get("_likelihoods")
    if cache is None:
        cache = {}
        object.__setattr__(counts, "_likelihoods", cache)  # counts are frozen and read-only: safe to memoise
    ck = (key.name, key.cls, tuple(sorted(key.fixed.items())))
    if ck not in cache:
        cache[ck] = Likelihood(key, counts)
    return cache[ck]
