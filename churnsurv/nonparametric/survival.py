"""Kaplan-Meier survival, its quantiles and the restricted mean lifetime.

Every estimator is computed from a :class:`~churnsurv.LifeTable` (counts per segment and time) with vectorised
NumPy across segments, so the same code serves a 7,000-row telco file and ten million simulated customers. The
numbers match R's ``survival`` package (``survfit``, ``summary.survfit``, ``quantile.survfit``,
``print.survfit(rmean=)``); ``tests/nonparametric/test_against_r_km.py`` checks them against fixtures written by R.

Two doors to each estimand: the estimators :class:`KaplanMeier`, :class:`NelsonAalen` and
:class:`DiscreteHazard` (``fit`` then read the fitted tables), and the functions :func:`kaplan_meier`,
:func:`nelson_aalen`, :func:`restricted_mean` and :func:`discrete_hazard`, which return one tidy table.

Beyond the data
---------------
One rule for every estimator of the package, at a time past the last observed exit (of a segment, a stratum,
or the fit): **never a silent number.**

* Curves read at given times return NaN there: :meth:`KaplanMeier.predict`, :meth:`NelsonAalen.predict`,
  :meth:`AalenJohansen.predict`, :meth:`SmoothedHazard.predict`, ``cause_specific_risk`` and
  ``DiscreteTimeHazard(baseline="period")``. ``extend=True`` (Kaplan-Meier, Nelson-Aalen) carries the last
  value forward on request, as R's ``summary(fit, times, extend = TRUE)``.
* Models whose prediction tables carry an ``extrapolated`` column (``CoxPH``, ``ParametricSurvival``,
  ``DiscreteTimeHazard``) return a value there and flag it ``extrapolated=True``: the Cox curve carried flat
  past its stratum's last exit, the parametric or spline-baseline projection. Read a flagged row as an
  assumption, not an estimate.
* A summary over a horizon (:meth:`KaplanMeier.rmst`, :meth:`KaplanMeier.compare_rmst`,
  :meth:`KaplanMeier.summary`) and a prediction without a flag column (``FineGray.predict_cumulative_incidence``)
  compute the value with the curve carried at its last value and raise a
  :class:`~churnsurv.StatisticalWarning` naming the horizon and the segments it passes.
* Quantiles never extrapolate: NaN when the curve does not reach :math:`1 - p` within the data.

``tests/test_beyond_data.py`` checks the rule over every estimator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnsurv._base import BaseEstimator
from churnsurv._validation import check_conf_level, check_is_fitted, check_one_of, param_error
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
    zero_event_survival_bound,
)
from churnsurv.nonparametric.quantiles import (
    _below,
    _check_min_at_risk,
    _check_probs,
    _check_tau,
    _compare_rmst_frame,
    _default_tau,
    _median,
    _rmst_arrays,
    _rmst_frame,
    _segment_quantiles,
    _warn_rmst,
    _zero_events,
    _zero_events_at,
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
    min_at_risk : float or None, default=10
        Rows where fewer customers are at risk are flagged ``below_min_at_risk`` (plots draw them dashed or not
        at all), quantiles reached there are flagged, and the default RMST horizon stops before them. ``None``
        or 0 disables the flag.

    Attributes
    ----------
    survival_ : pandas.DataFrame
        One row per segment and life-table time, time 0 included: ``[*by, time, n_at_risk, n_events,
        n_censored, estimate, std_error, ci_lower, ci_upper, zero_events, below_min_at_risk]``; ``std_error`` is
        the Greenwood standard error of :math:`\hat S`. ``zero_events`` is True where the segment has had no
        defection yet (time > 0): there ``ci_lower`` is an exact one-sided bound and ``ci_upper`` is 1 (see
        Notes), not a two-sided interval. ``below_min_at_risk`` is True where ``n_at_risk < min_at_risk``.
    median_ : pandas.DataFrame
        Median lifetime per segment, ``[*by, estimate, ci_lower, ci_upper, below_min_at_risk]`` (NaN when the
        curve, or a confidence limit, never reaches 0.5; ``attrs["notes"]`` says why; ``below_min_at_risk``:
        the curve reaches 0.5 only where fewer than ``min_at_risk`` customers are at risk).
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
    and the limits are NaN (R: ``NA``).

    **No defection yet.** Where :math:`\hat S(t) = 1` because nobody in the segment has defected by :math:`t > 0`,
    Greenwood's variance is 0 and R reports the interval ``[1, 1]`` (``NA`` for log-log): false certainty.
    churnsurv reports instead the exact one-sided bound (``zero_events`` is True, ``ci_upper`` is 1)

    .. math::

        S_L(t) = (1 - \gamma)^{1/m(t)}, \qquad m(t) = \min_{0 < t_j \le t} n_j,

    the Clopper-Pearson bound for :math:`m` customers followed without a defection (the "rule of three" [6]_:
    :math:`1 - S_L \approx 3/m` at 95%), with :math:`m(t)` the smallest risk set of the stretch
    (:math:`n(t)` without late entries; 0, hence a bound of 0, across a stretch where nobody is at risk). It
    holds for any hazard shape (:func:`~churnsurv.nonparametric.intervals.zero_event_survival_bound`). The
    standard error stays 0 (as R) and the time-0 row stays ``[1, 1]``.

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

    a term being 0 when :math:`n_j = d_j`. Beyond the last time the curve is extended at its last value. All
    segments share one horizon; the default is the earliest time, over the segments, at which fewer than
    ``min_at_risk`` customers are at risk (the smallest last time when ``min_at_risk`` is off), so no segment is
    extrapolated, and a :class:`~churnsurv.StatisticalWarning` names the segments whose horizon passes their last
    time or their ``min_at_risk`` time, or whose standard error is 0 because nobody defected before
    :math:`\tau` (the interval is then the one-sided :math:`[\tau S_L(\tau), \tau]`).

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
    .. [6] Hanley, J. A. & Lippman-Hand, A. (1983). If nothing goes wrong, is everything all right?
       Interpreting zero numerators. *JAMA* 249, 1743-1745.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.nonparametric import KaplanMeier
    >>> df = pd.DataFrame({"tenure": [1, 2, 2, 3, 5, 6], "churned": [1, 0, 1, 1, 0, 1]})
    >>> km = KaplanMeier(min_at_risk=3).fit(df, duration="tenure", event="churned")
    >>> km.survival_[["time", "n_at_risk", "n_events", "estimate", "std_error"]].round(4)
       time  n_at_risk  n_events  estimate  std_error
    0   0.0        6.0       0.0    1.0000     0.0000
    1   1.0        6.0       1.0    0.8333     0.1521
    2   2.0        5.0       1.0    0.6667     0.1925
    3   3.0        3.0       1.0    0.4444     0.2222
    4   5.0        2.0       0.0    0.4444     0.2222
    5   6.0        1.0       1.0    0.0000        NaN
    >>> km.median_.round(4)
       estimate  ci_lower  ci_upper  below_min_at_risk
    0       3.0       2.0       NaN              False
    >>> km.predict([2.5, 10]).round(4)[["time", "n_at_risk", "estimate"]]
       time  n_at_risk  estimate
    0   2.5        3.0    0.6667
    1  10.0        0.0       NaN
    """

    def __init__(self, conf_level: float = 0.95, conf_type: str = "log", min_at_risk: float | None = 10):
        self.conf_level = conf_level
        self.conf_type = conf_type
        self.min_at_risk = min_at_risk

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
        min_at_risk = _check_min_at_risk(self.min_at_risk, owner)
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
        z = _zero_events(c)
        self._lower_r = lower  # R's limits ([1, 1] where S = 1): the quantile intervals invert these
        lower = np.where(z.zero, zero_event_survival_bound(z.m_min, conf_level), lower)
        upper = np.where(z.zero, 1.0, upper)

        self._c = c
        self._z = z
        self._min_at_risk = min_at_risk
        self._surv, self._sigma, self._se = surv, sigma, se
        self._lower, self._upper = lower, upper
        self._greenwood = greenwood
        self._conf_level = conf_level

        self.survival_ = _curve_frame(c, surv, se, lower, upper)
        self.survival_["zero_events"] = z.zero
        self.survival_["below_min_at_risk"] = _below(c.n_at_risk, min_at_risk)
        self.life_table_ = lt
        self.by_ = c.by
        self.time_unit_ = c.time_unit
        self.n_obs_ = _n_obs(c)

        notes = _risk_set_notes(c, surv)
        _warn_notes(owner, c, notes, stacklevel + 1)
        self.median_, self.notes_ = _median(c, surv, self._lower_r, upper, notes, min_at_risk)
        return self

    # ------------------------------------------------------------------ predictions
    def predict(self, times, extend: bool = False) -> pd.DataFrame:
        """Survival at the requested times (right-continuous step function), per segment.

        The value at :math:`t` is the estimate at the last life-table time :math:`\\le t`. Beyond a segment's
        last observed time nothing is known: the estimate, its standard error and limits are NaN, unless
        ``extend=True`` carries the last value forward (with ``n_at_risk`` 0), as R
        ``summary(fit, times=, extend=TRUE)``. R's default ``extend=FALSE`` drops those times; churnsurv keeps
        the row (tidy output) with NaN.

        Where nobody in the segment has defected by ``t``, ``ci_lower`` is the exact one-sided bound
        :math:`(1-\\gamma)^{1/m}` with :math:`m` the smallest risk set over :math:`(0, t]` (``zero_events``
        True, ``ci_upper`` 1; see the class Notes); with ``extend=True`` beyond the last time that bound is 0.

        Parameters
        ----------
        times : float or array-like of float
            Non-negative times, in the time unit of the data.
        extend : bool, default=False
            Carry the curve forward beyond each segment's last observed time (R's ``extend=TRUE``).

        Returns
        -------
        pandas.DataFrame
            ``[*by, time, n_at_risk, estimate, std_error, ci_lower, ci_upper, zero_events,
            below_min_at_risk]``, one row per segment and time (segment-major, times in the order given).
            ``n_at_risk`` counts the customers at risk at ``time`` (entry < time <= exit); R reports the number
            at risk at the next exit time instead, which differs only with late entries.
        """
        check_is_fitted(self)
        owner = f"{type(self).__name__}.predict"
        times = _as_times(times, owner)
        if not isinstance(extend, (bool, np.bool_)):
            raise param_error("extend", owner, "a bool", extend, type_error=True)
        c = self._c
        out = _step_frame(c, times, self._surv, self._se, self._lower, self._upper, start=1.0)
        zero, m_min, _, beyond = _zero_events_at(c, self._z, times)
        out["ci_lower"] = np.where(zero, zero_event_survival_bound(m_min, self._conf_level), out["ci_lower"])
        out["ci_upper"] = np.where(zero, 1.0, out["ci_upper"])
        if not extend:
            for col in ("estimate", "std_error", "ci_lower", "ci_upper"):
                out[col] = np.where(beyond, np.nan, out[col])
            zero = zero & ~beyond
        out["zero_events"] = zero
        out["below_min_at_risk"] = _below(out["n_at_risk"].to_numpy(float), self._min_at_risk)
        return out

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
            ``[*by, prob, estimate, ci_lower, ci_upper, below_min_at_risk]`` (NaN where a curve never reaches
            ``1 - p``); ``below_min_at_risk`` is True where the curve reaches ``1 - p`` only where fewer than
            ``min_at_risk`` customers are at risk (read such a quantile as fragile). The confidence limits use the
            intervals of R (the zero-defection bound does not change them: a quantile needs defections).
        """
        check_is_fitted(self)
        probs = _check_probs(probs, f"{type(self).__name__}.quantile")
        return _segment_quantiles(self._c, probs, self._surv, self._lower_r, self._upper, self._min_at_risk)

    # ------------------------------------------------------------------ restricted mean
    def rmst(self, tau=None) -> pd.DataFrame:
        """Restricted mean lifetime :math:`\\int_0^\\tau S(u)\\,du` per segment, with R's standard error.

        Matches R ``print(survfit(...), rmean=tau)``; the interval is the normal (Wald) interval
        :math:`\\hat\\mu \\pm z\\,\\mathrm{se}`. Every segment uses the same horizon.

        Parameters
        ----------
        tau : float or array-like of float, optional
            Horizon(s), in the time unit, common to all segments. Default: the earliest time, over the segments,
            at which fewer than ``min_at_risk`` customers are at risk (each segment's last observed time when
            ``min_at_risk`` is disabled or never crossed), so that no segment is extrapolated. A horizon beyond
            a segment's last time extends its curve at the last value (R's ``rmean=``).

        Returns
        -------
        pandas.DataFrame
            ``[*by, tau, estimate, std_error, ci_lower, ci_upper, zero_events]``. ``zero_events`` is True where
            nobody in the segment defected before ``tau``: the estimate is ``tau`` with standard error 0 (as R),
            and the interval is the exact one-sided bound ``[tau * S_L, tau]`` (see the class Notes).

        Warns
        -----
        StatisticalWarning
            Naming the segments where ``tau`` passes the last observed time (extrapolation), or the time where
            fewer than ``min_at_risk`` customers are at risk, or where the standard error is 0 because nobody
            defected before ``tau``.
        """
        check_is_fitted(self)
        owner = f"{type(self).__name__}.rmst"
        taus = _check_tau(tau, owner, self._default_tau())
        out, se = _rmst_frame(self._c, self._surv, self._greenwood, taus, self._conf_level, self._z)
        _warn_rmst(owner, self._c, self._z, self._min_at_risk, taus, se)
        return out

    def _default_tau(self) -> float:
        return _default_tau(self._c, self._z, self._min_at_risk)

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
            Horizon, the same for every segment; default as :meth:`rmst` (the earliest time, over the segments,
            where fewer than ``min_at_risk`` are at risk). The same warnings as :meth:`rmst`: a comparison with a
            standard error of 0 (no defection before ``tau`` in a segment) is not a certain one.
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
        tau = _check_tau(tau, owner, self._default_tau(), single=True)
        ref_code = _segment_code(c, reference, owner)
        _, se = _rmst_arrays(c, self._surv, self._greenwood, tau)
        _warn_rmst(owner, c, self._z, self._min_at_risk, [tau], se)
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
            Horizon of the restricted mean, common to all segments; default as :meth:`rmst`.

        Returns
        -------
        pandas.DataFrame
            ``[*by, n_customers, n_events, n_censored, n_truncated, median, median_ci_lower, median_ci_upper,
            max_follow_up, tau, rmst, rmst_std_error, survival_<t>..., note]`` (``max_follow_up``: the segment's
            last exit time, the bound of a median "not reached"); ``n_truncated`` counts customers entering after
            time 0 (left truncation); counts are weighted. ``attrs`` holds ``conf_level``, ``conf_type`` and
            ``time_unit``.
        """
        check_is_fitted(self)
        owner = f"{type(self).__name__}.summary"
        c = self._c
        times = _as_times(times, owner) if times is not None and len(np.atleast_1d(times)) else np.array([])
        tau = _check_tau(tau, owner, self._default_tau(), single=True)
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
        # the last exit or event time of each segment: a median "not reached" is "not reached (> max_follow_up)"
        exits = np.where((c.n_events + c.n_censored) > 0, c.time, -np.inf)
        last = np.full(c.n_groups, -np.inf)
        np.maximum.at(last, c.gcode, exits)
        out["max_follow_up"] = np.where(np.isfinite(last), last, np.nan)
        est, se = _rmst_arrays(c, self._surv, self._greenwood, tau)
        _warn_rmst(owner, c, self._z, self._min_at_risk, [tau], se)
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



