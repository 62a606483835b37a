"""Ranking problems for fine-tuning, in the terms a user acts on, with probabilities that carry the
uncertainty of the population.

Two questions (``question``):

* ``"learnable"``: is the problem's success probability q inside a band [q_lo, q_hi]? The default
  band, [1/K, 0.2] for a budget of K attempts, suits fine-tuning on verifiable rewards: within K
  attempts the problem yields about K q >= 1 successes to learn from, yet it still fails at least
  four times in five. Problems are ranked by P(q_lo <= q <= q_hi | data). A band on P(solved within
  K) = 1 - (1 - q)^K, ``band=(lo, hi)``, is the same event on q (:func:`band_to_q`).
* ``"hidden"``: problems not solved so far (c = 0) that will be solved within K more attempts:
  P = 1{c = 0} (1 - E[(1 - q)^K | N, c = 0]), and 0 for a problem already solved.

Each problem's q has a posterior given its own counts under a population model fitted to all of
them (any per-problem model; MATH.md, empirical Bayes). With ``hyper="full"`` the uncertainty of the
population parameters theta is carried through: every probability is the average over posterior
draws theta_d (``difficulty.fit.sample_posterior``; the Laplace approximation for a
maximum-likelihood fit),

    P(event | data) = (1/D) sum_d P(event | N_i, c_i, theta_d),

and the intervals for q are quantiles of the mixture of the per-draw posteriors (those for
P(solved within K) their image under the monotone map q -> 1 - (1 - q)^K). For the Beta model
q_i | c_i, theta ~ Beta(beta + c_i, alpha + N_i - c_i) and P(solved within K | c_i, theta)
= 1 - B(alpha + N_i - c_i + K, beta + c_i) / B(alpha + N_i - c_i, beta + c_i), with an atom q = 0 of
weight P(never | c_i = 0) when a never-solvable fraction is fitted; other models use the same
quantities from their own marginal (quadrature).

The output is always the whole ranked list, with the expected number of problems truly in the band
(or truly hidden but obtainable) among the top n, ``expected_in_top``: the sum of the probabilities
down to rank n. The confident selection (probability >= ``confidence``) may be empty; ``note`` then
says why. What the counts cannot say: for a problem never solved in N attempts they put q below
about 3/N and say nothing more, so whether q >= 1/K for K >> N rests on the population model's shape
below 1/N. ``benchmarks/bench_ranking_real.py`` measures how well that holds on real evaluations.

With a joint fit over several groups (``fit=difficulty.joint.fit_joint(...)``, ``group=`` naming one
of them; ``difficulty rank --joint``), each problem's posterior is the joint model's: its q given its
own counts and what every other group did on it (``JointFit.problem_table``), averaged over the joint
posterior's draws. Problems a group never solved are then told apart by the other groups' results.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

from .counts import EvalCounts
from .errors import DifficultyError
from .forecast import DEFAULT_FORECAST

__all__ = ["RankedProblems", "rank_problems", "band_to_q", "q_to_band", "default_q_band", "stratified_pick",
           "QUESTIONS", "DEFAULT_MODEL"]

QUESTIONS = ("learnable", "hidden")
# the forecast's model, so that one posterior serves both (the report ranks from the forecast's fit) and a
# ranking's P(solved within K), summed, agrees with the forecast of pass@K. Measured against the Beta
# posterior (the default before) in the same runs: on real evaluations (benchmarks/bench_ranking_real.py,
# never-solved problems' P(solved within K)) ECE 0.144 against 0.179, worst group 0.405 against 0.465,
# learnable ECE 0.120 against 0.135, q intervals cover 0.863 against 0.872; on generated shapes
# (benchmarks/bench_ranking.py) the mean ECE over five shapes is the same (0.208 against 0.207; better
# on the logit-normal, worse on the Beta, the zero-inflated Beta and the mixture).
DEFAULT_MODEL = DEFAULT_FORECAST["model"]
DEFAULT_Q_HI = 0.2
POSTERIOR_MAX_STEPS = 4000  # emcee's cap when importance sampling cannot be trusted (a ranking needs ~200 draws)

# posterior CDFs are bracketed on this grid of q: 0, down to 1e-300 coarsely, then 10 points a decade in q
# from 1e-15 to 1/2 and in 1 - q from 1/2 to 1e-15, then 1
_HALF = np.logspace(-15, np.log10(0.5), 144)
_Q_GRID = np.concatenate([[0.0, 1e-300, 1e-200, 1e-100, 1e-50, 1e-30, 1e-20], _HALF, 1.0 - _HALF[-2::-1], [1.0]])
_REFINE_STEPS = 30  # at most, on each quantile, in logit q: regula falsi (Illinois) and bisection in turn
_LEVEL_TOL = 1e-4  # a quantile is done when its CDF is this close to the level, or its bracket this narrow


def band_to_q(band, budget):
    """[lo, hi] on P(solved within K) -> [q_lo, q_hi] on the success probability."""
    lo, hi = band
    K = float(budget)
    return -np.expm1(np.log1p(-lo) / K), (-np.expm1(np.log1p(-hi) / K) if hi < 1 else 1.0)


def q_to_band(q_band, budget):
    """[q_lo, q_hi] -> [lo, hi] on P(solved within K) = 1 - (1 - q)^K."""
    K = float(budget)
    return tuple(float(-np.expm1(K * np.log1p(-q))) if q < 1 else 1.0 for q in q_band)


def default_q_band(budget) -> tuple[float, float]:
    """[1/K, 0.2]: about one success or more expected within K attempts, yet failing most of them
    (for K <= 5, where 1/K >= 0.2: [1/K, 1])."""
    lo = 1.0 / float(budget)
    return (lo, DEFAULT_Q_HI) if lo < DEFAULT_Q_HI else (lo, 1.0)


@dataclass
class RankedProblems:
    """The ranked list. ``table`` has one row per problem (in the input's order; ``rank`` 1 is the most
    probable); ``probability`` is the question's, ``expected_in_top`` its sum down to that rank."""

    table: object  # pandas DataFrame
    budget: float
    band: tuple | None  # the learnable band on P(solved within K); None for the hidden question
    confidence: float
    level: float
    model: str
    expected_obtainable_selected: float  # expected number truly in the band among the selected
    question: str = "learnable"
    q_band: tuple | None = None
    posterior: str = ""
    note: str = ""
    top: int | None = None
    fit_info: dict = field(default_factory=dict)
    fit_note: str = ""  # what the fit said (the note without what the question's selection adds)

    @property
    def ranked(self):
        """The table sorted by rank."""
        return self.table.sort_values("rank")

    @property
    def n_selected(self) -> int:
        return int(self.table["selected"].sum())

    def expected_in_top(self, n: int) -> float:
        """Expected number of problems truly in the band (truly hidden but obtainable) among the top n."""
        t = self.ranked
        n = min(int(n), len(t))
        return float(t["expected_in_top"].iloc[n - 1]) if n > 0 else 0.0

    def asking(self, question: str) -> RankedProblems:
        """The same posterior per problem asked ``question``, without a second pass over the draws:
        "hidden" from any ranking, "learnable" from a ranking that has its band."""
        if question not in QUESTIONS:
            raise DifficultyError(f"unknown question {question!r}; choose {' or '.join(QUESTIONS)}")
        if question == "learnable" and self.q_band is None:
            raise DifficultyError("this ranking has no band: rank again with the learnable question and a band")
        table = self.table.drop(columns=["probability", "rank", "expected_in_top", "selected"])
        return _ranked(table, question, self.budget, self.band, self.q_band, self.confidence, self.level, self.top,
                       self.model, self.posterior, self.fit_note, self.fit_info)

    def describe(self) -> str:
        """The question in words."""
        if self.question == "hidden":
            return f"not solved so far, solved within {self.budget:g} more attempts"
        lo, hi = self.q_band
        return (f"success rate q in [{lo:.4g}, {hi:.4g}] (P(solved within {self.budget:g} attempts) in "
                f"[{self.band[0]:.4g}, {self.band[1]:.4g}])")

    def to_dict(self):
        rows = self.ranked
        if self.top is not None:
            rows = rows.head(self.top)
        return {"question": self.question, "budget": self.budget,
                "q_band": None if self.q_band is None else list(self.q_band),
                "band": None if self.band is None else list(self.band), "confidence": self.confidence,
                "level": self.level, "model": self.model, "posterior": self.posterior, "fit": self.fit_info,
                "n_problems": int(len(self.table)), "top": self.top, "n_selected": self.n_selected,
                "expected_obtainable_selected": self.expected_obtainable_selected, "note": self.note,
                "problems": rows.to_dict(orient="records")}


