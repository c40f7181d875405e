"""Lean storage of the tenure table (issue 17.2): narrow exact types, no copies of the ids, one counting pass.

Speed is measured in ``benchmarks/bench_file_to_estimates.py``, never asserted here; peak memory is measured
with ``tracemalloc`` (deterministic allocation counts, not timings).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest

import churnsurv.data.tenures as tenures_module
import churnsurv.lifetable.table as table_module
from churnsurv import KaplanMeier, Tenures, TenureDataError, life_table
from churnsurv.exceptions import StatisticalWarning


def _frame(n=2_000, seed=0, float_times=False, truncation=True, causes=True, weights=False):
    rng = np.random.default_rng(seed)
    exit_t = rng.integers(0, 60, n)
    entry = np.where(rng.random(n) < 0.4, rng.integers(0, 30, n), 0) if truncation else np.zeros(n, dtype=int)
    entry = np.minimum(entry, np.maximum(exit_t - 1, 0))
    event = rng.random(n) < 0.5
    df = pd.DataFrame({
        "cid": np.arange(n) * 3 + 7,
        "tenure": exit_t + (rng.random(n).round(1) if float_times else 0),
        "start": entry,
        "churned": event.astype(int),
        "why": np.where(event, rng.choice(["price", "service", "move"], n), None),
        "plan": rng.choice(["basic", "plus", "pro", None], n),
        "region": pd.Categorical(rng.choice(["n", "s"], n)),
        "margin": rng.normal(30, 5, n),
        "w": rng.choice([0.5, 1.0, 2.0], n),
    })
    kw = dict(duration="tenure", event="churned", id="cid", segments=["plan", "region"], values=["margin"])
    if truncation:
        kw["entry"] = "start"
    if causes:
        kw["cause"] = "why"
    if weights:
        kw["weights"] = "w"
    return df, kw


def test_narrow_types():
    df, kw = _frame()
    t = Tenures.from_frame(df, **kw)
    assert t.column("exit").dtype == np.int32
    assert t.column("entry").dtype == np.int32
    assert t.column("event").dtype == bool
    assert t.column("cause").codes.dtype == np.int8
    assert t.column("plan").codes.dtype == np.int8
    assert t.column("region").codes.dtype == np.int8
    assert t.column("margin").dtype == np.float64
    usage = t.memory_usage()
    assert usage["weight"] == 0 and usage["id"] == 0
    assert usage["exit"] == 4 * len(df) and usage["event"] == len(df)
    assert not t.has_weights


def test_no_entry_stored_without_truncation_and_ids_by_reference():
    df, kw = _frame(truncation=False)
    t = Tenures.from_frame(df, **kw)
    assert t._stored("entry") is None and not t.is_truncated
    assert t.memory_usage()["entry"] == 0
    np.testing.assert_array_equal(t.column("entry"), np.zeros(len(df)))
    assert np.shares_memory(t.column("id"), df["cid"].to_numpy())  # the caller's ids, not a copy
    t2 = Tenures.from_frame(df.drop(columns="cid"), duration="tenure", event="churned")
    assert t2.column("id") is not None and isinstance(t2.column("id"), pd.RangeIndex)


def test_integer_times_stay_integer_and_floats_stay_exact():
    base = pd.DataFrame({"t": [1, 2, 3], "e": [1, 0, 1]})
    assert Tenures.from_frame(base, duration="t", event="e").column("exit").dtype == np.int32
    big = base.assign(t=[1, 2, 3_000_000_000])
    assert Tenures.from_frame(big, duration="t", event="e").column("exit").dtype == np.int64
    whole = base.assign(t=[1.0, 2.0, 3.0])
    assert Tenures.from_frame(whole, duration="t", event="e").column("exit").dtype == np.int32
    frac = base.assign(t=[1.5, 2.0, 3.0])
    col = Tenures.from_frame(frac, duration="t", event="e").column("exit")
    assert col.dtype == np.float64 and col[0] == 1.5
    nullable = base.assign(t=pd.array([1, 2, 3], dtype="Int64"))
    assert Tenures.from_frame(nullable, duration="t", event="e").column("exit").dtype == np.int32


def test_codes_widen_with_the_number_of_levels():
    n = 40_000
    df = pd.DataFrame({"t": np.arange(n) % 7, "many": (np.arange(n) % 300).astype(str),
                       "huge": (np.arange(n) % 33_000).astype(str)})
    t = Tenures.from_frame(df, duration="t", segments=["many", "huge"])
    assert t.column("many").codes.dtype == np.int16
    assert t.column("huge").codes.dtype == np.int32
    assert sorted(t.column("many").categories) == sorted(set(df["many"]))


def test_the_callers_frame_is_private_and_unchanged():
    df, kw = _frame()
    before = df.copy()
    t = Tenures.from_frame(df, **kw)
    pd.testing.assert_frame_equal(df, before)
    df.loc[0, "churned"] = 1 - df.loc[0, "churned"]
    df.loc[0, "tenure"] = 999
    assert t.column("event")[0] == bool(before.loc[0, "churned"])
    assert t.column("exit")[0] == before.loc[0, "tenure"]


def test_data_view_keeps_the_float_contract():
    df, kw = _frame(weights=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        t = Tenures.from_frame(df, **kw)
    d = t.data
    assert list(d.columns) == ["id", "entry", "exit", "event", "cause", "weight", "plan", "region", "margin"]
    assert d["exit"].dtype == np.float64 and d["entry"].dtype == np.float64 and d["weight"].dtype == np.float64
    np.testing.assert_array_equal(d["exit"].to_numpy(), df["tenure"].to_numpy(float))
    np.testing.assert_array_equal(d["id"].to_numpy(), df["cid"].to_numpy())
    assert t.data is d  # built once


@pytest.mark.parametrize("float_times", [False, True], ids=["integer-grid", "hashed-times"])
@pytest.mark.parametrize("weights", [False, True], ids=["unit", "weighted"])
def test_narrow_storage_counts_like_the_float_frame(float_times, weights):
    df, kw = _frame(n=3_000, seed=3, float_times=float_times, weights=weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lean = Tenures.from_frame(df, **kw)
        wide = Tenures(lean.data.copy(), segments=lean.segments, values=lean.values, causes=lean.causes)
        for by in [None, "plan", ["plan", "region"]]:
            a, b = life_table(lean, by, check_confounding=False), life_table(wide, by, check_confounding=False)
            pd.testing.assert_frame_equal(a.table, b.table)
            pd.testing.assert_frame_equal(a.cause_events, b.cause_events)
            pd.testing.assert_series_equal(a.n_customers, b.n_customers)


def test_chunked_counting_equals_one_chunk(monkeypatch):
    df, kw = _frame(n=5_000, seed=5, weights=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = Tenures.from_frame(df, **kw)
        whole = life_table(t, ["plan", "region"], check_confounding=False)
        monkeypatch.setattr(table_module, "_CHUNK", 97)
        monkeypatch.setattr(tenures_module, "_CHUNK", 89)
        monkeypatch.setattr(tenures_module, "_HASH_CHUNK", 61)
        t2 = Tenures.from_frame(df, **kw)
        chunked = life_table(t2, ["plan", "region"], check_confounding=False)
    assert list(t2.column("plan")) == list(t.column("plan"))
    pd.testing.assert_frame_equal(whole.table, chunked.table)
    pd.testing.assert_frame_equal(whole.cause_events, chunked.cause_events)


def test_absent_levels_are_dropped_after_counting():
    df = pd.DataFrame({"t": [1, 2, 3], "e": [1, 0, 1],
                       "g": pd.Categorical(["a", "c", "a"], categories=["a", "b", "c"])})
    lt = life_table(Tenures.from_frame(df, duration="t", event="e", segments="g"), by="g")
    assert list(lt.n_customers.index) == ["a", "c"]
    assert list(lt.table["g"].cat.categories) == ["a", "b", "c"]
    km = KaplanMeier(min_at_risk=None).fit(df, by="g", duration="t", event="e")
    assert set(km.survival_["g"]) == {"a", "c"}


_PEAK_SCRIPT = textwrap.dedent("""
    import tracemalloc, numpy as np, pandas as pd
    from churnsurv import Tenures, life_table, KaplanMeier, NelsonAalen
    n = {n}
    rng = np.random.default_rng(1)
    df = pd.DataFrame({{"customer_id": np.arange(n) + 1000, "tenure": rng.integers(0, 72, n),
                        "churned": rng.integers(0, 2, n),
                        "segment": rng.choice(np.array(["a", "b", "c", "d"], dtype=object), n)}})
    tracemalloc.start()
    t = Tenures.from_frame(df, duration="tenure", event="churned", segments="segment", id="customer_id")
    lt = life_table(t, by="segment")
    km, na = KaplanMeier().fit(lt), NelsonAalen().fit(lt)
    print(tracemalloc.get_traced_memory()[1] / n)
