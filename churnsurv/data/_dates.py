"""Reading date columns without guessing (used by :meth:`churnsurv.Tenures.from_dates`).

The rules, applied to the distinct values of a column (dates repeat, so this is fast):

* **Datetime columns** are used as they are. A **time-zone-aware** column is read in its own wall-clock time
  (the calendar its customers live in): the zone is dropped, the local date kept. Text or objects with
  **mixed offsets** have no single calendar: they are converted to UTC, with a warning.
* **Text** in ISO order (``2024-01-31``, ``2024/01/31``, with or without a time) is read as such. Day/month
  order (``03/04/2024``) is **never guessed**: ``dayfirst`` or ``date_format`` decides; without them the order is
  detected from the values when some first field exceeds 12 (day first) or some second field does (month
  first), and refused when no value settles it or values contradict each other. Two-digit years are refused
  unless ``date_format`` is given. Other text (``"5 Jan 2024"``) goes to pandas' parser, with ``dayfirst``.
* **Numbers** are never read as nanoseconds: 8-digit integers that are valid ``yyyymmdd`` dates are read as
  such; other numbers (spreadsheet serial days, epoch seconds) are refused with the conversion to write, since
  their origin (1899-12-30 or 1904-01-01; seconds or milliseconds) cannot be told from the values.
* **Open-end sentinels** beyond pandas' date range (year 2262 or later, e.g. ``9999-12-31``) are returned as
  missing with a separate mask, so that the caller can give them a rule (an end date that far means "no end
  yet").
"""

from __future__ import annotations

import datetime as _dt
import re
import warnings

import numpy as np
import pandas as pd

from churnsurv._validation import data_error, find_stack_level
from churnsurv.exceptions import ChurnsurvWarning, TenureDataError

__all__ = ["detect_dayfirst", "parse_date_scalar", "parse_dates"]

_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})((?:[T ].*)?)$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})((?:[T ].*)?)$")
_YMD8 = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
_MAX_YEAR = 2261  # pandas' nanosecond range ends in April 2262
_SERIAL_MAX = 2958465  # 9999-12-31 as a spreadsheet serial day


def _offset(rest: str) -> str | None:
    """The UTC offset written at the end of a time part, normalised (``Z`` is ``+00:00``); None when naive."""
    if ":" not in rest:
        return None
    m = _OFFSET.search(rest.strip())
    if m is None:
        return None
    off = m.group(1)
    if off == "Z":
        return "+00:00"
    return off if ":" in off else f"{off[:3]}:{off[3:]}"


def _iso_text(uniques: list[str], name: str, dayfirst, ids_for) -> tuple[list, np.ndarray]:
    """ISO strings for text uniques (None where the text is not a numeric date) and the beyond-range mask."""
    n = len(uniques)
    iso: list = [None] * n
    beyond = np.zeros(n, dtype=bool)
    dmy = []
    for i, s in enumerate(uniques):
        m = _ISO.match(s)
        if m:
            y, mo, d, rest = m.groups()
            iso[i] = f"{y}-{int(mo):02d}-{int(d):02d}{rest}"
            beyond[i] = int(y) > _MAX_YEAR
            continue
        m = _YMD8.match(s)
        if m:
            y, mo, d = m.groups()
            iso[i] = f"{y}-{mo}-{d}"
            beyond[i] = int(y) > _MAX_YEAR
            continue
        m = _DMY.match(s)
        if m:
            dmy.append((i, m.groups()))
    if dmy:
        two_digit = [i for i, g in dmy if len(g[2]) == 2]
        if two_digit:
            raise ids_for(two_digit, "two-digit years (e.g. " + repr(uniques[two_digit[0]]) + ")",
                          "A two-digit year could be 19xx or 20xx: pass date_format (e.g. '%d/%m/%y') to say how "
                          "to read it, or write four-digit years.")
        first = np.array([int(g[0]) for _, g in dmy])
        second = np.array([int(g[1]) for _, g in dmy])
        if dayfirst is None:
            day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
            if day_first and month_first:
                bad = [i for (i, _), a, b in zip(dmy, first, second, strict=True) if b > 12]
                raise ids_for(bad, "dates whose day/month order contradicts the others (e.g. "
                              f"{uniques[bad[0]]!r} is month-first while "
                              f"{uniques[dmy[int(np.argmax(first > 12))][0]]!r} is day-first)",
                              "Fix the mixed rows, or pass date_format to read one order and refuse the other.")
            if not day_first and not month_first:
                raise ids_for([i for i, _ in dmy], f"dates whose day/month order is ambiguous (e.g. "
                              f"{uniques[dmy[0][0]]!r}: no day above 12 tells the order)",
                              "Pass dayfirst=True (31/12/2024) or dayfirst=False (12/31/2024), or date_format.")
            dayfirst = day_first
        for (i, (a, b, y, rest)) in dmy:
            d, mo = (a, b) if dayfirst else (b, a)
            iso[i] = f"{y}-{int(mo):02d}-{int(d):02d}{rest}"
            beyond[i] = int(y) > _MAX_YEAR
    return iso, beyond


