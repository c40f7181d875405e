"""Figures of retention economics: value by segment, value against a hazard cut, the tornado, value at risk by
cause, the whale curve and the leaky bucket.

Every function takes the result (or its tidy table) first, ``ax=None``, returns the ``Axes`` and never shows or
saves; segments keep their colours (:func:`~churnsurv.plotting.segment_colors`), causes theirs
(:func:`~churnsurv.plotting.cause_colors`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from churnsurv._validation import param_error
from churnsurv.plotting._common import (
    ALL_LABEL,
    SEGMENT_SEP,
    _axes,
    _check_bool,
    _check_labels,
    _finish,
    _fmt_value,
    _plural,
    _require,
    _segment_palette,
    _set_time_ticks,
    _unit,
)
from churnsurv.plotting.palette import cause_colors, check_color_mapping

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_leaky_bucket", "plot_tornado", "plot_value", "plot_value_at_risk", "plot_value_by_reduction",
           "plot_whale_curve"]

#: Columns of the value layer's result tables that are never segments.
VALUE_COLUMNS = frozenset({
    "n_customers", "n_current", "margin", "estimate", "data_value", "tail_value", "tail_share", "last_time",
    "survival_at_last", "tail_retention", "tail_events", "tail_exposure", "std_error", "ci_lower", "ci_upper",
    "mean_value", "tail", "tail_periods", "range_lower", "range_upper", "cause", "rank", "share", "incidence",
    "value_per_defector", "break_even_spend", "break_even_ci_lower", "break_even_ci_upper", "reduction", "value",
    "value_gain", "equity", "equity_gain", "expected_tenure", "parameter", "low_setting", "high_setting", "low",
    "high", "base", "swing", "period", "time", "current", "new", "revenue", "profit", "base_ci_lower",
    "base_ci_upper", "revenue_ci_lower", "revenue_ci_upper", "profit_ci_lower", "profit_ci_upper", "inflow",
    "expected_periods", "churn", "id", "tenure", "weight", "targeted", "quantity", "scenario",
})


def _segments_of(frame: pd.DataFrame, by) -> list[str]:
    if by is None:
        return [c for c in frame.columns if c not in VALUE_COLUMNS]
    by = [by] if isinstance(by, str) else list(by)
    _require(frame, by, "value table")
    return by


def _labels_of(frame: pd.DataFrame, by: list[str]) -> tuple[list[str], list[str]]:
    """Each row's segment label, and every label in display order (the categories of a categorical column)."""
    if not by:
        return [ALL_LABEL] * len(frame), [ALL_LABEL]
    rows = [SEGMENT_SEP.join(_fmt_value(v) for v in key) for key in frame[by].itertuples(index=False)]
    if len(by) == 1 and isinstance(frame[by[0]].dtype, pd.CategoricalDtype):
        levels = [_fmt_value(c) for c in frame[by[0]].cat.categories]
    else:
        levels = list(dict.fromkeys(rows))
    return rows, levels


def _pick_segment(frame: pd.DataFrame, by: list[str], segment, owner: str) -> pd.DataFrame:
    if not by:
        return frame
    rows, levels = _labels_of(frame, by)
    if segment is None:
        if len(set(rows)) > 1:
            raise param_error("segment", owner, f"one of {sorted(set(rows))} (the table has several segments)",
                              segment)
        return frame
    mask = np.array([r == str(segment) for r in rows])
    if not mask.any():
        raise param_error("segment", owner, f"one of {sorted(set(rows))}", segment)
    return frame[mask]


