"""Bundled data sets: two public telco churn snapshots and the Fader-Hardie cohort counts.

The telco files are **snapshots**: one row per customer on the books during one reporting period. Customers
who left before the period are absent, so tenure is observed under left truncation. The loaders return the
usual untruncated reading by default (``truncate=False``, as most tutorials read these files) and the
left-truncated reading with ``truncate=True``; see ``data/README.md`` and the user guide for why they differ.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import pandas as pd

from churnsurv._validation import check_one_of, data_error, param_error
from churnsurv.data.causes import CauseMap
from churnsurv.data.tenures import Tenures
from churnsurv.exceptions import TenureDataError
from churnsurv.data.cdnow import cdnow_path, load_cdnow
from churnsurv.data.nhefs import load_nhefs

__all__ = [
    "DATASETS",
    "cdnow_path",
    "load_cdnow",
    "load_nhefs",
    "data_dir",
    "dataset_path",
    "file_sha256",
    "load_fader_hardie",
    "load_ibm_telco",
    "load_maven_telco",
    "load_raw",
    "read_records",
    "read_tenures",
]

#: Bundled files by short name.
DATASETS = {
    "maven_telco": "telecom_customer_churn.csv",
    "ibm_telco": "ibm_telco_customer_churn.csv",
    "maven_dictionary": "telecom_data_dictionary.csv",
}
#: Named datasets that are not files of data/ but are read by a loader from another package (not vendored).
EXTERNAL_DATASETS = {
    "cdnow": "CDNOW purchase logs, 23,570 customers (the lifetimes wheel; churnsurv.datasets.load_cdnow)",
    "cdnow_sample": "the 1/10 CDNOW sample, 2,357 customers (the lifetimes wheel)",
}

#: Default segment columns of each telco file.
MAVEN_SEGMENTS = ("Contract", "Internet Type", "Payment Method", "Offer", "Gender", "Married", "Paperless Billing")
IBM_SEGMENTS = ("Contract", "Internet Service", "Payment Method", "Senior Citizen", "Gender", "Paperless Billing")

#: Fader & Hardie (2007), customers alive at the start of years 0-12 of two cohorts of 1,000.
FADER_HARDIE_SURVIVORS = {
    "regular": (1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173),
    "high_end": (1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394),
}


def data_dir() -> Path:
    """Folder of the bundled data: ``$CHURNSURV_DATA`` if set, else the repository's ``data/``."""
    env = os.environ.get("CHURNSURV_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "data"


def dataset_path(name: str) -> Path:
    """Path of a bundled file by short name (see :data:`DATASETS`)."""
    check_one_of(name, "name", "dataset_path", DATASETS)
    path = data_dir() / DATASETS[name]
    if not path.exists():
        raise FileNotFoundError(
            f"Bundled data file {path} is missing. Run from a source checkout of churnsurv, or set CHURNSURV_DATA "
            "to the folder holding the bundled CSV files.")
    return path


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file, in hex (used by the figure manifest)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_raw(name: str) -> pd.DataFrame:
    """A bundled file as a raw DataFrame, exactly as published (no cleaning)."""
    # keep_default_na=False then explicit NA for empty cells only: the Maven file's "None" is a real level
    return pd.read_csv(dataset_path(name), keep_default_na=False, na_values=[""])


def read_records(source: str | os.PathLike, *, encoding: str | None = None) -> tuple[pd.DataFrame, Path]:
    """Read customer records from a bundled dataset name or a CSV/Parquet file.

    The file's content, not only its suffix, is checked first, so a wrong file fails with a message that names
    the file, the problem and the fix: an empty file, an Excel workbook, a Parquet file named ``.csv`` (or a
    CSV file named ``.parquet``), a damaged Parquet file, a folder, text that is not UTF-8, a CSV file with a
    header but no rows. A folder of ``.parquet`` files (a partitioned dataset) is read as one table.

    Parameters
    ----------
    source : str or path-like
        A bundled dataset name (see :data:`DATASETS`), a ``.csv`` file (also compressed: ``.csv.gz``, ``.zip``
        ...), a ``.parquet``/``.pq`` file, or a folder of Parquet files.
    encoding : str, optional
        Text encoding of a CSV file. By default UTF-8 (with or without a byte-order mark); when the file is not
        UTF-8 the error names the first offending byte and the encoding to pass (``"cp1252"`` for most Excel
        exports on Windows).

    Returns
    -------
    (pandas.DataFrame, pathlib.Path)
        The raw records and the file they came from (for checksums in the figure manifest).

    Raises
    ------
    FileNotFoundError
        If ``source`` is neither an existing file nor a bundled dataset name.
    TenureDataError
        If the file cannot be read as records (the cases above).
    """
    if isinstance(source, str) and source in DATASETS:
        path = dataset_path(source)
    else:
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(
                f"{str(source)!r} is neither a file nor a bundled dataset ({', '.join(DATASETS)}): tried "
                f"{str(path.absolute())!r}.")
    if path.is_dir():
        frame = _read_parquet_folder(path)
    elif path.suffix.lower() in _PARQUET_SUFFIXES:
        frame = _read_parquet_file(path)
    else:
        frame = _read_csv_file(path, encoding)
    if len(frame) == 0:
        columns = ", ".join(repr(str(c)) for c in frame.columns[:10])
        raise TenureDataError(
            f"File {str(path)!r} has columns ({columns}) but no rows: there are no customer records to read. "
            "Check that the export finished, or give the right file.")
    return frame, path


_PARQUET_SUFFIXES = (".parquet", ".pq")
_COMPRESSED_SUFFIXES = (".gz", ".bz2", ".zip", ".xz", ".zst", ".tar")
_PARQUET_MAGIC = b"PAR1"


def _head(path: Path, n: int = 8) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(n)


def _excel_kind(path: Path, head: bytes) -> str | None:
    """"an Excel workbook (.xlsx)" / "(.xls)" when the bytes say so, else None."""
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "a legacy Excel workbook (.xls)"
    if head.startswith(b"PK\x03\x04"):
        import zipfile

        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            return None
        if any(name.startswith("xl/") for name in names):
            return "an Excel workbook (.xlsx)"
        if any(name.startswith("content.xml") for name in names):
            return "an OpenDocument spreadsheet (.ods)"
    return None


def _read_parquet_file(path: Path) -> pd.DataFrame:
    size = path.stat().st_size
    if size == 0:
        raise TenureDataError(f"File {str(path)!r} is empty (0 bytes): there are no records to read. Check that "
                              "the export finished, or give the right file.")
    head = _head(path)
    excel = _excel_kind(path, head)
    if excel:
        raise TenureDataError(
            f"File {str(path)!r} is {excel}, not a Parquet file. Save the sheet as CSV (UTF-8) or Parquet, or read "
            "it with pandas.read_excel and pass the frame to Tenures.from_frame.")
    if not head.startswith(_PARQUET_MAGIC):
        looks = " It looks like text (CSV?): if it is CSV, rename it to .csv." if _looks_like_text(head) else ""
        raise TenureDataError(
            f"File {str(path)!r} is named {path.suffix} but is not a Parquet file (it does not start with the "
            f"Parquet marker 'PAR1').{looks}")
    try:
        return pd.read_parquet(path)
    except Exception as err:  # pyarrow raises ArrowInvalid / OSError for a damaged footer
        raise TenureDataError(
            f"File {str(path)!r} is a damaged or truncated Parquet file ({size:,} bytes; the reader says: "
            f"{_first_line(err)}). Export it again.") from err


def _read_parquet_folder(path: Path) -> pd.DataFrame:
    parts = sorted(path.rglob("*.parquet")) + sorted(path.rglob("*.pq"))
    if not parts:
        raise TenureDataError(
            f"{str(path)!r} is a folder, not a file. Give a CSV or Parquet file (or a folder of .parquet files, a "
            "partitioned dataset).")
    try:
        return pd.read_parquet(path)
    except Exception as err:
        raise TenureDataError(
            f"The folder {str(path)!r} holds {len(parts)} Parquet file(s) that cannot be read as one table (the "
            f"reader says: {_first_line(err)}). Check that they share one schema, or give one file.") from err


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(32 <= b < 127 or b in (9, 10, 13) for b in head)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _read_csv_file(path: Path, encoding: str | None) -> pd.DataFrame:
    size = path.stat().st_size
    compressed = path.suffix.lower() in _COMPRESSED_SUFFIXES
    if size == 0:
        raise TenureDataError(f"File {str(path)!r} is empty (0 bytes): there are no records to read. Check that "
                              "the export finished, or give the right file.")
    head = _head(path)
    if not compressed:
        excel = _excel_kind(path, head)
        if excel:
            raise TenureDataError(
                f"File {str(path)!r} is {excel}, not CSV text. Save the sheet as 'CSV UTF-8' in Excel, or read it "
                "with pandas.read_excel and pass the frame to Tenures.from_frame.")
        if head.startswith(_PARQUET_MAGIC):
            raise TenureDataError(
                f"File {str(path)!r} is a Parquet file named {path.suffix or 'without a suffix'}: rename it to "
                f"{path.stem}.parquet so that it is read as Parquet.")
        if encoding is None and head[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise TenureDataError(
                f"File {str(path)!r} is UTF-16 text (it starts with a UTF-16 byte-order mark), not UTF-8. Re-save "
                "it as UTF-8 (in Excel: 'CSV UTF-8'), or pass encoding='utf-16' (churnsurv describe --encoding "
                "utf-16).")
    try:
        # keep_default_na=False then explicit NA for empty cells only: a level named "None" is a level
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""], encoding=encoding or "utf-8")
        if frame.shape[1] == 1:  # a semicolon- or tab-separated export (European Excel): read it with that delimiter
            header = str(frame.columns[0])
            sep = next((d for d in (";", "\t") if d in header), None)
            if sep is not None:
                frame = pd.read_csv(path, keep_default_na=False, na_values=[""], encoding=encoding or "utf-8",
                                    sep=sep)
        return frame
    except UnicodeDecodeError as err:
        raise _encoding_error(path, encoding or "utf-8", err) from err
    except pd.errors.EmptyDataError as err:
        raise TenureDataError(
            f"File {str(path)!r} holds no columns ({size:,} bytes of blank lines or whitespace): there are no "
            "records to read.") from err
    except pd.errors.ParserError as err:
        raise TenureDataError(
            f"File {str(path)!r} is not well-formed CSV: {_first_line(err)}. Check the delimiter (churnsurv reads "
            "comma-, semicolon- or tab-separated files) and that text fields holding commas are quoted.") from err
    except LookupError as err:  # an unknown encoding name
        raise ValueError(f"The 'encoding' parameter of read_records must be a text encoding Python knows, such as "
                         f"'utf-8', 'cp1252' or 'latin-1'. Got {encoding!r} instead.") from err


