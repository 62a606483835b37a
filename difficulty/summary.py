"""Everything a report says about one group of counts, computed once and frozen.

:func:`summarize_group` runs each analysis on one group, fitting each model once and passing the
fits on: maximum likelihood of the candidate models (compared by AIC), the posteriors of the
zero-inflated Beta and of the default forecaster started from those maxima, leave-one-problem-out
weights, forecasts, the difficulty density (parametric from the posterior, non-parametric by
NPMLE), the ranking (from the zero-inflated Beta posterior) and the cost plan. The result holds
numbers and arrays only (the curves the figures draw included), so that rendering it needs no
formula; ``difficulty.report`` turns it into Markdown, figures and files.
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .counts import EvalCounts
from .errors import DifficultyError

__all__ = ["GroupSummary", "summarize_group", "summarize_passk_only", "SummaryOptions"]

STAGES = ("pass@k", "maximum likelihood", "posterior (zi-beta)", "posterior (forecaster)", "forecast", "density",
          "ranking", "cost")


@dataclass(frozen=True)
class SummaryOptions:
    budget: float
    target: float = 0.9
    prompt_tokens: float = 500.0
    decode_tokens: float = 300.0
    flops_per_token: float = 1.0
    max_steps: int = 3000
    band: tuple = (0.5, 0.99)
    level: float = 0.9


@dataclass(frozen=True)
class GroupSummary:
    """One group's results: ``data`` (JSON-able numbers and arrays), the posterior's InferenceData
    (for the pair plot and the netCDF file) and the ranked problems (a DataFrame)."""

    name: str
    data: dict
    posterior: object = field(default=None, repr=False)
    ranked: object = field(default=None, repr=False)


def prepare(counts: EvalCounts, budget=None, joint: bool = False, covariates: dict | None = None, **options):
    """What every group's summary shares: the options (``budget``: K for the ranking and the obtainable
    mass, default the median number of attempts; the cost plan's ``options``), as SummaryOptions and as
    the plain dict the report records, and the joint fit over the groups when ``joint`` (else None), with
    ``covariates`` ({group: {column: value}}) for the abilities' regression when given."""
    if covariates is not None and not joint:
        raise DifficultyError("covariates go with the joint model: give joint=True (--joint)")
    if budget is None:  # "obtainable" within as many attempts as were sampled
        budget = float(np.median(counts.n))
    options = dict(budget=float(budget), **options)
    opts = SummaryOptions(**options)
    fit = None
    if joint:
        from .joint import fit_joint

        fit = fit_joint(counts, covariates=covariates, level=opts.level)
        options["joint"] = True
        if covariates is not None:
            options["covariates"] = sorted({col for row in covariates.values() for col in row})
    return opts, options, fit


def summarize_or_say_why(name, counts: EvalCounts, opts: SummaryOptions, truth=None, progress=None,
                         joint=None) -> GroupSummary:
    """summarize_group, or, when a step cannot be done for this group (nothing ever solved, or a
    numerical failure in one step), what can be said (with a joint fit, what the other groups say of
    it) and the reason, so that the other groups go on."""
    try:
        return summarize_group(name, counts, opts, truth=truth, progress=progress, joint=joint)
    except (DifficultyError, ArithmeticError, ValueError, np.linalg.LinAlgError) as e:
        reason = str(e) if isinstance(e, DifficultyError) else f"{type(e).__name__}: {e}"
        return summarize_passk_only(name, counts, reason, opts, joint)


def _observed_k(nmin):
    return np.unique(np.round(np.logspace(0, math.log10(nmin), 15)).astype(int))


def _head(name, counts):
    return {"group": name, "n_problems": counts.n_problems, "attempts_min": int(counts.n.min()),
            "attempts_max": int(counts.n.max()), "successes_total": int(counts.c.sum())}


def summarize_passk_only(name, counts: EvalCounts, reason: str, opts: SummaryOptions | None = None,
                         joint=None) -> GroupSummary:
    """What can be said of a group no per-group model can be fitted to: its pass@k, and why; with a
    joint fit over groups (``joint``, ``opts``), what the other groups' results say of it."""
    from .passk import estimate_pass_at_k

    data = {**_head(name, counts), "pass_at_k": estimate_pass_at_k(counts, _observed_k(int(counts.n.min()))).to_dict(),
            "skipped": reason}
    ranked = None
    if joint is not None and opts is not None:
        k_fc, sig = _grids(counts)
        data["joint"], ranked = joint_part(name, counts, joint, opts, k_fc, sig,
                                           sorted({float(counts.n.max()), float(opts.budget)}))
        data["ranking"] = data["joint"].pop("ranking")
    return GroupSummary(name, data, ranked=None if ranked is None else ranked.table.sort_values("rank"))