def _wall_clock(values: pd.Series | pd.DatetimeIndex, offsets: set, name: str) -> pd.DatetimeIndex:
    """Naive timestamps from aware ones: local wall-clock for one zone/offset, UTC (with a warning) for several."""
    idx = pd.DatetimeIndex(values)
    if idx.tz is None:
        return idx
    if len(offsets) > 1:
        warnings.warn(
            f"Column {name!r} mixes time-zone offsets ({', '.join(sorted(offsets)[:4])}): its dates are converted "
            "to UTC before the zone is dropped (a time near midnight may move to the next or previous day). Convert "
            "the column to one zone yourself to keep local dates.", ChurnsurvWarning, stacklevel=find_stack_level())
        return idx.tz_convert("UTC").tz_localize(None)
    return idx.tz_localize(None)


def _parse_uniques(uniques: list, name: str, dayfirst, date_format, ids_for) -> tuple[np.ndarray, np.ndarray]:
    """Datetime64[ns] values and the beyond-range mask for the distinct values of an object or text column."""
    n = len(uniques)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    beyond = np.zeros(n, dtype=bool)
    text_i = [i for i, u in enumerate(uniques) if isinstance(u, str)]
    other_i = [i for i, u in enumerate(uniques) if not isinstance(u, str)]
    # objects: datetime, date, Timestamp, numpy datetime64; numbers in an object column are refused
    if other_i:
        num = [i for i in other_i if isinstance(uniques[i], (bool, np.bool_, int, float, np.integer, np.floating))]
        if num:
            raise ids_for(num, f"numbers among dates (e.g. {uniques[num[0]]!r})",
                          "Convert the numbers to dates before building the table (see the reliability guide).")
        objs = [uniques[i] for i in other_i]
        aware = [o for o in objs if isinstance(o, _dt.datetime) and o.tzinfo is not None]
        if aware and len(aware) != len(objs):
            raise ids_for(other_i, "dates with a time zone beside dates without one",
                          "Localize the naive dates (tz_localize) or drop the zone (tz_localize(None)).")
        for i, o in zip(other_i, objs, strict=True):
            y = getattr(o, "year", None)
            beyond[i] = y is not None and y > _MAX_YEAR
        ok = [i for i in other_i if not beyond[i]]
        if ok:
            vals = [uniques[i] for i in ok]
            try:
                if aware:
                    offsets = {str(v.utcoffset()) for v in vals}
                    idx = _wall_clock(pd.to_datetime(vals, utc=len(offsets) > 1), offsets, name)
                else:
                    idx = pd.DatetimeIndex(pd.to_datetime(vals, errors="coerce"))
            except (TypeError, ValueError) as err:
                raise TenureDataError(f"Column {name!r} cannot be read as dates: {err}", column=name) from err
            out[ok] = idx.as_unit("ns").to_numpy()
    if not text_i:
        return out, beyond
    texts = [uniques[i].strip() for i in text_i]
    if date_format is not None:
        years = [re.findall(r"\d{4}", t) for t in texts]
        far = np.array([bool(ys) and max(int(y) for y in ys) > _MAX_YEAR for ys in years])
        parsed = pd.to_datetime(pd.Series([t for t, f in zip(texts, far, strict=True) if not f], dtype=object),
                                format=date_format, errors="coerce")
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            parsed = pd.Series(_wall_clock(parsed, {str(parsed.dt.tz)}, name))
        sel = np.asarray(text_i)[~far]
        out[sel] = parsed.to_numpy(dtype="datetime64[ns]")
        beyond[np.asarray(text_i)[far]] = True
        return out, beyond
    iso, far = _iso_text(texts, name, dayfirst, lambda rows, problem, fix: ids_for(
        [text_i[r] for r in rows], problem, fix))
    iso_rows = [r for r, s in enumerate(iso) if s is not None and not far[r]]
    for r in np.flatnonzero(far):
        beyond[text_i[r]] = True
    if iso_rows:
        offs = [_offset(iso[r][10:]) for r in iso_rows]
        aware = {o for o in offs if o is not None}
        if aware and any(o is None for o in offs):
            bad = [text_i[r] for r, o in zip(iso_rows, offs, strict=True) if o is None]
            raise ids_for(bad, "dates without a time zone beside dates with one",
                          "Write every date with its offset, or none.")
        vals = pd.Series([iso[r] for r in iso_rows], dtype=object)
        parsed = pd.to_datetime(vals, format="ISO8601", errors="coerce", utc=len(aware) > 1)
        if aware:
            parsed = pd.Series(_wall_clock(parsed, aware, name))
        out[np.asarray([text_i[r] for r in iso_rows])] = parsed.to_numpy(dtype="datetime64[ns]")
    rest = [r for r, s in enumerate(iso) if s is None and not far[r]]
    if rest:  # month names and other text: pandas' parser (dateutil), per value
        vals = pd.Series([texts[r] for r in rest], dtype=object)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                parsed = pd.to_datetime(vals, format="mixed", dayfirst=bool(dayfirst), errors="coerce")
            except (TypeError, ValueError):  # e.g. offsets mixed with naive text
                parsed = pd.Series(pd.NaT, index=vals.index)
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            parsed = pd.Series(_wall_clock(parsed, {str(parsed.dt.tz)}, name))
        elif parsed.dtype == object:
            parsed = pd.Series(pd.NaT, index=vals.index)
        out[np.asarray([text_i[r] for r in rest])] = parsed.to_numpy(dtype="datetime64[ns]")
    return out, beyond


