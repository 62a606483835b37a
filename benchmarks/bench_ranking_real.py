"""Ranking on real data: Pythia checkpoints on GSM8K and MATH (Schaeffer et al. 2025), read by path.

For each model (group column ``model_nickname``) with at least 20 problems sampled N >= 100 + 10,000
times: subsample 100 attempts of every problem of the model (hypergeometric, exact; the model's whole file,
as a user has it), rank them all with a budget of K = 10,000 more attempts, and compare the problems
sampled N >= 100 + 10,000 times with the truth from all their attempts.

* Hidden but obtainable: P(solved within K) of the problems never solved in the 100 attempts, against
  the truth of "solved within the next K attempts": for a problem with N >= 100 + K attempts in all
  (C successes) of which the subsample took m = 100 (c successes), the next K attempts in a random
  order are K drawn without replacement from the N - m left, so the truth is exactly
  1 - C(N - m - (C - c), K) / C(N - m, K) (hypergeometric; 0 when C = c). Problems with N < 100 + K
  are left out of the ranking. Expected calibration error (ECE) over 10 equal-width bins of the prediction,
  pooled over every run and per model (its runs pooled; the worst model printed), the mean
  prediction against the mean truth, and the reliability curve. Beside them ("if calibrated"), the
  same figures for outcomes drawn from the predictions themselves (200 draws): the ECE a perfectly
  calibrated ranking would show on so few never-solved problems per model, i.e. the noise floor.
* Learnable, q in [1/K, 0.2]: the truth is the full-data rate C/N in the band (at N >= 10,000 close
  to q). Precision of the top n against the raw filters 0 < c/N < 0.2 and c = 0 at equal n (each
  run's n is the size of that filter), pooled over runs; ECE of P(q in band).
* The per-problem 90% intervals for q: coverage of the full-data q, counted as the mass of its
  Jeffreys posterior Beta(C + 1/2, N - C + 1/2) inside the interval (where C = 0, the rate 0 itself
  is not q), and, for the problems with C > 0, whether C/N lies inside.
* Time per ranking (the population posterior included).

Baselines in the same run: the raw filters, and the ranking as it was (zi-beta, maximum likelihood
with Laplace draws). Beside them, the joint model over all groups of a file (``rank --joint``, one
fit per file and seed, the ranked problems with the same subsamples): its hidden-obtainable
calibration and q intervals, on every run and on the runs a per-group ranking can fit; and the same
with the ladder's covariates (``rank --joint --covariates params,train_tokens``). A run whose
subsample has no success at all cannot be fitted per group (nothing tells the population's scale)
and is counted apart. Last, the pooled ranking ``rank --group-col`` gives by default on files whose
groups share problems (difficulty.pooled: the group's own ranking and the joint model's, their rates of
success averaged; the joint's alone where the group solved nothing), scored as the joint arm is; its
time per ranking is the two rankings' and the pooling's (the joint fit apart); and as its baselines the
same two rankings pooled with the joint's weight at half the share its shared part explains (the pooling
before) and with every probability and interval end averaged as such.

Then files of one training stage: the sizes' checkpoints at one train_tokens as one file (as a user's
file of several models trained alike), each stage's joint fit on that file alone, scored as the joint
arm is: each group's own ranking, the joint model's, the pooled ranking and the pooling before; then a
table per stage file (MATH at 300B tokens, the final checkpoints of seven sizes, is the shape of a user's
file of several models).

Last, a file of another kind: best-of-N text jailbreaking (Hughes et al. 2024; 7 models x 159 prompts),
where attempts were drawn in batches of 60 until a batch held a success, up to 10,020. The first batch
is the data a user would hold (c its successes, 0 for every prompt sampling went on for), and for a
prompt with no success in it the truth of "solved within the next K = 9,960 attempts" is in the file
(a later batch held a success, or none did up to the cap): no subsampling, one run. Every group ranked
by its own ranking, the joint model's (one fit to the seven groups' first batches), the pooled ranking
(``rank --group-col``) and the pooling before; calibration of P(solved within K) for the prompts
never solved in the first batch, and how well it orders them (AUC within each model: a group's own
ranking gives every such prompt the same chance, since they have the same N and c); and the pooled
ranking again with the joint's weight at factors 0.5-1.0 of R (0.8 is the rule's). Neither the
intervals for q nor the learnable band are scored there (where sampling stopped on a success, c/N is no
estimate of q).

Each group's subsample is drawn from a random stream of its own (file, group, seed): with one stream per
seed for every group, their subsamples would share random numbers, and the joint model would see groups
fail the same problems together more often than models sampled independently do.

    python benchmarks/bench_ranking_real.py [--seeds 2] [--models beta,kumaraswamy,zi-beta] [--jobs 2]
        [--no-joint] [--no-ladders] [--no-jailbreak] [--only stages|jailbreak]

``--models`` lists population models ranked from their posterior (registry names; default: the
ranking's default); the baseline ``zi-beta (laplace)`` is always added.
"""
import argparse
import multiprocessing
import pathlib
import sys
import time
import warnings
import zlib
from dataclasses import replace

