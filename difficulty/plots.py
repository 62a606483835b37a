"""Figures (matplotlib, Agg). Edge module: the core never imports it."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def plot_pass_at_k(path, observed, fits, forecast=None, truth=None, title="", extra_forecast=None):
    """pass@k vs k (log x): data with intervals, fitted curves, forecast band(s), truth."""
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    k = np.asarray(observed["k"], dtype=float)
    ax.fill_between(k, observed["low"], observed["high"], color="0.8", label="data, 90% interval")
    ax.plot(k, observed["pass_at_k"], "o", ms=3.5, color="k", label="unbiased pass@k")
    kk = np.logspace(0, np.log10(max(k.max() * 100, 10)), 60)
    for i, (name, model) in enumerate(fits.items()):
        ax.plot(kk, model.pass_at_k(kk), color=COLORS[i % len(COLORS)], lw=1.4, label=f"{name} fit")
    if forecast is not None:
        fk = np.asarray(forecast["k"], dtype=float)
        ax.fill_between(fk, forecast["low"], forecast["high"], color=COLORS[0], alpha=0.2,
                        label=f"forecast band ({forecast.get('model', '')})")
    if extra_forecast is not None:
        fk = np.asarray(extra_forecast["k"], dtype=float)
        ax.plot(fk, extra_forecast["low"], color=COLORS[3], lw=1.0, ls="-.")
        ax.plot(fk, extra_forecast["high"], color=COLORS[3], lw=1.0, ls="-.",
                label=f"forecast band ({extra_forecast.get('model', '')})")
    if truth is not None:
        ax.plot(kk, truth.pass_at_k(kk), "k--", lw=1.2, label="truth")
    ax.axvline(k.max(), color="0.5", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel("attempts k")
    ax.set_ylabel("pass@k")
    ax.set_ylim(0, 1.02)
    ax.set_title(title or "pass@k")
    ax.legend(fontsize=7, loc="upper left")
    _save(fig, path)


def plot_inference_loss(path, observed, model, slope=None, truth=None, title=""):
    """Inference loss A - pass@k on log-log axes, with the power-law asymptote."""
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    k = np.asarray(observed["k"], dtype=float)
    A = model.ceiling
    loss = A - np.asarray(observed["pass_at_k"])
    ok = loss > 0
    ax.plot(k[ok], loss[ok], "o", ms=3.5, color="k", label=f"A - pass@k (data, A = {A:.3f})")
    kk = np.logspace(0, np.log10(max(k.max() * 100, 10)), 60)
    ax.plot(kk, model.inference_loss(kk), color=COLORS[0], label="model inference loss (Eq. 9)")
    try:
        ax.plot(kk, model.inference_loss_asymptote(kk), color=COLORS[1], ls="--",
                label=f"power law k^-{model.tail_exponent:.3f}")
    except Exception:
        pass
    if truth is not None:
        ax.plot(kk, truth.inference_loss(kk), "k--", lw=1, label="truth")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("attempts k")
    ax.set_ylabel("inference loss")
    ax.set_title(title or "inference loss")
    ax.legend(fontsize=7)
    _save(fig, path)


def plot_density(path, parametric, nonparametric, truth=None, title=""):
    """f(sigma) with bands: parametric (posterior) and non-parametric (NPMLE), never-solved atom."""
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    if parametric is not None:
        s = parametric["sigma"]
        ax.fill_between(s, s * parametric["low"], s * parametric["high"], color=COLORS[0], alpha=0.25)
        ax.plot(s, s * parametric["density"], color=COLORS[0], label=f"parametric ({parametric['model']}), 90% band")
    if nonparametric is not None:
        est = nonparametric
        lo, hi = est.band()
        s = est.sigma
        d = est.density()
        if lo is not None:
            ax.fill_between(s, s * lo, s * hi, color=COLORS[1], alpha=0.2, step="mid")
        ax.step(s, s * d, where="mid", color=COLORS[1], label="non-parametric (NPMLE), 90% band")
        ax.annotate(f"NPMLE never-solved atom: {est.never_solved:.3f}", xy=(0.98, 0.03), xycoords="axes fraction",
                    fontsize=8, ha="right")
    if truth is not None:
        s = np.logspace(-4, 1.5, 300)
        ax.plot(s, s * truth.density_sigma(s), "k--", lw=1.2, label=f"truth (never solved {truth.never_solved:.3f})")
    ax.set_xscale("log")
    ax.set_xlabel("sigma = log(1/p)   (small: hard)")
    ax.set_ylabel("sigma f(sigma)  (density per log sigma)")
    ax.set_title(title or "perceived-difficulty density")
    ax.legend(fontsize=7)
    _save(fig, path)


def plot_cost(path, model, plan, prompt_tokens, decode_tokens, flops, title=""):
    """Coverage vs total cost C = F (N_p + N_d k) (Eq. 14), with the plan marked."""
    from .cost import coverage_at_cost

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    k = np.logspace(0, np.log10(max(plan.k * 20, 100)), 200)
    C = flops * (prompt_tokens + decode_tokens * k)
    ax.plot(C, coverage_at_cost(model, C, prompt_tokens, decode_tokens, flops), color=COLORS[0], label="coverage(C)")
    ax.axhline(model.ceiling, color="0.5", lw=0.8, ls=":", label=f"ceiling A = {model.ceiling:.3f}")
    ax.plot([plan.cost], [plan.target], "o", color=COLORS[3], label=f"target {plan.target:g}: k = {plan.k_attempts}")
    ax.set_xscale("log")
    ax.set_xlabel("total cost C (FLOPs)" if flops != 1 else "total cost C (tokens)")
    ax.set_ylabel("coverage")
    ax.set_title(title or "coverage vs cost")
    ax.legend(fontsize=7)
    _save(fig, path)


def plot_ranking(path, table, band, budget, title=""):
    """Problems on posterior P(solved within K), with intervals; the selection band shaded."""
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    t = table.sort_values("p_solve_within_budget").reset_index(drop=True)
    x = np.arange(len(t))
    sel = t["selected"].to_numpy()
    ax.axhspan(band[0], band[1], color=COLORS[2], alpha=0.15, label=f"band [{band[0]:g}, {band[1]:g}]")
    ax.vlines(x, t["p_solve_within_budget_low"], t["p_solve_within_budget_high"], color="0.7", lw=0.6)
    ax.plot(x[~sel], t["p_solve_within_budget"][~sel], ".", ms=3, color="0.3", label="problem (posterior mean)")
    ax.plot(x[sel], t["p_solve_within_budget"][sel], ".", ms=5, color=COLORS[3], label="selected")
    ax.set_xlabel("problems, sorted")
    ax.set_ylabel(f"P(solved within {budget:g} attempts)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title or "difficult but obtainable")
    ax.legend(fontsize=7, loc="upper left")
    _save(fig, path)


def plot_pairs(path, idata, truth=None):
    """Posterior pair plot (arviz). A posterior piled against a bound (A = 1, or a shape at the
    edge of its range) has no usable KDE, and one with no spread at all cannot be binned: such
    parameters fall back to a scatter, and constant ones are left out (named in the title)."""
    import arviz as az

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
    for kind, marginals in (("kde", True), ("scatter", True), ("scatter", False)):
        try:
            axes = az.plot_pair(idata, kind=kind, marginals=marginals and len(names) > 1, **opts)
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
