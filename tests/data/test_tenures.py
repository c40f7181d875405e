"""Tests of churnsurv.data.tenures: the validated tenure table and its three constructors.

No reference numbers from R here: the expected values are either written out by hand from the definitions
(dates, entry = max(tenure - period, 0)) or computed independently with pandas from the raw CSV.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from churnsurv import (
    ChurnsurvWarning,
    TenureConfoundingWarning,
    TenureDataError,
    Tenures,
    TruncationReport,
    life_table,
    tenure_confounding,
)

MAVEN_TENURE = "Tenure in Months"
MAVEN_STATUS = "Customer Status"
MAVEN_ID = "Customer ID"
MAVEN_CATEGORY = "Churn Category"


def build(frame, **kwargs):
    """from_frame with the small_frame's column names as defaults."""
    kw = dict(duration="tenure", id="cid")
    kw.update(kwargs)
    return Tenures.from_frame(frame, **kw)


# ====================================================================== from_frame: the canonical table
class TestFromFrame:
    def test_canonical_columns_and_dtypes(self, small_frame):
        t = build(small_frame, entry="start", event="churned", cause="reason", segments="plan", values="margin",
                  weights="w")
        d = t.data
        assert list(d.columns) == ["id", "entry", "exit", "event", "cause", "weight", "plan", "margin"]
        assert d["entry"].dtype == np.float64
        assert d["exit"].dtype == np.float64
        assert d["event"].dtype == bool
        assert isinstance(d["cause"].dtype, pd.CategoricalDtype)
        assert d["weight"].dtype == np.float64
        assert isinstance(d["plan"].dtype, pd.CategoricalDtype)
        assert d["margin"].dtype == np.float64
        assert d["id"].tolist() == list("abcdefgh")
        assert d["exit"].tolist() == small_frame["tenure"].tolist()
        assert d["entry"].tolist() == small_frame["start"].tolist()
        assert d["event"].tolist() == [bool(x) for x in small_frame["churned"]]
        assert d["weight"].tolist() == small_frame["w"].tolist()
        assert t.segments == ("plan",)
        assert t.values == ("margin",)
        assert t.causes == ("Competitor", "Other", "Price")  # sorted without cause_map/causes
        assert t.time_unit == "month"
        assert t.spells is False
        assert t.truncation is None

    def test_defaults(self, small_frame):
        t = Tenures.from_frame(small_frame, duration="tenure")
        assert list(t.data.columns) == ["id", "entry", "exit", "event", "weight"]
        assert t.data["id"].tolist() == list(range(8))  # row labels
        assert (t.data["entry"] == 0).all()
        assert t.data["event"].all()  # no event and no cause column: every row is a defection
        assert (t.data["weight"] == 1.0).all()
        assert t.causes == () and t.segments == () and t.values == ()

    def test_exit_is_a_synonym_of_duration(self, small_frame):
        a = Tenures.from_frame(small_frame, duration="tenure", event="churned")
        b = Tenures.from_frame(small_frame, exit="tenure", event="churned")
        pd.testing.assert_frame_equal(a.data, b.data)

    def test_duration_and_exit_together(self, small_frame):
        with pytest.raises(ValueError, match="either 'duration' or 'exit'"):
            Tenures.from_frame(small_frame, duration="tenure", exit="tenure")

    def test_no_exit_column(self, small_frame):
        with pytest.raises(ValueError, match="duration='<column>'"):
            Tenures.from_frame(small_frame, event="churned")

    @pytest.mark.parametrize("frame", [[1, 2, 3], np.array([1.0, 2.0]), pd.Series([1.0, 2.0]), {"t": [1]}])
    def test_frame_must_be_a_dataframe(self, frame):
        with pytest.raises(TypeError, match=r"The 'frame' parameter of Tenures\.from_frame must be a pandas "
                                            r"DataFrame\. Got '\w+' instead\."):
            Tenures.from_frame(frame, duration="t")

    def test_integer_and_nullable_columns(self):
        df = pd.DataFrame({"t": pd.array([1, 2, 3], dtype="Int64"), "e": pd.array([1, 0, 1], dtype="Int64"),
                           "b": pd.array([True, False, True], dtype="boolean")})
        a = Tenures.from_frame(df, duration="t", event="e")
        b = Tenures.from_frame(df, duration="t", event="b")
        assert a.data["exit"].dtype == np.float64
        assert a.data["event"].tolist() == [True, False, True]
        assert b.data["event"].tolist() == [True, False, True]

    def test_exit_zero_with_entry_zero_is_valid(self):
        t = Tenures.from_frame(pd.DataFrame({"t": [0, 0, 1], "e": [1, 0, 1]}), duration="t", event="e")
        assert t.data["exit"].tolist() == [0.0, 0.0, 1.0]

    def test_time_unit_is_kept(self, small_frame):
        for unit in ("month", "week", "day", "year"):
            assert build(small_frame, time_unit=unit).time_unit == unit

    def test_duration_column_can_also_be_a_value(self, small_frame):
        t = build(small_frame, event="churned", values=["tenure"])
        assert t.data["tenure"].tolist() == t.data["exit"].tolist()


# ====================================================================== the event column
class TestEvents:
    @pytest.mark.parametrize("flags", [
        [True, False, True, False],
        [1, 0, 1, 0],
        [1.0, 0.0, 1.0, 0.0],
        np.array([1, 0, 1, 0], dtype=np.int8),
    ])
    def test_bool_and_binary_flags(self, flags):
        df = pd.DataFrame({"t": [1, 2, 3, 4], "e": flags})
        assert Tenures.from_frame(df, duration="t", event="e").data["event"].tolist() == [True, False, True, False]

    def test_labels_with_censored(self):
        df = pd.DataFrame({"t": [1, 2, 3, 4], "s": ["Churned", "Stayed", "Churned", "Joined"]})
        t = Tenures.from_frame(df, duration="t", event="s", censored=["Stayed", "Joined"])
        assert t.data["event"].tolist() == [True, False, True, False]

    def test_labels_with_censored_and_event_labels(self):
        df = pd.DataFrame({"t": [1, 2, 3, 4], "s": ["left", "active", "cancelled", "active"]})
        t = Tenures.from_frame(df, duration="t", event="s", censored="active", event_labels=["left", "cancelled"])
        assert t.data["event"].tolist() == [True, False, True, False]

    def test_numeric_codes_with_labels(self):
        df = pd.DataFrame({"t": [1, 2, 3, 4], "code": [0, 1, 2, 2]})
        t = Tenures.from_frame(df, duration="t", event="code", censored=0, event_labels=[1, 2])
        assert t.data["event"].tolist() == [False, True, True, True]

    def test_bool_with_censored_label(self):
        df = pd.DataFrame({"t": [1, 2], "active": [True, False]})
        t = Tenures.from_frame(df, duration="t", event="active", censored=True)
        assert t.data["event"].tolist() == [False, True]

    @pytest.mark.parametrize("flags", [[True, False, True], [1, 0, 1], [1.0, 0.0, 1.0]], ids=["bool", "int", "float"])
    def test_object_dtype_flags(self, flags):
        # BUG (minor): flags held in an object column (e.g. after a concat or from JSON) are read as labels and
        # rejected with "holds labels (True, False); pass censored=...".
        df = pd.DataFrame({"t": [1, 2, 3], "e": pd.Series(flags, dtype=object)})
        assert Tenures.from_frame(df, duration="t", event="e").data["event"].tolist() == [True, False, True]

    def test_event_from_cause_when_no_event_column(self):
        df = pd.DataFrame({"t": [1, 2, 3, 4], "c": ["Price", None, " ", "Other"]})
        t = Tenures.from_frame(df, duration="t", cause="c")
        assert t.data["event"].tolist() == [True, False, False, True]
        assert t.data["cause"].isna().tolist() == [False, True, True, False]