def kaplan_meier(data, by=None, *, conf_level: float = 0.95, conf_type: str = "log", min_at_risk: float | None = 10,
                 **frame_kwargs) -> pd.DataFrame:
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
    min_at_risk : float or None, default=10
        Flag rows with fewer customers at risk (``below_min_at_risk``); None or 0 disables.
    **frame_kwargs
        ``duration``, ``event``, ``entry``, ``weights``... for a DataFrame.

    Returns
    -------
    pandas.DataFrame
        ``[*by, time, n_at_risk, n_events, n_censored, estimate, std_error, ci_lower, ci_upper, zero_events,
        below_min_at_risk]`` (:attr:`KaplanMeier.survival_`).

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
    est = KaplanMeier(conf_level=conf_level, conf_type=conf_type, min_at_risk=min_at_risk)
    return est._fit(data, by, frame_kwargs, stacklevel=2).survival_



def restricted_mean(data, tau=None, by=None, *, conf_level: float = 0.95, min_at_risk: float | None = 10,
                    **frame_kwargs) -> pd.DataFrame:
    """Restricted mean lifetime (RMST) per segment from the Kaplan-Meier curve, as one tidy table.

    Parameters
    ----------
    data : Tenures, LifeTable or pandas.DataFrame
    tau : float or array-like of float, optional
        Horizon(s), common to all segments; default as :meth:`KaplanMeier.rmst` (the earliest time, over the
        segments, where fewer than ``min_at_risk`` customers are at risk).
    by : str or list of str, optional
    conf_level : float, default=0.95
    min_at_risk : float or None, default=10
        As :class:`KaplanMeier`; sets the default horizon and the warnings.
    **frame_kwargs
        Column keywords of :meth:`Tenures.from_frame`, for a DataFrame.

    Returns
    -------
    pandas.DataFrame
        ``[*by, tau, estimate, std_error, ci_lower, ci_upper, zero_events]`` (:meth:`KaplanMeier.rmst`); the
        standard error is R's ``print(survfit, rmean=tau)``.

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
    >>> restricted_mean(df, tau=4, min_at_risk=None, duration="tenure", event="churned").round(4)
       tau  estimate  std_error  ci_lower  ci_upper  zero_events
    0  4.0    2.9444     0.4698    2.0237    3.8652        False
    """
    est = KaplanMeier(conf_level=conf_level, min_at_risk=min_at_risk)._fit(data, by, frame_kwargs, stacklevel=2)
    return est.rmst(tau)


