"""``difficulty allocate``: how many more attempts each problem should get."""
from __future__ import annotations

import os

from ..errors import DifficultyError
from .common import (
    add_command,
    add_data_args,
    add_force,
    add_quiet,
    budget,
    check_output,
    load,
    print_json,
    whole,
)


def add_parser(subparsers) -> None:
    p = add_command(subparsers, "allocate", help="a sampling plan: where more attempts most reduce uncertainty",
                    description="Propose how many more attempts each problem should get, --budget in all, to most "
                                "reduce the posterior variance of pass@K (or, with --learnable, of the set of "
                                "problems whose P(solved within K) lies in --band), by preposterior analysis under "
                                "a population fit; beside it the uniform plan and fewest-successes-first (Kazdan "
                                "et al. 2025), each with the posterior sd it is expected to leave.",
                    example="difficulty allocate results.csv --budget 5000 --k 1000 -o plan.csv")
    add_data_args(p)
    p.add_argument("--budget", type=whole(1), required=True, help="extra attempts to spend in all")
    p.add_argument("--k", type=budget, default=1000, help="K of the pass@K to pin down (default 1000)")
    p.add_argument("--learnable", action="store_true",
                   help="reduce the uncertainty of the learnable set (P(solved within K) in --band) instead")
    p.add_argument("--band", default="0.5,0.99", help="LO,HI on P(solved within K) for --learnable (default 0.5,0.99)")
    p.add_argument("--batch", type=whole(1), default=None,
                   help="attempts are given in multiples of this (default: budget / (8 x problems))")
    p.add_argument("--model", default="zi-beta", help="population model (default zi-beta: closed form, fast)")
    p.add_argument("--method", choices=["mle", "mcmc"], default="mle",
                   help="mle: Laplace draws for parameter uncertainty (default); mcmc: posterior draws")
    p.add_argument("--draws", type=whole(0), default=8, help="parameter draws averaged over (0: the estimate only)")
    p.add_argument("--show", type=int, default=15, help="rows to print")
    p.add_argument("-o", "--output", help="write the plan as CSV, or JSON when the name ends in .json")
    add_force(p)
    p.add_argument("--seed", type=whole(0), default=0)
    p.add_argument("--json", action="store_true")
    add_quiet(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from .rank import band_arg

    band = band_arg(args.band)
    if args.output:
        check_output(args.output, force=args.force, inputs=[args.data])
    import pandas as pd

    from ..allocate import plan_allocation
    from ..forecast import fit_for_forecast
    from ..io import to_json, write_atomic

    counts = load(args)
    target = "learnable" if args.learnable else "pass@k"
    plans = {}
    for name, sub in (counts.groups().items() if args.group_col else [("", counts)]):
        fit = fit_for_forecast(sub, args.model, args.method, seed=args.seed)
        if isinstance(fit, dict):
            raise DifficultyError("allocate needs one population model, not 'average'")
        try:
            plans[name] = plan_allocation(fit, args.budget, args.k, target=target, band=band, batch=args.batch,
                                          draws=args.draws, seed=args.seed)
        except DifficultyError as e:
            raise DifficultyError(f"[{name}] {e}" if name else str(e)) from None
    frames = []
    for name, plan in plans.items():
        t = plan.table.copy()
        if args.group_col:
            t.insert(0, "group", name)
        frames.append(t)
    table = pd.concat(frames, ignore_index=True)
    result = ({"groups": {n: p.to_dict() for n, p in plans.items()}} if args.group_col else plans[""].to_dict())
    if args.output:
        if os.path.splitext(args.output)[1].lower() == ".json":
            write_atomic(args.output, lambda fh: fh.write(to_json(result, indent=1)))
        else:
            write_atomic(args.output, lambda fh: table.to_csv(fh, index=False))
    if args.json:
        print_json(result)
        return 0
    what = f"pass@{args.k:g}" if target == "pass@k" else "the number of learnable problems"
    for name, plan in plans.items():
        sd = plan.sd
        print(f"{('[' + name + ']  ') if name else ''}{what} = {plan.estimate:.4g} ({plan.model}, {plan.method}); "
              f"posterior sd now {sd['now']:.3g}, expected after {plan.budget} more attempts: this plan "
              f"{sd['plan']:.3g}, uniform {sd['uniform']:.3g}, fewest successes first {sd['fewest_successes']:.3g}")
        t = plan.table.sort_values(["extra", "expected_reduction"], ascending=False)
        print(t.head(args.show).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print()
    if args.output:
        print(f"wrote {args.output}")
    return 0
