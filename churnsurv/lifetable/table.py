"""The life table: counts per (segment, time) from which every nonparametric estimator is computed.

Building the counts once, with vectorised numpy, lets the same estimators serve 7,000 rows in pandas and
tables aggregated elsewhere (DuckDB, Spark) through :meth:`LifeTable.from_counts`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from churnsurv._validation import check_columns, data_error, find_stack_level, param_error
from churnsurv.data.tenures import _CHUNK, RESERVED_SEGMENT_NAMES, Tenures, _as_list, _confounding_table
from churnsurv.exceptions import StatisticalWarning, TenureConfoundingWarning, TenureDataError

__all__ = ["LifeTable", "as_life_table", "life_table"]

COUNT_COLUMNS = ["n_entered", "n_at_risk", "n_events", "n_censored"]
_DENSE_CELLS = 20_000_000


class LifeTable:
    """Counts at risk, entering, defecting (by cause) and censored per segment and time.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (segment..., time) at which anything happens in that segment (a defection, a
        censoring, or an entry after 0), plus a row at time 0 per segment; sorted by segment then time.
        Columns ``[*by, "time", "n_entered", "n_at_risk", "n_events", "n_censored"]`` (weighted counts).
    cause_events : pandas.DataFrame
        Same index as ``table``, one column per cause: defections of that cause.
    by : tuple of str
        Segment columns.
    causes : tuple of str
        Causes (empty when causes are not used).
    time_unit : str
    n_customers : pandas.Series
        Rows (customers or spells) per segment, indexed like :meth:`groups`.

    Notes
    -----
    ``n_at_risk`` at time :math:`t` counts rows with :math:`\\text{entry} < t \\le \\text{exit}` (rows with entry
    0 also at :math:`t = 0`). ``n_entered`` at :math:`t > 0` counts rows whose entry is :math:`t` (they are at
    risk from the next time on); at :math:`t = 0` it counts rows observed from sign-up.
    """

    def __init__(self, table: pd.DataFrame, cause_events: pd.DataFrame, *, by=(), causes=(), time_unit="month",
                 n_customers=None):
        self.table = table
        self.cause_events = cause_events
        self.by = tuple(by)
        self.causes = tuple(causes)
        self.time_unit = time_unit
        self.n_customers = n_customers

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_tenures(cls, tenures: Tenures, by: str | Sequence[str] | None = None, *,
                     check_confounding: bool = True) -> LifeTable:
        """Count a tenure table by segment and time (see :func:`life_table`)."""
        if not isinstance(tenures, Tenures):
            raise param_error("tenures", "LifeTable.from_tenures", "a churnsurv.Tenures", type(tenures).__name__,
                              type_error=True)
        by = tenures._check_by(by, "life_table")
        _check_result_names(by, tenures.causes, "life_table")
        seg_cols = [tenures.column(b) for b in by]
        for b, col in zip(by, seg_cols, strict=True):
            miss = (col.codes < 0) if isinstance(col, pd.Categorical) else pd.isna(col)
            if miss.any():
                raise data_error(b, "missing values in a grouping column", miss, np.asarray(tenures.column("id")),
                                 "Declare it as a segment (missing values become the level '(missing)') or fill them.")
        gcode, keys = _row_groups(seg_cols, by)
        n_groups = len(keys)
        causes = tenures.causes
        cause_code = tenures._stored("cause").codes if causes else None
        weight = tenures._stored("weight")
        if weight is not None:
            weight = np.asarray(weight, dtype=float)
            if bool((weight == 1.0).all()):
                weight = None
        entry = tenures._stored("entry")
        table, cause_mat, rows, total = _count(
            gcode, n_groups, entry, tenures._stored("exit"), np.asarray(tenures._stored("event"), dtype=bool),
            weight, cause_code, len(causes))
        table, cause_mat, keys, rows = _drop_empty_groups(table, cause_mat, keys, rows, total, by)
        out = _assemble(table, cause_mat, keys, by, causes)
        if by and check_confounding:
            if len(by) == 1 and weight is None:
                # the same verdict as tenure_confounding, read from the exit counts just made (no second pass)
                verdict = _confounding_from_counts(out, by[0], keys, len(tenures))
                if verdict.attrs["confounded"]:
                    warnings.warn(verdict.attrs["message"], TenureConfoundingWarning, stacklevel=find_stack_level())
            else:
                tenures.check_confounding(by)
        n_cust = pd.Series(rows, index=_key_index(keys, by), name="n_customers")
        return cls(out, pd.DataFrame(cause_mat, columns=list(causes)), by=by, causes=causes,
                   time_unit=tenures.time_unit, n_customers=n_cust)

    @classmethod
    def from_counts(cls, counts: pd.DataFrame, *, time: str = "time", n_events: str | None = "n_events",
                    n_censored: str = "n_censored", n_entered: str | None = None, n_at_risk: str | None = None,
                    causes: Sequence[str] = (), by: str | Sequence[str] | None = None,
                    time_unit: str = "month") -> LifeTable:
        """Build a life table from counts aggregated elsewhere (SQL, Spark, a published table).

        Parameters
        ----------
        counts : pandas.DataFrame
            One row per (segment..., time) with counts; several rows for the same cell are summed.
        time, n_events, n_censored : str
            Columns of the time, the defections and the censorings at that time. With ``causes``,
            ``n_events`` may be None and is the sum of the cause columns.
        n_entered : str, optional
            Rows entering observation at that time (left truncation). When omitted, every row is observed
            from time 0.
        n_at_risk : str, optional
            Give the number at risk directly instead of deriving it from entries and exits.
        causes : list of str
            Columns holding defections by cause.
        by : str or list of str
            Segment columns.
        time_unit : str
        """
        by = _as_list(by)
        causes = list(causes)
        check_columns(counts, [time, n_events, n_censored, n_entered, n_at_risk, *causes, *by], what="counts")
        _check_result_names(by, causes, "LifeTable.from_counts")
        num_cols = [c for c in [time, n_events, n_censored, n_entered, n_at_risk, *causes] if c is not None]
        ids = counts.index.to_numpy()
        for c in num_cols:
            v = pd.to_numeric(counts[c], errors="coerce").to_numpy(float)
            bad = ~np.isfinite(v) | (v < 0)
            if bad.any():
                raise data_error(c, "missing, non-numeric or negative counts", bad, ids, "Counts must be >= 0.")
        work = pd.DataFrame({b: counts[b].reset_index(drop=True) for b in by})  # keeps category order
        work["time"] = counts[time].to_numpy(float)
        ev = counts[n_events].to_numpy(float) if n_events else counts[causes].to_numpy(float).sum(axis=1)
        work["n_events"] = ev
        work["n_censored"] = counts[n_censored].to_numpy(float)
        work["n_entered"] = counts[n_entered].to_numpy(float) if n_entered else 0.0
        if n_at_risk:
            work["n_at_risk"] = counts[n_at_risk].to_numpy(float)
        cause_work = {}  # internal names for the cause counts that no segment column has
        for i, c in enumerate(causes):
            name = f"__cause_{i}"
            while name in by:
                name = "_" + name
            cause_work[c] = name
            work[name] = counts[c].to_numpy(float)
        if causes:
            mism = ~np.isclose(work[[cause_work[c] for c in causes]].sum(axis=1), work["n_events"])
            if mism.any():
                raise data_error(n_events, "event counts that differ from the sum of the cause columns", mism, ids,
                                 "Pass n_events=None to derive the events from the causes.")
        agg = work.groupby(by + ["time"], sort=True, observed=True).sum().reset_index() if by else \
            work.groupby("time", sort=True).sum().reset_index()
        gcode, keys = _group_codes(agg, by)
        n_groups = len(keys)
        # add a time-0 row per segment if missing
        has0 = np.zeros(n_groups, bool)
        has0[gcode[agg["time"].to_numpy() == 0]] = True
        if (~has0).any():
            extra = keys.loc[~has0].copy() if by else pd.DataFrame(index=[0])
            extra["time"] = 0.0
            agg = pd.concat([agg, extra], ignore_index=True).fillna(0.0)
            agg = agg.sort_values(by + ["time"], kind="stable").reset_index(drop=True)
            gcode, keys = _group_codes(agg, by)
        t = agg["time"].to_numpy(float)
        if not n_at_risk:
            exits = agg["n_events"].to_numpy() + agg["n_censored"].to_numpy()
            entered = agg["n_entered"].to_numpy().copy()
            if not n_entered:
                # everyone is observed from 0: put all rows of the segment at time 0
                tot = np.bincount(gcode, weights=exits, minlength=n_groups)
                entered = np.where(t == 0, tot[gcode], 0.0)
            at_risk = _grouped_cumsum_excl(entered - exits, gcode) + np.where(t == 0, entered, 0.0)
            agg["n_at_risk"] = at_risk
            agg["n_entered"] = entered
        table = agg[by + ["time", *COUNT_COLUMNS]].copy()
        cause_df = pd.DataFrame({c: agg[cause_work[c]].to_numpy(float) for c in causes})
        n_cust = pd.Series(np.bincount(gcode, weights=table["n_entered"].to_numpy(), minlength=n_groups),
                           index=_key_index(keys, by), name="n_customers")
        return cls(table, cause_df, by=by, causes=causes, time_unit=time_unit, n_customers=n_cust)

    # ------------------------------------------------------------------ access
    @property
    def group_codes(self) -> np.ndarray:
        """Integer segment code per row of :attr:`table` (0 when there are no segments)."""
        return _group_codes(self.table, list(self.by))[0]

    def group_keys(self) -> pd.DataFrame:
        """One row per segment (the segment columns), in code order."""
        return _group_codes(self.table, list(self.by))[1]

    def groups(self) -> Iterator[tuple[tuple, pd.DataFrame]]:
        """Iterate ``(key, rows)`` per segment, ``key`` a tuple of segment values (empty without segments)."""
        if not self.by:
            yield (), self.table
            return
        for key, rows in self.table.groupby(list(self.by), observed=True, sort=True):
            yield (key if isinstance(key, tuple) else (key,)), rows

    def group_starts(self) -> np.ndarray:
        """Index of the first row of each segment in :attr:`table`."""
        codes = self.group_codes
        return np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])

    def to_frame(self) -> pd.DataFrame:
        """The table with one ``events_<cause>`` column per cause appended."""
        out = self.table.copy()
        for c in self.causes:
            out[f"events_{c}"] = self.cause_events[c].to_numpy()
        return out

    def __repr__(self) -> str:
        segs = f" by {list(self.by)}" if self.by else ""
        return f"LifeTable({len(self.table):,} rows{segs}, causes {list(self.causes)}, time unit {self.time_unit!r})"


def life_table(tenures: Tenures, by: str | Sequence[str] | None = None, *, check_confounding: bool = True) -> LifeTable:
    """Count a tenure table into a :class:`LifeTable`.

    Parameters
    ----------
    tenures : Tenures
    by : str or list of str, optional
        Segment columns.
    check_confounding : bool, default True
        Warn (:class:`~churnsurv.TenureConfoundingWarning`) when a segment is determined by tenure.

    Returns
    -------
    LifeTable

    Raises
    ------
    TenureDataError
        When ``by`` names a canonical column (``event``, ``exit``...) rather than a segment, or a segment is
        named like a column of the life table (``time``, ``n_events``...).

    Notes
    -----
    The rows are counted in one pass, chunk by chunk, straight from the tenure table's stored columns (integer
    times on a grid of whole time units, segment codes), without building ``tenures.data``. A segment level with
    no rows has no rows in the table; one whose rows all have weight 0 keeps rows of zero counts, with a
    :class:`~churnsurv.StatisticalWarning`, and the estimators give it no curve (rather than a survival of 1).

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv import Tenures, life_table
    >>> df = pd.DataFrame({"tenure": [1, 2, 2, 3], "churned": [1, 0, 1, 1]})
    >>> life_table(Tenures.from_frame(df, duration="tenure", event="churned")).table
       time  n_entered  n_at_risk  n_events  n_censored
    0   0.0        4.0        4.0       0.0         0.0
    1   1.0        0.0        4.0       1.0         0.0
    2   2.0        0.0        3.0       1.0         1.0
    3   3.0        0.0        1.0       1.0         0.0
    """
    return LifeTable.from_tenures(tenures, by, check_confounding=check_confounding)


def as_life_table(data, by: str | Sequence[str] | None = None, **frame_kwargs) -> LifeTable:
    """The single door of the estimators: a LifeTable from a LifeTable, a Tenures or a DataFrame.

    A ``DataFrame`` is first read with :meth:`Tenures.from_frame` and ``frame_kwargs``; ``by`` columns are
    added to its segments.
    """
    if isinstance(data, LifeTable):
        if by is not None and tuple(_as_list(by)) != data.by:
            raise ValueError(f"The life table is grouped by {list(data.by)}; cannot regroup it by {_as_list(by)}. "
                             "Build the life table from the tenure table with the segments you want.")
        return data
    if isinstance(data, pd.DataFrame):
        segs = list(dict.fromkeys(_as_list(frame_kwargs.pop("segments", ())) + _as_list(by)))
        data = Tenures.from_frame(data, segments=segs, **frame_kwargs)
    elif frame_kwargs:
        raise TypeError(f"Column keywords {sorted(frame_kwargs)} only apply to a DataFrame input.")
    if isinstance(data, Tenures):
        return life_table(data, by)
    raise TypeError(f"Expected a churnsurv.Tenures, LifeTable or pandas DataFrame; got {type(data).__name__}.")


# ---------------------------------------------------------------------- counting kernels
def _group_codes(frame: pd.DataFrame, by: list) -> tuple[np.ndarray, pd.DataFrame]:
    if not by:
        return np.zeros(len(frame), dtype=np.int64), pd.DataFrame(index=[0])
    cols = [frame[b] for b in by]
    if len(cols) == 1 and isinstance(cols[0].dtype, pd.CategoricalDtype):
        codes = cols[0].cat.codes.to_numpy()
        if len(codes) == 0 or codes.min() >= 0:  # one categorical column: its codes, compacted if levels are absent
            present = np.bincount(codes, minlength=len(cols[0].cat.categories)) > 0
            codes = (np.cumsum(present) - 1)[codes] if not present.all() else codes.astype(np.int64)
            keys = pd.DataFrame({by[0]: pd.Categorical.from_codes(np.flatnonzero(present), dtype=cols[0].dtype)})
            return codes, keys
    if all(isinstance(c.dtype, pd.CategoricalDtype) for c in cols) and all((c.cat.codes >= 0).all() for c in cols):
        # fast path: combine the category codes (sorted in category order, as groupby would)
        sizes = [max(len(c.cat.categories), 1) for c in cols]
        flat = np.ravel_multi_index([c.cat.codes.to_numpy(np.int64) for c in cols], sizes)
        present = np.bincount(flat, minlength=int(np.prod(sizes))) > 0
        remap = np.cumsum(present) - 1
        combos = np.unravel_index(np.flatnonzero(present), sizes)
        keys = pd.DataFrame({b: pd.Categorical.from_codes(k, dtype=c.dtype)
                             for b, c, k in zip(by, cols, combos, strict=True)})
        return remap[flat].astype(np.int64), keys
    g = frame.groupby(by, observed=True, sort=True)
    codes = g.ngroup().to_numpy(dtype=np.int64)
    keys = g.size().index.to_frame(index=False)
    return codes, keys


def _key_index(keys: pd.DataFrame, by: list):
    if not by:
        return pd.Index(["all"], name="segment")
    return pd.MultiIndex.from_frame(keys) if len(by) > 1 else pd.Index(keys[by[0]], name=by[0])


def _confounding_from_counts(table: pd.DataFrame, segment: str, keys: pd.DataFrame, n_rows: int,
                             coverage: float = 0.9) -> pd.DataFrame:
    """:func:`tenure_confounding` from a life table by that one segment (unit weights: counts are rows)."""
    lo_q, hi_q = (1 - coverage) / 2, 1 - (1 - coverage) / 2
    exits = (table["n_events"] + table["n_censored"]).to_numpy()
    gcode = _group_codes(table, [segment])[0]
    times = table["time"].to_numpy()
    n_groups = len(keys)
    n = np.bincount(gcode, weights=exits, minlength=n_groups)
    cum = np.cumsum(exits)
    starts = np.searchsorted(gcode, np.arange(n_groups))
    share = (cum - np.repeat(cum[starts] - exits[starts], np.diff(np.r_[starts, len(exits)]))) / np.maximum(n, 1)[gcode]
    low, high = np.full(n_groups, np.nan), np.full(n_groups, np.nan)
    for g in range(n_groups):  # a few segment levels
        sl = slice(starts[g], starts[g + 1] if g + 1 < n_groups else len(exits))
        low[g] = times[sl][np.argmax(share[sl] >= lo_q - 1e-12)]
        high[g] = times[sl][np.argmax(share[sl] >= hi_q - 1e-12)]
    levels = list(keys[segment].astype(object))
    return _confounding_table(segment, levels, n.round().astype(np.int64), low, high, n_rows)


def _grouped_cumsum_excl(values: np.ndarray, gcode: np.ndarray) -> np.ndarray:
    """Exclusive cumulative sum within consecutive groups (rows sorted by group)."""
    c = np.cumsum(values)
    excl = c - values
    starts = np.flatnonzero(np.r_[True, gcode[1:] != gcode[:-1]])
    offset = np.repeat(excl[starts], np.diff(np.r_[starts, len(values)]))
    return excl - offset


def _check_result_names(by: list, causes, owner: str) -> None:
    """Refuse grouping columns named like a column of the life table or of the curves built from it."""
    if len(set(by)) != len(by):
        raise ValueError(f"{owner}: 'by' lists a column twice: {list(by)}.")
    taken = {"time", *COUNT_COLUMNS, *RESERVED_SEGMENT_NAMES, *(f"events_{c}" for c in causes)}
    for b in by:
        if b in taken:
            raise TenureDataError(
                f"{owner}: the segment column {b!r} has the name of a column of the life table and the curves "
                f"built from it, so the two would be confused. Rename the segment (e.g. {str(b) + '_segment'!r}; "
                f"Tenures.from_frame takes rename={{{b!r}: {str(b) + '_segment'!r}}}).", column=b)


def _row_groups(cols: list, by: list) -> tuple[np.ndarray | None, pd.DataFrame]:
    """A group code per row and one key row per code, without a pass to find the levels present.

    Categorical segments keep their narrow codes (one column) or combine them in the narrowest integer type
    (several), over every combination of levels; groups with no rows are dropped after counting.
    """
    if not by:
        return None, pd.DataFrame(index=[0])
    if all(isinstance(c, pd.Categorical) for c in cols):
        sizes = [max(len(c.categories), 1) for c in cols]
        total = int(np.prod(sizes))
        if len(cols) == 1:
            keys = pd.DataFrame({by[0]: pd.Categorical.from_codes(np.arange(sizes[0]), dtype=cols[0].dtype)})
            return cols[0].codes, keys
        dt = np.int32 if total < 2**31 - 1 else np.int64
        flat = cols[0].codes.astype(dt)
        for c, size in zip(cols[1:], sizes[1:], strict=True):
            flat *= size
            flat += c.codes
        combos = np.unravel_index(np.arange(total), sizes)
        keys = pd.DataFrame({b: pd.Categorical.from_codes(k, dtype=c.dtype)
                             for b, c, k in zip(by, cols, combos, strict=True)})
        return flat, keys
    frame = pd.DataFrame({b: c for b, c in zip(by, cols, strict=True)})
    g = frame.groupby(by, observed=True, sort=True)
    return g.ngroup().to_numpy(dtype=np.int64), g.size().index.to_frame(index=False)


def _dense_grid(exit, entry, n_groups: int, n_out: int) -> bool:
    """Whether whole-number times in a modest range can be counted on a grid of every integer from 0."""
    top = float(exit.max()) if exit.size else 0.0
    if not (top <= 1e6 and n_groups * (top + 1) * n_out <= _DENSE_CELLS):
        return False
    for arr in (exit, entry):
        if arr is not None and arr.dtype.kind == "f" and not bool(np.all(np.mod(arr, 1) == 0)):
            return False
    return True


def _count(gcode, n_groups, entry, exit, event, weight, cause_code, n_causes):
    """Weighted counts per (group, time) cell, for cells where anything happens plus time 0, in one pass.

    ``gcode`` is None without groups; ``entry`` None without left truncation and ``weight`` None for unit
    weights. ``cause_code`` is -1 exactly on censored rows when causes are used (the tenure table guarantees
    it). Returns the cell table, the per-cause event counts, and per group the rows and the total weight.

    Whole-number times are counted on a dense grid of cells, chunk by chunk (no full-length temporaries):
    one ``bincount`` over (cell, outcome) keys per chunk, outcome 0 = censored and k + 1 = event of cause k
    (or 1 = event without causes). Other times are ranked after hashing.
    """
    n = len(exit)
    truncated = entry is not None and bool((entry > 0).any())
    if not truncated:
        entry = None
    n_out = max(n_causes, 1) + 1
    if _dense_grid(exit, entry, n_groups, n_out):
        n_times = int(exit.max()) + 1 if n else 1
        times = np.arange(n_times, dtype=float)
        n_cells = n_groups * n_times
        size = n_cells * n_out
        by_outcome = np.zeros(size)
        n_entered = np.zeros(n_cells) if truncated else None
        rows_cell = np.zeros(n_cells) if weight is not None else None
        step = max(_CHUNK, size)  # the counts added per chunk stay below the rows counted
        for a in range(0, n, step):
            sl = slice(a, a + step)
            cell = exit[sl].astype(np.intp)
            if gcode is not None:
                cell += gcode[sl].astype(np.intp) * n_times
            w = weight[sl] if weight is not None else None
            key = cell * n_out
            key += (cause_code[sl] + 1) if n_causes else event[sl]
            by_outcome += np.bincount(key, weights=w, minlength=size)
            del key
            if weight is not None:  # a zero weight still marks a row's time
                rows_cell += np.bincount(cell, minlength=n_cells)
            if truncated:
                ekey = entry[sl].astype(np.intp)
                if gcode is not None:
                    ekey += gcode[sl].astype(np.intp) * n_times
                n_entered += np.bincount(ekey, weights=w, minlength=n_cells)
        by_outcome = by_outcome.reshape(n_cells, n_out)
        n_exit = by_outcome.sum(axis=1)
        rows_group = (rows_cell if weight is not None else n_exit).reshape(n_groups, n_times).sum(axis=1)
        total = n_exit.reshape(n_groups, n_times).sum(axis=1)
        if not truncated:  # everyone enters at time 0
            n_entered = np.zeros(n_cells)
            n_entered[np.arange(n_groups) * n_times] = total
        present = (n_exit > 0) | (n_entered > 0)
        if weight is not None:
            present |= rows_cell > 0
            if truncated:
                present |= _entry_cells(gcode, entry, n_times, n_cells)
        present[np.arange(n_groups) * n_times] = True  # time 0 for every group
        cells = np.flatnonzero(present)
        by_outcome, n_entered, n_exit = by_outcome[cells], n_entered[cells], n_exit[cells]
        n_events = n_exit - by_outcome[:, 0]
        cause_mat = by_outcome[:, 1:] if n_causes else np.zeros((len(cells), 0))
    else:
        exit_f = np.asarray(exit, dtype=float)
        entry_f = np.asarray(entry, dtype=float) if truncated else None
        pos_entry = entry_f > 0 if truncated else None
        extra = [exit_f, entry_f[pos_entry]] if truncated else [exit_f]
        codes, uniques = pd.factorize(np.concatenate([[0.0], *extra]))  # hashing, then rank the few
        order = np.argsort(uniques, kind="stable")
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        times, codes = np.asarray(uniques, dtype=float)[order], rank[codes]
        n_times = len(times)
        g64 = gcode.astype(np.int64) if gcode is not None else np.zeros(n, dtype=np.int64)
        exit_key = g64 * n_times + codes[1:1 + n]
        entry_code = np.zeros(n, dtype=np.int64)  # entry 0 is counted at the time-0 cell
        if truncated:
            entry_code[pos_entry] = codes[1 + n:]
        entry_key = g64 * n_times + entry_code
        ev_idx = np.flatnonzero(event)
        zero_keys = np.arange(n_groups, dtype=np.int64) * n_times
        cells, inv = np.unique(np.concatenate([exit_key, entry_key, zero_keys]), return_inverse=True)
        exit_cell, entry_cell = inv[:n], inv[n:2 * n]
        m = len(cells)

        def counts(keys, w, size):
            return np.bincount(keys, weights=w, minlength=size).astype(float)

        wt = weight
        n_events = counts(exit_cell[ev_idx], None if wt is None else wt[ev_idx], m)
        n_exit = counts(exit_cell, wt, m)
        n_entered = counts(entry_cell, wt, m)
        cell_group_all = cells // n_times
        rows_group = np.bincount(cell_group_all, weights=np.bincount(exit_cell, minlength=m), minlength=n_groups)
        total = np.bincount(cell_group_all, weights=n_exit, minlength=n_groups)
        if n_causes:
            cause_mat = counts(exit_cell[ev_idx] * n_causes + cause_code[ev_idx],
                               None if wt is None else wt[ev_idx], m * n_causes).reshape(m, n_causes)
        else:
            cause_mat = np.zeros((m, 0))
    cell_group = cells // n_times
    cell_time = times[cells % n_times]
    at_risk = _grouped_cumsum_excl(n_entered - n_exit, cell_group) + np.where(cell_time == 0, n_entered, 0.0)
    # exact zeros for counts that cancel in floating point
    at_risk = np.where(np.abs(at_risk) < 1e-9 * max(1.0, float(total.sum())), 0.0, at_risk)
    table = {"__group": cell_group, "time": cell_time, "n_entered": n_entered, "n_at_risk": at_risk,
             "n_events": n_events, "n_censored": n_exit - n_events}
    return table, cause_mat, np.round(rows_group).astype(np.int64), total


def _entry_cells(gcode, entry, n_times: int, n_cells: int) -> np.ndarray:
    """Cells where some row enters (zero weights included), chunk by chunk."""
    out = np.zeros(n_cells, dtype=bool)
    for a in range(0, len(entry), _CHUNK):
        sl = slice(a, a + _CHUNK)
        ekey = entry[sl].astype(np.intp)
        if gcode is not None:
            ekey += gcode[sl].astype(np.intp) * n_times
        out[ekey] = True
    return out


def _drop_empty_groups(table: dict, cause_mat, keys: pd.DataFrame, rows, total, by: list):
    """Drop the groups with no rows (absent level combinations). Groups whose weights are all zero keep their
    (all-zero) rows, so the counts still add up, with a warning: the estimators give them no curve."""
    zero_weight = (rows > 0) & (total <= 0)
    if zero_weight.any():
        labels = [", ".join(f"{b}={v!r}" for b, v in zip(by, row, strict=True))
                  for row in keys.loc[zero_weight, by].itertuples(index=False)] if by else ["all customers"]
        warnings.warn(
            f"life_table: {int(zero_weight.sum())} segment(s) have only zero weights, so nobody is at risk in them: "
            f"{'; '.join(labels[:5])}. Their counts are 0 and the estimators give them no curve (not a survival "
            "of 1).", StatisticalWarning, stacklevel=find_stack_level())
    keep = rows > 0
    if keep.all():
        return table, cause_mat, keys, rows
    new_code = np.cumsum(keep) - 1
    mask = keep[table["__group"]]
    table = {k: v[mask] for k, v in table.items()}
    table["__group"] = new_code[table["__group"]]
    keys = keys.loc[keep].reset_index(drop=True) if by else keys
    return table, cause_mat[mask], keys, rows[keep]


def _assemble(table: dict, cause_mat, keys: pd.DataFrame, by: list, causes) -> pd.DataFrame:
    cols = {}
    for b in by:
        cols[b] = keys[b].to_numpy()[table["__group"]]
    out = pd.DataFrame(cols)
    for b in by:
        if isinstance(keys[b].dtype, pd.CategoricalDtype):
            out[b] = pd.Categorical(out[b], categories=keys[b].cat.categories, ordered=keys[b].cat.ordered)
    for c in ["time", *COUNT_COLUMNS]:
        out[c] = table[c]
    return out
