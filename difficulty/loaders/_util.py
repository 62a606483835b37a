"""What the harness loaders share: 0/1 outcomes, JSON lines, and counts built from per-problem outcomes."""
from __future__ import annotations

import json
import math
import os

import numpy as np

from ..counts import EvalCounts
from ..errors import DifficultyError


def extension(path: str) -> str:
    return os.path.splitext(str(path))[1].lstrip(".").lower()


def as01(v) -> int | None:
    """1 or 0 for a boolean or a number equal to 1 or 0 (1.0 and 0.0 included), else None."""
    if isinstance(v, (bool, np.bool_)):
        return int(bool(v))
    if isinstance(v, (int, float, np.integer, np.floating)):
        f = float(v)
        if math.isfinite(f) and f in (0.0, 1.0):
            return int(f)
    return None


def head_text(path: str, size: int = 1 << 20) -> str:
    """The first ``size`` bytes of a file as text (undecodable bytes replaced)."""
    with open(path, "rb") as fh:
        return fh.read(size).decode("utf-8", errors="replace")


def first_json_line(path: str):
    """The first non-blank line of a file parsed as JSON, or None."""
    with open(path, "rb") as fh:
        for raw in fh:
            line = raw.strip()
            if line:
                try:
                    return json.loads(line)
                except ValueError:
                    return None
    return None


def json_lines(path: str):
    """(line number, object) for every non-blank line of a JSON-lines file, one-line errors otherwise."""
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise DifficultyError(f"{path}: malformed JSON on line {lineno}: {e.msg}") from None
            yield lineno, rec


def load_json(path: str, what: str):
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    if not text.strip():
        raise DifficultyError(f"{path}: the file is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DifficultyError(f"{path}: malformed JSON at line {e.lineno} (expected {what}): {e.msg}") from None


def counts_from_outcomes(outcomes: dict, path: str, group=None) -> EvalCounts:
    """EvalCounts from {problem id: list of 0/1 outcomes} (insertion order kept)."""
    if not outcomes:
        raise DifficultyError(f"{path}: no problems with outcomes")
    problem = [str(p) for p in outcomes]
    n = [len(v) for v in outcomes.values()]
    c = [int(sum(v)) for v in outcomes.values()]
    try:
        return EvalCounts(np.array(n), np.array(c), problem=np.array(problem, dtype=object), group=group,
                          source=path)
    except DifficultyError as e:
        msg = str(e)
        raise DifficultyError(msg if msg.startswith(str(path)) else f"{path}: {msg}") from None


def names(items) -> str:
    """A short, one-line list of names for an error message."""
    items = [str(x) for x in items]
    shown = ", ".join(repr(x) for x in items[:12])
    return shown + (f" and {len(items) - 12} more" if len(items) > 12 else "")
