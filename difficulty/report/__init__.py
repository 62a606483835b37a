"""``difficulty analyze`` and ``difficulty demo``: from results to a report folder.

Edge package: :func:`analyze` has each group summarized by the core (``difficulty.summary``) and
writes what it returns: report.md (:mod:`.markdown`), figures (:mod:`.figures`), summary.json,
ranked.csv and the posteriors (netCDF). Everything is written into ``<out>.partial`` (:mod:`.staging`),
a group's files as soon as it is done, and the folder is moved into place at the end: an
interrupted run leaves no half report, and the groups it finished can be taken up again.
"""
from __future__ import annotations

import os
import sys
import time

from ..errors import DifficultyError
from ..generate import demo_data

__all__ = ["analyze", "demo_data"]


def _log(msg):
    print(f"  {msg}", file=sys.stderr, flush=True)


def _one_line(g) -> str:
    if "skipped" in g:
        return f"[{g['group']}] only pass@k: {g['skipped']}"
    p = g["posterior"]
    how = f"{p['steps']} emcee steps" if p.get("sampler") == "emcee" else f"importance sampling (k {p['pareto_k']:.2f})"
    return (f"[{g['group']}] {g['seconds']:.1f} s: best AIC {g['best_aic']}, posterior by {how}, "
            f"{g['ranking']['n_selected']} problems selected")


def analyze(counts, out_dir: str, *, force=False, budget=None, target=0.9, prompt_tokens=500.0, decode_tokens=300.0,
            flops_per_token=1.0, truths=None, quiet=False, max_steps=3000, progress=None, plots=True, resume=False,
            jobs=None, backend="loky", scheduler=None, joint=False, covariates=None):
    """Summarize each group and write the report folder ``out_dir`` (whole or not at all).

    ``budget``: K for the ranking and the obtainable mass (default: the median number of attempts).
    ``truths``: {group: model} known to have generated the data, drawn beside the estimates.
    ``progress``: a callback (stage, done, total) for each group's stages; without one, and unless
    ``quiet``, one line per group goes to stderr. ``plots=False``: no figures. ``resume``: take up
    the groups an interrupted run finished (kept in ``<out_dir>.partial``) instead of starting over.
    ``jobs``, ``backend``, ``scheduler``: groups in parallel (``difficulty.parallel.map_groups``);
    each group is written as soon as it arrives. ``joint``: also fit the joint model over the groups
    (needs a group and a problem column), and give each group's forecast, density and ranking from it
    beside the per-group ones (the ranked tables from it); ``covariates`` ({group: {column: value}}, e.g.
    from difficulty.io.group_covariates): the joint abilities regressed on them. Returns the summary
    written to summary.json.
    """
    out_dir = os.path.abspath(out_dir)
    if os.path.exists(out_dir) and not force:
        raise DifficultyError(f"{out_dir} exists; pass --force to replace it")
    parent = os.path.dirname(out_dir)
    if not os.path.isdir(parent):
        raise DifficultyError(f"cannot write {out_dir}: folder {parent} does not exist")
    from .. import __version__
    from .. import summary as core
    from ..io import to_json
    from . import staging
    from .markdown import render_markdown

    t0 = time.perf_counter()
    opts, options, joint_fit = core.prepare(counts, budget, joint, covariates, target=target,
                                            prompt_tokens=prompt_tokens,
                                            decode_tokens=decode_tokens, flops_per_token=flops_per_token,
                                            max_steps=max_steps)
    say = _log if not quiet and progress is None else (lambda msg: None)
    folder = staging.prepare(out_dir, resume)
    try:
        parts = counts.groups()
        tags = staging.file_tags(parts)
        from ..parallel import map_groups

        groups, todo, keys = {}, [], {}
        for name, sub in parts.items():
            truth = (truths or {}).get(name)
            keys[name] = staging.group_key(sub, {**options, "plots": plots}, truth)
            data = staging.load_group(folder, tags[name], keys[name]) if resume else None
            if data is None:
                todo.append((name, sub, truth))
            else:
                say(f"[{name}] taken from {folder}")
                groups[name] = data
        serial = backend == "sequential" or (backend == "loky" and (jobs == 1 or len(todo) <= 1))
        stage_progress = progress if serial else None  # a callback cannot follow a group into a worker

        def written(i, summ):  # in this process, as each group arrives: nothing finished is lost
            name = todo[i][0]
            groups[name] = staging.write_group(folder, tags[name], summ, keys[name], plots)
            say(_one_line(groups[name]))
            if progress is not None and not serial:
                progress("groups", sum(n in groups for n, *_ in todo), len(todo))

        if progress is not None and not serial and todo:
            progress("groups", 0, len(todo))
        map_groups(core.summarize_or_say_why,
                   [(name, sub, opts, truth, stage_progress, joint_fit) for name, sub, truth in todo],
                   jobs=jobs, backend=backend, scheduler=scheduler, on_result=written)
        groups = {name: groups[name] for name in parts}  # in the data's order
        seconds = time.perf_counter() - t0
        summary = {"source": counts.source, "version": __version__, "groups": groups, "seconds": seconds,
                   "options": options}
        if truths:
            summary["truth"] = {k: v.to_dict() for k, v in truths.items()}
        with open(os.path.join(folder, "summary.json"), "w") as fh:
            fh.write(to_json(summary, indent=1))
        staging.write_ranked(folder, tags)
        with open(os.path.join(folder, "report.md"), "w") as fh:
            fh.write(render_markdown(groups, counts.source, __version__, seconds, truths))
        staging.finish(folder, out_dir)
    except BaseException:
        if staging.abandon(folder) and not quiet:
            _log(f"the finished groups are kept in {folder}: run again with --resume to go on from them")
        raise
    return summary
