"""The tenure table: one validated row per customer (or spell).

Everything downstream (life tables, estimators, economics) reads a :class:`Tenures`. Build one with
:meth:`Tenures.from_frame` (durations), :meth:`Tenures.from_dates` (sign-up and defection dates) or
:meth:`Tenures.from_snapshot` (a churn snapshot such as the bundled telco files, which implies left
truncation). The caller's frame is never modified.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churnsurv._validation import (
    check_columns,
    check_one_of,
    data_error,
    find_stack_level,
    format_ids,
    param_error,
)
from churnsurv.data._dates import detect_dayfirst, parse_date_scalar, parse_dates
from churnsurv.data._labels import check_kinds, label_key, merge_variants, series_uniques, warn_merges
from churnsurv.data.causes import CauseMap
from churnsurv.exceptions import ChurnsurvWarning, StatisticalWarning, TenureConfoundingWarning, TenureDataError

__all__ = ["CANONICAL", "RESERVED_SEGMENT_NAMES", "Tenures", "TruncationReport", "tenure_confounding"]

TIME_UNITS = ("month", "week", "day", "year")
MISSING_LEVEL = "(missing)"
#: The tenure table's own column names: no segment or value column may take one.
CANONICAL = ("id", "entry", "exit", "event", "cause", "weight")
_CANONICAL_MEANING = {"id": "customer id", "entry": "entry time", "exit": "exit time (tenure)",
                      "event": "event flag", "cause": "cause of defection", "weight": "case weight"}
#: Column names of the tables built from a tenure table (life tables, curves, ``describe``): a segment column
#: with one of these names would be overwritten in them, so it is refused (``events_<cause>`` too).
RESERVED_SEGMENT_NAMES = (
    "time", "estimate", "std_error", "ci_lower", "ci_upper", "n_at_risk", "n_events", "n_censored", "n_entered",
    "n_customers", "n_truncated", "median_follow_up", "min_time", "max_time", "zero_events", "below_min_at_risk",
    "prob", "tau",
)


@dataclass(frozen=True)
class TruncationReport:
    """How a snapshot reading truncated the records.

    Attributes
    ----------
    period : float
        Length of the snapshot period, in time units.
    n_rows : int
        Rows in the snapshot.
    n_truncated : int
        Rows entering observation after sign-up (entry > 0): their earlier tenure was not observed.
    n_joined : int
        Customers who joined during the period (entry 0).
    n_entry_zero : int
        Rows observed from sign-up (entry 0), joiners included.
    applied : bool
        Whether the truncation was applied (False for the naive reading, where the counts say what the
        snapshot reading would truncate).
    """

    period: float
    n_rows: int
    n_truncated: int
    n_joined: int
    n_entry_zero: int
    applied: bool = True
    churn_timing: str = "end"
    churn_exposure: float | None = None
    n_churned: int = 0

    def __str__(self) -> str:
        if not self.applied:
            return (
                f"Snapshot of {self.period:g} time units read WITHOUT left truncation (naive reading): "
                f"{self.n_truncated:,} of {self.n_rows:,} rows signed up before the period and would enter "
                f"observation after sign-up under the snapshot reading (truncate=True).")
        exposure = self.period if self.churn_exposure is None else self.churn_exposure
        return (
            f"Snapshot of {self.period:g} time units: {self.n_truncated:,} of {self.n_rows:,} rows are left-truncated "
            f"(entry = tenure - {self.period:g} for customers still on the books; for the {self.n_churned:,} who "
            f"left, entry = tenure - {exposure:g}: assumed to leave at the {self.churn_timing} of the period); "
            f"{self.n_entry_zero:,} are observed from sign-up ({self.n_joined:,} joined during the period). "
            "The curve estimated from it is a period life table: this period's tenure-specific churn rates, "
            "with no cohort or calendar effects."
        )


CHURN_TIMINGS = ("middle", "end", "start")


def _churn_exposure(churn_timing, period: float, tenure: np.ndarray, owner: str) -> tuple[float, str]:
    """The time a defector is taken to have been observed within the period, and the rule's name."""
    whole = bool(float(period).is_integer() and np.all(np.isfinite(tenure)) and np.all(np.mod(tenure, 1) == 0))
    expected = '"middle", "end", "start" or a fraction of the period in (0, 1]'
    if isinstance(churn_timing, str):
        check_one_of(churn_timing, "churn_timing", owner, CHURN_TIMINGS)
        if churn_timing == "end":
            return period, "end"
        if churn_timing == "start":
            return min(1.0, period), "start"
        return (float(np.ceil(period / 2)) if whole else period / 2), "middle"
    if isinstance(churn_timing, bool) or not isinstance(churn_timing, numbers.Real):
        raise param_error("churn_timing", owner, expected, churn_timing, type_error=True)
    if not 0 < float(churn_timing) <= 1:
        raise param_error("churn_timing", owner, expected, churn_timing)
    return float(churn_timing) * period, f"{float(churn_timing):g} of the period"


def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, str) or not isinstance(x, (list, tuple, set, pd.Index, np.ndarray, pd.Series)):
        return [x]
    return list(x)


