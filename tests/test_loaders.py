"""Loaders for what evaluation harnesses write: each fixture read back to the exact counts of its
construction, recognised without being named, and a one-line error for a wrong or ambiguous file.

The fixtures (tests/fixtures/harness/, written by make_fixtures.py there) hold small made-up data in
each harness's real layout; the layout's source is cited above each test. The outcomes below are the
ones the fixtures were made from, so the expected counts do not come from any loader.
"""
import json
import pathlib
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest

from difficulty import DifficultyError, load_counts
from difficulty.io import detect_format, is_curve_file
from difficulty.loaders import FORMATS

FIX = pathlib.Path(__file__).resolve().parent / "fixtures" / "harness"
LM04 = FIX / "lm_eval" / "samples_gsm8k_2025-03-14T10-20-30.123456.jsonl"
LM05 = FIX / "lm_eval" / "samples_gsm8k_repeats_2025-03-14T11-00-00.000001.jsonl"
EVALPLUS = FIX / "evalplus" / "eval_results.json"
EVALPLUS_LEGACY = FIX / "evalplus" / "samples_eval_results.json"
INSPECT = FIX / "inspect" / "2025-04-01T09-00-00+00-00_arithmetic_taskid789.eval"
LIGHTEVAL = FIX / "lighteval" / "details_aime24_2025-07-01T12-00-00.000000.parquet"
LIGHTEVAL_OLD = FIX / "lighteval" / "details_math_500_2025-02-10T08-00-00.000000.parquet"
NPY, CSV, CSV_BARE = FIX / "matrix" / "R.npy", FIX / "matrix" / "R.csv", FIX / "matrix" / "R_noheader.csv"


def counts(d):
    """{problem id: (N, c)}; problems without ids are numbered from 0."""
    ids = d.problem_ids.tolist()
    return {str(p): (int(n), int(c)) for p, n, c in zip(ids, d.n, d.c)}


def expect(outcomes):
    """{problem id: (N, c)} from {problem id: list of 0/1 outcomes}."""
    return {str(p): (len(v), sum(v)) for p, v in outcomes.items()}


