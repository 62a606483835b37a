"""The default forecaster: candidates weighted by how well they extrapolate inside the user's own data.

The data know pass@k exactly up to k = min N (the unbiased estimator). So, before forecasting k >> N,
each candidate forecaster is put through the same test on a smaller scale (a self-backtest):

1. subsample every problem's attempts without replacement to m = k0 / r (c' ~ Hypergeometric(N_i, c_i, m),
   exact), for ratios r in ``ratios`` (10 and 100 where m >= 20; with fewer attempts, the one ratio that
   leaves m = 20, if it is at least 2), ``replicates`` seeded draws each;
2. forecast pass@k0 (k0 = min N) from the subsample with every candidate and compare with the unbiased
   pass@k0 of the full data;
3. score each candidate by the root mean square of those errors over every run and
   weight the candidates by softmax(-score / T), T = max(0.01, score of the best / 2);
4. forecast pass@k from the full data with every candidate that has weight, and mix: the point is the
   weighted mean, the band the weighted mixture of the candidates' bands, widened to at least
   +- z * e(k), where e is the error the weighted forecast showed in the self-backtest at the largest
   ratio checked, grown with the log of the extrapolation ratio beyond it,
   e(k) = e_checked * max(1, log(k / N) / log(r_checked)).

Candidates: the zero-inflated Beta and Kumaraswamy families and the Beta without a ceiling by maximum
likelihood (so a never-solvable fraction is available), and the aggregate log-log power law. A warning
is recorded when k / N exceeds 100 times the largest ratio the self-backtest could check.

The default forecaster (one posterior) takes the same test for its band alone
(:func:`extrapolation_check`, :func:`widen_forecast`): the model, fitted by maximum likelihood (the
posterior's fast proxy), forecasts pass@k0 from ``CHECK_REPLICATES`` subsamples of m = k0 / 10
attempts (when m >= ``CHECK_MIN_ATTEMPTS``; with fewer attempts m = ``CHECK_MIN_ATTEMPTS`` when that
leaves a ratio of 3 or more); a subsample with nothing solved counts as a forecast of 0, one where
every attempt succeeded as a forecast of 1. Their root mean square error e_c at the ratio r_c = k0 / m
bounds the band from below,

    band at k  contains  mid +- z e_c log(k / k0) / log r_c        (k > k0; nothing added at k <= k0)

and, for pass@k of these problems, the widening stops at the data's own pass@k0 (pass@k only grows
with k; on the benchmark this narrowed the bands by up to a fifth at the same coverage). The error of a
model's extrapolation grows with log k, as the candidates' rule above has it. Measured
(``benchmarks/bench_forecast_backtest.py`` and generated truths outside it): adding e_c flat, or grown with
the square root of the log ratio, leaves the bands short on truths whose pass@k keeps climbing in log k
(logit-normal with a wide spread, success rates uniform in log q). Where no subsample can be checked
(k0 < 3 ``CHECK_MIN_ATTEMPTS``), e_c = ``UNCHECKED_ERROR`` at r_c = 10, said in a warning. A check at ratio 100 from
k0 / 100 attempts was tried as well: from so few attempts per problem its error is mostly the
subsample's own noise, and it widened the bands at 10 x N on real data by half for no coverage.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.special import ndtri

from .counts import EvalCounts
from .errors import DifficultyError

__all__ = ["SELFCHECK_CANDIDATES", "extrapolation_check", "forecast_selfcheck", "self_backtest", "widen_forecast"]

# name: (method, model) of each candidate forecaster
SELFCHECK_CANDIDATES = {
    "zi-beta": ("mle", "zi-beta"),
    "beta": ("mle", "beta"),
    "kumaraswamy": ("mle", "kumaraswamy"),
    "loglog": ("loglog", None),
}
MIN_ATTEMPTS = 20  # a subsample of fewer attempts per problem says too little about shape to score a fit
WARN_FACTOR = 100  # warn when k / N goes beyond this many times the largest ratio checked
CHECK_MIN_ATTEMPTS = 8  # the default's check: the smallest subsample it forecasts from
CHECK_REPLICATES = 3
UNCHECKED_ERROR = 0.1  # e_c at r_c = 10 when the data are too short to check anything


def _widened(mid, lo, hi, half, floor=None):
    """The band (lo, hi) widened to hold at least mid +- half, its widened lower end not below ``floor``
    (where given; an end already lower stays), clipped to [0, 1]."""
    low = mid - half
    if floor is not None:
        low = np.maximum(low, np.minimum(floor, lo))
    return np.clip(np.minimum(lo, low), 0.0, 1.0), np.clip(np.maximum(hi, mid + half), 0.0, 1.0)


def _point(counts, k, name, level, seed, draws):
    """(mid, low, high, draws) of one candidate's forecast at k (arrays over k)."""
    from .forecast import fit_for_forecast, forecast

    method, model = SELFCHECK_CANDIDATES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_for_forecast(counts, model, method, level, seed)
        return forecast(fit, k, level=level, draws=draws, seed=seed)


