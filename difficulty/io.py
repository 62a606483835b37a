"""Reading evaluation results (CSV, JSONL, Parquet) into :class:`EvalCounts`.

Three shapes are recognised, with column names matched case-insensitively:

* counts, one row per problem (attempts ``n``/``num_samples``/..., successes ``c``/...);
* per-attempt rows (a problem id and a boolean-ish outcome such as ``correct``);
* one row per problem with a list of outcomes (``is_corrects`` style).

Everything is aggregated to counts immediately: later code sees only (N_i, c_i).

What evaluation harnesses write (lm-evaluation-harness samples, evalplus ``eval_results.json``,
inspect_ai ``.eval`` logs, lighteval details, problems x attempts matrices) is read by
:mod:`difficulty.loaders`; :func:`load_counts` recognises each from its extension and content.
"""
from __future__ import annotations

import ast
import json
import os
from typing import TYPE_CHECKING

import numpy as np

from .counts import EvalCounts
from .errors import DifficultyError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["load_counts", "detect_format", "ATTEMPT_COLUMNS", "SUCCESS_COLUMNS", "PROBLEM_COLUMNS", "OUTCOME_COLUMNS"]

ATTEMPT_COLUMNS = ("n", "num_samples", "attempts", "n_samples", "num_attempts", "total")
SUCCESS_COLUMNS = ("c", "num_correct", "num_successes", "successes", "n_correct", "correct_count")
PROBLEM_COLUMNS = ("problem", "problem_id", "problem_idx", "prompt_idx", "task_id", "id", "question_id")
OUTCOME_COLUMNS = ("correct", "passed", "is_correct", "flagged", "success", "solved", "pass", "is_corrects", "outcomes")

_TRUE = {"true", "t", "yes", "y", "1", "1.0", "pass", "passed", "correct", "success"}
_FALSE = {"false", "f", "no", "n", "0", "0.0", "fail", "failed", "incorrect", "failure"}


_TABLE_SHAPES = ("counts", "attempts", "outcome-lists", "curve", "table")


def _read_table(path: str, fmt: str | None) -> pd.DataFrame:
    import pandas as pd

    if not os.path.exists(path):
        raise DifficultyError(f"{path}: no such file")
    if os.path.isdir(path):
        raise DifficultyError(f"{path}: is a directory, not a data file")
    if fmt is not None and fmt.lower() in _TABLE_SHAPES:  # `difficulty formats` names: the extension says the type
        fmt = None
    ext = (fmt or os.path.splitext(path)[1].lstrip(".")).lower()
    if ext in ("csv", "tsv", "txt"):
        if os.path.getsize(path) == 0:
            raise DifficultyError(f"{path}: the file is empty")
        try:
            return pd.read_csv(path, sep="\t" if ext == "tsv" else ",")
        except pd.errors.EmptyDataError:
            raise DifficultyError(f"{path}: the file is empty") from None
        except pd.errors.ParserError as e:
            raise DifficultyError(f"{path}: not a readable CSV ({str(e).splitlines()[0]})") from None
    if ext in ("jsonl", "ndjson", "json"):
        return _read_jsonl(path)
    if ext in ("parquet", "pq"):
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise DifficultyError(f"{path}: reading Parquet needs pyarrow "
                                  "(pip install 'difficulty[parquet]')") from None
        try:
            return pd.read_parquet(path)
        except Exception as e:  # pyarrow raises many types for a bad file
            raise DifficultyError(f"{path}: not a readable Parquet file "
                                  f"({type(e).__name__}: {str(e).splitlines()[0]})") from None
    raise DifficultyError(f"{path}: unknown format {ext!r} (use .csv, .tsv, .jsonl, .json or .parquet, "
                          "or --format NAME: see `difficulty formats`)")


def _read_jsonl(path: str) -> pd.DataFrame:
    import pandas as pd

    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    if not text.strip():
        raise DifficultyError(f"{path}: the file is empty")
    stripped = text.lstrip()
    if stripped.startswith("["):  # a JSON array of records
        try:
            records = json.loads(text)
        except json.JSONDecodeError as e:
            raise DifficultyError(f"{path}: malformed JSON at line {e.lineno}: {e.msg}") from None
    else:
        records = []
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise DifficultyError(f"{path}: malformed JSON on line {lineno}: {e.msg}") from None
            if not isinstance(rec, dict):
                raise DifficultyError(f"{path}: line {lineno} is not a JSON object")
            records.append(rec)
    if not records:
        raise DifficultyError(f"{path}: no records")
    if not all(isinstance(r, dict) for r in records):
        raise DifficultyError(f"{path}: expected JSON objects, one per record")
    return pd.DataFrame.from_records(records)


