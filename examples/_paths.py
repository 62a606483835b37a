"""Where the examples find the real data (read by path, never copied) and write figures."""
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "real" / "schaeffer2025_monkeys_power_laws"
OUT = ROOT / "examples" / "figures"
OUT.mkdir(exist_ok=True)
