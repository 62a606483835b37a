"""`difficulty passk` and `difficulty simulate beta`, on generated and real data."""
import json

import numpy as np
import pandas as pd
from scipy.special import betaln

from difficulty import load_counts, pass_at_k


def test_passk_json_on_real_jailbreaking_data_by_group(cli, real_dir):
    path = real_dir / "bon_text_jailbreaking_counts.csv"
    code, out, err = cli("passk", path, "--group-col", "model", "--k", "1,60", "--json")
    assert code == 0, err
    res = json.loads(out)["groups"]
    assert len(res) == 7
    df = pd.read_csv(path)
    for name, r in res.items():
        sub = df[df.model == name]
        assert r["k"] == [1, 60] and r["n_problems"] == len(sub)
        # pass@1 is the mean of c/N (exact), pass@60 the mean of 1 - C(N-c,60)/C(N,60)
        assert abs(r["pass_at_k"][0] - (sub.num_successes / sub.num_samples).mean()) < 1e-15
        assert all(lo <= v <= hi for lo, v, hi in zip(r["low"], r["pass_at_k"], r["high"]))


def test_passk_readable_table(cli, tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("n,c\n10,1\n10,0\n10,10\n")
    code, out, _ = cli("passk", p, "--k", "1,10")
    assert code == 0 and "pass@k" in out and "0.36667" in out  # (0.1 + 0 + 1)/3


def test_simulate_beta_writes_counts_with_truth(cli, tmp_path):
    out = tmp_path / "sim.csv"
    code, _, err = cli("simulate", "beta", "--alpha", "2", "--beta", "0.5", "--problems", "4000",
                       "--attempts", "50", "--seed", "3", "-o", out)
    assert code == 0, err
    df = pd.read_csv(out)
    assert {"problem", "n", "c", "true_p"} <= set(df.columns) and len(df) == 4000
    # Monte Carlo check of the generator: mean pass@10 vs 1 - B(a+10,b)/B(a,b); 4 standard errors
    counts = load_counts(str(out))
    v = pass_at_k(counts.n, counts.c, 10)
    truth = 1 - np.exp(betaln(12, 0.5) - betaln(2, 0.5))
    assert abs(v.mean() - truth) < 4 * v.std() / np.sqrt(v.size)
