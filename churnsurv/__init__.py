"""churnsurv: survival analysis of customer churn."""

from churnsurv.exceptions import (
    ChurnsurvWarning,
    NotFittedError,
    StatisticalWarning,
    TenureConfoundingWarning,
    TenureDataError,
)

from churnsurv.causes import DEFAULT_TAXONOMY, CauseMap
from churnsurv.lifetable import LifeTable, as_life_table, life_table
from churnsurv.tenures import Tenures, TruncationReport, tenure_confounding

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_TAXONOMY",
    "CauseMap",
    "LifeTable",
    "Tenures",
    "TruncationReport",
    "as_life_table",
    "life_table",
    "tenure_confounding",
    "ChurnsurvWarning",
    "NotFittedError",
    "StatisticalWarning",
    "TenureConfoundingWarning",
    "TenureDataError",
    "__version__",
]
