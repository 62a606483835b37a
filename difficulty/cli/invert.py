"""``difficulty invert``: the perceived-difficulty density f(sigma) (Eq. 10), with a band."""
from __future__ import annotations

from ..errors import DifficultyError
from .common import add_command, add_data_args, add_quiet, blocks, curve_or_counts, level, per_group, print_json


def add_parser(subparsers) -> None:
    p = add_command(subparsers, "invert", help="recover the difficulty density f(sigma) (Eq. 10)",
                    description="Recover the perceived-difficulty density f(sigma), sigma = log(1/p), with a band: "
                                "from per-problem counts (NPMLE by EM, default for counts) or from the aggregate "
                                "curve (Tikhonov-regularised NNLS, strength by the discrepancy principle). Works "
                                "on a k,pass_at_k CSV too.",
                    example="difficulty invert results.csv --from counts --json")
    add_data_args(p)
    p.add_argument("--from", dest="source", choices=["curve", "counts"],
                   help="what to invert (default: counts when present)")
    p.add_argument("--method", choices=["tikhonov-nnls", "npmle-em"],
                   help="tikhonov-nnls inverts the aggregate curve, npmle-em the per-problem counts")
    p.add_argument("--model", help="instead: fit this per-problem model (maximum likelihood) and give its density "
                                   "with a band from the fit's uncertainty (e.g. zi-beta, logit-normal)")
    p.add_argument("--check", type=int, default=0,
                   help="with --model: also invert the model's Laplace transform numerically at this many sigma "
                        "and report the largest difference from its closed-form density")
    p.add_argument("--budget", type=float, default=1000, help="K for the difficult-but-obtainable mass")
    p.add_argument("--level", type=level, default=0.9)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    add_quiet(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from ..inversion import curve_noise, invert_counts, invert_counts_curve, invert_curve, obtainable_mass

    kind, data = curve_or_counts(args)
    if args.model:
        if kind == "curve":
            raise DifficultyError("--model fits per-problem counts; this file is a k,pass_at_k curve")
        from ..fit.mle import fit_mle
        from ..inversion import parametric_density

        def fitted(sub):
            return parametric_density(fit_mle(sub, args.model, level=args.level), level=args.level,
                                      budget=args.budget, check=args.check, seed=args.seed)

        return _show(per_group(data, fitted, args.group_col is not None), args)
    implied = {"tikhonov-nnls": "curve", "npmle-em": "counts"}.get(args.method)
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
        return d

    if kind == "curve":
        k, y, n = data
        noise = None if n is None else curve_noise(y, n)
        result = finish(invert_curve(k, y, noise=noise, level=args.level, seed=args.seed), float(k.max()))
    else:
        def one(sub):
            if source == "counts":
                return finish(invert_counts(sub, level=args.level, seed=args.seed), float(sub.n.max()))
            return finish(invert_counts_curve(sub, level=args.level, seed=args.seed), float(sub.n.min()))

        result = per_group(data, one, args.group_col is not None)
    return _show(result, args)


def _show(result, args) -> int:
    if args.json:
        print_json(result)
        return 0
    for name, r in blocks(result).items():
        lvl = int(round(100 * r["level"]))
        print(f"{('[' + name + ']  ') if name else ''}difficulty density by {r['method']}"
              + (f" (regularization {r['regularization']:.3g})" if r["regularization"] is not None else ""))
        print(f"  never solved (p = 1): {r['never_solved']:.4f}   always solved (p = 0): {r['always_solved']:.4f}")
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