import numpy as np
import pandas as pd
from bench_joint import auc
from bench_ranking import averaged_as_probabilities, ece, reliability
from scipy import stats
from scipy.special import gammaln

from difficulty.backtest import subsample_counts
from difficulty.counts import EvalCounts
from difficulty.errors import DifficultyError
from difficulty.io import load_counts
from difficulty.pooled import JOINT_LEAD
from difficulty.ranking import DEFAULT_MODEL, rank_problems

DATA = pathlib.Path(__file__).resolve().parents[2] / "shared/data/real/schaeffer2025_monkeys_power_laws"
FILES = ("gsm8k", "math")
K, M, Q_HI = 10_000, 100, 0.2
BASELINE = ("zi-beta", "laplace")


def tasks():
    out = []
    for f in FILES:
        path = DATA / f"pythia_checkpoints_{f}_counts.csv"
        if not path.exists():
            sys.exit(f"real data not found at {path}")
        counts = load_counts(str(path), group_col="model_nickname")
        for name, g in counts.groups().items():
            ok = g.n >= M  # every problem a subsample can be drawn from: the group's file, as a user has it
            scored = g.n[ok] >= K + M  # the next K attempts after the subsample exist: the truth is known
            if scored.sum() >= 20:
                out.append((f, name, EvalCounts(g.n[ok], g.c[ok], problem=np.asarray(g.problem_ids)[ok]), scored))
    return out


def solved_within(N, C, c, m, k):
    """P(at least one success among k attempts drawn without replacement from the N - m left after a
    subsample of m with c successes, C - c successes among them): 1 - C(N - m - (C - c), k) / C(N - m, k)."""
    rest, s = N - m, C - c
    log_none = (gammaln(rest - s + 1) - gammaln(np.maximum(rest - s - k, 0) + 1) - gammaln(rest + 1)
                + gammaln(rest - k + 1))
    return np.where(s > 0, np.where(rest - s >= k, -np.expm1(log_none), 1.0), 0.0)


def task_rng(f, name, seed):
    """The random stream of one group's subsample: its own per (file, group, seed). One stream per seed
    shared by every group would draw their subsamples with common random numbers, so that groups failing
    a problem together in the subsample would be likelier than in data sampled independently per model,
    which the joint model reads as the problem being harder."""
    return np.random.default_rng([seed, zlib.crc32(f"{f}/{name}".encode())])


def one_run(item, seed, models):
    """Rows per problem and per model ranked, what each run did, and the default model's ranking itself
    (None when it could not be fitted) for the pooled arm."""
    f, name, full, scored = item
    sub = subsample_counts(full, M, task_rng(f, name, seed))
    truth_solve = solved_within(full.n, full.c, sub.c, M, K)[scored]
    rate = full.c[scored] / full.n[scored]
    rows, runs, default = [], [], None
    for model, how in models:
        label = f"{model} ({how})"
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = rank_problems(sub, budget=K, model=model, hyper="full" if how == "posterior" else how, seed=seed)
        except DifficultyError as e:
            runs.append(dict(file=f, group=name, seed=seed, model=label, fitted=False, reason=str(e)))
            continue
        if (model, how) == (DEFAULT_MODEL, "posterior"):
            default = r
        t = r.table[scored]
        runs.append(dict(file=f, group=name, seed=seed, model=label, fitted=True, seconds=time.perf_counter() - t0))
        rows.append(pd.DataFrame({
            "file": f, "group": name, "seed": seed, "model": label, "c": sub.c[scored], "C": full.c[scored],
            "N": full.n[scored],
            "p_hidden": t["p_solve_within_budget"].to_numpy(), "truth_solve": truth_solve,
            "p_band": t["p_in_band"].to_numpy(), "truth_band": (rate >= 1 / K) & (rate <= Q_HI),
            "q_low": t["q_low"].to_numpy(), "q_high": t["q_high"].to_numpy()}))
    return rows, runs, default


