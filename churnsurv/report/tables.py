"""Display tables for the people who read the report: numbers in words a manager uses, each with its interval.

The tidy results of the estimators (one row per segment x time, numeric CI columns) stay the source of truth; the
functions here only format them. A cell reads ``82% (79-85%)``; a number that rests on too few customers at risk,
or lies past a segment's follow-up, says so in words instead of printing a number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnsurv._validation import check_is_fitted, param_error

__all__ = ["segment_table"]


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def segment_table(km, *, times=(3, 6, 12, 24), tau: float | None = None, min_at_risk: float | None = None,
                  segment_label: str = "Segment") -> pd.DataFrame:
    """One row per segment in business terms: customers, defections, retention at chosen times, median and
    expected tenure, each with its confidence interval.

    Parameters
    ----------
    km : KaplanMeier
        A fitted :class:`~churnsurv.KaplanMeier` (with or without ``by``).
    times : sequence of float, default (3, 6, 12, 24)
        Tenures at which to show the share still a customer. A time past a segment's last follow-up reads
        ``beyond follow-up (T)``.
    tau : float, optional
        Horizon of the expected (restricted mean) tenure; default the estimator's common default horizon.
    min_at_risk : float, optional
        Fewer customers at risk than this at a time and the cell reads ``too few at risk (n)``; default the
        estimator's own ``min_at_risk`` (10), or 1 when that is off.
    segment_label : str, default "Segment"
        Header of the first column (the segment level; the segment columns' names when ``by`` has several).

    Returns
    -------
    pandas.DataFrame
        Strings, ready to print: ``Segment, Customers, Defections, Still a customer at <t> <unit>s ...,
        Median tenure, Expected tenure within <tau> <unit>s``. ``attrs`` holds ``conf_level``, ``time_unit``,
        ``tau`` and ``min_at_risk``.

    Notes
    -----
    Retention is the Kaplan-Meier estimate with its pointwise interval (the estimator's ``conf_type``); the
    median interval is Brookmeyer-Crowley; the expected tenure is the restricted mean survival time (area under
    the curve up to ``tau``) with its Greenwood-type interval. A segment whose curve stays above one half has a
    median ``not reached (> T)``, T its last follow-up.

    Examples
    --------
    >>> import churnsurv as cs
    >>> from churnsurv.report.tables import segment_table
    >>> km = cs.KaplanMeier().fit(cs.datasets.load_maven_telco(), by="Contract")
    >>> list(segment_table(km, times=(12,)).columns)[:4]
    ['Contract', 'Customers', 'Defections', 'Still a customer at 12 months']
    """
    check_is_fitted(km)
    owner = "segment_table"
    times = np.atleast_1d(np.asarray(times, dtype=float))
    if times.size == 0 or not np.all(np.isfinite(times)) or np.any(times < 0):
        raise param_error("times", owner, "a non-empty sequence of times >= 0", times)
    floor = km.min_at_risk if min_at_risk is None else min_at_risk
    floor = 1.0 if floor is None else float(floor)
    summary = km.summary(times=(), tau=tau)
    by = [c for c in summary.columns if c not in _SUMMARY_COLUMNS]
    unit = summary.attrs.get("time_unit", getattr(km, "time_unit_", "period")) or "period"
    tau_used = float(summary["tau"].iloc[0])
    pred = km.predict(times)
    rm = km.rmst(tau=tau_used)

    if by:
        labels = [" / ".join(str(v) for v in row) for row in summary[by].itertuples(index=False)]
        header = by[0] if len(by) == 1 else segment_label
    else:
        labels, header = ["All customers"], segment_label
    out = pd.DataFrame({header: labels})
    out["Customers"] = [f"{n:,.0f}" for n in summary["n_customers"]]
    out["Defections"] = [f"{n:,.0f}" for n in summary["n_events"]]
    last = summary["max_follow_up"].to_numpy(float)
    n_seg = len(summary)
    for t in times:
        rows = pred[np.isclose(pred["time"].to_numpy(float), t)]
        cells = []
        for i in range(n_seg):
            r = rows.iloc[i]
            if t > last[i]:
                cells.append(f"beyond follow-up ({last[i]:g})")
            elif r["n_at_risk"] < floor:
                cells.append(f"too few at risk ({r['n_at_risk']:.0f})")
            elif pd.isna(r["estimate"]):
                cells.append("not estimable")
            elif bool(r.get("zero_events", False)):  # no defection yet: a one-sided bound, not [x, 100%]
                cells.append(f"{_pct(r['estimate'])} (at least {_pct(r['ci_lower'])})")
            else:
                cells.append(f"{_pct(r['estimate'])} ({100 * r['ci_lower']:.0f}-{_pct(r['ci_upper'])})")
        out[f"Still a customer at {t:g} {unit}s"] = cells
    out["Median tenure"] = [_median_cell(r, last[i]) for i, (_, r) in enumerate(summary.iterrows())]
    med = km.median_
    if "below_min_at_risk" in med.columns:
        few = med["below_min_at_risk"].to_numpy(bool)
        out.loc[few, "Median tenure"] = out.loc[few, "Median tenure"] + " (few at risk)"
    out[f"Expected tenure within {tau_used:g} {unit}s"] = [
        f"{r['estimate']:.1f} (at least {r['ci_lower']:.1f})" if bool(r.get("zero_events", False)) else
        f"{r['estimate']:.1f} ({r['ci_lower']:.1f}-{r['ci_upper']:.1f})" for _, r in rm.iterrows()]
    out.attrs.update({"conf_level": getattr(km, "conf_level", 0.95), "time_unit": unit, "tau": tau_used,
                      "min_at_risk": floor})
    return out


_SUMMARY_COLUMNS = {"n_customers", "n_events", "n_censored", "n_truncated", "median", "median_ci_lower",
                    "median_ci_upper", "max_follow_up", "tau", "rmst", "rmst_std_error", "note"}


def _median_cell(row, last: float) -> str:
    est, lo, hi = row["median"], row["median_ci_lower"], row["median_ci_upper"]
    if pd.isna(est):
        return f"not reached (> {last:g})"
    lo_s = f"{lo:g}" if pd.notna(lo) else "?"
    hi_s = f"{hi:g}" if pd.notna(hi) else "not reached"
    return f"{est:g} ({lo_s}-{hi_s})"
