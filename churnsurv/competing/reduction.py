"""Counterfactual survival when the hazard of some causes is reduced or removed: the bridge to the economics
of retention.

:func:`cause_reduction` gives the answer under independent causes, a stratified bootstrap of it (percentile
intervals) and, beside it, the assumption-free bounds of Peterson (1976) on the gain in expected tenure.
"""

from __future__ import annotations

import numbers
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churnsurv._validation import check_conf_level, find_stack_level, param_error
from churnsurv.competing.aalen_johansen import _check_causes, _resolve
from churnsurv.competing.aj_variance import _aj_core
from churnsurv.exceptions import StatisticalWarning
from churnsurv.lifetable.table import _group_codes

__all__ = ["CauseReduction", "cause_reduction"]

QUANTITIES = ("expected_tenure_observed", "expected_tenure_counterfactual", "difference", "survival_observed",
              "survival_counterfactual")
_CHUNK_CELLS = 4_000_000  # bootstrap draws are processed in blocks of about this many (draw x time x cause) cells


@dataclass(frozen=True)
class CauseReduction:
    """Result of :func:`cause_reduction`.

    Attributes
    ----------
    survival : pandas.DataFrame
        ``[*by, "scenario", "time", "estimate"]`` with ``scenario`` "observed" (the Kaplan-Meier curve) or
        "counterfactual" (causes reduced).
    cumulative_incidence : pandas.DataFrame
        ``[*by, "scenario", "cause", "time", "estimate"]``.
    summary : pandas.DataFrame
        One row per segment: ``[*by, "horizon", "expected_tenure_observed", "expected_tenure_counterfactual",
        "difference", "difference_ci_lower", "difference_ci_upper", "difference_lower_bound",
        "difference_upper_bound"]``. Expected tenures are restricted means up to the common ``horizon`` (in
        time units); ``difference`` is the gain under independent causes, ``difference_ci_*`` its bootstrap
        percentile interval (NaN when ``n_boot=0``), ``difference_*_bound`` Peterson's assumption-free bounds
        on the gain.
    estimates : pandas.DataFrame
        The tidy table of every estimate with its bootstrap uncertainty: ``[*by, "quantity", "time",
        "estimate", "std_error", "ci_lower", "ci_upper"]``, one row per segment and quantity:
        ``"expected_tenure_observed"``, ``"expected_tenure_counterfactual"`` and ``"difference"`` (``time`` is
        the horizon), then ``"survival_observed"`` and ``"survival_counterfactual"`` at each requested time.
        ``std_error`` is the standard deviation of the bootstrap draws; all three uncertainty columns are NaN
        when ``n_boot=0``.
    bootstrap : pandas.DataFrame or None
        The bootstrap draws, ``[*by, "draw", "expected_tenure_observed", "expected_tenure_counterfactual",
        "difference"]`` (None when ``n_boot=0``).
    reduce : dict
        The fractions by which each cause's hazard was reduced.
    time_unit : str
    horizon : float
        The common horizon of the restricted means.
    conf_level : float
    n_boot : int
    min_at_risk : float
        The number at risk below which a curve's tail is deemed unreliable (0 when disabled).
    """

    survival: pd.DataFrame
    cumulative_incidence: pd.DataFrame
    summary: pd.DataFrame
    reduce: dict
    time_unit: str
    estimates: pd.DataFrame = field(default=None)
    bootstrap: pd.DataFrame | None = None
    horizon: float = float("nan")
    conf_level: float = 0.95
    n_boot: int = 0
    min_at_risk: float = 0.0

    def describe(self) -> str:
        """The result in words, one paragraph per segment, each starting "Under independent causes, ...".

        Returns
        -------
        str
            For each segment: the expected tenure within the horizon, observed and counterfactual, the gain
            with its bootstrap interval (when computed), and Peterson's assumption-free bounds on the gain.
        """
        by = [c for c in self.summary.columns if c not in _SUMMARY_COLUMNS]
        what = _scenario_words(self.reduce)
        unit = self.time_unit + "s"
        paragraphs = []
        for _, row in self.summary.iterrows():
            seg = " / ".join(str(row[b]) for b in by) if by else "all customers"
            if row["expected_tenure_observed"] >= row["horizon"] - 1e-12:
                paragraphs.append(
                    f"No customer of {seg} left within {row['horizon']:g} {unit} in these records, so there is no "
                    "observed loss for the scenario to recover and no gain to estimate. This is not certainty that "
                    "none would leave: with few customers at risk the survival estimate's one-sided bound says how "
                    "far it could fall.")
                continue
            text = (f"Under independent causes, {what} would change the expected tenure within "
                    f"{row['horizon']:g} {unit} of {seg} from {row['expected_tenure_observed']:.2f} to "
                    f"{row['expected_tenure_counterfactual']:.2f} {unit}: a gain of {row['difference']:.2f} {unit}")
            if np.isfinite(row["difference_ci_lower"]):
                text += (f" ({self.conf_level:.0%} bootstrap interval {row['difference_ci_lower']:.2f} to "
                         f"{row['difference_ci_upper']:.2f})")
            text += (f". Without that assumption the gain lies between {row['difference_lower_bound']:.2f} and "
                     f"{row['difference_upper_bound']:.2f} {unit} (Peterson's bounds"
                     + ("; for a partial cut, read it as keeping that share of the customers who would have left "
                        "for the cause)." if any(0 < v < 1 for v in self.reduce.values()) else ")."))
            paragraphs.append(text)
        return "\n".join(paragraphs)

    def __repr__(self) -> str:
        red = ", ".join(f"{k}: -{v:.0%}" for k, v in self.reduce.items())
        boot = f", {self.n_boot} bootstrap draws" if self.n_boot else ""
        head = (f"CauseReduction({red}; {len(self.summary)} segment(s), horizon {self.horizon:g}, "
                f"time unit {self.time_unit!r}{boot})")
        return head + "\n" + self.describe() if len(self.summary) else head


