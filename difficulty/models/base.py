"""The interface every model shares, as scipy.stats distributions share pdf/cdf/rvs.

A model is the one home of its mathematics:

* its **parameter space**: each :class:`Param` knows its bounds, the unconstrained transform a
  fit works in (log for shapes, logit for fractions, identity for locations) and a default prior;
* **broadcasting**: parameters are arrays; one model object holds one parameter set or a stack
  of posterior draws, and every method broadcasts its parameters against its argument the way
  numpy does (parameters of shape (D, 1) and k of shape (K,) give (D, K));
* the curve: pass@k = A (1 - <p^k>) (Eq. 8), L(k) = A <p^k> (Eq. 9);
* the **Laplace transform** <p^s> = integral exp(-sigma s) f(sigma) d sigma (Eq. 10), real s and
  complex s where analytic, and an mpmath form so that every distribution can be inverted;
* the **marginal likelihood** of counts, log P(c | N) (closed form for the Beta family, one shared
  quadrature otherwise) and the **forecast kernel** E[(1 - q)^K | N, c].

Two levels: :class:`PassCurveModel` models only the aggregate curve (power laws);
:class:`DifficultyModel` is a distribution of the per-problem failure probability p with a
never-solvable fraction 1 - A (an atom at p = 1), from which all the rest follows.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..errors import DifficultyError

__all__ = ["Param", "PassCurveModel", "DifficultyModel", "as_k", "logs", "log1mexp"]

INF = float("inf")


@dataclass(frozen=True)
class Param:
    """A parameter: name, bounds, default, meaning, and the default prior's range.

    The unconstrained coordinate a fit works in follows from the bounds: log for (0, inf),
    logit for (0, 1), a scaled logit for other finite intervals, identity for (-inf, inf).
    The default prior is uniform in that coordinate over ``prior`` (log-uniform for shapes),
    except fractions, which are uniform on (0, 1).
    """

    name: str
    low: float
    high: float
    default: float | None = None
    doc: str = ""
    closed_low: bool = False
    closed_high: bool = False
    prior: tuple[float, float] | None = None

    @property
    def kind(self) -> str:
        if self.low == 0 and self.high == INF:
            return "log"
        if self.low == 0 and self.high == 1:
            return "logit"
        if self.low == -INF and self.high == INF:
            return "identity"
        return "interval"

    def check(self, value) -> np.ndarray:
        """The value as a float array, or a one-line error naming the parameter."""
        try:
            v = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise DifficultyError(f"parameter {self.name} must be a number, got {value!r}") from None
        if not np.all(np.isfinite(v)):
            raise DifficultyError(f"parameter {self.name} must be finite, got {value!r}")
        lo_ok = v >= self.low if self.closed_low else v > self.low
        hi_ok = v <= self.high if self.closed_high else v < self.high
        bad = ~(lo_ok & hi_ok)
        if np.any(bad):
            lb, rb = ("[" if self.closed_low else "("), ("]" if self.closed_high else ")")
            raise DifficultyError(f"parameter {self.name}={v[bad].flat[0]:g} is outside "
                                  f"{lb}{self.low:g}, {self.high:g}{rb}")
        return v

    # unconstrained coordinates z, used by every fit
    def to_z(self, v):
        v = np.asarray(v, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.kind == "log":
                return np.log(v)
            if self.kind == "logit":
                return np.log(v) - np.log1p(-v)
            if self.kind == "identity":
                return v
            u = (v - self.low) / (self.high - self.low)
            return np.log(u) - np.log1p(-u)

    def from_z(self, z):
        z = np.asarray(z, dtype=float)
        with np.errstate(over="ignore"):
            if self.kind == "log":
                return np.exp(z)
            if self.kind == "logit":
                return 1.0 / (1.0 + np.exp(-z))
            if self.kind == "identity":
                return z
            return self.low + (self.high - self.low) / (1.0 + np.exp(-z))

    def log_jacobian(self, z):
        """log |d value / d z|."""
        z = np.asarray(z, dtype=float)
        if self.kind == "log":
            return z
        if self.kind == "identity":
            return np.zeros(z.shape)
        logit = -np.logaddexp(0, z) - np.logaddexp(0, -z)
        return logit if self.kind == "logit" else logit + math.log(self.high - self.low)

    def log_prior_z(self, z):
        """The default prior's log density in z: uniform in z over ``prior`` (log-uniform on a
        shape), or uniform on the value for a fraction (density = Jacobian in z)."""
        z = np.asarray(z, dtype=float)
        if self.kind == "logit" and self.prior is None:
            return self.log_jacobian(z)
        lo, hi = self.prior_z()
        return np.where((z < lo) | (z > hi), -np.inf, 0.0)

    def prior_z(self) -> tuple[float, float]:
        """The default prior's support in z."""
        if self.prior is not None:
            lo, hi = self.to_z(self.prior[0]), self.to_z(self.prior[1])
            return float(lo), float(hi)
        return (-30.0, 30.0)