def scored_rows(table, ids, run, N, C, c, fitted_alone, seconds, rank_seconds, **extra):
    """One ranking's rows for the problems ``ids`` whose truth is known (full counts N, C; subsample c),
    as the joint arms score them; ``run`` is (file, group, seed)."""
    f, name, seed = run
    t = table.set_index(table["problem"].astype(str)).loc[ids]
    rate = C / N
    return pd.DataFrame({
        "file": f, "group": name, "seed": seed, "c": c, "C": C, "N": N, "fitted_alone": fitted_alone, **extra,
        "p_hidden": t["p_hidden_obtainable"].to_numpy(), "truth_solve": solved_within(N, C, c, M, K),
        "p_band": t["p_in_band"].to_numpy(), "truth_band": (rate >= 1 / K) & (rate <= Q_HI),
        "q_low": t["q_low"].to_numpy(), "q_high": t["q_high"].to_numpy(),
        "seconds": seconds, "rank_seconds": rank_seconds})


def joint_hidden(items, seeds, covariates=False, own=None):
    """The joint model over all groups of a file (``rank --joint``): one fit per file and seed to every
    cell subsampled to M attempts, the ranked groups' cells with the very subsample their per-group runs
    drew; P(solved within K) of the never-solved problems against the same truth. Rows per problem.
    ``covariates``: the abilities regressed on the ladder's params and train_tokens (``--covariates``).
    ``own``: {(file, group, seed): (the group's own default ranking, its seconds)}: then also the pooled ranking
    (``rank --group-col``, difficulty.pooled.combine_rankings; the joint's alone where the group has no
    ranking of its own), returned as a second frame of rows."""
    from difficulty.io import group_covariates
    from difficulty.joint import fit_joint
    from difficulty.pooled import combine_rankings, joint_weight

    rows, pooled_rows, before_rows, mean_rows = [], [], [], []
    for f in FILES:
        path = str(DATA / f"pythia_checkpoints_{f}_counts.csv")
        full = load_counts(path, group_col="model_nickname")
        cov = group_covariates(path, "model_nickname", ["params", "train_tokens"]) if covariates else None
        ok = full.n >= M  # (select() keeps no group column; the joint fit needs it)
        full = EvalCounts(full.n[ok], full.c[ok], problem=full.problem[ok], group=full.group[ok])
        mine = [it for it in items if it[0] == f]
        key = {(g, p): i for i, (g, p) in enumerate(zip(full.group.astype(str), full.problem.astype(str)))}
        for seed in range(seeds):
            sub = subsample_counts(full, M, np.random.default_rng(10_000 + seed))
            c = sub.c.copy()
            task_sub = {}
            for _, name, task, scored in mine:  # the per-group run's own subsample of the group's problems
                ts = subsample_counts(task, M, task_rng(f, name, seed))
                for p, cc in zip(np.asarray(task.problem, dtype=str), ts.c):
                    c[key[(str(name), p)]] = cc
                task_sub[name] = (task, ts, scored)
            sub = EvalCounts(sub.n, c, problem=sub.problem, group=sub.group)
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = fit_joint(sub, covariates=cov, draws=100, seed=seed, check=False)  # rankings use no band
                secs = time.perf_counter() - t0
                for name, (task, ts, scored) in task_sub.items():
                    t1 = time.perf_counter()
                    rj = rank_problems(fit=fit, group=name, budget=K, question="hidden", level=0.9, draws=100)
                    rank_secs = time.perf_counter() - t1  # its p_in_band: q in [1/K, 0.2]
                    probs = np.asarray(task.problem, dtype=str)
                    N_, C_, c_ = task.n[scored], task.c[scored], ts.c[scored]

                    def frame(table, seconds, **extra):  # the problems whose truth is known
                        return scored_rows(table, probs[scored], (f, name, seed), N_, C_, c_,
                                           bool(ts.c.sum() > 0), secs, seconds, **extra)

                    rows.append(frame(rj.table, rank_secs))
                    if own is not None:
                        own_r, own_secs = own.get((f, name, seed), (None, 0.0))
                        t1 = time.perf_counter()
                        mask = rj.table["problem"].astype(str).isin(probs).to_numpy()  # the ranked problems
                        part = replace(rj, table=rj.table[mask])
                        tp = (combine_rankings(own_r.asking("hidden"), part) if own_r is not None else rj).table
                        share = rj.fit_info["shared_share"]
                        pooled_rows.append(frame(tp, rank_secs + own_secs + time.perf_counter() - t1,
                                                 pooled=own_r is not None, weight=joint_weight(share)))
                        before = 0.5 * share  # the pooling before: the joint's weight R / 2
                        te = (combine_rankings(own_r.asking("hidden"), part, before) if own_r is not None
                              else rj).table
                        before_rows.append(frame(te, rank_secs + own_secs, pooled=own_r is not None))
                        tm = averaged_as_probabilities(own_r.table, rj.table) if own_r is not None else rj.table
                        mean_rows.append(frame(tm, rank_secs + own_secs, pooled=own_r is not None))
    d = pd.concat(rows, ignore_index=True)
    if own is None:
        return d
    return d, *(pd.concat(r, ignore_index=True) for r in (pooled_rows, before_rows, mean_rows))