_SUMMARY_COLUMNS = ("horizon", "expected_tenure_observed", "expected_tenure_counterfactual", "difference",
                    "difference_ci_lower", "difference_ci_upper", "difference_lower_bound", "difference_upper_bound")


def _scenario_words(reduce: dict) -> str:
    parts = [f"removing '{c}'" if v == 1 else f"cutting the hazard of '{c}' by {v:.0%}"
             for c, v in reduce.items() if v > 0]
    if not parts:
        return "changing nothing"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def cause_reduction(data, *, reduce: Mapping[str, float], by: str | Sequence[str] | None = None,
                    horizon: float | None = None, times=None, n_boot: int = 0, conf_level: float = 0.95,
                    random_state=None, min_at_risk: float | None = 10, progress: bool = False,
                    **frame_kwargs) -> CauseReduction:
    """Survival and expected tenure if the hazard of some causes were reduced or removed.

    **Assumption (untestable from the data).** The causes act through independent latent times, and
    reducing or removing one cause leaves the other cause-specific hazards unchanged: a customer kept from
    leaving for price is then exposed to the competitor and service hazards of the customers who stayed. If
    price-sensitive customers would otherwise soon leave for a competitor (dependent causes), the gain is
    overstated. Read the result as a what-if under this assumption, not as an estimate; the bounds of
    Peterson (1976), reported beside it, hold whatever the dependence between causes.

    Parameters
    ----------
    data : Tenures, LifeTable or pandas.DataFrame
        Records with causes of defection. The bootstrap (``n_boot > 0``) resamples customers, so it needs the
        tenure table (a :class:`~churnsurv.Tenures` or a frame), not a :class:`~churnsurv.LifeTable`.
    reduce : dict of {cause: fraction}
        Fraction by which each cause's hazard is reduced, in [0, 1]: 1 removes the cause, 0.25 cuts it by a
        quarter. Causes not listed are unchanged.
    by : str or list of str, optional
        Segment columns.
    horizon : float, optional
        Upper limit of the restricted mean tenure, one value for every segment. Default: the earliest time,
        over the segments, at which fewer than ``min_at_risk`` customers are at risk (a segment's last time
        when that never happens), the rule of :meth:`KaplanMeier.rmst`, so that no segment is extrapolated. A
        horizon beyond a segment's last time extends its curves flat, and one beyond that time rests on fewer
        than ``min_at_risk`` customers: both raise a :class:`~churnsurv.StatisticalWarning` naming the segments.
    times : float or array-like of float, optional
        Times at which to report the observed and counterfactual survival in :attr:`CauseReduction.estimates`
        (with bootstrap intervals); default the horizon. NaN beyond a segment's last time.
    n_boot : int, default 0
        Bootstrap draws; 0 computes no intervals (fast and deterministic). About 1,000 draws give stable 95%
        percentile limits.
    conf_level : float, default 0.95
        Level of the percentile intervals.
    random_state : int, numpy.random.Generator or None
        Seed of the bootstrap; the same seed gives the same intervals.
    min_at_risk : float or None, default 10
        Number at risk below which a curve's tail is unreliable; it sets the default horizon and the warnings.
        0 or None disables it.
    progress : bool, default False
        Show the progress of the bootstrap on stderr (a ``tqdm`` bar when tqdm is installed, else a counter).
    **frame_kwargs
        Column keywords for a DataFrame input.

    Returns
    -------
    CauseReduction
        ``.survival``, ``.cumulative_incidence`` (observed and counterfactual, long form), ``.summary``
        (expected tenure before and after, the gain, its interval and bounds, per segment), ``.estimates``
        (every estimate with its bootstrap standard error and interval) and ``.describe()`` (the result in
        words).

    Raises
    ------
    TypeError
        With ``n_boot > 0`` and a :class:`~churnsurv.LifeTable` input.

    See Also
    --------
    cause_specific_hazard : the hazards being scaled.
    AalenJohansen : the observed curves (``reduce={}`` reproduces them).
    KaplanMeier.rmst : the observed restricted mean (``expected_tenure_observed`` is the same number).

    Notes
    -----
    **Estimand under independence.** With discrete-time cause-specific hazards :math:`h_k(t) = d_k(t)/n(t)`
    from the life table and multipliers :math:`c_k = 1 - \\text{reduce}_k`,

    .. math::

        S^*(t) = \\prod_{s \\le t}\\Big(1 - \\sum_k c_k h_k(s)\\Big), \\qquad
        F_k^*(t) = \\sum_{s \\le t} S^*(s-)\\, c_k h_k(s), \\qquad
        \\mu^*(\\tau) = \\int_0^\\tau S^*(t)\\,dt,

    the last being the restricted mean tenure (area under the step function). With all :math:`c_k = 1`
    these are the Kaplan-Meier and Aalen-Johansen estimates, and ``expected_tenure_observed`` equals
    :meth:`KaplanMeier.rmst` at the same horizon. Removing a cause this way is the classical "net" or
    "cause-eliminated" survival of Kalbfleisch & Prentice [1]_ (section 8.2); Andersen et al. [2]_ discuss why
    it is a hypothetical quantity.

    **Bounds without the assumption.** The data identify only the crude cumulative incidences :math:`F_k`.
    Peterson [4]_ showed that the survival :math:`S_{-k}` with cause :math:`k` removed, whatever the
    dependence between the latent times, satisfies :math:`S(t) \\le S_{-k}(t) \\le S(t) + F_k(t)`, and these
    bounds are sharp. Integrating, the gain in restricted mean tenure lies in
    :math:`[0, \\int_0^\\tau F_k(t)\\,dt]`; removing a set of causes, in :math:`[0, \\int_0^\\tau \\sum_k
    F_k(t)\\,dt]`. A partial reduction by a fraction :math:`r_k` has no assumption-free meaning as a change of
    hazard; read as "a random share :math:`r_k` of the customers becomes immune to cause :math:`k`", its gain
    lies in :math:`[0, \\int_0^\\tau \\sum_k r_k F_k(t)\\,dt]`, the bounds reported. The independence answer
    always lies inside them: :math:`S^*` is convex in each :math:`c_k`, so it is at most the average of the
    answers with each cause either removed or kept (a share :math:`r_k` of the time), each of which obeys
    Peterson's upper bound (also for the plug-in estimates, since :math:`\\hat S + \\sum_k \\hat F_k = 1`).

    **Bootstrap.** Each draw resamples the rows of the tenure table with replacement within each segment
    (stratified, so the segment sizes are fixed), recounts the life table on the segment's time grid and
    recomputes the observed and counterfactual curves; the draws are multinomial counts of the distinct rows,
    which is the same resampling without copying the data. The intervals are percentile intervals [3]_ of
    the draws; the gain is bootstrapped jointly with the two restricted means (paired). Each row is one
    resampling unit: with ``spells=True``, spells rather than customers.

    References
    ----------
    .. [1] Kalbfleisch, J. D. and Prentice, R. L. (2002). *The Statistical Analysis of Failure Time Data*,
       2nd ed. Wiley.
    .. [2] Andersen, P. K., Geskus, R. B., de Witte, T. and Putter, H. (2012). Competing risks in
       epidemiology: possibilities and pitfalls. *International Journal of Epidemiology* 41, 861-870.
    .. [3] Efron, B. and Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*, chapter 13. Chapman &
       Hall.
    .. [4] Peterson, A. V. (1976). Bounds for a joint distribution function with fixed sub-distribution
       functions: application to competing risks. *Proceedings of the National Academy of Sciences* 73, 11-13.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.competing import cause_reduction
    >>> df = pd.DataFrame({"tenure": [1, 2, 2, 3, 4, 4, 5, 6],
    ...                    "reason": ["price", "service", None, "price", "price", "service", None, "price"]})
    >>> res = cause_reduction(df, reduce={"price": 1.0}, duration="tenure", cause="reason", min_at_risk=0)
    >>> cols = ["horizon", "expected_tenure_observed", "expected_tenure_counterfactual", "difference",
    ...         "difference_upper_bound"]
    >>> print(res.summary[cols].round(3).to_string())
       horizon  expected_tenure_observed  expected_tenure_counterfactual  difference  difference_upper_bound
    0      6.0                     3.825                             5.0       1.175                   1.375
    >>> boot = cause_reduction(df, reduce={"price": 1.0}, duration="tenure", cause="reason", min_at_risk=0,
    ...                        n_boot=200, random_state=0)
    >>> print(boot.describe())  # doctest: +NORMALIZE_WHITESPACE
    Under independent causes, removing 'price' would change the expected tenure within 6 months of all
    customers from 3.83 to 5.00 months: a gain of 1.18 months (95% bootstrap interval 0.00 to 2.38). Without
    that assumption the gain lies between 0.00 and 1.38 months (Peterson's bounds).
    """
    owner = "cause_reduction"
    req = times
    lt, tenures = _resolve(data, by, frame_kwargs)
    _check_causes(lt, owner)
    if not isinstance(reduce, Mapping):
        raise param_error("reduce", owner, "a dict of {cause: fraction in [0, 1]}", reduce, type_error=True)
    red = {}
    for c, v in reduce.items():
        if c not in lt.causes:
            raise param_error("reduce", owner, f"keyed by causes among {list(lt.causes)}", dict(reduce))
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0.0 <= float(v) <= 1.0:
            raise param_error("reduce", owner, "a dict of fractions in [0, 1]", dict(reduce))
        red[c] = float(v)
    if horizon is not None and (isinstance(horizon, bool) or not isinstance(horizon, numbers.Real)
                                or not float(horizon) > 0):
        raise param_error("horizon", owner, "a positive number of time units", horizon)
    if isinstance(n_boot, bool) or not isinstance(n_boot, numbers.Integral):
        raise param_error("n_boot", owner, "a non-negative int", n_boot, type_error=True)
    if n_boot < 0:
        raise param_error("n_boot", owner, "a non-negative int", n_boot)
    n_boot = int(n_boot)
    conf_level = check_conf_level(conf_level, owner)
    min_at_risk = _check_min_at_risk(min_at_risk, owner)
    if not isinstance(progress, (bool, np.bool_)):
        raise param_error("progress", owner, "a bool", progress, type_error=True)
    rng = _check_random_state(random_state, owner)
    if n_boot and tenures is None:
        raise TypeError(
            f"The bootstrap of {owner} (n_boot={n_boot}) resamples customers, so it needs the tenure table: pass "
            "a Tenures or a DataFrame, not a LifeTable, which holds only the counts per time. Or set n_boot=0 "
            "for the point estimates and bounds alone.")

    core = _aj_core(lt)
    mult = np.array([1.0 - red.get(c, 0.0) for c in lt.causes])
    cf = _aj_core(lt, multipliers=mult)
    tab = lt.table
    by_cols = list(lt.by)
    times = tab["time"].to_numpy(float)
    n_at_risk = tab["n_at_risk"].to_numpy(float)
    starts, lengths = core["starts"], core["lengths"]
    ends = starts + lengths
    last = times[ends - 1]
    keys = lt.group_keys().reset_index(drop=True)
    labels = [" / ".join(str(v) for v in keys.iloc[g]) for g in range(len(keys))] if by_cols else ["all customers"]
    tail = np.array([_tail_start(times[s:e], n_at_risk[s:e], min_at_risk) for s, e in zip(starts, ends, strict=True)])
    tau = _common_horizon(horizon, tail, last, labels, min_at_risk)
    req_times = _check_times(req, tau=tau, owner=owner)
    hz = np.full(len(starts), tau)

    rm_obs = _area(times, core["S"], starts, lengths, hz)
    rm_cf = _area(times, cf["S"], starts, lengths, hz)
    upper = _area(times, core["F"] @ (1.0 - mult), starts, lengths, hz)
    summary = keys.copy() if by_cols else pd.DataFrame(index=range(1))
    summary["horizon"] = hz
    summary["expected_tenure_observed"] = rm_obs
    summary["expected_tenure_counterfactual"] = rm_cf
    summary["difference"] = rm_cf - rm_obs

    s_obs_t = np.vstack([_step_at(times[s:e], core["S"][s:e], req_times) for s, e in zip(starts, ends, strict=True)])
    s_cf_t = np.vstack([_step_at(times[s:e], cf["S"][s:e], req_times) for s, e in zip(starts, ends, strict=True)])
    point = np.column_stack([rm_obs, rm_cf, rm_cf - rm_obs, s_obs_t, s_cf_t])  # (segments, quantities)
    boot_table = None
    se = lo = hi = np.full_like(point, np.nan)
    if n_boot:
        draws = _bootstrap(lt, tenures, mult, tau, req_times, n_boot, rng, progress, labels)  # (segments, B, q)
        alpha = 1.0 - conf_level
        se = draws.std(axis=1, ddof=1) if n_boot > 1 else np.full_like(point, np.nan)
        lo, hi = np.quantile(draws, [alpha / 2, 1 - alpha / 2], axis=1)
        boot_table = (keys.iloc[np.repeat(np.arange(len(keys)), n_boot)].reset_index(drop=True) if by_cols
                      else pd.DataFrame(index=range(n_boot)))
        boot_table["draw"] = np.tile(np.arange(n_boot), len(starts))
        for j, name in enumerate(QUANTITIES[:3]):
            boot_table[name] = draws[:, :, j].ravel()
    summary["difference_ci_lower"] = lo[:, 2]
    summary["difference_ci_upper"] = hi[:, 2]
    summary["difference_lower_bound"] = 0.0
    summary["difference_upper_bound"] = upper

    n_t = len(req_times)
    quantity = list(QUANTITIES[:3]) + [QUANTITIES[3]] * n_t + [QUANTITIES[4]] * n_t
    q_time = np.r_[np.full(3, tau), req_times, req_times]
    n_q = len(quantity)
    est = keys.iloc[np.repeat(np.arange(len(keys)), n_q)].reset_index(drop=True) if by_cols \
        else pd.DataFrame(index=range(n_q))
    est["quantity"] = pd.Categorical(np.tile(quantity, len(starts)), categories=list(QUANTITIES))
    est["time"] = np.tile(q_time, len(starts))
    est["estimate"] = point.ravel()
    est["std_error"] = se.ravel()
    est["ci_lower"] = lo.ravel()
    est["ci_upper"] = hi.ravel()

    surv, cif = _long_tables(tab, by_cols, list(lt.causes), starts, lengths, core, cf)
    return CauseReduction(survival=surv, cumulative_incidence=cif,
                          summary=summary, reduce=red, time_unit=lt.time_unit, estimates=est, bootstrap=boot_table,
                          horizon=tau, conf_level=conf_level, n_boot=n_boot, min_at_risk=min_at_risk)


