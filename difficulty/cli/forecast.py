"""``difficulty forecast``: pass@k at any k, with a band."""
from __future__ import annotations

import argparse

from .common import (
    add_command,
    add_data_args,
    add_joint,
    add_parallel,
    add_quiet,
    blocks,
    check_joint,
    curve_or_counts,
    floats_arg,
    joint_fit,
    level,
    load,
    parallel_options,
    per_group,
    print_json,
    read_covariates,
)


def add_parser(subparsers) -> None:
    p = add_command(subparsers, "forecast", help="pass@k at any k with a band",
                    description="Forecast pass@k beyond the sampled k. Default (mcmc): the Kumaraswamy-binomial "
                                "posterior, its band widened by the error the model showed forecasting pass@N "
                                "from these data subsampled to N/10 attempts (--no-check: the posterior's "
                                "band alone). --method selfcheck: candidate forecasters (zero-inflated Beta, Beta, "
                                "Kumaraswamy by maximum likelihood, the log-log law) weighted by how well each "
                                "extrapolates inside these data (subsampled to N/10 and N/100, forecasting pass@N), "
                                "the band widened by the error they showed. With --group-col on groups that share "
                                "problems (several models on one benchmark), each group's default forecast is "
                                "pooled with the joint model's over all groups (--joint), point and band ends "
                                "averaged (--no-pool: each group alone).",
                    example="difficulty forecast results.csv --k 1000,10000,100000 --json")
    add_data_args(p)
    p.add_argument("--k", required=True, help="comma-separated k (any size)")
    p.add_argument("--model", default=None, help="model for --method mle/mcmc (default kumaraswamy); 'average': "
                   "the Kumaraswamy and zero-inflated Beta posteriors weighted by leave-one-problem-out")
    p.add_argument("--method", choices=["selfcheck", "mle", "mcmc", "lsq", "loglog"], default=None,
                   help="default mcmc")
    p.add_argument("--sampler", choices=["auto", "importance", "emcee"], default="auto",
                   help="how mcmc draws the posterior: importance sampling checked by PSIS, falling back to emcee "
                        "(auto, default), or either alone")
    p.add_argument("--check", action=argparse.BooleanOptionalAction, default=None,
                   help="widen the band by the model's extrapolation error inside the data (default: on for the "
                        "default forecaster, off when --model or --method is named)")
    p.add_argument("--target", choices=["problems", "population"], default="problems",
                   help="pass@k of these problems (default) or of a new draw of problems")
    p.add_argument("--level", type=level, default=0.9)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    j = p.add_argument_group("joint model over groups (needs --group-col and a problem column)")
    add_joint(j, "forecasts")
    j.add_argument("--predict-group", help="leave this group out of the fit and forecast it from its covariates")
    j.add_argument("--pool", action=argparse.BooleanOptionalAction, default=None,
                   help="each group's default forecast pooled with the joint model's (their quantiles averaged); "
                        "default: on when the groups share problems (3 or more groups, half the rows on problems "
                        "two groups attempted), for the default forecaster of pass@k of these problems")
    add_quiet(p)
    add_parallel(p)
    p.set_defaults(run=run)


def _joint(args, ks):
    from ..errors import DifficultyError

    if not args.joint:
        raise DifficultyError("--covariates and --predict-group go with --joint")
    check_joint(args)
    counts = load(args)
    cov = read_covariates(args)
    if args.predict_group:
        if cov is None:
            raise DifficultyError("--predict-group needs --covariates to place the group along the ladder")
        name = args.predict_group
        if name not in cov:
            raise DifficultyError(f"--predict-group {name!r} is not a group of {args.data}")
        fit = joint_fit(args, counts, covariates=cov, exclude=[name], check=False)  # no data: no band to widen
        own = counts.problem[counts.group.astype(str) == name]
        fc = fit.predict_group(cov[name], ks, problems=own, level=args.level, seed=args.seed).to_dict()
        fc["predicted"] = True
        return {"groups": {name: fc}}
    fit = joint_fit(args, counts, covariates=cov)
    return {"groups": {g: f.to_dict() for g, f in fit.forecast_all(ks, level=args.level, seed=args.seed).items()}}


def _pool_named(args) -> list[str]:
    """The options that ask for another forecast than the pooled default, refused with --pool before the
    data are read."""
    from ..errors import DifficultyError

    named = [o for o, v in (("--model", args.model), ("--method", args.method)) if v is not None]
    if args.target != "problems":
        named.append("--target population")
    if args.pool and args.joint:
        raise DifficultyError("--joint gives the joint model's forecast alone; --pool pools it with each group's own")
    if args.pool and (named or args.group_col is None):
        why = f"{', '.join(named)} named" if named else "no --group-col"
        raise DifficultyError(f"--pool pools the default forecast of pass@k of these problems over groups: {why}")
    return named