# ====================================================================== validation errors
class TestValidationErrors:
    """Every data problem raises TenureDataError naming the column, the problem, the row count and the ids."""

    @pytest.mark.parametrize("col", ["tenure", "start"])
    def test_missing_times(self, small_frame, check_data_error, col):
        small_frame.loc[[1, 3], col] = np.nan
        with pytest.raises(TenureDataError) as exc:
            build(small_frame, entry="start")
        msg = check_data_error(exc, column=col, n_rows=2, ids=["b", "d"], problem="missing times")
        assert "Fill or drop" in msg

    def test_missing_times_none_in_object_column(self, check_data_error):
        df = pd.DataFrame({"cid": ["x", "y"], "tenure": [1, None]}, dtype=object)
        with pytest.raises(TenureDataError) as exc:
            build(df)
        check_data_error(exc, column="tenure", n_rows=1, ids=["y"], problem="missing times")

    def test_non_numeric_times(self, small_frame, check_data_error):
        small_frame["tenure"] = small_frame["tenure"].astype(object)
        small_frame.loc[[2, 5], "tenure"] = ["two", "?"]
        with pytest.raises(TenureDataError) as exc:
            build(small_frame)
        msg = check_data_error(exc, column="tenure", n_rows=2, ids=["c", "f"], problem="non-numeric times")
        assert "'two'" in msg and "pd.to_numeric" in msg

    def test_numeric_strings_are_times(self):
        df = pd.DataFrame({"t": ["1", "2.5", "3"]})
        assert Tenures.from_frame(df, duration="t").data["exit"].tolist() == [1.0, 2.5, 3.0]

    def test_boolean_times(self, check_data_error):
        df = pd.DataFrame({"cid": ["x", "y"], "tenure": [True, False]})
        with pytest.raises(TenureDataError) as exc:
            build(df)
        check_data_error(exc, column="tenure", n_rows=2, ids=["x", "y"], problem="boolean values")

    @pytest.mark.parametrize("values", [
        pd.to_datetime(["2024-01-01", "2024-02-01"]),
        pd.to_timedelta([30, 60], unit="D"),
    ], ids=["datetime", "timedelta"])
    def test_date_like_times_are_not_durations(self, values):
        # BUG: datetime64 / timedelta64 columns are silently read as nanoseconds (exit ~ 1.7e18).
        df = pd.DataFrame({"cid": ["x", "y"], "tenure": values})
        with pytest.raises(TenureDataError, match="'tenure'"):
            build(df)

    @pytest.mark.parametrize("col", ["tenure", "start"])
    def test_negative_times(self, small_frame, check_data_error, col):
        small_frame.loc[[0, 6], col] = [-1.0, -0.5]
        if col == "tenure":
            small_frame.loc[[0, 6], "start"] = 0.0
        with pytest.raises(TenureDataError) as exc:
            build(small_frame, entry="start")
        msg = check_data_error(exc, column=col, n_rows=2, ids=["a", "g"], problem="negative times")
        assert ">= 0" in msg

    @pytest.mark.parametrize("col", ["tenure", "start"])
    def test_infinite_times(self, small_frame, check_data_error, col):
        small_frame.loc[[4], col] = np.inf
        with pytest.raises(TenureDataError) as exc:
            build(small_frame, entry="start")
        check_data_error(exc, column=col, n_rows=1, ids=["e"], problem="infinite times")

    def test_negative_infinite_time(self, small_frame):
        small_frame.loc[0, "tenure"] = -np.inf
        with pytest.raises(TenureDataError, match="'tenure' has 1 row with (infinite|negative) times"):
            build(small_frame)

    def test_exit_before_entry(self, small_frame, check_data_error):
        small_frame.loc[[2, 6], "start"] = [3.0, 9.0]
        with pytest.raises(TenureDataError) as exc:
            build(small_frame, entry="start")
        msg = check_data_error(exc, column="tenure", n_rows=2, ids=["c", "g"], problem="exit before entry")
        assert "'start'" in msg and "swapped" in msg

    def test_exit_equal_to_positive_entry(self, small_frame, check_data_error):
        small_frame.loc[[4], "start"] = 5.0
        with pytest.raises(TenureDataError) as exc:
            build(small_frame, entry="start")
        msg = check_data_error(exc, column="tenure", n_rows=1, ids=["e"], problem="exit equal to a positive entry")
        assert "never at risk" in msg

    def test_events_without_cause(self, small_frame, check_data_error):
        small_frame.loc[[0, 3], "reason"] = [None, ""]
        with pytest.raises(TenureDataError) as exc:
            build(small_frame, event="churned", cause="reason")
        msg = check_data_error(exc, column="reason", n_rows=2, ids=["a", "d"], problem="defections that have no cause")
        assert "'unknown'" in msg

    def test_cause_on_censored_rows(self, small_frame, check_data_error):
        small_frame.loc[[1, 4, 6], "reason"] = ["Price", "Price", "Other"]
        with pytest.raises(TenureDataError) as exc:
            build(small_frame, event="churned", cause="reason")
        check_data_error(exc, column="reason", n_rows=3, ids=["b", "e", "g"], problem="a cause on censored rows")

    @pytest.mark.parametrize("codes", [[1, 0, 2, 0, -1], [1.0, 0.0, 2.0, 0.0, 0.5]])
    def test_unknown_numeric_event_codes(self, check_data_error, codes):
        df = pd.DataFrame({"cid": list("vwxyz"), "tenure": [1, 2, 3, 4, 5], "e": codes})
        with pytest.raises(TenureDataError) as exc:
            build(df, event="e")
        msg = check_data_error(exc, column="e", n_rows=2, ids=["x", "z"], problem="unknown event labels")
        assert "2" in msg and "censored=" in msg

    def test_label_events_need_censored(self):
        df = pd.DataFrame({"tenure": [1, 2, 3], "status": ["Churned", "Stayed", "Joined"]})
        with pytest.raises(TenureDataError, match="censored=") as exc:
            Tenures.from_frame(df, duration="tenure", event="status")
        msg = str(exc.value)
        assert "'status'" in msg and "'Churned'" in msg and "'Stayed'" in msg
        assert exc.value.column == "status"

    def test_labels_outside_censored_and_event_labels(self, check_data_error):
        df = pd.DataFrame({"cid": list("abcd"), "tenure": [1, 2, 3, 4],
                           "status": ["Churned", "Stayed", "Paused", "Paused"]})
        with pytest.raises(TenureDataError) as exc:
            build(df, event="status", censored="Stayed", event_labels="Churned")
        msg = check_data_error(exc, column="status", n_rows=2, ids=["c", "d"], problem="unknown event labels")
        assert "'Paused'" in msg

    def test_missing_event_flags(self, small_frame, check_data_error):
        small_frame["churned"] = small_frame["churned"].astype(float)
        small_frame.loc[[7], "churned"] = np.nan
        with pytest.raises(TenureDataError) as exc:
            build(small_frame, event="churned")
        check_data_error(exc, column="churned", n_rows=1, ids=["h"], problem="missing event flags")

    def test_duplicate_ids(self, small_frame, check_data_error):
        small_frame.loc[[5, 7], "cid"] = "a"
        with pytest.raises(TenureDataError) as exc:
            build(small_frame)
        msg = check_data_error(exc, column="cid", n_rows=3, ids=["a", "a", "a"], problem="duplicate ids")
        assert "spells=True" in msg

    def test_duplicate_ids_allowed_with_spells(self, small_frame):
        small_frame.loc[[5, 7], "cid"] = "a"
        t = build(small_frame, spells=True)
        assert t.spells is True
        assert len(t) == 8
        assert t.n_customers == 6
        assert t.data["id"].tolist() == small_frame["cid"].tolist()

    def test_duplicate_row_labels_without_id(self, check_data_error):
        df = pd.DataFrame({"tenure": [1, 2, 3]}, index=[10, 11, 10])
        with pytest.raises(TenureDataError) as exc:
            Tenures.from_frame(df, duration="tenure")
        check_data_error(exc, column="index", n_rows=2, ids=[10, 10], problem="duplicate ids")

    def test_empty_table(self, small_frame):
        with pytest.raises(TenureDataError, match="empty") as exc:
            build(small_frame.iloc[:0], event="churned")
        assert exc.value.n_rows == 0

    def test_missing_segment_values_become_a_level(self, small_frame):
        small_frame.loc[5, "plan"] = "  "  # blank counts as missing too
        t = build(small_frame, segments="plan")
        seg = t.data["plan"]
        assert list(seg.cat.categories) == ["basic", "pro", "(missing)"]
        assert seg.tolist() == ["basic", "pro", "basic", "(missing)", "pro", "(missing)", "pro", "basic"]

    @pytest.mark.parametrize("blank", ["", " ", "  "])
    def test_blank_causes_on_censored_rows_are_no_cause(self, small_frame, blank):
        small_frame.loc[[1, 4], "reason"] = blank
        t = build(small_frame, event="churned", cause="reason")
        assert t.causes == ("Competitor", "Other", "Price")
        assert t.data.loc[~t.data["event"], "cause"].isna().all()
        mapped = build(small_frame, event="churned", cause="reason",
                       cause_map={"Price": "price", "Competitor": "competitor", "Other": "unknown"})
        assert mapped.causes == ("competitor", "price", "unknown")
        assert mapped.data.loc[~mapped.data["event"], "cause"].isna().all()

    def test_missing_segment_values_error(self, small_frame, check_data_error):
        small_frame.loc[5, "plan"] = ""
        with pytest.raises(TenureDataError) as exc:
            build(small_frame, segments="plan", missing_segment="error")
        msg = check_data_error(exc, column="plan", n_rows=2, ids=["d", "f"], problem="missing segment values")
        assert "missing_segment='level'" in msg

    def test_categorical_segment_keeps_order_and_adds_missing_last(self):
        df = pd.DataFrame({"t": [1, 2, 3], "size": pd.Categorical(["S", None, "L"], categories=["S", "M", "L"],
                                                                  ordered=True)})
        seg = Tenures.from_frame(df, duration="t", segments="size").data["size"]
        assert list(seg.cat.categories) == ["S", "M", "L", "(missing)"]
        assert seg.cat.ordered
        assert seg.tolist() == ["S", "(missing)", "L"]

    def test_segment_value_that_reads_missing(self):
        # BUG: a literal "(missing)" level in a column without NaN is not among the categories and
        # silently becomes NaN (the row then drops out of every grouped count).
        df = pd.DataFrame({"t": [1, 2, 3], "g": ["(missing)", "a", "a"]})
        seg = Tenures.from_frame(df, duration="t", segments="g").data["g"]
        assert seg.notna().all()
        assert seg.tolist() == ["(missing)", "a", "a"]

    def test_segment_value_that_reads_missing_with_nan(self):
        # BUG: the literal "(missing)" level and the missing-value level collide: pandas raises
        # "Categorical categories must be unique".
        df = pd.DataFrame({"t": [1, 2, 3], "g": ["(missing)", None, "a"]})
        seg = Tenures.from_frame(df, duration="t", segments="g").data["g"]
        assert seg.notna().all()
        assert seg.iloc[0] == "(missing)" and seg.iloc[2] == "a"

    def test_categorical_segment_with_missing_category_and_nan(self):
        # BUG: pandas raises "Categorical categories must be unique" (the "(missing)" level is added twice).
        df = pd.DataFrame({"t": [1, 2, 3], "g": pd.Categorical(["(missing)", "a", None])})
        seg = Tenures.from_frame(df, duration="t", segments="g").data["g"]
        assert seg.notna().all()

    def test_non_numeric_values(self, small_frame, check_data_error):
        small_frame["margin"] = small_frame["margin"].astype(object)
        small_frame.loc[[0, 2], "margin"] = ["$10", "n/a"]
        with pytest.raises(TenureDataError) as exc:
            build(small_frame, values="margin")
        check_data_error(exc, column="margin", n_rows=2, ids=["a", "c"], problem="non-numeric values")

    def test_missing_values_in_value_columns_are_kept(self, small_frame):
        t = build(small_frame, values="margin")
        assert t.data["margin"].isna().tolist() == small_frame["margin"].isna().tolist()

    @pytest.mark.parametrize("kw", [
        dict(duration="tenur"),
        dict(event="churn"),
        dict(entry="entry"),
        dict(cause="Churn Category"),
        dict(id="customer"),
        dict(weights="weight"),
        dict(segments=["plan", "region"]),
        dict(values="revenue"),
    ])
    def test_missing_columns_list_the_available_ones(self, small_frame, kw):
        kwargs = dict(duration="tenure")
        kwargs.update(kw)
        missing = next(v if isinstance(v, str) else v[-1] for v in kw.values())
        with pytest.raises(TenureDataError) as exc:
            Tenures.from_frame(small_frame, **kwargs)
        msg = str(exc.value)
        assert f"no column {missing!r}" in msg
        assert "Available columns: " + ", ".join(repr(c) for c in small_frame.columns) in msg
        assert exc.value.column == missing

    def test_missing_columns_many_available(self):
        df = pd.DataFrame({f"c{i}": [1] for i in range(50)})
        with pytest.raises(TenureDataError, match=r"and 10 more"):
            Tenures.from_frame(df, duration="tenure")

    def test_negative_weights(self, small_frame, check_data_error):
        small_frame.loc[1, "w"] = -2.0
        with pytest.raises(TenureDataError) as exc:
            build(small_frame, weights="w")
        check_data_error(exc, column="w", n_rows=1, ids=["b"], problem="negative weights")

    def test_negative_weights_fix_is_about_weights(self, small_frame):
        # BUG (message): the fix suggested for negative weights speaks of times and start/end dates.
        small_frame.loc[1, "w"] = -2.0
        with pytest.raises(TenureDataError) as exc:
            build(small_frame, weights="w")
        assert "start/end dates" not in str(exc.value)

    @pytest.mark.parametrize("bad", [np.nan, np.inf, "heavy"])
    def test_bad_weights(self, small_frame, bad):
        small_frame["w"] = small_frame["w"].astype(object)
        small_frame.loc[3, "w"] = bad
        with pytest.raises(TenureDataError, match=r"Column 'w' has 1 row with .*weights.*\(ids 'd'\)"):
            build(small_frame, weights="w")

    def test_first_five_ids_and_how_many_more(self, check_data_error):
        df = pd.DataFrame({"cid": [f"C{i:02d}" for i in range(10)], "tenure": [-1.0] * 7 + [1.0] * 3})
        with pytest.raises(TenureDataError) as exc:
            build(df)
        msg = check_data_error(exc, column="tenure", n_rows=7, ids=[f"C{i:02d}" for i in range(7)],
                               problem="negative times")
        assert "'C00', 'C01', 'C02', 'C03', 'C04' and 2 more" in msg
        assert "'C05'" not in msg

    def test_integer_ids_are_shown_plainly(self, check_data_error):
        df = pd.DataFrame({"cust": [101, 102, 103], "tenure": [1.0, -1.0, 2.0]})
        with pytest.raises(TenureDataError) as exc:
            Tenures.from_frame(df, duration="tenure", id="cust")
        msg = check_data_error(exc, column="tenure", n_rows=1, ids=[102], problem="negative times")
        assert "(ids 102)" in msg

    def test_unknown_cause_levels(self, small_frame, check_data_error):
        with pytest.raises(TenureDataError) as exc:
            build(small_frame, event="churned", cause="reason", causes=["Price", "Competitor"])
        msg = check_data_error(exc, column="reason", n_rows=1, ids=["f"], problem="causes not among the given levels")
        assert "cause_map" in msg

    def test_causes_without_cause_column(self, small_frame):
        with pytest.raises(ValueError, match="cause='<column>'"):
            build(small_frame, event="churned", causes=["Price"])


