"""The ``difficulty`` command line. Edges only: it parses, calls the core, prints."""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile

import numpy as np

from .errors import DifficultyError

EPILOG_FMT = "example:\n  {}"


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help="CSV, TSV, JSONL/JSON or Parquet file of evaluation results")
    p.add_argument("--format", help="file format when the extension does not say (csv, tsv, jsonl, parquet)")
    p.add_argument("--n-col", help="column of attempts per problem (default: recognised by name)")
    p.add_argument("--c-col", help="column of successes per problem")
    p.add_argument("--problem-col", help="column of problem ids")
    p.add_argument("--outcome-col", help="column of per-attempt outcomes, or of outcome lists")
    p.add_argument("--group-col", help="report each value of this column (e.g. model) separately")


def _load(args):
    from .io import load_counts

    return load_counts(args.data, format=args.format, n_col=args.n_col, c_col=args.c_col,
                       problem_col=args.problem_col, group_col=args.group_col, outcome_col=args.outcome_col)


def _level(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1), got {v}")
    return v


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _clean_json(o):
    """NaN/inf are not JSON: they become null."""
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _clean_json(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean_json(v) for v in o]
    if isinstance(o, np.ndarray):
        return _clean_json(o.tolist())
    if isinstance(o, np.generic):
        return _clean_json(o.item())
    return o


def print_json(obj) -> None:
    print(json.dumps(_clean_json(obj), default=_json_default, indent=None))


def _per_group(counts, fn, grouped: bool):
    """Run fn on each group; returns {"groups": {...}} when grouped, else the single result."""
    if grouped:
        return {"groups": {name: fn(sub) for name, sub in counts.groups().items()}}
    return fn(counts)


