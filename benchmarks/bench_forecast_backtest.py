"""Forecast accuracy across data: every forecaster side by side, the default (checked posterior) and selfcheck included.

Datasets (each a list of backtest runs: a subsample of m attempts per problem, a forecast of pass@K,
scored against the truth):

* ``pythia-gsm8k``, ``pythia-math`` (Schaeffer et al. 2025): per file a fixed, seeded subset of groups
  (``--groups`` per file, default 6, spread over the groups that have solved problems; ``--full``: all).
  Problems with N >= K only; m in {32, 100, 1000} where N allows, K = 10 m and 100 m; the subsample is
  hypergeometric (without replacement) and the truth the unbiased pass@K of all attempts.
* ``jailbreak`` (best-of-N jailbreaking): attempts stop adaptively (batches of 60 until a success), so
  only the first 60 attempts of every prompt are an unconditioned sample (every prompt has them). The
  subsample is m = 60 of the prompts with N >= K = 600 (those the truth is computed over): the successes
  of the first batch are not recorded, so c' is drawn hypergeometrically from (N, c), exact only when
  the stopping rule is ignored, and prompts that reached N >= K are selected by having failed early
  (the first batch of each holds no success, which a hypergeometric draw from (N, c) does not know).
  Said plainly: this dataset checks consistency under that selection, not unbiased accuracy.
* ``logit-normal``, ``beta-mixture`` (generated, outside most candidates' families), with a never-solvable
  share in {0, 0.2, 0.4}: 128 problems, N = 100, K = 1e4; the truth is pass@K of the simulated rates.

Printed: per dataset and forecaster, MAE, bias, 90% coverage and mean band width; then the targets:
default MAE <= 0.6 x log-log averaged over the real datasets, never worse than the best single
forecaster by more than 0.01 on a dataset; coverage in [0.85, 0.95] pooled over the real datasets,
>= 0.80 on each generated family.
"""
import argparse
import pathlib
import time
import warnings

import numpy as np
import pandas as pd

from difficulty.backtest import subsample_counts
from difficulty.counts import EvalCounts
from difficulty.errors import DifficultyError
from difficulty.forecast import forecast_pass_at_k
from difficulty.io import load_counts
from difficulty.passk import pass_at_k

DATA = pathlib.Path(__file__).resolve().parents[2] / "shared/data/real/schaeffer2025_monkeys_power_laws"

FORECASTERS = {
    "loglog": dict(method="loglog"),
    "beta-binomial": dict(method="mle", model="beta"),
    "zi-beta": dict(method="mle", model="zi-beta"),
    "kumaraswamy": dict(method="mle", model="kumaraswamy"),
    "logit-normal": dict(method="mle", model="logit-normal"),
    "kumaraswamy-posterior": dict(method="mcmc", model="kumaraswamy"),
    "average": dict(method="mcmc", model="average"),
    "selfcheck": dict(method="selfcheck"),
    "default": dict(),  # what `difficulty forecast` does when neither model nor method is named
}
SINGLE = ("loglog", "beta-binomial", "zi-beta", "kumaraswamy", "logit-normal")


def _score(dataset, run, sub, K, truth, names, seed):
    rows = []
    for name in names:
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                f = forecast_pass_at_k(sub, [K], seed=seed, **FORECASTERS[name])  # the command's own draws
            est, lo, hi = float(f.pass_at_k[0]), float(f.low[0]), float(f.high[0])
        except DifficultyError:
            est = lo = hi = np.nan
        rows.append(dict(dataset=dataset, run=run, forecaster=name, forecast=est, low=lo, high=hi, truth=truth,
                         seconds=time.perf_counter() - t0))
    return rows


def pythia_runs(file, n_groups, full, ms, rng):
    counts = load_counts(str(DATA / file), group_col="model_nickname").groups()
    names = sorted(n for n, g in counts.items() if (g.c > 0).sum() >= 5)
    if not full:
        names = list(rng.choice(names, size=min(n_groups, len(names)), replace=False))
    for name in names:
        g = counts[name]
        for m in ms:
            for K in (10 * m, 100 * m):
                if (g.n >= K).sum() < 10:
                    continue
                keep = g.select(g.n >= K)
                if keep.c.sum() == 0:
                    continue
                truth = float(pass_at_k(keep.n, keep.c, K).mean())
                sub = subsample_counts(keep, m, rng)
                if sub.c.sum() == 0:
                    continue
                yield f"{name} m={m} K={K}", sub, K, truth


def jailbreak_runs(rng):
    import pandas as pd

    df = pd.read_csv(DATA / "bon_text_jailbreaking_counts.csv")
    for model, d in df.groupby("model"):
        c = EvalCounts(d.num_samples.to_numpy(), d.num_successes.to_numpy())
        K = 600
        if (c.n >= K).sum() < 10:
            continue
        keep = c.select(c.n >= K)
        truth = float(pass_at_k(keep.n, keep.c, K).mean())
        sub = subsample_counts(keep, 60, rng)  # the same prompts as the truth
        if sub.c.sum() == 0:
            continue
        yield f"{model} m=60 K={K}", sub, K, truth


