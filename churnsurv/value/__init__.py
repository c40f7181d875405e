"""Retention economics: the value of customers from their survival curves.

* :mod:`~churnsurv.value.lifetime`: expected discounted lifetime value of a new customer from any survival source,
  with an explicit tail (:func:`lifetime_value`) and the range over tails (:func:`lifetime_value_range`);
* :mod:`~churnsurv.value.residual`: the residual value of current customers from their tenure
  (:func:`residual_value`), summed into customer equity by segment (:func:`customer_equity`), and the value of
  the cohorts still to come (:func:`future_cohorts_value`).

An estimator layer: it reads the data, life-table and estimator layers, never plotting or report.
"""

from churnsurv.value.lifetime import lifetime_value, lifetime_value_range
from churnsurv.value.residual import customer_equity, future_cohorts_value, residual_value

__all__ = [
    "customer_equity",
    "future_cohorts_value",
    "lifetime_value",
    "lifetime_value_range",
    "residual_value",
]