def _posterior_cdf(cdf_of, thetas, x, failures):
    """sum over the draws of cdf_of(draws, x) (draws, pairs, X), draw by draw where a block fails;
    a draw whose CDF cannot be evaluated counts as NaN, and the reason is kept in ``failures``."""
    try:
        return cdf_of(thetas, x).sum(axis=0)
    except (ValueError, ArithmeticError) as e:
        failures.setdefault("cdf", f"{type(e).__name__}: {e}")
    out = 0.0
    for th in thetas:
        try:
            out = out + cdf_of(th[None, :], x)[0]
        except (ValueError, ArithmeticError):
            out = out + np.nan
    return out


def _mixture_cdf_at(like, thetas, x, step, failures, rows):
    """The mixture over the draws of the posterior CDF of each pair in ``rows``, at that pair's own
    points x (len(rows), L): one CountMarginal of those pairs, each evaluated at its own points only."""
    from .models.marginal import CountMarginal

    hist = like.hist
    sub = CountMarginal(like.spec.cls, hist.n[rows], hist.c[rows])

    def cdf_of(th, pts):
        with np.errstate(all="ignore"):
            return sub.posterior_cdf(like.model(th), pts, paired=True)

    acc = np.zeros(x.shape)
    for s in range(0, len(thetas), step):
        acc += _posterior_cdf(cdf_of, thetas[s:s + step], x, failures)
    return acc / len(thetas)


