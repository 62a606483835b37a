"""Sampling plans replayed on real data: Pythia checkpoints on GSM8K and MATH (Schaeffer et al. 2025).

For a seeded choice of groups (models; of those with >= 64 problems sampled at least K times, >= 10 of
them ever solved and a true pass@K in [0.05, 0.95]), on those problems: start from
m = 32 attempts per problem drawn hypergeometrically from the full counts; spend a budget B of extra
attempts in R rounds by each rule (uniform; fewest successes first, Kazdan et al. 2025; the
preposterior plan of ``difficulty.allocate``), revealing each round's attempts as a hypergeometric draw
from the problem's remaining attempts; then forecast pass@K of the problems and score it against the
unbiased pass@K of all attempts. As a user would with the two commands' defaults: each round's plan
from a zero-inflated Beta maximum-likelihood fit of the counts so far (``difficulty allocate``), every
rule's forecast from the toolkit's default fit, the Kumaraswamy posterior (``difficulty forecast``);
``--plan-fit`` and ``--forecaster`` choose either fit for either role. Printed: the mean absolute
forecast error per rule at each budget, and for each uniform budget the budget the plan needs to reach
uniform's error (log-linear interpolation of its error curve).

Targets: the plan reaches uniform's error with <= 0.6x the attempts, and its error is below the
fewest-successes rule's at every budget.

    PYTHONPATH=. python benchmarks/bench_allocate.py [--groups 10] [--reps 2] [--k 1000] [--rounds 2]
        [--forecaster default|zi-beta-mle] [--plan-fit zi-beta-mle|default]
"""
import argparse
import pathlib
import sys
import time
import warnings

import numpy as np
import pandas as pd

from difficulty.allocate import fewest_successes_plan, plan_allocation, uniform_plan
from difficulty.counts import EvalCounts
from difficulty.errors import DifficultyError
from difficulty.fit.mle import fit_mle
from difficulty.forecast import fit_for_forecast
from difficulty.forecast import forecast as predict
from difficulty.passk import pass_at_k

DATA = pathlib.Path(__file__).resolve().parents[2] / "shared/data/real/schaeffer2025_monkeys_power_laws"
M0 = 32
MULTIPLES = (8, 16, 32, 64)  # budgets, in extra attempts per problem on average
RULES = ("uniform", "fewest_successes", "plan")


def groups(k, n_groups, seed):
    out = []
    for name in ("gsm8k", "math"):
        df = pd.read_csv(DATA / f"pythia_checkpoints_{name}_counts.csv")
        for g, sub in df.groupby("model_nickname", sort=True):
            sub = sub[sub.num_samples >= k]  # the problems whose pass@K the full data define
            N, C = sub.num_samples.to_numpy(np.int64), sub.num_correct.to_numpy(np.int64)
            if len(N) >= 64 and (C > 0).sum() >= 10 and 0.05 <= np.mean(pass_at_k(N, C, k)) <= 0.95:
                out.append((f"{name}:{g}", N, C))
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(out), size=min(n_groups, len(out)), replace=False)
    return [out[i] for i in sorted(pick)]


FITS = ("default", "zi-beta-mle")
NAMES = {"default": "the default (Kumaraswamy posterior)", "zi-beta-mle": "zero-inflated Beta MLE"}


def fit_counts(n, c, kind, seed=0):
    """The toolkit's default forecast fit (Kumaraswamy posterior; ``difficulty forecast``) or a zero-inflated
    Beta maximum-likelihood fit (``difficulty allocate``'s default)."""
    counts = EvalCounts(n, c)
    if kind == "default":
        return fit_for_forecast(counts, seed=seed)
    return fit_mle(counts, "zi-beta")


def forecast(n, c, k, kind):
    """pass@K of the problems from one fit: a posterior's mean forecast, or the estimate's."""
    fit = fit_counts(n, c, kind)
    if fit.draws is not None:
        return float(predict(fit, k, draws=400, seed=0).pass_at_k[0])
    lu = fit.likelihood.log_unsolved_after(fit.estimate[None, :], np.array([float(k)]))[0, :, 0]
    return float(np.mean(1 - np.exp(lu[fit.likelihood.hist.inverse])))


def reveal(rng, N, C, n, c, extra):
    """Successes among ``extra`` more attempts, drawn without replacement from each problem's unseen attempts."""
    good, bad = C - c, (N - C) - (n - c)
    return rng.hypergeometric(good, bad, extra) if extra.any() else np.zeros_like(extra)


