"""``difficulty rank``: problems ranked for fine-tuning, with calibrated probabilities, for export."""
from __future__ import annotations

import argparse
import os

from ..errors import DifficultyError
from .common import (
    add_command,
    add_data_args,
    add_force,
    add_joint,
    add_parallel,
    add_quiet,
    budget,
    check_joint,
    check_output,
    floats_arg,
    joint_fit,
    level,
    load,
    parallel_options,
    print_json,
    whole,
)

EXPORTS = (".csv", ".jsonl")
# the columns written for a training pipeline, in this order (p_never: zero-inflated models only)
EXPORT_COLUMNS = ("group", "rank", "problem", "n", "c", "probability", "expected_in_top", "selected", "q_mean", "q_low",
                  "q_high", "p_in_band", "p_hidden_obtainable", "p_solve_within_budget", "p_solve_within_budget_low",
                  "p_solve_within_budget_high", "p_never")


def _description():
    from ..ranking import DEFAULT_MODEL

    return ("Every problem's probability for one question, ranked, with intervals, under a population model "
            "whose parameter uncertainty is carried through (posterior draws).\n\n"
            "  --learnable (default): success rate q in a band, by default [1/K, 0.2]: about one success or more "
            "within K attempts, yet failing most of them (--q-band LO,HI on q, or --band LO,HI on "
            "P(solved within K)).\n"
            "  --hidden: not solved so far, and solved within K more attempts.\n\n"
            "The list is always printed (and written by -o) in rank order, with the expected number of problems "
            "truly in the band among the top n; problems whose probability reaches --confidence are marked "
            "selected, and when none does the output says why. For a problem never solved in N attempts the "
            "counts say only that q is below about 3/N: whether it lies above 1/K rests on the population model "
            f"(default {DEFAULT_MODEL}; see the README for how it is chosen and how well it is calibrated).\n\n"
            "With --group-col on groups that share problems (several models on one benchmark), each group's "
            "ranking is pooled with the joint model's over all groups (--joint): per problem, the two rates of "
            "success averaged (q and its interval, P(solved within K)), P(q in the band) the weighted mean of the "
            "two, ranked again (--no-pool: each group alone). The joint model's weight is 0.8 times the share of "
            "the group's problem-to-problem spread its shared difficulties explain.")


def add_parser(subparsers) -> None:
    p = add_command(subparsers, "rank", help="rank problems for fine-tuning: learnable, or hidden but obtainable",
                    description=_description,
                    example="difficulty rank results.csv --budget 10000 --top 50 -o train.jsonl")
    add_data_args(p)
    p.add_argument("--budget", type=budget, default=1000, help="K: attempts you can afford per problem (default 1000)")
    q = p.add_mutually_exclusive_group()
    q.add_argument("--learnable", dest="question", action="store_const", const="learnable",
                   help="rank by P(q in the band) (the default)")
    q.add_argument("--hidden", dest="question", action="store_const", const="hidden",
                   help="rank problems not solved so far by P(solved within K more attempts)")
    p.set_defaults(question="learnable")
    p.add_argument("--q-band", help="LO,HI on the success rate q (default 1/K,0.2)")
    p.add_argument("--band", help="LO,HI on P(solved within K) instead (the same event on q)")
    p.add_argument("--confidence", type=level, default=0.8, help="probability needed to be selected (default 0.8)")
    p.add_argument("--model", default=None, help="population model (default: the ranking's, see above)")
    p.add_argument("--posterior", choices=("sample", "laplace"), default=None,
                   help="population uncertainty from posterior draws (default) or the Laplace approximation "
                        "at the maximum likelihood (faster, overconfident when few problems were solved)")
    p.add_argument("--top", type=whole(0), default=None, help="keep the N most probable problems (printed, "
                   "written and selectable)")
    p.add_argument("--level", type=level, default=0.9, help="interval level (default 0.9)")
    p.add_argument("--show", type=whole(0), default=15, help="rows to print (default 15)")
    p.add_argument("-o", "--output", help="write the ranked list: .csv or .jsonl (one problem per line)")
    add_force(p)
    add_joint(p, "each group's probabilities")
    p.add_argument("--pool", action=argparse.BooleanOptionalAction, default=None,
                   help="each group's ranking pooled with the joint model's (per problem, the two rates of success "
                        "averaged, weighted); default: on when the groups share problems (3 or more groups, half the "
                        "rows on problems two groups attempted) and neither --model nor --posterior is named")
    p.add_argument("--seed", type=whole(0), default=0)
    p.add_argument("--json", action="store_true")
    add_quiet(p)
    add_parallel(p)
    p.set_defaults(run=run)


def band_arg(text: str, what: str = "--band", low_open: bool = True) -> tuple[float, float]:
    vals = floats_arg(text, what)
    if vals.size != 2:
        raise DifficultyError(f"{what} takes LO,HI, got {text!r}")
    lo, hi = float(vals[0]), float(vals[1])
    ok = (0 < lo < hi <= 1) if low_open else (0 <= lo < hi <= 1)
    if not ok:  # checked here too, so that a bad band is refused before the data are read
        raise DifficultyError(f"{what} must satisfy {'0 <' if low_open else '0 <='} LO < HI <= 1, got {text}")
    return lo, hi