class _NoColumns(DifficultyError):
    """A table without recognisable columns (perhaps a harness's file read as a table)."""


def _find(df: pd.DataFrame, override: str | None, candidates, what: str, required: bool = True):
    lower = {str(col).lower(): col for col in df.columns}
    if override is not None:
        if override in df.columns:
            return override
        if override.lower() in lower:
            return lower[override.lower()]
        raise DifficultyError(f"no column {override!r} for {what}; columns are {list(map(str, df.columns))}")
    for name in candidates:
        if name in lower:
            return lower[name]
    return None


def _to_bool(values: pd.Series, col: str, source: str) -> np.ndarray:
    out = np.empty(len(values), dtype=bool)
    for i, v in enumerate(values.tolist()):
        if isinstance(v, (bool, np.bool_)):
            out[i] = bool(v)
        elif isinstance(v, (int, float, np.integer, np.floating)) and v in (0, 1):
            out[i] = bool(v)
        elif isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
            out[i] = v.strip().lower() in _TRUE
        else:
            raise DifficultyError(f"{source}: row {i + 1} of column {col!r} is {v!r}, not a yes/no outcome")
    return out


def _to_outcome_list(v, row: int, col: str, source: str) -> list:
    if isinstance(v, str):
        try:
            v = ast.literal_eval(v.strip())
        except (ValueError, SyntaxError):
            raise DifficultyError(f"{source}: row {row} of column {col!r} is not a list of outcomes") from None
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if not isinstance(v, (list, tuple)):
        raise DifficultyError(f"{source}: row {row} of column {col!r} is not a list of outcomes")
    out = []
    for x in v:
        if isinstance(x, (bool, np.bool_)) or (isinstance(x, (int, float)) and x in (0, 1)):
            out.append(bool(x))
        elif isinstance(x, str) and x.lower() in _TRUE | _FALSE:
            out.append(x.lower() in _TRUE)
        else:
            raise DifficultyError(f"{source}: row {row} of column {col!r} holds {x!r}, not a yes/no outcome")
    return out


def _is_list_column(series: pd.Series) -> bool:
    first = series.dropna()
    if first.empty:
        return False
    v = first.iloc[0]
    return isinstance(v, (list, tuple, np.ndarray)) or (isinstance(v, str) and v.strip().startswith("["))