def _mixture_quantiles(like, thetas, probs, step, cdf_grid, failures):
    """Quantiles (len(probs), pairs) of each pair's mixture posterior of q: bracketed on _Q_GRID (whose
    CDF is ``cdf_grid``), then refined in logit q on the exact mixture CDF, by regula falsi (Illinois)
    alternating with bisection, until the CDF is within _LEVEL_TOL of the level or the bracket closes."""
    probs = np.asarray(probs, dtype=float)
    P, L = cdf_grid.shape[0], probs.size
    cdf = np.maximum.accumulate(np.clip(cdf_grid, 0.0, 1.0), axis=1)
    i = np.stack([np.argmax(cdf >= pr, axis=1) for pr in probs], axis=1)  # (P, L): first grid point at the level
    i = np.where(np.stack([cdf[:, -1] >= pr for pr in probs], axis=1), i, _Q_GRID.size - 1)
    out = np.where(np.isnan(cdf).any(axis=1)[:, None], np.nan, _Q_GRID[i])
    active = (i > 1) & (i < _Q_GRID.size - 1) & ~np.isnan(out)  # a bracket inside (0, 1) to refine
    with np.errstate(divide="ignore"):
        logit = np.log(_Q_GRID) - np.log1p(-_Q_GRID)
    j = np.where(active, i, 2)
    a, b = logit[j - 1], logit[j]
    rows = np.arange(P)[:, None]
    fa, fb = cdf[rows, j - 1] - probs, cdf[rows, j] - probs
    side = np.zeros((P, L))
    for step_no in range(_REFINE_STEPS):
        live = np.flatnonzero(active.any(axis=1))
        if not live.size:
            break
        t = np.where(fb > fa, -fa / np.where(fb > fa, fb - fa, 1.0), 0.5)
        m = a + (0.5 if step_no % 2 else np.clip(t, 0.0, 1.0)) * (b - a)
        fm = np.zeros((P, L))
        fm[live] = _mixture_cdf_at(like, thetas, expit(m[live]), step, failures, live) - probs
        act = active & np.isfinite(fm)
        left = act & (fm < 0)  # the level lies above m
        right = act & ~left
        a, fa = np.where(left, m, a), np.where(left, fm, fa)
        b, fb = np.where(right, m, b), np.where(right, fm, fb)
        fb = np.where(left & (side == 1), fb / 2, fb)  # Illinois: the end that stayed twice counts half
        fa = np.where(right & (side == -1), fa / 2, fa)
        side = np.where(left, 1, np.where(right, -1, side))
        done = act & ((np.abs(fm) < _LEVEL_TOL) | (b - a < _LEVEL_TOL))
        out = np.where(done, expit(m), out)
        out = np.where(active & ~np.isfinite(fm), np.nan, out)
        active &= ~done & np.isfinite(fm)
    t = np.where(fb > fa, -fa / np.where(fb > fa, fb - fa, 1.0), 0.5)
    out = np.where(active, expit(a + np.clip(t, 0.0, 1.0) * (b - a)), out)
    return out.T


