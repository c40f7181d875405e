"""Kaplan-Meier survival, its quantiles and the restricted mean lifetime.

Every estimator is computed from a :class:`~churnsurv.LifeTable` (counts per segment and time) with vectorised
NumPy across segments, so the same code serves a 7,000-row telco file and ten million simulated customers. The
numbers match R's ``survival`` package (``survfit``, ``summary.survfit``, ``quantile.survfit``,
``print.survfit(rmean=)``); ``tests/nonparametric/test_against_r_km.py`` checks them against fixtures written by R.

Two doors to each estimand: the estimators :class:`KaplanMeier`, :class:`NelsonAalen` and
:class:`DiscreteHazard` (``fit`` then read the fitted tables), and the functions :func:`kaplan_meier`,
:func:`nelson_aalen`, :func:`restricted_mean` and :func:`discrete_hazard`, which return one tidy table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnsurv._base import BaseEstimator
from churnsurv._validation import check_conf_level, check_is_fitted, check_one_of
from churnsurv.lifetable.counts import (
    _as_times,
    _counts,
    _curve_frame,
    _fit_life_table,
    _group_cumprod,
    _group_cumsum,
    _group_sum,
    _n_obs,
    _risk_set_notes,
    _segment_code,
    _step_frame,
    _warn_notes,
)
from churnsurv.nonparametric.intervals import (
    SURVIVAL_CONF_TYPES,
    survival_confint,
)
from churnsurv.nonparametric.quantiles import (
    _check_probs,
    _check_tau,
    _compare_rmst_frame,
    _median,
    _rmst_arrays,
    _rmst_frame,
    _segment_quantiles,
)

__all__ = ["KaplanMeier", "kaplan_meier", "restricted_mean"]


# ====================================================================== Kaplan-Meier
class KaplanMeier(BaseEstimator):
    r"""Kaplan-Meier (product-limit) estimator of the survival curve, by segment.

    Parameters
    ----------
    conf_level : float, default=0.95
        Confidence level of the pointwise intervals (and of the median and RMST intervals).
    conf_type : {"log", "log-log", "plain"}, default="log"
        Transform of the pointwise interval. The default ``"log"`` is R ``survfit``'s default;
        ``"log-log"`` is lifelines' default; ``"plain"`` is the untransformed Greenwood interval.

    Attributes
    ----------
    survival_ : pandas.DataFrame
        One row per segment and life-table time, time 0 included: ``[*by, time, n_at_risk, n_events,
        n_censored, estimate, std_error, ci_lower, ci_upper]``; ``std_error`` is the Greenwood standard error
        of :math:`\hat S`.
    median_ : pandas.DataFrame
        Median lifetime per segment, ``[*by, estimate, ci_lower, ci_upper]`` (NaN when the curve, or a
        confidence limit, never reaches 0.5; ``attrs["notes"]`` says why).
    life_table_ : LifeTable
        A private copy of the counts the estimates come from.
    n_obs_ : int
        Customers (rows, or their total weight) in the fit.
    by_ : tuple of str
        Segment columns.
    time_unit_ : str
        Unit of ``time``.
    notes_ : dict
        Per segment label, notes on the risk set (left truncation) and the median.

    See Also
    --------
    kaplan_meier : the same estimate as a function returning :attr:`survival_`.
    restricted_mean : restricted mean lifetime (RMST) as a function.
    NelsonAalen : the cumulative hazard.
    DiscreteHazard : the per-period (monthly) churn rate by tenure.

    Notes
    -----
    With :math:`n_j` customers at risk and :math:`d_j` defections at the life-table times :math:`t_j`
    (at risk at :math:`t` means :math:`\text{entry} < t \le \text{exit}`; weighted counts when the tenure
    table has weights), the product-limit estimator [1]_ and Greenwood's variance [2]_ are

    .. math::

        \hat S(t) = \prod_{t_j \le t} \Big(1 - \frac{d_j}{n_j}\Big), \qquad
        \sigma^2(t) = \widehat{\operatorname{Var}}\big(\log \hat S(t)\big)
            = \sum_{t_j \le t} \frac{d_j}{n_j (n_j - d_j)},

    and ``std_error`` is :math:`\hat S(t)\,\sigma(t)`. With :math:`z = \Phi^{-1}(1 - (1 - \gamma)/2)` the
    three intervals are (R ``survfit``)

    .. math::

        \text{plain: } \hat S \pm z\,\hat S\sigma, \qquad
        \text{log: } \hat S \exp(\pm z\sigma), \qquad
        \text{log-log: } \hat S^{\exp(\pm z \sigma / \log \hat S)},

    clipped to :math:`[0, 1]` (the log interval's upper limit at 1). Where :math:`\hat S = 0` the standard error
    and the limits are NaN (R: ``NA``); where :math:`\hat S = 1` they are 0 and ``[1, 1]`` (R's log-log gives
    ``NA`` there except at time 0).

    **Quantiles.** The :math:`p`-quantile is the first time with :math:`\hat S(t) \le 1 - p`, and its interval
    runs from the first time the lower to the first time the upper confidence curve reaches :math:`1 - p`:
    the Brookmeyer-Crowley construction [3]_ by inversion of the pointwise intervals, exactly as R's
    ``quantile.survfit`` (tolerance :math:`\sqrt{\epsilon}`); when a curve equals :math:`1 - p` over a flat
    stretch the answer is the midpoint of the stretch.

    **Restricted mean** [5]_ up to :math:`\tau`, with the variance of R's ``print(fit, rmean=tau)`` [4]_:

    .. math::

        \hat\mu(\tau) = \int_0^\tau \hat S(u)\,du, \qquad
        \widehat{\operatorname{Var}}\,\hat\mu(\tau) = \sum_{t_j \le \tau}
            \Big(\int_{t_j}^{\tau} \hat S(u)\,du\Big)^2 \frac{d_j}{n_j (n_j - d_j)},

    a term being 0 when :math:`n_j = d_j`. Beyond the last time the curve is extended at its last value.

    **Left truncation.** With late entries, :math:`\hat S` is conditional on survival to the earliest entry
    when nobody is observed from time 0, and when the risk set empties before later entries the product is
    carried across the gap (as R does); both raise a :class:`~churnsurv.StatisticalWarning`.

    **Weights** are frequency weights: :math:`n_j, d_j` are sums of weights, as R ``survfit(weights=)`` with
    integer weights. With non-integer weights R switches by default to a robust (infinitesimal-jackknife)
    variance, which needs individual rows; churnsurv keeps Greenwood's formula, which equals
    ``survfit(..., weights=w, robust=FALSE)``.

    References
    ----------
    .. [1] Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete observations.
       *Journal of the American Statistical Association* 53, 457-481.
    .. [2] Greenwood, M. (1926). The natural duration of cancer. *Reports on Public Health and Medical
       Subjects* 33, HMSO, London.
    .. [3] Brookmeyer, R. & Crowley, J. (1982). A confidence interval for the median survival time.
       *Biometrics* 38, 29-41.
    .. [4] Klein, J. P. & Moeschberger, M. L. (2003). *Survival Analysis: Techniques for Censored and
       Truncated Data*, 2nd ed., Springer, ch. 4.
    .. [5] Royston, P. & Parmar, M. K. B. (2013). Restricted mean survival time: an alternative to the hazard
       ratio for the design and analysis of randomized trials with a time-to-event outcome. *BMC Medical
       Research Methodology* 13, 152.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.nonparametric import KaplanMeier
    >>> df = pd.DataFrame({"tenure": [1, 2, 2, 3, 5, 6], "churned": [1, 0, 1, 1, 0, 1]})
    >>> km = KaplanMeier().fit(df, duration="tenure", event="churned")
    >>> km.survival_[["time", "n_at_risk", "n_events", "estimate", "std_error"]].round(4)
       time  n_at_risk  n_events  estimate  std_error
    0   0.0        6.0       0.0    1.0000     0.0000
    1   1.0        6.0       1.0    0.8333     0.1521
    2   2.0        5.0       1.0    0.6667     0.1925
    3   3.0        3.0       1.0    0.4444     0.2222
    4   5.0        2.0       0.0    0.4444     0.2222
    5   6.0        1.0       1.0    0.0000        NaN
    >>> km.median_.round(4)
       estimate  ci_lower  ci_upper
    0       3.0       2.0       NaN
    >>> km.predict([2.5, 10]).round(4)[["time", "n_at_risk", "estimate"]]
       time  n_at_risk  estimate
    0   2.5        3.0    0.6667
    1  10.0        0.0    0.0000
    """

    def __init__(self, conf_level: float = 0.95, conf_type: str = "log"):
        self.conf_level = conf_level
        self.conf_type = conf_type

    # ------------------------------------------------------------------ fit
    def fit(self, data, *, by=None, **frame_kwargs) -> KaplanMeier:
        """Estimate the survival curve of every segment.

        Parameters
        ----------
        data : Tenures, LifeTable or pandas.DataFrame
            A DataFrame is read with :meth:`Tenures.from_frame` and ``frame_kwargs`` (``duration``,
            ``event``, ``entry``, ``weights``, ...). The caller's data is never modified nor kept.
        by : str or list of str, optional
            Segment columns (a LifeTable is already grouped: pass nothing or its own ``by``).
        **frame_kwargs
            Column keywords of :meth:`Tenures.from_frame`, for a DataFrame.

        Returns
        -------
        KaplanMeier
            ``self``, fitted.
        """
        return self._fit(data, by, frame_kwargs, stacklevel=2)

    def _fit(self, data, by, frame_kwargs, stacklevel):
        owner = type(self).__name__
        conf_level = check_conf_level(self.conf_level, owner)
        check_one_of(self.conf_type, "conf_type", owner, SURVIVAL_CONF_TYPES)
        lt = _fit_life_table(data, by, frame_kwargs)
        c = _counts(lt, owner)
        n, d = c.n_at_risk, c.n_events
        with np.errstate(divide="ignore", invalid="ignore"):
            rem = n - d
            rem = np.where(rem <= 1e-12 * n, 0.0, rem)
            factor = np.where(n > 0, rem / n, 1.0)
            greenwood = np.where((d > 0) & (rem > 0), d / (n * rem), 0.0)
        surv = _group_cumprod(factor, c)
        cum = _group_cumsum(greenwood, c)
        sigma = np.where(surv > 0, np.sqrt(cum), np.inf)
        with np.errstate(invalid="ignore"):
            se = np.where(surv > 0, surv * sigma, np.nan)
        lower, upper = survival_confint(surv, sigma, conf_level, self.conf_type)

        self._c = c
        self._surv, self._sigma, self._se = surv, sigma, se
        self._lower, self._upper = lower, upper
        self._greenwood = greenwood
        self._conf_level = conf_level

        self.survival_ = _curve_frame(c, surv, se, lower, upper)
        self.life_table_ = lt
        self.by_ = c.by
        self.time_unit_ = c.time_unit
        self.n_obs_ = _n_obs(c)

        notes = _risk_set_notes(c, surv)
        _warn_notes(owner, c, notes, stacklevel + 1)
        self.median_, self.notes_ = _median(c, surv, lower, upper, notes)
        return self

    # ------------------------------------------------------------------ predictions
    def predict(self, times) -> pd.DataFrame:
        """Survival at the requested times (right-continuous step function), per segment.

        As R ``summary(fit, times=, extend=TRUE)``: the value at :math:`t` is the estimate at the last
        life-table time :math:`\\le t`; beyond the last time the last value is carried forward (with
        ``n_at_risk`` 0), including its standard error and limits.

        Parameters
        ----------
        times : float or array-like of float
            Non-negative times, in the time unit of the data.

        Returns
        -------
        pandas.DataFrame
            ``[*by, time, n_at_risk, estimate, std_error, ci_lower, ci_upper]``, one row per segment and
            time (segment-major, times in the order given). ``n_at_risk`` counts the customers at risk at
            ``time`` (entry < time <= exit); R reports the number at risk at the next exit time instead,
            which differs only with late entries.
        """
        check_is_fitted(self)
        times = _as_times(times, f"{type(self).__name__}.predict")
        return _step_frame(self._c, times, self._surv, self._se, self._lower, self._upper, start=1.0)

    def quantile(self, probs=(0.25, 0.5, 0.75)) -> pd.DataFrame:
        """Lifetime quantiles with Brookmeyer-Crowley intervals, per segment, as R ``quantile.survfit``.

        The ``p``-quantile is the first time the curve reaches ``1 - p``; the interval comes from where the
        lower and upper confidence curves (of ``conf_type``) reach ``1 - p``; flat stretches at exactly
        ``1 - p`` give the midpoint (see Notes of the class).

        Parameters
        ----------
        probs : float or array-like of float, default=(0.25, 0.5, 0.75)
            Probabilities of defection by the quantile, in [0, 1].

        Returns
        -------
        pandas.DataFrame
            ``[*by, prob, estimate, ci_lower, ci_upper]`` (NaN where a curve never reaches ``1 - p``).
        """
        check_is_fitted(self)
        probs = _check_probs(probs, f"{type(self).__name__}.quantile")
        return _segment_quantiles(self._c, probs, self._surv, self._lower, self._upper)

    # ------------------------------------------------------------------ restricted mean
    def rmst(self, tau=None) -> pd.DataFrame:
        """Restricted mean lifetime :math:`\\int_0^\\tau S(u)\\,du` per segment, with R's standard error.

        Matches R ``print(survfit(...), rmean=tau)``; the interval is the normal (Wald) interval
        :math:`\\hat\\mu \\pm z\\,\\mathrm{se}`.

        Parameters
        ----------
        tau : float or array-like of float, optional
            Horizon(s), in the time unit. Default: the largest time of the life table over all segments (R's
            ``rmean="common"``). A horizon beyond a segment's last time extends its curve at the last value.

        Returns
        -------
        pandas.DataFrame
            ``[*by, tau, estimate, std_error, ci_lower, ci_upper]``.
        """
        check_is_fitted(self)
        taus = _check_tau(tau, f"{type(self).__name__}.rmst", float(self._c.time.max()))
        return _rmst_frame(self._c, self._surv, self._greenwood, taus, self._conf_level)

    def compare_rmst(self, tau=None, reference=None) -> pd.DataFrame:
        """Differences and ratios of restricted mean lifetime between segments and a reference segment.

        Segments are independent samples, so the difference :math:`\\hat\\mu_s - \\hat\\mu_r` has standard
        error :math:`\\sqrt{\\mathrm{se}_s^2 + \\mathrm{se}_r^2}` (normal interval), and the ratio
        :math:`\\hat\\mu_s / \\hat\\mu_r` has, by the delta method on the log scale,
        :math:`\\mathrm{se}(\\log) = \\sqrt{(\\mathrm{se}_s/\\hat\\mu_s)^2 + (\\mathrm{se}_r/\\hat\\mu_r)^2}` and the
        interval :math:`\\exp(\\log \\text{ratio} \\pm z\\,\\mathrm{se}(\\log))`.

        Parameters
        ----------
        tau : float, optional
            Horizon; default the largest time over all segments (the same for every segment).
        reference : segment value or tuple of values, optional
            The reference segment (a tuple with several ``by`` columns). Default: the first segment.

        Returns
        -------
        pandas.DataFrame
            One row per (segment other than the reference, measure): ``[*by, reference, tau, measure,
            estimate, std_error, ci_lower, ci_upper, p_value]`` where ``measure`` is ``"difference"`` or
            ``"ratio"``; ``reference`` is the reference segment's value (one ``by`` column) or a label such as
            ``"plan='basic', region='north'"`` (several); ``p_value`` is the two-sided Wald p-value (of the log
            ratio for the ratio); for the ratio, ``std_error`` is the delta-method standard error of the ratio.
        """
        check_is_fitted(self)
        owner = f"{type(self).__name__}.compare_rmst"
        c = self._c
        if c.n_groups < 2:
            raise ValueError(f"{owner} needs at least two segments; fit with by=<segment column(s)>.")
        tau = _check_tau(tau, owner, float(c.time.max()), single=True)
        ref_code = _segment_code(c, reference, owner)
        return _compare_rmst_frame(c, self._surv, self._greenwood, tau, ref_code, self._conf_level)

    # ------------------------------------------------------------------ summary
    def summary(self, times=(12, 24), tau=None) -> pd.DataFrame:
        """One row per segment: counts, median (CI), restricted mean (SE) and survival at chosen times.

        This is a display table: the survival columns carry their time in the name (``survival_12``). The
        tidy values come from :meth:`predict`, :meth:`quantile` and :meth:`rmst`.

        Parameters
        ----------
        times : sequence of float, default=(12, 24)
            Times at which to show the survival estimate.
        tau : float, optional
            Horizon of the restricted mean; default the largest time over all segments.

        Returns
        -------
        pandas.DataFrame
            ``[*by, n_customers, n_events, n_censored, n_truncated, median, median_ci_lower, median_ci_upper,
            tau, rmst, rmst_std_error, survival_<t>..., note]``; ``n_truncated`` counts customers entering after
            time 0 (left truncation); counts are weighted. ``attrs`` holds ``conf_level``, ``conf_type`` and
            ``time_unit``.
        """
        check_is_fitted(self)
        owner = f"{type(self).__name__}.summary"
        c = self._c
        times = _as_times(times, owner) if times is not None and len(np.atleast_1d(times)) else np.array([])
        tau = _check_tau(tau, owner, float(c.time.max()), single=True)
        out = c.frame(np.arange(c.n_groups), {
            "n_customers": _group_sum(c.n_entered, c),
            "n_events": _group_sum(c.n_events, c),
            "n_censored": _group_sum(c.n_censored, c),
            "n_truncated": _group_sum(np.where(c.time > 0, c.n_entered, 0.0), c),
        })
        med = self.median_
        out["median"] = med["estimate"].to_numpy()
        out["median_ci_lower"] = med["ci_lower"].to_numpy()
        out["median_ci_upper"] = med["ci_upper"].to_numpy()
        est, se = _rmst_arrays(c, self._surv, self._greenwood, tau)
        out["tau"] = tau
        out["rmst"] = est
        out["rmst_std_error"] = se
        if len(times):
            pred = self.predict(times)["estimate"].to_numpy().reshape(c.n_groups, len(times))
            for k, t in enumerate(times):
                out[f"survival_{t:g}"] = pred[:, k]
        labels = c.labels()
        out["note"] = ["; ".join(self.notes_.get(lab, [])) for lab in labels]
        out.attrs.update(conf_level=self._conf_level, conf_type=self.conf_type, time_unit=c.time_unit)
        return out



def kaplan_meier(data, by=None, *, conf_level: float = 0.95, conf_type: str = "log", **frame_kwargs) -> pd.DataFrame:
    """Kaplan-Meier survival curves per segment, as one tidy table.

    Parameters
    ----------
    data : Tenures, LifeTable or pandas.DataFrame
        A DataFrame is read with :meth:`Tenures.from_frame` and ``frame_kwargs``.
    by : str or list of str, optional
        Segment columns.
    conf_level : float, default=0.95
    conf_type : {"log", "log-log", "plain"}, default="log"
        As R ``survfit`` (default ``"log"``); lifelines uses ``"log-log"``.
    **frame_kwargs
        ``duration``, ``event``, ``entry``, ``weights``... for a DataFrame.

    Returns
    -------
    pandas.DataFrame
        ``[*by, time, n_at_risk, n_events, n_censored, estimate, std_error, ci_lower, ci_upper]``
        (:attr:`KaplanMeier.survival_`).

    See Also
    --------
    KaplanMeier : the estimator (median, quantiles, RMST, predictions, summary).
    restricted_mean : restricted mean lifetime from the same curve.
    nelson_aalen : the cumulative hazard.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.nonparametric import kaplan_meier
    >>> df = pd.DataFrame({"tenure": [1, 2, 2, 3], "churned": [1, 0, 1, 1], "plan": ["a", "a", "b", "b"]})
    >>> kaplan_meier(df, by="plan", duration="tenure", event="churned")[["plan", "time", "estimate"]]
      plan  time  estimate
    0    a   0.0       1.0
    1    a   1.0       0.5
    2    a   2.0       0.5
    3    b   0.0       1.0
    4    b   2.0       0.5
    5    b   3.0       0.0
    """
    est = KaplanMeier(conf_level=conf_level, conf_type=conf_type)
    return est._fit(data, by, frame_kwargs, stacklevel=2).survival_



def restricted_mean(data, tau=None, by=None, *, conf_level: float = 0.95, **frame_kwargs) -> pd.DataFrame:
    """Restricted mean lifetime (RMST) per segment from the Kaplan-Meier curve, as one tidy table.

    Parameters
    ----------
    data : Tenures, LifeTable or pandas.DataFrame
    tau : float or array-like of float, optional
        Horizon(s); default the largest time over all segments (R's ``rmean="common"``).
    by : str or list of str, optional
    conf_level : float, default=0.95
    **frame_kwargs
        Column keywords of :meth:`Tenures.from_frame`, for a DataFrame.

    Returns
    -------
    pandas.DataFrame
        ``[*by, tau, estimate, std_error, ci_lower, ci_upper]`` (:meth:`KaplanMeier.rmst`); the standard error
        is R's ``print(survfit, rmean=tau)``.

    See Also
    --------
    KaplanMeier.rmst : the same, from a fitted estimator; :meth:`KaplanMeier.compare_rmst` for contrasts.
    kaplan_meier : the survival curve.
    nelson_aalen : the cumulative hazard.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.nonparametric import restricted_mean
    >>> df = pd.DataFrame({"tenure": [1, 2, 2, 3, 5, 6], "churned": [1, 0, 1, 1, 0, 1]})
    >>> restricted_mean(df, tau=4, duration="tenure", event="churned").round(4)
       tau  estimate  std_error  ci_lower  ci_upper
    0  4.0    2.9444     0.4698    2.0237    3.8652
    """
    est = KaplanMeier(conf_level=conf_level)._fit(data, by, frame_kwargs, stacklevel=2)
    return est.rmst(tau)