# ====================================================================== parameter errors (scikit-learn template)
class TestParameterErrors:
    def test_time_unit(self, small_frame):
        with pytest.raises(ValueError, match=re.escape(
                "The 'time_unit' parameter of Tenures.from_frame must be one of {'month', 'week', 'day', 'year'}. "
                "Got 'months' instead.")):
            build(small_frame, time_unit="months")

    def test_missing_segment(self, small_frame):
        with pytest.raises(ValueError, match=re.escape(
                "The 'missing_segment' parameter of Tenures.from_frame must be one of {'level', 'error'}. "
                "Got 'drop' instead.")):
            build(small_frame, segments="plan", missing_segment="drop")

    def test_parameters_are_checked_before_data(self):
        # a bad parameter is reported even when the data are also bad
        df = pd.DataFrame({"t": [-1.0]})
        with pytest.raises(ValueError, match="'time_unit' parameter"):
            Tenures.from_frame(df, duration="t", time_unit="fortnight")

    def test_unit_of_from_dates(self):
        df = pd.DataFrame({"s": ["2024-01-01"], "e": [None]})
        with pytest.raises(ValueError, match=re.escape(
                "The 'unit' parameter of Tenures.from_dates must be one of {'month', 'week', 'day'}. "
                "Got 'year' instead.")):
            Tenures.from_dates(df, start="s", end="e", as_of="2024-06-01", unit="year")

    @pytest.mark.parametrize("period", [0, -3, -0.5, float("nan")])
    def test_period_of_from_snapshot(self, period):
        df = pd.DataFrame({"t": [1, 5], "st": ["Stayed", "Churned"]})
        with pytest.raises(ValueError, match=re.escape(
                "The 'period' parameter of Tenures.from_snapshot must be a positive number of time units. "
                f"Got {period!r} instead.")):
            Tenures.from_snapshot(df, tenure="t", status="st", period=period)

    @pytest.mark.parametrize("period", ["3", "abc", True, None, [3]])
    def test_period_must_be_a_number(self, period):
        # BUG: "3" escapes as numpy's UFuncTypeError, "abc" as float()'s "could not convert string to float",
        # and True is accepted as a period of 1.
        df = pd.DataFrame({"t": [1, 5], "st": ["Stayed", "Churned"]})
        with pytest.raises((TypeError, ValueError), match="The 'period' parameter of Tenures.from_snapshot"):
            Tenures.from_snapshot(df, tenure="t", status="st", period=period)


