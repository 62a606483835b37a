"""``difficulty plan``: the k and the cost that reach a target coverage (Eq. 13-15)."""
from __future__ import annotations

from .common import add_command, level, model_from_args, numerical, print_json


def add_parser(subparsers) -> None:
    p = add_command(subparsers, "plan", help="k and cost for a target coverage (Eq. 13-15)",
                    description="Solve the model's pass@k for the k that reaches --target, and the cost "
                                "C = F (N_p + N_d k); the paper's large-k closed form is shown beside it.",
                    example="difficulty plan --model beta --alpha 2 --beta 0.35 --target 0.9 "
                            "--prompt-tokens 500 --decode-tokens 300 --json")
    p.add_argument("--model", required=True, help="model name")
    p.add_argument("--target", type=level, required=True, help="target coverage in (0, 1)")
    p.add_argument("--prompt-tokens", type=float, required=True, help="N_p")
    p.add_argument("--decode-tokens", type=float, required=True, help="N_d per attempt")
    p.add_argument("--flops-per-token", type=float, default=1.0, help="F (default 1: cost in tokens)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run, extras=True)


def run(args, extras) -> int:
    from ..cost import plan_cost

    model = model_from_args(args.model, extras)
    with numerical(f"pass@k of {model!r}"):
        plan = plan_cost(model, args.target, args.prompt_tokens, args.decode_tokens, args.flops_per_token)
    out = {"model": model.name, "params": model.params, **plan.to_dict()}
    if args.json:
        print_json(out)
        return 0
    print(f"{model!r}: target coverage {plan.target:g} (ceiling A = {plan.ceiling:.6g})")
    print(f"  k (exact, from pass@k)     : {plan.k:.6g}  -> {plan.k_attempts} attempts")
    print(f"  cost C = F (N_p + N_d k)   : {plan.cost:.6g}")
    if plan.k_asymptotic is not None:
        print(f"  k (large-k closed form)    : {plan.k_asymptotic:.6g}   cost {plan.cost_asymptotic:.6g}")
    return 0
