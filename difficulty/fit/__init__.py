"""Fitting: per-problem likelihoods (MLE, emcee posteriors), aggregate-curve fits (lmfit)."""
from .likelihood import LIKELIHOODS, CountLikelihood, make_likelihood
from .mcmc import Posterior, compare_loo, sample_posterior
from .mle import FitResult, fit_mle

__all__ = ["LIKELIHOODS", "CountLikelihood", "make_likelihood", "FitResult", "fit_mle", "Posterior", "sample_posterior", "compare_loo"]