def _numbers(values: np.ndarray, name: str, ids_for) -> tuple[np.ndarray, np.ndarray]:
    """yyyymmdd integers as dates; other numbers refused (never read as nanoseconds)."""
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
    beyond = np.zeros(len(values), dtype=bool)
    v = values.astype(float)
    whole = np.isfinite(v) & (np.mod(v, 1) == 0)
    ymd = whole & (v >= 1_000_01_01) & (v <= 9999_12_31)
    if ymd.all():
        iv = v.astype(np.int64)
        beyond = iv // 10000 > _MAX_YEAR
        text = pd.Series([f"{x:08d}" for x in iv[~beyond]], dtype=object)
        parsed = pd.to_datetime(text, format="%Y%m%d", errors="coerce").to_numpy(dtype="datetime64[ns]")
        bad = pd.isna(parsed)
        if bad.any():
            rows = np.flatnonzero(~beyond)[bad]
            raise ids_for(list(rows), f"8-digit numbers that are not yyyymmdd dates (e.g. {int(iv[rows[0]])})",
                          "Integers are read as yyyymmdd; fix these entries.")
        out[~beyond] = parsed
        return out, beyond
    if (whole & (v >= 1) & (v <= _SERIAL_MAX)).all():
        raise ids_for(list(range(len(values))), f"numbers where dates are expected (e.g. {values[0]:g}): "
                      "they look like spreadsheet serial days",
                      "Their origin cannot be told from the values: convert them yourself, e.g. "
                      "pd.to_datetime(col, unit='D', origin='1899-12-30') for Excel on Windows "
                      "(origin='1904-01-01' for old Mac files).")
    raise ids_for(list(range(len(values))), f"numbers where dates are expected (e.g. {values[0]:g})",
                  "Numbers are read as dates only as yyyymmdd; convert epoch times yourself, e.g. "
                  "pd.to_datetime(col, unit='s').")