def run_rule(rule, N, C, n0, c0, budget, k, rounds, rng, a):
    n, c = n0.copy(), c0.copy()
    per_round = [budget // rounds + (1 if r < budget % rounds else 0) for r in range(rounds)]
    batch = max(1, budget // (8 * n.size))
    for r, b in enumerate(per_round):
        cap = N - n
        if rule == "uniform":
            extra = uniform_plan(n, b, cap)
        elif rule == "fewest_successes":
            extra = fewest_successes_plan(n, c, b, batch, cap)
        else:  # the plan from the counts so far
            fit = fit_counts(n, c, a.plan_fit)
            extra = plan_allocation(fit, b, k, batch=batch, capacity=cap, draws=8, seed=r).table["extra"].to_numpy()
        s = reveal(rng, N, C, n, c, extra)
        n, c = n + extra, c + s
    return forecast(n, c, k, a.forecaster), int((n - n0).sum())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--groups", type=int, default=10)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--k", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--forecaster", choices=FITS, default="default",
                    help="the fit behind every forecast (default: that of difficulty forecast)")
    ap.add_argument("--plan-fit", choices=FITS, default="zi-beta-mle",
                    help="the fit behind the plan (default: that of difficulty allocate)")
    a = ap.parse_args()
    if not DATA.exists():
        sys.exit(f"real data not found at {DATA}")
    t0 = time.perf_counter()
    rows = []
    chosen = groups(a.k, a.groups, a.seed)
    for gi, (name, N, C) in enumerate(chosen):
        truth = float(np.mean(pass_at_k(N, C, a.k)))
        for rep in range(a.reps):
            rng = np.random.default_rng([a.seed, gi, rep])
            n0 = np.full(N.size, M0, dtype=np.int64)
            c0 = rng.hypergeometric(C, N - C, M0)
            try:
                f0 = forecast(n0, c0, a.k, a.forecaster)
            except DifficultyError:
                continue  # no success in the first attempts: nothing to fit
            rows.append(dict(group=name, rep=rep, rule="start", budget=0, spent=0, truth=truth, forecast=f0))
            for mult in MULTIPLES:
                B = mult * N.size
                for rule in RULES:
                    r_rng = np.random.default_rng([a.seed, gi, rep, mult, RULES.index(rule)])
                    try:
                        f, spent = run_rule(rule, N, C, n0, c0, B, a.k, a.rounds, r_rng, a)
                    except DifficultyError as e:
                        print(f"  {name} rep {rep} {rule} B={B}: {e}", file=sys.stderr)
                        continue
                    rows.append(dict(group=name, rep=rep, rule=rule, budget=mult, spent=spent, truth=truth,
                                     forecast=f))
        print(f"  [{gi + 1}/{len(chosen)}] {name} ({N.size} problems, truth pass@{a.k} = {truth:.3f}) "
              f"{time.perf_counter() - t0:.0f} s", file=sys.stderr)
    if not rows:
        sys.exit("no group had a success in its first attempts: nothing to forecast")
    df = pd.DataFrame(rows)
    df["abs_error"] = (df.forecast - df.truth).abs()
    start = df[df.rule == "start"].abs_error.mean()
    table = df[df.rule != "start"].pivot_table(index="budget", columns="rule", values="abs_error", aggfunc="mean")
    table = table[list(RULES)]
    print(f"pass@{a.k} forecast from m = {M0} attempts per problem plus a budget, {len(chosen)} Pythia groups "
          f"(GSM8K, MATH; every problem sampled >= {a.k} times), {a.reps} replicates, {a.rounds} rounds; "
          f"forecaster (the same for every rule): {NAMES[a.forecaster]}; the plan's fit: {NAMES[a.plan_fit]}")
    print(f"mean absolute error with no extra attempts: {start:.4f}")
    print("mean absolute error by budget (extra attempts per problem on average):")
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    # runs of one group, replicate and budget share their start: the rules' differences are paired there
    wide = df[df.rule != "start"].pivot_table(index=["group", "rep", "budget"], columns="rule", values="abs_error")
    print("paired differences of absolute error, mean +- standard error over the runs (negative: the plan better):")
    for b, sub in wide.groupby(level="budget"):
        parts = []
        for other in ("uniform", "fewest_successes"):
            d = (sub["plan"] - sub[other]).dropna()
            parts.append(f"plan - {other} {d.mean():+.4f} +- {d.std(ddof=1) / np.sqrt(max(d.size, 1)):.4f}")
        print(f"  budget {b}: " + "; ".join(parts) + f" ({len(sub)} runs)")
    per_attempt = table.copy()
    for b in per_attempt.index:
        per_attempt.loc[b] = (start - table.loc[b]) / b
    print("error reduction per extra attempt per problem ((start - error) / budget):")
    print(per_attempt.to_string(float_format=lambda v: f"{v:.2e}"))
    # the budget the plan needs to reach uniform's error at each budget (log-linear in budget)
    xb = np.log(np.array([M0 / 8] + list(table.index), dtype=float))  # budget 0 placed at 4 attempts (log scale)
    ratios = []
    for rule in ("plan", "fewest_successes"):
        ys = np.concatenate([[start], table[rule].to_numpy()])
        out = []
        for b, target in table["uniform"].items():
            below = np.flatnonzero(ys <= target)
            if not below.size:
                out.append(float("nan"))
                continue
            j = below[0]
            if j == 0:
                out.append(0.0)
                continue
            t = (ys[j - 1] - target) / (ys[j - 1] - ys[j])
            out.append(float(np.exp(xb[j - 1] + t * (xb[j] - xb[j - 1]))) / b)
        ratios.append(out)
        print(f"{rule}: attempts needed to match uniform's error, as a fraction of uniform's, at budgets "
              f"{list(table.index)}: " + ", ".join("n/a (never reached)" if np.isnan(r) else f"{r:.2f}" for r in out))
    plan_ok = bool(np.all(np.asarray(ratios[0]) <= 0.6))  # never reached (nan) at some budget: not met
    beats = bool(np.all(table["plan"] <= table["fewest_successes"]))
    print(f"target: plan reaches uniform's error with <= 0.6x the attempts: {'met' if plan_ok else 'NOT met'}; "
          f"plan's error below fewest-successes at every budget: {'met' if beats else 'NOT met'}")
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            main()
