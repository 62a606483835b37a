"""Pooled forecasts of groups that share problems: each group's own default forecast and the joint
model's, their quantiles averaged (difficulty.pooled), in the library and the CLI."""
from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from test_joint import _simulate

from difficulty.counts import EvalCounts
from difficulty.errors import DifficultyError
from difficulty.forecast import Forecast, forecast_pass_at_k
from difficulty.joint import fit_joint
from difficulty.pooled import combine, forecast_groups, pooling_blocked


def _fc(k, mid, lo, hi, model="m", level=0.9, warn=None):
    return Forecast(np.array(k, float), np.array(mid, float), np.array(lo, float), np.array(hi, float), level, model,
                    "mcmc", "problems", warnings=warn)


def test_combine_averages_each_quantile_exactly():
    """Point and band ends are the weighted means of the two forecasts' (exact fractions of the inputs)."""
    own = _fc([10, 1000], [0.25, 0.5], [0.125, 0.375], [0.375, 0.875], model="kumaraswamy", warn=["a"])
    joint = _fc([10, 1000], [0.5, 0.75], [0.25, 0.5], [0.625, 1.0], model="joint", warn=["b", "a"])
    for w in (0.5, 0.25):
        out = combine(own, joint, weight=w)
        W = Fraction(w)
        for mine, a, b in ((out.pass_at_k, own.pass_at_k, joint.pass_at_k), (out.low, own.low, joint.low),
                           (out.high, own.high, joint.high)):
            ref = [float((1 - W) * Fraction(x) + W * Fraction(y)) for x, y in zip(a, b)]
            assert mine.tolist() == ref
        assert out.method == "pooled" and out.model == "kumaraswamy + joint"
        assert out.weights == {"kumaraswamy (this group)": 1 - w, "joint": w}
        assert out.warnings == ["a", "b"]
        assert out.selfcheck["parts"]["own"]["pass_at_k"] == [0.25, 0.5]
        assert np.all(out.low <= out.pass_at_k) and np.all(out.pass_at_k <= out.high)
    with pytest.raises(DifficultyError, match="same k, level and target"):
        combine(own, _fc([10, 100], [0.5, 0.75], [0.25, 0.5], [0.625, 1.0]))
    with pytest.raises(DifficultyError, match="same k, level and target"):
        combine(own, _fc([10, 1000], [0.5, 0.75], [0.25, 0.5], [0.625, 1.0], level=0.8))
    with pytest.raises(DifficultyError, match="weight must be in"):
        combine(own, joint, weight=1.5)


def test_pooling_blocked_says_why():
    counts, _ = _simulate(J=4, NI=20, n=50)
    assert pooling_blocked(counts) is None
    assert "no groups" in pooling_blocked(EvalCounts(counts.n, counts.c))
    assert "no problem ids" in pooling_blocked(EvalCounts(counts.n, counts.c, group=counts.group))
    two = np.isin(counts.group, ["m0", "m1"])
    sub = EvalCounts(counts.n[two], counts.c[two], problem=counts.problem[two], group=counts.group[two])
    assert "2 group(s)" in pooling_blocked(sub)
    own_ids = np.array([f"{g}-{p}" for g, p in zip(counts.group, counts.problem)], dtype=object)
    assert "0% of the rows" in pooling_blocked(EvalCounts(counts.n, counts.c, problem=own_ids, group=counts.group))
    c = np.where(counts.group == "m3", counts.c, 0)
    assert "1 group(s) solved" in pooling_blocked(EvalCounts(counts.n, c, problem=counts.problem, group=counts.group))


