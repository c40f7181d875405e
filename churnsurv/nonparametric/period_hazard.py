"""Per-period (discrete-time) hazard with Wilson or exact limits, per period or pooled over bins of periods, its
largest well-supported value (:meth:`DiscreteHazard.peak`) and pre-specified renewal contrasts
(:meth:`DiscreteHazard.contrast`).
"""


from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from churnsurv._base import BaseEstimator
from churnsurv._validation import check_conf_level, check_is_fitted, check_one_of, param_error
from churnsurv.lifetable.counts import (
    _Counts,
    _counts,
    _fit_life_table,
    _n_obs,
)
from churnsurv.nonparametric.intervals import (
    clopper_pearson_interval,
    log_normal_confint,
    two_sided_p_value,
    wilson_interval,
)
from churnsurv.nonparametric.quantiles import _below, _check_min_at_risk

__all__ = ["DiscreteHazard", "discrete_hazard"]

_HAZARD_METHODS = ("wilson", "exact")


# ====================================================================== exposure
def _cumulative_exposure(c: _Counts, g: int):
    """Times and cumulative customer-time at risk :math:`E(t) = \\int_0^t n(u)\\,du` of segment ``g`` at its
    life-table times. The risk set is constant on :math:`(t_{k-1}, t_k]` (every entry and exit is a row) and
    equals the row's ``n_at_risk``, so :math:`E` is piecewise linear; with whole-unit times, :math:`E(b) - E(a)`
    is the number of customer-periods at risk in the periods :math:`a+1, \\dots, b`."""
    s = slice(c.starts[g], c.stops[g])
    t, n = c.time[s], c.n_at_risk[s]
    pieces = np.diff(t, prepend=0.0) * n
    pieces[t <= 0] = 0.0
    return t, np.cumsum(pieces)


def _exposure_between(t, cum, a, b):
    """:math:`E(b) - E(a)` (flat beyond the last time: nobody is at risk)."""
    tt = np.r_[0.0, t] if t[0] > 0 else t
    cc = np.r_[0.0, cum] if t[0] > 0 else cum
    return np.interp(b, tt, cc) - np.interp(a, tt, cc)


def _binned(c: _Counts, width: float):
    """Bins ``(0, w], (w, 2w], ...`` of every segment: events by the bin of their time (time 0 joins the first
    bin), exposure the customer-time at risk in the bin (plus the number at risk at time 0 when customers leave
    at 0), ``n_at_risk`` the number at risk at the start of the bin. Bins with no exposure and no event (before a
    late first entry, after the end) are left out."""
    rows = {"g": [], "start": [], "end": [], "n": [], "exposure": [], "d": []}
    for g in range(c.n_groups):
        s = slice(c.starts[g], c.stops[g])
        t, n, d = c.time[s], c.n_at_risk[s], c.n_events[s]
        exits = d + c.n_censored[s]
        t_cum, cum = _cumulative_exposure(c, g)
        n_bins = max(int(np.ceil(t[-1] / width)), 1)
        edges = np.arange(n_bins + 1) * width
        k = np.maximum(np.ceil(t / width) - 1.0, 0.0).astype(np.int64)
        events = np.bincount(k, weights=d, minlength=n_bins)[:n_bins]
        expo = _exposure_between(t_cum, cum, edges[:-1], edges[1:])
        at0 = (t <= 0) & (exits > 0)
        expo[0] += float(n[at0].sum())
        nxt = np.searchsorted(t, edges[:-1], side="right")  # first row after the bin's start
        n_start = np.where(nxt < len(t), n[np.minimum(nxt, len(t) - 1)], 0.0)
        n_start[0] = max(n_start[0], float(n[at0].sum()))
        keep = (expo > 0) | (events > 0)
        rows["g"].append(np.full(int(keep.sum()), g))
        rows["start"].append(edges[:-1][keep])
        rows["end"].append(edges[1:][keep])
        rows["n"].append(n_start[keep])
        rows["exposure"].append(expo[keep])
        rows["d"].append(events[keep])
    return {k: np.concatenate(v) for k, v in rows.items()}