def _long_tables(tab, by_cols, causes, starts, lengths, core, cf):
    """The observed and counterfactual curves in long form, sorted by segment, scenario (and cause), time."""
    k = len(causes)
    scenarios = pd.CategoricalDtype(["observed", "counterfactual"])
    rows_s, scen_s, rows_c, scen_c, cause_c = [], [], [], [], []
    for s0, n in zip(starts, lengths, strict=True):
        block = np.arange(s0, s0 + n)
        rows_s.append(np.tile(block, 2))
        scen_s.append(np.repeat([0, 1], n))
        rows_c.append(np.tile(block, 2 * k))
        scen_c.append(np.repeat([0, 1], n * k))
        cause_c.append(np.tile(np.repeat(np.arange(k), n), 2))
    rows_s, scen_s = np.concatenate(rows_s), np.concatenate(scen_s)
    rows_c, scen_c, cause_c = np.concatenate(rows_c), np.concatenate(scen_c), np.concatenate(cause_c)
    times = tab["time"].to_numpy()
    seg = tab[by_cols]

    def frame(rows):
        return seg.iloc[rows].reset_index(drop=True) if by_cols else pd.DataFrame(index=range(len(rows)))

    surv = frame(rows_s)
    surv["scenario"] = pd.Categorical.from_codes(scen_s, dtype=scenarios)
    surv["time"] = times[rows_s]
    surv["estimate"] = np.where(scen_s == 0, core["S"][rows_s], cf["S"][rows_s])
    cif = frame(rows_c)
    cif["scenario"] = pd.Categorical.from_codes(scen_c, dtype=scenarios)
    cif["cause"] = pd.Categorical.from_codes(cause_c, categories=causes)
    cif["time"] = times[rows_c]
    cif["estimate"] = np.where(scen_c == 0, core["F"][rows_c, cause_c], cf["F"][rows_c, cause_c])
    return surv, cif


