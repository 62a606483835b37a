"""``difficulty model``: a model's pass@k, inference loss and difficulty density."""
from __future__ import annotations

import numpy as np

from ..errors import DifficultyError
from .common import add_command, floats_arg, model_from_args, model_names, print_json


def add_parser(subparsers) -> None:
    p = add_command(subparsers, "model", help="evaluate a model's pass@k, inference loss and density",
                    description=lambda: f"Evaluate a model (parameters as --NAME VALUE; models: {model_names()}).",
                    example="difficulty model beta --alpha 2 --beta 0.35 --k 1,10,100 --json")
    p.add_argument("name", help="model name")
    p.add_argument("--k", default="1,10,100,1000", help="comma-separated k (real k >= 0 allowed)")
    p.add_argument("--sigma", default="0.01,0.1,1,3", help="comma-separated sigma = log(1/p) for the density")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run, extras=True)


def run(args, extras) -> int:
    from ..models import DifficultyModel

    model = model_from_args(args.name, extras)
    k = floats_arg(args.k, "--k")
    if np.any(k < 0):
        raise DifficultyError("--k values must be >= 0")
    out = {"model": model.name, "params": model.params, "k": k, "pass_at_k": model.pass_at_k(k),
           "inference_loss": model.inference_loss(k), "ceiling": model.ceiling}
    if isinstance(model, DifficultyModel):
        out["never_solved"] = model.never_solved
        sigma = floats_arg(args.sigma, "--sigma")
        if np.any(sigma < 0):
            raise DifficultyError("--sigma values must be >= 0 (sigma = log(1/p))")
        out["sigma"] = sigma
        try:
            out["density_sigma"] = model.density_sigma(sigma)
        except DifficultyError as e:
            out["density_sigma"] = None
            out["density_note"] = str(e)
    try:
        out["inference_loss_asymptote"] = model.inference_loss_asymptote(k)
        out["tail_exponent"] = model.tail_exponent
    except DifficultyError:
        pass
    if args.json:
        print_json(out)
        return 0
    print(f"{model!r}   ceiling A = {model.ceiling:.6g}")
    print(f"{'k':>12}  {'pass@k':>14}  {'inference loss':>14}")
    for kk, v, loss in zip(k, out["pass_at_k"], out["inference_loss"]):
        print(f"{kk:>12.6g}  {v:>14.10f}  {loss:>14.6e}")
    if out.get("density_sigma") is not None:
        print(f"\n{'sigma':>12}  {'density':>14}")
        for sg, d in zip(out["sigma"], out["density_sigma"]):
            print(f"{sg:>12.6g}  {d:>14.6e}")
    return 0
