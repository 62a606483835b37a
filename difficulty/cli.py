"""The ``difficulty`` command line. Edges only: it parses, calls the core, prints."""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile

import numpy as np

from .errors import DifficultyError

EPILOG_FMT = "example:\n  {}"


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help="CSV, TSV, JSONL/JSON or Parquet file of evaluation results")
    p.add_argument("--format", help="file format when the extension does not say (csv, tsv, jsonl, parquet)")
    p.add_argument("--n-col", help="column of attempts per problem (default: recognised by name)")
    p.add_argument("--c-col", help="column of successes per problem")
    p.add_argument("--problem-col", help="column of problem ids")
    p.add_argument("--outcome-col", help="column of per-attempt outcomes, or of outcome lists")
    p.add_argument("--group-col", help="report each value of this column (e.g. model) separately")


def _load(args):
    from .io import load_counts

    return load_counts(args.data, format=args.format, n_col=args.n_col, c_col=args.c_col,
                       problem_col=args.problem_col, group_col=args.group_col, outcome_col=args.outcome_col)


def _level(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1), got {v}")
    return v


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _clean_json(o):
    """NaN/inf are not JSON: they become null."""
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _clean_json(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean_json(v) for v in o]
    if isinstance(o, np.ndarray):
        return _clean_json(o.tolist())
    if isinstance(o, np.generic):
        return _clean_json(o.item())
    return o


def print_json(obj) -> None:
    print(json.dumps(_clean_json(obj), default=_json_default, indent=None))


def _per_group(counts, fn, grouped: bool):
    """Run fn on each group; returns {"groups": {...}} when grouped, else the single result."""
    if grouped:
        return {"groups": {name: fn(sub) for name, sub in counts.groups().items()}}
    return fn(counts)


def write_atomic(path: str, write_fn, mode="w") -> None:
    """Write a file whole or not at all: into a temporary file beside it, then rename."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(folder):
        raise DifficultyError(f"cannot write {path}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, mode) as fh:
            write_fn(fh)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------- passk
def cmd_passk(args) -> int:
    from .passk import estimate_pass_at_k, parse_k

    counts = _load(args)
    k = parse_k(args.k) if args.k else None

    def one(sub):
        kk = k if k is not None else _default_k(int(sub.n.min()))
        return estimate_pass_at_k(sub, kk, level=args.level, seed=args.seed).to_dict()

    result = _per_group(counts, one, args.group_col is not None)
    if args.json:
        print_json(result)
        return 0
    blocks = result["groups"] if "groups" in result else {"": result}
    for name, r in blocks.items():
        if name:
            print(f"[{name}]  ({r['n_problems']} problems)")
        else:
            print(f"{r['n_problems']} problems")
        lvl = int(round(100 * r["level"]))
        print(f"{'k':>10}  {'pass@k':>9}  {f'{lvl}% interval':>21}")
        for kk, v, lo, hi in zip(r["k"], r["pass_at_k"], r["low"], r["high"]):
            print(f"{kk:>10}  {v:>9.5f}  [{lo:.5f}, {hi:.5f}]")
        print()
    return 0


def _default_k(nmin: int) -> np.ndarray:
    ks = np.unique(np.round(np.logspace(0, np.log10(nmin), 12)).astype(int))
    return ks[ks <= nmin]


# ---------------------------------------------------------------- simulate
def cmd_simulate(args) -> int:
    from .generate import simulate_beta_counts

    counts, p = simulate_beta_counts(args.alpha, args.beta, args.problems, args.attempts, seed=args.seed,
                                     ceiling=args.ceiling)
    frame = counts.to_frame().assign(true_p=p)
    write_atomic(args.output, lambda fh: frame.to_csv(fh, index=False))
    print(f"wrote {len(frame)} problems to {args.output}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="difficulty",
        description="Inference scaling from repeated sampling: exact pass@k, difficulty models, "
                    "posteriors, forecasts and the perceived-difficulty density.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    fmt = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser("passk", help="exact pass@k with intervals", formatter_class=fmt,
                       description="Unbiased pass@k (Chen et al. 2021) at each k <= N, averaged over problems, "
                                   "with a bootstrap interval that carries both problem sampling and finite attempts.",
                       epilog=EPILOG_FMT.format("difficulty passk results.csv --k 1,10,100 --group-col model --json"))
    _add_data_args(p)
    p.add_argument("--k", help="comma-separated k values (default: 12 log-spaced up to the smallest N)")
    p.add_argument("--level", type=_level, default=0.9, help="interval level (default 0.9)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_passk)

    p = sub.add_parser("simulate", help="generate counts with a known truth", formatter_class=fmt,
                       description="Simulate per-problem counts from a difficulty model; the true per-problem "
                                   "failure probability is written in column true_p.",
                       epilog=EPILOG_FMT.format("difficulty simulate beta --alpha 2 --beta 0.35 --problems 500 "
                                                "--attempts 100 --seed 1 -o sim.csv"))
    p.add_argument("model", choices=["beta"], help="the generating model")
    p.add_argument("--alpha", type=float, required=True)
    p.add_argument("--beta", type=float, required=True)
    p.add_argument("--ceiling", type=float, default=1.0, help="A: fraction of problems ever solvable")
    p.add_argument("--problems", type=int, default=1000)
    p.add_argument("--attempts", type=int, default=100)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("-o", "--output", required=True, help="CSV file to write")
    p.set_defaults(func=cmd_simulate)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DifficultyError as e:
        print(f"difficulty: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("difficulty: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head and closed: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
