"""Tests of churnsurv.lifetable: the counts per (segment, time).

The reference is a brute-force count written in this file literally from the definition in CONTRIBUTING.md
(the risk set of R's ``survival``: at risk at t when entry < t <= exit, or entry == 0 and t == 0), one loop
per (segment, time) cell, with no shared code with the vectorised kernel.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import churnsurv.lifetable.table as lifetable_module
from churnsurv import (
    LifeTable,
    TenureConfoundingWarning,
    TenureDataError,
    Tenures,
    as_life_table,
    life_table,
    tenure_confounding,
)

COUNTS = ["n_entered", "n_at_risk", "n_events", "n_censored"]


# ====================================================================== brute-force reference
def brute_force(data: pd.DataFrame, by: list[str], causes) -> pd.DataFrame:
    """Life table counted cell by cell from the definition."""
    if by:
        keys = sorted({tuple(str(v) for v in row) for row in data[by].itertuples(index=False)})
    else:
        keys = [()]
    rows = []
    for key in keys:
        sub = data
        for col, value in zip(by, key, strict=True):
            sub = sub[sub[col].astype(str) == value]
        entry, exit_, event = sub["entry"].to_numpy(), sub["exit"].to_numpy(), sub["event"].to_numpy()
        weight = sub["weight"].to_numpy()
        cause = sub["cause"].astype(object).to_numpy() if causes else None
        # one row per time at which anything happens in the segment, plus time 0
        times = sorted({0.0, *exit_.tolist(), *entry[entry > 0].tolist()})
        for t in times:
            row = dict(zip(by, key, strict=True))
            row["time"] = t
            row["n_entered"] = sum(w for e, w in zip(entry, weight, strict=True) if e == t)
            row["n_at_risk"] = sum(w for e, x, w in zip(entry, exit_, weight, strict=True)
                                   if (e < t <= x) or (e == 0 and t == 0))
            row["n_events"] = sum(w for x, d, w in zip(exit_, event, weight, strict=True) if x == t and d)
            row["n_censored"] = sum(w for x, d, w in zip(exit_, event, weight, strict=True) if x == t and not d)
            for c in causes:
                row[f"events_{c}"] = sum(w for x, d, w, k in zip(exit_, event, weight, cause, strict=True)
                                         if x == t and d and k == c)
            rows.append(row)
    return pd.DataFrame(rows)


def random_tenures(seed: int, n: int | None = None) -> Tenures:
    """Small random data with ties, left truncation, weights, causes and two segment columns."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40)) if n is None else n
    entry = rng.choice([0.0, 0.0, 0.0, 1.0, 2.0, 2.5, 4.0], n)
    exit_ = entry + rng.choice([0.0, 0.5, 1.0, 1.0, 2.0, 3.0], n)
    exit_ = np.where((entry > 0) & (exit_ == entry), exit_ + 1.0, exit_)  # exit > entry when entry > 0
    event = rng.random(n) < 0.6
    df = pd.DataFrame({
        "entry": entry,
        "exit": exit_,
        "event": event,
        "cause": np.where(event, rng.choice(["price", "service", "moved"], n), None),
        "w": rng.choice([0.5, 1.0, 1.0, 2.0, 3.0], n),
        "plan": rng.choice(["basic", "pro"], n),
        "region": rng.choice(["north", "south", "east"], n),
    })
    return Tenures.from_frame(df, exit="exit", entry="entry", event="event", cause="cause", weights="w",
                              segments=["plan", "region"])


def comparable(lt: LifeTable) -> pd.DataFrame:
    out = lt.to_frame()
    for b in lt.by:
        out[b] = out[b].astype(str)
    return out.reset_index(drop=True)


# ====================================================================== counts against the definition
@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("by", [[], ["plan"], ["plan", "region"]], ids=["none", "plan", "plan+region"])
def test_counts_match_brute_force(seed, by):
    t = random_tenures(seed)
    lt = life_table(t, by, check_confounding=False)
    ref = brute_force(t.data, by, t.causes)
    got = comparable(lt)
    assert list(got.columns) == [*by, "time", *COUNTS, *[f"events_{c}" for c in t.causes]]
    pd.testing.assert_frame_equal(got, ref[got.columns], check_dtype=False, atol=1e-12)


def test_counts_match_brute_force_without_causes():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"t": rng.integers(0, 6, 50), "e": rng.integers(0, 2, 50), "g": rng.choice(list("xy"), 50)})
    t = Tenures.from_frame(df, duration="t", event="e", segments="g")
    lt = life_table(t, "g", check_confounding=False)
    assert lt.causes == () and lt.cause_events.shape == (len(lt.table), 0)
    pd.testing.assert_frame_equal(comparable(lt), brute_force(t.data, ["g"], ()), check_dtype=False)


