"""The lazy (narwhals) life table equals the in-memory one on every engine: exact counts, estimates to 1e-12."""

import warnings

import numpy as np
import pandas as pd
import pytest

import churnsurv
from churnsurv import AalenJohansen, KaplanMeier, NelsonAalen, TenureDataError, Tenures, life_table
from churnsurv.lifetable import life_table_duckdb, life_table_lazy

pl = pytest.importorskip("polars")
duckdb = pytest.importorskip("duckdb")

ENGINES = ["pandas", "polars", "polars_lazy", "duckdb_relation", "parquet", "csv"]


@pytest.fixture(scope="module")
def records():
    """Simulated book: left truncation (snapshot), five causes, two segments (one with missing values), weights."""
    sim = churnsurv.simulate_churn(4000, snapshot_period=24, random_state=20261206)
    d = sim.data.drop(columns=["signup_date"]).rename(columns={"customer_id": "id"})
    rng = np.random.default_rng(7)
    d["segment"] = d["segment"].astype(str)
    d["cause"] = d["cause"].astype(object).where(d["event"], None)
    d["region"] = rng.choice(["north", "south", "east"], len(d))
    d.loc[rng.random(len(d)) < 0.02, "region"] = None
    d["w"] = rng.uniform(0.25, 3.0, len(d))
    d.loc[rng.random(len(d)) < 0.01, "w"] = 0.0
    return d.reset_index(drop=True)


def _native(d: pd.DataFrame, engine: str, tmp_path):
    if engine == "pandas":
        return d
    if engine == "polars":
        return pl.from_pandas(d)
    if engine == "polars_lazy":
        return pl.from_pandas(d).lazy()
    if engine == "duckdb_relation":
        con = duckdb.connect()
        return con.from_arrow(pl.from_pandas(d).to_arrow())
    path = tmp_path / f"records.{engine}"
    if engine == "parquet":
        d.to_parquet(path)
    else:
        d.to_csv(path, index=False)
    return str(path)


