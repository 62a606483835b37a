"""``difficulty invert``: the perceived-difficulty density f(sigma) (Eq. 10), with a band."""
from __future__ import annotations

import argparse
import math

from ..errors import DifficultyError
from .common import (
    add_command,
    add_data_args,
    add_joint,
    add_parallel,
    add_quiet,
    blocks,
    budget,
    check_joint,
    curve_or_counts,
    floats_arg,
    joint_fit,
    level,
    per_group,
    print_json,
    whole,
)


def add_parser(subparsers) -> None:
    p = add_command(subparsers, "invert", help="recover the difficulty density f(sigma) (Eq. 10)",
                    description="Recover the perceived-difficulty density f(sigma), sigma = log(1/p), with a band: "
                                "from per-problem counts (a smooth NPMLE whose smoothness is chosen by "
                                "cross-validation over problems, default for counts) or from the aggregate curve "
                                "(Tikhonov-regularised NNLS, strength by the discrepancy principle). Works on a "
                                "k,pass_at_k CSV too: its noise is estimated from the curve unless --noise gives it, "
                                "and --problems (or an n_problems column) adds the problem-sampling covariance. "
                                "Reports, with intervals, the mass with success probability in --q-band, the "
                                "mass never solved or below sigma = 1/k_max, and <p^K> = 1 - pass@K.",
                    example="difficulty invert curve.csv --problems 500 --json")
    add_data_args(p)
    p.add_argument("--from", dest="source", choices=["curve", "counts"],
                   help="what to invert (default: counts when present)")
    p.add_argument("--method", choices=["tikhonov-nnls", "npmle-log-spline", "npmle-em"],
                   help="tikhonov-nnls inverts the aggregate curve; npmle-log-spline (default for counts) and "
                        "npmle-em (EM with fixed smoothing) the per-problem counts")
    p.add_argument("--noise", type=positive_float, default=None,
                   help="curve: standard deviation of each pass@k value (default: estimated from the curve)")
    p.add_argument("--noise-shape", choices=["auto", "relative", "absolute", "binomial"], default="auto",
                   help="curve, noise estimated: how it varies across k (relative to 1 - pass@k, constant, or "
                        "sqrt(pass@k (1 - pass@k))); auto picks the most likely")
    p.add_argument("--problems", type=whole(1), default=None,
                   help="curve: the number of problems it averages over (overrides an n_problems column): adds "
                        "the problem-sampling covariance to the noise and draws problems in the bootstrap")
    p.add_argument("--q-band", default=None,
                   help="LO,HI on the success probability for the reported mass (default 1/budget,0.1)")
    p.add_argument("--model", help="instead: fit this per-problem model (maximum likelihood) and give its density "
                                   "with a band from the fit's uncertainty (e.g. zi-beta, logit-normal)")
    p.add_argument("--check", type=whole(0), default=0,
                   help="with --model: also invert the model's Laplace transform numerically at this many sigma "
                        "and report the largest difference from its closed-form density")
    p.add_argument("--budget", type=budget, default=1000, help="K for the difficult-but-obtainable mass")
    p.add_argument("--level", type=level, default=0.9)
    p.add_argument("--seed", type=whole(0), default=0)
    p.add_argument("--json", action="store_true")
    add_joint(p, "each group's density (the posterior mean of its problem set's)")
    add_quiet(p)
    add_parallel(p)
    p.set_defaults(run=run)


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return v


def q_band(text: str | None, budget_k: float) -> tuple[float, float]:
    """--q-band LO,HI with 0 <= LO < HI <= 1, or [1/K, 0.1] (K: --budget; see hard_band)."""
    if text is None:
        from ..inversion import hard_band

        return hard_band(budget_k)
    vals = floats_arg(text, "--q-band")
    if vals.size != 2 or not 0 <= vals[0] < vals[1] <= 1:
        raise DifficultyError(f"--q-band takes LO,HI with 0 <= LO < HI <= 1, got {text!r}")
    return float(vals[0]), float(vals[1])


def run(args) -> int:
    check_joint(args)
    if args.joint:
        return _show(_joint(args), args)
    from ..inversion import invert_counts, invert_counts_curve, invert_curve, obtainable_mass

    band_q = q_band(args.q_band, args.budget)
    kind, data = curve_or_counts(args)
    if kind != "curve":
        for flag, value in (("--noise", args.noise), ("--problems", args.problems)):
            if value is not None:
                raise DifficultyError(f"{flag} describes an aggregate curve; this file has per-problem counts")
    if args.model:
        if kind == "curve":
            raise DifficultyError("--model fits per-problem counts; this file is a k,pass_at_k curve")
        from ..fit.mle import fit_mle
        from ..inversion import parametric_density

        def fitted(sub):
            return parametric_density(fit_mle(sub, args.model, level=args.level), level=args.level,
                                      budget=args.budget, check=args.check, seed=args.seed)

        return _show(per_group(data, fitted, args.group_col is not None, args), args)
    implied = {"tikhonov-nnls": "curve", "npmle-em": "counts", "npmle-log-spline": "counts"}.get(args.method)
    if implied and args.source and implied != args.source:
        raise DifficultyError(f"--method {args.method} inverts the {implied}, not the {args.source} (--from)")
    source = args.source or implied or ("curve" if kind == "curve" else "counts")
    if kind == "curve" and source == "counts":
        raise DifficultyError("--from counts needs per-problem counts; this file is a k,pass_at_k curve")

    def finish(est, k_max):
        d = est.to_dict()
        d["k_max"] = k_max
        mass, lo, hi = obtainable_mass(est, args.budget)
        d["obtainable_mass"] = {"budget": args.budget, "band": [0.5, 0.99], "mass": mass, "low": lo, "high": hi}
        d["functionals"] = {name: f.to_dict() for name, f in
                            est.functionals(band_q=band_q, ks=[k_max, args.budget], budget=args.budget).items()}
        return d

    if kind == "curve":
        k, y, n = data
        n = args.problems or n
        result = finish(invert_curve(k, y, noise=args.noise, n_problems=n, noise_shape=args.noise_shape,
                                     level=args.level, seed=args.seed), float(k.max()))
    else:
        counts_method = "ems" if args.method == "npmle-em" else "log-spline"

        def one(sub):
            if source == "counts":
                return finish(invert_counts(sub, level=args.level, seed=args.seed, method=counts_method),
                              float(sub.n.max()))
            return finish(invert_counts_curve(sub, level=args.level, seed=args.seed), float(sub.n.min()))

        result = per_group(data, one, args.group_col is not None, args)
    return _show(result, args)


