"""Property-based tests (hypothesis) of the tenure constructors and the life table.

* valid frames build, and their life tables satisfy the accounting identities;
* corrupted frames raise the documented TenureDataError (bad parameters: ValueError / TypeError);
* arbitrary frames either build or raise TenureDataError: nothing else escapes (KeyError, IndexError, numpy or
  pandas internals);
* dates: completed months equal the largest k with start + k months <= stop (pandas' DateOffset clips to the
  month end, which is the end-of-month rule), weeks and days are floors;
* snapshots: entry = max(tenure - period, 0), joiners at 0, and the TruncationReport adds up.
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from churnsurv import CauseMap, LifeTable, TenureDataError, Tenures, life_table

# report_multiple_bugs=False: stop at the first distinct failure, so that a known bug costs one shrink, not several
SETTINGS = settings(max_examples=75, deadline=None, report_multiple_bugs=False,
                    suppress_health_check=[HealthCheck.too_slow])
FAST = settings(SETTINGS, max_examples=40)

SEGMENT_LABELS = ["a", "b", "c", "Zed", None, "", "  ", "(missing)", "nan"]
CAUSE_LABELS = ["Price", "Competitor", "Moved"]
WEIGHTS = [0.0, 0.5, 1.0, 2.5, 10.0]
EVENT_KINDS = ["bool", "int", "float", "nullable", "labels", "labels+events", "none"]


# ====================================================================== strategies
@st.composite
def valid_frames(draw, min_rows=1, max_rows=25):
    """A valid frame and the from_frame keywords that read it."""
    n = draw(st.integers(min_rows, max_rows))
    scale = draw(st.sampled_from([1.0, 0.25, 0.1, 7.0]))
    exit_ticks = draw(st.lists(st.integers(0, 30), min_size=n, max_size=n))
    use_entry = draw(st.booleans())
    entry_ticks = [draw(st.integers(0, x - 1)) if (use_entry and x > 0 and draw(st.booleans())) else 0
                   for x in exit_ticks]
    events = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    frame = pd.DataFrame({"tenure": np.array(exit_ticks) * scale})
    kw: dict = {"duration": "tenure"}
    if use_entry:
        frame["since"] = np.array(entry_ticks) * scale
        kw["entry"] = "since"

    kind = draw(st.sampled_from(EVENT_KINDS))
    use_cause = draw(st.booleans())
    if kind == "none" and not use_cause:
        events = [True] * n
    if kind == "bool":
        frame["churn"] = events
    elif kind == "int":
        frame["churn"] = np.array(events, dtype=int)
    elif kind == "float":
        frame["churn"] = np.array(events, dtype=float)
    elif kind == "nullable":
        frame["churn"] = pd.array(events, dtype="boolean")
    elif kind == "labels":
        frame["churn"] = ["Churned" if e else draw(st.sampled_from(["Stayed", "Joined"])) for e in events]
        kw["censored"] = ["Stayed", "Joined"]
    elif kind == "labels+events":
        frame["churn"] = ["Churned" if e else "Stayed" for e in events]
        kw["censored"] = "Stayed"
        kw["event_labels"] = ["Churned"]
    if kind != "none":
        kw["event"] = "churn"

    if use_cause:
        frame["reason"] = [draw(st.sampled_from(CAUSE_LABELS)) if e else draw(st.sampled_from([None, "", np.nan]))
                           for e in events]
        kw["cause"] = "reason"
        if draw(st.booleans()):
            kw["cause_map"] = CauseMap({"Price": "price", "Competitor": "competitor", "Moved": "natural"})
    if draw(st.booleans()):
        frame["w"] = draw(st.lists(st.sampled_from(WEIGHTS), min_size=n, max_size=n))
        kw["weights"] = "w"
    id_kind = draw(st.sampled_from(["column", "index", "shuffled index"]))
    if id_kind == "column":
        frame["cid"] = [f"C{i:03d}" for i in draw(st.permutations(range(n)))]
        kw["id"] = "cid"
    elif id_kind == "shuffled index":
        frame.index = draw(st.permutations(range(100, 100 + n)))
    n_seg = draw(st.integers(0, 2))
    segs = []
    for j in range(n_seg):
        name = f"seg{j}"
        labels = draw(st.lists(st.sampled_from(SEGMENT_LABELS), min_size=n, max_size=n))
        if draw(st.booleans()):
            frame[name] = labels
        else:
            frame[name] = pd.Categorical([lab if lab not in ("", "  ") else None for lab in labels])
        segs.append(name)
    if segs:
        kw["segments"] = segs
    if draw(st.booleans()):
        frame["margin"] = draw(st.lists(st.one_of(st.none(), st.floats(-100, 100, allow_nan=False)),
                                        min_size=n, max_size=n))
        kw["values"] = ["margin"]
    kw["time_unit"] = draw(st.sampled_from(["month", "week", "day", "year"]))
    return frame, kw


def check_life_table(lt: LifeTable, tenures: Tenures) -> None:
    """Accounting identities of a life table."""
    table = lt.table
    assert list(table.columns) == [*lt.by, "time", "n_entered", "n_at_risk", "n_events", "n_censored"]
    counts = table[["n_entered", "n_at_risk", "n_events", "n_censored"]].to_numpy()
    assert np.isfinite(counts).all()
    assert (counts >= -1e-9).all()
    # everyone leaving at t was at risk at t
    assert (table["n_at_risk"] >= table["n_events"] + table["n_censored"] - 1e-9).all()
    w = tenures.data["weight"]
    if lt.by:
        total = w.groupby([tenures.data[b] for b in lt.by], observed=True).sum().to_numpy()
        keys = table[list(lt.by)].astype(str).agg("|".join, axis=1)
        assert (table.groupby(keys.to_numpy(), sort=False)["time"].first() == 0).all()
        per_group = table.groupby(list(lt.by), observed=True, sort=True)
        exits = (per_group["n_events"].sum() + per_group["n_censored"].sum()).to_numpy()
        entered = per_group["n_entered"].sum().to_numpy()
    else:
        total = np.array([w.sum()])
        assert table["time"].iloc[0] == 0
        assert table["time"].is_monotonic_increasing
        exits = np.array([table["n_events"].sum() + table["n_censored"].sum()])
        entered = np.array([table["n_entered"].sum()])
    # events + censored add up to the (weighted) number of rows, and so do the entries
    np.testing.assert_allclose(exits, total, atol=1e-9)
    np.testing.assert_allclose(entered, total, atol=1e-9)
    np.testing.assert_allclose(table["n_events"].sum(), (w * tenures.data["event"]).sum(), atol=1e-9)
    if lt.causes:
        np.testing.assert_allclose(lt.cause_events.sum(axis=1).to_numpy(), table["n_events"].to_numpy(), atol=1e-9)
    # no NaN segment keys: every row belongs to a segment
    for b in lt.by:
        assert table[b].notna().all()


# Known failures found by these properties, pinned with @example so that they are always replayed.
MISSING_LITERAL = (pd.DataFrame({"tenure": [1.0, 2.0, 3.0], "seg0": ["(missing)", None, "a"]}),
                   {"duration": "tenure", "segments": ["seg0"]})
MISSING_SORTS_FIRST = (pd.DataFrame({"tenure": [0.0, 1.0, 2.0], "seg0": ["a", "a", None]}),
                       {"duration": "tenure", "segments": ["seg0"]})


# ====================================================================== valid frames
@SETTINGS
@given(valid_frames())
@example(case=MISSING_LITERAL)
def test_valid_frames_build(case):
    frame, kw = case
    before = frame.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = Tenures.from_frame(frame, **kw)
    pd.testing.assert_frame_equal(frame, before)
    d = t.data
    assert len(t) == len(frame)
    assert list(d.columns[:4]) == ["id", "entry", "exit", "event"]
    assert d["event"].dtype == bool
    assert (d["exit"] >= d["entry"]).all()
    assert ((d["entry"] == 0) | (d["exit"] > d["entry"])).all()
    assert (d["weight"] >= 0).all()
    np.testing.assert_array_equal(d["exit"].to_numpy(), frame["tenure"].to_numpy(dtype=float))
    assert all(isinstance(c, str) and c.strip() for c in t.causes), t.causes  # no blank cause level
    if t.causes:
        assert list(d["cause"].cat.categories) == list(t.causes)
        assert d.loc[d["event"], "cause"].notna().all()
        assert d.loc[~d["event"], "cause"].isna().all()
    for s in t.segments:
        assert d[s].notna().all(), f"segment {s} lost rows: {frame[s].tolist()} -> {d[s].tolist()}"
        assert isinstance(d[s].dtype, pd.CategoricalDtype)


@SETTINGS
@given(valid_frames(), st.data())
def test_life_table_accounting(case, data):
    frame, kw = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = Tenures.from_frame(frame, **kw)
        by = data.draw(st.sampled_from([[], *[[s] for s in t.segments], list(t.segments)]))
        lt = life_table(t, by)
    check_life_table(lt, t)


@FAST
@given(valid_frames(min_rows=2), st.randoms(use_true_random=False))
def test_life_table_ignores_row_order(case, rnd):
    frame, kw = case
    order = list(range(len(frame)))
    rnd.shuffle(order)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = life_table(Tenures.from_frame(frame, **kw), kw.get("segments", []), check_confounding=False)
        b = life_table(Tenures.from_frame(frame.iloc[order], **kw), kw.get("segments", []), check_confounding=False)
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.cause_events, b.cause_events)


@FAST
@given(valid_frames())
@example(case=MISSING_SORTS_FIRST)
def test_from_counts_round_trip(case):
    frame, kw = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = Tenures.from_frame(frame, **kw)
    by = list(t.segments)
    lt = life_table(t, by, check_confounding=False)
    rebuilt = LifeTable.from_counts(lt.table, n_entered="n_entered", by=by)
    # same cells in the same order (segments in category order, as in the life table), same counts
    pd.testing.assert_frame_equal(rebuilt.table.astype({b: str for b in by}), lt.table.astype({b: str for b in by}),
                                  check_dtype=False, atol=1e-9)


# ====================================================================== corrupted frames
CORRUPTIONS = [
    "time nan", "time negative", "time inf", "time text", "entry after exit", "entry equals exit",
    "event code", "event nan", "event without cause", "cause on censored", "duplicate id", "value text",
    "empty", "missing column", "negative weight", "missing segment", "unknown cause label", "event labels",
]


@st.composite
def corrupted_frames(draw):
    """A valid frame with every kind of column, then one corruption; returns (frame, kwargs, column)."""
    n = draw(st.integers(1, 15))
    exit_ticks = draw(st.lists(st.integers(1, 20), min_size=n, max_size=n))
    events = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    frame = pd.DataFrame({
        "cid": [f"C{i}" for i in range(n)],
        "tenure": np.array(exit_ticks, dtype=float),
        "since": [float(draw(st.integers(0, x - 1))) for x in exit_ticks],
        "churn": np.array(events, dtype=float),
        "reason": [draw(st.sampled_from(CAUSE_LABELS)) if e else None for e in events],
        "w": draw(st.lists(st.sampled_from(WEIGHTS), min_size=n, max_size=n)),
        "seg": draw(st.lists(st.sampled_from(["a", "b"]), min_size=n, max_size=n)),
        "margin": draw(st.lists(st.floats(0, 100), min_size=n, max_size=n)),
    })
    frame = frame.astype({"tenure": object, "since": object, "w": object, "margin": object})
    kw = dict(duration="tenure", entry="since", event="churn", cause="reason", weights="w", id="cid",
              segments=["seg"], values=["margin"])
    what = draw(st.sampled_from(CORRUPTIONS))
    row = draw(st.integers(0, n - 1))
    column = None
    if what == "time nan":
        frame.loc[row, "tenure"], column = draw(st.sampled_from([np.nan, None, pd.NA])), "tenure"
    elif what == "time negative":
        frame.loc[row, "tenure"], frame.loc[row, "since"], column = -draw(st.floats(0.001, 50)), 0.0, "tenure"
    elif what == "time inf":
        col = draw(st.sampled_from(["tenure", "since"]))
        frame.loc[row, col], column = np.inf, col
    elif what == "time text":
        col = draw(st.sampled_from(["tenure", "since"]))
        frame.loc[row, col], column = draw(st.sampled_from(["x", "1 month", "", "--"])), col
    elif what == "entry after exit":
        frame.loc[row, "since"], column = frame.loc[row, "tenure"] + draw(st.integers(1, 5)), "tenure"
    elif what == "entry equals exit":
        frame.loc[row, "since"], column = frame.loc[row, "tenure"], "tenure"
    elif what == "event code":
        frame.loc[row, "churn"], column = draw(st.sampled_from([2.0, -1.0, 0.5])), "churn"
        frame.loc[row, "reason"] = "Price"
    elif what == "event nan":
        frame.loc[row, "churn"], column = np.nan, "churn"
    elif what == "event without cause":
        frame.loc[row, "churn"], frame.loc[row, "reason"], column = 1.0, draw(st.sampled_from([None, "", " "])), \
            "reason"
    elif what == "cause on censored":
        frame.loc[row, "churn"], frame.loc[row, "reason"], column = 0.0, "Moved", "reason"
    elif what == "duplicate id":
        other = draw(st.integers(0, n))
        if other == n or other == row:
            frame = pd.concat([frame, frame.iloc[[row]]], ignore_index=True)
        else:
            frame.loc[other, "cid"] = frame.loc[row, "cid"]
        column = "cid"
    elif what == "value text":
        frame.loc[row, "margin"], column = draw(st.sampled_from(["$5", "n/a", "five"])), "margin"
    elif what == "empty":
        frame = frame.iloc[:0]
    elif what == "missing column":
        key = draw(st.sampled_from(["duration", "entry", "event", "cause", "weights", "id", "segments", "values"]))
        kw[key] = ["nope"] if key in ("segments", "values") else "nope"
        column = "nope"
    elif what == "negative weight":
        frame.loc[row, "w"], column = -draw(st.sampled_from([0.5, 1.0, 3.0])), "w"
    elif what == "missing segment":
        frame.loc[row, "seg"], column = draw(st.sampled_from([None, np.nan, "", " "])), "seg"
        kw["missing_segment"] = "error"
    elif what == "unknown cause label":
        frame.loc[row, "churn"], frame.loc[row, "reason"], column = 1.0, "Abducted", "reason"
        kw["cause_map"] = {"Price": "price", "Competitor": "competitor", "Moved": "natural"}
    elif what == "event labels":
        frame["churn"] = np.where(frame["churn"] == 1, "Churned", "Stayed").astype(object)
        frame.loc[row, "churn"] = "Paused"
        frame.loc[row, "reason"] = "Price"
        kw.update(censored="Stayed", event_labels="Churned")
        column = "churn"
    return frame, kw, what, column


@SETTINGS
@given(corrupted_frames())
def test_invalid_frames_raise_tenure_data_error(case):
    frame, kw, what, column = case
    before = frame.copy()
    with pytest.raises(TenureDataError) as exc:
        Tenures.from_frame(frame, **kw)
    err = exc.value
    pd.testing.assert_frame_equal(frame, before)
    if column is not None:
        assert err.column == column, (what, str(err))
        assert repr(column) in str(err)
    if what not in ("empty", "missing column"):
        assert err.n_rows >= 1, (what, str(err))
        assert 1 <= len(err.ids) <= 5
        assert f"has {err.n_rows} row" in str(err)


@FAST
@given(st.text(max_size=8), st.sampled_from(["time_unit", "missing_segment"]))
def test_bad_parameters_raise_value_error(value, name):
    valid = {"time_unit": ("month", "week", "day", "year"), "missing_segment": ("level", "error")}[name]
    frame = pd.DataFrame({"t": [1.0, 2.0]})
    if value in valid:
        Tenures.from_frame(frame, duration="t", **{name: value})
        return
    with pytest.raises(ValueError, match=f"The '{name}' parameter of Tenures.from_frame must be one of"):
        Tenures.from_frame(frame, duration="t", **{name: value})


# ====================================================================== arbitrary frames: nothing else escapes
ANY_CELL = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 5),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.sampled_from(["", " ", "a", "1", "2.5", "-1", "Churned", "Stayed", "Price", "(missing)", "nan"]),
)


@st.composite
def arbitrary_frames(draw):
    n = draw(st.integers(0, 8))
    columns = {}
    for name in ["t", "e", "s", "c", "w", "g", "v"]:
        cells = draw(st.lists(ANY_CELL, min_size=n, max_size=n))
        homogeneous = draw(st.booleans())
        if homogeneous:
            # a column of one Python type, as a CSV reader would produce
            kind = draw(st.sampled_from(["float", "int", "bool", "str"]))
            if kind == "float":
                cells = draw(st.lists(st.one_of(st.none(), st.floats(-5, 50, width=32)), min_size=n, max_size=n))
                columns[name] = pd.array(cells, dtype="Float64") if draw(st.booleans()) else \
                    np.array([np.nan if c is None else c for c in cells], dtype=float)
            elif kind == "int":
                columns[name] = np.array(draw(st.lists(st.integers(-2, 40), min_size=n, max_size=n)), dtype=int)
            elif kind == "bool":
                columns[name] = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
            else:
                columns[name] = [str(c) if c is not None else None for c in cells]
        else:
            columns[name] = pd.Series(cells, dtype=object)
    frame = pd.DataFrame(columns)
    kw: dict = {"duration": "t"}
    for key, col in [("entry", "s"), ("event", "e"), ("cause", "c"), ("weights", "w")]:
        if draw(st.booleans()):
            kw[key] = col
    if draw(st.booleans()):
        kw["segments"] = "g"
    if draw(st.booleans()):
        kw["values"] = "v"
    if "event" in kw and draw(st.booleans()):
        kw["censored"] = draw(st.sampled_from(["Stayed", 0, False, ["Stayed", "", None]]))
    kw["spells"] = draw(st.booleans())
    return frame, kw


@settings(SETTINGS, max_examples=200)
@given(arbitrary_frames())
@example(case=(pd.DataFrame({"t": [1, 2], "e": [0, 1]}), {"duration": "t", "event": "e", "censored": 0}))
@example(case=(pd.DataFrame({"t": [1, 2], "e": [True, False]}), {"duration": "t", "event": "e", "censored": False}))
@example(case=MISSING_LITERAL)
def test_arbitrary_frames_build_or_raise_tenure_data_error(case):
    frame, kw = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            t = Tenures.from_frame(frame, **kw)
        except TenureDataError as err:
            assert str(err)
            return
        lt = life_table(t, list(t.segments), check_confounding=False)
    check_life_table(lt, t)


# ====================================================================== dates
DATES = st.dates(min_value=dt.date(2019, 1, 1), max_value=dt.date(2026, 12, 31))


def completed_months(start: pd.Timestamp, stop: pd.Timestamp) -> int:
    """Largest k with start + k months <= stop (DateOffset clips to the month end: the end-of-month rule)."""
    k = (stop.year - start.year) * 12 + stop.month - start.month + 1
    while start + pd.DateOffset(months=k) > stop:
        k -= 1
    return max(k, 0)


@st.composite
def date_frames(draw):
    n = draw(st.integers(1, 12))
    as_of = draw(DATES)
    starts = draw(st.lists(st.dates(min_value=dt.date(2019, 1, 1), max_value=as_of), min_size=n, max_size=n))
    ends = [draw(st.one_of(st.none(), st.dates(min_value=s, max_value=dt.date(2027, 6, 30)))) for s in starts]
    frame = pd.DataFrame({"start": pd.to_datetime(starts), "end": pd.to_datetime(ends)})
    return frame, pd.Timestamp(as_of)


@SETTINGS
@given(date_frames(), st.sampled_from(["month", "week", "day"]))
def test_from_dates_matches_calendar_arithmetic(case, unit):
    frame, as_of = case
    before = frame.copy()
    t = Tenures.from_dates(frame, start="start", end="end", as_of=as_of, unit=unit)
    pd.testing.assert_frame_equal(frame, before)
    for (_, row), (_, out) in zip(frame.iterrows(), t.data.iterrows(), strict=True):
        observed = pd.notna(row["end"]) and row["end"] <= as_of
        stop = row["end"] if observed else as_of
        assert out["event"] == observed
        assert out["entry"] == 0
        days = (stop - row["start"]).days
        expected = {"day": days, "week": days // 7, "month": completed_months(row["start"], stop)}[unit]
        assert out["exit"] == expected, (row["start"], stop, unit)


@st.composite
def truncated_date_frames(draw):
    """Sign-ups before and after a record-keeping start date, cut off at most three months later."""
    of = pd.Timestamp(draw(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2025, 12, 31))))
    as_of = of + pd.Timedelta(days=draw(st.integers(0, 92)))
    n = draw(st.integers(1, 10))
    starts = [of - pd.Timedelta(days=draw(st.integers(-30, 400))) for _ in range(n)]
    starts = [min(s, as_of) for s in starts]
    ends = []
    for s in starts:
        days = draw(st.one_of(st.none(), st.integers(0, 120)))
        ends.append(None if days is None else max(s, of) + pd.Timedelta(days=days))
    return (pd.DataFrame({"start": pd.to_datetime(starts), "end": pd.to_datetime(ends)}), as_of), of


@FAST
@given(truncated_date_frames())
@example(case_of=((pd.DataFrame({"start": pd.to_datetime(["2019-01-01"]), "end": pd.to_datetime([None])}),
                   pd.Timestamp("2019-02-01")), pd.Timestamp("2019-02-01")))
@example(case_of=((pd.DataFrame({"start": pd.to_datetime(["2023-06-20"]), "end": pd.to_datetime(["2024-01-10"])}),
                   pd.Timestamp("2024-06-30")), pd.Timestamp("2024-01-01")))
def test_from_dates_observed_from(case_of):
    # every generated frame is valid (sign-ups by the cut-off, defections on or after the observation start), so
    # the constructor must succeed: no error is an acceptable outcome here
    (frame, as_of), of = case_of
    t = Tenures.from_dates(frame, start="start", end="end", as_of=as_of, observed_from=of)
    for (_, row), (_, out) in zip(frame.iterrows(), t.data.iterrows(), strict=True):
        observed = pd.notna(row["end"]) and row["end"] <= as_of
        stop = row["end"] if observed else as_of
        assert out["event"] == observed
        assert out["exit"] == completed_months(row["start"], stop)
        expected = completed_months(row["start"], of) if row["start"] < of else 0
        if expected > 0 and out["exit"] <= expected:
            # left within the (partial) unit in which observation started: entered one unit earlier, so that the
            # row is at risk at its exit time
            assert out["entry"] == out["exit"] - 1
        else:
            assert out["entry"] == expected
        assert out["entry"] == 0 or out["exit"] > out["entry"]


@FAST
@given(st.lists(DATES, min_size=1, max_size=6), DATES)
def test_from_dates_start_after_as_of(starts, as_of):
    frame = pd.DataFrame({"start": pd.to_datetime(starts), "end": [None] * len(starts)})
    late = sum(s > as_of for s in starts)
    if late:
        with pytest.raises(TenureDataError, match=f"Column 'start' has {late} rows? with sign-up dates after"):
            Tenures.from_dates(frame, start="start", end="end", as_of=as_of)
    else:
        assert len(Tenures.from_dates(frame, start="start", end="end", as_of=as_of)) == len(starts)


# ====================================================================== snapshots
@SETTINGS
@given(
    st.lists(st.tuples(st.integers(0, 72), st.sampled_from(["Stayed", "Churned", "Joined"])), min_size=1,
             max_size=30),
    st.sampled_from([1, 3, 6, 0.5, 12.0]),
    st.booleans(),
)
def test_from_snapshot_entries_and_report(rows, period, truncate):
    frame = pd.DataFrame(rows, columns=["tenure", "status"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = Tenures.from_snapshot(frame, tenure="tenure", status="status", period=period, truncate=truncate)
    tenure = frame["tenure"].to_numpy(float)
    joined = (frame["status"] == "Joined").to_numpy()
    churned = (frame["status"] == "Churned").to_numpy()
    # default churn_timing="middle": a defector was observed half the period (whole units when all are whole)
    whole = float(period).is_integer()
    half = np.ceil(period / 2) if whole else period / 2
    snapshot_entry = np.where(joined, 0.0, np.maximum(tenure - np.where(churned, half, period), 0.0))
    expected_entry = snapshot_entry if truncate else np.zeros(len(frame))
    np.testing.assert_array_equal(t.data["entry"].to_numpy(), expected_entry)
    np.testing.assert_array_equal(t.data["exit"].to_numpy(), tenure)
    np.testing.assert_array_equal(t.data["event"].to_numpy(), (frame["status"] == "Churned").to_numpy())
    rep = t.truncation
    assert rep.n_rows == len(frame)
    assert rep.n_truncated == int((snapshot_entry > 0).sum())
    assert rep.n_joined == int(joined.sum())
    assert rep.n_entry_zero + rep.n_truncated == rep.n_rows
    check_life_table(life_table(t), t)


@FAST
@given(st.lists(st.sampled_from(["Stayed", "Churned", "Joined", "Paused", None, "churned"]), min_size=1,
                max_size=20))
def test_from_snapshot_unknown_status(statuses):
    frame = pd.DataFrame({"tenure": [2] * len(statuses), "status": statuses})
    bad = sum(s not in ("Stayed", "Churned", "Joined") for s in statuses)
    if bad:
        with pytest.raises(TenureDataError) as exc:
            Tenures.from_snapshot(frame, tenure="tenure", status="status", period=3)
        assert exc.value.n_rows == bad and exc.value.column == "status"
    else:
        Tenures.from_snapshot(frame, tenure="tenure", status="status", period=3)


@FAST
@given(st.one_of(st.integers(-5, 0), st.just(float("nan")), st.none(), st.text(max_size=3), st.booleans(),
                 st.lists(st.integers(1, 3), max_size=2)))
@example(period="3")
@example(period=True)
def test_from_snapshot_bad_period(period):
    frame = pd.DataFrame({"tenure": [5, 1], "status": ["Stayed", "Churned"]})
    with pytest.raises((ValueError, TypeError), match="The 'period' parameter of Tenures.from_snapshot") as exc:
        Tenures.from_snapshot(frame, tenure="tenure", status="status", period=period)
    assert not isinstance(exc.value, TenureDataError)
