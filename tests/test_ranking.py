"""The ranking's probabilities and intervals against independent computations (mpmath, scipy sampling),
its questions against generator truth, and the command's export."""
import json
import warnings

import mpmath as mp
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from difficulty import DifficultyError
from difficulty.counts import EvalCounts
from difficulty.fit import fit_mle, sample_posterior
from difficulty.generate import simulate_counts
from difficulty.models import make_model
from difficulty.ranking import band_to_q, default_q_band, rank_problems, stratified_pick


def _zi_beta_exact(a, b, A, n, c, K, q_lo, q_hi):
    """P(solved within K), P(q_lo <= q <= q_hi) and P(never) of one problem under zi-beta(a, b, A), at 30
    digits: q | c ~ Beta(b + c, a + n - c), with the never-solvable atom when c = 0."""
    a, b, A = mp.mpf(a), mp.mpf(b), mp.mpf(A)
    never = mp.mpf(0)
    if c == 0:
        bb0 = mp.beta(b, n + a) / mp.beta(b, a)
        never = (1 - A) / (1 - A + A * bb0)
    solve = 1 - mp.beta(a + n - c + K, b + c) / mp.beta(a + n - c, b + c)
    band = mp.betainc(b + c, a + n - c, q_lo, q_hi, regularized=True)
    return (1 - never) * solve, (1 - never) * band, never


