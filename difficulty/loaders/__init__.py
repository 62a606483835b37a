"""Readers for what evaluation harnesses write, each into per-problem counts.

Every harness format is a module here with ``NAME``, ``sniff(path) -> bool`` (does the file look
like this format? never raises for a foreign file) and ``load(path, **options) -> EvalCounts``.
:data:`FORMATS` describes every input format, the plain tables of :mod:`difficulty.io` included,
with the flags it takes and a five-line example (``difficulty formats`` prints them).
``difficulty.io.load_counts`` chooses among them. Only the standard library and numpy are
imported here; the lighteval reader imports pandas when it reads.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import evalplus, inspect_eval, lighteval, lm_eval, matrix

__all__ = ["FORMATS", "HARNESS", "TABLE_TYPES", "Format", "harness_module", "sniff_harness"]

# the file types of the plain tables (``--format csv`` ...), by extension
TABLE_TYPES = {"csv": "csv", "tsv": "tsv", "txt": "csv", "jsonl": "jsonl", "ndjson": "jsonl", "json": "json",
               "parquet": "parquet", "pq": "parquet"}

HARNESS = {m.NAME: m for m in (lm_eval, evalplus, inspect_eval, lighteval, matrix)}
_ALIASES = {"lm_eval": "lm-eval", "lm-evaluation-harness": "lm-eval", "lmeval": "lm-eval",
            "inspect_ai": "inspect", "inspect-ai": "inspect", "eval": "inspect", "npy": "matrix",
            "scorio": "matrix"}

# options a harness format takes (the Python names of the command line's flags)
OPTIONS = {"lm-eval": ("filter", "metric"), "evalplus": ("evalplus_tests",), "inspect": ("metric",),
           "lighteval": ("metric",), "matrix": ("group_col",)}
FLAGS = {"filter": "--filter", "metric": "--metric", "evalplus_tests": "--evalplus-tests", "group_col": "--group-col",
         "n_col": "--n-col", "c_col": "--c-col", "problem_col": "--problem-col", "outcome_col": "--outcome-col",
         "attempt_col": "--attempt-col"}


def harness_module(name: str | None):
    """The harness module named ``name`` (aliases allowed), or None when it names none."""
    if name is None:
        return None
    key = str(name).strip().lower()
    return HARNESS.get(_ALIASES.get(key, key))


def sniff_harness(path: str) -> list[str]:
    """Names of the harness formats whose layout the file has."""
    found = []
    for name, module in HARNESS.items():
        try:
            ok = module.sniff(path)
        except Exception:  # a sniffer only looks; a file it cannot read is not its format
            ok = False
        if ok:
            found.append(name)
    return found


@dataclass(frozen=True)
class Format:
    """One input format, for ``difficulty formats``: its --format names, what it is, its flags,
    where its layout is defined, and an example of five lines."""

    name: str
    title: str
    flags: str
    source: str
    example: tuple[str, ...]


FORMATS = (
    Format("counts", "a table of counts, one row per problem (--format csv|tsv|jsonl|json|parquet)",
           "--n-col, --c-col, --problem-col, --group-col",
           "difficulty's own (README, Input formats)",
           ("model,problem_idx,num_samples,num_correct",
            "m1,0,100,3",
            "m1,1,100,0",
            "m2,0,100,41",
            "m2,1,100,7")),
    Format("attempts", "one row per attempt: a problem id and a yes/no outcome (--format csv|tsv|jsonl|json|parquet)",
           "--problem-col, --outcome-col, --group-col",
           "difficulty's own (README, Input formats)",
           ('{"task_id": "HumanEval/0", "passed": true}',
            '{"task_id": "HumanEval/0", "passed": false}',
            '{"task_id": "HumanEval/1", "passed": false}',
            '{"task_id": "HumanEval/1", "passed": true}',
            '{"task_id": "HumanEval/1", "passed": false}')),
    Format("outcome-lists", "a list of outcomes per problem, Large Language Monkeys style (--format jsonl|csv|...)",
           "--outcome-col, --problem-col, --group-col",
           "difficulty's own (README, Input formats)",
           ('{"problem": 0, "is_corrects": [true, false, false, true]}',
            '{"problem": 1, "is_corrects": [false, false, false, false]}',
            '{"problem": 2, "is_corrects": [true, true, true, true]}',
            '{"problem": 3, "is_corrects": [false, true, false, false]}',
            '{"problem": 4, "is_corrects": [false, false, true, true]}')),
    Format("curve", "an aggregate pass@k curve, for fit, forecast and invert (--format csv|...)",
           "none",
           "difficulty's own (README, Input formats)",
           ("k,pass_at_k",
            "1,0.149",
            "10,0.491",
            "100,0.761",
            "1000,0.893")),
    Format("lm-eval", "lm-evaluation-harness --log_samples: samples_<task>_<date>.jsonl, a record per document "
           "and filter; with repeats, v0.5 adds scores_per_repeat (each repeat an attempt)",
           "--filter NAME (e.g. strict-match, flexible-extract), --metric NAME (default: the first 0/1 metric)",
           "github.com/EleutherAI/lm-evaluation-harness lm_eval/evaluator.py, lm_eval/loggers/evaluation_tracker.py; "
           "branch next0.5 lm_eval/evaluator_utils.py (scores_per_repeat)",
           ('{"doc_id": 0, "doc": {...}, "target": "18", "arguments": {"gen_args_0": {...}},',
            ' "resps": [["... #### 18", "... #### 16", "... #### 18"]], "filtered_resps": [["18", "16", "18"]],',
            ' "filter": "strict-match", "metrics": ["exact_match"], "doc_hash": "...", "prompt_hash": "...",',
            ' "target_hash": "...", "exact_match": 1.0, "scores_per_repeat": {"exact_match": [1.0, 0.0, 1.0]}}',
            '{"doc_id": 0, ..., "filter": "flexible-extract", ..., "exact_match": 1.0, ...}')),
    Format("evalplus", "evalplus eval_results.json: per task, one record per sample with base_status/plus_status",
           "--evalplus-tests base|plus (default plus: base and plus tests must both pass)",
           "github.com/evalplus/evalplus evalplus/evaluate.py",
           ('{"date": "2025-01-31 12:00", "hash": "...", "eval": {',
            ' "HumanEval/0": [{"task_id": "HumanEval/0", "solution": "...", "base_status": "pass", "plus_status": '
            '"fail", "base_fail_tests": [], "plus_fail_tests": [[0.5]]},',
            '                {"task_id": "HumanEval/0", "solution": "...", "base_status": "pass", "plus_status": '
            '"pass", "base_fail_tests": [], "plus_fail_tests": []}],',
            ' "HumanEval/1": [{"task_id": "HumanEval/1", "solution": "...", "base_status": "fail", ...}, ...]},',
            ' "pass_at_k": {"base": {"pass@1": 0.5}, "plus": {"pass@1": 0.25}}}')),
    Format("inspect", "inspect_ai .eval log (a zip): samples/<id>_epoch_<n>.json with a scores dict",
           "--metric SCORER (default: the first scorer with only C/I or 0/1 values)",
           "github.com/UKGovernmentBEIS/inspect_ai src/inspect_ai/log/_recorders/eval.py, "
           "src/inspect_ai/log/_log.py (EvalSample)",
           ("task.eval (zip): header.json, summaries.json, reductions.json, _journal/start.json, and",
            '  samples/1_epoch_1.json {"id": 1, "epoch": 1, ..., "scores": {"match": {"value": "C", "answer": "5"}}}',
            '  samples/1_epoch_2.json {"id": 1, "epoch": 2, ..., "scores": {"match": {"value": "I", "answer": "6"}}}',
            '  samples/2_epoch_1.json {"id": 2, "epoch": 1, ..., "scores": {"match": {"value": "C", "answer": "9"}}}',
            '  samples/2_epoch_2.json {"id": 2, "epoch": 2, ..., "scores": {"match": {"value": "I", "answer": "7"}}}')),
    Format("lighteval", "lighteval details_<task>_<date>.parquet: a row per document with doc, metric, model_response",
           "--metric NAME (default: avg@n / pass@k:k=1&n=N, whose value x n is c; else the first 0/1 metric)",
           "github.com/huggingface/lighteval src/lighteval/logging/evaluation_tracker.py, "
           "src/lighteval/logging/info_loggers.py (DetailsLogger.Detail)",
           ("details_aime24|0_2025-07-01T12-00-00.parquet, one row per document:",
            '  doc={"query": "...", "choices": ["204"], "gold_index": 0, "id": "0", ...}  '
            'metric={"pass@k:k=1&n=4": 0.5}  model_response={"text": ["..", "..", "..", ".."], ...}',
            '  doc={"query": "...", "choices": ["25"], "gold_index": 0, "id": "1", ...}  '
            'metric={"pass@k:k=1&n=4": 0.0}  model_response={"text": [...], ...}',
            '  doc={"query": "...", "choices": ["7"], "gold_index": 0, "id": "2", ...}  '
            'metric={"pass@k:k=1&n=4": 1.0}  model_response={"text": [...], ...}',
            "  (lighteval <= 0.10: flat columns, with metrics={...} instead of metric)")),
    Format("matrix", "problems x attempts 0/1 matrix (scorio's M x N): .npy (2-D; 3-D = models x problems x "
           "attempts) or .csv/.tsv/.txt without a header or with a header of attempt indices",
           "--group-col model (3-D .npy only)",
           "github.com/mohsenhariri/scorio docs/api/eval.rst, scorio/eval/_inputs.py",
           ("numpy.save('R.npy', R)   # R[i, j] = 1 when attempt j solved problem i; or R.csv:",
            "0,1,2,3",
            "1,0,0,1",
            "0,0,0,0",
            "1,1,0,1")),
)