def _period_counts(c: _Counts, g: int, periods: np.ndarray):
    """Events and customer-periods at risk in the periods ``(k - 1, k]`` of segment ``g``."""
    s = slice(c.starts[g], c.stops[g])
    t, d = c.time[s], c.n_events[s]
    t_cum, cum = _cumulative_exposure(c, g)
    expo = _exposure_between(t_cum, cum, periods - 1.0, periods)
    idx = np.searchsorted(t, periods, side="right")  # rows with time <= k
    lo = np.searchsorted(t, periods - 1.0, side="right")  # rows with time <= k - 1
    csum = np.r_[0.0, np.cumsum(d)]
    return csum[idx] - csum[lo], expo


def _check_periods(periods, owner: str, name: str) -> np.ndarray:
    try:
        arr = np.atleast_1d(np.asarray(periods, dtype=float)).ravel()
    except (TypeError, ValueError) as err:
        raise param_error(name, owner, "a non-empty array-like of periods >= 1", periods, type_error=True) from err
    if arr.size == 0 or not np.all(np.isfinite(arr)) or (arr < 1).any():
        raise param_error(name, owner, "a non-empty array-like of periods >= 1", periods)
    return np.unique(arr)


def _rate_ratio(d1, e1, d0, e0, conf_level: float):
    """Rate ratio :math:`(d_1/E_1)/(d_0/E_0)` with the exact conditional interval and p-value: given
    :math:`d_1 + d_0`, :math:`d_1` is binomial with :math:`\\pi = E_1 R / (E_1 R + E_0)`; Clopper-Pearson limits
    of :math:`\\pi` map to :math:`R = \\pi/(1-\\pi)\\cdot E_0/E_1`, and the p-value is the two-sided exact binomial
    test of :math:`\\pi_0 = E_1/(E_1+E_0)`. Non-integer (weighted) counts fall back to the Wald interval of
    :math:`\\log R` with :math:`\\mathrm{se} = \\sqrt{1/d_1 + 1/d_0}`."""
    if not (e1 > 0 and e0 > 0):  # nobody at risk in the named periods or around them: nothing to compare
        return np.nan, np.nan, np.nan, np.nan, "no exposure"
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = float(np.float64(d1) / np.float64(e1) / (np.float64(d0) / np.float64(e0)))
    integer = abs(d1 - round(d1)) < 1e-9 and abs(d0 - round(d0)) < 1e-9
    if integer:
        x, total = int(round(d1)), int(round(d1 + d0))
        if total == 0:
            return np.nan, 0.0, np.inf, 1.0, "exact"
        lo_p, hi_p = clopper_pearson_interval(x, total, conf_level)
        with np.errstate(divide="ignore"):
            lo = float(lo_p / (1.0 - lo_p) * e0 / e1)
            hi = float(hi_p / (1.0 - hi_p) * e0 / e1) if hi_p < 1 else np.inf
        from scipy.stats import binomtest  # scipy.stats is slow to import: only when an exact test is run

        p = float(binomtest(x, total, e1 / (e1 + e0)).pvalue)
        return ratio, lo, hi, p, "exact"
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(1.0 / d1 + 1.0 / d0)
        lo, hi = log_normal_confint(ratio, se, conf_level)
        p = float(two_sided_p_value(np.log(ratio) / se))
    return ratio, float(lo), float(hi), p, "wald"


