"""Issue 16, item 3: dates are never guessed.

Before the fix :meth:`Tenures.from_dates` passed every column to ``pd.to_datetime``: ``03/04/2024`` was read
month-first without a word, integer ``20240131`` became 20 milliseconds after 1970, spreadsheet serial days became
nanoseconds, an open-end sentinel ``9999-12-31`` was "not a date" and a time-zone-aware column failed against a
naive ``as_of``. The rules now (``churnsurv/data/_dates.py``): day/month order from ``dayfirst``/``date_format`` or
detected where the values settle it, else refused; ``yyyymmdd`` integers read, other numbers refused; one zone read
in its wall-clock time, mixed offsets converted to UTC with a warning; an end beyond 2261 means "no end yet".
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from churnsurv import Tenures
from churnsurv.data._dates import parse_dates
from churnsurv.exceptions import ChurnsurvWarning, TenureDataError

AS_OF = "2024-12-31"


def _dates(start, end, **kw):
    df = pd.DataFrame({"s": start, "e": end})
    return Tenures.from_dates(df, start="s", end="e", as_of=kw.pop("as_of", AS_OF), **kw)


# ---------------------------------------------------------------------- day / month order
def test_ambiguous_day_month_order_is_refused():
    with pytest.raises(TenureDataError, match=r"Column 's' has 2 rows with dates whose day/month order is ambiguous"):
        _dates(["03/04/2024", "05/06/2024"], [None, None])


def test_day_first_detected_from_a_day_above_12():
    t = _dates(["03/04/2024", "25/06/2024"], ["03/05/2024", None])
    assert t.column("exit").tolist() == [1, 6]  # 3 April -> 3 May; 25 June -> 31 December


def test_month_first_detected_from_a_second_field_above_12():
    t = _dates(["04/03/2024", "06/25/2024"], ["05/03/2024", None])
    assert t.column("exit").tolist() == [1, 6]


def test_stated_dayfirst_and_format():
    t = _dates(["03/04/2024"], ["03/05/2024"], dayfirst=True)
    assert t.column("exit").tolist() == [1]
    t = _dates(["03/04/2024"], ["03/05/2024"], dayfirst=False)
    assert t.column("exit").tolist() == [0]  # 4 March -> 5 March
    t = _dates(["03.04.24"], ["03.05.24"], date_format="%d.%m.%y")
    assert t.column("exit").tolist() == [1]


def test_contradicting_orders_are_refused():
    with pytest.raises(TenureDataError, match="contradicts"):
        _dates(["13/04/2024", "04/25/2024"], [None, None])


def test_dayfirst_contradicted_by_a_value_is_refused():
    with pytest.raises(TenureDataError, match=r"values that are not dates \(e.g. '25/06/2024'\)"):
        _dates(["25/06/2024"], [None], dayfirst=False)


def test_two_digit_years_need_a_format():
    with pytest.raises(TenureDataError, match="two-digit years"):
        _dates(["01/02/24"], [None], dayfirst=True)


def test_ambiguous_as_of_is_refused():
    with pytest.raises(TenureDataError, match="ambiguous"):
        _dates(["2024-01-01"], [None], as_of="03/04/2024")


# ---------------------------------------------------------------------- numbers
def test_integer_yyyymmdd_is_read_as_a_date():
    t = _dates([20240115, 20240301], [20240415, 0 + 20240501])
    assert t.column("exit").tolist() == [3, 2]


def test_spreadsheet_serial_days_are_refused_with_the_conversion():
    with pytest.raises(TenureDataError, match=r"spreadsheet serial days.*origin='1899-12-30'"):
        _dates([45000, 45100], [None, None])


def test_epoch_seconds_are_refused_never_nanoseconds():
    with pytest.raises(TenureDataError, match=r"unit='s'"):
        _dates([1_700_000_000, 1_700_100_000], [np.nan, np.nan])


def test_eight_digit_numbers_that_are_not_dates_are_refused():
    with pytest.raises(TenureDataError, match="not yyyymmdd"):
        _dates([20241340], [None])


# ---------------------------------------------------------------------- time zones
def test_time_zone_aware_column_uses_its_wall_clock():
    s = pd.Series(pd.to_datetime(["2024-01-01 00:30", "2024-02-01 00:00"])).dt.tz_localize("Europe/Paris")
    e = pd.Series(pd.to_datetime(["2024-02-01 00:30", None])).dt.tz_localize("Europe/Paris")
    t = _dates(s, e)
    assert t.column("exit").tolist() == [1, 10]  # not 31 December 2023 in UTC
    assert t.column("event").tolist() == [True, False]


def test_aware_as_of_is_compared_on_its_wall_clock():
    t = _dates(["2024-01-01"], ["2024-03-01"], as_of=pd.Timestamp("2024-06-30", tz="America/New_York"))
    assert t.column("exit").tolist() == [2]


def test_mixed_offsets_are_converted_to_utc_with_a_warning():
    with pytest.warns(ChurnsurvWarning, match="mixes time-zone offsets"):
        t = _dates(["2024-01-01T00:30:00+01:00", "2024-01-01T12:00:00+05:00"], [None, None])
    assert len(t) == 2


def test_naive_beside_aware_text_is_refused():
    with pytest.raises(TenureDataError, match="without a time zone"):
        _dates(["2024-01-01T00:30:00+01:00", "2024-01-01T10:00:00"], [None, None])


# ---------------------------------------------------------------------- open-end sentinel
def test_open_end_sentinel_means_still_a_customer():
    t = _dates(["2024-01-15", "2024-02-01"], ["9999-12-31", "2024-05-01"])
    assert t.column("event").tolist() == [False, True]
    assert t.column("exit").tolist() == [11, 3]


def test_open_end_sentinel_in_datetime_and_integer_columns():
    end = pd.Series(np.array(["9999-12-31", "2024-05-01"], dtype="datetime64[s]"))
    t = _dates(pd.Series(np.array(["2024-01-15", "2024-02-01"], dtype="datetime64[s]")), end)
    assert t.column("event").tolist() == [False, True]
    t = _dates([20240115, 20240201], [99991231, 20240501])
    assert t.column("event").tolist() == [False, True]


def test_sentinel_start_is_refused():
    with pytest.raises(TenureDataError, match="sign-up dates beyond the year 2261"):
        _dates(["9999-12-31", "2024-01-01"], [None, None])


def test_caller_frame_not_modified():
    df = pd.DataFrame({"s": ["03/04/2024", "25/06/2024"], "e": ["9999-12-31", None]})
    before = df.copy()
    Tenures.from_dates(df, start="s", end="e", as_of=AS_OF)
    pd.testing.assert_frame_equal(df, before)


# ---------------------------------------------------------------------- property-based
_day = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 12, 31))
_FORMATS = ["iso", "iso_slash", "dmy", "mdy", "ymd_int", "ymd_text", "datetime", "iso_time"]


def _render(d: dt.date, fmt: str):
    if fmt == "iso":
        return d.isoformat()
    if fmt == "iso_slash":
        return d.strftime("%Y/%m/%d")
    if fmt == "dmy":
        return d.strftime("%d/%m/%Y")
    if fmt == "mdy":
        return d.strftime("%m/%d/%Y")
    if fmt == "ymd_int":
        return int(d.strftime("%Y%m%d"))
    if fmt == "ymd_text":
        return d.strftime("%Y%m%d")
    if fmt == "iso_time":
        return d.isoformat() + "T08:15:00"
    return pd.Timestamp(d)


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(days=st.lists(_day, min_size=1, max_size=8), fmt=st.sampled_from(_FORMATS),
       stated=st.booleans(), missing=st.booleans(), sentinel=st.booleans())
def test_parsed_dates_are_right_or_refused(days, fmt, stated, missing, sentinel):
    """Whatever the format, a date is read exactly or the column is refused with a TenureDataError."""
    values = [_render(d, fmt) for d in days]
    if missing and fmt != "ymd_int":
        values.append(None)
    if sentinel and fmt in ("iso", "dmy", "mdy", "ymd_text"):
        values.append(_render(dt.date(9999, 12, 31), fmt))
    dayfirst = {"dmy": True, "mdy": False}.get(fmt) if stated else None
    try:
        out, beyond = parse_dates(pd.Series(values, dtype="int64" if fmt == "ymd_int" else object), "d",
                                  np.arange(len(values)), dayfirst=dayfirst)
    except TenureDataError as err:
        # only the day/month order may be left open, and only when no value settles it
        assert fmt in ("dmy", "mdy") and dayfirst is None
        first = [int(_render(d, fmt)[:2]) for d in days]
        second = [int(_render(d, fmt)[3:5]) for d in days]
        assert max(first) <= 12 and max(second) <= 12, str(err)
        return
    expected = [pd.Timestamp(d) + (pd.Timedelta(hours=8, minutes=15) if fmt == "iso_time" else pd.Timedelta(0))
                for d in days]
    assert list(out.iloc[:len(days)]) == expected
    assert not beyond[:len(days)].any()
    assert beyond[len(days):].sum() == (len(values) - len(days) - (1 if missing and fmt != "ymd_int" else 0))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.lists(st.one_of(st.text(max_size=12), st.integers(-10, 10 ** 9), st.none(), st.booleans()),
                     min_size=1, max_size=6))
def test_arbitrary_values_raise_only_clear_errors(text):
    """Arbitrary text and numbers: a parse or a TenureDataError, never another exception."""
    col = pd.Series(text, dtype=object)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out, _ = parse_dates(col, "d", np.arange(len(col)))
    except TenureDataError:
        return
    assert len(out) == len(col)