def _pooled(args, data, ks):
    """Each group's default forecast pooled with the joint model's (difficulty.pooled), or None where the
    groups are not pooled: --no-pool, another forecaster named, or (without --pool) groups that share no
    problems."""
    from ..pooled import forecast_groups, pooling_blocked

    if args.pool is False or _pool_named(args) or args.group_col is None:
        return None
    if args.pool is None and pooling_blocked(data) is not None:
        return None
    fcs = forecast_groups(data, ks, level=args.level, seed=args.seed, pool=args.pool, sampler=args.sampler,
                          check=args.check, **parallel_options(args))
    return {"groups": {g: f.to_dict() for g, f in fcs.items()}}


def run(args) -> int:
    ks = floats_arg(args.k, "--k")
    _pool_named(args)
    if args.joint or args.predict_group or args.covariates:
        result = _joint(args, ks)
    else:
        result = None
    kind, data = ("joint", None) if result is not None else curve_or_counts(args)
    if kind == "curve" and args.pool:
        from ..errors import DifficultyError

        raise DifficultyError("--pool needs per-problem counts with groups; this file is a pass@k curve")
    if kind == "counts" and result is None:
        result = _pooled(args, data, ks)
        kind = "joint" if result is not None else kind
    if kind == "joint":
        pass
    elif kind == "curve":
        from ..fit.curve import forecast_curve

        k_obs, y, n = data
        result = forecast_curve(k_obs, y, ks, model=args.model or "beta", n_problems=n, level=args.level,
                                seed=args.seed)
    else:
        from ..forecast import forecast_pass_at_k

        def one(sub):
            return forecast_pass_at_k(sub, ks, model=args.model, method=args.method, level=args.level,
                                      target=args.target, seed=args.seed, sampler=args.sampler,
                                      check=args.check).to_dict()

        result = per_group(data, one, args.group_col is not None, args)
    if args.json:
        print_json(result)
        return 0
    for name, r in blocks(result).items():
        lvl = int(round(100 * r["level"]))
        print(f"{('[' + name + ']  ') if name else ''}forecast by {r['model']} ({r['method']}, {r['target']})")
        sc = r.get("selfcheck")
        parts = (sc or {}).get("parts")
        if parts is not None:
            _print_pooled(r, parts, lvl)
            continue
        if sc is not None and "scores" not in sc:  # the default's check of its own extrapolation
            if sc["error_checked"] is not None and "groups_checked" in sc:
                print(f"  check: the joint model fitted to every cell thinned to {sc['attempts']} attempts forecast "
                      f"the {sc['groups_checked']} groups' pass@{sc['k0']} (ratio {sc['ratio_checked']:.3g}): rms "
                      f"error {sc['error_checked']:.4f} (this group's pass@{sc['k0']} {sc['truth_at_k0']:.4f}); the "
                      f"band is at least that error x z, x log(k/{sc['k0']}) / log {sc['ratio_checked']:.3g}")
            elif sc["error_checked"] is not None:
                print(f"  check: {sc['model']} (mle) forecast pass@{sc['k0']} from {len(sc['runs'])} subsamples of "
                      f"{sc['attempts']} attempts (ratio {sc['ratio_checked']:.3g}): rms error "
                      f"{sc['error_checked']:.4f} (true pass@{sc['k0']} {sc['truth_at_k0']:.4f}); the band is at "
                      f"least that error x z, x log(k/{sc['k0']}) / log {sc['ratio_checked']:.3g}")
        elif sc is not None:
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


def _print_pooled(r, parts, lvl) -> None:
    own, joint = parts["own"], parts["joint"]
    w = list(r["weights"].values())
    groups = (joint.get("fit") or {}).get("groups", "all the")
    print(f"  pooled: this group's own forecast ({own['model']} posterior, weight {w[0]:.2f}) and the joint model's "
          f"over {groups} groups (weight {w[1]:.2f}), quantiles averaged")
    for label, part in (("own", own), ("joint", joint)):
        sc = part.get("selfcheck") or {}
        if sc.get("error_checked") is not None:
            print(f"  {label} check: pass@{sc['k0']} forecast from {sc['attempts']} attempts, rms error "
                  f"{sc['error_checked']:.4f}; its band holds at least that error x z, grown with log k")
    for w_ in r.get("warnings") or []:
        print(f"  warning: {w_}")
    print(f"{'k':>12}  {'pass@k':>9}  {f'{lvl}% band':>21}  {'own':>9}  {'joint':>9}")
    for i, (kk, v, lo, hi) in enumerate(zip(r["k"], r["pass_at_k"], r["low"], r["high"])):
        mine, theirs = own["pass_at_k"][i], joint["pass_at_k"][i]
        print(f"{kk:>12.6g}  {v:>9.5f}  [{lo:.5f}, {hi:.5f}]  {mine:>9.5f}  {theirs:>9.5f}")
