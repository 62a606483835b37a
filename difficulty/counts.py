"""Per-problem evaluation results: attempts N_i and successes c_i, validated once.

Every analysis depends on the data only through the histogram of (N_i, c_i) (the
sufficient statistic of a binomial mixture), so :meth:`EvalCounts.histogram` is the form
the numerical code works on.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import DifficultyError

__all__ = ["EvalCounts", "CountHistogram", "unique_pairs"]


@dataclass(frozen=True)
class CountHistogram:
    """Distinct (N, c) pairs and how many problems share each pair."""

    n: np.ndarray
    c: np.ndarray
    weight: np.ndarray
    inverse: np.ndarray  # problem i has pair inverse[i]

    @property
    def n_problems(self) -> int:
        return int(self.weight.sum())


def unique_pairs(a: np.ndarray, b: np.ndarray):
    """Distinct (a_i, b_i) pairs of non-negative integers: (first index, inverse, counts)."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    span = int(b.max()) + 1 if b.size else 1
    if a.size and int(a.max()) < 2**62 // span:
        _, first, inverse, counts = np.unique(a * span + b, return_index=True, return_inverse=True,
                                              return_counts=True)
    else:
        _, first, inverse, counts = np.unique(np.stack([a, b], axis=1), axis=0, return_index=True,
                                              return_inverse=True, return_counts=True)
    return first, inverse.ravel(), counts


def _as_count_array(values, name: str, problem=None) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise DifficultyError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iuf":
        try:
            arr = arr.astype(float)
        except (TypeError, ValueError):
            bad = next(i for i, v in enumerate(arr) if not _is_number(v))
            raise DifficultyError(
                f"{name} of {_where(bad, problem)} is {arr[bad]!r}, not a number"
            ) from None
    if arr.dtype.kind == "f":
        nan = np.flatnonzero(~np.isfinite(arr))
        if nan.size:
            raise DifficultyError(f"{name} of {_where(nan[0], problem)} is {arr[nan[0]]} (missing or not finite)")
        frac = np.flatnonzero(arr != np.round(arr))
        if frac.size:
            raise DifficultyError(f"{name} of {_where(frac[0], problem)} is {arr[frac[0]]}, not a whole number")
        if np.any(np.abs(arr) > 2.0**53):
            bad = np.flatnonzero(np.abs(arr) > 2.0**53)[0]
            raise DifficultyError(f"{name} of {_where(bad, problem)} is too large ({arr[bad]:g})")
    arr = arr.astype(np.int64)
    neg = np.flatnonzero(arr < 0)
    if neg.size:
        raise DifficultyError(f"{name} of {_where(neg[0], problem)} is negative ({arr[neg[0]]})")
    return arr


def _is_number(v) -> bool:
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False


def _where(i: int, problem=None) -> str:
    if problem is not None:
        return f"problem {problem[i]!r} (row {i + 1})"
    return f"row {i + 1}"


@dataclass(frozen=True)
class EvalCounts:
    """Attempts ``n`` and successes ``c`` per problem, with optional ids and groups.

    Arrays are copied and made read-only: nothing the caller passed is modified, and
    nothing downstream can modify the data either.
    """

    n: np.ndarray
    c: np.ndarray
    problem: np.ndarray | None = None
    group: np.ndarray | None = None
    source: str = field(default="<memory>", compare=False)
    # "sequential": read from per-attempt rows in a known order, where sampling may have stopped on a
    # success (best-of-N); the likelihood is unchanged (ignorable stopping) but pass@k for k > N_i is
    # forecast only, and the unbiased estimator's premise (a fixed N) may not hold
    stopping: str = field(default="fixed", compare=False)

    def __post_init__(self):
        problem = None if self.problem is None else np.asarray(self.problem, dtype=object).copy()
        n = _as_count_array(self.n, "attempts (N)", problem)
        c = _as_count_array(self.c, "successes (c)", problem)
        if n.shape != c.shape:
            raise DifficultyError(f"attempts and successes differ in length ({n.size} vs {c.size})")
        if n.size == 0:
            raise DifficultyError(f"{self.source}: no problems (the data are empty)")
        zero = np.flatnonzero(n == 0)
        if zero.size:
            raise DifficultyError(f"attempts (N) of {_where(zero[0], problem)} is 0: "
                                  "every problem needs at least one attempt")
        over = np.flatnonzero(c > n)
        if over.size:
            i = over[0]
            raise DifficultyError(f"successes c={c[i]} exceed attempts N={n[i]} for {_where(i, problem)}")
        group = None if self.group is None else np.asarray(self.group, dtype=object).copy()
        for arr, name in ((problem, "problem ids"), (group, "groups")):
            if arr is not None and arr.shape != n.shape:
                raise DifficultyError(f"{name} differ in length from the counts ({arr.size} vs {n.size})")
        if problem is not None:
            keys = list(zip(group, problem)) if group is not None else list(problem)
            seen: dict = {}
            for i, key in enumerate(keys):
                if key in seen:
                    where = f" in group {key[0]!r}" if group is not None else ""
                    pid = key[1] if group is not None else key
                    raise DifficultyError(
                        f"duplicate problem id {pid!r}{where} (rows {seen[key] + 1} and {i + 1})"
                    )
                seen[key] = i
        for name, arr in (("n", n), ("c", c), ("problem", problem), ("group", group)):
            if arr is not None:
                arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    def __len__(self) -> int:
        return int(self.n.size)

    @property
    def n_problems(self) -> int:
        return len(self)

    def histogram(self) -> CountHistogram:
        """The sufficient statistic: distinct (N, c) pairs with their multiplicities."""
        first, inverse, weight = unique_pairs(self.n, self.c)
        return CountHistogram(self.n[first].copy(), self.c[first].copy(), weight, inverse)

    def groups(self) -> dict[str, EvalCounts]:
        """Split by group, in order of first appearance; one entry named 'all' if ungrouped."""
        if self.group is None:
            return {"all": self}
        out = {}
        names = list(dict.fromkeys(self.group.tolist()))
        for name in names:
            mask = self.group == name
            out[str(name)] = self.select(mask)
        return out

    def select(self, mask) -> EvalCounts:
        mask = np.asarray(mask)
        return EvalCounts(
            self.n[mask], self.c[mask],
            None if self.problem is None else self.problem[mask],
            None, self.source, self.stopping,
        )

    @property
    def problem_ids(self) -> np.ndarray:
        return self.problem if self.problem is not None else np.arange(len(self)).astype(object)

    def to_frame(self):
        import pandas as pd

        data = {"problem": self.problem_ids, "n": self.n, "c": self.c}
        if self.group is not None:
            data = {"group": self.group, **data}
        return pd.DataFrame(data)
