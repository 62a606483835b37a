"""difficulty: inference scaling laws from repeated sampling.

Exact pass@k with honest intervals, difficulty models and their Laplace transforms
(Levi 2025, "A Simple Model of Inference Scaling Laws"), fits and posteriors, forecasts,
the perceived-difficulty density, and problem ranking for fine-tuning.
"""
from .counts import EvalCounts
from .errors import DifficultyError
from .io import load_counts
from .passk import PassAtK, estimate_pass_at_k, pass_at_k, pass_at_k_matrix

__version__ = "0.1.0"
__all__ = ["EvalCounts", "DifficultyError", "load_counts", "pass_at_k", "pass_at_k_matrix",
           "estimate_pass_at_k", "PassAtK"]
