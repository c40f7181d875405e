"""Step-curve plots of :mod:`churnsurv.plotting`: survival, cumulative hazard, log-log, and the numbers at risk.

:func:`plot_survival`, :func:`plot_cumulative_hazard` and :func:`plot_loglog` share one step-curve drawer;
:func:`add_at_risk_table` writes the KMunicate-style table of numbers at risk below the axes. Import them from
:mod:`churnsurv.plotting`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from churnsurv.plotting.palette import check_color_mapping
from churnsurv.plotting._common import (
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
    _require,
    _resolve_by,
    _segment_palette,
    _set_time_ticks,
    _table,
    _time_label,
    _unit,
)
from churnsurv._validation import check_one_of, param_error

if TYPE_CHECKING:  # matplotlib loads on the first plot, not on `import churnsurv`
    from matplotlib.axes import Axes


# --------------------------------------------------------------------------- #
# Step curves: survival, cumulative hazard, log-log
# --------------------------------------------------------------------------- #
LOW_RISK_STYLES = ("dashed", "hide", "show")
#: Result columns of the estimators that are not segments (flags of issue 9, the bins of DiscreteHazard).
HONEST_COLUMNS = ("zero_events", "below_min_at_risk", "time_start", "exposure", "prob", "tau", "reference",
                  "measure", "rate", "n_candidates")


def _check_min_at_risk(min_at_risk, owner: str):
    if min_at_risk is None:
        return None
    if isinstance(min_at_risk, bool) or not isinstance(min_at_risk, (int, float, np.integer, np.floating)):
        raise param_error("min_at_risk", owner, "a non-negative number or None", min_at_risk, type_error=True)
    if not (np.isfinite(min_at_risk) and min_at_risk >= 0):
        raise param_error("min_at_risk", owner, "a non-negative number or None", min_at_risk)
    return float(min_at_risk)


def _low_risk_mask(rows: pd.DataFrame, min_at_risk: float | None, owner: str) -> np.ndarray | None:
    """Rows where few customers are at risk: ``n_at_risk < min_at_risk`` when ``min_at_risk`` is given, else
    the table's ``below_min_at_risk`` column (None when neither is available)."""
    if min_at_risk is not None:
        if "n_at_risk" not in rows.columns:
            raise ValueError(f"{owner}: min_at_risk needs an 'n_at_risk' column in the table. Columns: "
                             f"{list(rows.columns)}.")
        return (rows["n_at_risk"].to_numpy(float) < min_at_risk) if min_at_risk > 0 else None
    if "below_min_at_risk" in rows.columns:
        return rows["below_min_at_risk"].to_numpy(bool)
    return None


