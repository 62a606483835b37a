"""``difficulty backtest``: forecasters scored on held-out attempts."""
from __future__ import annotations

from ..errors import DifficultyError
from .common import (
    add_command,
    add_data_args,
    add_parallel,
    add_quiet,
    blocks,
    level,
    load,
    per_group,
    print_json,
    whole,
)


def add_parser(subparsers) -> None:
    p = add_command(subparsers, "backtest", help="score forecasters on held-out attempts",
                    description="Subsample m attempts per problem (hypergeometric), forecast pass@K with every "
                                "forecaster, score against the unbiased pass@K of the full data.",
                    example="difficulty backtest pythia.csv --group-col model_nickname --attempts 100 --k 10000 "
                            "--seeds 3")
    add_data_args(p)
    p.add_argument("--attempts", type=whole(1), required=True, help="m: attempts kept per problem")
    p.add_argument("--k", type=whole(1), required=True, help="K: the k to forecast (problems need N >= K)")
    p.add_argument("--seeds", type=whole(1), default=5)
    p.add_argument("--forecasters", help="comma-separated subset (default: all)")
    p.add_argument("--level", type=level, default=0.9)
    p.add_argument("--json", action="store_true")
    add_quiet(p)
    add_parallel(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from ..backtest import FORECASTERS, backtest

    if args.attempts < 1 or args.k < 1:
        raise DifficultyError(f"--attempts and --k must be >= 1, got {args.attempts} and {args.k}")
    counts = load(args)
    names = args.forecasters.split(",") if args.forecasters else None
    for n in names or []:
        if n not in FORECASTERS:
            raise DifficultyError(f"unknown forecaster {n!r}; choose from {', '.join(FORECASTERS)}")

    def one(sub):
        # as for fit, forecast and rank: with every count at an end, no forecaster has anything to fit
        if (sub.c == 0).all():
            raise DifficultyError("no problem was ever solved (all c = 0): there is no curve to forecast")
        if (sub.c == sub.n).all():
            raise DifficultyError("every attempt succeeded (all c = N): pass@k is 1 at every k, nothing to forecast")
        return backtest(sub, args.attempts, args.k, seeds=args.seeds, level=args.level, forecasters=names).to_dict()

    result = per_group(counts, one, args.group_col is not None, args)
    if args.json:
        print_json(result)
        return 0
    for name, r in blocks(result).items():
        print(f"{('[' + name + ']  ') if name else ''}pass@{r['k']} forecast from {r['attempts']} attempts per "
              f"problem ({r['n_problems']} problems with N >= {r['k']})")
        print(f"{'forecaster':>22}  {'MAE':>8}  {'coverage':>8}  {'width':>8}")
        for fname, f in r["forecasters"].items():
            print(f"{fname:>22}  {f['mae']:>8.4f}  {f['coverage']:>8.2f}  {f['mean_width']:>8.4f}")
    return 0
