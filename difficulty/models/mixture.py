"""A finite mixture of Beta distributions of p: the flexible parametric family.

    <p^k> = sum_j w_j B(alpha_j + k, beta_j) / B(alpha_j, beta_j),   pass@k = A (1 - <p^k>)
    L(k) ~ A sum_j w_j Gamma(alpha_j + beta_j)/Gamma(alpha_j) k^(-beta_j), led by the smallest beta_j.

Counts: a mixture of beta-binomials; a problem's posterior is a mixture of Beta(beta_j + c,
alpha_j + N - c) with weights r_j proportional to w_j BB_j(c; N). Any number J of components:
``make_model("beta-mixture", weights=[...], alphas=[...], betas=[...])``; a fit of J components
is named ``beta-mixture-J`` (``beta-mixture`` is J = 2). The weights are parametrised by stick
breaking, w_1 = v_1, w_j = v_j prod_{i<j} (1 - v_i), w_J = prod_i (1 - v_i), so every fit
parameter lives in an interval of its own.
"""
from __future__ import annotations

import re
from functools import cache

import numpy as np
from scipy.special import betainc, betaln, gammaln, logsumexp

from ..errors import DifficultyError
from ..special import log_beta_ratio, log_binomial
from .base import INF, DifficultyModel, Param

__all__ = ["BetaMixtureModel", "mixture_class"]


def _floats(name, values):
    if isinstance(values, str):
        values = [v for v in values.split(",") if v.strip()]
    try:
        arr = np.atleast_1d(np.asarray(values, dtype=float))
    except (TypeError, ValueError):
        raise DifficultyError(f"{name} must be a list of numbers, got {values!r}") from None
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise DifficultyError(f"{name} must be a non-empty list of finite numbers")
    return arr