@pytest.fixture(scope="module")
def zi_beta_post():
    sim = simulate_counts(make_model("zi-beta", alpha=2.0, beta=0.5, A=0.9), 300, 30, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return sim, sample_posterior(sim.counts, "zi-beta", seed=1)


def test_empirical_bayes_probability_of_solving_matches_mathmd_formula():
    sim = simulate_counts(make_model("beta", alpha=2.0, beta=0.5, A=0.9), 400, 30, seed=0)
    r = rank_problems(sim.counts, budget=100, model="zi-beta", hyper="eb")
    a, b, A = fit_mle(sim.counts, "zi-beta").value
    mp.mp.dps = 30
    for _, row in r.table.head(30).iterrows():
        solve, _, never = _zi_beta_exact(a, b, A, int(row.n), int(row.c), 100, 0.5, 0.6)
        if row.c == 0:
            assert row.p_never == pytest.approx(float(never), rel=1e-9)
        assert row.p_solve_within_budget == pytest.approx(float(solve), rel=1e-9)


def test_probabilities_are_the_mean_over_posterior_draws(zi_beta_post):
    """Population uncertainty carried through: every probability is the average over the parameter draws
    of the per-draw closed form, here recomputed at 30 digits with mpmath."""
    sim, post = zi_beta_post
    K, D, seed = 500, 12, 3
    r = rank_problems(fit=post, budget=K, draws=D, seed=seed)
    thetas = post.parameter_draws(D, seed)  # the same draws: parameter_draws is deterministic in its seed
    q_lo, q_hi = r.q_band
    assert (q_lo, q_hi) == pytest.approx((1 / K, 0.2))
    mp.mp.dps = 30
    rows = r.table.drop_duplicates(["n", "c"]).sort_values("c").head(6)
    for _, row in rows.iterrows():
        exact = np.array([[float(v) for v in _zi_beta_exact(*th, int(row.n), int(row.c), K, q_lo, q_hi)]
                          for th in thetas]).mean(axis=0)
        assert row.p_solve_within_budget == pytest.approx(exact[0], rel=1e-8)
        assert row.p_in_band == pytest.approx(exact[1], rel=1e-8, abs=1e-12)
        assert row.p_never == pytest.approx(exact[2], rel=1e-8, abs=1e-300)
        assert row.probability == row.p_in_band
        assert row.p_hidden_obtainable == (row.p_solve_within_budget if row.c == 0 else 0.0)


def test_intervals_are_quantiles_of_the_mixture_over_draws(zi_beta_post):
    """The 90% interval for q against Monte Carlo: q drawn from Beta(beta + c, alpha + N - c) at each posterior
    draw (or 0 with the never-solvable weight); 400,000 draws put the CDF at each bound within 0.002 of its
    level (binomial standard error 3.4e-4)."""
    sim, post = zi_beta_post
    D, per = 200, 2000
    r = rank_problems(fit=post, budget=1000, draws=D, seed=5, level=0.9)
    thetas = post.parameter_draws(D, 5)
    rng = np.random.default_rng(0)
    for c in (0, 1, 4, 12):
        row = r.table[r.table.c == c].iloc[0]
        n = int(row.n)
        a, b, A = thetas[:, 0, None], thetas[:, 1, None], thetas[:, 2, None]
        q = rng.beta(b + c, a + n - c, size=(D, per))
        if c == 0:
            bb0 = np.exp(stats.betabinom.logpmf(0, n, b, a))
            never = (1 - A) / (1 - A + A * bb0)
            q = np.where(rng.random((D, per)) < never, 0.0, q)
        q = q.ravel()
        if row.q_low == 0:  # the atom holds the lower level
            assert np.mean(q == 0) > 0.05
        else:
            assert np.mean(q <= row.q_low) == pytest.approx(0.05, abs=0.002)
        assert np.mean(q <= row.q_high) == pytest.approx(0.95, abs=0.002)
        assert row.q_low <= row.q_mean <= row.q_high


def test_population_uncertainty_widens_a_degenerate_interval():
    """The issue's case: a few problems at 7/100 among never-solved ones drive the zero-inflated Beta's
    maximum to a spike at q = 0.07, and the maximum alone gives 7/100 an interval narrower than 1e-4.
    With the population's posterior the interval is as wide as the counts allow: it holds 0.07 and is
    several hundredths wide, inside the interval of 7/100 on its own (Jeffreys: [0.035, 0.127])."""
    c = np.array([0] * 40 + [7] * 6 + [6, 8])
    counts = EvalCounts(np.full(c.size, 100), c)
    point = rank_problems(counts, budget=10_000, model="zi-beta", hyper="eb").table
    full = rank_problems(counts, budget=10_000, model="zi-beta").table
    p7, f7 = point[point.c == 7].iloc[0], full[full.c == 7].iloc[0]
    assert p7.q_high - p7.q_low < 1e-4
    assert f7.q_low < 0.06 and f7.q_high > 0.085
    jeffreys = stats.beta.ppf([0.05, 0.95], 7.5, 93.5)
    assert jeffreys[0] < f7.q_low < 0.07 < f7.q_high < jeffreys[1]


def test_hidden_question_against_generator_truth():
    """On counts drawn from the fitted family, the mean of P(solved within K) over the never-solved problems
    matches the mean of their true 1 - (1 - q)^K (3 data sets of 1,500 problems: tolerance 0.04, about 3
    standard errors); solved problems have probability 0; the ranked list puts every never-solved problem
    first and expected_in_top is the running sum of the probabilities."""
    K, pred, truth = 2000, [], []
    for seed in range(3):
        sim = simulate_counts(make_model("beta", alpha=4.0, beta=0.3), 1500, 50, seed=seed)
        r = rank_problems(sim.counts, budget=K, model="beta", question="hidden", seed=seed)
        t = r.ranked
        zero = t.c == 0
        assert (t.probability[~zero] == 0).all() and zero.iloc[: int(zero.sum())].all()
        assert np.allclose(t.expected_in_top, np.cumsum(t.probability))
        q = 1 - sim.p[t.index]
        pred.append(t.probability[zero].to_numpy())
        truth.append(-np.expm1(K * np.log1p(-q[zero.to_numpy()])))
        assert r.band is None and r.q_band is None
    pred, truth = np.concatenate(pred), np.concatenate(truth)
    assert abs(pred.mean() - truth.mean()) < 0.04, (pred.mean(), truth.mean())


def test_learnable_question_against_generator_truth():
    """Default band [1/K, 0.2]: the probabilities are calibrated (each decile of the prediction within 0.08
    of the observed fraction where it holds 200 problems or more; the pooled error within 0.03), and the
    top n is truly in the band at least as often as the raw filter 0 < c/N < 0.2 at the same n (here that
    filter is almost always right: a tie is the best possible) and more often than the filter c = 0."""
    K = 1000
    sims = [simulate_counts(make_model("beta", alpha=3.0, beta=0.4), 1500, 40, seed=s) for s in range(3)]
    pred, good, wins = [], [], []
    for s, sim in enumerate(sims):
        r = rank_problems(sim.counts, budget=K, model="beta", seed=s)
        assert r.q_band == pytest.approx(default_q_band(K)) and r.q_band == pytest.approx((1e-3, 0.2))
        q = 1 - sim.p
        g = (q >= 1e-3) & (q <= 0.2)
        p = r.table.probability.to_numpy()
        pred.append(p)
        good.append(g)
        c, n = sim.counts.c, sim.counts.n
        for raw in ((c > 0) & (c < 0.2 * n), c == 0):
            top = np.argsort(-p, kind="stable")[: raw.sum()]
            wins.append((g[top].mean(), g[raw].mean()))
    pred, good = np.concatenate(pred), np.concatenate(good).astype(float)
    bins = np.minimum((pred * 10).astype(int), 9)
    for k in range(10):
        if np.sum(bins == k) >= 200:
            assert abs(pred[bins == k].mean() - good[bins == k].mean()) < 0.08, k
    assert abs(pred.mean() - good.mean()) < 0.03
    wins = np.array(wins).reshape(-1, 2, 2)
    assert (wins[:, 0, 0] >= wins[:, 0, 1]).all() and (wins[:, 1, 0] > wins[:, 1, 1] + 0.1).all(), wins


def test_a_band_on_p_solve_is_the_same_event_as_its_band_on_q(zi_beta_post):
    sim, post = zi_beta_post
    q_lo, q_hi = band_to_q((0.5, 0.99), 1000)
    assert 1 - (1 - q_lo) ** 1000 == pytest.approx(0.5) and 1 - (1 - q_hi) ** 1000 == pytest.approx(0.99)
    by_p = rank_problems(fit=post, budget=1000, band=(0.5, 0.99), draws=20)
    by_q = rank_problems(fit=post, budget=1000, q_band=(q_lo, q_hi), draws=20)
    assert np.allclose(by_p.table.p_in_band, by_q.table.p_in_band, rtol=1e-12, atol=0)
    assert by_p.band == (0.5, 0.99) and by_q.band == pytest.approx((0.5, 0.99))
    assert by_p.to_dict()["n_selected"] == int(by_p.table.selected.sum())


def test_asking_another_question_equals_ranking_again(zi_beta_post):
    """ranked.asking(q) reuses the per-problem posterior: the same table as a second rank_problems call."""
    sim, post = zi_beta_post
    learnable = rank_problems(fit=post, budget=1000, band=(0.5, 0.99), confidence=0.6, top=7, draws=20)
    again = rank_problems(fit=post, budget=1000, question="hidden", confidence=0.6, top=7, draws=20)
    hidden = learnable.asking("hidden")
    cols = ["probability", "rank", "expected_in_top", "selected", "p_solve_within_budget", "q_low", "q_high"]
    pd.testing.assert_frame_equal(hidden.table[cols], again.table[cols])
    assert (hidden.question, hidden.band, hidden.q_band, hidden.note) == ("hidden", None, None, again.note)
    back = learnable.asking("learnable")
    pd.testing.assert_frame_equal(back.table, learnable.table)
    with pytest.raises(DifficultyError, match="no band"):
        hidden.asking("learnable")


def test_the_selection_says_why_it_is_empty_and_top_limits_it(zi_beta_post):
    sim, post = zi_beta_post
    r = rank_problems(fit=post, budget=10, question="hidden", confidence=0.99, draws=20)
    assert r.n_selected == 0 and "no problem reaches probability 0.99" in r.note and "1/N" in r.note
    # the most probable never-solved problem is spoken of with its own N (3/N: the rule of three)
    best = r.ranked.iloc[0]
    assert best["c"] == 0 and f"(c = 0 of N = {best['n']})" in r.note
    assert f"never solved in its N = {best['n']} attempts, its q is below about {3 / best['n']:.2g}" in r.note
    solved = rank_problems(EvalCounts([20, 20, 20], [1, 5, 9]), model="beta", question="hidden", hyper="laplace")
    assert solved.n_selected == 0 and "none is hidden" in solved.note
    top = rank_problems(fit=post, budget=1000, confidence=0.5, top=5, draws=20)
    assert top.n_selected <= 5 and top.ranked.selected.iloc[5:].sum() == 0
    assert len(top.to_dict()["problems"]) == 5
    assert top.expected_obtainable_selected == pytest.approx(top.table.probability[top.table.selected].sum())
    pick = stratified_pick(top, 3)
    assert len(pick) <= 3 and pick.selected.all()


def test_bad_requests_are_one_line_errors(zi_beta_post):
    sim, post = zi_beta_post
    with pytest.raises(DifficultyError, match="--band"):
        rank_problems(fit=post, band=(0.9, 0.1))
    with pytest.raises(DifficultyError, match="--q-band"):
        rank_problems(fit=post, q_band=(0.3, 0.2))
    with pytest.raises(DifficultyError, match="not both"):
        rank_problems(fit=post, band=(0.5, 0.9), q_band=(0.1, 0.2))
    with pytest.raises(DifficultyError, match="no band"):
        rank_problems(fit=post, question="hidden", q_band=(0.1, 0.2))
    with pytest.raises(DifficultyError, match="group= names a group of a joint fit"):
        rank_problems(fit=post, group="a")
    with pytest.raises(DifficultyError, match="question"):
        rank_problems(fit=post, question="easy")


DATA = "problem,n,c\n" + "".join(f"p{i},40,{c}\n" for i, c in enumerate([0, 0, 0, 1, 1, 2, 3, 5, 8, 13, 21, 40] * 4))


@pytest.fixture
def data(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(DATA)
    return p


def test_rank_exports_csv_and_jsonl_in_rank_order(cli, data, tmp_path):
    csv, jsonl = tmp_path / "top.csv", tmp_path / "top.jsonl"
    base = ["rank", data, "--budget", "1000", "--top", "7", "--quiet"]
    code, out, err = cli(*base, "-o", csv)
    assert code == 0, err
    code, out, err = cli(*base, "-o", jsonl, "--json")
    assert code == 0, err
    a = pd.read_csv(csv)
    b = pd.DataFrame([json.loads(line) for line in jsonl.read_text().splitlines()])
    assert len(a) == len(b) == 7 and list(a["rank"]) == list(range(1, 8))
    assert list(a.columns) == list(b.columns)
    assert {"problem", "probability", "expected_in_top", "q_low", "q_high", "selected"} <= set(a.columns)
    assert np.allclose(a.probability, b.probability) and list(a.problem) == list(b.problem)
    assert (np.diff(a.probability) <= 0).all() and np.allclose(a.expected_in_top, np.cumsum(a.probability))
    res = json.loads(out)
    assert res["question"] == "learnable" and res["q_band"] == pytest.approx([1e-3, 0.2]) and res["top"] == 7
    assert [p["problem"] for p in res["problems"]] == list(a.problem)


def test_rank_hidden_and_its_refusals(cli, data, tmp_path):
    code, out, err = cli("rank", data, "--hidden", "--budget", "500", "--json", "--quiet")
    assert code == 0, err
    res = json.loads(out)
    assert res["question"] == "hidden" and res["band"] is None
    probs = [p["probability"] for p in res["problems"]]
    assert all(p["probability"] == 0 for p in res["problems"] if p["c"] > 0) and probs == sorted(probs, reverse=True)
    for args, message in ((["--joint"], "--joint needs --group-col"), (["-o", tmp_path / "r.txt"], ".csv or .jsonl"),
                          (["--hidden", "--q-band", "0.1,0.2"], "takes no band"),
                          (["--q-band", "0.3,0.2"], "--q-band must satisfy 0 <= LO < HI <= 1"),
                          (["--q-band", "0.1,0.2", "--band", "0.5,0.9"], "not both"),
                          (["--learnable", "--hidden"], "not allowed with argument")):
        code, out, err = cli("rank", data, *args)
        assert code == 2 and message in err and err.count("\n") == 1, (args, err)


@pytest.mark.slow
def test_rank_cli_on_real_data_with_groups(cli, tmp_path, real_dir):
    out = tmp_path / "ranked.csv"
    code, txt, err = cli("rank", real_dir / "bon_text_jailbreaking_counts.csv", "--group-col", "model", "--budget",
                         "1000", "-o", out, "--json", "--quiet")
    assert code == 0, err
    res = json.loads(txt)["groups"]
    assert len(res) == 7
    df = pd.read_csv(out)
    need = {"group", "rank", "problem", "n", "c", "probability", "expected_in_top", "q_mean", "q_low", "q_high",
            "p_in_band", "p_solve_within_budget", "p_solve_within_budget_low", "p_solve_within_budget_high",
            "selected"}
    assert need <= set(df.columns) and len(df) == 1113
    assert (df.q_low <= df.q_mean + 1e-12).all() and (df.q_mean <= df.q_high + 1e-12).all()


@pytest.mark.parametrize("name,params", [
    ("zi-beta", dict(alpha=[2.0, 0.7], beta=[0.4, 1.5], A=[0.8, 0.95])),
    ("kumaraswamy", dict(a=[0.3, 1.2], b=[4.0, 0.8])),
    ("logit-normal", dict(loc=[-5.0, 1.0], scale=[3.0, 0.4], A=[0.9, 1.0])),
    ("beta-mixture", dict(v1=[0.3, 0.6], alpha1=[2.0, 1.0], beta1=[0.5, 3.0], alpha2=[20.0, 9.0], beta2=[1.0, 2.0])),
])
def test_paired_posterior_cdf_is_each_pair_at_its_own_points(name, params):
    """Each pair evaluated at its own points equals the diagonal of every pair at every point."""
    from difficulty.models import make_model
    from difficulty.models.marginal import CountMarginal

    model = make_model(name, **{k: np.asarray(v) for k, v in params.items()})
    n, c = np.array([10, 200, 5000, 64]), np.array([0, 3, 4999, 20])
    cm = CountMarginal(type(model), n, c)
    x = np.array([[1e-6, 1e-3], [1e-3, 0.05], [0.9, 0.9999], [0.2, 0.5]])
    paired = cm.posterior_cdf(model, x, paired=True)
    outer = cm.posterior_cdf(model, x.ravel())  # (2, pairs, pairs * 2)
    diag = outer.reshape(2, 4, 4, 2)[:, np.arange(4), np.arange(4)]
    assert paired.shape == (2, 4, 2)
    np.testing.assert_allclose(paired, diag, rtol=0, atol=1e-15)
    assert np.all(np.diff(paired, axis=-1) >= 0)
    with pytest.raises(ValueError, match="paired points"):
        cm.posterior_cdf(model, x[:3], paired=True)
