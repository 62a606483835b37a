"""inspect_ai ``.eval`` logs: a zip archive (UKGovernmentBEIS/inspect_ai,
``src/inspect_ai/log/_recorders/eval.py``) holding ``header.json``, ``summaries.json``,
``reductions.json``, ``_journal/...`` and one member per sample and epoch,
``samples/<id>_epoch_<epoch>.json`` (or, for a sample stored in chunks,
``samples/<id>_epoch_<epoch>/sample.json``: ``log/_recorders/chunked/format.py``). A sample is an
``EvalSample`` (``log/_log.py``) dumped without null fields::

    {"id": 1, "epoch": 2, "input": "...", "target": "...", "messages": [...], "output": {...},
     "scores": {"match": {"value": "C", "answer": "...", "explanation": "...", "history": []}}, ...}

Score values (``scorer/_metric.py``): "C" correct, "I" incorrect, "P" partial, "N" no answer, or a
number or boolean. "C"/"I"/"N", yes/no, true/false and 0/1 are outcomes (as ``value_to_float`` maps
them); anything else (partial credit) is not. A sample without a score for the scorer (it ended in
an error) is no attempt. A member written twice (a re-logged sample) counts once, as its last copy:
the log's own readers resolve a name to its last entry.
"""
from __future__ import annotations

import json
import re
import zipfile

from ..errors import DifficultyError
from ._util import as01, counts_from_outcomes, names

NAME = "inspect"
_SAMPLE = re.compile(r"^samples/(.+)_epoch_(\d+)(?:\.json|/sample\.json)$")
_WORDS = {"c": 1, "i": 0, "n": 0, "yes": 1, "no": 0, "true": 1, "false": 0}


def sniff(path: str) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        members = zf.namelist()
    return any(m in ("header.json", "_journal/start.json") or _SAMPLE.match(m) for m in members)


def _value(score):
    return score.get("value") if isinstance(score, dict) else score


def _outcome(value) -> int | None:
    if isinstance(value, str):
        return _WORDS.get(value.strip().lower())
    return as01(value)


def load(path: str, *, metric: str | None = None, **_) -> object:
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise DifficultyError(f"{path}: not a zip archive (an inspect .eval log is one)") from None
    samples: dict = {}  # (id, epoch) -> scores
    with zf:
        for member in dict.fromkeys(zf.namelist()):  # zf.read(name) gives a repeated name's last copy
            if not _SAMPLE.match(member):
                continue
            try:
                data = json.loads(zf.read(member))
            except (ValueError, zipfile.BadZipFile) as e:
                raise DifficultyError(f"{path}: member {member} is not readable JSON "
                                      f"({str(e).splitlines()[0]})") from None
            if not isinstance(data, dict) or "id" not in data or "epoch" not in data:
                raise DifficultyError(f"{path}: member {member} is not a sample (it needs 'id' and 'epoch')")
            scores = data.get("scores")
            samples[(str(data["id"]), data["epoch"])] = scores if isinstance(scores, dict) else {}
    if not samples:
        raise DifficultyError(f"{path}: no samples/<id>_epoch_<n>.json in the log "
                              "(was it written with --no-log-samples?)")
    scorers = list(dict.fromkeys(name for scores in samples.values() for name in scores))
    if not scorers:
        raise DifficultyError(f"{path}: no sample has a score")
    if metric is None:
        for name in scorers:
            values = [_value(s[name]) for s in samples.values() if name in s]
            if all(_outcome(v) is not None for v in values):
                metric = name
                break
        else:
            raise DifficultyError(f"{path}: no scorer gives only correct/incorrect values (scorers: {names(scorers)}); "
                                  "choose one with --metric NAME")
    elif metric not in scorers:
        raise DifficultyError(f"{path}: no scorer {metric!r}; its scorers are {names(scorers)}")
    outcomes: dict = {}
    for (sid, epoch), scores in samples.items():
        if metric not in scores:
            continue
        value = _value(scores[metric])
        b = _outcome(value)
        if b is None:
            raise DifficultyError(f"{path}: scorer {metric!r} gives {value!r} for sample {sid!r} epoch {epoch}, "
                                  "not correct/incorrect")
        outcomes.setdefault(sid, []).append(b)
    return counts_from_outcomes(outcomes, path)
