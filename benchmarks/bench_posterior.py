"""Posterior speed: 32 walkers x 2,000 steps for 10^5 problems with N = 10^4 (target < 10 s).

The baseline is the naive likelihood, a per-problem ``scipy.stats.betabinom.logpmf`` sum,
timed per evaluation in the same run (a full naive chain would take tens of minutes; its
time is extrapolated from the per-evaluation cost and printed as such).
"""
import time
import warnings

import numpy as np
from scipy import stats

from difficulty.fit import make_likelihood, sample_posterior
from difficulty.generate import simulate_beta_counts


def main():
    counts, _ = simulate_beta_counts(2.0, 0.35, 100_000, 10_000, seed=0)
    like = make_likelihood("beta", counts)
    theta = np.array([2.0, 0.35])

    reps = 5
    t0 = time.perf_counter()
    for _ in range(reps):
        naive = stats.betabinom.logpmf(counts.c, counts.n, theta[1], theta[0]).sum()
    t_naive = (time.perf_counter() - t0) / reps

    walkers = np.tile(theta, (32, 1)) * (1 + 0.01 * np.random.default_rng(0).standard_normal((32, 2)))
    t0 = time.perf_counter()
    for _ in range(50):
        like.loglike(walkers)
    t_ours = (time.perf_counter() - t0) / 50 / 32
    ours = float(like.loglike(theta))

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        post = sample_posterior(counts, "beta", walkers=32, steps=2000, progress=False)
    t_post = time.perf_counter() - t0

    print(f"posterior: {counts.n_problems} problems x N=10^4 ({like.n.size} distinct (N, c) pairs), "
          "32 walkers x 2000 steps")
    print(f"  naive per-problem betabinom.logpmf: {t_naive * 1e3:9.2f} ms per evaluation"
          f"  (a 64,000-evaluation chain: ~{t_naive * 64000 / 60:.0f} min)")
    print(f"  histogram likelihood             : {t_ours * 1e6:9.2f} us per evaluation")
    print(f"  ratio per evaluation             : {t_naive / t_ours:9.0f}x")
    print(f"  |loglike ours - naive|           : {abs(ours - naive):.2e} (of {abs(naive):.3e})")
    print(f"  full posterior (MLE + emcee + arviz): {t_post:6.2f} s   (target < 10 s)")
    t0 = time.perf_counter()
    fast = sample_posterior(counts, "beta")
    t_fast = time.perf_counter() - t0
    d = fast.diagnostics
    print(f"  default path (MLE + {d['sampler']}): {t_fast:6.2f} s   ({t_post / t_fast:.1f}x faster than emcee; "
          + (f"Pareto k {d['pareto_k']:.2f}, ESS {d['ess']:.0f})" if d["sampler"] == "importance"
             else f"fell back: {d.get('fallback_reason')})"))
    s = post.summary()
    for name in post.param_names:
        print(f"    {name}: mean {s.loc[name, 'mean']:.4f}  R-hat {s.loc[name, 'r_hat']:.4f}  "
              f"ESS {s.loc[name, 'ess_bulk']:.0f}")


if __name__ == "__main__":
    main()
