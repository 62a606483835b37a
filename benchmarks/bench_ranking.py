"""Selecting "difficult but obtainable" problems against generator truth.

1,000 problems, p_i from a Beta and from a mixture, N in {8, 16, 100}; truly obtainable-and-hard
means 1 - p_i^K in [0.5, 0.99] with K = 1,000. Baselines in the same run: the raw pass-rate
filter 0 < c/N < 1 and ranking by c/N. Printed: precision and recall of each; the precision of
our ranking at the raw filter's recall; Spearman correlation with the true q_i; coverage of
the stated 90% intervals for P(solved within K): as floats (where 1 - (1 - q)^K rounds to 1.0 for
easy problems, truth and both bounds tie at 1.0 and count as covered), on the problems whose truth
is below 0.999, and exactly (comparing log(1 - P) = K log(1 - q), which never rounds).
"""
import numpy as np
from scipy import stats

from difficulty.generate import simulate_counts
from difficulty.models import make_model
from difficulty.ranking import rank_problems

K, BAND = 1000, (0.5, 0.99)


def precision_at_recall(score, good, recall):
    order = np.argsort(-score, kind="stable")
    hits = np.cumsum(good[order])
    need = recall * good.sum()
    n = int(np.searchsorted(hits, need)) + 1
    return hits[n - 1] / n, hits[n - 1] / good.sum()


def main():
    truths = {"beta(3, 0.4)": make_model("beta", alpha=3.0, beta=0.4),
              "mixture": make_model("beta-mixture", weights=[0.4, 0.6], alphas=[0.8, 8.0], betas=[2.0, 0.3])}
    print(f"difficult but obtainable: true P(solved within {K}) in {BAND}; 1,000 problems; 5 seeds each")
    print(f"{'truth':>13} {'N':>4} | {'raw filter P/R':>15} | {'ours @ raw R':>12} | {'c/N rank @ raw R':>16} | "
          f"{'ours selected P/R':>17} | {'Spearman ours/c/N':>17} | {'90% cover: float/hard/exact':>27}")
    for tname, model in truths.items():
        for N in (8, 16, 100):
            acc = {k: [] for k in ("rawP", "rawR", "oursP", "cnP", "selP", "selR", "rho", "rho_cn", "cov", "cov_hard",
                                   "cov_q")}
            for seed in range(5):
                sim = simulate_counts(model, 1000, N, seed=seed)
                r = rank_problems(sim.counts, budget=K, band=BAND, model="zi-beta", seed=seed)
                t = r.table
                truth = 1 - sim.p**K
                q = 1 - sim.p
                good = (truth >= BAND[0]) & (truth <= BAND[1])
                c, n = sim.counts.c, sim.counts.n
                raw = (c > 0) & (c < n)
                rawR = good[raw].sum() / max(good.sum(), 1)
                acc["rawP"].append(good[raw].mean() if raw.any() else np.nan)
                acc["rawR"].append(rawR)
                acc["oursP"].append(precision_at_recall(t.p_in_band.to_numpy(), good, rawR)[0])
                # c/N ranking: hardest first among problems with at least one success, then the rest
                cn_score = np.where(c > 0, 1 - c / n, -1.0)
                acc["cnP"].append(precision_at_recall(cn_score, good, rawR)[0])
                sel = t.selected.to_numpy()
                acc["selP"].append(good[sel].mean() if sel.any() else np.nan)
                acc["selR"].append(good[sel].sum() / max(good.sum(), 1))
                acc["rho"].append(stats.spearmanr(t.q_mean, q).statistic)
                acc["rho_cn"].append(stats.spearmanr(c / n, q).statistic)
                inside = ((t.p_solve_within_budget_low <= truth + 1e-12)
                          & (truth <= t.p_solve_within_budget_high + 1e-12))
                acc["cov"].append(np.mean(inside))
                hard = truth < 0.999  # problems whose answer is not trivially "solved"
                acc["cov_hard"].append(np.mean(inside[hard]))
                # the same event without rounding: 1 - P = (1 - q)^K compared as K log1p(-q), which
                # is exactly "true P(solved within K) inside the stated interval"
                lt = K * np.log1p(-q)
                acc["cov_q"].append(np.mean((K * np.log1p(-t.q_high) <= lt) & (lt <= K * np.log1p(-t.q_low))))
            m = {k: (np.nanmean(v) if np.any(np.isfinite(v)) else np.nan) for k, v in acc.items()}
            print(f"{tname:>13} {N:>4} | {m['rawP']:>6.3f} / {m['rawR']:<6.3f} | {m['oursP']:>12.3f} | "
                  f"{m['cnP']:>16.3f} | {m['selP']:>7.3f} / {m['selR']:<7.3f} | "
                  f"{m['rho']:>7.3f} / {m['rho_cn']:<7.3f} | {m['cov']:>6.3f} / {m['cov_hard']:.3f} / {m['cov_q']:.3f}")


if __name__ == "__main__":
    main()
