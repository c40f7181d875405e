"""Validation helpers: every user-facing error message of churnsurv is built here."""

from __future__ import annotations

import inspect
import numbers
import os
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from churnsurv.exceptions import NotFittedError, TenureDataError

__all__ = [
    "check_columns",
    "check_conf_level",
    "check_is_fitted",
    "check_one_of",
    "data_error",
    "format_ids",
    "param_error",
]

_MAX_IDS = 5
_PKG_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def find_stack_level() -> int:
    """The ``stacklevel`` that makes a warning point at the first frame outside churnsurv (as pandas does)."""
    frame = inspect.currentframe()
    n = 0
    try:
        while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PKG_DIR):
            frame = frame.f_back
            n += 1
    finally:
        del frame
    return n


def format_ids(ids: Sequence, n_total: int | None = None, noun: str = "ids") -> str:
    """Format up to five offending ids as ``"ids A, B, C and 12 more"``."""
    ids = list(ids)
    n_total = len(ids) if n_total is None else n_total
    shown = ", ".join(repr(i) if isinstance(i, str) else str(i) for i in ids[:_MAX_IDS])
    more = n_total - min(len(ids), _MAX_IDS)
    return f"{noun} {shown}" + (f" and {more} more" if more > 0 else "")


def data_error(column: str | None, problem: str, mask, ids, fix: str = "") -> TenureDataError:
    """Build a :class:`TenureDataError` for the rows where ``mask`` is True.

    Parameters
    ----------
    column : str or None
        The column at fault (quoted in the message).
    problem : str
        What is wrong, phrased to follow "has N row(s) with ...", e.g. ``"negative values"``.
    mask : array of bool
        Offending rows.
    ids : array-like
        Row ids aligned with ``mask`` (customer ids or row labels).
    fix : str
        A suggestion appended to the message.
    """
    mask = np.asarray(mask, dtype=bool)
    n_bad = int(mask.sum())
    bad_ids = list(np.asarray(ids, dtype=object)[mask][:_MAX_IDS])
    row_word = "row" if n_bad == 1 else "rows"
    where = f"Column {column!r}" if column is not None else "The records"
    msg = f"{where} has {n_bad} {row_word} with {problem} ({format_ids(bad_ids, n_bad)})."
    if fix:
        msg += " " + fix
    return TenureDataError(msg, column=column, n_rows=n_bad, ids=bad_ids)


def param_error(name: str, owner: str, expected: str, value, *, type_error: bool = False) -> Exception:
    """The scikit-learn parameter message: "The 'x' parameter of F must be ... Got ... instead."."""
    cls = TypeError if type_error else ValueError
    return cls(f"The {name!r} parameter of {owner} must be {expected}. Got {value!r} instead.")


def check_conf_level(conf_level, owner: str) -> float:
    """Validate a confidence level in (0, 1)."""
    if isinstance(conf_level, bool) or not isinstance(conf_level, numbers.Real):
        raise param_error("conf_level", owner, "a float in (0, 1)", conf_level, type_error=True)
    if not 0.0 < float(conf_level) < 1.0:
        raise param_error("conf_level", owner, "a float in (0, 1)", conf_level)
    return float(conf_level)


def check_one_of(value, name: str, owner: str, options: Iterable[str]):
    """Validate that ``value`` is one of ``options``."""
    options = list(options)
    if value not in options:
        listed = ", ".join(repr(o) for o in options)
        raise param_error(name, owner, f"one of {{{listed}}}", value)
    return value


def check_columns(frame: pd.DataFrame, columns: Iterable[str | None], what: str = "records") -> None:
    """Raise a ``KeyError``-free ``TenureDataError`` when columns are missing, listing the available ones."""
    missing = [c for c in columns if c is not None and c not in frame.columns]
    if missing:
        available = ", ".join(repr(c) for c in frame.columns[:40])
        more = "" if len(frame.columns) <= 40 else f" (and {len(frame.columns) - 40} more)"
        names = ", ".join(repr(c) for c in missing)
        raise TenureDataError(
            f"The {what} have no column {names}. Available columns: {available}{more}.",
            column=missing[0],
        )


def check_is_fitted(estimator, attribute: str | None = None) -> None:
    """Raise :class:`NotFittedError` unless ``estimator`` has fitted attributes (names ending in ``_``)."""
    if attribute is not None:
        fitted = hasattr(estimator, attribute)
    else:
        fitted = any(k.endswith("_") and not k.startswith("__") for k in vars(estimator))
    if not fitted:
        name = type(estimator).__name__
        raise NotFittedError(
            f"This {name} instance is not fitted yet. Call 'fit' with appropriate arguments "
            "before using this estimator."
        )
