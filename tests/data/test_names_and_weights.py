"""Names never collide (issue 16.1) and weights are refused or warned about, never silently used (issue 16.4).

Before the fix, a segment called ``event`` replaced the event flag (every row a defection), a value column called
``exit`` replaced the tenure, one called ``weight`` became the case weight, a segment called ``estimate`` was
overwritten in the curves, and a segment whose weights were all zero got a survival of 1. Each test below fails on
that behaviour. The hypothesis tests draw column names (canonical, reserved, look-alikes and arbitrary text) and
check that every table is either built correctly (the event flag untouched, each segment its own levels) or refused
with a TenureDataError that names the clash.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from churnsurv import KaplanMeier, LifeTable, NelsonAalen, Tenures, TenureDataError, life_table
from churnsurv.data.tenures import CANONICAL, RESERVED_SEGMENT_NAMES
from churnsurv.exceptions import StatisticalWarning


@pytest.fixture
def frame():
    """A user's file whose columns are called like the tenure table's own."""
    return pd.DataFrame({
        "tenure": [1, 2, 3, 4, 5, 6, 7, 8],
        "churned": [1, 0, 1, 0, 1, 1, 0, 1],
        "event": ["webinar", "fair", "webinar", "fair", "webinar", "fair", "webinar", "fair"],
        "exit": [99.0] * 8,
        "weight": [2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        "estimate": ["a", "b"] * 4,
    })


# ---------------------------------------------------------------------- names: refused at the door, with the fix
@pytest.mark.parametrize("name", list(CANONICAL))
def test_segment_with_a_canonical_name_is_refused(frame, name):
    df = frame.assign(**{name: ["x", "y"] * 4})
    with pytest.raises(TenureDataError, match=rf"segment column '{name}'.*rename=\{{'{name}'") as err:
        Tenures.from_frame(df, duration="tenure", event="churned", segments=[name])
    assert err.value.column == name
    assert err.value.n_rows == len(df)


@pytest.mark.parametrize("name", list(CANONICAL))
def test_value_with_a_canonical_name_is_refused(frame, name):
    df = frame.assign(**{name: np.arange(8.0)})
    with pytest.raises(TenureDataError, match=rf"value column '{name}'.*rename="):
        Tenures.from_frame(df, duration="tenure", event="churned", values=[name])


@pytest.mark.parametrize("name", ["time", "estimate", "n_at_risk", "ci_lower", "n_customers"])
def test_segment_named_like_a_result_column_is_refused(frame, name):
    df = frame.assign(**{name: ["a", "b"] * 4})
    with pytest.raises(TenureDataError, match=rf"'{name}'.*result column"):
        Tenures.from_frame(df, duration="tenure", event="churned", segments=[name])
    with pytest.raises(TenureDataError, match=rf"'{name}'"):  # the estimators' door (a DataFrame) too
        KaplanMeier().fit(df, by=name, duration="tenure", event="churned")


def test_segment_named_like_a_cause_count_is_refused():
    df = pd.DataFrame({"t": [1, 2, 3], "why": ["price", None, "price"], "events_price": ["a", "b", "a"]})
    with pytest.raises(TenureDataError, match="'events_price'.*cause 'price'"):
        Tenures.from_frame(df, duration="t", cause="why", segments=["events_price"])


def test_segment_called_event_works_under_rename(frame):
    t = Tenures.from_frame(frame, duration="tenure", event="churned", segments=["event"],
                           rename={"event": "signup_event"})
    assert t.segments == ("signup_event",)
    # the event flag is the churned column, untouched by the segment
    np.testing.assert_array_equal(t.column("event"), frame["churned"].to_numpy() == 1)
    np.testing.assert_array_equal(t.data["event"].to_numpy(), frame["churned"].to_numpy() == 1)
    assert list(t.data["signup_event"].cat.categories) == ["fair", "webinar"]
    lt = life_table(t, by="signup_event")
    assert lt.n_customers.to_dict() == {"fair": 4, "webinar": 4}
    assert lt.table.groupby("signup_event", observed=True)["n_events"].sum().to_dict() == {"fair": 2.0,
                                                                                           "webinar": 3.0}
    km = KaplanMeier(min_at_risk=None).fit(t, by="signup_event")
    assert set(km.survival_["signup_event"]) == {"fair", "webinar"}
    assert km.survival_["estimate"].min() < 1  # defections are counted, not every row as one


def test_values_called_exit_and_weight_under_rename(frame):
    t = Tenures.from_frame(frame, duration="tenure", event="churned", values=["exit", "weight"],
                           rename={"exit": "exit_fee", "weight": "kg"})
    np.testing.assert_array_equal(t.column("exit"), frame["tenure"].to_numpy())  # the tenure, not 99
    assert not t.has_weights  # the 'weight' value is a value, not the case weight
    np.testing.assert_array_equal(t.data["weight"].to_numpy(), np.ones(8))
    np.testing.assert_array_equal(t.data["kg"].to_numpy(), frame["weight"].to_numpy())
    assert life_table(t).table["n_at_risk"].iloc[0] == 8.0


def test_source_columns_may_have_canonical_names(frame):
    # the columns the table is built FROM may be called anything: exit from 'event', event from 'exit'
    df = pd.DataFrame({"event": [3, 1, 2], "exit": [True, False, True], "weight": ["a", "b", "a"]})
    t = Tenures.from_frame(df, duration="event", event="exit", segments=[], id=None)
    np.testing.assert_array_equal(t.column("exit"), [3, 1, 2])
    np.testing.assert_array_equal(t.column("event"), [True, False, True])


def test_group_by_a_canonical_column_is_refused(frame):
    t = Tenures.from_frame(frame, duration="tenure", event="churned", segments=["estimate"],
                           rename={"estimate": "plan"})
    for name in ["event", "exit", "weight", "cause"]:
        with pytest.raises(TenureDataError, match=rf"by='{name}' names the tenure table's"):
            KaplanMeier().fit(t, by=name)
        with pytest.raises(TenureDataError, match=rf"by='{name}'"):
            life_table(t, by=name)
        with pytest.raises(TenureDataError, match=rf"by='{name}'"):
            t.describe(by=name)


def test_km_on_a_frame_with_a_segment_called_event(frame):
    with pytest.raises(TenureDataError, match=r"'event'.*rename="):
        KaplanMeier().fit(frame, by="event", duration="tenure", event="churned")


def test_life_table_counts_refuse_result_names():
    counts = pd.DataFrame({"time": [0.0, 1.0], "n_events": [0.0, 1.0], "n_censored": [0.0, 1.0],
                           "n_at_risk": [2.0, 2.0], "n_entered": [2.0, 0.0]})
    with pytest.raises(TenureDataError, match="'n_at_risk'"):
        LifeTable.from_counts(counts.assign(g="a"), by="n_at_risk", n_entered="n_entered")


def test_curves_refuse_a_segment_named_like_a_result_column():
    # a hand-made life table grouped by 'estimate': the curve would overwrite the segment column
    table = pd.DataFrame({"estimate": ["a", "a"], "time": [0.0, 1.0], "n_entered": [2.0, 0.0],
                          "n_at_risk": [2.0, 2.0], "n_events": [0.0, 1.0], "n_censored": [0.0, 1.0]})
    lt = LifeTable(table, pd.DataFrame(index=range(2)), by=("estimate",))
    with pytest.raises(TenureDataError, match="'estimate'.*result column"):
        KaplanMeier(min_at_risk=None).fit(lt)


def test_duplicate_and_non_str_names_are_refused(frame):
    with pytest.raises(TenureDataError, match="listed twice"):
        Tenures.from_frame(frame, duration="tenure", event="churned", segments=["estimate"], values=["tenure"],
                           rename={"estimate": "x", "tenure": "x"})
    df = pd.DataFrame({0: [1, 2], 1: ["a", "b"]})
    with pytest.raises(TenureDataError, match="must be str.*rename"):
        Tenures.from_frame(df, duration=0, segments=[1])
    t = Tenures.from_frame(df, duration=0, segments=[1], rename={1: "plan"})
    assert t.segments == ("plan",)


def test_rename_names_only_segments_and_values(frame):
    with pytest.raises(ValueError, match="not segment or value columns"):
        Tenures.from_frame(frame, duration="tenure", event="churned", rename={"tenure": "x"})


def test_snapshot_and_dates_keep_user_columns_called_like_their_work_columns():
    # from_snapshot/from_dates used to add '__entry'/'__event'/'__exit' columns to a copy of the frame
    snap = pd.DataFrame({"tenure": [5, 2, 9], "status": ["Churned", "Joined", "Stayed"],
                         "__event": ["x", "y", "x"], "__entry": ["p", "q", "p"]})
    t = Tenures.from_snapshot(snap, tenure="tenure", status="status", period=3, segments=["__event", "__entry"])
    assert list(t.data["__event"].astype(str)) == ["x", "y", "x"]
    np.testing.assert_array_equal(t.column("event"), [True, False, False])
    dates = pd.DataFrame({"start": ["2024-01-01", "2024-02-01"], "end": ["2024-05-01", None],
                          "__exit": ["a", "b"]})
    t = Tenures.from_dates(dates, start="start", end="end", as_of="2024-12-31", segments=["__exit"])
    assert list(t.data["__exit"].astype(str)) == ["a", "b"]
    np.testing.assert_array_equal(t.column("exit"), [4, 10])


# ---------------------------------------------------------------------- names: generated
_LOOKALIKES = ["segment", "level", "Event", "event ", "EXIT", "id_", "time_", "__cause_x", "events_",
               "profile", "term", "n", "0", "", " ", "é", "estimate_", "plan"]
_NAMES = st.one_of(st.sampled_from([*CANONICAL, *RESERVED_SEGMENT_NAMES, *_LOOKALIKES]),
                   st.text(min_size=0, max_size=6))


def _expected_clash(segments, values):
    for name in [*segments, *values]:
        if name in CANONICAL:
            return name
    for name in segments:
        if name in RESERVED_SEGMENT_NAMES:
            return name
    return None


@st.composite
def _files(draw):
    names = draw(st.lists(_NAMES, min_size=4, max_size=6, unique=True))
    duration, flag, *rest = names
    k = draw(st.integers(1, len(rest)))
    segments, values = rest[:k], rest[k:]
    n = draw(st.integers(1, 25))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    data = {duration: rng.integers(0, 12, n), flag: rng.integers(0, 2, n)}
    for s in segments:
        data[s] = rng.choice(["u", "v", "w"], n)
    for v in values:
        data[v] = rng.normal(size=n)
    return pd.DataFrame(data), duration, flag, segments, values


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_files())
def test_generated_names_are_kept_apart_or_refused(file):
    df, duration, flag, segments, values = file
    before = df.copy()
    clash = _expected_clash(segments, values)
    try:
        t = Tenures.from_frame(df, duration=duration, event=flag, segments=segments, values=values)
    except TenureDataError as err:
        assert clash is not None, f"unexpected refusal: {err}"
        assert repr(clash) in str(err) and "rename=" in str(err)
        pd.testing.assert_frame_equal(df, before)
        return
    assert clash is None, f"the clash of {clash!r} was not refused"
    pd.testing.assert_frame_equal(df, before)  # never mutate the caller's frame
    np.testing.assert_array_equal(t.column("event"), before[flag].to_numpy() == 1)
    np.testing.assert_array_equal(t.column("exit"), before[duration].to_numpy())
    assert not t.has_weights
    d = t.data
    assert list(d.columns[:5]) == ["id", "entry", "exit", "event", "weight"]
    for s in segments:
        assert list(d[s].astype(str)) == list(before[s].astype(str))
    for v in values:
        np.testing.assert_array_equal(d[v].to_numpy(), before[v].to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lt = life_table(t, by=segments[0])
    assert lt.n_customers.sum() == len(df)
    assert lt.table["n_events"].sum() == before[flag].sum()
    assert set(lt.table[segments[0]].astype(str)) == set(before[segments[0]].astype(str))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_files())
def test_generated_names_through_the_estimators(file):
    df, duration, flag, segments, values = file
    seg = segments[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            km = KaplanMeier(min_at_risk=None).fit(df, by=seg, duration=duration, event=flag, values=values)
        except TenureDataError as err:
            clash = _expected_clash([seg], values)
            if clash is None:  # a rarer result column: refused by the curve itself, named, never overwritten
                assert f"segment column {seg!r} has the name of a result column" in str(err), str(err)
            else:
                assert repr(clash) in str(err), str(err)
            return
        assert _expected_clash([seg], values) is None
        na = NelsonAalen().fit(df, by=seg, duration=duration, event=flag)
        desc = Tenures.from_frame(df, duration=duration, event=flag, segments=[seg]).describe(by=seg)
    for out in (km.survival_, na.cumulative_hazard_, desc):
        assert seg in out.columns
        assert set(out[seg].astype(str)) == set(df[seg].astype(str))
    est = km.survival_["estimate"].to_numpy()
    assert np.all((est >= 0) & (est <= 1))


# ---------------------------------------------------------------------- weights
def _weighted(w, plan=("a", "a", "b", "b", "a", "a")):
    return pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "c": [1, 0, 1, 1, 1, 0], "w": w, "plan": list(plan)})


def test_negative_weights_are_refused_naming_column_and_rows():
    with pytest.raises(TenureDataError, match=r"Column 'w' has 2 rows with negative weights \(ids 1, 4\)") as err:
        Tenures.from_frame(_weighted([1, -1, 1, 1, -0.5, 1]), duration="t", event="c", weights="w")
    assert err.value.column == "w" and err.value.n_rows == 2


@pytest.mark.parametrize("bad", [np.nan, np.inf, "x"])
def test_missing_infinite_or_text_weights_are_refused(bad):
    w = pd.Series([1, bad, 1, 1, 1, 1], dtype=object if isinstance(bad, str) else float)
    with pytest.raises(TenureDataError, match="Column 'w' has 1 row"):
        Tenures.from_frame(_weighted(w), duration="t", event="c", weights="w")


def test_zero_weights_warn_with_the_count():
    with pytest.warns(StatisticalWarning, match=r"Column 'w' has 2 rows with zero weight \(ids 1, 4\)"):
        t = Tenures.from_frame(_weighted([1, 0, 1, 1, 0, 1]), duration="t", event="c", weights="w")
    lt = life_table(t)
    assert lt.table["n_at_risk"].iloc[0] == 4.0
    assert lt.n_customers.iloc[0] == 6  # rows, the zero-weight ones included


def test_all_zero_weights_warn_and_estimate_nothing():
    with pytest.warns(StatisticalWarning, match="6 rows with zero weight.*every row: there is nothing to estimate"):
        t = Tenures.from_frame(_weighted([0.0] * 6), duration="t", event="c", weights="w")
    with pytest.warns(StatisticalWarning, match="only zero weights"):
        lt = life_table(t)
    assert (lt.table[["n_at_risk", "n_events", "n_censored"]].to_numpy() == 0).all()
    with pytest.raises(TenureDataError, match="nobody is at risk at any time"):
        KaplanMeier().fit(lt)


def test_segment_with_only_zero_weights_gets_no_curve_never_survival_one():
    df = _weighted([1, 1, 0, 0, 2, 1])
    with pytest.warns(StatisticalWarning, match=r"Segment column 'plan': 1 level\(s\) have only zero weights: 'b'"):
        t = Tenures.from_frame(df, duration="t", event="c", weights="w", segments="plan")
    with pytest.warns(StatisticalWarning, match=r"only zero weights, so nobody is at risk in them: plan='b'"):
        lt = life_table(t, by="plan")
    assert lt.n_customers.to_dict() == {"a": 4, "b": 2}  # the rows are counted, their weights are 0
    rows_b = lt.table[lt.table["plan"] == "b"]
    assert (rows_b[["n_at_risk", "n_events", "n_censored"]].to_numpy() == 0).all()
    with pytest.warns(StatisticalWarning, match=r"KaplanMeier: 1 segment\(s\) have nobody at risk.*plan='b'"):
        km = KaplanMeier(min_at_risk=None).fit(lt)
    assert set(km.survival_["plan"]) == {"a"}  # no rows for 'b', so never S = 1 for it
    assert set(km.median_["plan"]) == {"a"}
    with pytest.warns(StatisticalWarning, match="plan='b'"):
        na = NelsonAalen().fit(df, by="plan", duration="t", event="c", weights="w")
    assert set(na.cumulative_hazard_["plan"]) == {"a"}


def test_unit_weights_are_not_stored():
    t = Tenures.from_frame(_weighted([1.0] * 6), duration="t", event="c", weights="w")
    assert not t.has_weights
    assert t.memory_usage()["weight"] == 0
    np.testing.assert_array_equal(t.data["weight"].to_numpy(), np.ones(6))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0]), min_size=2, max_size=30), st.integers(0, 1000))
def test_weights_equal_replicated_rows(weights, seed):
    """Integer weights count like repeated rows; zero weights like dropped rows."""
    w = np.asarray(weights)
    if not (w > 0).any():
        return
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"t": rng.integers(0, 6, len(w)), "c": rng.integers(0, 2, len(w)), "w": w})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        lt = life_table(Tenures.from_frame(df, duration="t", event="c", weights="w")).table
    doubled = df.loc[np.repeat(np.arange(len(w)), (2 * w).astype(int))].reset_index(drop=True)
    ref = life_table(Tenures.from_frame(doubled, duration="t", event="c")).table
    merged = lt.merge(ref, on="time", how="inner", suffixes=("", "_ref"))
    for c in ["n_at_risk", "n_events", "n_censored"]:
        np.testing.assert_allclose(2 * merged[c], merged[f"{c}_ref"], atol=1e-9)
