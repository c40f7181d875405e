"""The package's layout: one subpackage per layer, walls between them, and the old import paths kept."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from layout_rules import check_walls, public_signatures_mention

import churnsurv

PACKAGE = Path(churnsurv.__file__).resolve().parent
LAYERS = ("data", "lifetable", "nonparametric", "competing", "models", "value", "plotting", "report")


def test_no_import_crosses_a_wall():
    violations = check_walls(PACKAGE)
    assert not violations, "imports across the layers' walls:\n" + "\n".join(map(str, violations))


def test_lifelines_never_in_a_public_signature():
    assert public_signatures_mention(PACKAGE, "lifelines") == []


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_is_a_subpackage(layer):
    assert (PACKAGE / layer / "__init__.py").is_file()


def test_only_the_shared_core_and_entry_points_sit_at_the_top():
    top = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert top == ["__init__", "_base", "_validation", "cli", "datasets", "exceptions", "reporting", "simulate"]


@pytest.mark.parametrize(("old", "new"), [
    ("churnsurv.datasets", "churnsurv.data.datasets"),
    ("churnsurv.simulate", "churnsurv.data.simulate.simulator"),
    ("churnsurv.reporting", "churnsurv.report"),
])
def test_old_module_paths_are_the_new_modules(old, new):
    # one module object under two names: attributes, private helpers and monkeypatching all agree
    assert importlib.import_module(old) is importlib.import_module(new)


def test_public_api_unchanged():
    # the names churnsurv exported before the move (churnsurv 0.1.0, flat layout), each still importable
    before = {
        "DEFAULT_TAXONOMY", "AalenJohansen", "CauseMap", "CauseReduction", "CauseSpecificCox", "ChurnScenario",
        "ChurnsurvWarning", "ConvergenceWarning", "DiscreteHazard", "FineGray", "Hazard", "KaplanMeier",
        "LifeTable", "NelsonAalen", "NotFittedError", "SimulatedChurn", "SmoothedHazard", "StatisticalWarning",
        "TenureConfoundingWarning", "TenureDataError", "Tenures", "TestResult", "TruncationReport",
        "__version__", "add_at_risk_table", "adjust_pvalues", "as_life_table", "cause_colors", "cause_reduction",
        "cause_specific_hazard", "cumulative_incidence", "datasets", "default_scenario", "discrete_hazard",
        "gray_test", "kaplan_meier", "life_table", "life_table_duckdb", "logrank_test", "nelson_aalen",
        "pairwise_logrank", "plot_cumulative_hazard", "plot_cumulative_incidence",
        "plot_cumulative_incidence_grid", "plot_forest", "plot_hazard", "plot_loglog", "plot_survival",
        "reset_segment_colors", "restricted_mean", "segment_colors", "set_segment_colors", "simulate_churn",
        "simulate_fine_gray", "smoothed_hazard", "tenure_confounding",
    }
    assert before <= set(churnsurv.__all__)
    for name in before:
        assert getattr(churnsurv, name) is not None


@pytest.mark.parametrize("layer", LAYERS)
def test_subpackage_exports_resolve(layer):
    module = importlib.import_module(f"churnsurv.{layer}")
    for name in module.__all__:
        assert hasattr(module, name), f"churnsurv.{layer}.__all__ names {name!r}, which it does not define"


def test_every_module_has_a_test_folder_or_file():
    # a reader finds the tests of a layer in one step: tests/<layer>/
    tests = Path(__file__).parent
    for layer in LAYERS:
        assert (tests / layer).is_dir(), f"tests/{layer}/ is missing"
