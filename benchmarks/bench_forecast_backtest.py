"""Forecast accuracy across data: every forecaster side by side, the default (checked posterior) and selfcheck included.

Datasets (each a list of backtest runs: a subsample of m attempts per problem, a forecast of pass@K,
scored against the truth):

* ``pythia-gsm8k``, ``pythia-math`` (Schaeffer et al. 2025): per m in {32, 100, 1000}, one subsample of
  m attempts of every (model, problem) of the file with N >= m, hypergeometric (without replacement):
  what a user who sampled m attempts would hold. Scored: a fixed, seeded subset of groups (``--groups``
  per file, default 6, among those that have solved problems; ``--full``: all), per group K = 10 m and
  100 m, the group's problems with N >= K; the truth is their unbiased pass@K from all attempts.
* ``jailbreak`` (best-of-N jailbreaking, 7 models x 159 prompts): attempts stop adaptively (batches of 60
  until a success), so only the first 60 attempts of every prompt are an unconditioned sample (every
  prompt has them). One subsample of m = 60 attempts of every (model, prompt); scored, per model, the
  prompts with N >= K = 600 (those the truth is computed over): the successes of the first batch are
  not recorded, so c' is drawn hypergeometrically from (N, c), exact only when the stopping rule is
  ignored, and prompts that reached N >= K are selected by having failed early (the first batch of each
  holds no success, which a hypergeometric draw from (N, c) does not know). Said plainly: this dataset
  checks consistency under that selection, not unbiased accuracy.
* ``logit-normal``, ``beta-mixture`` (generated, outside most candidates' families), with a never-solvable
  share in {0, 0.2, 0.4}: 128 problems, N = 100, K = 1e4; the truth is pass@K of the simulated rates.

Forecasters: every single one (log-log, the maximum-likelihood fits), the posteriors, ``own`` (the
default forecast of one group's counts alone), ``joint`` (the joint model fitted once to the whole
subsampled file; difficulty.joint) and ``default``: what ``difficulty forecast`` gives, ``own`` and
``joint`` pooled (difficulty.pooled) where the file's groups share problems, ``own`` on the generated
data (one group).

``--seed S`` draws other picks and subsamples (the figures move with them; the README quotes seed 0).

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
from difficulty.joint import fit_joint
from difficulty.passk import pass_at_k
from difficulty.pooled import combine, pooling_blocked

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
    "own": dict(),  # the default forecast of one group's counts alone
    "joint": None,  # the joint model over every group of the file (difficulty.joint), this group's forecast
    "default": None,  # what `difficulty forecast` does: "own" pooled with "joint" where the file's groups share
    # problems (difficulty.pooled), "own" otherwise
}
SINGLE = ("loglog", "beta-binomial", "zi-beta", "kumaraswamy", "logit-normal")


_JOINT = {}  # one joint fit per subsample of a whole file: {id: JointFit}


def _joint(shared):
    """The joint fit of a whole file's subsample (``shared``: (key, EvalCounts with groups)), once."""
    key, counts = shared
    if key not in _JOINT:
        _JOINT.clear()
        t = time.perf_counter()
        _JOINT[key] = fit_joint(counts, seed=0)
        print(f"  joint fit of {key}: {time.perf_counter() - t:.1f} s", flush=True)
    return _JOINT[key]


def _forecast(name, sub, K, seed, shared, group, done):
    if FORECASTERS[name] is not None:
        return forecast_pass_at_k(sub, [K], seed=seed, **FORECASTERS[name])  # the command's own draws
    if name == "joint" or (name == "default" and shared is not None):
        fj = _joint(shared).forecast(group, [K], problems=sub.problem, seed=seed) if shared is not None else None
        if name == "joint":
            if fj is None:
                raise DifficultyError("one group: no joint model")
            return fj
        own = done.get("own") or forecast_pass_at_k(sub, [K], seed=seed)
        return combine(own, fj)
    return done.get("own") or forecast_pass_at_k(sub, [K], seed=seed)


def _score(dataset, run, sub, K, truth, names, seed, shared=None, group=None):
    rows = []
    done = {}
    for name in names:
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                f = _forecast(name, sub, K, seed, shared, group, done)
            done[name] = f
            est, lo, hi = float(f.pass_at_k[0]), float(f.low[0]), float(f.high[0])
        except DifficultyError:
            est = lo = hi = np.nan
        rows.append(dict(dataset=dataset, run=run, forecaster=name, forecast=est, low=lo, high=hi, truth=truth,
                         seconds=time.perf_counter() - t0))
    return rows