def self_backtest(counts: EvalCounts, candidates=tuple(SELFCHECK_CANDIDATES), ratios=(10, 100), replicates=1,
                  seed=0) -> dict:
    """Each candidate's extrapolation error inside the data (module docstring, steps 1-3)."""
    from .backtest import subsample_counts
    from .passk import pass_at_k

    k0 = int(counts.n.min())
    truth = float(np.mean(pass_at_k(counts.n, counts.c, k0)))
    rows = []
    rng = np.random.default_rng(seed)
    ratios = [r for r in ratios if k0 // r >= MIN_ATTEMPTS] or (
        [k0 / MIN_ATTEMPTS] if k0 >= 2 * MIN_ATTEMPTS else [])  # too few attempts for 10: the largest ratio there is
    for r in ratios:
        m = int(k0 // r)
        if m < MIN_ATTEMPTS:
            continue
        for rep in range(replicates):
            sub = subsample_counts(counts, m, rng)
            errs = {}
            for name in candidates:
                try:
                    f = _point(sub, [k0], name, 0.9, seed + rep, 50)
                    errs[name] = float(f.pass_at_k[0]) - truth
                except DifficultyError:
                    errs[name] = np.nan
            rows.append({"ratio": k0 / m, "m": m, **errs})
    if not rows:
        return {"k0": k0, "truth": truth, "rows": [], "ratio_checked": 1.0,
                "score": {c: None for c in candidates}}
    ratio_max = max(r["ratio"] for r in rows)
    score = {}
    for name in candidates:
        e = np.array([r[name] for r in rows], dtype=float)
        w = np.ones(len(rows))
        # a candidate that could not forecast (e.g. nothing solved in the subsample) scores as if it said 0
        e = np.where(np.isnan(e), -truth, e)
        score[name] = float(np.sqrt(np.sum(w * e**2) / w.sum()))
    return {"k0": k0, "truth": truth, "rows": rows, "ratio_checked": float(ratio_max), "score": score}


def forecast_selfcheck(counts: EvalCounts, k, level: float = 0.9, draws: int = 400, seed=0,
                       candidates=tuple(SELFCHECK_CANDIDATES), ratios=(10, 100), replicates=1):
    """pass@k of these problems at any k: candidates weighted by their self-backtest (module docstring)."""
    from .forecast import Forecast, _check_k

    k = _check_k(k)
    bt = self_backtest(counts, candidates, ratios, replicates, seed)
    score = bt["score"]
    if bt["rows"]:
        best = min(score.values())
        T = max(0.01, 0.5 * best)
        logits = {c: -s / T for c, s in score.items()}
    else:
        logits = {c: 0.0 for c in candidates}
    top = max(logits.values())
    raw = {c: math.exp(v - top) for c, v in logits.items()}
    weights = {c: v / sum(raw.values()) for c, v in raw.items()}

    fits, failed = {}, {}
    for name in sorted(weights, key=weights.get, reverse=True):
        if weights[name] < 1e-3:
            continue
        try:
            fits[name] = _point(counts, k, name, level, seed, draws)
        except DifficultyError as e:
            failed[name] = str(e)
    if not fits:
        raise DifficultyError("no candidate forecaster could be fitted: " + "; ".join(dict.fromkeys(failed.values())))
    tot = sum(weights[c] for c in fits)
    used = {c: weights[c] / tot for c in fits}
    weights = {c: (used.get(c, 0.0)) for c in weights}
    mid = sum(used[c] * fits[c].pass_at_k for c in fits)
    lo = sum(used[c] * fits[c].low for c in fits)  # the mixture's band, approximated by weighted ends
    hi = sum(used[c] * fits[c].high for c in fits)
    # the error the weighted forecast showed in the self-backtest at the largest ratio checked
    n_ref = float(np.median(counts.n))
    ratio = bt["ratio_checked"]
    rows = [r for r in bt["rows"] if r["ratio"] == ratio]
    if rows:
        comb = [sum(used.get(c, 0.0) * (r[c] if np.isfinite(r[c]) else -bt["truth"]) for c in used) for r in rows]
        e_checked = float(np.sqrt(np.mean(np.square(comb))))
    else:
        e_checked = float("nan")
    grow = np.maximum(1.0, np.log(np.maximum(k / n_ref, 1.0)) / math.log(max(ratio, 2.0)))
    z = float(ndtri(0.5 + level / 2))
    warn = []
    if not rows:
        e = np.full(k.shape, UNCHECKED_ERROR)  # nothing could be checked: a wide, honest floor
        warn.append(f"the data have too few attempts per problem (min N = {bt['k0']}) to check any extrapolation; "
                    f"the band is widened by a fixed {UNCHECKED_ERROR:g}")
    else:
        e = e_checked * grow
    lo, hi = _widened(mid, lo, hi, z * e)
    limit = WARN_FACTOR * max(ratio, 1.0)
    far = k / n_ref > limit
    if far.any():
        warn.append(f"k/N up to {float(np.max(k / n_ref)):.3g} is beyond {WARN_FACTOR}x the largest ratio the "
                    f"self-backtest could check ({ratio:.3g}); the forecast there is not checked by the data")
    info = {"k0": bt["k0"], "truth_at_k0": bt["truth"], "ratio_checked": ratio, "scores": score,
            "error_checked": e_checked, "runs": bt["rows"], "failed": failed}
    return Forecast(k, np.asarray(mid, dtype=float), lo, hi, level, "selfcheck", "selfcheck", "problems",
                    weights=weights, fit={c: f.fit for c, f in fits.items()}, selfcheck=info, warnings=warn)


def _check_attempts(k0: int):
    """The subsample size of the default's check (module docstring), or None when none is possible."""
    if k0 // 10 >= CHECK_MIN_ATTEMPTS:
        return k0 // 10
    return CHECK_MIN_ATTEMPTS if k0 >= 3 * CHECK_MIN_ATTEMPTS else None


def extrapolation_check(counts: EvalCounts, model: str = "kumaraswamy", replicates: int = CHECK_REPLICATES,
                        seed=0) -> dict:
    """How far ``model`` (maximum likelihood) misses pass@k0 (k0 = min N, known from the data) when it
    forecasts it from subsamples of m = k0 / r_c attempts per problem (module docstring)."""
    from .backtest import subsample_counts
    from .forecast import fit_for_forecast, forecast
    from .passk import pass_at_k

    k0 = int(counts.n.min())
    truth = float(np.mean(pass_at_k(counts.n, counts.c, k0)))
    m = _check_attempts(k0)
    out = {"model": model, "method": "mle", "k0": k0, "truth_at_k0": truth, "attempts": m, "runs": []}
    if m is None:
        return {**out, "ratio_checked": None, "error_checked": None}
    rng = np.random.default_rng(seed)
    for rep in range(int(replicates)):
        sub = subsample_counts(counts, m, rng)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = fit_for_forecast(sub, model, "mle", seed=seed + rep)
                est = float(forecast(fit, [k0], draws=200, seed=seed + rep).pass_at_k[0])
        except DifficultyError:  # a subsample no model can be fitted to: all failures or all successes
            if np.all(sub.c == 0):
                est = 0.0  # nothing solved: nothing to extrapolate from, a forecast of 0
            elif np.all(sub.c == sub.n):
                est = 1.0  # every attempt succeeded: pass@k0 >= pass@m = 1
            else:
                raise
        out["runs"].append({"forecast": est, "error": est - truth, "solved": int(np.count_nonzero(sub.c))})
    err = np.array([r["error"] for r in out["runs"]])
    return {**out, "ratio_checked": k0 / m, "error_checked": float(np.sqrt(np.mean(err**2)))}


def widen_forecast(fc, check: dict):
    """``fc`` with its band widened to at least mid +- z e(k), e(k) = e_c log(k / k0) / log r_c for
    k > k0 (module docstring); the check and any warning recorded in the forecast."""
    from dataclasses import replace

    k = fc.k
    k0 = check["k0"]
    warn = list(fc.warnings or [])
    if check["error_checked"] is None:
        e_c, r_c = UNCHECKED_ERROR, 10.0
        why = check.get("reason") or f"the data have too few attempts per problem (min N = {k0})"
        warn.append(f"{why}: the model's extrapolation could not be checked; the band is widened by a fixed "
                    f"{UNCHECKED_ERROR:g} at 10 x N")
    else:
        e_c, r_c = check["error_checked"], check["ratio_checked"]
        far = k / k0 > WARN_FACTOR * r_c
        if far.any():
            warn.append(f"k/N up to {float(np.max(k / k0)):.3g} is beyond {WARN_FACTOR}x the ratio the check inside "
                        f"the data could test ({r_c:.3g}); the band there rests on the model's form")
    e = e_c * np.log(np.maximum(k / k0, 1.0)) / math.log(r_c)
    z = float(ndtri(0.5 + fc.level / 2))
    floor = check.get("truth_at_k0") if fc.target == "problems" else None  # these problems' pass@k >= pass@k0
    lo, hi = _widened(fc.pass_at_k, fc.low, fc.high, z * e, floor)
    info = {**check, "widened_by": (z * e).tolist()}
    return replace(fc, low=lo, high=hi, selfcheck=info, warnings=warn or None)