def plot_value(table, *, by=None, ax: Axes | None = None, ci: bool = True, colors=None, labels=None,
               xlabel: str = "Lifetime value per customer", title: str | None = None) -> Axes:
    """Value by segment with its interval: one horizontal dot and whisker per segment.

    Parameters
    ----------
    table : DataFrame
        A table of the value layer with one row per segment and ``estimate`` (and ``ci_lower``, ``ci_upper``):
        :func:`~churnsurv.value.lifetime_value`, :func:`~churnsurv.value.customer_equity`.
    by : str or list of str, optional
        Segment columns (default: the columns outside the value vocabulary).
    ax : matplotlib Axes, optional
    ci : bool, default True
        Draw the interval (needs ``ci_lower`` and ``ci_upper``).
    colors, labels : mapping, optional
        ``{segment label: colour}`` and ``{segment label: display label}``.
    xlabel : str
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.plotting.value import plot_value
    >>> t = pd.DataFrame({"plan": ["basic", "pro"], "estimate": [120.0, 340.0], "ci_lower": [100.0, 300.0],
    ...                   "ci_upper": [140.0, 390.0]})
    >>> ax = plot_value(t)
    >>> [x.get_text() for x in ax.get_yticklabels()]
    ['basic', 'pro']
    """
    owner = "plot_value"
    frame = table if isinstance(table, pd.DataFrame) else None
    if frame is None:
        raise param_error("table", owner, "a DataFrame (e.g. the table of lifetime_value)", type(table).__name__,
                          type_error=True)
    _require(frame, ["estimate"], "value table")
    ci = _check_bool(ci, "ci", owner)
    if ci:
        _require(frame, ["ci_lower", "ci_upper"], "value table", "Pass ci=False, or compute it with n_boot > 0.")
    by = _segments_of(frame, by)
    rows, levels = _labels_of(frame, by)
    palette = _segment_palette(levels, check_color_mapping(colors, owner))
    names = _check_labels(labels, owner)
    ax = _axes(ax, owner)
    y = np.arange(len(frame))[::-1]
    for yi, label, (_, row) in zip(y, rows, frame.iterrows(), strict=True):
        c = palette.get(label, "#000000")
        if ci and np.isfinite(row["ci_lower"]):
            ax.plot([row["ci_lower"], row["ci_upper"]], [yi, yi], color=c, lw=2.0, solid_capstyle="butt")
        ax.plot([row["estimate"]], [yi], "o", color=c, ms=7)
    ax.set_yticks(y, [names.get(r, r) for r in rows])
    ax.set_xlabel(xlabel)
    ax.set_xlim(left=min(0.0, float(np.nanmin(frame["ci_lower"] if ci else frame["estimate"]))))
    _finish(ax, legend=False, legend_loc="best", legend_title=None, title=title, n_curves=0)
    return ax


def plot_value_by_reduction(grid, *, segment=None, quantity: str = "value", ax: Axes | None = None, colors=None,
                            title: str | None = None, legend: bool = True, legend_loc: str = "outside") -> Axes:
    """Value against the size of a hazard cut: one line per cause (and one for all causes).

    Parameters
    ----------
    grid : DataFrame
        The table of :func:`~churnsurv.value.scenario_grid`.
    segment : str, optional
        The segment drawn (required when the table has several).
    quantity : {"value", "value_gain", "equity", "equity_gain", "expected_tenure"}, default "value"
    ax, colors, title, legend, legend_loc
        As the other plots; ``colors`` maps causes to colours.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.plotting.value import plot_value_by_reduction
    >>> g = pd.DataFrame({"cause": ["price"] * 2 + ["all causes"] * 2, "reduction": [0.0, 1.0] * 2,
    ...                   "value": [100.0, 130.0, 100.0, 200.0]})
    >>> len(plot_value_by_reduction(g).lines)
    2
    """
    owner = "plot_value_by_reduction"
    if not isinstance(grid, pd.DataFrame):
        raise param_error("grid", owner, "the DataFrame of scenario_grid", type(grid).__name__, type_error=True)
    if quantity not in ("value", "value_gain", "equity", "equity_gain", "expected_tenure"):
        raise param_error("quantity", owner, "one of 'value', 'value_gain', 'equity', 'equity_gain', "
                          "'expected_tenure'", quantity)
    _require(grid, ["cause", "reduction", quantity], "scenario grid")
    by = _segments_of(grid, None)
    frame = _pick_segment(grid, by, segment, owner)
    causes = [c for c in dict.fromkeys(frame["cause"].astype(str)) if c != "all causes"]
    palette = {**cause_colors(causes, check_color_mapping(colors, owner, what="cause")), "all causes": "#000000"}
    ax = _axes(ax, owner)
    for cause, rows in frame.groupby(frame["cause"].astype(str), sort=False):
        rows = rows.sort_values("reduction")
        ax.plot(100 * rows["reduction"], rows[quantity], marker="o", ms=3, color=palette.get(cause),
                ls="--" if cause == "all causes" else "-", label=cause)
    ax.set_xlabel("Cut in the hazard (%)")
    ax.set_ylabel(quantity.replace("_", " ").capitalize())
    _finish(ax, legend=legend, legend_loc=legend_loc, legend_title="Cause cut", title=title,
            n_curves=frame["cause"].nunique())
    return ax


