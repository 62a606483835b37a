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
from ..errors import DifficultyError
from .likelihood import make_likelihood
from .mle import fit_mle
from .result import Fit

__all__ = ["sample_posterior", "compare_loo"]


def _log_prob(like, log_prior):
    """log posterior density in z (batched), from the default prior or a user's prior on theta."""

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

    return log_prob


PARETO_K_MAX = 0.7  # PSIS reliability threshold (Vehtari et al. 2024)
ESS_MIN = 400.0


def _proposal_scale(like, mle):
    """Centre and covariance (in z) of the importance proposal: the Laplace approximation at the
    mode; a parameter whose maximum lies at a bound of its range (A -> 1, a shape -> infinity) has no
    curvature there, so it is centred a little inside (|z| <= 8) with a standard deviation of 3 and
    the others keep their block of the Laplace covariance. None when even that block is unusable."""
    z_hat = like.to_unconstrained(mle.estimate)
    cov = mle.covariance
    if cov is None:
        return None
    cov = np.array(cov, dtype=float)
    edge = (np.abs(z_hat) >= 12.0) | ~np.isfinite(np.diag(cov)) | (np.diag(cov) <= 0)
    edge &= np.array([p.kind != "identity" for p in like.params])
    centre = np.where(edge, np.clip(z_hat, -8.0, 8.0), z_hat)
    cov[edge, :] = 0.0
    cov[:, edge] = 0.0
    cov[edge, edge] = 9.0
    if not np.all(np.isfinite(cov)):
        return None
    try:
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return None
    return centre, cov, int(edge.sum())


def _weighted_moments(Z, lw):
    """Mean and covariance of draws Z under log weights lw (normalised here), with a floor on the
    variances so that a proposal built from them never collapses; None without enough weight."""
    w = np.exp(lw - np.max(lw))
    w /= w.sum()
    if not np.isfinite(w).all() or 1.0 / np.sum(w**2) < 2.0:
        return None
    mean = w @ Z
    d = Z - mean
    cov = (d * w[:, None]).T @ d
    cov = 0.5 * (cov + cov.T) + np.eye(Z.shape[1]) * 1e-6
    return mean, cov


def _box_proposal(like, mle):
    """A broad start for adaptation when the mode gives no usable proposal: centred at the mode moved
    inside the prior's box, with a quarter of the box's width as the scale (3 where it is unbounded)."""
    z_hat = np.where(np.isfinite(like.to_unconstrained(mle.estimate)), like.to_unconstrained(mle.estimate), 0.0)
    lo, hi = like.prior_box_z()
    finite = np.isfinite(lo) & np.isfinite(hi)
    centre = np.where(finite, np.clip(z_hat, np.where(finite, lo, 0.0), np.where(finite, hi, 0.0)),
                      np.clip(z_hat, -8.0, 8.0))
    sd = np.where(finite, (np.where(finite, hi - lo, 0.0)) / 4.0, 3.0)
    return centre, np.diag(sd**2)


ADAPT_ROUNDS = 4  # proposals refitted to the weighted draws before giving up on importance sampling
PILOT_STEPS = 400  # emcee steps whose draws shape the first adapted proposal, when the mode's fails


