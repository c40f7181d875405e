"""Per-period cause-specific hazards with Wilson limits, from the counts of a :class:`~churnsurv.LifeTable`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from churnsurv._validation import check_conf_level, param_error
from churnsurv.competing.aalen_johansen import _check_causes, _resolve
from churnsurv.data.tenures import _as_list
from churnsurv.nonparametric.intervals import wilson_interval

__all__ = ["cause_specific_hazard"]


def cause_specific_hazard(data, by: str | Sequence[str] | None = None, cause: str | Sequence[str] | None = None,
                          conf_level: float = 0.95, **frame_kwargs) -> pd.DataFrame:
    """Per-period cause-specific hazards by segment, with Wilson confidence limits.

    Parameters
    ----------
    data : Tenures, LifeTable or pandas.DataFrame
    by : str or list of str, optional
        Segment columns.
    cause : str or list of str, optional
        Causes to report; default all.
    conf_level : float, default 0.95
    **frame_kwargs
        Column keywords for a DataFrame input (:meth:`Tenures.from_frame`); since ``cause`` selects causes
        here, name the cause column with ``cause_column=``.

    Returns
    -------
    pandas.DataFrame
        ``[*by, "cause", "time", "n_at_risk", "n_events", "estimate", "ci_lower", "ci_upper"]``, one row per
        (segment, cause, time) with customers at risk. ``estimate`` is :math:`d_k(t)/n(t)`.

    See Also
    --------
    AalenJohansen : turns these hazards into cumulative incidences.
    cause_reduction : survival when some of these hazards are reduced.

    Notes
    -----
    With :math:`n(t)` customers at risk in period :math:`t` and :math:`d_k(t)` defections of cause :math:`k`,
    :math:`\\hat h_k(t) = d_k(t)/n(t)` is the conditional probability of leaving for cause :math:`k` in that
    period, given still a customer at its start (the discrete-time cause-specific hazard of Kalbfleisch &
    Prentice [1]_, chapter 8). The limits are Wilson score intervals for a binomial proportion with
    :math:`n(t)` trials; they ignore the dependence between causes within a period.

    References
    ----------
    .. [1] Kalbfleisch, J. D. and Prentice, R. L. (2002). *The Statistical Analysis of Failure Time Data*,
       2nd ed. Wiley.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.competing import cause_specific_hazard
    >>> df = pd.DataFrame({"tenure": [1, 2, 2, 3], "reason": ["price", "service", None, "price"]})
    >>> cause_specific_hazard(df, duration="tenure", cause_column="reason", cause="price").round(3)
       cause  time  n_at_risk  n_events  estimate  ci_lower  ci_upper
    0  price   0.0        4.0       0.0      0.00     0.000     0.490
    1  price   1.0        4.0       1.0      0.25     0.046     0.699
    2  price   2.0        3.0       0.0      0.00     0.000     0.561
    3  price   3.0        1.0       1.0      1.00     0.207     1.000
    """
    owner = "cause_specific_hazard"
    conf_level = check_conf_level(conf_level, owner)
    lt, _ = _resolve(data, by, frame_kwargs)
    _check_causes(lt, owner)
    causes = list(lt.causes) if cause is None else _as_list(cause)
    unknown = [c for c in causes if c not in lt.causes]
    if unknown:
        raise param_error("cause", owner, f"among the causes {list(lt.causes)}", cause)
    tab = lt.table
    by_cols = list(lt.by)
    n = tab["n_at_risk"].to_numpy(float)
    gcode = lt.group_codes
    keep = np.flatnonzero(n > 0)
    k = len(causes)
    rows = np.tile(keep, k)
    cix = np.repeat(np.arange(k), len(keep))
    order = np.lexsort((rows, cix, gcode[rows]))
    rows, cix = rows[order], cix[order]
    dk = lt.cause_events[causes].to_numpy(float)
    out = tab[by_cols].iloc[rows].reset_index(drop=True) if by_cols else pd.DataFrame(index=range(len(rows)))
    codes = np.array([lt.causes.index(c) for c in causes], dtype=np.int64)
    out["cause"] = pd.Categorical.from_codes(codes[cix], categories=list(lt.causes))
    out["time"] = tab["time"].to_numpy()[rows]
    nn = n[rows]
    d = dk[rows, cix]
    out["n_at_risk"] = nn
    out["n_events"] = d
    out["estimate"] = d / nn
    out["ci_lower"], out["ci_upper"] = wilson_interval(d, nn, conf_level)
    return out