def ladders_real(seeds):
    """Files as a user with several models has them: for each file and training stage (train_tokens), the
    Pythia sizes' checkpoints at that stage as one file (groups sharing the 128 problems; stages with at
    least 5 groups of >= 20 problems at N >= M + K), every cell subsampled to M attempts, the joint model
    fitted to that file alone. Per group: its own ranking, the joint model's, and the pooled ranking
    (``rank --group-col``'s default) and the pooling before (the joint's weight R / 2); the frames of
    :func:`summarise_joint`."""
    from difficulty.joint import fit_joint
    from difficulty.pooled import combine_rankings, joint_weight

    arms = {"own": [], "joint": [], "pooled": [], "before (R / 2)": []}
    t0 = time.perf_counter()
    n_fits = 0
    for f in FILES:
        df = pd.read_csv(DATA / f"pythia_checkpoints_{f}_counts.csv")
        df = df[df.num_samples >= M]
        for _stage, sub in df.groupby("train_tokens", sort=False):
            deep = sub[sub.num_samples >= K + M].groupby("model_nickname").size()
            names = sorted(deep[deep >= 20].index)
            if len(names) < 5:
                continue
            sub = sub[sub.model_nickname.isin(names)]
            full = EvalCounts(sub.num_samples.to_numpy(np.int64), sub.num_correct.to_numpy(np.int64),
                              problem=sub.problem_idx.astype(str).to_numpy(), group=sub.model_nickname.to_numpy())
            for seed in range(seeds):
                s = subsample_counts(full, M, np.random.default_rng(20_000 + seed))
                if np.unique(s.group[s.c > 0]).size < 2:
                    continue  # fewer than two groups solved anything: nothing to pool (rank --group-col ranks alone)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t1 = time.perf_counter()
                    jf = fit_joint(s, seed=seed, check=False)
                    secs = time.perf_counter() - t1
                    n_fits += 1
                    for name in names:
                        m = s.group == name
                        gs = EvalCounts(s.n[m], s.c[m], problem=s.problem[m])
                        N_, C_, c_ = full.n[m], full.c[m], s.c[m]
                        scored = N_ >= K + M
                        t1 = time.perf_counter()
                        rj = rank_problems(fit=jf, group=name, budget=K, question="hidden")
                        tj = time.perf_counter() - t1
                        try:
                            t1 = time.perf_counter()
                            ro = rank_problems(gs, budget=K, question="hidden", seed=seed)
                            to = time.perf_counter() - t1
                        except DifficultyError:
                            ro, to = None, 0.0
                        share = rj.fit_info["shared_share"]
                        tables = {"joint": (rj.table, tj)}
                        if ro is not None:
                            tables |= {"own": (ro.table, to), "pooled": (combine_rankings(ro, rj).table, to + tj),
                                       "before (R / 2)": (combine_rankings(ro, rj, 0.5 * share).table, to + tj)}
                        else:  # rank --group-col gives the joint's alone
                            tables |= {"pooled": (rj.table, tj), "before (R / 2)": (rj.table, tj)}
                        ids = np.asarray(s.problem[m], dtype=str)[scored]
                        for arm, (table, rsecs) in tables.items():
                            arms[arm].append(scored_rows(table, ids, (f, name, seed), N_[scored], C_[scored],
                                                         c_[scored], ro is not None, secs, rsecs,
                                                         weight=joint_weight(share)))
    return {k: pd.concat(v, ignore_index=True) for k, v in arms.items()}, n_fits, time.perf_counter() - t0


JAILBREAK, BATCH, CAP = "bon_text_jailbreaking_counts.csv", 60, 10_020