# ============================================================================ checks and the horizon
def _check_min_at_risk(value, owner) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise param_error("min_at_risk", owner, "a non-negative number or None", value, type_error=True)
    if not float(value) >= 0:
        raise param_error("min_at_risk", owner, "a non-negative number or None", value)
    return float(value)


def _check_random_state(random_state, owner):
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or (isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)):
        if random_state is not None and random_state < 0:
            raise param_error("random_state", owner, "a non-negative int, a numpy Generator or None", random_state)
        return np.random.default_rng(random_state)
    raise param_error("random_state", owner, "a non-negative int, a numpy Generator or None", random_state,
                      type_error=True)


def _check_times(times_arg, tau, owner) -> np.ndarray:
    if times_arg is None:
        return np.array([tau])
    try:
        t = np.atleast_1d(np.asarray(times_arg, dtype=float)).ravel()
    except (TypeError, ValueError) as err:
        raise param_error("times", owner, "a non-negative number or an array-like of them", times_arg,
                          type_error=True) from err
    if t.size == 0 or not np.all(np.isfinite(t)) or (t < 0).any():
        raise param_error("times", owner, "a non-negative number or an array-like of them", times_arg)
    return t


def _tail_start(t: np.ndarray, n: np.ndarray, min_at_risk: float) -> float:
    """The first time after 0 at which fewer than ``min_at_risk`` customers are at risk, once someone has been
    at risk after 0 (the rule of :meth:`KaplanMeier.rmst`); the last time when that never happens, NaN when the
    segment never has ``min_at_risk`` customers at risk."""
    if min_at_risk <= 0:
        return float(t[-1])
    if not (n >= min_at_risk).any():
        return float("nan")
    started = np.cumsum((t > 0) & (n > 0)) > 0
    low = np.flatnonzero(started & (t > 0) & (n < min_at_risk))
    return float(t[low[0]]) if len(low) else float(t[-1])