def _step_curves(
    result, by, *, attr, owner, what, ylabel, ci, censor_marks, ax, colors, labels, time_unit, title,
    ylim, ci_alpha, legend, legend_loc, step_kw, transform=None, log_time=False, low_risk="dashed",
    min_at_risk=None,
):  # fmt: skip
    check_one_of(low_risk, "low_risk", owner, LOW_RISK_STYLES)
    min_at_risk = _check_min_at_risk(min_at_risk, owner)
    frame, est = _table(result, attr, owner)
    _require(frame, ["time", "estimate"], what)
    ci = _check_bool(ci, "ci", owner)
    censor_marks = _check_bool(censor_marks, "censor_marks", owner)
    _ci_columns(frame, ci, what)
    if censor_marks:
        _require(frame, ["n_censored"], what, "Pass censor_marks=False to draw the curves without them.")
    by = _resolve_by(frame, by, est, owner, HONEST_COLUMNS)
    unit = _unit(time_unit, est, frame, owner)
    colors = check_color_mapping(colors, owner)
    labels = _check_labels(labels, owner)
    ylim = _check_limits(ylim, "ylim", owner)
    ci_alpha = _check_alpha(ci_alpha, "ci_alpha", owner)
    step_kw = _check_step_kw(step_kw, owner)
    ax = _axes(ax, owner)

    groups, all_labels = _groups(frame, by)
    palette = _segment_palette(all_labels, colors)
    t_max = -np.inf
    n_curves = 0
    for label, rows in groups:
        t = rows["time"].to_numpy(float)
        y = rows["estimate"].to_numpy(float)
        keep = np.isfinite(t) & np.isfinite(y)
        lo = rows["ci_lower"].to_numpy(float) if ci else None
        hi = rows["ci_upper"].to_numpy(float) if ci else None
        if transform is not None:
            y, lo, hi, keep = transform(t, y, lo, hi, keep)
        if not keep.any():
            continue
        colour = palette[label]
        name = labels.get(label, label)
        low = _low_risk_mask(rows, min_at_risk, owner) if low_risk != "show" else None
        if low is None or not low[keep].any():
            ax.step(t[keep], y[keep], where="post", color=colour, label=name, **step_kw)
            good = keep
        else:
            good = keep & ~low
            # solid where enough customers are at risk; the step into the first thin row stays solid up to it
            ax.step(t[keep], np.where(good, y, np.nan)[keep], where="post", color=colour, label=name, **step_kw)
            if low_risk == "dashed":
                into_low = low | np.r_[low[1:], False]
                thin_kw = {**step_kw, "linestyle": "--", "alpha": 0.55}
                ax.step(t[keep], np.where(into_low, y, np.nan)[keep], where="post", color=colour,
                        label=f"_below_min_at_risk: {name}", **thin_kw)  # fmt: skip
            else:
                keep = good
        if ci:
            ax.fill_between(
                t[keep], lo[keep], hi[keep], step="post", color=colour, alpha=ci_alpha, linewidth=0,
                label=f"_ci: {name}", where=good[keep],
            )  # fmt: skip
        if censor_marks:
            cens = keep & (rows["n_censored"].to_numpy(float) > 0)
            ax.plot(
                t[cens], y[cens], linestyle="none", marker="|", markersize=7, markeredgewidth=1.1,
                color=colour, label=f"_censored: {name}",
            )  # fmt: skip
        if keep.any():
            t_max = max(t_max, float(np.nanmax(t[keep])))
        n_curves += 1

    if log_time:
        ax.set_xscale("log")
        ax.set_xlabel(_time_label(unit, ", log scale"))
    else:
        if n_curves and np.nanmin(frame["time"].to_numpy(float)) >= 0:
            ax.set_xlim(left=0)
        _set_time_ticks(ax, unit, t_max)
        ax.set_xlabel(_time_label(unit))
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    _finish(
        ax, legend=legend and bool(by), legend_loc=legend_loc, legend_title=SEGMENT_SEP.join(by), title=title,
        n_curves=n_curves,
    )  # fmt: skip
    return ax, frame, by, colors, labels


