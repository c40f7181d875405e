"""churnsurv: survival analysis of customer churn.

Records -> :class:`Tenures` (validated tenure table) -> :class:`LifeTable` (counts) -> estimators -> plots,
notebooks and the report, one subpackage per layer: ``data``, ``lifetable``, ``nonparametric``, ``competing``,
``models``, ``plotting``, ``report`` (see ``CONTRIBUTING.md``); everything public is
re-exported here. Importing churnsurv has no side effects (no style changes, no file access).
"""

from churnsurv import datasets, simulate  # noqa: F401  (the module paths churnsurv.datasets, churnsurv.simulate)
from churnsurv.competing import (
    AalenJohansen,
    CauseReduction,
    ConvergenceWarning,
    FineGray,
    cause_reduction,
    cause_specific_hazard,
    cumulative_incidence,
    gray_test,
)
from churnsurv.data import DEFAULT_TAXONOMY, CauseMap, Tenures, TruncationReport, tenure_confounding
from churnsurv.data.simulate import (
    ChurnScenario,
    Hazard,
    SimulatedChurn,
    default_scenario,
    simulate_churn,
    simulate_fine_gray,
)
from churnsurv.exceptions import (
    ChurnsurvWarning,
    NotFittedError,
    StatisticalWarning,
    TenureConfoundingWarning,
    TenureDataError,
)
from churnsurv.lifetable import LifeTable, as_life_table, life_table, life_table_duckdb
from churnsurv.models import CauseSpecificCox
from churnsurv.nonparametric import (
    DiscreteHazard,
    KaplanMeier,
    NelsonAalen,
    SmoothedHazard,
    TestResult,
    adjust_pvalues,
    discrete_hazard,
    kaplan_meier,
    logrank_test,
    nelson_aalen,
    pairwise_logrank,
    restricted_mean,
    smoothed_hazard,
    snapshot_timing_range,
)
from churnsurv.plotting import (
    add_at_risk_table,
    cause_colors,
    plot_cumulative_hazard,
    plot_cumulative_incidence,
    plot_cumulative_incidence_grid,
    plot_forest,
    plot_hazard,
    plot_loglog,
    plot_survival,
    reset_segment_colors,
    segment_colors,
    set_segment_colors,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_TAXONOMY",
    "AalenJohansen",
    "CauseMap",
    "CauseReduction",
    "CauseSpecificCox",
    "ChurnScenario",
    "ChurnsurvWarning",
    "ConvergenceWarning",
    "DiscreteHazard",
    "FineGray",
    "Hazard",
    "KaplanMeier",
    "LifeTable",
    "NelsonAalen",
    "NotFittedError",
    "SimulatedChurn",
    "SmoothedHazard",
    "StatisticalWarning",
    "TenureConfoundingWarning",
    "TenureDataError",
    "Tenures",
    "TestResult",
    "TruncationReport",
    "__version__",
    "add_at_risk_table",
    "adjust_pvalues",
    "as_life_table",
    "cause_colors",
    "cause_reduction",
    "cause_specific_hazard",
    "cumulative_incidence",
    "datasets",
    "default_scenario",
    "discrete_hazard",
    "gray_test",
    "kaplan_meier",
    "life_table",
    "life_table_duckdb",
    "logrank_test",
    "nelson_aalen",
    "pairwise_logrank",
    "plot_cumulative_hazard",
    "plot_cumulative_incidence",
    "plot_cumulative_incidence_grid",
    "plot_forest",
    "plot_hazard",
    "plot_loglog",
    "plot_survival",
    "reset_segment_colors",
    "restricted_mean",
    "segment_colors",
    "set_segment_colors",
    "simulate_churn",
    "simulate_fine_gray",
    "smoothed_hazard",
    "snapshot_timing_range",
    "tenure_confounding",
]
