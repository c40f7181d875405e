"""Nelson-Aalen cumulative hazard, from the counts of a :class:`~churnsurv.LifeTable`.

Matches R ``survival::survfit(ctype=1)``; ``tests/nonparametric/test_against_r_km.py`` checks it.
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
    _group_cumsum,
    _n_obs,
    _risk_set_notes,
    _step_frame,
    _warn_notes,
)
from churnsurv.nonparametric.intervals import (
    HAZARD_CONF_TYPES,
    cumulative_hazard_confint,
)

__all__ = ["NelsonAalen", "nelson_aalen"]


class NelsonAalen(BaseEstimator):
    r"""Nelson-Aalen estimator of the cumulative hazard, by segment.

    Parameters
    ----------
    conf_level : float, default=0.95
    conf_type : {"log", "plain"}, default="log"
        ``"log"``: :math:`\hat H \exp(\pm z\,\mathrm{se}/\hat H)` (the log-log interval of
        :math:`e^{-\hat H}`; lifelines' choice); ``"plain"``: :math:`\hat H \pm z\,\mathrm{se}` floored at 0.

    Attributes
    ----------
    cumulative_hazard_ : pandas.DataFrame
        ``[*by, time, n_at_risk, n_events, n_censored, estimate, std_error, ci_lower, ci_upper]``, time 0
        included.
    life_table_ : LifeTable
    n_obs_ : int
    by_ : tuple of str
    time_unit_ : str
    notes_ : dict

    See Also
    --------
    nelson_aalen : the same estimate as a function.
    KaplanMeier : the survival curve.
    DiscreteHazard : the per-period churn rate.

    Notes
    -----
    With :math:`n_j` at risk and :math:`d_j` defections at time :math:`t_j` (ties counted together, R's
    ``ctype=1``),

    .. math::

        \hat H(t) = \sum_{t_j \le t} \frac{d_j}{n_j}, \qquad
        \widehat{\operatorname{Var}}\,\hat H(t) = \sum_{t_j \le t} \frac{d_j}{n_j^2},

    the variance R ``survfit`` reports as ``std.chaz`` (survival 3.x) [3]_; the estimator is Nelson's [1]_ and
    Aalen's [2]_. Left truncation and weights are handled as in :class:`KaplanMeier`.

    References
    ----------
    .. [1] Nelson, W. (1972). Theory and applications of hazard plotting for censored failure data.
       *Technometrics* 14, 945-966.
    .. [2] Aalen, O. (1978). Nonparametric inference for a family of counting processes. *Annals of
       Statistics* 6, 701-726.
    .. [3] Klein, J. P. & Moeschberger, M. L. (2003). *Survival Analysis: Techniques for Censored and
       Truncated Data*, 2nd ed., Springer, sec. 4.2.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.nonparametric import NelsonAalen
    >>> df = pd.DataFrame({"tenure": [1, 2, 2, 3, 5, 6], "churned": [1, 0, 1, 1, 0, 1]})
    >>> na = NelsonAalen().fit(df, duration="tenure", event="churned")
    >>> na.cumulative_hazard_[["time", "n_at_risk", "estimate", "std_error"]].round(4)
       time  n_at_risk  estimate  std_error
    0   0.0        6.0    0.0000     0.0000
    1   1.0        6.0    0.1667     0.1667
    2   2.0        5.0    0.3667     0.2603
    3   3.0        3.0    0.7000     0.4230
    4   5.0        2.0    0.7000     0.4230
    5   6.0        1.0    1.7000     1.0858
    """

    def __init__(self, conf_level: float = 0.95, conf_type: str = "log"):
        self.conf_level = conf_level
        self.conf_type = conf_type

    def fit(self, data, *, by=None, **frame_kwargs) -> NelsonAalen:
        """Estimate the cumulative hazard of every segment (arguments as :meth:`KaplanMeier.fit`).

        Returns
        -------
        NelsonAalen
            ``self``, fitted.
        """
        return self._fit(data, by, frame_kwargs, stacklevel=2)

    def _fit(self, data, by, frame_kwargs, stacklevel):
        owner = type(self).__name__
        conf_level = check_conf_level(self.conf_level, owner)
        check_one_of(self.conf_type, "conf_type", owner, HAZARD_CONF_TYPES)
        lt = _fit_life_table(data, by, frame_kwargs)
        c = _counts(lt, owner)
        n, d = c.n_at_risk, c.n_events
        with np.errstate(divide="ignore", invalid="ignore"):
            inc = np.where(n > 0, d / n, 0.0)
            var_inc = np.where(n > 0, d / (n * n), 0.0)
        chaz = _group_cumsum(inc, c)
        se = np.sqrt(_group_cumsum(var_inc, c))
        lower, upper = cumulative_hazard_confint(chaz, se, conf_level, self.conf_type)
        self._c = c
        self._chaz, self._se, self._lower, self._upper = chaz, se, lower, upper
        self.cumulative_hazard_ = _curve_frame(c, chaz, se, lower, upper)
        self.life_table_ = lt
        self.by_ = c.by
        self.time_unit_ = c.time_unit
        self.n_obs_ = _n_obs(c)
        notes = _risk_set_notes(c)
        _warn_notes(owner, c, notes, stacklevel + 1)
        labels = c.labels() if notes else []
        self.notes_ = {labels[g]: list(m) for g, m in notes.items()}
        return self

    def predict(self, times) -> pd.DataFrame:
        """Cumulative hazard at the requested times (right-continuous step function), per segment.

        Beyond the last time the last value is carried forward (R's ``extend=TRUE``).

        Parameters
        ----------
        times : float or array-like of float

        Returns
        -------
        pandas.DataFrame
            ``[*by, time, n_at_risk, estimate, std_error, ci_lower, ci_upper]``.
        """
        check_is_fitted(self)
        times = _as_times(times, f"{type(self).__name__}.predict")
        return _step_frame(self._c, times, self._chaz, self._se, self._lower, self._upper, start=0.0)



def nelson_aalen(data, by=None, *, conf_level: float = 0.95, conf_type: str = "log", **frame_kwargs) -> pd.DataFrame:
    """Nelson-Aalen cumulative hazard per segment, as one tidy table.

    Parameters
    ----------
    data : Tenures, LifeTable or pandas.DataFrame
    by : str or list of str, optional
    conf_level : float, default=0.95
    conf_type : {"log", "plain"}, default="log"
    **frame_kwargs
        Column keywords of :meth:`Tenures.from_frame`, for a DataFrame.

    Returns
    -------
    pandas.DataFrame
        :attr:`NelsonAalen.cumulative_hazard_`.

    See Also
    --------
    NelsonAalen : the estimator.
    kaplan_meier : the survival curve.
    restricted_mean : restricted mean lifetime.
    """
    est = NelsonAalen(conf_level=conf_level, conf_type=conf_type)
    return est._fit(data, by, frame_kwargs, stacklevel=2).cumulative_hazard_


