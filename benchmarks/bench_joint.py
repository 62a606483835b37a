"""The joint model over groups x problems against the per-group default, on the Pythia ladders.

Protocol (each Pythia file: GSM8K 81 models, MATH 72 models, 128 problems each):
* subsample m = 100 attempts per (model, problem) hypergeometrically (without replacement) from the
  full counts; fit the joint model once to the whole subsampled table;
* (a) pass@K at K = 10,000 per model, on the problems with full N >= K (models with >= 10 such
  problems); truth = mean unbiased pass@K from all attempts. Joint: forecast of those problems from
  the joint fit. Baseline: the library's default forecast (difficulty.forecast_pass_at_k, Kumaraswamy
  posterior) of the same problems' subsampled counts, one process. MAE and 90% band coverage, and
  beside it the coverage that counts a band whose lower end is below 0.001 as holding a truth of
  exactly 0 (a model that solved none of the problems in all its attempts: pass@K, a mean of
  probabilities, is above 0 in every draw, and the truth is 0 only to the data's resolution; a
  per-group forecast that cannot be fitted says [0, 0]). Targets: joint MAE <= 0.7 x baseline MAE,
  coverage 85-95%.
* (b) for every (model, problem) with no success in the subsample: joint P(solved within the
  remaining N - 100 attempts) against the truth (solved at least once in the full data). AUC pooled
  and the mean within-model AUC (models with both outcomes). Baseline score: the fraction of the
  other models that solved the problem in the subsample. Target: AUC >= 0.75.
* (c) leave-largest-out: for each checkpoint (train_tokens), the largest model is left out, the joint
  model with covariates (log params, log train_tokens, their product) is fitted to the full counts
  of every other model, and the held-out model's pass@100 is forecast; truth = mean unbiased pass@100
  from its full counts. Baseline: the next-largest model's pass@100 at the same checkpoint.
  Target: within 0.05 for >= 70% of held-out models.
* (a) again on --subsamples subsamples (seeds 0, 1, ...; default 3), each with its own joint fit and
  baseline: one subsample is one draw of which problems each model happened to solve (on Pythia GSM8K
  the ratio moves by +-0.1 with it); the mean MAE over them, their pooled coverage, and each seed's.
* (a') the forecasts of (a) from a joint fit to the same subsample with the covariates of (c), beside
  them, on the first subsample and over all of them: what a user who gives the ladder's covariates gets.
* the fit time of the first joint fit (target <= 60 s on 2 cores, single process), its extrapolation
  check included (the second fit, to every cell thinned to 10 attempts, whose error widens the bands of
  (a) and (a'); see difficulty.joint). (c) forecasts a group without data and leaves the check out.

    python benchmarks/bench_joint.py [--files gsm8k,math] [--holdouts N] [--subsamples N] [--skip-baseline]
"""
from __future__ import annotations

import argparse
import pathlib
import time
import warnings

import numpy as np

from difficulty.backtest import subsample_counts
from difficulty.counts import EvalCounts
from difficulty.io import group_covariates, load_counts
from difficulty.joint import fit_joint, parse_size
from difficulty.passk import pass_at_k

DATA = str(pathlib.Path(__file__).resolve().parents[2] / "shared/data/real/schaeffer2025_monkeys_power_laws"
           / "pythia_checkpoints_{}_counts.csv")
K = 10_000
M = 100


def auc(score, label):
    score, label = np.asarray(score, float), np.asarray(label, bool)
    pos, neg = score[label], score[~label]
    if pos.size == 0 or neg.size == 0:
        return np.nan
    ranks = np.argsort(np.argsort(np.concatenate([pos, neg]), kind="stable"), kind="stable") + 1.0
    # ties: average ranks
    allv = np.concatenate([pos, neg])
    _, inv, cnt = np.unique(allv, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=ranks)
    ranks = (sums / cnt)[inv]
    return (ranks[:pos.size].sum() - pos.size * (pos.size + 1) / 2) / (pos.size * neg.size)


