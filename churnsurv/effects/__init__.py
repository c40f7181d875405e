"""The effect of retention actions: randomised tests, actions during tenure, and the sample size they need.

* :mod:`~churnsurv.effects.randomised`: A/B holdouts (:func:`ab_test`): survival, restricted mean and cumulative
  incidence of each cause compared between arms, uplift by segment, value difference;
* :mod:`~churnsurv.effects.landmark`: actions given during tenure (:func:`landmark_effect`): landmark analysis and
  sequential target-trial emulation, and :class:`ImmortalTimeError` for tenure-banded "actions";
* :mod:`~churnsurv.effects.sample_size`: customers needed to detect a difference in restricted mean lifetime
  (:func:`rmst_sample_size`, :func:`rmst_power`);
* :mod:`~churnsurv.effects.weights`: propensity scores and weights for two or more arms, balance and effective
  sample size (:class:`PropensityScore`);
* :mod:`~churnsurv.effects.adjusted`: adjusted survival and incidence curves per arm by IPTW, g-formula and AIPW
  (:class:`AdjustedSurvival`, :func:`adjusted_survival`).

An estimator layer: it reads the data, life-table and estimator layers (``nonparametric``, ``competing``,
``value``), never plotting or report.
"""

from churnsurv.effects.adjusted import AdjustedSurvival, adjusted_survival
from churnsurv.effects.landmark import ImmortalTimeError, LandmarkEffect, landmark_effect
from churnsurv.effects.randomised import ABTest, ab_test
from churnsurv.effects.sample_size import rmst_power, rmst_sample_size
from churnsurv.effects.weights import PropensityScore, effective_sample_size, standardized_differences

__all__ = [
    "ABTest",
    "AdjustedSurvival",
    "PropensityScore",
    "adjusted_survival",
    "effective_sample_size",
    "standardized_differences",
    "ImmortalTimeError",
    "LandmarkEffect",
    "ab_test",
    "landmark_effect",
    "rmst_power",
    "rmst_sample_size",
]