class Tenures:
    """A validated tenure table: entry, exit, event, cause, segments and values per customer.

    Do not call the constructor directly; use :meth:`from_frame`, :meth:`from_dates` or :meth:`from_snapshot`.

    Attributes
    ----------
    data : pandas.DataFrame
        Canonical columns ``id, entry, exit, event, [cause], weight`` then the segment and value columns
        (see ``CONTRIBUTING.md``), with ``entry``, ``exit`` and ``weight`` as floats. A private copy, built on
        first access from the stored columns (see :meth:`column`): changing it does not change the caller's
        frame, and the counting path (:func:`~churnsurv.life_table`, the estimators) never builds it.
    segments : tuple of str
        Segment column names (categorical).
    values : tuple of str
        Value column names (float), e.g. a monthly margin.
    causes : tuple of str
        Cause levels in display order (empty when causes are not used).
    time_unit : str
        Unit of ``entry`` and ``exit`` ("month", "week", "day" or "year").
    spells : bool
        Whether an id may have several rows (spells).
    truncation : TruncationReport or None
        Set by :meth:`from_snapshot`.

    Notes
    -----
    A row is at risk at time :math:`t` when :math:`\\text{entry} < t \\le \\text{exit}`; a row with entry 0 is
    observed from before the origin, so a customer with exit 0 is at risk at time 0, as in R's ``survival``.

    **Names.** The canonical names ``id, entry, exit, event, cause, weight`` belong to the tenure table, and the
    result vocabulary (``time``, ``estimate``, ``n_at_risk``... see ``RESERVED_SEGMENT_NAMES``) to the tables
    built from it. A segment or value column with one of those names is refused with a
    :class:`~churnsurv.TenureDataError` that names the clash; ``rename={"event": "event_type"}`` in
    :meth:`from_frame` keeps the column under another name without copying the frame.

    **Storage.** :meth:`from_frame` stores each column once, in the narrowest exact type: whole-number times
    as ``int32`` (``int64`` beyond its range), the event as ``bool``, causes and segments as categoricals with
    ``int8``/``int16``/``int32`` codes, no entry column without left truncation, no weight column when every
    weight is 1, and the ids by reference (the caller's index or id array, never copied).

    See Also
    --------
    churnsurv.life_table : the counts every nonparametric estimator starts from.
    """

    def __init__(self, data: pd.DataFrame | None = None, *, segments=(), values=(), causes=(), time_unit="month",
                 spells=False, truncation=None, source=None, _store: dict | None = None):
        self.segments = tuple(segments)
        self.values = tuple(values)
        self.causes = tuple(causes)
        if _store is None:
            if not isinstance(data, pd.DataFrame):
                raise param_error("data", "Tenures", "a pandas DataFrame", type(data).__name__, type_error=True)
            self._frame: pd.DataFrame | None = data
            self._store = None
        else:
            self._frame = None
            self._store = _store
        _check_user_names(self.segments, self.values, self.causes, "Tenures", len(self))
        self.time_unit = time_unit
        self.spells = bool(spells)
        self.truncation = truncation
        self.source = source

    # ------------------------------------------------------------------ storage
    @property
    def data(self) -> pd.DataFrame:
        """The table as one pandas frame (see the class Attributes); built once, on first access."""
        if self._frame is None:
            self._frame = self._build_frame()
        return self._frame

    @data.setter
    def data(self, frame: pd.DataFrame) -> None:
        self._frame = frame
        self._store = None

    def _stored(self, name: str):
        """The stored column ``name``; None for an absent entry (all 0) or weight (all 1) or cause."""
        if self._store is not None:
            return self._store[name] if name in CANONICAL else self._store["user"][name]
        d = self._frame
        if name not in d.columns:
            return None
        col = d[name]
        return col.array if isinstance(col.dtype, pd.CategoricalDtype) else col.to_numpy()

    def column(self, name: str):
        """One column as stored (no copy): a NumPy array, or a ``pandas.Categorical`` for causes and segments.

        ``column("entry")`` is an array of zeros and ``column("weight")`` an array of ones when the table
        stores none (no left truncation; unit weights); ``column("id")`` may be the caller's index.
        """
        names = self._names()
        if name not in names:
            check_columns(pd.DataFrame(columns=names), [name], what="tenure table")
        col = self._stored(name)
        if col is None and name == "entry":
            return np.zeros(len(self), dtype=self._stored("exit").dtype)
        if col is None and name == "weight":
            return np.ones(len(self))
        return col

    def _names(self) -> list[str]:
        if self._store is None:
            return list(self._frame.columns)
        return ["id", "entry", "exit", "event", *(["cause"] if self.causes else []), "weight",
                *self.segments, *self.values]

    @property
    def has_weights(self) -> bool:
        """Whether some weight differs from 1 (False: unit weights, none stored)."""
        w = self._stored("weight")
        return w is not None and not bool((w == 1.0).all())

    def memory_usage(self) -> pd.Series:
        """Bytes held by each stored column: 0 for an absent entry or weight, and for the ids, which are the
        caller's index or id array held by reference (not copied)."""
        out = {}
        for name in self._names():
            col = self._stored(name)
            if col is None or (name == "id" and self._store is not None):
                out[name] = 0  # absent, or the caller's ids held by reference
            elif isinstance(col, pd.Categorical):
                out[name] = int(col.codes.nbytes)
            else:
                out[name] = int(getattr(col, "nbytes", 0))
        return pd.Series(out, name="bytes", dtype=np.int64)

    def _build_frame(self) -> pd.DataFrame:
        """The ``data`` view: canonical columns (entry, exit and weight as floats) then segments and values."""
        s = self._store
        n = len(s["exit"])
        cols = {"id": np.asarray(s["id"]),
                "entry": np.zeros(n) if s["entry"] is None else s["entry"].astype(float),
                "exit": s["exit"].astype(float), "event": s["event"].copy()}
        if s["cause"] is not None:
            cols["cause"] = s["cause"].copy()
        cols["weight"] = np.ones(n) if s["weight"] is None else s["weight"].copy()
        for name, col in s["user"].items():
            cols[name] = col.copy()
        return pd.DataFrame(cols)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        duration: str | None = None,
        event: str | None = None,
        entry: str | None = None,
        exit: str | None = None,
        cause: str | None = None,
        id: str | None = None,
        segments: str | Sequence[str] = (),
        values: str | Sequence[str] = (),
        weights: str | None = None,
        time_unit: str = "month",
        censored=None,
        event_labels=None,
        cause_map: CauseMap | Mapping | None = None,
        causes: Sequence[str] | None = None,
        missing_segment: str = "level",
        spells: bool = False,
        rename: Mapping[str, str] | None = None,
        _owned: bool = False,
    ) -> Tenures:
        """Build a tenure table from a frame of durations.

        Parameters
        ----------
        frame : pandas.DataFrame
            One row per customer (or per spell when ``spells=True``). Not modified.
        duration, exit : str
            Column of the exit time (tenure at defection or censoring). Give one of the two (synonyms).
        event : str, optional
            Event column: bool, 0/1, or labels. With labels, ``censored`` names the label(s) meaning
            "still a customer"; all other labels are defections unless ``event_labels`` lists them.
            When omitted, every row with a cause is an event (and with no cause column every row is one).
        entry : str, optional
            Column of the time at which the customer entered observation (left truncation). Default 0.
        cause : str, optional
            Column of the cause of defection, filled for events and empty for censored rows.
        id : str, optional
            Customer id column; default the frame's row labels.
        segments, values : str or list of str
            Segment columns (categorical) and value columns (numeric, e.g. monthly margin). Their names may
            not be a canonical name (``id, entry, exit, event, cause, weight``) nor, for segments, a result
            column name (``time``, ``estimate``, ``n_at_risk``...): use ``rename``.
        weights : str, optional
            Case weight column: finite and >= 0 (negative, missing or infinite weights raise an error naming the
            rows). Zero weights are allowed with a warning giving their count (those rows count in no estimate);
            a segment level whose weights are all zero is warned about, has zero counts in life tables and gets
            no curve from the estimators (never a survival of 1).
        time_unit : {"month", "week", "day", "year"}
            Unit of the times.
        censored : label or list of labels, optional
            Event labels meaning censored (required when ``event`` holds labels).
        event_labels : label or list of labels, optional
            Event labels meaning defection; labels in neither list raise an error.
        cause_map : CauseMap or mapping, optional
            Maps raw cause labels to cause keys (see :mod:`churnsurv.data.causes`).
        causes : list of str, optional
            The cause levels in display order (default: mapping order, else sorted).
        missing_segment : {"level", "error"}
            Missing segment values become the level ``"(missing)"`` or raise an error.
        spells : bool
            Allow several rows per id.
        rename : mapping, optional
            New names for segment or value columns in the tenure table, e.g. ``{"event": "event_type"}`` for
            a segment column called ``event`` in the frame (the frame is not copied or changed).

        Returns
        -------
        Tenures

        Raises
        ------
        TenureDataError
            Naming the column, the problem, the number of rows and the first ids.
        """
        owner = "Tenures.from_frame"
        if not isinstance(frame, pd.DataFrame):
            raise param_error("frame", owner, "a pandas DataFrame", type(frame).__name__, type_error=True)
        if duration is not None and exit is not None:
            raise ValueError("Give either 'duration' or 'exit' (they are synonyms), not both.")
        exit_col = duration if duration is not None else exit
        if exit_col is None:
            raise ValueError(f"{owner} needs the exit time column: pass duration='<column>'.")
        check_one_of(time_unit, "time_unit", owner, TIME_UNITS)
        check_one_of(missing_segment, "missing_segment", owner, ("level", "error"))
        segments, values = _as_list(segments), _as_list(values)
        # private callers (from_dates, from_snapshot) pass computed columns as Series aligned with the frame
        check_columns(frame, [c for c in [exit_col, event, entry, cause, id, weights, *segments, *values]
                              if not isinstance(c, pd.Series)])
        seg_names, val_names = _renamed(segments, values, rename, owner)
        n = len(frame)
        _check_user_names(tuple(seg_names), tuple(val_names), (), owner, n)
        if n == 0:
            raise TenureDataError("The records are empty: a tenure table needs at least one row.", n_rows=0)

        def get(spec):
            return spec if isinstance(spec, pd.Series) else frame[spec]

        def name_of(spec):
            return spec.name if isinstance(spec, pd.Series) else spec

        ids = get(id).to_numpy() if id is not None else frame.index  # by reference, never copied
        # a frame read by from_csv is private: its int32 times are kept without a copy
        exit_t = _time_array(get(exit_col), name_of(exit_col), ids, copy=not _owned)
        entry_t = _time_array(get(entry), name_of(entry), ids, copy=not _owned) if entry is not None else None

        # --- event flag
        raw_cause = get(cause) if cause is not None else None
        cause_name = name_of(cause)
        cause_codes = None
        if raw_cause is not None:
            if cause_map is not None:
                targets = list((cause_map.mapping if isinstance(cause_map, CauseMap) else dict(cause_map)).keys())
            else:
                targets = list(causes) if causes is not None else []
            cause_codes = _factorize(raw_cause, cause_name, ids, targets=targets)
        if event is not None:
            ev = _parse_event(get(event), name_of(event), ids, censored, event_labels)
        elif raw_cause is not None:
            ev = cause_codes[0] >= 0
        else:
            ev = np.ones(n, dtype=bool)

        # --- times
        if entry_t is not None:
            bad = exit_t < entry_t
            if bad.any():
                raise data_error(name_of(exit_col), f"exit before entry (column {name_of(entry)!r})", bad, ids,
                                 "Exit times must be >= entry times; check the columns are not swapped.")
            bad = (entry_t > 0) & (exit_t == entry_t)
            if bad.any():
                raise data_error(name_of(exit_col), f"exit equal to a positive entry (column {name_of(entry)!r})",
                                 bad, ids, "A customer who leaves the moment observation starts was never at "
                                 "risk; drop these rows or set their entry to 0.")
            if not (entry_t > 0).any():
                entry_t = None  # no left truncation: store no entry column
            else:
                entry_t, exit_t = _common_time_type(entry_t, exit_t)

        # --- causes (work on the distinct labels, not row by row)
        cause_levels: tuple[str, ...] = ()
        cause_col = None
        if raw_cause is not None:
            codes, labels = cause_codes
            has_cause = codes >= 0
            bad = ev & ~has_cause
            if bad.any():
                raise data_error(cause_name, "defections that have no cause", bad, ids,
                                 "Fill the cause (e.g. 'unknown') or drop the cause column.")
            bad = ~ev & has_cause
            if bad.any():
                raise data_error(cause_name, "a cause on censored rows (no defection)", bad, ids,
                                 "A cause belongs to defections only; check the event column.")
            if cause_map is not None:
                cm = cause_map if isinstance(cause_map, CauseMap) else CauseMap(dict(cause_map))
                if all(lab in cm.mapping for lab in labels):
                    mapped_labels = [cm.mapping[lab] for lab in labels]
                else:  # the slow path counts and names the unknown labels (error or warning)
                    rows = np.asarray(labels, dtype=object)[codes].copy()
                    rows[codes < 0] = None
                    mapped_rows = cm.apply(rows, column=cause_name, ids=ids)
                    mapped_labels = [mapped_rows[np.argmax(codes == k)] for k in range(len(labels))]
                levels = cm.categories(present=mapped_labels)
                if causes is not None:
                    levels = list(causes) + [c for c in levels if c not in causes]
            else:
                mapped_labels = [str(lab) for lab in labels]
                levels = list(causes) if causes is not None else sorted(set(mapped_labels))
                unknown_label = np.array([lab not in levels for lab in mapped_labels] + [False])
                unknown = unknown_label[codes]  # code -1 picks the trailing False
                if unknown.any():
                    raise data_error(cause_name, f"causes not among the given levels {levels}", unknown, ids,
                                     "Add them to 'causes' or map them with 'cause_map'.")
            present = set(mapped_labels)
            cause_levels = tuple(c for c in levels if c in present) if causes is None else tuple(levels)
            lookup = np.array([cause_levels.index(m) if m in cause_levels else -1 for m in mapped_labels] + [-1],
                              dtype=_code_dtype(len(cause_levels)))
            cause_col = pd.Categorical.from_codes(lookup[codes], categories=list(cause_levels))
            del codes
        elif causes is not None:
            raise ValueError("'causes' was given but no 'cause' column: pass cause='<column>'.")
        _check_user_names(tuple(seg_names), tuple(val_names), cause_levels, owner, n)

        # --- weights
        w = None
        if weights is not None:
            w = _time_array(get(weights), name_of(weights), ids, what="weights").astype(float)
            zero = w == 0
            n_zero = int(zero.sum())
            if n_zero:
                warnings.warn(
                    f"Column {name_of(weights)!r} has {n_zero} row{'s' if n_zero > 1 else ''} with zero weight "
                    f"({format_ids(np.asarray(ids, dtype=object)[zero][:5], n_zero)}): they count in no estimate"
                    + (" (every row: there is nothing to estimate)." if n_zero == n else "."),
                    StatisticalWarning, stacklevel=find_stack_level())
            if bool((w == 1.0).all()):
                w = None  # unit weights: store none

        # --- ids
        if not spells and not _unique_ids(ids):
            dup = pd.Series(np.asarray(ids)).duplicated(keep=False).to_numpy()
            if dup.any():
                raise data_error(id if id is not None else "index", "duplicate ids", dup, ids,
                                 "Pass spells=True if customers can have several spells, or de-duplicate.")

        # --- segments and values, under their (renamed) table names
        user: dict = {}
        for s, name in zip(segments, seg_names, strict=True):
            user[name] = _segment(get(s), s, ids, missing_segment)
        for v, name in zip(values, val_names, strict=True):
            col = get(v)
            num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
            bad = col.notna().to_numpy() & np.isnan(num)
            if bad.any():
                raise data_error(v, "non-numeric values", bad, ids, "Value columns must be numbers.")
            user[name] = num.copy() if np.shares_memory(num, col.to_numpy()) else num
        if w is not None:
            _warn_zero_weight_levels(w, {name: user[name] for name in seg_names})

        store = {"id": ids, "entry": entry_t, "exit": exit_t, "event": ev, "cause": cause_col, "weight": w,
                 "user": user}
        return cls(segments=seg_names, values=val_names, causes=cause_levels, time_unit=time_unit, spells=spells,
                   _store=store)

    @classmethod
    def from_csv(
        cls,
        path,
        *,
        duration: str | None = None,
        exit: str | None = None,
        event: str | None = None,
        entry: str | None = None,
        cause: str | None = None,
        id: str | None = None,
        segments: str | Sequence[str] = (),
        values: str | Sequence[str] = (),
        weights: str | None = None,
        engine: str = "pyarrow",
        read_options: Mapping | None = None,
        **kwargs,
    ) -> Tenures:
        """Build a tenure table straight from a CSV file, reading only the columns it needs.

        Parameters
        ----------
        path : str or path-like
            The CSV file (a header row, then one row per customer or spell).
        duration, exit, event, entry, cause, id, segments, values, weights : str
            Column names, as in :meth:`from_frame`.
        engine : {"pyarrow", "pandas"}, default "pyarrow"
            ``"pyarrow"`` reads with ``pyarrow.csv`` (multi-threaded, the fastest; segment and cause columns are
            read dictionary-encoded, so their text never becomes one Python string per row); ``"pandas"`` with
            ``pandas.read_csv(usecols=..., dtype=...)`` (slower, with the smallest peak memory). Both first read
            the times as ``int32`` and the event as ``int8`` and fall back to the inferred types when the file
            holds fractions or labels (one more read).
        read_options : mapping, optional
            Extra keyword arguments of ``pandas.read_csv`` (engine "pandas") or of
            ``pyarrow.csv.ReadOptions`` (engine "pyarrow"), e.g. ``{"encoding": "latin-1"}``.
        **kwargs
            Passed to :meth:`from_frame` (``time_unit``, ``censored``, ``cause_map``, ``rename``...).

        Returns
        -------
        Tenures
            As :meth:`from_frame` would build it from the file read as a frame; the frame read is not kept
            (only the id column, by reference, when ``id`` is given).

        Examples
        --------
        >>> t = Tenures.from_csv("customers.csv", duration="tenure", event="churned",
        ...                      segments="contract")  # doctest: +SKIP
        """
        owner = "Tenures.from_csv"
        check_one_of(engine, "engine", owner, ("pyarrow", "pandas"))
        segments, values = _as_list(segments), _as_list(values)
        categorical = [c for c in [*segments, cause] if c is not None]
        cols = list(dict.fromkeys(c for c in [duration, exit, event, entry, cause, id, weights, *segments, *values]
                                  if c is not None))
        extra = dict(read_options or {})
        times = [c for c in (duration, exit, entry) if c is not None]
        flags = [event] if event is not None else []
        if engine == "pandas":
            frame = _read_csv_pandas(path, cols, categorical, times, flags, extra, owner)
        else:
            frame = _read_csv_arrow(path, cols, categorical, times, flags, extra, owner)
        return cls.from_frame(frame, duration=duration, exit=exit, event=event, entry=entry, cause=cause, id=id,
                              segments=segments, values=values, weights=weights, _owned=True, **kwargs)

    @classmethod
    def from_dates(
        cls,
        frame: pd.DataFrame,
        *,
        start: str,
        end: str,
        as_of,
        unit: str = "month",
        observed_from=None,
        event: str | None = None,
        dayfirst: bool | None = None,
        date_format: str | None = None,
        **kwargs,
    ) -> Tenures:
        """Build a tenure table from sign-up and defection dates.

        Parameters
        ----------
        frame : pandas.DataFrame
            Not modified.
        start : str
            Sign-up date column.
        end : str
            Defection date column; missing means still a customer at ``as_of``.
        as_of : date-like
            The data's cut-off: customers still active then are censored at ``as_of``; an ``end`` after
            ``as_of`` is treated as not yet observed (censored at ``as_of``).
        unit : {"month", "week", "day"}
            Time unit. **Months are completed calendar months**: from 2024-01-31 to 2024-02-29 is one month
            (the end-of-month rule: a month is complete on the same day-of-month, or the last day of a shorter
            month), from 2024-01-15 to 2024-02-14 is zero. Weeks are completed 7-day weeks; days are days.
        observed_from : date-like, optional
            Date from which records were kept (left truncation): customers who signed up earlier enter
            observation at their tenure on that date.
        event : str, optional
            An explicit event column; by default a row is a defection when ``end`` is on or before ``as_of``.
        dayfirst : bool, optional
            For text dates such as ``03/04/2024``: True reads day/month/year, False month/day/year. By default the
            order is detected from the values (a first field above 12 means day first, a second field above 12
            month first) and **refused when no value settles it** or values contradict each other.
        date_format : str, optional
            An explicit ``strftime`` format for text dates (e.g. ``"%d.%m.%y"``); overrides the detection.
        **kwargs
            Passed to :meth:`from_frame` (``cause``, ``id``, ``segments``, ``values``, ...).

        Notes
        -----
        How date columns are read (see the reliability guide): datetime columns as they are; a time-zone-aware
        column in its own wall-clock time (the zone dropped, the local date kept), mixed offsets converted to
        UTC with a warning; ISO text as such; day/month order never guessed (``dayfirst``/``date_format``, or
        detected where the values settle it, else refused); 8-digit integers as ``yyyymmdd``; other numbers
        (spreadsheet serial days, epoch times) refused with the conversion to write. An ``end`` beyond pandas'
        date range (year 2262 or later, such as the open-end sentinel ``9999-12-31``) means "no end yet": the
        customer is censored at ``as_of``, like a missing end. Such a ``start`` is an error.
        """
        owner = "Tenures.from_dates"
        check_one_of(unit, "unit", owner, ("month", "week", "day"))
        check_columns(frame, [start, end, event, kwargs.get("id")])
        ids = frame[kwargs["id"]].to_numpy() if kwargs.get("id") else frame.index.to_numpy()
        if dayfirst is None and date_format is None:  # one order for both columns, settled by either
            dayfirst = detect_dayfirst(frame[start], frame[end])
        s, far = parse_dates(frame[start], start, ids, dayfirst=dayfirst, date_format=date_format)
        if far.any():
            raise data_error(start, "sign-up dates beyond the year 2261 (an open-end sentinel such as 9999-12-31?)",
                             far, ids, "A sign-up date must be a real date on or before 'as_of'.")
        e, _open_end = parse_dates(frame[end], end, ids, dayfirst=dayfirst, date_format=date_format)
        as_of_ts = parse_date_scalar(as_of, "as_of", dayfirst=dayfirst, date_format=date_format)
        bad = s.notna().to_numpy() & (s > as_of_ts).to_numpy()
        if bad.any():
            raise data_error(start, f"sign-up dates after the as-of date {as_of_ts.date()}", bad, ids,
                             "Drop customers who had not signed up by the cut-off, or move 'as_of'.")
        bad = s.isna().to_numpy()
        if bad.any():
            raise data_error(start, "missing sign-up dates", bad, ids, "Every customer needs a sign-up date.")
        bad = (e.notna() & (e < s)).to_numpy()
        if bad.any():
            raise data_error(end, f"defection dates before the sign-up date (column {start!r})", bad, ids,
                             "Check that start and end are not swapped.")
        observed = e.notna() & (e <= as_of_ts)
        stop = e.where(observed, as_of_ts)
        exit_s = pd.Series(_elapsed(s, stop, unit), index=frame.index, name=end)
        event_col = pd.Series(observed.to_numpy(), index=frame.index, name=end) if event is None else event
        entry_s = None
        if observed_from is not None:
            of = parse_date_scalar(observed_from, "observed_from", dayfirst=dayfirst, date_format=date_format)
            entry_v = _elapsed(s, s.where(s > of, of), unit)
            bad = (entry_v > 0) & (stop < of).to_numpy()
            if bad.any():
                raise data_error(end, f"defections before the observation start {of.date()}", bad, ids,
                                 "Customers who left before records were kept cannot be in a truncated sample.")
            # left in the same (partial) unit in which observation started: at risk at that one time
            exit_v = exit_s.to_numpy()
            same = (entry_v > 0) & (entry_v >= exit_v)
            entry_v = np.where(same, exit_v - 1, entry_v)
            entry_s = pd.Series(entry_v, index=frame.index, name="observed_from")
        cause = kwargs.pop("cause", None)
        if cause is not None and event is None:
            # a cause recorded for a defection after the cut-off is not yet observed
            check_columns(frame, [cause])
            cause = frame[cause].where(observed.to_numpy(), None)
        kwargs.setdefault("censored", None)
        return cls.from_frame(frame, duration=exit_s, event=event_col, entry=entry_s, cause=cause,
                              time_unit=unit, **kwargs)

    @classmethod
    def from_snapshot(
        cls,
        frame: pd.DataFrame,
        *,
        tenure: str,
        status: str,
        period: float,
        churned="Churned",
        joined="Joined",
        stayed="Stayed",
        truncate: bool = True,
        churn_timing="middle",
        **kwargs,
    ) -> Tenures:
        """Build a tenure table from a churn snapshot (one row per customer on the books during a period).

        A snapshot lists the customers who were customers at some time during a reporting period of length
        ``period`` ending at the snapshot date, with their tenure at the end of the period (or at defection)
        and a status. Customers who left before the period are absent, so each row is observed only from the
        period's start: **entry = max(tenure - period, 0)**, and customers who joined during the period enter
        at 0. This is left truncation; ignoring it (``truncate=False``, the usual reading in tutorials)
        treats every customer as followed from sign-up and overstates survival.

        Parameters
        ----------
        frame : pandas.DataFrame
            The snapshot. Not modified.
        tenure : str
            Tenure column (time units, e.g. months).
        status : str
            Status column.
        period : float
            Length of the reporting period in time units (3 for a quarter of monthly data).
        churned, joined, stayed : label or list of labels
            Status labels: defected during the period; joined during the period (censored, entry 0); stayed.
        truncate : bool, default True
            Apply the left truncation. With False every row enters at 0 (the naive reading).
        churn_timing : {"middle", "end", "start"} or float, default "middle"
            When within the period a customer who defected left. A snapshot gives a defector's tenure at
            defection, not the date, so the time they were observed within the period (their exposure before
            leaving) is uncertain by up to the period's length; entry = max(tenure - exposure, 0) with exposure

            * ``"end"``: the whole period (``period``): the most optimistic reading (most time at risk
              without defecting; the rule of churnsurv before 0.2);
            * ``"middle"`` (default): half the period, rounded up to whole time units when tenures and period
              are whole numbers (with whole-unit tenures, half a unit more or less changes no risk set): the
              expected exposure if defections are spread evenly over the period;
            * ``"start"``: one time unit (or the period, if shorter): the defector left in the first time unit
              of the period, the most pessimistic reading that still keeps the defection in a risk set;
            * a number in (0, 1]: that fraction of the period.

            Customers still on the books are observed over the whole period whatever this says. The choice
            moves every truncated estimate: compare ``"start"`` and ``"end"`` (e.g. with
            :func:`churnsurv.snapshot_timing_range`) and report the range.
        **kwargs
            Passed to :meth:`from_frame` (``cause``, ``cause_map``, ``id``, ``segments``, ``values``...).

        Returns
        -------
        Tenures
            With ``truncation`` set to a :class:`TruncationReport` (counts of truncated rows, the timing rule).

        Notes
        -----
        The curve estimated from a truncated snapshot is a **period life table**: it applies this period's
        tenure-specific churn rates to a customer followed from sign-up, with no cohort or calendar effects. It
        is not the experience of any cohort of customers.
        """
        owner = "Tenures.from_snapshot"
        if isinstance(period, bool) or not isinstance(period, numbers.Real):
            raise param_error("period", owner, "a positive number of time units", period, type_error=True)
        if not float(period) > 0:
            raise param_error("period", owner, "a positive number of time units", period)
        check_columns(frame, [tenure, status, kwargs.get("id")])
        ids = frame[kwargs["id"]].to_numpy() if kwargs.get("id") else frame.index.to_numpy()
        t = _numeric_times(frame[tenure], tenure, ids)
        st = frame[status]
        churned_l, joined_l, stayed_l = _as_list(churned), _as_list(joined), _as_list(stayed)
        known = st.isin(churned_l + joined_l + stayed_l).to_numpy()
        if (~known).any():
            labels = ", ".join(repr(x) for x in pd.Series(st[~known]).astype(str).value_counts().index[:5])
            raise data_error(status, f"unknown status labels ({labels})", ~known, ids,
                             f"Expected churned={churned_l}, joined={joined_l}, stayed={stayed_l}.")
        is_joined = st.isin(joined_l).to_numpy()
        long_joiners = is_joined & (t > period)
        if long_joiners.any():
            warnings.warn(
                f"Column {tenure!r}: {int(long_joiners.sum())} customers with status {joined_l} have tenure "
                f"longer than the period ({period:g}); they are treated as entering at 0.",
                ChurnsurvWarning, stacklevel=find_stack_level())
        exposure, timing = _churn_exposure(churn_timing, float(period), t, owner)
        is_churned = st.isin(churned_l).to_numpy()
        observed_for = np.where(is_churned, exposure, float(period))
        snapshot_entry = np.where(is_joined, 0.0, np.maximum(t - observed_for, 0.0))
        entry = snapshot_entry if truncate else np.zeros(len(t))
        entry_s = pd.Series(entry, index=frame.index, name=tenure)
        event_s = pd.Series(is_churned, index=frame.index, name=status)
        kwargs.pop("censored", None)
        out = cls.from_frame(frame, duration=tenure, event=event_s, entry=entry_s, **kwargs)
        n_trunc = int((snapshot_entry > 0).sum())
        out.truncation = TruncationReport(
            period=float(period), n_rows=len(t), n_truncated=n_trunc, n_joined=int(is_joined.sum()),
            n_entry_zero=int(len(t) - n_trunc), applied=bool(truncate), churn_timing=timing,
            churn_exposure=float(exposure), n_churned=int(is_churned.sum()))
        return out

    # ------------------------------------------------------------------ views
    def __len__(self) -> int:
        return len(self._frame) if self._store is None else len(self._store["exit"])

    @property
    def n_customers(self) -> int:
        """Number of distinct ids."""
        return int(pd.Series(np.asarray(self.column("id"))).nunique()) if self.spells else len(self)

    @property
    def n_events(self) -> int:
        """Number of defections."""
        return int(np.count_nonzero(self.column("event")))

    @property
    def is_truncated(self) -> bool:
        """Whether any row enters observation after time 0."""
        entry = self._stored("entry")
        return entry is not None and bool((entry > 0).any())

    def __repr__(self) -> str:
        parts = [f"{len(self):,} rows", f"{self.n_events:,} defections", f"time unit {self.time_unit!r}"]
        if self.causes:
            parts.append(f"causes {list(self.causes)}")
        if self.segments:
            parts.append(f"segments {list(self.segments)}")
        if self.is_truncated:
            parts.append(f"{int(np.count_nonzero(self._stored('entry') > 0)):,} left-truncated")
        return f"Tenures({', '.join(parts)})"

    def naive(self) -> Tenures:
        """The same records read as if every customer were followed from sign-up (all entries 0).

        This is the usual, untruncated reading of snapshot data. It overstates survival when the records
        are a snapshot; compare both readings before choosing.
        """
        if self._store is not None:
            return Tenures(segments=self.segments, values=self.values, causes=self.causes, time_unit=self.time_unit,
                           spells=self.spells, truncation=None, source=self.source,
                           _store={**self._store, "entry": None})
        data = self.data.copy()
        data["entry"] = 0.0
        return Tenures(data, segments=self.segments, values=self.values, causes=self.causes,
                       time_unit=self.time_unit, spells=self.spells, truncation=None, source=self.source)

    def with_single_cause(self, label: str = "unspecified") -> Tenures:
        """A copy in which every defection has the one cause ``label``: for records without causes.

        Competing-risks estimators then reduce to their all-cause versions (the cumulative incidence of the one
        cause is 1 - S, the cause-specific hazard is the hazard), so a causes analysis runs on such records and
        says that no cause was recorded instead of failing. A table that has causes is returned unchanged.
        """
        if self.causes:
            return self
        data = self.data.copy()
        event = data["event"].to_numpy(bool)
        cause = pd.Categorical(np.where(event, label, None), categories=[label])
        data.insert(int(data.columns.get_loc("event")) + 1, "cause", cause)
        return Tenures(data, segments=self.segments, values=self.values, causes=(label,), time_unit=self.time_unit,
                       spells=self.spells, truncation=self.truncation, source=self.source)

    def with_churn_timing(self, churn_timing) -> Tenures:
        """The same snapshot read with another assumption about when in the period the defectors left.

        Only for a tenure table built by :meth:`from_snapshot` with ``truncate=True``: the defectors' entries
        become ``max(exit - exposure, 0)`` for the new rule (see ``churn_timing`` there); every other row is
        unchanged. Use it to report a snapshot estimate under ``"start"`` and ``"end"`` as a range
        (:func:`churnsurv.snapshot_timing_range` does that for the headline numbers).
        """
        owner = "Tenures.with_churn_timing"
        rep = self.truncation
        if rep is None or not rep.applied:
            raise ValueError(f"{owner} needs a tenure table read as a truncated snapshot "
                             "(Tenures.from_snapshot(..., truncate=True)); this one is not.")
        d = self.data
        exit_t = d["exit"].to_numpy(float)
        exposure, timing = _churn_exposure(churn_timing, rep.period, exit_t, owner)
        data = d.copy()
        event = d["event"].to_numpy(bool)
        data.loc[event, "entry"] = np.maximum(exit_t[event] - exposure, 0.0)
        n_trunc = int((data["entry"] > 0).sum())
        truncation = TruncationReport(
            period=rep.period, n_rows=rep.n_rows, n_truncated=n_trunc, n_joined=rep.n_joined,
            n_entry_zero=rep.n_rows - n_trunc, applied=True, churn_timing=timing, churn_exposure=float(exposure),
            n_churned=rep.n_churned)
        return Tenures(data, segments=self.segments, values=self.values, causes=self.causes,
                       time_unit=self.time_unit, spells=self.spells, truncation=truncation, source=self.source)

    def subset(self, mask) -> Tenures:
        """A tenure table of the rows where ``mask`` is True (categories kept)."""
        data = self.data.loc[np.asarray(mask, dtype=bool)].reset_index(drop=True)
        if len(data) == 0:
            raise TenureDataError("The subset is empty: a tenure table needs at least one row.")
        return Tenures(data, segments=self.segments, values=self.values, causes=self.causes,
                       time_unit=self.time_unit, spells=self.spells, truncation=self.truncation, source=self.source)

    def with_segment(self, name: str, values, missing_segment: str = "level") -> Tenures:
        """A copy with one more segment column (e.g. a derived band)."""
        data = self.data.copy()
        data[name] = _segment(pd.Series(np.asarray(values, dtype=object)), name, data["id"].to_numpy(),
                              missing_segment)
        segs = self.segments + ((name,) if name not in self.segments else ())
        return Tenures(data, segments=segs, values=self.values, causes=self.causes, time_unit=self.time_unit,
                       spells=self.spells, truncation=self.truncation, source=self.source)

    def describe(self, by: str | Sequence[str] | None = None) -> pd.DataFrame:
        """Per-segment summary: customers, defections by cause, censored, truncated entries, follow-up.

        Parameters
        ----------
        by : str or list of str, optional
            Segment columns; default the whole table.

        Returns
        -------
        pandas.DataFrame
            One row per segment with ``n_customers``, ``n_events``, one ``events_<cause>`` column per cause,
            ``n_censored``, ``n_truncated`` (entry > 0), ``median_follow_up`` (median of exit - entry),
            ``min_time`` and ``max_time``.
        """
        by = self._check_by(by, "Tenures.describe")
        for b in by:
            if b in self.segments:
                _warn_id_like(self.column(b), b, len(self))
        w = self.column("weight").astype(float, copy=False)
        event = np.asarray(self.column("event"), dtype=bool)
        exit_t = self.column("exit")
        entry_t = self.column("entry")
        frame = pd.DataFrame({
            "n_customers": w,
            "n_events": w * event,
            "n_censored": w * ~event,
            "n_truncated": w * (entry_t > 0),
            "follow_up": (exit_t - entry_t).astype(float),
            "min_time": exit_t.astype(float),
            "max_time": exit_t.astype(float),
        })
        cause = self._stored("cause")
        for c in self.causes:
            frame[f"events_{c}"] = w * np.asarray(cause == c)
        keys = [pd.Series(self.column(b), name=b) for b in by] if by else \
            [pd.Series("all", index=frame.index, name="segment")]
        g = frame.groupby(keys, observed=True, sort=True)
        sums = g[["n_customers", "n_events", *[f"events_{c}" for c in self.causes], "n_censored",
                  "n_truncated"]].sum()
        out = sums.assign(
            median_follow_up=g["follow_up"].median(),
            min_time=g["min_time"].min(),
            max_time=g["max_time"].max(),
        ).reset_index()
        if not by:
            out = out.drop(columns="segment")
        return out

    def _check_by(self, by, owner: str) -> list[str]:
        """Grouping columns: segment or value columns, never a canonical column such as the event flag."""
        by = _as_list(by)
        if len(set(by)) != len(by):
            raise ValueError(f"{owner}: 'by' lists a column twice: {by}.")
        for b in by:
            if b in CANONICAL:
                raise TenureDataError(
                    f"{owner}: by={b!r} names the tenure table's {_CANONICAL_MEANING[b]} (a canonical column), "
                    f"not a segment. Group by a segment column ({list(self.segments) or 'none declared'}); a column "
                    f"of your records called {b!r} is kept as a segment with segments=[{b!r}], "
                    f"rename={{{b!r}: {b + '_segment'!r}}}.", column=b, n_rows=len(self))
        check_columns(pd.DataFrame(columns=self._names()), by, what="tenure table")
        return by

    def check_confounding(self, by: str | Sequence[str], *, warn: bool = True) -> pd.DataFrame:
        """Warn when a segment column is determined by tenure itself; see :func:`tenure_confounding`."""
        tables = []
        for col in _as_list(by):
            table = tenure_confounding(self, col)
            if warn and table.attrs["confounded"]:
                warnings.warn(table.attrs["message"], TenureConfoundingWarning, stacklevel=find_stack_level())
            tables.append(table)
        return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def tenure_confounding(tenures: Tenures, segment: str, *, coverage: float = 0.9,
                       max_overlap: float = 0.1, min_share: float = 0.01) -> pd.DataFrame:
    """Measure whether the levels of a segment occupy (nearly) disjoint tenure ranges.

    For each level, take the central ``coverage`` range of tenure (exit times, from the lower ``(1 - coverage)/2``
    to the upper quantile, each the smallest exit time whose cumulative share reaches it). Two levels are *nearly
    disjoint* when their ranges overlap by less than ``max_overlap`` of the narrower range. When any two
    levels holding at least ``min_share`` of the rows are nearly disjoint, comparing survival across levels
    measures tenure, not the segment (e.g. an offer made only to customers in a given tenure band).

    Parameters
    ----------
    tenures : Tenures
    segment : str
        Segment column.
    coverage, max_overlap, min_share : float
        See above.

    Returns
    -------
    pandas.DataFrame
        One row per level: ``segment`` (the column name), ``level``, ``n``, ``tenure_low``, ``tenure_high``,
        ``n_disjoint`` (number of other levels it is nearly disjoint from). ``attrs["confounded"]`` holds the
        verdict and ``attrs["message"]`` the warning text.
    """
    tenures._check_by(segment, "tenure_confounding")
    lo_q, hi_q = (1 - coverage) / 2, 1 - (1 - coverage) / 2
    col = pd.Series(tenures.column(segment))
    codes, levels = (col.cat.codes.to_numpy(np.int64), list(col.cat.categories)) \
        if isinstance(col.dtype, pd.CategoricalDtype) else pd.factorize(col, sort=True)
    exit_t = np.asarray(tenures.column("exit"), dtype=float)
    exit_i = exit_t.astype(np.int64)
    n_levels, top = len(levels), int(exit_t.max())
    if np.array_equal(exit_i, exit_t) and n_levels * (top + 1) <= 20_000_000:
        # integer tenures: quantiles from a (level x time) count table, one pass over the rows
        counts = np.bincount(codes * (top + 1) + exit_i, minlength=n_levels * (top + 1)).reshape(n_levels, top + 1)
        n = counts.sum(axis=1)
        share = np.cumsum(counts, axis=1) / np.maximum(n, 1)[:, None]
        low = np.argmax(share >= lo_q - 1e-12, axis=1).astype(float)
        high = np.argmax(share >= hi_q - 1e-12, axis=1).astype(float)
    else:
        g = pd.Series(exit_t).groupby(codes)
        n = g.size().reindex(range(n_levels), fill_value=0).to_numpy()
        low = g.quantile(lo_q, interpolation="lower").reindex(range(n_levels)).to_numpy()
        high = g.quantile(hi_q, interpolation="lower").reindex(range(n_levels)).to_numpy()
    return _confounding_table(segment, levels, n, low, high, len(tenures), max_overlap=max_overlap, min_share=min_share)