def counts_from_frame(df: pd.DataFrame, *, n_col=None, c_col=None, problem_col=None, group_col=None,
                      outcome_col=None, attempt_col=None, source="<frame>") -> EvalCounts:
    """Turn a table of any recognised shape into validated counts (the frame is not modified).

    Per-attempt rows with an attempt-index column (``attempt_col``, or one recognised by name:
    :data:`difficulty.sequential.ATTEMPT_INDEX_COLUMNS`) are read in attempt order as sequential data
    (:mod:`difficulty.sequential`): counts marked ``stopping="sequential"``."""
    import pandas as pd

    if df.shape[0] == 0:
        raise DifficultyError(f"{source}: no rows")
    group = _find(df, group_col, (), "the group") if group_col else None
    pcol = _find(df, problem_col, PROBLEM_COLUMNS, "the problem id")
    ncol = _find(df, n_col, ATTEMPT_COLUMNS, "attempts")
    ccol = _find(df, c_col, SUCCESS_COLUMNS, "successes")
    if ncol is not None and ccol is not None:
        for col in (ncol, ccol):
            bad = df[col].isna().to_numpy()
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise DifficultyError(f"{source}: row {i + 1} has no value in column {col!r}")
        for col in (ncol, ccol):
            num = pd.to_numeric(df[col], errors="coerce")
            if num.isna().any():
                i = int(np.flatnonzero(num.isna().to_numpy())[0])
                raise DifficultyError(f"{source}: row {i + 1} of column {col!r} is {df[col].iloc[i]!r}, not a number")
        problem = None if pcol is None else df[pcol].astype(str).to_numpy()
        grp = None if group is None else df[group].astype(str).to_numpy()
        try:
            return EvalCounts(pd.to_numeric(df[ncol]).to_numpy(), pd.to_numeric(df[ccol]).to_numpy(),
                              problem=problem, group=grp, source=source)
        except DifficultyError as e:
            raise DifficultyError(f"{source}: {e}") from None
    ocol = _find(df, outcome_col, OUTCOME_COLUMNS, "the outcome")
    if ocol is None:
        want = ", ".join(ATTEMPT_COLUMNS[:4]) + " with " + ", ".join(SUCCESS_COLUMNS[:5])
        raise _NoColumns(
            f"{source}: no recognisable columns in {list(map(str, df.columns))}; expected counts "
            f"({want}), or a problem id with an outcome column ({', '.join(OUTCOME_COLUMNS[:4])}); "
            f"name them with --n-col/--c-col/--problem-col/--outcome-col"
        )
    if _is_list_column(df[ocol]):
        lists = [_to_outcome_list(v, i + 1, ocol, source) for i, v in enumerate(df[ocol].tolist())]
        n = np.array([len(x) for x in lists])
        c = np.array([sum(x) for x in lists])
        problem = None if pcol is None else df[pcol].astype(str).to_numpy()
        grp = None if group is None else df[group].astype(str).to_numpy()
        try:
            return EvalCounts(n, c, problem=problem, group=grp, source=source)
        except DifficultyError as e:
            raise DifficultyError(f"{source}: {e}") from None
    if pcol is None:
        raise DifficultyError(f"{source}: per-attempt outcomes in {ocol!r} need a problem id column (--problem-col)")
    ok = _to_bool(df[ocol], ocol, source)
    from .sequential import ATTEMPT_INDEX_COLUMNS, sequential_from_frame

    acol = _find(df, attempt_col, ATTEMPT_INDEX_COLUMNS, "the attempt index")
    if acol is not None:
        return sequential_from_frame(df, pcol, acol, ok, group_col=group, source=source).counts
    keys = [pcol] if group is None else [group, pcol]
    frame = df[keys].astype(str).assign(_ok=ok)
    agg = frame.groupby(keys, sort=False)["_ok"].agg(["size", "sum"]).reset_index()
    return EvalCounts(agg["size"].to_numpy(), agg["sum"].to_numpy(), problem=agg[pcol].to_numpy(),
                      group=None if group is None else agg[group].to_numpy(), source=source)


# ------------------------------------------------------------------ choosing the format
_DESCRIBE = {"lm-eval": "lm-eval samples", "evalplus": "an evalplus eval_results.json",
             "inspect": "an inspect .eval log", "lighteval": "lighteval details",
             "matrix": "a problems x attempts matrix"}
# harness formats a file of each table extension could also be, for the hint of a table without known columns
_BY_EXTENSION = {"jsonl": ("lm-eval",), "ndjson": ("lm-eval",), "json": ("evalplus", "lm-eval"),
                 "parquet": ("lighteval",), "pq": ("lighteval",), "csv": ("matrix",), "tsv": ("matrix",),
                 "txt": ("matrix",)}


def _extension(path: str) -> str:
    return os.path.splitext(str(path))[1].lstrip(".").lower()


def _table_columns(path: str, kind: str) -> list[str]:
    """The column names a table file starts with (its header, first record's keys or schema)."""
    if kind in ("csv", "tsv"):
        import csv

        with open(path, encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh, delimiter="\t" if kind == "tsv" else ","):
                if row:
                    return row
        return []
    if kind in ("jsonl", "json"):
        with open(path, encoding="utf-8") as fh:
            first = fh.read(1 << 16).lstrip()
            if first.startswith("["):
                records = json.loads(first + fh.read())
                return list(records[0]) if records and isinstance(records[0], dict) else []
        from .loaders._util import first_json_line

        rec = first_json_line(path)
        return list(rec) if isinstance(rec, dict) else []
    if kind == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    return []


def _is_table(path: str, kind: str) -> bool:
    """Whether the file has the recognised columns of a table of counts or of outcomes."""
    try:
        lower = {str(c).strip().lower() for c in _table_columns(path, kind)}
    except Exception:  # unreadable here: the table reader says why, if it comes to it
        return False
    counts = any(c in lower for c in ATTEMPT_COLUMNS) and any(c in lower for c in SUCCESS_COLUMNS)
    return counts or any(c in lower for c in OUTCOME_COLUMNS)


