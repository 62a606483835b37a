"""Forecasts of groups that share problems (several models on one benchmark): each group's own
forecast and the joint model's (:mod:`difficulty.joint`), combined.

The two err in different ways. A group's own forecast (the default: Kumaraswamy posterior, band
widened by its extrapolation check) sees only that group's counts, so the shape of its difficulty
distribution below 1/N is a guess; the joint model reads it from the groups that solved those problems,
but forces one ability per group along one difficulty per problem. Combined, each quantile of the
pooled forecast is the mean of the two forecasts' quantiles at that level (quantile averaging,
"Vincentization": Ratcliff 1979; Lichtendahl, Grushka-Cockayne & Winkler 2013): the point is the mean
of the two medians, each band end the mean of the two ends. Equal weights: nothing is learnt from the
data to weigh them (a self-check inside the data rewards in-data interpolation, not the extrapolation
asked for). Both bands are each model's checked band, so the pooled band holds at least the mean of
the two extrapolation errors, which bounds the pooled forecast's (|(e1 + e2)/2| <= (|e1| + |e2|)/2).

benchmarks/bench_forecast_backtest.py measures it against each part and the log-log law.

Pooling is used when the groups share problems: at least POOL_MIN_GROUPS groups, at least
POOL_MIN_SHARED of the rows on problems that two or more groups attempted, and two groups with a
success. A group whose own forecast cannot be made (it solved nothing) gets the joint model's alone.

Rankings (:func:`rank_groups`, ``difficulty rank --group-col``) are pooled per problem
(:func:`combine_rankings`), on the scale of the per-attempt rate r = -log(1 - q), on which K attempts
compound (P(unsolved after K) = exp(-K r)): each end of a problem's interval for q is the mean of the
two parts' ends in r (the interval of the two posteriors' quantiles averaged in r, as the pooled
forecast averages quantiles of pass@k), and so is its mean; its probability of being solved within K
is 1 - S with log S the mean of the two parts' log P(unsolved after K), i.e. their effective rates
averaged (the geometric mean of the chances of staying unsolved). Averaged as probabilities instead,
a part that calls a problem sure to stay unsolved caps the pool at half the other's chance; averaged as
rates, a part that finds a fast rate keeps more of it (parts at 0 and 0.9: 0.45 as probabilities, 0.68
as rates).
P(q in the band) and P(never solvable), probabilities of a set of q, are the weighted means (the
mixture's). The list is ranked again on the pooled probabilities. The joint model's weight is
JOINT_LEAD x R = 0.8 R, R the share of the group's problem-to-problem spread its shared part (one
difficulty per problem, one ability per group) explains (R = V / (V + s^2), V the spread of the
structured logit q over the group's problems and s the residual sd; JointFit.shared_share). Where the
shared part explains the spread the joint model leads, since it reads a never-solved problem from the
groups that solved it, and a fifth stays with the group's own ranking, whose errors are not the joint's
(a combination of two forecasts beats the better one alone when their errors differ); where each group's
rates are its own the joint model knows little of a problem beyond the group's own counts, and the
group's own ranking leads (on generated independent groups R is 0.34-0.64; on the Pythia files
0.95-1.0, so the weight is 0.76-0.80 there). For problems solved with small probability the two scales
agree; summed over problems, the pooled P(solved within K) is at least the mean of the two parts' sums, so
it can exceed the pooled forecast of pass@K (a mean of the parts' forecasts) by the parts' disagreement.

benchmarks/bench_ranking_real.py measures the calibration against each part, each group's own ranking
fitted to all its problems: on the Pythia files (both, two subsamples, the joint model fitted to each
whole file) the never-solved problems' P(solved within 10,000) has ECE 0.017 over every run and 0.029
where the group's own ranking could be fitted (its own alone 0.113, the joint's alone 0.051; with the
weight R / 2 0.073), and 90% intervals for q cover 0.855 there (own 0.866, joint 0.797). On files of one
training stage (the sizes at one train_tokens, the joint model fitted to that file alone): 0.022 (the
joint's alone 0.052, own 0.111, R / 2 0.083), 8 of 43 models over 0.12 (11, 28, 19), intervals 0.945.
JOINT_LEAD was read off these two kinds of file: on both, weights 0.7-0.9 on the joint did about equally
well and better than 0.5 or 1 (the joint's alone covers q in 0.80 of the whole files' problems). On a
file of another kind, not used to choose it (best-of-N jailbreaking, 7 models x 159 prompts: the first batch
of 60 attempts as the data, whether a later batch held a success as the truth), the never-solved ECE is
0.052 (the joint's alone 0.094, each group's own 0.157, R / 2 0.062), and a JOINT_LEAD of 0.7-0.8 again
does best (0.050-0.052; 0.5: 0.062, 1: 0.086).
On generated ladders (benchmarks/bench_ranking.py: 6 groups x 150 problems, four truths of q, four seeds
each) the weight is 0.27-0.51 where the groups are independent, where each group's own ranking alone is
the better guide; over the four truths the never-solved ECE is 0.101 (the weight R / 2: 0.106; each
group's own alone 0.082, the joint's alone 0.119).
"""
from __future__ import annotations

