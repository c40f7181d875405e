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
from churnsurv.exceptions import TenureConfoundingWarning
from churnsurv.data.tenures import Tenures, _as_list, _confounding_table

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
        by = _as_list(by)
        d = tenures.data
        check_columns(d, by, what="tenure table")
        for b in by:
            miss = d[b].isna().to_numpy()
            if miss.any():
                raise data_error(b, "missing values in a grouping column", miss, d["id"].to_numpy(),
                                 "Declare it as a segment (missing values become the level '(missing)') or fill them.")
        gcode, keys = _group_codes(d, by)
        n_groups = len(keys)
        causes = tenures.causes
        cause_code = d["cause"].cat.codes.to_numpy() if causes else None
        table, cause_mat = _count(
            gcode, n_groups, d["entry"].to_numpy(float), d["exit"].to_numpy(float), d["event"].to_numpy(bool),
            d["weight"].to_numpy(float), cause_code, len(causes))
        out = _assemble(table, cause_mat, keys, by, causes)
        if by and check_confounding:
            if len(by) == 1 and bool((d["weight"] == 1.0).all()):
                # the same verdict as tenure_confounding, read from the exit counts just made (no second pass)
                verdict = _confounding_from_counts(out, by[0], keys, len(d))
                if verdict.attrs["confounded"]:
                    warnings.warn(verdict.attrs["message"], TenureConfoundingWarning, stacklevel=find_stack_level())
            else:
                tenures.check_confounding(by)
        n_cust = pd.Series(np.bincount(gcode, minlength=n_groups), index=_key_index(keys, by), name="n_customers")
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
        for c in causes:
            work[f"__cause_{c}"] = counts[c].to_numpy(float)
        if causes:
            mism = ~np.isclose(work[[f"__cause_{c}" for c in causes]].sum(axis=1), work["n_events"])
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
        cause_df = pd.DataFrame({c: agg[f"__cause_{c}"].to_numpy(float) for c in causes})
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


def _time_codes(exit, entry, pos_entry, truncated, n_groups):
    """Codes of exit and entry times on a common grid of times (which includes 0).

    Integer times in a modest range (monthly, weekly or daily tenures) take a grid of every integer from 0 to
    the largest time, so no sort is needed; other times are ranked after hashing. The entry codes are None
    without left truncation (every entry is at the time-0 cell).
    """
    top = float(exit.max()) if exit.size else 0.0
    if top <= 1e6 and n_groups * (top + 1) <= _DENSE_CELLS:
        exit_i = exit.astype(np.int32)
        if np.array_equal(exit_i, exit):
            grid = np.arange(int(top) + 1, dtype=float)
            if not truncated:
                return grid, exit_i, None
            entry_i = entry.astype(np.int32)
            if np.array_equal(entry_i, entry):
                return grid, exit_i, np.where(pos_entry, entry_i, 0)
    codes, uniques = pd.factorize(np.concatenate([[0.0], exit, entry[pos_entry]]))  # hashing, then rank the few
    order = np.argsort(uniques, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    times, codes = np.asarray(uniques)[order], rank[codes]
    entry_code = None
    if truncated:
        entry_code = np.zeros(len(entry), dtype=np.int64)  # entry 0 is counted at the time-0 cell
        entry_code[pos_entry] = codes[1 + len(exit):]
    return times, codes[1:1 + len(exit)], entry_code


def _count(gcode, n_groups, entry, exit, event, weight, cause_code, n_causes):
    """Weighted counts per (group, time) cell, for cells where anything happens plus time 0.

    ``cause_code`` is -1 exactly on censored rows when causes are used (the tenure table guarantees it).
    """
    pos_entry = entry > 0
    truncated = bool(pos_entry.any())
    times, exit_code, entry_code = _time_codes(exit, entry, pos_entry, truncated, n_groups)
    n_times = len(times)
    n_cells = n_groups * n_times
    unit = bool((weight == 1.0).all())
    n_out = max(n_causes, 1) + 1

    def counts(keys, w, size):
        return np.bincount(keys, weights=None if unit else w, minlength=size).astype(float)

    if n_cells * n_out <= _DENSE_CELLS:
        # dense: one count over (cell, outcome) keys, outcome 0 = censored and k + 1 = event of cause k
        # (or 1 = event without causes), then keep the cells where anything happens. The keys are built in
        # place, in 32-bit integers when they fit: counting is bound by memory traffic.
        kdt = np.int32 if n_cells * n_out < 2**31 - 1 else np.int64
        base = gcode.astype(kdt)
        base *= n_times
        entry_key = base + entry_code if truncated else None
        key = base
        key += exit_code
        exit_key = key.copy() if not unit else None
        key *= n_out
        if n_causes:
            key += cause_code
            key += 1
        else:
            key += event
        by_outcome = counts(key, weight, n_cells * n_out).reshape(n_cells, n_out)
        n_exit = by_outcome.sum(axis=1)
        if truncated:
            n_entered = counts(entry_key, weight, n_cells)
        else:  # everyone enters at time 0
            n_entered = np.zeros(n_cells)
            n_entered[np.arange(n_groups) * n_times] = n_exit.reshape(n_groups, n_times).sum(axis=1)
        present = (n_exit > 0) | (n_entered > 0)
        if not unit:  # a zero weight still marks a row's time
            present |= np.bincount(exit_key, minlength=n_cells) > 0
            if truncated:
                present |= np.bincount(entry_key, minlength=n_cells) > 0
        present[np.arange(n_groups) * n_times] = True  # time 0 for every group
        cells = np.flatnonzero(present)
        by_outcome, n_entered, n_exit = by_outcome[cells], n_entered[cells], n_exit[cells]
        n_events = n_exit - by_outcome[:, 0]
        if n_causes:
            cause_mat = by_outcome[:, 1:]
    else:
        if entry_code is None:
            entry_code = np.zeros(len(entry), dtype=np.int64)
        exit_key = gcode.astype(np.int64) * n_times + exit_code
        entry_key = gcode.astype(np.int64) * n_times + entry_code
        ev_idx = np.flatnonzero(event)
        zero_keys = np.arange(n_groups, dtype=np.int64) * n_times
        cells, inv = np.unique(np.concatenate([exit_key, entry_key, zero_keys]), return_inverse=True)
        exit_cell, entry_cell = inv[:len(exit_key)], inv[len(exit_key):len(exit_key) + len(entry_key)]
        m = len(cells)
        n_events = counts(exit_cell[ev_idx], weight[ev_idx], m)
        n_exit = counts(exit_cell, weight, m)
        n_entered = counts(entry_cell, weight, m)
        if n_causes:
            cause_mat = counts(exit_cell[ev_idx] * n_causes + cause_code[ev_idx], weight[ev_idx],
                               m * n_causes).reshape(m, n_causes)
    if not n_causes:
        cause_mat = np.zeros((len(cells), 0))
    cell_group = cells // n_times
    cell_time = times[cells % n_times]
    at_risk = _grouped_cumsum_excl(n_entered - n_exit, cell_group) + np.where(cell_time == 0, n_entered, 0.0)
    # exact zeros for counts that cancel in floating point
    at_risk = np.where(np.abs(at_risk) < 1e-9 * max(1.0, float(weight.sum())), 0.0, at_risk)
    table = {"__group": cell_group, "time": cell_time, "n_entered": n_entered, "n_at_risk": at_risk,
             "n_events": n_events, "n_censored": n_exit - n_events}
    return table, cause_mat


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