def test_forecast_groups_is_each_groups_own_and_the_joint_combined():
    """The pooled forecast of every group equals combine() of the group's default forecast and the joint
    fit's forecast made separately; --no-pool gives the group's own; a group that solved nothing gets the
    joint model's alone, saying so."""
    counts, _ = _simulate(J=4, NI=30, n=60, seed=3)
    c = np.where(counts.group == "m0", 0, counts.c)  # the weakest group solved nothing
    counts = EvalCounts(counts.n, c, problem=counts.problem, group=counts.group)
    k = [100, 10_000]
    out = forecast_groups(counts, k, seed=0, jobs=1)
    joint = fit_joint(counts, seed=0)
    assert set(out) == {"m0", "m1", "m2", "m3"}
    for name in ("m1", "m2", "m3"):
        sub = counts.groups()[name]
        ref = combine(forecast_pass_at_k(sub, k, seed=0), joint.forecast(name, k, seed=0))
        for attr in ("pass_at_k", "low", "high"):
            np.testing.assert_array_equal(getattr(out[name], attr), getattr(ref, attr))
    j0 = joint.forecast("m0", k, seed=0)
    np.testing.assert_array_equal(out["m0"].pass_at_k, j0.pass_at_k)
    assert out["m0"].method == "laplace" and any("joint model's alone" in w for w in out["m0"].warnings)
    with pytest.raises(DifficultyError, match="cannot pool the groups: the data have no groups"):
        forecast_groups(EvalCounts(counts.n[:30], counts.c[:30]), k, pool=True)
    alone = forecast_groups(EvalCounts(counts.n, counts.c + (counts.group == "m0"), problem=counts.problem,
                                       group=counts.group), k, pool=False, jobs=1)
    assert all(f.method == "mcmc" for f in alone.values())


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "difficulty", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def test_cli_pools_by_default_where_groups_share_problems(tmp_path):
    counts, _ = _simulate(J=4, NI=25, n=80, seed=5)
    path = tmp_path / "runs.csv"
    pd.DataFrame({"model": counts.group, "problem": counts.problem, "n": counts.n, "c": counts.c}).to_csv(path,
                                                                                                        index=False)
    args = ["forecast", path, "--group-col", "model", "--k", "100,1000", "--json"]
    r = _cli(*args)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)["groups"]
    lib = forecast_groups(counts, [100, 1000], seed=0, jobs=1)
    for name, f in out.items():
        assert f["method"] == "pooled"
        assert f["pass_at_k"] == lib[name].pass_at_k.tolist() and f["high"] == lib[name].high.tolist()
    r = _cli(*args[:-1])
    assert r.returncode == 0 and r.stdout.count("and the joint model's over 4 groups (weight 0.50)") == 4, r.stderr
    r = _cli(*args[:-1], "--no-check")  # no check: the number of groups from the fit, not the check
    assert r.returncode == 0 and r.stdout.count("and the joint model's over 4 groups (weight 0.50)") == 4, r.stderr
    assert "check:" not in r.stdout
    r = _cli(*args, "--no-pool")
    assert r.returncode == 0, r.stderr
    assert {f["method"] for f in json.loads(r.stdout)["groups"].values()} == {"mcmc"}
    r = _cli(*args, "--method", "mle")  # another forecaster named: each group's own, not pooled
    assert r.returncode == 0 and {f["method"] for f in json.loads(r.stdout)["groups"].values()} == {"mle"}
    for extra, msg in ((["--pool", "--model", "beta"], "--model named"), (["--pool", "--joint"], "--joint gives"),
                       (["--pool", "--target", "population"], "--target population named")):
        r = _cli(*args, *extra)
        assert r.returncode == 2 and msg in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = _cli("forecast", path, "--k", "100", "--pool")
    assert r.returncode == 2 and "no --group-col" in r.stderr


# ---- rankings -------------------------------------------------------------------------------------------------


def _ranking(problems, n, c, cols, question="learnable", budget=1000.0):
    """A RankedProblems over the given per-problem columns (as rank_problems' tables have them)."""
    from difficulty.ranking import _ranked, default_q_band, q_to_band

    table = pd.DataFrame({"problem": problems, "n": n, "c": c, **cols})
    qb = default_q_band(budget)
    return _ranked(table, question, budget, q_to_band(qb, budget) if question == "learnable" else None,
                   qb if question == "learnable" else None, 0.5, 0.9, None, "m", "posterior", "", {})


