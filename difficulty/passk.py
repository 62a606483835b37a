"""Exact pass@k from repeated-sampling counts (Chen et al. 2021), with honest intervals.

For a problem attempted N times with c successes, the unbiased estimator of pass@k is

    pass@k = 1 - C(N - c, k) / C(N, k)          (k <= N; exactly 1 when N - c < k)

The ratio C(N - c, k) / C(N, k) is the hypergeometric probability of drawing no success
in k of the N attempts. It is evaluated as a ratio of binomial probabilities,

    C(N - c, k) / C(N, k) = b(0; c, p) b(k; N - c, p) / b(k; N, p),   p = k / N,

the middle factor computed by Boost's binomial density (through ``scipy.stats.binom``),
accurate to a few ulps at any N, the first as exp(c log1p(-p)); the denominator sits at
the mode and depends on (N, k) only, so it is computed once per distinct pair and nothing
under- or overflows. The usual ``1 - exp(gammaln(...))`` loses ~1e-11 at N = 1e4 and ~1e-7 at
N = 1e7 through cancellation of large log-gammas; this form stays within ~3e-15.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.special import xlog1py

from .counts import EvalCounts, unique_pairs
from .errors import DifficultyError

__all__ = ["pass_at_k", "pass_at_k_matrix", "PassAtK", "estimate_pass_at_k", "parse_k"]


def parse_k(k) -> np.ndarray:
    """Validate a k list (ints >= 1); accepts '1,10,100', a scalar or a sequence."""
    if isinstance(k, str):
        try:
            k = [float(x) for x in k.replace(" ", "").split(",") if x]
        except ValueError:
            raise DifficultyError(f"k must be a comma-separated list of whole numbers, got {k!r}") from None
    arr = np.atleast_1d(np.asarray(k, dtype=float))
    if arr.size == 0:
        raise DifficultyError("k is empty")
    if arr.ndim != 1 or not np.all(np.isfinite(arr)):
        raise DifficultyError(f"k must be finite whole numbers, got {k!r}")
    if np.any(arr <= 0):
        raise DifficultyError(f"k must be >= 1, got {arr[arr <= 0][0]:g}")
    if np.any(arr != np.round(arr)):
        raise DifficultyError(f"k must be whole numbers, got {arr[arr != np.round(arr)][0]:g}")
    if np.any(arr > 2.0**53):  # beyond any number of attempts (and past exact integers in double precision)
        raise DifficultyError(f"k = {arr[arr > 2.0**53][0]:g} is larger than any number of attempts N")
    return arr.astype(np.int64)


def pass_at_k(n, c, k):
    """Unbiased pass@k = 1 - C(n - c, k) / C(n, k), broadcast over n, c and k.

    Requires integers 0 <= c <= n and 1 <= k <= n; returns floats in [0, 1].
    """
    n, c, k = np.broadcast_arrays(*(np.asarray(x, dtype=np.int64) for x in (n, c, k)))
    if np.any(k < 1) or np.any(k > n) or np.any(c < 0) or np.any(c > n):
        raise DifficultyError("pass_at_k needs 0 <= c <= n and 1 <= k <= n")
    out = np.ones(n.shape)
    # N - c < k: every k-subset holds a success, pass@k = 1 exactly. And since each factor of
    # C(N-c,k)/C(N,k) = prod_j (1 - c/(N-j)) is <= 1 - c/N, the ratio is <= exp(-kc/N) < 2^-54
    # once kc/N > 38: then 1 - ratio rounds to 1.0, and it is not worth evaluating.
    live = ((n - c) >= k) & (k.astype(float) * c <= 38.0 * n)
    nl, cl, kl = n[live], c[live], k[live]
    nf, cf, kf = nl.astype(float), cl.astype(float), kl.astype(float)
    p = kf / nf
    # b(k; N, k/N) depends on (N, k) only: evaluate it once per distinct pair
    first, inv, _ = unique_pairs(nl, kl)
    with np.errstate(divide="ignore", under="ignore"):
        mode = stats.binom.pmf(kf[first], nf[first], p[first])[inv]
        ratio = np.exp(xlog1py(cf, -p)) * stats.binom.pmf(kf, nf - cf, p) / mode
    out[live] = 1.0 - ratio
    out = np.where(k == 1, c / np.maximum(n, 1), out)  # pass@1 = c/N, correctly rounded
    return np.clip(out, 0.0, 1.0)


def _check_k_within(counts: EvalCounts, k: np.ndarray) -> None:
    kmax = int(k.max())
    short = counts.n < kmax
    if short.any():
        ids = counts.problem_ids[short]
        if counts.stopping == "sequential":
            shown = ", ".join(f"{ids[i]!r} (N={counts.n[short][i]})" for i in range(min(3, ids.size)))
            raise DifficultyError(
                f"k={kmax} exceeds the attempts of {int(short.sum())} problem(s) ({shown}"
                f"{' and more' if ids.size > 3 else ''}); these attempts were read in order and sampling may have "
                "stopped on a success, so pass@k for k > N_i has no unbiased estimate: forecast it with a model "
                "(difficulty forecast)")
        ns = counts.n[short]
        shown = ", ".join(f"{ids[i]!r} (N={ns[i]})" for i in range(min(3, ids.size)))
        more = f" and {ids.size - 3} more" if ids.size > 3 else ""
        raise DifficultyError(
            f"k={kmax} exceeds the attempts of {int(short.sum())} problem(s): {shown}{more}; "
            f"pass@k has no unbiased estimate for k > N (the largest k these data allow is "
            f"{int(counts.n.min())}; forecast beyond it with a model)"
        )


def pass_at_k_matrix(counts: EvalCounts, k) -> np.ndarray:
    """Per-problem pass@k, shape (n_problems, len(k)), computed once per distinct (N, c)."""
    k = parse_k(k)
    _check_k_within(counts, k)
    h = counts.histogram()
    unique = pass_at_k(h.n[:, None], h.c[:, None], k[None, :])
    return unique[h.inverse]


@dataclass(frozen=True)
class PassAtK:
    """Population pass@k at each k with a two-sided interval at ``level``."""

    k: np.ndarray
    pass_at_k: np.ndarray
    low: np.ndarray
    high: np.ndarray
    level: float
    n_problems: int
    method: str

    def to_dict(self) -> dict:
        return {
            "k": self.k.tolist(),
            "pass_at_k": self.pass_at_k.tolist(),
            "low": self.low.tolist(),
            "high": self.high.tolist(),
            "level": self.level,
            "n_problems": self.n_problems,
            "method": self.method,
        }


def estimate_pass_at_k(counts: EvalCounts, k, level: float = 0.9, n_boot: int = 4000, seed=0) -> PassAtK:
    """Mean pass@k over problems with an interval that carries both sources of noise.

    Method: the estimate is the mean of the per-problem unbiased estimates U_i. Problems are
    exchangeable draws from the population and each U_i carries its own finite-attempt
    noise, so Var(mean U) = [Var(true pass@k_i) + E Var(U_i | problem)] / n: which problems
    were drawn and how their attempts fell both enter. The interval is a bootstrap over
    problems, run on the histogram of distinct (N, c) pairs (a resample is a multinomial
    draw of pair multiplicities, so its cost does not grow with the number of problems),
    with the bias-corrected percentile (BC) endpoints. Where the resampled means have no
    spread (every problem gives the same estimate, e.g. all solved), the interval is the
    Jeffreys interval of a proportion over the n problems, so it is never of zero width.
    """
    k = parse_k(k)
    if not 0 < level < 1:
        raise DifficultyError(f"level must be in (0, 1), got {level}")
    _check_k_within(counts, k)
    if counts.stopping == "sequential":
        import warnings

        warnings.warn("attempts read in order: if sampling stopped on a success, N_i depends on the outcomes and "
                      "the unbiased pass@k estimate is biased; a model's forecast (difficulty forecast) is not",
                      stacklevel=2)
    h = counts.histogram()
    u = pass_at_k(h.n[:, None], h.c[:, None], k[None, :])  # (pairs, k)
    n = h.n_problems
    w = h.weight / n
    est = w @ u
    rng = np.random.default_rng(seed)
    reps = (rng.multinomial(n, w, size=n_boot) / n) @ u  # (boot, k)
    alpha = (1 - level) / 2
    low = np.empty_like(est)
    high = np.empty_like(est)
    for j in range(k.size):
        r = reps[:, j]
        spread = r.max() - r.min()
        if spread <= 1e-14 * max(1.0, abs(est[j])):
            x = est[j] * n
            low[j] = 0.0 if x <= 0 else stats.beta.ppf(alpha, x + 0.5, n - x + 0.5)
            high[j] = 1.0 if x >= n else stats.beta.ppf(1 - alpha, x + 0.5, n - x + 0.5)
            continue
        frac = (np.sum(r < est[j]) + 0.5 * np.sum(r == est[j])) / r.size
        z0 = stats.norm.ppf(np.clip(frac, 1 / r.size, 1 - 1 / r.size))
        za = stats.norm.ppf([alpha, 1 - alpha])
        qs = stats.norm.cdf(2 * z0 + za)
        low[j], high[j] = np.quantile(r, qs)
    low = np.minimum(low, est)
    high = np.maximum(high, est)
    return PassAtK(k, est, low, high, level, n, "problem bootstrap (BC) on the (N, c) histogram")
