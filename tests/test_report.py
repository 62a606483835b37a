"""`difficulty analyze` / `demo`: the report folder is whole or absent, and carries every section."""
import json
import os

import pytest

from difficulty import DifficultyError
from difficulty.generate import simulate_counts
from difficulty.models import make_model


def _data(tmp_path):
    rows = []
    for g, m in {"a": make_model("beta", alpha=2, beta=0.5, A=0.9), "b": make_model("beta", alpha=4, beta=0.3)}.items():
        sim = simulate_counts(m, 120, 60, seed=len(g))
        df = sim.counts.to_frame()
        df.insert(0, "model", g)
        rows.append(df)
    import pandas as pd

    p = tmp_path / "r.csv"
    pd.concat(rows).to_csv(p, index=False)
    return p


@pytest.mark.slow
def test_analyze_writes_every_part_and_refuses_to_overwrite(cli, tmp_path):
    data = _data(tmp_path)
    out = tmp_path / "rep"
    code, txt, err = cli("analyze", data, "--group-col", "model", "-o", out)
    assert code == 0, err
    names = set(os.listdir(out))
    assert {"report.md", "summary.json", "ranked.csv", "posterior_a.nc", "posterior_b.nc"} <= names
    for kind in ("passk", "loss", "density", "pairs", "cost", "ranking"):
        assert f"{kind}_a.png" in names
    s = json.loads((out / "summary.json").read_text())
    g = s["groups"]["a"]
    assert {"pass_at_k", "model_comparison", "posterior", "forecast", "forecast_average", "density", "ranking",
            "cost_plan"} <= set(g)
    assert sum(g["forecast_average"]["weights"].values()) == pytest.approx(1.0)
    # one posterior serves the forecast and the ranking (the rank command's default model)
    from difficulty.ranking import DEFAULT_MODEL

    assert g["ranking"]["model"] == g["forecast"]["model"] == g["forecaster_posterior"]["model"] == DEFAULT_MODEL
    assert g["ranking"]["fit"]["sampler"] == g["forecaster_posterior"]["sampler"]
    for grp in s["groups"].values():  # Talbot vs the closed-form density, where the density is not negligible
        assert grp["density"]["parametric"]["talbot_check_max_rel_diff"] < 1e-8
    md = (out / "report.md").read_text()
    for section in ("### pass@k", "### Models", "### Forecast", "### Perceived-difficulty density",
                    "### Difficult but obtainable", "### Cost", "R-hat"):
        assert section in md
    code, _, err = cli("analyze", data, "--group-col", "model", "-o", out)
    assert code == 2 and "--force" in err


@pytest.mark.slow
def test_interrupted_analysis_leaves_no_half_report(tmp_path, monkeypatch):
    from difficulty import report

    data = _data(tmp_path)
    from difficulty.io import load_counts

    counts = load_counts(str(data), group_col="model")

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("difficulty.ranking.rank_problems", boom)
    with pytest.raises(KeyboardInterrupt):
        report.analyze(counts, str(tmp_path / "rep"), quiet=True, jobs=1)  # monkeypatched: in this process
    assert not (tmp_path / "rep").exists()
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".difficulty-report-")]


def test_analyze_output_folder_must_have_a_parent(tmp_path):
    from difficulty.report import analyze

    with pytest.raises(DifficultyError, match="does not exist"):
        analyze(None, str(tmp_path / "no" / "such" / "dir"))


def test_every_subcommand_has_help_with_an_example():
    from difficulty.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        text = p.format_help()
        assert "example:" in text and f"difficulty {name}" in text, name


@pytest.mark.slow
def test_a_group_with_nothing_solved_gets_pass_at_k_only(cli, tmp_path):
    import pandas as pd

    sim = simulate_counts(make_model("beta", alpha=2, beta=0.5), 80, 40, seed=1)
    df = sim.counts.to_frame()
    df.insert(0, "model", "good")
    zero = df.copy()
    zero["model"], zero["c"] = "never", 0
    p = tmp_path / "r.csv"
    pd.concat([df, zero]).to_csv(p, index=False)
    code, _, err = cli("analyze", p, "--group-col", "model", "-o", tmp_path / "rep")
    assert code == 0, err
    s = json.loads((tmp_path / "rep" / "summary.json").read_text())
    assert "all c = 0" in s["groups"]["never"]["skipped"] and "forecast" in s["groups"]["good"]
    assert "Nothing more can be fitted" in (tmp_path / "rep" / "report.md").read_text()