def _importance(like, mle, log_prob, draws, rng, pilot=None):
    """Importance sampling from a multivariate t around the mode (:func:`_proposal_scale`), the
    weights smoothed and diagnosed by PSIS (arviz); a wider t is tried when the first fails, then up
    to ADAPT_ROUNDS proposals each fitted to the weighted draws of the one before (adaptive
    importance sampling: the mean and covariance of the posterior as the draws see it, a t of 4
    degrees of freedom, 1.5x its scale); the first of these rounds is fitted to a short emcee run
    (``pilot()``, draws in z) when one is given. Only the last proposal's draws make the sample, so
    each round is a plain importance sampler judged on its own. Returns (draws in z, diagnostics), or
    (None, reason) when no proposal can be trusted: Pareto k > 0.7, or an effective sample size
    below 400 with 4x the draws."""
    import arviz as az
    from scipy import stats

    got = _proposal_scale(like, mle)
    reason = "no usable Laplace covariance at the maximum"
    n_edge = 0
    plan = []
    if got is not None:
        centre, cov, n_edge = got
        edge_note = f"; {n_edge} parameter(s) at a bound widened" if n_edge else ""
        plan = [(centre, cov, 4.0, 1.2, f"multivariate t (df 4) at the mode, 1.2x the Laplace scale{edge_note}"),
                (centre, cov, 3.0, 2.0, f"multivariate t (df 3) at the mode, 2x the Laplace scale{edge_note}")]
    last = None  # (Z, log weights) of the round before: what the next proposal is fitted to
    rounds = 0
    while plan or rounds < ADAPT_ROUNDS:
        if plan:
            centre, cov, df, inflate, label = plan.pop(0)
        elif pilot is not None:  # the posterior's shape as a short chain sees it: where adaptation starts
            Zp = pilot()
            pilot = None
            if Zp is None or Zp.shape[0] < 2 * Zp.shape[1] + 2:
                continue
            mom = _weighted_moments(Zp, np.zeros(Zp.shape[0]))
            if mom is None:
                continue
            centre, cov = mom
            df, inflate = 4.0, 1.5
            label = f"multivariate t (df 4) fitted to a pilot emcee run ({Zp.shape[0]} draws), 1.5x its scale"
        else:
            mom = _weighted_moments(*last) if last is not None else None
            centre, cov = mom if mom is not None else _box_proposal(like, mle)
            df, inflate = 4.0, 1.5
            rounds += 1
            label = (f"multivariate t (df 4) fitted to the weighted draws, 1.5x their scale "
                     f"(adaptation round {rounds})")
        try:
            proposal = stats.multivariate_t(loc=centre, shape=cov * inflate**2, df=df)
        except (ValueError, np.linalg.LinAlgError):
            continue
        n = int(draws)
        for _ in range(3):
            Z = np.atleast_2d(proposal.rvs(size=n, random_state=rng))
            lw = log_prob(Z) - proposal.logpdf(Z)
            ok = np.isfinite(lw)
            if ok.sum() >= 2:
                last = (Z[ok], lw[ok])
            if ok.sum() < n // 10:
                reason = "most proposal draws fall outside the prior or the finite likelihood"
                break
            lw = np.where(ok, lw, -np.inf)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                lw_s, k = az.psislw(lw.copy())
            k = float(np.asarray(k))
            if not k <= PARETO_K_MAX:
                reason = f"importance sampling's Pareto k is {k:.2f} (> {PARETO_K_MAX})"
                break
            w = np.exp(lw_s - np.max(lw_s))
            w /= w.sum()
            ess = float(1.0 / np.sum(w**2))
            if ess >= ESS_MIN:
                idx = rng.choice(n, size=n, p=w)  # resampled: equally weighted draws for every consumer
                return Z[idx], {"sampler": "importance", "pareto_k": k, "ess": ess, "proposal_draws": n,
                                "proposal": label}
            reason = f"importance sampling's effective sample size is {ess:.0f} (< {ESS_MIN:.0f})"
            n *= 2
    return None, reason


