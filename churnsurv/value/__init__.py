"""Retention economics: the value of customers from their survival curves.

* :mod:`~churnsurv.value.lifetime`: expected discounted lifetime value of a new customer from any survival source,
  with an explicit tail (:func:`lifetime_value`) and the range over tails (:func:`lifetime_value_range`);
* :mod:`~churnsurv.value.residual`: the residual value of current customers from their tenure
  (:func:`residual_value`), summed into customer equity by segment (:func:`customer_equity`), and the value of
  the cohorts still to come (:func:`future_cohorts_value`);
* :mod:`~churnsurv.value.scenarios`: retention scenarios, hazards cut by cause, segment and tenure window
  (:func:`retention_scenario`, :func:`scenario_grid`);
* :mod:`~churnsurv.value.at_risk`: the value lost to each cause (:func:`value_at_risk`);
* :mod:`~churnsurv.value.claims`: the literature's claims tested (:func:`retention_claims`), the leaky bucket
  (:func:`leaky_bucket`), the whale curve (:func:`whale_curve`) and the tornado (:func:`value_sensitivity`);
* :mod:`~churnsurv.value.heterogeneity`: a cut in churn on the sBG/BdW mixing distribution beside the aggregate
  hazard (:func:`heterogeneity_scenario`);
* :mod:`~churnsurv.value.relationship`: Kotler's relationship levels per segment (:func:`relationship_levels`) and
  the core customers by residual value (:func:`core_customers`).

An estimator layer: it reads the data, life-table and estimator layers, never plotting or report.
"""

from churnsurv.value.at_risk import value_at_risk
from churnsurv.value.claims import (
    LeakyBucket,
    WhaleCurve,
    leaky_bucket,
    retention_claims,
    value_sensitivity,
    whale_curve,
)
from churnsurv.value.heterogeneity import heterogeneity_scenario
from churnsurv.value.lifetime import lifetime_value, lifetime_value_range
from churnsurv.value.residual import customer_equity, future_cohorts_value, residual_value
from churnsurv.value.relationship import core_customers, relationship_levels
from churnsurv.value.scenarios import HETEROGENEITY_CAVEAT, RetentionScenario, retention_scenario, scenario_grid

__all__ = [
    "HETEROGENEITY_CAVEAT",
    "LeakyBucket",
    "RetentionScenario",
    "WhaleCurve",
    "core_customers",
    "customer_equity",
    "future_cohorts_value",
    "heterogeneity_scenario",
    "leaky_bucket",
    "lifetime_value",
    "lifetime_value_range",
    "relationship_levels",
    "residual_value",
    "retention_claims",
    "retention_scenario",
    "scenario_grid",
    "value_at_risk",
    "value_sensitivity",
    "whale_curve",
]