def _scored(full, groups):
    """(group, its problems with N >= K, the truth: mean unbiased pass@K from all attempts) for each group
    with at least 10 such problems."""
    for g in groups:
        big = (full.group == g) & (full.n >= K)
        if big.sum() >= 10:
            yield g, big, pass_at_k(full.n[big], full.c[big], K).mean()


def _score(fit, g, problems, truth):
    """A joint fit's pass@K of ``problems`` for group ``g``: absolute error, whether its band holds the
    truth, and whether it does counting a band whose lower end is below 0.001 as holding a truth of 0."""
    f = fit.forecast(g, [K], problems=problems, draws=100)
    held = bool(f.low[0] <= truth <= f.high[0])
    return abs(f.pass_at_k[0] - truth), held, held or (truth == 0 and f.low[0] < 1e-3), f.high[0] - f.low[0]


def _part_a(full, sub, fit, seed, baseline):
    """Part (a) on one subsample: per scored group the joint's error and coverage (strict, and with the
    truth-0 rule), and the per-group default's error and coverage."""
    from difficulty.errors import DifficultyError
    from difficulty.forecast import forecast_pass_at_k

    out = {k: [] for k in ("err_j", "cov_j", "cov_j0", "w_j", "err_b", "cov_b")}
    out["unfit"] = 0
    for g, big, truth in _scored(full, fit.groups):
        e, c, c0, w = _score(fit, g, full.problem[big], truth)
        out["w_j"].append(w)
        out["err_j"].append(e)
        out["cov_j"].append(c)
        out["cov_j0"].append(c0)
        if baseline:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fb = forecast_pass_at_k(EvalCounts(sub.n[big], sub.c[big], problem=sub.problem[big]), [K],
                                            seed=seed)
                mid, lo, hi = fb.pass_at_k[0], fb.low[0], fb.high[0]
            except DifficultyError:  # nothing solved in the subsample: no fit; the per-group answer is 0
                mid = lo = hi = 0.0
                out["unfit"] += 1
            out["err_b"].append(abs(mid - truth))
            out["cov_b"].append(lo <= truth <= hi)
    return out


def _part_a_covariates(full, sub, cov, groups, seed):
    """Part (a'): the forecasts of (a) from a joint fit with the ladder's covariates. Returns the scores
    (error, held, held by the truth-0 rule, width) per scored group, the fit and its seconds."""
    t = time.perf_counter()
    fit_c = fit_joint(sub, covariates=cov, draws=100, seed=seed)
    secs = time.perf_counter() - t
    scores = np.array([_score(fit_c, g, full.problem[big], truth) for g, big, truth in _scored(full, groups)])
    return scores, fit_c, secs


def other_subsamples(full, seeds, first, baseline, cov=None, first_c=None):
    """Part (a) again on the subsamples of ``seeds`` (each its own joint fit), and over all of them with
    ``first`` (seed 0's): one subsample is one draw of which problems each model happened to solve.
    With ``cov``, (a') likewise beside it (``first_c``: seed 0's scores)."""
    runs = [first]
    runs_c = [first_c]
    for seed in seeds:
        sub = subsample_counts(full, M, np.random.default_rng(seed))
        fit = fit_joint(sub, draws=100, seed=seed)
        runs.append(_part_a(full, sub, fit, seed, baseline))
        if cov is not None:
            runs_c.append(_part_a_covariates(full, sub, cov, fit.groups, seed)[0])
    rows = []
    for seed, r in zip([0, *seeds], runs):
        rows.append(f"seed {seed}: joint {np.mean(r['err_j']):.4f} (coverage {np.mean(r['cov_j0']):.0%}, "
                    f"width {np.mean(r['w_j']):.3f})"
                    + (f", per-group {np.mean(r['err_b']):.4f}, ratio {np.mean(r['err_j']) / np.mean(r['err_b']):.2f}"
                       if baseline else ""))
    ej = np.mean([np.mean(r["err_j"]) for r in runs])
    cj = np.mean([x for r in runs for x in r["cov_j0"]])
    wj = np.mean([x for r in runs for x in r["w_j"]])
    line = (f"(a) over {len(runs)} subsamples: joint MAE {ej:.4f}, 90% coverage {cj:.0%} (truth-0 rule), "
            f"band width {wj:.3f}")
    if baseline:
        eb = np.mean([np.mean(r["err_b"]) for r in runs])
        line += f"; per-group default MAE {eb:.4f}; ratio {ej / eb:.2f} (target <= 0.7, coverage 85-95%)"
    print(line + "\n    " + "; ".join(rows))
    if cov is not None:
        ec = np.mean([r[:, 0].mean() for r in runs_c])
        cc = np.mean(np.concatenate([r[:, 2] for r in runs_c]))
        wc = np.mean(np.concatenate([r[:, 3] for r in runs_c]))
        per = "; ".join(f"seed {seed}: {r[:, 0].mean():.4f} (coverage {r[:, 2].mean():.0%})"
                        for seed, r in zip([0, *seeds], runs_c))
        line = (f"(a') over {len(runs_c)} subsamples, with covariates: joint MAE {ec:.4f}, 90% coverage {cc:.0%} "
                f"(truth-0 rule), band width {wc:.3f}")
        if baseline:
            line += f"; ratio to the per-group default {ec / eb:.2f}"
        print(line + "\n    " + per)


