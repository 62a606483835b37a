"""The pandas-first entry point: :func:`analyze` a DataFrame of results, get frozen summaries back.

Example::

    >>> import pandas as pd, difficulty
    >>> df = pd.DataFrame({"model": ["a"] * 40, "task": range(40), "n": 50,
    ...                    "c": [0] * 15 + [1] * 10 + [5] * 10 + [30] * 5})
    >>> res = difficulty.analyze(df, group="model", problem="task", n="n", c="c")   # doctest: +SKIP
    >>> res["a"].data["forecast"]["pass_at_k"][:3]                                   # doctest: +SKIP
    >>> res["a"].posterior            # arviz InferenceData of the zero-inflated Beta posterior   # doctest: +SKIP
    >>> res["a"].ranked.head()        # the ranked problems, a DataFrame                        # doctest: +SKIP

The numbers are those of ``difficulty analyze`` (the same core, :func:`difficulty.summary.summarize_group`,
with the same defaults); nothing is written to disk.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import DifficultyError

__all__ = ["analyze", "Analysis", "counts_from_dataframe"]


@dataclass(frozen=True)
class Analysis:
    """The analysis of every group: ``groups`` maps each group's name to its frozen
    :class:`~difficulty.summary.GroupSummary` (``data``: JSON-able numbers; ``posterior``: arviz
    InferenceData; ``ranked``: a DataFrame). ``analysis[name]`` is one group; "all" without groups.
    ``joint``: the joint fit over the groups, when asked for."""

    groups: dict
    counts: object = field(repr=False)
    options: dict = field(default_factory=dict)
    joint: object = field(default=None, repr=False)  # the JointFit when analysed with joint=True

    def __getitem__(self, name):
        try:
            return self.groups[name]
        except KeyError:
            raise KeyError(f"no group {name!r}; groups are {list(self.groups)}") from None

    def __iter__(self):
        return iter(self.groups)

    def __len__(self):
        return len(self.groups)

    def __repr__(self):
        names = ", ".join(map(str, self.groups))
        return f"Analysis({len(self.groups)} group(s): {names}; {self.counts.n_problems} problems)"

    @property
    def posteriors(self) -> dict:
        """{group: arviz InferenceData} of the zero-inflated Beta posteriors (None where a group had no fit)."""
        return {name: g.posterior for name, g in self.groups.items()}

    def to_dict(self) -> dict:
        return {"options": dict(self.options), "groups": {name: g.data for name, g in self.groups.items()}}


def counts_from_dataframe(df, *, group=None, problem=None, n=None, c=None, outcome=None, attempt=None):
    """Validated counts from a DataFrame: per-problem counts (``n``, ``c``), or per-attempt outcomes
    (``outcome``; with ``attempt``, read in attempt order as sequential data). Columns not named are
    recognised by name as on the command line; a named column that is missing is a one-line error."""
    import pandas as pd

    from .io import counts_from_frame

    if not isinstance(df, pd.DataFrame):
        raise DifficultyError(f"analyze takes a pandas DataFrame, got {type(df).__name__}")
    for arg, col in (("group", group), ("problem", problem), ("n", n), ("c", c), ("outcome", outcome),
                     ("attempt", attempt)):
        if col is not None and col not in df.columns:
            raise DifficultyError(f"{arg}={col!r}: no such column; the DataFrame has {list(map(str, df.columns))}")
    if (n is None) != (c is None) and outcome is None:
        raise DifficultyError("name both n= (attempts) and c= (successes), or outcome= for per-attempt rows")
    return counts_from_frame(df, n_col=n, c_col=c, problem_col=problem, group_col=group, outcome_col=outcome,
                             attempt_col=attempt, source="<DataFrame>")


def analyze(df, *, group=None, problem=None, n=None, c=None, outcome=None, attempt=None, budget=None,
            target=0.9, prompt_tokens=500.0, decode_tokens=300.0, flops_per_token=1.0, max_steps=3000,
            jobs=1, joint=False, covariates=None) -> Analysis:
    """Every analysis of ``difficulty analyze`` on a DataFrame, returned instead of written.

    ``group``, ``problem``, ``n``, ``c``, ``outcome``, ``attempt``: column names (see
    :func:`counts_from_dataframe`). ``budget``: K for the ranking and the obtainable mass (default:
    the median number of attempts); ``target`` and the token counts: the cost plan. ``jobs``: groups
    in parallel. ``joint``: also fit the joint model over the groups (``group`` and ``problem`` named)
    and give each group's forecast, density and ranking from it (``data["joint"]``; ``ranked`` from
    it), as ``difficulty analyze --joint``; the fit is ``Analysis.joint``. ``covariates``: per-group
    columns of ``df`` (e.g. ["params", "train_tokens"]) the joint abilities are regressed on, as
    ``--covariates``. Returns an
    :class:`Analysis` of frozen :class:`~difficulty.summary.GroupSummary`.
    """
    from . import summary as core
    from .parallel import map_groups

    if covariates is not None and group is None:
        raise DifficultyError("covariates need group= (the column naming each group)")
    counts = counts_from_dataframe(df, group=group, problem=problem, n=n, c=c, outcome=outcome, attempt=attempt)
    cov = None
    if covariates is not None:
        from .io import covariates_from_frame

        cov = covariates_from_frame(df, group, covariates, "the DataFrame")
    opts, options, fit = core.prepare(counts, budget, joint, cov, target=target, prompt_tokens=prompt_tokens,
                                      decode_tokens=decode_tokens, flops_per_token=flops_per_token,
                                      max_steps=max_steps)
    parts = counts.groups()
    res = map_groups(core.summarize_or_say_why, [(name, sub, opts, None, None, fit) for name, sub in parts.items()],
                     jobs=jobs)
    return Analysis(dict(zip(parts, res)), counts, options, fit)
