"""Nonparametric estimators from the counts of a life table.

* :mod:`~churnsurv.nonparametric.survival`: survival, quantiles, restricted mean lifetime;
* :mod:`~churnsurv.nonparametric.cumulative_hazard`: cumulative hazard;
* :mod:`~churnsurv.nonparametric.period_hazard`: per-period hazards;
* :mod:`~churnsurv.nonparametric.smoothing`: kernel-smoothed hazards;
* :mod:`~churnsurv.nonparametric.logrank`: the log-rank family of tests;
* :mod:`~churnsurv.nonparametric.cohorts`: retention by sign-up cohort and churn over calendar time (dated records);
* :mod:`~churnsurv.nonparametric.snapshot`: the range a snapshot's unknown defection timing puts on the numbers;
* :mod:`~churnsurv.nonparametric.intervals`, :mod:`~churnsurv.nonparametric.quantiles`: confidence intervals,
  quantiles and restricted means shared by the estimators.
"""

from churnsurv.nonparametric.period_hazard import DiscreteHazard, discrete_hazard
from churnsurv.nonparametric.survival import KaplanMeier, kaplan_meier, restricted_mean
from churnsurv.nonparametric.cohorts import (
    CalendarChurn,
    CohortRetention,
    calendar_churn,
    cohort_retention,
    poisson_rate_interval,
)
from churnsurv.nonparametric.logrank import TestResult, adjust_pvalues, logrank_test, pairwise_logrank
from churnsurv.nonparametric.cumulative_hazard import NelsonAalen, nelson_aalen
from churnsurv.nonparametric.smoothing import SmoothedHazard, smoothed_hazard
from churnsurv.nonparametric.snapshot import snapshot_timing_range

__all__ = [
    "CalendarChurn",
    "CohortRetention",
    "DiscreteHazard",
    "KaplanMeier",
    "NelsonAalen",
    "SmoothedHazard",
    "TestResult",
    "adjust_pvalues",
    "calendar_churn",
    "cohort_retention",
    "discrete_hazard",
    "kaplan_meier",
    "logrank_test",
    "nelson_aalen",
    "pairwise_logrank",
    "poisson_rate_interval",
    "restricted_mean",
    "smoothed_hazard",
    "snapshot_timing_range",
]