def _memory(d, *, by, weights=None, entry="entry", cause="cause"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero weights, confounding: the in-memory path warns, the counts stand
        t = Tenures.from_frame(d, duration="exit", event="event", entry=entry, cause=cause, weights=weights,
                               id="id", segments=by)
        return life_table(t, by or None)


def _frame(lt):
    f = lt.to_frame()
    for b in lt.by:
        f[b] = f[b].astype(str)
    return f.reset_index(drop=True)


def _assert_same_table(mem, lazy, exact=True):
    assert lazy.by == mem.by and lazy.causes == mem.causes
    if exact:
        pd.testing.assert_frame_equal(_frame(mem), _frame(lazy), check_dtype=False, check_exact=True)
    else:
        pd.testing.assert_frame_equal(_frame(mem), _frame(lazy), check_dtype=False, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(mem.n_customers.to_numpy(), lazy.n_customers.to_numpy())
    assert [str(i) for i in mem.n_customers.index] == [str(i) for i in lazy.n_customers.index]


def _curves(est, attr):
    f = getattr(est, attr).copy()
    for c in f.columns:
        if isinstance(f[c].dtype, pd.CategoricalDtype) or f[c].dtype == object:
            f[c] = f[c].astype(str)
    return f.reset_index(drop=True)


def _assert_same_estimates(mem, lazy):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pairs = [(KaplanMeier().fit(mem), KaplanMeier().fit(lazy), "survival_"),
                 (NelsonAalen().fit(mem), NelsonAalen().fit(lazy), "cumulative_hazard_")]
        if mem.causes:
            pairs.append((AalenJohansen(variance="greenwood").fit(mem), AalenJohansen(variance="greenwood").fit(lazy),
                          "cumulative_incidence_"))
    for a, b, attr in pairs:
        pd.testing.assert_frame_equal(_curves(a, attr), _curves(b, attr), check_dtype=False, rtol=1e-12,
                                      atol=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_counts_exact_with_entries_causes_segments(records, engine, tmp_path):
    by = ["segment", "region"]
    mem = _memory(records, by=by)
    lazy = life_table_lazy(_native(records, engine, tmp_path), exit="exit", event="event", entry="entry",
                           cause="cause", by=by)
    assert "(missing)" in set(lazy.table["region"])
    _assert_same_table(mem, lazy, exact=True)
    _assert_same_estimates(mem, lazy)


@pytest.mark.parametrize("engine", ENGINES)
def test_weighted_counts_and_estimates(records, engine, tmp_path):
    mem = _memory(records, by=["segment"], weights="w")
    lazy = life_table_lazy(_native(records, engine, tmp_path), exit="exit", event="event", entry="entry",
                           cause="cause", by="segment", weights="w", id="id")
    _assert_same_table(mem, lazy, exact=False)
    _assert_same_estimates(mem, lazy)


@pytest.mark.parametrize("engine", ["pandas", "polars_lazy", "duckdb_relation"])
def test_no_entry_no_segments_no_causes(records, engine, tmp_path):
    mem = _memory(records, by=[], entry=None, cause=None)
    lazy = life_table_lazy(_native(records, engine, tmp_path), exit="exit", event="event")
    _assert_same_table(mem, lazy, exact=True)
    _assert_same_estimates(mem, lazy)


def test_continuous_times_and_boolean_or_integer_events(tmp_path):
    sim = churnsurv.simulate_churn(1500, discrete=False, snapshot_period=12, random_state=3)
    d = sim.data.drop(columns=["signup_date"]).rename(columns={"customer_id": "id"})
    d["segment"] = d["segment"].astype(str)
    d["cause"] = d["cause"].astype(object).where(d["event"], None)
    mem = _memory(d, by=["segment"])
    d_int = d.assign(event=d["event"].astype(int))
    for src in (pl.from_pandas(d).lazy(), duckdb.connect().from_arrow(pl.from_pandas(d_int).to_arrow())):
        lazy = life_table_lazy(src, exit="exit", event="event", entry="entry", cause="cause", by="segment")
        _assert_same_table(mem, lazy, exact=True)
        _assert_same_estimates(mem, lazy)


def test_causes_order_and_duckdb_wrapper_agree(records, tmp_path):
    path = _native(records, "parquet", tmp_path)
    order = ["service", "price", "competitor", "product", "natural"]
    a = life_table_lazy(path, exit="exit", event="event", entry="entry", cause="cause", causes=order, by="segment")
    b = life_table_duckdb(path, duration="exit", event="event", entry="entry", cause="cause", causes=order,
                          by="segment")
    assert a.causes == tuple(order)
    assert b.table["segment"].dtype == object  # life_table_duckdb keeps its plain-text segments
    pd.testing.assert_frame_equal(_frame(a), _frame(b), check_exact=True)
    with pytest.raises(TenureDataError, match=r"Column 'cause' has \d+ event rows with causes not in `causes`"):
        life_table_lazy(path, exit="exit", event="event", cause="cause", causes=["price"])


def test_the_callers_frame_is_not_mutated(records):
    before = records.copy()
    life_table_lazy(records, exit="exit", event="event", entry="entry", cause="cause", by="segment", weights="w")
    pd.testing.assert_frame_equal(records, before)


@pytest.mark.parametrize("engine", ["polars_lazy", "duckdb_relation"])
def test_errors_name_column_count_and_ids(engine, tmp_path):
    def run(df, **kw):
        return life_table_lazy(_native(df, engine, tmp_path), **kw)

    df = pd.DataFrame({"id": ["c1", "c2", "c3"], "t": [3.0, -1.0, -2.0], "e": [1, 0, 1]})
    with pytest.raises(TenureDataError, match=r"Column 't' has 2 rows with negative times \(ids 'c2', 'c3'\)"):
        run(df, exit="t", event="e", id="id")
    df = pd.DataFrame({"t": [3.0, None, 2.0], "e": [1, 0, 1]})
    with pytest.raises(TenureDataError, match="Column 't' has 1 row with missing times"):
        run(df, exit="t", event="e")
    df = pd.DataFrame({"t": [3.0, 2.0], "e": [1, 2]})
    with pytest.raises(TenureDataError, match="Column 'e' has 1 row with event values other than 0/1"):
        run(df, exit="t", event="e")
    df = pd.DataFrame({"id": [1, 2, 3], "t": [3.0, 2.0, 4.0], "s": [1.0, 2.0, 5.0], "e": [1, 0, 1]})
    with pytest.raises(TenureDataError, match=r"Column 't' has 2 rows with exit not after entry .*ids 2, 3"):
        run(df, exit="t", event="e", entry="s", id="id")
    df = pd.DataFrame({"t": [3.0, 2.0], "e": [1, 1], "k": ["price", None]})
    with pytest.raises(TenureDataError, match="Column 'k' has 1 row with events without a cause"):
        run(df, exit="t", event="e", cause="k")
    df = pd.DataFrame({"t": [3.0, 2.0], "e": [1, 0], "w": [1.0, -1.0]})
    with pytest.raises(TenureDataError, match="Column 'w' has 1 row with negative weights"):
        run(df, exit="t", event="e", weights="w")
    with pytest.raises(TenureDataError, match=r"column\(s\) not found: by='plan'"):
        run(df, exit="t", event="e", by="plan")


def test_unsupported_source_is_a_clear_type_error():
    with pytest.raises(TypeError, match="expected a polars/pandas"):
        life_table_lazy([1, 2, 3], exit="t", event="e")


def test_spark_local_mode_equals_in_memory(records):
    pyspark = pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[1]").appName("churnsurv-lazy")
             .config("spark.sql.shuffle.partitions", "2").config("spark.ui.enabled", "false").getOrCreate())
    try:
        sdf = spark.createDataFrame(records[["id", "entry", "exit", "event", "cause", "segment", "region", "w"]])
        by = ["segment", "region"]
        lazy = life_table_lazy(sdf, exit="exit", event="event", entry="entry", cause="cause", by=by)
        mem = _memory(records, by=by)
        _assert_same_table(mem, lazy, exact=True)
        _assert_same_estimates(mem, lazy)
        lazy_w = life_table_lazy(sdf, exit="exit", event="event", entry="entry", cause="cause", by="segment",
                                 weights="w")
        _assert_same_table(_memory(records, by=["segment"], weights="w"), lazy_w, exact=False)
    finally:
        spark.stop()
    assert pyspark.__version__


def test_non_numeric_time_column_is_named():
    df = pl.DataFrame({"t": ["3", "2"], "e": [1, 0]})
    with pytest.raises(TenureDataError, match=r"column 't' \(exit\) has type String; expected numbers"):
        life_table_lazy(df, exit="t", event="e")