def one_line_error(code, out, err, *words):
    assert code == 2 and out == "", (code, out, err)
    assert err.startswith("difficulty: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for w in words:
        assert w in err, err


# ------------------------------------------------------------------ lm-evaluation-harness
# Layout: EleutherAI/lm-evaluation-harness @ 4e7e0d47f33bc71070c1d38394bafbb52b117163,
#   lm_eval/evaluator.py (evaluate(): the per-document `example` dict: doc_id, doc, target, arguments,
#   resps, filtered_resps, filter, metrics, doc_hash, prompt_hash, target_hash, then the metric values;
#   one record per filter pipeline), lm_eval/loggers/evaluation_tracker.py (save_results_samples:
#   samples_<task>_<date_id>.jsonl, arguments as {"gen_args_i": {"arg_j": ...}}, resps and filtered_resps
#   as strings), lm_eval/result_schema.py (SampleResult), lm_eval/tasks/gsm8k/gsm8k.yaml (the filters
#   strict-match and flexible-extract), lm_eval/filters/selection.py (take_first keeps the first repeat).
# Repeats, per metric: branch next0.5 @ e7e6bc67fc12429de626c64a99010e2dcdfc45fb,
#   lm_eval/evaluator_utils.py (_build_logged_samples: "scores_per_repeat" {metric: [score per repeat]}
#   when repeats > 1) and lm_eval/result_schema.py (scores_per_repeat, "E.g. {"exact_match": [0.0, 1.0]}").
#   Issues #1232 and #3080: up to v0.4 a filter reduces the repeats to one scored response.
LM04_TRUTH = {"strict-match": [1, 0, 0, 1], "flexible-extract": [1, 1, 0, 1]}
LM05_TRUTH = {"strict-match": [[1, 0, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 0, 0], [0, 0, 1, 1]],
              "flexible-extract": [[1, 1, 1, 0], [0, 0, 1, 0], [1, 1, 1, 1], [1, 1, 0, 0], [0, 0, 1, 1]]}


@pytest.mark.parametrize("filter_name", ["strict-match", "flexible-extract"])
def test_lm_eval_one_scored_response_per_document_and_filter(filter_name):
    d = load_counts(str(LM04), filter=filter_name)
    assert counts(d) == expect({i: [ok] for i, ok in enumerate(LM04_TRUTH[filter_name])})
    assert d.group is None


@pytest.mark.parametrize("filter_name", ["strict-match", "flexible-extract"])
def test_lm_eval_repeats_are_the_attempts(filter_name):
    # the top-level exact_match is the first repeat (the reduction); scores_per_repeat has them all
    d = load_counts(str(LM05), filter=filter_name)
    assert counts(d) == expect(dict(enumerate(LM05_TRUTH[filter_name])))
    assert load_counts(str(LM05), filter=filter_name, metric="exact_match").n.tolist() == [4] * 5


def test_lm_eval_a_single_filter_needs_no_flag(tmp_path):
    p = tmp_path / "samples_gsm8k_2025-03-14T10-20-30.jsonl"
    lines = [x for x in LM05.read_text().splitlines() if json.loads(x)["filter"] == "flexible-extract"]
    p.write_text("\n".join(lines) + "\n")
    assert counts(load_counts(str(p))) == expect(dict(enumerate(LM05_TRUTH["flexible-extract"])))


def test_lm_eval_before_v0_4_7_records_name_no_filter(tmp_path, cli):
    # lm_eval/evaluator.py at 0ef7548d7c3f01108e7c12900a5e5eb4b4a668f7 (the parent of 5680a2e6b5cf1a16,
    # PR #2517, which added "filter" and "metrics"): the metric values are the record's other keys
    recs = [json.loads(x) for x in LM04.read_text().splitlines()]
    for r in recs:
        del r["filter"], r["metrics"]
    p = tmp_path / "samples_gsm8k_2024-10-01T00-00-00.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in recs[:4]))  # the first filter's block
    assert detect_format(str(p)) == "lm-eval"
    assert counts(load_counts(str(p))) == expect({i: [ok] for i, ok in enumerate(LM04_TRUTH["strict-match"])})
    p.write_text("".join(json.dumps(r) + "\n" for r in recs))  # two filters that cannot be told apart
    code, out, err = cli("passk", p, "--json")
    one_line_error(code, out, err, "doc_id '0' is on lines 1 and 5", "name no filter")


def test_lm_eval_several_filters_need_the_flag(cli):
    code, out, err = cli("passk", LM04, "--json")
    one_line_error(code, out, err, "strict-match", "flexible-extract", "--filter NAME")
    code, out, err = cli("passk", LM04, "--filter", "loose", "--json")
    one_line_error(code, out, err, "no filter 'loose'", "strict-match")


def test_lm_eval_metric_choice(tmp_path, cli):
    code, out, err = cli("passk", LM05, "--filter", "strict-match", "--metric", "acc", "--json")
    one_line_error(code, out, err, "no metric 'acc'", "exact_match")
    # a document scored 0.5: no 0/1 metric to take by default, and a one-line error when named
    recs = [json.loads(x) for x in LM04.read_text().splitlines()]
    recs = [r for r in recs if r["filter"] == "strict-match"]
    for r in recs:
        r["metrics"] = ["f1", "exact_match"]
        r["f1"] = 0.5
    recs[2]["exact_match"] = 0.5
    p = tmp_path / "samples_squad_2025-01-01T00-00-00.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in recs))
    with pytest.raises(DifficultyError, match="no metric scores every document 0 or 1"):
        load_counts(str(p))
    code, out, err = cli("passk", p, "--metric", "exact_match", "--json")
    one_line_error(code, out, err, "line 3", "doc_id 2", "0.5")


# ------------------------------------------------------------------ evalplus
# Layout: evalplus/evalplus @ 26d6d00bb1fd0fa37f39c99d5290da67891d1c5e, evalplus/evaluate.py
#   (evaluate(): results = {"date", "hash", "eval": {task_id: [{"task_id", "solution", "base_status",
#   "plus_status", "base_fail_tests", "plus_fail_tests"}, ...]}, "pass_at_k": {"base", "plus"}};
#   plus passes when base_status == plus_status == "pass"; plus_status None with --base-only),
#   evalplus/eval/__init__.py (PASS "pass", FAIL "fail", TIMEOUT "timeout", None).
#   Before v0.2: commit c08e5e16a67e7d1c98e412bfc4d55d2d80ac2de9, evalplus/evaluate.py
#   ({"nfiles", "base": [[status, details]], "plus": [...]} per task; changed by 1034038f, #96).
EVALPLUS_TRUTH = {
    "HumanEval/0": [("pass", "pass"), ("pass", "fail"), ("fail", "fail"), ("pass", "pass"), ("timeout", "timeout")],
    "HumanEval/1": [("fail", "fail")] * 5,
    "HumanEval/2": [("pass", "pass"), ("pass", "pass"), ("pass", "fail"), ("pass", "pass"), ("pass", "pass")],
    "HumanEval/3": [("pass", "fail"), ("fail", "fail"), ("pass", "fail"), ("fail", "fail"), ("pass", "fail")],
}
EVALPLUS_BASE = {t: [int(b == "pass") for b, _ in s] for t, s in EVALPLUS_TRUTH.items()}
EVALPLUS_PLUS = {t: [int(b == p == "pass") for b, p in s] for t, s in EVALPLUS_TRUTH.items()}


@pytest.mark.parametrize("path", [EVALPLUS, EVALPLUS_LEGACY], ids=["v0.2+", "legacy"])
def test_evalplus_base_and_plus(path):
    assert counts(load_counts(str(path))) == expect(EVALPLUS_PLUS)  # default: base and plus tests
    assert counts(load_counts(str(path), evalplus_tests="plus")) == expect(EVALPLUS_PLUS)
    assert counts(load_counts(str(path), evalplus_tests="base")) == expect(EVALPLUS_BASE)


def test_evalplus_base_only_run(tmp_path, cli):
    data = json.loads(EVALPLUS.read_text())
    for samples in data["eval"].values():
        for s in samples:
            s["plus_status"] = None
    p = tmp_path / "eval_results.json"
    p.write_text(json.dumps(data))
    assert counts(load_counts(str(p))) == expect(EVALPLUS_BASE)
    code, out, err = cli("passk", p, "--evalplus-tests", "plus", "--json")
    one_line_error(code, out, err, "no plus-test results", "--evalplus-tests base")


def test_evalplus_unknown_status(tmp_path, cli):
    data = json.loads(EVALPLUS.read_text())
    data["eval"]["HumanEval/2"][1]["base_status"] = "passed"
    p = tmp_path / "eval_results.json"
    p.write_text(json.dumps(data))
    code, out, err = cli("passk", p, "--json")
    one_line_error(code, out, err, "sample 2 of 'HumanEval/2'", "'passed'")


# ------------------------------------------------------------------ inspect_ai
# Layout: UKGovernmentBEIS/inspect_ai @ 499e6152e7b8fc8cbd8ac5283536572aa6e4ab17,
#   src/inspect_ai/log/_recorders/eval.py (a zip: _journal/start.json, samples/{id}_epoch_{epoch}.json via
#   _sample_filename, _journal/summaries/N.json, summaries.json, reductions.json, header.json; a repeated
#   member name supersedes, "readers resolve names to the last entry"),
#   src/inspect_ai/log/_recorders/chunked/format.py (a chunked sample: samples/{id}_epoch_{epoch}/sample.json
#   shell + messages/ events/ sequences), src/inspect_ai/log/_log.py (EvalSample: id, epoch, input, target,
#   messages, output, scores: dict[str, Score], ..., error), src/inspect_ai/scorer/_metric.py (Score: value,
#   answer, explanation, metadata, history; CORRECT "C", INCORRECT "I", PARTIAL "P", NOANSWER "N";
#   value_to_float), src/inspect_ai/_util/json.py (dumped with exclude_none: an errored sample has no scores).
# per sample id and epoch: (model_graded_qa, match); None: the sample ended in an error (no scores).
# Sample 1 epoch 1 is written twice, "I" then "C": the last copy counts. Sample 3 epoch 2 is chunked.
INSPECT_TRUTH = {1: [("C", "C"), ("P", "I"), ("C", "C")], 2: [("I", "I"), ("C", "C"), None],
                 3: [("I", "I"), ("P", "I"), ("C", "C")]}


def test_inspect_eval_log_epochs_are_the_attempts():
    match = {sid: [int(s[1] == "C") for s in epochs if s is not None] for sid, epochs in INSPECT_TRUTH.items()}
    d = load_counts(str(INSPECT))  # default: model_graded_qa has partial credit, so match is taken
    assert counts(d) == expect(match)
    assert counts(load_counts(str(INSPECT), metric="match")) == expect(match)


def test_inspect_wrong_scorer_or_file(tmp_path, cli):
    code, out, err = cli("passk", INSPECT, "--metric", "model_graded_qa", "--json")
    one_line_error(code, out, err, "'P'", "not correct/incorrect")
    code, out, err = cli("passk", INSPECT, "--metric", "includes", "--json")
    one_line_error(code, out, err, "no scorer 'includes'", "match")
    bad = tmp_path / "broken.eval"
    bad.write_text("not a zip")
    code, out, err = cli("passk", bad, "--json")
    one_line_error(code, out, err, "not a zip archive")
    header_only = tmp_path / "header_only.eval"
    with zipfile.ZipFile(INSPECT) as src, zipfile.ZipFile(header_only, "w") as dst:
        dst.writestr("header.json", src.read("header.json"))
    code, out, err = cli("passk", header_only, "--json")
    one_line_error(code, out, err, "no samples/<id>_epoch_<n>.json")


def test_inspect_numeric_scores(tmp_path):
    # scores may be numbers or booleans as well as "C"/"I"
    p = tmp_path / "log.eval"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("header.json", "{}")
        for sid, values in {"a": [1, 0, 1.0], "b": [False, True, 0.0]}.items():
            for epoch, v in enumerate(values, start=1):
                zf.writestr(f"samples/{sid}_epoch_{epoch}.json",
                            json.dumps({"id": sid, "epoch": epoch, "scores": {"exact": {"value": v}}}))
    assert counts(load_counts(str(p))) == {"a": (3, 2), "b": (3, 1)}


# ------------------------------------------------------------------ lighteval
# Layout: huggingface/lighteval @ 3fd15266bc8448b797e61462d293aa3fd40b3580,
#   src/lighteval/logging/evaluation_tracker.py (save(): Dataset.from_list of asdict(Detail), columns sorted;
#   save_details: details/<model>/<date>/details_<task>_<date>.parquet),
#   src/lighteval/logging/info_loggers.py (DetailsLogger.Detail: doc, model_response, metric),
#   src/lighteval/tasks/requests.py (Doc fields), src/lighteval/models/model_output.py (ModelResponse fields;
#   text: one generation per sample), src/lighteval/metrics/utils/metric_utils.py (metric names
#   "name:param=value&...", e.g. "pass@k:k=1&n=16"), src/lighteval/metrics/metrics_sample.py (PassAtK,
#   AvgAtN: with k = 1 the value is c/n), docs/source/saving-and-reading-results.mdx.
#   Up to v0.10.0 (c4826ea9380f01fd7d6cfe291cee26a238dad774) src/lighteval/logging/info_loggers.py had flat
#   columns (example, full_prompt, predictions, gold, ..., metrics, specifics) and metrics such as
#   "math_pass@1:4_samples" (src/lighteval/metrics/metrics.py); changed by 9288bd84 (#709).
LIGHTEVAL_TRUTH = [[1, 0, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 0, 0], [1, 0, 0, 0]]


def test_lighteval_samples_per_document():
    d = load_counts(str(LIGHTEVAL))  # default: pass@k:k=1&n=4 = c/4
    assert counts(d) == expect(dict(enumerate(LIGHTEVAL_TRUTH)))
    assert counts(load_counts(str(LIGHTEVAL), metric="pass@k:k=1&n=4")) == counts(d)
    first = load_counts(str(LIGHTEVAL), metric="extractive_match")  # a plain 0/1 metric: one attempt
    assert counts(first) == expect({i: [s[0]] for i, s in enumerate(LIGHTEVAL_TRUTH)})
    vote = load_counts(str(LIGHTEVAL), metric="maj@n:n=4")  # named: the majority vote as one attempt
    assert counts(vote) == expect({i: [int(2 * sum(s) > len(s))] for i, s in enumerate(LIGHTEVAL_TRUTH)})


def test_lighteval_up_to_v0_10():
    assert counts(load_counts(str(LIGHTEVAL_OLD))) == expect(dict(enumerate(LIGHTEVAL_TRUTH)))


def test_lighteval_metric_without_whole_counts(tmp_path, cli):
    df = pd.read_parquet(LIGHTEVAL)
    df["metric"] = [{"bleu": 0.3 + 0.1 * i} for i in range(len(df))]
    p = tmp_path / "details_wmt_2025-01-01T00-00-00.parquet"
    df.to_parquet(p)
    code, out, err = cli("passk", p, "--json")
    one_line_error(code, out, err, "no metric gives whole counts", "'bleu'", "--metric NAME")
    code, out, err = cli("passk", p, "--metric", "bleu", "--json")
    one_line_error(code, out, err, "row 1", "not a 0/1 outcome")


# ------------------------------------------------------------------ problems x attempts matrices
# Convention: mohsenhariri/scorio @ dedc4154f6daf01af79416b8c93560ac4b0fb88e, docs/api/eval.rst ("R is an
#   M x N matrix, where rows are questions and columns are sampled trials. Binary metrics require entries
#   in {0,1}"), scorio/eval/_inputs.py (_integer_matrix_view, prepare_binary_bank: bool, or integer/float
#   entries that are 0 or 1), docs/api/rank.rst (L models x M questions x N trials).
MATRIX_TRUTH = [[1, 0, 0, 1, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1], [0, 1, 0, 0, 0], [1, 1, 0, 1, 1],
                [0, 0, 1, 0, 0]]


@pytest.mark.parametrize("path", [NPY, CSV, CSV_BARE], ids=["npy", "csv-header", "csv-bare"])
def test_matrix_rows_are_problems(path):
    assert counts(load_counts(str(path))) == expect(dict(enumerate(MATRIX_TRUTH)))


def test_matrix_as_numpy_and_pandas_write_it(tmp_path):
    R = np.array(MATRIX_TRUTH)
    p = tmp_path / "R.txt"
    np.savetxt(p, R)  # spaces, 1.000000000000000000e+00
    assert counts(load_counts(str(p))) == expect(dict(enumerate(MATRIX_TRUTH)))
    p = tmp_path / "R.tsv"
    np.savetxt(p, R, delimiter="\t", fmt="%d")
    assert counts(load_counts(str(p))) == expect(dict(enumerate(MATRIX_TRUTH)))
    p = tmp_path / "R_indexed.csv"
    pd.DataFrame(R, index=[f"q{i}" for i in range(len(R))]).astype(bool).to_csv(p)  # index column, True/False
    assert counts(load_counts(str(p))) == expect({f"q{i}": row for i, row in enumerate(MATRIX_TRUTH)})


def test_matrix_models_problems_attempts(tmp_path, cli):
    R = np.stack([np.array(MATRIX_TRUTH), 1 - np.array(MATRIX_TRUTH)])
    p = tmp_path / "R3.npy"
    np.save(p, R)
    d = load_counts(str(p), group_col="model")
    g = d.groups()
    assert list(g) == ["0", "1"]
    assert counts(g["0"]) == expect(dict(enumerate(MATRIX_TRUTH)))
    assert counts(g["1"]) == expect({i: [1 - x for x in row] for i, row in enumerate(MATRIX_TRUTH)})
    code, out, err = cli("passk", p, "--json")
    one_line_error(code, out, err, "3-D array", "--group-col model")
    code, out, err = cli("passk", p, "--group-col", "model", "--k", "1", "--json")
    assert code == 0, err
    assert set(json.loads(out)["groups"]) == {"0", "1"}


@pytest.mark.parametrize("name,make,message", [
    ("R.npy", lambda p: np.save(p, np.array([[0, 1], [2, 1]])), "problem 1, attempt 0 (from 0) is 2"),
    ("R.npy", lambda p: np.save(p, np.array([0, 1, 1])), "1-D array"),
    ("R.npy", lambda p: np.save(p, np.array([[0.0, np.nan]])), "not 0 or 1"),
    ("R.npy", lambda p: p.write_bytes(b"\x93NUMPY garbage"), "not a"),
    ("R.csv", lambda p: p.write_text("0,1,2\n1,0,1\n1,1\n"), "line 3 has 2 cells"),
])
def test_matrix_bad_input(tmp_path, cli, name, make, message):
    p = tmp_path / name
    make(p)
    with pytest.raises(DifficultyError, match=message.split("(")[0].strip()):
        load_counts(str(p))
    code, out, err = cli("passk", p, "--json")
    one_line_error(code, out, err)


def test_matrix_bad_cell_is_named(tmp_path, cli):
    p = tmp_path / "R.csv"
    p.write_text("0,1,2\n1,0,1\n1,x,0\n")  # header, then a cell that is no outcome: not a matrix, not a table
    code, out, err = cli("passk", p, "--format", "matrix", "--json")
    one_line_error(code, out, err, "line 3, attempt 2 is 'x'")


# ------------------------------------------------------------------ recognising the format
ALL = [(LM04, "lm-eval"), (LM05, "lm-eval"), (EVALPLUS, "evalplus"), (EVALPLUS_LEGACY, "evalplus"),
       (INSPECT, "inspect"), (LIGHTEVAL, "lighteval"), (LIGHTEVAL_OLD, "lighteval"), (NPY, "matrix"),
       (CSV, "matrix"), (CSV_BARE, "matrix")]


@pytest.mark.parametrize("path,name", ALL, ids=[f"{n}-{p.suffix}" for p, n in ALL])
def test_each_format_is_recognised_and_named(path, name):
    assert detect_format(str(path)) == name
    assert detect_format(str(path), format=name) == name
    assert not is_curve_file(str(path))  # a harness's file is never taken for a curve


def test_a_copy_under_another_name_is_recognised_by_content(tmp_path):
    p = tmp_path / "results.data"
    shutil.copy(INSPECT, p)
    assert detect_format(str(p)) == "inspect"
    p = tmp_path / "matrix.bin"
    shutil.copy(NPY, p)
    assert counts(load_counts(str(p))) == expect(dict(enumerate(MATRIX_TRUTH)))


def test_ambiguous_file_names_the_formats_and_the_flag(tmp_path, cli):
    # lm-eval sample records that also carry a problem id and an outcome column of a table of attempts
    recs = [json.loads(x) for x in LM04.read_text().splitlines()]
    recs = [dict(r, problem=r["doc_id"], correct=bool(r["exact_match"])) for r in recs if r["filter"] == "strict-match"]
    p = tmp_path / "samples_gsm8k_2025-01-01T00-00-00.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in recs))
    with pytest.raises(DifficultyError, match="could be lm-eval samples or a jsonl table"):
        load_counts(str(p))
    code, out, err = cli("passk", p, "--json")
    one_line_error(code, out, err, "--format lm-eval", "--format jsonl")
    strict = expect({i: [ok] for i, ok in enumerate(LM04_TRUTH["strict-match"])})
    assert counts(load_counts(str(p), format="lm-eval")) == strict
    assert counts(load_counts(str(p), format="jsonl")) == strict
    code, out, err = cli("passk", p, "--format", "lm-eval", "--k", "1", "--json")
    assert code == 0 and json.loads(out)["n_problems"] == 4


def test_a_file_of_no_format_says_which_it_could_be(tmp_path, cli):
    p = tmp_path / "r.csv"
    p.write_text("foo,bar\n1,2\n")
    code, out, err = cli("passk", p, "--json")
    one_line_error(code, out, err, "no recognisable columns", "--format matrix")
    p = tmp_path / "r.jsonl"
    p.write_text('{"doc": 1, "score": 0.5}\n')
    code, out, err = cli("passk", p, "--json")
    one_line_error(code, out, err, "no recognisable columns", "--format lm-eval")


@pytest.mark.parametrize("path,args,message", [
    (EVALPLUS, ["--filter", "strict-match"], "--filter does not apply to evalplus files"),
    (INSPECT, ["--evalplus-tests", "base"], "--evalplus-tests does not apply to inspect files"),
    (LM05, ["--filter", "strict-match", "--group-col", "model"], "--group-col does not apply"),
    (LM05, ["--format", "lm-eval", "--n-col", "n"], "--n-col does not apply"),
    (CSV, ["--metric", "exact_match"], "--metric does not apply to matrix files"),
])
def test_flags_for_another_format_are_refused(cli, path, args, message):
    code, out, err = cli("passk", path, *args, "--json")
    one_line_error(code, out, err, message)


def test_harness_flags_on_a_table_are_refused(tmp_path, cli):
    p = tmp_path / "r.csv"
    p.write_text("n,c\n10,1\n10,3\n")
    code, out, err = cli("passk", p, "--filter", "strict-match", "--json")
    one_line_error(code, out, err, "--filter applies to lm-eval files", "read as a table")


@pytest.mark.parametrize("path,args,truth", [
    (LM05, ["--filter", "strict-match"], dict(enumerate(LM05_TRUTH["strict-match"]))),
    (EVALPLUS, ["--evalplus-tests", "base"], EVALPLUS_BASE),
    (INSPECT, [], {sid: [int(s[1] == "C") for s in e if s] for sid, e in INSPECT_TRUTH.items()}),
    (LIGHTEVAL, [], dict(enumerate(LIGHTEVAL_TRUTH))),
    (NPY, [], dict(enumerate(MATRIX_TRUTH))),
], ids=["lm-eval", "evalplus", "inspect", "lighteval", "matrix"])
def test_cli_reads_each_format(cli, path, args, truth):
    code, out, err = cli("passk", path, *args, "--k", "1", "--json")
    assert code == 0, err
    r = json.loads(out)
    assert r["n_problems"] == len(truth)
    assert r["pass_at_k"][0] == pytest.approx(np.mean([sum(v) / len(v) for v in truth.values()]), abs=1e-12)


# ------------------------------------------------------------------ difficulty formats
def test_formats_lists_every_format_with_a_five_line_example(cli):
    code, out, err = cli("formats")
    assert code == 0, err
    blocks = out.strip().split("\n\n")
    assert len(blocks) == len(FORMATS) >= 9
    for f, block in zip(FORMATS, blocks):
        lines = block.splitlines()
        assert lines[0].startswith(f"{f.name}: ")
        example = lines[lines.index("  example:") + 1:]
        assert len(example) == 5 and all(line.startswith("    ") for line in example)
    names = {f.name for f in FORMATS}
    assert {"lm-eval", "evalplus", "inspect", "lighteval", "matrix"} <= names


def test_formats_one_and_json(cli):
    code, out, _ = cli("formats", "lm_eval")  # an alias names it too
    assert code == 0 and out.startswith("lm-eval: ") and "\n\n" not in out.strip()
    code, out, _ = cli("formats", "--json")
    assert code == 0 and all(len(f["example"]) == 5 for f in json.loads(out)["formats"])
    code, out, err = cli("formats", "xlsx")
    one_line_error(code, out, err, "no format 'xlsx'", "lm-eval")


def test_formats_and_the_format_registry_load_nothing_heavy():
    probe = ("import sys, difficulty.cli, difficulty.loaders\n"
             "difficulty.cli.main(['formats'])\n"
             "print('HEAVY:' + ','.join(m for m in ('pandas', 'pyarrow', 'scipy') if m in sys.modules), "
             "file=sys.stderr)\n")
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip().splitlines()[-1] == "HEAVY:"


def test_format_names_of_tables_read_by_extension(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("n,c\n10,1\n10,3\n")
    assert load_counts(str(p), format="counts").c.tolist() == [1, 3]
    p = tmp_path / "curve.csv"
    p.write_text("k,pass_at_k\n1,0.2\n10,0.5\n")
    assert is_curve_file(str(p), format="curve")
