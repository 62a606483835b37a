"""Per-problem posteriors and the difficult-but-obtainable selection, against generator truth."""
import json

import mpmath as mp
import numpy as np
import pandas as pd
import pytest

from difficulty import DifficultyError
from difficulty.fit import fit_mle
from difficulty.generate import simulate_counts
from difficulty.models import make_model
from difficulty.ranking import band_to_q, rank_problems, stratified_pick


def test_empirical_bayes_probability_of_solving_matches_mathmd_formula():
    sim = simulate_counts(make_model("beta", alpha=2.0, beta=0.5, A=0.9), 400, 30, seed=0)
    r = rank_problems(sim.counts, budget=100, hyper="eb")
    a, b, A = fit_mle(sim.counts, "zi-beta").value
    mp.mp.dps = 30
    for _, row in r.table.head(30).iterrows():
        n, c = int(row.n), int(row.c)
        ratio = mp.beta(a + n - c + 100, b + c) / mp.beta(a + n - c, b + c)
        if c == 0:  # zero-inflated: never-solvable posterior weight
            bb0 = mp.beta(b, n + a) / mp.beta(b, a)
            never = (1 - A) / (1 - A + A * bb0)
            assert row.p_never == pytest.approx(float(never), rel=1e-9)
            ref = (1 - never) * (1 - ratio)
        else:
            ref = 1 - ratio
        assert row.p_solve_within_budget == pytest.approx(float(ref), rel=1e-9)


def test_intervals_for_q_cover_the_truth_at_their_level():
    sim = simulate_counts(make_model("beta", alpha=2.0, beta=0.8), 3000, 40, seed=1)
    r = rank_problems(sim.counts, budget=100, model="beta", level=0.9)
    q = 1 - sim.p
    cover = np.mean((r.table.q_low <= q) & (q <= r.table.q_high))
    assert 0.85 <= cover <= 0.95, cover
    truth = 1 - sim.p**100
    cover_solve = np.mean((r.table.p_solve_within_budget_low <= truth + 1e-12)
                          & (truth <= r.table.p_solve_within_budget_high + 1e-12))
    assert 0.85 <= cover_solve <= 0.97, cover_solve


def test_selection_beats_raw_pass_rate_filter_in_precision_at_equal_recall():
    m = make_model("beta", alpha=3.0, beta=0.4)
    sim = simulate_counts(m, 2000, 100, seed=2)
    K, band = 1000, (0.5, 0.99)
    r = rank_problems(sim.counts, budget=K, band=band, model="beta")
    truth = 1 - sim.p**K
    good = (truth >= band[0]) & (truth <= band[1])
    raw = (sim.counts.c > 0) & (sim.counts.c < sim.counts.n)
    recall_raw = good[raw].sum() / good.sum()
    order = np.argsort(-r.table.p_in_band.to_numpy())
    take = order[: max(1, int(np.searchsorted(np.cumsum(good[order]), recall_raw * good.sum())) + 1)]
    assert good[take].mean() > good[raw].mean()
    assert r.expected_obtainable_selected == pytest.approx(r.table.p_in_band[r.table.selected].sum())


def test_band_to_q_and_stratified_pick():
    q_lo, q_hi = band_to_q((0.5, 0.99), 1000)
    assert 1 - (1 - q_lo) ** 1000 == pytest.approx(0.5) and 1 - (1 - q_hi) ** 1000 == pytest.approx(0.99)
    sim = simulate_counts(make_model("beta", alpha=2.0, beta=0.5), 500, 50, seed=3)
    r = rank_problems(sim.counts, budget=50, confidence=0.5)
    pick = stratified_pick(r, 5)
    assert len(pick) <= 5 and pick.selected.all()
    with pytest.raises(DifficultyError, match="band"):
        rank_problems(sim.counts, band=(0.9, 0.1))


def test_rank_cli_on_real_data_with_groups(cli, tmp_path, real_dir):
    out = tmp_path / "ranked.csv"
    code, txt, err = cli("rank", real_dir / "bon_text_jailbreaking_counts.csv", "--group-col", "model", "--budget",
                         "1000", "-o", out, "--json")
    assert code == 0, err
    res = json.loads(txt)["groups"]
    assert len(res) == 7
    df = pd.read_csv(out)
    need = {"group", "problem", "n", "c", "q_mean", "q_low", "q_high", "p_solve_within_budget",
            "p_solve_within_budget_low", "p_solve_within_budget_high", "p_never", "rank", "selected"}
    assert need <= set(df.columns) and len(df) == 1113
    assert (df.q_low <= df.q_mean + 1e-12).all() and (df.q_mean <= df.q_high + 1e-12).all()
