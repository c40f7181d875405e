"""churnsurv: survival analysis of customer churn."""

from churnsurv.exceptions import (
    ChurnsurvWarning,
    NotFittedError,
    StatisticalWarning,
    TenureConfoundingWarning,
    TenureDataError,
)

__version__ = "0.1.0"

__all__ = [
    "ChurnsurvWarning",
    "NotFittedError",
    "StatisticalWarning",
    "TenureConfoundingWarning",
    "TenureDataError",
    "__version__",
]