def plot_tornado(table, *, segment=None, ax: Axes | None = None, title: str | None = None,
                 colors=("#0072B2", "#D55E00")) -> Axes:
    """The tornado of sensitivities: the value at the low and high setting of each input, widest on top.

    Parameters
    ----------
    table : DataFrame
        The table of :func:`~churnsurv.value.value_sensitivity`.
    segment : str, optional
        The segment drawn (required when the table has several).
    ax, title
    colors : (colour, colour)
        Bars of the low and high settings.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.plotting.value import plot_tornado
    >>> t = pd.DataFrame({"parameter": ["margin", "tail"], "low_setting": ["x0.9", "stop"],
    ...                   "high_setting": ["x1.1", "6"], "low": [90.0, 70.0], "high": [110.0, 101.0],
    ...                   "base": [100.0, 100.0], "swing": [20.0, 31.0]})
    >>> [x.get_text() for x in plot_tornado(t).get_yticklabels()]
    ['margin', 'tail']
    """
    owner = "plot_tornado"
    if not isinstance(table, pd.DataFrame):
        raise param_error("table", owner, "the DataFrame of value_sensitivity", type(table).__name__,
                          type_error=True)
    _require(table, ["parameter", "low", "high", "base"], "sensitivity table")
    by = _segments_of(table, None)
    frame = _pick_segment(table, by, segment, owner)
    frame = frame.assign(_swing=(frame["high"] - frame["low"]).abs()).sort_values("_swing", kind="stable")
    base = float(frame["base"].iloc[0])
    ax = _axes(ax, owner)
    y = np.arange(len(frame))
    for yi, (_, row) in zip(y, frame.iterrows(), strict=True):
        for val, col, setting in ((row["low"], colors[0], row.get("low_setting", "")),
                                  (row["high"], colors[1], row.get("high_setting", ""))):
            ax.barh(yi, val - base, left=base, color=col, height=0.6)
            ax.annotate(str(setting), (val, yi), xytext=(3 if val >= base else -3, 0), textcoords="offset points",
                        ha="left" if val >= base else "right", va="center", fontsize="small")
    ax.axvline(base, color="#000000", lw=1)
    ax.margins(x=0.25)  # room for the settings written at the bars' ends
    ax.set_yticks(y, list(frame["parameter"]))
    ax.set_xlabel("Lifetime value per customer")
    _finish(ax, legend=False, legend_loc="best", legend_title=None, title=title, n_curves=0)
    return ax


