"""The VAE experiment of Levi (2025), Section 4 and Appendix A, as a generator of real,
correlated attempts (needs the ``vae`` extra: PyTorch and scikit-learn).

A VAE (input -> 400 -> latent 20 (mu, log var) -> 400 -> input, sigmoid output; loss = binary
cross-entropy + KL; Adam, lr 1e-3) memorises n images. At inference the reparameterisation
noise is scaled by a temperature T. Each image i is reconstructed k times; attempt t's error
is the relative error (Eq. 16)

    error(i, t) = ||y_hat(i, t) - y_i|| / ||y_i||,

and the attempt succeeds if error < epsilon. The trial-correlation matrix (Eq. 17)

    E[t, t'] = (1/n) sum_i error(i, t) error(i, t')

has eigenvalues decaying as a power law in their rank; that exponent is the kappa of the
effective-k model (Eq. 12), with per-image p_i from the empirical failure rate.
"""
from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass

import numpy as np

from ..counts import EvalCounts
from ..errors import DifficultyError

__all__ = ["load_images", "train_vae", "sample_errors", "relative_error", "trial_correlation",
           "eigen_power_law", "effective_k_prediction", "empirical_pass_at_k", "VAEResult", "run_vae_experiment"]


def _torch():
    try:
        import torch
    except ImportError:
        raise DifficultyError("the VAE generator needs PyTorch: pip install 'difficulty[vae]'") from None
    return torch


# ------------------------------------------------------------------ data
def _read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as fh:
        data = fh.read()
    if len(data) < 4:
        raise DifficultyError(f"{path}: not an IDX file (too short)")
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise DifficultyError(f"{path}: not an unsigned-byte IDX file")
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(shape)):
        raise DifficultyError(f"{path}: IDX header says {shape}, file holds {arr.size} values")
    return arr.reshape(shape)


def load_images(path: str | None = None, n: int = 400):
    """The first n images as float32 rows in [0, 1], and a description of the source.

    ``path``: an IDX file (Fashion-MNIST / MNIST, ``.gz`` or raw), or ``.npy`` / ``.npz``. Without a
    path, scikit-learn's bundled 8x8 digits (1,797 images) are used: nothing is downloaded.
    """
    if path is None:
        try:
            from sklearn.datasets import load_digits
        except ImportError:
            raise DifficultyError("no --data given and scikit-learn is not installed: "
                                  "pip install 'difficulty[vae]'") from None
        x = load_digits().images.astype(np.float32) / 16.0
        source = "scikit-learn load_digits (8x8 handwritten digits, bundled with scikit-learn)"
    else:
        if not os.path.exists(path):
            raise DifficultyError(f"{path}: no such file")
        if path.endswith(".npy"):
            x = np.load(path)
        elif path.endswith(".npz"):
            with np.load(path) as z:
                key = "images" if "images" in z else ("x_train" if "x_train" in z else z.files[0])
                x = z[key]
        else:
            x = _read_idx(path)
        source = path
        x = np.asarray(x, dtype=np.float32)
        if x.max() > 1.0:
            x = x / 255.0
    x = x.reshape(x.shape[0], -1)
    if n > x.shape[0]:
        raise DifficultyError(f"asked for {n} images, the data hold {x.shape[0]}")
    if n < 1:
        raise DifficultyError("--images must be >= 1")
    return np.ascontiguousarray(x[:n]), source


# ------------------------------------------------------------------ model
def _build(torch, dim, hidden=400, latent=20):
    nn = torch.nn

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Linear(dim, hidden)
            self.mu = nn.Linear(hidden, latent)
            self.logvar = nn.Linear(hidden, latent)
            self.dec1 = nn.Linear(latent, hidden)
            self.dec2 = nn.Linear(hidden, dim)

        def encode(self, x):
            h = torch.relu(self.enc(x))
            return self.mu(h), self.logvar(h)

        def decode(self, z):
            return torch.sigmoid(self.dec2(torch.relu(self.dec1(z))))

        def forward(self, x, temperature=1.0):
            mu, logvar = self.encode(x)
            z = mu + temperature * torch.exp(0.5 * logvar) * torch.randn_like(mu)
            return self.decode(z), mu, logvar

    return VAE()


