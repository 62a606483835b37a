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

Then ladders: several groups (models) on the same problems, as ``rank --group-col`` pools them. Six
groups x 150 problems, N = 100 each, K = 10,000, four truths of q_ij (the joint model's own family with
a never-solvable share of 0.2; a power law of one difficulty per problem, q = u^(1/theta_j); groups
independent of each other, which the joint model does not expect; a power law with noise per cell),
LADDER_SEEDS seeds each. The ECE of the never-solved problems' P(solved within K) against their true
1 - (1 - q)^K, on the groups whose own ranking can be fitted: each group's own ranking, the joint
model's (``rank --joint``), the pooled ranking (difficulty.pooled.combine_rankings: the two rates of
success averaged, the joint's weight 0.8 times the share of the group's spread its shared part explains)
and, as baselines, the same with the joint's weight at half that share (the pooling before), with equal
weights, and the two averaged as probabilities.

    python benchmarks/bench_ranking.py [--models beta,kumaraswamy] [--no-ladders]
"""
import time
import warnings

import numpy as np
import pandas as pd

from difficulty.generate import simulate_counts
from difficulty.models import make_model
from difficulty.ranking import DEFAULT_MODEL, rank_problems

K, N, PROBLEMS, Q_HI, SEEDS = 10_000, 100, 500, 0.2, 3
GROUPS, LADDER_PROBLEMS, LADDER_SEEDS = 6, 150, 4
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


def ladder_truth(kind, rng):
    """q (problems, groups) of a generated ladder (module docstring)."""
    from scipy.special import expit

    P, G = LADDER_PROBLEMS, GROUPS
    if kind == "joint model's family":
        th, a, b = np.linspace(-2, 2, G), np.exp(rng.normal(0, 0.3, P)), rng.normal(6, 3, P)
        q = expit(a[:, None] * th[None] - b[:, None] + rng.normal(0, 1, (P, G)))
        q[rng.random(P) < 0.2] = 0.0
    elif kind == "power law":
        q = rng.beta(0.4, 3, P)[:, None] ** (1 / np.geomspace(0.15, 1.5, G))[None]
    elif kind == "independent groups":
        q = (1 - (1 - rng.random((P, G))) ** (1 / 3.0)) ** (1 / np.linspace(0.2, 0.5, G))[None]
    else:  # "power law, noisy"
        q = rng.beta(0.3, 2, P)[:, None] ** (1 / np.geomspace(0.2, 2, G))[None]
        q = np.clip(q * np.exp(rng.normal(0, 1, (P, G))), 0.0, 1.0)
    return q


def averaged_as_probabilities(own_table, joint_table):
    """The pooling before the rates (the baseline of the pooled ranking, here and in bench_ranking_real): every
    probability and interval end the plain mean of the group's own ranking's and the joint model's, problems
    matched by id."""
    ids = own_table["problem"].astype(str)
    j = joint_table.set_index(joint_table["problem"].astype(str)).loc[ids]
    t = own_table.copy()
    for col in ("p_hidden_obtainable", "p_in_band", "q_low", "q_high"):
        t[col] = 0.5 * (own_table[col].to_numpy(float) + j[col].to_numpy(float))
    return t


def ladders():
    """The pooled ranking against its parts and the pooling before, on generated ladders."""
    from difficulty.counts import EvalCounts
    from difficulty.errors import DifficultyError
    from difficulty.joint import fit_joint
    from difficulty.pooled import combine_rankings, joint_weight

    kinds = ("joint model's family", "power law", "independent groups", "power law, noisy")
    rows = []
    t0 = time.perf_counter()
    for kind in kinds:
        for seed in range(LADDER_SEEDS):
            rng = np.random.default_rng(seed)
            q = ladder_truth(kind, rng)
            c = rng.binomial(N, q)
            names = [f"g{j}" for j in range(GROUPS)]
            ids = [f"p{i}" for i in range(LADDER_PROBLEMS)]
            counts = EvalCounts(np.full(q.size, N), c.T.ravel(), np.tile(ids, GROUPS),
                                np.repeat(names, LADDER_PROBLEMS))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                joint = fit_joint(counts, seed=0, check=False)
                groups = counts.groups()
                for j, name in enumerate(names):
                    rj = rank_problems(fit=joint, group=name, budget=K, question="hidden")
                    try:
                        ro = rank_problems(groups[name], budget=K, question="hidden")
                    except DifficultyError:
                        continue  # a group that solved nothing: the pooled ranking is the joint's alone
                    parts = {"own": ro.table, "joint": rj.table, "pooled": combine_rankings(ro, rj).table,
                             "before (R / 2)": combine_rankings(ro, rj, 0.5 * rj.fit_info["shared_share"]).table,
                             "equal weights": combine_rankings(ro, rj, 0.5).table}
                    ot = ro.table.set_index("problem")
                    zero = ot.c.to_numpy() == 0
                    truth = -np.expm1(K * np.log1p(-np.minimum(q[:, j], 1 - 1e-16)))
                    truth = pd.Series(truth, index=ids).loc[ot.index].to_numpy()
                    row = dict(kind=kind, seed=seed, group=name, truth=truth[zero],
                               weight=joint_weight(rj.fit_info["shared_share"]))  # the pooled ranking's
                    parts["as probabilities"] = averaged_as_probabilities(ro.table, rj.table)
                    for part, t in parts.items():  # never solved: P(hidden obtainable) = P(solved within K)
                        row[part] = t.set_index("problem").loc[ot.index, "p_hidden_obtainable"].to_numpy()[zero]
                    rows.append(row)
    df = pd.DataFrame(rows)
    cols = ("own", "joint", "pooled", "before (R / 2)", "equal weights", "as probabilities")
    out = []
    for kind, d in df.groupby("kind", sort=False):
        truth = np.concatenate(d.truth.to_list())
        row = {"truth": kind, "groups": len(d), "never-solved": truth.size, "mean true": truth.mean(),
               "joint's weight": f"{d.weight.min():.2f}-{d.weight.max():.2f}"}
        for col in cols:
            pred = np.concatenate(d[col].to_list())
            per = [ece(p, t) for p, t in zip(d[col], d.truth)]
            row[f"ECE {col}"] = ece(pred, truth)
            row[f"over 0.12 {col}"] = f"{sum(v > 0.12 for v in per)}/{len(per)}"
        out.append(row)
    out = pd.DataFrame(out)
    print(f"\nladders: {GROUPS} groups x {LADDER_PROBLEMS} problems, N = {N}, K = {K:,}, {LADDER_SEEDS} seeds per "
          f"truth; never-solved P(solved within K) on the groups whose own ranking fits; "
          f"{time.perf_counter() - t0:.0f} s")
    print(out.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("mean ECE over the truths: " + ", ".join(f"{col} {out[f'ECE {col}'].mean():.3f}" for col in cols))
    return df


def main():
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=DEFAULT_MODEL,
                    help="population models ranked from their posterior (default: the ranking's default)")
    ap.add_argument("--no-ladders", action="store_true", help="leave out the generated ladders (pooled rankings)")
    ap.add_argument("--ladders-only", action="store_true", help="only the generated ladders")
    args = ap.parse_args()
    if not args.ladders_only:
        shapes(args)
    if not args.no_ladders:
        ladders()


def shapes(args):
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
