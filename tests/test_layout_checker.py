"""The walls checker itself: it must fail, naming the import, on planted bad imports in a small tree."""

from __future__ import annotations

import textwrap
from pathlib import Path

from layout_rules import check_walls, public_signatures_mention


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "churnsurv"
    for rel, text in {"__init__.py": "", "exceptions.py": "", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


CLEAN = {
    "data/__init__.py": "",
    "data/tenures.py": "from churnsurv.exceptions import X\n",
    "lifetable/__init__.py": "",
    "lifetable/table.py": "from churnsurv.data.tenures import Tenures\n",
    "nonparametric/__init__.py": "",
    "nonparametric/survival.py": "from churnsurv.lifetable.table import LifeTable\nfrom . import logrank\n",
    "nonparametric/logrank.py": "",
    "models/__init__.py": "",
    "models/cox.py": "def fit():\n    from lifelines import CoxPHFitter\n",
    "plotting/__init__.py": "from churnsurv.nonparametric.survival import KaplanMeier\n",
    "report/__init__.py": "import churnsurv\nfrom churnsurv.plotting import plot\n",
    "cli.py": "from churnsurv import report\n",
}


def test_clean_tree_passes(tmp_path):
    assert check_walls(_tree(tmp_path, CLEAN)) == []


def test_data_importing_an_estimator_fails(tmp_path):
    root = _tree(tmp_path, {**CLEAN, "data/tenures.py": "from churnsurv.nonparametric.survival import KaplanMeier\n"})
    (v,) = check_walls(root)
    assert v.module == "churnsurv.data.tenures" and v.line == 1
    assert "churnsurv.nonparametric.survival" in str(v) and "data layer may not import the nonparametric" in str(v)


def test_lazy_import_inside_a_function_is_seen(tmp_path):
    code = "def plot(self):\n    import churnsurv.plotting as p\n    return p\n"
    root = _tree(tmp_path, {**CLEAN, "nonparametric/survival.py": code})
    (v,) = check_walls(root)
    assert v.line == 2 and "nonparametric layer may not import the plotting layer" in str(v)


def test_relative_import_is_resolved(tmp_path):
    root = _tree(tmp_path, {**CLEAN, "plotting/__init__.py": "from ..report import build_report\n"})
    (v,) = check_walls(root)
    assert v.imported == "churnsurv.report" and "plotting layer may not import the report layer" in str(v)


def test_importing_the_whole_package_from_an_estimator_fails(tmp_path):
    root = _tree(tmp_path, {**CLEAN, "lifetable/table.py": "import churnsurv\n"})
    (v,) = check_walls(root)
    assert "lifetable layer may not import the whole package" in str(v)


def test_from_package_import_subpackage_is_checked(tmp_path):
    root = _tree(tmp_path, {**CLEAN, "plotting/__init__.py": "from churnsurv import cli\n"})
    (v,) = check_walls(root)
    assert v.imported == "churnsurv.cli"


def test_lifelines_outside_models_fails(tmp_path):
    root = _tree(tmp_path, {**CLEAN, "nonparametric/logrank.py": "import lifelines.statistics\n"})
    (v,) = check_walls(root)
    assert v.imported == "lifelines.statistics" and "only in the models layer" in str(v)


def test_lifelines_type_in_a_public_signature_is_found(tmp_path):
    code = "def fitter(self) -> 'lifelines.CoxPHFitter':\n    pass\n\ndef _private(x: 'lifelines.X'):\n    pass\n"
    root = _tree(tmp_path, {**CLEAN, "models/cox.py": code})
    assert public_signatures_mention(root, "lifelines") == ["cox.py:1 fitter"]