import warnings

import numpy as np

from .counts import EvalCounts
from .errors import DifficultyError
from .forecast import Forecast

__all__ = ["pooling_blocked", "combine", "forecast_groups", "combine_rankings", "rank_groups", "pool_rates",
           "joint_weight", "POOL_MIN_GROUPS", "POOL_MIN_SHARED", "JOINT_LEAD"]

# the pooled ranking's weight on the joint model per unit of the share R of the group's spread its shared
# part explains (module docstring); the rest, at least 1 - JOINT_LEAD, stays with the group's own ranking
JOINT_LEAD = 0.8

# the per-problem columns of a ranking that are pooled: on the scale of the per-attempt rate, those of q
# (through log(1 - q)) and the probabilities of solving within K (through log P(unsolved after K)); as a
# weighted mean, the probabilities of a set of q
RATE_COLUMNS = ("q_mean", "q_low", "q_high")
SOLVE_COLUMNS = ("p_hidden_obtainable", "p_solve_within_budget", "p_solve_within_budget_low",
                 "p_solve_within_budget_high")
MEAN_COLUMNS = ("p_in_band", "p_never")
RANK_COLUMNS = RATE_COLUMNS + SOLVE_COLUMNS + MEAN_COLUMNS

POOL_MIN_GROUPS = 3
POOL_MIN_SHARED = 0.5


def pooling_blocked(counts: EvalCounts) -> str | None:
    """Why the groups of ``counts`` cannot be pooled, or None when they can."""
    if counts.group is None:
        return "the data have no groups (--group-col)"
    if counts.problem is None:
        return "the data have no problem ids (--problem-col) for the groups to share"
    grp = counts.group.astype(str)
    names = list(dict.fromkeys(grp.tolist()))
    if len(names) < POOL_MIN_GROUPS:
        return f"{len(names)} group(s); pooling needs at least {POOL_MIN_GROUPS}"
    prob = counts.problem.astype(str)
    _, inv, per = np.unique(prob, return_inverse=True, return_counts=True)
    shared = float(np.mean(per[inv] >= 2))
    if shared < POOL_MIN_SHARED:
        return (f"only {shared:.0%} of the rows are on problems that two or more groups attempted "
                f"(pooling needs {POOL_MIN_SHARED:.0%})")
    solved = np.unique(grp[counts.c > 0]).size
    if solved < 2:
        return f"{solved} group(s) solved a problem; pooling needs two"
    return None


