"""Seeded, vectorised simulation of customer churn with a known truth.

Two simulators give estimators something to be checked against:

* :func:`simulate_churn` draws customers with staggered sign-up dates, a
  segment column, competing causes of defection with cause-specific hazards
  per segment (Weibull or piecewise constant, optionally with spikes at
  contract renewal months), administrative censoring at an as-of date,
  optional snapshot sampling (left truncation) and monthly margins. It
  returns the records together with a :class:`ChurnTruth` that computes the
  true survival, hazards, cumulative incidences and restricted mean lifetime.
* :func:`simulate_fine_gray` draws the two-cause design of Fine & Gray (1999),
  whose cause-1 subdistribution hazard is proportional in the covariate.

Everything is vectorised with NumPy: the only Python loops run over segments
and causes, never over customers. Time is measured in months throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from churnsurv.data.simulate._checks import (
    _check_bool,
    _check_int,
    _check_random_state,
    _check_real,
    _check_vector,
    _param_error,
    _reshape,
    _times,
)
from churnsurv.data.simulate.hazard import ChurnScenario, Hazard, default_scenario
from churnsurv.data.simulate.truth import ChurnTruth

__all__ = [
    "ChurnScenario",
    "ChurnTruth",
    "FineGraySimulation",
    "FineGrayTruth",
    "Hazard",
    "SimulatedChurn",
    "default_scenario",
    "simulate_churn",
    "simulate_fine_gray",
]

#: Length of the average Gregorian month in days, used to turn sign-up dates into tenures.
DAYS_PER_MONTH = 365.25 / 12


# --------------------------------------------------------------------------- simulate_churn


@dataclass(frozen=True, eq=False)
class SimulatedChurn:
    """Result of :func:`simulate_churn`: the records and the truth behind them.

    Attributes
    ----------
    data : pandas.DataFrame
        One row per customer kept: ``customer_id`` (int64), ``segment``
        (Categorical), ``signup_date`` (datetime64[ns]), ``entry``, ``exit``
        (float64, months), ``event`` (bool), ``cause`` (Categorical of the cause
        names, NaN for censored rows), ``monthly_margin`` (float64).
    truth : ChurnTruth
        True survival quantities of ``scenario``.
    scenario : ChurnScenario
    as_of : pandas.Timestamp
        Date of administrative censoring.
    signup_months : float
        Length of the sign-up window before ``as_of``.
    discrete : bool
        Whether ``entry``/``exit`` are whole months.
    censoring : bool
        Whether administrative censoring at ``as_of`` was applied.
    snapshot_period : float or None
    n_simulated : int
        Customers drawn.
    n_dropped : int
        Customers dropped by snapshot sampling (0 without it).
    time_unit : str
        Always ``"month"``.
    """

    data: pd.DataFrame
    truth: ChurnTruth
    scenario: ChurnScenario
    as_of: pd.Timestamp
    signup_months: float
    discrete: bool
    censoring: bool
    snapshot_period: float | None
    n_simulated: int
    n_dropped: int
    time_unit: str = "month"

    def __repr__(self):
        return (
            f"SimulatedChurn(n_rows={len(self.data)}, n_dropped={self.n_dropped}, "
            f"as_of={self.as_of.date()}, discrete={self.discrete}, time_unit={self.time_unit!r})"
        )

    def tenures(self):
        """The simulated records as a :class:`~churnsurv.Tenures` (segment ``segment``, value ``monthly_margin``)."""
        from churnsurv.data.tenures import Tenures

        return Tenures.from_frame(
            self.data, duration="exit", event="event", entry="entry", cause="cause", id="customer_id",
            segments=["segment"], values=["monthly_margin"], causes=list(self.data["cause"].cat.categories),
            time_unit=self.time_unit)


def simulate_churn(
    n_customers=10_000,
    *,
    scenario=None,
    as_of="2024-12-31",
    signup_months=72,
    discrete=True,
    censoring=True,
    snapshot_period=None,
    random_state=None,
):
    """Simulate a book of customers with competing causes of churn and a known truth.

    Parameters
    ----------
    n_customers : int, default=10_000
        Customers to draw (before snapshot sampling).
    scenario : ChurnScenario, optional
        Segments, shares, hazards and margins; :func:`default_scenario` by default.
    as_of : str, datetime or pandas.Timestamp, default="2024-12-31"
        Date of the extract: administrative censoring happens here. Only the day counts.
    signup_months : float, default=72
        Sign-up dates are uniform over the whole days of the ``signup_months``
        months before ``as_of`` (at least one day before it).
    discrete : bool, default=True
        Record whole months (see Notes); ``False`` for continuous times.
    censoring : bool, default=True
        Censor at ``as_of``. With ``False`` every defection is observed (handy for
        checking estimators without censoring); a scenario in which some customers
        never defect then raises ``ValueError``.
    snapshot_period : float, optional
        Keep only customers on the books at some time during the last
        ``snapshot_period`` months before ``as_of``; this left-truncates the data.
        Must be a whole number when ``discrete=True``; needs ``censoring=True``.
    random_state : int, numpy.random.Generator or None
        Seed or generator; the same seed gives the same data.

    Returns
    -------
    SimulatedChurn
        ``.data`` (the records), ``.truth`` (a :class:`ChurnTruth`), ``.n_dropped``
        and the settings.

    Raises
    ------
    TypeError, ValueError
        For bad parameters, with the message "The 'n_customers' parameter of
        simulate_churn must be a positive int. Got -3 instead." and the like.

    See Also
    --------
    ChurnTruth : the true quantities.
    default_scenario : the default book.
    simulate_fine_gray : the Fine & Gray (1999) design.

    Notes
    -----
    **Draws.** A customer in segment :math:`s` has cause-specific hazards
    :math:`h_{sk}` and total cumulative hazard :math:`H_s = \\sum_k H_{sk}`. The
    defection time solves :math:`H_s(T) = E` with :math:`E \\sim \\text{Exp}(1)`:
    exactly piece by piece when every hazard of the segment is piecewise constant
    (renewal spikes included), otherwise by safeguarded Newton iterations inside
    a bracketing grid cell, to a relative error of 1e-13. The cause is then drawn
    with probability :math:`h_{sk}(T) / h_s(T)`, which gives the joint law of
    (time, cause) of competing risks (Kalbfleisch & Prentice, 2002).

    **Follow-up.** The sign-up date is ``as_of`` minus :math:`D` days,
    :math:`D` uniform on :math:`1, \\dots, \\mathrm{round}(30.4375 \\cdot
    \\text{signup\\_months})`, and the follow-up is :math:`C = D / 30.4375` months
    (average month).

    **Continuous output** (``discrete=False``): ``exit = min(T, C)``,
    ``event = T <= C``.

    **Discrete output** (``discrete=True``): a defection in tenure month
    :math:`k`, :math:`T \\in (k-1, k]`, is recorded at ``exit = k = ceil(T)``; a
    customer still active is censored at the last completed month
    :math:`\\lfloor C \\rfloor`, and a defection during the current, incomplete
    month is not yet on the books (censored at :math:`\\lfloor C \\rfloor`). Then
    ``event = T <= floor(C)``. Since both censoring times and event times are
    whole months, discrete estimators (Kaplan-Meier, life tables) at integer
    times estimate exactly :math:`S(k) = P(T > k)` of the continuous truth, for
    any hazard, and the monthly life-table hazard estimates
    :meth:`ChurnTruth.discrete_hazard`. (Rounding censoring times up instead
    would bias the hazard downwards.)

    **Snapshot sampling.** Let :math:`a = \\max(C' - p, 0)` with :math:`C'` the
    follow-up (:math:`\\lfloor C \\rfloor` when discrete) and :math:`p` the
    snapshot period. Customers who defected by :math:`a` (:math:`T \\le a`) are
    dropped; the others get ``entry = a``. Kept rows satisfy ``exit > entry``
    when ``entry > 0``, and the product-limit estimator with risk set
    ``entry < t <= exit`` still estimates the truth.

    **Margins.** ``monthly_margin`` is lognormal with mean ``margin_mean`` of the
    segment: :math:`\\mu_s \\exp(\\sigma Z - \\sigma^2/2)`, :math:`Z \\sim N(0,1)`.

    Customer ids are the draw order, so snapshot sampling leaves gaps. Speed:
    about a second per million customers with the default scenario.

    References
    ----------
    1. Kalbfleisch, J. D. & Prentice, R. L. (2002). *The Statistical Analysis of
       Failure Time Data*, 2nd ed., Wiley, ch. 8.

    Examples
    --------
    >>> from churnsurv.data.simulate.simulator import simulate_churn
    >>> sim = simulate_churn(n_customers=1000, random_state=0)
    >>> list(sim.data.columns)
    ['customer_id', 'segment', 'signup_date', 'entry', 'exit', 'event', 'cause', 'monthly_margin']
    >>> round(float(sim.truth.survival(12, segment="Month-to-month")), 4)
    0.5071
    >>> snap = simulate_churn(n_customers=1000, snapshot_period=12, random_state=0)
    >>> snap.n_dropped + len(snap.data)
    1000
    """
    owner = "simulate_churn"
    n = _check_int(n_customers, "n_customers", owner)
    if scenario is None:
        scenario = default_scenario()
    elif not isinstance(scenario, ChurnScenario):
        raise _param_error("scenario", owner, "a ChurnScenario or None", scenario, TypeError)
    req = "a date (str, datetime or pandas.Timestamp)"
    if not isinstance(as_of, (str, pd.Timestamp, np.datetime64)) and not hasattr(as_of, "year"):
        raise _param_error("as_of", owner, req, as_of, TypeError)
    try:
        as_of_ts = pd.Timestamp(as_of).normalize()
    except (TypeError, ValueError) as err:
        raise _param_error("as_of", owner, req, as_of) from err
    if pd.isna(as_of_ts):
        raise _param_error("as_of", owner, req, as_of)
    signup_months = _check_real(signup_months, "signup_months", owner)
    discrete = _check_bool(discrete, "discrete", owner)
    censoring = _check_bool(censoring, "censoring", owner)
    if snapshot_period is not None:
        req = "a positive whole number of months or None" if discrete else "a positive float or None"
        snapshot_period = _check_real(snapshot_period, "snapshot_period", owner, requirement=req)
        if discrete and not float(snapshot_period).is_integer():
            raise _param_error("snapshot_period", owner, req, snapshot_period)
        if not censoring:
            raise _param_error("snapshot_period", owner, "None when censoring=False", snapshot_period)
    rng = _check_random_state(random_state, owner)
    truth = ChurnTruth(scenario)

    # all random draws first, in a fixed order
    shares = np.array([scenario.shares[s] for s in scenario.segments])
    seg = np.searchsorted(np.cumsum(shares)[:-1], rng.random(n), side="right")
    window_days = max(1, round(signup_months * DAYS_PER_MONTH))
    days = rng.integers(1, window_days + 1, size=n)
    e = rng.standard_exponential(n)
    u = rng.random(n)
    z = rng.standard_normal(n)

    t = np.empty(n)
    cause = np.empty(n, dtype=np.int64)
    for i, name in enumerate(scenario.segments):  # loop over segments only
        idx = np.flatnonzero(seg == i)
        t[idx], cause[idx] = truth._models[name].sample(e[idx], u[idx])

    follow_up = days / DAYS_PER_MONTH
    if discrete:
        follow_up = np.floor(follow_up)
    if censoring:
        event = t <= follow_up
        stop = np.ceil(t) if discrete else t
        exit_ = np.where(event, stop, follow_up)
    else:
        if not np.all(np.isfinite(t)):
            raise ValueError(
                f"{np.sum(~np.isfinite(t))} simulated customers never defect under this scenario "
                "(their cumulative hazard stays finite), so censoring=False cannot give them an exit "
                "time. Use censoring=True, or give every segment a hazard that does not vanish."
            )
        event = np.ones(n, dtype=bool)
        exit_ = np.ceil(t) if discrete else t.copy()

    entry = np.zeros(n)
    keep = np.ones(n, dtype=bool)
    if snapshot_period is not None:
        start = follow_up - snapshot_period
        keep = t > start
        entry = np.maximum(start, 0.0)
    n_dropped = int(n - keep.sum())

    margin_mean = np.array([scenario.margin_mean[s] for s in scenario.segments])
    sigma = scenario.margin_sigma
    margin = margin_mean[seg] * np.exp(sigma * z - sigma**2 / 2)
    signup = (np.datetime64(as_of_ts.date(), "D") - days.astype("timedelta64[D]")).astype("datetime64[ns]")
    cause_codes = np.where(event, cause, -1)

    data = pd.DataFrame(
        {
            "customer_id": np.arange(n, dtype=np.int64)[keep],
            "segment": pd.Categorical.from_codes(seg[keep], categories=list(scenario.segments)),
            "signup_date": signup[keep],
            "entry": entry[keep],
            "exit": exit_[keep],
            "event": event[keep],
            "cause": pd.Categorical.from_codes(cause_codes[keep], categories=list(scenario.causes)),
            "monthly_margin": margin[keep],
        }
    )
    return SimulatedChurn(
        data=data,
        truth=truth,
        scenario=scenario,
        as_of=as_of_ts,
        signup_months=signup_months,
        discrete=discrete,
        censoring=censoring,
        snapshot_period=snapshot_period,
        n_simulated=n,
        n_dropped=n_dropped,
    )


# --------------------------------------------------------------------------- Fine & Gray design


@dataclass(frozen=True, eq=False)
class FineGrayTruth:
    """True cumulative incidences of the Fine & Gray (1999) simulation design.

    Parameters
    ----------
    p : float
        Cause-1 probability at :math:`z = 0` (:math:`F_1(\\infty \\mid 0) = p`).
    beta1, beta2 : numpy.ndarray
        Coefficients (one per covariate) of cause 1 (subdistribution hazard) and
        cause 2 (exponential rate).

    Notes
    -----
    With :math:`a = e^{\\beta_1^\\top z}`,

    .. math::

        F_1(t \\mid z) = 1 - \\{1 - p(1 - e^{-t})\\}^{a}, \\qquad
        F_2(t \\mid z) = (1-p)^{a}\\,\\{1 - \\exp(-e^{\\beta_2^\\top z} t)\\},

    and the cause-1 subdistribution hazard is proportional,
    :math:`\\gamma_1(t \\mid z) = a \\, p e^{-t} / \\{1 - p(1 - e^{-t})\\}`.
    """

    p: float
    beta1: np.ndarray
    beta2: np.ndarray

    def _lp(self, z, beta, owner):
        z = np.asarray(z, dtype=float)
        if beta.size == 1:
            return z * beta[0]
        if z.shape[-1:] != (beta.size,):
            raise _param_error("z", owner, f"an array whose last axis has length {beta.size}", z.shape)
        return z @ beta

    def cumulative_incidence(self, t, z, cause=1):
        """True :math:`F_k(t \\mid z)`, broadcasting ``t`` against the covariate rows.

        Parameters
        ----------
        t : array-like of float
            Non-negative times.
        z : float or array-like
            Covariate value(s); with several covariates the last axis holds them.
        cause : {1, 2}, default=1

        Returns
        -------
        numpy.ndarray or float
        """
        owner = "FineGrayTruth.cumulative_incidence"
        t, shape = _times(t, "t", owner)
        t = t.reshape(shape)
        if cause not in (1, 2) or isinstance(cause, bool):
            raise _param_error("cause", owner, "1 or 2", cause)
        a = np.exp(self._lp(z, self.beta1, owner))
        if cause == 1:
            out = 1.0 - (1.0 - self.p * -np.expm1(-t)) ** a
        else:
            out = (1.0 - self.p) ** a * -np.expm1(-np.exp(self._lp(z, self.beta2, owner)) * t)
        return _reshape(out, np.shape(out))

    def subdistribution_hazard(self, t, z):
        """True cause-1 subdistribution hazard :math:`\\gamma_1(t \\mid z)`.

        Parameters
        ----------
        t : array-like of float
            Non-negative times.
        z : float or array-like
            Covariate value(s).

        Returns
        -------
        numpy.ndarray or float
        """
        owner = "FineGrayTruth.subdistribution_hazard"
        t, shape = _times(t, "t", owner)
        t = t.reshape(shape)
        a = np.exp(self._lp(z, self.beta1, owner))
        out = a * self.p * np.exp(-t) / (1.0 - self.p * -np.expm1(-t))
        return _reshape(out, np.shape(out))


@dataclass(frozen=True, eq=False)
class FineGraySimulation:
    """Result of :func:`simulate_fine_gray`.

    Attributes
    ----------
    data : pandas.DataFrame
        ``time`` (float64), ``event`` (int64: 0 censored, 1, 2) and the covariate
        column ``z`` (or ``z1, z2, ...`` with several covariates).
    truth : FineGrayTruth
        Use ``truth.cumulative_incidence(t, z, cause=1)``.
    """

    data: pd.DataFrame
    truth: FineGrayTruth


def simulate_fine_gray(n=None, *, p=0.3, beta1=0.5, beta2=-0.5, z=None, censoring=None, random_state=None):
    """Simulate the two-cause design of Fine & Gray (1999) with a proportional subdistribution hazard.

    Parameters
    ----------
    n : int, optional
        Sample size; 1000 by default, ``len(z)`` when ``z`` is given.
    p : float, default=0.3
        Cause-1 probability when the linear predictor is 0, in (0, 1).
    beta1 : float or sequence of float, default=0.5
        Cause-1 subdistribution log hazard ratio(s): the target of Fine-Gray regression.
    beta2 : float or sequence of float, default=-0.5
        Cause-2 log rate ratio(s).
    z : array-like, optional
        Covariates, shape ``(n,)`` or ``(n, n_covariates)``. By default one binary
        covariate, Bernoulli(0.5).
    censoring : float, optional
        If given, independent censoring times are Uniform(0, ``censoring``);
        by default there is no censoring.
    random_state : int, numpy.random.Generator or None

    Returns
    -------
    FineGraySimulation
        ``.data`` with columns ``time``, ``event`` (0 = censored, 1, 2), ``z``
        (or ``z1, ...``) and ``.truth`` (:class:`FineGrayTruth`).

    See Also
    --------
    simulate_churn : the churn book simulator.

    Notes
    -----
    With :math:`a = e^{\\beta_1^\\top z}` the cause-1 cumulative incidence is

    .. math::

        F_1(t \\mid z) = 1 - \\{1 - p(1 - e^{-t})\\}^{a},

    so :math:`P(\\text{cause 1} \\mid z) = 1 - (1 - p)^{a}`. Each subject draws
    :math:`U \\sim U(0, 1)`; if :math:`U < F_1(\\infty \\mid z)` the cause is 1 and
    the time inverts :math:`F_1` exactly,

    .. math::

        T = -\\log\\Big(1 - \\frac{1 - (1 - U)^{1/a}}{p}\\Big),

    otherwise the cause is 2 and :math:`T \\sim \\text{Exp}(e^{\\beta_2^\\top z})`.

    References
    ----------
    1. Fine, J. P. & Gray, R. J. (1999). A proportional hazards model for the
       subdistribution of a competing risk. *Journal of the American
       Statistical Association*, 94(446), 496-509.

    Examples
    --------
    >>> from churnsurv.data.simulate.simulator import simulate_fine_gray
    >>> sim = simulate_fine_gray(200, random_state=0)
    >>> list(sim.data.columns)
    ['time', 'event', 'z']
    >>> round(float(sim.truth.cumulative_incidence(1.0, z=1)), 4)
    0.293
    """
    owner = "simulate_fine_gray"
    p = _check_real(p, "p", owner, high=1.0 - 1e-15, requirement="a float in (0, 1)")
    rng = _check_random_state(random_state, owner)
    if z is None:
        n = 1000 if n is None else _check_int(n, "n", owner)
        zarr = rng.binomial(1, 0.5, size=n).astype(float)
    else:
        try:
            zarr = np.asarray(z, dtype=float)
        except (TypeError, ValueError) as err:
            raise _param_error("z", owner, "a numeric array of shape (n,) or (n, n_covariates)", z, TypeError) from err
        if zarr.ndim not in (1, 2) or zarr.shape[0] < 1 or not np.all(np.isfinite(zarr)):
            raise _param_error("z", owner, "a finite numeric array of shape (n,) or (n, n_covariates)", z)
        if n is not None and _check_int(n, "n", owner) != zarr.shape[0]:
            raise _param_error("n", owner, f"None or len(z) = {zarr.shape[0]}", n)
        n = zarr.shape[0]
    n_cov = 1 if zarr.ndim == 1 else zarr.shape[1]
    req = f"a float or a sequence of {n_cov} floats"
    b1 = _check_vector(beta1, "beta1", owner, req, low=-np.inf)
    b2 = _check_vector(beta2, "beta2", owner, req, low=-np.inf)
    for name, b, raw in (("beta1", b1, beta1), ("beta2", b2, beta2)):
        if b.size != n_cov:
            raise _param_error(name, owner, req, raw)
    if censoring is not None:
        censoring = _check_real(censoring, "censoring", owner, requirement="a positive float or None")
    truth = FineGrayTruth(p=p, beta1=b1, beta2=b2)

    u = rng.random(n)
    e = rng.standard_exponential(n)
    c = rng.uniform(0.0, censoring, size=n) if censoring is not None else np.full(n, np.inf)
    lp1 = zarr * b1[0] if zarr.ndim == 1 else zarr @ b1
    lp2 = zarr * b2[0] if zarr.ndim == 1 else zarr @ b2
    a = np.exp(lp1)
    p1 = -np.expm1(a * np.log1p(-p))  # F1(inf | z) = 1 - (1 - p)^a
    is1 = u < p1
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = -np.log1p(np.expm1(np.log1p(-u) / a) / p)  # exact inverse of F1
    t2 = e / np.exp(lp2)
    t = np.where(is1, t1, t2)
    observed = t <= c
    data = {"time": np.where(observed, t, c), "event": np.where(observed, np.where(is1, 1, 2), 0).astype(np.int64)}
    if zarr.ndim == 1:
        data["z"] = zarr
    else:
        data.update({f"z{j + 1}": zarr[:, j] for j in range(n_cov)})
    return FineGraySimulation(data=pd.DataFrame(data), truth=truth)