def test_combine_rankings_pools_every_column_and_ranks_again():
    """q's mean and interval ends and the probabilities of solving within K are pooled on the rate scale,
    1 - (1 - x)^(1 - w) (1 - y)^w (against mpmath at 50 digits: last-digit agreement), the probabilities of a
    set of q (in the band) as weighted means (exact fractions); the problems matched by id whatever their
    order; the list is ranked on the pooled probability with expected_in_top its running sum; different
    questions, problems or counts are refused."""
    import mpmath

    from difficulty.pooled import MEAN_COLUMNS, RANK_COLUMNS, combine_rankings

    cols = ("q_mean", "q_low", "q_high", "p_in_band", "p_hidden_obtainable", "p_solve_within_budget",
            "p_solve_within_budget_low", "p_solve_within_budget_high")
    a_vals = {k: [0.125, 0.5, 0.75, 1e-18] for k in cols}
    b_vals = {k: [0.875, 0.25, 0.0, 0.5] for k in cols}  # for problems d, c, b, a (reversed order)
    b_vals["p_solve_within_budget_high"] = [1.0, 0.25, 0.0, 0.5]  # a part sure of solving: pooled sure too
    own = _ranking(["a", "b", "c", "d"], [10, 10, 10, 10], [0, 1, 2, 0], a_vals)
    joint = _ranking(["d", "c", "b", "a"], [10, 10, 10, 10], [0, 2, 1, 0], b_vals)
    joint.model = "joint"
    mpmath.mp.dps = 50
    for w in (0.5, 0.25):
        out = combine_rankings(own, joint, weight=w)
        W = Fraction(w)
        t = out.table
        assert t["problem"].tolist() == ["a", "b", "c", "d"]
        for k in cols:
            pairs = list(zip(a_vals[k], b_vals[k][::-1]))
            if k in MEAN_COLUMNS:
                ref = [float((1 - W) * Fraction(x) + W * Fraction(y)) for x, y in pairs]
                assert t[k].tolist() == ref, k
            else:
                ref = [float(1 - (1 - mpmath.mpf(x)) ** (1 - mpmath.mpf(w)) * (1 - mpmath.mpf(y)) ** mpmath.mpf(w))
                       for x, y in pairs]
                np.testing.assert_allclose(t[k].to_numpy(), ref, rtol=4e-16, atol=0, err_msg=k)
        assert t.loc[t.problem == "d", "p_solve_within_budget_high"].item() == 1.0
        # the rate scale lies at or above the plain mean (the mean of log(1 - x) is below log(1 - mean))
        plain = (1 - w) * np.array(a_vals["q_low"]) + w * np.array(b_vals["q_low"][::-1])
        assert np.all(t["q_low"].to_numpy() >= plain)
        assert "p_never" not in t.columns and set(cols) <= set(RANK_COLUMNS)
        order = t.sort_values("rank")
        p = order["probability"].to_numpy()
        assert np.all(np.diff(p) <= 0) and order["probability"].tolist() == order["p_in_band"].tolist()
        np.testing.assert_array_equal(order["expected_in_top"].to_numpy(), np.cumsum(p))
        assert out.model == "m + joint" and out.fit_info["weights"] == {"own": 1 - w, "joint": w}
        assert list(t["selected"]) == list(t["probability"] >= 0.5)
    same = combine_rankings(own, _ranking(["a", "b", "c", "d"], [10] * 4, [0, 1, 2, 0], a_vals), weight=0.3)
    for k in cols:  # two parts that agree pool to what they say
        np.testing.assert_allclose(same.table[k].to_numpy(), a_vals[k], rtol=2e-16, atol=0, err_msg=k)
    hidden = combine_rankings(own.asking("hidden"), joint.asking("hidden"), weight=0.5)
    assert hidden.question == "hidden" and hidden.table["probability"].tolist() == hidden.table[
        "p_hidden_obtainable"].tolist()
    with pytest.raises(DifficultyError, match="one question"):
        combine_rankings(own, joint.asking("hidden"))
    with pytest.raises(DifficultyError, match="problem 'd' is not in"):
        combine_rankings(own, _ranking(["e", "c", "b", "a"], [10] * 4, [0, 2, 1, 0], b_vals))
    with pytest.raises(DifficultyError, match="problem 'a' is not in"):
        combine_rankings(own, _ranking(["d", "c", "b"], [10] * 3, [0, 2, 1], {k: v[:3] for k, v in b_vals.items()}))
    with pytest.raises(DifficultyError, match="4 problems here, 5 "):  # the joint's has one more
        combine_rankings(own, _ranking(["d", "c", "b", "a", "e"], [10] * 5, [0, 2, 1, 0, 0],
                                       {k: v + [0.5] for k, v in b_vals.items()}))
    with pytest.raises(DifficultyError, match="problem 'b' has c = 1 here and 2"):
        combine_rankings(own, _ranking(["d", "c", "b", "a"], [10] * 4, [0, 2, 2, 0], b_vals))
    with pytest.raises(DifficultyError, match="weight must be in"):
        combine_rankings(own, joint, weight=-0.1)
    # no weight given: the joint ranking's own say of how much its shared part explains, or an error
    with pytest.raises(DifficultyError, match="give the joint model's weight"):
        combine_rankings(own, joint)
    joint.fit_info["shared_share"] = 0.25
    pd.testing.assert_frame_equal(combine_rankings(own, joint).table, combine_rankings(own, joint, weight=0.2).table)
    joint.fit_info["shared_share"] = 1.5  # not a share: said, not clipped
    with pytest.raises(DifficultyError, match="share the joint model explains must be in"):
        combine_rankings(own, joint)


