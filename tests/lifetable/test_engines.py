"""DuckDB life tables equal the in-memory ones, and bad files give the same kind of clear error."""

import numpy as np
import pandas as pd
import pytest

from churnsurv import Tenures, TenureDataError, life_table
from churnsurv.datasets import load_maven_telco
from churnsurv.lifetable.duckdb_engine import life_table_duckdb


def _export(t: Tenures, path, cols):
    d = t.data.copy()
    d["event"] = d["event"].astype(int)
    if "cause" in d:
        d["cause"] = d["cause"].astype(object)
    for s in t.segments:
        d[s] = d[s].astype(str)
    d[cols].to_parquet(path)


def _same(a, b):
    a, b = a.to_frame(), b.to_frame()
    for c in a.columns:
        if isinstance(a[c].dtype, pd.CategoricalDtype):
            a[c] = a[c].astype(str)
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)


@pytest.mark.parametrize("truncate", [False, True])
def test_maven_by_contract_equals_in_memory(tmp_path, truncate):
    t = load_maven_telco(truncate=truncate)
    path = tmp_path / "m.parquet"
    _export(t, path, ["id", "entry", "exit", "event", "cause", "Contract"])
    mem = life_table(t, "Contract")
    duck = life_table_duckdb(path, duration="exit", event="event", entry="entry", cause="cause",
                             causes=list(t.causes), by="Contract", id="id")
    _same(mem, duck)


def test_csv_with_weights_and_two_segments(tmp_path):
    rng = np.random.default_rng(1)
    n = 3000
    df = pd.DataFrame({
        "entry": rng.integers(0, 5, n).astype(float),
        "a": rng.choice(["x", "y"], n), "b": rng.choice(["p", "q", "r"], n),
        "w": rng.uniform(0.5, 2, n), "event": rng.integers(0, 2, n)})
    df["exit"] = df["entry"] + rng.integers(1, 30, n)
    path = tmp_path / "c.csv"
    df.to_csv(path, index=False)
    t = Tenures.from_frame(df, duration="exit", event="event", entry="entry", weights="w", segments=["a", "b"])
    mem = life_table(t, ["a", "b"])
    duck = life_table_duckdb(path, duration="exit", event="event", entry="entry", weights="w", by=["a", "b"])
    a, b = mem.to_frame(), duck.to_frame()
    for c in ["a", "b"]:
        a[c] = a[c].astype(str)
    pd.testing.assert_frame_equal(a, b, check_dtype=False, rtol=1e-12)


def test_errors_name_column_count_and_ids(tmp_path):
    df = pd.DataFrame({"id": ["c1", "c2", "c3"], "t": [3.0, -1.0, -2.0], "e": [1, 0, 1]})
    path = tmp_path / "bad.parquet"
    df.to_parquet(path)
    with pytest.raises(TenureDataError, match=r"Column 't' has 2 rows with negative times \(ids 'c2', 'c3'\)"):
        life_table_duckdb(path, duration="t", event="e", id="id")
    df = pd.DataFrame({"t": [3.0, 2.0], "e": [1, 2]})
    df.to_parquet(path)
    with pytest.raises(TenureDataError, match="Column 'e' has 1 row with event values other than 0/1"):
        life_table_duckdb(path, duration="t", event="e")
    df = pd.DataFrame({"t": [3.0, 2.0], "s": [1.0, 2.0], "e": [1, 0]})
    df.to_parquet(path)
    with pytest.raises(TenureDataError, match="exit not after entry"):
        life_table_duckdb(path, duration="t", event="e", entry="s")
