"""What ``import churnsurv`` costs: the heavy libraries load on first use, not on import.

scipy (``scipy.stats`` alone takes about 0.5 s, ``scipy.special`` 0.2 s), matplotlib (``pyplot`` 0.25 s, even
``matplotlib.colors`` 0.09 s), lifelines, duckdb and the report stack (papermill, nbformat, jupytext, jinja2) are
imported inside the functions that need them. Each check runs in a fresh interpreter, because the test session has
long since imported all of them. Speed itself is measured (``benchmarks/results/import_time.md``), not asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

#: The checkout whose ``churnsurv`` the fresh interpreters import (``python -c`` puts the working folder first).
ROOT = Path(__file__).resolve().parents[1]

#: Modules that must not be in ``sys.modules`` after a plain import of the package.
HEAVY = (
    "scipy",
    "scipy.stats",
    "matplotlib",
    "matplotlib.pyplot",
    "lifelines",
    "duckdb",
    "papermill",
    "nbformat",
    "jupytext",
    "jinja2",
)

# Run in the fresh interpreter: records, for every watched module, the churnsurv line that first imported it,
# executes the statement, and prints the watched modules then present with their importers, as JSON.
_PROBE = r"""
import json, sys
WATCH = set(json.loads(sys.argv[2]))
first = {}

class _Spy:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name in WATCH and name not in first:
            frame = sys._getframe(1)
            while frame is not None and not frame.f_globals.get("__name__", "").startswith("churnsurv"):
                frame = frame.f_back
            first[name] = "outside churnsurv" if frame is None else f"{frame.f_globals['__name__']}:{frame.f_lineno}"
        return None

sys.meta_path.insert(0, _Spy)
exec(sys.argv[1])
print(json.dumps({name: first.get(name, "?") for name in sorted(WATCH) if name in sys.modules}))
"""


def _loaded_after(statement: str, watch=HEAVY, cwd: Path = ROOT) -> dict[str, str]:
    """The watched modules loaded by ``statement`` in a fresh interpreter, each with the line that imported it."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, statement, json.dumps(list(watch))],
        capture_output=True, text=True, cwd=cwd, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, f"`{statement}` failed in a fresh interpreter:\n{proc.stderr}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _offenders(loaded: dict[str, str]) -> str:
    return "\n".join(f"  {name} (first imported at {where})" for name, where in loaded.items())


@pytest.mark.parametrize(
    "statement",
    [
        "import churnsurv",
        "from churnsurv import *",
        # the old module paths, the report layer and every subpackage are as cheap as the package
        "import churnsurv.datasets, churnsurv.simulate, churnsurv.reporting",
        "import churnsurv.data, churnsurv.lifetable, churnsurv.nonparametric, churnsurv.competing, "
        "churnsurv.models, churnsurv.value, churnsurv.plotting, churnsurv.report",
    ],
)
def test_import_loads_no_heavy_module(statement):
    loaded = _loaded_after(statement)
    assert not loaded, (
        f"`{statement}` imports heavy modules that should load on first use (import them inside the function "
        f"that needs them):\n{_offenders(loaded)}"
    )


def test_heavy_module_loads_on_first_use_and_is_traced():
    # the probe sees a lazy import when it happens, and names the line: the check above cannot pass vacuously
    loaded = _loaded_after(
        "import churnsurv\n"
        "from churnsurv.nonparametric.intervals import z_value\n"
        "assert abs(z_value(0.95) - 1.959963984540054) < 1e-15"
    )
    assert set(loaded) == {"scipy"}
    assert loaded["scipy"].startswith("churnsurv.nonparametric.intervals:")
