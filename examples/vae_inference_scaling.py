"""Section 4 of Levi (2025): train the VAE, sample attempts, and compare pass@k with the Beta
(Eq. 8) and effective-k (Eq. 12) fits for several epsilon; error histograms; eigenvalue spectrum
of the trial correlation (Eq. 17) with its power-law fit. Pass a Fashion-MNIST IDX file as the
first argument to use it; by default scikit-learn's bundled digits are used."""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from _paths import OUT
from difficulty.experiments.vae import (
    effective_k_prediction,
    eigen_power_law,
    empirical_pass_at_k,
    load_images,
    sample_errors,
    train_vae,
    trial_correlation,
)
from difficulty.fit.curve import fit_curve

x, source = load_images(sys.argv[1] if len(sys.argv) > 1 else None, 400)
print(f"data: {source}")
model = train_vae(x, epochs=1000, seed=0)
err = sample_errors(model, x, attempts=1000, temperature=1.1, seed=0)
lam, kappa, intercept = eigen_power_law(trial_correlation(err))
ks = np.unique(np.round(np.logspace(0, 3, 30)).astype(int))
fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
for i, q in enumerate((0.02, 0.05, 0.10)):
    eps = float(np.quantile(err, q))
    s = err < eps
    emp = empirical_pass_at_k(s, ks)
    beta = fit_curve(ks, emp, "beta", n_problems=400)
    effk = effective_k_prediction(s, kappa, ks)
    axes[0].plot(ks, emp, "o", ms=3, color=f"C{i}", label=f"epsilon {eps:.3f}")
    axes[0].plot(ks, beta.model.pass_at_k(ks), "-", color=f"C{i}", lw=1)
    axes[0].plot(ks, effk, ":", color=f"C{i}", lw=1.4)
    a, b, A = beta.value
    print(f"epsilon {eps:.3f}: Beta fit alpha {a:.3g} beta {b:.3g} A {A:.3g}; max |Eq. 12 - empirical| "
          f"{np.abs(effk - emp).max():.3f} with kappa {kappa:.3f}")
axes[0].set_xscale("log")
axes[0].set_xlabel("k")
axes[0].set_ylabel("pass@k")
axes[0].set_title("pass@k: data, Beta fit (solid), Eq. 12 (dotted)")
axes[0].legend(fontsize=7)
for j in range(0, 400, 80):
    axes[1].hist(err[j], bins=40, histtype="step", label=f"image {j}")
axes[1].set_xlabel("relative error (Eq. 16)")
axes[1].set_title("errors across 1,000 attempts")
axes[1].legend(fontsize=7)
pos = lam > 1e-10 * lam[0]
r = np.arange(1, pos.sum() + 1)
axes[2].loglog(r, lam[pos], ".", ms=2)
axes[2].loglog(r, np.exp(intercept) * r ** (-kappa), "r-", label=f"power law, kappa = {kappa:.3f}")
axes[2].set_xlabel("rank")
axes[2].set_ylabel("eigenvalue of E (Eq. 17)")
axes[2].legend(fontsize=8)
fig.tight_layout()
fig.savefig(OUT / "vae_inference_scaling.png", dpi=130)
print(f"wrote {OUT / 'vae_inference_scaling.png'}")
