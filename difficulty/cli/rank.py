"""``difficulty rank``: problems ranked by the posterior of their success probability."""
from __future__ import annotations

from ..errors import DifficultyError
from .common import (
    add_command,
    add_data_args,
    add_force,
    add_quiet,
    budget,
    check_output,
    floats_arg,
    level,
    load,
    print_json,
    whole,
)


def add_parser(subparsers) -> None:
    p = add_command(subparsers, "rank", help="rank problems: difficult but obtainable",
                    description="Per-problem posterior of the success probability under the fitted population "
                                "model, P(solved within --budget attempts) with intervals, and the selection of "
                                "problems whose P(solved within budget) lies in --band with probability >= "
                                "--confidence.",
                    example="difficulty rank results.csv --budget 1000 --band 0.5,0.99 -o ranked.csv")
    add_data_args(p)
    p.add_argument("--budget", type=budget, default=1000, help="K: attempts you can afford per problem (default 1000)")
    p.add_argument("--band", default="0.5,0.99", help="LO,HI on P(solved within K) (default 0.5,0.99)")
    p.add_argument("--confidence", type=level, default=0.8, help="posterior probability needed to select (default 0.8)")
    p.add_argument("--model", default="zi-beta", help="population model (zi-beta, beta, kumaraswamy, scaled-beta)")
    p.add_argument("--top", type=whole(0), default=None, help="keep only the N hardest selected problems")
    p.add_argument("--level", type=level, default=0.9, help="interval level")
    p.add_argument("--show", type=int, default=15, help="rows to print")
    p.add_argument("-o", "--output", help="write the full table as CSV")
    add_force(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.add_argument("--joint", action="store_true", help="the joint model over groups (not built for this "
                   "command yet: use `difficulty forecast --joint`)")
    add_quiet(p)
    p.set_defaults(run=run)


def band_arg(text: str) -> tuple[float, float]:
    vals = floats_arg(text, "--band")
    if vals.size != 2:
        raise DifficultyError(f"--band takes LO,HI, got {text!r}")
    return float(vals[0]), float(vals[1])


def run(args) -> int:
    if getattr(args, "joint", False):
        raise DifficultyError("--joint is not built for `difficulty rank` yet; `difficulty forecast --joint` "
                              "fits the joint model (its problem table, JointFit.problem_table, is for ranking)")
    band = band_arg(args.band)
    if args.output:
        check_output(args.output, force=args.force, inputs=[args.data])
    import pandas as pd

    from ..io import write_atomic
    from ..ranking import rank_problems

    counts = load(args)
    results = {}
    frames = []
    for name, sub in (counts.groups().items() if args.group_col else [("", counts)]):
        r = rank_problems(sub, budget=args.budget, band=band, model=args.model, confidence=args.confidence,
                          level=args.level, top=args.top, seed=args.seed)
        t = r.table.sort_values("rank")
        if args.group_col:
            t.insert(0, "group", name)
        frames.append(t)
        results[name] = r
    table = pd.concat(frames, ignore_index=True)
    if args.output:
        write_atomic(args.output, lambda fh: table.to_csv(fh, index=False))
    if args.json:
        if args.group_col:
            print_json({"groups": {n: r.to_dict() for n, r in results.items()}})
        else:
            print_json(results[""].to_dict())
        return 0
    for name, r in results.items():
        t = r.table.sort_values("rank")
        print(f"{('[' + name + ']  ') if name else ''}{int(t.selected.sum())} of {len(t)} problems selected as "
              f"difficult but obtainable: P(solved within {r.budget:g} attempts) in [{band[0]:g}, {band[1]:g}] with "
              f"probability >= {r.confidence:g} ({r.model}); expected truly obtainable among them: "
              f"{r.expected_obtainable_selected:.1f}")
        cols = ["problem", "n", "c", "q_mean", "q_low", "q_high", "p_solve_within_budget", "p_in_band", "rank",
                "selected"]
        print(t[cols].head(args.show).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print()
    return 0
