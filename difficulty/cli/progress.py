"""Progress of long work on stderr, as the callback ``progress(stage, done, total)`` the core takes.

On a terminal each stage gets a tqdm bar, closed when ``done >= total``; elsewhere (a log, a
pipe) a stage prints one line when it starts and one when it ends, never one per step.
"""
from __future__ import annotations

import sys
import time


def make_progress(quiet: bool, stream=None):
    """A ``progress(stage, done, total)`` callback drawing on ``stream`` (default stderr), or
    None when ``quiet``."""
    if quiet:
        return None
    stream = sys.stderr if stream is None else stream
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # a closed or file-like stream without a terminal
        tty = False
    return _Bars(stream) if tty else _Lines(stream)


class _Bars:
    def __init__(self, stream):
        self.stream = stream
        self.bars = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = tqdm(total=total, desc=f"  {stage}", file=self.stream, leave=True,
                                          dynamic_ncols=True)
        if bar.total != total:  # some stages learn their length as they go
            bar.total = total
        bar.update(done - bar.n)
        if done >= total:
            bar.close()
            del self.bars[stage]


class _Lines:
    def __init__(self, stream):
        self.stream = stream
        self.started = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.started:
            self.started[stage] = time.perf_counter()
            print(f"  {stage}: started", file=self.stream, flush=True)
        if done >= total:
            seconds = time.perf_counter() - self.started.pop(stage)
            print(f"  {stage}: {done}/{total} ({seconds:.1f} s)", file=self.stream, flush=True)