def test_docstring_example():
    df = pd.DataFrame({"tenure": [1, 2, 2, 3], "churned": [1, 0, 1, 1]})
    table = life_table(Tenures.from_frame(df, duration="tenure", event="churned")).table
    expected = pd.DataFrame({"time": [0.0, 1.0, 2.0, 3.0], "n_entered": [4.0, 0, 0, 0],
                             "n_at_risk": [4.0, 4, 3, 1], "n_events": [0.0, 1, 1, 1], "n_censored": [0.0, 0, 1, 0]})
    pd.testing.assert_frame_equal(table, expected)


def test_hand_computed_truncated_table():
    # a enters at 0 leaves at 0; b at risk (0, 2]; c enters at 1, leaves at 3; d enters at 2, censored at 4
    df = pd.DataFrame({"id": list("abcd"), "entry": [0, 0, 1, 2], "exit": [0, 2, 3, 4], "e": [1, 1, 1, 0]})
    lt = life_table(Tenures.from_frame(df, exit="exit", entry="entry", event="e", id="id"))
    expected = pd.DataFrame({
        "time": [0.0, 1.0, 2.0, 3.0, 4.0],
        "n_entered": [2.0, 1.0, 1.0, 0.0, 0.0],
        "n_at_risk": [2.0, 1.0, 2.0, 2.0, 1.0],
        "n_events": [1.0, 0.0, 1.0, 1.0, 0.0],
        "n_censored": [0.0, 0.0, 0.0, 0.0, 1.0],
    })
    pd.testing.assert_frame_equal(lt.table, expected)


@pytest.mark.parametrize("seed", range(10))
def test_dense_and_sparse_paths_agree(monkeypatch, seed):
    t = random_tenures(seed, n=60)
    dense = life_table(t, ["plan", "region"], check_confounding=False)
    monkeypatch.setattr(lifetable_module, "_DENSE_CELLS", 0)
    sparse = life_table(t, ["plan", "region"], check_confounding=False)
    pd.testing.assert_frame_equal(dense.table, sparse.table)
    pd.testing.assert_frame_equal(dense.cause_events, sparse.cause_events)
    pd.testing.assert_series_equal(dense.n_customers, sparse.n_customers)


def test_row_order_does_not_matter():
    t = random_tenures(11, n=50)
    shuffled = t.subset(np.ones(len(t), bool))
    shuffled.data = t.data.sample(frac=1.0, random_state=0).reset_index(drop=True)
    a = life_table(t, ["plan"], check_confounding=False)
    b = life_table(shuffled, ["plan"], check_confounding=False)
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.cause_events, b.cause_events)


def test_attributes():
    t = random_tenures(5, n=30)
    lt = life_table(t, ["plan", "region"], check_confounding=False)
    assert lt.by == ("plan", "region")
    assert lt.causes == t.causes
    assert lt.time_unit == "month"
    assert list(lt.table.columns) == ["plan", "region", "time", *COUNTS]
    assert lt.cause_events.index.equals(lt.table.index)
    assert list(lt.cause_events.columns) == list(t.causes)
    np.testing.assert_allclose(lt.cause_events.sum(axis=1), lt.table["n_events"])
    # sorted by segment then time, one time-0 row per segment
    keys = comparable(lt)[["plan", "region", "time"]]
    assert keys.equals(keys.sort_values(["plan", "region", "time"]).reset_index(drop=True))
    assert (lt.table.loc[lt.group_starts(), "time"] == 0).all()
    # n_customers: rows per segment, unweighted
    exp = t.data.groupby(["plan", "region"], observed=True).size()
    assert lt.n_customers.to_dict() == exp.to_dict()
    assert lt.n_customers.name == "n_customers"
    assert repr(lt).startswith(f"LifeTable({len(lt.table):,} rows by ['plan', 'region']")


def test_groups():
    t = random_tenures(6, n=40)
    lt = life_table(t, ["plan", "region"], check_confounding=False)
    seen = []
    for key, rows in lt.groups():
        assert isinstance(key, tuple) and len(key) == 2
        assert (rows["plan"] == key[0]).all() and (rows["region"] == key[1]).all()
        seen.append(key)
    assert seen == sorted(seen)
    assert len(seen) == len(lt.group_keys()) == len(lt.group_starts())
    single = life_table(t, "plan", check_confounding=False)
    assert [k for k, _ in single.groups()] == [(lvl,) for lvl in sorted(t.data["plan"].unique())]
    whole = life_table(t)
    assert [(k, len(r)) for k, r in whole.groups()] == [((), len(whole.table))]
    assert whole.n_customers.to_dict() == {"all": len(t)}


