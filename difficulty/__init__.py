"""difficulty: inference scaling laws from repeated sampling.

Exact pass@k with honest intervals, difficulty models and their Laplace transforms
(Levi 2025, "A Simple Model of Inference Scaling Laws"), fits and posteriors, forecasts,
the perceived-difficulty density, and problem ranking for fine-tuning.

``difficulty.analyze(df, group=..., problem=..., n=..., c=...)`` runs every analysis on a pandas
DataFrame and returns frozen summaries (posteriors as arviz InferenceData); see :mod:`difficulty.api`.

The names below are loaded on first use, so that importing the package (and starting the
command line) costs only what is used.
"""
from .errors import DifficultyError

__version__ = "0.1.0"

_LAZY = {
    "EvalCounts": ".counts",
    "load_counts": ".io",
    "pass_at_k": ".passk",
    "pass_at_k_matrix": ".passk",
    "estimate_pass_at_k": ".passk",
    "PassAtK": ".passk",
    "analyze": ".api",
    "Analysis": ".api",
    "plan_allocation": ".allocate",
    "fit_joint": ".joint",
    "JointFit": ".joint",
    "forecast_groups": ".pooled",
    "rank_groups": ".pooled",
}

__all__ = ["EvalCounts", "DifficultyError", "load_counts", "pass_at_k", "pass_at_k_matrix",
           "estimate_pass_at_k", "PassAtK", "analyze", "Analysis", "plan_allocation",
           "fit_joint", "JointFit", "forecast_groups", "rank_groups"]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'difficulty' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
