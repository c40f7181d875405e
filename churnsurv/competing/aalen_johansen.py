"""Competing risks: why customers leave, not only when.

Every estimator here is computed from a :class:`~churnsurv.LifeTable` that has causes, so left-truncated
records (a churn snapshot) are handled by the risk sets, tied monthly times are handled exactly (never
jittered) and tables aggregated elsewhere (:meth:`LifeTable.from_counts`) work as well.

* :class:`AalenJohansen` / :func:`cumulative_incidence`: cumulative incidence of each cause with standard
  errors and pointwise confidence limits, as R ``survival::survfit`` (multi-state) or ``cmprsk::cuminc``.
* :func:`gray_test`: Gray's (1988) test of equal cumulative incidence across segments, as ``cmprsk::cuminc``.
* :func:`cause_specific_hazard`: per-period cause-specific hazards with Wilson limits.
* :func:`cause_reduction`: counterfactual survival when the hazard of some causes is reduced or removed
  (the bridge to the economics of retention).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import pandas as pd

from churnsurv._base import BaseEstimator
from churnsurv._validation import check_conf_level, check_is_fitted, check_one_of, param_error
from churnsurv.competing.aj_variance import _aalen_variance, _aj_core, _cells, _greenwood_variance, _ij_variance
from churnsurv.data.tenures import Tenures, _as_list
from churnsurv.exceptions import TenureDataError
from churnsurv.lifetable.table import LifeTable, _group_codes, as_life_table, life_table
from churnsurv.nonparametric.intervals import SURVIVAL_CONF_TYPES, survival_confint

__all__ = ["AalenJohansen", "cumulative_incidence"]

VARIANCES = ("ij", "greenwood", "aalen")


# ============================================================================ Aalen-Johansen
class AalenJohansen(BaseEstimator):
    """Cumulative incidence of each cause of defection (Aalen-Johansen estimator).

    Parameters
    ----------
    conf_level : float, default 0.95
        Level of the pointwise confidence limits.
    conf_type : {"log", "log-log", "plain"}, default "log"
        Transform of the limits, applied to each probability as R ``survfit`` does for multi-state
        curves (``conf.type``, default ``"log"``).
    variance : {"ij", "greenwood", "aalen"}, default "ij"
        Variance estimator of the curves (see Notes). ``"ij"`` is what R ``survfit`` reports.
    min_at_risk : float or None, default 10
        Number at risk below which a step of the curves rests on too few customers to be read: such rows are
        flagged in the ``below_min_at_risk`` column of :attr:`cumulative_incidence_` (as in
        :class:`~churnsurv.KaplanMeier`), and :func:`~churnsurv.plotting.plot_cumulative_incidence` greys or
        cuts the tail. 0 or None flags nothing. The estimates themselves are unchanged.

    Attributes
    ----------
    cumulative_incidence_ : pandas.DataFrame
        One row per (segment, cause, time), sorted in that order: ``[*by, "cause", "time", "n_at_risk",
        "n_events", "estimate", "std_error", "ci_lower", "ci_upper", "below_min_at_risk"]``; ``n_events`` counts
        defections of that cause, ``std_error`` is on the probability scale, ``below_min_at_risk`` is True where
        ``n_at_risk < min_at_risk`` (typically the tail of a segment; with left truncation also the first
        months, before many customers have entered). Times are the life table's (time 0 and every time at
        which something happens in the segment).
    survival_ : pandas.DataFrame
        All-cause survival (the Kaplan-Meier curve, still a customer), one row per (segment, time):
        ``[*by, "time", "n_at_risk", "n_events", "n_censored", "estimate", "std_error", "ci_lower",
        "ci_upper"]``. Its standard error uses the same estimator as the incidences (``"ij"``; Greenwood
        otherwise, which equals the IJ for right-censored data).
    causes_ : tuple of str
    by_ : tuple of str
    time_unit_ : str
    n_customers_ : pandas.Series
        Customers per segment.
    truncated_ : bool
        Whether some customers enter observation after time 0 (left truncation).

    See Also
    --------
    cumulative_incidence : the same estimate as a function returning the tidy table.
    gray_test : compare the cumulative incidence of a cause across segments.
    cause_reduction : survival when a cause is reduced or removed.

    Notes
    -----
    At each time :math:`t` of a segment with :math:`n` customers at risk, :math:`d_k` defections of cause
    :math:`k` and :math:`d = \\sum_k d_k`, with :math:`\\hat S(t-)` the all-cause survival just before
    :math:`t`:

    .. math::

        \\hat S(t) = \\hat S(t-)\\,(1 - d/n), \\qquad
        \\hat F_k(t) = \\hat F_k(t-) + \\hat S(t-)\\, d_k / n,

    so that :math:`\\hat S(t) + \\sum_k \\hat F_k(t) = 1` at every time (:meth:`check`). Tied times are
    handled exactly; nothing is jittered. Risk sets come from the life table, so left truncation (entry
    after 0) is handled as in R ``survfit(Surv(entry, time, status) ~ segment, id = id)``.

    **Variance.** With :math:`a(s) = 1/(n - d)` and :math:`b(s) = \\hat S(s-)/n` at each time :math:`s`, the
    influence of customer :math:`i` on :math:`\\hat F_k(t)` is

    .. math::

        U_{ik}(t) = \\sum_{s \\le t} \\big[-a(s)\\{\\hat F_k(t) - \\hat F_k(s)\\}\\, dM_i(s)
                     + b(s)\\, dM_{ik}(s)\\big],

    with :math:`dM_{ik}(s) = dN_{ik}(s) - Y_i(s)\\,d_k/n` (and :math:`dM_i = \\sum_k dM_{ik}`).
    ``"ij"`` is the infinitesimal jackknife :math:`\\sum_i (w_i U_{ik})^2`, which R ``survfit`` reports as
    ``std.err`` for multi-state curves (it accepts no other variance: "multi-state survfit supports only a
    robust variance"). It is computed exactly, without looping over customers: each influence is a function of
    the entry row until exit and of (entry, exit, cause) after, so the sums of squares reduce to cumulative sums
    and one sparse (exit x entry) product. Each row of the tenure table counts as one customer (with
    ``spells=True``, R's ``id =`` would also add the covariances between the spells of a customer), and the
    counts of a :class:`~churnsurv.LifeTable` fitted directly count as customers of weight 1. For
    right-censored data with unit weights the IJ reduces to the Greenwood-type delta-method estimator

    .. math::

        \\widehat{\\mathrm{Var}}\\,\\hat F_k(t) = \\sum_{s \\le t}
          \\{\\hat F_k(t) - \\hat F_k(s)\\}^2 \\frac{d}{n(n-d)}
          + \\hat S(s-)^2 \\frac{d_k (n - d_k)}{n^3}
          - 2\\{\\hat F_k(t) - \\hat F_k(s)\\}\\hat S(s-) \\frac{d_k}{n^2},

    which ``"greenwood"`` computes from the risk sets in every case (also under truncation, where the two
    differ; lifelines' ``AalenJohansenFitter`` reports this formula). ``"aalen"`` is the Aalen-type estimator of
    ``cmprsk::cuminc`` (Gray's ``cinc`` routine, with its correction :math:`1 - (m-1)/(n-1)` for :math:`m`
    tied events). The IJ variance of left-truncated data needs the customer records: fit a
    :class:`~churnsurv.Tenures` or a frame, not a truncated :class:`~churnsurv.LifeTable`.

    Confidence limits follow R ``survfit_confint`` on the probability scale: ``"log"`` gives
    :math:`\\hat F \\exp(\\pm z\\,\\mathrm{se}/\\hat F)`, capped at 1. Where an estimate is 0 with standard error 0
    (before the first defection of a cause) the limits are ``[0, 0]`` (R reports ``NA``).

    References
    ----------
    .. [1] Aalen, O. O. and Johansen, S. (1978). An empirical transition matrix for non-homogeneous Markov
       chains based on censored observations. *Scandinavian Journal of Statistics* 5, 141-150.
    .. [2] Putter, H., Fiocco, M. and Geskus, R. B. (2007). Tutorial in biostatistics: competing risks and
       multi-state models. *Statistics in Medicine* 26, 2389-2430.
    .. [3] Kalbfleisch, J. D. and Prentice, R. L. (2002). *The Statistical Analysis of Failure Time Data*,
       2nd ed., chapter 8. Wiley.
    .. [4] Andersen, P. K., Geskus, R. B., de Witte, T. and Putter, H. (2012). Competing risks in
       epidemiology: possibilities and pitfalls. *International Journal of Epidemiology* 41, 861-870.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.competing import AalenJohansen
    >>> df = pd.DataFrame({"tenure": [1, 2, 2, 3, 4, 4, 5, 6],
    ...                    "reason": ["price", "service", None, "price", "price", "service", None, "price"]})
    >>> aj = AalenJohansen().fit(df, duration="tenure", cause="reason")
    >>> aj.predict([2, 6]).round(4)
         cause  time  estimate  std_error  ci_lower  ci_upper
    0    price   2.0     0.125     0.1169    0.0200    0.7819
    1    price   6.0     0.725     0.1671    0.4615    1.0000
    2  service   2.0     0.125     0.1169    0.0200    0.7819
    3  service   6.0     0.275     0.1671    0.0836    0.9048
    >>> aj.check() < 1e-12
    True
    """

    def __init__(self, conf_level: float = 0.95, conf_type: str = "log", variance: str = "ij",
                 min_at_risk: float | None = 10):
        self.conf_level = conf_level
        self.conf_type = conf_type
        self.variance = variance
        self.min_at_risk = min_at_risk

    def fit(self, data, *, by: str | Sequence[str] | None = None, **frame_kwargs) -> AalenJohansen:
        """Estimate the cumulative incidence of each cause, overall or by segment.

        Parameters
        ----------
        data : Tenures, LifeTable or pandas.DataFrame
            Records with causes of defection. A frame is read with :meth:`Tenures.from_frame` and
            ``frame_kwargs`` (``duration``, ``event``, ``cause``, ``entry``, ``weights``...).
        by : str or list of str, optional
            Segment columns.
        **frame_kwargs
            Column keywords for a DataFrame input.

        Returns
        -------
        AalenJohansen
            ``self``, fitted.
        """
        owner = "AalenJohansen"
        conf_level = check_conf_level(self.conf_level, owner)
        check_one_of(self.conf_type, "conf_type", owner, SURVIVAL_CONF_TYPES)
        check_one_of(self.variance, "variance", owner, VARIANCES)
        min_at_risk = self.min_at_risk
        if min_at_risk is None:
            min_at_risk = 0.0
        elif isinstance(min_at_risk, bool) or not isinstance(min_at_risk, numbers.Real):
            raise param_error("min_at_risk", owner, "a non-negative number or None", min_at_risk, type_error=True)
        elif not min_at_risk >= 0:
            raise param_error("min_at_risk", owner, "a non-negative number or None", min_at_risk)
        lt, tenures = _resolve(data, by, frame_kwargs)
        _check_causes(lt, owner)
        core = _aj_core(lt)
        truncated = _is_truncated(lt)
        if self.variance == "ij":
            var_s, var_f = _ij_variance(lt, core, _cells(lt, tenures, truncated, owner))
        elif self.variance == "greenwood":
            var_s, var_f = _greenwood_variance(lt, core)
        else:
            var_s, var_f = _greenwood_variance(lt, core, survival_only=True)[0], _aalen_variance(lt, core)
        se_s = np.sqrt(np.maximum(var_s, 0.0))
        se_f = np.sqrt(np.maximum(var_f, 0.0))
        tab = lt.table
        by_cols = list(lt.by)

        surv = tab[by_cols + ["time", "n_at_risk", "n_events", "n_censored"]].reset_index(drop=True)
        surv["estimate"] = core["S"]
        surv["std_error"] = se_s
        surv["ci_lower"], surv["ci_upper"] = _confint(core["S"], se_s, conf_level, self.conf_type)

        causes = list(lt.causes)
        m, k = core["F"].shape
        rows = np.tile(np.arange(m), k)
        cause_idx = np.repeat(np.arange(k), m)
        order = np.lexsort((rows, cause_idx, core["gcode"][rows]))
        rows, cause_idx = rows[order], cause_idx[order]
        cif = tab[by_cols].iloc[rows].reset_index(drop=True) if by_cols else pd.DataFrame(index=range(len(rows)))
        cif["cause"] = pd.Categorical.from_codes(cause_idx, categories=causes)
        cif["time"] = tab["time"].to_numpy()[rows]
        cif["n_at_risk"] = tab["n_at_risk"].to_numpy()[rows]
        cif["n_events"] = core["dk"][rows, cause_idx]
        est = core["F"][rows, cause_idx]
        se = se_f[rows, cause_idx]
        cif["estimate"] = est
        cif["std_error"] = se
        cif["ci_lower"], cif["ci_upper"] = _confint(est, se, conf_level, self.conf_type)
        cif["below_min_at_risk"] = cif["n_at_risk"].to_numpy() < float(min_at_risk)

        self.cumulative_incidence_ = cif
        self.survival_ = surv
        self.causes_ = tuple(causes)
        self.by_ = tuple(by_cols)
        self.time_unit_ = lt.time_unit
        self.n_customers_ = lt.n_customers
        self.truncated_ = truncated
        return self

    def predict(self, times, cause: str | Sequence[str] | None = None) -> pd.DataFrame:
        """Cumulative incidence at given times (right-continuous: the value at the last time <= t).

        Parameters
        ----------
        times : float or array-like of float
            Times in the fitted time unit.
        cause : str or list of str, optional
            Causes to report; default all.

        Returns
        -------
        pandas.DataFrame
            ``[*by, "cause", "time", "estimate", "std_error", "ci_lower", "ci_upper"]``, one row per
            (segment, cause, time). Before time 0 the incidence is 0; after the last time observed in a
            segment the curve is not identified and the row is NaN.
        """
        check_is_fitted(self, "cumulative_incidence_")
        t = np.atleast_1d(np.asarray(times, dtype=float))
        if t.ndim != 1 or np.isnan(t).any():
            raise param_error("times", "AalenJohansen.predict", "a number or a 1-d array of numbers without NaN",
                              times)
        causes = self._check_cause(cause, "AalenJohansen.predict")
        cif = self.cumulative_incidence_
        cif = cif[cif["cause"].isin(causes)]
        cols = ["estimate", "std_error", "ci_lower", "ci_upper"]
        keys = list(self.by_) + ["cause"]
        block_codes, block_keys = _group_codes(cif, keys)
        starts = np.flatnonzero(np.r_[True, block_codes[1:] != block_codes[:-1]])
        ends = np.r_[starts[1:], len(cif)]
        times_all = cif["time"].to_numpy()
        values = cif[cols].to_numpy()
        nb, nt = len(starts), len(t)
        # position of each requested time within each block (vectorised over blocks)
        offset = np.repeat(starts, nt)
        tt = np.tile(t, nb)
        pos = np.empty(nb * nt, dtype=np.int64)
        for b, (s, e) in enumerate(zip(starts, ends, strict=True)):
            pos[b * nt:(b + 1) * nt] = np.searchsorted(times_all[s:e], t, side="right") - 1
        last = np.repeat(ends - starts - 1, nt)
        idx = offset + np.clip(pos, 0, None)
        out_vals = values[idx]
        out_vals[pos < 0] = 0.0  # before time 0
        out_vals[(tt > times_all[offset + last])] = np.nan
        out = block_keys.iloc[np.repeat(np.arange(nb), nt)].reset_index(drop=True)
        out["cause"] = pd.Categorical(out["cause"].astype(object), categories=list(self.causes_))
        out["time"] = tt
        for j, c in enumerate(cols):
            out[c] = out_vals[:, j]
        return out

    def check(self, atol: float = 1e-9) -> float:
        """Check that all-cause survival plus the cumulative incidences is 1 at every time.

        Parameters
        ----------
        atol : float
            Largest deviation accepted.

        Returns
        -------
        float
            The largest absolute deviation of :math:`\\hat S(t) + \\sum_k \\hat F_k(t)` from 1.

        Raises
        ------
        ValueError
            When the deviation exceeds ``atol`` (a bug, or a life table whose counts are inconsistent).
        """
        check_is_fitted(self, "cumulative_incidence_")
        k = len(self.causes_)
        total = self.cumulative_incidence_["estimate"].to_numpy()
        # rows are (segment, cause, time): sum the causes per (segment, time)
        surv = self.survival_
        codes = _group_codes(surv, list(self.by_))[0]
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        lengths = np.diff(np.r_[starts, len(surv)])
        acc = surv["estimate"].to_numpy().copy()
        pos = 0
        for s, n in zip(starts, lengths, strict=True):
            for _ in range(k):
                acc[s:s + n] += total[pos:pos + n]
                pos += n
        dev = float(np.max(np.abs(acc - 1.0))) if len(acc) else 0.0
        if dev > atol:
            raise ValueError(f"Survival plus cumulative incidences deviates from 1 by {dev:.3g} (> atol={atol:g}).")
        return dev

    def _check_cause(self, cause, owner) -> list:
        if cause is None:
            return list(self.causes_)
        causes = _as_list(cause)
        unknown = [c for c in causes if c not in self.causes_]
        if unknown:
            raise param_error("cause", owner, f"among the fitted causes {list(self.causes_)}", cause)
        return causes


def cumulative_incidence(data, by: str | Sequence[str] | None = None, *, conf_level: float = 0.95,
                         conf_type: str = "log", variance: str = "ij", min_at_risk: float | None = 10,
                         **frame_kwargs) -> pd.DataFrame:
    """Cumulative incidence of each cause of defection, as a tidy table.

    A shortcut for ``AalenJohansen(...).fit(data, by=by, **frame_kwargs).cumulative_incidence_``.

    Parameters
    ----------
    data : Tenures, LifeTable or pandas.DataFrame
    by : str or list of str, optional
        Segment columns.
    conf_level, conf_type, variance, min_at_risk
        See :class:`AalenJohansen`.
    **frame_kwargs
        Column keywords for a DataFrame input (``duration``, ``cause``, ``entry``...).

    Returns
    -------
    pandas.DataFrame
        ``[*by, "cause", "time", "n_at_risk", "n_events", "estimate", "std_error", "ci_lower", "ci_upper",
        "below_min_at_risk"]``.

    See Also
    --------
    AalenJohansen : the estimator, with the all-cause survival, ``predict`` and the formulas.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.competing import cumulative_incidence
    >>> df = pd.DataFrame({"tenure": [1, 2, 2, 3], "reason": ["price", "service", None, "price"]})
    >>> cumulative_incidence(df, duration="tenure", cause="reason")[["cause", "time", "estimate"]]
         cause  time  estimate
    0    price   0.0      0.00
    1    price   1.0      0.25
    2    price   2.0      0.25
    3    price   3.0      0.75
    4  service   0.0      0.00
    5  service   1.0      0.00
    6  service   2.0      0.25
    7  service   3.0      0.25
    """
    est = AalenJohansen(conf_level=conf_level, conf_type=conf_type, variance=variance, min_at_risk=min_at_risk)
    return est.fit(data, by=by, **frame_kwargs).cumulative_incidence_



# ============================================================================ helpers
def _resolve(data, by, frame_kwargs) -> tuple[LifeTable, Tenures | None]:
    """The life table (and the tenure table when available) behind ``data``."""
    if "cause_column" in frame_kwargs:  # functions whose own 'cause' selects causes name the column so
        frame_kwargs["cause"] = frame_kwargs.pop("cause_column")
    if isinstance(data, pd.DataFrame):
        segs = list(dict.fromkeys(_as_list(frame_kwargs.pop("segments", ())) + _as_list(by)))
        data = Tenures.from_frame(data, segments=segs, **frame_kwargs)
        return life_table(data, _as_list(by) or None), data
    if isinstance(data, Tenures):
        if frame_kwargs:
            raise TypeError(f"Column keywords {sorted(frame_kwargs)} only apply to a DataFrame input.")
        return life_table(data, _as_list(by) or None), data
    return as_life_table(data, by, **frame_kwargs), None


def _check_causes(lt: LifeTable, owner: str) -> None:
    if not lt.causes:
        raise TenureDataError(
            f"{owner} needs causes of defection, but the records have none. Pass cause='<column>' (and a "
            "cause_map if needed) when building the tenure table; for all-cause survival use KaplanMeier.")
    if len(lt.table) == 0:
        raise TenureDataError("The life table is empty.")


def _is_truncated(lt: LifeTable) -> bool:
    tab = lt.table
    return bool((tab["n_entered"].to_numpy()[tab["time"].to_numpy() > 0] > 0).any())


def _confint(p, se, conf_level, conf_type):
    """Limits of probabilities with standard errors on the probability scale (R ``survfit_confint``)."""
    p = np.asarray(p, dtype=float)
    se = np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.where(se == 0, 0.0, se / p)
    lower, upper = survival_confint(p, sigma, conf_level, conf_type)
    zero = (p == 0) & (se == 0)
    return np.where(zero, 0.0, lower), np.where(zero, 0.0, upper)
