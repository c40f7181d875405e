"""churnsurv: survival analysis of customer churn."""

from churnsurv.exceptions import (
    ChurnsurvWarning,
    NotFittedError,
    StatisticalWarning,
    TenureConfoundingWarning,
    TenureDataError,
)

from churnsurv.causes import DEFAULT_TAXONOMY, CauseMap
from churnsurv.simulate import (
    ChurnScenario,
    Hazard,
    SimulatedChurn,
    default_scenario,
    simulate_churn,
    simulate_fine_gray,
)
from churnsurv.lifetable import LifeTable, as_life_table, life_table
from churnsurv.tenures import Tenures, TruncationReport, tenure_confounding

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_TAXONOMY",
    "CauseMap",
    "ChurnScenario",
    "Hazard",
    "LifeTable",
    "SimulatedChurn",
    "Tenures",
    "TruncationReport",
    "as_life_table",
    "default_scenario",
    "life_table",
    "simulate_churn",
    "simulate_fine_gray",
    "tenure_confounding",
    "ChurnsurvWarning",
    "NotFittedError",
    "StatisticalWarning",
    "TenureConfoundingWarning",
    "TenureDataError",
    "__version__",
]
