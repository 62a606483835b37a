"""The perceived-difficulty densities of several real models side by side, with bands:
inverting the aggregate curve (Tikhonov-NNLS, bootstrap over problems) and the counts (NPMLE)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from _paths import OUT, REAL
from difficulty import load_counts, pass_at_k_matrix
from difficulty.inversion import invert_counts, invert_curve

counts = load_counts(str(REAL / "bon_text_jailbreaking_counts.csv"), group_col="model")
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
rng = np.random.default_rng(0)
for i, (name, g) in enumerate(list(counts.groups().items())[:4]):
    k = np.unique(np.round(np.logspace(0, np.log10(g.n.min()), 30)).astype(int))
    m = pass_at_k_matrix(g, k)
    boots = np.array([m[rng.integers(0, m.shape[0], m.shape[0])].mean(0) for _ in range(100)])
    for ax, est in ((axes[0], invert_curve(k, m.mean(0), boot_curves=boots)), (axes[1], invert_counts(g, n_boot=30))):
        lo, hi = est.band()
        s = est.sigma
        ax.fill_between(s, s * lo, s * hi, color=f"C{i}", alpha=0.2, step="mid")
        ax.step(s, s * est.density(), where="mid", color=f"C{i}", label=f"{name} (never {est.never_solved:.2f})")
        print(f"{name} [{est.method}]: never solved {est.never_solved:.3f}, regularization {est.regularization}")
for ax, title in zip(axes, ("from the aggregate curve (k <= 60)", "from per-problem counts (NPMLE)")):
    ax.set_xscale("log")
    ax.set_xlabel("sigma = log(1/p)")
    ax.set_title(title)
    ax.legend(fontsize=7)
axes[0].set_ylabel("sigma f(sigma)")
fig.tight_layout()
fig.savefig(OUT / "invert_real_curves.png", dpi=130)
print(f"wrote {OUT / 'invert_real_curves.png'}")