def _encoding_error(path: Path, encoding: str, err: UnicodeDecodeError) -> TenureDataError:
    """Where the file stops being ``encoding`` and which encoding to pass instead."""
    raw = path.read_bytes()
    # pandas decodes in chunks: locate the first bad byte in the whole file
    try:
        raw.decode(encoding)
        start = err.start
    except UnicodeDecodeError as whole:
        start = whole.start
    except LookupError:
        start = err.start
    line = raw[:start].count(b"\n") + 1
    byte = raw[start:start + 1]
    suggestion = "latin-1"
    with contextlib.suppress(UnicodeDecodeError):
        raw.decode("cp1252")
        suggestion = "cp1252"
    shown = byte.decode(suggestion, errors="replace")
    return TenureDataError(
        f"File {str(path)!r} is not {encoding.upper()} text: byte 0x{byte.hex()} on line {line} cannot be "
        f"decoded (it reads as {shown!r} in {suggestion}). Re-save the file as UTF-8 (in Excel: 'CSV UTF-8'), or "
        f"pass encoding={suggestion!r} (churnsurv describe --encoding {suggestion}).")


def _check_flat(frame: pd.DataFrame, columns, path: Path, id_column: str | None = None) -> None:
    """Nested values (Parquet struct/list/map columns) in a column the tenure table uses are an error."""
    import numpy as np

    for column in columns:
        if column is None or column not in frame.columns or frame[column].dtype != object:
            continue
        values = frame[column]
        nested = values.map(lambda v: isinstance(v, (dict, list, tuple, set, np.ndarray))).to_numpy(dtype=bool)
        if nested.any():
            usable_id = id_column is not None and id_column != column and id_column in frame.columns
            ids = (frame[id_column] if usable_id else frame.index).to_numpy()
            kind = type(values[nested].iloc[0]).__name__
            kind = {"dict": "struct/map", "ndarray": "list", "list": "list", "tuple": "list"}.get(kind, kind)
            how = (f"frame[{column!r}].str['<field>'] or pandas.json_normalize" if kind == "struct/map"
                   else f"frame[{column!r}].str[0] or frame.explode({column!r})")
            raise data_error(
                column, f"nested {kind} values instead of one number or label per customer", nested,
                ids,
                f"File {str(path)!r} stores it as a nested Parquet column: flatten it first (e.g. "
                f"{how}) and pass the frame to Tenures.from_frame.")