class DiscreteHazard(BaseEstimator):
    r"""Per-period hazard (e.g. the monthly churn rate by tenure month) with binomial intervals, by segment.

    Parameters
    ----------
    conf_level : float, default=0.95
    method : {"wilson", "exact"}, default="wilson"
        Binomial interval: Wilson's score interval (default) or the exact Clopper-Pearson interval.
    width : float, optional
        Pool the periods into bins of ``width`` time units: :math:`(0, w], (w, 2w], \dots` (time 0 joins the
        first bin). Default: no pooling, one row per life-table time.
    min_at_risk : float or None, default=10
        Rows with fewer customers at risk (in a bin: fewer on average, exposure / width) are flagged
        ``below_min_at_risk``; plots draw them light or not at all, and :meth:`peak` ignores them. None or 0
        disables the flag.

    Attributes
    ----------
    hazard_ : pandas.DataFrame
        ``[*by, time, n_at_risk, n_events, estimate, ci_lower, ci_upper, below_min_at_risk]``, one row per
        life-table time at which customers leave (defect or are censored) and someone is at risk. With
        ``width``, one row per bin: ``[*by, time_start, time, n_at_risk, exposure, n_events, estimate, ci_lower,
        ci_upper, below_min_at_risk]``, ``time`` being the bin's right end, ``n_at_risk`` the number at risk at
        its start and ``exposure`` the customer-periods at risk in it.
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

    or Clopper-Pearson (beta quantiles).

    **Bins.** With ``width``, the rate of a bin is :math:`\sum d / E`, :math:`E` the customer-periods at risk in
    the bin: :math:`E = \int n(u)\,du` over the bin, which with whole-unit tenures is :math:`\sum_k n_k` over
    *every* period :math:`k` of the bin, including periods in which nobody leaves (they have no life-table row;
    their risk set is that of the next row, since entries and exits all make rows). It is the maximum-likelihood
    estimate of a hazard constant over the bin, with the binomial interval on :math:`(\sum d, E)`. (Earlier
    versions counted only the periods with an exit, which understated the exposure and overstated the rate.)

    **Peaks and renewals.** The largest of many noisy per-period rates overstates the hazard of its period (a
    winner's curse): :meth:`peak` reports it only among periods with ``min_events`` defections, with its
    interval, as a description. To test a renewal month, name it in advance: :meth:`contrast` compares the
    hazard in the named periods with their neighbours as a rate ratio with an exact interval and p-value.

    References
    ----------
    .. [1] Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
       *Journal of the American Statistical Association* 22, 209-212.
    .. [2] Clopper, C. J. & Pearson, E. S. (1934). The use of confidence or fiducial limits illustrated in
       the case of the binomial. *Biometrika* 26, 404-413.
    .. [3] Klein, J. P. & Moeschberger, M. L. (2003). *Survival Analysis: Techniques for Censored and
       Truncated Data*, 2nd ed., Springer, sec. 5.4 (life tables).
    .. [4] Breslow, N. E. & Day, N. E. (1987). *Statistical Methods in Cancer Research, Vol. II: The Design and
       Analysis of Cohort Studies*, IARC, sec. 2.2 (exact conditional inference on a rate ratio).

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.nonparametric import DiscreteHazard
    >>> df = pd.DataFrame({"tenure": [1, 2, 2, 3, 5, 6], "churned": [1, 0, 1, 1, 0, 1]})
    >>> h = DiscreteHazard(min_at_risk=3).fit(df, duration="tenure", event="churned").hazard_
    >>> h.round(4)
       time  n_at_risk  n_events  estimate  ci_lower  ci_upper  below_min_at_risk
    0   1.0        6.0       1.0    0.1667    0.0301    0.5635              False
    1   2.0        5.0       1.0    0.2000    0.0362    0.6245              False
    2   3.0        3.0       1.0    0.3333    0.0615    0.7923              False
    3   5.0        2.0       0.0    0.0000    0.0000    0.6576               True
    4   6.0        1.0       1.0    1.0000    0.2065    1.0000               True
    """

    def __init__(self, conf_level: float = 0.95, method: str = "wilson", width: float | None = None,
                 min_at_risk: float | None = 10):
        self.conf_level = conf_level
        self.method = method
        self.width = width
        self.min_at_risk = min_at_risk

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
        min_at_risk = _check_min_at_risk(self.min_at_risk, owner)
        width = self.width
        if width is not None:
            if isinstance(width, bool) or not isinstance(width, numbers.Real):
                raise param_error("width", owner, "a positive number or None", width, type_error=True)
            if not (np.isfinite(width) and width > 0):
                raise param_error("width", owner, "a positive number or None", width)
        lt = _fit_life_table(data, by, frame_kwargs)
        c = _counts(lt, owner)
        interval = wilson_interval if self.method == "wilson" else clopper_pearson_interval
        if width is None:
            keep = (c.n_at_risk > 0) & ((c.n_events + c.n_censored) > 0)
            n, d = c.n_at_risk[keep], c.n_events[keep]
            lower, upper = interval(d, n, conf_level)
            out = c.frame(c.gcode[keep], {
                "time": c.time[keep],
                "n_at_risk": n,
                "n_events": d,
                "estimate": d / n,
                "ci_lower": lower,
                "ci_upper": upper,
                "below_min_at_risk": _below(n, min_at_risk),
            })
        else:
            b = _binned(c, float(width))
            lower, upper = interval(b["d"], b["exposure"], conf_level)
            with np.errstate(divide="ignore", invalid="ignore"):
                est = b["d"] / b["exposure"]
            out = c.frame(b["g"], {
                "time_start": b["start"].astype(float),
                "time": b["end"].astype(float),
                "n_at_risk": b["n"],
                "exposure": b["exposure"],
                "n_events": b["d"],
                "estimate": est,
                "ci_lower": lower,
                "ci_upper": upper,
                "below_min_at_risk": _below(b["exposure"] / float(width), min_at_risk),
            })
        self._c = c
        self._conf_level = conf_level
        self.hazard_ = out
        self.life_table_ = lt
        self.by_ = c.by
        self.time_unit_ = c.time_unit
        self.n_obs_ = _n_obs(c)
        return self

    def peak(self, min_events: float = 10) -> pd.DataFrame:
        """The largest per-period (or per-bin) hazard of each segment among well-supported periods.

        Only rows with at least ``min_events`` defections and not ``below_min_at_risk`` compete. The maximum
        of many noisy rates is biased upwards, so read this as a description, with its interval; to test whether
        a renewal month stands out, name it in advance and use :meth:`contrast`.

        Parameters
        ----------
        min_events : float, default=10
            Smallest number of defections in a period for it to count.

        Returns
        -------
        pandas.DataFrame
            One row per segment, the row of :attr:`hazard_` with the largest estimate plus ``n_candidates`` (how
            many periods competed); NaN where no period qualifies.
        """
        check_is_fitted(self)
        owner = f"{type(self).__name__}.peak"
        if isinstance(min_events, bool) or not isinstance(min_events, numbers.Real) or not min_events >= 0:
            raise param_error("min_events", owner, "a non-negative number", min_events,
                              type_error=not isinstance(min_events, numbers.Real) or isinstance(min_events, bool))
        h = self.hazard_
        by = list(self.by_)
        ok = (h["n_events"] >= min_events) & ~h["below_min_at_risk"]
        cand = h[ok]
        keys = self._c.keys[by] if by else pd.DataFrame(index=pd.RangeIndex(1))
        rows = []
        for i in range(self._c.n_groups):
            sel = cand
            for b in by:
                sel = sel[(sel[b].astype(object) == keys[b].iloc[i]).to_numpy()]
            if len(sel):
                row = sel.loc[sel["estimate"].idxmax()].copy()
            else:
                row = pd.Series({col: (keys[col].iloc[i] if col in by else np.nan) for col in h.columns})
            row["n_candidates"] = len(sel)
            rows.append(row)
        out = pd.DataFrame(rows).reset_index(drop=True)
        for b in by:
            out[b] = self._c.keys[b].array
        out["below_min_at_risk"] = out["below_min_at_risk"].fillna(False).astype(bool)
        out["n_candidates"] = out["n_candidates"].astype(int)
        return out

    def contrast(self, periods=(12, 24), reference="neighbours", window: int = 2) -> pd.DataFrame:
        """Pre-specified contrast: the hazard in the named periods against a reference set of periods.

        For each segment, the rate :math:`d_1/E_1` over the named periods (e.g. the renewal months 12 and 24)
        and :math:`d_0/E_0` over the reference periods, with :math:`E` the customer-periods at risk (every
        period counted, see Notes of the class), and their ratio with the exact conditional interval and
        two-sided p-value: given :math:`d_1 + d_0` defections, :math:`d_1` is binomial with probability
        :math:`E_1 R/(E_1 R + E_0)` [4]_. A period :math:`k` is the interval :math:`(k-1, k]` of the time unit.

        Parameters
        ----------
        periods : int or array-like of int, default=(12, 24)
            The periods named in advance (renewal months), >= 1.
        reference : "neighbours" or array-like of int, default="neighbours"
            ``"neighbours"``: the periods within ``window`` of a named period, the named ones excluded (with the
            defaults, months 10, 11, 13, 14, 22, 23, 25, 26); or the reference periods themselves.
        window : int, default=2
            Half-width of the neighbourhood for ``reference="neighbours"``.

        Returns
        -------
        pandas.DataFrame
            One row per segment: ``[*by, n_events, exposure, rate, reference_n_events, reference_exposure,
            reference_rate, estimate, ci_lower, ci_upper, p_value, method]``; ``estimate`` is the rate ratio,
            ``method`` is ``"exact"`` (``"wald"`` on the log scale with non-integer weighted counts).
            ``attrs`` holds ``periods`` and ``reference_periods``. Periods the data do not reach contribute
            nothing (exposure 0); a ratio with no exposure on one side is NaN.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from churnsurv.nonparametric import DiscreteHazard
        >>> rng = np.random.default_rng(0)
        >>> t = np.minimum(rng.geometric(0.05, 2000), 30)
        >>> df = pd.DataFrame({"tenure": t, "churned": t < 30})
        >>> c = DiscreteHazard().fit(df, duration="tenure", event="churned").contrast(periods=[12, 24])
        >>> bool(c["ci_lower"].iloc[0] < 1 < c["ci_upper"].iloc[0])  # no renewal effect in these data
        True
        """
        check_is_fitted(self)
        owner = f"{type(self).__name__}.contrast"
        named = _check_periods(periods, owner, "periods")
        if isinstance(reference, str):
            check_one_of(reference, "reference", owner, ["neighbours"])
            if isinstance(window, bool) or not isinstance(window, numbers.Integral) or window < 1:
                raise param_error("window", owner, "an int >= 1", window,
                                  type_error=not isinstance(window, numbers.Integral))
            near = np.concatenate([named + k for k in range(-int(window), int(window) + 1) if k != 0])
            ref = np.setdiff1d(np.unique(near[near >= 1]), named)
        else:
            ref = _check_periods(reference, owner, "reference")
            if np.intersect1d(ref, named).size:
                raise param_error("reference", owner, "periods disjoint from 'periods'", reference)
        if ref.size == 0:
            raise param_error("reference", owner, "a non-empty set of periods", reference)
        c = self._c
        cols = {k: [] for k in ("n_events", "exposure", "rate", "reference_n_events", "reference_exposure",
                                "reference_rate", "estimate", "ci_lower", "ci_upper", "p_value", "method")}
        for g in range(c.n_groups):
            d1, e1 = (float(x.sum()) for x in _period_counts(c, g, named))
            d0, e0 = (float(x.sum()) for x in _period_counts(c, g, ref))
            ratio, lo, hi, p, how = _rate_ratio(d1, e1, d0, e0, self._conf_level)
            with np.errstate(divide="ignore", invalid="ignore"):
                r1 = d1 / e1 if e1 > 0 else np.nan
                r0 = d0 / e0 if e0 > 0 else np.nan
            for k, v in zip(cols, (d1, e1, r1, d0, e0, r0, ratio, lo, hi, p, how), strict=True):
                cols[k].append(v)
        out = c.frame(np.arange(c.n_groups), cols)
        out.attrs.update(periods=named.tolist(), reference_periods=ref.tolist(), conf_level=self._conf_level)
        return out


