import os
import pathlib

import pytest
from hypothesis import HealthCheck, settings

# Deterministic property tests on a loaded 2-core machine: no deadline, a fixed derivation of
# examples from each test (no random seed, no example database carried between runs).
settings.register_profile("difficulty", deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "difficulty"))

REAL = (pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
        / "schaeffer2025_monkeys_power_laws")


@pytest.fixture(scope="session")
def real_dir():
    if not REAL.is_dir():
        pytest.fail(f"real data expected at {REAL} (../shared beside the checkout)")
    return REAL


def run_cli(*args):
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    import contextlib
    import io

    from difficulty.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as e:  # argparse errors
            code = e.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def cli():
    return run_cli


os.environ.setdefault("MPLBACKEND", "Agg")
