"""``difficulty simulate``: counts generated from a model with a known truth (or the VAE experiment)."""
from __future__ import annotations

import os
import sys

from ..errors import DifficultyError
from .common import Parser, add_command, add_force, check_output, floats_arg, model_from_args, model_names, whole


def add_parser(subparsers) -> None:
    p = add_command(subparsers, "simulate", help="generate counts with a known truth",
                    description=_description,
                    example="difficulty simulate beta --alpha 2 --beta 0.35 --problems 500 --attempts 100 "
                            "--seed 1 -o sim.csv")
    p.add_argument("model", help="the generating model")
    p.add_argument("--problems", type=whole(1), default=1000)
    p.add_argument("--attempts", type=whole(1), default=None, help="attempts per problem (default 100; 1000 for vae)")
    p.add_argument("--seed", type=whole(0), default=None)
    p.add_argument("-o", "--output", required=True, help="CSV file to write")
    add_force(p)
    p.set_defaults(run=run, extras=True)


def _description() -> str:
    return ("Simulate per-problem counts from a difficulty model (parameters as --NAME VALUE; models: "
            f"{model_names()}). The true per-problem failure probability is written in column true_p. "
            "`simulate vae` trains the VAE of the paper's Section 4 (--data PATH --images 400 --epochs 1000 "
            "--temperature 1.1 --epsilon LIST) and writes counts per threshold plus the error matrix (.npz).")


def run(args, extras) -> int:
    from ..io import write_atomic

    if args.model == "vae":
        return _run_vae(args, extras)
    model = model_from_args(args.model, extras)
    check_output(args.output, force=args.force)
    from ..generate import simulate_counts

    sim = simulate_counts(model, args.problems, args.attempts or 100, seed=args.seed)
    frame = sim.counts.to_frame().assign(true_p=sim.p)
    if sim.first_success is not None:
        frame = frame.assign(first_success=sim.first_success)
    write_atomic(args.output, lambda fh: frame.to_csv(fh, index=False))
    print(f"wrote {len(frame)} problems from {model!r} to {args.output}", file=sys.stderr)
    return 0


def _run_vae(args, extras) -> int:
    import numpy as np

    from ..io import write_atomic

    vp = Parser(prog="difficulty simulate vae", allow_abbrev=False)
    vp.add_argument("--data", default=None, help="IDX (.gz or raw), .npy or .npz images; default: scikit-learn digits")
    vp.add_argument("--images", type=whole(1), default=400)
    vp.add_argument("--epochs", type=whole(1), default=1000)
    vp.add_argument("--temperature", type=float, default=1.1)
    vp.add_argument("--epsilon", default="0.25,0.3,0.35", help="comma-separated success thresholds on Eq. 16's error")
    va = vp.parse_args(extras)
    eps = floats_arg(va.epsilon, "--epsilon")
    if np.any((eps <= 0) | (eps > 1)):
        raise DifficultyError("--epsilon values must be in (0, 1]")
    if va.temperature <= 0:
        raise DifficultyError("--temperature must be > 0")
    npz = os.path.splitext(args.output)[0] + ".npz"
    if os.path.realpath(npz) == os.path.realpath(args.output):
        raise DifficultyError(f"the counts and the error matrix would both be written to {npz}; name a .csv output")
    for path in (args.output, npz):
        check_output(path, force=args.force, inputs=[va.data])
    from ..experiments.vae import run_vae_experiment

    res = run_vae_experiment(va.data, images=va.images, epochs=va.epochs, temperature=va.temperature,
                             attempts=args.attempts or 1000, epsilons=eps, seed=args.seed or 0)
    frame = res.counts.to_frame().rename(columns={"group": "epsilon"})
    write_atomic(args.output, lambda fh: frame.to_csv(fh, index=False))
    write_atomic(npz, lambda fh: np.savez_compressed(fh, errors=res.errors, epsilons=res.epsilons,
                                                     eigenvalues=res.eigenvalues, kappa=res.kappa), mode="wb")
    print(f"data: {res.source}", file=sys.stderr)
    print(f"wrote counts for {len(eps)} thresholds to {args.output} (group column 'epsilon') and the "
          f"error matrix to {npz}; eigenvalue power-law kappa = {res.kappa:.3f}", file=sys.stderr)
    return 0
