"""Inference cost planning (Levi 2025, Eq. 13-15).

Total cost of k attempts at one problem: C = N_p F + N_d F k (prompt tokens N_p, decoded
tokens N_d per completion, F FLOPs per token)                                     (Eq. 13)

The k that reaches a target coverage is solved *exactly* from the model's pass@k by root
finding in log k; the paper's large-k closed form, from L(k) ~ A C0 k^(-beta),

    k(target) = ((A - target) / (A C0))^(-1/beta),   C0 = Gamma(alpha+beta)/Gamma(alpha) (Beta)

is reported beside it (it is only an asymptote). Coverage(C) and L(C) are the model's
pass@k and inference loss at k = (C/F - N_p)/N_d                                 (Eq. 14-15)
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize

from .errors import DifficultyError

__all__ = ["CostPlan", "plan_cost", "k_for_coverage", "coverage_at_cost", "inference_loss_at_cost", "cost_of_k"]

K_MAX = 1e15


def _check_tokens(prompt_tokens, decode_tokens, flops_per_token):
    for name, v, allow_zero in (("prompt_tokens", prompt_tokens, True), ("decode_tokens", decode_tokens, False),
                                ("flops_per_token", flops_per_token, False)):
        if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
            raise DifficultyError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {v}")


def cost_of_k(k, prompt_tokens, decode_tokens, flops_per_token=1.0):
    """C = N_p F + N_d F k (Eq. 13)."""
    return flops_per_token * (prompt_tokens + decode_tokens * np.asarray(k, dtype=float))


def _check_finite(model, value: float, k: float) -> None:
    """A pass@k that is not a number cannot be solved for: say so instead of handing NaN to the solver."""
    if not math.isfinite(value):
        raise DifficultyError(f"pass@k of {model!r} is not finite in double precision at k = {k:.6g}: "
                              "no k can be solved for")


def k_for_coverage(model, target: float) -> float:
    """The real k >= 1 at which the model's pass@k equals ``target`` (exact, by Brent's method)."""
    if not 0 < target < 1:
        raise DifficultyError(f"target coverage must be in (0, 1), got {target}")
    A = model.ceiling
    if target >= A:
        raise DifficultyError(f"target {target:g} is unreachable: the ceiling A = {A:.6g} bounds pass@k "
                              f"({1 - A:.3g} of problems are never solved)")
    top = float(model.pass_at_k(K_MAX))
    _check_finite(model, top, K_MAX)
    if top < target:
        raise DifficultyError(f"target {target:g} is unreachable: pass@k reaches only {top:.6g} at k = {K_MAX:.0e}")
    first = float(model.pass_at_k(1.0))
    _check_finite(model, first, 1.0)
    if first >= target:
        return 1.0

    def gap(logk):  # on the inference-loss scale, so targets near A keep their digits
        loss = float(model.inference_loss(math.exp(logk)))
        _check_finite(model, loss, math.exp(logk))
        return math.log(max(loss, 1e-300)) - math.log(A - target)  # a loss that underflows is ~0

    logk = optimize.brentq(gap, 0.0, math.log(K_MAX), xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500)
    return math.exp(logk)


@dataclass(frozen=True)
class CostPlan:
    target: float
    k: float  # exact real k from the model's pass@k
    k_attempts: int  # whole attempts needed: ceil(k)
    cost: float  # C at k_attempts
    k_asymptotic: float | None  # the paper's large-k closed form
    cost_asymptotic: float | None
    ceiling: float
    prompt_tokens: float
    decode_tokens: float
    flops_per_token: float

    def to_dict(self):
        return asdict(self)


def plan_cost(model, target: float, prompt_tokens: float, decode_tokens: float,
              flops_per_token: float = 1.0) -> CostPlan:
    """k and total cost C (Eq. 13) for a target coverage, exact and asymptotic (Eq. 14)."""
    _check_tokens(prompt_tokens, decode_tokens, flops_per_token)
    k = k_for_coverage(model, target)
    k_int = int(math.floor(k))
    if k_int < 1 or float(model.pass_at_k(k_int)) < target:
        k_int = int(math.ceil(k))
    k_asym = None
    try:
        # L(k) ~ c k^-t: solve c k^-t = A - target in logs (c can under- or overflow)
        t = model.tail_exponent
        if t:
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                log_c = float(np.log(model.inference_loss_asymptote(1.0)))
            log_k = (log_c - math.log(model.ceiling - target)) / t
            if math.isfinite(log_k) and log_k < 700:
                k_asym = math.exp(log_k)
    except DifficultyError:
        k_asym = None
    cost = float(cost_of_k(k_int, prompt_tokens, decode_tokens, flops_per_token))
    cost_asym = None if k_asym is None else float(cost_of_k(k_asym, prompt_tokens, decode_tokens, flops_per_token))
    return CostPlan(target, k, k_int, cost, k_asym, cost_asym, model.ceiling, prompt_tokens, decode_tokens,
                    flops_per_token)


def _k_of_cost(cost, prompt_tokens, decode_tokens, flops_per_token):
    _check_tokens(prompt_tokens, decode_tokens, flops_per_token)
    k = (np.asarray(cost, dtype=float) / flops_per_token - prompt_tokens) / decode_tokens
    if np.any(k < 0):
        raise DifficultyError("cost is below the prompt cost N_p F: not even one attempt is paid for")
    return k


def coverage_at_cost(model, cost, prompt_tokens, decode_tokens, flops_per_token=1.0):
    """Coverage(C) = pass@k at k = (C/F - N_p)/N_d (Eq. 14, exact form)."""
    return model.pass_at_k(_k_of_cost(cost, prompt_tokens, decode_tokens, flops_per_token))


def inference_loss_at_cost(model, cost, prompt_tokens, decode_tokens, flops_per_token=1.0):
    """L(C) = inference loss at k = (C/F - N_p)/N_d (Eq. 15, exact form)."""
    return model.inference_loss(_k_of_cost(cost, prompt_tokens, decode_tokens, flops_per_token))
