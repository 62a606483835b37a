"""Per-attempt data in a known order, where sampling may stop on a success (best-of-N jailbreaking,
Hughes et al. 2024: batches of attempts until a batch holds a success).

Each problem's outcomes x_1, ..., x_N are read in attempt order: its first success time T (the index of
the first success) or, with none, T > N (right-censored). Under q the probability of the observed
sequence is

    P(x_1..x_N | q) = q^c (1 - q)^(N - c)

whatever rule chose N from the outcomes seen so far (a stopping rule that looks only at past outcomes
is ignorable for the likelihood). So the Beta-geometric likelihood of first-success times, censored or
not, equals the (zero-inflated) beta-binomial likelihood of the counts (N, c) up to a constant, and every
fit of :mod:`difficulty.fit` applies unchanged:

    P(T = t) = E[q (1 - q)^(t - 1)] = P(c = 1 | N = t) / t,      P(T > N) = E[(1 - q)^N] = P(c = 0 | N)

What stopping breaks is the unbiased pass@k estimator: N_i is not fixed in advance, and for k > N_i
there is no estimate at all (its ``n - c < k`` branch returns 1 for a problem stopped at its first
success). pass@k beyond a problem's own N is therefore forecast from a fitted model
(:mod:`difficulty.forecast`); :func:`difficulty.passk.estimate_pass_at_k` refuses k > N_i and warns on
sequential data.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .counts import EvalCounts
from .errors import DifficultyError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SequentialData", "sequential_from_frame", "ATTEMPT_INDEX_COLUMNS"]

ATTEMPT_INDEX_COLUMNS = ("attempt", "attempt_idx", "attempt_index", "sample_idx", "sample_index", "sample_id",
                         "attempt_id", "trial")


@dataclass(frozen=True)
class SequentialData:
    """Counts read from ordered attempts, with each problem's first success time (0 where censored)."""

    counts: EvalCounts
    first_success: np.ndarray  # attempt number (1-based) of the first success; 0 when there was none
    censored: np.ndarray  # no success in the N attempts made

    def to_frame(self):
        return self.counts.to_frame().assign(first_success=self.first_success, censored=self.censored)


def sequential_from_frame(df: pd.DataFrame, problem_col, attempt_col, outcomes: np.ndarray, group_col=None,
                          source: str = "<frame>") -> SequentialData:
    """Counts and first success times from per-attempt rows: ``outcomes`` (booleans, one per row) ordered
    within each problem by ``attempt_col``; a repeated (problem, attempt) pair is refused by row."""
    import pandas as pd

    att = pd.to_numeric(df[attempt_col], errors="coerce")
    bad = np.flatnonzero(att.isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        raise DifficultyError(f"{source}: row {i + 1} of column {attempt_col!r} is {df[attempt_col].iloc[i]!r}, "
                              "not an attempt number")
    keys = [problem_col] if group_col is None else [group_col, problem_col]
    frame = df[keys].astype(str).assign(_att=att.to_numpy(), _ok=np.asarray(outcomes, dtype=bool),
                                        _row=np.arange(len(df)))
    dup = frame.duplicated(keys + ["_att"], keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise DifficultyError(f"{source}: row {i + 1} repeats attempt {frame['_att'].iloc[i]:g} of problem "
                              f"{frame[problem_col].iloc[i]!r}")
    frame = frame.sort_values(keys + ["_att"], kind="stable")
    frame["_pos"] = frame.groupby(keys, sort=False).cumcount() + 1
    frame["_first"] = np.where(frame["_ok"], frame["_pos"], np.iinfo(np.int64).max)
    agg = frame.groupby(keys, sort=False).agg(n=("_ok", "size"), c=("_ok", "sum"), first=("_first", "min"),
                                              row=("_row", "min")).sort_values("row")
    first = agg["first"].to_numpy()
    censored = agg["c"].to_numpy() == 0
    counts = EvalCounts(agg["n"].to_numpy(), agg["c"].to_numpy(), problem=agg.index.get_level_values(problem_col)
                        .to_numpy(dtype=object), group=None if group_col is None
                        else agg.index.get_level_values(group_col).to_numpy(dtype=object),
                        source=source, stopping="sequential")
    return SequentialData(counts, np.where(censored, 0, first).astype(np.int64), censored)
