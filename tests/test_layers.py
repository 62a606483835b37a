"""Layers: the core computes, the edges (command line, report and figures, experiments) present it.

The core must import without matplotlib, tqdm, rich or the edges, so that a library user pays for none of them.
"""
import ast
import pathlib
import subprocess
import sys

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "difficulty"
CLI = "difficulty.cli"
EDGES = (CLI, "difficulty.report", "difficulty.experiments")
# `python -m difficulty` runs __main__.py, which only hands over to the command line: part of that edge.
MAIN = "difficulty.__main__"
HEAVY = ("matplotlib", "tqdm", "rich")
MODULES = sorted(PACKAGE.rglob("*.py"))


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _within(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _imports(text: str, module: str, is_package: bool):
    """Every module an import statement anywhere in the text may bind (also inside functions), as
    (absolute name, line); ``from X import y`` yields X and X.y, since y may be a submodule."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # `from .` is the package itself, each further dot one level up
                base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module
            yield base, node.lineno
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno


def _violations(allowed, forbidden):
    """`file:line imports name` for every module outside `allowed` that imports something within `forbidden`."""
    out = {}
    for path in MODULES:
        name = _module_name(path)
        if _within(name, allowed):
            continue
        for target, line in _imports(path.read_text(encoding="utf-8"), name, path.name == "__init__.py"):
            where = f"{path.relative_to(PACKAGE.parent)}:{line}"
            if _within(target, forbidden) and (where not in out or len(target) < len(out[where])):
                out[where] = target  # the module itself, not each name taken from it
    return sorted(f"{where} imports {target}" for where, target in out.items())


def test_the_scan_finds_the_package_and_resolves_relative_imports():
    # A scan that finds no modules, or misreads a relative import, would pass vacuously.
    assert len(MODULES) > 10 and "difficulty.passk" in {_module_name(p) for p in MODULES}
    assert _module_name(PACKAGE / "fit" / "__init__.py") == "difficulty.fit"
    text = "from ..cli import x\nfrom . import cli\nfrom .. import cli as c\nimport difficulty.cli.main\n"
    names = {n for n, _ in _imports(text, "difficulty.fit.mle", is_package=False)}
    assert {"difficulty.cli.x", "difficulty.fit.cli", "difficulty.cli", "difficulty.cli.main"} <= names
    # In a package's __init__, `from . import cli` is the package's own submodule.
    assert "difficulty.cli" in {n for n, _ in _imports("from . import cli\n", "difficulty", is_package=True)}


def test_only_the_command_line_imports_the_command_line():
    # The CLI is the outermost layer: any other module importing it (report included) inverts the layering.
    bad = _violations(allowed=(CLI, MAIN), forbidden=(CLI,))
    assert not bad, "imports of difficulty.cli from outside it:\n" + "\n".join(bad)


def test_the_core_imports_no_edge():
    # The core (every module outside the edges) never reaches up into the CLI, the report, the figures or experiments.
    bad = _violations(allowed=EDGES + (MAIN,), forbidden=EDGES)
    assert not bad, "core modules importing an edge:\n" + "\n".join(bad)


def test_the_core_imports_no_plotting_or_terminal_libraries():
    # matplotlib, tqdm and rich serve the edges; the core imports them nowhere, not even inside a function.
    bad = _violations(allowed=EDGES + (MAIN,), forbidden=HEAVY)
    assert not bad, "core modules importing matplotlib, tqdm or rich:\n" + "\n".join(bad)


def test_importing_the_core_loads_neither_matplotlib_nor_the_cli():
    # At run time too, including through third-party packages the scan cannot see: a fresh interpreter loads none.
    code = ("import difficulty, difficulty.models, difficulty.fit, difficulty.forecast, difficulty.ranking, "
            "difficulty.inversion, difficulty.cost, difficulty.passk; import sys; "
            "print(sorted(m for m in sys.modules if m.startswith(('matplotlib', 'difficulty.cli', 'tqdm'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