def jailbreak_first_batch():
    """The best-of-N jailbreaking file as its first batches (module docstring): per arm, rows per prompt
    never solved in the first batch (group, P(solved within the rest), truth, the joint's weight, seconds
    per ranking); the joint fit's seconds; and per group (own ranking, joint ranking, prompt ids never
    solved, their truth) for :func:`lead_scan`."""
    from difficulty.joint import fit_joint
    from difficulty.pooled import combine_rankings, joint_weight

    path = DATA / JAILBREAK
    if not path.exists():
        sys.exit(f"real data not found at {path}")
    df = pd.read_csv(path)
    first = np.where(df.num_samples == BATCH, df.num_successes, 0)  # sampling stopped after the first batch
    counts = EvalCounts(np.full(len(df), BATCH), first, problem=df.prompt_idx.astype(str).to_numpy(),
                        group=df.model.astype(str).to_numpy())
    budget = CAP - BATCH
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        jf = fit_joint(counts, seed=0, check=False)
        fit_secs = time.perf_counter() - t0
        arms = {"own": [], "joint": [], "pooled": [], "before (R / 2)": [], "as probabilities": []}
        parts = []
        for name, g in counts.groups().items():
            mine = (df.model.astype(str) == name).to_numpy()
            ids = np.asarray(g.problem_ids, dtype=str)
            never = g.c == 0
            truth = (df.num_successes.to_numpy()[mine] > 0)[never]  # a later batch held a success
            t0 = time.perf_counter()
            rj = rank_problems(fit=jf, group=name, budget=budget, question="hidden")
            tj = time.perf_counter() - t0
            t0 = time.perf_counter()
            ro = rank_problems(g, budget=budget, question="hidden", seed=0)
            to = time.perf_counter() - t0
            share = rj.fit_info["shared_share"]
            t0 = time.perf_counter()
            tp = combine_rankings(ro, rj).table
            tc = time.perf_counter() - t0
            tables = {"own": (ro.table, to), "joint": (rj.table, tj), "pooled": (tp, to + tj + tc),
                      "before (R / 2)": (combine_rankings(ro, rj, 0.5 * share).table, to + tj + tc),
                      "as probabilities": (averaged_as_probabilities(ro.table, rj.table), to + tj + tc)}
            for arm, (table, secs) in tables.items():
                arms[arm].append(_never_rows(table, name, ids[never], truth, joint_weight(share), secs))
            parts.append((name, ro, rj, ids[never], truth))
    return {k: pd.concat(v, ignore_index=True) for k, v in arms.items()}, fit_secs, parts


def _never_rows(table, name, ids, truth, weight, secs):
    t = table.set_index(table["problem"].astype(str)).loc[ids]
    return pd.DataFrame({"file": "jailbreak", "group": name, "seed": 0, "c": 0,
                         "p_hidden": t["p_hidden_obtainable"].to_numpy(), "truth_solve": truth.astype(float),
                         "weight": weight, "rank_seconds": secs})


def lead_scan(parts, leads=(0.5, 0.6, 0.7, 0.8, 0.9, 1.0)):
    """The pooled ranking with the joint's weight at other factors of the share R (JOINT_LEAD is 0.8): per
    factor the never-solved ECE and the models over 0.12, from the same two rankings per group."""
    from difficulty.pooled import combine_rankings

    rows = []
    for lead in leads:
        frames = []
        for name, ro, rj, ids, truth in parts:
            w = lead * rj.fit_info["shared_share"]
            frames.append(_never_rows(combine_rankings(ro, rj, w).table, name, ids, truth, w, 0.0))
        z = pd.concat(frames, ignore_index=True)
        per = [ece(x.p_hidden, x.truth_solve) for _, x in z.groupby("group")]
        rows.append({"factor": lead, "hidden ECE pooled": ece(z.p_hidden, z.truth_solve),
                     "models over 0.12": f"{sum(v > 0.12 for v in per)}/{len(per)}",
                     "mean predicted": z.p_hidden.mean()})
    return pd.DataFrame(rows).set_index("factor").T


def summarise_jailbreak(arms):
    out = {}
    for arm, z in arms.items():
        per_model = {g: ece(x.p_hidden, x.truth_solve) for g, x in z.groupby("group")}
        worst = max(per_model, key=per_model.get)
        out[arm] = {
            "never-solved prompts": len(z),
            "hidden ECE pooled": ece(z.p_hidden, z.truth_solve),
            "hidden ECE worst model": per_model[worst], "worst model": worst,
            "models over 0.12": f"{sum(v > 0.12 for v in per_model.values())}/{len(per_model)}",
            **_chance_rows(z.assign(file="jailbreak"), len(per_model)),
            "never-solved: mean predicted": z.p_hidden.mean(), "never-solved: observed": z.truth_solve.mean(),
            "AUC within a model (mean, both outcomes)": float(np.nanmean([auc(x.p_hidden, x.truth_solve)
                                                           for _, x in z.groupby("group")])),
            "seconds per ranking (fit apart)": z.drop_duplicates("group").rank_seconds.mean(),
        }
    return pd.DataFrame(out)