def combine(own: Forecast, joint: Forecast, weight: float = 0.5) -> Forecast:
    """The pooled forecast of one group: each of the point, the band's low and high ends the weighted
    mean of ``own``'s (the group's own forecast) and ``joint``'s (weight on the joint's). Both at one level,
    target and k."""
    if own.level != joint.level or own.target != joint.target or not np.array_equal(own.k, joint.k):
        raise DifficultyError("pooled forecasts combine two forecasts at the same k, level and target")
    if not 0.0 <= weight <= 1.0:
        raise DifficultyError(f"the joint model's weight must be in [0, 1], got {weight}")
    mix = lambda a, b: (1.0 - weight) * np.asarray(a, float) + weight * np.asarray(b, float)  # noqa: E731
    parts = {"own": own.to_dict(), "joint": joint.to_dict()}
    return Forecast(own.k.copy(), mix(own.pass_at_k, joint.pass_at_k), mix(own.low, joint.low),
                    mix(own.high, joint.high), own.level, f"{own.model} + joint", "pooled", own.target,
                    weights={f"{own.model} (this group)": 1.0 - weight, "joint": weight},
                    fit={"own": own.fit, "joint": joint.fit}, selfcheck={"parts": parts},
                    warnings=list(dict.fromkeys((own.warnings or []) + (joint.warnings or []))) or None)


def forecast_groups(counts: EvalCounts, k, level: float = 0.9, seed=0, pool: bool | None = None,
                    draws: int = 400, sampler: str = "auto", check: bool | None = None, joint=None,
                    **parallel) -> dict[str, Forecast]:
    """The default forecast of every group of ``counts``: {group: Forecast}. ``pool`` None: pooled with the
    joint model when the groups share problems (:func:`pooling_blocked`), each group's own forecast
    otherwise; True: pooled, or an error saying why not; False: each group's own. ``joint``: a JointFit
    of these counts to use (fitted here otherwise). ``parallel``: map_groups' options (jobs, backend,
    scheduler) for the groups' own forecasts."""
    from .forecast import _check_k, forecast_pass_at_k
    from .parallel import map_groups

    k = _check_k(k)
    pool = _pooling(counts, pool)
    parts = counts.groups()

    def own(sub):
        try:
            return forecast_pass_at_k(sub, k, level=level, draws=draws, seed=seed, sampler=sampler, check=check)
        except DifficultyError as e:
            if not pool:
                raise
            return e  # a group without a fit of its own: the joint model's forecast alone

    def fit(data):
        from .joint import fit_joint

        try:
            return fit_joint(data, level=level, seed=seed, check=check is not False)
        except DifficultyError as e:
            return e

    # the joint fit (the longest job) first, beside the groups' own forecasts
    jobs = ([] if joint is not None or not pool else [(fit, counts)]) + [(own, sub) for sub in parts.values()]
    done = map_groups(_call, jobs, **parallel)
    if joint is None and pool:
        joint, done = done[0], done[1:]
    mine = dict(zip(parts, done))
    if not pool:
        return mine
    if isinstance(joint, DifficultyError):
        bad = next((str(v) for v in mine.values() if isinstance(v, DifficultyError)), None)
        if bad is not None:
            raise DifficultyError(f"{bad}; and the joint model could not be fitted: {joint}")
        warnings.warn(f"the joint model could not be fitted ({joint}): each group's own forecast alone",
                      RuntimeWarning, stacklevel=2)
        return mine
    fj_all = dict(zip(parts, map_groups(joint.forecast, [(name, k, level, None, seed) for name in parts], **parallel)))
    out = {}
    for name, fc in mine.items():
        fj = fj_all[name]
        if isinstance(fc, DifficultyError):
            note = f"this group's own forecast could not be made ({fc}): the joint model's alone"
            out[name] = Forecast(fj.k, fj.pass_at_k, fj.low, fj.high, fj.level, fj.model, fj.method, fj.target,
                                 fit=fj.fit, selfcheck=fj.selfcheck, warnings=[*(fj.warnings or []), note])
        else:
            out[name] = combine(fc, fj)
    return out