def write_atomic(path: str, write_fn, mode="w") -> None:
    """Write a file whole or not at all: into a temporary file beside it, then rename."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(folder):
        raise DifficultyError(f"cannot write {path}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, mode) as fh:
            write_fn(fh)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------- passk
def cmd_passk(args) -> int:
    from .passk import estimate_pass_at_k, parse_k

    counts = _load(args)
    k = parse_k(args.k) if args.k else None

    def one(sub):
        kk = k if k is not None else _default_k(int(sub.n.min()))
        return estimate_pass_at_k(sub, kk, level=args.level, seed=args.seed).to_dict()

    result = _per_group(counts, one, args.group_col is not None)
    if args.json:
        print_json(result)
        return 0
    blocks = result["groups"] if "groups" in result else {"": result}
    for name, r in blocks.items():
        if name:
            print(f"[{name}]  ({r['n_problems']} problems)")
        else:
            print(f"{r['n_problems']} problems")
        lvl = int(round(100 * r["level"]))
        print(f"{'k':>10}  {'pass@k':>9}  {f'{lvl}% interval':>21}")
        for kk, v, lo, hi in zip(r["k"], r["pass_at_k"], r["low"], r["high"]):
            print(f"{kk:>10}  {v:>9.5f}  [{lo:.5f}, {hi:.5f}]")
        print()
    return 0


def _default_k(nmin: int) -> np.ndarray:
    ks = np.unique(np.round(np.logspace(0, np.log10(nmin), 12)).astype(int))
    return ks[ks <= nmin]


# ---------------------------------------------------------------- models
def model_from_args(name: str, extras: list[str]):
    """Build a model from ``--param value`` pairs left over by argparse."""
    from .models import MODELS, make_model

    if name not in MODELS:
        raise DifficultyError(f"unknown model {name!r}; models are {', '.join(MODELS)}")
    params = {}
    i = 0
    while i < len(extras):
        tok = extras[i]
        if not tok.startswith("--"):
            raise DifficultyError(f"unexpected argument {tok!r}: model parameters are given as --NAME VALUE")
        key = tok[2:]
        if "=" in key:
            key, value = key.split("=", 1)
            i += 1
        else:
            if i + 1 >= len(extras):
                raise DifficultyError(f"parameter --{key} needs a value")
            value = extras[i + 1]
            i += 2
        key = key.replace("-", "_")
        if name != "beta-mixture":
            try:
                value = float(value)
            except ValueError:
                raise DifficultyError(f"parameter --{key} must be a number, got {value!r}") from None
        params[key] = value
    return make_model(name, **params)


def _floats_arg(text: str, what: str) -> np.ndarray:
    try:
        vals = np.array([float(x) for x in text.split(",") if x.strip()])
    except ValueError:
        raise DifficultyError(f"{what} must be a comma-separated list of numbers, got {text!r}") from None
    if vals.size == 0 or not np.all(np.isfinite(vals)):
        raise DifficultyError(f"{what} must be finite numbers, got {text!r}")
    return vals


def cmd_model(args, extras) -> int:
    model = model_from_args(args.name, extras)
    k = _floats_arg(args.k, "--k")
    if np.any(k < 0):
        raise DifficultyError("--k values must be >= 0")
    out = {"model": model.name, "params": model.params, "k": k, "pass_at_k": model.pass_at_k(k),
           "inference_loss": model.inference_loss(k), "ceiling": model.ceiling}
    from .models import DifficultyModel

    if isinstance(model, DifficultyModel):
        out["never_solved"] = model.never_solved
        sigma = _floats_arg(args.sigma, "--sigma")
        out["sigma"] = sigma
        try:
            out["density_sigma"] = model.density_sigma(sigma)
        except DifficultyError as e:
            out["density_sigma"] = None
            out["density_note"] = str(e)
    try:
        out["inference_loss_asymptote"] = model.inference_loss_asymptote(k)
        out["tail_exponent"] = model.tail_exponent
    except DifficultyError:
        pass
    if args.json:
        print_json(out)
        return 0
    print(f"{model!r}   ceiling A = {model.ceiling:.6g}")
    print(f"{'k':>12}  {'pass@k':>14}  {'inference loss':>14}")
    for kk, v, l in zip(k, out["pass_at_k"], out["inference_loss"]):
        print(f"{kk:>12.6g}  {v:>14.10f}  {l:>14.6e}")
    if out.get("density_sigma") is not None:
        print(f"\n{'sigma':>12}  {'density':>14}")
        for sg, d in zip(out["sigma"], out["density_sigma"]):
            print(f"{sg:>12.6g}  {d:>14.6e}")
    return 0


def cmd_plan(args, extras) -> int:
    from .cost import plan_cost

    model = model_from_args(args.model, extras)
    plan = plan_cost(model, args.target, args.prompt_tokens, args.decode_tokens, args.flops_per_token)
    out = {"model": model.name, "params": model.params, **plan.to_dict()}
    if args.json:
        print_json(out)
        return 0
    print(f"{model!r}: target coverage {plan.target:g} (ceiling A = {plan.ceiling:.6g})")
    print(f"  k (exact, from pass@k)     : {plan.k:.6g}  -> {plan.k_attempts} attempts")
    print(f"  cost C = F (N_p + N_d k)   : {plan.cost:.6g}")
    if plan.k_asymptotic is not None:
        print(f"  k (large-k closed form)    : {plan.k_asymptotic:.6g}   cost {plan.cost_asymptotic:.6g}")
    return 0


def _simulate_vae(args, extras) -> int:
    vp = argparse.ArgumentParser(prog="difficulty simulate vae", allow_abbrev=False)
    vp.add_argument("--data", default=None, help="IDX (.gz or raw), .npy or .npz images; default: scikit-learn digits")
    vp.add_argument("--images", type=int, default=400)
    vp.add_argument("--epochs", type=int, default=1000)
    vp.add_argument("--temperature", type=float, default=1.1)
    vp.add_argument("--epsilon", default="0.25,0.3,0.35", help="comma-separated success thresholds on Eq. 16's error")
    va = vp.parse_args(extras)
    from .vae import run_vae_experiment

    eps = _floats_arg(va.epsilon, "--epsilon")
    if np.any((eps <= 0) | (eps > 1)):
        raise DifficultyError("--epsilon values must be in (0, 1]")
    if va.temperature <= 0:
        raise DifficultyError("--temperature must be > 0")
    res = run_vae_experiment(va.data, images=va.images, epochs=va.epochs, temperature=va.temperature,
                             attempts=args.attempts, epsilons=eps, seed=args.seed or 0)
    frame = res.counts.to_frame().rename(columns={"group": "epsilon"})
    write_atomic(args.output, lambda fh: frame.to_csv(fh, index=False))
    npz = os.path.splitext(args.output)[0] + ".npz"
    write_atomic(npz, lambda fh: np.savez_compressed(fh, errors=res.errors, epsilons=res.epsilons,
                                                     eigenvalues=res.eigenvalues, kappa=res.kappa), mode="wb")
    print(f"data: {res.source}", file=sys.stderr)
    print(f"wrote counts for {len(eps)} thresholds to {args.output} (group column 'epsilon') and the "
          f"error matrix to {npz}; eigenvalue power-law kappa = {res.kappa:.3f}", file=sys.stderr)
    return 0


def cmd_simulate(args, extras) -> int:
    from .generate import simulate_counts

    if args.model == "vae":
        args.attempts = args.attempts or 1000
        return _simulate_vae(args, extras)
    model = model_from_args(args.model, extras)
    sim = simulate_counts(model, args.problems, args.attempts or 100, seed=args.seed)
    frame = sim.counts.to_frame().assign(true_p=sim.p)
    if sim.first_success is not None:
        frame = frame.assign(first_success=sim.first_success)
    write_atomic(args.output, lambda fh: frame.to_csv(fh, index=False))
    print(f"wrote {len(frame)} problems from {model!r} to {args.output}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- fit / forecast / backtest
def _curve_or_counts(args):
    from .io import is_curve_file, load_curve

    if is_curve_file(args.data, args.format):
        return "curve", load_curve(args.data, args.format)
    return "counts", _load(args)


def cmd_fit(args) -> int:
    kind, data = _curve_or_counts(args)
    method = args.method or ("lsq" if kind == "curve" else "mle")
    if kind == "curve":
        if method != "lsq":
            raise DifficultyError(f"a k,pass_at_k curve can only be fitted by least squares (--method lsq), not {method}")
        from .fit.curve import fit_curve

        k, y, n = data
        result = fit_curve(k, y, args.model, n_problems=n, level=args.level).to_dict()
    else:
        def one(sub):
            if method == "lsq":
                from .fit.curve import curve_from_counts, fit_curve

                nmin = int(sub.n.min())
                kk = np.unique(np.round(np.logspace(0, np.log10(nmin), 25)).astype(int))
                y, cov, n = curve_from_counts(sub, kk)
                return fit_curve(kk, y, args.model, n_problems=n, cov=cov, level=args.level).to_dict()
            if method == "mle":
                from .fit.mle import fit_mle

                return fit_mle(sub, args.model, level=args.level).to_dict()
            if method == "mcmc":
                from .fit.mcmc import sample_posterior

                import warnings

                with warnings.catch_warnings():  # its warnings are kept in the result and printed
                    warnings.simplefilter("ignore", RuntimeWarning)
                    post = sample_posterior(sub, args.model, walkers=args.walkers, steps=args.steps,
                                            seed=args.seed, level=args.level)
                for w in post.warnings:
                    print(f"difficulty: warning: {w}", file=sys.stderr)
                out = post.to_fit_result(args.level).to_dict()
                for name, d in out.pop("params_extra", {}).items():
                    out["params"][name].update(d)
                if args.save_posterior:
                    path = args.save_posterior if not args.group_col else f"{args.save_posterior}.{_safe(sub_name[0])}.nc"
                    write_atomic(path, lambda fh: None, mode="wb")  # checks the folder, then netCDF writes it
                    post.save(path)
                return out
            raise DifficultyError(f"unknown method {method!r}")

        sub_name = [""]

        def named(item):
            sub_name[0] = item
            return item

        if args.group_col:
            result = {"groups": {named(name): one(sub) for name, sub in data.groups().items()}}
        else:
            result = one(data)
    if args.json:
        print_json(result)
        return 0
    blocks = result["groups"] if "groups" in result else {"": result}
    for name, r in blocks.items():
        lvl = int(round(100 * r["level"]))
        print(f"{('[' + name + ']  ') if name else ''}model {r['model']} by {r['method']}"
              + (f"   log-likelihood {r['loglike']:.3f}  AIC {r['aic']:.2f}" if "loglike" in r else ""))
        for pn, pv in r["params"].items():
            extra = f"   R-hat {pv['r_hat']:.3f}  ESS {pv['ess']:.0f}" if "r_hat" in pv else ""
            print(f"  {pn:>8} = {pv['value']:.6g}   {lvl}% [{pv['low']:.6g}, {pv['high']:.6g}]{extra}")
        for w in r.get("warnings", []):
            print(f"  warning: {w}")
    return 0


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def cmd_forecast(args) -> int:
    from .forecast import DEFAULT_FORECAST, forecast_pass_at_k

    ks = _floats_arg(args.k, "--k")
    kind, data = _curve_or_counts(args)
    if kind == "curve":
        from .fit.curve import fit_curve
        from .forecast import _curve_draws

        k_obs, y, n = data
        name = args.model or "beta"
        fit = fit_curve(k_obs, y, name, n_problems=n, level=args.level)
        vals = _curve_draws(fit, ks, 400, np.random.default_rng(args.seed))
        mid = fit.model.pass_at_k(ks)
        lo, hi = np.quantile(vals, [0.5 - args.level / 2, 0.5 + args.level / 2], axis=0)
        result = {"k": ks, "pass_at_k": mid, "low": np.minimum(lo, mid), "high": np.maximum(hi, mid),
                  "model": fit.model_name, "method": "lsq", "level": args.level, "target": "population"}
    else:
        def one(sub):
            return forecast_pass_at_k(sub, ks, model=args.model, method=args.method, level=args.level,
                                      target=args.target, seed=args.seed).to_dict()

        result = _per_group(data, one, args.group_col is not None)
    if args.json:
        print_json(result)
        return 0
    blocks = result["groups"] if "groups" in result else {"": result}
    for name, r in blocks.items():
        lvl = int(round(100 * r["level"]))
        print(f"{('[' + name + ']  ') if name else ''}forecast by {r['model']} ({r['method']}, {r['target']})")
        if r.get("weights"):
            print("  weights (pseudo-BMA+, leave-one-problem-out): "
                  + ", ".join(f"{m} {w:.3f}" for m, w in r["weights"].items()))
        print(f"{'k':>12}  {'pass@k':>9}  {f'{lvl}% band':>21}")
        for kk, v, lo, hi in zip(r["k"], r["pass_at_k"], r["low"], r["high"]):
            print(f"{kk:>12.6g}  {v:>9.5f}  [{lo:.5f}, {hi:.5f}]")
    return 0


def cmd_backtest(args) -> int:
    from .backtest import FORECASTERS, backtest

    counts = _load(args)
    names = args.forecasters.split(",") if args.forecasters else None
    for n in names or []:
        if n not in FORECASTERS:
            raise DifficultyError(f"unknown forecaster {n!r}; choose from {', '.join(FORECASTERS)}")

    def one(sub):
        return backtest(sub, args.attempts, args.k, seeds=args.seeds, level=args.level, forecasters=names).to_dict()

    result = _per_group(counts, one, args.group_col is not None)
    if args.json:
        print_json(result)
        return 0
    blocks = result["groups"] if "groups" in result else {"": result}
    for name, r in blocks.items():
        print(f"{('[' + name + ']  ') if name else ''}pass@{r['k']} forecast from {r['attempts']} attempts per "
              f"problem ({r['n_problems']} problems with N >= {r['k']})")
        print(f"{'forecaster':>22}  {'MAE':>8}  {'coverage':>8}  {'width':>8}")
        for fname, f in r["forecasters"].items():
            print(f"{fname:>22}  {f['mae']:>8.4f}  {f['coverage']:>8.2f}  {f['mean_width']:>8.4f}")
    return 0


# ---------------------------------------------------------------- rank
def _band_arg(text: str):
    vals = _floats_arg(text, "--band")
    if vals.size != 2:
        raise DifficultyError(f"--band takes LO,HI, got {text!r}")
    return float(vals[0]), float(vals[1])


def cmd_rank(args) -> int:
    import pandas as pd

    from .ranking import rank_problems

    counts = _load(args)
    band = _band_arg(args.band)
    results = {}
    frames = []
    for name, sub in (counts.groups().items() if args.group_col else [("", counts)]):
        r = rank_problems(sub, budget=args.budget, band=band, model=args.model, confidence=args.confidence,
                          level=args.level, top=args.top, seed=args.seed)
        t = r.table.sort_values("rank")
        if args.group_col:
            t.insert(0, "group", name)
        frames.append(t)
        results[name] = r
    table = pd.concat(frames, ignore_index=True)
    if args.output:
        write_atomic(args.output, lambda fh: table.to_csv(fh, index=False))
    if args.json:
        if args.group_col:
            print_json({"groups": {n: r.to_dict() for n, r in results.items()}})
        else:
            print_json(results[""].to_dict())
        return 0
    for name, r in results.items():
        t = r.table.sort_values("rank")
        print(f"{('[' + name + ']  ') if name else ''}{int(t.selected.sum())} of {len(t)} problems selected as "
              f"difficult but obtainable: P(solved within {r.budget:g} attempts) in [{band[0]:g}, {band[1]:g}] with "
              f"probability >= {r.confidence:g} ({r.model}); expected truly obtainable among them: "
              f"{r.expected_obtainable_selected:.1f}")
        cols = ["problem", "n", "c", "q_mean", "q_low", "q_high", "p_solve_within_budget", "p_in_band", "rank", "selected"]
        print(t[cols].head(args.show).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print()
    return 0


# ---------------------------------------------------------------- invert
def cmd_invert(args) -> int:
    from .inversion import invert_counts, invert_curve, obtainable_mass

    kind, data = _curve_or_counts(args)
    implied = {"tikhonov-nnls": "curve", "npmle-em": "counts"}.get(args.method)
    if implied and args.source and implied != args.source:
        raise DifficultyError(f"--method {args.method} inverts the {implied}, not the {args.source} (--from)")
    source = args.source or implied or ("curve" if kind == "curve" else "counts")
    if kind == "curve" and source == "counts":
        raise DifficultyError("--from counts needs per-problem counts; this file is a k,pass_at_k curve")

    def finish(est, k_max):
        d = est.to_dict()
        d["k_max"] = k_max
        mass, lo, hi = obtainable_mass(est, args.budget)
        d["obtainable_mass"] = {"budget": args.budget, "band": [0.5, 0.99], "mass": mass, "low": lo, "high": hi}
        return d

    if kind == "curve":
        k, y, n = data
        noise = None if n is None else np.sqrt(np.clip(y * (1 - y), 1.0 / n, None) / n)
        result = finish(invert_curve(k, y, noise=noise, level=args.level, seed=args.seed), float(k.max()))
    else:
        def one(sub):
            if source == "counts":
                return finish(invert_counts(sub, level=args.level, seed=args.seed), float(sub.n.max()))
            from .passk import pass_at_k_matrix

            nmin = int(sub.n.min())
            kk = np.unique(np.round(np.logspace(0, np.log10(nmin), 40)).astype(int))
            m = pass_at_k_matrix(sub, kk)
            rng = np.random.default_rng(args.seed)
            boots = np.array([m[rng.integers(0, m.shape[0], m.shape[0])].mean(axis=0) for _ in range(100)])
            return finish(invert_curve(kk, m.mean(axis=0), boot_curves=boots, level=args.level, seed=args.seed),
                          float(nmin))

        result = _per_group(data, one, args.group_col is not None)
    if args.json:
        print_json(result)
        return 0
    blocks = result["groups"] if "groups" in result else {"": result}
    for name, r in blocks.items():
        lvl = int(round(100 * r["level"]))
        print(f"{('[' + name + ']  ') if name else ''}difficulty density by {r['method']}"
              + (f" (regularization {r['regularization']:.3g})" if r["regularization"] is not None else ""))
        print(f"  never solved (p = 1): {r['never_solved']:.4f}   always solved (p = 0): {r['always_solved']:.4f}")
        om = r["obtainable_mass"]
        band = f" [{om['low']:.4f}, {om['high']:.4f}]" if om["low"] is not None else ""
        print(f"  difficult but obtainable within {om['budget']:g} attempts: {om['mass']:.4f}{band}")
        print(f"  note: {r['note']}")
        print(f"{'sigma':>12}  {'density':>12}  {f'{lvl}% band':>27}")
        step = max(1, len(r["sigma"]) // 15)
        for i in range(0, len(r["sigma"]), step):
            lo = r["low"][i] if r["low"] is not None else float("nan")
            hi = r["high"][i] if r["high"] is not None else float("nan")
            print(f"{r['sigma'][i]:>12.4g}  {r['density'][i]:>12.4g}  [{lo:>12.4g}, {hi:>12.4g}]")
    return 0


# ---------------------------------------------------------------- analyze / demo
def _report_opts(args):
    return dict(force=args.force, budget=args.budget, target=args.target, prompt_tokens=args.prompt_tokens,
                decode_tokens=args.decode_tokens, flops_per_token=args.flops_per_token)


def cmd_analyze(args) -> int:
    from .report import analyze

    counts = _load(args)
    print(f"difficulty: analysing {counts.n_problems} problems from {args.data}", file=sys.stderr)
    summary = analyze(counts, args.output, **_report_opts(args))
    print(f"wrote {os.path.join(args.output, 'report.md')} ({summary['seconds']:.1f} s)")
    return 0


def cmd_demo(args) -> int:
    from .report import analyze, demo_data

    counts, truths = demo_data(seed=args.seed)
    print(f"difficulty: demo on built-in generated data ({counts.n_problems} problems, {len(truths)} models "
          f"of known difficulty)", file=sys.stderr)
    summary = analyze(counts, args.output, truths=truths, **_report_opts(args))
    for name, g in summary["groups"].items():
        t = truths[name]
        post = g["posterior"]["summary"]
        print(f"  {name:>13}: alpha {post['alpha']['mean']:.3f} (true {t.alpha:g}), beta {post['beta']['mean']:.3f} "
              f"(true {t.beta:g}), A {post['A']['mean']:.3f} (true {t.ceiling:g}); "
              f"{g['ranking']['n_selected']} problems selected")
    print(f"wrote {os.path.join(args.output, 'report.md')} ({summary['seconds']:.1f} s)")
    return 0


def _add_report_args(p):
    p.add_argument("--budget", type=float, default=None,
                   help="K for ranking and the obtainable mass (default: the median number of attempts)")
    p.add_argument("--target", type=_level, default=0.9, help="coverage target for the cost plan (default 0.9)")
    p.add_argument("--prompt-tokens", type=float, default=500.0, help="N_p for the cost plan")
    p.add_argument("--decode-tokens", type=float, default=300.0, help="N_d for the cost plan")
    p.add_argument("--flops-per-token", type=float, default=1.0, help="F for the cost plan (1: cost in tokens)")
    p.add_argument("--force", action="store_true", help="replace an existing output folder")


# ---------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="difficulty", allow_abbrev=False,
        description="Inference scaling from repeated sampling: exact pass@k, difficulty models, "
                    "posteriors, forecasts and the perceived-difficulty density.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"difficulty {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    fmt = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser(allow_abbrev=False, name="passk", help="exact pass@k with intervals", formatter_class=fmt,
                       description="Unbiased pass@k (Chen et al. 2021) at each k <= N, averaged over problems, "
                                   "with a bootstrap interval that carries both problem sampling and finite attempts.",
                       epilog=EPILOG_FMT.format("difficulty passk results.csv --k 1,10,100 --group-col model --json"))
    _add_data_args(p)
    p.add_argument("--k", help="comma-separated k values (default: 12 log-spaced up to the smallest N)")
    p.add_argument("--level", type=_level, default=0.9, help="interval level (default 0.9)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_passk)

    from .models import MODELS

    names = ", ".join(MODELS)
    p = sub.add_parser(allow_abbrev=False, name="simulate", help="generate counts with a known truth", formatter_class=fmt,
                       description="Simulate per-problem counts from a difficulty model (parameters as "
                                   f"--NAME VALUE; models: {names}). The true per-problem failure "
                                   "probability is written in column true_p. `simulate vae` trains the VAE of the "
                                   "paper's Section 4 (--data PATH --images 400 --epochs 1000 --temperature 1.1 "
                                   "--epsilon LIST) and writes counts per threshold plus the error matrix (.npz).",
                       epilog=EPILOG_FMT.format("difficulty simulate beta --alpha 2 --beta 0.35 --problems 500 "
                                                "--attempts 100 --seed 1 -o sim.csv"))
    p.add_argument("model", help="the generating model")
    p.add_argument("--problems", type=int, default=1000)
    p.add_argument("--attempts", type=int, default=None, help="attempts per problem (default 100; 1000 for vae)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("-o", "--output", required=True, help="CSV file to write")
    p.set_defaults(func=cmd_simulate, extras=True)

    p = sub.add_parser(allow_abbrev=False, name="model", help="evaluate a model's pass@k, inference loss and density", formatter_class=fmt,
                       description=f"Evaluate a model (parameters as --NAME VALUE; models: {names}).",
                       epilog=EPILOG_FMT.format("difficulty model beta --alpha 2 --beta 0.35 --k 1,10,100 --json"))
    p.add_argument("name", help="model name")
    p.add_argument("--k", default="1,10,100,1000", help="comma-separated k (real k >= 0 allowed)")
    p.add_argument("--sigma", default="0.01,0.1,1,3", help="comma-separated sigma = log(1/p) for the density")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_model, extras=True)

    p = sub.add_parser(allow_abbrev=False, name="plan", help="k and cost for a target coverage (Eq. 13-15)", formatter_class=fmt,
                       description="Solve the model's pass@k for the k that reaches --target, and the cost "
                                   "C = F (N_p + N_d k); the paper's large-k closed form is shown beside it.",
                       epilog=EPILOG_FMT.format("difficulty plan --model beta --alpha 2 --beta 0.35 --target 0.9 "
                                                "--prompt-tokens 500 --decode-tokens 300 --json"))
    p.add_argument("--model", required=True, help="model name")
    p.add_argument("--target", type=_level, required=True, help="target coverage in (0, 1)")
    p.add_argument("--prompt-tokens", type=float, required=True, help="N_p")
    p.add_argument("--decode-tokens", type=float, required=True, help="N_d per attempt")
    p.add_argument("--flops-per-token", type=float, default=1.0, help="F (default 1: cost in tokens)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_plan, extras=True)

    likes = "beta, zi-beta, kumaraswamy, scaled-beta, beta-mixture (per-problem); beta, effective-k, exp-power-law, power-law (curves)"
    p = sub.add_parser(allow_abbrev=False, name="fit", help="fit a model: least squares, maximum likelihood or MCMC",
                       formatter_class=fmt,
                       description="Fit a difficulty model. Counts: maximum likelihood (default) or an emcee "
                                   "posterior (--method mcmc) of a per-problem likelihood, or least squares to the "
                                   "aggregate curve (--method lsq). A k,pass_at_k file: least squares. "
                                   f"Models: {likes}.",
                       epilog=EPILOG_FMT.format("difficulty fit results.csv --model zi-beta --method mcmc --json"))
    _add_data_args(p)
    p.add_argument("--model", default="beta", help="model (default beta)")
    p.add_argument("--method", choices=["lsq", "mle", "mcmc"], help="default: mle for counts, lsq for a curve")
    p.add_argument("--level", type=_level, default=0.9, help="interval level (default 0.9)")
    p.add_argument("--walkers", type=int, default=32, help="emcee walkers (mcmc)")
    p.add_argument("--steps", type=int, default=None, help="emcee steps (default: until 50 autocorrelation times)")
    p.add_argument("--save-posterior", help="write the posterior (arviz InferenceData) as netCDF (mcmc)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser(allow_abbrev=False, name="forecast", help="pass@k at any k with a band", formatter_class=fmt,
                       description="Forecast pass@k beyond the sampled k. Default: the Kumaraswamy-binomial "
                                   "posterior (emcee), for these problems (each problem's own counts enter "
                                   "through its posterior), with a band from parameter and per-problem "
                                   "uncertainty. --method mle is faster; its Laplace band is too narrow when "
                                   "few problems were solved.",
                       epilog=EPILOG_FMT.format("difficulty forecast results.csv --k 1000,10000,100000 --json"))
    _add_data_args(p)
    p.add_argument("--k", required=True, help="comma-separated k (any size)")
    p.add_argument("--model", default=None, help="model (default kumaraswamy); 'average': the Kumaraswamy and "
                   "zero-inflated Beta posteriors weighted by leave-one-problem-out")
    p.add_argument("--method", choices=["mle", "mcmc", "lsq", "loglog"], default=None, help="default mcmc")
    p.add_argument("--target", choices=["problems", "population"], default="problems",
                   help="pass@k of these problems (default) or of a new draw of problems")
    p.add_argument("--level", type=_level, default=0.9)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_forecast)

    p = sub.add_parser(allow_abbrev=False, name="backtest", help="score forecasters on held-out attempts",
                       formatter_class=fmt,
                       description="Subsample m attempts per problem (hypergeometric), forecast pass@K with every "
                                   "forecaster, score against the unbiased pass@K of the full data.",
                       epilog=EPILOG_FMT.format("difficulty backtest pythia.csv --group-col model_nickname "
                                                "--attempts 100 --k 10000 --seeds 3"))
    _add_data_args(p)
    p.add_argument("--attempts", type=int, required=True, help="m: attempts kept per problem")
    p.add_argument("--k", type=int, required=True, help="K: the k to forecast (problems need N >= K)")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--forecasters", help="comma-separated subset (default: all)")
    p.add_argument("--level", type=_level, default=0.9)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_backtest)

    p = sub.add_parser(allow_abbrev=False, name="rank", help="rank problems: difficult but obtainable", formatter_class=fmt,
                       description="Per-problem posterior of the success probability under the fitted population "
                                   "model, P(solved within --budget attempts) with intervals, and the selection of "
                                   "problems whose P(solved within budget) lies in --band with probability >= "
                                   "--confidence.",
                       epilog=EPILOG_FMT.format("difficulty rank results.csv --budget 1000 --band 0.5,0.99 -o ranked.csv"))
    _add_data_args(p)
    p.add_argument("--budget", type=float, default=1000, help="K: attempts you can afford per problem (default 1000)")
    p.add_argument("--band", default="0.5,0.99", help="LO,HI on P(solved within K) (default 0.5,0.99)")
    p.add_argument("--confidence", type=_level, default=0.8, help="posterior probability needed to select (default 0.8)")
    p.add_argument("--model", default="zi-beta", help="population model (zi-beta, beta, kumaraswamy, scaled-beta)")
    p.add_argument("--top", type=int, default=None, help="keep only the N hardest selected problems")
    p.add_argument("--level", type=_level, default=0.9, help="interval level")
    p.add_argument("--show", type=int, default=15, help="rows to print")
    p.add_argument("-o", "--output", help="write the full table as CSV")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_rank)

    p = sub.add_parser(allow_abbrev=False, name="invert", help="recover the difficulty density f(sigma) (Eq. 10)",
                       formatter_class=fmt,
                       description="Recover the perceived-difficulty density f(sigma), sigma = log(1/p), with a band: "
                                   "from per-problem counts (NPMLE by EM, default for counts) or from the aggregate "
                                   "curve (Tikhonov-regularised NNLS, strength by the discrepancy principle). Works "
                                   "on a k,pass_at_k CSV too.",
                       epilog=EPILOG_FMT.format("difficulty invert results.csv --from counts --json"))
    _add_data_args(p)
    p.add_argument("--from", dest="source", choices=["curve", "counts"], help="what to invert (default: counts when present)")
    p.add_argument("--method", choices=["tikhonov-nnls", "npmle-em"],
                   help="tikhonov-nnls inverts the aggregate curve, npmle-em the per-problem counts")
    p.add_argument("--budget", type=float, default=1000, help="K for the difficult-but-obtainable mass")
    p.add_argument("--level", type=_level, default=0.9)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_invert)

    p = sub.add_parser(allow_abbrev=False, name="analyze", help="everything, as a report folder", formatter_class=fmt,
                       description="Exact pass@k, model fits and comparison, posterior with diagnostics, forecasts, "
                                   "difficulty density, ranked problems and the cost plan: writes report.md, PNG "
                                   "figures, summary.json, ranked.csv and the posteriors (netCDF) into -o DIR.",
                       epilog=EPILOG_FMT.format("difficulty analyze results.csv --group-col model -o report"))
    _add_data_args(p)
    p.add_argument("-o", "--output", default="difficulty-report", help="output folder (default difficulty-report)")
    _add_report_args(p)
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser(allow_abbrev=False, name="demo", help="the full report on built-in generated data", formatter_class=fmt,
                       description="Generate three models' evaluation counts with known difficulty distributions and "
                                   "run `analyze` on them; the truth is drawn on the figures.",
                       epilog=EPILOG_FMT.format("difficulty demo -o difficulty-demo --force"))
    p.add_argument("-o", "--output", default="difficulty-demo", help="output folder (default difficulty-demo)")
    p.add_argument("--seed", type=int, default=0)
    _add_report_args(p)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras and not getattr(args, "extras", False):
        parser.error(f"unrecognized arguments: {' '.join(extras)}")
    try:
        if getattr(args, "extras", False):
            return int(args.func(args, extras) or 0)
        return int(args.func(args) or 0)
    except DifficultyError as e:
        print(f"difficulty: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("difficulty: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head and closed: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
