"""How much the unknown timing of defections within a snapshot period moves the headline numbers.

A churn snapshot gives each defector's tenure at defection but not when, within the reporting period, they
left; under the snapshot (truncated) reading that sets how long they were observed before leaving
(:meth:`churnsurv.Tenures.from_snapshot`, ``churn_timing``). :func:`snapshot_timing_range` recomputes the numbers
an analyst quotes (the share lost within a few periods, the median tenure, the restricted mean tenure) with the
defectors leaving at the start, the middle and the end of the period, so the report can give the range next to
the number.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from churnsurv._validation import param_error
from churnsurv.data.tenures import Tenures
from churnsurv.nonparametric.survival import KaplanMeier

__all__ = ["snapshot_timing_range"]

_TIMINGS = ("start", "middle", "end")


def snapshot_timing_range(tenures: Tenures, by: str | Sequence[str] | None = None, *, lost_within=(3,),
                          tau: float = 24) -> pd.DataFrame:
    """Headline survival numbers of a truncated snapshot under each assumption about when defectors left.

    Parameters
    ----------
    tenures : Tenures
        Read with :meth:`~churnsurv.Tenures.from_snapshot` and ``truncate=True``.
    by : str or list of str, optional
        Segment column(s).
    lost_within : sequence of float, default (3,)
        Horizons h for the share lost by h, :math:`1 - \\hat S(h)`.
    tau : float, default 24
        Horizon of the restricted mean tenure (the same for every segment).

    Returns
    -------
    pandas.DataFrame
        One row per segment and quantity (``lost_within_<h>``, ``median``, ``rmst_<tau>``): the estimate under
        ``start``, ``middle`` and ``end`` (the defectors' exposure in the period: one unit, half the period,
        the whole period), the rule the table was read with (``used``), and ``low``/``high``, the range over
        the three. ``end`` is the most optimistic reading (lowest hazard), ``start`` the most pessimistic. A
        median not reached is NaN.

    Examples
    --------
    >>> import churnsurv as cs
    >>> snap = cs.datasets.load_maven_telco(truncate=True)
    >>> table = snapshot_timing_range(snap, by="Contract")
    >>> sorted(table["quantity"].unique())
    ['lost_within_3', 'median', 'rmst_24']
    """
    owner = "snapshot_timing_range"
    if not isinstance(tenures, Tenures) or tenures.truncation is None or not tenures.truncation.applied:
        raise param_error("tenures", owner, "a Tenures read with Tenures.from_snapshot(..., truncate=True)",
                          type(tenures).__name__ if not isinstance(tenures, Tenures) else "an untruncated table",
                          type_error=not isinstance(tenures, Tenures))
    by = [] if by is None else ([by] if isinstance(by, str) else list(by))
    horizons = [float(h) for h in lost_within]
    frames = []
    for timing in _TIMINGS:
        km = KaplanMeier().fit(tenures.with_churn_timing(timing), by=by or None)
        pred = km.predict(horizons)
        pred = pred.assign(quantity=[f"lost_within_{h:g}" for h in pred["time"]], value=1 - pred["estimate"])
        med = km.median_.assign(quantity="median", value=km.median_["estimate"])
        rm = km.rmst(tau)
        rm = rm.assign(quantity=f"rmst_{tau:g}", value=rm["estimate"])
        frames.append(pd.concat([f[[*by, "quantity", "value"]] for f in (pred, med, rm)]).assign(timing=timing))
    long = pd.concat(frames, ignore_index=True)
    wide = long.pivot_table(index=[*by, "quantity"], columns="timing", values="value", aggfunc="first",
                            dropna=False, observed=True)
    wide = wide.reindex(columns=list(_TIMINGS)).reset_index()
    wide.columns.name = None
    wide["used"] = tenures.truncation.churn_timing
    vals = wide[list(_TIMINGS)].to_numpy(float)
    with np.errstate(invalid="ignore"):
        wide["low"] = np.nanmin(np.where(np.isnan(vals), np.inf, vals), axis=1)
        wide["high"] = np.nanmax(np.where(np.isnan(vals), -np.inf, vals), axis=1)
    wide.loc[np.isnan(vals).any(axis=1), ["low", "high"]] = np.nan
    return wide
