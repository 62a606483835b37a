"""Fitting any model: one likelihood over the (N, c) histogram, maximum likelihood and emcee
posteriors wrapped around it, least squares for aggregate curves (lmfit). Every fit returns one
frozen :class:`Fit` that forecasts, rankings, inversions and reports consume."""
from .likelihood import Likelihood, make_likelihood
from .mcmc import compare_loo, sample_posterior
from .mle import compare_mle, fit_mle
from .result import Fit

__all__ = ["Likelihood", "make_likelihood", "Fit", "fit_mle", "compare_mle", "sample_posterior", "compare_loo"]