def logs(p, q):
    """log p and log q, each from whichever of p, q = 1 - p is the small one (no cancellation)."""
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p = np.where(p < 0.5, np.log(p), np.log1p(-q))
        log_q = np.where(q < 0.5, np.log(q), np.log1p(-p))
    return log_p, log_q


TRANSFORM_TOL = 1e-11  # error estimate (of log <p^s>) under which the vectorised rule is kept


def log1mexp(x):
    """log(1 - exp(x)) for x <= 0, accurate at both ends (Maechler 2012)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x < -0.6931471805599453, np.log1p(-np.exp(x)), np.log(-np.expm1(x)))


def as_k(k):
    """k (or s) as a float array, complex kept; a one-line error for negative or non-finite k."""
    arr = np.asarray(k)
    if np.iscomplexobj(arr):
        return arr
    arr = arr.astype(float)
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        raise DifficultyError("k must be finite and >= 0")
    return arr


_as_k = as_k


class PassCurveModel:
    """A model of pass@k as a function of the number of attempts k.

    Parameters are float arrays (validated once, at construction) that broadcast against the
    arguments of every method. ``variants`` names the registry entries of the class and, for
    each, the parameters held fixed when it is fitted (e.g. ``{"beta": {"A": 1.0}}``).
    """

    name: ClassVar[str] = ""
    params_spec: ClassVar[tuple[Param, ...]] = ()
    variants: ClassVar[dict[str, dict[str, float]]] = {}
    compare: ClassVar[tuple[str, ...]] = ()  # entries fitted when models are compared automatically

    def __init__(self, **params):
        spec = self.param_space()
        known = {p.name for p in spec}
        unknown = set(params) - known
        if unknown:
            raise DifficultyError(f"model {self.name!r} has no parameter {sorted(unknown)[0]!r}; "
                                  f"its parameters are {', '.join(p.name for p in spec)}")
        values = {}
        for p in spec:
            if p.name in params:
                values[p.name] = p.check(params[p.name])
            elif p.default is not None:
                values[p.name] = np.asarray(float(p.default))
            else:
                raise DifficultyError(f"model {self.name!r} needs parameter {p.name} ({p.doc})")
        self._set(values)

    def _set(self, values: dict) -> None:
        try:
            self.shape = np.broadcast_shapes(*(v.shape for v in values.values()))
        except ValueError:
            raise DifficultyError(f"the parameters of model {self.name!r} have shapes that do not broadcast: "
                                  + ", ".join(f"{k} {v.shape}" for k, v in values.items())) from None
        self._values = values
        for key, v in values.items():
            setattr(self, key, v)

    @classmethod
    def param_space(cls) -> tuple[Param, ...]:
        """The parameters, in the order of a fit's parameter vector."""
        return cls.params_spec

    @classmethod
    def _unchecked(cls, values: dict):
        """A model from arrays already known to be valid (posterior draws, fits): no validation."""
        obj = cls.__new__(cls)
        obj._set({k: np.asarray(v, dtype=float) for k, v in values.items()})
        return obj

    @classmethod
    def from_vector(cls, theta, names=None, fixed=None):
        """A model from a parameter vector (..., P) in the order ``names`` (default: all, in
        ``param_space`` order), the rest taken from ``fixed`` or their defaults. Broadcasting:
        theta of shape (D, 1, P) gives a model whose methods return (D, K) for K arguments."""
        theta = np.asarray(theta, dtype=float)
        space = cls.param_space()
        names = tuple(p.name for p in space) if names is None else tuple(names)
        values = {n: theta[..., i] for i, n in enumerate(names)}
        for p in space:
            if p.name not in values:
                v = (fixed or {}).get(p.name, p.default)
                if v is None:
                    raise DifficultyError(f"model {cls.name!r} needs parameter {p.name}")
                values[p.name] = np.asarray(float(v))
        return cls._unchecked(values)

    def expand(self, ndim: int):
        """The same model with ``ndim`` trailing unit axes on every parameter, so that it
        broadcasts against arguments of that many dimensions."""
        return type(self)._unchecked({k: np.reshape(v, v.shape + (1,) * ndim) for k, v in self._values.items()})

    def __getitem__(self, index):
        """One parameter set (or a slice) of a stack of them."""
        full = {k: np.broadcast_to(v, self.shape)[index] for k, v in self._values.items()}
        return type(self)._unchecked(full)

    @property
    def params(self) -> dict:
        """Parameter values: floats for one parameter set, arrays for a stack."""
        return {k: (float(v) if v.ndim == 0 else v) for k, v in self._values.items()}

    @property
    def ceiling(self):
        """A: the limit of pass@k as k grows (1 - never-solved fraction)."""
        A = self._values.get("A")
        if A is None:
            return 1.0
        return float(A) if A.ndim == 0 else A

    def pass_at_k(self, k):
        raise NotImplementedError

    def inference_loss(self, k):
        """L(k) = A - pass@k (Eq. 9): the part of the ceiling not yet reached."""
        return self.ceiling - self.pass_at_k(k)

    def inference_loss_asymptote(self, k):
        """Large-k power law of the inference loss, or an error when the model has none."""
        raise DifficultyError(f"model {self.name!r} has no power-law asymptote")

    @property
    def tail_exponent(self):
        """Exponent of the power-law decay of the inference loss (beta in the Beta model)."""
        return None

    def to_dict(self) -> dict:
        return {"model": self.name, "params": self.params}

    def __repr__(self) -> str:
        def fmt(v):
            return f"{float(v):.6g}" if np.ndim(v) == 0 else f"array{np.shape(v)}"

        return f"{type(self).__name__}({', '.join(f'{k}={fmt(v)}' for k, v in self._values.items())})"


