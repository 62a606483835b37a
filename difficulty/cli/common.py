"""What the subcommands share: their data arguments, loading, numbers and lists from the
command line, model parameters, output checks and printing. Only numpy is imported up front."""
from __future__ import annotations

import argparse
import contextlib
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

    def error(self, message: str):
        """One line, like every other error (argparse would print the usage above it)."""
        self.exit(2, f"difficulty: error: {message} (see {self.prog} --help)\n")


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
    p.add_argument("data", help="CSV, TSV, JSONL/JSON or Parquet file of evaluation results, or a harness's "
                                "output (see `difficulty formats`)")
    p.add_argument("--format", help="the file's format when its extension and content do not settle it: csv, tsv, "
                                    "jsonl, parquet, lm-eval, evalplus, inspect, lighteval or matrix")
    p.add_argument("--n-col", help="column of attempts per problem (default: recognised by name)")
    p.add_argument("--c-col", help="column of successes per problem")
    p.add_argument("--problem-col", help="column of problem ids")
    p.add_argument("--outcome-col", help="column of per-attempt outcomes, or of outcome lists")
    p.add_argument("--attempt-col", help="column of attempt numbers in per-attempt rows (default: recognised by name, "
                                         "e.g. attempt, attempt_idx, sample_idx): outcomes are read in order, as "
                                         "sequential data that may have stopped on a success")
    p.add_argument("--group-col", help="report each value of this column (e.g. model) separately")
    h = p.add_argument_group("harness outputs (see `difficulty formats`)")
    h.add_argument("--filter", help="lm-eval: the filter pipeline whose scores count (e.g. strict-match)")
    h.add_argument("--metric", help="lm-eval, lighteval: the metric; inspect: the scorer (default: the first 0/1 one)")
    h.add_argument("--evalplus-tests", choices=("base", "plus"),
                   help="evalplus: a sample passes the base tests, or base and plus (default: plus)")


def add_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true", help="no progress or status lines on stderr")


def add_force(p: argparse.ArgumentParser, what: str = "output file") -> None:
    p.add_argument("--force", action="store_true", help=f"replace an existing {what}")


def _reading(path: str, read):
    """read(), with the failures of reading a file itself (permissions, bytes that are not text, numbers
    beyond any float) as one-line errors naming the file."""
    try:
        return read()
    except UnicodeDecodeError as e:
        raise DifficultyError(f"{path}: not a text file in UTF-8 (byte {e.start}: {e.reason})") from None
    except OverflowError as e:  # a count beyond any float (1e400): bad input, though the reader cannot say where
        raise DifficultyError(f"{path}: a number is too large to read ({e})") from None
    except OSError as e:
        raise DifficultyError(f"{path}: cannot be read ({e.strerror or type(e).__name__})") from None


def load(args):
    """The per-problem counts named by the data arguments (a k,pass_at_k curve is refused by name)."""
    from ..io import is_curve_file, load_counts

    try:
        return _reading(args.data, lambda: load_counts(
            args.data, format=args.format, n_col=args.n_col, c_col=args.c_col, problem_col=args.problem_col,
            group_col=args.group_col, outcome_col=args.outcome_col, filter=args.filter, metric=args.metric,
            evalplus_tests=args.evalplus_tests, attempt_col=getattr(args, "attempt_col", None)))
    except DifficultyError:
        try:
            curve = _reading(args.data, lambda: is_curve_file(args.data, args.format))
        except DifficultyError:
            curve = False  # the first complaint stands
        if curve:
            raise DifficultyError(f"{args.data} is an aggregate k,pass_at_k curve; `difficulty {args.command}` "
                                  "needs per-problem counts (N and c per problem)") from None
        raise


def add_joint(p: argparse.ArgumentParser, what: str) -> None:
    """``--joint`` and its ``--covariates``."""
    p.add_argument("--joint", action="store_true",
                   help=f"{what} from one model fitted to all groups of --group-col at once (logit q = a_i theta_j - "
                        "b_i + noise, never-solvable problems): a problem other groups solved is likelier to be "
                        "solvable by this one; needs a problem id column shared by the groups")
    p.add_argument("--covariates", help="with --joint: comma-separated per-group columns the abilities are regressed "
                                        "on (e.g. params,train_tokens; values like 1.4B read as numbers)")


def read_covariates(args):
    """{group: {column: value}} of ``--covariates`` from the data file, or None; only with ``--joint``."""
    if not getattr(args, "covariates", None):
        return None
    check_joint(args)
    from ..io import group_covariates

    cols = [c.strip() for c in args.covariates.split(",") if c.strip()]
    if not cols:
        raise DifficultyError(f"--covariates names no column: {args.covariates!r}")
    return group_covariates(args.data, args.group_col, cols, args.format)


def check_joint(args) -> None:
    """``--joint`` is refused before the data are read when it has no groups to join, ``--covariates``
    when there is no joint model to take them."""
    if getattr(args, "covariates", None) and not getattr(args, "joint", False):
        raise DifficultyError("--covariates goes with --joint")
    if getattr(args, "joint", False) and not args.group_col:
        raise DifficultyError("--joint needs --group-col (e.g. the model column): it fits all its groups at once")


def joint_fit(args, counts=None, **kw):
    """The joint fit of ``--joint`` to the file's counts (read here unless given): one fit for every
    group of ``--group-col``, with ``--covariates`` unless ``covariates`` is given."""
    from ..joint import fit_joint

    check_joint(args)
    if "covariates" not in kw:
        kw["covariates"] = read_covariates(args)
    return fit_joint(load(args) if counts is None else counts, level=args.level, seed=args.seed, **kw)


