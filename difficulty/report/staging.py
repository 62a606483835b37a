"""The folder a report is written into before it is moved into place: ``<out>.partial``.

Each group's files (figures, posterior netCDF, ranked problems, and last ``groups/<group>.json``,
which marks the group done) are written there as soon as the group is summarized, so that an
interrupted run can be resumed; the whole folder becomes the report by one rename at the end.
A group is taken back on resume only if it was made from the same counts with the same options.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil

from ..errors import DifficultyError
from ..io import to_json, write_atomic

MARKER = ".difficulty-partial"  # only a folder carrying it is ours to resume or remove
FILES = {"pass_at_k": "passk", "inference_loss": "loss", "density": "density", "pairs": "pairs", "cost": "cost",
         "ranking": "ranking"}


def partial_path(out_dir: str) -> str:
    return out_dir + ".partial"


def prepare(out_dir: str, resume: bool) -> str:
    """The staging folder, kept from an earlier run if ``resume``, else made anew."""
    path = partial_path(out_dir)
    if os.path.lexists(path):
        if not os.path.isfile(os.path.join(path, MARKER)):
            raise DifficultyError(f"{path} exists and is not an unfinished report; move it away")
        if not resume:
            shutil.rmtree(path)
    os.makedirs(os.path.join(path, "groups"), exist_ok=True)
    with open(os.path.join(path, MARKER), "w") as fh:
        fh.write(f"unfinished report for {out_dir}\n")
    return path


def file_tags(names) -> dict:
    """{group: a file-name-safe tag}, distinct even where two names differ only in unsafe characters."""
    tags, used = {}, set()
    for name in names:
        base = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(name)) or "all"
        tag, i = base, 1
        while tag in used:
            i += 1
            tag = f"{base}-{i}"
        used.add(tag)
        tags[name] = tag
    return tags


def group_key(counts, options: dict, truth=None) -> dict:
    """What a group's results depend on: its counts (a digest), the options, the truth drawn."""
    h = hashlib.sha256()
    for a in (counts.n, counts.c):
        h.update(a.astype("int64").tobytes())
    h.update("\0".join(map(str, counts.problem_ids)).encode())
    key = {"counts": h.hexdigest(), "options": options, "truth": None if truth is None else truth.to_dict()}
    return json.loads(to_json(key))  # as it reads back from the file


def _group_json(folder, tag):
    return os.path.join(folder, "groups", f"{tag}.json")


def load_group(folder: str, tag: str, key: dict):
    """The group's data from an earlier run, or None if it is absent or was made otherwise."""
    try:
        with open(_group_json(folder, tag)) as fh:
            stored = json.load(fh)
    except (OSError, ValueError):
        return None
    return stored["summary"] if stored.get("key") == key else None


def write_group(folder: str, tag: str, summary, key: dict, plots: bool) -> dict:
    """Write one group's files; returns its data as written (JSON values, figure names added)."""
    for prefix in FILES.values():  # a figure left by an earlier run with other options
        stale = os.path.join(folder, f"{prefix}_{tag}.png")
        if os.path.exists(stale):
            os.remove(stale)
    data = dict(summary.data)
    drawable = "skipped" not in data or "joint" in data  # a group nothing was fitted to: the joint's figures
    data["figures"] = _draw(folder, tag, summary) if plots and drawable else {}
    if summary.posterior is not None:
        summary.posterior.to_netcdf(os.path.join(folder, f"posterior_{tag}.nc"))
    if summary.ranked is not None:
        summary.ranked.to_csv(os.path.join(folder, f"ranked_{tag}.csv"), index=False)
    text = to_json({"key": key, "summary": data}, indent=1)
    write_atomic(_group_json(folder, tag), lambda fh: fh.write(text))  # last: the group is done
    return json.loads(text)["summary"]


def _draw(folder, tag, summary) -> dict:
    """The group's figures; for a group no per-group model could be fitted to, what the joint fit says
    of it (pass@k with the joint's forecast, the joint's density, the ranking)."""
    from . import figures

    d, name = summary.data, summary.name
    joint = d.get("joint")
    only_joint = "skipped" in d
    c = None if only_joint else d["curves"]
    truth = c.get("truth") if c else None
    out = {}

    def path(kind):
        out[kind] = f"{FILES[kind]}_{tag}.png"
        return os.path.join(folder, out[kind])

    figures.plot_pass_at_k(path("pass_at_k"), d["pass_at_k"], c, d.get("forecast"), d.get("forecast_average"),
                           f"pass@k: {name}", joint)
    if not only_joint:
        figures.plot_inference_loss(path("inference_loss"), d["pass_at_k"], c, f"inference loss: {name}")
    figures.plot_density(path("density"), d.get("density", {}), d["attempts_max"], truth,
                         f"difficulty density: {name}", joint)
    if summary.posterior is not None:
        figures.plot_pairs(path("pairs"), summary.posterior, truth["params"] if truth else None)
    if c and "cost" in c:
        figures.plot_cost(path("cost"), c["cost"], d["cost_plan"], f"coverage vs cost: {name}")
    if summary.ranked is not None:
        r = d["ranking"]
        by = ""
        if joint is not None:
            pooled = r["model"].endswith(" + joint")
            by = f" ({'pooled with the ' if pooled else ''}joint model over {joint['groups']} groups)"
        figures.plot_ranking(path("ranking"), summary.ranked, r["band"], r["budget"], f"ranking: {name}{by}")
    return out


def write_ranked(folder: str, tags: dict) -> None:
    """ranked.csv: every group's ranked problems, a "group" column first (text kept as written)."""
    import pandas as pd

    tables = []
    for name, tag in tags.items():
        path = os.path.join(folder, f"ranked_{tag}.csv")
        if os.path.exists(path):
            t = pd.read_csv(path, dtype=str, keep_default_na=False)
            t.insert(0, "group", name)
            tables.append(t)
    if tables:
        pd.concat(tables, ignore_index=True).to_csv(os.path.join(folder, "ranked.csv"), index=False)


def finish(folder: str, out_dir: str) -> None:
    """Move the staging folder into place, replacing ``out_dir`` if it exists."""
    if os.path.lexists(out_dir):
        old = f"{out_dir}.old-{os.getpid()}"
        os.replace(out_dir, old)
        os.replace(folder, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(folder, out_dir)
    os.remove(os.path.join(out_dir, MARKER))


def abandon(folder: str) -> bool:
    """After an interruption: keep the folder if some group is done in it (True), else remove it."""
    groups = os.path.join(folder, "groups")
    if os.path.isdir(groups) and any(n.endswith(".json") and not n.startswith(".") for n in os.listdir(groups)):
        return True
    shutil.rmtree(folder, ignore_errors=True)
    return False