_NAMED_MAPS = {"maven_categories": CauseMap.maven_categories, "telco_reasons": CauseMap.telco_reasons}


def read_tenures(source, *, duration: str | None = None, event: str | None = None, entry: str | None = None,
                 status: str | None = None, period: float | None = None, truncate: bool = False,
                 churn_timing="middle", churned="Churned", joined="Joined", stayed="Stayed", cause: str | None = None,
                 cause_map=None, segments=(), values=(), id: str | None = None, censored=None,
                 time_unit: str = "month", start: str | None = None, end: str | None = None, as_of=None,
                 observed_from=None, encoding: str | None = None) -> Tenures:
    """Read a file (or bundled dataset) straight into a tenure table: the door notebooks and the CLI use.

    With ``start`` (sign-up date column), ``end`` (defection date column) and ``as_of`` (the data's cut-off) the
    records are read from dates (:meth:`Tenures.from_dates`); with ``status`` (and ``period``) as a churn snapshot
    (:meth:`Tenures.from_snapshot`, truncated when ``truncate=True``); otherwise as durations
    (:meth:`Tenures.from_frame`).

    Parameters
    ----------
    source : str or path
        A bundled dataset name (``"maven_telco"``, ``"ibm_telco"``) or a CSV/Parquet file.
    cause_map : {"maven_categories", "telco_reasons"}, mapping, CauseMap or None
        How raw cause labels map onto cause keys; None keeps the raw labels.
    duration, event, entry, cause, id, segments, values, censored, time_unit
        As in :meth:`Tenures.from_frame`.
    status, period, truncate, churn_timing, churned, joined, stayed
        As in :meth:`Tenures.from_snapshot`; ``status`` and ``period`` select the snapshot reading.
    start, end, as_of, observed_from
        As in :meth:`Tenures.from_dates` (``time_unit`` is its ``unit``); ``start`` selects the dates reading.
    encoding : str, optional
        Text encoding of a CSV file, as in :func:`read_records` (UTF-8 by default).

    Returns
    -------
    Tenures
        With ``source`` set to the file path.
    """
    frame, path = read_records(source, encoding=encoding)
    _check_flat(frame, [duration, event, entry, status, cause, id, start, end, *segments, *values], path, id)
    if isinstance(cause_map, str):
        check_one_of(cause_map, "cause_map", "read_tenures", _NAMED_MAPS)
        cause_map = _NAMED_MAPS[cause_map]()
    if path.name == DATASETS["maven_telco"] and "Internet Type" in frame:
        # the data dictionary says Internet Type is "None" for customers without internet; the file leaves it blank
        frame = frame.assign(**{"Internet Type": frame["Internet Type"].fillna("None")})
    common = dict(cause=cause, cause_map=cause_map, segments=list(segments), values=list(values), id=id,
                  time_unit=time_unit)
    if start is not None:
        if end is None or as_of is None:
            missing = "end" if end is None else "as_of"
            raise param_error(missing, "read_tenures", "given with 'start' (dates reading)", None)
        if time_unit not in ("month", "week", "day"):
            raise param_error("time_unit", "read_tenures", "one of 'month', 'week', 'day' with dates", time_unit)
        t = Tenures.from_dates(frame, start=start, end=end, as_of=as_of, unit=time_unit,
                               observed_from=observed_from, event=event, **{k: v for k, v in common.items()
                                                                            if k != "time_unit"})
    elif duration is None:
        raise param_error("duration", "read_tenures", "a column name (or give start, end and as_of for dates)",
                          None)
    elif status is not None:
        if period is None:
            raise param_error("period", "read_tenures", "the snapshot length when 'status' is given", period)
        t = Tenures.from_snapshot(frame, tenure=duration, status=status, period=period, truncate=truncate,
                                  churn_timing=churn_timing, churned=churned, joined=joined, stayed=stayed, **common)
    else:
        t = Tenures.from_frame(frame, duration=duration, event=event, entry=entry, censored=censored, **common)
    t.source = str(path)
    return t


