"""10^4 random command lines on random files (tests/cli_fuzz.py), run in-process.

Commands passk, model, plan, fit --method mle, rank and invert, on CSV and JSONL files with valid and
malformed rows. Prints the number of cases, of exit 0, of exit 2, of tracebacks and other failures
(target: 0) with the first few failing inputs, the cases where a value could not be computed in
double precision (reported by the command as a note or a one-line error, not a failure, but listed),
and the time, per command.

    python benchmarks/bench_cli_fuzz.py [--cases 10000] [--seed 0]
"""
import argparse
import collections
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))

import cli_fuzz  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

NUMERICAL = "cannot be evaluated in double precision"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--show", type=int, default=5, help="failing inputs to print")
    opts = ap.parse_args()

    outcomes = []

    @seed(opts.seed)
    @settings(max_examples=opts.cases, deadline=None, database=None, derandomize=False, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(cli_fuzz.cli_cases())
    def run(case):
        outcomes.append(cli_fuzz.run_case(case))
        if len(outcomes) % 1000 == 0:  # a long run says where it is
            print(f"  {len(outcomes)} cases, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    run()
    seconds = time.perf_counter() - t0

    kinds = collections.Counter(o.kind for o in outcomes)
    failures = [o for o in outcomes if o.failed]
    numerical = [o for o in outcomes if NUMERICAL in o.detail or NUMERICAL in o.out]
    print(f"cases {len(outcomes)}   exit 0: {kinds['ok']}   exit 2: {kinds['error']}   "
          f"tracebacks: {kinds['traceback']}   other failures: {len(failures) - kinds['traceback']}   "
          f"time {seconds:.0f} s ({1000 * seconds / max(1, len(outcomes)):.0f} ms per case)")
    by_command = collections.defaultdict(list)
    for o in outcomes:
        by_command[o.case.argv[0]].append(o)
    print(f"{'command':>8}  {'cases':>6}  {'exit 0':>6}  {'exit 2':>6}  {'failed':>6}  {'seconds':>8}  {'slowest':>8}")
    for name, group in sorted(by_command.items()):
        print(f"{name:>8}  {len(group):>6}  {sum(o.kind == 'ok' for o in group):>6}  "
              f"{sum(o.kind == 'error' for o in group):>6}  {sum(o.failed for o in group):>6}  "
              f"{sum(o.seconds for o in group):>8.1f}  {max(o.seconds for o in group):>8.2f}")
    print(f"\nvalues not computable in double precision (a note or a one-line error): {len(numerical)}")
    for o in _distinct(numerical)[:opts.show]:
        print(f"  difficulty {' '.join(o.case.argv)}")
    for o in _distinct(failures)[:opts.show]:
        print("\n" + "=" * 100 + "\n" + o.report())
    return 1 if failures else 0


def _distinct(outcomes):
    """One outcome per distinct last line of its detail (the same failure reached many ways counts once)."""
    seen, out = set(), []
    for o in outcomes:
        lines = (o.detail or o.out).strip().splitlines()
        key = (o.kind, o.case.argv[0], lines[-1][:200] if lines else "")
        if key not in seen:
            seen.add(key)
            out.append(o)
    return out


if __name__ == "__main__":
    sys.exit(main())
