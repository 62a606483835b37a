"""pass@k for 10,000 problems x N = 10,000 x 50 log-spaced k.

Prints the time of the usual harness estimator (a Python loop over problems and k,
``1 - prod(1 - k / arange(n - c + 1, n + 1))`` as in human-eval), ours, their ratio, and
the max absolute error of ours against mpmath at 50 digits on sampled (problem, k) points
including the worst cases (c = 0, c = N, N - c = k). Targets: ratio >= 100, error <= 1e-12.
"""
import time

import mpmath as mp
import numpy as np

from difficulty import EvalCounts, pass_at_k_matrix
from difficulty.generate import simulate_beta_counts


def harness(n, c, k):
    if n - c < k:
        return 1.0
    return 1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1))


def main():
    n_prob, n_att = 10_000, 10_000
    counts, _ = simulate_beta_counts(2.0, 0.35, n_prob, n_att, seed=0)
    ks = np.unique(np.round(np.logspace(0, 4, 50)).astype(int))
    ks = np.concatenate([ks, [n_att] * (50 - ks.size)]) if ks.size < 50 else ks

    t0 = time.perf_counter()
    ours = pass_at_k_matrix(counts, ks)
    t_ours = time.perf_counter() - t0

    t0 = time.perf_counter()
    ref = np.empty_like(ours)
    for i in range(n_prob):
        ni, ci = int(counts.n[i]), int(counts.c[i])
        for j, k in enumerate(ks):
            ref[i, j] = harness(ni, ci, int(k))
    t_ref = time.perf_counter() - t0

    mp.mp.dps = 50
    rng = np.random.default_rng(1)
    pts = [(int(i), int(j)) for i, j in zip(rng.integers(0, n_prob, 2000), rng.integers(0, ks.size, 2000))]
    worst = []  # c = 0, c = N, N - c = k
    for case in (counts.c == 0, counts.c == counts.n):
        idx = np.flatnonzero(case)[:20]
        worst += [(int(i), int(j)) for i in idx for j in (0, ks.size // 2, ks.size - 1)]
    edge = EvalCounts(np.full(ks.size, n_att), n_att - ks)  # N - c = k exactly
    edge_vals = pass_at_k_matrix(edge, ks)
    err = 0.0
    for i, j in pts + worst:
        n, c, k = int(counts.n[i]), int(counts.c[i]), int(ks[j])
        exact = mp.mpf(1) if n - c < k else 1 - mp.binomial(n - c, k) / mp.binomial(n, k)
        err = max(err, abs(ours[i, j] - float(exact)))
    for j, k in enumerate(ks):
        exact = 1 - mp.binomial(int(k), int(k)) / mp.binomial(n_att, int(k))
        err = max(err, abs(edge_vals[j, j] - float(exact)))
    n_checked = len(pts) + len(worst) + ks.size
    harness_err = np.abs(ref - ours).max()

    print(f"pass@k: {n_prob} problems x N={n_att} x {ks.size} k")
    print(f"  harness loop (baseline): {t_ref:8.3f} s")
    print(f"  difficulty.pass_at_k   : {t_ours:8.4f} s")
    print(f"  ratio                  : {t_ref / t_ours:8.0f}x   (target >= 100x)")
    print(f"  max |error| vs mpmath (50 digits, {n_checked} points incl. c=0, c=N, N-c=k): {err:.2e}   "
          "(target <= 1e-12)")
    print(f"  max |ours - harness loop|: {harness_err:.2e}")


if __name__ == "__main__":
    main()