def test_segment_dtype_is_kept():
    t = random_tenures(7, n=30)
    lt = life_table(t, "plan", check_confounding=False)
    assert isinstance(lt.table["plan"].dtype, pd.CategoricalDtype)
    assert list(lt.table["plan"].cat.categories) == list(t.data["plan"].cat.categories)


def test_missing_segment_level_is_a_group():
    df = pd.DataFrame({"t": [1, 2, 3, 4], "g": ["a", None, "a", None]})
    lt = life_table(Tenures.from_frame(df, duration="t", segments="g"), "g")
    assert [k for k, _ in lt.groups()] == [("a",), ("(missing)",)]
    assert lt.n_customers.to_dict() == {"a": 2, "(missing)": 2}


def test_maven_at_risk(maven_tenures, maven):
    lt = life_table(maven_tenures)
    table = lt.table.set_index("time")
    tenure = maven["Tenure in Months"].to_numpy(float)
    joined = (maven["Customer Status"] == "Joined").to_numpy()
    churned = (maven["Customer Status"] == "Churned").to_numpy()
    entry = np.where(joined, 0.0, np.maximum(tenure - np.where(churned, 2, 3), 0.0))  # churn_timing="middle"
    for t in [1, 2, 3, 4, 12, 36, 72]:
        assert table.loc[t, "n_at_risk"] == ((entry < t) & (t <= tenure)).sum()
    assert table["n_events"].sum() == 1869
    assert table["n_events"].sum() + table["n_censored"].sum() == 7043
    assert table["n_entered"].sum() == 7043
    assert lt.cause_events.sum().to_dict() == {"competitor": 841, "price": 211, "service": 321, "attitude": 314,
                                               "unknown": 182}


def test_zero_weights():
    df = pd.DataFrame({"t": [1, 2, 3], "w": [0.0, 1.0, 0.0]})
    lt = life_table(Tenures.from_frame(df, duration="t", weights="w"))
    assert lt.table["n_at_risk"].tolist() == [1.0, 1.0, 1.0, 0.0]
    assert lt.table["time"].tolist() == [0.0, 1.0, 2.0, 3.0]


# ====================================================================== errors
def test_missing_by_column():
    t = random_tenures(1, n=10)
    with pytest.raises(TenureDataError, match=r"The tenure table have no column 'plans'\. Available columns: 'id'"):
        life_table(t, "plans")


def test_from_tenures_needs_tenures():
    with pytest.raises(TypeError, match=r"The 'tenures' parameter of LifeTable\.from_tenures must be a "
                                        r"churnsurv\.Tenures\. Got 'DataFrame' instead\."):
        LifeTable.from_tenures(pd.DataFrame({"t": [1]}))


def test_by_a_column_with_missing_values():
    # BUG: grouping by a column that holds NaN (a value column, or "cause") gives the NaN rows the group
    # code -1 and numpy fails with "'list' argument must have no negative elements".
    df = pd.DataFrame({"t": [1, 2, 3], "margin": [1.0, None, 2.0]})
    t = Tenures.from_frame(df, duration="t", values="margin")
    with pytest.raises(TenureDataError, match="'margin'"):
        life_table(t, "margin")


# ====================================================================== from_counts
@pytest.mark.parametrize("seed", range(15))
def test_from_counts_reproduces_at_risk_with_entries(seed):
    t = random_tenures(seed, n=40)
    lt = life_table(t, ["plan", "region"], check_confounding=False)
    cause_cols = [f"events_{c}" for c in t.causes]
    rebuilt = LifeTable.from_counts(lt.to_frame(), n_entered="n_entered", causes=cause_cols, by=["plan", "region"])
    np.testing.assert_allclose(rebuilt.table["n_at_risk"], lt.table["n_at_risk"])
    np.testing.assert_allclose(rebuilt.table["n_entered"], lt.table["n_entered"])
    np.testing.assert_allclose(rebuilt.table[["n_events", "n_censored"]], lt.table[["n_events", "n_censored"]])
    np.testing.assert_allclose(rebuilt.cause_events.to_numpy(), lt.cause_events.to_numpy())
    assert rebuilt.by == ("plan", "region")
    assert rebuilt.causes == tuple(cause_cols)
    np.testing.assert_allclose(rebuilt.n_customers.to_numpy(),
                               t.data.groupby(["plan", "region"], observed=True)["weight"].sum().to_numpy())


