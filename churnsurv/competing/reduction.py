"""Counterfactual survival when the hazard of some causes is reduced or removed: the bridge to the economics
of retention.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churnsurv._validation import param_error
from churnsurv.competing.aalen_johansen import _check_causes, _resolve
from churnsurv.competing.aj_variance import _aj_core
from churnsurv.exceptions import StatisticalWarning

__all__ = ["CauseReduction", "cause_reduction"]


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
        "difference"]`` (restricted mean tenure up to ``horizon``, in time units).
    reduce : dict
        The fractions by which each cause's hazard was reduced.
    time_unit : str
    """

    survival: pd.DataFrame
    cumulative_incidence: pd.DataFrame
    summary: pd.DataFrame
    reduce: dict
    time_unit: str

    def __repr__(self) -> str:
        red = ", ".join(f"{k}: -{v:.0%}" for k, v in self.reduce.items())
        return f"CauseReduction({red}; {len(self.summary)} segment(s), time unit {self.time_unit!r})"


def cause_reduction(data, *, reduce: Mapping[str, float], by: str | Sequence[str] | None = None,
                    horizon: float | None = None, **frame_kwargs) -> CauseReduction:
    """Survival and expected tenure if the hazard of some causes were reduced or removed.

    **Assumption (untestable from the data).** The causes act through independent latent times, and
    reducing or removing one cause leaves the other cause-specific hazards unchanged: a customer kept from
    leaving for price is then exposed to the competitor and service hazards of the customers who stayed. If
    price-sensitive customers would otherwise soon leave for a competitor (dependent causes), the gain is
    overstated. Read the result as a what-if under this assumption, not as an estimate.

    Parameters
    ----------
    data : Tenures, LifeTable or pandas.DataFrame
    reduce : dict of {cause: fraction}
        Fraction by which each cause's hazard is reduced, in [0, 1]: 1 removes the cause, 0.25 cuts it by a
        quarter. Causes not listed are unchanged.
    by : str or list of str, optional
        Segment columns.
    horizon : float, optional
        Upper limit of the restricted mean tenure; default each segment's last time. A horizon beyond a
        segment's last time extends its curves flat (with a :class:`~churnsurv.StatisticalWarning`).
    **frame_kwargs
        Column keywords for a DataFrame input.

    Returns
    -------
    CauseReduction
        ``.survival``, ``.cumulative_incidence`` (observed and counterfactual, long form) and ``.summary``
        (expected tenure before and after, and the difference, per segment).

    See Also
    --------
    cause_specific_hazard : the hazards being scaled.
    AalenJohansen : the observed curves (``reduce={}`` reproduces them).

    Notes
    -----
    With discrete-time cause-specific hazards :math:`h_k(t) = d_k(t)/n(t)` from the life table and
    multipliers :math:`c_k = 1 - \\text{reduce}_k`,

    .. math::

        S^*(t) = \\prod_{s \\le t}\\Big(1 - \\sum_k c_k h_k(s)\\Big), \\qquad
        F_k^*(t) = \\sum_{s \\le t} S^*(s-)\\, c_k h_k(s), \\qquad
        \\mu^*(\\tau) = \\int_0^\\tau S^*(t)\\,dt,

    the last being the restricted mean tenure (area under the step function). With all :math:`c_k = 1`
    these are the Kaplan-Meier and Aalen-Johansen estimates. Removing a cause this way is the classical
    "net" or "cause-eliminated" survival of Kalbfleisch & Prentice [1]_ (section 8.2); Andersen et al. [2]_
    discuss why it is a hypothetical quantity.

    References
    ----------
    .. [1] Kalbfleisch, J. D. and Prentice, R. L. (2002). *The Statistical Analysis of Failure Time Data*,
       2nd ed. Wiley.
    .. [2] Andersen, P. K., Geskus, R. B., de Witte, T. and Putter, H. (2012). Competing risks in
       epidemiology: possibilities and pitfalls. *International Journal of Epidemiology* 41, 861-870.
    .. [3] Putter, H., Fiocco, M. and Geskus, R. B. (2007). Tutorial in biostatistics: competing risks and
       multi-state models. *Statistics in Medicine* 26, 2389-2430.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.competing import cause_reduction
    >>> df = pd.DataFrame({"tenure": [1, 2, 2, 3, 4, 4, 5, 6],
    ...                    "reason": ["price", "service", None, "price", "price", "service", None, "price"]})
    >>> res = cause_reduction(df, reduce={"price": 1.0}, duration="tenure", cause="reason")
    >>> print(res.summary.round(3).to_string())
       horizon  expected_tenure_observed  expected_tenure_counterfactual  difference
    0      6.0                     3.825                             5.0       1.175
    """
    owner = "cause_reduction"
    lt, _ = _resolve(data, by, frame_kwargs)
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

    core = _aj_core(lt)
    mult = np.array([1.0 - red.get(c, 0.0) for c in lt.causes])
    cf = _aj_core(lt, multipliers=mult)
    tab = lt.table
    by_cols = list(lt.by)
    times = tab["time"].to_numpy(float)
    starts, lengths = core["starts"], core["lengths"]
    ends = starts + lengths
    last = times[ends - 1]
    hz = np.full(len(starts), float(horizon)) if horizon is not None else last
    beyond = hz > last
    if beyond.any():
        warnings.warn(f"cause_reduction: the horizon {float(horizon):g} is beyond the last time of "
                      f"{int(beyond.sum())} segment(s); their curves are extended flat from the last time.",
                      StatisticalWarning, stacklevel=2)
    rm_obs = _rmst(times, core["S"], starts, lengths, hz)
    rm_cf = _rmst(times, cf["S"], starts, lengths, hz)
    keys = lt.group_keys()
    summary = keys.reset_index(drop=True) if by_cols else pd.DataFrame(index=range(1))
    summary["horizon"] = hz
    summary["expected_tenure_observed"] = rm_obs
    summary["expected_tenure_counterfactual"] = rm_cf
    summary["difference"] = rm_cf - rm_obs

    base = tab[by_cols + ["time"]].reset_index(drop=True)
    surv = pd.concat([base.assign(scenario="observed", estimate=core["S"]),
                      base.assign(scenario="counterfactual", estimate=cf["S"])], ignore_index=True)
    surv["scenario"] = pd.Categorical(surv["scenario"], categories=["observed", "counterfactual"])
    surv = surv.sort_values(by_cols + ["scenario"], kind="stable")[by_cols + ["scenario", "time", "estimate"]]
    pieces = []
    for scen, fr in (("observed", core["F"]), ("counterfactual", cf["F"])):
        for j, c in enumerate(lt.causes):
            pieces.append(base.assign(scenario=scen, cause=c, estimate=fr[:, j]))
    cif = pd.concat(pieces, ignore_index=True)
    cif["scenario"] = pd.Categorical(cif["scenario"], categories=["observed", "counterfactual"])
    cif["cause"] = pd.Categorical(cif["cause"], categories=list(lt.causes))
    cif = cif.sort_values(by_cols + ["scenario", "cause"], kind="stable")[
        by_cols + ["scenario", "cause", "time", "estimate"]]
    return CauseReduction(survival=surv.reset_index(drop=True), cumulative_incidence=cif.reset_index(drop=True),
                          summary=summary, reduce=red, time_unit=lt.time_unit)


def _rmst(times, S, starts, lengths, horizon):
    """Area under each segment's right-continuous step function S from 0 to its horizon."""
    out = np.empty(len(starts))
    for g, (s, n) in enumerate(zip(starts, lengths, strict=True)):
        t = times[s:s + n]
        surv = S[s:s + n]
        upper = np.minimum(np.r_[t[1:], np.inf], horizon[g])
        width = np.clip(upper - np.minimum(t, horizon[g]), 0.0, None)
        out[g] = float(np.sum(surv * width))
    return out