# ====================================================================== the caller's frame is never modified
class TestNoMutation:
    def test_from_frame(self, small_frame):
        before = small_frame.copy()
        t = build(small_frame, entry="start", event="churned", cause="reason", segments="plan", values="margin",
                  weights="w", cause_map={"Price": "price", "Competitor": "competitor", "Other": "unknown"})
        pd.testing.assert_frame_equal(small_frame, before)
        assert t.data is not small_frame

    def test_from_frame_failing(self, small_frame):
        small_frame.loc[0, "tenure"] = -1.0
        before = small_frame.copy()
        with pytest.raises(TenureDataError):
            build(small_frame, entry="start", event="churned", cause="reason", segments="plan")
        pd.testing.assert_frame_equal(small_frame, before)

    def test_from_dates(self):
        df = pd.DataFrame({"cid": ["a", "b", "c"], "signup": ["2023-01-31", "2023-05-10", "2024-01-02"],
                           "left": ["2023-03-01", None, "2024-07-01"], "why": ["Price", None, "Moved"],
                           "plan": ["x", "y", None]})
        before = df.copy()
        t = Tenures.from_dates(df, start="signup", end="left", as_of="2024-06-30", cause="why", id="cid",
                               segments="plan", observed_from="2023-02-01")
        pd.testing.assert_frame_equal(df, before)
        assert "__exit" not in df.columns and "__exit" not in t.data.columns

    def test_from_snapshot(self, maven, maven_kwargs):
        before = maven.copy()
        Tenures.from_snapshot(maven, **maven_kwargs)
        Tenures.from_snapshot(maven, truncate=False, **maven_kwargs)
        pd.testing.assert_frame_equal(maven, before)

    def test_data_is_a_private_copy(self, small_frame):
        before = small_frame.copy()
        t = build(small_frame, entry="start", event="churned", cause="reason", segments="plan", values="margin",
                  weights="w")
        d = t.data
        # write into every column in place
        d.loc[0, "id"] = "zz"
        d.loc[0, "entry"] = 99.0
        d.loc[0, "exit"] = 99.0
        d.loc[0, "event"] = False
        d.loc[0, "cause"] = "Other"
        d.loc[0, "weight"] = 99.0
        d.loc[0, "plan"] = "pro"
        d.loc[0, "margin"] = 99.0
        d["exit"].to_numpy()[1] = 77.0  # through a view of the array
        d["margin"].to_numpy()[1] = 77.0
        pd.testing.assert_frame_equal(small_frame, before)

    def test_data_is_a_private_copy_without_id(self):
        df = pd.DataFrame({"t": [1.0, 2.0], "v": [3.0, 4.0]})
        before = df.copy()
        t = Tenures.from_frame(df, duration="t", values="v")
        t.data["exit"].to_numpy()[0] = 50.0
        t.data["v"].to_numpy()[0] = 50.0
        pd.testing.assert_frame_equal(df, before)

    def test_snapshot_data_is_a_private_copy(self, maven, maven_kwargs):
        before = maven.copy()
        t = Tenures.from_snapshot(maven, **maven_kwargs)
        t.data["exit"].to_numpy()[:] = 0.0
        t.data["Monthly Charge"].to_numpy()[:] = 0.0
        pd.testing.assert_frame_equal(maven, before)

    def test_derived_tables_do_not_change_the_original(self, maven_tenures):
        before = maven_tenures.data.copy()
        maven_tenures.naive()
        maven_tenures.with_segment("band", np.where(maven_tenures.data["exit"] > 12, "old", "new"))
        maven_tenures.subset(maven_tenures.data["event"])
        maven_tenures.describe(by="Contract")
        life_table(maven_tenures, "Contract")
        pd.testing.assert_frame_equal(maven_tenures.data, before)


# ====================================================================== dates
def one(start, end, as_of="2030-01-01", unit="month", **kw):
    df = pd.DataFrame({"start": [start], "end": [end]})
    return Tenures.from_dates(df, start="start", end="end", as_of=as_of, unit=unit, **kw).data.iloc[0]