def test_pair_plot_survives_a_posterior_piled_on_a_bound(tmp_path):
    """A parameter with no spread (A = 1 in every draw) cannot be binned: it is left out and named."""
    import arviz as az
    import numpy as np

    from difficulty.report.figures import plot_pairs

    rng = np.random.default_rng(0)
    idata = az.from_dict(posterior={"alpha": rng.lognormal(size=(4, 50)), "beta": rng.lognormal(size=(4, 50)),
                                    "A": np.ones((4, 50))})
    path = tmp_path / "pairs.png"
    plot_pairs(str(path), idata, {"alpha": 1.0, "beta": 1.0, "A": 1.0})
    assert path.stat().st_size > 1000



@pytest.mark.parametrize("selected,label", [((False, False, False), "none selected"),
                                            ((False, True, True), "selected (2)")])
def test_ranking_figure_says_how_many_were_selected(monkeypatch, tmp_path, selected, label):
    """The legend names the selection by its size, and an empty one as such (not a "selected" marker
    that marks nothing)."""
    import pandas as pd

    from difficulty.report import figures

    drawn = {}
    monkeypatch.setattr(figures, "_save", lambda fig, path: drawn.setdefault("fig", fig))
    table = pd.DataFrame({"p_solve_within_budget": [0.1, 0.6, 0.7], "p_solve_within_budget_low": [0.0, 0.5, 0.6],
                          "p_solve_within_budget_high": [0.2, 0.7, 0.8], "selected": list(selected)})
    figures.plot_ranking(str(tmp_path / "r.png"), table, (0.5, 0.99), 1000)
    texts = [t.get_text() for t in drawn["fig"].axes[0].get_legend().get_texts()]
    assert label in texts and not any(t == "selected" for t in texts)


def _counts(tmp_path):
    from difficulty.io import load_counts

    return load_counts(str(_data(tmp_path)), group_col="model")


@pytest.mark.slow
def test_an_interrupted_analysis_is_resumed_from_the_groups_it_finished(tmp_path, monkeypatch):
    import pandas as pd

    from difficulty import summary
    from difficulty.report import analyze

    counts = _counts(tmp_path)
    real = summary.summarize_group
    out, partial = tmp_path / "rep", tmp_path / "rep.partial"

    def fails_at(group):
        def wrapper(name, *a, **k):
            if name == group:
                raise KeyboardInterrupt
            return real(name, *a, **k)
        return wrapper

    monkeypatch.setattr("difficulty.summary.summarize_group", fails_at("a"))
    with pytest.raises(KeyboardInterrupt):  # nothing finished: nothing kept
        analyze(counts, str(out), quiet=True, max_steps=500, jobs=1)
    assert not out.exists() and not partial.exists()

    monkeypatch.setattr("difficulty.summary.summarize_group", fails_at("b"))
    with pytest.raises(KeyboardInterrupt):
        analyze(counts, str(out), quiet=True, max_steps=500, jobs=1)
    assert (partial / "groups" / "a.json").exists() and (partial / "passk_a.png").exists()
    assert not out.exists()

    calls = []

    def counted(name, *a, **k):
        calls.append(name)
        return real(name, *a, **k)

    monkeypatch.setattr("difficulty.summary.summarize_group", counted)
    s = analyze(counts, str(out), quiet=True, max_steps=500, resume=True, jobs=1)
    assert calls == ["b"]
    assert not partial.exists() and not (out / ".difficulty-partial").exists()
    assert set(s["groups"]) == {"a", "b"} and all("forecast" in g for g in s["groups"].values())
    assert set(json.loads((out / "summary.json").read_text())["groups"]) == {"a", "b"}
    md = (out / "report.md").read_text()
    assert "## a" in md and "## b" in md and "(passk_a.png)" in md and "(passk_b.png)" in md
    assert list(pd.read_csv(out / "ranked.csv")["group"].unique()) == ["a", "b"]


def test_a_folder_named_like_the_staging_folder_is_not_ours_to_remove(tmp_path):
    from difficulty.report import analyze

    (tmp_path / "rep.partial").mkdir()
    (tmp_path / "rep.partial" / "keep.txt").write_text("mine")
    with pytest.raises(DifficultyError, match="not an unfinished report"):
        analyze(_counts(tmp_path), str(tmp_path / "rep"), quiet=True, jobs=1)
    assert (tmp_path / "rep.partial" / "keep.txt").read_text() == "mine"


