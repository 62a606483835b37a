"""``difficulty analyze`` and ``difficulty demo``: every analysis, as a report folder."""
from __future__ import annotations

import os
import sys

from .common import (
    add_command,
    add_data_args,
    add_force,
    add_joint,
    add_parallel,
    add_quiet,
    check_joint,
    check_output,
    level,
    load,
    parallel_options,
    read_covariates,
)


def add_parser(subparsers) -> None:
    p = add_command(subparsers, "analyze", help="everything, as a report folder",
                    description="Exact pass@k, model fits and comparison, posterior with diagnostics, forecasts, "
                                "difficulty density, ranked problems and the cost plan: writes report.md, PNG "
                                "figures, summary.json, ranked.csv and the posteriors (netCDF) into -o DIR.",
                    example="difficulty analyze results.csv --group-col model -o report")
    add_data_args(p)
    p.add_argument("-o", "--output", default="difficulty-report", help="output folder (default difficulty-report)")
    _add_report_args(p)
    add_joint(p, "each group's forecast, density and ranking (beside the per-group ones)")
    p.set_defaults(run=run)

    p = add_command(subparsers, "demo", help="the full report on built-in generated data",
                    description="Generate three models' evaluation counts with known difficulty distributions and "
                                "run `analyze` on them; the truth is drawn on the figures.",
                    example="difficulty demo -o difficulty-demo --force")
    p.add_argument("-o", "--output", default="difficulty-demo", help="output folder (default difficulty-demo)")
    p.add_argument("--seed", type=int, default=0)
    _add_report_args(p)
    p.set_defaults(run=run_demo)


def _add_report_args(p) -> None:
    p.add_argument("--budget", type=float, default=None,
                   help="K for ranking and the obtainable mass (default: the median number of attempts)")
    p.add_argument("--target", type=level, default=0.9, help="coverage target for the cost plan (default 0.9)")
    p.add_argument("--prompt-tokens", type=float, default=500.0, help="N_p for the cost plan")
    p.add_argument("--decode-tokens", type=float, default=300.0, help="N_d for the cost plan")
    p.add_argument("--flops-per-token", type=float, default=1.0, help="F for the cost plan (1: cost in tokens)")
    p.add_argument("--no-plots", action="store_true", help="write no figures (the report is otherwise complete)")
    p.add_argument("--resume", action="store_true",
                   help="reuse the groups an interrupted run finished (kept in OUTPUT.partial)")
    add_force(p, "output folder")
    add_quiet(p)
    add_parallel(p)


def _report_opts(args) -> dict:
    from .progress import make_progress

    return dict(force=args.force, budget=args.budget, target=args.target, prompt_tokens=args.prompt_tokens,
                decode_tokens=args.decode_tokens, flops_per_token=args.flops_per_token, quiet=args.quiet,
                plots=not args.no_plots, resume=args.resume, progress=make_progress(args.quiet),
                **parallel_options(args))


def run(args) -> int:
    check_joint(args)
    check_output(args.output, force=args.force, inputs=[args.data], folder=True)
    from ..report import analyze

    counts = load(args)
    cov = read_covariates(args)
    if not args.quiet:
        print(f"difficulty: analysing {counts.n_problems} problems from {args.data}", file=sys.stderr)
    summary = analyze(counts, args.output, joint=args.joint, covariates=cov, **_report_opts(args))
    print(f"wrote {os.path.join(args.output, 'report.md')} ({summary['seconds']:.1f} s)")
    return 0


def run_demo(args) -> int:
    check_output(args.output, force=args.force, folder=True)
    from ..report import analyze, demo_data

    counts, truths = demo_data(seed=args.seed)
    if not args.quiet:
        print(f"difficulty: demo on built-in generated data ({counts.n_problems} problems, {len(truths)} models "
              f"of known difficulty)", file=sys.stderr)
    summary = analyze(counts, args.output, truths=truths, **_report_opts(args))
    for name, g in summary["groups"].items():
        t = truths[name]
        post = g["posterior"]["summary"]
        print(f"  {name:>13}: alpha {post['alpha']['mean']:.3f} (true {t.alpha:g}), beta {post['beta']['mean']:.3f} "
              f"(true {t.beta:g}), A {post['A']['mean']:.3f} (true {t.ceiling:g}); "
              f"{g['ranking']['n_selected']} problems selected")
    print(f"wrote {os.path.join(args.output, 'report.md')} ({summary['seconds']:.1f} s)")
    return 0