@pytest.mark.parametrize("seed", range(15))
def test_from_counts_without_entries_on_untruncated_data(seed):
    t = random_tenures(seed, n=40).naive()
    lt = life_table(t, "plan", check_confounding=False)
    counts = lt.table.drop(columns=["n_entered", "n_at_risk"])
    rebuilt = LifeTable.from_counts(counts, by="plan")
    np.testing.assert_allclose(rebuilt.table["n_at_risk"], lt.table["n_at_risk"])
    np.testing.assert_allclose(rebuilt.table["n_entered"], lt.table["n_entered"])
    assert list(rebuilt.table.columns) == ["plan", "time", *COUNTS]


def test_from_counts_keeps_the_segment_order():
    # the segments of a life table are categorical (in category order, "(missing)" last); rebuilding the table
    # from its own counts must give the same rows in the same order
    df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "size": pd.Categorical(["S", "M", "L", "S", None, "L"],
                                                                       categories=["S", "M", "L"], ordered=True)})
    lt = life_table(Tenures.from_frame(df, duration="t", segments="size"), "size")
    assert [k for k, _ in lt.groups()] == [("S",), ("M",), ("L",), ("(missing)",)]
    rebuilt = LifeTable.from_counts(lt.table, n_entered="n_entered", by="size")
    assert [k for k, _ in rebuilt.groups()] == [("S",), ("M",), ("L",), ("(missing)",)]
    pd.testing.assert_frame_equal(rebuilt.table, lt.table)


def test_from_counts_adds_time_zero_and_sums_duplicate_cells():
    counts = pd.DataFrame({"g": ["a", "a", "a", "b"], "time": [1.0, 2.0, 2.0, 3.0], "ev": [2.0, 1.0, 0.0, 1.0],
                           "cens": [0.0, 1.0, 1.0, 1.0]})
    lt = LifeTable.from_counts(counts, n_events="ev", n_censored="cens", by="g", time_unit="week")
    expected = pd.DataFrame({
        "g": ["a", "a", "a", "b", "b"],
        "time": [0.0, 1.0, 2.0, 0.0, 3.0],
        "n_entered": [5.0, 0.0, 0.0, 2.0, 0.0],
        "n_at_risk": [5.0, 5.0, 3.0, 2.0, 2.0],
        "n_events": [0.0, 2.0, 1.0, 0.0, 1.0],
        "n_censored": [0.0, 0.0, 2.0, 0.0, 1.0],
    })
    pd.testing.assert_frame_equal(lt.table, expected)
    assert lt.time_unit == "week"
    assert lt.n_customers.to_dict() == {"a": 5.0, "b": 2.0}


def test_from_counts_events_from_causes():
    counts = pd.DataFrame({"time": [1.0, 2.0], "price": [1.0, 0.0], "moved": [1.0, 2.0], "n_censored": [0.0, 1.0]})
    lt = LifeTable.from_counts(counts, n_events=None, causes=["price", "moved"])
    assert lt.table["n_events"].tolist() == [0.0, 2.0, 2.0]
    assert lt.cause_events.to_dict("list") == {"price": [0.0, 1.0, 0.0], "moved": [0.0, 1.0, 2.0]}
    assert lt.table["n_at_risk"].tolist() == [5.0, 5.0, 3.0]


def test_from_counts_given_at_risk():
    counts = pd.DataFrame({"time": [0.0, 1.0, 2.0], "d": [0.0, 1.0, 1.0], "c": [0.0, 0.0, 0.0],
                           "r": [10.0, 10.0, 4.0]})
    lt = LifeTable.from_counts(counts, n_events="d", n_censored="c", n_at_risk="r")
    assert lt.table["n_at_risk"].tolist() == [10.0, 10.0, 4.0]


@pytest.mark.parametrize("column", ["n_events", "n_censored", "n_entered", "time"])
@pytest.mark.parametrize("bad", [-1.0, np.nan, "x"])
def test_from_counts_bad_counts(column, bad, check_data_error):
    counts = pd.DataFrame({"time": [0.0, 1.0, 2.0], "n_events": [0.0, 1.0, 1.0], "n_censored": [0.0, 0.0, 1.0],
                           "n_entered": [3.0, 0.0, 0.0]}, index=["r0", "r1", "r2"])
    counts[column] = counts[column].astype(object)
    counts.loc["r2", column] = bad
    with pytest.raises(TenureDataError) as exc:
        LifeTable.from_counts(counts, n_entered="n_entered")
    check_data_error(exc, column=column, n_rows=1, ids=["r2"], problem="missing, non-numeric or negative counts")


