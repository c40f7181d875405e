"""Figures of the cohort and calendar views: retention by sign-up cohort and the churn rate over calendar time.

:func:`plot_cohort_retention` draws one retention curve per sign-up cohort in an ordered colour map (cohorts are
ordered in time, so early cohorts are dark and recent ones light); :func:`plot_calendar_churn` draws the churn
rate per calendar period with its exact Poisson interval, optionally one line per tenure band. Both take the
result of :func:`~churnsurv.nonparametric.cohorts.cohort_retention` or
:func:`~churnsurv.nonparametric.cohorts.calendar_churn` (or its tidy table) first, ``ax=None``, and return the
``Axes``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from collections.abc import Mapping

import numpy as np
import pandas as pd

from churnsurv._validation import param_error
from churnsurv.plotting._common import (
    _axes,
    _check_bool,
    _check_labels,
    _finish,
    _groups,
    _require,
    _table,
    _unit,
)
from churnsurv.plotting.palette import check_color_mapping
from churnsurv.plotting.survival import _step_curves

__all__ = ["plot_calendar_churn", "plot_cohort_retention"]

def _ordered_colors(labels, cmap, owner: str, lo: float = 0.0, hi: float = 0.85) -> dict[str, str]:
    """``{label: colour}`` sampled evenly from an ordered colour map (the light end left out: it fades on white)."""
    import matplotlib.colors as mcolors

    if isinstance(cmap, str):
        try:
            import matplotlib as mpl

            cmap = mpl.colormaps[cmap]
        except KeyError as err:
            raise param_error("cmap", owner, "a matplotlib colour map or its name, e.g. 'viridis'", cmap) from err
    elif not isinstance(cmap, mcolors.Colormap):
        raise param_error("cmap", owner, "a matplotlib colour map or its name, e.g. 'viridis'", cmap,
                          type_error=True)
    k = len(labels)
    pos = np.linspace(lo, hi, k) if k > 1 else np.array([lo])
    return {lab: mcolors.to_hex(cmap(p)) for lab, p in zip(labels, pos, strict=True)}

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def plot_cohort_retention(
    result,
    ax: Axes | None = None,
    *,
    ci: bool = False,
    cmap="viridis",
    colors: Mapping | None = None,
    labels: Mapping | None = None,
    low_risk: str = "dashed",
    time_unit: str | None = None,
    title: str | None = "Retention by sign-up cohort",
    ylim=(0, 1.02),
    ci_alpha: float = 0.15,
    legend: bool = True,
    legend_loc: str = "outside",
    **step_kw,
) -> Axes:
    """Plot Kaplan-Meier retention by sign-up cohort: one step curve per cohort, in an ordered colour map.

    Parameters
    ----------
    result : CohortRetention or pandas.DataFrame
        The result of :func:`~churnsurv.nonparametric.cohorts.cohort_retention`, or its ``table`` (columns
        ``cohort, time, estimate``, and ``ci_lower, ci_upper`` with ``ci=True``; ``below_min_at_risk`` or
        ``n_at_risk`` for the dashed stretches).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; by default a new figure.
    ci : bool, default False
        Draw the pointwise confidence bands (crowded with many cohorts).
    cmap : str or matplotlib.colors.Colormap, default "viridis"
        Ordered colour map: the first cohort takes its dark end, the last its light end (yellow is left out).
    colors : mapping, optional
        ``{cohort label: colour}`` overriding the colour map.
    labels : mapping, optional
        ``{cohort label: legend text}``.
    low_risk : {"dashed", "hide", "show"}, default "dashed"
        How to draw the stretches where fewer than ``min_at_risk`` customers are at risk (``below_min_at_risk``).
    time_unit : str, optional
        Tenure unit for the axis label; default the table's (``attrs["time_unit"]``) or the result's.
    title : str or None, default "Retention by sign-up cohort"
    ylim : (low, high) or None, default (0, 1.02)
    ci_alpha : float, default 0.15
    legend : bool, default True
    legend_loc : str, default "outside"
        ``"outside"`` puts the legend right of the axes (never over the curves); any matplotlib location
        (e.g. ``"best"``) inside.
    **step_kw
        Passed to ``Axes.step`` (``linewidth``...; not ``color`` or ``label``).

    Returns
    -------
    matplotlib.axes.Axes

    See Also
    --------
    churnsurv.plot_survival : the same curves for any segment, in the segment palette.
    plot_calendar_churn : the churn rate over calendar time.

    Notes
    -----
    Each cohort's curve stops at its last observed tenure: recent cohorts have short curves, and the plot does not
    extrapolate them. Dashed stretches rest on fewer than ``min_at_risk`` customers.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from churnsurv.nonparametric.cohorts import cohort_retention
    >>> from churnsurv.plotting.cohorts import plot_cohort_retention
    >>> df = pd.DataFrame({"signup": ["2023-01-10", "2023-02-01", "2023-04-05", "2023-05-20"],
    ...                    "cancel": ["2023-04-10", None, "2023-06-05", None]})
    >>> res = cohort_retention(df, start="signup", end="cancel", as_of="2023-12-31")
    >>> ax = plot_cohort_retention(res)
    >>> [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    ['2023Q1', '2023Q2']
    """
    owner = "plot_cohort_retention"
    frame, est = _table(result, "table", owner)
    _require(frame, ["cohort", "time", "estimate"], "cohort retention table")
    cohort_labels = [label for label, _ in _groups(frame, ["cohort"])[0]]
    if isinstance(frame["cohort"].dtype, pd.CategoricalDtype):
        present = set(cohort_labels)
        cohort_labels = [str(c) for c in frame["cohort"].cat.categories if str(c) in present]
    palette = {**_ordered_colors(cohort_labels, cmap, owner), **check_color_mapping(colors, owner)}
    if time_unit is None and est is not None and "time_unit" not in frame.attrs:
        time_unit = getattr(est, "time_unit", None)
    ax, *_ = _step_curves(
        frame, ["cohort"], attr="table", owner=owner, what="cohort retention table",
        ylabel="Retention (share still a customer)", ci=ci, censor_marks=False, ax=ax, colors=palette,
        labels=labels, time_unit=time_unit, title=title, ylim=ylim, ci_alpha=ci_alpha, legend=legend,
        legend_loc=legend_loc, step_kw=step_kw, low_risk=low_risk,
    )  # fmt: skip
    if ax.get_legend() is not None:
        ax.get_legend().set_title("Sign-up cohort")
    return ax


def plot_calendar_churn(
    result,
    ax: Axes | None = None,
    *,
    by_tenure: bool | None = None,
    overall: bool = True,
    ci: bool = True,
    scale: float = 1.0,
    min_exposure: float | None = None,
    cmap="viridis",
    color: str = "black",
    labels: Mapping | None = None,
    time_unit: str | None = None,
    title: str | None = "Churn rate over calendar time",
    legend: bool = True,
    legend_loc: str = "outside",
    **line_kw,
) -> Axes:
    """Plot the churn rate per calendar period with its exact Poisson interval, optionally per tenure band.

    Parameters
    ----------
    result : CalendarChurn or pandas.DataFrame
        The result of :func:`~churnsurv.nonparametric.cohorts.calendar_churn`, or one of its tables (``table``,
        or ``by_tenure`` with its ``tenure_band`` column): columns ``period_start, period_end, estimate``, and
        ``ci_lower, ci_upper`` with ``ci=True``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; by default a new figure.
    by_tenure : bool, optional
        Draw one line per tenure band (needs a result computed with ``by_tenure``, or a table with
        ``tenure_band``). Default: True when the bands are available.
    overall : bool, default True
        Draw the overall rate (in ``color``), when a result with both tables is given.
    ci : bool, default True
        Interval bars (``ci_lower`` to ``ci_upper``).
    scale : float, default 1.0
        Multiply the rates, e.g. 100 for defections per 100 customer-months.
    min_exposure : float, optional
        Leave out the periods of a line with less exposure (customer-time) than this. By default, those with less
        than 5% of the line's largest exposure: the first weeks of a book or of a tenure band, whose intervals are
        too wide to read and would squash the axis. 0 draws every period.
    cmap : str or matplotlib.colors.Colormap, default "viridis"
        Ordered colour map of the tenure bands (short tenure dark, long tenure light).
    color : str, default "black"
        Colour of the overall rate.
    labels : mapping, optional
        ``{tenure band: legend text}``.
    time_unit : str, optional
        Unit of the rate for the axis label; default the table's.
    title : str or None, default "Churn rate over calendar time"
    legend : bool, default True
    legend_loc : str, default "outside"
        ``"outside"`` puts the legend right of the axes; any matplotlib location inside.
    **line_kw
        Passed to ``Axes.plot`` (``linewidth``, ``marker``...; not ``color`` or ``label``).

    Returns
    -------
    matplotlib.axes.Axes

    See Also
    --------
    plot_cohort_retention : retention by sign-up cohort.

    Notes
    -----
    Each rate is drawn at the middle of its period (the last period, cut short by ``as_of``, at the middle of the
    part observed, with a hollow marker); periods with little exposure are left out (``min_exposure``). Tenure
    bands are drawn slightly apart in time so that their interval bars do not hide one another. A falling overall
    rate with flat band rates is a change in the tenure mix (the book growing older), not a calendar trend.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from churnsurv.nonparametric.cohorts import calendar_churn
    >>> from churnsurv.plotting.cohorts import plot_calendar_churn
    >>> df = pd.DataFrame({"signup": ["2024-01-01", "2024-01-01", "2024-02-15"],
    ...                    "cancel": ["2024-02-01", None, "2024-03-16"]})
    >>> ax = plot_calendar_churn(calendar_churn(df, start="signup", end="cancel", as_of="2024-03-31"))
    >>> ax.get_ylabel()
    'Churn rate (defections per customer-month)'
    """
    import matplotlib.colors as mcolors
    import matplotlib.dates as mdates

    owner = "plot_calendar_churn"
    overall_frame, banded, est = _calendar_tables(result, owner)
    ci = _check_bool(ci, "ci", owner)
    overall = _check_bool(overall, "overall", owner)
    legend = _check_bool(legend, "legend", owner)
    if by_tenure is None:
        by_tenure = banded is not None
    by_tenure = _check_bool(by_tenure, "by_tenure", owner)
    if by_tenure and banded is None:
        raise ValueError(f"{owner}: by_tenure=True needs tenure bands; compute the result with "
                         "calendar_churn(..., by_tenure=[0, 12, 24, np.inf]) or pass its by_tenure table.")
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.integer, np.floating)) or not scale > 0:
        raise param_error("scale", owner, "a positive number", scale)
    if min_exposure is not None and (isinstance(min_exposure, bool)
                                     or not isinstance(min_exposure, (int, float, np.integer, np.floating))
                                     or not min_exposure >= 0):
        raise param_error("min_exposure", owner, "a non-negative number or None", min_exposure)
    if not mcolors.is_color_like(color):
        raise param_error("color", owner, "a matplotlib colour", color)
    bad = [k for k in line_kw if k in ("color", "c", "label")]
    if bad:
        raise TypeError(f"{owner} sets {', '.join(map(repr, bad))} itself: use color= (overall), cmap= (bands) "
                        "and labels=.")
    labels = _check_labels(labels, owner, what="tenure band")
    ref = overall_frame if overall_frame is not None else banded
    unit = _unit(time_unit, est, ref, owner)
    ax = _axes(ax, owner)
    n_lines = 0
    if by_tenure:
        bands = [str(b) for b in (banded["tenure_band"].cat.categories
                                  if isinstance(banded["tenure_band"].dtype, pd.CategoricalDtype)
                                  else pd.unique(banded["tenure_band"]))]
        bands = [b for b in bands if (banded["tenure_band"].astype(str) == b).any()]
        palette = _ordered_colors(bands, cmap, owner)
        width = _period_days(banded)
        offsets = (np.arange(len(bands)) - (len(bands) - 1) / 2) * min(0.12 * width, 8.0)
        for band, off in zip(bands, offsets, strict=True):
            rows = banded[banded["tenure_band"].astype(str) == band]
            name = labels.get(band, band)
            _rate_line(ax, rows, palette[band], f"Tenure {name}" if band not in labels else name, ci, scale, off,
                       line_kw, min_exposure, alpha=0.9)
            n_lines += 1
    if overall and overall_frame is not None:
        _rate_line(ax, overall_frame, color, "All customers", ci, scale, 0.0, {"linewidth": 2.0, **line_kw},
                   min_exposure)
        n_lines += 1
    per = f"{'' if scale == 1 else f'{scale:g} '}customer-{unit}{'s' if scale != 1 else ''}"
    ax.set_ylabel(f"Churn rate (defections per {per})")
    period = ref.attrs.get("period") or getattr(est, "period", None)
    ax.set_xlabel(f"Calendar {period}" if isinstance(period, str) else "Calendar time")
    ax.set_ylim(bottom=0)
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    _finish(ax, legend=legend and n_lines > 1, legend_loc=legend_loc, legend_title=None, title=title,
            n_curves=n_lines)
    return ax


def _calendar_tables(result, owner: str):
    """``(overall table or None, banded table or None, result or None)``."""
    if isinstance(result, pd.DataFrame):
        _require(result, ["period_start", "period_end", "estimate"], "calendar churn table")
        if "tenure_band" in result.columns:
            return None, result, None
        return result, None, None
    table, est = _table(result, "table", owner)
    _require(table, ["period_start", "period_end", "estimate"], "calendar churn table")
    banded = getattr(result, "by_tenure", None)
    if banded is not None:
        _require(banded, ["tenure_band", "period_start", "period_end", "estimate"], "calendar churn table")
    return table, banded, est


def _period_days(frame: pd.DataFrame) -> float:
    span = (pd.to_datetime(frame["period_end"]) - pd.to_datetime(frame["period_start"])).dt.days.to_numpy(float)
    return float(np.median(span) + 1) if len(span) else 30.0


def _rate_line(ax, rows, colour, name, ci, scale, offset_days, line_kw, min_exposure, alpha=1.0):
    if "exposure" in rows.columns:
        exposure = rows["exposure"].to_numpy(float)
        floor = 0.05 * np.nanmax(exposure, initial=0.0) if min_exposure is None else float(min_exposure)
        rows = rows[exposure >= floor] if floor > 0 else rows
    start = pd.to_datetime(rows["period_start"]).to_numpy()
    stop = pd.to_datetime(rows["period_end"]).to_numpy() + np.timedelta64(1, "D")
    mid = start + (stop - start) / 2 + np.timedelta64(int(round(offset_days * 24)), "h")
    y = rows["estimate"].to_numpy(float) * scale
    kw = {"marker": "o", "markersize": 4, **line_kw}
    ax.plot(mid, y, color=colour, label=name, alpha=alpha, **kw)
    partial = rows["partial"].to_numpy(bool) if "partial" in rows.columns else np.zeros(len(rows), bool)
    if partial.any():  # the period cut short by as_of: hollow marker
        ax.plot(mid[partial], y[partial], linestyle="none", marker=kw["marker"], markersize=kw["markersize"] + 2,
                markerfacecolor="white", markeredgecolor=colour, label=f"_partial: {name}")
    if ci:
        _require(rows, ["ci_lower", "ci_upper"], "calendar churn table", "Pass ci=False to draw the rates alone.")
        lo = rows["ci_lower"].to_numpy(float) * scale
        hi = rows["ci_upper"].to_numpy(float) * scale
        ok = np.isfinite(y) & np.isfinite(lo) & np.isfinite(hi)
        ax.errorbar(mid[ok], y[ok], yerr=np.vstack([y[ok] - lo[ok], hi[ok] - y[ok]]), fmt="none", ecolor=colour,
                    elinewidth=0.9, capsize=2, alpha=0.6 * alpha, label=f"_ci: {name}")
