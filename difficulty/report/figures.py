"""Figures of one group (matplotlib, Agg).

Each function draws what it is given, the arrays and dicts of a group summary's ``data`` (its
posterior's InferenceData for the pair plot, its ranked problems for the ranking), and computes
nothing: every curve, band and point comes from ``difficulty.summary``. JSON nulls (NaN, inf
written out) are accepted wherever a number is.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_pass_at_k", "plot_inference_loss", "plot_density", "plot_cost", "plot_ranking", "plot_pairs"]

COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]
SIZE = (6.4, 4.4)
DPI = 130


def _save(fig, path):
    # laid out at the resolution it is written at: the text metrics (and the tick labels' mathtext) measured
    # for the layout are the ones the writing draws with, not measured again at another dpi (~20% of the time)
    fig.set_dpi(DPI)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def _arr(values):
    return np.asarray([np.nan if v is None else v for v in values], dtype=float)  # JSON null -> NaN


def _pct(level):
    return f"{100 * float(level):g}%"


def _finite(v):
    return v is not None and bool(np.isfinite(v))


def _num(v, spec=".3f"):
    return format(v, spec) if _finite(v) else "n/a"


def plot_pass_at_k(path, pass_at_k, curves=None, forecast=None, forecast_average=None, title="", joint=None):
    """pass@k vs k (log x): data with interval, fitted curves (``curves``; none for a group no per-group
    model was fitted to), forecast bands (``joint``: the joint model's, with the number of groups it was
    fitted to), truth, the largest sampled k."""
    fig, ax = plt.subplots(figsize=SIZE)
    k = _arr(pass_at_k["k"])
    ax.fill_between(k, _arr(pass_at_k["low"]), _arr(pass_at_k["high"]), color="0.8",
                    label=f"data, {_pct(pass_at_k['level'])} interval")
    ax.plot(k, _arr(pass_at_k["pass_at_k"]), "o", ms=3.5, color="k", label="unbiased pass@k")
    curves = curves or {}
    kk = _arr(curves.get("k", []))
    for i, (name, y) in enumerate(curves.get("fits", {}).items()):
        ax.plot(kk, _arr(y), color=COLORS[i % len(COLORS)], lw=1.4, label=f"{name} fit (MLE)")
    if forecast is not None:
        ax.fill_between(_arr(forecast["k"]), _arr(forecast["low"]), _arr(forecast["high"]), color=COLORS[0], alpha=0.2,
                        label=f"forecast {_pct(forecast['level'])} band ({forecast['model']})")
    if forecast_average is not None:
        fk = _arr(forecast_average["k"])
        ax.plot(fk, _arr(forecast_average["low"]), color=COLORS[3], lw=1.0, ls="-.")
        ax.plot(fk, _arr(forecast_average["high"]), color=COLORS[3], lw=1.0, ls="-.",
                label=f"forecast {_pct(forecast_average['level'])} band ({forecast_average['model']}, LOO weights)")
    if joint is not None:
        fc = joint["forecast"]
        jk = _arr(fc["k"])
        ax.plot(jk, _arr(fc["pass_at_k"]), color=COLORS[4], lw=1.4)
        ax.fill_between(jk, _arr(fc["low"]), _arr(fc["high"]), color=COLORS[4], alpha=0.15,
                        label=f"joint model over {joint['groups']} groups, {_pct(fc['level'])} band")
    truth = curves.get("truth")
    if truth is not None:
        ax.plot(kk, _arr(truth["pass_at_k"]), "k--", lw=1.2, label="truth")
    ax.axvline(np.nanmax(k), color="0.5", lw=0.8, ls=":", label=f"largest sampled k = {np.nanmax(k):g}")
    ax.set_xscale("log")
    ax.set_xlabel("attempts k")
    ax.set_ylabel("pass@k")
    ax.set_ylim(0, 1.02)
    ax.set_title(title or "pass@k")
    ax.legend(fontsize=7, loc="upper left")
    _save(fig, path)


def plot_inference_loss(path, pass_at_k, curves, title=""):
    """Inference loss A - pass@k on log-log axes: data, model, power-law asymptote, truth."""
    fig, ax = plt.subplots(figsize=SIZE)
    k = _arr(pass_at_k["k"])
    loss = _arr(curves["observed_loss"])
    shown = loss > 0  # a log axis has no place for the rest
    model, ceiling = curves["plan_model"], curves["ceiling"]
    ax.plot(k[shown], loss[shown], "o", ms=3.5, color="k", label=f"A - pass@k (data; A = {ceiling:.3f}, {model} MLE)")
    kk = _arr(curves["k"])
    ax.plot(kk, _arr(curves["inference_loss"]), color=COLORS[0], label=f"{model} inference loss (Eq. 9)")
    if "asymptote" in curves:
        ax.plot(kk, _arr(curves["asymptote"]), color=COLORS[1], ls="--",
                label=f"power law k^-{curves['tail_exponent']:.3f}")
    truth = curves.get("truth")
    if truth is not None:
        ax.plot(kk, _arr(truth["inference_loss"]), "k--", lw=1, label="truth")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("attempts k")
    ax.set_ylabel("inference loss")
    ax.set_title(title or "inference loss")
    ax.legend(fontsize=7)
    _save(fig, path)


def plot_density(path, density, attempts_max, truth=None, title="", joint=None):
    """sigma f(sigma), the density per unit log sigma: parametric band and median, NPMLE steps with
    band, the unresolved mass (never solved or sigma below 1/k_max) with its interval, and the truth
    on the NPMLE's cells (``density["truth"]``) with its unresolved mass on the same basis; without
    that, the truth's density ``truth`` (``curves["truth"]``) as given. ``attempts_max``: the
    group's largest N (k_max). ``joint``: the joint model's part of the group's summary, whose
    density is drawn with its band and never-solvable share."""
    fig, ax = plt.subplots(figsize=SIZE)
    npm = density.get("nonparametric")
    level = _pct(npm["level"]) if npm else "90%"
    par = density.get("parametric")
    if par is not None:
        s = _arr(par["sigma"])
        ax.fill_between(s, s * _arr(par["low"]), s * _arr(par["high"]), color=COLORS[0], alpha=0.25)
        ax.plot(s, s * _arr(par["density"]), color=COLORS[0],
                label=f"parametric ({par['model']}), median, {level} band")
    if npm is not None:
        s = _arr(npm["sigma"])
        ax.axvline(1.0 / attempts_max, color="0.5", lw=0.8, ls=":", label=f"sigma = 1/k_max = 1/{attempts_max:g}")
        if npm.get("low") is not None:
            ax.fill_between(s, s * _arr(npm["low"]), s * _arr(npm["high"]), color=COLORS[1], alpha=0.2, step="mid")
        ax.step(s, s * _arr(npm["density"]), where="mid", color=COLORS[1],
                label=f"non-parametric (NPMLE), {level} band")
        un = density.get("unresolved")
        if un is not None:  # never solved (sigma = 0, off a log axis) plus the shaded cells: named in the legend
            text = f"unresolved (never solved or sigma < 1/k_max): {_num(un['value'])}"
            if _finite(un.get("low")) and _finite(un.get("high")):
                text += f" [{_num(un['low'])}, {_num(un['high'])}] ({_pct(un['level'])})"
            ax.plot([], [], " ", label=text)
    if joint is not None:
        jd = joint["density"]
        s = _arr(jd["sigma"])
        ax.fill_between(s, s * _arr(jd["low"]), s * _arr(jd["high"]), color=COLORS[4], alpha=0.15)
        ax.plot(s, s * _arr(jd["density"]), color=COLORS[4], lw=1.3,
                label=f"joint model over {joint['groups']} groups, {_pct(jd['level'])} band "
                      f"(never solvable {_num(jd['never_solved'])})")
    on_basis = density.get("truth")
    if on_basis is not None:
        s = _arr(on_basis["sigma"])
        ax.step(s, s * _arr(on_basis["density"]), where="mid", color="k", ls="--", lw=1.1,
                label=f"truth on the same cells: unresolved {_num(on_basis['unresolved_mass'])} "
                      f"(never solved {_num(on_basis['never_solved'])})")
    elif truth is not None:
        s = _arr(truth["sigma"])
        ax.plot(s, s * _arr(truth["density"]), "k--", lw=1.2, label=f"truth (never solved {truth['never_solved']:.3f})")
    ax.set_xscale("log")
    if npm is not None:  # below 1/k_max no attempt tells a hard problem from a never-solved one: shade it
        lim = ax.get_xlim()
        ax.axvspan(lim[0], 1.0 / attempts_max, color="0.92", lw=0, zorder=0)
        ax.set_xlim(lim)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.45)  # room for the legend above the curves
    ax.set_xlabel("sigma = log(1/p)   (small: hard)")
    ax.set_ylabel("sigma f(sigma)  (density per log sigma)")
    ax.set_title(title or "perceived-difficulty density")
    ax.legend(fontsize=7)
    _save(fig, path)


def plot_cost(path, cost, plan, title=""):
    """Coverage vs total cost C = F (N_p + N_d k) (Eq. 14), with the plan marked. ``cost``: the
    curve (``curves["cost"]``); ``plan``: the cost plan."""
    fig, ax = plt.subplots(figsize=SIZE)
    ax.plot(_arr(cost["cost"]), _arr(cost["coverage"]), color=COLORS[0], label=f"coverage(C), {plan['model']}")
    ax.axhline(plan["ceiling"], color="0.5", lw=0.8, ls=":", label=f"ceiling A = {plan['ceiling']:.3f}")
    ax.plot([plan["cost"]], [plan["target"]], "o", color=COLORS[3],
            label=f"target {plan['target']:g}: k = {plan['k_attempts']}")
    ax.set_xscale("log")
    ax.set_xlabel("total cost C (FLOPs)" if plan["flops_per_token"] != 1 else "total cost C (tokens)")
    ax.set_ylabel("coverage")
    ax.set_title(title or "coverage vs cost")
    ax.legend(fontsize=7)
    _save(fig, path)


def plot_ranking(path, table, band, budget, title=""):
    """Problems on posterior P(solved within K), with intervals; the selection band shaded."""
    fig, ax = plt.subplots(figsize=SIZE)
    t = table.sort_values("p_solve_within_budget").reset_index(drop=True)
    x = np.arange(len(t))
    sel = t["selected"].to_numpy(dtype=bool)
    ax.axhspan(band[0], band[1], color=COLORS[2], alpha=0.15, label=f"band [{band[0]:g}, {band[1]:g}]")
    ax.vlines(x, t["p_solve_within_budget_low"], t["p_solve_within_budget_high"], color="0.7", lw=0.6)
    ax.plot(x[~sel], t["p_solve_within_budget"][~sel], ".", ms=3, color="0.3", label="problem (posterior mean)")
    if sel.any():
        ax.plot(x[sel], t["p_solve_within_budget"][sel], ".", ms=5, color=COLORS[3], label=f"selected ({sel.sum()})")
    else:
        ax.plot([], [], " ", label="none selected")
    ax.set_xlabel("problems, sorted")
    ax.set_ylabel(f"P(solved within {budget:g} attempts)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title or "difficult but obtainable")
    ax.legend(fontsize=7, loc="upper left")
    _save(fig, path)


def plot_pairs(path, idata, truth=None, kind="kde", max_draws=1000):
    """Posterior pair plot (arviz), ``truth`` ({parameter: value}) marked, from at most ``max_draws``
    evenly thinned draws (the KDE's cost grows with the draws, the picture does not); ``kind="scatter"``
    skips the contours.
    A posterior piled against a bound (A = 1, or a shape at the edge of its range) has no usable KDE,
    and one with no spread at all cannot be binned: such parameters fall back to a scatter, and
    constant ones are left out (named in the title)."""
    import arviz as az

    n_draws = idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]
    if n_draws > max_draws:  # an evenly thinned copy: the picture is the same, the drawing much cheaper
        step = int(np.ceil(n_draws / max_draws))
        idata = idata.sel(draw=slice(None, None, step))
    post = idata.posterior
    spread = {v: float(np.ptp(post[v].values)) for v in post.data_vars}
    names = [v for v, s in spread.items() if s > 1e-12 * max(1.0, float(np.abs(post[v].values).max()))]
    constant = [v for v in post.data_vars if v not in names]
    if not names:
        names = list(post.data_vars)
    ref = {k: v for k, v in truth.items() if k in names} if truth else None
    opts = dict(var_names=names, figsize=(6, 6), reference_values=ref,
                reference_values_kwargs={"color": "k", "marker": "x"} if ref else None)
    axes = None
    tries = (("kde", True), ("scatter", True), ("scatter", False)) if kind == "kde" else (("scatter", True),
                                                                                          ("scatter", False))
    for how, marginals in tries:
        try:
            axes = az.plot_pair(idata, kind=how, marginals=marginals and len(names) > 1, **opts)
            break
        except ValueError:
            plt.close("all")
    if axes is None:
        fig, ax = plt.subplots(figsize=(6, 6))
        ax.text(0.5, 0.5, "posterior has no spread to plot", ha="center", va="center")
        axes = ax
    for ax in np.atleast_1d(axes).ravel():
        if ax is not None:
            ax.tick_params(axis="x", labelrotation=30)
    fig = np.atleast_1d(axes).ravel()[0].get_figure()
    if constant:
        fig.suptitle("constant over the draws: " + ", ".join(f"{v} = {float(post[v].values.ravel()[0]):.4g}"
                                                               for v in constant), fontsize=9)
    _save(fig, path)
