"""A one-line progress bar on standard error, shown only on a terminal (or when asked)."""
from __future__ import annotations

import sys


def progress_bar(label: str, enabled=None):
    """Returns report(done, total), which redraws ``label [####....] done/total`` in place."""
    show = sys.stderr.isatty() if enabled is None else bool(enabled)

    def report(done, total):
        if show:
            width = 30
            fill = int(width * done / max(total, 1))
            sys.stderr.write(f"\r  {label} [{'#' * fill}{'.' * (width - fill)}] {done}/{total}")
            if done >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()

    return report
