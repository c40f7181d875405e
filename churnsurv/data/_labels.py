"""Label hygiene for event, cause and segment columns.

Two labels that differ only by letter case or surrounding spaces (``"No "``, ``"no"``, ``"NO"``) are one label
typed differently: they are merged into one spelling with a warning that lists the merges, never split into
separate levels and never read as the opposite event. Columns mixing booleans with numbers or text (``True`` and
``1``), and a real label ``"(missing)"`` beside missing values, are refused: they cannot be merged safely.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from churnsurv._validation import data_error, find_stack_level
from churnsurv.exceptions import ChurnsurvWarning

__all__ = ["check_kinds", "label_key", "merge_variants", "series_uniques", "value_kind", "warn_merges"]

_MAX_SHOWN = 5


def label_key(label) -> str:
    """The comparison key of a label: its text without surrounding spaces, case-folded."""
    return str(label).strip().casefold()


def value_kind(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "bool"
    if isinstance(v, (int, float, np.integer, np.floating)):
        return "number"
    if isinstance(v, str):
        return "text"
    return "other"


def check_kinds(values, name: str, ids, what: str) -> None:
    """Refuse a column whose values mix booleans with numbers or text (``True`` and ``1``).

    Python counts ``True == 1``, so hashing (``pd.factorize``, ``isin``) would merge them silently; the kinds are
    therefore read row by row, and only for object columns of mixed types.
    """
    values = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if values.dtype != object or pd.api.types.infer_dtype(values, skipna=True) not in ("mixed", "mixed-integer"):
        return  # one kind (or numbers of several types): nothing can merge with a boolean
    kinds = np.array([value_kind(v) if not _isna(v) else "missing" for v in values])
    other = (kinds != "bool") & (kinds != "missing")
    if not other.any() or not (kinds == "bool").any():
        return
    shown = ", ".join(repr(u) for u in pd.unique(values[other])[:5])
    raise data_error(name, f"{what} that are not booleans ({shown[:80]}) in a column that also holds True/False",
                     other, ids, "Python reads True as 1, so they would merge silently; convert the column to one "
                     "type (e.g. col.astype(str) or col.astype(bool)) before building the table.")


def _isna(v) -> bool:
    return v is None or (isinstance(v, float) and v != v) or v is pd.NA or v is pd.NaT


def merge_variants(labels: Sequence[str], counts: Sequence[int] | None = None,
                   targets: Sequence[str] = ()) -> tuple[list[str], dict[str, list[str]]]:
    """One spelling per group of labels that differ only by case or surrounding spaces.

    Parameters
    ----------
    labels : sequence of str
        Distinct labels as found in the data.
    counts : sequence of int, optional
        Rows per label: the most frequent spelling (stripped) names the group; ties go to the first in sorted
        order.
    targets : sequence of str
        Known labels (``censored``, ``event_labels``, ``causes``, cause-map keys): a label matching exactly one
        target by key takes the target's spelling. A label equal to a target is never changed.

    Returns
    -------
    canonical : list of str
        The spelling of each label, aligned with ``labels``.
    merges : dict
        ``{spelling: [labels changed into it]}`` for every label that was changed.
    """
    labels = [str(x) for x in labels]
    counts = [1] * len(labels) if counts is None else [int(c) for c in counts]
    target_set = {str(t) for t in targets}
    by_key_target: dict[str, list[str]] = {}
    for t in dict.fromkeys(str(t) for t in targets):
        by_key_target.setdefault(label_key(t), []).append(t)
    groups: dict[str, dict[str, int]] = {}
    for lab, c in zip(labels, counts, strict=True):
        groups.setdefault(label_key(lab), {})
        stripped = lab.strip()
        groups[label_key(lab)][stripped] = groups[label_key(lab)].get(stripped, 0) + c
    spelling = {}
    for key, spellings in groups.items():
        tg = by_key_target.get(key, [])
        if len(tg) == 1:
            spelling[key] = tg[0]
        else:
            spelling[key] = sorted(spellings.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    canonical: list[str] = []
    merges: dict[str, list[str]] = {}
    for lab in labels:
        new = lab if lab in target_set else spelling[label_key(lab)]
        canonical.append(new)
        if new != lab:
            merges.setdefault(new, []).append(lab)
    return canonical, merges


def warn_merges(merges: dict[str, list[str]], name: str, what: str) -> None:
    """Warn that labels differing only by case or spaces were merged, listing the merges."""
    if not merges:
        return
    items = list(merges.items())
    shown = "; ".join(f"{', '.join(repr(r) for r in raws[:_MAX_SHOWN])} -> {new!r}" for new, raws in
                      items[:_MAX_SHOWN])
    more = f" and {len(items) - _MAX_SHOWN} more" if len(items) > _MAX_SHOWN else ""
    warnings.warn(
        f"Column {name!r}: {what} that differ only by letter case or surrounding spaces were merged: {shown}{more}. "
        "Clean the labels (e.g. col.str.strip()) to silence this warning, or give them distinct names if they "
        "really differ.", ChurnsurvWarning, stacklevel=find_stack_level())


def series_uniques(col: pd.Series) -> tuple[np.ndarray, list]:
    """``pd.factorize`` of a column: int64 codes (-1 missing) and the distinct values as a list."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), list(np.asarray(uniques, dtype=object))
