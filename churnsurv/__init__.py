"""churnsurv: survival analysis of customer churn.

Records -> :class:`Tenures` (validated tenure table) -> :class:`LifeTable` (counts) -> estimators -> plots,
notebooks and the report. Importing churnsurv has no side effects (no style changes, no file access).
"""

from churnsurv import datasets
from churnsurv.causes import DEFAULT_TAXONOMY, CauseMap
from churnsurv.compare import TestResult, adjust_pvalues, logrank_test, pairwise_logrank
from churnsurv.competing import (
    AalenJohansen,
    CauseReduction,
    cause_reduction,
    cause_specific_hazard,
    cumulative_incidence,
    gray_test,
)
from churnsurv.engines import life_table_duckdb
from churnsurv.exceptions import (
    ChurnsurvWarning,
    NotFittedError,
    StatisticalWarning,
    TenureConfoundingWarning,
    TenureDataError,
)
from churnsurv.finegray import ConvergenceWarning, FineGray
from churnsurv.lifetable import LifeTable, as_life_table, life_table
from churnsurv.nonparametric import (
    DiscreteHazard,
    KaplanMeier,
    NelsonAalen,
    discrete_hazard,
    kaplan_meier,
    nelson_aalen,
    restricted_mean,
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
from churnsurv.regression import CauseSpecificCox
from churnsurv.smoothing import SmoothedHazard, smoothed_hazard
from churnsurv.simulate import (
    ChurnScenario,
    Hazard,
    SimulatedChurn,
    default_scenario,
    simulate_churn,
    simulate_fine_gray,
)
from churnsurv.tenures import Tenures, TruncationReport, tenure_confounding

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
    "tenure_confounding",
]
