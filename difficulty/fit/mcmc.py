"""Posterior sampling with emcee, summarised and diagnosed with arviz, for any per-problem model.

Priors (the defaults; pass ``log_prior`` to replace them): each parameter's own (see
``difficulty.models.Param``): shapes log-uniform on [1e-3, 1e4], fractions uniform on (0, 1),
locations uniform on their stated range. Walkers start in a small ball around the
maximum-likelihood point. Unless ``steps`` is given, the chain runs in blocks until it is 50
integrated autocorrelation times long (emcee's estimate), then 2 tau are discarded as burn-in
and the rest thinned by tau/2. The result is a :class:`~difficulty.fit.result.Fit` with the
draws and their arviz InferenceData.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..counts import EvalCounts
from .likelihood import make_likelihood
from .mle import fit_mle
from .result import Fit

__all__ = ["sample_posterior", "compare_loo"]


def _max_rhat(sampler, burn):
    import arviz as az

    chain = sampler.get_chain(discard=burn)  # (steps, walkers, ndim)
    return float(np.max([az.rhat(np.swapaxes(chain[..., i], 0, 1)) for i in range(chain.shape[-1])]))


def sample_posterior(counts: EvalCounts, model="beta", walkers: int = 32, steps: int | None = None,
                     max_steps: int = 20000, log_prior=None, seed=0, progress=None, level: float = 0.9,
                     mle: Fit | None = None) -> Fit:
    """Sample the posterior p(theta | counts) of any per-problem model with emcee (module docstring).

    ``mle``: a maximum-likelihood Fit of the same model and counts to start from (else one is made).
    ``progress``: a callback progress(stage, done, total), or None."""
    import emcee

    like = make_likelihood(model, counts)
    if mle is None or mle.likelihood is not like:
        mle = fit_mle(counts, like.spec, level=level)
    ndim = len(like.param_names)
    walkers = max(int(walkers), 2 * ndim + 2)

    def log_prob(z):
        z = np.atleast_2d(z)
        with np.errstate(all="ignore"):
            if log_prior is None:
                lp = like.log_prior_z(z)
            else:
                theta = like.from_unconstrained(z)
                lp = np.array([float(log_prior(t)) for t in theta]) + like.log_jacobian(z)
            ok = np.isfinite(lp)
            out = np.full(z.shape[0], -np.inf)
            if ok.any():
                ll = np.atleast_1d(like.loglike(like.from_unconstrained(z[ok])))
                out[ok] = np.where(np.isfinite(ll), ll + lp[ok], -np.inf)
        return out

    rng = np.random.default_rng(seed)
    z_hat = like.to_unconstrained(mle.estimate)
    cov = mle.covariance if mle.covariance is not None and np.all(np.isfinite(mle.covariance)) else np.eye(ndim) * 1e-4
    scale = np.sqrt(np.clip(np.diag(cov), 1e-10, 1.0))
    p0 = z_hat + 0.1 * scale * rng.standard_normal((walkers, ndim))
    if log_prior is None:  # an MLE beyond the prior's range (a shape running to infinity) starts
        lo, hi = like.prior_box_z()  # the walkers just inside it
        for i, p in enumerate(like.params):
            if p.prior is not None:
                p0[:, i] = np.clip(p0[:, i], lo[i] + 0.01, hi[i] - 0.01 - 0.05 * rng.random(walkers))
    sampler = emcee.EnsembleSampler(walkers, ndim, log_prob, vectorize=True)
    sampler.random_state = np.random.RandomState(int(rng.integers(2**31))).get_state()
    report = progress or (lambda stage, done, total: None)
    notes = []
    state = p0
    if steps is not None:
        block, total = int(steps), int(steps)
    else:
        block, total = 1000, max_steps
    done = 0
    tau = np.full(ndim, np.nan)
    while done < total:
        n = min(block, total - done)
        for i, _ in enumerate(sampler.sample(state, iterations=n)):
            if (i + 1) % max(1, n // 20) == 0 or i + 1 == n:
                report("sampling", done + i + 1, total if steps is not None else max(done + n, 1))
        state = sampler.get_last_sample()
        done += n
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tau = sampler.get_autocorr_time(tol=0)
        if steps is None and np.all(np.isfinite(tau)) and done >= 50 * np.max(tau):
            if _max_rhat(sampler, int(2 * np.max(tau))) <= 1.01:
                break
    tmax = float(np.nanmax(tau)) if np.any(np.isfinite(tau)) else done / 10
    if done < 50 * tmax:
        notes.append(f"chain of {done} steps is shorter than 50 autocorrelation times (tau = {tmax:.0f}): "
                     "intervals may be rough")
    burn = min(int(2 * tmax), done // 2)
    thin = max(1, int(tmax / 2))
    chain_z = sampler.get_chain(discard=burn, thin=thin)  # (steps, walkers, ndim)
    chain = like.from_unconstrained(chain_z)
    import arviz as az

    posterior = {n: np.swapaxes(chain[..., i], 0, 1) for i, n in enumerate(like.param_names)}
    idata = az.from_dict(posterior=posterior, attrs={"model": like.name, "sampler": "emcee", "walkers": walkers,
                                                     "steps": done, "burn": burn, "thin": thin})
    summ = az.summary(idata, hdi_prob=level, round_to="none")
    for n in like.param_names:
        rh, ess = float(summ.loc[n, "r_hat"]), float(summ.loc[n, "ess_bulk"])
        if not math.isfinite(rh) or rh > 1.01:
            notes.append(f"R-hat of {n} is {rh:.3f} (> 1.01): the walkers disagree; run longer")
        if not math.isfinite(ess) or ess < 400:
            notes.append(f"effective sample size of {n} is {ess:.0f} (< 400): run longer")
    for msg in notes:
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
    samples = chain.reshape(-1, ndim)
    lo, hi = np.quantile(samples, [0.5 - level / 2, 0.5 + level / 2], axis=0)
    diagnostics = {"sampler": "emcee", "walkers": walkers, "steps": done, "burn": burn, "thin": thin,
                   "tau": np.asarray(tau).tolist(), "warnings": notes,
                   "params": {n: {"r_hat": float(summ.loc[n, "r_hat"]), "ess": float(summ.loc[n, "ess_bulk"])}
                              for n in like.param_names}}
    return Fit(like.spec, "mcmc", like.param_names, np.median(samples, axis=0), lo, hi, level,
               loglike=mle.loglike, n_problems=like.n_problems, covariance=mle.covariance, coords="unconstrained",
               draws=samples, idata=idata, diagnostics=diagnostics, likelihood=like, extra={"mle": mle.to_dict()})


def compare_loo(posteriors: dict, max_draws: int = 400, seed=0):
    """PSIS-LOO and WAIC (arviz) of several posteriors on the same counts, best first.

    Leaving one problem out depends only on that problem's (N, c), so the pointwise values are
    computed once per distinct pair and weighted by its multiplicity. Returns a pandas DataFrame
    with elpd_loo, se, the difference to the best with its standard error (paired over
    problems), p_loo, elpd_waic, the largest Pareto k, and ``weight``: the pseudo-BMA+ weight
    of each model (Yao et al. 2018: softmax of elpd_loo, averaged over a Bayesian bootstrap of
    the problems, which keeps a difference within its noise from deciding alone).
    """
    import arviz as az
    import pandas as pd

    rng = np.random.default_rng(seed)
    pointwise, rows = {}, {}
    for name, post in posteriors.items():
        like = post.likelihood
        s = post.draws
        draws = s[rng.choice(s.shape[0], min(max_draws, s.shape[0]), replace=False)]
        ll = like.pointwise(draws)  # (draws, pairs)
        idata = az.from_dict(posterior={n: draws[None, :, i] for i, n in enumerate(like.param_names)},
                             log_likelihood={"c": ll[None, :, :]})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loo = az.loo(idata, pointwise=True)
            waic = az.waic(idata, pointwise=True)
        w = like.w
        n = w.sum()
        li = np.asarray(loo.loo_i)
        wi = np.asarray(waic.waic_i)
        pointwise[name] = (li, w, like.hist)
        elpd = float(w @ li)
        se = float(np.sqrt(w @ (li - elpd / n) ** 2))  # sqrt(n var), var over problems
        rows[name] = {"elpd_loo": elpd, "se": se,
                      "p_loo": float(w @ (np.log(np.mean(np.exp(ll - ll.max(0)), 0)) + ll.max(0) - li)),  # lppd - elpd
                      "elpd_waic": float(w @ wi), "pareto_k_max": float(np.max(np.asarray(loo.pareto_k)))}
    best = max(rows, key=lambda k: rows[k]["elpd_loo"])
    lb, wb, hb = pointwise[best]
    for name, (li, _w, h) in pointwise.items():
        # per-problem difference: both are indexed by the same histogram of the same counts
        d = lb[hb.inverse] - li[h.inverse]
        rows[name]["elpd_diff"] = float(d.sum())
        rows[name]["dse"] = float(np.sqrt(d.size * d.var()))
    # pseudo-BMA+: a Dirichlet(1, ..., 1) bootstrap over problems is, summed within each distinct
    # (N, c), a Dirichlet over the pairs with their multiplicities as concentrations
    first = np.unique(hb.inverse, return_index=True)[1]  # one problem of each of the best's pairs
    names = list(pointwise)
    E = np.column_stack([li[h.inverse][first] for li, _, h in (pointwise[m] for m in names)])  # (pairs, models)
    alpha = rng.dirichlet(wb, size=1000)
    z = float(wb.sum()) * alpha @ E
    z = np.exp(z - z.max(axis=1, keepdims=True))
    for name, wt in zip(names, (z / z.sum(axis=1, keepdims=True)).mean(axis=0)):
        rows[name]["weight"] = float(wt)
    df = pd.DataFrame(rows).T.sort_values("elpd_loo", ascending=False)
    return df[["elpd_loo", "se", "elpd_diff", "dse", "p_loo", "elpd_waic", "pareto_k_max", "weight"]]
