"""The ``difficulty`` command line. Edges only: it parses, calls the core, prints.

One module per subcommand, each with ``add_parser(subparsers)`` and ``run(args[, extras])``;
the heavy libraries are imported inside ``run``, so that ``--help`` and the light commands
start fast.
"""
from __future__ import annotations

import argparse
import os
import sys

from ..errors import DifficultyError
from . import analyze, backtest, fit, forecast, invert, model, passk, plan, rank, simulate
from .common import Parser, join_negative_values

__all__ = ["main", "build_parser"]

COMMANDS = (passk, simulate, model, plan, fit, forecast, backtest, rank, invert, analyze)


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
    parser = build_parser()
    args, extras = parser.parse_known_args(join_negative_values(argv))
    takes_extras = getattr(args, "extras", False)
    if extras and not takes_extras:
        parser.error(f"unrecognized arguments: {' '.join(extras)}")
    try:
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