def _joint(args) -> dict:
    """--joint: each group's density from one joint fit over the groups."""
    given = [flag for flag, v in (("--model", args.model), ("--method", args.method), ("--noise", args.noise),
                                  ("--problems", args.problems), ("--from", args.source), ("--check", args.check))
             if v]
    if given:
        raise DifficultyError(f"--joint gives each group's density from the joint model; {given[0]} belongs to a "
                              "per-group inversion or fit")
    kind, data = curve_or_counts(args)
    if kind == "curve":
        raise DifficultyError("--joint needs per-problem counts with a problem id column; this file is a "
                              "k,pass_at_k curve")
    fit = joint_fit(args, data, check=False)  # the density uses no forecast band
    band_q = q_band(args.q_band, args.budget)
    out = {}
    for name in fit.groups:
        k_max = float(fit.n[fit.gj == fit.groups.index(name)].max())
        d = fit.density(name, level=args.level, budget=args.budget, q_band=band_q, ks=[k_max, args.budget])
        d["k_max"] = k_max
        out[name] = d
    return {"groups": out}


def _show(result, args) -> int:
    if args.json:
        print_json(result)
        return 0
    for name, r in blocks(result).items():
        lvl = int(round(100 * r["level"]))
        print(f"{('[' + name + ']  ') if name else ''}difficulty density by {r['method']}"
              + (f" (regularization {r['regularization']:.3g})" if r["regularization"] is not None else ""))
        nb = (f" [{r['never_solved_low']:.4f}, {r['never_solved_high']:.4f}]" if r.get("never_solved_low") is not None
              else "")
        print(f"  never solved (p = 1): {r['never_solved']:.4f}{nb}   always solved (p = 0): {r['always_solved']:.4f}")
        if r.get("unresolved_mass") is not None:
            band = (f" [{r['unresolved_low']:.4f}, {r['unresolved_high']:.4f}]" if r.get("unresolved_low") is not None
                    else "")
            print(f"  never solved or sigma < 1/k_max = 1/{r['k_max']:g} (what the attempts cannot separate): "
                  f"{r['unresolved_mass']:.4f}{band}")
        if "noise" in r:
            nz = r["noise"]
            print(f"  noise of the curve: estimated, {nz['shape']} scale {nz['scale']:.3g} "
                  f"(differences in log k: {nz['difference_scale']:.3g})"
                  + (f"; plus the sampling of {nz['n_problems']} problems" if "n_problems" in nz else ""))
        if "gcv" in r:
            print(f"  generalised cross-validation would choose {r['gcv']['regularization']:.3g} "
                  f"(W1 of p to this solution: {r['gcv']['w1_p_to_discrepancy']:.3g})")
        if "cross_validation" in r:
            cv = r["cross_validation"]
            print(f"  smoothness by {cv['folds']}-fold cross-validation over problems: {r['regularization']:.3g} "
                  f"(best held-out likelihood at {cv['best']:.3g}; {cv['rule']})")
        for name_f, f in r.get("functionals", {}).items():
            if name_f == "unresolved":  # printed above
                continue
            iv = f" [{f['low']:.4f}, {f['high']:.4f}]" if f["low"] is not None else ""
            print(f"  {f['definition']}: {f['value']:.4f}{iv}")
        om = r["obtainable_mass"]
        band = f" [{om['low']:.4f}, {om['high']:.4f}]" if om["low"] is not None else ""
        print(f"  difficult but obtainable within {om['budget']:g} attempts: {om['mass']:.4f}{band}")
        print(f"  note: {r['note']}")
        if "inversion_check_max_rel_diff" in r:
            print(f"  numerical inversion of the Laplace transform agrees to {r['inversion_check_max_rel_diff']:.2g}")
        print(f"{'sigma':>12}  {'density':>12}  {f'{lvl}% band':>27}")
        step = max(1, len(r["sigma"]) // 15)
        for i in range(0, len(r["sigma"]), step):
            lo = r["low"][i] if r["low"] is not None else float("nan")
            hi = r["high"][i] if r["high"] is not None else float("nan")
            print(f"{r['sigma'][i]:>12.4g}  {r['density'][i]:>12.4g}  [{lo:>12.4g}, {hi:>12.4g}]")
    return 0