class TestFromDates:
    @pytest.mark.parametrize("start, end, months", [
        ("2024-01-31", "2024-02-29", 1),  # end-of-month rule, leap year
        ("2023-01-31", "2023-02-28", 1),  # end-of-month rule
        ("2024-01-31", "2024-02-28", 0),  # 2024-02-28 is not the month's last day
        ("2024-01-30", "2024-02-29", 1),
        ("2024-01-29", "2024-02-29", 1),
        ("2024-01-15", "2024-02-14", 0),
        ("2024-01-15", "2024-02-15", 1),
        ("2024-01-15", "2024-01-15", 0),
        ("2023-12-31", "2024-01-01", 0),
        ("2024-03-31", "2024-04-30", 1),
        ("2024-03-31", "2024-04-29", 0),
        ("2024-01-31", "2024-03-30", 1),
        ("2024-01-31", "2024-03-31", 2),
        ("2024-02-29", "2024-03-29", 1),  # leap-day sign-up
        ("2024-02-29", "2024-03-28", 0),
        ("2024-02-29", "2025-02-28", 12),
        ("2024-02-29", "2025-02-27", 11),
        ("2024-02-29", "2028-02-29", 48),
        ("2023-02-28", "2024-02-28", 12),
        ("2023-02-28", "2024-02-29", 12),
        ("2023-02-28", "2024-02-27", 11),
        ("2020-06-15", "2024-06-14", 47),
    ])
    def test_completed_calendar_months(self, start, end, months):
        row = one(start, end)
        assert row["exit"] == months
        assert row["event"]
        assert row["entry"] == 0

    @pytest.mark.parametrize("start, end, weeks", [
        ("2024-01-01", "2024-01-07", 0),
        ("2024-01-01", "2024-01-08", 1),
        ("2024-01-01", "2024-01-21", 2),
        ("2024-02-26", "2024-03-04", 1),  # across the leap day: 7 days
        ("2023-12-25", "2024-12-23", 52),
    ])
    def test_weeks(self, start, end, weeks):
        assert one(start, end, unit="week")["exit"] == weeks

    @pytest.mark.parametrize("start, end, days", [
        ("2024-02-28", "2024-03-01", 2),
        ("2023-02-28", "2023-03-01", 1),
        ("2024-01-01", "2025-01-01", 366),
        ("2024-01-01", "2024-01-01", 0),
    ])
    def test_days(self, start, end, days):
        assert one(start, end, unit="day")["exit"] == days

    def test_time_unit_follows_unit(self):
        df = pd.DataFrame({"s": ["2024-01-01"], "e": ["2024-02-01"]})
        for unit in ("month", "week", "day"):
            assert Tenures.from_dates(df, start="s", end="e", as_of="2024-06-01", unit=unit).time_unit == unit

    def test_end_after_as_of_is_censored_and_cause_cleared(self):
        df = pd.DataFrame({"cid": ["a", "b", "c"], "start": ["2024-01-15"] * 3,
                           "end": ["2024-03-20", "2024-09-01", "2024-06-30"],
                           "why": ["Price", "Moved", "Competitor"]})
        t = Tenures.from_dates(df, start="start", end="end", as_of="2024-06-30", cause="why", id="cid")
        d = t.data.set_index("id")
        assert d.loc["a", "event"] and d.loc["a", "exit"] == 2 and d.loc["a", "cause"] == "Price"
        assert not d.loc["b", "event"] and d.loc["b", "exit"] == 5 and pd.isna(d.loc["b", "cause"])
        assert d.loc["c", "event"] and d.loc["c", "exit"] == 5  # on the as-of date: observed
        assert set(t.causes) == {"Price", "Competitor"}  # "Moved" is not yet observed

    def test_missing_end_is_censored_at_as_of(self):
        df = pd.DataFrame({"start": ["2023-01-31", "2024-02-10"], "end": [None, pd.NaT]})
        t = Tenures.from_dates(df, start="start", end="end", as_of="2024-02-29")
        assert t.data["event"].tolist() == [False, False]
        assert t.data["exit"].tolist() == [13.0, 0.0]  # 2023-01-31 -> 2024-02-29 is 13 (end of month)

    def test_accepts_datetime_columns_and_timestamps(self):
        df = pd.DataFrame({"start": pd.to_datetime(["2024-01-15"]), "end": pd.to_datetime(["2024-04-15"])})
        t = Tenures.from_dates(df, start="start", end="end", as_of=pd.Timestamp("2024-12-31"))
        assert t.data["exit"].tolist() == [3.0]

    def test_start_after_as_of(self, check_data_error):
        df = pd.DataFrame({"cid": ["a", "b", "c"], "start": ["2024-01-01", "2024-07-01", "2025-01-01"],
                           "end": [None, None, None]})
        with pytest.raises(TenureDataError) as exc:
            Tenures.from_dates(df, start="start", end="end", as_of="2024-06-30", id="cid")
        msg = check_data_error(exc, column="start", n_rows=2, ids=["b", "c"], problem="sign-up dates after the as-of")
        assert "2024-06-30" in msg

    def test_end_before_start(self, check_data_error):
        df = pd.DataFrame({"cid": ["a", "b"], "start": ["2024-03-01", "2024-01-01"],
                           "end": ["2024-02-01", "2024-02-01"]})
        with pytest.raises(TenureDataError) as exc:
            Tenures.from_dates(df, start="start", end="end", as_of="2024-06-30", id="cid")
        msg = check_data_error(exc, column="end", n_rows=1, ids=["a"], problem="defection dates before the sign-up")
        assert "swapped" in msg

    def test_missing_start(self, check_data_error):
        df = pd.DataFrame({"start": ["2024-03-01", None], "end": [None, None]})
        with pytest.raises(TenureDataError) as exc:
            Tenures.from_dates(df, start="start", end="end", as_of="2024-06-30")
        check_data_error(exc, column="start", n_rows=1, ids=[1], problem="missing sign-up dates")

    def test_values_that_are_not_dates(self, check_data_error):
        df = pd.DataFrame({"start": ["2024-03-01", "2024-03-01"], "end": ["soon", None]})
        with pytest.raises(TenureDataError) as exc:
            Tenures.from_dates(df, start="start", end="end", as_of="2024-06-30")
        check_data_error(exc, column="end", n_rows=1, ids=[0], problem="values that are not dates")

    def test_missing_date_column(self):
        df = pd.DataFrame({"start": ["2024-03-01"], "end": [None]})
        with pytest.raises(TenureDataError, match=r"no column 'stop'\. Available columns: 'start', 'end'"):
            Tenures.from_dates(df, start="start", end="stop", as_of="2024-06-30")

    def test_missing_id_column(self):
        # BUG: from_dates reads frame[id] before checking the column: KeyError instead of TenureDataError.
        df = pd.DataFrame({"start": ["2024-03-01"], "end": [None]})
        with pytest.raises(TenureDataError, match="no column 'cid'"):
            Tenures.from_dates(df, start="start", end="end", as_of="2024-06-30", id="cid")

    def test_observed_from_left_truncation(self):
        df = pd.DataFrame({"cid": ["early", "earlier", "late", "left_late"],
                           "start": ["2023-11-15", "2022-01-31", "2024-02-10", "2023-06-30"],
                           "end": [None, None, "2024-05-20", "2024-04-30"]})
        t = Tenures.from_dates(df, start="start", end="end", as_of="2024-06-30", observed_from="2024-01-01",
                               id="cid")
        d = t.data.set_index("id")
        # entry = completed months from sign-up to the observation start; 0 for sign-ups after it
        assert d.loc["early", "entry"] == 1 and d.loc["early", "exit"] == 7
        assert d.loc["earlier", "entry"] == 23 and d.loc["earlier", "exit"] == 29
        assert d.loc["late", "entry"] == 0 and d.loc["late", "exit"] == 3
        assert d.loc["left_late", "entry"] == 6 and d.loc["left_late", "exit"] == 10
        assert d.loc["left_late", "event"]
        assert t.is_truncated

    def test_observed_from_defection_before_observation(self, check_data_error):
        df = pd.DataFrame({"cid": ["a", "b"], "start": ["2022-01-15", "2022-01-15"],
                           "end": ["2023-06-01", None]})
        with pytest.raises(TenureDataError) as exc:
            Tenures.from_dates(df, start="start", end="end", as_of="2024-06-30", observed_from="2024-01-01",
                               id="cid")
        check_data_error(exc, column="end", n_rows=1, ids=["a"], problem="defections before the observation start")

    def test_observed_from_defection_in_the_first_partial_month(self):
        # A customer who signed up on Jan 15 and left on Mar 10, with records kept from Mar 1: both the entry
        # (Jan 15 -> Mar 1) and the exit (Jan 15 -> Mar 10) are 1 completed month. The row enters one month
        # earlier (entry 0, exit 1) so that the defection is in the risk set at month 1; no error is raised.
        df = pd.DataFrame({"start": ["2020-01-15"], "end": ["2020-03-10"]})
        t = Tenures.from_dates(df, start="start", end="end", as_of="2020-06-01", observed_from="2020-03-01")
        row = t.data.iloc[0]
        assert (row["entry"], row["exit"], bool(row["event"])) == (0.0, 1.0, True)
        # and one month later the same rule gives entry = exit - 1 with entry > 0
        df = pd.DataFrame({"start": ["2020-01-15"], "end": ["2020-04-10"]})
        t = Tenures.from_dates(df, start="start", end="end", as_of="2020-06-01", observed_from="2020-04-01")
        assert (t.data.loc[0, "entry"], t.data.loc[0, "exit"]) == (1.0, 2.0)

    def test_explicit_event_column(self):
        df = pd.DataFrame({"start": ["2024-01-01", "2024-01-01"], "end": ["2024-03-01", "2024-03-01"],
                           "churned": [True, False]})
        t = Tenures.from_dates(df, start="start", end="end", as_of="2024-06-30", event="churned")
        assert t.data["event"].tolist() == [True, False]
        assert t.data["exit"].tolist() == [2.0, 2.0]

    def test_explicit_event_column_errors_name_the_column(self):
        # BUG (message): errors about the event column name the internal '__event' column.
        df = pd.DataFrame({"start": ["2024-01-01", "2024-01-01"], "end": ["2024-03-01", None],
                           "status": ["gone", "here"]})
        with pytest.raises(TenureDataError) as exc:
            Tenures.from_dates(df, start="start", end="end", as_of="2024-06-30", event="status")
        assert "'status'" in str(exc.value)
        assert "__event" not in str(exc.value)

    def test_kwargs_reach_from_frame(self):
        df = pd.DataFrame({"cid": ["a", "b"], "start": ["2024-01-01", "2024-02-01"], "end": ["2024-03-01", None],
                           "why": ["Price", None], "plan": ["x", None], "rev": [1.0, 2.0]})
        t = Tenures.from_dates(df, start="start", end="end", as_of="2024-06-30", id="cid", cause="why",
                               segments="plan", values="rev", cause_map={"Price": "price"})
        assert t.data["id"].tolist() == ["a", "b"]
        assert t.causes == ("price",)
        assert t.data["plan"].tolist() == ["x", "(missing)"]
        assert t.data["rev"].tolist() == [1.0, 2.0]


