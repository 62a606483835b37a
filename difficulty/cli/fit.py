"""``difficulty fit``: a model fitted by least squares, maximum likelihood or MCMC."""
from __future__ import annotations

import sys

from ..errors import DifficultyError
from .common import (
    add_command,
    add_data_args,
    add_force,
    add_quiet,
    blocks,
    check_output,
    curve_or_counts,
    level,
    print_json,
    safe_name,
    whole,
)

LIKELIHOODS = ("beta, zi-beta, kumaraswamy, scaled-beta, beta-mixture (per-problem); "
               "beta, effective-k, exp-power-law, power-law (curves)")


# why a maximum-likelihood interval is missing (fit_mle drops the parameter from the Hessian, or the Hessian fails)
NO_LAPLACE = ("no Laplace interval: the maximum lies at the edge of the parameter's range (the likelihood keeps "
              "rising toward it, as when every problem looks alike) or the likelihood is flat there")


def add_parser(subparsers) -> None:
    p = add_command(subparsers, "fit", help="fit a model: least squares, maximum likelihood or MCMC",
                    description="Fit a difficulty model. Counts: maximum likelihood (default) or an emcee "
                                "posterior (--method mcmc) of a per-problem likelihood, or least squares to the "
                                "aggregate curve (--method lsq). A k,pass_at_k file: least squares. "
                                f"Models: {LIKELIHOODS}.",
                    example="difficulty fit results.csv --model zi-beta --method mcmc --json")
    add_data_args(p)
    p.add_argument("--model", default="beta", help="model (default beta)")
    p.add_argument("--method", choices=["lsq", "mle", "mcmc"], help="default: mle for counts, lsq for a curve")
    p.add_argument("--level", type=level, default=0.9, help="interval level (default 0.9)")
    p.add_argument("--walkers", type=whole(1), default=32, help="emcee walkers (mcmc)")
    p.add_argument("--steps", type=whole(1), default=None,
                   help="emcee steps (default: importance sampling checked by PSIS, else emcee until the bulk ESS "
                        "is 400 and R-hat 1.01)")
    p.add_argument("--sampler", choices=["auto", "importance", "emcee"], default="auto",
                   help="posterior draws (mcmc): importance sampling, falling back to emcee (auto), or either alone")
    p.add_argument("--save-posterior", help="write the posterior (arviz InferenceData) as netCDF (mcmc); "
                   "with --group-col one file per group, PATH.GROUP.nc")
    add_force(p, "posterior file")
    p.add_argument("--seed", type=whole(0), default=0)
    p.add_argument("--json", action="store_true")
    add_quiet(p)
    p.set_defaults(run=run)


def _posterior_path(args, name: str) -> str:
    return args.save_posterior if not args.group_col else f"{args.save_posterior}.{safe_name(name)}.nc"


def run(args) -> int:
    import numpy as np

    kind, data = curve_or_counts(args)
    method = args.method or ("lsq" if kind == "curve" else "mle")
    if kind == "curve":
        if method != "lsq":
            raise DifficultyError("a k,pass_at_k curve can only be fitted by least squares (--method lsq), "
                                  f"not {method}")
        from ..fit.curve import fit_curve

        k, y, n = data
        result = fit_curve(k, y, args.model, n_problems=n, level=args.level).to_dict()
    else:
        named = data.groups() if args.group_col else {"": data}
        if method == "mcmc" and args.save_posterior:
            for name in named:
                check_output(_posterior_path(args, name), force=args.force, inputs=[args.data])

        def one(sub, name):
            if method == "lsq":
                from ..fit.curve import curve_from_counts, fit_curve

                nmin = int(sub.n.min())
                kk = np.unique(np.round(np.logspace(0, np.log10(nmin), 25)).astype(int))
                y, cov, n = curve_from_counts(sub, kk)
                return fit_curve(kk, y, args.model, n_problems=n, cov=cov, level=args.level).to_dict()
            if method == "mle":
                from ..fit.mle import fit_mle

                return fit_mle(sub, args.model, level=args.level).to_dict()
            return _mcmc(args, sub, name)

        if args.group_col:
            result = {"groups": {name: one(sub, name) for name, sub in named.items()}}
        else:
            result = one(data, "")
    reasons = {}
    if method == "mle":
        reasons = dict.fromkeys(("low", "high"), NO_LAPLACE)
    if args.json:
        print_json(result, reasons)
        return 0
    for name, r in blocks(result).items():
        lvl = int(round(100 * r["level"]))
        print(f"{('[' + name + ']  ') if name else ''}model {r['model']} by {r['method']}"
              + (f"   log-likelihood {r['loglike']:.3f}  AIC {r['aic']:.2f}" if "loglike" in r else ""))
        missing = False
        for pn, pv in r["params"].items():
            extra = f"   R-hat {pv['r_hat']:.3f}  ESS {pv['ess']:.0f}" if "r_hat" in pv else ""
            print(f"  {pn:>8} = {pv['value']:.6g}   {lvl}% [{pv['low']:.6g}, {pv['high']:.6g}]{extra}")
            missing |= not (np.isfinite(pv["low"]) and np.isfinite(pv["high"]))
        if missing and "low" in reasons:
            print(f"  note: nan: {reasons['low']}")
        for w in r.get("warnings", []):
            print(f"  warning: {w}")
    return 0


def _mcmc(args, sub, name) -> dict:
    import warnings

    from ..fit.mcmc import sample_posterior
    from ..io import write_atomic
    from .progress import make_progress

    with warnings.catch_warnings():  # its warnings are kept in the result and printed
        warnings.simplefilter("ignore", RuntimeWarning)
        post = sample_posterior(sub, args.model, walkers=args.walkers, steps=args.steps, seed=args.seed,
                                level=args.level, progress=make_progress(args.quiet), method=args.sampler)
    for w in post.warnings:
        print(f"difficulty: warning: {w}", file=sys.stderr)
    out = post.to_dict()
    out["warnings"] = post.warnings
    if args.save_posterior:
        # netCDF writers want a file name: the temporary file's, renamed into place when complete
        write_atomic(_posterior_path(args, name), lambda fh: post.save(fh.name), mode="wb")
    return out