def _population_fit(counts, model, hyper, level, seed, progress):
    """The population fit: posterior draws for ``hyper="full"`` (falling back, with a note, to the
    Laplace approximation when the sampler fails), else maximum likelihood."""
    from .fit.mle import fit_mle

    if counts is None:
        raise DifficultyError("rank_problems needs counts or a fit")
    if hyper != "full":
        return fit_mle(counts, model, level=level), ""
    from .fit.mcmc import sample_posterior

    try:
        with warnings.catch_warnings():  # the sampler's diagnostics are kept in the fit and reported
            warnings.simplefilter("ignore", RuntimeWarning)
            return sample_posterior(counts, model, max_steps=POSTERIOR_MAX_STEPS, seed=seed, level=level,
                                    progress=progress), ""
    except DifficultyError:
        raise
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as e:
        note = (f"posterior sampling failed ({type(e).__name__}: {e}); population uncertainty from the Laplace "
                "approximation at the maximum likelihood instead")
        return fit_mle(counts, model, level=level), note


def _posterior_label(fit, hyper) -> str:
    if hyper == "eb":
        return "point estimate (population uncertainty ignored)"
    if fit.draws is not None:
        d = fit.diagnostics
        how = d.get("sampler", fit.method)
        warn = "; " + "; ".join(d["warnings"]) if d.get("warnings") else ""
        return f"posterior draws ({how}){warn}"
    if fit.covariance is not None and np.all(np.isfinite(fit.covariance)):
        return "Laplace approximation at the maximum likelihood"
    return "point estimate (no usable Laplace covariance at the maximum)"


def _check_band(q_band, what="--q-band"):
    lo, hi = (float(x) for x in q_band)
    if not (0 <= lo < hi <= 1):
        raise DifficultyError(f"{what} must satisfy 0 <= LO < HI <= 1, got {lo:g},{hi:g}")
    return lo, hi