def _common_horizon(horizon, tail, last, labels, min_at_risk) -> float:
    """One horizon for every segment (see ``horizon`` in :func:`cause_reduction`), with the warnings."""
    never = np.isnan(tail)
    if never.any():
        names = ", ".join(repr(labels[g]) for g in np.flatnonzero(never))
        warnings.warn(f"cause_reduction: segment(s) {names} never have {min_at_risk:g} customers at risk; their "
                      "curves rest on few customers throughout.", StatisticalWarning, stacklevel=find_stack_level())
    if horizon is None:
        return float(np.min(tail[~never])) if (~never).any() else float(np.min(last))
    tau = float(horizon)
    beyond = tau > last
    if beyond.any():
        names = ", ".join(f"{labels[g]!r} ({last[g]:g})" for g in np.flatnonzero(beyond))
        warnings.warn(f"cause_reduction: the horizon {tau:g} is beyond the last time of segment(s) {names}; their "
                      "curves are extended flat from the last time.", StatisticalWarning,
                      stacklevel=find_stack_level())
    thin = ~beyond & ~never & (tau > tail)
    if thin.any():
        names = ", ".join(f"{labels[g]!r} (from {tail[g]:g})" for g in np.flatnonzero(thin))
        warnings.warn(f"cause_reduction: the horizon {tau:g} passes the time at which fewer than {min_at_risk:g} "
                      f"customers remain at risk in segment(s) {names}; their expected tenures rest on the "
                      f"unreliable tail. Choose a horizon of at most {np.nanmin(tail):g}, or lower min_at_risk.",
                      StatisticalWarning, stacklevel=find_stack_level())
    return tau


