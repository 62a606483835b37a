"""lighteval details: ``details/<model>/<date>/details_<task>_<date>.parquet`` (huggingface/lighteval,
``src/lighteval/logging/evaluation_tracker.py``, ``save_details``), one row per document.

Since lighteval v0.11 (``logging/info_loggers.py``, ``DetailsLogger.Detail``) a row has three struct
columns: ``doc`` (``tasks/requests.py`` ``Doc``: query, choices, gold_index, id, task_name, ...),
``model_response`` (``models/model_output.py`` ``ModelResponse``: text = one string per sample, ...)
and ``metric`` ({metric name: value}). Up to v0.10 a row had flat columns (``example``,
``predictions``, ``gold``, ..., ``metrics`` = {metric name: value}, ``specifics``).

The attempts of a document: a sampling metric over n samples whose value is c/n
(``avg@n:n=N``, ``pass@k:k=1&n=N``; up to v0.10 ``...pass@1:N_samples``) gives N = n and
c = value x n; any other metric with values 0/1 is one attempt. Metrics that reduce several samples
to one number otherwise (``pass@k`` with k > 1, ``maj@n``, ``g-pass@k``) are never chosen by default.
"""
from __future__ import annotations

import re

from ..errors import DifficultyError
from ._util import as01, counts_from_outcomes, extension, names

NAME = "lighteval"
NEW = ("doc", "metric", "model_response")
_OLD_PASS1 = re.compile(r".*pass@1:(\d+)_samples")


def _columns(path: str):
    import pyarrow.parquet as pq

    return set(pq.read_schema(path).names)


def sniff(path: str) -> bool:
    if extension(path) not in ("parquet", "pq"):
        with open(path, "rb") as fh:
            if fh.read(4) != b"PAR1":
                return False
    try:
        cols = _columns(path)
    except ImportError:
        return False
    return set(NEW) <= cols or ("metrics" in cols and ("predictions" in cols or "full_prompt" in cols))


def _params(name: str) -> tuple[str, dict]:
    """'pass@k:k=1&n=4' -> ('pass@k', {'k': '1', 'n': '4'}); names without parameters give {}."""
    base, sep, rest = name.partition(":")
    if not sep or "=" not in rest:
        return name, {}
    params = {}
    for part in rest.split("&"):
        key, eq, value = part.partition("=")
        if not eq:
            return name, {}
        params[key.strip()] = value.strip()
    return base, params


def _samples_of(name: str):
    """How a metric counts attempts: ('n', N) for c/N over N samples, ('text', None) for c/N over
    the samples in model_response.text, ('one', None) for a 0/1 value, or None (never by default)."""
    base, params = _params(name)
    m = _OLD_PASS1.fullmatch(name)
    if m:
        return "n", int(m.group(1))
    if base.endswith("avg@n") and params.get("n", "").isdigit():
        return "n", int(params["n"])
    if base.endswith("pass@k") and params.get("k") == "1":
        return ("n", int(params["n"])) if params.get("n", "").isdigit() else ("text", None)
    if "@" in name:
        return None
    return "one", None


def _count(value, how, n_text):
    """(N, c) of one document, or None when the value does not give whole counts."""
    kind, n = how
    if kind == "one":
        b = as01(value)
        return None if b is None else (1, b)
    n = n_text if kind == "text" else n
    if not n or value is None:
        return None
    try:
        c = float(value) * n
    except (TypeError, ValueError):
        return None
    if not (c == c) or abs(c - round(c)) > 1e-6 * max(1, n) or not 0 <= round(c) <= n:
        return None
    return n, int(round(c))


def load(path: str, *, metric: str | None = None, **_) -> object:
    import pandas as pd

    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise DifficultyError(f"{path}: reading Parquet needs pyarrow (pip install 'difficulty[parquet]')") from None
    try:
        df = pd.read_parquet(path)
    except Exception as e:  # pyarrow raises many types for a bad file
        raise DifficultyError(f"{path}: not a readable Parquet file "
                              f"({type(e).__name__}: {str(e).splitlines()[0]})") from None
    cols = set(map(str, df.columns))
    new = set(NEW) <= cols
    if not new and "metrics" not in cols:
        raise DifficultyError(f"{path}: not a lighteval details file (no 'metric' or 'metrics' column; "
                              f"columns are {names(sorted(cols))})")
    if df.shape[0] == 0:
        raise DifficultyError(f"{path}: no rows")
    rows = df["metric" if new else "metrics"].tolist()
    for i, r in enumerate(rows):
        if not isinstance(r, dict):
            raise DifficultyError(f"{path}: row {i + 1} has no metrics ({r!r})")
    texts = [None] * len(rows)
    if new:
        texts = [r.get("text") if isinstance(r, dict) else None for r in df["model_response"].tolist()]
    n_text = [len(t) if t is not None else 0 for t in texts]

    candidates = list(dict.fromkeys(str(k) for r in rows for k in r))
    if metric is None:
        found = None
        for kinds in (("n", "text"), ("one",)):  # metrics over n samples first: they hold more attempts
            for name in candidates:
                how = _samples_of(name)
                if how is not None and how[0] in kinds and all(
                        _count(r.get(name), how, nt) is not None for r, nt in zip(rows, n_text)):
                    found = name
                    break
            if found:
                break
        if found is None:
            raise DifficultyError(f"{path}: no metric gives whole counts of successes (metrics: {names(candidates)}); "
                                  "choose one with --metric NAME")
        metric = found
    elif metric not in candidates:
        raise DifficultyError(f"{path}: no metric {metric!r}; its metrics are {names(candidates)}")
    how = _samples_of(metric) or ("one", None)

    if new:
        docs = df["doc"].tolist()
        ids = [str(d["id"]) if isinstance(d, dict) and d.get("id") not in (None, "") else str(i)
               for i, d in enumerate(docs)]
    else:
        ids = [str(i) for i in range(len(rows))]
    outcomes = {}
    for i, (r, nt) in enumerate(zip(rows, n_text)):
        nc = _count(r.get(metric), how, nt)
        if nc is None:
            what = "a 0/1 outcome" if how[0] == "one" else "a whole number of successes out of its samples"
            raise DifficultyError(f"{path}: row {i + 1} (doc id {ids[i]!r}): {metric!r} is {r.get(metric)!r}, "
                                  f"not {what}")
        n, c = nc
        if ids[i] in outcomes:
            raise DifficultyError(f"{path}: doc id {ids[i]!r} appears twice (row {i + 1})")
        outcomes[ids[i]] = [1] * c + [0] * (n - c)
    return counts_from_outcomes(outcomes, path)
