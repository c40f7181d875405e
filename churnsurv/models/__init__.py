"""Regression and cohort models of retention, and the metrics that validate their predictions.

* :mod:`~churnsurv.models.coxph` (the Cox model, all causes or one), :mod:`~churnsurv.models.cox` (cause-specific
  Cox models for every cause) and :mod:`~churnsurv.models.absolute_risk` (the
  cumulative incidence of each cause for a profile);
* :mod:`~churnsurv.models.parametric` and :mod:`~churnsurv.models.cure` (parametric families, extrapolation);
* :mod:`~churnsurv.models.discrete_time` (discrete-time hazard regression from counts);
* :mod:`~churnsurv.models.beta_geometric` (the sBG and BdW cohort models of Fader & Hardie);
* :mod:`~churnsurv.models.validation` (discrimination, calibration, Brier scores, projection error, holdouts).

lifelines is imported only inside this layer, and never appears in a public signature.
"""

from churnsurv.models.absolute_risk import STILL_CUSTOMER, cause_specific_risk, plot_cause_specific_risk
from churnsurv.models.beta_geometric import BetaDiscreteWeibull, ShiftedBetaGeometric, projection_table
from churnsurv.models.cox import CauseSpecificCox
from churnsurv.models.coxph import CoxPH
from churnsurv.models.cure import CureModel
from churnsurv.models.discrete_time import DiscreteTimeHazard
from churnsurv.models.parametric import ParametricSurvival, compare_parametric
from churnsurv.models.validation import (
    brier_score,
    calibration,
    concordance,
    holdout_split,
    integrated_brier_score,
    plot_calibration,
    plot_projection_error,
    projection_error,
    time_dependent_auc,
)

__all__ = [
    "STILL_CUSTOMER",
    "BetaDiscreteWeibull",
    "CauseSpecificCox",
    "CoxPH",
    "CureModel",
    "DiscreteTimeHazard",
    "ParametricSurvival",
    "ShiftedBetaGeometric",
    "brier_score",
    "calibration",
    "cause_specific_risk",
    "compare_parametric",
    "concordance",
    "holdout_split",
    "integrated_brier_score",
    "plot_calibration",
    "plot_cause_specific_risk",
    "plot_projection_error",
    "projection_error",
    "projection_table",
    "time_dependent_auc",
]