def plot_value_at_risk(table, *, ax: Axes | None = None, ci: bool = True, colors=None, title: str | None = None,
                       xlabel: str = "Value at risk per new customer") -> Axes:
    """Value at risk by cause: one horizontal bar per (segment, cause), causes ranked within each segment.

    Parameters
    ----------
    table : DataFrame
        The table of :func:`~churnsurv.value.value_at_risk`.
    ax, title, xlabel
    ci : bool, default True
        Draw the bootstrap interval when the table has one.
    colors : mapping, optional
        ``{cause: colour}``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.plotting.value import plot_value_at_risk
    >>> t = pd.DataFrame({"cause": ["price", "service"], "estimate": [30.0, 10.0]})
    >>> len(plot_value_at_risk(t).patches)
    2
    """
    owner = "plot_value_at_risk"
    if not isinstance(table, pd.DataFrame):
        raise param_error("table", owner, "the DataFrame of value_at_risk", type(table).__name__, type_error=True)
    _require(table, ["cause", "estimate"], "value-at-risk table")
    ci = _check_bool(ci, "ci", owner) and {"ci_lower", "ci_upper"} <= set(table.columns)
    by = _segments_of(table, None)
    rows, levels = _labels_of(table, by)
    causes = list(dict.fromkeys(table["cause"].astype(str)))
    palette = cause_colors(causes, check_color_mapping(colors, owner, what="cause"))
    ax = _axes(ax, owner)
    ticks, names, y = [], [], 0.0
    frame = table.assign(_label=rows)
    order = [lev for lev in levels if lev in set(rows)]
    for label in order:
        block = frame[frame["_label"] == label].sort_values("estimate", ascending=False, kind="stable")
        for _, row in block.iterrows():
            c = str(row["cause"])
            ax.barh(-y, row["estimate"], color=palette[c], height=0.7)
            if ci and np.isfinite(row["ci_lower"]):
                ax.plot([row["ci_lower"], row["ci_upper"]], [-y, -y], color="#000000", lw=1)
            ticks.append(-y)
            names.append(c if not by else f"{label}: {c}")
            y += 1
        y += 0.6
    ax.set_yticks(ticks, names)
    ax.set_xlabel(xlabel)
    _finish(ax, legend=False, legend_loc="best", legend_title=None, title=title, n_curves=0)
    return ax


def plot_whale_curve(result, *, ax: Axes | None = None, color: str = "#0072B2", title: str | None = None) -> Axes:
    """The whale curve: cumulative profit (share of the total) against customers ranked by profit.

    Parameters
    ----------
    result : WhaleCurve or DataFrame
        The result of :func:`~churnsurv.value.whale_curve` (or its ``curve`` table).
    ax, color, title

    Returns
    -------
    matplotlib.axes.Axes
        With the curve, a dotted line at 100% of the profit, and the peak and the 80% point marked.

    Examples
    --------
    >>> from churnsurv.value import whale_curve
    >>> from churnsurv.plotting.value import plot_whale_curve
    >>> ax = plot_whale_curve(whale_curve([50.0, 30.0, 20.0, -10.0, -40.0], margin=1))
    >>> round(float(max(ax.lines[0].get_ydata())), 2)
    2.0
    """
    from matplotlib.ticker import PercentFormatter

    owner = "plot_whale_curve"
    curve = result if isinstance(result, pd.DataFrame) else getattr(result, "curve", None)
    if not isinstance(curve, pd.DataFrame):
        raise param_error("result", owner, "a WhaleCurve or its curve table", type(result).__name__,
                          type_error=True)
    _require(curve, ["customer_share", "cumulative_profit_share"], "whale curve table")
    x, y = curve["customer_share"].to_numpy(float), curve["cumulative_profit_share"].to_numpy(float)
    ax = _axes(ax, owner)
    ax.plot(x, y, color=color, lw=2, label="Cumulative profit")
    ax.axhline(1.0, color="#8C8C8C", ls=":", lw=1)
    i = int(np.nanargmax(y))
    ax.plot([x[i]], [y[i]], "o", color="#D55E00", label=f"Peak: {y[i]:.0%} of profit from {x[i]:.0%} of customers")
    j = int(np.searchsorted(y[: i + 1], 0.8 - 1e-12))
    if j <= i:
        ax.plot([x[j]], [y[j]], "s", color="#009E73", label=f"80% of profit from {x[j]:.0%} of customers")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("Customers ranked by profit (most profitable first)")
    ax.set_ylabel("Cumulative share of total profit")
    _finish(ax, legend=True, legend_loc="lower right", legend_title=None, title=title, n_curves=2)
    return ax


