"""``difficulty model``: a model's pass@k, inference loss and difficulty density."""
from __future__ import annotations

import numpy as np

from ..errors import DifficultyError
from .common import (
    add_command,
    floats_arg,
    model_from_args,
    model_names,
    numerical_failure,
    print_json,
    with_notes,
)

LOG_MAX = float(np.log(np.finfo(float).max))  # exp of anything above this overflows


def add_parser(subparsers) -> None:
    p = add_command(subparsers, "model", help="evaluate a model's pass@k, inference loss and density",
                    description=lambda: f"Evaluate a model (parameters as --NAME VALUE; models: {model_names()}).",
                    example="difficulty model beta --alpha 2 --beta 0.35 --k 1,10,100 --json")
    p.add_argument("name", help="model name")
    p.add_argument("--k", default="1,10,100,1000", help="comma-separated k (real k >= 0 allowed)")
    p.add_argument("--sigma", default="0.01,0.1,1,3", help="comma-separated sigma = log(1/p) for the density")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run, extras=True)


def _params_text(model) -> str:
    return ", ".join(f"{k}={float(v):g}" for k, v in model.params.items() if np.ndim(v) == 0)


def _evaluate(fn, shape, key: str, model, reasons: dict):
    """fn() as a float array; where the computation itself fails in double precision (an exception, not
    an inf), NaN everywhere with the reason kept for the note."""
    try:
        return np.asarray(fn(), dtype=float) + 0.0  # + 0.0: no -0.0 in the output
    except (ArithmeticError, ValueError) as e:
        if not numerical_failure(e):
            raise
        reasons[key] = f"cannot be evaluated in double precision at {_params_text(model)} ({type(e).__name__}: {e})"
        return np.full(shape, np.nan)


def _log_asymptote(model, k):
    """(log of the large-k inference loss at each k, log of its prefactor, the prefactor's formula and the
    exponent's name) for the models whose prefactor is a ratio of gamma functions, which overflows long
    before the loss itself does; None for the others (their own method is used)."""
    from scipy.special import betaln, gammaln, logsumexp

    from ..models import BetaMixtureModel, BetaModel, EffectiveKBetaModel, KumaraswamyModel, ScaledBetaModel

    if isinstance(model, EffectiveKBetaModel):
        if float(model.kappa) >= 1:
            return None  # the model's own method says why there is no power law
        log_k = np.log(model.effective_k(k))
        model = model.base
    else:
        log_k = np.log(k)
    log_a = np.log(model.ceiling)
    if isinstance(model, BetaMixtureModel):
        terms = [lw + gammaln(b) - betaln(a, b) for lw, a, b in zip(model.log_weights(), model.alphas(), model.betas())]
        tails = [t - b * log_k for t, b in zip(terms, model.betas())]
        return (log_a + logsumexp(np.stack(np.broadcast_arrays(*tails)), axis=0), log_a + logsumexp(terms),
                "A sum_j w_j Gamma(alpha_j+beta_j)/Gamma(alpha_j)", "beta_j")
    if isinstance(model, BetaModel):  # log Gamma(a + b) - log Gamma(a) = log Gamma(b) - log B(a, b), no cancellation
        a, b = float(model.alpha), float(model.beta)
        c = log_a + gammaln(b) - betaln(a, b)
        return c - b * log_k, c, "A Gamma(alpha+beta)/Gamma(alpha)", "beta"
    if isinstance(model, KumaraswamyModel):
        a, b = float(model.a), float(model.b)
        c = log_a + np.log(b) + gammaln(1 + a)
        return c - a * log_k, c, "A b Gamma(1+a)", "a"
    if isinstance(model, ScaledBetaModel):
        a, b, s = float(model.alpha), float(model.beta), float(model.scale)
        c = log_a + gammaln(a) - a * np.log(s) - betaln(a, b)
        return c - a * log_k, c, "A Gamma(alpha) scale^-alpha / B(alpha, beta)", "alpha"
    return None


def _asymptote(model, k, reasons: dict):
    """The large-k power law of the inference loss at each k (computed in log space where the model's
    form is known), with the reason for every entry that is not finite."""
    logs = _log_asymptote(model, k)
    if logs is None:
        value = np.asarray(model.inference_loss_asymptote(k), dtype=float)  # may raise: no power law
        why = {i: ("the power law diverges at k = 0" if k[i] == 0 else "not finite in double precision")
               for i in np.flatnonzero(~np.isfinite(value))}
    else:
        log_value, log_c, formula, exponent = logs
        value = np.exp(log_value)
        why = {}
        for i in np.flatnonzero(~np.isfinite(value)):
            if k[i] == 0:
                why[i] = f"the power law k^-{exponent} diverges at k = 0"
            elif log_c > LOG_MAX:
                why[i] = (f"overflows: {formula} is beyond double precision at {_params_text(model)} "
                          f"(its log is {log_c:.6g})")
            elif np.isnan(log_value[i]):
                why[i] = f"{formula} k^-{exponent} is undefined in double precision at k={k[i]:g}"
            else:
                why[i] = (f"overflows: {formula} k^-{exponent} is beyond double precision at k={k[i]:g} "
                          f"(its log is {log_value[i]:.6g})")
    if why:
        reasons["inference_loss_asymptote"] = why
    return value


def run(args, extras) -> int:
    from ..models import DifficultyModel

    model = model_from_args(args.name, extras)
    k = floats_arg(args.k, "--k")
    if np.any(k < 0):
        raise DifficultyError("--k values must be >= 0")
    reasons: dict = {}
    out = {"model": model.name, "params": model.params, "k": k,
           "pass_at_k": _evaluate(lambda: model.pass_at_k(k), k.shape, "pass_at_k", model, reasons),
           "inference_loss": _evaluate(lambda: model.inference_loss(k), k.shape, "inference_loss", model, reasons),
           "ceiling": model.ceiling}
    if isinstance(model, DifficultyModel):
        out["never_solved"] = model.never_solved
        sigma = floats_arg(args.sigma, "--sigma")
        if np.any(sigma <= 0):  # sigma = 0 is p = 1: the never-solved atom, not a point of the density
            raise DifficultyError("--sigma values must be > 0 (sigma = log(1/p); sigma = 0 is the never-solved "
                                  "atom, given as never_solved)")
        out["sigma"] = sigma
        try:
            out["density_sigma"] = _evaluate(lambda: model.density_sigma(sigma), sigma.shape, "density_sigma", model,
                                             reasons)
        except DifficultyError as e:
            out["density_sigma"] = None
            out["density_note"] = str(e)
    try:
        out["inference_loss_asymptote"] = _asymptote(model, k, reasons)
        out["tail_exponent"] = model.tail_exponent
    except DifficultyError:
        pass
    if args.json:
        print_json(out, reasons)
        return 0
    print(f"{model!r}   ceiling A = {model.ceiling:.6g}")
    print(f"{'k':>12}  {'pass@k':>14}  {'inference loss':>14}")
    for kk, v, loss in zip(k, out["pass_at_k"], out["inference_loss"]):
        print(f"{kk:>12.6g}  {v:>14.10f}  {loss:>14.6e}")
    if out.get("density_sigma") is not None:
        print(f"\n{'sigma':>12}  {'density':>14}")
        for sg, d in zip(out["sigma"], out["density_sigma"]):
            print(f"{sg:>12.6g}  {d:>14.6e}")
    notes = {key: v for key, v in with_notes(out, reasons).items()
             if key.endswith("_note") and key != "inference_loss_asymptote_note"}  # the asymptote is not printed
    for key, note in notes.items():
        print(f"note: {key[:-5]}: {note}")
    return 0
