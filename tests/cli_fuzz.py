"""Random command lines on random files, run in-process, and what each must end in.

A case is a command with its options and, for the commands that read data, a file: CSV or JSONL
(or a JSON array), counts, per-attempt outcomes, outcome lists or a k,pass_at_k curve, with valid
and malformed rows (missing cells, strings, floats, negative and huge numbers, c > N, N up to
1e12), empty files, header-only files, extra columns, a byte-order mark, unicode ids. Every case
must end in exit 0 with one JSON object on stdout (no NaN or Infinity tokens) and nothing on
stderr but the command's own ``difficulty: ...`` lines, or in exit 2 with exactly one line on
stderr, ``difficulty: error: ...``. Anything else (an exception escaping the command, another
exit code, a raw warning, output that is not JSON) is a failure.

Used by tests/test_cli_fuzz.py (a few hundred cases) and benchmarks/bench_cli_fuzz.py (10^4).
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
import traceback
from dataclasses import dataclass, field

from conftest import run_cli
from hypothesis import strategies as st

DATA = "{data}"  # placeholder for the file's path in a case's argv
FILE_COMMANDS = ("passk", "fit", "rank", "invert")
COMMANDS = ("passk", "model", "plan", "fit", "rank", "invert")
SLOW = ("fit", "rank")  # a likelihood fit per case

N_COLUMNS = ("n", "N", "num_samples", "attempts", "n_samples")
C_COLUMNS = ("c", "C", "num_correct", "num_successes", "successes", "n_correct")
ID_COLUMNS = ("problem", "problem_id", "task_id", "id")
MODEL_PARAMS = {  # the parameters `difficulty model NAME` takes, by model
    "beta": ("alpha", "beta", "A"), "zi-beta": ("alpha", "beta", "A"), "kumaraswamy": ("a", "b", "A"),
    "scaled-beta": ("alpha", "beta", "scale", "A"), "logit-normal": ("loc", "scale", "A"), "point": ("p", "A"),
    "effective-k": ("p", "kappa", "A"), "effective-k-beta": ("alpha", "beta", "kappa", "A"),
    "beta-mixture": ("weights", "alphas", "betas", "A"), "exp-power-law": ("a", "b"), "power-law": ("a", "b"),
}
FIT_MODELS = ("beta", "zi-beta", "kumaraswamy", "zi-kumaraswamy", "scaled-beta", "logit-normal", "point",
              "beta-mixture-2", "zi-beta-binomial", "power-law", "nosuch")


@dataclass
class Case:
    """One command line; ``data`` (text) is written to a file with ``suffix`` and named by ``{data}``."""

    argv: list
    data: str | None = None
    suffix: str = ".csv"

    def show(self) -> str:
        text = "" if self.data is None else f"\n--- file ({self.suffix}) ---\n{self.data[:2000]!r}"
        return "difficulty " + " ".join(self.argv) + text


@dataclass
class Outcome:
    """How a case ended: kind is "ok" (exit 0), "error" (exit 2, one line) or a failure: "traceback",
    "exit" (another exit code), "stderr" (not the one-line form), "output" (not clean JSON)."""

    kind: str
    code: object
    case: Case
    detail: str = ""
    seconds: float = 0.0
    out: str = field(default="", repr=False)

    @property
    def failed(self) -> bool:
        return self.kind not in ("ok", "error")

    def report(self) -> str:
        return f"[{self.kind}, exit {self.code}] {self.case.show()}\n--- detail ---\n{self.detail}"


def _no_constant(name):
    raise ValueError(f"{name} in the JSON output")


def run_case(case: Case) -> Outcome:
    """Run one case in-process (its file in a fresh temporary folder) and judge how it ended."""
    import time

    with tempfile.TemporaryDirectory() as tmp:
        argv = list(case.argv)
        if case.data is not None:
            path = os.path.join(tmp, "data" + case.suffix)
            with open(path, "w", encoding="utf-8", newline="") as fh:
                fh.write(case.data)
            argv = [a.replace(DATA, path) for a in argv]
        t0 = time.perf_counter()
        try:
            code, out, err = run_cli(*argv)
        except Exception:  # an exception escaping the command: the failure this harness looks for
            return Outcome("traceback", None, case, traceback.format_exc(), time.perf_counter() - t0)
        dt = time.perf_counter() - t0
    lines = err.splitlines()
    if code == 2:
        if len(lines) != 1 or not lines[0].startswith("difficulty: error: ") or out:
            return Outcome("stderr", code, case, err + out, dt)
        return Outcome("error", code, case, lines[0], dt)
    if code != 0:
        return Outcome("exit", code, case, err, dt)
    stray = [ln for ln in lines if not ln.startswith("difficulty: ")]
    if stray:
        return Outcome("stderr", code, case, err, dt)
    try:
        json.loads(out, parse_constant=_no_constant)
    except ValueError as e:
        return Outcome("output", code, case, f"{e}\n{out[:2000]}", dt)
    return Outcome("ok", code, case, "", dt, out)


# ------------------------------------------------------------------ cells and rows
HUGE = (10**12, 10**12 + 1, 2**53, 2**63, 10**20, 10**400)
BAD_NUMBERS = ("", " ", "abc", "nan", "NaN", "inf", "-inf", "1e400", "-3", "2.5", "1e3", "1e12", "True", " 7 ",
               "0x10", "1,5", "½", "٣", "None", "null")


def _attempts():
    return st.one_of(st.integers(1, 30), st.sampled_from([1, 2, 100, 10**4, 10**6, 10**9, 10**12]))


def _successes(n, draw):
    if n > 1000:
        return draw(st.sampled_from([0, 1, n // 2, n - 1, n]))
    return draw(st.integers(0, n))


def _bad_cell(json_mode: bool):
    values = [st.sampled_from(BAD_NUMBERS), st.integers(-10**6, -1), st.sampled_from(HUGE),
              st.floats(allow_nan=True, allow_infinity=True), st.none()]
    if json_mode:
        values += [st.booleans(), st.lists(st.integers(0, 3), max_size=3), st.just({"x": 1})]
    return st.one_of(*values)


def _ids():
    return st.one_of(st.integers(0, 5), st.text(min_size=0, max_size=6),
                     st.sampled_from(["é", "题目", "🙂", "a,b", 'q"t', "\u202e", "x\ny"]))


@st.composite
def counts_table(draw, max_rows: int, json_mode: bool, max_n: int):
    """(columns, rows) of per-problem counts, each row valid or broken in one way."""
    ncol, ccol = draw(st.sampled_from(N_COLUMNS)), draw(st.sampled_from(C_COLUMNS))
    idcol = draw(st.sampled_from(ID_COLUMNS)) if draw(st.booleans()) else None
    extra = draw(st.sampled_from(["model", "extra", "note", "ünïcode", ""])) if draw(st.integers(0, 3)) == 0 else None
    flaw_rate = draw(st.sampled_from([0, 0, 0.05, 0.3]))  # most files are clean; a broken one, broken in places
    rows = []
    for _ in range(draw(st.integers(0, max_rows))):
        n = min(draw(_attempts()), max_n)
        row = {ncol: n, ccol: _successes(n, draw)}
        if idcol is not None:  # mostly distinct ids, each of any text; now and then a repeat
            row[idcol] = draw(_ids()) if draw(st.integers(0, 4)) == 0 else f"{draw(_ids())}#{len(rows)}"
        if extra is not None:
            row[extra] = draw(st.one_of(_ids(), st.floats()))
        flaw = draw(st.integers(0, 3)) if draw(st.floats(0, 1)) < flaw_rate else None
        if flaw == 0:
            row[draw(st.sampled_from(sorted(row)))] = draw(_bad_cell(json_mode))
        elif flaw == 1:
            row[ccol] = n + draw(st.integers(1, 3))  # c > N
        elif flaw == 2:
            del row[draw(st.sampled_from(sorted(row)))]  # a missing cell
        elif flaw == 3:
            row[ncol] = -n
        rows.append(row)
    columns = ([idcol] if idcol is not None else []) + [ncol, ccol] + ([extra] if extra is not None else [])
    if draw(st.integers(0, 9)) == 0:  # names are matched case-insensitively
        columns = [c.upper() for c in columns]
        rows = [{k.upper(): v for k, v in r.items()} for r in rows]
    return columns, rows


@st.composite
def attempts_table(draw, max_rows: int, json_mode: bool):
    """Per-attempt rows: a problem id and a yes/no outcome (sometimes not one)."""
    pcol, ocol = draw(st.sampled_from(ID_COLUMNS)), draw(st.sampled_from(["correct", "passed", "is_correct"]))
    outcome = st.one_of(st.booleans(), st.sampled_from(["true", "false", "yes", "no", 0, 1, "1", "0"]))
    rows = []
    for _ in range(draw(st.integers(0, 4 * max_rows))):
        value = draw(outcome) if draw(st.integers(0, 9)) else draw(_bad_cell(json_mode))
        rows.append({pcol: draw(st.integers(0, max_rows)), ocol: value})
    return [pcol, ocol], rows


@st.composite
def lists_table(draw, max_rows: int, json_mode: bool):
    """One row per problem with a list of outcomes (is_corrects style)."""
    outcomes = st.lists(st.booleans(), min_size=0, max_size=12)
    rows = []
    for i in range(draw(st.integers(0, max_rows))):
        value = draw(outcomes)
        if draw(st.integers(0, 7)) == 0:
            value = draw(st.one_of(_bad_cell(json_mode), st.lists(st.sampled_from([1, 0, "x", 2, None]), max_size=4)))
        rows.append({"problem": i, "is_corrects": value if json_mode else str(value)})
    return ["problem", "is_corrects"], rows


@st.composite
def curve_table(draw, max_rows: int, json_mode: bool):
    """An aggregate k,pass_at_k curve, valid or not."""
    ks = draw(st.lists(st.sampled_from([1, 2, 3, 5, 10, 20, 50, 100, 10**4, 10**9]), min_size=0,
                       max_size=max_rows, unique=True))
    ys = sorted(draw(st.lists(st.floats(0, 1), min_size=len(ks), max_size=len(ks))))
    rows = [{"k": k, "pass_at_k": y} for k, y in zip(sorted(ks), ys)]
    if rows and draw(st.integers(0, 4)) == 0:
        row = rows[draw(st.integers(0, len(rows) - 1))]
        row[draw(st.sampled_from(["k", "pass_at_k"]))] = draw(_bad_cell(json_mode))
    return ["k", "pass_at_k"], rows


def _csv_text(columns, rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in columns])
    return buf.getvalue()


def _jsonl_text(rows, array: bool) -> str:
    def clean(v):  # JSON has no NaN or infinity; a float that is not finite goes in as text
        return str(v) if isinstance(v, float) and not math.isfinite(v) else v

    recs = [{k: clean(v) for k, v in r.items()} for r in rows]
    if array:
        return json.dumps(recs, ensure_ascii=False)
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs)


@st.composite
def data_file(draw, max_rows: int = 8, max_n: int = 10**12, kinds=("counts", "attempts", "lists", "curve")):
    """(text, suffix) of a data file: mostly counts, sometimes another shape, empty or garbage."""
    special = draw(st.integers(0, 19))
    if special == 0:
        return "", draw(st.sampled_from([".csv", ".jsonl"]))
    if special == 1:
        return draw(st.text(max_size=40)), draw(st.sampled_from([".csv", ".jsonl", ".json"]))
    suffix = draw(st.sampled_from([".csv", ".csv", ".jsonl", ".json"]))
    json_mode = suffix != ".csv"
    kind = draw(st.sampled_from(("counts",) * 3 + tuple(kinds)))
    if kind == "counts":
        columns, rows = draw(counts_table(max_rows, json_mode, max_n))
    else:
        table = {"attempts": attempts_table, "lists": lists_table, "curve": curve_table}[kind]
        columns, rows = draw(table(max_rows, json_mode))
    if not json_mode:
        text = _csv_text(columns, rows)
    else:
        text = _jsonl_text(rows, array=suffix == ".json") if rows else draw(st.sampled_from(["", "[]", "\n"]))
    if draw(st.integers(0, 9)) == 0:
        text = "\ufeff" + text  # a byte-order mark, as some spreadsheet exports write
    return text, suffix


# ------------------------------------------------------------------ options
def _either(good, bad):
    """A value from ``good`` five times in six, else one from ``bad``."""
    return _mostly(st.sampled_from(good), st.sampled_from(bad), 6)


def _mostly(usual, rare, odds: int):
    """A value of ``usual``, except one time in ``odds`` a value of ``rare``."""
    # 1, not 0: generation leans toward the smallest integer
    return st.tuples(st.integers(0, odds - 1), usual, rare).map(lambda t: t[2] if t[0] == 1 else t[1])


def _k_list():
    return st.one_of(
        st.lists(st.sampled_from(["1", "2", "10", "100", "1e3", "1e6", "1e9", "1e12", "1e15", "1e20", "1e300"]),
                 min_size=1, max_size=4).map(",".join),
        st.sampled_from(["1", "1,10"]),
        st.sampled_from(["0", "-5,1", "1.5", "0.5", "nan", "inf", "x", ",", "1,,2"]))


LEVELS = _either(["0.9", "0.5", "0.99"], ["1.5", "0", "1", "nan", "x"])
BUDGETS = _either(["1000", "1", "10", "1e9", "1e12"], ["0", "0.5", "-1", "inf", "nan"])
BANDS = _either(["0.5,0.99", "0.1,0.9", "0.5,1"], ["0.9,0.1", "0,1", "0.5", "-0.5,0.9", "0.2,0.2", "a,b"])


def _options(draw, choices: dict) -> list:
    """Some of the options in ``choices`` (flag -> strategy of its value), each drawn at most once."""
    argv = []
    for flag, values in choices.items():
        if draw(st.integers(0, 3)) == 0:
            argv += [flag, draw(values)]
    return argv


@st.composite
def file_case(draw, command: str, max_rows: int = 8, max_n: int = 10**12):
    text, suffix = draw(data_file(max_rows=max_rows, max_n=max_n))
    argv = [command, DATA, "--json"]
    if command == "passk":
        argv += _options(draw, {"--k": _k_list(), "--level": LEVELS, "--seed": _either(["0", "1"], ["-1", "x"])})
    elif command == "fit":
        argv += ["--method", "mle", "--model", draw(_either(FIT_MODELS[:-2], FIT_MODELS[-2:]))]
        argv += _options(draw, {"--level": LEVELS})
    elif command == "rank":
        argv += ["--quiet"] + _options(draw, {"--budget": BUDGETS, "--band": BANDS, "--model": _either(
            ["zi-beta", "beta", "kumaraswamy", "point"], ["nosuch", "power-law"]), "--top": _either(["0", "2"], ["-1"]),
            "--confidence": LEVELS})
    elif command == "invert":
        argv += ["--quiet"] + _options(draw, {"--from": st.sampled_from(["counts", "curve"]), "--budget": BUDGETS,
                                              "--level": LEVELS, "--method": _either(["npmle-em"], ["foo"])})
    return Case(argv, text, suffix)


def _param_value(low: float, high: float):
    """A value inside (low, high) seven times in eight, often an extreme one; else anything."""
    if low == 0 and high == math.inf:
        inside = st.one_of(st.floats(-8, 8).map(lambda e: 10.0**e), st.sampled_from([1e-300, 1e-6, 1e6, 1e300]))
    elif low == 0 and high == 1:
        inside = st.one_of(st.floats(1e-9, 1 - 1e-9), st.sampled_from([1e-300, 1e-12, 1 - 1e-12, 1.0]))
    elif math.isinf(low) and math.isinf(high):
        inside = st.one_of(st.floats(-50, 50), st.sampled_from([-1e6, 1e6, -1e300]))
    else:
        lo, hi = max(low, -1e6), min(high, 1e6)
        inside = st.one_of(st.floats(lo, hi, exclude_min=True, exclude_max=True), st.sampled_from([lo, hi]))
    anything = st.sampled_from(["0", "1", "-1", "0.5", "1e-300", "1e300", "nan", "inf", "-inf", "x", "1,2", ""])
    return _mostly(inside, anything, 8)


def _bounds(name: str) -> dict:
    from difficulty.models import MODELS

    if name not in MODELS:
        return {}
    return {p.name: (p.low, p.high) for p in MODELS[name].cls.param_space()}


@st.composite
def model_case(draw, command: str):
    """``model NAME --PARAM V ...`` or ``plan --model NAME ...`` with extreme parameters and k."""
    name = draw(st.sampled_from(sorted(MODEL_PARAMS) + ["nosuch"]))
    params = MODEL_PARAMS.get(name, ("alpha",))
    argv = [command, name] if command == "model" else [command, "--model", name]
    size = draw(st.integers(1, 3))  # components of a mixture
    for p in params:
        if p == "A" and draw(st.booleans()):
            continue  # A has a default
        if draw(st.integers(0, 19)) == 0:
            continue  # a missing parameter
        if p in ("weights", "alphas", "betas"):
            value = ",".join(draw(st.lists(_either(["0.5", "1", "2", "1e-6", "1e6"], ["0", "-1", "x"]),
                                           min_size=size, max_size=size)))
        else:
            value = draw(_param_value(*_bounds(name).get(p, (0, math.inf))))
        argv += [f"--{p}", str(value)]
    if command == "model":
        argv += ["--json"] + _options(draw, {"--k": _k_list(), "--sigma": st.sampled_from(
            ["0.01,1", "0", "1e-300,1e300", "-1", "100", "x"])})
    else:
        argv += ["--target", draw(_either(["0.9", "0.5", "0.999999", "1e-9"], ["1.5", "0"])),
                 "--prompt-tokens", draw(_either(["500", "0", "1e300"], ["-1", "nan"])),
                 "--decode-tokens", draw(_either(["300", "1e-300"], ["0", "inf"])), "--json"]
    return Case(argv)


@st.composite
def cli_cases(draw, commands=COMMANDS, max_rows: int = 8, max_n: int = 10**12):
    """A case for one of ``commands``."""
    command = draw(st.sampled_from(commands))
    if command in ("model", "plan"):
        return draw(model_case(command))
    return draw(file_case(command, max_rows=max_rows, max_n=max_n))