def _sticks(w):
    """Stick-breaking fractions v_1..v_{J-1} of weights w (summing to 1)."""
    rest = 1.0 - np.concatenate([[0.0], np.cumsum(w)[:-1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(rest > 0, w / rest, 0.5)[:-1]
    return np.clip(v, 1e-300, 1 - 1e-16)


class BetaMixtureMarginal:
    """The solvable part's counts likelihood under a Beta mixture, in closed form."""

    def __init__(self, n, c, w=None):
        self.n, self.c = np.asarray(n, dtype=float), np.asarray(c, dtype=float)
        self.f = self.n - self.c
        self.log_coef = log_binomial(self.n, self.c)

    def _components(self, model, idx=slice(None)):
        """log w_j + log BB_j(c; N) per component: (J,) + model.shape + (pairs,)."""
        out = []
        for lw, a, b in zip(model.log_weights(), model.alphas(), model.betas()):
            a, b, lw = a[..., None], b[..., None], lw[..., None]
            out.append(lw + self.log_coef[idx] + betaln(self.c[idx] + b, self.f[idx] + a) - betaln(b, a))
        return np.stack(out)

    def log_solvable(self, model, idx=None):
        return logsumexp(self._components(model, slice(None) if idx is None else idx), axis=0)

    def _responsibilities(self, model):
        comp = self._components(model)
        return comp - logsumexp(comp, axis=0)  # log r_j per pair

    def log_tilted(self, model, kf):
        r = self._responsibilities(model)[..., None]
        terms = [r[j] + log_beta_ratio(a[..., None, None] + self.f[:, None], b[..., None, None] + self.c[:, None], kf)
                 for j, (a, b) in enumerate(zip(model.alphas(), model.betas()))]
        return logsumexp(np.stack(terms), axis=0)

    def posterior_cdf(self, model, x):
        r = np.exp(self._responsibilities(model))[..., None]
        return sum(r[j] * betainc(b[..., None, None] + self.c[:, None], a[..., None, None] + self.f[:, None], x)
                   for j, (a, b) in enumerate(zip(model.alphas(), model.betas())))


class BetaMixtureModel(DifficultyModel):
    """p ~ sum_j w_j Beta(alpha_j, beta_j) on the solvable fraction A (J = ``components``)."""

    name = "beta-mixture"
    components = 2
    variants = {"beta-mixture": {"A": 1.0}, "zi-beta-mixture": {}}
    analytic_transform = True

    def __new__(cls, weights=None, *args, **kwargs):
        if weights is not None:
            cls = mixture_class(_floats("weights", weights).size)
        return object.__new__(cls)

    def __init__(self, weights=None, alphas=None, betas=None, A=1.0, **named):
        if weights is not None or alphas is not None or betas is not None:
            if weights is None or alphas is None or betas is None:
                raise DifficultyError("a Beta mixture needs weights, alphas and betas together")
            w, a, b = _floats("weights", weights), _floats("alphas", alphas), _floats("betas", betas)
            if not (w.size == a.size == b.size):
                raise DifficultyError(f"weights, alphas and betas differ in length ({w.size}, {a.size}, {b.size})")
            if np.any(w < 0) or w.sum() <= 0:
                raise DifficultyError("mixture weights must be >= 0 and not all 0")
            if np.any(a <= 0) or np.any(b <= 0):
                raise DifficultyError("mixture alphas and betas must be > 0")
            w = w / w.sum()
            named.update({f"v{j + 1}": v for j, v in enumerate(_sticks(w))})
            named.update({f"alpha{j + 1}": x for j, x in enumerate(a)})
            named.update({f"beta{j + 1}": x for j, x in enumerate(b)})
        super().__init__(A=A, **named)

    @classmethod
    def param_space(cls):
        J = cls.components
        return (tuple(Param(f"v{j}", 0, 1, closed_high=True, doc=f"stick-breaking fraction {j}")
                      for j in range(1, J))
                + tuple(Param(f"alpha{j}", 0, INF, doc=f"Beta shape on p, component {j}", prior=(1e-3, 1e4))
                        for j in range(1, J + 1))
                + tuple(Param(f"beta{j}", 0, INF, doc=f"Beta shape on 1 - p, component {j}", prior=(1e-3, 1e4))
                        for j in range(1, J + 1))
                + (Param("A", 0, 1, default=1.0, doc="ceiling: fraction of problems ever solvable",
                         closed_high=True),))

    @classmethod
    def resolve_variant(cls, name):
        m = re.fullmatch(r"(zi-)?beta-mixture-(\d+)", name)
        if not m or int(m.group(2)) < 1:
            return None
        return mixture_class(int(m.group(2))), ({} if m.group(1) else {"A": 1.0})

    def alphas(self):
        return [self._values[f"alpha{j}"] for j in range(1, self.components + 1)]

    def betas(self):
        return [self._values[f"beta{j}"] for j in range(1, self.components + 1)]

    def log_weights(self):
        """log w_j from the stick-breaking fractions, each broadcast to the model's shape."""
        out, rest = [], np.zeros(self.shape)
        with np.errstate(divide="ignore"):
            for j in range(1, self.components):
                v = self._values[f"v{j}"]
                out.append(rest + np.log(v))
                rest = rest + np.log1p(-v)
        return out + [rest + np.zeros(self.shape)]

    @property
    def weights(self):
        return np.exp(np.stack(self.log_weights(), axis=-1))

    def log_laplace_transform(self, s):
        s = np.asarray(s)
        terms = [lw + log_beta_ratio(a, b, s) for lw, a, b in zip(self.log_weights(), self.alphas(), self.betas())]
        return logsumexp(np.stack(np.broadcast_arrays(*terms)), axis=0)

    def _log_density_q(self, log_q, log_1mq):
        terms = [lw + (a - 1) * log_1mq + (b - 1) * log_q - betaln(a, b)
                 for lw, a, b in zip(self.log_weights(), self.alphas(), self.betas())]
        return logsumexp(np.stack(np.broadcast_arrays(*terms)), axis=0)

    def _sample_solvable(self, size, rng):
        w = self.weights
        comp = rng.choice(w.size, size=size, p=w / w.sum())
        return rng.beta(np.array(self.alphas())[comp], np.array(self.betas())[comp])

    def inference_loss_asymptote(self, k):
        k = np.asarray(k, dtype=float)
        out = 0.0
        for lw, a, b in zip(self.log_weights(), self.alphas(), self.betas()):
            out = out + np.exp(lw + gammaln(a + b) - gammaln(a) - b * np.log(k))
        return self.ceiling * out

    @property
    def tail_exponent(self):
        w = self.weights
        return float(np.min(np.array(self.betas())[w > 0]))

    def mp_laplace_transform(self, s, mp):
        out = mp.mpf(0)
        for w, a, b in zip(self.weights, self.alphas(), self.betas()):
            a, b = mp.mpf(float(a)), mp.mpf(float(b))
            out += mp.mpf(float(w)) * mp.exp(mp.loggamma(a + s) - mp.loggamma(a + b + s) + mp.loggamma(a + b)
                                              - mp.loggamma(a))
        return out

    @classmethod
    def marginal_evaluator(cls, n, c, w=None):
        return BetaMixtureMarginal(n, c, w)

    @classmethod
    def initial_guesses(cls, stats):
        a, b = stats.moment_beta()
        J = cls.components
        out = []
        for spread in (1.0, 3.0, 0.3):
            g = {f"v{j}": 1.0 / (J - j + 1) for j in range(1, J)}
            for j in range(1, J + 1):
                t = (j - (J + 1) / 2) / max(J - 1, 1)
                g[f"alpha{j}"] = a * spread ** (2 * t)
                g[f"beta{j}"] = b * spread ** (-2 * t)
            g["A"] = stats.ceiling_guess
            out.append(g)
        return out


@cache
def mixture_class(J: int) -> type[BetaMixtureModel]:
    """The Beta-mixture model class with J components."""
    if J == 2:
        return BetaMixtureModel
    return type(f"BetaMixture{J}Model", (BetaMixtureModel,),
                {"components": J, "name": "beta-mixture", "__doc__": BetaMixtureModel.__doc__})
