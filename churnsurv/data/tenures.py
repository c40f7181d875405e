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

from churnsurv._validation import check_columns, check_one_of, data_error, find_stack_level, param_error
from churnsurv.data.causes import CauseMap
from churnsurv.exceptions import ChurnsurvWarning, TenureConfoundingWarning, TenureDataError

__all__ = ["Tenures", "TruncationReport", "tenure_confounding"]

TIME_UNITS = ("month", "week", "day", "year")
MISSING_LEVEL = "(missing)"
CANONICAL = ("id", "entry", "exit", "event", "cause", "weight")


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
        (see ``CONTRIBUTING.md``). A private copy: changing it does not change the caller's frame.
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

    See Also
    --------
    churnsurv.life_table : the counts every nonparametric estimator starts from.
    """

    def __init__(self, data: pd.DataFrame, *, segments=(), values=(), causes=(), time_unit="month",
                 spells=False, truncation=None, source=None):
        self.data = data
        self.segments = tuple(segments)
        self.values = tuple(values)
        self.causes = tuple(causes)
        self.time_unit = time_unit
        self.spells = bool(spells)
        self.truncation = truncation
        self.source = source

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
            Segment columns (categorical) and value columns (numeric, e.g. monthly margin).
        weights : str, optional
            Case weight column (non-negative).
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
        check_columns(frame, [exit_col, event, entry, cause, id, weights, *segments, *values])
        if len(frame) == 0:
            raise TenureDataError("The records are empty: a tenure table needs at least one row.", n_rows=0)

        ids = frame[id].to_numpy() if id is not None else frame.index.to_numpy()
        n = len(frame)
        exit_t = _numeric_times(frame[exit_col], exit_col, ids)
        entry_t = _numeric_times(frame[entry], entry, ids) if entry is not None else np.zeros(n)

        # --- event flag
        raw_cause = frame[cause] if cause is not None else None
        if event is not None:
            ev = _parse_event(frame[event], event, ids, censored, event_labels)
        elif raw_cause is not None:
            ev = _factorize(raw_cause)[0] >= 0
        else:
            ev = np.ones(n, dtype=bool)

        # --- times
        if entry is not None:
            bad = exit_t < entry_t
            if bad.any():
                raise data_error(exit_col, f"exit before entry (column {entry!r})", bad, ids,
                                 "Exit times must be >= entry times; check the columns are not swapped.")
            bad = (entry_t > 0) & (exit_t == entry_t)
            if bad.any():
                raise data_error(exit_col, f"exit equal to a positive entry (column {entry!r})", bad, ids,
                                 "A customer who leaves the moment observation starts was never at risk; "
                                 "drop these rows or set their entry to 0.")

        out = pd.DataFrame({"id": ids, "entry": entry_t, "exit": exit_t, "event": ev})

        # --- causes (work on the distinct labels, not row by row)
        cause_levels: tuple[str, ...] = ()
        if raw_cause is not None:
            codes, labels = _factorize(raw_cause)
            has_cause = codes >= 0
            bad = ev & ~has_cause
            if bad.any():
                raise data_error(cause, "defections that have no cause", bad, ids,
                                 "Fill the cause (e.g. 'unknown') or drop the cause column.")
            bad = ~ev & has_cause
            if bad.any():
                raise data_error(cause, "a cause on censored rows (no defection)", bad, ids,
                                 "A cause belongs to defections only; check the event column.")
            if cause_map is not None:
                cm = cause_map if isinstance(cause_map, CauseMap) else CauseMap(dict(cause_map))
                if all(lab in cm.mapping for lab in labels):
                    mapped_labels = [cm.mapping[lab] for lab in labels]
                else:  # the slow path counts and names the unknown labels (error or warning)
                    rows = np.asarray(labels, dtype=object)[codes].copy()
                    rows[codes < 0] = None
                    mapped_rows = cm.apply(rows, column=cause, ids=ids)
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
                    raise data_error(cause, f"causes not among the given levels {levels}", unknown, ids,
                                     "Add them to 'causes' or map them with 'cause_map'.")
            present = set(mapped_labels)
            cause_levels = tuple(c for c in levels if c in present) if causes is None else tuple(levels)
            lookup = np.array([cause_levels.index(m) if m in cause_levels else -1 for m in mapped_labels] + [-1])
            out["cause"] = pd.Categorical.from_codes(lookup[codes], categories=list(cause_levels))
        elif causes is not None:
            raise ValueError("'causes' was given but no 'cause' column: pass cause='<column>'.")

        # --- weights
        if weights is not None:
            w = _numeric_times(frame[weights], weights, ids, what="weights")
            out["weight"] = w
        else:
            out["weight"] = 1.0

        # --- ids
        if not spells and not _unique_ids(ids):
            dup = pd.Series(ids).duplicated(keep=False).to_numpy()
            if dup.any():
                raise data_error(id if id is not None else "index", "duplicate ids", dup, ids,
                                 "Pass spells=True if customers can have several spells, or de-duplicate.")

        # --- segments
        for s in segments:
            out[s] = _segment(frame[s], s, ids, missing_segment)
        # --- values
        for v in values:
            col = frame[v]
            num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
            bad = col.notna().to_numpy() & np.isnan(num)
            if bad.any():
                raise data_error(v, "non-numeric values", bad, ids, "Value columns must be numbers.")
            out[v] = num

        return cls(out, segments=segments, values=values, causes=cause_levels, time_unit=time_unit, spells=spells)

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
        **kwargs
            Passed to :meth:`from_frame` (``cause``, ``id``, ``segments``, ``values``, ...).
        """
        owner = "Tenures.from_dates"
        check_one_of(unit, "unit", owner, ("month", "week", "day"))
        check_columns(frame, [start, end, event, kwargs.get("id")])
        ids = frame[kwargs["id"]].to_numpy() if kwargs.get("id") else frame.index.to_numpy()
        s = _dates(frame[start], start, ids)
        e = _dates(frame[end], end, ids)
        as_of_ts = pd.Timestamp(as_of)
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
        work = pd.DataFrame(index=frame.index)
        work["__exit"] = _elapsed(s, stop, unit)
        if event is None:
            work["__event"] = observed.to_numpy()
        event_col = "__event" if event is None else event
        entry_col = None
        if observed_from is not None:
            of = pd.Timestamp(observed_from)
            work["__entry"] = _elapsed(s, s.where(s > of, of), unit)
            bad = (work["__entry"] > 0).to_numpy() & (stop < of).to_numpy()
            if bad.any():
                raise data_error(end, f"defections before the observation start {of.date()}", bad, ids,
                                 "Customers who left before records were kept cannot be in a truncated sample.")
            # left in the same (partial) unit in which observation started: at risk at that one time
            same = (work["__entry"] > 0) & (work["__entry"] >= work["__exit"])
            work.loc[same, "__entry"] = work.loc[same, "__exit"] - 1
            entry_col = "__entry"
        cause = kwargs.pop("cause", None)
        merged = pd.concat([frame.drop(columns=[c for c in work.columns if c in frame.columns]), work], axis=1)
        if cause is not None and event is None:
            # a cause recorded for a defection after the cut-off is not yet observed
            merged[cause] = merged[cause].where(observed.to_numpy(), None)
        kwargs.setdefault("censored", None)
        return cls.from_frame(merged, duration="__exit", event=event_col, entry=entry_col, cause=cause,
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
        work = pd.DataFrame({"__entry": entry, "__event": st.isin(churned_l).to_numpy()}, index=frame.index)
        merged = pd.concat([frame, work], axis=1)
        kwargs.pop("censored", None)
        out = cls.from_frame(merged, duration=tenure, event="__event", entry="__entry", **kwargs)
        n_trunc = int((snapshot_entry > 0).sum())
        out.truncation = TruncationReport(
            period=float(period), n_rows=len(t), n_truncated=n_trunc, n_joined=int(is_joined.sum()),
            n_entry_zero=int(len(t) - n_trunc), applied=bool(truncate), churn_timing=timing,
            churn_exposure=float(exposure), n_churned=int(is_churned.sum()))
        return out

    # ------------------------------------------------------------------ views
    def __len__(self) -> int:
        return len(self.data)

    @property
    def n_customers(self) -> int:
        """Number of distinct ids."""
        return int(self.data["id"].nunique()) if self.spells else len(self.data)

    @property
    def n_events(self) -> int:
        """Number of defections."""
        return int(self.data["event"].sum())

    @property
    def is_truncated(self) -> bool:
        """Whether any row enters observation after time 0."""
        return bool((self.data["entry"] > 0).any())

    def __repr__(self) -> str:
        parts = [f"{len(self):,} rows", f"{self.n_events:,} defections", f"time unit {self.time_unit!r}"]
        if self.causes:
            parts.append(f"causes {list(self.causes)}")
        if self.segments:
            parts.append(f"segments {list(self.segments)}")
        if self.is_truncated:
            parts.append(f"{int((self.data['entry'] > 0).sum()):,} left-truncated")
        return f"Tenures({', '.join(parts)})"

    def naive(self) -> Tenures:
        """The same records read as if every customer were followed from sign-up (all entries 0).

        This is the usual, untruncated reading of snapshot data. It overstates survival when the records
        are a snapshot; compare both readings before choosing.
        """
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
        by = _as_list(by)
        check_columns(self.data, by, what="tenure table")
        d = self.data
        w = d["weight"]
        frame = pd.DataFrame({
            "n_customers": w,
            "n_events": w * d["event"],
            "n_censored": w * ~d["event"],
            "n_truncated": w * (d["entry"] > 0),
            "follow_up": d["exit"] - d["entry"],
            "min_time": d["exit"],
            "max_time": d["exit"],
        })
        for c in self.causes:
            frame[f"events_{c}"] = w * (d["cause"] == c)
        keys = [d[b] for b in by] if by else [pd.Series("all", index=d.index, name="segment")]
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
    d = tenures.data
    if segment not in d.columns:
        check_columns(d, [segment], what="tenure table")
    lo_q, hi_q = (1 - coverage) / 2, 1 - (1 - coverage) / 2
    col = d[segment]
    codes, levels = (col.cat.codes.to_numpy(np.int64), list(col.cat.categories)) \
        if isinstance(col.dtype, pd.CategoricalDtype) else pd.factorize(col, sort=True)
    exit_t = d["exit"].to_numpy(float)
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
    return _confounding_table(segment, levels, n, low, high, len(d), max_overlap=max_overlap, min_share=min_share)


def _confounding_table(segment, levels, n, low, high, n_rows, *, max_overlap=0.1, min_share=0.01) -> pd.DataFrame:
    """The verdict of :func:`tenure_confounding` from each level's row count and central tenure range."""
    n, low, high = np.asarray(n), np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    keep = n > 0
    table = pd.DataFrame({"level": np.asarray(levels, dtype=object)[keep], "n": n[keep],
                          "tenure_low": low[keep], "tenure_high": high[keep]})
    table.insert(0, "segment", segment)
    big = (table["n"] >= max(10, min_share * n_rows)).to_numpy()
    lo, hi = table["tenure_low"].to_numpy(), table["tenure_high"].to_numpy()
    overlap = np.maximum(0.0, np.minimum(hi[:, None], hi[None, :]) - np.maximum(lo[:, None], lo[None, :]))
    width = np.maximum(np.minimum((hi - lo)[:, None], (hi - lo)[None, :]), 1.0)
    disjoint = (overlap / width < max_overlap) & big[:, None] & big[None, :]
    np.fill_diagonal(disjoint, False)
    table["n_disjoint"] = disjoint.sum(axis=1)
    confounded = bool(disjoint.any())
    table.attrs["confounded"] = confounded
    if confounded:
        bands = "; ".join(f"{lv}: {a:g}-{b:g}" for lv, a, b, k in
                          zip(table["level"], lo, hi, table["n_disjoint"], strict=False) if k > 0)
        table.attrs["message"] = (
            f"Segment column {segment!r} is determined by tenure: its levels occupy nearly disjoint tenure ranges "
            f"({bands}). Survival curves by {segment!r} measure tenure, not the segment; do not read them as the "
            f"segment's effect.")
    else:
        table.attrs["message"] = ""
    return table


# ---------------------------------------------------------------------- helpers
def _numeric_times(col: pd.Series, name: str, ids, what: str = "times") -> np.ndarray:
    if pd.api.types.is_bool_dtype(col):
        raise data_error(name, f"boolean values where {what} are expected", np.ones(len(col), bool), ids,
                         "Pass a numeric column.")
    if pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_timedelta64_dtype(col):
        raise data_error(name, f"dates or timedeltas where {what} in time units are expected",
                         np.ones(len(col), bool), ids,
                         "Use Tenures.from_dates for dates, or convert durations to numbers of time units.")
    num = pd.to_numeric(col, errors="coerce")
    arr = num.to_numpy(dtype=float, na_value=np.nan)
    missing = col.isna().to_numpy()
    if missing.any():
        raise data_error(name, f"missing {what}", missing, ids, "Fill or drop them before building the table.")
    nonnum = np.isnan(arr) & ~missing
    if nonnum.any():
        examples = ", ".join(repr(v) for v in pd.Series(col[nonnum]).astype(str).unique()[:3])
        raise data_error(name, f"non-numeric {what} (e.g. {examples})", nonnum, ids,
                         "Convert the column to numbers (pd.to_numeric) or fix the bad entries.")
    inf = np.isinf(arr)
    if inf.any():
        raise data_error(name, f"infinite {what}", inf, ids, "Censor such customers at a finite time.")
    neg = arr < 0
    if neg.any():
        raise data_error(name, f"negative {what}", neg, ids,
                         "Times must be >= 0; check the start/end dates in preprocessing." if what == "times"
                         else f"{what.capitalize()} must be >= 0.")
    return arr


def _parse_event(col: pd.Series, name: str, ids, censored, event_labels) -> np.ndarray:
    missing = col.isna().to_numpy()
    if missing.any():
        raise data_error(name, "missing event flags", missing, ids,
                         "Every row must say whether the customer defected (True/1) or is censored (False/0).")
    col = col.infer_objects()  # flags held in an object column (True/False, 0/1) are flags, not labels
    if pd.api.types.is_bool_dtype(col) and censored is None:
        return col.to_numpy(dtype=bool)
    cens_l, ev_l = _as_list(censored), _as_list(event_labels)
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
    is_cens = col.isin(cens_l).to_numpy()
    if ev_l:
        is_ev = col.isin(ev_l).to_numpy()
        bad = ~is_cens & ~is_ev
        if bad.any():
            vals = ", ".join(repr(v) for v in pd.unique(col[bad])[:5])
            raise data_error(name, f"unknown event labels ({vals})", bad, ids,
                             f"Known labels: censored={cens_l}, events={ev_l}.")
        return is_ev
    return ~is_cens


def _unique_ids(ids: np.ndarray) -> bool:
    """Whether ids are unique; strictly increasing numeric ids (the usual case) need no hash table."""
    if ids.dtype.kind in "iuf" and len(ids) > 1 and bool((np.diff(ids) > 0).all()):
        return True
    return bool(pd.Index(ids).is_unique)


def _factorize(col: pd.Series) -> tuple[np.ndarray, list]:
    """Codes and distinct labels of a column; missing and blank labels get code -1."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    labels = list(np.asarray(uniques, dtype=object))
    blank = np.array([isinstance(u, str) and u.strip() == "" for u in labels], dtype=bool)
    if blank.any():  # drop blank labels and renumber the others
        renumber = np.append(np.where(blank, -1, np.cumsum(~blank) - 1), -1)
        codes = renumber[codes]
        labels = [u for u, b in zip(labels, blank, strict=False) if not b]
    return np.asarray(codes, dtype=np.int64), labels


def _segment(col: pd.Series, name: str, ids, missing_segment: str) -> pd.Categorical:
    codes, labels = _factorize(col)
    missing = codes < 0
    if missing.any() and missing_segment == "error":
        raise data_error(name, "missing segment values", missing, ids,
                         f"Fill them, or pass missing_segment='level' to make them the level {MISSING_LEVEL!r}.")
    labels = [str(u) for u in labels]
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = [str(c) for c in col.cat.categories]
        ordered = bool(col.cat.ordered)
    else:
        cats = sorted(set(labels) - {""})
        ordered = False
    if missing.any() and MISSING_LEVEL not in cats:
        cats = cats + [MISSING_LEVEL]
    index = {c: i for i, c in enumerate(cats)}
    lookup = np.array([index.get(lab, -1) for lab in labels] + [index.get(MISSING_LEVEL, -1)])
    return pd.Categorical.from_codes(lookup[codes], categories=cats, ordered=ordered)


def _dates(col: pd.Series, name: str, ids) -> pd.Series:
    try:
        out = pd.to_datetime(col, errors="coerce")
    except (TypeError, ValueError) as err:  # pragma: no cover - pandas raises only for exotic input
        raise TenureDataError(f"Column {name!r} cannot be read as dates: {err}", column=name) from err
    bad = out.isna().to_numpy() & col.notna().to_numpy()
    if bad.any():
        raise data_error(name, "values that are not dates", bad, ids, "Use ISO dates such as 2024-01-31.")
    return out.reset_index(drop=True).set_axis(col.index)


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
