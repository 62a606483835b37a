"""``difficulty forecast``: pass@k at any k, with a band."""
from __future__ import annotations

from .common import (
    add_command,
    add_data_args,
    add_parallel,
    add_quiet,
    blocks,
    curve_or_counts,
    floats_arg,
    level,
    per_group,
    print_json,
)


def add_parser(subparsers) -> None:
    p = add_command(subparsers, "forecast", help="pass@k at any k with a band",
                    description="Forecast pass@k beyond the sampled k. Default (selfcheck): candidate forecasters "
                                "(zero-inflated Beta, Beta, Kumaraswamy by maximum likelihood, the log-log law) "
                                "weighted by how well each extrapolates inside these data (subsampled to N/10 "
                                "and N/100, forecasting pass@N), the band widened by the error they showed. "
                                "--method mcmc: the Kumaraswamy-binomial posterior (the former default).",
                    example="difficulty forecast results.csv --k 1000,10000,100000 --json")
    add_data_args(p)
    p.add_argument("--k", required=True, help="comma-separated k (any size)")
    p.add_argument("--model", default=None, help="model for --method mle/mcmc (default kumaraswamy); 'average': "
                   "the Kumaraswamy and zero-inflated Beta posteriors weighted by leave-one-problem-out")
    p.add_argument("--method", choices=["selfcheck", "mle", "mcmc", "lsq", "loglog"], default=None,
                   help="default selfcheck (with --model alone: mcmc)")
    p.add_argument("--sampler", choices=["auto", "importance", "emcee"], default="auto",
                   help="how mcmc draws the posterior: importance sampling checked by PSIS, falling back to emcee "
                        "(auto, default), or either alone")
    p.add_argument("--target", choices=["problems", "population"], default="problems",
                   help="pass@k of these problems (default) or of a new draw of problems")
    p.add_argument("--level", type=level, default=0.9)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    add_quiet(p)
    add_parallel(p)
    p.set_defaults(run=run)


def run(args) -> int:
    ks = floats_arg(args.k, "--k")
    kind, data = curve_or_counts(args)
    if kind == "curve":
        from ..fit.curve import forecast_curve

        k_obs, y, n = data
        result = forecast_curve(k_obs, y, ks, model=args.model or "beta", n_problems=n, level=args.level,
                                seed=args.seed)
    else:
        from ..forecast import forecast_pass_at_k

        def one(sub):
            return forecast_pass_at_k(sub, ks, model=args.model, method=args.method, level=args.level,
                                      target=args.target, seed=args.seed, sampler=args.sampler).to_dict()

        result = per_group(data, one, args.group_col is not None, args)
    if args.json:
        print_json(result)
        return 0
    for name, r in blocks(result).items():
        lvl = int(round(100 * r["level"]))
        print(f"{('[' + name + ']  ') if name else ''}forecast by {r['model']} ({r['method']}, {r['target']})")
        sc = r.get("selfcheck")
        if sc is not None:
            print(f"  self-backtest: pass@{sc['k0']} forecast from subsamples (ratio up to {sc['ratio_checked']:.3g}); "
                  f"true pass@{sc['k0']} {sc['truth_at_k0']:.4f}")
            print("  scores (rms error): " + ", ".join(
                f"{m} {s:.4f}" if s is not None else f"{m} -" for m, s in sc["scores"].items()))
            print("  weights: " + ", ".join(f"{m} {w:.3f}" for m, w in r["weights"].items()))
        elif r.get("weights"):
            print("  weights (pseudo-BMA+, leave-one-problem-out): "
                  + ", ".join(f"{m} {w:.3f}" for m, w in r["weights"].items()))
        for w in r.get("warnings") or []:
            print(f"  warning: {w}")
        fits = r.get("fit") or {}
        for info in (fits.values() if "method" not in fits else [fits]):
            if not isinstance(info, dict):
                continue
            if info.get("sampler") == "importance":
                print(f"  posterior of {info['model']}: importance sampling, PSIS Pareto k {info['pareto_k']:.2f}, "
                      f"effective sample size {info['ess']:.0f}")
            elif info.get("sampler") == "emcee":
                why = f" ({info['fallback_reason']})" if info.get("fallback_reason") else ""
                print(f"  posterior of {info['model']}: emcee, {info['steps']} steps x {info['walkers']} walkers{why}")
        print(f"{'k':>12}  {'pass@k':>9}  {f'{lvl}% band':>21}")
        for kk, v, lo, hi in zip(r["k"], r["pass_at_k"], r["low"], r["high"]):
            print(f"{kk:>12.6g}  {v:>9.5f}  [{lo:.5f}, {hi:.5f}]")
    return 0