def curve_or_counts(args):
    """("curve", (k, pass@k, n or None)) for a k,pass_at_k file, else ("counts", EvalCounts)."""
    from ..io import is_curve_file, load_curve

    if _reading(args.data, lambda: is_curve_file(args.data, args.format)):
        return "curve", _reading(args.data, lambda: load_curve(args.data, args.format))
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


def whole(minimum: int):
    """argparse type: a whole number >= ``minimum`` (written as 12, 12.0 or 1.2e1)."""
    def parse(text: str) -> int:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not np.isfinite(v) or v != round(v) or abs(v) > 2.0**53:
            raise argparse.ArgumentTypeError(f"must be a whole number (below 2^53), got {text!r}")
        if v < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {int(v)}")
        return int(v)

    return parse


def budget(text: str) -> float:
    """argparse type: a finite number of attempts K >= 1."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (np.isfinite(v) and v >= 1):
        raise argparse.ArgumentTypeError(f"must be a finite number of attempts >= 1, got {text}")
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


def numerical_failure(e: BaseException) -> bool:
    """Whether ``e`` is a computation failing in double precision (a math range or domain error), as
    opposed to bad input (DifficultyError) or a bug."""
    if isinstance(e, DifficultyError):
        return False
    return isinstance(e, ArithmeticError) or (isinstance(e, ValueError) and str(e) == "math domain error")


@contextlib.contextmanager
def numerical(what: str):
    """A one-line error, naming ``what`` was computed, for a computation that fails in double precision."""
    try:
        yield
    except (ArithmeticError, ValueError) as e:
        if not numerical_failure(e):
            raise
        raise DifficultyError(f"{what} cannot be evaluated in double precision ({type(e).__name__}: {e})") from None


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


def per_group(counts, fn, grouped: bool, args=None):
    """Run fn on each group (in parallel as ``args`` says: --jobs, --backend, --scheduler); returns
    {"groups": {...}} when grouped, else the single result."""
    if grouped:
        from ..parallel import map_groups

        parts = counts.groups()
        res = map_groups(fn, [(sub,) for sub in parts.values()], **parallel_options(args))
        return {"groups": dict(zip(parts, res))}
    return fn(counts)


def add_parallel(p) -> None:
    """--jobs, --backend, --scheduler: groups in parallel (loky locally, Dask on a cluster)."""
    p.add_argument("--jobs", type=int, default=None, help="groups run in parallel on this many workers "
                   "(default: all cores; 1: one after another)")
    p.add_argument("--backend", choices=["loky", "dask", "sequential"], default="loky",
                   help="loky: local processes (default); dask: a dask.distributed cluster (--scheduler)")
    p.add_argument("--scheduler", help="address of the dask scheduler for --backend dask, e.g. tcp://host:8786")


def parallel_options(args) -> dict:
    if args is None or not hasattr(args, "jobs"):
        return {"jobs": 1}
    return {"jobs": args.jobs, "backend": args.backend, "scheduler": args.scheduler}


def blocks(result: dict) -> dict:
    """{group name: result} for printing; the name is "" without groups."""
    return result["groups"] if "groups" in result else {"": result}


NOT_FINITE = "not finite in double precision"


def _not_finite(v):
    """Where ``v`` (a number or an array of numbers, possibly nested lists) is NaN or infinite:
    True/False for a number, the flat indices for an array, None for anything else."""
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, (float, np.floating)):
        return not np.isfinite(v)
    if isinstance(v, (list, tuple, np.ndarray)):
        try:
            arr = np.asarray(v, dtype=float)  # None (already null) becomes NaN: not ours to note
            known = np.asarray([x is not None for x in np.ravel(np.asarray(v, dtype=object))], dtype=bool)
        except (TypeError, ValueError):
            return None
        if arr.size != known.size:
            return None
        return np.flatnonzero(~np.isfinite(arr.ravel()) & known)
    return None


def _entries(idx) -> str:
    text = ", ".join(str(i) for i in idx[:10]) + (", ..." if len(idx) > 10 else "")
    return f"entry {text} is" if len(idx) == 1 else f"entries {text} are"


def _note(bad, reason) -> str:
    """The note for a value that is not finite: ``reason`` is a text, or {entry: text} for an array
    whose entries fail for different reasons."""
    if bad is True:
        return reason if isinstance(reason, str) else NOT_FINITE
    if isinstance(reason, str):
        reason = dict.fromkeys(bad.tolist(), reason)
    by_reason: dict = {}
    for i in bad.tolist():
        by_reason.setdefault(reason.get(i, NOT_FINITE), []).append(i)
    return "; ".join(f"{_entries(idx)} {why}" if why == NOT_FINITE else f"{_entries(idx)} not finite: {why}"
                     for why, idx in by_reason.items())


def with_notes(obj, reasons: dict | None = None):
    """A copy of ``obj`` in which every key whose value is not finite (a number, or entries of an
    array) is followed by ``<key>_note``: which entries, and why (``reasons[key]`` when the command
    knows, else that it is not finite in double precision). JSON writes the value as null."""
    reasons = reasons or {}
    if isinstance(obj, dict):
        out = {}
        for key, v in obj.items():
            out[key] = with_notes(v, reasons)
            bad = _not_finite(v)
            note = f"{key}_note"
            if bad is not None and (bad is True or (bad is not False and len(bad))) and note not in obj:
                out[note] = _note(bad, reasons.get(key, NOT_FINITE))
        return out
    if isinstance(obj, (list, tuple)) and any(isinstance(v, dict) for v in obj):
        return [with_notes(v, reasons) for v in obj]
    return obj


def print_json(obj, reasons: dict | None = None) -> None:
    """Print ``obj`` as one JSON object; values that are not finite are null with a note."""
    from ..io import to_json

    print(to_json(with_notes(obj, reasons)))
