"""The ``difficulty`` command line. Edges only: it parses, calls the core, prints.

One module per subcommand, each with ``add_parser(subparsers)`` and ``run(args[, extras])``;
the heavy libraries are imported inside ``run``, so that ``--help`` and the light commands
start fast.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import warnings

import numpy as np

from ..errors import DifficultyError
from . import allocate, analyze, backtest, fit, forecast, formats, invert, model, passk, plan, rank, simulate
from .common import Parser, join_negative_values

__all__ = ["main", "build_parser"]

COMMANDS = (passk, simulate, model, plan, fit, forecast, backtest, rank, allocate, invert, analyze, formats)


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = Parser(
        prog="difficulty", allow_abbrev=False,
        description="Inference scaling from repeated sampling: exact pass@k, difficulty models, "
                    "posteriors, forecasts and the perceived-difficulty density.",
    )
    parser.add_argument("--version", action="version", version=f"difficulty {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    with quiet_numerics():
        parser = build_parser()
        args, extras = parser.parse_known_args(join_negative_values(argv))
        takes_extras = getattr(args, "extras", False)
        if extras and not takes_extras:
            print(f"difficulty: error: unrecognized arguments: {' '.join(extras)} "
                  f"(see difficulty {args.command} --help)", file=sys.stderr)
            return 2
        try:
            _check_shared(args)
            return int((args.run(args, extras) if takes_extras else args.run(args)) or 0)
        except DifficultyError as e:
            print(f"difficulty: error: {e}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("difficulty: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:  # output piped into head and closed: not an error of ours
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0


def _check_shared(args) -> None:
    """Options that several commands declare, checked once for all: a seed is a whole number >= 0
    (numpy's generators take no other) and a budget K a finite number of attempts >= 1."""
    seed = getattr(args, "seed", None)
    if seed is not None and seed < 0:
        raise DifficultyError(f"--seed must be >= 0, got {seed}")
    budget = getattr(args, "budget", None)
    if budget is not None and not (np.isfinite(budget) and budget >= 1):
        raise DifficultyError(f"--budget must be a finite number of attempts >= 1, got {budget:g}")


def _from_numerics(category, filename: str) -> bool:
    """Whether a warning comes from numpy or scipy (its class or the code that issued it)."""
    module = getattr(category, "__module__", "") or ""
    parts = filename.replace("\\", "/").split("/")
    return module.split(".")[0] in ("numpy", "scipy") or "numpy" in parts or "scipy" in parts


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings reach the user as one line each; numerical ones (overflow, invalid value, a
    quadrature's round-off) not at all: what they would warn of shows in the output, where a
    value that is not finite is null with a note saying why."""
    if issubclass(category, RuntimeWarning) or _from_numerics(category, filename):
        return
    text = str(message).strip().splitlines()
    print(f"difficulty: warning: {text[0] if text else category.__name__}", file=file or sys.stderr)


@contextlib.contextmanager
def quiet_numerics():
    """Run a command with floating-point warnings off and every other warning on one line."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.showwarning = _show_warning
        yield