def pool_rates(a, b, weight: float = 0.5):
    """The weighted mean of two probabilities (or rates q) on the scale of the per-attempt rate: 1 - (1 - a)^(1 - w)
    (1 - b)^w, computed as -expm1((1 - w) log1p(-a) + w log1p(-b)) (exact for tiny values; 1 where either is 1
    and its weight is not 0; NaN where either is NaN)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if weight == 0.0 or weight == 1.0:  # 0 * log(0) would be NaN: the part with all the weight
        return np.where(np.isnan(b), np.nan, a) if weight == 0.0 else np.where(np.isnan(a), np.nan, b)
    with np.errstate(divide="ignore"):
        return -np.expm1((1.0 - weight) * np.log1p(-a) + weight * np.log1p(-b))


def joint_weight(share: float) -> float:
    """The pooled ranking's weight on the joint model, JOINT_LEAD x R, from the share R of the group's
    problem-to-problem spread the joint model's shared part explains (module docstring)."""
    share = float(share)
    if not 0.0 <= share <= 1.0:
        raise DifficultyError(f"the share the joint model explains must be in [0, 1], got {share}")
    return JOINT_LEAD * share


def combine_rankings(own, joint, weight: float | None = None):
    """The pooled ranking of one group from ``own`` (the group's own ranking) and ``joint`` (a ranking from
    the joint model, weight on it): per problem, q's mean and interval ends and the probabilities of solving
    within K pooled on the scale of the per-attempt rate (:func:`pool_rates`; module docstring), P(q in the
    band) and P(never solvable) as weighted means; ranked again on the pooled probability. Both ask the same
    question with the same budget, band and level, of the same problems (matched by problem id) with the
    same counts. ``weight`` None: JOINT_LEAD (0.8) times the share R of the group's spread the joint
    model's shared part explains (:func:`joint_weight`; R from :meth:`difficulty.joint.JointFit.shared_share`,
    recorded in the joint ranking's ``fit_info``; module docstring)."""
    from .ranking import _ranked

    same = (own.question == joint.question and own.budget == joint.budget and own.level == joint.level
            and own.q_band == joint.q_band and own.band == joint.band and own.confidence == joint.confidence
            and own.top == joint.top)
    if not same:
        raise DifficultyError("pooled rankings combine two rankings of one question at the same budget, band, "
                              "level, confidence and top")
    a, b = own.table, joint.table
    pa, pb = a["problem"].astype(str).to_numpy(), b["problem"].astype(str).to_numpy()
    where = {p: i for i, p in enumerate(pb)}
    if len(where) != len(pb) or len(pa) != len(pb) or any(p not in where for p in pa):
        missing = next((p for p in pa if p not in where), None)
        raise DifficultyError("pooled rankings need the same problems in both: " + (
            f"problem {missing!r} is not in the joint model's ranking" if missing is not None else
            f"{len(pa)} problems here, {len(pb)} ({len(where)} distinct) in the joint model's"))
    idx = np.array([where[p] for p in pa], dtype=np.int64)
    for col in ("n", "c"):
        bad = np.flatnonzero(a[col].to_numpy() != b[col].to_numpy()[idx])
        if bad.size:
            raise DifficultyError(f"pooled rankings need the same counts: problem {pa[bad[0]]!r} has {col} = "
                                  f"{a[col].iloc[bad[0]]} here and {b[col].iloc[idx[bad[0]]]} in the joint model's")
    if weight is None:
        share = joint.fit_info.get("shared_share")
        if share is None:
            raise DifficultyError("the joint ranking does not say how much its shared part explains "
                                  "(fit_info['shared_share']): give the joint model's weight")
        weight = joint_weight(share)
    if not 0.0 <= weight <= 1.0:
        raise DifficultyError(f"the joint model's weight must be in [0, 1], got {weight}")
    table = a[["problem", "n", "c"]].copy()
    for col in RANK_COLUMNS:
        if col in a.columns and col in b.columns:
            x, y = a[col].to_numpy(float), b[col].to_numpy(float)[idx]
            table[col] = pool_rates(x, y, weight) if col not in MEAN_COLUMNS else (1.0 - weight) * x + weight * y
    info = {"own": own.fit_info, "joint": joint.fit_info, "weights": {"own": 1.0 - weight, "joint": weight}}
    notes = "; ".join(f"{who}: {n}" for who, n in (("own", own.fit_note), ("joint", joint.fit_note)) if n)
    posterior = (f"pooled: this group's {own.model} ranking ({own.posterior}, weight {1 - weight:.2f}) and the "
                 f"joint model's ({joint.posterior}, weight {weight:.2f}), their rates of success averaged")
    return _ranked(table, own.question, own.budget, own.band, own.q_band, own.confidence, own.level, own.top,
                   f"{own.model} + joint", posterior, notes, info)


