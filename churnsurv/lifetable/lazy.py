"""One lazy life-table aggregation for every engine, written once against narwhals.

The estimators need only counts per (segment, time, cause), so the aggregation should run where the records
live and only the counts should come back. :func:`life_table_lazy` expresses it once, as two plain
``GROUP BY`` queries in `narwhals <https://narwhals-dev.github.io/narwhals/>`_ expressions, and narwhals hands
them to the engine holding the frame: polars (eager or lazy), DuckDB relations (and, through DuckDB, Parquet and
CSV files larger than memory), PySpark DataFrames, Ibis tables (and so the warehouses Ibis reaches), pandas,
PyArrow. The collected counts (a few thousand rows) go to :meth:`LifeTable.from_counts`, the same constructor
every other source uses.

Why narwhals rather than Ibis: narwhals accepts the user's native frame as is (a polars ``LazyFrame``, a pandas
frame, a DuckDB relation, a Spark DataFrame, and an Ibis table too), has no dependency of its own, and translates
each expression into the backend's own API (polars expressions, DuckDB's relational API, Spark SQL functions),
so the SQL that runs is the backend's plain ``SELECT ... GROUP BY``. Ibis would reach more warehouses natively but
needs the data registered in an Ibis backend first (a polars or pandas frame is not an Ibis table) and brings
sqlglot and its own compiler; through narwhals' Ibis support, Ibis tables remain reachable.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from churnsurv._validation import format_ids
from churnsurv.data.tenures import _as_list
from churnsurv.exceptions import TenureDataError
from churnsurv.lifetable.table import LifeTable

__all__ = ["life_table_lazy"]

_MISSING = "(missing)"


def _open(source, connection):
    """A narwhals LazyFrame over ``source`` (a native frame, a file path or a DuckDB table name)."""
    import narwhals.stable.v2 as nw

    if isinstance(source, (str, Path)):
        import duckdb

        con = connection if connection is not None else duckdb.connect()
        text = str(source)
        low = text.lower()
        if low.endswith((".parquet", ".pq")):
            rel = con.read_parquet(text)
        elif low.endswith((".csv", ".csv.gz", ".tsv", ".txt")) or Path(text).exists():
            rel = con.read_csv(text, header=True)  # a file that is not Parquet is read as delimited text
        else:
            rel = con.table(text)  # a table or view in the connection
        return nw.from_native(rel).lazy()
    try:
        frame = nw.from_native(source)
    except TypeError as err:
        raise TypeError(
            "life_table_lazy: expected a polars/pandas/PyArrow DataFrame, a polars LazyFrame, a DuckDB relation, a "
            f"PySpark DataFrame, an Ibis table, or a path to a Parquet/CSV file; got {type(source).__name__}.") from err
    return frame.lazy()


def life_table_lazy(
    source,
    *,
    exit: str,
    event: str,
    entry: str | None = None,
    cause: str | None = None,
    causes: Sequence[str] | None = None,
    by: str | Sequence[str] = (),
    weights: str | None = None,
    id: str | None = None,
    time_unit: str = "month",
    connection=None,
) -> LifeTable:
    """Count customer records into a :class:`~churnsurv.LifeTable` inside the engine that holds them.

    Parameters
    ----------
    source : native frame, str or path
        Anything narwhals reads: a polars ``DataFrame`` or ``LazyFrame``, a pandas or PyArrow frame, a DuckDB
        relation, a PySpark ``DataFrame``, an Ibis table. A path ending in ``.parquet`` or ``.csv`` (globs such
        as ``"data/*.parquet"`` work) is read by DuckDB, out of core; any other string names a table or view
        in ``connection``.
    exit : str
        Exit time column (tenure at defection or censoring).
    event : str
        Event column (0/1 or boolean).
    entry : str, optional
        Entry time column (left truncation); default everyone is observed from 0.
    cause : str, optional
        Cause of defection column (read on events only).
    causes : list of str, optional
        Cause levels, in order; default the distinct causes of the events, sorted.
    by : str or list of str, optional
        Segment columns. Missing values become the level ``'(missing)'``.
    weights : str, optional
        Case weight column (>= 0).
    id : str, optional
        Id column, used only to name offending rows in errors.
    time_unit : str, default "month"
    connection : duckdb.DuckDBPyConnection, optional
        Connection used for paths and table names; default a new in-memory connection.

    Returns
    -------
    LifeTable
        Equal to ``life_table(Tenures.from_frame(...), by)`` on the same records: the same rows, exact counts
        without weights, and ``n_customers`` counting rows.

    Raises
    ------
    TenureDataError
        Missing or negative times, events other than 0/1, events without a cause, exit not after entry, missing
        or negative weights; the message names the column, the number of rows and (with ``id``) the first ids.

    Notes
    -----
    Two aggregations run in the engine and only their results are collected:

    .. math::

        d_{g,t,k} = \\sum_{i:\\, g_i = g,\\ T_i = t,\\ \\delta_i = 1,\\ K_i = k} w_i, \\qquad
        c_{g,t} = \\sum_{i:\\, g_i = g,\\ T_i = t,\\ \\delta_i = 0} w_i, \\qquad
        e_{g,s} = \\sum_{i:\\, g_i = g,\\ L_i = s} w_i,

    grouped by (segment, exit, event, cause) and by (segment, entry). The checks of the records are folded into
    the same two queries (null and negative keys, a count of rows with exit not after entry), so a valid source is
    scanned twice and never materialised. The number at risk :math:`Y_g(t) = \\sum_{s < t} e_{g,s} -
    \\sum_{u < t} (d_{g,u} + c_{g,u})` (plus entries at 0 when :math:`t = 0`) is then formed from the counts by
    :meth:`LifeTable.from_counts`, as for the in-memory table [1]_.

    References
    ----------
    .. [1] Klein, J. P. and Moeschberger, M. L. (2003). *Survival Analysis: Techniques for Censored and
       Truncated Data*, 2nd ed., Springer, section 4.6.

    Examples
    --------
    >>> import polars as pl  # doctest: +SKIP
    >>> lf = pl.scan_parquet("customers.parquet")  # doctest: +SKIP
    >>> lt = life_table_lazy(lf, exit="tenure", event="churned", cause="reason", by="plan")  # doctest: +SKIP
    >>> lt = life_table_lazy("customers/*.parquet", exit="tenure", event="churned")  # DuckDB  # doctest: +SKIP
    """
    import narwhals.stable.v2 as nw

    by = _as_list(by)
    lf = _open(source, connection)
    schema = lf.collect_schema()
    names = schema.names()
    needed = {"exit": exit, "event": event, "entry": entry, "cause": cause, "weights": weights, "id": id}
    missing = [f"{k}={v!r}" for k, v in needed.items() if v is not None and v not in names]
    missing += [f"by={b!r}" for b in by if b not in names]
    if missing:
        raise TenureDataError(f"life_table_lazy: column(s) not found: {', '.join(missing)}. "
                              f"The source has {names[:20]}{' ...' if len(names) > 20 else ''}.",
                              column=(exit if exit not in names else None))

    for role, name in (("exit", exit), ("entry", entry), ("weights", weights), ("event", event)):
        if name is not None and not (schema[name].is_numeric() or (role == "event" and schema[name] == nw.Boolean)):
            raise TenureDataError(f"life_table_lazy: column {name!r} ({role}) has type {schema[name]}; expected "
                                  f"{'0/1 or booleans' if role == 'event' else 'numbers'}. Cast it in the source "
                                  "(times as numbers of time units).", column=name)

    # derived columns first, so the group-bys are plain sums and counts (cheap in every backend, pandas included)
    keys = [*by, exit, event, *([cause] if cause else [])]
    derived, aggs = {}, [nw.len().alias("__rows")]
    if weights:
        w = nw.col(weights).cast(nw.Float64)
        derived.update(__w=w, __w_null=w.is_null().cast(nw.Int64), __w_neg=(w < 0).cast(nw.Int64))
        aggs += [nw.col(c).sum() for c in ("__w", "__w_null", "__w_neg")]
    base = lf.with_columns(**derived) if derived else lf
    exits_pd = _to_pandas(base.group_by(keys, drop_null_keys=False).agg(*aggs))

    entries_pd = None
    if entry:
        l_, t_ = nw.col(entry).cast(nw.Float64), nw.col(exit).cast(nw.Float64)
        e_derived = {"__bad": ((t_ < l_) | ((l_ > 0) & (t_ == l_))).cast(nw.Int64)}
        e_aggs = [nw.len().alias("__rows"), nw.col("__bad").sum()]
        if weights:
            e_derived["__w"] = nw.col(weights).cast(nw.Float64)
            e_aggs.append(nw.col("__w").sum())
        entries_pd = _to_pandas(lf.with_columns(**e_derived).group_by([*by, entry], drop_null_keys=False)
                                .agg(*e_aggs))

    _check(exits_pd, entries_pd, lf, exit=exit, event=event, entry=entry, cause=cause, weights=weights, id=id)
    return _assemble(exits_pd, entries_pd, exit=exit, event=event, entry=entry, cause=cause, causes=causes,
                     by=by, weights=weights, time_unit=time_unit)


def _to_pandas(frame) -> pd.DataFrame:
    """Collect a (small) narwhals LazyFrame of counts into pandas."""
    out = frame.collect().to_pandas()
    return out.reset_index(drop=True)


def _check(exits: pd.DataFrame, entries: pd.DataFrame | None, lf, *, exit, event, entry, cause, weights, id) -> None:
    """Raise on invalid records, from the collected counts; the source is read again only to name offenders."""
    import narwhals.stable.v2 as nw

    t = pd.to_numeric(exits[exit], errors="coerce")
    ev = exits[event]
    ev_num = pd.to_numeric(ev.astype(object).where(ev.notna()).map(
        lambda v: float(v) if isinstance(v, (bool, np.bool_, int, float, np.integer, np.floating)) else np.nan),
        errors="coerce")
    rows = exits["__rows"].to_numpy()
    col = nw.col
    checks = [
        (exit, rows[exits[exit].isna().to_numpy()].sum(), col(exit).is_null(), "missing times"),
        (exit, rows[(t < 0).to_numpy()].sum(), col(exit).cast(nw.Float64) < 0, "negative times"),
        (event, rows[(~ev_num.isin([0.0, 1.0])).to_numpy()].sum(),
         ~col(event).cast(nw.Float64).is_in([0.0, 1.0]) | col(event).is_null(), "event values other than 0/1"),
    ]
    if cause:
        no_cause = ((ev_num == 1) & exits[cause].isna()).to_numpy()
        checks.append((cause, rows[no_cause].sum(), (col(event).cast(nw.Float64) == 1) & col(cause).is_null(),
                       "events without a cause"))
    if weights:
        checks += [(weights, exits["__w_null"].sum(), col(weights).is_null(), "missing weights"),
                   (weights, exits["__w_neg"].sum(), col(weights).cast(nw.Float64) < 0, "negative weights")]
    for column, n_bad, expr, problem in checks:
        if n_bad:
            _raise(lf, expr, column, problem, int(n_bad), id)
    if entries is not None:
        le = pd.to_numeric(entries[entry], errors="coerce")
        miss = (entries[entry].isna() | (le < 0)).to_numpy()
        if miss.any():
            _raise(lf, col(entry).is_null() | (col(entry).cast(nw.Float64) < 0), entry,
                   "missing or negative entry times", int(entries["__rows"].to_numpy()[miss].sum()), id)
        n_bad = int(entries["__bad"].fillna(0).sum())
        if n_bad:
            l_, t_ = col(entry).cast(nw.Float64), col(exit).cast(nw.Float64)
            _raise(lf, (t_ < l_) | ((l_ > 0) & (t_ == l_)), exit, f"exit not after entry (column {entry!r})",
                   n_bad, id)


def _raise(lf, expr, column: str, problem: str, n_bad: int, id) -> None:
    ids: list = []
    if id:
        ids = _to_pandas(lf.filter(expr).select(id).head(5))[id].tolist()
    rows = "row" if n_bad == 1 else "rows"
    raise TenureDataError(f"Column {column!r} has {n_bad} {rows} with {problem} ({format_ids(ids, n_bad)}). "
                          "Fix them in the source before counting.", column=column, n_rows=n_bad, ids=ids)


def _levels(frame: pd.DataFrame, by: list) -> dict:
    """Segment levels in the order of the in-memory tenure table: a categorical column keeps its declared order
    (levels present only), other values are compared as text and sorted; ``'(missing)'`` comes last."""
    levels = {}
    for b in by:
        s = frame[b]
        if isinstance(s.dtype, pd.CategoricalDtype):
            present = set(s.dropna().astype(str))
            lev = [str(c) for c in s.cat.categories if str(c) in present]
        else:
            lev = sorted(set(s.dropna().astype(str)))
        if s.isna().any():
            lev.append(_MISSING)
        levels[b] = lev
    return levels


def _segments(frame: pd.DataFrame, by: list, levels: dict) -> pd.DataFrame:
    """Segment keys as categoricals of text levels (engines differ in categorical types), missing as '(missing)'."""
    out = pd.DataFrame(index=frame.index)
    for b in by:
        s = frame[b]
        text = s.astype(object).where(s.isna(), s.astype(str)).where(s.notna(), _MISSING)
        out[b] = pd.Categorical(text.to_numpy(), categories=levels[b])
    return out


def _assemble(exits, entries, *, exit, event, entry, cause, causes, by, weights, time_unit) -> LifeTable:
    w = exits["__w"].to_numpy(float) if weights else exits["__rows"].to_numpy(float)
    is_event = exits[event].astype(float).to_numpy() == 1.0
    levels = _levels(exits, by)  # every row has an exit, so the exits hold every level
    parts = _segments(exits, by, levels)
    parts["time"] = exits[exit].to_numpy(float)
    parts["n_events"] = np.where(is_event, w, 0.0)
    parts["n_censored"] = np.where(is_event, 0.0, w)
    parts["n_entered"] = 0.0
    cause_levels: list[str] = []
    if cause:
        label = exits[cause].astype(object).where(exits[cause].notna(), None).map(
            lambda v: None if v is None else str(v))
        found = sorted(set(label[is_event].dropna()))
        if causes is None:
            cause_levels = found
        else:
            cause_levels = [str(c) for c in causes]
            extra = sorted(set(found) - set(cause_levels))
            if extra:
                n_bad = int(exits["__rows"].to_numpy()[is_event & label.isin(extra).to_numpy()].sum())
                raise TenureDataError(f"Column {cause!r} has {n_bad} event rows with causes not in `causes`: "
                                      f"{extra[:5]}. Add them to `causes` or recode them.", column=cause,
                                      n_rows=n_bad)
        lab = label.to_numpy()
        for i, c in enumerate(cause_levels):
            parts[f"__c{i}"] = np.where(is_event & (lab == c), w, 0.0)
    frames = [parts]
    if entries is not None:
        ent = _segments(entries, by, levels)
        ent["time"] = entries[entry].to_numpy(float)
        ent["n_events"] = 0.0
        ent["n_censored"] = 0.0
        ent["n_entered"] = entries["__w"].to_numpy(float) if weights else entries["__rows"].to_numpy(float)
        for i in range(len(cause_levels)):
            ent[f"__c{i}"] = 0.0
        frames.append(ent)
    counts = pd.concat(frames, ignore_index=True) if len(frames) > 1 else parts
    counts = counts.rename(columns={f"__c{i}": c for i, c in enumerate(cause_levels)})
    lt = LifeTable.from_counts(counts, time="time", n_events=None if cause_levels else "n_events",
                               n_censored="n_censored", n_entered="n_entered" if entry else None,
                               causes=cause_levels, by=by, time_unit=time_unit)
    # rows (customers or spells) per segment, as the in-memory table counts them (not the weighted entries)
    seg = _segments(exits, by, levels)
    if by:
        seg["__rows"] = exits["__rows"].to_numpy()
        rows = seg.groupby(by, sort=True, observed=True)["__rows"].sum()
        rows.index = lt.n_customers.index
    else:
        rows = pd.Series([int(exits["__rows"].sum())], index=lt.n_customers.index)
    lt.n_customers = rows.astype(np.int64).rename("n_customers")
    return lt
