"""Fig. 2 of Levi (2025): the inference loss L(k) = A <p^k> (Eq. 9) for several beta, with its
power law A Gamma(alpha + beta)/Gamma(alpha) k^-beta."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from _paths import OUT
from difficulty.models import make_model

k = np.logspace(0, 8, 200)
fig, ax = plt.subplots(figsize=(6.5, 4.5))
for i, beta in enumerate((0.1, 0.35, 0.7, 1.5)):
    m = make_model("beta", alpha=5.0, beta=beta)
    ax.plot(k, m.inference_loss(k), color=f"C{i}", label=f"beta = {beta}")
    ax.plot(k, m.inference_loss_asymptote(k), color=f"C{i}", ls="--", lw=0.8)
    print(f"beta={beta}: L(1e4) = {float(m.inference_loss(1e4)):.4g}, "
          f"asymptote {float(m.inference_loss_asymptote(1e4)):.4g}")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("k")
ax.set_ylabel("inference loss")
ax.set_title("Eq. 9 (solid) and its power law (dashed), alpha = 5")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(OUT / "fig2_inference_loss.png", dpi=130)
print(f"wrote {OUT / 'fig2_inference_loss.png'}")
