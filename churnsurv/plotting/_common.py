"""Shared plumbing of the plot functions of :mod:`churnsurv.plotting`.

Argument handling (a result table or a fitted estimator, segment columns, colours, labels, limits), time units
and their axis labels and ticks, and the legend and title every plot finishes with. The rules these helpers
enforce are the contract in the docstring of :mod:`churnsurv.plotting`.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from churnsurv.plotting.palette import segment_colors
from churnsurv._validation import param_error
from churnsurv.exceptions import NotFittedError

if TYPE_CHECKING:  # matplotlib loads on the first plot, not on `import churnsurv`
    from matplotlib.axes import Axes

#: Columns of churnsurv result tables; any other column is a segment column.
RESULT_COLUMNS = frozenset(
    {
        "time", "estimate", "std_error", "ci_lower", "ci_upper", "n_at_risk", "n_events",
        "n_censored", "n_entered", "cause", "bandwidth", "model", "term", "p_value",
        "statistic", "dof", "variance", "conf_level",
        # honesty columns of the estimators: never segments
        "zero_events", "below_min_at_risk", "time_start", "exposure", "reliable", "ci_dropped", "piece",
        "scenario", "quantity",
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
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

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
    from matplotlib.ticker import MultipleLocator

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