# ============================================================================ areas and steps
def _area(times, values, starts, lengths, horizon):
    """Area under each segment's right-continuous step function from 0 to its horizon (flat after the last
    time)."""
    out = np.empty(len(starts))
    for g, (s, n) in enumerate(zip(starts, lengths, strict=True)):
        out[g] = float(np.sum(values[s:s + n] * _widths(times[s:s + n], horizon[g])))
    return out


def _widths(t: np.ndarray, tau: float) -> np.ndarray:
    """Length of [t_j, t_{j+1}) within [0, tau], the last interval open to the right."""
    upper = np.minimum(np.r_[t[1:], np.inf], tau)
    return np.clip(upper - np.minimum(t, tau), 0.0, None)


def _step_at(t: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Right-continuous step function at ``at`` along the last axis: 1 before the first time, NaN after the
    last."""
    idx = np.searchsorted(t, at, side="right") - 1
    out = values[..., np.clip(idx, 0, None)].astype(float)
    out[..., idx < 0] = 1.0
    out[..., at > t[-1]] = np.nan
    return out


# ============================================================================ bootstrap
def _load_tqdm():
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return tqdm


class _Progress:
    """Progress of the bootstrap on stderr: a tqdm bar when available, else a counter rewritten in place."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.done, self.enabled = total, 0, enabled
        self.bar = None
        if enabled:
            tqdm = _load_tqdm()
            if tqdm is not None:
                self.bar = tqdm(total=total, desc="cause_reduction bootstrap", unit="draw", file=sys.stderr)

    def update(self, k: int) -> None:
        self.done += k
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(k)
        else:
            sys.stderr.write(f"\rcause_reduction bootstrap: {self.done}/{self.total} draws")
            sys.stderr.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _row_cells(lt, tenures):
    """Per segment: the distinct (start row, exit row, status, weight) of its tenure rows and their counts.

    Rows are positions in the segment's block of the life table; a row is at risk from ``start`` to ``exit``
    inclusive (entry < t <= exit, entry 0 also at time 0); status 0 is censored, k + 1 cause k.
    """
    d = tenures.data
    by = list(lt.by)
    codes, row_keys = _group_codes(d, by)
    lt_keys = lt.group_keys().reset_index(drop=True)
    if by:  # map the tenure rows' segment codes to the life table's
        lookup = {tuple(k): g for g, k in enumerate(lt_keys.itertuples(index=False, name=None))}
        remap = np.array([lookup[tuple(k)] for k in row_keys.itertuples(index=False, name=None)])
        codes = remap[codes]
    times = lt.table["time"].to_numpy(float)
    gstarts = lt.group_starts()
    gends = np.r_[gstarts[1:], len(times)]
    entry = d["entry"].to_numpy(float)
    exit_ = d["exit"].to_numpy(float)
    status = np.where(d["event"].to_numpy(bool), d["cause"].cat.codes.to_numpy(np.int64) + 1, 0)
    weight = d["weight"].to_numpy(float)
    out = []
    for g, (s, e) in enumerate(zip(gstarts, gends, strict=True)):
        rows = np.flatnonzero(codes == g)
        t = times[s:e]
        ex = np.searchsorted(t, exit_[rows])
        st = np.where(entry[rows] > 0, np.searchsorted(t, entry[rows], side="right"), 0)
        cells, counts = np.unique(np.column_stack([st, ex, status[rows], weight[rows]]), axis=0, return_counts=True)
        out.append((t, cells[:, 0].astype(np.int64), cells[:, 1].astype(np.int64), cells[:, 2].astype(np.int64),
                    cells[:, 3], counts, len(rows)))
    return out


def _curves(n, dk, mult):
    """All-cause survival of every draw (rows) from weighted counts, with cause hazards multiplied."""
    d = (dk * mult).sum(axis=-1)
    pos = n > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(pos, 1.0 - d / np.where(pos, n, 1.0), 1.0)
    factor[pos & (n - d <= 1e-12 * n)] = 0.0
    return np.cumprod(factor, axis=-1)


def _bootstrap(lt, tenures, mult, tau, req_times, n_boot, rng, progress, labels) -> np.ndarray:
    """Draws of (observed mean, counterfactual mean, gain, observed S at times, counterfactual S at times)."""
    k = len(lt.causes)
    cells = _row_cells(lt, tenures)
    n_q = 3 + 2 * len(req_times)
    draws = np.empty((len(cells), n_boot, n_q))
    bar = _Progress(n_boot * len(cells), progress)
    ones = np.ones(k)
    from scipy import sparse  # scipy loads on first use, not on `import churnsurv`

    try:
        for g, (t, st, ex, status, w, counts, n_rows) in enumerate(cells):
            m, c = len(t), len(counts)
            risk = sparse.csr_matrix((np.r_[w, -w], (np.r_[np.arange(c), np.arange(c)], np.r_[st, ex + 1])),
                                     shape=(c, m + 1))
            ev = status > 0
            events = sparse.csr_matrix((w[ev], (np.flatnonzero(ev), ex[ev] * k + status[ev] - 1)), shape=(c, m * k))
            width = _widths(t, tau)
            chunk = max(1, min(n_boot, _CHUNK_CELLS // max(m * (k + 2), 1)))
            p = counts / n_rows
            for b0 in range(0, n_boot, chunk):
                b = min(chunk, n_boot - b0)
                nn = rng.multinomial(n_rows, p, size=b).astype(float)  # (b, cells)
                n = np.cumsum((risk.T @ nn.T).T, axis=1)[:, :m]
                dk = (events.T @ nn.T).T.reshape(b, m, k)
                s_obs = _curves(n, dk, ones)
                s_cf = _curves(n, dk, mult)
                rm_obs, rm_cf = s_obs @ width, s_cf @ width
                draws[g, b0:b0 + b] = np.column_stack([rm_obs, rm_cf, rm_cf - rm_obs, _step_at(t, s_obs, req_times),
                                                       _step_at(t, s_cf, req_times)])
                bar.update(b)
    finally:
        bar.close()
    return draws
