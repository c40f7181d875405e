"""Life tables computed where the data live: DuckDB for files larger than memory.

The estimators only need counts per (segment, time), so a table of 100 million customers never has to be
loaded into pandas: DuckDB aggregates the file (CSV or Parquet, or any relation it can read) out of core and
returns a few thousand rows, which :meth:`LifeTable.from_counts` turns into the same :class:`LifeTable` that
:func:`churnsurv.life_table` builds in memory. The aggregation itself is :func:`~churnsurv.lifetable.life_table_lazy`
(written once, for every engine); this function keeps the DuckDB-flavoured signature.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from churnsurv.lifetable.lazy import life_table_lazy
from churnsurv.lifetable.table import LifeTable

__all__ = ["life_table_duckdb"]


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
    source : str, path or duckdb relation
        A CSV or Parquet file (globs such as ``"data/*.parquet"`` work), the name of a table or view in
        ``connection``, or a DuckDB relation.
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

    See Also
    --------
    churnsurv.lifetable.life_table_lazy : the same aggregation for polars, Spark, Ibis and other engines.

    Examples
    --------
    >>> lt = life_table_duckdb("customers.parquet", duration="tenure", event="churned",
    ...                        by="plan")  # doctest: +SKIP
    """
    import duckdb

    con = connection if connection is not None else duckdb.connect()
    if progress:
        con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = true")
    lt = life_table_lazy(source, exit=duration, event=event, entry=entry, cause=cause, causes=causes,
                         by=by if by is not None else (), weights=weights, id=id, time_unit=time_unit,
                         connection=con)
    # this function has always returned the segments as plain text (life_table_lazy keeps categoricals)
    for b in lt.by:
        lt.table[b] = lt.table[b].astype(str)
    if lt.by:
        idx = lt.n_customers.index
        lt.n_customers.index = (pd.MultiIndex.from_frame(idx.to_frame(index=False).astype(str)) if len(lt.by) > 1
                                else pd.Index(idx.astype(str), name=idx.name))
    return lt