def rank_groups(counts: EvalCounts, budget: float = 1000, pool: bool | None = None, joint=None, seed=0,
                level: float = 0.9, model: str | None = None, hyper: str = "full", covariates=None,
                progress=None, parallel: dict | None = None, **options) -> dict:
    """Every group's ranking (:func:`difficulty.ranking.rank_problems`), {group: RankedProblems}. ``pool``
    None: pooled with the joint model's (:func:`combine_rankings`) when the groups share problems
    (:func:`pooling_blocked`), each group's own otherwise; True: pooled, or an error saying why not; False:
    each group's own. A group whose own ranking cannot be made (it solved nothing) gets the joint model's
    alone, and says so. ``joint``: a JointFit of these counts (fitted here otherwise, with ``covariates``).
    ``model``/``hyper``: the groups' own population model and posterior. ``options``: the question, band,
    q_band, confidence, top, draws of rank_problems; ``parallel``: map_groups' options for the groups'
    own rankings (``progress`` is passed to them when they run one after another)."""
    from .parallel import map_groups
    from .ranking import DEFAULT_MODEL, rank_problems

    pool = _pooling(counts, pool)
    parts = counts.groups()
    parallel = dict(parallel or {"jobs": 1})
    serial = parallel.get("jobs") == 1 or parallel.get("backend") == "sequential"
    common = dict(budget=budget, seed=seed, level=level, **options)

    def own(sub):
        try:
            return rank_problems(sub, model=model or DEFAULT_MODEL, hyper=hyper,
                                 progress=progress if serial else None, **common)
        except DifficultyError as e:
            if not pool:
                raise
            return e  # a group without a fit of its own: the joint model's ranking alone

    def fit(data):
        from .joint import fit_joint

        return fit_joint(data, covariates=covariates, level=level, seed=seed, check=False)  # rankings use no band

    # the joint fit (the longest job) first, beside the groups' own rankings
    jobs = ([] if joint is not None or not pool else [(fit, counts)]) + [(own, sub) for sub in parts.values()]
    done = map_groups(_call, jobs, **parallel)
    if joint is None and pool:
        joint, done = done[0], done[1:]
    mine = dict(zip(parts, done))
    if not pool:
        return mine

    def from_joint(name):
        return rank_problems(fit=joint, group=name, **common)

    out = {}
    for (name, r), rj in zip(mine.items(), map_groups(from_joint, [(name,) for name in parts], **parallel)):
        if isinstance(r, DifficultyError):
            note = f"this group's own ranking could not be made ({r}): the joint model's alone"
            rj.note = f"{note}; {rj.note}" if rj.note else note  # the reason first, then what the ranking says
            rj.fit_note = f"{note}; {rj.fit_note}" if rj.fit_note else note
            out[name] = rj
        else:
            out[name] = combine_rankings(r, rj)
    return out


def _pooling(counts: EvalCounts, pool: bool | None) -> bool:
    """Whether to pool: ``pool`` None, when :func:`pooling_blocked` says nothing; True, or an error saying
    why the groups cannot be pooled; False: not."""
    why = pooling_blocked(counts)
    if pool and why:
        raise DifficultyError(f"cannot pool the groups: {why}")
    return why is None if pool is None else bool(pool)


def _call(fn, *args):
    return fn(*args)