""")


def test_peak_memory_per_customer():
    """File frame to KM + Nelson-Aalen by 4 segments: about 16 bytes per customer above the input frame."""
    n = 2_000_000
    out = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT.format(n=n)], capture_output=True, text=True,
                         check=True)
    per_customer = float(out.stdout.strip().splitlines()[-1])
    assert per_customer < 16.0, f"peak {per_customer:.1f} bytes per customer"


@pytest.mark.parametrize("engine", ["pyarrow", "pandas"])
def test_from_csv_equals_from_frame(tmp_path, engine):
    df, kw = _frame(n=500, seed=9, weights=True)
    df = df.drop(columns="region")
    kw["segments"] = ["plan"]
    path = tmp_path / "customers.csv"
    df.to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        direct = Tenures.from_frame(pd.read_csv(path), **kw)
        read = Tenures.from_csv(path, engine=engine, **kw)
    pd.testing.assert_frame_equal(read.data, direct.data)
    assert read.column("plan").codes.dtype == np.int8 and read.column("exit").dtype == np.int32
    assert read.causes == direct.causes


def test_from_csv_names_a_missing_column(tmp_path):
    path = tmp_path / "customers.csv"
    pd.DataFrame({"tenure": [1, 2], "churned": [1, 0]}).to_csv(path, index=False)
    for engine in ["pyarrow", "pandas"]:
        with pytest.raises(TenureDataError, match="tenur"):
            Tenures.from_csv(path, duration="tenur", event="churned", engine=engine)


@pytest.mark.parametrize("engine", ["pyarrow", "pandas"])
def test_from_csv_falls_back_for_fractions_and_labels(tmp_path, engine):
    path = tmp_path / "labels.csv"
    pd.DataFrame({"t": [1.5, 2, 3], "e": ["Yes", "No", "Yes"], "s": ["a", "b", None]}).to_csv(path, index=False)
    t = Tenures.from_csv(path, duration="t", event="e", censored="No", segments="s", engine=engine)
    np.testing.assert_array_equal(t.column("exit"), [1.5, 2.0, 3.0])
    np.testing.assert_array_equal(t.column("event"), [True, False, True])
    assert list(t.column("s")) == ["a", "b", "(missing)"]