def summarise_joint(d):
    out = {}
    for label, sel in (("every run", d), ("runs a per-group ranking fits (a success in the subsample)",
                                          d[d.fitted_alone])):
        z = sel[sel.c == 0]
        per_model = {g: ece(x.p_hidden, x.truth_solve) for g, x in z.groupby(["file", "group"])}
        worst = max(per_model, key=per_model.get)
        jeffreys = stats.beta(sel.C + 0.5, sel.N - sel.C + 0.5)
        jeff = np.clip(jeffreys.cdf(sel.q_high) - jeffreys.cdf(sel.q_low), 0, 1)
        prec_a = _precision_at(sel, lambda r: (r.c > 0) & (r.c < Q_HI * M))
        prec_b = _precision_at(sel, lambda r: r.c == 0)
        out[label] = {
            "runs": sel.groupby(["file", "group", "seed"]).ngroups,
            "hidden ECE pooled": ece(z.p_hidden, z.truth_solve),
            **{f"hidden ECE {f}": ece(z[z.file == f].p_hidden, z[z.file == f].truth_solve) for f in FILES},
            "hidden ECE worst model": per_model[worst], "worst model": f"{worst[0]}:{worst[1]}",
            "models over 0.12": f"{sum(v > 0.12 for v in per_model.values())}/{len(per_model)}",
            **_chance_rows(z, len(per_model)),
            "never-solved: mean predicted": z.p_hidden.mean(), "never-solved: observed": z.truth_solve.mean(),
            "90% coverage of q (Jeffreys mass)": float(np.mean(jeff)),
            "learnable top-n precision (n = raw 0<c/N<0.2)": prec_a[0], "raw 0<c/N<0.2": prec_a[1],
            "learnable top-n precision (n = raw c=0)": prec_b[0], "raw c=0": prec_b[1],
            "learnable ECE": ece(sel.p_band, sel.truth_band),
            "seconds per ranking (fit apart)": sel.drop_duplicates(["file", "group", "seed"]).rank_seconds.mean(),
        }
    return pd.DataFrame(out)


def chance_ece(z, sims=200, seed=0):
    """What the ECE of a perfectly calibrated ranking would be on the same problems: outcomes drawn as
    Bernoulli(prediction), ``sims`` times. Returns (pooled ECE, mean per model, expected number of
    models over 0.12, share of draws with no model over 0.12): the sampling noise of the figures above,
    from the number of never-solved problems each model has."""
    rng = np.random.default_rng(seed)
    groups = [x.p_hidden.to_numpy(float) for _, x in z.groupby(["file", "group"])]
    groups = [p[np.isfinite(p)] for p in groups]
    pooled, per, over, none = [], [], [], []
    for _ in range(sims):
        draws = [rng.random(p.size) < p for p in groups]
        e = np.array([ece(p, t) for p, t in zip(groups, draws)])
        pooled.append(ece(np.concatenate(groups), np.concatenate(draws)))
        per.append(np.nanmean(e))
        over.append(np.sum(e > 0.12))
        none.append(not np.any(e > 0.12))
    return float(np.mean(pooled)), float(np.mean(per)), float(np.mean(over)), float(np.mean(none))


def _chance_rows(z, n_models):
    pooled, per, over, none = chance_ece(z)
    return {"if calibrated: hidden ECE pooled": pooled, "if calibrated: mean ECE per model": per,
            "if calibrated: models over 0.12": f"{over:.1f}/{n_models}",
            "if calibrated: P(no model over 0.12)": none}


def _precision_at(df, filt):
    """Pooled over runs: the precision of the top n by P(q in band), n = the size of the raw filter in that
    run, and the raw filter's own precision."""
    hits_ours = hits_raw = total = 0
    for _, run in df.groupby(["file", "group", "seed"]):
        mask = filt(run).to_numpy()
        n = int(mask.sum())
        if n == 0:
            continue
        good = run["truth_band"].to_numpy()
        order = np.argsort(-np.nan_to_num(run["p_band"].to_numpy(), nan=-1.0), kind="stable")[:n]
        hits_ours += int(good[order].sum())
        hits_raw += int(good[mask].sum())
        total += n
    return hits_ours / max(total, 1), hits_raw / max(total, 1)