def load_maven_telco(*, truncate: bool = False, period: float = 3, causes: str = "category",
                     segments=MAVEN_SEGMENTS, raw: bool = False, churn_timing="middle",
                     values=("Monthly Charge",)):
    """The Maven Analytics telecom churn snapshot (California, fiscal Q2 2022) as a tenure table.

    7,043 customers, 1,869 defections in the quarter with a ``Churn Category`` (Competitor 841,
    Dissatisfaction 321, Attitude 314, Price 211, Other 182) and 20 ``Churn Reason`` values.

    Parameters
    ----------
    truncate : bool, default False
        False: the usual reading, every customer followed from sign-up. True: the snapshot reading, each
        customer observed from the quarter's start (entry = max(tenure - period, 0); joiners at 0; defectors
        from ``churn_timing`` before they left).
    period : float, default 3
        Length of the snapshot period in months (the data dictionary says fiscal Q2 2022: 3 months).
    causes : {"category", "reason", "raw"}
        Map ``Churn Category`` onto the default taxonomy (competitor, price, service, attitude, unknown), map
        the 20 ``Churn Reason`` values onto it (adds product and natural), or keep the raw categories.
    segments : sequence of str
        Segment columns to carry.
    raw : bool
        Return the raw DataFrame instead.
    churn_timing : {"middle", "end", "start"} or float, default "middle"
        When in the quarter a defector left (see :meth:`Tenures.from_snapshot`); only with ``truncate=True``.
    values : sequence of str, default ("Monthly Charge",)
        Value columns to carry. ``Total Revenue`` (and the other cumulative columns) grow with tenure: they are
        measured at the snapshot, not at sign-up, so they are not offered by default; as a covariate they leak
        the outcome (see :func:`churnsurv.tenure_association`).

    Returns
    -------
    Tenures
        Time unit "month"; ``truncation`` set when truncated.

    Examples
    --------
    >>> t = load_maven_telco()
    >>> t.n_customers, t.n_events
    (7043, 1869)
    """
    check_one_of(causes, "causes", "load_maven_telco", ("category", "reason", "raw"))
    if raw:
        return load_raw("maven_telco")
    t = read_tenures(
        "maven_telco", duration="Tenure in Months", status="Customer Status", period=period, truncate=truncate,
        churn_timing=churn_timing, id="Customer ID", cause="Churn Reason" if causes == "reason" else "Churn Category",
        cause_map={"category": "maven_categories", "reason": "telco_reasons", "raw": None}[causes],
        segments=list(segments), values=list(values), time_unit="month")
    t.source = "maven_telco"
    return t


