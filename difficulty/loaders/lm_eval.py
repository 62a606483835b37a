"""lm-evaluation-harness ``--log_samples`` output: ``samples_<task>_<date>.jsonl``.

One JSON record per document and filter pipeline (EleutherAI/lm-evaluation-harness,
``lm_eval/evaluator.py`` and ``lm_eval/loggers/evaluation_tracker.py``)::

    {"doc_id": 0, "doc": {...}, "target": "...", "arguments": {"gen_args_0": {...}},
     "resps": [["rep 1", "rep 2", ...]], "filtered_resps": [...], "filter": "strict-match",
     "metrics": ["exact_match"], "doc_hash": "...", "prompt_hash": "...", "target_hash": "...",
     "exact_match": 1.0}

``resps`` holds every repeat (requests x repeats). Up to v0.4 a filter reduces the repeats to one
response (``take_first`` by default), so each metric is one score per document: one attempt. From
v0.5 a record with ``repeats`` > 1 also carries ``scores_per_repeat`` ({metric: [one score per
repeat]}, ``lm_eval/evaluator_utils.py`` on the ``next0.5`` branch), and the top-level metric is
their reduction: the per-repeat scores are the attempts. Before v0.4.7 a record named neither its filter
nor its metrics (``filter`` and ``metrics`` came with PR #2517): such a file is read when its doc_ids
do not repeat (one filter), the metrics being the keys that are not the record's own.
"""
from __future__ import annotations

from ..errors import DifficultyError
from ._util import as01, counts_from_outcomes, first_json_line, json_lines, names

NAME = "lm-eval"
_OWN = ("doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter", "metrics", "doc_hash",
        "prompt_hash", "target_hash", "scores_per_repeat")


def sniff(path: str) -> bool:
    rec = first_json_line(path)
    return (isinstance(rec, dict) and "doc_id" in rec and ("filter" in rec or "doc" in rec)
            and ("resps" in rec or "filtered_resps" in rec))


def _scores(rec: dict, metric: str):
    """The 0/1 attempts of a record for ``metric``: (list, None), or (None, the offending value),
    or (None, KeyError) when the record has no such metric."""
    per_repeat = rec.get("scores_per_repeat")
    if isinstance(per_repeat, dict) and metric in per_repeat:
        values = per_repeat[metric]
        values = values if isinstance(values, list) else [values]
    elif metric in rec and metric not in _OWN:
        values = [rec[metric]]
    else:
        return None, KeyError
    out = []
    for v in values:
        b = as01(v)
        if b is None:
            return None, v
        out.append(b)
    return (out, None) if out else (None, values)


def load(path: str, *, filter: str | None = None, metric: str | None = None, **_) -> object:
    records = []
    for lineno, rec in json_lines(path):
        if not isinstance(rec, dict) or "doc_id" not in rec:
            raise DifficultyError(f"{path}: line {lineno} is not an lm-eval sample record (it has no 'doc_id')")
        records.append((lineno, rec))
    if not records:
        raise DifficultyError(f"{path}: the file is empty")

    unnamed = [ln for ln, rec in records if "filter" not in rec]
    if unnamed:  # written before lm-eval v0.4.7: one filter, or filters that cannot be told apart
        if len(unnamed) < len(records):
            raise DifficultyError(f"{path}: line {unnamed[0]} names no filter, other records do")
        seen: dict = {}
        for ln, rec in records:
            key = str(rec["doc_id"])
            if key in seen:
                raise DifficultyError(f"{path}: doc_id {key!r} is on lines {seen[key]} and {ln}, and the records name "
                                      "no filter (lm-eval before v0.4.7): keep the records of one filter")
            seen[key] = ln
        if filter is not None:
            raise DifficultyError(f"{path}: its records name no filter (lm-eval before v0.4.7); drop --filter")
        records = [(ln, dict(rec, filter="none")) for ln, rec in records]

    filters = list(dict.fromkeys(str(rec["filter"]) for _, rec in records))
    if filter is None:
        if len(filters) > 1:
            raise DifficultyError(f"{path}: the file holds {len(filters)} filters ({names(filters)}); "
                                  "choose one with --filter NAME")
        filter = filters[0]
    elif filter not in filters:
        raise DifficultyError(f"{path}: no filter {filter!r}; its filters are {names(filters)}")
    chosen = [(ln, rec) for ln, rec in records if str(rec["filter"]) == filter]

    candidates: dict[str, None] = {}
    for _, rec in chosen:
        per_repeat = rec.get("scores_per_repeat")
        if isinstance(per_repeat, dict):
            candidates.update(dict.fromkeys(map(str, per_repeat)))
        if isinstance(rec.get("metrics"), list):
            candidates.update(dict.fromkeys(map(str, rec["metrics"])))
        else:  # before v0.4.7: the metric values are the keys that are not the record's own
            candidates.update(dict.fromkeys(str(k) for k in rec if k not in _OWN))
    if metric is None:
        # pass@k, maj@k and the like reduce several attempts to one number: never a default
        for name in candidates:
            if "@" not in name and all(_scores(rec, name)[0] is not None for _, rec in chosen):
                metric = name
                break
        else:
            raise DifficultyError(f"{path}: no metric scores every document 0 or 1 under filter {filter!r} "
                                  f"(metrics: {names(candidates) or 'none'}); choose one with --metric NAME")

    outcomes: dict = {}
    for ln, rec in chosen:
        scores, bad = _scores(rec, metric)
        if scores is None:
            if bad is KeyError:
                raise DifficultyError(f"{path}: line {ln} (doc_id {rec['doc_id']!r}) has no metric {metric!r}; "
                                      f"metrics are {names(candidates)}")
            raise DifficultyError(f"{path}: line {ln} (doc_id {rec['doc_id']!r}): metric {metric!r} is {bad!r}, "
                                  "not a 0/1 outcome")
        key = str(rec["doc_id"])
        if key in outcomes:
            raise DifficultyError(f"{path}: doc_id {key!r} appears twice under filter {filter!r} (line {ln})")
        outcomes[key] = scores
    return counts_from_outcomes(outcomes, path)