def train_vae(images, epochs=1000, batch_size=400, lr=1e-3, seed=0, progress=None):
    """Train the VAE on the images (BCE + KL, Adam); deterministic on CPU for a seed.

    Runs on one thread: for a network this small, more threads only add synchronisation
    (measured 5x slower on 2 cores), and one thread makes the result reproducible.
    """
    torch = _torch()
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    x = torch.from_numpy(np.asarray(images, dtype=np.float32))
    model = _build(torch, x.shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    report = progress or (lambda stage, done, total: None)  # callback (stage, done, total)
    for epoch in range(int(epochs)):
        perm = torch.randperm(x.shape[0], generator=gen)
        for start in range(0, x.shape[0], batch_size):
            xb = x[perm[start:start + batch_size]]
            recon, mu, logvar = model(xb)
            bce = torch.nn.functional.binary_cross_entropy(recon, xb, reduction="sum")
            kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            loss = (bce + kl) / xb.shape[0]
            opt.zero_grad()
            loss.backward()
            opt.step()
        if (epoch + 1) % max(1, epochs // 50) == 0 or epoch + 1 == epochs:
            report("training", epoch + 1, epochs)
    model.eval()
    return model


def relative_error(recon, target):
    """Eq. 16: ||y_hat - y|| / ||y|| along the last axis."""
    return np.linalg.norm(recon - target, axis=-1) / np.linalg.norm(target, axis=-1)


def sample_errors(model, images, attempts=1000, temperature=1.1, seed=0, chunk=100, progress=None):
    """error(i, t) for every image i and attempt t: an (n, attempts) matrix (Eq. 16)."""
    torch = _torch()
    torch.set_num_threads(1)
    torch.manual_seed(seed + 1)
    x = torch.from_numpy(np.asarray(images, dtype=np.float32))
    n = x.shape[0]
    out = np.empty((n, int(attempts)), dtype=np.float64)
    norms = torch.linalg.norm(x, dim=1)
    report = progress or (lambda stage, done, total: None)
    with torch.no_grad():
        mu, logvar = model.encode(x)
        std = torch.exp(0.5 * logvar)
        for start in range(0, attempts, chunk):
            m = min(chunk, attempts - start)
            eps = torch.randn((m,) + tuple(mu.shape))
            z = mu[None] + temperature * std[None] * eps
            recon = model.decode(z)  # (m, n, dim)
            err = torch.linalg.norm(recon - x[None], dim=2) / norms[None]
            out[:, start:start + m] = err.T.double().numpy()
            report("sampling", start + m, attempts)
    return out


# ------------------------------------------------------------------ analysis
def trial_correlation(errors):
    """Eq. 17: E[t, t'] = (1/n) sum_i error(i, t) error(i, t')."""
    e = np.asarray(errors, dtype=float)
    return e.T @ e / e.shape[0]


def eigen_power_law(E, rank_range=None):
    """Eigenvalues of E (descending) and the exponent kappa of lambda_r ~ r^(-kappa), fitted by
    least squares in log-log over ranks 2 .. rank/4 (the first eigenvalue is the mean mode; E has
    at most as many non-zero eigenvalues as there are images)."""
    lam = np.sort(np.linalg.eigvalsh(E))[::-1]
    k = int(np.sum(lam > 1e-10 * lam[0]))  # the rank: E has at most n (images) non-zero eigenvalues
    lo, hi = rank_range or (2, max(3, k // 4))
    r = np.arange(1, lam.size + 1)
    sel = (r >= lo) & (r <= hi) & (lam > 0)
    if sel.sum() < 2:
        raise DifficultyError("too few positive eigenvalues to fit a power law")
    slope, intercept = np.polyfit(np.log(r[sel]), np.log(lam[sel]), 1)
    return lam, float(-slope), float(intercept)


def empirical_pass_at_k(success, ks):
    """Fraction of images with at least one success among their first k attempts."""
    first = np.where(success.any(axis=1), success.argmax(axis=1) + 1, success.shape[1] + 1)
    return np.array([(first <= k).mean() for k in ks])


def effective_k_prediction(success, kappa, ks):
    """Eq. 12 with per-image p_i = empirical failure rate over all attempts, and A = 1."""
    from ..special import generalized_harmonic

    p = 1.0 - success.mean(axis=1)
    h = generalized_harmonic(np.asarray(ks, dtype=float), kappa)
    with np.errstate(divide="ignore"):
        return 1.0 - np.mean(p[:, None] ** h[None, :], axis=0)


@dataclass
class VAEResult:
    errors: np.ndarray  # (images, attempts)
    epsilons: np.ndarray
    counts: EvalCounts  # one group per epsilon
    kappa: float
    eigenvalues: np.ndarray
    source: str

    def to_dict(self):
        return {"images": int(self.errors.shape[0]), "attempts": int(self.errors.shape[1]),
                "epsilons": self.epsilons.tolist(), "kappa": self.kappa, "data": self.source}


def run_vae_experiment(data=None, images=400, epochs=1000, temperature=1.1, attempts=1000, epsilons=(0.3, 0.35, 0.4),
                       seed=0, progress=None) -> VAEResult:
    """Train, sample, threshold: the whole Section 4 experiment."""
    x, source = load_images(data, images)
    model = train_vae(x, epochs=epochs, seed=seed, progress=progress)
    err = sample_errors(model, x, attempts=attempts, temperature=temperature, seed=seed, progress=progress)
    eps = np.asarray(epsilons, dtype=float)
    n, c, prob, grp = [], [], [], []
    for e in eps:
        ok = err < e
        n.append(np.full(x.shape[0], attempts))
        c.append(ok.sum(axis=1))
        prob.append(np.arange(x.shape[0]))
        grp.append(np.full(x.shape[0], f"epsilon={e:g}", dtype=object))
    counts = EvalCounts(np.concatenate(n), np.concatenate(c), problem=np.concatenate(prob), group=np.concatenate(grp),
                        source=f"VAE ({source})")
    lam, kappa, _ = eigen_power_law(trial_correlation(err))
    return VAEResult(err, eps, counts, kappa, lam, source)