def test_from_counts_causes_must_sum_to_events(check_data_error):
    counts = pd.DataFrame({"time": [1.0, 2.0, 3.0], "n_events": [2.0, 1.0, 1.0], "n_censored": [0.0, 0.0, 0.0],
                           "price": [1.0, 1.0, 0.0], "moved": [1.0, 1.0, 0.0]})
    with pytest.raises(TenureDataError) as exc:
        LifeTable.from_counts(counts, causes=["price", "moved"])
    msg = check_data_error(exc, column="n_events", n_rows=2, ids=[1, 2],
                           problem="event counts that differ from the sum of the cause columns")
    assert "n_events=None" in msg


def test_from_counts_missing_column():
    counts = pd.DataFrame({"time": [1.0], "n_events": [1.0]})
    with pytest.raises(TenureDataError, match=r"The counts have no column 'n_censored'\. Available columns: "
                                              r"'time', 'n_events'\."):
        LifeTable.from_counts(counts)


# ====================================================================== as_life_table: the single door
class TestAsLifeTable:
    @pytest.fixture
    def frame(self):
        return pd.DataFrame({"t": [1, 2, 2, 3, 5], "e": [1, 0, 1, 1, 0], "g": list("ababa"), "h": list("xxyyx")})

    def test_tenures(self, frame):
        t = Tenures.from_frame(frame, duration="t", event="e", segments="g")
        pd.testing.assert_frame_equal(as_life_table(t, "g").table, life_table(t, "g").table)
        pd.testing.assert_frame_equal(as_life_table(t).table, life_table(t).table)

    def test_dataframe_with_column_keywords(self, frame):
        lt = as_life_table(frame, by="g", duration="t", event="e")
        t = Tenures.from_frame(frame, duration="t", event="e", segments="g")
        pd.testing.assert_frame_equal(lt.table, life_table(t, "g").table)
        assert lt.by == ("g",)

    def test_dataframe_by_joins_segments(self, frame):
        lt = as_life_table(frame, by="g", duration="t", event="e", segments=["h"])
        assert lt.by == ("g",)
        lt2 = as_life_table(frame, by=["g", "h"], duration="t", event="e", segments="h")
        assert lt2.by == ("g", "h")

    def test_dataframe_errors_come_from_from_frame(self, frame):
        with pytest.raises(TenureDataError, match="no column 'tenure'"):
            as_life_table(frame, duration="tenure")

    def test_life_table_passes_through(self, frame):
        lt = as_life_table(frame, by="g", duration="t", event="e")
        assert as_life_table(lt) is lt
        assert as_life_table(lt, by="g") is lt
        assert as_life_table(lt, by=["g"]) is lt

    def test_regroup_a_life_table(self, frame):
        lt = as_life_table(frame, by="g", duration="t", event="e")
        with pytest.raises(ValueError, match=r"grouped by \['g'\]; cannot regroup it by \['h'\]"):
            as_life_table(lt, by="h")
        ungrouped = as_life_table(frame, duration="t", event="e")
        with pytest.raises(ValueError, match="cannot regroup"):
            as_life_table(ungrouped, by="g")

    @pytest.mark.parametrize("data", [[1, 2, 3], np.array([1.0, 2.0]), pd.Series([1.0]), None, "data.csv"])
    def test_wrong_type(self, data):
        with pytest.raises(TypeError, match="Expected a churnsurv.Tenures, LifeTable or pandas DataFrame"):
            as_life_table(data)

    def test_column_keywords_on_tenures(self, frame):
        t = Tenures.from_frame(frame, duration="t", event="e")
        with pytest.raises(TypeError, match=r"Column keywords \['duration'\] only apply to a DataFrame"):
            as_life_table(t, duration="t")

    def test_confounding_warning_through_the_door(self, maven):
        with pytest.warns(TenureConfoundingWarning):
            as_life_table(maven, by="Offer", duration="Tenure in Months", event="Customer Status",
                          censored=["Stayed", "Joined"])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            as_life_table(maven, by="Contract", duration="Tenure in Months", event="Customer Status",
                          censored=["Stayed", "Joined"])


@pytest.mark.parametrize("column", ["Offer", "Contract", "Internet Type", "Payment Method"])
def test_confounding_from_the_life_table_equals_tenure_confounding(maven_tenures, column):
    # life_table reads the verdict from its own exit counts; it must agree with the public function
    from churnsurv.lifetable.table import _confounding_from_counts

    lt = life_table(maven_tenures, column, check_confounding=False)
    fast = _confounding_from_counts(lt.table, column, lt.group_keys(), len(maven_tenures))
    ref = tenure_confounding(maven_tenures, column)
    pd.testing.assert_frame_equal(fast.reset_index(drop=True), ref.reset_index(drop=True), check_dtype=False)
    assert fast.attrs == ref.attrs
