"""Fig. 1 of Levi (2025) on real curves: fits of Eq. 8 (Beta) and Eq. 12 (effective k, one p)
to the pass@k of Pythia models on MATH (Schaeffer et al. 2025 data, read by path)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from _paths import OUT, REAL
from difficulty import load_counts
from difficulty.fit.curve import curve_from_counts, fit_curve

counts = load_counts(str(REAL / "pythia_checkpoints_math_counts.csv"), group_col="model_nickname")
groups = counts.groups()
# the four largest models at the final checkpoint that solved anything
names = [n for n in ("Pythia_12B_300B", "Pythia_6.9B_300B", "Pythia_2.8B_300B", "Pythia_1.4B_300B",
                     "Pythia_1B_300B", "Pythia_410M_300B") if n in groups and groups[n].c.sum() > 0][:4]
fig, ax = plt.subplots(figsize=(7, 4.5))
for i, name in enumerate(names):
    g = groups[name]
    k = np.unique(np.round(np.logspace(0, np.log10(g.n.min()), 25)).astype(int))
    y, cov, n = curve_from_counts(g, k)
    beta = fit_curve(k, y, "beta", n_problems=n, cov=cov)
    effk = fit_curve(k, y, "effective-k", n_problems=n, cov=cov)
    col = f"C{i}"
    ax.plot(k, y, "o", ms=3, color=col, label=f"{name}")
    ax.plot(k, beta.model.pass_at_k(k), "-", color=col, lw=1)
    ax.plot(k, effk.model.pass_at_k(k), ":", color=col, lw=1.4)
    b, e = beta.to_dict()["params"], effk.to_dict()["params"]
    print(f"{name}: Beta alpha={b['alpha']['value']:.3g} beta={b['beta']['value']:.3g} A={b['A']['value']:.3g} "
          f"(chi2 {beta.extra['chisqr']:.1f}); effective-k p={e['p']['value']:.4g} kappa={e['kappa']['value']:.3g} "
          f"A={e['A']['value']:.3g} (chi2 {effk.extra['chisqr']:.1f})")
ax.set_xscale("log")
ax.set_xlabel("k")
ax.set_ylabel("pass@k")
ax.set_title("MATH: Eq. 8 (solid) and Eq. 12 (dotted) fits")
ax.legend(fontsize=7)
fig.tight_layout()
fig.savefig(OUT / "fig1_real_curve_fits.png", dpi=130)
print(f"wrote {OUT / 'fig1_real_curve_fits.png'}")