def _empty_note(question, prob, table, confidence, q_band, budget) -> str:
    """Why no problem reaches ``confidence``."""
    zero = table["c"].to_numpy() == 0
    if question == "hidden" and not zero.any():
        return "every problem was solved at least once: none is hidden"
    if not np.isfinite(prob).any():
        return "no probability could be evaluated"
    best = int(np.argmin(table["rank"].to_numpy()))  # the list's first (ties: the harder problem first)
    n, c = int(table["n"].iloc[best]), int(table["c"].iloc[best])
    head = (f"no problem reaches probability {confidence:g}; the most probable, {table['problem'].iloc[best]!r} "
            f"(c = {c} of N = {n}), has {prob[best]:.3g}")
    if question == "hidden" or (zero.any() and q_band[0] > 0
                                and np.nanmax(prob[zero]) >= np.nanmax(prob[~zero], initial=0)):
        edge = q_band[0] if question != "hidden" else 1 / budget
        if zero[best]:  # the most probable is itself never solved: its own N
            said = f"never solved in its N = {n} attempts, its q is below about {3 / n:.2g}"
        else:
            n0 = int(table["n"][zero].max())
            said = f"a problem never solved (N up to {n0} here) has q below about 3/N"
        why = (f": {said}, and whether q >= {edge:.3g} rests on the population model below 1/N, which the "
               "counts cannot settle")
    elif (table["n"].to_numpy() < 3 / max(q_band[1] - q_band[0], 1e-300)).all():
        why = f": with N <= {int(table['n'].max())} attempts the counts cannot place q within a band this narrow"
    else:
        why = ": the counts leave each problem's q spread across the band's edges"
    return head + why + ". The ranked list stands: expected_in_top counts the problems truly in it among the top n"


def rank_problems(counts: EvalCounts | None = None, budget: float = 1000, band=None, model: str = DEFAULT_MODEL,
                  confidence: float = 0.8, level: float = 0.9, hyper: str = "full", draws: int = 200,
                  top: int | None = None, seed=0, fit=None, question: str = "learnable", q_band=None,
                  group=None, progress=None) -> RankedProblems:
    """Every problem's probability for ``question`` ("learnable": q in ``q_band``, default [1/K, 0.2],
    or in the band ``band`` on P(solved within ``budget``); "hidden": unsolved so far and solved within
    ``budget`` more attempts), ranked, with intervals for q and P(solved within K) at ``level``.

    ``fit``: the population fit to use (any per-problem model; its posterior draws when it has them,
    else its Laplace approximation), or a joint fit over groups (:func:`difficulty.joint.fit_joint`)
    with ``group`` naming the group to rank. Without it, ``model`` is fitted to ``counts`` once: by its
    posterior (``hyper="full"``), by maximum likelihood with Laplace draws (``hyper="laplace"``) or at
    the maximum only (``hyper="eb"``, the population's uncertainty ignored). ``draws``: parameter draws
    averaged over. ``top``: only the top n can be selected. ``progress``: the sampler's callback."""
    from .joint import JointFit

    if question not in QUESTIONS:
        raise DifficultyError(f"unknown question {question!r}; choose {' or '.join(QUESTIONS)}")
    if hyper not in ("full", "laplace", "eb"):
        raise DifficultyError(f"hyper must be full, laplace or eb, got {hyper!r}")
    if not (np.isfinite(budget) and budget >= 1):
        raise DifficultyError(f"--budget must be a finite number of attempts >= 1, got {budget}")
    if not 0 < confidence < 1:
        raise DifficultyError(f"confidence must be in (0, 1), got {confidence}")
    if band is not None and q_band is not None:
        raise DifficultyError("give the band on q (--q-band) or on P(solved within K) (--band), not both")
    if question == "hidden" and (band is not None or q_band is not None):
        raise DifficultyError("the hidden question has no band: it asks for problems unsolved so far and "
                              "solved within --budget more attempts")
    if band is not None:
        lo, hi = (float(x) for x in band)
        if not (0 < lo < hi <= 1):
            raise DifficultyError(f"--band must satisfy 0 < LO < HI <= 1, got {lo},{hi}")
        q_band = band_to_q((lo, hi), budget)
    q_lo, q_hi = _check_band(q_band if q_band is not None else default_q_band(budget))
    band_p = (float(band[0]), float(band[1])) if band is not None else q_to_band((q_lo, q_hi), budget)
    if top is not None and top < 0:
        raise DifficultyError(f"--top must be >= 0, got {top}")
    K = float(budget)
    if isinstance(fit, JointFit):
        if hyper == "eb":
            raise DifficultyError("a joint fit carries its posterior draws; hyper='eb' is for a per-group fit")
        if group is None:
            raise DifficultyError(f"ranking from a joint fit needs group= (one of {', '.join(fit.groups[:8])}"
                                  f"{', ...' if len(fit.groups) > 8 else ''})")
        table = fit.problem_table(group, K, q_band=(q_lo, q_hi), level=level, draws=draws)
        table.insert(table.columns.get_loc("p_solve_within_budget"), "p_hidden_obtainable",
                     np.where(table["c"].to_numpy() == 0, table["p_solve_within_budget"].to_numpy(), 0.0))
        d = fit.diagnostics
        info = {"method": "laplace", "groups": len(fit.groups), "problems": len(fit.problems),
                "shared_share": fit.shared_share(group, draws),
                **{k: d[k] for k in ("converged", "iterations", "seconds") if k in d}}
        exact = d.get("groups_theta_conditional", 0) + d.get("problems_b_conditional", 0)
        posterior = (f"joint posterior over {len(fit.groups)} groups (Laplace approximation at the mode"
                     + (f", {exact} one-sided parameters from their exact conditionals" if exact else "")
                     + (", the never-solvable share with the unsolved problems' difficulties integrated out"
                        if d.get("problems_b_conditional", 0) else "")
                     + f"; {min(int(draws), len(fit.draws))} draws)")
        return _ranked(table, question, K, band_p, (q_lo, q_hi), confidence, level, top, "joint", posterior,
                       "" if d.get("converged", True) else f"the joint fit did not converge ({d.get('message', '')})",
                       info)
    if group is not None:
        raise DifficultyError("group= names a group of a joint fit (fit=fit_joint(...)); rank a group's own "
                              "counts without it")
    table, note, fit = _per_group_table(counts, model, hyper, level, seed, progress, fit, draws, K, q_lo, q_hi)
    info = {"method": fit.method, **{k: v for k, v in fit.diagnostics.items() if k not in ("params", "warnings")}}
    return _ranked(table, question, K, band_p, (q_lo, q_hi), confidence, level, top, fit.model_name,
                   _posterior_label(fit, hyper), note, info)


