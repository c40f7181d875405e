"""Life tables computed where the data live: DuckDB for files larger than memory.

The estimators only need counts per (segment, time), so a table of 100 million customers never has to be
loaded into pandas: DuckDB aggregates the file (CSV or Parquet, or any relation it can read) out of core and
returns a few thousand rows, which :meth:`LifeTable.from_counts` turns into the same :class:`LifeTable` that
:func:`churnsurv.life_table` builds in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from churnsurv._validation import format_ids
from churnsurv.exceptions import TenureDataError
from churnsurv.lifetable.table import LifeTable
from churnsurv.data.tenures import _as_list

__all__ = ["life_table_duckdb"]


def _q(name: str) -> str:
    """Quote an identifier for SQL."""
    return '"' + str(name).replace('"', '""') + '"'


def _relation(source) -> str:
    if isinstance(source, (str, Path)) and Path(source).exists():
        path = str(source).replace("'", "''")
        if str(source).lower().endswith((".parquet", ".pq")):
            return f"read_parquet('{path}')"
        return f"read_csv_auto('{path}', header=true)"
    if isinstance(source, str):
        return source  # a table or view name in the connection
    raise TypeError(f"Expected a file path or a table name; got {type(source).__name__}.")


def life_table_duckdb(
    source,
    *,
    duration: str,
    event: str,
    entry: str | None = None,
    cause: str | None = None,
    causes: Sequence[str] | None = None,
    by: str | Sequence[str] | None = None,
    weights: str | None = None,
    id: str | None = None,
    time_unit: str = "month",
    connection=None,
    progress: bool = False,
) -> LifeTable:
    """Count a customer file into a :class:`~churnsurv.LifeTable` with DuckDB, out of core.

    Parameters
    ----------
    source : str or path
        A CSV or Parquet file (globs such as ``"data/*.parquet"`` work when the path exists), or the name of
        a table or view in ``connection``.
    duration, event : str
        Exit time and event (0/1 or boolean) columns.
    entry : str, optional
        Entry time column (left truncation).
    cause : str, optional
        Cause column (filled for events only).
    causes : list of str, optional
        Cause levels; default the distinct causes in the file, sorted.
    by : str or list of str, optional
        Segment columns.
    weights : str, optional
        Case weight column.
    id : str, optional
        Id column, used only to name offending rows in errors.
    time_unit : str
    connection : duckdb.DuckDBPyConnection, optional
        Default a new in-memory connection.
    progress : bool, default False
        Show DuckDB's progress bar during the aggregation (useful for files of many millions of rows).

    Returns
    -------
    LifeTable
        Equal to ``life_table(Tenures.from_frame(...), by)`` on the same records.

    Raises
    ------
    TenureDataError
        Missing or negative times, exit before entry, events that are not 0/1, with counts and the first ids.

    Examples
    --------
    >>> lt = life_table_duckdb("customers.parquet", duration="tenure", event="churned",
    ...                        by="plan")  # doctest: +SKIP
    """
    import duckdb

    con = connection if connection is not None else duckdb.connect()
    if progress:
        con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = true")
    rel = _relation(source)
    by = _as_list(by)
    t, e = _q(duration), f"CAST({_q(event)} AS DOUBLE)"
    en = f"CAST({_q(entry)} AS DOUBLE)" if entry else "0.0"
    w = f"CAST({_q(weights)} AS DOUBLE)" if weights else "1.0"
    rid = _q(id) if id else "row_number() OVER ()"
    _check(con, rel, t, e, en, rid, duration, event, entry)

    cause_levels: list[str] = []
    if cause:
        if causes is None:
            rows = con.execute(
                f"SELECT DISTINCT CAST({_q(cause)} AS VARCHAR) FROM {rel} WHERE {e} = 1 AND {_q(cause)} IS NOT NULL"
            ).fetchall()
            cause_levels = sorted(r[0] for r in rows)
        else:
            cause_levels = list(causes)
    seg = "".join(f"{_q(b)}, " for b in by)
    cause_sums = "".join(
        f", SUM(CASE WHEN {e} = 1 AND CAST({_q(cause)} AS VARCHAR) = ? THEN {w} ELSE 0 END) AS c{i}"
        for i, _ in enumerate(cause_levels))
    cause_zero = "".join(f", 0.0 AS c{i}" for i in range(len(cause_levels)))
    cause_out = "".join(f", SUM(c{i}) AS c{i}" for i in range(len(cause_levels)))
    group = ", ".join([_q(b) for b in by] + ["time"])
    sql = f"""
        WITH exits AS (
            SELECT {seg}CAST({t} AS DOUBLE) AS time, SUM({w} * {e}) AS n_events, SUM({w} * (1 - {e})) AS n_censored,
                   0.0 AS n_entered{cause_sums}
            FROM {rel} GROUP BY ALL
        ), entries AS (
            SELECT {seg}GREATEST({en}, 0.0) AS time, 0.0 AS n_events, 0.0 AS n_censored,
                   SUM({w}) AS n_entered{cause_zero}
            FROM {rel} GROUP BY ALL
        )
        SELECT {group}, SUM(n_events) AS n_events, SUM(n_censored) AS n_censored,
               SUM(n_entered) AS n_entered{cause_out}
        FROM (SELECT * FROM exits UNION ALL BY NAME SELECT * FROM entries)
        GROUP BY {group} ORDER BY {group}
    """
    counts = con.execute(sql, cause_levels).df()
    counts = counts.rename(columns={f"c{i}": c for i, c in enumerate(cause_levels)})
    for b in by:
        counts[b] = counts[b].astype(str).where(counts[b].notna(), "(missing)")
    return LifeTable.from_counts(counts, time="time", n_events=None if cause_levels else "n_events",
                                 n_censored="n_censored", n_entered="n_entered", causes=cause_levels, by=by,
                                 time_unit=time_unit)


def _check(con, rel, t, e, en, rid, duration, event, entry) -> None:
    checks = [
        (duration, f"{t} IS NULL", "missing times"),
        (duration, f"TRY_CAST({t} AS DOUBLE) < 0", "negative times"),
        (event, f"{e} IS NULL OR {e} NOT IN (0, 1)", "event values other than 0/1"),
    ]
    if entry:
        checks += [
            (entry, f"{en} IS NULL OR {en} < 0", "missing or negative entry times"),
            (duration, f"CAST({t} AS DOUBLE) < {en} OR ({en} > 0 AND CAST({t} AS DOUBLE) = {en})",
             f"exit not after entry (column {entry!r})"),
        ]
    for column, cond, problem in checks:
        n_bad, ids = con.execute(
            f"SELECT COUNT(*), LIST(rid) FILTER (WHERE k <= 5) FROM ("
            f"SELECT {rid} AS rid, row_number() OVER () AS k FROM {rel} WHERE {cond})").fetchone()
        if n_bad:
            ids = list(np.asarray(ids if ids is not None else [], dtype=object))
            rows = "row" if n_bad == 1 else "rows"
            raise TenureDataError(
                f"Column {column!r} has {n_bad} {rows} with {problem} ({format_ids(ids, n_bad)}). "
                "Fix them in the source before counting.", column=column, n_rows=n_bad, ids=ids)
