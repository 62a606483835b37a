"""evalplus ``eval_results.json`` (evalplus/evalplus, ``evalplus/evaluate.py``).

Since evalplus v0.2 (February 2024)::

    {"date": "...", "hash": "...",
     "eval": {"HumanEval/0": [{"task_id": ..., "solution": ..., "base_status": "pass",
                               "plus_status": "fail", "base_fail_tests": [], "plus_fail_tests": [...]},
                              ...one record per sample...]},
     "pass_at_k": {"base": {...}, "plus": {...}}}

Statuses are "pass", "fail", "timeout" or null (``evalplus/eval/__init__.py``); ``plus_status`` is
null when evaluated with ``--base-only``. As in evalplus's own pass@k, a sample passes the base tests
when ``base_status == "pass"`` and the base + plus tests when both statuses are "pass".
Earlier releases wrote ``{"nfiles": n, "base": [[status, details], ...], "plus": [...]}`` per task;
that layout is read too.
"""
from __future__ import annotations

import re

from ..errors import DifficultyError
from ._util import counts_from_outcomes, extension, head_text, load_json

NAME = "evalplus"
TESTS = ("base", "plus")
_STATUSES = ("pass", "fail", "timeout", None)


def sniff(path: str) -> bool:
    if extension(path) != "json":
        return False
    head = head_text(path)
    return (re.match(r"\s*\{", head) is not None and re.search(r'"eval"\s*:\s*\{', head) is not None
            and ('"base_status"' in head or '"nfiles"' in head))


def _statuses(task_id, entries, path):
    """([base status per sample], [plus status per sample, None when absent])."""
    if isinstance(entries, list):
        base, plus = [], []
        for i, rec in enumerate(entries):
            if not isinstance(rec, dict) or "base_status" not in rec:
                raise DifficultyError(f"{path}: sample {i + 1} of {task_id!r} has no 'base_status'")
            base.append(rec["base_status"])
            plus.append(rec.get("plus_status"))
        return base, plus
    if isinstance(entries, dict) and isinstance(entries.get("base"), list):  # before evalplus v0.2
        def first(x):
            return x[0] if isinstance(x, (list, tuple)) and x else x

        base = [first(x) for x in entries["base"]]
        plus_list = entries.get("plus") or []
        plus = [first(x) for x in plus_list] if len(plus_list) == len(base) else [None] * len(base)
        return base, plus
    raise DifficultyError(f"{path}: eval[{task_id!r}] is neither a list of sample records nor "
                          "{'base': [...], 'plus': [...]}")


def load(path: str, *, evalplus_tests: str | None = None, **_) -> object:
    data = load_json(path, "an evalplus eval_results.json")
    ev = data.get("eval") if isinstance(data, dict) else None
    if not isinstance(ev, dict) or not ev:
        raise DifficultyError(f"{path}: not an evalplus eval_results.json (no 'eval' mapping of task ids "
                              "to sample records)")
    if evalplus_tests is not None and evalplus_tests not in TESTS:
        raise DifficultyError(f"--evalplus-tests must be 'base' or 'plus', got {evalplus_tests!r}")
    statuses = {task_id: _statuses(task_id, entries, path) for task_id, entries in ev.items()}
    for task_id, (base, plus) in statuses.items():
        for which, column in (("base", base), ("plus", plus)):
            for i, s in enumerate(column):
                if s not in _STATUSES:
                    raise DifficultyError(f"{path}: sample {i + 1} of {task_id!r} has {which} status {s!r}; "
                                          "expected 'pass', 'fail', 'timeout' or null")
    has_plus = {task_id: any(s is not None for s in plus) for task_id, (_, plus) in statuses.items()}
    tests = evalplus_tests or ("plus" if any(has_plus.values()) else "base")
    if tests == "plus":
        missing = [t for t, ok in has_plus.items() if not ok]
        if missing:
            raise DifficultyError(f"{path}: {missing[0]!r} has no plus-test results (evaluated with --base-only?); "
                                  "use --evalplus-tests base")
    outcomes = {}
    for task_id, (base, plus) in statuses.items():
        if tests == "base":
            outcomes[task_id] = [int(b == "pass") for b in base]
        else:
            outcomes[task_id] = [int(b == "pass" and p == "pass") for b, p in zip(base, plus)]
    return counts_from_outcomes(outcomes, path)
