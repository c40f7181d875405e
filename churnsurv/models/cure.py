"""Mixture cure model: a share of customers who never leave, and a parametric tenure for the others.

Contractual customers on auto-renewal, or accounts that are effectively dormant but paid up, may never defect
within any horizon that matters; a Weibull fitted to them underestimates long-run retention. The mixture cure
model puts a plateau under the survival curve.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from churnsurv._validation import check_conf_level, check_is_fitted, check_one_of
from churnsurv.exceptions import StatisticalWarning
from churnsurv.models.formula import _encode_profiles
from churnsurv.models._distributions import _Core
from churnsurv.models.parametric import (
    _INTERCEPT,
    _design,
    _maximise,
    _ParametricBase,
    _prepare,
    _reference_profile,
    _starts,
)

__all__ = ["CureModel"]

_CURE_FAMILIES = ("weibull", "exponential", "lognormal", "loglogistic", "gengamma")


class CureModel(_ParametricBase):
    """Mixture cure model: a cured share :math:`\\pi(z)` that never leaves, a parametric tenure for the rest.

    Parameters
    ----------
    family : {"weibull", "exponential", "lognormal", "loglogistic", "gengamma"}, default "weibull"
        Distribution of tenure among the customers who do leave (the latency), as in
        :class:`~churnsurv.models.parametric.ParametricSurvival`.
    conf_level : float, default 0.95

    Attributes
    ----------
    params_ : pandas.DataFrame
        ``part`` (``"cure"`` or ``"latency"``), ``term, coef, std_error, ci_lower, ci_upper, z, p_value,
        odds_ratio`` (cure part: odds of being cured), ``time_ratio`` (latency location terms).
    cured_fraction_ : pandas.DataFrame
        :meth:`predict_cure` of the reference profile.
    theta_, vcov_, log_likelihood_, aic_, bic_, n_obs_, n_events_, n_params_, max_exit_, reference_profile_, median_
        As :class:`~churnsurv.models.parametric.ParametricSurvival` (``median_`` is ``inf`` when the cured share
        is 50% or more).

    Notes
    -----
    .. math::

        S(t \\mid x, z) = \\pi(z) + (1 - \\pi(z))\\, S_u(t \\mid x), \\qquad
        \\operatorname{logit} \\pi(z) = z^\\top\\gamma,

    with :math:`S_u` the AFT family of the latency (:math:`\\log T = x^\\top\\beta + \\sigma W`). The density is
    :math:`(1 - \\pi) f_u`; left truncation divides by :math:`S(\\text{entry})` and case weights multiply each
    row's log-likelihood, as in :class:`ParametricSurvival`. The cured share is identified only by a plateau
    in the data: with short follow-up, it and the latency scale trade off (wide intervals, a warning when the
    information matrix is singular). Estimates agree with the likelihood written out and maximised in R to 1e-6.

    References
    ----------
    .. [1] Farewell, V. T. (1982). The use of mixture models for the analysis of survival data with long-term
       survivors. Biometrics 38, 1041-1046.
    .. [2] Amico, M. and Van Keilegom, I. (2018). Cure models in survival analysis. Annual Review of Statistics
       and Its Application 5, 311-342.

    Examples
    --------
    >>> import churnsurv as cs
    >>> from churnsurv.models.cure import CureModel
    >>> t = cs.datasets.load_maven_telco()
    >>> m = CureModel("weibull").fit(t)
    >>> m.summary()["part"].tolist()
    ['cure', 'latency', 'latency']
    >>> round(float(m.cured_fraction_["estimate"].iloc[0]), 2)
    0.31
    """

    _owner = "CureModel"

    def __init__(self, family: str = "weibull", conf_level: float = 0.95):
        self.family = family
        self.conf_level = conf_level

    def fit(self, data, *, formula: str | None = None, covariates=None, cure_formula: str | None = None,
            cure_covariates=None, reference: dict | None = None, **frame_kwargs) -> CureModel:
        """Fit by maximum likelihood.

        Parameters
        ----------
        data : Tenures or pandas.DataFrame
            A tenure table, or a frame plus the keywords of :meth:`Tenures.from_frame`.
        formula, covariates : optional
            Covariates of the latency (the tenure of those who leave).
        cure_formula, cure_covariates : optional
            Covariates of the cured share (logit link).
        reference : dict, optional
            Reference level per categorical column, for both parts.

        Returns
        -------
        CureModel
            ``self``, fitted.
        """
        owner = self._owner
        conf = check_conf_level(self.conf_level, owner)
        family = check_one_of(self.family, "family", owner, _CURE_FAMILIES)
        arrays, design, specs, info = _prepare(data, formula, covariates, reference, frame_kwargs, owner,
                                               need_intercept=True)
        frame = info["frame"].reset_index(drop=True).loc[info["keep"]]
        zc, cure_design, cure_specs = _design(frame, cure_formula, cure_covariates, reference,
                                              info["ids"][info["keep"]])
        n = len(arrays["t"])
        zc = np.ones((n, 1)) if zc is None else np.column_stack([np.ones(n), zc])
        arrays["z"] = zc
        self._design, self._cure_design = design, cure_design
        x = arrays["x"]
        core = _Core(family, x.shape[1], zc.shape[1])
        lat_terms = [_INTERCEPT] + (list(design.terms) if design is not None else [])
        lat_terms += {"exponential": [], "gengamma": ["log_scale", "Q"]}.get(family, ["log_scale"])
        cure_terms = [_INTERCEPT] + (list(cure_design.terms) if cure_design is not None else [])
        # latency starts: the family fitted without a cured share, and least squares of log time
        sub = _Core(family, x.shape[1])
        scale = float(arrays["w"].sum())
        lat_starts = _starts(sub, arrays, family)
        if family != "gengamma":
            fitted, _, _ = _maximise(lambda th: sub.loglik(th, arrays), lambda th: sub.score(th, arrays),
                                     lat_starts, scale, hess=lambda th: sub.hessian(th, arrays))
            lat_starts = [fitted, *lat_starts]
        starts = [np.concatenate([[g0], np.zeros(zc.shape[1] - 1), s]) for g0 in (-3.0, -1.0, 0.5)
                  for s in lat_starts]
        theta, info_m, max_grad = _maximise(lambda th: core.loglik(th, arrays), None, starts, scale, n_runs=3)
        if np.any(np.abs(theta[:core.n_cure]) > 15):
            warnings.warn(
                "CureModel: the cured share of some covariate profile is at the boundary (0 or 1; a cure-part "
                "coefficient beyond +-15 on the logit scale): the data show no plateau for it, or nothing but one. "
                "Its intervals are not valid; drop that covariate from the cure part or merge its levels.",
                StatisticalWarning, stacklevel=2)
        self.core_ = core
        self.family_name_ = f"{family} cure"
        self.covariate_columns_ = list(dict.fromkeys([s.column for s in specs] + [s.column for s in cure_specs]))
        self.log_likelihood_ = core.loglik(theta, arrays)
        self._finish(theta, info_m, max_grad, info, cure_terms + lat_terms, conf)
        part = ["cure"] * len(cure_terms) + ["latency"] * len(lat_terms)
        self.params_.insert(0, "part", part)
        is_cure = np.array(part) == "cure"
        self.params_["odds_ratio"] = np.where(is_cure, np.exp(self.params_["coef"]), np.nan)
        loc = ~is_cure & ~self.params_["term"].isin(["log_scale", "Q"]).to_numpy()
        self.params_["time_ratio"] = np.where(loc, np.exp(self.params_["coef"]), np.nan)
        profile = {}
        if design is not None:
            profile.update(_reference_profile(design, x[:, 1:]).iloc[0].to_dict())
        if cure_design is not None:
            profile.update(_reference_profile(cure_design, zc[:, 1:]).iloc[0].to_dict())
        self.reference_profile_ = pd.DataFrame([profile]) if profile else pd.DataFrame(index=[0])
        self.cured_fraction_ = self.predict_cure()
        self.median_ = self.predict_median()
        return self

    def _encode_cure(self, profiles):
        n = len(profiles)
        z = _encode_profiles(profiles, self._cure_design) if self._cure_design is not None else np.zeros((n, 0))
        return np.column_stack([np.ones(n), z])

    def predict_cure(self, profiles=None, conf_level=None) -> pd.DataFrame:
        """The cured share per profile, with a delta-method interval on the logit scale.

        Returns
        -------
        pandas.DataFrame
            ``profile``, covariate columns, ``estimate, ci_lower, ci_upper``.
        """
        check_is_fitted(self, "theta_")
        from scipy.special import expit

        z = self._z(conf_level)
        frame, _, zc = self._profile_design(profiles)
        q = self.core_.n_cure
        eta, se = self._delta(lambda th: zc @ th[:q], self.theta_)
        out = frame.copy()
        out.insert(0, "profile", np.arange(len(frame)))
        return out.assign(estimate=expit(eta), ci_lower=expit(eta - z * se), ci_upper=expit(eta + z * se))