# ====================================================================== snapshots: the bundled Maven file
def expected_maven(maven: pd.DataFrame, period: float = 3.0, churned_for: float = 2.0) -> pd.DataFrame:
    """entry / exit / event computed directly from the raw CSV (defectors observed ``churned_for`` months of the
    quarter: 2 under the default rule, "middle")."""
    tenure = maven[MAVEN_TENURE].astype(float)
    status = maven[MAVEN_STATUS]
    observed = np.where(status == "Churned", churned_for, period)
    entry = np.where(status == "Joined", 0.0, np.maximum(tenure - observed, 0.0))
    return pd.DataFrame({"id": maven[MAVEN_ID], "entry": entry, "exit": tenure, "event": status == "Churned"})


class TestFromSnapshot:
    def test_maven_counts(self, maven, maven_tenures):
        t = maven_tenures
        assert len(maven) == 7043
        assert len(t) == 7043 and t.n_customers == 7043
        assert t.n_events == 1869
        assert t.time_unit == "month"
        assert t.data["id"].tolist() == maven[MAVEN_ID].tolist()

    def test_maven_entry_is_tenure_minus_period(self, maven, maven_tenures):
        exp = expected_maven(maven)
        got = maven_tenures.data[["id", "entry", "exit", "event"]]
        pd.testing.assert_frame_equal(got, exp, check_names=False)
        joined = (maven[MAVEN_STATUS] == "Joined").to_numpy()
        assert (got.loc[joined, "entry"] == 0).all()
        assert not got.loc[joined, "event"].any()
        assert (got["exit"] > got["entry"]).all()

    def test_maven_raw_categories(self, maven, maven_kwargs):
        maven_kwargs.pop("cause_map")
        t = Tenures.from_snapshot(maven, **maven_kwargs)
        counts = t.data["cause"].value_counts()
        assert counts.to_dict() == {"Competitor": 841, "Dissatisfaction": 321, "Attitude": 314, "Price": 211,
                                    "Other": 182}
        assert t.causes == ("Attitude", "Competitor", "Dissatisfaction", "Other", "Price")
        # the same counts straight from the CSV
        raw = maven.loc[maven[MAVEN_STATUS] == "Churned", MAVEN_CATEGORY].value_counts()
        assert counts.sort_index().to_dict() == raw.sort_index().to_dict()

    def test_maven_mapped_causes(self, maven, maven_tenures):
        counts = maven_tenures.data["cause"].value_counts()
        assert counts.to_dict() == {"competitor": 841, "service": 321, "attitude": 314, "price": 211, "unknown": 182}
        assert maven_tenures.causes == ("competitor", "price", "service", "attitude", "unknown")  # taxonomy order
        assert maven_tenures.data["cause"].isna().sum() == 7043 - 1869
        assert maven_tenures.data.loc[~maven_tenures.data["event"], "cause"].isna().all()

    def test_truncation_report(self, maven, maven_tenures):
        exp = expected_maven(maven)
        rep = maven_tenures.truncation
        assert isinstance(rep, TruncationReport)
        assert rep.applied is True
        n_truncated = int((exp["entry"] > 0).sum())
        assert rep == TruncationReport(period=3.0, n_rows=7043, n_truncated=n_truncated,
                                       n_joined=int((maven[MAVEN_STATUS] == "Joined").sum()),
                                       n_entry_zero=7043 - n_truncated, churn_timing="middle", churn_exposure=2.0,
                                       n_churned=1869)
        # by hand: every "Stayed" has tenure >= 4; churners are observed 2 months, so those with tenure > 2 are
        # truncated
        stayed = (maven[MAVEN_STATUS] == "Stayed").sum()
        churned_long = ((maven[MAVEN_STATUS] == "Churned") & (maven[MAVEN_TENURE] > 2)).sum()
        assert rep.n_truncated == stayed + churned_long
        assert rep.n_joined == 454
        assert rep.n_entry_zero == 7043 - rep.n_truncated
        text = str(rep)
        assert f"{rep.n_truncated:,} of 7,043" in text and "454 joined" in text and "tenure - 3" in text
        assert "tenure - 2" in text and "middle of the period" in text and "period life table" in text
        assert maven_tenures.is_truncated
        assert f"{rep.n_truncated:,} left-truncated" in repr(maven_tenures)

    def test_no_truncation(self, maven, maven_kwargs):
        t = Tenures.from_snapshot(maven, truncate=False, **maven_kwargs)
        assert (t.data["entry"] == 0).all()
        assert not t.is_truncated
        # the report says what the snapshot reading would truncate, and that it was not applied
        assert t.truncation.applied is False
        assert t.truncation.n_truncated == int((expected_maven(maven)["entry"] > 0).sum())
        assert "WITHOUT left truncation" in str(t.truncation)
        assert t.data["exit"].tolist() == maven[MAVEN_TENURE].astype(float).tolist()
        assert t.n_events == 1869

    def test_naive(self, maven_tenures):
        naive = maven_tenures.naive()
        assert (naive.data["entry"] == 0).all()
        assert naive.truncation is None
        assert not naive.is_truncated
        pd.testing.assert_frame_equal(naive.data.drop(columns="entry"), maven_tenures.data.drop(columns="entry"))
        assert (naive.segments, naive.values, naive.causes, naive.time_unit) == (
            maven_tenures.segments, maven_tenures.values, maven_tenures.causes, maven_tenures.time_unit)
        assert maven_tenures.is_truncated  # the original is untouched

    def test_unknown_status_labels(self, maven, check_data_error):
        maven.loc[[3, 10], MAVEN_STATUS] = ["Paused", None]
        with pytest.raises(TenureDataError) as exc:
            Tenures.from_snapshot(maven, tenure=MAVEN_TENURE, status=MAVEN_STATUS, period=3, id=MAVEN_ID)
        ids = maven.loc[[3, 10], MAVEN_ID].tolist()
        msg = check_data_error(exc, column=MAVEN_STATUS, n_rows=2, ids=ids, problem="unknown status labels")
        assert "'Paused'" in msg and "churned=['Churned']" in msg

    def test_custom_status_labels(self):
        df = pd.DataFrame({"t": [5, 2, 1, 8], "st": ["gone", "new", "new", "active"]})
        t = Tenures.from_snapshot(df, tenure="t", status="st", period=3, churned="gone", joined="new",
                                  stayed=["active"], churn_timing="end")
        assert t.data["entry"].tolist() == [2.0, 0.0, 0.0, 5.0]
        assert t.data["event"].tolist() == [True, False, False, False]

    def test_tenure_within_the_period_enters_at_zero(self):
        df = pd.DataFrame({"t": [3, 2, 0, 3.5], "st": ["Stayed", "Churned", "Churned", "Stayed"]})
        t = Tenures.from_snapshot(df, tenure="t", status="st", period=3, churn_timing="end")
        assert t.data["entry"].tolist() == [0.0, 0.0, 0.0, 0.5]

    @pytest.mark.parametrize(("timing", "entries"), [
        ("end", [7.0, 2.0, 0.0, 0.0, 0.0]),      # the defectors observed the whole quarter
        ("middle", [7.0, 3.0, 0.0, 0.0, 0.0]),   # 2 of the 3 months (ceil(3 / 2): whole months)
        ("start", [7.0, 4.0, 1.0, 0.0, 0.0]),    # their last month only
        (0.5, [7.0, 3.5, 0.5, 0.0, 0.0]),        # a fraction of the period: 1.5 months
    ])
    def test_churn_timing(self, timing, entries):
        df = pd.DataFrame({"t": [10, 5, 2, 1, 2], "st": ["Stayed", "Churned", "Churned", "Churned", "Joined"]})
        t = Tenures.from_snapshot(df, tenure="t", status="st", period=3, churn_timing=timing)
        assert t.data["entry"].tolist() == entries
        assert (t.data["exit"] > t.data["entry"]).all()  # every defection stays in a risk set
        assert t.truncation.n_churned == 3 and t.truncation.churn_exposure == 5 - entries[1]

    def test_churn_timing_moves_the_estimate_in_the_stated_direction(self, maven, maven_kwargs):
        # "end" observes defectors longest before they leave: the lowest hazard, the most optimistic survival
        from churnsurv import KaplanMeier
        kw = {k: v for k, v in maven_kwargs.items() if k != "segments"}
        s12 = {timing: KaplanMeier().fit(Tenures.from_snapshot(maven, churn_timing=timing, **kw)).predict([12])
               ["estimate"].iloc[0] for timing in ("start", "middle", "end")}
        assert s12["start"] < s12["middle"] < s12["end"]

    def test_churn_timing_bad_values(self, maven, maven_kwargs):
        with pytest.raises(ValueError, match=r"'churn_timing' parameter of Tenures.from_snapshot must be one of"):
            Tenures.from_snapshot(maven, churn_timing="late", **maven_kwargs)
        with pytest.raises(ValueError, match=r"'churn_timing' parameter .* fraction of the period in \(0, 1\]\. "
                                             r"Got 1\.5 instead"):
            Tenures.from_snapshot(maven, churn_timing=1.5, **maven_kwargs)
        with pytest.raises(TypeError, match="'churn_timing' parameter"):
            Tenures.from_snapshot(maven, churn_timing=True, **maven_kwargs)

    def test_long_joiners_warn(self):
        df = pd.DataFrame({"t": [2, 7, 9], "st": ["Joined", "Joined", "Stayed"]})
        with pytest.warns(ChurnsurvWarning, match=r"1 customers with status \['Joined'\] have tenure longer") as rec:
            t = Tenures.from_snapshot(df, tenure="t", status="st", period=3)
        assert t.data["entry"].tolist() == [0.0, 0.0, 6.0]
        assert rec[0].filename == __file__

    def test_snapshot_data_errors(self, maven, check_data_error):
        maven[MAVEN_TENURE] = maven[MAVEN_TENURE].astype(float)
        maven.loc[[0, 1], MAVEN_TENURE] = [-1, np.nan]
        with pytest.raises(TenureDataError) as exc:
            Tenures.from_snapshot(maven, tenure=MAVEN_TENURE, status=MAVEN_STATUS, period=3, id=MAVEN_ID)
        check_data_error(exc, column=MAVEN_TENURE, n_rows=1, ids=[maven.loc[1, MAVEN_ID]], problem="missing times")

    def test_missing_tenure_column(self, maven):
        with pytest.raises(TenureDataError, match=r"no column 'Tenure'\. Available columns: 'Customer ID', 'Gender'"):
            Tenures.from_snapshot(maven, tenure="Tenure", status=MAVEN_STATUS, period=3)

    def test_missing_id_column(self, maven):
        # BUG: from_snapshot reads frame[id] before checking the column: KeyError instead of TenureDataError.
        with pytest.raises(TenureDataError, match="no column 'CustomerID'"):
            Tenures.from_snapshot(maven, tenure=MAVEN_TENURE, status=MAVEN_STATUS, period=3, id="CustomerID")

    def test_period_in_weeks(self):
        df = pd.DataFrame({"t": [20, 10, 13], "st": ["Stayed", "Churned", "Joined"]})
        t = Tenures.from_snapshot(df, tenure="t", status="st", period=13, time_unit="week")
        assert t.data["entry"].tolist() == [7.0, 3.0, 0.0]  # the defector observed ceil(13 / 2) = 7 weeks
        end = Tenures.from_snapshot(df, tenure="t", status="st", period=13, time_unit="week", churn_timing="end")
        assert end.data["entry"].tolist() == [7.0, 0.0, 0.0]
        assert t.time_unit == "week"
        assert t.truncation.period == 13.0