def summarise(df, runs):
    out = []
    for label, d in df.groupby("model", sort=False):
        z = d[d.c == 0]
        per_model = {g: ece(x.p_hidden, x.truth_solve) for g, x in z.groupby(["file", "group"])}
        worst = max(per_model, key=per_model.get)
        prec_a = _precision_at(d, lambda r: (r.c > 0) & (r.c < Q_HI * M))
        prec_b = _precision_at(d, lambda r: r.c == 0)
        jeffreys = stats.beta(d.C + 0.5, d.N - d.C + 0.5)
        jeff = pd.Series(np.clip(jeffreys.cdf(d.q_high) - jeffreys.cdf(d.q_low), 0, 1), index=d.index)
        pos = d[d.C > 0]
        rate_in = (pos.q_low <= pos.C / pos.N) & (pos.C / pos.N <= pos.q_high)
        cover_models = jeff.groupby([d.file, d.group]).mean()
        r = runs[(runs.model == label) & runs.fitted]
        out.append({
            "model": label,
            "hidden ECE pooled": ece(z.p_hidden, z.truth_solve),
            **{f"hidden ECE {f}": ece(z[z.file == f].p_hidden, z[z.file == f].truth_solve) for f in FILES},
            "hidden ECE worst model": per_model[worst], "worst model": f"{worst[0]}:{worst[1]}",
            "models over 0.12": f"{sum(v > 0.12 for v in per_model.values())}/{len(per_model)}",
            **_chance_rows(z, len(per_model)),
            "never-solved: mean predicted": z.p_hidden.mean(), "never-solved: observed": z.truth_solve.mean(),
            "learnable top-n precision (n = raw 0<c/N<0.2)": prec_a[0], "raw 0<c/N<0.2": prec_a[1],
            "learnable top-n precision (n = raw c=0)": prec_b[0], "raw c=0": prec_b[1],
            "learnable ECE": ece(d.p_band, d.truth_band),
            "band probabilities not evaluated": f"{int(d.p_band.isna().sum())}/{len(d)}",
            "90% coverage of q (Jeffreys mass)": float(jeff.mean()),
            "90% coverage, C>0 (C/N inside)": float(rate_in.mean()),
            "coverage range over models": f"{cover_models.min():.2f}-{cover_models.max():.2f}",
            "seconds per ranking": r.seconds.mean(), "seconds total": r.seconds.sum(),
        })
    return pd.DataFrame(out).set_index("model").T


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--models", default=DEFAULT_MODEL, help="population models ranked from their posterior")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--limit", type=int, default=None, help="only the first N models of each file (a quick look)")
    ap.add_argument("--no-joint", action="store_true", help="leave out the joint model (rank --joint)")
    ap.add_argument("--no-ladders", action="store_true", help="leave out the files of one training stage")
    ap.add_argument("--no-jailbreak", action="store_true", help="leave out the best-of-N jailbreaking file")
    ap.add_argument("--only", choices=("stages", "jailbreak"), default=None,
                    help="only the files of one training stage, or only the best-of-N jailbreaking file")
    args = ap.parse_args()
    if args.only == "stages":
        return stages_section(args.seeds)
    if args.only == "jailbreak":
        return jailbreak_section()
    models = [(m, "posterior") for m in args.models.split(",") if m] + [BASELINE]
    items = tasks()
    if args.limit:
        items = [it for f in FILES for it in [x for x in items if x[0] == f][: args.limit]]
    work = [(item, seed, models) for item in items for seed in range(args.seeds)]
    t0 = time.perf_counter()
    frames, runs, own = [], [], {}
    if args.jobs > 1:
        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:  # runs are independent
            done = pool.starmap(one_run, work)
    else:
        done = [one_run(*w) for w in work]
    for (item, seed, _), (rows, rr, default) in zip(work, done):
        frames += rows
        runs += rr
        if default is not None:
            secs = next(x["seconds"] for x in rr if x["model"] == f"{DEFAULT_MODEL} (posterior)" and x["fitted"])
            own[(item[0], item[1], seed)] = (default, secs)
    df, runs = pd.concat(frames, ignore_index=True), pd.DataFrame(runs)
    unfit = runs[~runs.fitted].drop_duplicates(["file", "group", "seed"])
    ranked = df.drop_duplicates(["file", "group"])
    print(f"ranking on real data: {len(items)} (file, model) groups of Pythia checkpoints ({', '.join(FILES)}) with "
          f">= 20 problems at N >= {M} + {K:,}; {args.seeds} seeds of {M} attempts each, K = {K:,}; "
          f"{len(work) - len(unfit)} "
          f"runs ranked ({len(ranked)} groups), {len(unfit)} skipped (no success in the subsample); "
          f"{time.perf_counter() - t0:.0f} s on {args.jobs} workers")
    pd.set_option("display.width", 200)
    print(summarise(df, runs).to_string(float_format=lambda v: f"{v:.3f}"))
    for label in [f"{m} ({h})" for m, h in models]:
        z = df[(df.model == label) & (df.c == 0)]
        print(f"\nreliability, P(solved within {K:,}) for never-solved problems: {label}")
        print(reliability(z.p_hidden, z.truth_solve).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    pooled = None
    for cov, how in ([] if args.no_joint else [(False, "rank --joint"),
                                                (True, "rank --joint --covariates params,train_tokens")]):
        t0 = time.perf_counter()
        d = joint_hidden(items, args.seeds, cov, own=None if cov or DEFAULT_MODEL not in args.models.split(",")
                         else own)
        if isinstance(d, tuple):
            d, pooled, before_pool, averaged_pool = d
        fits = d.drop_duplicates(["file", "seed"]).seconds
        _print_arm(f"\njoint model ({how}): one fit per file and seed ({len(fits)} fits, {fits.mean():.1f} s "
                   f"each; {time.perf_counter() - t0:.0f} s in all), the same subsamples of the ranked problems",
                   d, how)
        if not cov and pooled is not None:
            w = pooled[pooled.pooled].drop_duplicates(["file", "group", "seed"]).weight
            _print_arm(f"\npooled (rank --group-col, the default where groups share problems): each group's own "
                       f"{DEFAULT_MODEL} ranking and the joint model's above, their rates of success averaged "
                       f"(q and its interval, P(solved within K)), P(q in the band) their mean, the joint's weight "
                       f"{JOINT_LEAD:g} times the share of the group's spread its shared part explains (here "
                       f"{w.min():.3f}-{w.max():.3f}, median {w.median():.3f}); the joint's alone for a run whose "
                       f"subsample solved nothing "
                       f"({int((~pooled.drop_duplicates(['file', 'group', 'seed']).pooled).sum())} runs)",
                       pooled, "pooled")
            _print_arm("\nbaseline, the pooling before: the same, the joint's weight half the share (R / 2; the "
                       "same rankings)", before_pool, "pooled as before")
            _print_arm("\nbaseline: every probability and interval end the plain mean of the two (the same "
                       "rankings)", averaged_pool, "pooled as probabilities")
    if not args.no_ladders:
        stages_section(args.seeds)
    if not args.no_jailbreak:
        jailbreak_section()


def stages_section(seeds):
    arms, n_fits, secs = ladders_real(seeds)
    print(f"\nfiles of one training stage (the Pythia sizes at one train_tokens as one file, the joint model "
          f"fitted to it alone; {n_fits} fits, {secs:.0f} s in all), {seeds} seeds:")
    for arm, d in arms.items():
        _print_arm(f"\none training stage: {arm}" + (" (rank --group-col's default)" if arm == "pooled" else ""),
                   d, f"one training stage, {arm}")
    print("\nper file of one training stage, never-solved problems on the runs a per-group ranking fits (both seeds "
          "pooled per model; MATH at 300B tokens is the final checkpoints of seven sizes)")
    print(per_stage(arms).to_string(float_format=lambda v: f"{v:.3f}"))


def per_stage(arms, shown=("pooled", "joint", "own")):
    """Per arm and file of one training stage: the models, how many are over 0.12, the ECE pooled over them,
    the mean prediction and the observed share, and the worst model."""
    rows = []
    for arm in shown:
        d = arms[arm]
        d = d[(d.c == 0) & d.fitted_alone]
        stage = d.group.astype(str).str.rsplit("_", n=1).str[-1]  # Pythia_<size>_<train tokens>
        for (f, st), z in d.groupby([d.file, stage], sort=False):
            per = {g: ece(x.p_hidden, x.truth_solve) for g, x in z.groupby("group")}
            worst = max(per, key=per.get)
            rows.append({"arm": arm, "file": f, "stage": st, "models": len(per),
                         "over 0.12": sum(v > 0.12 for v in per.values()), "ECE": ece(z.p_hidden, z.truth_solve),
                         "mean predicted": z.p_hidden.mean(), "observed": z.truth_solve.mean(),
                         "worst": f"{worst} {per[worst]:.3f} ({len(z[z.group == worst])})"})
    return pd.DataFrame(rows).set_index(["arm", "file", "stage"])


def jailbreak_section():
    t0 = time.perf_counter()
    arms, fit_secs, parts = jailbreak_first_batch()
    w = arms["pooled"].drop_duplicates("group").weight
    print(f"\nbest-of-N jailbreaking ({JAILBREAK}): each model's first batch of {BATCH} attempts per prompt as the "
          f"data, P(solved within the next {CAP - BATCH:,}) of the prompts no attempt of it solved, against the "
          f"file's later batches; the joint fit {fit_secs:.1f} s, the pooled ranking's joint weight "
          f"{w.min():.3f}-{w.max():.3f}; {time.perf_counter() - t0:.0f} s in all")
    print(summarise_jailbreak(arms).to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"\nthe pooled ranking with the joint's weight at other factors of R (the factor is {JOINT_LEAD:g}):")
    print(lead_scan(parts).to_string(float_format=lambda v: f"{v:.3f}"))
    z = arms["pooled"]
    print(f"\nreliability, P(solved within {CAP - BATCH:,}) for prompts never solved in the first batch: pooled")
    print(reliability(z.p_hidden, z.truth_solve).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


def _print_arm(title, d, how):
    print(title)
    print(summarise_joint(d).to_string(float_format=lambda v: f"{v:.3f}"))
    z = d[(d.c == 0) & d.fitted_alone]
    print(f"\nreliability, P(solved within {K:,}) for never-solved problems: {how}, runs a per-group ranking fits")
    print(reliability(z.p_hidden, z.truth_solve).to_string(index=False, float_format=lambda v: f"{v:.3f}"))

if __name__ == "__main__":
    main()