def _grids(counts: EvalCounts):
    """The k of the forecasts (1 to 100 x the fewest attempts, 30 on a log scale) and the sigma of the
    densities (down to the NPMLE's grid, 0.1 / max N)."""
    k_fc = np.unique(np.round(np.logspace(0, math.log10(int(counts.n.min()) * 100), 30)))
    return k_fc, np.logspace(min(-4.0, math.log10(0.1 / float(counts.n.max()))), 1.3, 120)


def joint_part(name, counts: EvalCounts, joint, opts: SummaryOptions, k_fc, sigma, ks, own=None, own_ranked=None):
    """The group's results from a joint fit over groups: forecast at ``k_fc`` (and, with ``own``, the
    group's own forecast at ``k_fc``, the two pooled: difficulty.pooled), density on ``sigma`` with
    read-offs (mass with q in hard_band(budget), <p^K> at ``ks``), the ranking by P(solved within the
    budget) in the band (with ``own_ranked``, the group's own ranking, the two pooled; the joint's alone
    under "ranking_joint"), and the problems never solved here most likely solved within the budget.
    Returns (data, the band ranking)."""
    from .inversion import hard_band
    from .ranking import rank_problems

    level = opts.level
    ranked = rank_problems(budget=opts.budget, band=opts.band, level=level, fit=joint, group=name)
    hidden = ranked.asking("hidden")
    top = hidden.ranked.head(5)
    fj = joint.forecast(name, k_fc, level=level)
    data = {
        "groups": len(joint.groups), "problems": len(joint.problems), "diagnostics": dict(joint.diagnostics),
        "tau": joint.params().get("tau"),
        "forecast": fj.to_dict(),
        "density": joint.density(name, sigma=sigma, level=level, budget=opts.budget, band=opts.band,
                                 q_band=hard_band(opts.budget), ks=ks),
        "hidden": {"budget": opts.budget, "never_solved_here": int((counts.c == 0).sum()),
                   "expected_solved_within_budget": hidden.expected_in_top(len(hidden.table)),
                   "top": [{"problem": str(p), "n": int(n), "p": float(v)}
                           for p, n, v in zip(top["problem"], top["n"], top["probability"]) if v > 0]},
        "ranking": {k: v for k, v in ranked.to_dict().items() if k != "problems"}}
    if own is not None:
        from .pooled import combine

        data["forecast_pooled"] = combine(own, fj).to_dict()
    if own_ranked is not None:
        from .pooled import combine_rankings

        data["ranking_joint"] = data.pop("ranking")
        ranked = combine_rankings(own_ranked, ranked)
        data["ranking"] = {k: v for k, v in ranked.to_dict().items() if k != "problems"}
    return data, ranked


