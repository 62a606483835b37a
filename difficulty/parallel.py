"""Groups in parallel: one function over independent groups, through joblib.

Locally joblib's loky backend runs the groups in worker processes (``jobs``: how many; None or -1:
all cores). On a cluster the same code runs through joblib's Dask backend: ``backend="dask"`` with
``scheduler`` the address of a ``dask.distributed`` scheduler (a ``Client`` is opened on it).
Every group's computation takes its seed from its arguments, never from a shared generator, so the
results are identical whatever the backend and the number of jobs. Results come back in input
order; ``on_result(i, result)`` is called in this process as each one arrives (to write it, or
report progress). A worker's warnings are recorded there and issued again in this process as its
result arrives, so the caller's warning filters and display apply to them as to a serial run.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

from .errors import DifficultyError

__all__ = ["map_groups", "BACKENDS"]

BACKENDS = ("loky", "dask", "sequential")


def map_groups(fn: Callable, items: Sequence, jobs: int | None = None, backend: str = "loky",
               scheduler: str | None = None, on_result: Callable | None = None) -> list:
    """[fn(*item) for item in items], the calls spread over ``jobs`` workers (module docstring)."""
    if backend not in BACKENDS:
        raise DifficultyError(f"unknown backend {backend!r}; choose {', '.join(BACKENDS)}")
    if jobs is not None and (jobs == 0 or jobs < -1):
        raise DifficultyError(f"--jobs must be a positive number of workers or -1 (all cores), got {jobs}")
    items = list(items)
    results = [None] * len(items)
    local_serial = backend == "sequential" or (backend == "loky" and (jobs == 1 or len(items) <= 1))
    if local_serial:
        for i, item in enumerate(items):
            results[i] = fn(*item)
            if on_result is not None:
                on_result(i, results[i])
        return results
    import joblib

    shown: dict = {}  # what "default" filters have shown once already, as a module's registry does

    def run(parallel):
        gen = parallel(joblib.delayed(_indexed)(fn, i, item) for i, item in enumerate(items))
        for i, res, caught in gen:
            for message, category, filename, lineno in caught:
                warnings.warn_explicit(message, category, filename, lineno, registry=shown)
            results[i] = res
            if on_result is not None:
                on_result(i, res)

    if backend == "dask":
        if not scheduler:
            raise DifficultyError("--backend dask needs --scheduler ADDRESS (e.g. tcp://host:8786)")
        try:
            from dask.distributed import Client
        except ImportError:
            raise DifficultyError("--backend dask needs dask.distributed: pip install 'difficulty[cluster]'") from None
        with Client(scheduler), joblib.parallel_config(backend="dask"):
            run(joblib.Parallel(n_jobs=-1, return_as="generator_unordered"))
        return results
    n = -1 if jobs is None else jobs
    run(joblib.Parallel(n_jobs=n, backend="loky", return_as="generator_unordered"))
    return results


def _indexed(fn, i, item):
    """In a worker: the call's result and its warnings (message, category, file, line), which the
    worker's own filters would otherwise print or drop unlike the caller's."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fn(*item)
    return i, res, [(str(w.message), w.category, w.filename, w.lineno) for w in caught]
