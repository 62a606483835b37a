"""The pandas-first API (difficulty.analyze): the same numbers as the command line, clear errors, lazy import."""
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import difficulty
from difficulty.cli import main
from difficulty.errors import DifficultyError


def _table(seed=0, problems=30):
    rng = np.random.default_rng(seed)
    q = np.where(rng.random(problems) < 0.3, 0.0, rng.beta(0.4, 3.0, problems))
    return pd.DataFrame({"model": "m1", "task": np.arange(problems), "N": 40, "C": rng.binomial(40, q)})


@pytest.mark.slow
def test_dataframe_path_gives_the_cli_numbers(tmp_path):
    df = _table()
    res = difficulty.analyze(df, group="model", problem="task", n="N", c="C")
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    out = tmp_path / "rep"
    assert main(["analyze", str(path), "--group-col", "model", "--n-col", "N", "--c-col", "C", "--problem-col",
                 "task", "-o", str(out), "--no-plots", "--quiet", "--jobs", "1"]) == 0
    cli = json.loads((out / "summary.json").read_text())["groups"]["m1"]
    api = json.loads(difficulty.io.to_json(res["m1"].data))
    for key in ("pass_at_k", "forecast", "posterior", "ranking", "cost_plan", "model_comparison"):
        assert api[key] == cli[key], key
    assert res.posteriors["m1"] is res["m1"].posterior
    assert set(res["m1"].posterior.posterior.data_vars) == {"alpha", "beta", "A"}  # arviz InferenceData
    assert list(res["m1"].ranked["problem"].astype(int).sort_values()) == list(range(30))


def test_a_group_whose_step_fails_numerically_is_reported_not_raised(monkeypatch):
    """As the report does: a numerical failure in one group's step names the reason and the others go on."""
    import difficulty.summary as summary

    real = summary.summarize_group

    def fails_for_m2(name, counts, opts, **kw):
        if name == "m2":
            raise np.linalg.LinAlgError("Singular matrix")
        return real(name, counts, opts, **kw)

    monkeypatch.setattr(summary, "summarize_group", fails_for_m2)
    df = pd.concat([_table(0, 20), _table(1, 20).assign(model="m2")])
    res = difficulty.analyze(df, group="model", problem="task", n="N", c="C")
    assert res["m2"].data["skipped"] == "LinAlgError: Singular matrix"
    assert "skipped" not in res["m1"].data and res["m1"].data["ranking"]["n_problems"] == 20


def test_per_attempt_rows_give_the_counts_of_the_count_table():
    df = _table(1, 12)
    rows = pd.DataFrame([(t, j, j < c) for t, c in zip(df.task, df.C) for j in range(40)],
                        columns=["task", "sample_idx", "ok"])
    from difficulty.api import counts_from_dataframe

    a = counts_from_dataframe(df, problem="task", n="N", c="C")
    b = counts_from_dataframe(rows, problem="task", outcome="ok", attempt="sample_idx")
    assert a.n.tolist() == b.n.tolist() and a.c.tolist() == b.c.tolist() and b.stopping == "sequential"


def test_missing_columns_are_named():
    df = _table()
    with pytest.raises(DifficultyError, match=r"n='attempts': no such column; the DataFrame has \['model', 'task'"):
        difficulty.analyze(df, n="attempts", c="C")
    with pytest.raises(DifficultyError, match="name both n="):
        difficulty.analyze(df, n="N")
    with pytest.raises(DifficultyError, match="no recognisable columns"):
        difficulty.analyze(df[["model", "task"]])
    with pytest.raises(DifficultyError, match="takes a pandas DataFrame"):
        difficulty.analyze({"n": [1]})


def test_import_stays_light():
    """Importing the package (and reaching the API's name) loads neither pandas nor scipy.stats."""
    code = ("import sys, difficulty; difficulty.analyze; "
            "print('pandas' in sys.modules, 'scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
