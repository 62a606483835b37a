"""The VAE generator (Section 4): small runs, checked against direct numpy computations."""
import numpy as np
import pytest

from difficulty import DifficultyError, load_counts
from difficulty.experiments.vae import (
    effective_k_prediction,
    eigen_power_law,
    empirical_pass_at_k,
    load_images,
    relative_error,
    sample_errors,
    train_vae,
    trial_correlation,
)


@pytest.fixture(scope="module")
def vae_extra():
    """PyTorch and scikit-learn (the vae extra, which `make test` installs); imported here, not at module
    level, so that the numpy-only tests below and the rest of the suite run without it."""
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def trained(vae_extra):
    x, src = load_images(None, 60)
    return x, train_vae(x, epochs=60, seed=0, progress=False), src


def test_shapes_source_and_determinism(trained):
    x, model, src = trained
    assert x.shape == (60, 64) and "load_digits" in src and 0 <= x.min() and x.max() <= 1
    e1 = sample_errors(model, x, attempts=40, temperature=1.1, seed=3, progress=False)
    e2 = sample_errors(model, x, attempts=40, temperature=1.1, seed=3, progress=False)
    assert e1.shape == (60, 40) and np.array_equal(e1, e2)
    m2 = train_vae(x, epochs=60, seed=0, progress=False)
    e3 = sample_errors(m2, x, attempts=40, temperature=1.1, seed=3, progress=False)
    assert np.array_equal(e1, e3)


def test_higher_temperature_lowers_pass_at_1_and_larger_epsilon_raises_pass_at_k(trained):
    x, model, _ = trained
    cold = sample_errors(model, x, attempts=200, temperature=0.5, seed=1, progress=False)
    hot = sample_errors(model, x, attempts=200, temperature=3.0, seed=1, progress=False)
    eps = float(np.quantile(cold, 0.3))
    assert (hot < eps).mean() < (cold < eps).mean()
    ks = [1, 10, 100]
    lo = empirical_pass_at_k(cold < eps * 0.9, ks)
    hi = empirical_pass_at_k(cold < eps * 1.1, ks)
    assert np.all(hi >= lo) and hi.sum() > lo.sum()


def test_eq16_and_eq17_match_direct_numpy():
    rng = np.random.default_rng(0)
    y = rng.random((5, 64))
    yhat = y[:, None, :] + 0.1 * rng.standard_normal((5, 7, 64))
    err = relative_error(yhat, y[:, None, :])
    ref = np.array([[np.sqrt(np.sum((yhat[i, t] - y[i]) ** 2)) / np.sqrt(np.sum(y[i] ** 2)) for t in range(7)]
                    for i in range(5)])
    assert np.allclose(err, ref, rtol=1e-13)
    E = trial_correlation(err)
    refE = np.array([[sum(err[i, a] * err[i, b] for i in range(5)) / 5 for b in range(7)] for a in range(7)])
    assert np.allclose(E, refE, rtol=1e-13)


def test_eigen_power_law_recovers_a_known_exponent():
    lam = np.arange(1, 201, dtype=float) ** -0.7
    Q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((200, 200)))
    E = (Q * lam) @ Q.T
    _, kappa, _ = eigen_power_law(E)
    assert kappa == pytest.approx(0.7, abs=1e-6)


def test_effective_k_prediction_is_eq_12():
    success = np.array([[True, False, False, False], [False, False, False, False]])
    pred = effective_k_prediction(success, 0.5, [1, 4])
    from difficulty.models import effective_k

    p = np.array([0.75, 1.0])
    ref = [1 - np.mean(p ** float(effective_k(k, 0.5))) for k in (1, 4)]
    assert np.allclose(pred, ref)


def test_cli_writes_counts_that_passk_reads(vae_extra, cli, tmp_path):
    out = tmp_path / "vae.csv"
    code, _, err = cli("simulate", "vae", "--images", "30", "--epochs", "20", "--attempts", "50",
                       "--epsilon", "0.3,0.5", "--seed", "1", "-o", out)
    assert code == 0, err
    assert (tmp_path / "vae.npz").exists()
    with np.load(tmp_path / "vae.npz") as z:
        assert z["errors"].shape == (30, 50)
    counts = load_counts(str(out), group_col="epsilon")
    assert set(counts.groups()) == {"epsilon=0.3", "epsilon=0.5"}
    code, txt, err = cli("passk", out, "--group-col", "epsilon", "--k", "1,50", "--json")
    assert code == 0, err


def test_bad_image_inputs(tmp_path):
    with pytest.raises(DifficultyError, match="no such file"):
        load_images(str(tmp_path / "nope.gz"))
    bad = tmp_path / "x.idx"
    bad.write_bytes(b"\x00\x00\x0d\x01abc")
    with pytest.raises(DifficultyError, match="IDX"):
        load_images(str(bad))


def test_more_images_than_the_data_hold(vae_extra):
    with pytest.raises(DifficultyError, match="asked for"):
        load_images(None, 5000)