# ====================================================================== tenure confounding (the Offer trap)
class TestConfounding:
    def test_offer_is_flagged_by_life_table(self, maven_tenures):
        with pytest.warns(TenureConfoundingWarning, match="'Offer' is determined by tenure") as rec:
            life_table(maven_tenures, "Offer")
        msg = str(rec[0].message)
        assert "Offer A" in msg and "Offer E" in msg

    @pytest.mark.parametrize("segment", ["Contract", "Internet Type", "Payment Method"])
    def test_real_segments_are_not_flagged(self, maven_tenures, segment):
        with warnings.catch_warnings():
            warnings.simplefilter("error", TenureConfoundingWarning)
            life_table(maven_tenures, segment)
        table = tenure_confounding(maven_tenures, segment)
        assert table.attrs["confounded"] is False
        assert table.attrs["message"] == ""
        assert (table["n_disjoint"] == 0).all()

    def test_offer_table(self, maven, maven_tenures):
        table = tenure_confounding(maven_tenures, "Offer")
        assert table.attrs["confounded"] is True
        assert list(table.columns) == ["segment", "level", "n", "tenure_low", "tenure_high", "n_disjoint"]
        assert (table["segment"] == "Offer").all()
        # n per level straight from the CSV ("None" is read as NaN by pandas: the "(missing)" level)
        raw = maven["Offer"].fillna("(missing)").value_counts()
        assert table.set_index("level")["n"].to_dict() == raw.to_dict()
        by_level = table.set_index("level")
        assert by_level.loc["(missing)", "n_disjoint"] == 0  # "None" spans all tenures
        assert (by_level.drop(index="(missing)")["n_disjoint"] > 0).all()

    def test_check_confounding(self, maven_tenures):
        with pytest.warns(TenureConfoundingWarning):
            out = maven_tenures.check_confounding(["Offer", "Contract"])
        assert set(out["segment"]) == {"Offer", "Contract"}
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = maven_tenures.check_confounding("Offer", warn=False)
        assert len(out) == 6

    def test_life_table_can_skip_the_check(self, maven_tenures):
        with warnings.catch_warnings():
            warnings.simplefilter("error", TenureConfoundingWarning)
            life_table(maven_tenures, "Offer", check_confounding=False)

    def test_tenure_bands_are_flagged(self, maven_tenures):
        bands = pd.cut(maven_tenures.data["exit"], [0, 12, 24, 48, 72], labels=["0-12", "13-24", "25-48", "49-72"])
        t = maven_tenures.with_segment("band", bands.astype(str))
        with pytest.warns(TenureConfoundingWarning, match="'band'"):
            life_table(t, "band")
        assert tenure_confounding(t, "band").attrs["confounded"]

    def test_random_segment_is_not_flagged(self, maven_tenures):
        rng = np.random.default_rng(42)
        t = maven_tenures.with_segment("coin", rng.choice(["heads", "tails", "edge"], size=len(maven_tenures)))
        assert not tenure_confounding(t, "coin").attrs["confounded"]
        with warnings.catch_warnings():
            warnings.simplefilter("error", TenureConfoundingWarning)
            life_table(t, "coin")

    def test_missing_segment_column(self, maven_tenures):
        with pytest.raises(TenureDataError, match="no column 'Offers'.*Available columns: 'id', 'entry'"):
            tenure_confounding(maven_tenures, "Offers")

    def test_warning_points_at_the_caller_of_life_table(self, maven_tenures):
        # BUG: stacklevel=3 in check_confounding points inside churnsurv/lifetable.py, not at the caller.
        with pytest.warns(TenureConfoundingWarning) as rec:
            life_table(maven_tenures, "Offer")
        assert rec[0].filename == __file__

    def test_warning_points_at_the_caller_of_check_confounding(self, maven_tenures):
        # BUG: stacklevel=3 points one frame above the caller (pytest's internals here).
        with pytest.warns(TenureConfoundingWarning) as rec:
            maven_tenures.check_confounding("Offer")
        assert rec[0].filename == __file__