def _confounding_table(segment, levels, n, low, high, n_rows, *, max_overlap=0.1, min_share=0.01) -> pd.DataFrame:
    """The verdict of :func:`tenure_confounding` from each level's row count and central tenure range."""
    n, low, high = np.asarray(n), np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    keep = n > 0
    table = pd.DataFrame({"level": np.asarray(levels, dtype=object)[keep], "n": n[keep],
                          "tenure_low": low[keep], "tenure_high": high[keep]})
    table.insert(0, "segment", segment)
    big = (table["n"] >= max(10, min_share * n_rows)).to_numpy()
    lo, hi = table["tenure_low"].to_numpy(), table["tenure_high"].to_numpy()
    # only levels holding >= max(10, min_share * n_rows) rows take part: at most 1 / min_share of them (100 by
    # default) whatever the number of levels, so the pairwise comparison below is small; it runs in blocks so that
    # even min_share=0 never builds a (levels x levels) matrix
    n_disjoint = np.zeros(len(table), dtype=np.int64)
    idx = np.flatnonzero(big)
    blo, bhi = lo[idx], hi[idx]
    step = max(1, 4_000_000 // max(len(idx), 1))
    for a in range(0, len(idx), step):
        l1, h1 = blo[a:a + step, None], bhi[a:a + step, None]
        overlap = np.maximum(0.0, np.minimum(h1, bhi[None, :]) - np.maximum(l1, blo[None, :]))
        width = np.maximum(np.minimum(h1 - l1, (bhi - blo)[None, :]), 1.0)
        disjoint = overlap / width < max_overlap
        disjoint[np.arange(disjoint.shape[0]), np.arange(a, a + disjoint.shape[0])] = False
        n_disjoint[idx[a:a + step]] = disjoint.sum(axis=1)
    table["n_disjoint"] = n_disjoint
    confounded = bool(n_disjoint.any())
    table.attrs["confounded"] = confounded
    if confounded:
        hit = np.flatnonzero(n_disjoint > 0)
        levels_arr = table["level"].to_numpy()
        bands = "; ".join(f"{levels_arr[i]}: {lo[i]:g}-{hi[i]:g}" for i in hit[:10])
        if len(hit) > 10:
            bands += f"; and {len(hit) - 10} more levels"
        table.attrs["message"] = (
            f"Segment column {segment!r} is determined by tenure: its levels occupy nearly disjoint tenure ranges "
            f"({bands}). Survival curves by {segment!r} measure tenure, not the segment; do not read them as the "
            f"segment's effect.")
    else:
        table.attrs["message"] = ""
    return table


# ---------------------------------------------------------------------- names
def _renamed(segments: list, values: list, rename, owner: str) -> tuple[list, list]:
    """The table names of the segment and value columns after ``rename``."""
    if rename is None:
        return list(segments), list(values)
    if not isinstance(rename, Mapping):
        raise param_error("rename", owner, "a mapping {column in the frame: name in the tenure table}", rename,
                          type_error=True)
    unknown = [k for k in rename if k not in segments and k not in values]
    if unknown:
        raise ValueError(f"{owner}: rename={dict(rename)!r} renames {unknown}, which are not segment or value "
                         f"columns (segments={list(segments)}, values={list(values)}); only those can be renamed.")
    bad = [v for v in rename.values() if not isinstance(v, str) or not v]
    if bad:
        raise param_error("rename", owner, "a mapping to non-empty str names", dict(rename))
    return [rename.get(c, c) for c in segments], [rename.get(c, c) for c in values]


def _check_user_names(segments: tuple, values: tuple, causes: tuple, owner: str, n_rows: int) -> None:
    """Refuse segment or value names that would clash with a canonical or result column (see CANONICAL)."""
    def clash(name, kind, what):
        return TenureDataError(
            f"{owner}: the {kind} column {name!r} has the name of {what}, so it would be confused with it in "
            f"every table built from the records ({n_rows} rows). Keep it under another name: pass "
            f"rename={{{name!r}: {str(name) + '_' + kind!r}}} (or rename the column in your frame).",
            column=name, n_rows=n_rows)

    for kind, names in (("segment", segments), ("value", values)):
        for name in names:
            if not isinstance(name, str):
                raise TenureDataError(f"{owner}: {kind} column names must be str; got {name!r} "
                                      f"({type(name).__name__}). Rename the column or pass rename={{...}}.",
                                      column=name, n_rows=n_rows)
            if name in CANONICAL:
                raise clash(name, kind, f"the tenure table's {_CANONICAL_MEANING[name]} ({name!r})")
    for name in segments:
        if name in RESERVED_SEGMENT_NAMES:
            raise clash(name, "segment", f"the result column {name!r} of life tables and estimates")
        if any(name == f"events_{c}" for c in causes):
            raise clash(name, "segment", f"the per-cause count column {name!r} (cause {name[7:]!r})")
    seen: set = set()
    for name in (*segments, *values):
        if name in seen:
            raise TenureDataError(f"{owner}: the column {name!r} is listed twice among the segments and values "
                                  f"(segments={list(segments)}, values={list(values)}); a column is either a "
                                  "segment or a value, once.", column=name, n_rows=n_rows)
        seen.add(name)


#: A segment with at least this many levels, and fewer than ``_ID_LIKE_ROWS`` rows per level on average, looks
#: like an id column used as a segment by mistake.
_ID_LIKE_LEVELS = 1000
_ID_LIKE_ROWS = 5


def _looks_like_id(col, n_rows: int) -> tuple[bool, int]:
    """Whether a segment column looks like an id (many levels, a few rows each), and its number of levels."""
    n_levels = len(col.categories) if isinstance(col, pd.Categorical) else int(pd.Series(col).nunique())
    return n_levels >= _ID_LIKE_LEVELS and n_levels * _ID_LIKE_ROWS > n_rows, n_levels


def _warn_id_like(col, name: str, n_rows: int) -> None:
    """Warn that a segment column looks like an id (``describe`` would give one row per customer)."""
    id_like, n_levels = _looks_like_id(col, n_rows)
    if id_like:
        warnings.warn(
            f"Segment column {name!r} has {n_levels:,} levels for {n_rows:,} rows ({n_rows / n_levels:.1f} rows "
            "per level): it looks like an id, not a segment. Per-segment summaries and curves by it have one row "
            "per customer and estimate nothing; pass it as id=... or band it (e.g. pd.qcut) before using it as a "
            "segment.", ChurnsurvWarning, stacklevel=find_stack_level())


def _warn_zero_weight_levels(w: np.ndarray, segments: dict) -> None:
    """Warn about segment levels whose rows all have weight 0 (they get no curve, never a survival of 1)."""
    for name, cat in segments.items():
        codes = cat.codes
        k = len(cat.categories)
        rows = np.bincount(codes, minlength=k)
        total = np.bincount(codes, weights=w, minlength=k)
        empty = (rows > 0) & (total == 0)
        if empty.any():
            levels = ", ".join(f"{cat.categories[i]!r} ({rows[i]} rows)" for i in np.flatnonzero(empty)[:5])
            warnings.warn(
                f"Segment column {name!r}: {int(empty.sum())} level(s) have only zero weights: {levels}. Life "
                "tables and estimates by this column leave them out (no curve), since nothing is observed.",
                StatisticalWarning, stacklevel=find_stack_level())


# ---------------------------------------------------------------------- storage types
_INT32_MAX = np.iinfo(np.int32).max


def _code_dtype(n_levels: int):
    """The narrowest signed code type for ``n_levels`` categories (code -1 is missing), as pandas chooses."""
    for dt in (np.int8, np.int16, np.int32):
        if n_levels < np.iinfo(dt).max:
            return dt
    return np.int64


def _narrow_int(arr: np.ndarray, copy: bool = True) -> np.ndarray:
    """Non-negative whole-number times as int32 when they fit (a private copy unless ``copy=False``), else int64."""
    if arr.size == 0 or int(arr.max()) <= _INT32_MAX:
        return arr.astype(np.int32, copy=copy)
    return arr.astype(np.int64, copy=copy)


def _common_time_type(entry: np.ndarray, exit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entry and exit in one type: integers when both are, floats otherwise."""
    if entry.dtype == exit.dtype:
        return entry, exit
    if entry.dtype.kind in "iu" and exit.dtype.kind in "iu":
        return entry.astype(np.int64), exit.astype(np.int64)
    return entry.astype(float), exit.astype(float)


def _time_array(col: pd.Series, name: str, ids, what: str = "times", copy: bool = True) -> np.ndarray:
    """Validated times (or weights) in the narrowest exact type: int32 for whole numbers that fit, else float64.

    Integer columns never pass through floats; float columns holding whole numbers become integers.
    """
    if pd.api.types.is_bool_dtype(col):
        raise data_error(name, f"boolean values where {what} are expected", np.ones(len(col), bool), ids,
                         "Pass a numeric column.")
    if pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_timedelta64_dtype(col):
        raise data_error(name, f"dates or timedeltas where {what} in time units are expected",
                         np.ones(len(col), bool), ids,
                         "Use Tenures.from_dates for dates, or convert durations to numbers of time units.")
    dtype = col.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":  # numpy integers: no missing, no inf
        arr = col.to_numpy()
        if dtype.kind == "i" and arr.size and arr.min() < 0:
            raise data_error(name, f"negative {what}", arr < 0, ids, _negative_fix(what))
        return _narrow_int(arr, copy=copy)
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        arr = col.to_numpy()
        missing = np.isnan(arr)
    else:
        num = pd.to_numeric(col, errors="coerce")
        arr = num.to_numpy(dtype=float, na_value=np.nan)
        missing = col.isna().to_numpy()
        nonnum = np.isnan(arr) & ~missing
        if nonnum.any() and missing.any():
            raise data_error(name, f"missing {what}", missing, ids, "Fill or drop them before building the table.")
        if nonnum.any():
            examples = ", ".join(repr(v) for v in pd.Series(col[nonnum]).astype(str).unique()[:3])
            raise data_error(name, f"non-numeric {what} (e.g. {examples})", nonnum, ids,
                             "Convert the column to numbers (pd.to_numeric) or fix the bad entries.")
    if missing.any():
        raise data_error(name, f"missing {what}", missing, ids, "Fill or drop them before building the table.")
    inf = np.isinf(arr)
    if inf.any():
        raise data_error(name, f"infinite {what}", inf, ids, "Censor such customers at a finite time.")
    if arr.size and arr.min() < 0:
        raise data_error(name, f"negative {what}", arr < 0, ids, _negative_fix(what))
    if arr.size and arr.max() <= _INT32_MAX and bool(np.all(np.mod(arr, 1) == 0)):
        return arr.astype(np.int32)
    return arr.astype(np.float64, copy=True) if np.shares_memory(arr, col.to_numpy()) else arr.astype(np.float64)


def _negative_fix(what: str) -> str:
    if what == "times":
        return "Times must be >= 0; check the start/end dates in preprocessing."
    return f"{what.capitalize()} must be >= 0."


# ---------------------------------------------------------------------- reading files
def _read_csv_pandas(path, cols, categorical, times, flags, extra, owner) -> pd.DataFrame:
    """``pandas.read_csv`` of the needed columns, first with narrow types (int32 times, int8 flags, categories),
    then, when the file does not fit them (fractions, labels), with the categories only."""
    cat = {c: "category" for c in categorical}
    attempts = [{**{c: "int32" for c in times}, **{c: "int8" for c in flags}, **cat}, cat]
    for i, dtype in enumerate(attempts):
        try:
            return pd.read_csv(path, usecols=cols, dtype=dtype, **extra)
        except ValueError as err:
            if "Usecols" in str(err):
                raise TenureDataError(f"{owner}: {err} (file {str(path)!r}). Check the column names (they are "
                                      "case-sensitive).") from err
            if i == len(attempts) - 1:
                raise
        except OverflowError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def _read_csv_arrow(path, cols, categorical, times, flags, extra, owner) -> pd.DataFrame:
    """``pyarrow.csv`` read of the needed columns (segments dictionary-encoded), narrow types first as above."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    dictionary = {c: pa.dictionary(pa.int32(), pa.string()) for c in categorical}
    attempts = [{**{c: pa.int32() for c in times}, **{c: pa.int8() for c in flags}, **dictionary}, dictionary]
    for i, types in enumerate(attempts):
        try:
            table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(**extra),
                                   convert_options=pacsv.ConvertOptions(include_columns=cols, column_types=types))
            break
        except KeyError as err:  # pyarrow's ArrowKeyError names the missing column
            raise TenureDataError(f"{owner}: {str(err).strip(chr(34))} (file {str(path)!r}). Check the column "
                                  "names (they are case-sensitive).") from err
        except pa.ArrowInvalid:
            if i == len(attempts) - 1:
                raise
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    for c in categorical:  # levels in sorted order, as from a frame (the dictionary is in file order)
        frame[c] = frame[c].cat.reorder_categories(sorted(frame[c].cat.categories, key=str))
    return frame


# ---------------------------------------------------------------------- helpers
def _numeric_times(col: pd.Series, name: str, ids, what: str = "times") -> np.ndarray:
    """Validated times as float64 (see :func:`_time_array` for the stored, narrow version)."""
    return _time_array(col, name, ids, what).astype(float)


def _parse_event(col: pd.Series, name: str, ids, censored, event_labels) -> np.ndarray:
    missing = col.isna().to_numpy()
    if missing.any():
        raise data_error(name, "missing event flags", missing, ids,
                         "Every row must say whether the customer defected (True/1) or is censored (False/0).")
    if col.dtype == object:
        col = col.infer_objects()  # flags held in an object column (True/False, 0/1) are flags, not labels
    if col.dtype == object:  # True beside 1 (or beside text) would merge silently: refused
        check_kinds(col.to_numpy(), name, ids, "event values")
    if pd.api.types.is_bool_dtype(col) and censored is None:
        return col.to_numpy(dtype=bool, copy=True)
    cens_l, ev_l = _as_list(censored), _as_list(event_labels)
    if not cens_l and isinstance(col.dtype, np.dtype) and col.dtype.kind in "iu":  # 0/1 integers, no float copy
        arr = col.to_numpy()
        ev = arr == 1
        bad = ~ev & (arr != 0)
        if bad.any():
            vals = ", ".join(str(v) for v in pd.unique(arr[bad])[:5])
            raise data_error(name, f"unknown event labels ({vals})", bad, ids,
                             "Numeric event flags must be 0 (censored) or 1 (defected); for other codes "
                             "pass censored=[...] and event_labels=[...].")
        return ev
    if not cens_l and pd.api.types.is_numeric_dtype(col):
        arr = col.to_numpy(dtype=float)
        bad = ~np.isin(arr, [0.0, 1.0])
        if bad.any():
            vals = ", ".join(str(v) for v in pd.unique(arr[bad])[:5])
            raise data_error(name, f"unknown event labels ({vals})", bad, ids,
                             "Numeric event flags must be 0 (censored) or 1 (defected); for other codes "
                             "pass censored=[...] and event_labels=[...].")
        return arr == 1.0
    if not cens_l:
        labels = ", ".join(repr(v) for v in pd.unique(col)[:5])
        raise TenureDataError(
            f"Column {name!r} holds labels ({labels}); pass censored=<label(s) meaning still a customer> "
            "(and optionally event_labels=<label(s) meaning defected>).", column=name, n_rows=len(col))
    # labels: match on the distinct values, text compared without case and surrounding spaces ("No " is "No")
    codes, uniques = series_uniques(col)
    text = [i for i, u in enumerate(uniques) if isinstance(u, str)]
    if text:
        counts = np.bincount(codes, minlength=len(uniques))
        canon, merges = merge_variants([uniques[i] for i in text], counts[text],
                                       targets=[t for t in cens_l + ev_l if isinstance(t, str)])
        warn_merges(merges, name, "event labels")
        uniques = list(uniques)
        for i, c in zip(text, canon, strict=True):
            uniques[i] = c
    u = pd.Series(uniques, dtype=object)
    is_cens = u.isin(cens_l).to_numpy()[codes]
    if ev_l:
        is_ev = u.isin(ev_l).to_numpy()[codes]
        bad = ~is_cens & ~is_ev
        if bad.any():
            vals = ", ".join(repr(v) for v in pd.unique(col[bad])[:5])
            raise data_error(name, f"unknown event labels ({vals})", bad, ids,
                             f"Known labels: censored={cens_l}, events={ev_l}.")
        return is_ev
    return ~is_cens


def _unique_ids(ids) -> bool:
    """Whether ids are unique; a RangeIndex or strictly increasing numeric ids (the usual case) need no hash table."""
    if isinstance(ids, pd.RangeIndex):
        return True
    if isinstance(ids, pd.Index):
        if ids.is_monotonic_increasing and ids.dtype.kind in "iuf":
            ids = ids.to_numpy()
        else:
            return bool(ids.is_unique)
    if ids.dtype.kind in "iuf" and len(ids) > 1 and bool((ids[1:] > ids[:-1]).all()):
        return True
    return bool(pd.Index(ids).is_unique)


def _factorize(col: pd.Series, name=None, ids=None, targets: Sequence = (), what: str = "cause labels"
               ) -> tuple[np.ndarray, list]:
    """Codes and distinct labels of a column; missing and blank labels get code -1.

    Text labels that differ only by case or surrounding spaces are merged into one spelling (a label among
    ``targets`` when one matches, else the most frequent) with a warning; booleans mixed with numbers or text
    are refused (see :mod:`churnsurv.data._labels`).
    """
    check_kinds(col.to_numpy(), name, ids if ids is not None else np.arange(len(col)), what)
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    codes = np.asarray(codes, dtype=np.int64)
    labels = list(np.asarray(uniques, dtype=object))
    blank = np.array([isinstance(u, str) and u.strip() == "" for u in labels], dtype=bool)
    if blank.any():  # drop blank labels and renumber the others
        renumber = np.append(np.where(blank, -1, np.cumsum(~blank) - 1), -1)
        codes = renumber[codes]
        labels = [u for u, b in zip(labels, blank, strict=False) if not b]
    text = [i for i, u in enumerate(labels) if isinstance(u, str)]
    if text and (not _clean_labels([labels[i] for i in text]) or not _matches(labels, text, targets)):
        counts = np.bincount(codes[codes >= 0], minlength=len(labels))
        canon, merges = merge_variants([labels[i] for i in text], counts[text],
                                       targets=[str(t) for t in targets if isinstance(t, str)])
        warn_merges(merges, name, what)
        merged = list(labels)
        for i, c in zip(text, canon, strict=True):
            merged[i] = c
        distinct = list(dict.fromkeys(merged))
        renumber = np.array([distinct.index(m) for m in merged] + [-1], dtype=np.int64)
        codes, labels = renumber[codes], distinct
    return codes, labels


def _matches(labels: list, text: list, targets: Sequence) -> bool:
    """True when every text label is a target or matches none by key (no label needs a target's spelling)."""
    keys = {label_key(t): str(t) for t in targets if isinstance(t, str)}
    return all(labels[i] in keys.values() or label_key(labels[i]) not in keys for i in text)


_CHUNK = 1 << 18  # rows per chunk where a full-length temporary would cost 8 bytes a row
_HASH_CHUNK = 1 << 16  # rows per factorize call: its hash table is sized to its input


def _segment(col: pd.Series, name: str, ids, missing_segment: str) -> pd.Categorical:
    """A segment column as a categorical with the narrowest codes, factorized chunk by chunk (no full-length
    int64 codes); an input categorical keeps its categories (as str) and order."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = [str(c) for c in col.cat.categories]
        ordered = bool(col.cat.ordered)
        src_codes = col.cat.codes.to_numpy()
        blank = np.array([c.strip() == "" for c in cats] + [True])  # code -1 (missing) picks the trailing True
        missing = src_codes < 0
        for k in np.flatnonzero(blank[:-1]):  # blank labels (rare) are missing too
            missing |= src_codes == k
        if missing.any() and missing_segment == "error":
            raise data_error(name, "missing segment values", missing, ids,
                             f"Fill them, or pass missing_segment='level' to make them the level {MISSING_LEVEL!r}.")
        nonblank = [c for c, b in zip(cats, blank[:-1], strict=True) if not b]
        used = np.bincount(src_codes[src_codes >= 0], minlength=len(cats))[~blank[:-1]]
        canon, merges = merge_variants(nonblank, used)
        warn_merges(merges, name, "segment labels")
        spelled = dict(zip(nonblank, canon, strict=True))
        keep = list(dict.fromkeys(canon))
        miss_level = _missing_level(keep, name, int(missing.sum())) if missing.any() else MISSING_LEVEL
        if missing.any():
            keep = keep + [miss_level]
        index = {c: i for i, c in enumerate(keep)}
        lookup = np.array([index[spelled[c]] if not b else index.get(miss_level, -1)
                           for c, b in zip(cats, blank[:-1], strict=True)] + [index.get(miss_level, -1)],
                          dtype=_code_dtype(len(keep)))
        out = np.empty(len(src_codes), dtype=lookup.dtype)
        for start in range(0, len(src_codes), _CHUNK):  # chunked: a fancy index is converted to intp
            out[start:start + _CHUNK] = lookup[src_codes[start:start + _CHUNK]]
        return pd.Categorical.from_codes(out, categories=keep, ordered=ordered)
    n = len(col)
    values = col.to_numpy()
    label_index: dict = {}
    labels: list = []
    glob = np.empty(n, dtype=np.int32)  # label number per row (-1 missing), narrowed once the labels are known
    check_kinds(values, name, ids, "labels")
    for start in range(0, max(n, 1), _HASH_CHUNK):
        codes, uniques = pd.factorize(values[start:start + _HASH_CHUNK], use_na_sentinel=True)
        local = np.empty(len(uniques) + 1, dtype=np.int32)
        for i, u in enumerate(np.asarray(uniques, dtype=object)):
            key = str(u)
            if key.strip() == "":
                local[i] = -1
                continue
            if key not in label_index:
                label_index[key] = len(labels)
                labels.append(key)
            local[i] = label_index[key]
        local[-1] = -1
        glob[start:start + len(codes)] = local[codes]
    missing = glob < 0
    has_missing = bool(missing.any())
    if has_missing and missing_segment == "error":
        raise data_error(name, "missing segment values", missing, ids,
                         f"Fill them, or pass missing_segment='level' to make them the level {MISSING_LEVEL!r}.")
    n_missing = int(missing.sum())
    del missing
    canon = labels
    if not _clean_labels(labels):  # variants by case or spaces: one spelling each, with a warning
        counts = np.zeros(len(labels), dtype=np.int64)
        for start in range(0, n, _CHUNK):
            g = glob[start:start + _CHUNK]
            counts += np.bincount(g[g >= 0], minlength=len(labels))
        canon, merges = merge_variants(labels, counts)
        warn_merges(merges, name, "segment labels")
    cats = sorted(set(canon))
    order = {c: i for i, c in enumerate(cats)}
    miss_level = MISSING_LEVEL
    if has_missing:
        miss_level = _missing_level(cats, name, n_missing)
        cats = cats + [miss_level]
    dt = _code_dtype(len(cats))
    rank = np.empty(len(labels) + 1, dtype=dt)
    for i, lab in enumerate(canon):
        rank[i] = order[lab]
    rank[-1] = cats.index(miss_level) if has_missing else -1  # label -1 picks the missing level
    out = np.empty(n, dtype=dt)
    for start in range(0, n, _CHUNK):  # chunked: a fancy index is converted to intp
        out[start:start + _CHUNK] = rank[glob[start:start + _CHUNK]]
    del glob
    return pd.Categorical.from_codes(out, categories=cats)


def _clean_labels(labels: list) -> bool:
    """Whether no label has surrounding spaces and no two differ only by case (the usual case: no merge)."""
    if not labels:
        return True
    idx = pd.Index(labels, dtype=object)
    stripped = idx.str.strip()
    return bool((stripped == idx).all()) and bool(stripped.str.casefold().is_unique)


_MISSING_VALUE_LEVEL = "(missing value)"


def _missing_level(cats: list, name: str, n_missing: int) -> str:
    """The level of missing segment values: ``"(missing)"``, or, when the data hold a real label ``"(missing)"``,
    ``"(missing value)"`` with a warning (the two are never merged)."""
    if MISSING_LEVEL not in cats:
        return MISSING_LEVEL
    level = _MISSING_VALUE_LEVEL
    while level in cats:
        level = f"({level})"
    warnings.warn(
        f"Column {name!r} holds a real label {MISSING_LEVEL!r} beside {n_missing} missing value"
        f"{'s' if n_missing != 1 else ''}: they are kept apart, the missing values as the level {level!r}. Fill "
        "the missing values yourself (col.fillna(...)) to choose their label.", ChurnsurvWarning,
        stacklevel=find_stack_level())
    return level


def _elapsed(start: pd.Series, stop: pd.Series, unit: str) -> np.ndarray:
    """Completed units from start to stop (see :meth:`Tenures.from_dates`)."""
    if unit == "day":
        return (stop - start).dt.days.to_numpy(dtype=float)
    if unit == "week":
        return ((stop - start).dt.days // 7).to_numpy(dtype=float)
    months = (stop.dt.year - start.dt.year) * 12 + (stop.dt.month - start.dt.month)
    # the month is complete on the same day-of-month, or on the last day of a shorter month
    end_of_month = stop.dt.is_month_end & (start.dt.day > stop.dt.day)
    incomplete = (stop.dt.day < start.dt.day) & ~end_of_month
    return (months - incomplete.astype(int)).to_numpy(dtype=float)
