"""The life table: counts at risk, entering, defecting (by cause) and censored per segment and time.

* :mod:`churnsurv.lifetable.table`: :class:`~churnsurv.LifeTable`, :func:`~churnsurv.life_table` and
  :func:`~churnsurv.as_life_table`, the single door from records to counts;
* :mod:`churnsurv.lifetable.counts`: the vectorised counting core the estimators share;
* :mod:`churnsurv.lifetable.lazy`: the same table aggregated lazily in the engine holding the records (polars,
  DuckDB and files, Spark, Ibis) through narwhals, written once;
* :mod:`churnsurv.lifetable.duckdb_engine`: the DuckDB-flavoured door to it, out of core.
"""

from churnsurv.lifetable.duckdb_engine import life_table_duckdb
from churnsurv.lifetable.lazy import life_table_lazy
from churnsurv.lifetable.table import LifeTable, as_life_table, life_table

__all__ = ["LifeTable", "as_life_table", "life_table", "life_table_duckdb", "life_table_lazy"]