def load_ibm_telco(*, truncate: bool = False, period: float | None = None, causes: str = "reason",
                   segments=IBM_SEGMENTS, raw: bool = False, churn_timing="middle", values=("Monthly Charges",)):
    """The IBM Cognos Analytics telco churn sample (33-column release) as a tenure table.

    7,043 customers, ``Churn Value`` 1 for 1,869 who left during the reporting period, with one of 20
    ``Churn Reason`` values, mapped onto the default taxonomy.

    Parameters
    ----------
    truncate : bool, default False
        The snapshot reading (left truncation), which needs ``period``.
    period : float, optional
        Length of the reporting period in months. The release says churned customers left "during the
        reporting period" without stating its length, so churnsurv does not guess: give it (e.g. 1 or 3)
        to read the file as a snapshot.
    causes : {"reason", "raw"}
        Map ``Churn Reason`` onto the taxonomy, or keep the 20 raw reasons.
    segments : sequence of str
    raw : bool
        Return the raw DataFrame instead.
    churn_timing : {"middle", "end", "start"} or float, default "middle"
        When in the period a defector left (see :meth:`Tenures.from_snapshot`); only with ``truncate=True``.
    values : sequence of str, default ("Monthly Charges",)
        Value columns to carry. ``Total Charges`` and ``CLTV`` are measured at the snapshot and grow with tenure
        (``CLTV`` is IBM's own score), so they are not offered by default (see
        :func:`churnsurv.tenure_association`).

    Returns
    -------
    Tenures
        Time unit "month".
    """
    check_one_of(causes, "causes", "load_ibm_telco", ("reason", "raw"))
    frame = load_raw("ibm_telco")
    if raw:
        return frame
    # 'Total Charges' is blank for the 11 customers with tenure 0: a missing value, kept as NaN
    frame = frame.assign(**{"Total Charges": pd.to_numeric(frame["Total Charges"], errors="coerce")})
    cause_map = CauseMap.telco_reasons() if causes == "reason" else None
    kwargs = dict(id="CustomerID", cause="Churn Reason", cause_map=cause_map, segments=list(segments),
                  values=list(values), time_unit="month")
    if truncate:
        if period is None:
            raise param_error("period", "load_ibm_telco", "the reporting period in months when truncate=True", period)
        status = frame["Churn Value"].map({1: "Churned", 0: "Stayed"})
        t = Tenures.from_snapshot(frame.assign(__status=status), tenure="Tenure Months", status="__status",
                                  period=period, joined=[], churn_timing=churn_timing, **kwargs)
    else:
        t = Tenures.from_frame(frame, duration="Tenure Months", event="Churn Value", **kwargs)
    t.source = "ibm_telco"
    return t


def load_fader_hardie(*, long: bool = False) -> pd.DataFrame:
    """Survivor counts of two cohorts from Fader & Hardie (2007), "How to project customer retention".

    Parameters
    ----------
    long : bool
        False: one row per year with columns ``year``, ``regular``, ``high_end``. True: tidy
        ``segment, year, n_alive, n_lost`` (``n_lost`` = customers lost during the year before).

    References
    ----------
    .. [1] Fader, P. S. and Hardie, B. G. S. (2007). How to project customer retention. Journal of
       Interactive Marketing 21(1), 76-90.
    """
    wide = pd.DataFrame({"year": range(13), **{k: list(v) for k, v in FADER_HARDIE_SURVIVORS.items()}})
    if not long:
        return wide
    out = wide.melt(id_vars="year", var_name="segment", value_name="n_alive")
    out = out[["segment", "year", "n_alive"]].sort_values(["segment", "year"], kind="stable").reset_index(drop=True)
    out["n_lost"] = (-out.groupby("segment")["n_alive"].diff()).fillna(0).astype(int)
    return out