def run_file(name, holdouts, baseline, seed=0):
    path = DATA.format(name)
    full = load_counts(path, group_col="model_nickname")
    rng = np.random.default_rng(seed)
    sub = subsample_counts(full, M, rng)  # groups kept
    t = time.perf_counter()
    fit = fit_joint(sub, draws=100, seed=seed)
    secs = time.perf_counter() - t
    print(f"\n== {name}: {len(fit.groups)} models x {len(fit.problems)} problems, {fit.n.size} cells; joint fit "
          f"{secs:.1f} s ({fit.diagnostics['iterations']} iterations; extrapolation check "
          f"{fit.diagnostics.get('seconds_check', 0):.1f} s of it, rms error at pass@{fit.check['k0']} from "
          f"{fit.check['attempts']} attempts per cell {fit.check['error_checked']:.4f}; s = {fit.params()['s']:.2f}, "
          f"pi = {fit.params()['pi']:.3f})")
    # (a)
    a = _part_a(full, sub, fit, seed, baseline)
    err_j, cov_j, cov_j0, err_b, cov_b, unfit = (a[k] for k in ("err_j", "cov_j", "cov_j0", "err_b", "cov_b", "unfit"))
    zero_held = sum(c0 and not c for c, c0 in zip(cov_j, cov_j0))
    print(f"(a) pass@{K} on problems with N >= {K}, {len(err_j)} models: joint MAE {np.mean(err_j):.4f}, 90% coverage "
          f"{np.mean(cov_j):.0%} ({np.mean(cov_j0):.0%} counting a band whose lower end is below 0.001 as holding a "
          f"truth of exactly 0: {zero_held} models)"
          + (f"; per-group default MAE {np.mean(err_b):.4f}, coverage {np.mean(cov_b):.0%}; "
             f"ratio {np.mean(err_j) / np.mean(err_b):.2f} (target <= 0.7, coverage 85-95%); "
             f"{unfit} models without a success in the subsample: per-group forecast 0" if baseline else ""))
    # (a') the same forecasts from a joint fit with the ladder's covariates (theta regressed on log params,
    # log train_tokens, their product and the rungs; tau by REML)
    cov = group_covariates(path, "model_nickname", ["params", "train_tokens"])
    scores, fit_c, secs_c = _part_a_covariates(full, sub, cov, fit.groups, seed)
    print(f"(a') with covariates (tau = {fit_c.params()['tau']:.3f} by REML over "
          f"{fit_c.diagnostics['tau_reml_groups']} models; fit {secs_c:.1f} s): joint MAE {scores[:, 0].mean():.4f}, "
          f"90% coverage {scores[:, 2].mean():.0%} (truth-0 rule as above)"
          + (f"; ratio to the per-group default {scores[:, 0].mean() / np.mean(err_b):.2f}" if baseline else ""))
    # (b)
    ppos = {p: i for i, p in enumerate(fit.problems)}
    gpos = {g: j for j, g in enumerate(fit.groups)}
    solved = np.zeros((len(fit.groups), len(fit.problems)), bool)
    seen = np.zeros_like(solved)
    for g, p, c in zip(sub.group, sub.problem, sub.c):
        solved[gpos[g], ppos[p]] = c > 0
        seen[gpos[g], ppos[p]] = True
    S, L, B, within_j, within_b = [], [], [], [], []
    for g in fit.groups:
        m = full.group == g
        zero = sub.c[m] == 0
        if not zero.any():
            continue
        ps, names = fit.p_solved_within(g, np.maximum(full.n[m] - M, 1), draws=100)
        lab = full.c[m][zero] > 0
        sc = ps[zero]
        j = gpos[g]
        others = np.array([(solved[:, ppos[p]].sum() - solved[j, ppos[p]]) / max(seen[:, ppos[p]].sum() - 1, 1)
                           for p in names[zero]])
        S += sc.tolist()
        L += lab.tolist()
        B += others.tolist()
        within_j.append(auc(sc, lab))
        within_b.append(auc(others, lab))
    print(f"(b) {len(S)} unsolved cells ({np.mean(L):.0%} solved in the full data): AUC joint pooled {auc(S, L):.3f}, "
          f"within-model mean {np.nanmean(within_j):.3f}; baseline (share of other models solving) pooled "
          f"{auc(B, L):.3f}, within {np.nanmean(within_b):.3f} (target >= 0.75)")
    # (c)
    steps = {}
    for g, v in cov.items():
        steps.setdefault(v["train_tokens"], []).append(g)
    hits, hits_b, rows = [], [], []
    for _step, gs in sorted(steps.items(), key=lambda kv: parse_size(kv[0]))[-holdouts:] if holdouts else []:
        gs = sorted(gs, key=lambda g: parse_size(cov[g]["params"]))
        if len(gs) < 3:
            continue
        held, nxt = gs[-1], gs[-2]
        t = time.perf_counter()
        f = fit_joint(full, covariates=cov, exclude=[held], draws=100, seed=seed, check=False)  # no band used
        mh, mn = full.group == held, full.group == nxt
        fc = f.predict_group(cov[held], [100], problems=full.problem[mh], draws=100)
        truth = pass_at_k(full.n[mh], full.c[mh], 100).mean()
        base = pass_at_k(full.n[mn], full.c[mn], 100).mean()
        hits.append(abs(fc.pass_at_k[0] - truth) <= 0.05)
        hits_b.append(abs(base - truth) <= 0.05)
        rows.append(f"    {held}: forecast {fc.pass_at_k[0]:.3f} [{fc.low[0]:.3f}, {fc.high[0]:.3f}], "
                    f"truth {truth:.3f}, "
                    f"next-largest {nxt} {base:.3f} ({time.perf_counter() - t:.0f} s)")
    if rows:
        print(f"(c) leave-largest-out pass@100, {len(hits)} held-out models: within 0.05 joint {np.mean(hits):.0%}, "
              f"next-largest baseline {np.mean(hits_b):.0%} (target >= 70%)")
        print("\n".join(rows))
    return secs, a, full, cov, scores


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", default="gsm8k,math")
    ap.add_argument("--holdouts", type=int, default=9, help="checkpoints whose largest model is held out (latest)")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--subsamples", type=int, default=3, help="subsamples (seeds 0, 1, ...) for part (a)")
    a = ap.parse_args()
    for name in a.files.split(","):
        secs, first, full, cov, first_c = run_file(name, a.holdouts, not a.skip_baseline)
        print(f"fit time {secs:.1f} s (target <= 60 s)")
        if a.subsamples > 1:
            other_subsamples(full, range(1, a.subsamples), first, not a.skip_baseline, cov, first_c)


if __name__ == "__main__":
    main()
