"""Forecast accuracy on real data: Pythia checkpoints on GSM8K (Schaeffer et al. 2025).

For each model (group) with at least 20 problems sampled N >= 10,000 times, those problems
only: subsample m = 100 attempts per problem (hypergeometric), forecast pass@(100 m) = pass@10,000
with every forecaster, score against the unbiased pass@10,000 of the full data. Printed: the
mean absolute error and the 90% interval coverage per forecaster, side by side, with the
aggregate log-log least-squares baseline measured in the same run.
"""
import multiprocessing
import os
import pathlib
import sys
import time
import warnings
from functools import partial

import pandas as pd

from difficulty.backtest import FORECASTERS, backtest
from difficulty.io import load_counts

DATA = pathlib.Path(__file__).resolve().parents[2] / "shared/data/real/schaeffer2025_monkeys_power_laws"


def _one_group(item, seeds, forecasters):
    name, g = item
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = backtest(g, 100, 10_000, seeds=seeds, forecasters=forecasters)
    return [dict(row, group=name) for row in r.rows]


def main(seeds=2):
    path = DATA / "pythia_checkpoints_gsm8k_counts.csv"
    if not path.exists():
        sys.exit(f"real data not found at {path}")
    counts = load_counts(str(path), group_col="model_nickname")
    rows = []
    t0 = time.perf_counter()
    forecasters = list(FORECASTERS)
    default = "default"  # what `difficulty forecast` does when neither model nor method is named
    groups = [(name, g) for name, g in counts.groups().items() if (g.n >= 10_000).sum() >= 20]
    used = len(groups)
    with multiprocessing.get_context("fork").Pool(min(2, os.cpu_count() or 1)) as pool:  # groups are independent
        for part in pool.imap_unordered(partial(_one_group, seeds=seeds, forecasters=forecasters), groups):
            rows += part
    df = pd.DataFrame(rows)
    # score every forecaster on the same runs: those where all of them produced a forecast
    # (a subsample with no success at all leaves every method without a curve to extrapolate)
    ok = df.pivot_table(index=["group", "seed"], columns="forecaster", values="forecast",
                        aggfunc="first").notna().all(axis=1)
    keep = df.set_index(["group", "seed"]).index.isin(ok[ok].index)
    common = df[keep]
    table = common.groupby("forecaster", sort=False).agg(mae=("abs_error", "mean"), coverage=("covered", "mean"),
                                                         width=("width", "mean"), runs=("forecast", "size"))
    table["failed_anywhere"] = df.groupby("forecaster", sort=False)["forecast"].apply(lambda s: int(s.isna().sum()))
    print(f"forecast pass@10,000 from 100 attempts: {used} Pythia GSM8K models, {seeds} seeds, "
          f"{time.perf_counter() - t0:.0f} s; scored on the {int(ok.sum())} runs where every forecaster produced "
          f"a forecast")
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    base = table.loc["loglog", "mae"]
    best = table.loc[default, "mae"]
    print(f"default forecaster ({default}) MAE {best:.4f} vs log-log baseline {base:.4f}: "
          f"{base / best:.2f}x lower; 90% coverage {table.loc[default, 'coverage']:.2f} (target >= 0.85)")


if __name__ == "__main__":
    main()
