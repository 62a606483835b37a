"""``difficulty passk``: the unbiased pass@k at each k, with intervals."""
from __future__ import annotations

from .common import add_command, add_data_args, blocks, level, load, per_group, print_json, whole


def add_parser(subparsers) -> None:
    p = add_command(subparsers, "passk", help="exact pass@k with intervals",
                    description="Unbiased pass@k (Chen et al. 2021) at each k <= N, averaged over problems, "
                                "with a bootstrap interval that carries both problem sampling and finite attempts.",
                    example="difficulty passk results.csv --k 1,10,100 --group-col model --json")
    add_data_args(p)
    p.add_argument("--k", help="comma-separated k values (default: 12 log-spaced up to the smallest N)")
    p.add_argument("--level", type=level, default=0.9, help="interval level (default 0.9)")
    p.add_argument("--seed", type=whole(0), default=0, help="seed of the bootstrap")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def default_k(nmin: int):
    """12 log-spaced whole k from 1 to ``nmin``."""
    import numpy as np

    ks = np.unique(np.round(np.logspace(0, np.log10(nmin), 12)).astype(int))
    return ks[ks <= nmin]


def run(args) -> int:
    from ..passk import estimate_pass_at_k, parse_k

    counts = load(args)
    k = parse_k(args.k) if args.k else None

    def one(sub):
        kk = k if k is not None else default_k(int(sub.n.min()))
        return estimate_pass_at_k(sub, kk, level=args.level, seed=args.seed).to_dict()

    result = per_group(counts, one, args.group_col is not None)
    if args.json:
        print_json(result)
        return 0
    for name, r in blocks(result).items():
        if name:
            print(f"[{name}]  ({r['n_problems']} problems)")
        else:
            print(f"{r['n_problems']} problem{'s' if r['n_problems'] != 1 else ''}")
        lvl = int(round(100 * r["level"]))
        print(f"{'k':>10}  {'pass@k':>9}  {f'{lvl}% interval':>21}")
        for kk, v, lo, hi in zip(r["k"], r["pass_at_k"], r["low"], r["high"]):
            print(f"{kk:>10}  {v:>9.5f}  [{lo:.5f}, {hi:.5f}]")
        print()
    return 0
