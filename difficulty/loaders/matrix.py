"""Problems x attempts 0/1 matrices, in the convention of the scorio library (mohsenhariri/scorio,
``docs/api/eval.rst``: "R is an M x N matrix, where rows are questions and columns are sampled
trials"; ``scorio/eval/_inputs.py`` takes boolean arrays, and integer or float arrays whose entries
are 0 or 1; ``docs/api/rank.rst``: L models x M questions x N trials for rankings).

* ``.npy``: a 2-D array (rows = problems), or a 3-D array models x problems x attempts, read with
  ``numpy.load(allow_pickle=False)``; a 3-D array is reported per model (``--group-col model``).
* ``.csv`` / ``.tsv`` / ``.txt``: one row per problem, one cell per attempt, with no header or a
  header row of attempt indices (0..N-1 or 1..N, as ``pandas.DataFrame(R).to_csv(index=False)``
  writes it). A header whose first cell is empty (``to_csv()`` with its index) makes the first
  column the problem ids. Cells are 0/1 in any numeric spelling (``numpy.savetxt`` writes
  1.000000000000000000e+00) or true/false; cells are separated by commas, tabs or, in a file
  with neither, spaces (``numpy.savetxt``'s default). A header "0,1" (two attempts) cannot be told
  from a row of outcomes and is read as one.
"""
from __future__ import annotations

import numpy as np

from ..counts import EvalCounts
from ..errors import DifficultyError
from ._util import extension

NAME = "matrix"
_MAGIC = b"\x93NUMPY"
_TRUE, _FALSE = {"true", "t"}, {"false", "f"}


def _is_npy(path: str) -> bool:
    with open(path, "rb") as fh:
        return fh.read(len(_MAGIC)) == _MAGIC


def _cell(text: str) -> int | None:
    t = text.strip().lower()
    if t in _TRUE:
        return 1
    if t in _FALSE:
        return 0
    try:
        v = float(t)
    except ValueError:
        return None
    return int(v) if v in (0.0, 1.0) else None


def _split(line: str, sep: str | None) -> list[str]:
    cells = line.split(sep) if sep else line.split()
    return [c.strip().strip('"') for c in cells]


def _separator(path: str, first: str) -> str | None:
    if extension(path) == "tsv" or "\t" in first:
        return "\t"
    return "," if "," in first else None


def _header(cells: list[str]) -> str | None:
    """'attempts' for a header of attempt indices, 'indexed' for one after an empty index cell."""
    def indices(cs):
        try:
            ints = [int(c) for c in cs]
        except ValueError:
            return False
        n = len(ints)
        return n > 0 and ints in (list(range(n)), list(range(1, n + 1))) and not all(i in (0, 1) for i in ints)

    if len(cells) > 1 and cells[0] == "" and (indices(cells[1:]) or [_cell(c) for c in cells[1:]] in
                                               ([0], [1], [0, 1])):
        return "indexed"
    return "attempts" if indices(cells) else None


def _csv_rows(path: str, limit: int | None = None):
    """(header kind, [(line number, cells)]) of a text matrix; at most ``limit`` data rows."""
    rows = []
    header = sep = None
    first = True
    with open(path, encoding="utf-8-sig") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            if first:
                first = False
                sep = _separator(path, line)
                header = _header(_split(line, sep))
                if header:
                    continue
            rows.append((lineno, _split(line, sep)))
            if limit is not None and len(rows) >= limit:
                break
    return header, rows


def sniff(path: str) -> bool:
    if extension(path) == "npy" or _is_npy(path):
        return _is_npy(path)
    if extension(path) not in ("csv", "tsv", "txt"):
        return False
    header, rows = _csv_rows(path, limit=50)
    if not rows:
        return False
    skip = 1 if header == "indexed" else 0  # rows of unequal length are still a matrix: its reader says where
    return all(len(cells) > skip and all(_cell(c) is not None for c in cells[skip:]) for _, cells in rows)


def _check01(arr: np.ndarray, path: str) -> np.ndarray:
    if arr.dtype.kind == "b":
        return arr.astype(np.int64)
    if arr.dtype.kind not in "iuf":
        raise DifficultyError(f"{path}: the array holds {arr.dtype} values, not 0/1 outcomes")
    bad = ~np.isin(arr, (0, 1))
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        label = ("model {}, " if arr.ndim == 3 else "") + "problem {}, attempt {}"
        raise DifficultyError(f"{path}: {label.format(*where)} (from 0) is {arr[where]!r}, not 0 or 1")
    return arr.astype(np.int64)


def _load_npy(path: str, group_col) -> EvalCounts:
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as e:
        raise DifficultyError(f"{path}: not a numeric .npy array ({str(e).splitlines()[0]})") from None
    except OSError as e:
        raise DifficultyError(f"{path}: not a readable .npy file ({str(e).splitlines()[0]})") from None
    if not isinstance(arr, np.ndarray):
        raise DifficultyError(f"{path}: holds several arrays (.npz); save one problems x attempts array with np.save")
    if arr.ndim not in (2, 3):
        raise DifficultyError(f"{path}: a {arr.ndim}-D array of shape {arr.shape}; expected problems x attempts "
                              "(2-D) or models x problems x attempts (3-D)")
    if 0 in arr.shape:
        raise DifficultyError(f"{path}: the array of shape {arr.shape} is empty")
    arr = _check01(arr, path)
    if arr.ndim == 2:
        return EvalCounts(np.full(arr.shape[0], arr.shape[1]), arr.sum(axis=1), source=path)
    if group_col is None:
        raise DifficultyError(f"{path}: a 3-D array of {arr.shape[0]} models x {arr.shape[1]} problems x "
                              f"{arr.shape[2]} attempts; pass --group-col model to report each model")
    L, M, N = arr.shape
    return EvalCounts(np.full(L * M, N), arr.sum(axis=2).ravel(),
                      problem=np.tile(np.arange(M).astype(str).astype(object), L),
                      group=np.repeat(np.arange(L).astype(str).astype(object), M), source=path)


def _load_text(path: str) -> EvalCounts:
    header, rows = _csv_rows(path)
    if not rows:
        raise DifficultyError(f"{path}: the file is empty" if header is None else f"{path}: a header and no rows")
    skip = 1 if header == "indexed" else 0
    width = len(rows[0][1])
    if width <= skip:
        raise DifficultyError(f"{path}: line {rows[0][0]} has no attempts")
    n, c, problem = [], [], []
    for lineno, cells in rows:
        if len(cells) != width:
            raise DifficultyError(f"{path}: line {lineno} has {len(cells)} cells, line {rows[0][0]} has {width}")
        values = [_cell(x) for x in cells[skip:]]
        for j, v in enumerate(values):
            if v is None:
                raise DifficultyError(f"{path}: line {lineno}, attempt {j + 1} is {cells[skip + j]!r}, not 0 or 1")
        n.append(len(values))
        c.append(sum(values))
        if skip:
            problem.append(cells[0])
    try:
        return EvalCounts(np.array(n), np.array(c), problem=np.array(problem, dtype=object) if skip else None,
                          source=path)
    except DifficultyError as e:
        raise DifficultyError(f"{path}: {e}") from None


def load(path: str, *, group_col=None, **_) -> EvalCounts:
    if extension(path) == "npy" or _is_npy(path):
        return _load_npy(path, group_col)
    return _load_text(path)