def plot_leaky_bucket(result, *, quantity: str = "base", ax: Axes | None = None, ci: bool = True, steady: bool = True,
                      colors=None, time_unit: str | None = None, title: str | None = None, legend: bool = True,
                      legend_loc: str = "outside") -> Axes:
    """The leaky-bucket projection: base, revenue or profit per period, a line per segment.

    Parameters
    ----------
    result : LeakyBucket or DataFrame
        The result of :func:`~churnsurv.value.leaky_bucket` (or its ``projection``).
    quantity : {"base", "revenue", "profit"}, default "base"
    ci : bool, default True
        Shade the bootstrap interval when there is one.
    steady : bool, default True
        Dashed line at each segment's steady state (a LeakyBucket only).
    ax, colors, time_unit, title, legend, legend_loc
        As the other plots.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.value import leaky_bucket
    >>> from churnsurv.plotting.value import plot_leaky_bucket
    >>> curve = pd.DataFrame({"time": [0, 1, 2], "estimate": [1.0, 0.9, 0.81]})
    >>> lb = leaky_bucket(curve, inflow=10, margin=5, tail="geometric", retention=0.9, periods=24)
    >>> ax = plot_leaky_bucket(lb)
    >>> round(float(ax.lines[1].get_ydata()[0]), 6)  # the steady state, inflow / churn
    100.0
    """
    owner = "plot_leaky_bucket"
    proj = result if isinstance(result, pd.DataFrame) else getattr(result, "projection", None)
    if not isinstance(proj, pd.DataFrame):
        raise param_error("result", owner, "a LeakyBucket or its projection table", type(result).__name__,
                          type_error=True)
    if quantity not in ("base", "revenue", "profit"):
        raise param_error("quantity", owner, "one of 'base', 'revenue', 'profit'", quantity)
    _require(proj, ["period", "time", quantity], "leaky-bucket projection")
    ci, steady = _check_bool(ci, "ci", owner), _check_bool(steady, "steady", owner)
    by = _segments_of(proj, None)
    rows, levels = _labels_of(proj, by)
    palette = _segment_palette(levels, check_color_mapping(colors, owner))
    unit = _unit(time_unit, None, proj, owner)
    st = getattr(result, "steady_state", None) if steady else None
    st_rows = _labels_of(st, by)[0] if st is not None else []
    ax = _axes(ax, owner)
    frame = proj.assign(_label=rows)
    for label in [lev for lev in levels if lev in set(rows)]:
        block = frame[frame["_label"] == label]
        c = palette[label]
        ax.plot(block["time"], block[quantity], color=c, label=label)
        lo, hi = f"{quantity}_ci_lower", f"{quantity}_ci_upper"
        if ci and lo in block and block[lo].notna().any():
            ax.fill_between(block["time"], block[lo], block[hi], color=c, alpha=0.2, lw=0)
        if st is not None and label in st_rows:
            srow = st.iloc[st_rows.index(label)]
            val = srow["base"] if quantity == "base" else srow[quantity]
            if np.isfinite(val):
                ax.plot([block["time"].min(), block["time"].max()], [val, val], color=c, ls="--", lw=1)
    ax.set_xlabel(f"Periods from now ({_plural(unit)})")
    ax.set_ylabel({"base": "Customers", "revenue": "Revenue per period", "profit": "Profit per period"}[quantity])
    _set_time_ticks(ax, unit, float(proj["time"].max()))
    _finish(ax, legend=legend, legend_loc=legend_loc, legend_title=", ".join(by) or None, title=title,
            n_curves=len(set(rows)))
    return ax