def plot_survival(
    result,
    by=None,
    *,
    ci: bool = True,
    censor_marks: bool = True,
    at_risk: bool = False,
    at_risk_times=None,
    ax: Axes | None = None,
    colors: Mapping | None = None,
    labels: Mapping | None = None,
    time_unit: str | None = None,
    title: str | None = None,
    ylim=(0, 1.02),
    ci_alpha: float = 0.2,
    legend: bool = True,
    legend_loc: str = "best",
    low_risk: str = "dashed",
    min_at_risk: float | None = None,
    **step_kw,
) -> Axes:
    """Plot Kaplan-Meier retention curves, one step function per segment.

    Parameters
    ----------
    result : DataFrame or fitted estimator
        The tidy survival table ``[*by, time, n_at_risk, n_events, n_censored, estimate,
        std_error, ci_lower, ci_upper]`` (one row per segment and time, time 0 included),
        or an object exposing it as ``survival_`` (e.g. a fitted ``KaplanMeier``).
    by : str or list of str, optional
        Segment column(s). By default the columns outside the result vocabulary; several
        columns are joined into one label with ``" / "``.
    ci : bool, default True
        Draw the pointwise confidence band (``ci_lower`` to ``ci_upper``).
    censor_marks : bool, default True
        Mark with ``|`` the times at which customers were censored (``n_censored > 0``),
        on the curve.
    at_risk : bool, default False
        Add the numbers-at-risk table under the x-axis (:func:`add_at_risk_table`).
    at_risk_times : sequence of float, optional
        Times of the table columns (they become the x ticks). Default: the x ticks.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when None.
    colors : mapping, optional
        ``{segment label: colour}``; other segments get :func:`segment_colors`.
    labels : mapping, optional
        ``{segment label: legend text}``.
    time_unit : str, optional
        Unit of ``time`` (``"month"``, ``"day"``...); default: the estimator's
        ``time_unit``, else ``"month"``. Sets the x label, e.g. "Tenure (months)".
    title : str, optional
        Axes title.
    ylim : (float, float) or None, default (0, 1.02)
        y limits; None keeps matplotlib's.
    ci_alpha : float, default 0.2
        Opacity of the confidence bands.
    legend : bool, default True
        Add a legend (only drawn when there are segments).
    legend_loc : str, default "best"
        A matplotlib legend location, or ``"outside"`` (right of the axes). Retention
        curves start at 1, so the lower left corner is usually free.
    low_risk : {"dashed", "hide", "show"}, default "dashed"
        How to draw the part of a curve where few customers are at risk (the rows flagged
        ``below_min_at_risk`` by the estimator's ``min_at_risk``, or ``n_at_risk < min_at_risk``
        when ``min_at_risk`` is given here): ``"dashed"`` draws it as a light dashed line
        without confidence band, ``"hide"`` cuts the curve there, ``"show"`` draws it as the rest.
    min_at_risk : float, optional
        Override the table's ``below_min_at_risk`` flag with ``n_at_risk < min_at_risk``
        (0 disables the cut).
    **step_kw
        Passed to :meth:`matplotlib.axes.Axes.step` (e.g. ``linewidth``); colours and
        labels go through ``colors`` and ``labels``.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    See Also
    --------
    add_at_risk_table : The numbers-at-risk table alone.
    plot_cumulative_hazard : The Nelson-Aalen counterpart.
    plot_loglog : A proportional-hazards check on the same table.

    Notes
    -----
    Survival curves are right-continuous step functions, drawn with ``where="post"``:
    the value at a time includes the defections at that time.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.plotting import plot_survival
    >>> km = pd.DataFrame({
    ...     "Contract": ["Monthly"] * 3 + ["Yearly"] * 3,
    ...     "time": [0.0, 1.0, 2.0] * 2,
    ...     "n_at_risk": [10.0, 10.0, 6.0, 8.0, 8.0, 7.0],
    ...     "n_events": [0.0, 3.0, 2.0, 0.0, 1.0, 0.0],
    ...     "n_censored": [0.0, 1.0, 4.0, 0.0, 0.0, 7.0],
    ...     "estimate": [1.0, 0.7, 0.467, 1.0, 0.875, 0.875],
    ...     "ci_lower": [1.0, 0.4, 0.2, 1.0, 0.6, 0.6],
    ...     "ci_upper": [1.0, 0.9, 0.8, 1.0, 1.0, 1.0],
    ... })
    >>> ax = plot_survival(km, by="Contract", at_risk=True)
    >>> ax.get_xlabel()
    'Tenure (months)'
    """
    at_risk = _check_bool(at_risk, "at_risk", "plot_survival")
    ax, frame, by, colors, labels = _step_curves(
        result, by, attr="survival_", owner="plot_survival", what="survival table",
        ylabel="Share of customers retained", ci=ci, censor_marks=censor_marks, ax=ax, colors=colors,
        labels=labels, time_unit=time_unit, title=title, ylim=ylim, ci_alpha=ci_alpha, legend=legend,
        legend_loc=legend_loc, step_kw=step_kw, low_risk=low_risk, min_at_risk=min_at_risk,
    )  # fmt: skip
    if at_risk:
        add_at_risk_table(ax, frame, times=at_risk_times, by=by, colors=colors, labels=labels)
    return ax