def summarize_group(name, counts: EvalCounts, opts: SummaryOptions, truth=None, progress=None,
                    joint=None) -> GroupSummary:
    """Every analysis of one group (module docstring). ``truth``: the generating model, when known,
    whose curves are computed on the same grids. ``progress``: a callback (stage, done, total).
    ``joint``: a joint fit over groups (:func:`difficulty.joint.fit_joint`) that holds this group: its
    forecast, density and ranking of the group beside the per-group ones (``data["joint"]``), and the
    ranked table (``ranked.csv``) from it."""
    from .cost import coverage_at_cost, plan_cost
    from .fit.mcmc import compare_loo, sample_posterior
    from .fit.mle import compare_mle
    from .forecast import DEFAULT_FORECAST, forecast, forecast_average
    from .inversion import (
        hard_band,
        invert_counts,
        invert_parametric,
        model_functionals,
        obtainable_mass,
        project_model,
        tail_exponent,
    )
    from .passk import estimate_pass_at_k
    from .ranking import rank_problems
    from .selfcheck import extrapolation_check, widen_forecast

    report = progress or (lambda stage, done, total: None)
    total = len(STAGES)

    def stage(i):  # one label per group, counted through its stages
        report(str(name), i, total)

    t0 = time.perf_counter()
    out = _head(name, counts)
    nmin = int(counts.n.min())
    level = opts.level
    stage(0)
    obs = estimate_pass_at_k(counts, _observed_k(nmin), level=level).to_dict()
    out["pass_at_k"] = obs

    stage(1)
    fits = compare_mle(counts, level=level)
    out["model_comparison"] = [{"model": f.model_name, "loglike": f.loglike, "aic": f.aic,
                                "params": f.to_dict()["params"]} for f in fits.values()]
    best_name = next(iter(fits))
    out["best_aic"] = best_name

    with warnings.catch_warnings():  # diagnostics are kept in the fits and reported
        warnings.simplefilter("ignore", RuntimeWarning)
        stage(2)
        post = sample_posterior(counts, "zi-beta", walkers=32, max_steps=opts.max_steps, level=level,
                                mle=fits.get("zi-beta"))
        stage(3)
        fc_name = DEFAULT_FORECAST["model"]
        post_f = sample_posterior(counts, fc_name, walkers=32, max_steps=opts.max_steps, level=level,
                                  mle=fits.get(fc_name))
        loo = compare_loo({"zi-beta": post, fc_name: post_f}, max_draws=300)
    summ = post.summary(level)
    lo_col, hi_col = f"hdi_{50 - 50 * level:g}%", f"hdi_{50 + 50 * level:g}%"
    d = post.diagnostics
    # which sampler ran (importance sampling, or emcee when PSIS did not trust it) and its diagnostics
    out["posterior"] = {"model": "zi-beta", **{k: v for k, v in d.items() if k != "params"}, "level": level,
                        "summary": {p: {"mean": float(summ.loc[p, "mean"]), "sd": float(summ.loc[p, "sd"]),
                                        "hdi_low": float(summ.loc[p, lo_col]),
                                        "hdi_high": float(summ.loc[p, hi_col]),
                                        "r_hat": d["params"][p]["r_hat"], "ess_bulk": d["params"][p]["ess"]}
                                    for p in post.param_names}}
    out["forecaster_posterior"] = {"model": fc_name, **{k: v for k, v in post_f.diagnostics.items() if k != "params"}}
    out["loo"] = {m: {c: float(loo.loc[m, c]) for c in loo.columns} for m in loo.index}

    stage(4)
    k_fc, sig = _grids(counts)
    fc = forecast(post_f, k_fc, level=level, draws=200)
    # the default forecast's band as the forecast command gives it: widened by the model's extrapolation
    # error inside these data (its draws stay the posterior's, reused by the average below)
    fc_checked = widen_forecast(fc, extrapolation_check(counts, fc_name))
    fc_avg = forecast_average({"zi-beta": post, fc_name: post_f}, k_fc, weights=loo["weight"].to_dict(),
                              level=level, draws=200, reuse={fc_name: fc})  # its draws, not computed twice
    fc_pop = forecast(post, k_fc, level=level, target="population", draws=1000)
    out["forecast"] = fc_checked.to_dict()
    out["forecast_average"] = fc_avg.to_dict()
    out["forecast_zi_beta_population"] = fc_pop.to_dict()

    stage(5)
    # difficulty density: parametric (posterior draws of the zero-inflated Beta) and NPMLE
    dens = post.models(300).expand(1).density_sigma(sig)  # (draws, sigma)
    q = np.quantile(dens, [0.5 - level / 2, 0.5, 0.5 + level / 2], axis=0)
    point = post.model
    # Talbot against the closed form at four sigma where the density is within 1e-12 of its largest
    # value on the grid (far below that, relative digits of a value like 1e-300 need more working
    # precision than a check is worth)
    dens_point = point.density_sigma(sig)
    live = sig[dens_point >= 1e-12 * np.max(dens_point)]
    check_s = live[np.unique(np.linspace(0, live.size - 1, 4).astype(int))] if live.size else sig[:1]
    talbot = invert_parametric(point, check_s)
    closed = point.density_sigma(check_s)
    ok = closed > 1e-280
    parametric = {"sigma": sig, "density": q[1], "low": q[0], "high": q[2], "model": "zi-beta posterior",
                  "never_solved_median": float(1 - np.median(post.draws[:, post.param_names.index("A")])),
                  "talbot_check_max_rel_diff": (float(np.max(np.abs(talbot - closed)[ok] / closed[ok]))
                                                if ok.any() else None)}
    npm = invert_counts(counts, level=level, n_boot=30, iters=2000)
    mass = obtainable_mass(npm, opts.budget, opts.band)
    np_dict = npm.to_dict()
    np_lo, np_hi = npm.band()
    np_dict["low"], np_dict["high"] = np_lo, np_hi
    out["density"] = {"parametric": parametric, "nonparametric": np_dict,
                      "obtainable_mass": {"budget": opts.budget, "band": list(opts.band), "mass": mass[0],
                                          "low": mass[1], "high": mass[2]},
                      "tail_exponent_nonparametric": tail_exponent(npm, float(counts.n.max())),
                      "tail_exponent_parametric": float(np.median(post.draws[:, post.param_names.index("beta")]))}
    # read-offs with intervals: mass with q in hard_band(budget), the unresolved mass (never solved or
    # sigma below 1/k_max), <p^K> at k_max and at the budget
    band_q = hard_band(opts.budget)
    ks = sorted({float(npm.k_max), float(opts.budget)})
    read = npm.functionals(band_q=band_q, ks=ks)
    out["density"]["functionals"] = {k: f.to_dict() for k, f in read.items()}
    out["density"]["unresolved"] = read["unresolved"].to_dict()
    if truth is not None:  # the truth on the estimate's basis: the same cells, the same unresolved mass
        proj = project_model(truth, npm)
        exact = model_functionals(truth, npm.k_max, band_q=band_q, ks=ks)
        out["density"]["truth"] = {
            "sigma": proj.sigma, "density": proj.density(), "never_solved": float(truth.never_solved),
            "always_solved": proj.always_solved, "unresolved_mass": proj.unresolved_mass(),
            "functionals": {k: f.value for k, f in proj.functionals(band_q=band_q, ks=ks).items()},
            "functionals_exact": exact, "basis": "mass of each cell of the non-parametric estimate's grid"}

    stage(6)
    ranked = rank_problems(budget=opts.budget, band=opts.band, level=level, fit=post_f)  # the forecast's fit
    out["ranking"] = {k: v for k, v in ranked.to_dict().items() if k != "problems"}
    if joint is not None:
        out["ranking_per_group"] = out["ranking"]
        out["joint"], ranked = joint_part(name, counts, joint, opts, k_fc, sig, ks, own=fc_checked, own_ranked=ranked)
        out["ranking"] = out["joint"].pop("ranking")

    stage(7)
    plan_fit = fits["zi-beta"] if "zi-beta" in fits else fits[best_name]
    plan_model = plan_fit.model
    plan = None
    try:
        plan = plan_cost(plan_model, opts.target, opts.prompt_tokens, opts.decode_tokens, opts.flops_per_token)
        out["cost_plan"] = {"model": f"{plan_fit.model_name} (MLE)", **plan.to_dict()}
    except DifficultyError as e:
        out["cost_plan"] = {"model": f"{plan_fit.model_name} (MLE)", "error": str(e)}

    # the curves the figures draw, on their own grids
    k_obs = np.asarray(obs["k"], dtype=float)
    kk = np.logspace(0, np.log10(max(k_obs.max() * 100, 10)), 60)
    curves = {"k": kk,
              "fits": {f.model_name: np.asarray(f.model.pass_at_k(kk), dtype=float) for f in list(fits.values())[:3]},
              "plan_model": plan_fit.model_name, "ceiling": float(plan_model.ceiling),
              "inference_loss": np.asarray(plan_model.inference_loss(kk), dtype=float),
              "observed_loss": float(plan_model.ceiling) - np.asarray(obs["pass_at_k"], dtype=float)}
    try:
        curves["asymptote"] = np.asarray(plan_model.inference_loss_asymptote(kk), dtype=float)
        curves["tail_exponent"] = float(plan_model.tail_exponent)
    except (DifficultyError, TypeError):
        pass
    if plan is not None:
        kc = np.logspace(0, np.log10(max(plan.k * 20, 100)), 200)
        cost = opts.flops_per_token * (opts.prompt_tokens + opts.decode_tokens * kc)
        curves["cost"] = {"cost": cost, "coverage": coverage_at_cost(plan_model, cost, opts.prompt_tokens,
                                                                     opts.decode_tokens, opts.flops_per_token)}
    if truth is not None:
        s_truth = np.logspace(-4, 1.5, 300)
        curves["truth"] = {"pass_at_k": truth.pass_at_k(kk), "inference_loss": truth.inference_loss(kk),
                           "sigma": s_truth, "density": truth.density_sigma(s_truth),
                           "never_solved": float(truth.never_solved), "params": truth.params}
    out["curves"] = curves
    out["seconds"] = time.perf_counter() - t0
    report(str(name), total, total)
    return GroupSummary(name, out, post.idata, ranked.table.sort_values("rank"))
