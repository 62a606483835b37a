"""Whole-command speed: start-up, the default forecast, the demo, analyze on the real checkpoint files.

Each figure is the wall time of the command as a user runs it (a fresh process), with its baseline
or target from the same run:

* `difficulty --help` (median of 5) against `python -c "import numpy, scipy.special"` (target <= 2x);
* the default forecast (Kumaraswamy posterior) of the 7-group jailbreaking file, all groups in
  parallel (target <= 15 s) and one after another (per group, target <= 1.5 s for ~128 problems),
  against the same forecast with emcee alone (the previous default path) on one group;
* `difficulty demo` (target <= 30 s);
* `difficulty analyze` on the Pythia GSM8K (81 groups, target <= 300 s) and MATH (72 groups,
  target <= 240 s) checkpoint files.

Run one heavy job at a time on an idle machine: the figures are wall times.
"""
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

DATA = pathlib.Path(__file__).resolve().parents[2] / "shared/data/real/schaeffer2025_monkeys_power_laws"
EXE = [sys.executable, "-m", "difficulty"]


def wall(cmd, reps=1):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        res = subprocess.run(cmd, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if res.returncode != 0:
            sys.exit(f"failed: {' '.join(map(str, cmd))}\n{res.stderr[-2000:]}")
    return statistics.median(times)


def main():
    jail = DATA / "bon_text_jailbreaking_counts.csv"
    if not jail.exists():
        sys.exit(f"real data not found at {DATA}")
    print("whole-command wall times, 2 cores")
    t_imp = wall([sys.executable, "-c", "import numpy, scipy.special"], 5)
    t_help = wall(EXE + ["--help"], 5)
    print(f"  difficulty --help            : {t_help:7.2f} s   vs import numpy, scipy.special {t_imp:.2f} s: "
          f"{t_help / t_imp:.2f}x (target <= 2x)")
    fc = EXE + ["forecast", str(jail), "--group-col", "model", "--k", "1000,10000", "--quiet", "--json"]
    t_par = wall(fc)
    t_ser = wall(fc + ["--jobs", "1"])
    print(f"  default forecast, 7 groups   : {t_par:7.2f} s in parallel (target <= 15 s); one after another "
          f"{t_ser:.2f} s = {t_ser / 7:.2f} s per group of 159 problems (target <= 1.5 s per 128)")
    with tempfile.TemporaryDirectory() as tmp:
        one = pathlib.Path(tmp) / "one.csv"
        with open(jail) as fh:  # the first group of the file alone
            lines = fh.read().splitlines()
        head, first = lines[0], lines[1].split(",")[0]
        one.write_text("\n".join([head] + [ln for ln in lines[1:] if ln.split(",")[0] == first]) + "\n")
        base = EXE + ["forecast", str(one), "--k", "1000,10000", "--quiet", "--json"]
        t_fast = wall(base)
        t_emcee = wall(base + ["--sampler", "emcee"])
        print(f"  default forecast, one group  : {t_fast:7.2f} s   vs emcee alone {t_emcee:.2f} s: "
              f"{t_emcee / t_fast:.1f}x faster")
        t_demo = wall(EXE + ["demo", "-o", os.path.join(tmp, "demo"), "--force", "--quiet"])
        print(f"  difficulty demo              : {t_demo:7.2f} s   (target <= 30 s)")
        for name, target in (("gsm8k", 300), ("math", 240)):
            path = DATA / f"pythia_checkpoints_{name}_counts.csv"
            t = wall(EXE + ["analyze", str(path), "--group-col", "model_nickname", "-o",
                            os.path.join(tmp, name), "--force", "--quiet"])
            print(f"  analyze Pythia {name:<5} file   : {t:7.1f} s   (target <= {target} s)")


if __name__ == "__main__":
    main()