def plot_cumulative_hazard(
    result,
    by=None,
    *,
    ci: bool = True,
    censor_marks: bool = False,
    ax: Axes | None = None,
    colors: Mapping | None = None,
    labels: Mapping | None = None,
    time_unit: str | None = None,
    title: str | None = None,
    ylim=None,
    ci_alpha: float = 0.2,
    legend: bool = True,
    legend_loc: str = "upper left",
    low_risk: str = "dashed",
    min_at_risk: float | None = None,
    **step_kw,
) -> Axes:
    """Plot Nelson-Aalen cumulative hazards, one step function per segment.

    Parameters
    ----------
    result : DataFrame or fitted estimator
        The tidy cumulative hazard table (same columns as the survival table), or an
        object exposing it as ``cumulative_hazard_`` (e.g. a fitted ``NelsonAalen``).
    by : str or list of str, optional
        Segment column(s); inferred by default.
    ci : bool, default True
        Draw the pointwise confidence band.
    censor_marks : bool, default False
        Mark censoring times on the curves.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when None.
    colors, labels : mapping, optional
        ``{segment label: colour}`` and ``{segment label: legend text}``.
    time_unit : str, optional
        Unit of ``time``; default: the estimator's, else ``"month"``.
    title : str, optional
        Axes title.
    ylim : (float, float), optional
        y limits.
    ci_alpha : float, default 0.2
        Opacity of the confidence bands.
    legend : bool, default True
        Add a legend (when there are segments).
    legend_loc : str, default "upper left"
        Legend location, or ``"outside"``.
    low_risk : {"dashed", "hide", "show"}, default "dashed"
        How to draw the rows with few customers at risk, as in :func:`plot_survival`.
    min_at_risk : float, optional
        Override the table's ``below_min_at_risk`` flag with ``n_at_risk < min_at_risk``.
    **step_kw
        Passed to :meth:`matplotlib.axes.Axes.step`.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    See Also
    --------
    plot_survival, plot_hazard

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.plotting import plot_cumulative_hazard
    >>> na = pd.DataFrame({"time": [0.0, 1.0, 2.0], "n_censored": [0.0, 1.0, 2.0],
    ...                    "estimate": [0.0, 0.3, 0.63], "ci_lower": [0.0, 0.1, 0.3],
    ...                    "ci_upper": [0.0, 0.6, 1.1]})
    >>> ax = plot_cumulative_hazard(na, time_unit="day")
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('Tenure (days)', 'Cumulative hazard')
    """
    ax, *_ = _step_curves(
        result, by, attr="cumulative_hazard_", owner="plot_cumulative_hazard", what="cumulative hazard table",
        ylabel="Cumulative hazard", ci=ci, censor_marks=censor_marks, ax=ax, colors=colors, labels=labels,
        time_unit=time_unit, title=title, ylim=ylim, ci_alpha=ci_alpha, legend=legend, legend_loc=legend_loc,
        step_kw=step_kw, low_risk=low_risk, min_at_risk=min_at_risk,
    )  # fmt: skip
    if ylim is None:
        ax.set_ylim(bottom=0)
    return ax


def _loglog_transform(t, y, lo, hi, keep):
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = keep & (t > 0) & (y > 0) & (y < 1)
        out = np.full_like(y, np.nan)
        out[keep] = np.log(-np.log(y[keep]))
    return out, None, None, keep


def plot_loglog(
    result,
    by=None,
    *,
    ax: Axes | None = None,
    colors: Mapping | None = None,
    labels: Mapping | None = None,
    time_unit: str | None = None,
    title: str | None = None,
    legend: bool = True,
    legend_loc: str = "upper left",
    **step_kw,
) -> Axes:
    """Plot log(-log S(t)) against log t, a check of proportional hazards between segments.

    Under proportional hazards the curves are parallel, a vertical distance of
    log(hazard ratio) apart; crossing or converging curves point to hazards that
    are not proportional (e.g. a contract that protects early but not late).

    Parameters
    ----------
    result : DataFrame or fitted estimator
        The survival table, or an object exposing ``survival_``. Times 0 and estimates
        of exactly 0 or 1 are skipped (the transform is infinite there).
    by : str or list of str, optional
        Segment column(s); inferred by default.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when None.
    colors, labels : mapping, optional
        ``{segment label: colour}`` and ``{segment label: legend text}``.
    time_unit : str, optional
        Unit of ``time``; default: the estimator's, else ``"month"``.
    title : str, optional
        Axes title.
    legend : bool, default True
        Add a legend (when there are segments).
    legend_loc : str, default "upper left"
        Legend location, or ``"outside"``.
    **step_kw
        Passed to :meth:`matplotlib.axes.Axes.step`.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on. The x-axis is logarithmic and labelled in tenure units.

    See Also
    --------
    plot_survival

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.plotting import plot_loglog
    >>> km = pd.DataFrame({"g": ["a"] * 3 + ["b"] * 3, "time": [0.0, 1.0, 2.0] * 2,
    ...                    "estimate": [1.0, 0.8, 0.6, 1.0, 0.9, 0.8]})
    >>> ax = plot_loglog(km)
    >>> len(ax.get_lines())
    2
    """
    ax, *_ = _step_curves(
        result, by, attr="survival_", owner="plot_loglog", what="survival table", ylabel="log(−log S(t))",
        ci=False, censor_marks=False, ax=ax, colors=colors, labels=labels, time_unit=time_unit, title=title,
        ylim=None, ci_alpha=0.2, legend=legend, legend_loc=legend_loc, step_kw=step_kw,
        transform=_loglog_transform, log_time=True,
    )  # fmt: skip
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    return ax