def generated_runs(family, reps, rng):
    for share in (0.0, 0.2, 0.4):
        for r in range(reps):
            n = 128
            if family == "logit-normal":
                q = 1 / (1 + np.exp(-(rng.normal(-5.0, 2.0, n))))
            else:
                comp = rng.random(n) < 0.5
                q = np.where(comp, rng.beta(0.3, 30.0, n), rng.beta(2.0, 5.0, n))
            q = np.where(rng.random(n) < share, 0.0, q)
            N, K = 100, 10_000
            c = rng.binomial(N, q)
            if c.sum() == 0:
                continue
            truth = float(np.mean(1 - (1 - q) ** K))
            yield f"share={share} rep={r}", EvalCounts(np.full(n, N), c), K, truth


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true", help="every group of both Pythia files")
    ap.add_argument("--groups", type=int, default=6, help="groups per Pythia file (default 6)")
    ap.add_argument("--ms", default="32,100,1000")
    ap.add_argument("--reps", type=int, default=2, help="generated data sets per family and share")
    ap.add_argument("--forecasters", default=",".join(FORECASTERS))
    ap.add_argument("--datasets", default="pythia-gsm8k,pythia-math,jailbreak,logit-normal,beta-mixture")
    ap.add_argument("--out", default=None, help="write every run as CSV")
    ap.add_argument("--summarize", default=None, help="only print the table and targets of a CSV written by --out")
    a = ap.parse_args()
    names = a.forecasters.split(",")
    if a.summarize:
        df = pd.read_csv(a.summarize)
        summarize(df, [n for n in names if n in set(df.forecaster)])
        return
    ms = [int(x) for x in a.ms.split(",")]
    rows = []
    t0 = time.perf_counter()
    for ds in a.datasets.split(","):
        rng = np.random.default_rng(sum(map(ord, ds)))
        if ds == "pythia-gsm8k":
            runs = pythia_runs("pythia_checkpoints_gsm8k_counts.csv", a.groups, a.full, ms, rng)
        elif ds == "pythia-math":
            runs = pythia_runs("pythia_checkpoints_math_counts.csv", a.groups, a.full, ms, rng)
        elif ds == "jailbreak":
            runs = jailbreak_runs(rng)
        else:
            runs = generated_runs(ds, a.reps, rng)
        for i, (run, sub, K, truth) in enumerate(runs):
            rows += _score(ds, run, sub, K, truth, names, i)
            if a.out:  # every run as it ends, so that an interrupted benchmark leaves its figures
                pd.DataFrame(rows).to_csv(a.out, index=False)
            print(f"  {ds} {run}: truth {truth:.3f} " + ", ".join(
                f"{r['forecaster']} {r['forecast']:.3f}" for r in rows[-len(names):]), flush=True)
    summarize(pd.DataFrame(rows), names, t0)


def summarize(df, names, t0=None):
    """The side-by-side table and the targets, from every run (also from a CSV of an interrupted run)."""
    df["err"] = df.forecast - df.truth
    df["abs"] = df.err.abs()
    df["covered"] = (df.low <= df.truth) & (df.truth <= df.high)
    df["width"] = df.high - df.low
    table = df.groupby(["dataset", "forecaster"], sort=False).agg(
        mae=("abs", "mean"), bias=("err", "mean"), coverage=("covered", "mean"), width=("width", "mean"),
        runs=("truth", "size"), failed=("forecast", lambda s: int(s.isna().sum())), sec=("seconds", "mean"))
    took = f", {time.perf_counter() - t0:.0f} s" if t0 is not None else ""
    print(f"\n{df.groupby(['dataset', 'run']).ngroups} runs{took}")
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    real = [d for d in ("pythia-gsm8k", "pythia-math", "jailbreak") if d in df.dataset.unique()]
    gen = [d for d in ("logit-normal", "beta-mixture") if d in df.dataset.unique()]
    if "default" in names and "loglog" in names and real:
        t = table.reset_index()
        mae = t.pivot(index="dataset", columns="forecaster", values="mae")
        ratio = mae.loc[real, "default"].mean() / mae.loc[real, "loglog"].mean()
        print(f"\ntarget: default MAE / log-log MAE over real datasets = {ratio:.2f} (<= 0.6)")
        singles = [s for s in SINGLE if s in mae.columns]
        for d in mae.index:
            gap = mae.loc[d, "default"] - mae.loc[d, singles].min()
            print(f"target: {d}: default MAE {mae.loc[d, 'default']:.3f} - best single "
                  f"{mae.loc[d, singles].min():.3f} ({mae.loc[d, singles].idxmin()}) = {gap:+.3f} (<= 0.01)")
        nd = df[df.forecaster == "default"]
        print(f"target: default 90% coverage pooled over real datasets = "
              f"{nd[nd.dataset.isin(real)].covered.mean():.2f} (in [0.85, 0.95])")
        for d in gen:
            print(f"target: default 90% coverage on {d} = {nd[nd.dataset == d].covered.mean():.2f} (>= 0.80)")


if __name__ == "__main__":
    main()
