"""The hazard plot of :mod:`churnsurv.plotting`: smoothed and per-period hazards with their bandwidths.

Import :func:`plot_hazard` from :mod:`churnsurv.plotting`.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from churnsurv.plotting.palette import cause_colors, check_color_mapping
from churnsurv.plotting._common import (
    _UNITS,
    SEGMENT_SEP,
    _axes,
    _check_alpha,
    _check_bool,
    _check_labels,
    _check_limits,
    _check_step_kw,
    _ci_columns,
    _finish,
    _groups,
    _hazard_label,
    _require,
    _resolve_by,
    _segment_palette,
    _set_time_ticks,
    _table,
    _time_label,
    _unit,
    _unit_abbrev,
)
from churnsurv._validation import check_one_of, param_error
from churnsurv.plotting.survival import HONEST_COLUMNS
from churnsurv.data.causes import DEFAULT_TAXONOMY

if TYPE_CHECKING:  # matplotlib loads on the first plot, not on `import churnsurv`
    from matplotlib.axes import Axes


# --------------------------------------------------------------------------- #
# Hazard
# --------------------------------------------------------------------------- #
def _bandwidths(frame, estimator, bandwidth, by, owner) -> dict[str, float]:
    source = bandwidth
    if source is None and frame is not None and "bandwidth" in frame.columns:
        source = frame
    if source is None and estimator is not None:
        source = getattr(estimator, "bandwidth_", None)
    if source is None:
        return {}
    if isinstance(source, numbers.Real) and not isinstance(source, bool):
        return {"*": float(source)}
    if isinstance(source, Mapping):
        return {str(k): float(v) for k, v in source.items()}
    if isinstance(source, pd.DataFrame):
        _require(source, ["bandwidth", *by], "bandwidth table")
        groups, _ = _groups(source.assign(time=0.0) if "time" not in source else source, by)
        return {label: float(rows["bandwidth"].iloc[0]) for label, rows in groups}
    raise param_error(
        "bandwidth", owner, "None, a number, a mapping {segment label: bandwidth} or a DataFrame "
        "[*by, bandwidth]", source, type_error=True,
    )  # fmt: skip


def _low_mask(rows: pd.DataFrame, min_at_risk, low_risk: str) -> np.ndarray:
    """Rows with few customers at risk (all False with ``low_risk="show"`` or when the table cannot tell)."""
    if low_risk == "show":
        return np.zeros(len(rows), dtype=bool)
    if min_at_risk is not None:
        if "n_at_risk" not in rows.columns:
            raise ValueError(f"plot_hazard: min_at_risk needs an 'n_at_risk' column in the table. Columns: "
                             f"{list(rows.columns)}.")
        return rows["n_at_risk"].to_numpy(float) < float(min_at_risk)
    if "below_min_at_risk" in rows.columns:
        return rows["below_min_at_risk"].to_numpy(bool)
    if "reliable" in rows.columns:  # a smoothed hazard table
        return ~rows["reliable"].to_numpy(bool)
    return np.zeros(len(rows), dtype=bool)


def _break_pieces(rows: pd.DataFrame, t: np.ndarray, *columns: np.ndarray):
    """Insert a NaN between the pieces of a smoothed hazard fitted with change points, so no line crosses them."""
    if "piece" not in rows.columns or len(rows) == 0:
        return (t, *columns)
    piece = rows["piece"].to_numpy()
    cut = np.flatnonzero(piece[1:] != piece[:-1]) + 1
    if len(cut) == 0:
        return (t, *columns)
    t_out = np.insert(t.astype(float), cut, np.nan)
    return (t_out, *(np.insert(np.asarray(c, dtype=float), cut, np.nan) for c in columns))


def _fmt_bandwidth(value: float) -> str:
    return f"{value:.1f}" if abs(value) >= 1 else f"{value:.2g}"


def plot_hazard(
    smoothed=None,
    raw=None,
    by=None,
    *,
    ci: bool = True,
    show_bandwidth: bool = True,
    bandwidth=None,
    raw_ci: bool = False,
    cause: str | None = None,
    ax: Axes | None = None,
    colors: Mapping | None = None,
    labels: Mapping | None = None,
    time_unit: str | None = None,
    title: str | None = None,
    ylim=None,
    ci_alpha: float = 0.2,
    legend: bool = True,
    legend_loc: str = "best",
    low_risk: str = "dashed",
    min_at_risk: float | None = None,
    **line_kw,
) -> Axes:
    """Plot smoothed churn hazards with their bands over the raw per-period hazards.

    Parameters
    ----------
    smoothed : DataFrame or fitted estimator, optional
        The smoothed hazard table ``[*by, (cause,) time, estimate, std_error, ci_lower,
        ci_upper]`` on a grid, possibly with a ``bandwidth`` column, or an object exposing
        it as ``hazard_`` (and its bandwidths as ``bandwidth_``), e.g. a fitted
        ``SmoothedHazard``. Drawn as lines.
    raw : DataFrame or fitted estimator, optional
        The per-period hazard table ``[*by, time, n_at_risk, n_events, estimate, ci_lower,
        ci_upper]``, or an object exposing it as ``hazard_`` (e.g. a fitted
        ``DiscreteHazard``). Drawn as points. At least one of ``smoothed`` and ``raw`` is
        needed.
    by : str or list of str, optional
        Segment column(s); inferred by default.
    ci : bool, default True
        Draw the confidence band of the smoothed hazard.
    show_bandwidth : bool, default True
        Put each segment's bandwidth in its legend label, e.g.
        ``"Month-to-Month (bw = 6.0 mo)"``.
    bandwidth : float, mapping or DataFrame, optional
        Bandwidths, when not in a ``bandwidth`` column of ``smoothed`` nor on the
        estimator: one number, ``{segment label: bandwidth}`` or a table
        ``[*by, bandwidth]``.
    raw_ci : bool, default False
        Draw error bars (``ci_lower`` to ``ci_upper``) on the raw points.
    cause : str, optional
        For a cause-specific smoothed table, the cause to draw. Without segments all
        causes are drawn (in their cause colours); with segments one must be chosen.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when None.
    colors, labels : mapping, optional
        ``{segment label: colour}`` and ``{segment label: legend text}`` (keyed by cause
        when causes are drawn).
    time_unit : str, optional
        Unit of ``time``; default: the estimator's, else ``"month"``. Sets the axis
        labels ("Monthly churn hazard") and the bandwidth unit.
    title : str, optional
        Axes title.
    ylim : (float, float), optional
        y limits; the default runs from 0 to 15% above the largest estimate, so that confidence bands that
        explode where few customers are at risk do not flatten the curves (they are clipped).
    ci_alpha : float, default 0.2
        Opacity of the confidence bands.
    legend : bool, default True
        Add a legend.
    legend_loc : str, default "best"
        Legend location, or ``"outside"``.
    low_risk : {"dashed", "hide", "show"}, default "dashed"
        How to draw the estimates where few customers are at risk: rows flagged
        ``below_min_at_risk`` (by the estimator's ``min_at_risk``), or with ``n_at_risk <
        min_at_risk`` when ``min_at_risk`` is given here. ``"dashed"`` draws raw points
        hollow and light (and a smoothed curve dashed, without band), ``"hide"`` leaves them
        out, ``"show"`` draws them as the rest.
    min_at_risk : float, optional
        Override the tables' ``below_min_at_risk`` flag with ``n_at_risk < min_at_risk``.
    **line_kw
        Passed to :meth:`matplotlib.axes.Axes.plot` for the smoothed lines.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    See Also
    --------
    plot_cumulative_hazard

    Notes
    -----
    The raw hazard of period ``t`` (events in ``(t - 1, t]`` over the number at risk) is
    drawn at ``t``. Both hazards are per ``time_unit``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from churnsurv.plotting import plot_hazard
    >>> grid = np.linspace(0, 12, 25)
    >>> smooth = pd.DataFrame({"Contract": "Monthly", "time": grid, "estimate": 0.05 + 0 * grid,
    ...                        "ci_lower": 0.03 + 0 * grid, "ci_upper": 0.07 + 0 * grid,
    ...                        "bandwidth": 6.0})
    >>> ax = plot_hazard(smooth)
    >>> ax.get_legend().get_texts()[0].get_text()
    'Monthly (bw = 6.0 mo)'
    """
    owner = "plot_hazard"
    check_one_of(low_risk, "low_risk", owner, ("dashed", "hide", "show"))
    if min_at_risk is not None and (isinstance(min_at_risk, bool) or not isinstance(min_at_risk, numbers.Real)):
        raise param_error("min_at_risk", owner, "a non-negative number or None", min_at_risk, type_error=True)
    if min_at_risk is not None and not (np.isfinite(min_at_risk) and min_at_risk >= 0):
        raise param_error("min_at_risk", owner, "a non-negative number or None", min_at_risk)
    if smoothed is None and raw is None:
        raise ValueError("plot_hazard needs a smoothed hazard table, a raw (per-period) hazard table, or both.")
    s_frame, s_est = _table(smoothed, "hazard_", owner, "smoothed") if smoothed is not None else (None, None)
    r_frame, r_est = _table(raw, "hazard_", owner, "raw") if raw is not None else (None, None)
    ci = _check_bool(ci, "ci", owner)
    show_bandwidth = _check_bool(show_bandwidth, "show_bandwidth", owner)
    raw_ci = _check_bool(raw_ci, "raw_ci", owner)
    colors = check_color_mapping(colors, owner)
    labels = _check_labels(labels, owner)
    ylim = _check_limits(ylim, "ylim", owner)
    ci_alpha = _check_alpha(ci_alpha, "ci_alpha", owner)
    line_kw = _check_step_kw(line_kw, owner)
    if s_frame is not None:
        _require(s_frame, ["time", "estimate"], "smoothed hazard table")
        _ci_columns(s_frame, ci, "smoothed hazard table")
    if r_frame is not None:
        _require(r_frame, ["time", "estimate"], "raw hazard table")
        _ci_columns(r_frame, raw_ci, "raw hazard table")

    # Segments: the same columns in both tables.
    by_s = _resolve_by(s_frame, by, s_est, owner, HONEST_COLUMNS) if s_frame is not None else None
    by_r = _resolve_by(r_frame, by, r_est, owner, HONEST_COLUMNS) if r_frame is not None else None
    if by_s is not None and by_r is not None and sorted(by_s) != sorted(by_r):
        raise ValueError(
            f"The smoothed and raw hazard tables have different segment columns ({by_s} and {by_r}). "
            "Pass by= to name the segment columns."
        )
    by = by_s if by_s is not None else by_r
    unit = _unit(time_unit, s_est if s_est is not None else r_est, s_frame if s_frame is not None else r_frame,
                 owner)  # fmt: skip

    # Causes of a cause-specific smoothed table.
    by_cause = False
    if s_frame is not None and "cause" in s_frame.columns:
        present = [str(c) for c in pd.unique(s_frame["cause"].dropna())]
        if cause is not None:
            if str(cause) not in present:
                raise ValueError(f"The smoothed hazard table has no cause {cause!r}. Causes: {present}.")
            s_frame = s_frame[s_frame["cause"].astype(str) == str(cause)]
        elif len(present) > 1:
            if by:
                raise ValueError(
                    f"The smoothed hazard table holds {len(present)} causes ({', '.join(present)}) for several "
                    "segments. Pass cause= to draw one cause for every segment."
                )
            by_cause = True

    ax = _axes(ax, owner)
    s_groups, s_all = _groups(s_frame, ["cause"] if by_cause else by) if s_frame is not None else ([], [])
    r_groups, r_all = _groups(r_frame, by) if r_frame is not None else ([], [])
    if by_cause:
        palette = {**cause_colors([lab for lab in s_all if lab not in colors]), **colors}
        names = {lab: labels.get(lab, DEFAULT_TAXONOMY.get(lab, (lab,))[0]) for lab in s_all}
    else:
        palette = _segment_palette(list(dict.fromkeys([*s_all, *r_all])), colors)
        names = {lab: labels.get(lab, lab) for lab in palette}
    bws = _bandwidths(s_frame, s_est, bandwidth, by, owner) if (show_bandwidth and s_frame is not None) else {}
    abbr = _unit_abbrev(unit)

    t_max = -np.inf
    for label, rows in s_groups:
        t = rows["time"].to_numpy(float)
        y = rows["estimate"].to_numpy(float)
        colour = palette[label]
        name = names[label]
        bw = bws.get(label, bws.get("*"))
        if bw is not None and np.isfinite(bw):
            name = f"{name} (bw = {_fmt_bandwidth(bw)} {abbr})"
        low = _low_mask(rows, min_at_risk, low_risk)
        good = ~low
        edge = low | np.r_[low[1:], False] | np.r_[False, low[:-1]]
        lo = rows["ci_lower"].to_numpy(float) if ci else np.full(len(t), np.nan)
        hi = rows["ci_upper"].to_numpy(float) if ci else np.full(len(t), np.nan)
        t, y_good, y_edge, lo, hi, good_f = _break_pieces(rows, t, np.where(good, y, np.nan), np.where(edge, y, np.nan),
                                                          lo, hi, good.astype(float))
        ax.plot(t, y_good, color=colour, label=name, **line_kw)
        if low.any() and low_risk == "dashed":
            ax.plot(t, y_edge, color=colour, label=f"_below_min_at_risk: {name}",
                    **{**line_kw, "linestyle": "--", "alpha": 0.55})  # fmt: skip
        if ci:
            # no band where it was dropped (NaN limits: it explodes) or where few are at risk
            band = (good_f == 1) & np.isfinite(lo) & np.isfinite(hi)
            ax.fill_between(t, lo, hi, color=colour, alpha=ci_alpha, linewidth=0, label=f"_ci: {name}",
                            where=band, interpolate=False)  # fmt: skip
        t_max = max(t_max, float(np.nanmax(t)) if len(t) else -np.inf)

    raw_colour = {lab: palette.get(lab, "0.35") for lab, _ in r_groups} if not by_cause else {}
    # A smoothed hazard of whole periods (discrete reading) puts period k's value at k - period/2: draw the
    # per-period estimates there too, so that a point and the curve it belongs to line up.
    period = None
    if s_frame is not None:
        period = getattr(s_est, "period_", None) if s_est is not None else None
        period = s_frame.attrs.get("period", period)
    shift = 0.5 * float(period) if period else 0.0
    for label, rows in r_groups:
        t = rows["time"].to_numpy(float) - shift
        y = rows["estimate"].to_numpy(float)
        colour = raw_colour.get(label, "0.35")
        name = names.get(label, label)
        legend_name = f"_raw: {name}" if s_frame is not None else name
        low = _low_mask(rows, min_at_risk, low_risk)
        if s_frame is not None and "n_at_risk" in rows.columns:
            # points over a smoothed curve: their area grows with the customers at risk, so a rate resting on a
            # few customers catches the eye less than one resting on thousands
            n = rows["n_at_risk"].to_numpy(float)
            size = 4.0 + 40.0 * np.sqrt(np.clip(n, 0, None) / max(np.nanmax(n), 1.0))
            ax.scatter(t[~low], y[~low], s=size[~low], alpha=0.6, color=colour, edgecolors="none",
                       label=legend_name, zorder=1.9)  # fmt: skip
        else:
            ax.plot(t, np.where(low, np.nan, y), linestyle="none" if s_frame is not None else "-", linewidth=0.8,
                    marker="o", markersize=3.5, alpha=0.75 if s_frame is not None else 1.0, color=colour,
                    label=legend_name, zorder=1.9)  # fmt: skip
        if low.any() and low_risk == "dashed":
            ax.plot(t[low], y[low], linestyle="none", marker="o", markersize=3.5, markerfacecolor="none",
                    alpha=0.4, color=colour, label=f"_raw_below_min_at_risk: {name}", zorder=1.8)  # fmt: skip
        if low_risk == "hide":
            t, y, rows = t[~low], y[~low], rows[~low]
        if raw_ci:
            y_lo = np.clip(y - rows["ci_lower"].to_numpy(float), 0, None)
            y_hi = np.clip(rows["ci_upper"].to_numpy(float) - y, 0, None)
            ax.errorbar(t, y, yerr=np.vstack([np.nan_to_num(y_lo), np.nan_to_num(y_hi)]), fmt="none",
                        ecolor=colour, elinewidth=0.8, alpha=0.5, label=f"_raw_ci: {name}")  # fmt: skip
        t_max = max(t_max, float(np.nanmax(t)) if len(t) else -np.inf)

    ax.set_xlim(left=0)
    _set_time_ticks(ax, unit, t_max)
    if ylim is None:
        # fit the estimates, not confidence bands that explode where few customers are at risk
        tops = [float(np.nanmax(f["estimate"])) for f in (s_frame, r_frame) if f is not None and len(f)]
        top = max(tops) if tops else 0.0
        ax.set_ylim(0, top * 1.15 if top > 0 else None)
    else:
        ax.set_ylim(*ylim)
    ax.set_xlabel(_time_label(unit))
    ax.set_ylabel(_hazard_label(unit))
    handles = None
    if s_frame is not None and r_frame is not None:
        from matplotlib.lines import Line2D

        handles, _ = ax.get_legend_handles_labels()
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=3.5, color="0.35",
                              label=f"Per-{_UNITS[unit][0][:-1] if unit in _UNITS else unit} estimate "
                                    "(area: customers at risk)"))  # fmt: skip
    show_legend = legend and (bool(by) or by_cause or (show_bandwidth and bool(bws)) or handles is not None)
    legend_title = "Cause" if by_cause else SEGMENT_SEP.join(by)
    _finish(ax, legend=show_legend, legend_loc=legend_loc, legend_title=legend_title, title=title,
            n_curves=len(s_groups) + len(r_groups), handles=handles)  # fmt: skip
    return ax