# --------------------------------------------------------------------------- #
# Numbers at risk
# --------------------------------------------------------------------------- #
_AT_RISK_ROWS = {"at_risk": "at risk", "censored": "censored", "events": "events"}


def _fmt_count(value: float) -> str:
    if not np.isfinite(value):
        return "–"
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,d}"
    return f"{value:,.1f}"


def _counts_at(rows: pd.DataFrame, times: np.ndarray, kind: str) -> np.ndarray:
    t = rows["time"].to_numpy(float)
    if kind == "at_risk":
        n = rows["n_at_risk"].to_numpy(float)
        ok = np.isfinite(t) & np.isfinite(n)
        t, n = t[ok], n[ok]
        idx = np.searchsorted(t, times, side="left")  # first tabulated time >= tick
        return np.where(idx < len(t), n[np.minimum(idx, len(t) - 1)], 0.0) if len(t) else np.zeros(len(times))
    col = "n_censored" if kind == "censored" else "n_events"
    n = np.nan_to_num(rows[col].to_numpy(float))
    return np.array([n[t < tau].sum() for tau in times])


def add_at_risk_table(
    ax: Axes,
    table,
    times=None,
    *,
    by=None,
    rows: Sequence[str] = ("at_risk",),
    colors: Mapping | None = None,
    labels: Mapping | None = None,
    fontsize: float | None = None,
    title: str | None = None,
) -> Axes:
    """Add a numbers-at-risk table under the x-axis of a survival plot.

    One row per segment (per segment and count when ``rows`` asks for several counts),
    with the segment label in the segment's colour on the left and one column per
    time, at the same x positions as the curves, below the x-axis label. This follows
    the KMunicate recommendations [1]_ (as lifelines' ``add_at_risk_counts``).

    Parameters
    ----------
    ax : matplotlib Axes
        The axes of the survival plot.
    table : DataFrame or object
        A table with ``[*by, time, n_at_risk]`` (``n_censored`` / ``n_events`` for those
        rows), e.g. ``km.survival_`` or a life table, or an object exposing it as
        ``survival_`` or ``table``.
    times : sequence of float, optional
        Times of the columns; they become the x ticks so that ticks and counts stay
        aligned. Default: the current major x ticks inside the x limits.
    by : str or list of str, optional
        Segment column(s); inferred by default.
    rows : sequence of {"at_risk", "censored", "events"}, default ("at_risk",)
        Counts shown per segment: the number at risk, and the cumulative numbers censored
        and of defections strictly before each time (the KMunicate table shows all three).
    colors, labels : mapping, optional
        ``{segment label: colour}`` and ``{segment label: row label}``; colours default
        to :func:`segment_colors`, as in the curves.
    fontsize : float, optional
        Font size of the table; default: the x tick label size.
    title : str, optional
        Header line; default "Number at risk" (or "Number of customers" when ``rows`` asks
        for several counts; each segment then heads its own block of rows).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, with the table as annotations (in ``ax.texts``).

    Notes
    -----
    The number at risk at a time :math:`\\tau` is the number of customers in the risk
    set at :math:`\\tau` (entry :math:`< \\tau \\le` exit, the convention of the life
    table): those who have neither defected nor been censored before :math:`\\tau`.
    It is read from the table as ``n_at_risk`` at the first tabulated time
    :math:`\\ge \\tau`, which is exact because the table has a row at every exit and
    late entry; after the last tabulated time it is 0. Weighted counts are shown to
    one decimal when not whole.

    The table hangs below the x-axis label and moves with it. It lies outside the
    axes: use a constrained layout (the churnsurv style, and figures created by the
    plot functions, do) or ``bbox_inches="tight"`` so that it is not cut off.

    References
    ----------
    .. [1] Morris, T. P., Jarvis, C. I., Cragg, W., Phillips, P. P. J., Choodari-Oskooei, B.
       and Sydes, M. R. (2019). Proposals on Kaplan-Meier plots in medical research and a
       survey of stakeholder views: KMunicate. BMJ Open 9:e030215.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.plotting import add_at_risk_table, plot_survival
    >>> km = pd.DataFrame({"time": [0.0, 1.0, 2.0], "n_at_risk": [10.0, 10.0, 6.0],
    ...                    "n_censored": [0.0, 1.0, 4.0], "estimate": [1.0, 0.7, 0.47],
    ...                    "ci_lower": [1.0, 0.4, 0.2], "ci_upper": [1.0, 0.9, 0.8]})
    >>> ax = plot_survival(km)
    >>> ax = add_at_risk_table(ax, km, times=[0, 1, 2])
    >>> [t.get_text() for t in ax.texts][-3:]
    ['10', '10', '6']
    """
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes
    from matplotlib.font_manager import FontProperties

    owner = "add_at_risk_table"
    if not isinstance(ax, Axes):
        raise TypeError(f"The 'ax' parameter of {owner} must be a matplotlib Axes. Got {type(ax).__name__}.")
    frame, est = _table(table, "survival_", owner, param="table", fallbacks=("table",))
    if isinstance(rows, str) or not isinstance(rows, Sequence) or not rows:
        raise param_error("rows", owner, f"a non-empty sequence of {sorted(_AT_RISK_ROWS)}", rows)
    for kind in rows:
        check_one_of(kind, "rows", owner, _AT_RISK_ROWS)
    needed = {"at_risk": "n_at_risk", "censored": "n_censored", "events": "n_events"}
    _require(frame, ["time", *(needed[k] for k in rows)], "at-risk table")
    by = _resolve_by(frame, by, est, owner, HONEST_COLUMNS)
    colors = check_color_mapping(colors, owner)
    labels = _check_labels(labels, owner)

    if times is None:
        lo, hi = sorted(ax.get_xlim())
        eps = 1e-9 * max(1.0, hi - lo)
        times = [t for t in ax.get_xticks() if lo - eps <= t <= hi + eps]
    times = np.asarray(times, dtype=float).ravel() if not np.isscalar(times) else np.array([float(times)])
    if times.size == 0 or not np.all(np.isfinite(times)):
        raise param_error("times", owner, "a non-empty sequence of finite times", times)
    ax.set_xticks(times)

    if fontsize is None:
        fontsize = FontProperties(size=plt.rcParams["xtick.labelsize"]).get_size_in_points()
    line = 1.4 * fontsize
    if title is None:
        title = "Number at risk" if tuple(rows) == ("at_risk",) else "Number of customers"

    groups, all_labels = _groups(frame, by)
    palette = _segment_palette(all_labels, colors)
    counts = {
        (label, kind): _counts_at(seg, times, kind)
        for label, seg in groups
        for kind in rows
    }  # fmt: skip
    widest = max((len(_fmt_count(v)) for c in counts.values() for v in c), default=1)
    label_x = -(0.3 * widest * fontsize + 1.2 * fontsize)  # clear of the numbers at the left edge
    anchor = ax.xaxis.label  # the table hangs below the x label and follows it
    common = {"textcoords": "offset points", "annotation_clip": False, "fontsize": fontsize, "va": "top"}

    ax.annotate(
        title, xy=(0, 0), xycoords=("axes fraction", anchor), xytext=(label_x, -0.5 * line), ha="right",
        fontweight="bold", color="0.15", **common,
    )  # fmt: skip
    row = 1
    for label, _ in groups:
        name = labels.get(label, label)
        colour = "0.15" if not by else palette[label]
        if len(rows) > 1:  # KMunicate layout: the segment as a header over its counts
            ax.annotate(name, xy=(0, 0), xycoords=("axes fraction", anchor), xytext=(label_x, -(0.5 + row) * line),
                        ha="right", color=colour, fontweight="bold", **common)  # fmt: skip
            row += 1
        for kind in rows:
            text = name if len(rows) == 1 else _AT_RISK_ROWS[kind].capitalize()
            y = -(0.5 + row) * line
            ax.annotate(text, xy=(0, 0), xycoords=("axes fraction", anchor), xytext=(label_x, y), ha="right",
                        color=colour, **common)  # fmt: skip
            for tau, value in zip(times, counts[(label, kind)], strict=False):
                ax.annotate(_fmt_count(value), xy=(tau, 0), xycoords=("data", anchor), xytext=(0, y),
                            ha="center", color="0.15", **common)  # fmt: skip
            row += 1
    return ax