def detect_format(path: str, format: str | None = None) -> str | None:
    """The harness format that reads ``path`` (see :mod:`difficulty.loaders`), or None for a plain
    table. ``format`` settles it: a harness format's name, or a table's file type (csv, jsonl, ...).
    A file that has the layout of more than one format is refused with one line naming them."""
    from .loaders import TABLE_TYPES, harness_module, sniff_harness

    if not os.path.exists(path):
        raise DifficultyError(f"{path}: no such file")
    if os.path.isdir(path):
        raise DifficultyError(f"{path}: is a directory, not a data file")
    if format is not None:
        module = harness_module(format)
        return None if module is None else module.NAME
    ext = _extension(path)
    found = sniff_harness(path)
    if ext in TABLE_TYPES and _is_table(path, TABLE_TYPES[ext]):
        found.append(TABLE_TYPES[ext])
    if len(found) > 1:
        what = " or ".join(_DESCRIBE.get(f, f"a {f} table of counts or attempts") for f in found)
        flags = " or ".join(f"--format {f}" for f in found)
        raise DifficultyError(f"{path}: could be {what}; say which with {flags}")
    if found:
        return found[0] if found[0] in _DESCRIBE else None
    return {"eval": "inspect", "npy": "matrix"}.get(ext)  # their readers say what is wrong with it


def load_counts(path: str, *, format: str | None = None, n_col=None, c_col=None, problem_col=None,
                group_col=None, outcome_col=None, filter: str | None = None, metric: str | None = None,
                evalplus_tests: str | None = None, attempt_col=None) -> EvalCounts:
    """Load evaluation results from ``path`` into validated per-problem counts.

    Tables (CSV, TSV, JSONL/JSON, Parquet) of counts, attempts or outcome lists, and the outputs of
    evaluation harnesses (``difficulty formats`` lists them), recognised from the extension and the
    content or named by ``format``. ``filter`` (lm-eval), ``metric`` (lm-eval, inspect, lighteval)
    and ``evalplus_tests`` ("base" or "plus") choose what a harness's file is scored by; the column
    arguments are for tables, and naming one reads the file as a table.
    """
    from .loaders import FLAGS, HARNESS, OPTIONS

    columns = {"n_col": n_col, "c_col": c_col, "problem_col": problem_col, "outcome_col": outcome_col,
               "attempt_col": attempt_col}
    options = {"filter": filter, "metric": metric, "evalplus_tests": evalplus_tests}
    tabular = any(v is not None for v in columns.values())
    name = None if (tabular and format is None) else detect_format(path, format)
    if name is not None:
        allowed = OPTIONS[name]
        for key, value in {**columns, **options, "group_col": group_col}.items():
            if value is not None and key not in allowed:
                takes = ", ".join(FLAGS[k] for k in allowed) or "no options"
                raise DifficultyError(f"{path}: {FLAGS[key]} does not apply to {name} files (they take {takes})")
        given = {k: v for k, v in {**options, "group_col": group_col}.items() if k in allowed}
        return HARNESS[name].load(path, **given)
    for key, value in options.items():
        if value is not None:
            users = ", ".join(n for n, keys in OPTIONS.items() if key in keys)
            raise DifficultyError(f"{path}: {FLAGS[key]} applies to {users} files; this one is read as a table "
                                  "(name its format with --format NAME)")
    df = _read_table(path, format)
    try:
        return counts_from_frame(df, n_col=n_col, c_col=c_col, problem_col=problem_col, group_col=group_col,
                                 outcome_col=outcome_col, attempt_col=attempt_col, source=path)
    except _NoColumns as e:
        could = _BY_EXTENSION.get((format or _extension(path)).lower())
        if could and not tabular:
            raise DifficultyError(f"{e}; or, for a harness's output, --format {' or '.join(could)} "
                                  "(see `difficulty formats`)") from None
        raise


K_COLUMNS = ("k",)
CURVE_COLUMNS = ("pass_at_k", "pass@k", "coverage", "passk")


def is_curve_file(path: str, format: str | None = None) -> bool:
    """True when the file holds an aggregate curve (columns k and pass_at_k), not counts."""
    if detect_format(path, format) is not None:  # a harness's file is never a curve
        return False
    df = _read_table(path, format)
    lower = {str(c).lower() for c in df.columns}
    return "k" in lower and any(c in lower for c in CURVE_COLUMNS)


