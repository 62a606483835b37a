"""Cost planning (Eq. 13-15): the solved k reproduces the target; the asymptote converges to it."""
import json

import mpmath as mp
import numpy as np
import pytest

from difficulty import DifficultyError
from difficulty.cost import coverage_at_cost, inference_loss_at_cost, plan_cost
from difficulty.models import make_model

mp.mp.dps = 50


@pytest.mark.parametrize("target", [0.5, 0.9, 0.99, 0.999])
def test_solved_k_reproduces_target_coverage(target):
    plan = plan_cost(make_model("beta", alpha=2, beta=0.35), target, 500, 300, 2e9)
    exact = 1 - mp.beta(2 + plan.k, 0.35) / mp.beta(2, 0.35)  # Eq. 8 at the solved k
    assert abs(float(exact) - target) <= 1e-9
    assert plan.k_attempts == int(np.ceil(plan.k))
    assert plan.cost == pytest.approx(2e9 * (500 + 300 * plan.k_attempts), rel=1e-15)


def test_asymptotic_k_approaches_exact_k_as_k_grows():
    m = make_model("beta", alpha=2, beta=0.35, A=0.9)
    gaps = [abs(p.k_asymptotic / p.k - 1) for p in (plan_cost(m, t, 0, 1) for t in (0.5, 0.8, 0.89, 0.899))]
    assert all(b < a for a, b in zip(gaps, gaps[1:])) and gaps[-1] < 1e-3


def test_coverage_and_loss_as_functions_of_cost():
    m = make_model("beta", alpha=2, beta=0.35)
    k = np.array([1.0, 10.0, 1000.0])
    cost = 3.0 * (100 + 20 * k)
    assert np.allclose(coverage_at_cost(m, cost, 100, 20, 3.0), m.pass_at_k(k), rtol=1e-14)
    assert np.allclose(inference_loss_at_cost(m, cost, 100, 20, 3.0), m.inference_loss(k), rtol=1e-14)


def test_unreachable_targets_are_clear_errors():
    with pytest.raises(DifficultyError, match="ceiling A = 0.8"):
        plan_cost(make_model("beta", alpha=2, beta=0.35, A=0.8), 0.9, 1, 1)
    with pytest.raises(DifficultyError, match="reaches only"):
        plan_cost(make_model("effective-k", p=0.9, kappa=2.0), 0.5, 1, 1)
    with pytest.raises(DifficultyError, match="decode_tokens"):
        plan_cost(make_model("beta", alpha=2, beta=0.35), 0.5, 1, 0)


def test_model_and_plan_cli(cli):
    code, out, err = cli("model", "beta", "--alpha", "2", "--beta", "0.35", "--k", "1,10,100", "--json")
    assert code == 0, err
    r = json.loads(out)
    ref = [float(1 - mp.beta(2 + k, 0.35) / mp.beta(2, 0.35)) for k in (1, 10, 100)]
    assert np.allclose(r["pass_at_k"], ref, rtol=1e-12, atol=0)
    assert {"inference_loss", "density_sigma", "never_solved"} <= set(r)
    code, out, err = cli("plan", "--model", "beta", "--alpha", "2", "--beta", "0.35", "--target", "0.9",
                         "--prompt-tokens", "500", "--decode-tokens", "300", "--json")
    assert code == 0, err
    r = json.loads(out)
    assert {"k", "cost", "k_asymptotic"} <= set(r)
    assert abs(float(1 - mp.beta(2 + r["k"], 0.35) / mp.beta(2, 0.35)) - 0.9) < 1e-9
    code, _, err = cli("plan", "--model", "beta", "--alpha", "2", "--beta", "0.35", "--A", "0.5", "--target", "0.9",
                       "--prompt-tokens", "1", "--decode-tokens", "1")
    assert code == 2 and "unreachable" in err
    code, _, err = cli("model", "beta", "--alpha", "2")
    assert code == 2 and "needs parameter beta" in err


@pytest.mark.parametrize("name,params", [("kumaraswamy", ["--a", "0.4", "--b", "3.5"]),
                                         ("effective-k-beta", ["--alpha", "2", "--beta", "0.5", "--kappa", "0.4"]),
                                         ("beta-mixture",
                                          ["--weights", "0.5,0.5", "--alphas", "2,5", "--betas", "0.3,1"])])
def test_simulate_cli_with_every_kind_of_model(cli, tmp_path, name, params):
    out = tmp_path / "s.csv"
    code, _, err = cli("simulate", name, *params, "--problems", "50", "--attempts", "20", "--seed", "1", "-o", out)
    assert code == 0, err
    code, txt, err = cli("passk", out, "--k", "1,20", "--json")
    assert code == 0, err


def test_plan_when_the_loss_underflows_on_the_way():
    """A model whose inference loss falls below 1e-300 inside the search range still plans."""
    m = make_model("beta", alpha=2.0, beta=60.0, A=0.9)
    plan = plan_cost(m, 0.899999, 1, 1)
    exact = 0.9 * (1 - mp.beta(2 + plan.k, 60) / mp.beta(2, 60))
    assert abs(float(exact) - 0.899999) <= 1e-9