def _emcee(like, mle, log_prob, walkers, steps, max_steps, log_prior, rng, report):
    """emcee's ensemble sampler, vectorised over walkers, started in a small ball at the mode; run in
    blocks of 500 steps until the bulk ESS of every parameter is >= 400 and its R-hat <= 1.01 (arviz,
    walkers as chains, after a burn-in of 2 autocorrelation times), or for ``steps`` exactly."""
    import arviz as az
    import emcee

    ndim = len(like.param_names)
    z_hat = like.to_unconstrained(mle.estimate)
    cov = mle.covariance if mle.covariance is not None and np.all(np.isfinite(mle.covariance)) else np.eye(ndim) * 1e-4
    # a floor on the ball's radius: a parameter whose curvature vanishes at the mode (a ceiling at 1, a
    # scale at 0) would otherwise start every walker at one value, which emcee refuses (linearly dependent)
    scale = np.sqrt(np.clip(np.diag(cov), 1e-4, 1.0))
    p0 = z_hat + 0.1 * scale * rng.standard_normal((walkers, ndim))
    if log_prior is None:  # an MLE beyond the prior's range (a shape running to infinity) starts
        lo, hi = like.prior_box_z()  # the walkers just inside it, spread apart
        for i, p in enumerate(like.params):
            if p.prior is not None:
                p0[:, i] = np.clip(p0[:, i], lo[i] + 0.01 + 0.05 * rng.random(walkers),
                                   hi[i] - 0.01 - 0.05 * rng.random(walkers))
    sampler = emcee.EnsembleSampler(walkers, ndim, log_prob, vectorize=True)
    sampler.random_state = np.random.RandomState(int(rng.integers(2**31))).get_state()
    block, total = (int(steps), int(steps)) if steps is not None else (500, int(max_steps))
    state, done = p0, 0
    tau = np.full(ndim, np.nan)

    def burn_of(t):
        tm = float(np.nanmax(t)) if np.any(np.isfinite(t)) else done / 10
        return min(int(2 * tm), done // 2), tm

    while done < total:
        n = min(block, total - done)
        try:
            for i, _ in enumerate(sampler.sample(state, iterations=n)):
                if (i + 1) % max(1, n // 10) == 0 or i + 1 == n:
                    report("sampling", done + i + 1, total if steps is not None else max(done + n, 1))
        except ValueError as e:  # emcee's own checks of the walkers (e.g. all at one point)
            raise DifficultyError(f"the {like.name} posterior's ensemble sampler could not run: {e}") from None
        state = sampler.get_last_sample()
        done += n
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tau = sampler.get_autocorr_time(tol=0)
        if steps is None:
            burn, _ = burn_of(tau)
            chains = np.swapaxes(sampler.get_chain(discard=burn), 0, 1)  # (walkers, steps, ndim)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ess = min(float(az.ess(chains[..., i], method="bulk")) for i in range(ndim))
                rhat = max(float(az.rhat(chains[..., i])) for i in range(ndim))
            if ess >= ESS_MIN and rhat <= 1.01:
                break
    report("sampling", done, done)
    burn, tmax = burn_of(tau)
    thin = max(1, int(tmax / 2))
    chain_z = sampler.get_chain(discard=burn, thin=thin)  # (steps, walkers, ndim)
    return np.swapaxes(chain_z, 0, 1), {"sampler": "emcee", "walkers": walkers, "steps": done, "burn": burn,
                                        "thin": thin, "tau": np.asarray(tau).tolist()}


def sample_posterior(counts: EvalCounts, model="beta", walkers: int = 32, steps: int | None = None,
                     max_steps: int = 20000, log_prior=None, seed=0, progress=None, level: float = 0.9,
                     mle: Fit | None = None, method: str = "auto", draws: int = 4000) -> Fit:
    """Draws from the posterior p(theta | counts) of any per-problem model (module docstring).

    ``method``: "auto" (importance sampling from a multivariate t at the mode, PSIS-diagnosed, and
    emcee when its Pareto k exceeds 0.7 or its effective sample size stays below 400), "importance"
    (the same, an error when it cannot be trusted) or "emcee"; ``steps`` given means emcee for exactly
    that many steps. The fit's ``diagnostics`` say which path ran and why.
    ``mle``: a maximum-likelihood Fit of the same model and counts to start from (else one is made).
    ``progress``: a callback progress(stage, done, total), or None."""
    if method not in ("auto", "importance", "emcee"):
        raise DifficultyError(f"unknown posterior method {method!r}; choose auto, importance or emcee")
    like = make_likelihood(model, counts)
    if mle is None or mle.likelihood is not like:
        mle = fit_mle(counts, like.spec, level=level)
    ndim = len(like.param_names)
    walkers = max(int(walkers), 2 * ndim + 2)
    log_prob = _log_prob(like, log_prior)
    rng = np.random.default_rng(seed)
    report = progress or (lambda stage, done, total: None)
    notes, fallback = [], None
    chains_z = None
    if steps is None and method in ("auto", "importance"):
        def pilot():
            got, _ = _emcee(like, mle, log_prob, walkers, PILOT_STEPS, PILOT_STEPS, log_prior, rng, report)
            return got.reshape(-1, ndim)

        Z, info = _importance(like, mle, log_prob, draws, rng, pilot=pilot)
        if Z is None:
            if method == "importance":
                raise DifficultyError(f"the importance-sampling posterior cannot be trusted: {info}")
            fallback = info
        else:
            chains_z, diag = Z.reshape(4, -1, ndim), info  # four pseudo-chains of the resampled draws
    if chains_z is None:
        chains_z, diag = _emcee(like, mle, log_prob, walkers, steps, max_steps, log_prior, rng, report)
        if fallback:
            diag["fallback_reason"] = fallback
    chain = like.from_unconstrained(chains_z)  # (chains, draws, ndim)
    params = {}
    if diag["sampler"] == "emcee":
        import arviz as az

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rhats = [float(az.rhat(chain[..., i])) for i in range(ndim)]
            esss = [float(az.ess(chain[..., i], method="bulk")) for i in range(ndim)]
    for i, n in enumerate(like.param_names):
        if diag["sampler"] == "importance":
            rh, ess = float("nan"), diag["ess"]  # resampled importance draws: their ESS is the weights'
        else:
            rh, ess = rhats[i], esss[i]
            if not math.isfinite(rh) or rh > 1.01:
                notes.append(f"R-hat of {n} is {rh:.3f} (> 1.01): the walkers disagree; run longer")
            if not math.isfinite(ess) or ess < ESS_MIN:
                notes.append(f"effective sample size of {n} is {ess:.0f} (< {ESS_MIN:.0f}): run longer")
        params[n] = {"r_hat": rh, "ess": ess}
    for msg in notes:
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
    samples = chain.reshape(-1, ndim)
    lo, hi = np.quantile(samples, [0.5 - level / 2, 0.5 + level / 2], axis=0)
    diagnostics = {**diag, "warnings": notes, "params": params}
    return Fit(like.spec, "mcmc", like.param_names, np.median(samples, axis=0), lo, hi, level,
               loglike=mle.loglike, n_problems=like.n_problems, covariance=mle.covariance, coords="unconstrained",
               draws=samples, chains=chain.shape[0], diagnostics=diagnostics, likelihood=like,
               extra={"mle": mle.to_dict()})


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
