"""Competing-risk and regression plots of :mod:`churnsurv.plotting`: cumulative incidence and forest plots.

:func:`plot_cumulative_incidence` (stacked or as lines, with the survival curve on top),
:func:`plot_cumulative_incidence_grid` (one panel per segment), :func:`plot_cause_reduction` (the gain of reducing a
cause, its bootstrap interval and Peterson's bounds) and :func:`plot_forest` (hazard ratios with their intervals).
Import them from :mod:`churnsurv.plotting` (``plot_cause_reduction`` from this module until it is re-exported).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from churnsurv.plotting.palette import OKABE_ITO, cause_colors, check_color_mapping
from churnsurv.plotting._common import (
    SEGMENT_SEP,
    _axes,
    _check_alpha,
    _check_bool,
    _check_labels,
    _check_limits,
    _ci_columns,
    _finish,
    _fmt_value,
    _groups,
    _plural,
    _require,
    _resolve_by,
    _segment_palette,
    _set_time_ticks,
    _table,
    _time_label,
    _unit,
)
from churnsurv._validation import check_one_of, param_error
from churnsurv.data.causes import DEFAULT_TAXONOMY

if TYPE_CHECKING:  # matplotlib loads on the first plot, not on `import churnsurv`
    from matplotlib.axes import Axes

_FOREST_MARKERS = ("o", "s", "D", "^", "v", "P", "X")


# --------------------------------------------------------------------------- #
# Cumulative incidence of causes
# --------------------------------------------------------------------------- #
def _cause_order(frame: pd.DataFrame, causes) -> list[str]:
    present = [str(c) for c in pd.unique(frame["cause"].dropna())]
    if causes is not None:
        if isinstance(causes, str) or not isinstance(causes, Sequence):
            raise param_error("causes", "plot_cumulative_incidence", "None or a list of cause keys", causes,
                              type_error=True)  # fmt: skip
        missing = [c for c in causes if str(c) not in present]
        if missing:
            raise ValueError(
                f"The cumulative incidence table has no cause {', '.join(repr(c) for c in missing)}. "
                f"Causes in the table: {', '.join(present)}."
            )
        return [str(c) for c in causes]
    if isinstance(frame["cause"].dtype, pd.CategoricalDtype):
        return [str(c) for c in frame["cause"].cat.categories if str(c) in present]
    taxonomy = [c for c in DEFAULT_TAXONOMY if c in present]
    return taxonomy + [c for c in present if c not in DEFAULT_TAXONOMY]


def _step_values(rows: pd.DataFrame, grid: np.ndarray, column: str = "estimate") -> np.ndarray:
    """Right-continuous step function of ``rows`` evaluated on ``grid`` (0 before its first time)."""
    rows = rows[np.isfinite(rows[column].to_numpy(float))]
    t = rows["time"].to_numpy(float)
    v = rows[column].to_numpy(float)
    idx = np.searchsorted(t, grid, side="right") - 1
    return np.where(idx >= 0, v[np.clip(idx, 0, None)], 0.0) if len(t) else np.zeros(len(grid))


def _pick_segment(groups, segment, by, owner):
    available = [lab for lab, _ in groups]
    if segment is None:
        return groups
    key = SEGMENT_SEP.join(_fmt_value(v) for v in segment) if isinstance(segment, tuple) else _fmt_value(segment)
    chosen = [(lab, rows) for lab, rows in groups if lab == key]
    if not chosen:
        raise ValueError(
            f"The 'segment' parameter of {owner} is {segment!r}, which is not a segment of the table "
            f"(segment columns {by}). Segments: {', '.join(repr(a) for a in available)}."
        )
    return chosen


_EXTRA_VOCAB = ("below_min_at_risk", "scenario", "quantity")


def _flag_below(frame: pd.DataFrame, min_at_risk, est, owner: str):
    """The table with its ``below_min_at_risk`` flags (recomputed when ``min_at_risk`` is given) and the threshold."""
    if min_at_risk is not None:
        if isinstance(min_at_risk, bool) or not isinstance(min_at_risk, numbers.Real) or min_at_risk < 0:
            raise param_error("min_at_risk", owner, "None or a non-negative number", min_at_risk)
        _require(frame, ["n_at_risk"], "cumulative incidence table", "Pass min_at_risk=None.")
        flags = frame["n_at_risk"].to_numpy(float) < float(min_at_risk)
        return frame.assign(below_min_at_risk=flags), float(min_at_risk)
    threshold = getattr(est, "min_at_risk", None) if est is not None else None
    threshold = float(threshold) if isinstance(threshold, numbers.Real) and not isinstance(threshold, bool) else None
    return frame, threshold


def _tail_start(rows: pd.DataFrame) -> float | None:
    """Time of the first row of the final run of rows flagged ``below_min_at_risk`` (None without a tail)."""
    if "below_min_at_risk" not in rows.columns or len(rows) == 0:
        return None
    flags = rows.groupby("time", sort=True)["below_min_at_risk"].any()
    if not flags.iloc[-1]:
        return None
    ok = np.flatnonzero(~flags.to_numpy())
    return float(flags.index[ok[-1] + 1] if len(ok) else flags.index[0])


def _split(rows: pd.DataFrame, cut: float | None):
    """``(head, tail)`` of a step curve at ``cut``: the head holds its last value up to ``cut``."""
    if cut is None:
        return rows, None
    head = rows[rows["time"] < cut]
    tail_rows = rows[rows["time"] >= cut]
    if len(head):
        head = pd.concat([head, head.iloc[[-1]].assign(time=cut)], ignore_index=True)
    if len(tail_rows) == 1:  # a one-row tail: draw it as a short flat stub
        tail_rows = pd.concat([tail_rows, tail_rows], ignore_index=True)
    return head, tail_rows


def _head_values(grid, values, cut):
    if cut is None:
        return values
    head = values[grid < cut]
    return np.r_[head, head[-1] if len(head) else 0.0]


def _tail_values(grid, values, tail_grid):
    return values[np.searchsorted(grid, tail_grid)]


def plot_cumulative_incidence(
    result,
    by=None,
    *,
    kind: str = "stacked",
    ci: bool = True,
    segment=None,
    causes: Sequence[str] | None = None,
    survival=None,
    ax: Axes | None = None,
    colors: Mapping | None = None,
    labels: Mapping | None = None,
    time_unit: str | None = None,
    title: str | None = None,
    ylim=None,
    area_alpha: float = 0.85,
    ci_alpha: float = 0.2,
    legend: bool = True,
    legend_loc: str = "upper left",
    tail: str = "grey",
    min_at_risk: float | None = None,
    tail_alpha: float = 0.3,
) -> Axes:
    """Plot the cumulative incidence of each cause of defection (Aalen-Johansen).

    Parameters
    ----------
    result : DataFrame or fitted estimator
        The tidy table ``[*by, cause, time, estimate, std_error, ci_lower, ci_upper]``, or
        an object exposing it as ``cumulative_incidence_`` (e.g. a fitted
        ``AalenJohansen``).
    by : str or list of str, optional
        Segment column(s); inferred by default.
    kind : {"stacked", "lines"}, default "stacked"
        ``"stacked"``: areas per cause stacked on each other, for one segment; the top of
        the stack is the share of customers lost to any cause. ``"lines"``: one step curve
        per cause with its confidence band (one segment), or one per segment when a
        single cause is drawn.
    ci : bool, default True
        Confidence bands in ``"lines"`` mode (a stack has none).
    segment : str or tuple, optional
        The segment to draw, as its label (``"Month-to-Month"``, or values joined with
        ``" / "``) or a tuple of segment values. Needed when the table holds several
        segments, except for ``kind="lines"`` with one cause. See
        :func:`plot_cumulative_incidence_grid` for one panel per segment.
    causes : list of str, optional
        Causes to draw, in stacking order (bottom first). Default: all, in the order of
        the cause categories, else of :data:`churnsurv.DEFAULT_TAXONOMY`.
    survival : DataFrame or fitted estimator, optional
        The all-cause survival (table or object with ``survival_``); when given (or
        exposed by ``result`` as ``survival_``) 1 - S(t) is drawn as a dashed line: the
        top of a complete stack.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when None.
    colors : mapping, optional
        ``{cause: colour}`` (or ``{segment label: colour}`` when segments are the curves);
        causes default to :func:`cause_colors`.
    labels : mapping, optional
        ``{cause: legend text}``; default: the taxonomy labels ("Service failure").
    time_unit : str, optional
        Unit of ``time``; default: the estimator's, else ``"month"``.
    title : str, optional
        Axes title.
    ylim : (float, float), optional
        y limits; the default starts at 0.
    area_alpha : float, default 0.85
        Opacity of the stacked areas.
    ci_alpha : float, default 0.2
        Opacity of the confidence bands.
    legend : bool, default True
        Add a legend; its title is the segment drawn. Stacked legends list the causes
        top of the stack first.
    legend_loc : str, default "upper left"
        Legend location, or ``"outside"``.
    tail : {"grey", "cut", "show"}, default "grey"
        How to draw a curve's tail, from the time at which fewer than ``min_at_risk`` customers remain at
        risk for good (the final run of rows flagged ``below_min_at_risk``): ``"grey"`` greys it out (drawn
        faded, with ``tail_alpha``, without confidence band, and a legend entry), ``"cut"`` stops the curves
        there, ``"show"`` draws it like the rest.
    min_at_risk : float, optional
        Threshold of the tail, from the table's ``n_at_risk``; default: the ``below_min_at_risk`` column of
        the table (set by ``AalenJohansen(min_at_risk=10)``), and no tail when the table has neither.
    tail_alpha : float, default 0.3
        Opacity of a greyed-out tail.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    See Also
    --------
    plot_cumulative_incidence_grid : Small multiples, one segment per panel.
    cause_colors : The fixed colour of each cause.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.plotting import plot_cumulative_incidence
    >>> cif = pd.DataFrame({"cause": ["price"] * 3 + ["competitor"] * 3, "time": [0.0, 1.0, 2.0] * 2,
    ...                     "estimate": [0.0, 0.1, 0.15, 0.0, 0.05, 0.2],
    ...                     "ci_lower": [0.0, 0.05, 0.1, 0.0, 0.01, 0.1],
    ...                     "ci_upper": [0.0, 0.15, 0.2, 0.0, 0.1, 0.3]})
    >>> ax = plot_cumulative_incidence(cif)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['Price', 'Competitor']
    """
    from matplotlib.patches import Patch

    owner = "plot_cumulative_incidence"
    frame, est = _table(result, "cumulative_incidence_", owner)
    _require(frame, ["cause", "time", "estimate"], "cumulative incidence table")
    check_one_of(kind, "kind", owner, ("stacked", "lines"))
    ci = _check_bool(ci, "ci", owner) and kind == "lines"
    _ci_columns(frame, ci, "cumulative incidence table")
    by = _resolve_by(frame, by, est, owner, extra_vocab=_EXTRA_VOCAB)
    unit = _unit(time_unit, est, frame, owner)
    check_one_of(tail, "tail", owner, ("grey", "cut", "show"))
    tail_alpha = _check_alpha(tail_alpha, "tail_alpha", owner)
    frame, threshold = _flag_below(frame, min_at_risk, est, owner)
    colors = check_color_mapping(colors, owner, what="cause (or segment label)")
    labels = _check_labels(labels, owner, what="cause (or segment label)")
    ylim = _check_limits(ylim, "ylim", owner)
    area_alpha = _check_alpha(area_alpha, "area_alpha", owner)
    ci_alpha = _check_alpha(ci_alpha, "ci_alpha", owner)
    cause_list = _cause_order(frame, causes)
    if survival is None and est is not None:
        survival = getattr(est, "survival_", None)
    s_frame = _table(survival, "survival_", owner, "survival")[0] if survival is not None else None
    if s_frame is not None:
        _require(s_frame, ["time", "estimate", *by], "survival table")

    groups, all_labels = _groups(frame, by)
    groups = _pick_segment(groups, segment, by, owner)
    by_segment = kind == "lines" and len(cause_list) == 1 and len(groups) > 1
    if len(groups) > 1 and not by_segment:
        shown = ", ".join(repr(lab) for lab, _ in groups[:6])
        raise ValueError(
            f"{owner} draws {'stacked areas' if kind == 'stacked' else 'the causes'} for one segment per axes; "
            f"the table has {len(groups)} segments ({shown}). Pass segment=..., or causes=[one cause] with "
            "kind='lines', or use plot_cumulative_incidence_grid for one panel per segment."
        )
    ax = _axes(ax, owner)
    s_groups = dict(_groups(s_frame, by)[0]) if s_frame is not None else {}
    c_colours = {**cause_colors(cause_list), **{k: v for k, v in colors.items() if k in cause_list}}
    c_names = {c: labels.get(c, DEFAULT_TAXONOMY.get(c, (c,))[0]) for c in cause_list}

    t_max = -np.inf
    tails_drawn = False
    if by_segment:
        palette = _segment_palette(all_labels, colors)
        cause = cause_list[0]
        for label, rows in groups:
            rows = rows[rows["cause"].astype(str) == cause]
            name = labels.get(label, label)
            cut = _tail_start(rows) if tail != "show" else None
            head, tail_rows = _split(rows, cut)
            ax.step(head["time"], head["estimate"], where="post", color=palette[label], label=name)
            if ci:
                ax.fill_between(head["time"], head["ci_lower"], head["ci_upper"], step="post", color=palette[label],
                                alpha=ci_alpha, linewidth=0, label=f"_ci: {name}")  # fmt: skip
            if tail_rows is not None and tail == "grey":
                ax.step(tail_rows["time"], tail_rows["estimate"], where="post", color=palette[label], alpha=tail_alpha,
                        label=f"_tail: {name}")  # fmt: skip
                tails_drawn = True
            t_max = max(t_max, (rows if tail != "cut" else head)["time"].max())
        legend_title = f"{c_names[cause]} ({SEGMENT_SEP.join(by)})"
        handles = None
    else:
        label, rows = groups[0]
        rows = rows.sort_values("time", kind="stable")
        cut = _tail_start(rows) if tail != "show" else None
        grid = np.unique(rows["time"].to_numpy(float))
        t_max = grid.max() if len(grid) else t_max
        if cut is not None and tail == "cut":
            t_max = cut
        head_grid = np.r_[grid[grid < cut], cut] if cut is not None else grid
        tail_grid = grid[grid >= cut] if cut is not None else grid[:0]
        tail_grid = np.r_[tail_grid, tail_grid[-1]] if len(tail_grid) == 1 else tail_grid
        bottom = np.zeros(len(grid))
        for cause in cause_list:
            c_rows = rows[rows["cause"].astype(str) == cause]
            if kind == "stacked":
                top = bottom + _step_values(c_rows, grid)
                h_bottom, h_top = _head_values(grid, bottom, cut), _head_values(grid, top, cut)
                ax.fill_between(head_grid, h_bottom, h_top, step="post", color=c_colours[cause], alpha=area_alpha,
                                linewidth=0, label=c_names[cause])  # fmt: skip
                ax.step(head_grid, h_top, where="post", color="white", linewidth=0.6, label=f"_edge: {cause}")
                if len(tail_grid) and tail == "grey":
                    t_bottom, t_top = _tail_values(grid, bottom, tail_grid), _tail_values(grid, top, tail_grid)
                    ax.fill_between(tail_grid, t_bottom, t_top, step="post", color=c_colours[cause],
                                    alpha=area_alpha * tail_alpha, linewidth=0, label=f"_tail: {cause}")  # fmt: skip
                    tails_drawn = True
                bottom = top
            else:
                head, tail_rows = _split(c_rows, cut)
                ax.step(head["time"], head["estimate"], where="post", color=c_colours[cause],
                        label=c_names[cause])  # fmt: skip
                if ci:
                    ax.fill_between(head["time"], head["ci_lower"], head["ci_upper"], step="post",
                                    color=c_colours[cause], alpha=ci_alpha, linewidth=0,
                                    label=f"_ci: {cause}")  # fmt: skip
                if tail_rows is not None and tail == "grey":
                    ax.step(tail_rows["time"], tail_rows["estimate"], where="post", color=c_colours[cause],
                            alpha=tail_alpha, label=f"_tail: {cause}")  # fmt: skip
                    tails_drawn = True
        if label in s_groups:
            s_rows = s_groups[label].sort_values("time", kind="stable")
            s_rows = s_rows.assign(estimate=1.0 - s_rows["estimate"])
            head, tail_rows = _split(s_rows, cut)
            ax.step(head["time"], head["estimate"], where="post", color="black", linestyle="--",
                    linewidth=1.2, label="All causes (1 − S)")  # fmt: skip
            if tail_rows is not None and tail == "grey":
                ax.step(tail_rows["time"], tail_rows["estimate"], where="post", color="black", linestyle="--",
                        linewidth=1.2, alpha=tail_alpha, label="_tail: all causes")  # fmt: skip
        handles, _ = ax.get_legend_handles_labels()
        if kind == "stacked":
            areas = [h for h in handles if h.get_label() in c_names.values()][::-1]
            handles = [h for h in handles if h not in areas] + areas
        legend_title = None if not by else labels.get(label, label)
    if tails_drawn:
        if handles is None:
            handles, _ = ax.get_legend_handles_labels()
        text = f"Fewer than {threshold:g} at risk" if threshold else "Few at risk"
        handles = [*handles, Patch(facecolor="0.5", alpha=tail_alpha, label=text)]

    ax.set_xlim(left=0)
    _set_time_ticks(ax, unit, t_max)
    if ylim is None:
        ax.set_ylim(bottom=0)
    else:
        ax.set_ylim(*ylim)
    ax.set_xlabel(_time_label(unit))
    ax.set_ylabel("Cumulative incidence")
    _finish(ax, legend=legend, legend_loc=legend_loc, legend_title=legend_title, title=title, n_curves=1,
            handles=handles)  # fmt: skip
    return ax


def plot_cumulative_incidence_grid(
    result,
    by=None,
    *,
    axes=None,
    kind: str = "stacked",
    ci: bool = True,
    causes: Sequence[str] | None = None,
    survival=None,
    ncols: int | None = None,
    colors: Mapping | None = None,
    labels: Mapping | None = None,
    time_unit: str | None = None,
    ylim=None,
    figsize=None,
    legend: bool = True,
    tail: str = "grey",
    min_at_risk: float | None = None,
) -> np.ndarray:
    """Small multiples of cumulative incidence, one panel per segment, on shared axes.

    Parameters
    ----------
    result : DataFrame or fitted estimator
        As in :func:`plot_cumulative_incidence`.
    by : str or list of str, optional
        Segment column(s); inferred by default.
    axes : array of Axes, optional
        At least one Axes per segment. By default a figure is created with
        ``plt.subplots`` (shared x and y axes, constrained layout).
    kind : {"stacked", "lines"}, default "stacked"
        As in :func:`plot_cumulative_incidence`.
    ci : bool, default True
        Confidence bands in ``"lines"`` mode.
    causes : list of str, optional
        Causes to draw (the same in every panel).
    survival : DataFrame or fitted estimator, optional
        All-cause survival, drawn as 1 - S in each panel.
    ncols : int, optional
        Panels per row when the figure is created; default up to 3.
    colors, labels : mapping, optional
        ``{cause: colour}`` and ``{cause: legend text}``.
    time_unit : str, optional
        Unit of ``time``.
    ylim : (float, float), optional
        Common y limits.
    figsize : (float, float), optional
        Size of a created figure; default 3.3 x 2.8 inches per panel plus the legend.
    legend : bool, default True
        One legend for the grid: right of the panels on a created figure, in the first
        panel otherwise.
    tail : {"grey", "cut", "show"}, default "grey"
        How to draw the tails with few customers at risk (see :func:`plot_cumulative_incidence`).
    min_at_risk : float, optional
        Threshold of those tails; default the table's ``below_min_at_risk`` column.

    Returns
    -------
    numpy.ndarray of Axes
        One Axes per segment, in segment order (titles are the segment labels).
        Unused panels of a created figure are hidden.

    See Also
    --------
    plot_cumulative_incidence

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.plotting import plot_cumulative_incidence_grid
    >>> cif = pd.DataFrame({"Contract": ["Monthly"] * 4 + ["Yearly"] * 4,
    ...                     "cause": ["price", "price", "competitor", "competitor"] * 2,
    ...                     "time": [0.0, 1.0] * 4, "estimate": [0, 0.1, 0, 0.2, 0, 0.05, 0, 0.03]})
    >>> axes = plot_cumulative_incidence_grid(cif)
    >>> [ax.get_title() for ax in axes]
    ['Monthly', 'Yearly']
    """
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes
    from matplotlib.patches import Patch

    owner = "plot_cumulative_incidence_grid"
    frame, est = _table(result, "cumulative_incidence_", owner)
    _require(frame, ["cause", "time", "estimate"], "cumulative incidence table")
    by = _resolve_by(frame, by, est, owner, extra_vocab=_EXTRA_VOCAB)
    check_one_of(tail, "tail", owner, ("grey", "cut", "show"))
    frame, threshold = _flag_below(frame, min_at_risk, est, owner)
    labels_map = _check_labels(labels, owner, what="cause")
    groups, _ = _groups(frame, by)
    n = len(groups)
    if survival is None and est is not None:
        survival = getattr(est, "survival_", None)
    created = axes is None
    if created:
        if ncols is None:
            ncols = min(n, 3)
        if isinstance(ncols, bool) or not isinstance(ncols, numbers.Integral) or ncols < 1:
            raise param_error("ncols", owner, "a positive int", ncols)
        nrows = -(-n // ncols)
        if figsize is None:
            figsize = (3.3 * ncols + (1.8 if legend else 0.3), 2.8 * nrows + 0.4)
        fig, grid = plt.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False, figsize=figsize,
                                 layout="constrained")  # fmt: skip
        flat = grid.ravel()
    else:
        flat = np.asarray(axes, dtype=object).ravel()
        if len(flat) < n or not all(isinstance(a, Axes) for a in flat):
            raise ValueError(f"The 'axes' parameter of {owner} must hold at least {n} Axes (one per segment); "
                             f"got {len(flat)}.")  # fmt: skip
    unit = _unit(time_unit, est, frame, owner)
    used = []
    for ax, (label, _) in zip(flat, groups, strict=False):
        plot_cumulative_incidence(
            frame, by, kind=kind, ci=ci, segment=label if by else None, causes=causes, survival=survival, ax=ax,
            colors=colors, labels=labels, time_unit=unit, title=labels_map.get(label, label) if by else None,
            ylim=ylim, legend=False, tail=tail, min_at_risk=threshold,
        )  # fmt: skip
        used.append(ax)
    if created:
        for ax in flat[n:]:
            ax.set_visible(False)
        for ax in used:
            ax.label_outer()
    if legend and used:
        handles, names = used[0].get_legend_handles_labels()
        if kind == "stacked":
            order = list(range(len(handles)))
            areas = [i for i in order if names[i] != "All causes (1 − S)"][::-1]
            order = [i for i in order if i not in areas] + areas
            handles, names = [handles[i] for i in order], [names[i] for i in order]
        if tail == "grey" and any(str(art.get_label()).startswith("_tail") for a in used
                                         for art in [*a.lines, *a.collections]):
            text = f"Fewer than {threshold:g} at risk" if threshold else "Few at risk"
            handles, names = [*handles, Patch(facecolor="0.5", alpha=0.3, label=text)], [*names, text]
        if created:
            used[0].figure.legend(handles, names, loc="outside right upper", title="Cause")
        else:
            used[0].legend(handles, names, loc="upper left", title="Cause")
    return np.asarray(used, dtype=object)


# --------------------------------------------------------------------------- #
# Cause reduction: the gain, its interval and its bounds
# --------------------------------------------------------------------------- #
_REDUCTION_VOCAB = ("scenario", "horizon", "expected_tenure_observed", "expected_tenure_counterfactual", "difference",
                    "difference_ci_lower", "difference_ci_upper", "difference_lower_bound", "difference_upper_bound")


def plot_cause_reduction(
    result,
    by=None,
    *,
    kind: str = "gain",
    ax: Axes | None = None,
    colors: Mapping | None = None,
    labels: Mapping | None = None,
    time_unit: str | None = None,
    title: str | None = None,
    legend: bool = True,
    legend_loc: str = "outside",
) -> Axes:
    """Plot a cause reduction: the gain in expected tenure with its interval and bounds, or the curves.

    Parameters
    ----------
    result : CauseReduction or DataFrame
        The result of :func:`~churnsurv.cause_reduction`; or its ``summary`` table (``kind="gain"``) or its
        ``survival`` table (``kind="survival"``).
    by : str or list of str, optional
        Segment column(s); inferred by default.
    kind : {"gain", "survival"}, default "gain"
        ``"gain"``: one row per segment, the gain in expected tenure within the horizon under independent
        causes (a dot in the segment's colour), its bootstrap percentile interval (a line, when computed) and,
        behind them, the band between Peterson's assumption-free bounds. ``"survival"``: the observed (solid)
        and counterfactual (dashed) survival curves, one colour per segment.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when None.
    colors : mapping, optional
        ``{segment label: colour}``; default :func:`segment_colors`, as in every figure.
    labels : mapping, optional
        ``{segment label: display text}``.
    time_unit : str, optional
        Unit of time; default the result's.
    title : str, optional
        Axes title.
    legend : bool, default True
        Add a legend.
    legend_loc : str, default "outside"
        Legend location; ``"outside"`` puts it right of the axes.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    See Also
    --------
    churnsurv.cause_reduction : the estimates drawn here.
    plot_cumulative_incidence

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.plotting import plot_cause_reduction
    >>> summary = pd.DataFrame({"Contract": ["Monthly", "Yearly"], "horizon": [24.0, 24.0],
    ...                         "difference": [1.2, 0.4], "difference_ci_lower": [0.8, 0.1],
    ...                         "difference_ci_upper": [1.6, 0.7], "difference_lower_bound": [0.0, 0.0],
    ...                         "difference_upper_bound": [3.1, 1.0]})
    >>> ax = plot_cause_reduction(summary)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['Monthly', 'Yearly']
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    owner = "plot_cause_reduction"
    check_one_of(kind, "kind", owner, ("gain", "survival"))
    attr = "summary" if kind == "gain" else "survival"
    frame, est = _table(result, attr, owner)
    unit = _unit(time_unit, est, frame, owner)
    colors = check_color_mapping(colors, owner)
    labels = _check_labels(labels, owner)
    ax_given = ax
    if kind == "gain":
        _require(frame, ["difference"], "cause reduction summary")
        by = _resolve_by(frame, by, None, owner, extra_vocab=_REDUCTION_VOCAB)
        groups, all_labels = _groups(frame, by)
        palette = _segment_palette(all_labels, colors)
        ax = _axes(ax_given, owner)
        has_ci = {"difference_ci_lower", "difference_ci_upper"} <= set(frame.columns)
        has_bounds = {"difference_lower_bound", "difference_upper_bound"} <= set(frame.columns)
        for y, (label, rows) in enumerate(groups):
            row = rows.iloc[0]
            if has_bounds:
                lo, hi = float(row["difference_lower_bound"]), float(row["difference_upper_bound"])
                ax.barh(y, hi - lo, left=lo, height=0.55, color="0.85", edgecolor="0.6", linewidth=0.8,
                        label="_bounds")  # fmt: skip
            if has_ci and np.isfinite(row["difference_ci_lower"]):
                ax.plot([row["difference_ci_lower"], row["difference_ci_upper"]], [y, y], color=palette[label],
                        linewidth=2.2, solid_capstyle="butt", label="_ci")  # fmt: skip
            ax.plot([row["difference"]], [y], "o", color=palette[label], markersize=7, markeredgecolor="white",
                    label="_estimate")  # fmt: skip
        ax.set_yticks(range(len(groups)), [labels.get(lab, lab) for lab, _ in groups])
        ax.set_ylim(len(groups) - 0.4, -0.6)
        ax.axvline(0.0, color="0.3", linewidth=0.8, zorder=0.5)
        ax.grid(False, axis="y")
        horizon = frame["horizon"].iloc[0] if "horizon" in frame.columns and len(frame) else None
        within = f" within {_fmt_value(horizon)} {_plural(unit)}" if horizon is not None else ""
        ax.set_xlabel(f"Gain in expected tenure{within} ({_plural(unit)})")
        conf = getattr(est, "conf_level", 0.95) if est is not None else 0.95
        handles = [Line2D([], [], marker="o", linestyle="none", color="0.25", label="Under independent causes")]
        if has_ci and np.isfinite(frame["difference_ci_lower"]).any():
            handles.append(Line2D([], [], color="0.25", linewidth=2.2, label=f"{conf:.0%} bootstrap interval"))
        if has_bounds:
            handles.append(Patch(facecolor="0.85", edgecolor="0.6", label="Bounds without that assumption"))
        _finish(ax, legend=legend, legend_loc=legend_loc, legend_title=None, title=title, n_curves=1,
                handles=handles)  # fmt: skip
        return ax

    _require(frame, ["scenario", "time", "estimate"], "cause reduction survival table")
    by = _resolve_by(frame, by, None, owner, extra_vocab=_REDUCTION_VOCAB)
    groups, all_labels = _groups(frame, by)
    palette = _segment_palette(all_labels, colors)
    ax = _axes(ax_given, owner)
    t_max = -np.inf
    for label, rows in groups:
        name = labels.get(label, label)
        for scen, style in (("observed", "-"), ("counterfactual", "--")):
            r = rows[rows["scenario"].astype(str) == scen]
            ax.step(r["time"], r["estimate"], where="post", color=palette[label], linestyle=style,
                    label=f"{name}, {scen}" if by else scen)  # fmt: skip
        t_max = max(t_max, rows["time"].max())
    ax.set_xlim(left=0)
    _set_time_ticks(ax, unit, t_max)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(_time_label(unit))
    ax.set_ylabel("Share of customers retained")
    _finish(ax, legend=legend, legend_loc=legend_loc, legend_title=None, title=title, n_curves=len(groups))
    return ax


# --------------------------------------------------------------------------- #
# Forest plot of hazard ratios
# --------------------------------------------------------------------------- #
def _log_ticks(lo: float, hi: float) -> list[float]:
    for subs in ((1, 2, 5), (1, 1.5, 2, 3, 5, 7), (1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4, 5, 6, 7, 8, 9)):
        cands = sorted({round(s * 10.0**k, 12) for k in range(-4, 5) for s in subs})
        ticks = [c for c in cands if lo <= c <= hi]
        if len(ticks) >= 3:
            if len(ticks) > 9:
                ticks = ticks[:: -(-len(ticks) // 9)]
            return ticks
    return [c for c in (lo, 1.0, hi) if lo <= c <= hi]


def _display_key(column: str, value) -> str:
    value = _fmt_value(value)
    return DEFAULT_TAXONOMY.get(value, (value,))[0] if column == "cause" else value


def plot_forest(
    table,
    *,
    ax: Axes | None = None,
    log: bool = True,
    group: str | None = "model",
    colors: Mapping | None = None,
    labels: Mapping | None = None,
    reference: float = 1.0,
    xlabel: str = "Hazard ratio",
    title: str | None = None,
    legend: bool = True,
    legend_loc: str = "outside",
) -> Axes:
    """Forest plot of hazard ratios, several models side by side.

    Each row of the plot is a term (within a cause when several causes are present,
    with the cause as a bold header); the values of ``group`` (e.g. the cause-specific
    Cox and the Fine-Gray subdistribution models) are drawn with offset markers and
    their confidence intervals on the same row.

    Parameters
    ----------
    table : DataFrame or object
        ``[model, cause, term, estimate, ci_lower, ci_upper, p_value]`` with the hazard
        ratio in ``estimate``; ``model`` and ``cause`` are optional. Or an object exposing
        it as ``hazard_ratios_``.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when None.
    log : bool, default True
        Logarithmic x-axis (hazard ratios of 0.5 and 2 equally far from 1).
    group : str or None, default "model"
        Column whose values are drawn side by side on each row, with their own colour
        and marker (``"model"`` or ``"cause"``); None draws one series.
    colors : mapping, optional
        ``{group value: colour}``; default: the Okabe-Ito palette in order of first
        appearance of the values (cause colours when ``group="cause"``).
    labels : mapping, optional
        ``{group value: legend text}``.
    reference : float, default 1.0
        Position of the dashed reference line (no effect).
    xlabel : str, default "Hazard ratio"
        x-axis label.
    title : str, optional
        Axes title.
    legend : bool, default True
        Add a legend when there are several groups.
    legend_loc : str, default "outside"
        Legend location; ``"outside"`` puts it right of the axes.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on; one marker per row of ``table``.

    See Also
    --------
    plot_cumulative_incidence

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.plotting import plot_forest
    >>> hr = pd.DataFrame({"model": ["cause-specific", "Fine-Gray"] * 2, "cause": "price",
    ...                    "term": ["Fiber optic", "Fiber optic", "Senior", "Senior"],
    ...                    "estimate": [1.8, 1.5, 1.2, 1.1], "ci_lower": [1.4, 1.2, 0.9, 0.8],
    ...                    "ci_upper": [2.3, 1.9, 1.6, 1.5], "p_value": [0.001, 0.002, 0.2, 0.5]})
    >>> ax = plot_forest(hr)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['Fiber optic', 'Senior']
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

    owner = "plot_forest"
    frame, _ = _table(table, "hazard_ratios_", owner, param="table")
    _require(frame, ["term", "estimate"], "hazard ratio table")
    log = _check_bool(log, "log", owner)
    if group is not None:
        _require(frame, [group], "hazard ratio table", "Pass group=None to draw one series.")
    colors = check_color_mapping(colors, owner, what=f"{group or 'group'} value")
    labels = _check_labels(labels, owner, what=f"{group or 'group'} value")
    has_ci = "ci_lower" in frame.columns and "ci_upper" in frame.columns
    est = frame["estimate"].to_numpy(float)
    lo = frame["ci_lower"].to_numpy(float) if has_ci else est.copy()
    hi = frame["ci_upper"].to_numpy(float) if has_ci else est.copy()
    if log:
        values = np.concatenate([est, lo, hi])
        values = values[np.isfinite(values)]
        if np.any(values <= 0):
            raise ValueError(
                f"The hazard ratio table has {int(np.sum(values <= 0))} non-positive values in 'estimate', "
                "'ci_lower' or 'ci_upper', which a log axis cannot show. Check that 'estimate' holds hazard "
                "ratios (not coefficients), or pass log=False."
            )
    ax = _axes(ax, owner)

    ids = [c for c in ("model", "cause", "term") if c in frame.columns and c != group]
    varying = [c for c in ids if c != "term" and frame[c].nunique(dropna=False) > 1]
    block = varying[0] if varying else None  # e.g. the cause: a bold header above its terms
    shown = [c for c in ids if c != block and (c == "term" or c in varying)]
    row_keys = list(zip(*(frame[c].map(_fmt_value) for c in ids), strict=False)) if ids else [()] * len(frame)
    positions: dict[tuple, float] = {}
    ticks, tick_labels, headers = [], [], []
    y = 0.0
    last_block = object()
    keys = list(dict.fromkeys(row_keys))
    if block is not None:  # rows of a block together, blocks in order of appearance
        first = {b: i for i, b in reversed(list(enumerate(key[0] for key in keys)))}
        keys.sort(key=lambda key: first[key[0]])
    for key in keys:
        rec = dict(zip(ids, key, strict=False))
        if block is not None and rec[block] != last_block:
            ticks.append(y)
            tick_labels.append(_display_key(block, rec[block]))
            headers.append(len(ticks) - 1)
            last_block = rec[block]
            y += 1
        positions[key] = y
        ticks.append(y)
        tick_labels.append(
            ("    " if block is not None else "")
            + SEGMENT_SEP.join(_display_key(c, rec[c]) for c in shown)
        )
        y += 1

    values = [str(v) for v in pd.unique(frame[group])] if group is not None else [None]
    if group == "cause":
        palette = {**cause_colors(values), **colors}
    else:
        palette = {v: colors.get(str(v), OKABE_ITO[i % len(OKABE_ITO)]) for i, v in enumerate(values)}
    k = len(values)
    step = min(0.24, 0.7 / max(k - 1, 1)) if k > 1 else 0.0
    for i, value in enumerate(values):
        mask = (frame[group].astype(str) == value).to_numpy() if group is not None else np.ones(len(frame), bool)
        pos = np.array([positions[key] for key, m in zip(row_keys, mask, strict=False) if m]) + (i - (k - 1) / 2) * step
        e, lo_i, hi_i = est[mask], lo[mask], hi[mask]
        xerr = np.vstack([np.nan_to_num(np.clip(e - lo_i, 0, None)), np.nan_to_num(np.clip(hi_i - e, 0, None))])
        name = labels.get(value, _display_key(group, value)) if group is not None else "_estimate"
        ax.errorbar(e, pos, xerr=xerr, fmt=_FOREST_MARKERS[i % len(_FOREST_MARKERS)], color=palette.get(value,
                    OKABE_ITO[0]), markersize=5.5, elinewidth=1.3, capsize=0, label=name)  # fmt: skip

    ax.axvline(reference, color="0.3", linewidth=1.0, linestyle="--", zorder=1.5)
    ax.set_yticks(ticks, tick_labels)
    for i in headers:
        ax.get_yticklabels()[i].set_fontweight("bold")
    ax.yaxis.set_minor_locator(NullLocator())
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(y - 0.4, -0.6)
    ax.grid(False, axis="y")
    if log:
        finite = np.concatenate([est, lo, hi, [reference]])
        finite = finite[np.isfinite(finite)]
        x_lo, x_hi = finite.min() / 1.15, finite.max() * 1.15
        ax.set_xscale("log")
        ax.set_xlim(x_lo, x_hi)
        ax.xaxis.set_major_locator(FixedLocator(_log_ticks(x_lo, x_hi)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(xlabel)
    _finish(ax, legend=legend and group is not None and k > 1, legend_loc=legend_loc,
            legend_title=(group or "").replace("_", " ").capitalize(), title=title, n_curves=k)  # fmt: skip
    return ax
