"""Competing risks: why customers leave, not only when.

Every estimator here is computed from a life table that has causes, so left-truncated records (a churn
snapshot) are handled by the risk sets and tied monthly times exactly (never jittered).

* :mod:`~churnsurv.competing.aalen_johansen`: cumulative incidence of each cause (:class:`AalenJohansen`), with
  its variances in :mod:`~churnsurv.competing.aj_variance`;
* :mod:`~churnsurv.competing.gray`: Gray's test of equal cumulative incidence;
* :mod:`~churnsurv.competing.cause_specific`: per-period cause-specific hazards;
* :mod:`~churnsurv.competing.reduction`: survival when the hazard of some causes is reduced or removed;
* :mod:`~churnsurv.competing.finegray`: Fine-Gray regression of the subdistribution hazard (its estimating
  equation in ``_crr``).
"""

from churnsurv.competing.aalen_johansen import AalenJohansen, cumulative_incidence
from churnsurv.competing.reduction import CauseReduction, cause_reduction
from churnsurv.competing.cause_specific import cause_specific_hazard
from churnsurv.competing.finegray import ConvergenceWarning, FineGray
from churnsurv.competing.gray import gray_test

__all__ = [
    "AalenJohansen",
    "CauseReduction",
    "ConvergenceWarning",
    "FineGray",
    "cause_reduction",
    "cause_specific_hazard",
    "cumulative_incidence",
    "gray_test",
]
