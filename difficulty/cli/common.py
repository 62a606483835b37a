"""What the subcommands share: their data arguments, loading, numbers and lists from the
command line, model parameters, output checks and printing. Only numpy is imported up front."""
from __future__ import annotations

import argparse
import os
import re

import numpy as np

from ..errors import DifficultyError

EPILOG_FMT = "example:\n  {}"

# options whose value is a comma-separated list that may start with '-' (e.g. --k -5,1)
LIST_OPTIONS = ("--k", "--sigma", "--band", "--epsilon")
_NEGATIVE = re.compile(r"-(\d|\.\d|inf|nan)", re.IGNORECASE)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose description may be a function, called only when help is shown
    (the model list in a description would otherwise import the models for every command)."""

    def format_help(self) -> str:
        if callable(self.description):
            self.description = self.description()
        return super().format_help()


def add_command(subparsers, name: str, help: str, description, example: str) -> argparse.ArgumentParser:
    """Register a subcommand with its help, description (a text, or a function giving it) and an
    example as epilog."""
    return subparsers.add_parser(name, help=help, description=description, epilog=EPILOG_FMT.format(example),
                                 formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)


def join_negative_values(argv: list[str]) -> list[str]:
    """Rewrite ``--k -5,1`` as ``--k=-5,1``: argparse takes ``-5,1`` for an option and would
    answer "expected one argument" instead of the real complaint about the value."""
    out = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            return out + argv[i:]
        if tok in LIST_OPTIONS and i + 1 < len(argv) and _NEGATIVE.match(argv[i + 1]):
            out.append(f"{tok}={argv[i + 1]}")
            i += 2
            continue
        out.append(tok)
        i += 1
    return out


def add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help="CSV, TSV, JSONL/JSON or Parquet file of evaluation results")
    p.add_argument("--format", help="file format when the extension does not say (csv, tsv, jsonl, parquet)")
    p.add_argument("--n-col", help="column of attempts per problem (default: recognised by name)")
    p.add_argument("--c-col", help="column of successes per problem")
    p.add_argument("--problem-col", help="column of problem ids")
    p.add_argument("--outcome-col", help="column of per-attempt outcomes, or of outcome lists")
    p.add_argument("--group-col", help="report each value of this column (e.g. model) separately")


def add_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true", help="no progress or status lines on stderr")


def add_force(p: argparse.ArgumentParser, what: str = "output file") -> None:
    p.add_argument("--force", action="store_true", help=f"replace an existing {what}")


def load(args):
    """The per-problem counts named by the data arguments."""
    from ..io import load_counts

    return load_counts(args.data, format=args.format, n_col=args.n_col, c_col=args.c_col,
                       problem_col=args.problem_col, group_col=args.group_col, outcome_col=args.outcome_col)


def curve_or_counts(args):
    """("curve", (k, pass@k, n or None)) for a k,pass_at_k file, else ("counts", EvalCounts)."""
    from ..io import is_curve_file, load_curve

    if is_curve_file(args.data, args.format):
        return "curve", load_curve(args.data, args.format)
    return "counts", load(args)


def level(text: str) -> float:
    """argparse type: a number in (0, 1)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1), got {v}")
    return v


def floats_arg(text: str, what: str) -> np.ndarray:
    """A comma-separated list of finite numbers."""
    try:
        vals = np.array([float(x) for x in text.split(",") if x.strip()])
    except ValueError:
        raise DifficultyError(f"{what} must be a comma-separated list of numbers, got {text!r}") from None
    if vals.size == 0 or not np.all(np.isfinite(vals)):
        raise DifficultyError(f"{what} must be finite numbers, got {text!r}")
    return vals


def model_names() -> str:
    from ..models import MODELS

    return ", ".join(MODELS)


def model_from_args(name: str, extras: list[str]):
    """Build a model from ``--param value`` pairs left over by argparse."""
    from ..models import make_model, resolve

    spec = resolve(name)  # every name and alias, or a one-line error listing them
    params = {}
    i = 0
    while i < len(extras):
        tok = extras[i]
        if not tok.startswith("--"):
            raise DifficultyError(f"unexpected argument {tok!r}: model parameters are given as --NAME VALUE")
        key = tok[2:]
        if "=" in key:
            key, value = key.split("=", 1)
            i += 1
        else:
            if i + 1 >= len(extras):
                raise DifficultyError(f"parameter --{key} needs a value")
            value = extras[i + 1]
            i += 2
        key = key.replace("-", "_")
        if not (spec.cls.name == "beta-mixture" and key in ("weights", "alphas", "betas")):  # lists: the model parses
            try:
                value = float(value)
            except ValueError:
                raise DifficultyError(f"parameter --{key} must be a number, got {value!r}") from None
        params[key] = value
    return make_model(name, **params)


def check_output(path: str, *, force: bool, inputs=(), folder: bool = False) -> None:
    """Refuse an output before any work is done: its folder must exist and be writable, an
    existing output is replaced only with ``force``, and an input is never written over (nor,
    for an output folder, the folder holding an input), whatever ``force`` says."""
    real = os.path.realpath(path)
    for src in inputs:
        if not src or not os.path.exists(src):
            continue
        src_real = os.path.realpath(src)
        if src_real == real:
            same = "" if os.path.abspath(src) == os.path.abspath(path) else f" {src}"
            raise DifficultyError(f"{path} is the input file{same}; write the output elsewhere")
        if folder and src_real.startswith(real.rstrip(os.sep) + os.sep):
            raise DifficultyError(f"{path} holds the input file {src}; write the report elsewhere")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise DifficultyError(f"cannot write {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DifficultyError(f"cannot write {path}: folder {parent} is not writable")
    if os.path.lexists(path) and not force:
        raise DifficultyError(f"{path} exists; pass --force to replace it")
    if folder and os.path.exists(path) and not os.path.isdir(path):
        raise DifficultyError(f"{path} is a file; the report is a folder, name another")
    if not folder and os.path.isdir(path):
        raise DifficultyError(f"{path} is a folder; name a file to write")


def safe_name(name: str) -> str:
    """A group name made safe for a file name."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def per_group(counts, fn, grouped: bool):
    """Run fn on each group; returns {"groups": {...}} when grouped, else the single result."""
    if grouped:
        return {"groups": {name: fn(sub) for name, sub in counts.groups().items()}}
    return fn(counts)


def blocks(result: dict) -> dict:
    """{group name: result} for printing; the name is "" without groups."""
    return result["groups"] if "groups" in result else {"": result}


def print_json(obj) -> None:
    from ..io import to_json

    print(to_json(obj))
