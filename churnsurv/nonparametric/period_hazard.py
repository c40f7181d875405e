"""Per-period (discrete-time) hazard with Wilson or exact limits, per period or pooled over bins of periods.
"""


from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from churnsurv._base import BaseEstimator
from churnsurv._validation import check_conf_level, check_one_of, param_error
from churnsurv.lifetable.counts import (
    _counts,
    _fit_life_table,
    _n_obs,
    _pool_periods,
)
from churnsurv.nonparametric.intervals import (
    clopper_pearson_interval,
    wilson_interval,
)

__all__ = ["DiscreteHazard", "discrete_hazard"]

_HAZARD_METHODS = ("wilson", "exact")


class DiscreteHazard(BaseEstimator):
    r"""Per-period hazard (e.g. the monthly churn rate by tenure month) with binomial intervals, by segment.

    Parameters
    ----------
    conf_level : float, default=0.95
    method : {"wilson", "exact"}, default="wilson"
        Binomial interval: Wilson's score interval (default) or the exact Clopper-Pearson interval.
    width : float, optional
        Pool the life-table times into bins of ``width`` time units: :math:`(0, w], (w, 2w], \dots`
        (time 0 joins the first bin). Default: no pooling, one row per life-table time.

    Attributes
    ----------
    hazard_ : pandas.DataFrame
        ``[*by, time, n_at_risk, n_events, estimate, ci_lower, ci_upper]``, one row per life-table time at
        which customers leave (defect or are censored) and someone is at risk. With ``width``, one row per
        bin, ``time`` being the bin's right end and ``time_start`` (inserted before it) its left end.
    life_table_ : LifeTable
    n_obs_ : int
    by_ : tuple of str
    time_unit_ : str

    See Also
    --------
    discrete_hazard : the same estimate as a function.
    KaplanMeier : the survival curve, :math:`\prod (1 - h_t)` for discrete times.
    NelsonAalen : the cumulative hazard :math:`\sum h_t`.

    Notes
    -----
    At each life-table time :math:`t` with :math:`n_t` customers at risk and :math:`d_t` defections,

    .. math::

        \hat h_t = \frac{d_t}{n_t},

    the probability of defecting at :math:`t` among those still customers: with monthly tenures, the churn
    rate of tenure month :math:`t`. Its interval treats :math:`d_t` as binomial on :math:`n_t` trials: Wilson

    .. math::

        \frac{\hat h + \frac{z^2}{2n} \pm z\sqrt{\frac{\hat h(1-\hat h)}{n} + \frac{z^2}{4n^2}}}{1 + z^2/n},

    or Clopper-Pearson (beta quantiles). Spikes at contract renewals (months 12, 24...) show up here and are
    smoothed away in the survival curve. With ``width``, the rate is pooled over the life-table times in the
    bin, :math:`\sum d_t / \sum n_t`: the maximum-likelihood estimate of a hazard constant over the bin when
    each life-table time is one period (whole-month tenures), with the binomial interval on
    :math:`(\sum d_t, \sum n_t)`. A month in which nobody leaves at all has no life-table row, so its
    exposure is left out; pool only period-valued (whole-unit) times.

    References
    ----------
    .. [1] Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
       *Journal of the American Statistical Association* 22, 209-212.
    .. [2] Clopper, C. J. & Pearson, E. S. (1934). The use of confidence or fiducial limits illustrated in
       the case of the binomial. *Biometrika* 26, 404-413.
    .. [3] Klein, J. P. & Moeschberger, M. L. (2003). *Survival Analysis: Techniques for Censored and
       Truncated Data*, 2nd ed., Springer, sec. 5.4 (life tables).

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.nonparametric import DiscreteHazard
    >>> df = pd.DataFrame({"tenure": [1, 2, 2, 3, 5, 6], "churned": [1, 0, 1, 1, 0, 1]})
    >>> DiscreteHazard().fit(df, duration="tenure", event="churned").hazard_.round(4)
       time  n_at_risk  n_events  estimate  ci_lower  ci_upper
    0   1.0        6.0       1.0    0.1667    0.0301    0.5635
    1   2.0        5.0       1.0    0.2000    0.0362    0.6245
    2   3.0        3.0       1.0    0.3333    0.0615    0.7923
    3   5.0        2.0       0.0    0.0000    0.0000    0.6576
    4   6.0        1.0       1.0    1.0000    0.2065    1.0000
    """

    def __init__(self, conf_level: float = 0.95, method: str = "wilson", width: float | None = None):
        self.conf_level = conf_level
        self.method = method
        self.width = width

    def fit(self, data, *, by=None, **frame_kwargs) -> DiscreteHazard:
        """Estimate the per-period hazard of every segment (arguments as :meth:`KaplanMeier.fit`).

        Returns
        -------
        DiscreteHazard
            ``self``, fitted.
        """
        owner = type(self).__name__
        conf_level = check_conf_level(self.conf_level, owner)
        check_one_of(self.method, "method", owner, _HAZARD_METHODS)
        width = self.width
        if width is not None:
            if isinstance(width, bool) or not isinstance(width, numbers.Real):
                raise param_error("width", owner, "a positive number or None", width, type_error=True)
            if not (np.isfinite(width) and width > 0):
                raise param_error("width", owner, "a positive number or None", width)
        lt = _fit_life_table(data, by, frame_kwargs)
        c = _counts(lt, owner)
        keep = (c.n_at_risk > 0) & ((c.n_events + c.n_censored) > 0)
        gcode, t = c.gcode[keep], c.time[keep]
        n, d = c.n_at_risk[keep], c.n_events[keep]
        start = None
        if width is not None:
            gcode, start, t, n, d = _pool_periods(gcode, t, n, d, float(width))
        interval = wilson_interval if self.method == "wilson" else clopper_pearson_interval
        lower, upper = interval(d, n, conf_level)
        cols = {} if start is None else {"time_start": start.astype(float)}
        out = c.frame(gcode, {
            **cols,
            "time": np.asarray(t, dtype=float),
            "n_at_risk": n,
            "n_events": d,
            "estimate": d / n,
            "ci_lower": lower,
            "ci_upper": upper,
        })
        self.hazard_ = out
        self.life_table_ = lt
        self.by_ = c.by
        self.time_unit_ = c.time_unit
        self.n_obs_ = _n_obs(c)
        return self



def discrete_hazard(data, by=None, *, conf_level: float = 0.95, method: str = "wilson", width=None,
                    **frame_kwargs) -> pd.DataFrame:
    """Per-period hazard (monthly churn rate by tenure) per segment, as one tidy table.

    Parameters
    ----------
    data : Tenures, LifeTable or pandas.DataFrame
    by : str or list of str, optional
    conf_level : float, default=0.95
    method : {"wilson", "exact"}, default="wilson"
    width : float, optional
        Pool times into bins of this width.
    **frame_kwargs
        Column keywords of :meth:`Tenures.from_frame`, for a DataFrame.

    Returns
    -------
    pandas.DataFrame
        :attr:`DiscreteHazard.hazard_`.

    See Also
    --------
    DiscreteHazard : the estimator.
    kaplan_meier : the survival curve.
    nelson_aalen : the cumulative hazard.
    """
    return DiscreteHazard(conf_level=conf_level, method=method, width=width).fit(data, by=by, **frame_kwargs).hazard_
