"""Ranking against generator truth, on difficulty distributions of several shapes.

500 problems, N = 100 attempts each, a budget of K = 10,000 more; the truth is each problem's own q.
Shapes: a Beta with a power-law tail at q = 0, the same with a never-solvable fraction of 0.3, a
logit-normal (thin tail), a Kumaraswamy with a heavy tail and a two-component Beta mixture. Printed
per shape, for the default ranking (population posterior) and, as the baseline in the same run, the
ranking as it was (zi-beta, maximum likelihood with Laplace draws):

* hidden but obtainable: calibration of P(solved within K) for the never-solved problems against
  their true 1 - (1 - q)^K (ECE over 10 bins; mean predicted against mean true);
* learnable, q in [1/K, 0.2]: precision of the top n against the raw filters 0 < c/N < 0.2 and
  c = 0 at equal n, and the ECE of P(q in band) against the true membership;
* coverage of the stated 90% intervals for q; time per ranking.

The same figures on real evaluations: ``bench_ranking_real.py``.

    python benchmarks/bench_ranking.py [--models beta,kumaraswamy]
"""
import time
import warnings

import numpy as np
import pandas as pd

from difficulty.generate import simulate_counts
from difficulty.models import make_model
from difficulty.ranking import DEFAULT_MODEL, rank_problems

K, N, PROBLEMS, Q_HI, SEEDS = 10_000, 100, 500, 0.2, 3
SHAPES = {
    "beta(3, 0.4)": make_model("beta", alpha=3.0, beta=0.4),
    "zi-beta(3, 0.4, A=0.7)": make_model("zi-beta", alpha=3.0, beta=0.4, A=0.7),
    "logit-normal(-6, 2.5)": make_model("logit-normal", loc=-6.0, scale=2.5, A=1.0),
    "kumaraswamy(0.3, 20)": make_model("kumaraswamy", a=0.3, b=20.0),
    "beta mixture": make_model("beta-mixture", weights=[0.4, 0.6], alphas=[0.8, 8.0], betas=[2.0, 0.3]),
}
BASELINE = {"zi-beta (laplace), before": dict(model="zi-beta", hyper="laplace")}


def ece(pred, truth, bins=10):
    """Expected calibration error: the count-weighted mean over equal-width bins of |mean pred - mean truth|
    (a prediction that could not be evaluated, NaN, is left out)."""
    pred, truth = np.asarray(pred, float), np.asarray(truth, float)
    ok = np.isfinite(pred)
    pred, truth = pred[ok], truth[ok]
    if pred.size == 0:
        return np.nan
    b = np.minimum((pred * bins).astype(int), bins - 1)
    return float(sum(abs(pred[b == k].mean() - truth[b == k].mean()) * np.sum(b == k)
                     for k in range(bins) if np.any(b == k)) / pred.size)


def reliability(pred, truth, bins=10):
    """The reliability curve: per bin of the prediction, its count, mean prediction and observed mean."""
    pred, truth = np.asarray(pred, float), np.asarray(truth, float)
    ok = np.isfinite(pred)
    pred, truth = pred[ok], truth[ok]
    b = np.minimum((pred * bins).astype(int), bins - 1)
    return pd.DataFrame([{"bin": f"[{k / bins:.1f}, {(k + 1) / bins:.1f})", "problems": int(np.sum(b == k)),
                          "mean predicted": float(pred[b == k].mean()), "observed": float(truth[b == k].mean())}
                         for k in range(bins) if np.any(b == k)])


def precision_at_filter(score, good, mask):
    """Precision of the top n by ``score`` with n = the size of the raw filter ``mask``, the filter's own
    precision, and n."""
    n = int(mask.sum())
    if n == 0:
        return np.nan, np.nan, 0
    top = np.argsort(-np.nan_to_num(np.asarray(score, float), nan=-1.0), kind="stable")[:n]
    return float(good[top].mean()), float(good[mask].mean()), n


def main():
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=DEFAULT_MODEL,
                    help="population models ranked from their posterior (default: the ranking's default)")
    args = ap.parse_args()
    rankers = {f"{m} (posterior)": dict(model=m, hyper="full") for m in args.models.split(",") if m} | BASELINE
    rows = []
    for shape, model in SHAPES.items():
        for seed in range(SEEDS):
            sim = simulate_counts(model, PROBLEMS, N, seed=seed)
            q = 1 - sim.p
            c = sim.counts.c
            truth_solve = -np.expm1(K * np.log1p(-np.minimum(q, 1 - 1e-16)))
            good = (q >= 1 / K) & (q <= Q_HI)
            for name, opts in rankers.items():
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t = rank_problems(sim.counts, budget=K, seed=seed, **opts).table
                zero = c == 0
                pa = precision_at_filter(t.p_in_band.to_numpy(), good, (c > 0) & (c < Q_HI * N))
                pb = precision_at_filter(t.p_in_band.to_numpy(), good, zero)
                rows.append(dict(shape=shape, ranker=name, seed=seed, seconds=time.perf_counter() - t0,
                                 pred=t.p_solve_within_budget.to_numpy()[zero], truth=truth_solve[zero],
                                 band=t.p_in_band.to_numpy(), good=good, pa=pa, pb=pb,
                                 cover=np.mean((t.q_low.to_numpy() <= q) & (q <= t.q_high.to_numpy()))))
    df = pd.DataFrame(rows)
    out = []
    for (shape, ranker), d in df.groupby(["shape", "ranker"], sort=False):
        pred, truth = np.concatenate(d.pred.to_list()), np.concatenate(d.truth.to_list())
        band, good = np.concatenate(d.band.to_list()), np.concatenate(d.good.to_list())
        pa = np.array(d.pa.to_list(), dtype=float)
        pb = np.array(d.pb.to_list(), dtype=float)
        out.append({"shape": shape, "ranker": ranker, "hidden ECE": ece(pred, truth),
                    "hidden mean pred/true": f"{np.nanmean(pred):.3f}/{truth.mean():.3f}",
                    "top-n prec. (n=raw 0<c/N<0.2)": f"{np.average(pa[:, 0], weights=pa[:, 2]):.3f} vs "
                                                     f"{np.average(pa[:, 1], weights=pa[:, 2]):.3f}",
                    "top-n prec. (n=raw c=0)": f"{np.average(pb[:, 0], weights=pb[:, 2]):.3f} vs "
                                               f"{np.average(pb[:, 1], weights=pb[:, 2]):.3f}",
                    "learnable ECE": ece(band, good), "90% cover q": d.cover.mean(), "s/ranking": d.seconds.mean()})
    print(f"ranking against generator truth: {PROBLEMS} problems, N = {N}, K = {K:,}, {SEEDS} seeds per shape; "
          f"precision shown as ours vs the raw filter at equal n")
    pd.set_option("display.width", 250)
    print(pd.DataFrame(out).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
