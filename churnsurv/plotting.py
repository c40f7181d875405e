"""Figures of survival, hazard and cumulative incidence results.

Every plot function takes the data first: a tidy result table (``km.survival_``)
or a fitted estimator exposing it (``km``), so ``table.pipe(plot_survival)``
works. Segment columns keep the user's names (``Contract``); ``by=None`` infers
them as the columns outside the result vocabulary (``time``, ``estimate``,
``ci_lower``...), and several segment columns are joined into one label with
``" / "``.

The functions follow one contract (``CONTRIBUTING.md``):

* ``ax=None`` creates a new figure (``plt.subplots(layout="constrained")``, so that
  legends and the numbers-at-risk table placed outside the axes fit); the current
  axes are never hijacked;
* the ``Axes`` is returned (an array of them for grids);
* nothing here calls ``plt.show``, ``savefig``, ``tight_layout`` or changes
  ``rcParams``; notebooks apply the shared style (:func:`churnsurv.reporting.use_style`)
  and save through :func:`churnsurv.reporting.save_figure`;
* a segment label has the same colour in every figure (:func:`segment_colors`), a
  cause of defection always has the same colour (:func:`cause_colors`); both use the
  colour-blind-safe Okabe-Ito palette.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, MultipleLocator, NullFormatter, NullLocator

from churnsurv._palette import (
    CAUSE_COLORS,
    OKABE_ITO,
    cause_colors,
    check_color_mapping,
    reset_segment_colors,
    segment_colors,
    set_segment_colors,
)
from churnsurv._validation import check_one_of, param_error
from churnsurv.causes import DEFAULT_TAXONOMY
from churnsurv.exceptions import NotFittedError

__all__ = [
    "CAUSE_COLORS",
    "OKABE_ITO",
    "add_at_risk_table",
    "cause_colors",
    "plot_cumulative_hazard",
    "plot_cumulative_incidence",
    "plot_cumulative_incidence_grid",
    "plot_forest",
    "plot_hazard",
    "plot_loglog",
    "plot_survival",
    "reset_segment_colors",
    "segment_colors",
    "set_segment_colors",
]

#: Columns of churnsurv result tables; any other column is a segment column.
RESULT_COLUMNS = frozenset(
    {
        "time", "estimate", "std_error", "ci_lower", "ci_upper", "n_at_risk", "n_events",
        "n_censored", "n_entered", "cause", "bandwidth", "model", "term", "p_value",
        "statistic", "dof", "variance", "conf_level",
    }
)  # fmt: skip
#: Label of the single curve of a table without segments.
ALL_LABEL = "All customers"
SEGMENT_SEP = " / "

_UNITS = {  # unit -> (plural, adjective, abbreviation)
    "day": ("days", "Daily", "d"),
    "week": ("weeks", "Weekly", "wk"),
    "month": ("months", "Monthly", "mo"),
    "quarter": ("quarters", "Quarterly", "qtr"),
    "year": ("years", "Yearly", "yr"),
}
_UNIT_ALIASES = {"d": "day", "w": "week", "m": "month", "q": "quarter", "y": "year", "annual": "year"}
_STEP_RESERVED = ("color", "c", "label", "where", "drawstyle", "ds")
_FOREST_MARKERS = ("o", "s", "D", "^", "v", "P", "X")


# --------------------------------------------------------------------------- #
# Argument handling
# --------------------------------------------------------------------------- #
def _table(result, attr: str, owner: str, param: str = "result", fallbacks: tuple[str, ...] = ()):
    """Return ``(DataFrame, estimator or None)`` from a table or an object exposing ``attr``."""
    if isinstance(result, pd.DataFrame):
        return result, None
    for name in (attr, *fallbacks):
        try:
            value = getattr(result, name)
        except NotFittedError:
            raise
        except AttributeError:
            continue
        if isinstance(value, pd.DataFrame):
            return value, result
    raise TypeError(
        f"The {param!r} parameter of {owner} must be a DataFrame or a fitted estimator with a {attr!r} "
        f"attribute. Got an object of type {type(result).__name__} instead (is the estimator fitted?)."
    )


def _require(frame: pd.DataFrame, columns, what: str, hint: str = "") -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        available = ", ".join(repr(c) for c in frame.columns)
        raise ValueError(
            f"The {what} has no column {names}. Available columns: {available}."
            + (f" {hint}" if hint else "")
        )


def _resolve_by(frame: pd.DataFrame, by, estimator, owner: str, extra_vocab=()) -> list[str]:
    if by is None:
        fitted_by = getattr(estimator, "by_", None) if estimator is not None else None
        if isinstance(fitted_by, str):
            fitted_by = [fitted_by]
        if isinstance(fitted_by, (list, tuple)) and all(c in frame.columns for c in fitted_by):
            return list(fitted_by)
        vocab = RESULT_COLUMNS | set(extra_vocab)
        return [c for c in frame.columns if c not in vocab]
    if isinstance(by, str):
        by = [by]
    elif isinstance(by, Sequence):
        by = list(by)
    else:
        raise param_error("by", owner, "None, a column name or a list of column names", by, type_error=True)
    missing = [c for c in by if c not in frame.columns]
    if missing:
        available = ", ".join(repr(c) for c in frame.columns)
        raise ValueError(
            f"The 'by' parameter of {owner} names {', '.join(repr(c) for c in missing)}, which the table does "
            f"not have. Available columns: {available}."
        )
    return by


def _fmt_value(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "(missing)"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _groups(frame: pd.DataFrame, by: list[str]):
    """``[(label, rows sorted by time)]`` in display order, and every label of the segment columns."""
    if not by:
        return [(ALL_LABEL, frame.sort_values("time", kind="stable"))], [ALL_LABEL]
    out = []
    for key, rows in frame.groupby(by, observed=True, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        label = SEGMENT_SEP.join(_fmt_value(v) for v in key)
        out.append((label, rows.sort_values("time", kind="stable") if "time" in rows else rows))
    if len(by) == 1 and isinstance(frame[by[0]].dtype, pd.CategoricalDtype):
        levels = [_fmt_value(c) for c in frame[by[0]].cat.categories]
        return out, levels + [lab for lab, _ in out if lab not in levels]
    return out, [lab for lab, _ in out]


def _segment_palette(all_labels, colors: dict) -> dict[str, str]:
    auto = segment_colors([lab for lab in all_labels if lab not in colors])
    return {**auto, **colors}


def _check_labels(labels, owner: str, what: str = "segment label") -> dict[str, str]:
    if labels is None:
        return {}
    if not isinstance(labels, Mapping):
        raise TypeError(
            f"labels must be a mapping from {what} to display label, e.g. {{'Month-to-Month': 'Monthly plan'}}. "
            f"Got {type(labels).__name__} instead (in {owner})."
        )
    return {str(k): str(v) for k, v in labels.items()}


def _check_bool(value, name: str, owner: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise param_error(name, owner, "a bool", value, type_error=True)
    return bool(value)


def _check_alpha(value, name: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) <= 1.0:
        raise param_error(name, owner, "a float in [0, 1]", value)
    return float(value)


def _check_limits(value, name: str, owner: str):
    if value is None:
        return None
    if (
        not isinstance(value, (tuple, list))
        or len(value) != 2
        or not all(v is None or (isinstance(v, numbers.Real) and not isinstance(v, bool)) for v in value)
    ):
        raise param_error(name, owner, "None or a (low, high) pair of numbers", value)
    return tuple(value)


def _check_step_kw(step_kw: dict, owner: str) -> dict:
    bad = [k for k in step_kw if k in _STEP_RESERVED]
    if bad:
        raise TypeError(
            f"{owner} sets {', '.join(repr(k) for k in bad)} itself: pass colours with colors={{label: colour}} "
            "and legend text with labels={label: text}."
        )
    return step_kw


def _axes(ax, owner: str) -> Axes:
    if ax is None:
        _, ax = plt.subplots(layout="constrained")
        return ax
    if not isinstance(ax, Axes):
        raise TypeError(f"The 'ax' parameter of {owner} must be a matplotlib Axes or None. Got {type(ax).__name__}.")
    return ax


def _unit(time_unit, estimator, frame: pd.DataFrame, owner: str) -> str:
    if time_unit is None and estimator is not None:
        time_unit = next(
            (v for v in (getattr(estimator, n, None) for n in ("time_unit", "time_unit_")) if isinstance(v, str)), None
        )
    if time_unit is None:
        time_unit = frame.attrs.get("time_unit", "month") if frame is not None else "month"
    if not isinstance(time_unit, str) or not time_unit.strip():
        raise param_error("time_unit", owner, "a unit name such as 'month' or 'day'", time_unit, type_error=True)
    unit = time_unit.strip().lower()
    unit = _UNIT_ALIASES.get(unit, unit)
    if unit.endswith("s") and unit[:-1] in _UNITS:
        unit = unit[:-1]
    return unit


def _plural(unit: str) -> str:
    return _UNITS[unit][0] if unit in _UNITS else (unit if unit.endswith("s") else unit + "s")


def _time_label(unit: str, suffix: str = "") -> str:
    return f"Tenure ({_plural(unit)}{suffix})"


def _hazard_label(unit: str) -> str:
    return f"{_UNITS[unit][1]} churn hazard" if unit in _UNITS else f"Churn hazard per {unit}"


def _unit_abbrev(unit: str) -> str:
    return _UNITS[unit][2] if unit in _UNITS else unit


def _set_time_ticks(ax: Axes, unit: str, t_max: float) -> None:
    """Ticks at whole years (or 1, 3, 6 months) on a tenure axis in months."""
    if unit != "month" or not np.isfinite(t_max) or t_max <= 0:
        return
    base = next((b for b in (1, 2, 3, 6, 12, 24, 36, 60, 120, 240) if t_max / b <= 8), 480)
    ax.xaxis.set_major_locator(MultipleLocator(base))


def _finish(ax, *, legend: bool, legend_loc, legend_title, title, n_curves: int, handles=None):
    if legend and n_curves > 0:
        kwargs = {"title": legend_title or None}
        if handles is not None:
            kwargs["handles"] = handles
        if legend_loc == "outside":
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kwargs)
        else:
            ax.legend(loc=legend_loc, **kwargs)
    if title is not None:
        ax.set_title(title)


def _ci_columns(frame, ci: bool, what: str):
    if ci:
        _require(frame, ["ci_lower", "ci_upper"], what, "Pass ci=False to draw the estimate alone.")


# --------------------------------------------------------------------------- #
# Step curves: survival, cumulative hazard, log-log
# --------------------------------------------------------------------------- #
def _step_curves(
    result, by, *, attr, owner, what, ylabel, ci, censor_marks, ax, colors, labels, time_unit, title,
    ylim, ci_alpha, legend, legend_loc, step_kw, transform=None, log_time=False,
):  # fmt: skip
    frame, est = _table(result, attr, owner)
    _require(frame, ["time", "estimate"], what)
    ci = _check_bool(ci, "ci", owner)
    censor_marks = _check_bool(censor_marks, "censor_marks", owner)
    _ci_columns(frame, ci, what)
    if censor_marks:
        _require(frame, ["n_censored"], what, "Pass censor_marks=False to draw the curves without them.")
    by = _resolve_by(frame, by, est, owner)
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
        ax.step(t[keep], y[keep], where="post", color=colour, label=name, **step_kw)
        if ci:
            ax.fill_between(
                t[keep], lo[keep], hi[keep], step="post", color=colour, alpha=ci_alpha, linewidth=0,
                label=f"_ci: {name}",
            )  # fmt: skip
        if censor_marks:
            cens = keep & (rows["n_censored"].to_numpy(float) > 0)
            ax.plot(
                t[cens], y[cens], linestyle="none", marker="|", markersize=7, markeredgewidth=1.1,
                color=colour, label=f"_censored: {name}",
            )  # fmt: skip
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
        legend_loc=legend_loc, step_kw=step_kw,
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
        step_kw=step_kw,
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
    by = _resolve_by(frame, by, est, owner)
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
            for tau, value in zip(times, counts[(label, kind)]):
                ax.annotate(_fmt_count(value), xy=(tau, 0), xycoords=("data", anchor), xytext=(0, y),
                            ha="center", color="0.15", **common)  # fmt: skip
            row += 1
    return ax


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
    by_s = _resolve_by(s_frame, by, s_est, owner) if s_frame is not None else None
    by_r = _resolve_by(r_frame, by, r_est, owner) if r_frame is not None else None
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
        ax.plot(t, y, color=colour, label=name, **line_kw)
        if ci:
            ax.fill_between(t, rows["ci_lower"].to_numpy(float), rows["ci_upper"].to_numpy(float), color=colour,
                            alpha=ci_alpha, linewidth=0, label=f"_ci: {name}")  # fmt: skip
        t_max = max(t_max, float(np.nanmax(t)) if len(t) else -np.inf)

    raw_colour = {lab: palette.get(lab, "0.35") for lab, _ in r_groups} if not by_cause else {}
    for label, rows in r_groups:
        t = rows["time"].to_numpy(float)
        y = rows["estimate"].to_numpy(float)
        colour = raw_colour.get(label, "0.35")
        name = names.get(label, label)
        legend_name = f"_raw: {name}" if s_frame is not None else name
        ax.plot(t, y, linestyle="none" if s_frame is not None else "-", linewidth=0.8, marker="o",
                markersize=3.5, alpha=0.75 if s_frame is not None else 1.0, color=colour,
                label=legend_name, zorder=1.9)  # fmt: skip
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
        handles, _ = ax.get_legend_handles_labels()
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=3.5, color="0.35",
                              label=f"Per-{_UNITS[unit][0][:-1] if unit in _UNITS else unit} estimate"))  # fmt: skip
    show_legend = legend and (bool(by) or by_cause or (show_bandwidth and bool(bws)) or handles is not None)
    legend_title = "Cause" if by_cause else SEGMENT_SEP.join(by)
    _finish(ax, legend=show_legend, legend_loc=legend_loc, legend_title=legend_title, title=title,
            n_curves=len(s_groups) + len(r_groups), handles=handles)  # fmt: skip
    return ax


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
    owner = "plot_cumulative_incidence"
    frame, est = _table(result, "cumulative_incidence_", owner)
    _require(frame, ["cause", "time", "estimate"], "cumulative incidence table")
    check_one_of(kind, "kind", owner, ("stacked", "lines"))
    ci = _check_bool(ci, "ci", owner) and kind == "lines"
    _ci_columns(frame, ci, "cumulative incidence table")
    by = _resolve_by(frame, by, est, owner)
    unit = _unit(time_unit, est, frame, owner)
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
    if by_segment:
        palette = _segment_palette(all_labels, colors)
        cause = cause_list[0]
        for label, rows in groups:
            rows = rows[rows["cause"].astype(str) == cause]
            name = labels.get(label, label)
            ax.step(rows["time"], rows["estimate"], where="post", color=palette[label], label=name)
            if ci:
                ax.fill_between(rows["time"], rows["ci_lower"], rows["ci_upper"], step="post", color=palette[label],
                                alpha=ci_alpha, linewidth=0, label=f"_ci: {name}")  # fmt: skip
            t_max = max(t_max, rows["time"].max())
        legend_title = f"{c_names[cause]} ({SEGMENT_SEP.join(by)})"
        handles = None
    else:
        label, rows = groups[0]
        rows = rows.sort_values("time", kind="stable")
        grid = np.unique(rows["time"].to_numpy(float))
        t_max = grid.max() if len(grid) else t_max
        bottom = np.zeros(len(grid))
        for cause in cause_list:
            c_rows = rows[rows["cause"].astype(str) == cause]
            if kind == "stacked":
                top = bottom + _step_values(c_rows, grid)
                ax.fill_between(grid, bottom, top, step="post", color=c_colours[cause], alpha=area_alpha,
                                linewidth=0, label=c_names[cause])  # fmt: skip
                ax.step(grid, top, where="post", color="white", linewidth=0.6, label=f"_edge: {cause}")
                bottom = top
            else:
                ax.step(c_rows["time"], c_rows["estimate"], where="post", color=c_colours[cause],
                        label=c_names[cause])  # fmt: skip
                if ci:
                    ax.fill_between(c_rows["time"], c_rows["ci_lower"], c_rows["ci_upper"], step="post",
                                    color=c_colours[cause], alpha=ci_alpha, linewidth=0,
                                    label=f"_ci: {cause}")  # fmt: skip
        if label in s_groups:
            s_rows = s_groups[label]
            ax.step(s_rows["time"], 1.0 - s_rows["estimate"], where="post", color="black", linestyle="--",
                    linewidth=1.2, label="All causes (1 − S)")  # fmt: skip
        handles, _ = ax.get_legend_handles_labels()
        if kind == "stacked":
            areas = [h for h in handles if h.get_label() in c_names.values()][::-1]
            handles = [h for h in handles if h not in areas] + areas
        legend_title = None if not by else labels.get(label, label)

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
    owner = "plot_cumulative_incidence_grid"
    frame, est = _table(result, "cumulative_incidence_", owner)
    _require(frame, ["cause", "time", "estimate"], "cumulative incidence table")
    by = _resolve_by(frame, by, est, owner)
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
    for ax, (label, _) in zip(flat, groups):
        plot_cumulative_incidence(
            frame, by, kind=kind, ci=ci, segment=label if by else None, causes=causes, survival=survival, ax=ax,
            colors=colors, labels=labels, time_unit=unit, title=labels_map.get(label, label) if by else None,
            ylim=ylim, legend=False,
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
        if created:
            used[0].figure.legend(handles, names, loc="outside right upper", title="Cause")
        else:
            used[0].legend(handles, names, loc="upper left", title="Cause")
    return np.asarray(used, dtype=object)


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
    row_keys = list(zip(*(frame[c].map(_fmt_value) for c in ids))) if ids else [()] * len(frame)
    positions: dict[tuple, float] = {}
    ticks, tick_labels, headers = [], [], []
    y = 0.0
    last_block = object()
    keys = list(dict.fromkeys(row_keys))
    if block is not None:  # rows of a block together, blocks in order of appearance
        first = {b: i for i, b in reversed(list(enumerate(key[0] for key in keys)))}
        keys.sort(key=lambda key: first[key[0]])
    for key in keys:
        rec = dict(zip(ids, key))
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
        pos = np.array([positions[key] for key, m in zip(row_keys, mask) if m]) + (i - (k - 1) / 2) * step
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