def test_rank_groups_is_each_groups_own_and_the_joint_combined():
    """The pooled ranking of every group equals combine_rankings() of the group's default ranking and the
    joint fit's made separately; pool=False gives each group's own; a group that solved nothing gets the
    joint model's alone, saying so."""
    from difficulty.pooled import combine_rankings, rank_groups
    from difficulty.ranking import rank_problems

    counts, _ = _simulate(J=4, NI=30, n=60, seed=3)
    c = np.where(counts.group == "m0", 0, counts.c)
    counts = EvalCounts(counts.n, c, problem=counts.problem, group=counts.group)
    out = rank_groups(counts, budget=5000, question="hidden", seed=0)
    joint = fit_joint(counts, seed=0, check=False)
    assert set(out) == {"m0", "m1", "m2", "m3"}
    for name in ("m1", "m2", "m3"):
        ref = combine_rankings(rank_problems(counts.groups()[name], budget=5000, question="hidden", seed=0),
                               rank_problems(fit=joint, group=name, budget=5000, question="hidden", seed=0))
        pd.testing.assert_frame_equal(out[name].table, ref.table)
        assert out[name].model.endswith(" + joint") and out[name].question == "hidden"
    j0 = rank_problems(fit=joint, group="m0", budget=5000, question="hidden")
    pd.testing.assert_frame_equal(out["m0"].table, j0.table)
    assert out["m0"].model == "joint" and "joint model's alone" in out["m0"].note
    with pytest.raises(DifficultyError, match="no problem was ever solved"):
        rank_groups(counts, budget=5000, pool=False)  # m0 has no ranking of its own
    c1 = counts.c + (counts.group == "m0")
    alone = rank_groups(EvalCounts(counts.n, c1, problem=counts.problem, group=counts.group), budget=5000, pool=False)
    assert {r.model for r in alone.values()} == {rank_problems(counts.groups()["m1"], budget=5000).model}
    with pytest.raises(DifficultyError, match="cannot pool the groups: the data have no groups"):
        rank_groups(EvalCounts(counts.n[:30], counts.c[:30]), pool=True)