# ====================================================================== describe
class TestDescribe:
    def test_whole_table(self, maven, maven_tenures):
        out = maven_tenures.describe()
        assert len(out) == 1
        exp = expected_maven(maven)
        row = out.iloc[0]
        assert row["n_customers"] == 7043
        assert row["n_events"] == 1869
        assert row["n_censored"] == 7043 - 1869
        assert row["n_truncated"] == (exp["entry"] > 0).sum()
        assert row["median_follow_up"] == (exp["exit"] - exp["entry"]).median()
        assert row["min_time"] == maven[MAVEN_TENURE].min()
        assert row["max_time"] == maven[MAVEN_TENURE].max()
        assert row["events_competitor"] == 841 and row["events_unknown"] == 182

    @pytest.mark.parametrize("by", ["Contract", ["Contract", "Internet Type"]])
    def test_by_segments(self, maven, maven_tenures, by):
        out = maven_tenures.describe(by=by)
        by_l = [by] if isinstance(by, str) else by
        exp = expected_maven(maven)
        raw = maven.assign(
            entry=exp["entry"].to_numpy(),
            event=exp["event"].to_numpy(),
            follow_up=(exp["exit"] - exp["entry"]).to_numpy(),
            cause=maven[MAVEN_CATEGORY].map(
                {"Competitor": "competitor", "Price": "price", "Dissatisfaction": "service",
                 "Attitude": "attitude", "Other": "unknown"}),
        )
        for col in by_l:
            raw[col] = raw[col].fillna("(missing)")
        g = raw.groupby(by_l)
        ref = pd.DataFrame({
            "n_customers": g.size().astype(float),
            "n_events": g["event"].sum().astype(float),
            **{f"events_{c}": g["cause"].apply(lambda s, c=c: float((s == c).sum()))
               for c in ["competitor", "price", "service", "attitude", "unknown"]},
            "n_censored": g["event"].apply(lambda s: float((~s).sum())),
            "n_truncated": g["entry"].apply(lambda s: float((s > 0).sum())),
            "median_follow_up": g["follow_up"].median(),
            "min_time": g[MAVEN_TENURE].min().astype(float),
            "max_time": g[MAVEN_TENURE].max().astype(float),
        }).reset_index()
        got = out.copy()
        for col in by_l:
            got[col] = got[col].astype(str)
        got = got.sort_values(by_l).reset_index(drop=True)
        ref = ref.sort_values(by_l).reset_index(drop=True)
        assert list(got.columns) == [*by_l, "n_customers", "n_events", "events_competitor", "events_price",
                                     "events_service", "events_attitude", "events_unknown", "n_censored",
                                     "n_truncated", "median_follow_up", "min_time", "max_time"]
        pd.testing.assert_frame_equal(got, ref[got.columns], check_dtype=False)

    def test_weighted(self, small_frame):
        t = build(small_frame, entry="start", event="churned", cause="reason", segments="plan", weights="w")
        out = t.describe(by="plan").set_index("plan")
        df = small_frame.assign(plan=small_frame["plan"].fillna("(missing)"))
        for level, sub in df.groupby("plan"):
            row = out.loc[level]
            assert row["n_customers"] == pytest.approx(sub["w"].sum())
            assert row["n_events"] == pytest.approx((sub["w"] * sub["churned"]).sum())
            assert row["n_censored"] == pytest.approx((sub["w"] * (1 - sub["churned"])).sum())
            assert row["n_truncated"] == pytest.approx((sub["w"] * (sub["start"] > 0)).sum())
            assert row["events_Price"] == pytest.approx(sub.loc[sub["reason"] == "Price", "w"].sum())
            assert row["median_follow_up"] == pytest.approx((sub["tenure"] - sub["start"]).median())

    def test_missing_by_column(self, maven_tenures):
        with pytest.raises(TenureDataError, match="no column 'Contracts'"):
            maven_tenures.describe(by="Contracts")


# ====================================================================== small views
class TestViews:
    def test_len_events_repr(self, small_frame):
        t = build(small_frame, entry="start", event="churned", cause="reason", segments="plan")
        assert len(t) == 8
        assert t.n_events == 4
        assert t.n_customers == 8
        assert t.is_truncated
        text = repr(t)
        assert text.startswith("Tenures(8 rows, 4 defections, time unit 'month'")
        assert "segments ['plan']" in text and "3 left-truncated" in text

    def test_subset(self, small_frame):
        t = build(small_frame, event="churned", cause="reason", segments="plan")
        sub = t.subset(t.data["event"])
        assert len(sub) == 4 and sub.data["event"].all()
        assert sub.causes == t.causes
        assert list(sub.data["cause"].cat.categories) == list(t.causes)
        assert sub.data.index.tolist() == [0, 1, 2, 3]
        with pytest.raises(TenureDataError, match="empty"):
            t.subset(np.zeros(len(t), bool))

    def test_with_segment(self, small_frame):
        t = build(small_frame, event="churned")
        t2 = t.with_segment("long", np.where(t.data["exit"] >= 3, "yes", None))
        assert t2.segments == ("long",)
        assert list(t2.data["long"].cat.categories) == ["yes", "(missing)"]
        assert "long" not in t.data.columns
        with pytest.raises(TenureDataError, match="missing segment values"):
            t.with_segment("long", [None] * len(t), missing_segment="error")


def test_with_single_cause_makes_causes_analyses_reduce_to_all_cause():
    from churnsurv import AalenJohansen, KaplanMeier

    df = pd.DataFrame({"t": [1, 2, 2, 3, 5, 8], "e": [1, 1, 0, 1, 0, 1], "g": list("aabbab")})
    t = Tenures.from_frame(df, duration="t", event="e", segments=["g"])
    one = t.with_single_cause("unspecified")
    assert one.causes == ("unspecified",) and t.causes == ()
    assert one.data["cause"].notna().tolist() == [True, True, False, True, False, True]
    assert list(one.data.columns[:6]) == ["id", "entry", "exit", "event", "cause", "weight"]
    cif = AalenJohansen().fit(one).predict([1, 2, 3, 5, 8])["estimate"].to_numpy()
    km = KaplanMeier().fit(t).predict([1, 2, 3, 5, 8])["estimate"].to_numpy()
    np.testing.assert_allclose(cif, 1 - km, atol=1e-14)
    assert one.with_single_cause() is one  # a table with causes is returned unchanged
