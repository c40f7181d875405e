"""Nelson-Aalen cumulative hazard, from the counts of a :class:`~churnsurv.LifeTable`.

Matches R ``survival::survfit(ctype=1)``; ``tests/nonparametric/test_against_r_km.py`` checks it.
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
    _group_cumsum,
    _n_obs,
    _risk_set_notes,
    _step_frame,
    _warn_notes,
)
from churnsurv.nonparametric.intervals import (
    HAZARD_CONF_TYPES,
    cumulative_hazard_confint,
    zero_event_hazard_bound,
)
from churnsurv.nonparametric.quantiles import _below, _check_min_at_risk, _zero_events, _zero_events_at

__all__ = ["NelsonAalen", "nelson_aalen"]


class NelsonAalen(BaseEstimator):
    r"""Nelson-Aalen estimator of the cumulative hazard, by segment.

    Parameters
    ----------
    conf_level : float, default=0.95
    conf_type : {"log", "plain"}, default="log"
        ``"log"``: :math:`\hat H \exp(\pm z\,\mathrm{se}/\hat H)` (the log-log interval of
        :math:`e^{-\hat H}`; lifelines' choice); ``"plain"``: :math:`\hat H \pm z\,\mathrm{se}` floored at 0.
    min_at_risk : float or None, default=10
        Rows with fewer customers at risk are flagged ``below_min_at_risk``; None or 0 disables.

    Attributes
    ----------
    cumulative_hazard_ : pandas.DataFrame
        ``[*by, time, n_at_risk, n_events, n_censored, estimate, std_error, ci_lower, ci_upper, zero_events,
        below_min_at_risk]``, time 0 included. Where ``zero_events`` is True (no defection yet, time > 0) the
        interval is the exact one-sided ``[0, -log(1 - conf_level) / m]`` instead of R's ``[0, 0]`` (see Notes).
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

    Where nobody has defected by :math:`t`, :math:`\hat H(t) = 0` with variance 0; instead of the point
    interval ``[0, 0]`` the upper limit is the exact one-sided bound :math:`-\log(1-\gamma)/m(t)` (about
    :math:`3/m` at 95%, the "rule of three" [4]_), :math:`m(t)` the smallest risk set over :math:`(0, t]`; it is
    :math:`-\log` of the survival bound of :class:`KaplanMeier`.

    References
    ----------
    .. [1] Nelson, W. (1972). Theory and applications of hazard plotting for censored failure data.
       *Technometrics* 14, 945-966.
    .. [2] Aalen, O. (1978). Nonparametric inference for a family of counting processes. *Annals of
       Statistics* 6, 701-726.
    .. [3] Klein, J. P. & Moeschberger, M. L. (2003). *Survival Analysis: Techniques for Censored and
       Truncated Data*, 2nd ed., Springer, sec. 4.2.
    .. [4] Hanley, J. A. & Lippman-Hand, A. (1983). If nothing goes wrong, is everything all right?
       Interpreting zero numerators. *JAMA* 249, 1743-1745.

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

    def __init__(self, conf_level: float = 0.95, conf_type: str = "log", min_at_risk: float | None = 10):
        self.conf_level = conf_level
        self.conf_type = conf_type
        self.min_at_risk = min_at_risk

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
        min_at_risk = _check_min_at_risk(self.min_at_risk, owner)
        lt = _fit_life_table(data, by, frame_kwargs)
        c = _counts(lt, owner)
        n, d = c.n_at_risk, c.n_events
        with np.errstate(divide="ignore", invalid="ignore"):
            inc = np.where(n > 0, d / n, 0.0)
            var_inc = np.where(n > 0, d / (n * n), 0.0)
        chaz = _group_cumsum(inc, c)
        se = np.sqrt(_group_cumsum(var_inc, c))
        lower, upper = cumulative_hazard_confint(chaz, se, conf_level, self.conf_type)
        z = _zero_events(c)
        upper = np.where(z.zero, zero_event_hazard_bound(z.m_min, conf_level), upper)
        self._c, self._z = c, z
        self._conf_level, self._min_at_risk = conf_level, min_at_risk
        self._chaz, self._se, self._lower, self._upper = chaz, se, lower, upper
        self.cumulative_hazard_ = _curve_frame(c, chaz, se, lower, upper)
        self.cumulative_hazard_["zero_events"] = z.zero
        self.cumulative_hazard_["below_min_at_risk"] = _below(c.n_at_risk, min_at_risk)
        self.life_table_ = lt
        self.by_ = c.by
        self.time_unit_ = c.time_unit
        self.n_obs_ = _n_obs(c)
        notes = _risk_set_notes(c)
        _warn_notes(owner, c, notes, stacklevel + 1)
        labels = c.labels() if notes else []
        self.notes_ = {labels[g]: list(m) for g, m in notes.items()}
        return self

    def predict(self, times, extend: bool = False) -> pd.DataFrame:
        """Cumulative hazard at the requested times (right-continuous step function), per segment.

        Beyond a segment's last observed time the values are NaN unless ``extend=True`` carries the last value
        forward (R ``summary(fit, times=, extend=TRUE)``; R's default drops those times).

        Parameters
        ----------
        times : float or array-like of float
        extend : bool, default=False
            Carry the curve forward beyond each segment's last observed time.

        Returns
        -------
        pandas.DataFrame
            ``[*by, time, n_at_risk, estimate, std_error, ci_lower, ci_upper, zero_events, below_min_at_risk]``.
        """
        check_is_fitted(self)
        owner = f"{type(self).__name__}.predict"
        times = _as_times(times, owner)
        if not isinstance(extend, (bool, np.bool_)):
            raise param_error("extend", owner, "a bool", extend, type_error=True)
        c = self._c
        out = _step_frame(c, times, self._chaz, self._se, self._lower, self._upper, start=0.0)
        zero, m_min, _, beyond = _zero_events_at(c, self._z, times)
        out["ci_upper"] = np.where(zero, zero_event_hazard_bound(m_min, self._conf_level), out["ci_upper"])
        if not extend:
            for col in ("estimate", "std_error", "ci_lower", "ci_upper"):
                out[col] = np.where(beyond, np.nan, out[col])
            zero = zero & ~beyond
        out["zero_events"] = zero
        out["below_min_at_risk"] = _below(out["n_at_risk"].to_numpy(float), self._min_at_risk)
        return out



def nelson_aalen(data, by=None, *, conf_level: float = 0.95, conf_type: str = "log", min_at_risk: float | None = 10,
                 **frame_kwargs) -> pd.DataFrame:
    """Nelson-Aalen cumulative hazard per segment, as one tidy table.

    Parameters
    ----------
    data : Tenures, LifeTable or pandas.DataFrame
    by : str or list of str, optional
    conf_level : float, default=0.95
    conf_type : {"log", "plain"}, default="log"
    min_at_risk : float or None, default=10
        Flag rows with fewer customers at risk; None or 0 disables.
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
    est = NelsonAalen(conf_level=conf_level, conf_type=conf_type, min_at_risk=min_at_risk)
    return est._fit(data, by, frame_kwargs, stacklevel=2).cumulative_hazard_