def discrete_hazard(data, by=None, *, conf_level: float = 0.95, method: str = "wilson", width=None,
                    min_at_risk: float | None = 10, **frame_kwargs) -> pd.DataFrame:
    """Per-period hazard (monthly churn rate by tenure) per segment, as one tidy table.

    Parameters
    ----------
    data : Tenures, LifeTable or pandas.DataFrame
    by : str or list of str, optional
    conf_level : float, default=0.95
    method : {"wilson", "exact"}, default="wilson"
    width : float, optional
        Pool periods into bins of this width (exposure counts every period of the bin).
    min_at_risk : float or None, default=10
        Flag rows with fewer customers at risk; None or 0 disables.
    **frame_kwargs
        Column keywords of :meth:`Tenures.from_frame`, for a DataFrame.

    Returns
    -------
    pandas.DataFrame
        :attr:`DiscreteHazard.hazard_`.

    See Also
    --------
    DiscreteHazard : the estimator (with :meth:`DiscreteHazard.contrast` for renewal months).
    kaplan_meier : the survival curve.
    nelson_aalen : the cumulative hazard.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.nonparametric import discrete_hazard
    >>> df = pd.DataFrame({"tenure": [1, 3, 3, 4], "churned": [1, 1, 0, 1]})
    >>> discrete_hazard(df, width=2, min_at_risk=None, duration="tenure", event="churned")[
    ...     ["time_start", "time", "exposure", "n_events", "estimate"]]
       time_start  time  exposure  n_events  estimate
    0         0.0   2.0       7.0       1.0  0.142857
    1         2.0   4.0       4.0       2.0  0.500000
    """
    est = DiscreteHazard(conf_level=conf_level, method=method, width=width, min_at_risk=min_at_risk)
    return est.fit(data, by=by, **frame_kwargs).hazard_