class DifficultyModel(PassCurveModel):
    """A distribution of per-problem failure probability p, with never-solvable mass 1 - A.

    A subclass gives the solvable part: :meth:`log_laplace_transform` (log <p^s>),
    :meth:`mp_laplace_transform` (the same in mpmath, complex s), :meth:`_logpdf` (log density
    of p, from p and q = 1 - p both accurate), :meth:`_sample_solvable`, and the counts
    likelihood through :meth:`marginal_evaluator` (the shared quadrature over a density of q by
    default; closed forms override it). The never-solvable atom is handled here, once.
    """

    q_max = 1.0  # largest success probability of a solvable problem
    analytic_transform: ClassVar[bool] = False  # <p^s> continues analytically to Re(s) < 0

    def log_laplace_transform(self, s):
        """log <p^s> over the density of q (subclasses with a closed form override it); broadcasts
        over the parameters and s. Real s: the tanh-sinh rule of the forecast kernel, vectorised,
        where its error estimate is below TRANSFORM_TOL; adaptive quadrature for the rest (and for
        complex s)."""
        from .quadrature import log_transform_by_quad, log_transform_by_rule

        s = np.asarray(s)
        cplx = np.iscomplexobj(s)
        shape = np.broadcast_shapes(self.shape, s.shape)
        out = np.empty(int(np.prod(shape)), dtype=complex if cplx else float)
        todo = np.ones(out.size, dtype=bool)
        if not cplx:
            with np.errstate(all="ignore"):
                v, err = log_transform_by_rule(self, s)
            v, err = v.ravel(), err.ravel()
            todo = ~(np.isfinite(v) & (err <= TRANSFORM_TOL))
            out[~todo] = v[~todo]
        if todo.any():
            flat_s = np.broadcast_to(s, shape).ravel()
            flat_p = {k: np.broadcast_to(v, shape).ravel() for k, v in self._values.items()}
            for i in np.flatnonzero(todo):
                m = type(self)._unchecked({k: v[i] for k, v in flat_p.items()})
                out[i] = log_transform_by_quad(m, complex(flat_s[i]) if cplx else float(flat_s[i]))
        return out.reshape(shape)

    def mp_laplace_transform(self, s, mp):
        """<p^s> = integral_0^qmax (1 - q)^s g(q) dq in mpmath arithmetic (one parameter set), for
        the parametric inversion of Eq. 10; by mpmath quadrature in x = log q where the model has
        no closed form. Valid where the integral converges (Re s > 0 always)."""
        log_qmax = mp.log(mp.mpf(float(self.q_max)))

        def f(x):
            log_1mq = mp.log(-mp.expm1(x)) if x > -1 else mp.log1p(-mp.exp(x))
            return mp.exp(s * log_1mq + self._mp_log_density_q(x, log_1mq, mp) + x)

        return mp.quad(f, [-mp.inf, log_qmax - 20, log_qmax - 3, log_qmax])

    def _mp_log_density_q(self, log_q, log_1mq, mp):
        """log g(q) in mpmath arithmetic, from log q and log(1 - q)."""
        raise DifficultyError(f"model {self.name!r} has no mpmath transform")

    def laplace_transform(self, s):
        """<p^s> = integral_0^inf exp(-sigma s) f(sigma) d sigma over solvable problems (Eq. 10)."""
        return np.exp(self.log_laplace_transform(as_k(s)))

    def pass_at_k(self, k):
        """pass@k = A (1 - <p^k>) (Eq. 8)."""
        return self.ceiling * -np.expm1(self.log_laplace_transform(as_k(k)))

    def inference_loss(self, k):
        """L(k) = A <p^k> (Eq. 9), accurate when it is 1e-300."""
        return self.ceiling * np.exp(self.log_laplace_transform(as_k(k)))

    @property
    def never_solved(self):
        """Mass of the atom at p = 1 (sigma = 0): problems no number of attempts solves."""
        return 1.0 - self.ceiling

    def _logpdf(self, p, q):
        """log density of p given p and q = 1 - p, each accurate."""
        log_p, log_q = logs(p, q)
        return self._log_density_q(log_q, log_p)

    def _with_inside(self, x, inside, fn):
        xc = np.where(inside, x, 0.5)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):
            out = self.ceiling * np.exp(fn(xc))
        return np.where(inside & np.isfinite(out), out, 0.0)

    def density_p(self, p):
        """Density of the failure probability p over (0, 1); integrates to A (the atom is separate)."""
        p = np.asarray(p, dtype=float)
        return self._with_inside(p, (p > 0) & (p < 1), lambda x: self._logpdf(x, 1.0 - x))

    def density_q(self, q):
        """Density of the success probability q = 1 - p; integrates to A."""
        q = np.asarray(q, dtype=float)
        return self._with_inside(q, (q > 0) & (q < 1), lambda x: self._logpdf(1.0 - x, x))

    def density_sigma(self, sigma):
        """Density f of sigma = log(1/p) (Eq. 10) times A: integrates to A over sigma > 0."""
        sigma = np.asarray(sigma, dtype=float)
        return self._with_inside(sigma, sigma > 0, lambda s: self._logpdf(np.exp(-s), -np.expm1(-s)) - s)

    def sample(self, size, rng=None):
        """Per-problem failure probabilities p_i; never-solved problems get p_i = 1 exactly."""
        if self.shape != ():
            raise DifficultyError("sampling problems needs one parameter set, not a stack")
        rng = np.random.default_rng(rng)
        p = np.asarray(self._sample_solvable(int(size), rng), dtype=float)
        if self.ceiling < 1:
            p = np.where(rng.random(p.shape) < self.never_solved, 1.0, p)
        return p

    def _sample_solvable(self, size, rng):
        raise NotImplementedError

    def mean_failure(self):
        """<p> over all problems, the never-solved atom included: 1 - pass@1."""
        return 1.0 - self.pass_at_k(1.0)

    # ------------------------------------------------------------------ counts
    @classmethod
    def marginal_evaluator(cls, n, c, w=None):
        """An evaluator of the solvable part's log P(c | N) at these (N, c) pairs (weights w), built
        once per data set: the shared quadrature over the density of q (:mod:`.quadrature`),
        unless the class has a closed form."""
        from .quadrature import QuadratureMarginal

        return QuadratureMarginal(n, c, w)

    def log_marginal(self, n, c):
        """log P(c successes in N attempts), the never-solvable atom included, broadcast over the
        parameters and the pairs: parameters (D, 1) and U pairs give (D, U)."""
        from .marginal import CountMarginal

        n, c = np.broadcast_arrays(np.asarray(n, dtype=np.int64), np.asarray(c, dtype=np.int64))
        flat = CountMarginal(type(self), n.ravel(), c.ravel()).pointwise(self)
        return flat.reshape(flat.shape[:-1] + n.shape)

    def log_unsolved_after(self, n, c, K):
        """log E[(1 - q)^K | N, c]: the probability that a problem with counts (N, c) fails K more
        attempts, its posterior under this model (the forecast kernel). Shape: params + pairs + K."""
        from .marginal import CountMarginal

        n, c = np.broadcast_arrays(np.atleast_1d(np.asarray(n, dtype=np.int64)),
                                   np.atleast_1d(np.asarray(c, dtype=np.int64)))
        return CountMarginal(type(self), n.ravel(), c.ravel()).log_unsolved_after(self, K)

    def _log_density_q(self, log_q, log_1mq):
        """log g(q), the density of a solvable problem's success probability q (= the density of
        p at p = 1 - q), from log q and log(1 - q); broadcasts over the parameters."""
        raise NotImplementedError

    @classmethod
    def initial_guesses(cls, stats) -> list[dict]:
        """Starting points for a fit, from summary statistics of the data (``fit.likelihood.DataStats``)."""
        return [{}]

    def _log_quantile(self, u, um):
        """log q and log(1 - q) at CDF level u of q (um = 1 - u, given separately so that both
        tails keep their digits), or None when the model has no quantile function."""
        return None