def test_without_plots_the_report_has_no_figures(tmp_path):
    from difficulty.counts import EvalCounts
    from difficulty.report import analyze

    sim = simulate_counts(make_model("beta", alpha=2, beta=0.5, A=0.9), 80, 40, seed=3)
    counts = EvalCounts(sim.counts.n, sim.counts.c, source="generated")
    out = tmp_path / "rep"
    analyze(counts, str(out), quiet=True, max_steps=500, plots=False)
    names = os.listdir(out)
    assert "report.md" in names and "posterior_all.nc" in names
    assert not [n for n in names if n.endswith(".png")]
    assert "![" not in (out / "report.md").read_text()


def test_the_rendering_modules_compute_nothing():
    """Markdown and figures draw the summary's numbers: they import no core module but errors and
    io, and call no formula of the core."""
    import ast
    import pathlib
    import re

    import difficulty

    formulas = {"pass_at_k", "density_sigma", "inference_loss", "band", "quantile", "coverage_at_cost"}
    root = pathlib.Path(difficulty.__file__).parent / "report"
    for module in ("markdown", "figures"):
        text = (root / f"{module}.py").read_text()
        imported, called = set(), set()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                imported |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = ["difficulty", "report"][:3 - node.level] if node.level else []
                imported.add(".".join(base + ([node.module] if node.module else [])))
            elif isinstance(node, ast.Call):
                called.add(getattr(node.func, "id", None) or getattr(node.func, "attr", None))
        ours = {m for m in imported if m == "difficulty" or m.startswith("difficulty.")}
        assert ours <= {"difficulty.errors", "difficulty.io"}, (module, ours)
        assert not called & formulas, (module, called & formulas)
        # in the text too (pass_at_k and inference_loss alone are keys of the data: only as calls)
        found = re.findall(r"\b(?:pass_at_k|inference_loss|band)\(|\b(?:density_sigma|quantile|coverage_at_cost)\b",
                           text)
        assert not found, (module, found)


@pytest.mark.slow
def test_the_density_stage_reports_the_unresolved_mass_and_the_truth_on_the_same_basis(tmp_path):
    """The demo's weak model: the summary holds the NPMLE's read-offs with intervals and the truth on
    the estimate's cells; the truth's unresolved mass against 1 - A + A I_x(beta, alpha),
    x = 1 - exp(-1/k_max) (q = 1 - p ~ Beta(beta, alpha); mpmath at 30 digits; the estimate's basis
    spreads the cell holding 1/k_max uniformly in log sigma, worth < 2e-3 here). The markdown states
    the unresolved mass with its interval and the figure is drawn."""
    import math

    import mpmath as mp

    from difficulty.generate import demo_data
    from difficulty.io import to_json
    from difficulty.report.figures import plot_density
    from difficulty.report.markdown import render_markdown
    from difficulty.summary import SummaryOptions, summarize_group

    counts, truths = demo_data(seed=0)
    weak = counts.groups()["weak-model"]
    truth = truths["weak-model"]
    summ = summarize_group("weak-model", weak, SummaryOptions(budget=200.0, max_steps=500), truth=truth)
    data = json.loads(to_json(summ.data))  # as the report reads it back
    d = data["density"]
    un = d["unresolved"]
    assert all(math.isfinite(un[k]) for k in ("value", "low", "high")) and un["low"] <= un["value"] <= un["high"]
    assert set(d["functionals"]) == set(d["truth"]["functionals"]) and "unresolved" in d["functionals"]
    for f in d["functionals"].values():
        assert all(math.isfinite(f[k]) for k in ("value", "low", "high")), f
    mp.mp.dps = 30
    x = -mp.expm1(-mp.mpf(1) / 200)
    exact = float(1 - truth.ceiling + truth.ceiling * mp.betainc(truth.params["beta"], truth.params["alpha"], 0, x,
                                                                  regularized=True))
    assert abs(d["truth"]["unresolved_mass"] - exact) < 2e-3
    assert abs(d["truth"]["functionals_exact"]["unresolved"] - exact) < 1e-5
    assert abs(d["truth"]["functionals"]["unresolved"] - d["truth"]["unresolved_mass"]) < 1e-12
    assert d["truth"]["never_solved"] == pytest.approx(1 - truth.ceiling)
    md = render_markdown({"weak-model": data}, "demo", "test", 1.0)
    line = next(t for t in md.splitlines() if t.startswith("Unresolved mass"))
    assert f"{un['value']:.4f}" in line and f"[{un['low']:.4f}, {un['high']:.4f}]" in line
    assert f"{d['truth']['unresolved_mass']:.4f}" in line
    path = tmp_path / "density.png"
    plot_density(str(path), d, data["attempts_max"], data["curves"]["truth"])
    assert path.stat().st_size > 1000