def test_shared_share_is_the_explained_share_of_each_groups_spread():
    """JointFit.shared_share(group) = mean over draws of V / (V + s^2), V the variance over the group's
    problems of a_i theta_j - b_i: against a plain loop over the draws' parameters; near 1 where the
    groups' rates follow shared difficulties, well below where each group's rates are its own; the joint
    ranking records it and the pooled ranking gives the joint model 0.8 of it as weight."""
    from difficulty.pooled import rank_groups
    from difficulty.ranking import rank_problems

    rng = np.random.default_rng(11)
    J, NI, n = 5, 80, 100
    shift = np.linspace(-1.0, 2.0, J)[:, None]
    base = rng.normal(-3.0, 2.0, NI)
    shares = {}
    for kind, lq in (("shared", base + 0.3 * rng.normal(size=(J, NI)) + shift),
                     ("independent", rng.normal(-3.0, 2.0, (J, NI)) + shift)):
        c = rng.binomial(n, 1.0 / (1.0 + np.exp(-lq)))
        counts = EvalCounts(np.full(J * NI, n), c.ravel(), problem=np.tile([f"p{i}" for i in range(NI)], J),
                            group=np.repeat([f"m{j}" for j in range(J)], NI))
        fit = fit_joint(counts, seed=0, check=False)
        shares[kind] = [fit.shared_share(f"m{j}", draws=40) for j in range(J)]
        for j in (0, J - 1):
            ref = []
            for z in fit.draws[:40]:
                p = fit.params(z)
                sel = fit.gj == j
                mu = p["a"][fit.gi[sel]] * p["theta"][j] - p["b"][fit.gi[sel]]
                v = np.mean((mu - np.mean(mu)) ** 2)
                ref.append(v / (v + p["s"] ** 2))
            np.testing.assert_allclose(shares[kind][j], np.mean(ref), rtol=1e-10)
        if kind == "shared":
            rj = rank_problems(fit=fit, group="m2", budget=5000, question="hidden")
            assert rj.fit_info["shared_share"] == fit.shared_share("m2", draws=200)  # the ranking's draws
            pooled = rank_groups(counts, budget=5000, question="hidden", joint=fit)
            w = 0.8 * rj.fit_info["shared_share"]  # the joint leads by the share explained, 1/5 kept on the own
            assert pooled["m2"].fit_info["weights"] == {"own": 1 - w, "joint": w}
    assert min(shares["shared"]) > 0.9 and max(shares["independent"]) < 0.6, shares


def test_cli_rank_pools_by_default_where_groups_share_problems(tmp_path):
    from difficulty.pooled import rank_groups

    counts, _ = _simulate(J=4, NI=25, n=80, seed=5)
    path = tmp_path / "runs.csv"
    pd.DataFrame({"model": counts.group, "problem": counts.problem, "n": counts.n, "c": counts.c}).to_csv(path,
                                                                                                        index=False)
    args = ["rank", path, "--group-col", "model", "--budget", "2000", "--json", "--quiet"]
    r = _cli(*args)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)["groups"]
    lib = rank_groups(counts, budget=2000, seed=0)
    for name, g in out.items():
        assert g["model"].endswith(" + joint") and g["posterior"].startswith("pooled")
        want = lib[name].ranked
        assert [p["problem"] for p in g["problems"]] == want["problem"].tolist()
        assert [p["probability"] for p in g["problems"]] == want["probability"].tolist()
    r = _cli(*args[:-2])
    assert r.returncode == 0 and r.stdout.count("pooled: this group's") == 4, r.stderr
    r = _cli(*args, "--no-pool")
    assert r.returncode == 0, r.stderr
    assert not any(g["model"].endswith("joint") for g in json.loads(r.stdout)["groups"].values())
    r = _cli(*args, "--model", "beta")  # another population model named: each group's own, not pooled
    assert r.returncode == 0 and {g["model"] for g in json.loads(r.stdout)["groups"].values()} == {"beta"}
    for extra, msg in ((["--pool", "--model", "beta"], "--model named"), (["--pool", "--joint"], "--joint ranks"),
                       (["--pool", "--posterior", "laplace"], "--posterior named")):
        r = _cli(*args, *extra)
        assert r.returncode == 2 and msg in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = _cli("rank", path, "--pool")
    assert r.returncode == 2 and "no --group-col" in r.stderr
