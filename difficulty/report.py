"""``difficulty analyze`` and ``difficulty demo``: from results to a report.

Edge module: it calls the core (pass@k, fits, posterior, forecast, inversion, ranking, cost)
and writes report.md, figures (PNG), summary.json, ranked.csv and the posterior (netCDF).
Everything is written into a temporary folder beside the target and moved into place at
the end, so an interrupted run leaves no half report.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
import time
import warnings

import numpy as np

from .counts import EvalCounts
from .errors import DifficultyError

__all__ = ["analyze", "demo_data"]


def _log(msg, quiet=False):
    if not quiet:
        print(f"  {msg}", file=sys.stderr, flush=True)


def _safe(name):
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(name)) or "all"


def _analyze_group(name, counts: EvalCounts, folder, opts, truth=None, quiet=False):
    from .cost import plan_cost
    from .fit.mcmc import sample_posterior
    from .fit.mle import compare_mle
    from .forecast import DEFAULT_FORECAST, forecast_pass_at_k
    from .inversion import invert_counts, invert_parametric, obtainable_mass, tail_exponent
    from .passk import estimate_pass_at_k
    from .plots import plot_cost, plot_density, plot_inference_loss, plot_pairs, plot_pass_at_k, plot_ranking
    from .ranking import rank_problems

    tag = _safe(name)
    out = {"group": name, "n_problems": counts.n_problems, "attempts_min": int(counts.n.min()),
           "attempts_max": int(counts.n.max()), "successes_total": int(counts.c.sum())}
    t0 = time.perf_counter()
    nmin = int(counts.n.min())
    k_obs = np.unique(np.round(np.logspace(0, math.log10(nmin), 15)).astype(int))
    obs = estimate_pass_at_k(counts, k_obs, level=0.9).to_dict()
    out["pass_at_k"] = obs
    _log(f"[{name}] pass@k at {len(k_obs)} k up to {nmin}", quiet)

    fits = compare_mle(counts, level=0.9)
    out["model_comparison"] = [{"likelihood": f.likelihood, "loglike": f.loglike, "aic": f.aic, "params": f.to_dict()["params"]}
                               for f in fits.values()]
    best_name = next(iter(fits))
    _log(f"[{name}] fitted {', '.join(fits)} by maximum likelihood; best AIC: {best_name}", quiet)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        post = sample_posterior(counts, "zi-beta", walkers=32, max_steps=opts.get("max_steps", 3000),
                                progress=None if not quiet else False)
    summ = post.summary(0.9)
    out["posterior"] = {"likelihood": post.likelihood.name, "steps": post.steps, "burn": post.burn, "thin": post.thin,
                        "tau": post.tau.tolist(), "warnings": post.warnings,
                        "summary": {p: {c: float(summ.loc[p, c]) for c in summ.columns} for p in post.param_names}}
    from .fit.mcmc import compare_loo

    # the forecaster's posterior (the backtests' default model), compared with the zero-inflated Beta
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        post_f = sample_posterior(counts, DEFAULT_FORECAST["model"], walkers=32, max_steps=opts.get("max_steps", 3000),
                                  progress=False)
        loo = compare_loo({"zi-beta-binomial": post, post_f.likelihood.name: post_f}, max_draws=300)
    out["loo"] = {name: {c: float(loo.loc[name, c]) for c in loo.columns} for name in loo.index}
    post_path = os.path.join(folder, f"posterior_{tag}.nc")
    post.save(post_path)
    _log(f"[{name}] posterior: {post.steps} steps, tau {np.max(post.tau):.0f}", quiet)

    k_fc = np.unique(np.round(np.logspace(0, math.log10(nmin * 100), 30)))
    fc = forecast_pass_at_k(counts, k_fc, model=DEFAULT_FORECAST["model"], method=DEFAULT_FORECAST["method"],
                            level=0.9, draws=200, posterior=post_f if DEFAULT_FORECAST["method"] == "mcmc" else None)
    # beside it, the average of the two posteriors weighted by leave-one-problem-out (pseudo-BMA+):
    # where they disagree (a never-solvable fraction, say), the data's preference shows
    fc_avg = forecast_pass_at_k(counts, k_fc, model="average", method="mcmc", level=0.9, draws=200,
                                posterior={"zi-beta": post, DEFAULT_FORECAST["model"]: post_f},
                                weights=loo["weight"].to_dict())  # the LOO table's own weights
    fc_post = np.quantile(post.pass_at_k_draws(k_fc), [0.05, 0.5, 0.95], axis=0)
    out["forecast"] = fc.to_dict()
    out["forecast_average"] = fc_avg.to_dict()
    out["forecast_zi_beta_population"] = {"k": k_fc, "low": fc_post[0], "pass_at_k": fc_post[1], "high": fc_post[2]}

    # difficulty density: parametric (posterior draws of the zero-inflated Beta) and NPMLE
    sig = np.logspace(min(-4.0, math.log10(0.1 / float(counts.n.max()))), 1.3, 120)  # down to the NPMLE's grid
    dens = np.array([m.density_sigma(sig) for m in post.models(max_draws=300)])
    q = np.quantile(dens, [0.05, 0.5, 0.95], axis=0)
    point = post.likelihood.make_model(np.median(post.samples, axis=0))
    # Talbot against the closed form at four sigma where the density is within 1e-12 of its largest
    # value on the grid (far below that, e.g. exp(-alpha sigma) at alpha ~ 1e3, relative digits of
    # a value like 1e-300 need more working precision than a check is worth), default precision
    dens_point = point.density_sigma(sig)
    live = sig[dens_point >= 1e-12 * np.max(dens_point)]
    check_s = live[np.unique(np.linspace(0, live.size - 1, 4).astype(int))] if live.size else sig[:1]
    talbot = invert_parametric(point, check_s)
    closed = point.density_sigma(check_s)
    parametric = {"sigma": sig, "density": q[1], "low": q[0], "high": q[2], "model": "zi-beta posterior",
                  "never_solved_median": float(1 - np.median(post.samples[:, 2])),
                  "talbot_check_max_rel_diff": (float(np.max(np.abs(talbot - closed)[closed > 1e-280]
                                                             / closed[closed > 1e-280]))
                                                if np.any(closed > 1e-280) else None)}
    npm = invert_counts(counts, level=0.9, n_boot=30, iters=2000)
    mass = obtainable_mass(npm, opts["budget"])
    out["density"] = {"parametric": parametric, "nonparametric": npm.to_dict(),
                      "obtainable_mass": {"budget": opts["budget"], "band": [0.5, 0.99], "mass": mass[0],
                                          "low": mass[1], "high": mass[2]},
                      "tail_exponent_nonparametric": tail_exponent(npm, float(counts.n.max())),
                      "tail_exponent_parametric": float(np.median(post.samples[:, 1]))}
    _log(f"[{name}] difficulty density: parametric and NPMLE", quiet)

    ranked = rank_problems(counts, budget=opts["budget"], band=(0.5, 0.99), model="zi-beta", level=0.9)
    out["ranking"] = {k: v for k, v in ranked.to_dict().items() if k != "problems"}

    plan_model = fits["zi-beta"].model if "zi-beta" in fits else fits[best_name].model
    try:
        plan = plan_cost(plan_model, opts["target"], opts["prompt_tokens"], opts["decode_tokens"], opts["flops_per_token"])
        out["cost_plan"] = {"model": "zi-beta (MLE)", **plan.to_dict()}
    except DifficultyError as e:
        plan = None
        out["cost_plan"] = {"model": "zi-beta (MLE)", "error": str(e)}

    figs = {}
    fit_models = {f.likelihood: f.model for f in list(fits.values())[:3]}
    figs["pass_at_k"] = f"passk_{tag}.png"
    plot_pass_at_k(os.path.join(folder, figs["pass_at_k"]), obs, fit_models, fc.to_dict(), truth, f"pass@k: {name}",
                   extra_forecast=fc_avg.to_dict())
    figs["inference_loss"] = f"loss_{tag}.png"
    plot_inference_loss(os.path.join(folder, figs["inference_loss"]), obs, plan_model, truth=truth,
                        title=f"inference loss: {name}")
    figs["density"] = f"density_{tag}.png"
    plot_density(os.path.join(folder, figs["density"]), parametric, npm, truth, f"difficulty density: {name}")
    figs["pairs"] = f"pairs_{tag}.png"
    ref = None
    if truth is not None and hasattr(truth, "alpha"):
        ref = {"alpha": truth.alpha, "beta": truth.beta, "A": truth.ceiling}
    plot_pairs(os.path.join(folder, figs["pairs"]), post.idata, ref)
    if plan is not None:
        figs["cost"] = f"cost_{tag}.png"
        plot_cost(os.path.join(folder, figs["cost"]), plan_model, plan, opts["prompt_tokens"], opts["decode_tokens"],
                  opts["flops_per_token"], f"coverage vs cost: {name}")
    figs["ranking"] = f"ranking_{tag}.png"
    plot_ranking(os.path.join(folder, figs["ranking"]), ranked.table, (0.5, 0.99), opts["budget"], f"ranking: {name}")
    out["figures"] = figs
    out["seconds"] = time.perf_counter() - t0
    table = ranked.table.sort_values("rank")
    return out, table


def _fmt(v, nd=4):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{nd}g}"
    return str(v)


def _markdown(summary, truths=None):
    L = []
    L.append("# Inference-scaling report")
    L.append("")
    L.append(f"Data: `{summary['source']}`. Groups: {len(summary['groups'])}. Generated by `difficulty` "
             f"{summary['version']} in {summary['seconds']:.1f} s.")
    L.append("")
    L.append("Each section below covers one group: the exact pass@k with 90% intervals (unbiased estimator, "
             "bootstrap over problems); maximum-likelihood fits of several per-problem models compared by AIC; "
             "the posterior of the zero-inflated Beta model (emcee, arviz diagnostics); forecasts to 100x the "
             "sampled k; the perceived-difficulty density f(sigma), sigma = log(1/p) (Eq. 10), parametric and "
             "non-parametric, with bands; the problems ranked as difficult but obtainable; and the cost of a target "
             "coverage (Eq. 13-14). p is the per-attempt failure probability; small sigma means a hard problem.")
    L.append("")
    for g in summary["groups"].values():
        name = g["group"]
        L.append(f"## {name}")
        L.append("")
        L.append(f"{g['n_problems']} problems, {g['attempts_min']}-{g['attempts_max']} attempts each, "
                 f"{g['successes_total']} successes in all.")
        if truths and name in truths:
            L.append(f"Known truth (generated data): `{truths[name]!r}`.")
        L.append("")
        L.append("### pass@k")
        L.append("")
        L.append("| k | pass@k | 90% interval |")
        L.append("|---:|---:|---|")
        pk = g["pass_at_k"]
        for k, v, lo, hi in zip(pk["k"], pk["pass_at_k"], pk["low"], pk["high"]):
            L.append(f"| {k} | {v:.4f} | [{lo:.4f}, {hi:.4f}] |")
        L.append("")
        if "skipped" in g:
            L.append(f"Nothing more can be fitted for this group: {g['skipped']}.")
            L.append("")
            continue
        L.append(f"![pass@k]({g['figures']['pass_at_k']})")
        L.append("")
        L.append("### Models")
        L.append("")
        L.append("| likelihood | log-likelihood | AIC | parameters (90% interval) |")
        L.append("|---|---:|---:|---|")
        for m in g["model_comparison"]:
            ps = "; ".join(f"{n} = {d['value']:.4g} " + (f"[{d['low']:.4g}, {d['high']:.4g}]"
                                                          if np.isfinite(d["low"]) and np.isfinite(d["high"])
                                                          else "(at the edge of its range: no interval)")
                           for n, d in m["params"].items())
            L.append(f"| {m['likelihood']} | {m['loglike']:.2f} | {m['aic']:.2f} | {ps} |")
        L.append("")
        L.append("Leave-one-problem-out comparison of two posteriors (PSIS-LOO, arviz; higher elpd is better):")
        L.append("")
        L.append("| posterior | elpd_loo | se | difference to best | se of difference | elpd_waic | max Pareto k | weight |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for n, r in g["loo"].items():
            L.append(f"| {n} | {r['elpd_loo']:.2f} | {r['se']:.2f} | {r['elpd_diff']:.2f} | {r['dse']:.2f} | "
                     f"{r['elpd_waic']:.2f} | {r['pareto_k_max']:.2f} | {r['weight']:.2f} |")
        L.append("")
        p = g["posterior"]
        L.append(f"Posterior of the zero-inflated Beta model (p ~ Beta(alpha, beta) on a solvable fraction A): "
                 f"{p['steps']} emcee steps x 32 walkers, burn-in {p['burn']}, thinning {p['thin']} "
                 f"(autocorrelation time {max(p['tau']):.0f}).")
        L.append("")
        L.append("| parameter | mean | sd | 90% HDI | R-hat | ESS (bulk) |")
        L.append("|---|---:|---:|---|---:|---:|")
        for n, s in p["summary"].items():
            L.append(f"| {n} | {s['mean']:.4g} | {s['sd']:.3g} | [{s['hdi_5%']:.4g}, {s['hdi_95%']:.4g}] | "
                     f"{s['r_hat']:.3f} | {s['ess_bulk']:.0f} |")
        for w in p["warnings"]:
            L.append(f"\n> warning: {w}")
        L.append("")
        L.append(f"![posterior]({g['figures']['pairs']})  ![inference loss]({g['figures']['inference_loss']})")
        L.append("")
        L.append("### Forecast")
        L.append("")
        fc, fa = g["forecast"], g["forecast_average"]
        wts = ", ".join(f"{m} {w:.2f}" for m, w in fa["weights"].items())
        L.append(f"Forecast of pass@k for these problems by the {fc['model']} model ({fc['method']}; each problem's "
                 f"counts enter through its posterior; the forecaster the backtests on real data support), 90% band; "
                 f"beside it, the average of the two posteriors above weighted by leave-one-problem-out "
                 f"(pseudo-BMA+ weights: {wts}). Where the two disagree, the weights say which the data prefer.")
        L.append("")
        L.append(f"| k | pass@k ({fc['model']}) | 90% band | pass@k (average) | 90% band |")
        L.append("|---:|---:|---|---:|---|")
        idx = np.unique(np.linspace(0, len(fc["k"]) - 1, 8).astype(int))
        for i in idx:
            L.append(f"| {fc['k'][i]:.0f} | {fc['pass_at_k'][i]:.4f} | [{fc['low'][i]:.4f}, {fc['high'][i]:.4f}] | "
                     f"{fa['pass_at_k'][i]:.4f} | [{fa['low'][i]:.4f}, {fa['high'][i]:.4f}] |")
        L.append("")
        L.append("### Perceived-difficulty density")
        L.append("")
        d = g["density"]
        npm = d["nonparametric"]
        om = d["obtainable_mass"]
        L.append(f"Never-solved mass: {npm['never_solved']:.4f} (NPMLE), {d['parametric']['never_solved_median']:.4f} "
                 f"(posterior median of 1 - A). Mass of problems solved with probability in [0.5, 0.99] within "
                 f"{om['budget']:g} attempts: {om['mass']:.4f} (90% band [{_fmt(om['low'])}, {_fmt(om['high'])}]). "
                 f"Tail exponent (F(sigma) ~ sigma^beta near 0, the power law of the inference loss): "
                 f"{_fmt(d['tail_exponent_nonparametric'], 3)} non-parametric, {d['tail_exponent_parametric']:.3f} "
                 f"parametric. The parametric density inverted numerically from its Laplace transform (Talbot) "
                 f"agrees with its closed form to {_fmt(d['parametric']['talbot_check_max_rel_diff'], 2)}. "
                 f"Note: {npm['note']}.")
        L.append("")
        L.append(f"![density]({g['figures']['density']})")
        L.append("")
        L.append("### Difficult but obtainable")
        L.append("")
        r = g["ranking"]
        L.append(f"{r['n_selected']} problems selected: P(solved within {r['budget']:g} attempts) in "
                 f"[{r['band'][0]:g}, {r['band'][1]:g}] with posterior probability >= {r['confidence']:g}; "
                 f"expected number truly in the band among them: {r['expected_obtainable_selected']:.1f}. "
                 f"The full table is in `ranked.csv`.")
        L.append("")
        L.append(f"![ranking]({g['figures']['ranking']})")
        L.append("")
        L.append("### Cost")
        L.append("")
        c = g["cost_plan"]
        if "error" in c:
            L.append(f"Target coverage: {c['error']}.")
        else:
            asym = (f"; the large-k closed form gives k = {c['k_asymptotic']:.4g}" if c["k_asymptotic"] else "")
            L.append(f"Coverage {c['target']:g} needs k = {c['k']:.4g} attempts ({c['k_attempts']} whole attempts), "
                     f"a cost C = F (N_p + N_d k) = {c['cost']:.4g} with N_p = {c['prompt_tokens']:g}, "
                     f"N_d = {c['decode_tokens']:g}, F = {c['flops_per_token']:g}{asym}.")
            L.append("")
            L.append(f"![cost]({g['figures']['cost']})")
        L.append("")
    return "\n".join(L) + "\n"


def analyze(counts: EvalCounts, out_dir: str, *, force=False, budget=None, target=0.9, prompt_tokens=500.0,
            decode_tokens=300.0, flops_per_token=1.0, truths=None, quiet=False, max_steps=3000):
    """Run every analysis on each group and write the report folder (atomically)."""
    from . import __version__

    out_dir = os.path.abspath(out_dir)
    if os.path.exists(out_dir) and not force:
        raise DifficultyError(f"{out_dir} exists; pass --force to replace it")
    parent = os.path.dirname(out_dir)
    if not os.path.isdir(parent):
        raise DifficultyError(f"cannot write {out_dir}: folder {parent} does not exist")
    tmp = tempfile.mkdtemp(prefix=".difficulty-report-", dir=parent)
    t0 = time.perf_counter()
    if budget is None:  # "obtainable" within as many attempts as were sampled (median N)
        budget = float(np.median(counts.n))
    opts = dict(budget=budget, target=target, prompt_tokens=prompt_tokens, decode_tokens=decode_tokens,
                flops_per_token=flops_per_token, max_steps=max_steps)
    try:
        groups = {}
        tables = []
        for name, sub in counts.groups().items():
            try:
                res, table = _analyze_group(name, sub, tmp, opts, None if not truths else truths.get(name), quiet)
            except (DifficultyError, ArithmeticError, ValueError, np.linalg.LinAlgError) as e:
                # e.g. nothing ever solved, or a numerical failure in one step: say what can be said,
                # name the reason in the report, and go on with the other groups
                from .passk import estimate_pass_at_k

                nmin = int(sub.n.min())
                k_obs = np.unique(np.round(np.logspace(0, math.log10(nmin), 15)).astype(int))
                res = {"group": name, "n_problems": sub.n_problems, "attempts_min": nmin,
                       "attempts_max": int(sub.n.max()), "successes_total": int(sub.c.sum()),
                       "pass_at_k": estimate_pass_at_k(sub, k_obs).to_dict(),
                       "skipped": str(e) if isinstance(e, DifficultyError) else f"{type(e).__name__}: {e}"}
                _log(f"[{name}] only pass@k: {e}", quiet)
                groups[name] = res
                continue
            groups[name] = res
            table.insert(0, "group", name)
            tables.append(table)
        import pandas as pd

        if tables:
            pd.concat(tables, ignore_index=True).to_csv(os.path.join(tmp, "ranked.csv"), index=False)
        summary = {"source": counts.source, "version": __version__, "groups": groups,
                   "seconds": time.perf_counter() - t0, "options": opts}
        if truths:
            summary["truth"] = {k: v.to_dict() for k, v in truths.items()}
        from .cli import _clean_json, _json_default

        with open(os.path.join(tmp, "summary.json"), "w") as fh:
            json.dump(_clean_json(summary), fh, default=_json_default, indent=1)
        with open(os.path.join(tmp, "report.md"), "w") as fh:
            fh.write(_markdown(summary, truths))
        if os.path.exists(out_dir):
            old = out_dir + ".old-" + str(os.getpid())
            os.replace(out_dir, old)
            os.replace(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return summary


def demo_data(seed=0):
    """Built-in generated data with a known truth: three "models" of different strength whose
    problems' failure probabilities follow zero-inflated Beta distributions (a mixture of a
    never-solvable fraction and a Beta), 300 problems each, 200 attempts per problem."""
    from .generate import simulate_counts
    from .models import BetaModel

    truths = {
        "strong-model": BetaModel(alpha=1.5, beta=0.6, A=0.95),
        "medium-model": BetaModel(alpha=3.0, beta=0.4, A=0.85),
        "weak-model": BetaModel(alpha=6.0, beta=0.3, A=0.7),
    }
    n, c, prob, grp = [], [], [], []
    for i, (name, model) in enumerate(truths.items()):
        sim = simulate_counts(model, 300, 200, seed=seed + i)
        n.append(sim.counts.n)
        c.append(sim.counts.c)
        prob.append(np.array([f"p{j:03d}" for j in range(300)], dtype=object))
        grp.append(np.full(300, name, dtype=object))
    counts = EvalCounts(np.concatenate(n), np.concatenate(c), problem=np.concatenate(prob), group=np.concatenate(grp),
                        source="built-in demo data (generated)")
    return counts, truths