def _per_group_table(counts, model, hyper, level, seed, progress, fit, draws, K, q_lo, q_hi):
    """The probability columns of every problem under a per-problem population fit (fitted here when
    ``fit`` is None), the note of what went wrong on the way, and the fit."""
    import pandas as pd

    note = ""
    if fit is None:
        fit, note = _population_fit(counts, model, hyper, level, seed, progress)
    like = fit.likelihood
    if like is None:
        raise DifficultyError(f"ranking needs a per-problem fit; {fit.model_name} ({fit.method}) has none")
    counts = like.counts
    thetas = fit.parameter_draws(int(draws), seed) if hyper != "eb" else fit.estimate[None, :]
    D, P = len(thetas), like.n.size
    p_solve, q_mean, p_never = np.zeros(P), np.zeros(P), np.zeros(P)
    cdf, band_cdf = np.zeros((P, _Q_GRID.size)), np.zeros((P, 2))
    failures = {}
    step = max(1, min(D, 64 // max(1, P // 64)))  # draws per block: a block's CDFs stay a few MB
    for s in range(0, D, step):  # every quantity is the mixture over the draws of each problem's posterior
        th = thetas[s:s + step]
        lu = like.log_unsolved_after(th, [K, 1.0])  # (draws, pairs, 2): log E[(1 - q)^K], log E[1 - q]
        p_solve += (-np.expm1(lu[..., 0])).sum(axis=0)
        q_mean += (-np.expm1(lu[..., 1])).sum(axis=0)
        p_never += np.exp(like.log_never_solvable(th)).sum(axis=0)
        cdf += _posterior_cdf(like.posterior_cdf, th, _Q_GRID, failures)
        band_cdf += _posterior_cdf(like.posterior_cdf, th, np.array([q_lo, q_hi]), failures)
    p_solve, q_mean, p_never, cdf, band_cdf = (x / D for x in (p_solve, q_mean, p_never, cdf, band_cdf))
    below = band_cdf[:, 0] if q_lo > 0 else 0.0  # a band from q = 0 holds the never-solvable atom
    in_band = np.clip(band_cdf[:, 1] - below, 0.0, 1.0)
    hidden = np.where(like.c == 0, np.clip(p_solve, 0.0, 1.0), 0.0)
    q_low, q_high = _mixture_quantiles(like, thetas, [0.5 - level / 2, 0.5 + level / 2], step, cdf, failures)
    if failures:
        why = (f"the {fit.model_name} posterior CDF of q could not be evaluated for some draws "
               f"({failures['cdf']}); their intervals and band probabilities are left out (NaN)")
        note = f"{note}; {why}" if note else why
    to_solve = lambda q: -np.expm1(K * np.log1p(-np.clip(q, 0, 1 - 1e-16)))  # noqa: E731
    inv = like.hist.inverse
    table = pd.DataFrame({
        "problem": counts.problem_ids, "n": counts.n, "c": counts.c,
        "q_mean": np.clip(q_mean, 0.0, 1.0)[inv], "q_low": q_low[inv], "q_high": q_high[inv],
        "p_in_band": in_band[inv], "p_hidden_obtainable": hidden[inv],
        "p_solve_within_budget": np.clip(p_solve, 0.0, 1.0)[inv], "p_solve_within_budget_low": to_solve(q_low)[inv],
        "p_solve_within_budget_high": to_solve(q_high)[inv],
    })
    if "A" in fit.param_names:
        table["p_never"] = p_never[inv]
    return table, note, fit


def _ranked(table, question, K, band_p, q_band, confidence, level, top, model_name, posterior, note, info):
    """The question's probability per problem, ranked (most probable first; a probability that could not
    be evaluated last; ties, equal counts, by the harder problem first, then in input order), with the
    expected number truly in it down to each rank and the confident selection."""
    fit_note = note
    prob = (table["p_in_band"] if question == "learnable" else table["p_hidden_obtainable"]).to_numpy(dtype=float)
    table.insert(3, "probability", prob)
    order = np.lexsort((np.arange(len(table)), table["q_mean"].to_numpy(), -np.nan_to_num(prob, nan=-1.0)))
    rank = np.empty(len(table), dtype=int)
    rank[order] = np.arange(1, len(table) + 1)
    table["rank"] = rank
    expected = np.empty(len(table))
    expected[order] = np.cumsum(prob[order])
    table["expected_in_top"] = expected
    selected = prob >= confidence
    if top is not None:
        selected &= rank <= int(top)
    table["selected"] = selected
    if not selected.any():
        why = (f"--top {top} keeps no problem" if top == 0 else
               _empty_note(question, prob, table, confidence, q_band, K))
        note = f"{note}; {why}" if note else why
    return RankedProblems(table, K, None if question == "hidden" else band_p, confidence, level, model_name,
                          float(prob[selected].sum()), question=question,
                          q_band=None if question == "hidden" else q_band,
                          posterior=posterior, note=note, top=None if top is None else int(top), fit_info=info,
                          fit_note=fit_note)


def stratified_pick(ranked: RankedProblems, n: int, seed=0):
    """n selected problems spread evenly over the range of posterior difficulty (q_mean)."""
    sel = ranked.table[ranked.table["selected"]].sort_values("q_mean")
    if len(sel) <= n:
        return sel
    idx = np.round(np.linspace(0, len(sel) - 1, n)).astype(int)
    return sel.iloc[idx]