def load_curve(path: str, format: str | None = None):
    """Read an aggregate curve: (k, pass@k, n_problems or None). Rows are sorted by k."""
    import pandas as pd

    df = _read_table(path, format)
    kcol = _find(df, None, K_COLUMNS, "k")
    ycol = _find(df, None, CURVE_COLUMNS, "pass@k")
    if kcol is None or ycol is None:
        raise DifficultyError(f"{path}: a curve needs columns k and pass_at_k; "
                              f"columns are {list(map(str, df.columns))}")
    k = pd.to_numeric(df[kcol], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(df[ycol], errors="coerce").to_numpy(dtype=float)
    for name, arr in (("k", k), ("pass_at_k", y)):
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise DifficultyError(f"{path}: row {bad[0] + 1} of column {name!r} is not a number")
    if np.any(k < 1):
        raise DifficultyError(f"{path}: row {int(np.flatnonzero(k < 1)[0]) + 1}: k must be >= 1")
    if np.any((y < 0) | (y > 1)):
        raise DifficultyError(f"{path}: row {int(np.flatnonzero((y < 0) | (y > 1))[0]) + 1}: "
                              "pass_at_k must be in [0, 1]")
    if np.unique(k).size != k.size:
        raise DifficultyError(f"{path}: k values repeat")
    ncol = _find(df, None, ("n_problems", "problems", "n"), "problems")
    n = None
    if ncol is not None:
        n = int(pd.to_numeric(df[ncol], errors="coerce").iloc[0])
    order = np.argsort(k)
    return k[order], y[order], n


# ------------------------------------------------------------------ writing
def _json_ready(o):
    """A copy of ``o`` that json can encode: numpy scalars and arrays become Python values,
    NaN and infinities become None (they are not JSON)."""
    if isinstance(o, np.ndarray):
        return _json_ready(o.tolist())
    if isinstance(o, np.generic):
        return _json_ready(o.item())
    if isinstance(o, float) and not np.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _json_ready(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_json_ready(v) for v in o]
    return o


def _json_default(o):
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def to_json(obj, indent: int | None = None) -> str:
    """``obj`` as JSON text: numpy scalars and arrays converted, NaN and infinities written as null."""
    return json.dumps(_json_ready(obj), default=_json_default, indent=indent)


def write_atomic(path: str, write_fn, mode: str = "w") -> None:
    """Write ``path`` whole or not at all: ``write_fn(fh)`` fills a temporary file beside it,
    which is then renamed over ``path``. ``fh.name`` is the temporary file's path, for writers
    that want a file name (netCDF)."""
    import tempfile

    folder = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(folder):
        raise DifficultyError(f"cannot write {path}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    os.close(fd)
    try:
        with open(tmp, mode) as fh:
            write_fn(fh)
        umask = os.umask(0)  # mkstemp makes the file private; give it the usual permissions
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def group_covariates(path: str, group_col: str, columns, format: str | None = None) -> dict:
    """{group: {column: value}} from a table's per-group covariate columns (e.g. params, train_tokens),
    each constant within its group (values such as 1.4B or 512M are read by the joint model)."""
    return covariates_from_frame(_read_table(path, format), group_col, columns, path)


def covariates_from_frame(df, group_col: str, columns, where: str = "the table") -> dict:
    """{group: {column: value}} from a DataFrame's per-group covariate columns (group_covariates)."""
    path = where
    if isinstance(columns, str) or not len(columns):
        raise DifficultyError(f"covariates must be a list of column names, got {columns!r}")
    for col in [group_col, *columns]:
        if col not in df.columns:
            raise DifficultyError(f"{path}: no column {col!r} (columns: {', '.join(map(str, df.columns))})")
    out = {}
    for name, sub in df.groupby(df[group_col].astype(str), sort=False):
        row = {}
        for col in columns:
            vals = sub[col].dropna().unique()
            if len(vals) != 1:
                raise DifficultyError(f"{path}: column {col!r} is not one value in group {name!r} "
                                      f"({len(vals)} values)")
            row[col] = vals[0].item() if hasattr(vals[0], "item") else vals[0]
        out[str(name)] = row
    return out