def parse_dates(col: pd.Series, name: str, ids, *, dayfirst: bool | None = None,
                date_format: str | None = None) -> tuple[pd.Series, np.ndarray]:
    """A date column as naive ``datetime64[ns]`` (aligned with ``col``) and the mask of open-end sentinels.

    Missing values stay missing (NaT). Rows beyond pandas' date range (year 2262 or later, e.g. the open-end
    sentinel 9999-12-31) are NaT in the result and True in the mask. Values that are not dates raise a
    :class:`~churnsurv.TenureDataError` naming the rows; see the module docstring for the rules.
    """
    if dayfirst is not None and not isinstance(dayfirst, (bool, np.bool_)):
        raise TypeError(f"The 'dayfirst' parameter must be True, False or None. Got {dayfirst!r} instead.")
    if date_format is not None and not isinstance(date_format, str):
        raise TypeError(f"The 'date_format' parameter must be a str such as '%d/%m/%Y'. Got {date_format!r} "
                        "instead.")
    n = len(col)
    if pd.api.types.is_bool_dtype(col):
        raise data_error(name, "booleans where dates are expected", np.ones(n, bool), ids, "Pass a date column.")
    dtype = col.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        vals = _wall_clock(col, {str(dtype.tz)}, name)
        return pd.Series(vals.as_unit("ns"), index=col.index), np.zeros(n, dtype=bool)
    if pd.api.types.is_datetime64_dtype(dtype):
        arr = col.to_numpy()
        beyond = ~np.isnat(arr) & (arr > np.datetime64(pd.Timestamp.max.floor("D")))
        arr = np.where(beyond, np.datetime64("NaT"), arr).astype("datetime64[ns]")
        return pd.Series(arr, index=col.index), beyond

    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    codes = np.asarray(codes, dtype=np.int64)
    uniques_l = list(np.asarray(uniques, dtype=object))

    def ids_for(unique_rows, problem, fix):
        sel = np.zeros(len(uniques_l) + 1, dtype=bool)
        sel[list(unique_rows)] = True
        return data_error(name, problem, sel[codes], ids, fix)

    if pd.api.types.is_numeric_dtype(dtype):
        vals, beyond_u = _numbers(np.asarray(uniques, dtype=float), name, ids_for)
    else:
        blank = [i for i, u in enumerate(uniques_l) if isinstance(u, str) and u.strip() == ""]
        vals, beyond_u = _parse_uniques(uniques_l, name, dayfirst, date_format, ids_for)
        bad_u = pd.isna(vals) & ~beyond_u
        bad_u[blank] = False
        if bad_u.any():
            examples = ", ".join(repr(uniques_l[i]) for i in np.flatnonzero(bad_u)[:3])
            hint = f" with date_format={date_format!r}" if date_format is not None else ""
            raise ids_for(np.flatnonzero(bad_u), f"values that are not dates{hint} (e.g. {examples})",
                          "Use ISO dates such as 2024-01-31, or pass date_format.")
    vals_ext = np.append(vals, np.datetime64("NaT")).astype("datetime64[ns]")
    beyond_ext = np.append(beyond_u, False)
    return pd.Series(vals_ext[codes], index=col.index), beyond_ext[codes]


def parse_date_scalar(value, name: str, *, dayfirst: bool | None = None, date_format: str | None = None
                      ) -> pd.Timestamp:
    """One date parameter (``as_of``, ``observed_from``) read with the same rules as a date column."""
    if isinstance(value, (pd.Timestamp, _dt.datetime, _dt.date, np.datetime64)):
        ts = pd.Timestamp(value)
        return ts.tz_localize(None) if ts.tz is not None else ts
    if isinstance(value, str):
        if _ISO.match(value.strip()):
            date_format = None  # an ISO date parameter is read as such whatever the columns' format
        vals, beyond = parse_dates(pd.Series([value], dtype=object), name, np.array([name], dtype=object),
                                   dayfirst=dayfirst, date_format=date_format)
        if beyond[0] or pd.isna(vals.iloc[0]):
            raise ValueError(f"The '{name}' parameter must be a date within pandas' range. Got {value!r} instead.")
        return pd.Timestamp(vals.iloc[0])
    raise TypeError(f"The '{name}' parameter must be a date (str, datetime or Timestamp). Got {value!r} instead.")


def detect_dayfirst(*cols: pd.Series) -> bool | None:
    """The day/month order that the text values of several columns settle together (one file, one writer).

    True when some first field of a ``dd/mm/yyyy``-like value exceeds 12 and no second field does, False for the
    reverse, None when no value settles it or the values contradict each other (:func:`parse_dates` then refuses
    them with the rows at fault).
    """
    day_first = month_first = False
    for col in cols:
        if col.dtype != object and not pd.api.types.is_string_dtype(col):
            continue
        for u in pd.unique(col.dropna()):
            if isinstance(u, str):
                m = _DMY.match(u.strip())
                if m:
                    day_first |= int(m.group(1)) > 12
                    month_first |= int(m.group(2)) > 12
    if day_first == month_first:
        return None
    return day_first
