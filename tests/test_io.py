"""Loading every accepted shape and format, and a clear one-line error for each bad input."""
import json

import numpy as np
import pandas as pd
import pytest

from difficulty import DifficultyError, EvalCounts, load_counts


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_counts_csv_with_recognised_names_case_insensitive(tmp_path):
    p = write(tmp_path, "r.csv", "Task_ID,NUM_SAMPLES,Num_Correct\na,10,3\nb,10,0\n")
    d = load_counts(str(p))
    assert d.n.tolist() == [10, 10] and d.c.tolist() == [3, 0] and d.problem.tolist() == ["a", "b"]


def test_column_overrides(tmp_path):
    p = write(tmp_path, "r.csv", "q,tries,wins\nx,5,2\n")
    d = load_counts(str(p), n_col="tries", c_col="wins", problem_col="q")
    assert (d.n[0], d.c[0], d.problem[0]) == (5, 2, "x")


def test_per_attempt_rows_aggregate_to_counts(tmp_path):
    rows = [{"task_id": t, "passed": v} for t, v in [("a", True), ("a", False), ("b", "false"), ("a", 1)]]
    p = write(tmp_path, "r.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    d = load_counts(str(p))
    assert dict(zip(d.problem, zip(d.n, d.c))) == {"a": (3, 2), "b": (1, 0)}


def test_list_of_outcomes_column_jsonl_and_csv(tmp_path):
    p = write(tmp_path, "m.jsonl", '{"problem": 1, "is_corrects": [true, false, true]}\n'
                                   '{"problem": 2, "is_corrects": [false, false]}\n')
    d = load_counts(str(p))
    assert d.n.tolist() == [3, 2] and d.c.tolist() == [2, 0]
    p = write(tmp_path, "m.csv", 'problem,is_corrects\n1,"[True, False, True]"\n')
    assert load_counts(str(p)).c.tolist() == [2]


def test_parquet_and_groups(tmp_path):
    df = pd.DataFrame({"model": ["m1", "m1", "m2"], "problem_idx": [0, 1, 0], "n": [4, 4, 8], "c": [1, 2, 8]})
    p = tmp_path / "r.parquet"
    df.to_parquet(p)
    d = load_counts(str(p), group_col="model")
    groups = d.groups()
    assert list(groups) == ["m1", "m2"] and groups["m2"].c.tolist() == [8]


def test_input_arrays_are_not_modified_and_data_are_read_only():
    n = np.array([5.0, 6.0])
    EvalCounts(n, [1, 2])
    assert n.dtype == float and n.tolist() == [5.0, 6.0]
    d = EvalCounts([5, 6], [1, 2])
    with pytest.raises(ValueError):
        d.n[0] = 3


def test_histogram_is_the_sufficient_statistic():
    h = EvalCounts([10, 10, 20, 10], [1, 1, 5, 2]).histogram()
    assert sorted(zip(h.n.tolist(), h.c.tolist(), h.weight.tolist())) == [(10, 1, 2), (10, 2, 1), (20, 5, 1)]


BAD = [
    ("missing.csv", None, "no such file"),
    ("r.xlsx", "a,b\n", "unknown format"),
    ("r.csv", "foo,bar\n1,2\n", "no recognisable columns"),
    ("r.csv", "n,c\n10,-1\n", "negative"),
    ("r.csv", "n,c\n10,2.5\n", "not a whole number"),
    ("r.csv", "n,c\n10,11\n", r"exceed attempts N=10"),
    ("r.csv", "n,c\n0,0\n", "is 0"),
    ("r.csv", "n,c\n10,\n", "row 1 has no value"),
    ("r.csv", "n,c\n10,abc\n", "not a number"),
    ("r.csv", "problem,n,c\np1,10,1\np1,10,2\n", "duplicate problem id 'p1'"),
    ("r.csv", "", "empty"),
    ("r.csv", "n,c\n", "no rows"),
    ("r.jsonl", '{"n": 3, "c": 1}\n{"n": 3, "c": \n', "malformed JSON on line 2"),
    ("r.jsonl", '{"task_id": "a", "passed": "maybe"}\n', "not a yes/no outcome"),
]


@pytest.mark.parametrize("name,text,message", BAD)
def test_bad_input_gives_one_line_error_and_exit_2(tmp_path, cli, name, text, message):
    p = tmp_path / name
    if text is not None:
        p.write_text(text)
    with pytest.raises(DifficultyError, match=message):
        load_counts(str(p))
    code, out, err = cli("passk", p, "--k", "1")
    assert code == 2 and out == ""
    assert err.startswith("difficulty: error:") and message.split("'")[0].split("\\")[0] in err
    assert "Traceback" not in err and err.count("\n") == 1


@pytest.mark.parametrize("k,message", [("0", "k must be >= 1"), ("11", "k=11 exceeds"), ("2.5", "whole"),
                                       ("x", "comma-separated")])
def test_bad_k_gives_clear_error(tmp_path, cli, k, message):
    p = write(tmp_path, "r.csv", "n,c\n10,1\n20,3\n")
    code, out, err = cli("passk", p, "--k", k)
    assert code == 2 and message in err and "Traceback" not in err