def _write(path: str, table) -> None:
    from ..io import to_json, write_atomic

    frame = table[[c for c in EXPORT_COLUMNS if c in table.columns]]
    if path.lower().endswith(".csv"):
        write_atomic(path, lambda fh: frame.to_csv(fh, index=False))
        return
    records = frame.to_dict(orient="records")
    write_atomic(path, lambda fh: fh.writelines(to_json(r) + "\n" for r in records))


def run(args) -> int:
    check_joint(args)
    if args.joint and args.model:
        raise DifficultyError("--joint ranks from the joint model over the groups; --model names a per-group "
                              "population model: give one of them")
    if args.joint and args.posterior == "sample":
        raise DifficultyError("--joint carries the joint posterior's Laplace draws; --posterior sample is for a "
                              "per-group fit")
    named = [o for o, v in (("--model", args.model), ("--posterior", args.posterior)) if v is not None]
    if args.pool and args.joint:
        raise DifficultyError("--joint ranks from the joint model alone; --pool pools it with each group's own ranking")
    if args.pool and (named or not args.group_col):
        why = f"{', '.join(named)} named" if named else "no --group-col"
        raise DifficultyError(f"--pool pools each group's default ranking with the joint model's: {why}")
    band = band_arg(args.band) if args.band is not None else None
    q_band = band_arg(args.q_band, "--q-band", low_open=False) if args.q_band is not None else None
    if band is not None and q_band is not None:
        raise DifficultyError("give --q-band (on q) or --band (on P(solved within K)), not both")
    if args.question == "hidden" and (band is not None or q_band is not None):
        raise DifficultyError("--hidden takes no band: it ranks problems unsolved so far by P(solved within "
                              "--budget more attempts)")
    if args.output:
        check_output(args.output, force=args.force, inputs=[args.data])
        if os.path.splitext(args.output)[1].lower() not in EXPORTS:
            raise DifficultyError(f"-o {args.output}: the ranked list is written as .csv or .jsonl (by the "
                                  "extension)")
    import pandas as pd

    from ..models import resolve
    from ..ranking import DEFAULT_MODEL, rank_problems
    from .progress import make_progress

    model = args.model or DEFAULT_MODEL
    resolve(model)  # an unknown name is refused before the data are read
    counts = load(args)
    results, frames = {}, []
    progress = make_progress(args.quiet)
    common = dict(budget=args.budget, band=band, q_band=q_band, question=args.question, confidence=args.confidence,
                  level=args.level, top=args.top, seed=args.seed)
    hyper = "laplace" if args.posterior == "laplace" else "full"
    if args.joint:
        joint = joint_fit(args, counts, check=False)  # rankings use no forecast band
        done = [(name, rank_problems(fit=joint, group=name, **common)) for name in joint.groups]
    elif args.group_col and args.pool is not False and not named:
        from ..pooled import rank_groups

        done = rank_groups(counts, pool=args.pool, model=model, hyper=hyper, progress=progress,
                           parallel=parallel_options(args), **common).items()
    else:
        done = [(name, rank_problems(sub, model=model, hyper=hyper, progress=progress, **common))
                for name, sub in (counts.groups().items() if args.group_col else [("", counts)])]
    for name, r in done:
        t = r.ranked
        if args.top is not None:
            t = t.head(args.top)
        if args.group_col:
            t.insert(0, "group", name)
        frames.append(t)
        results[name] = r
    if args.output:
        _write(args.output, pd.concat(frames, ignore_index=True))
    if args.json:
        if args.group_col:
            print_json({"groups": {n: r.to_dict() for n, r in results.items()}})
        else:
            print_json(results[""].to_dict())
        return 0
    for (name, r), t in zip(results.items(), frames):
        _print(name, r, t, args.show)
    return 0


def _print(name, r, t, show) -> None:
    head = f"[{name}]  " if name else ""
    n = len(t)
    print(f"{head}{r.question}: {r.describe()}; {r.model}, {r.posterior}")
    marks = sorted({m for m in (5, 10, 20, 50, n) if 0 < m <= n})
    if marks:
        print("  expected truly " + ("in the band" if r.question == "learnable" else "hidden and obtainable")
              + " among the top n: " + ", ".join(f"n={m}: {r.expected_in_top(m):.1f}" for m in marks))
    if r.n_selected:
        print(f"  selected (probability >= {r.confidence:g}): {r.n_selected} problems, expected truly in it "
              f"{r.expected_obtainable_selected:.1f}")
    else:
        print(f"  selected (probability >= {r.confidence:g}): none")
    if r.note:
        print(f"  note: {r.note}")
    cols = ["rank", "problem", "n", "c", "probability", "expected_in_top", "q_mean", "q_low", "q_high",
            "p_solve_within_budget", "selected"]
    if show and n:
        print(t[cols].head(show).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print()