def _whole(counts, m, rng, key):
    """One subsample of m attempts of every row with N >= m of a grouped file, as (key, counts) for the
    joint fit, and its rows by group."""
    ok = counts.n >= m
    sub = subsample_counts(EvalCounts(counts.n[ok], counts.c[ok], problem=counts.problem[ok],
                                      group=counts.group[ok]), m, rng)
    if pooling_blocked(sub) is not None:
        raise SystemExit(f"{key}: the groups cannot be pooled ({pooling_blocked(sub)})")
    return (key, sub), ok


def pythia_runs(file, n_groups, full, ms, rng):
    """Per m, one subsample of the whole file (every group, every problem with N >= m: what a user who
    sampled m attempts would hold); per chosen group and K, the forecast of its problems with N >= K."""
    counts = load_counts(str(DATA / file), group_col="model_nickname")
    names = sorted(n for n, g in counts.groups().items() if (g.c > 0).sum() >= 5)
    if not full:
        names = list(rng.choice(names, size=min(n_groups, len(names)), replace=False))
    for m in ms:
        shared, ok = _whole(counts, m, rng, f"{file} m={m}")
        sub_all = shared[1]
        for name in names:
            mine = sub_all.group == name
            n_full = counts.n[ok][mine]
            c_full = counts.c[ok][mine]
            for K in (10 * m, 100 * m):
                big = n_full >= K
                if big.sum() < 10 or c_full[big].sum() == 0:
                    continue
                truth = float(pass_at_k(n_full[big], c_full[big], K).mean())
                sub = EvalCounts(sub_all.n[mine][big], sub_all.c[mine][big], problem=sub_all.problem[mine][big])
                if sub.c.sum() == 0:
                    continue
                yield f"{name} m={m} K={K}", sub, K, truth, shared, name


def jailbreak_runs(rng):
    """m = 60 attempts of every prompt of every model (one subsample of the file), K = 600 on the prompts
    with N >= K."""
    df = pd.read_csv(DATA / "bon_text_jailbreaking_counts.csv")
    counts = EvalCounts(df.num_samples.to_numpy(), df.num_successes.to_numpy(),
                        problem=df.prompt_idx.astype(str).to_numpy(), group=df.model.astype(str).to_numpy())
    shared, ok = _whole(counts, 60, rng, "jailbreak m=60")
    sub_all = shared[1]
    K = 600
    for model in dict.fromkeys(sub_all.group.tolist()):
        mine = sub_all.group == model
        n_full, c_full = counts.n[ok][mine], counts.c[ok][mine]
        big = n_full >= K
        if big.sum() < 10:
            continue
        truth = float(pass_at_k(n_full[big], c_full[big], K).mean())
        sub = EvalCounts(sub_all.n[mine][big], sub_all.c[mine][big], problem=sub_all.problem[mine][big])
        if sub.c.sum() == 0:
            continue
        yield f"{model} m=60 K={K}", sub, K, truth, shared, model


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
            yield f"share={share} rep={r}", EvalCounts(np.full(n, N), c), K, truth, None, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true", help="every group of both Pythia files")
    ap.add_argument("--groups", type=int, default=6, help="groups per Pythia file (default 6)")
    ap.add_argument("--ms", default="32,100,1000")
    ap.add_argument("--reps", type=int, default=2, help="generated data sets per family and share")
    ap.add_argument("--forecasters", default=",".join(FORECASTERS))
    ap.add_argument("--datasets", default="pythia-gsm8k,pythia-math,jailbreak,logit-normal,beta-mixture")
    ap.add_argument("--seed", type=int, default=0, help="another draw of the subsamples and picks (default 0)")
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
        rng = np.random.default_rng(sum(map(ord, ds)) + 1000 * a.seed)
        if ds == "pythia-gsm8k":
            runs = pythia_runs("pythia_checkpoints_gsm8k_counts.csv", a.groups, a.full, ms, rng)
        elif ds == "pythia-math":
            runs = pythia_runs("pythia_checkpoints_math_counts.csv", a.groups, a.full, ms, rng)
        elif ds == "jailbreak":
            runs = jailbreak_runs(rng)
        else:
            runs = generated_runs(ds, a.reps, rng)
        for i, (run, sub, K, truth, shared, group) in enumerate(runs):
            rows += _score(ds, run, sub, K, truth, names, i, shared, group)
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
