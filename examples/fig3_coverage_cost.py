"""Fig. 3 of Levi (2025): coverage as a function of total cost C = F (N_p + N_d k) (Eq. 14),
contours over (beta, C), with the k a 0.9 target needs."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from _paths import OUT
from difficulty.cost import coverage_at_cost, plan_cost
from difficulty.models import make_model

Np, Nd, F = 500.0, 300.0, 2e9
betas = np.linspace(0.1, 1.0, 60)
C = np.logspace(np.log10(F * (Np + Nd)), np.log10(F * (Np + Nd * 1e6)), 80)
Z = np.array([[float(coverage_at_cost(make_model("beta", alpha=3.0, beta=b), c, Np, Nd, F)) for c in C] for b in betas])
fig, ax = plt.subplots(figsize=(6.5, 4.5))
cs = ax.contourf(C, betas, Z, levels=np.linspace(0, 1, 11), cmap="viridis")
fig.colorbar(cs, label="coverage")
ax.contour(C, betas, Z, levels=[0.9], colors="w")
ax.set_xscale("log")
ax.set_xlabel("total cost C (FLOPs)")
ax.set_ylabel("beta")
ax.set_title("coverage vs cost, alpha = 3 (white: 0.9)")
fig.tight_layout()
fig.savefig(OUT / "fig3_coverage_cost.png", dpi=130)
for b in (0.2, 0.35, 0.7):
    p = plan_cost(make_model("beta", alpha=3.0, beta=b), 0.9, Np, Nd, F)
    print(f"beta={b}: coverage 0.9 needs k = {p.k:.4g} (closed form {p.k_asymptotic:.4g}), cost {p.cost:.3g} FLOPs")
print(f"wrote {OUT / 'fig3_coverage_cost.png'}")
