"""Cohort and calendar views of dated records: is a period life table's assumption borne out?

A churn snapshot read with left truncation gives a *period life table*: this period's tenure-specific churn rates
applied to a customer followed from sign-up, with no cohort or calendar effects. When sign-up and cancel dates are
known (:meth:`churnsurv.Tenures.from_dates`) the data can check that assumption two ways:

* :func:`cohort_retention`: Kaplan-Meier retention by sign-up cohort (month, quarter or year) with a log-rank test
  of equal retention across cohorts and a test for a trend across ordered cohorts;
* :func:`calendar_churn`: defections per customer-month at risk in each calendar month (or quarter, or year),
  with exact Poisson intervals, overall and by tenure band, and score tests of a constant rate over calendar time
  (within tenure bands, so that a book growing older is not mistaken for a calendar trend).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churnsurv._validation import check_conf_level, check_one_of, param_error
from churnsurv.data.tenures import Tenures, _elapsed
from churnsurv.exceptions import TenureDataError
from churnsurv.lifetable.table import life_table
from churnsurv.nonparametric.logrank import TestResult, _quadratic_form, logrank_test
from churnsurv.nonparametric.quantiles import _check_min_at_risk
from churnsurv.nonparametric.survival import KaplanMeier

__all__ = ["CalendarChurn", "CohortRetention", "calendar_churn", "cohort_retention", "poisson_rate_interval"]

COHORTS = ("month", "quarter", "year")
PERIODS = ("month", "quarter", "year")
DATE_UNITS = ("month", "week", "day")
_FREQ = {"month": "M", "quarter": "Q", "year": "Y"}
#: Length of a time unit in days, for exposure (a month is the average Gregorian month, 365.25 / 12 days).
UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12.0}
_TEST_COLUMNS = ["test", "statistic", "dof", "p_value"]


# ====================================================================== results
@dataclass(frozen=True, eq=False)
class CohortRetention:
    """The result of :func:`cohort_retention`.

    Attributes
    ----------
    table : pandas.DataFrame
        Kaplan-Meier retention by cohort, one row per (cohort, time): ``cohort`` (ordered Categorical), ``time``,
        ``n_at_risk``, [``n_events``, ``n_censored``,] ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``,
        ``zero_events``, ``below_min_at_risk``. Each cohort's rows stop at its last observed tenure (with ``times``:
        NaN beyond it); ``attrs`` hold ``time_unit``, ``conf_level`` and ``cohort``.
    cohorts : pandas.DataFrame
        One row per cohort: ``cohort``, ``first_signup``, ``last_signup``, ``n_customers``, ``n_events``,
        ``full_follow_up`` (tenure to which every member of the cohort was observable: completed units from its
        last sign-up to ``as_of``), ``max_follow_up`` (from its first sign-up), ``observed``, ``expected`` (log-rank
        defections; NaN when no test was run) and ``score`` (the trend score).
    tests : pandas.DataFrame
        ``test, statistic, dof, p_value``: the log-rank test of equal retention across cohorts and the test for
        trend across ordered cohorts (empty when there are fewer than two cohorts or no defection).
    logrank : TestResult or None
        The full log-rank result (observed, expected, covariance).
    cohort : str
        ``"month"``, ``"quarter"`` or ``"year"``.
    time_unit : str
    conf_level : float
    min_at_risk : float
    as_of : pandas.Timestamp
    notes : tuple of str
        Plain-language notes: the unequal follow-up of the cohorts, and why no test was run when none was.
    """

    table: pd.DataFrame
    cohorts: pd.DataFrame
    tests: pd.DataFrame
    logrank: TestResult | None
    cohort: str
    time_unit: str
    conf_level: float
    min_at_risk: float
    as_of: pd.Timestamp
    notes: tuple = ()

    def __repr__(self) -> str:
        p = ", ".join(f"{r.test} p = {r.p_value:.3g}" for r in self.tests.itertuples()) or "no test"
        return (f"CohortRetention({len(self.cohorts)} {self.cohort} cohorts, "
                f"{int(self.cohorts['n_customers'].sum()):,} customers; {p})")


@dataclass(frozen=True, eq=False)
class CalendarChurn:
    """The result of :func:`calendar_churn`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per calendar period: ``period`` (label such as ``"2024-03"`` or ``"2024Q1"``), ``period_start``,
        ``period_end`` (last day observed: the period's last day, or ``as_of`` for the last period), ``n_at_risk``
        (customers active on the period's first day), ``exposure`` (customer-time at risk in the period, in
        ``time_unit``), ``n_events`` (defections dated in the period), ``estimate`` (the rate, defections per
        customer-``time_unit``), ``ci_lower``, ``ci_upper`` (exact Poisson interval) and ``partial`` (True when
        ``as_of`` cuts the period short). ``attrs`` hold ``time_unit``, ``period`` and ``conf_level``.
    by_tenure : pandas.DataFrame or None
        The same by tenure band, with a leading ``tenure_band`` column (ordered Categorical such as ``"[0, 12)"``,
        ``"24+"``); None without ``by_tenure``.
    tests : pandas.DataFrame
        ``test, statistic, dof, p_value``: homogeneity (equal rate in every period) and trend over calendar time,
        overall and, with ``by_tenure``, within tenure bands.
    period : str
    time_unit : str
    conf_level : float
    as_of : pandas.Timestamp
    tenure_bands : tuple of float or None
        The band bounds (``by_tenure``).
    """

    table: pd.DataFrame
    by_tenure: pd.DataFrame | None
    tests: pd.DataFrame
    period: str
    time_unit: str
    conf_level: float
    as_of: pd.Timestamp
    tenure_bands: tuple | None = None

    def __repr__(self) -> str:
        p = ", ".join(f"{r.test} p = {r.p_value:.3g}" for r in self.tests.itertuples()) or "no test"
        return (f"CalendarChurn({len(self.table)} {self.period}s, {self.table['n_events'].sum():g} defections in "
                f"{self.table['exposure'].sum():,.0f} customer-{self.time_unit}s; {p})")


# ====================================================================== cohort retention
def cohort_retention(frame: pd.DataFrame, *, start: str, end: str, as_of, cohort: str = "quarter", times=None,
                     unit: str = "month", event: str | None = None, id: str | None = None,
                     min_at_risk: float | None = 10, conf_level: float = 0.95) -> CohortRetention:
    r"""Retention (Kaplan-Meier survival) by sign-up cohort, with tests of equal retention across cohorts.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per customer, with sign-up and cancel dates. Not modified.
    start, end : str
        Sign-up and cancel date columns (``end`` empty for customers still active), as in
        :meth:`churnsurv.Tenures.from_dates`.
    as_of : date-like
        The data's cut-off: active customers are censored there; a cancel date after it is not yet observed.
    cohort : {"quarter", "month", "year"}, default "quarter"
        The calendar period of sign-up that defines a cohort (labels ``"2024Q1"``, ``"2024-01"``, ``"2024"``).
    times : array-like of float, optional
        Tenures at which to report retention (then the table is :meth:`KaplanMeier.predict` at those times, NaN
        beyond a cohort's follow-up); by default every life-table time of every cohort.
    unit : {"month", "week", "day"}, default "month"
        Tenure unit (months are completed calendar months; see :meth:`Tenures.from_dates`).
    event : str, optional
        An explicit event column; by default a customer defected when ``end`` is on or before ``as_of``.
    id : str, optional
        Customer id column, used in error messages.
    min_at_risk : float or None, default 10
        Rows with fewer customers at risk are flagged ``below_min_at_risk`` (plots draw them dashed).
    conf_level : float, default 0.95
        Confidence level of the pointwise intervals (log transform, as R ``survfit``).

    Returns
    -------
    CohortRetention
        ``.table`` (tidy retention by cohort), ``.cohorts`` (follow-up per cohort), ``.tests`` (log-rank and
        trend tests) and ``.notes``.

    Raises
    ------
    TenureDataError
        A column is missing, dates cannot be read, sign-ups after ``as_of``, cancel dates before sign-up
        (the messages of :meth:`Tenures.from_dates`, naming the rows).
    ValueError, TypeError
        Bad parameters.

    See Also
    --------
    calendar_churn : the churn rate over calendar time.
    churnsurv.KaplanMeier, churnsurv.logrank_test : the estimator and the test used here.

    Notes
    -----
    For cohort :math:`c` (customers who signed up in one calendar period) the estimand is the cohort's retention
    :math:`S_c(t) = P(T > t \mid \text{cohort } c)`, estimated by Kaplan-Meier [1]_ from the cohort's tenures,
    administratively censored at ``as_of``. A period life table (the left-truncated reading of a snapshot)
    assumes :math:`S_c = S` for every cohort; equal curves support it, and a drift across cohorts (e.g. newer
    cohorts leaving sooner, after a price change or a new acquisition channel) contradicts it.

    **Unequal follow-up.** A cohort that signed up :math:`m` units before ``as_of`` is observed to tenure
    :math:`m` at most: newer cohorts have shorter curves. Nothing is extrapolated: each cohort's curve stops at
    its last observed tenure (``cohorts.max_follow_up``; every member is observable to ``full_follow_up``), and
    the tests compare cohorts only at the tenures where they are at risk together (the risk sets handle the
    staggered censoring, which is independent of churn given the cohort).

    **Tests.** The log-rank test [2]_ of :math:`H_0: S_c = S` for all cohorts (:math:`k - 1` degrees of freedom),
    and the test for trend [3]_ with score :math:`x_c` = the cohort's position in calendar time (cohort periods
    since the first cohort, so a gap without sign-ups keeps its spacing), on 1 degree of freedom: it has more
    power against a steady drift across cohorts. Both come from :func:`churnsurv.logrank_test`; with many
    customers they detect differences too small to matter, so read the curves for size.

    References
    ----------
    .. [1] Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete observations.
       *Journal of the American Statistical Association* 53, 457-481.
    .. [2] Mantel, N. (1966). Evaluation of survival data and two new rank order statistics arising in its
       consideration. *Cancer Chemotherapy Reports* 50, 163-170.
    .. [3] Collett, D. (2015). *Modelling Survival Data in Medical Research*, 3rd ed., CRC Press, section 2.6.4
       (the log-rank test for trend).

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.nonparametric.cohorts import cohort_retention
    >>> df = pd.DataFrame({
    ...     "signup": ["2023-01-10", "2023-02-01", "2023-03-15", "2023-04-05", "2023-05-20", "2023-06-30"],
    ...     "cancel": ["2023-04-10", None, "2023-05-15", "2023-06-05", None, None]})
    >>> res = cohort_retention(df, start="signup", end="cancel", as_of="2023-12-31", min_at_risk=2)
    >>> res.cohorts[["cohort", "n_customers", "n_events", "full_follow_up", "max_follow_up"]]
       cohort  n_customers  n_events  full_follow_up  max_follow_up
    0  2023Q1            3         2               9             11
    1  2023Q2            3         1               6              8
    >>> res.tests.round(4)
                test  statistic  dof  p_value
    0        logrank     0.3846    1   0.5351
    1  logrank trend     0.3846    1   0.5351
    >>> res.table[["cohort", "time", "n_at_risk", "estimate"]].round(3)
       cohort  time  n_at_risk  estimate
    0  2023Q1   0.0        3.0     1.000
    1  2023Q1   2.0        3.0     0.667
    2  2023Q1   3.0        2.0     0.333
    3  2023Q1  10.0        1.0     0.333
    4  2023Q2   0.0        3.0     1.000
    5  2023Q2   2.0        3.0     0.667
    6  2023Q2   6.0        2.0     0.667
    7  2023Q2   7.0        1.0     0.667
    """
    owner = "cohort_retention"
    _check_frame(frame, owner)
    check_one_of(cohort, "cohort", owner, COHORTS)
    check_one_of(unit, "unit", owner, DATE_UNITS)
    conf_level = check_conf_level(conf_level, owner)
    min_at_risk = _check_min_at_risk(min_at_risk, owner)
    as_of_ts = _check_as_of(as_of, owner)
    tenures = Tenures.from_dates(frame, start=start, end=end, as_of=as_of_ts, unit=unit, event=event, id=id)
    signup = _parse(frame[start])
    periods = pd.PeriodIndex(signup.dt.to_period(_FREQ[cohort]))
    levels = periods.unique().sort_values()
    labels = [str(p) for p in levels]
    codes = levels.get_indexer(periods)
    data = tenures.data.copy()
    data["cohort"] = pd.Categorical.from_codes(codes, categories=labels, ordered=True)
    tenures = Tenures(data, segments=("cohort",), causes=tenures.causes, time_unit=unit)
    # cohort and tenure overlap by design (newer cohorts are observed for less time): this is staggered censoring,
    # not a segment assigned by tenure, so the confounding check does not apply
    lt = life_table(tenures, "cohort", check_confounding=False)
    km = KaplanMeier(conf_level=conf_level, min_at_risk=min_at_risk).fit(lt)
    table = km.survival_ if times is None else km.predict(times)
    table = table.reset_index(drop=True)
    table.attrs.update(time_unit=unit, conf_level=conf_level, cohort=cohort)

    # follow-up per cohort
    ordinals = levels.asi8
    score = (ordinals - ordinals[0] + 1).astype(float)
    g = pd.DataFrame({"code": codes, "signup": signup.to_numpy(), "event": data["event"].to_numpy()})
    agg = g.groupby("code", sort=True).agg(first_signup=("signup", "min"), last_signup=("signup", "max"),
                                          n_customers=("signup", "size"), n_events=("event", "sum"))
    stop = pd.Series(as_of_ts, index=agg.index)
    cohorts = pd.DataFrame({
        "cohort": pd.Categorical(labels, categories=labels, ordered=True),
        "first_signup": agg["first_signup"].to_numpy(),
        "last_signup": agg["last_signup"].to_numpy(),
        "n_customers": agg["n_customers"].to_numpy(np.int64),
        "n_events": agg["n_events"].to_numpy(np.int64),
        "full_follow_up": _elapsed(agg["last_signup"], stop, unit).astype(np.int64),
        "max_follow_up": _elapsed(agg["first_signup"], stop, unit).astype(np.int64),
        "observed": np.nan,
        "expected": np.nan,
        "score": score,
    })

    notes = [_follow_up_note(cohorts, unit, as_of_ts)]
    result = None
    tests = pd.DataFrame({c: pd.Series(dtype=float if c != "test" else object) for c in _TEST_COLUMNS})
    if len(labels) < 2:
        notes.append(f"All customers signed up in one {cohort} ({labels[0]}): there are no cohorts to compare.")
    elif not data["event"].any():
        notes.append("No customer defected by the cut-off: there is nothing to compare across cohorts.")
    else:
        result = logrank_test(lt, "cohort", scores=dict(zip(labels, score, strict=True)))
        tests = result.table.copy()
        cohorts["observed"] = result.groups["observed"].to_numpy(float)
        cohorts["expected"] = result.groups["expected"].to_numpy(float)
    return CohortRetention(table=table, cohorts=cohorts, tests=tests.reset_index(drop=True), logrank=result,
                           cohort=cohort, time_unit=unit, conf_level=conf_level, min_at_risk=min_at_risk,
                           as_of=as_of_ts, notes=tuple(notes))


def _follow_up_note(cohorts: pd.DataFrame, unit: str, as_of: pd.Timestamp) -> str:
    first, last = cohorts.iloc[0], cohorts.iloc[-1]
    if len(cohorts) == 1:
        return (f"The {first['cohort']} cohort is observed to a tenure of at most {first['max_follow_up']} "
                f"{unit}s by {as_of.date()}; its curve stops at its last observed tenure.")
    return (f"Newer cohorts have shorter follow-up: by {as_of.date()} the {first['cohort']} cohort is observed to a "
            f"tenure of at most {first['max_follow_up']} {unit}s, the {last['cohort']} cohort to at most "
            f"{last['max_follow_up']}. Each curve stops at its cohort's last observed tenure (nothing is "
            "extrapolated), and the tests compare cohorts only at the tenures where they are observed together.")


# ====================================================================== calendar churn
def calendar_churn(frame: pd.DataFrame, *, start: str, end: str, as_of, period: str = "month", by_tenure=None,
                   unit: str = "month", event: str | None = None, id: str | None = None,
                   conf_level: float = 0.95) -> CalendarChurn:
    r"""Churn rate over calendar time: defections per customer-month at risk in each calendar period.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per customer, with sign-up and cancel dates. Not modified.
    start, end : str
        Sign-up and cancel date columns (``end`` empty for customers still active).
    as_of : date-like
        The data's cut-off; the last period ends there.
    period : {"month", "quarter", "year"}, default "month"
        Calendar period of the rates.
    by_tenure : sequence of float, optional
        Tenure band bounds (in ``unit``), increasing, whole numbers, the last may be ``inf``: ``[0, 12, 24,
        np.inf]`` gives the bands ``[0, 12)``, ``[12, 24)`` and ``24+`` (completed units, as the tenures of
        :meth:`Tenures.from_dates`). Customer-time outside the bands is left out.
    unit : {"month", "week", "day"}, default "month"
        Unit of the exposure and of the rate (a month is 365.25 / 12 days) and of ``by_tenure``.
    event : str, optional
        An explicit event column; by default a customer defected when ``end`` is on or before ``as_of``.
    id : str, optional
        Customer id column, used in error messages.
    conf_level : float, default 0.95
        Confidence level of the exact Poisson intervals.

    Returns
    -------
    CalendarChurn
        ``.table`` (rate per period), ``.by_tenure`` (per period and tenure band), ``.tests``.

    Raises
    ------
    TenureDataError
        As :meth:`Tenures.from_dates` (missing column, unreadable dates, sign-ups after ``as_of``...), or when no
        customer is at risk on any day.
    ValueError, TypeError
        Bad parameters.

    See Also
    --------
    cohort_retention : retention by sign-up cohort.
    churnsurv.DiscreteHazard : the churn rate by tenure rather than by calendar time.

    Notes
    -----
    **Exposure.** A customer who signed up on day :math:`s` and left (or was censored) on day :math:`e` is at
    risk on the days :math:`s + 1, \dots, e` (the risk-set convention entry < t <= exit, counted in days), so
    exposure is split exactly at period boundaries; a defection is dated on day :math:`e` and counted in the
    period and tenure band of that day. The tenure on a day is the number of completed units since sign-up (the
    rule of :meth:`Tenures.from_dates`), so a band's exposure and defections match the tenures of the tenure table.

    **Rate.** With :math:`d_p` defections and exposure :math:`E_p` (customer-units) in period :math:`p`, the rate
    :math:`\hat\lambda_p = d_p / E_p` estimates the average hazard in the period. Its exact (Garwood [1]_)
    interval is

    .. math::

        \Big[\tfrac{1}{2E_p}\chi^2_{2d_p}(\alpha/2),\; \tfrac{1}{2E_p}\chi^2_{2d_p + 2}(1 - \alpha/2)\Big],

    with lower limit 0 when :math:`d_p = 0` (coverage at least ``conf_level``; it is conservative for few events).

    **Tests.** Under a hazard that depends on tenure only, defections given their total follow a multinomial law
    with probabilities proportional to exposure, within each tenure band :math:`j`: the expected count is
    :math:`E_{pj}^{0} = D_j E_{pj} / E_j`. The score tests of the Poisson (piecewise exponential) model
    :math:`\log\lambda_{pj} = \alpha_j + \beta_p` [2]_, [3]_ are

    * *homogeneity*, :math:`H_0: \beta_p = 0` for all :math:`p`: :math:`U^\top V^- U` with
      :math:`U_p = \sum_j (d_{pj} - E^0_{pj})` and :math:`V = \sum_j D_j(\operatorname{diag} w_j - w_j w_j^\top)`,
      :math:`w_{pj} = E_{pj}/E_j`, on (periods with exposure - 1) degrees of freedom; without bands it is
      Pearson's :math:`\sum_p (d_p - E^0_p)^2 / E^0_p`;
    * *trend*, :math:`\beta_p = \beta x_p` with :math:`x_p` the period's index: :math:`U^2 / V` with
      :math:`U = \sum_{p,j} x_p (d_{pj} - E^0_{pj})` and
      :math:`V = \sum_j D_j \big(\sum_p w_{pj} x_p^2 - (\sum_p w_{pj} x_p)^2\big)`, on 1 degree of freedom [4]_.

    Without ``by_tenure`` the tests ignore tenure: a book that grows older (more long-tenure customers, who leave
    less) shows a falling calendar rate even when nothing changed. With ``by_tenure`` the stratified tests (rows
    "within tenure bands") compare periods within each band; fine bands remove more of the tenure mix. With
    many customers the tests detect changes too small to matter (and seasonality): read the rates for size.

    References
    ----------
    .. [1] Garwood, F. (1936). Fiducial limits for the Poisson distribution. *Biometrika* 28, 437-442.
    .. [2] Holford, T. R. (1980). The analysis of rates and of survivorship using log-linear models.
       *Biometrics* 36, 299-305.
    .. [3] Laird, N. & Olivier, D. (1981). Covariance analysis of censored survival data using log-linear
       analysis techniques. *Journal of the American Statistical Association* 76, 231-240.
    .. [4] Breslow, N. E. & Day, N. E. (1987). *Statistical Methods in Cancer Research, Vol. II: The Design and
       Analysis of Cohort Studies*, IARC Scientific Publications 82, Lyon, ch. 3.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.nonparametric.cohorts import calendar_churn
    >>> df = pd.DataFrame({"signup": ["2024-01-01", "2024-01-01", "2024-02-15"],
    ...                    "cancel": ["2024-02-01", None, "2024-03-16"]})
    >>> res = calendar_churn(df, start="signup", end="cancel", as_of="2024-03-31", unit="day")
    >>> res.table[["period", "n_at_risk", "exposure", "n_events", "estimate"]].round(4)
        period  n_at_risk  exposure  n_events  estimate
    0  2024-01          0      60.0         0    0.0000
    1  2024-02          2      44.0         1    0.0227
    2  2024-03          2      47.0         1    0.0213
    """
    owner = "calendar_churn"
    _check_frame(frame, owner)
    check_one_of(period, "period", owner, PERIODS)
    check_one_of(unit, "unit", owner, DATE_UNITS)
    conf_level = check_conf_level(conf_level, owner)
    bounds = _check_bands(by_tenure, owner)
    as_of_ts = _check_as_of(as_of, owner)
    tenures = Tenures.from_dates(frame, start=start, end=end, as_of=as_of_ts, unit=unit, event=event, id=id)
    signup = _parse(frame[start]).dt.normalize()
    cancel = _parse(frame[end]).dt.normalize()
    stop = cancel.where(cancel.notna() & (cancel <= as_of_ts), as_of_ts)  # as Tenures.from_dates
    is_event = tenures.data["event"].to_numpy(bool)

    origin = signup.min()
    s_day = (signup - origin).dt.days.to_numpy(np.int64)
    e_day = (stop - origin).dt.days.to_numpy(np.int64)
    n_days = int((as_of_ts - origin).days) + 1  # day indices 0 (first sign-up) .. n_days - 1 (as_of)
    periods = pd.period_range(origin.to_period(_FREQ[period]), as_of_ts.to_period(_FREQ[period]),
                              freq=_FREQ[period])
    p_start = np.array([(p.start_time.normalize() - origin).days for p in periods], dtype=np.int64)
    p_start[0] = 0
    edges = np.append(p_start, n_days)  # period k holds the days edges[k] <= d < edges[k + 1]

    band_list = [(0.0, np.inf)] if bounds is None else list(zip(bounds[:-1], bounds[1:], strict=True))
    exposure = np.zeros((len(band_list), len(periods)))
    at_start = np.zeros((len(band_list), len(periods)))
    events = np.zeros((len(band_list), len(periods)))
    for j, (lo, hi) in enumerate(band_list):
        lo_day = _band_day(signup, origin, lo, unit, n_days)
        hi_day = _band_day(signup, origin, hi, unit, n_days)
        # band j's days at risk: s + 1 <= d <= e (entry < t <= exit, in days) and lo_day <= d < hi_day
        a = np.maximum(s_day + 1, lo_day)
        b = np.minimum(e_day + 1, hi_day)
        ok = b > a
        diff = np.bincount(a[ok], minlength=n_days + 1) - np.bincount(b[ok], minlength=n_days + 1)
        active = np.cumsum(diff)[:n_days]  # customers at risk on each day
        cum = np.concatenate([[0], np.cumsum(active)])
        exposure[j] = (cum[edges[1:]] - cum[edges[:-1]]) / UNIT_DAYS[unit]
        at_start[j] = active[edges[:-1]]
        ev = is_event & (e_day >= lo_day) & (e_day < hi_day)  # the defection day's tenure is in the band
        k = np.searchsorted(edges, e_day[ev], side="right") - 1
        events[j] = np.bincount(k, minlength=len(periods))
    # drop the leading periods in which nothing happens (the first sign-up day is not at risk yet)
    used = np.flatnonzero((exposure.sum(axis=0) > 0) | (events.sum(axis=0) > 0))
    if not exposure.sum() > 0 or len(used) == 0:
        raise TenureDataError("No customer-time at risk falls in the tenure bands and periods: check 'by_tenure' "
                              "and 'as_of'.")

    keep = slice(int(used[0]), len(periods))
    periods, exposure, at_start, events = periods[keep], exposure[:, keep], at_start[:, keep], events[:, keep]
    labels = [str(p) for p in periods]
    starts = periods.start_time.normalize()
    ends = np.minimum(periods.end_time.normalize().to_numpy(), np.datetime64(as_of_ts.to_datetime64()))
    partial = periods.end_time.normalize() > as_of_ts
    frame_cols = dict(period=labels, period_start=starts, period_end=pd.DatetimeIndex(ends))

    def rows(e, d, n0):
        lower, upper = poisson_rate_interval(d, e, conf_level)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(e > 0, d / np.where(e > 0, e, 1.0), np.nan)
        return pd.DataFrame({**frame_cols, "n_at_risk": n0.astype(np.int64), "exposure": e,
                             "n_events": d.astype(np.int64), "estimate": rate, "ci_lower": lower,
                             "ci_upper": upper, "partial": np.asarray(partial, dtype=bool)})

    table = rows(exposure.sum(axis=0), events.sum(axis=0), at_start.sum(axis=0))
    attrs = dict(time_unit=unit, period=period, conf_level=conf_level)
    table.attrs.update(attrs)
    banded = None
    tests = [*_rate_tests(exposure.sum(axis=0, keepdims=True), events.sum(axis=0, keepdims=True), "")]
    if bounds is not None:
        names = [_band_label(lo, hi) for lo, hi in band_list]
        parts = [rows(exposure[j], events[j], at_start[j]) for j in range(len(band_list))]
        banded = pd.concat(parts, ignore_index=True)
        banded.insert(0, "tenure_band", pd.Categorical(np.repeat(names, len(periods)), categories=names,
                                                       ordered=True))
        banded.attrs.update(attrs)
        tests += _rate_tests(exposure, events, " within tenure bands")
    tests = pd.DataFrame(tests, columns=_TEST_COLUMNS)
    return CalendarChurn(table=table, by_tenure=banded, tests=tests, period=period, time_unit=unit,
                         conf_level=conf_level, as_of=as_of_ts,
                         tenure_bands=None if bounds is None else tuple(bounds))


def poisson_rate_interval(events, exposure, conf_level: float = 0.95):
    r"""Exact (Garwood) confidence interval of a Poisson rate :math:`d / E`.

    Parameters
    ----------
    events : array-like of float
        Event counts :math:`d` (non-integer counts are used as they are).
    exposure : array-like of float
        Exposure :math:`E` (customer-time at risk).
    conf_level : float, default 0.95

    Returns
    -------
    lower, upper : numpy.ndarray
        :math:`\chi^2_{2d}(\alpha/2) / (2E)` (0 when :math:`d = 0`) and :math:`\chi^2_{2d+2}(1-\alpha/2) / (2E)`;
        NaN where the exposure is 0.

    References
    ----------
    .. [1] Garwood, F. (1936). Fiducial limits for the Poisson distribution. *Biometrika* 28, 437-442.

    Examples
    --------
    >>> from churnsurv.nonparametric.cohorts import poisson_rate_interval
    >>> lo, hi = poisson_rate_interval([0, 10], [100.0, 100.0])
    >>> lo.round(5).tolist(), hi.round(5).tolist()
    ([0.0, 0.04795], [0.03689, 0.1839])
    """
    conf_level = check_conf_level(conf_level, "poisson_rate_interval")
    d = np.asarray(events, dtype=float)
    e = np.asarray(exposure, dtype=float)
    alpha = 1.0 - conf_level
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = np.where(d > 0, _chi2_ppf(alpha / 2.0, 2.0 * np.maximum(d, 1e-300)) / 2.0, 0.0) / e
        upper = _chi2_ppf(1.0 - alpha / 2.0, 2.0 * d + 2.0) / 2.0 / e
    bad = ~(e > 0)
    return np.where(bad, np.nan, lower), np.where(bad, np.nan, upper)


def _rate_tests(exposure: np.ndarray, events: np.ndarray, suffix: str) -> list[tuple]:
    """Score tests of homogeneity and trend of the rate over periods, stratified by the rows (tenure bands)."""
    keep = exposure.sum(axis=0) > 0
    E, d = exposure[:, keep], events[:, keep]
    x = np.flatnonzero(keep).astype(float)
    D = d.sum(axis=1)
    Ej = E.sum(axis=1)
    strata = (D > 0) & (Ej > 0)
    E, d, D, Ej = E[strata], d[strata], D[strata], Ej[strata]
    if E.shape[0] == 0 or E.shape[1] < 2:
        return [(f"homogeneity{suffix}", np.nan, 0, np.nan), (f"trend{suffix}", np.nan, 1, np.nan)]
    w = E / Ej[:, None]
    U = (d - D[:, None] * w).sum(axis=0)
    V = np.zeros((E.shape[1], E.shape[1]))
    for Dj, wj in zip(D, w, strict=True):
        V += Dj * (np.diag(wj) - np.outer(wj, wj))
    stat, dof = _quadratic_form(U[1:], V[1:, 1:])
    homog = (f"homogeneity{suffix}", stat, dof, float(chdtrc(dof, max(stat, 0.0))) if dof > 0 else np.nan)
    u = float(x @ U)
    v = float(np.sum(D * ((w * x**2).sum(axis=1) - (w @ x) ** 2)))
    t_stat = u * u / v if v > 0 else np.nan
    trend = (f"trend{suffix}", t_stat, 1, float(chdtrc(1, max(t_stat, 0.0))) if v > 0 else np.nan)
    return [homog, trend]


# ====================================================================== helpers
def _check_frame(frame, owner: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise param_error("frame", owner, "a pandas DataFrame", type(frame).__name__, type_error=True)


def _check_as_of(as_of, owner: str) -> pd.Timestamp:
    expected = "a date (str, datetime or pandas.Timestamp)"
    if as_of is None or isinstance(as_of, bool):
        raise param_error("as_of", owner, expected, as_of, type_error=True)
    try:
        ts = pd.Timestamp(as_of)
    except (TypeError, ValueError) as err:
        raise param_error("as_of", owner, expected, as_of) from err
    if pd.isna(ts):
        raise param_error("as_of", owner, expected, as_of)
    return ts.normalize() if ts.tz is None else ts.tz_localize(None).normalize()


def _check_bands(by_tenure, owner: str):
    if by_tenure is None:
        return None
    expected = ("an increasing sequence of at least two non-negative whole numbers (the last may be inf), "
                "e.g. [0, 12, 24, inf]")
    if isinstance(by_tenure, (str, bytes)) or not isinstance(by_tenure, (Sequence, np.ndarray, pd.Index)):
        raise param_error("by_tenure", owner, expected, by_tenure, type_error=True)
    values = list(by_tenure)
    if len(values) < 2 or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
        raise param_error("by_tenure", owner, expected, by_tenure)
    b = np.asarray(values, dtype=float)
    finite = np.isfinite(b[:-1]).all() and (np.isfinite(b[-1]) or b[-1] == np.inf)
    if not finite or (b < 0).any() or not (np.diff(b) > 0).all() or (np.mod(b[np.isfinite(b)], 1) != 0).any():
        raise param_error("by_tenure", owner, expected, by_tenure)
    return b


def _parse(col: pd.Series) -> pd.Series:
    """Dates of a column already validated by :meth:`Tenures.from_dates` (tz-naive)."""
    out = pd.to_datetime(col, errors="coerce")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    return out


def _band_day(signup: pd.Series, origin: pd.Timestamp, bound: float, unit: str, n_days: int) -> np.ndarray:
    """Day index on which each customer reaches tenure ``bound`` (completed units), at most ``n_days``."""
    if not np.isfinite(bound):
        return np.full(len(signup), n_days, dtype=np.int64)
    k = int(bound)
    if unit == "month":
        reach = signup + pd.DateOffset(months=k)  # the end-of-month rule of Tenures.from_dates
    else:
        reach = signup + pd.Timedelta(days=k * int(UNIT_DAYS[unit]))
    return np.minimum((reach - origin).dt.days.to_numpy(np.int64), n_days)


def _band_label(lo: float, hi: float) -> str:
    return f"{lo:g}+" if not np.isfinite(hi) else f"[{lo:g}, {hi:g})"


def chdtrc(dof, x):
    """Chi-square upper tail (scipy.special, imported on first use)."""
    from scipy.special import chdtrc as _chdtrc

    return _chdtrc(dof, x)


def _chi2_ppf(q, dof):
    """Chi-square quantile: 2 * gammaincinv(dof / 2, q) (scipy.special, imported on first use)."""
    from scipy.special import gammaincinv

    return 2.0 * gammaincinv(np.asarray(dof, dtype=float) / 2.0, q)
