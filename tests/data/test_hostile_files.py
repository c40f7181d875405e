"""Hostile files given to the reader (issue 16, item 7): each case fails with churnsurv's own message naming the
file, the problem and the fix, never with a parser's traceback or a silently wrong table."""

from __future__ import annotations

import shutil
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from churnsurv.cli import app
from churnsurv.data.datasets import read_records, read_tenures
from churnsurv.exceptions import TenureDataError

runner = CliRunner()
GOOD = "tenure,churned,city\n1,1,Zurich\n2,0,Bern\n3,1,Basel\n"


@pytest.fixture
def good_parquet(tmp_path):
    path = tmp_path / "good.parquet"
    pq.write_table(pa.table({"tenure": [1.0, 2.0, 3.0], "churned": [1, 0, 1]}), path)
    return path


def _workbook(path):
    """The skeleton of an .xlsx file: a ZIP archive holding xl/workbook.xml."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return path


# --------------------------------------------------------------------------- #
# Empty files
# --------------------------------------------------------------------------- #
def test_empty_file_says_it_is_empty(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b"")
    with pytest.raises(TenureDataError, match=r"'.*export.csv' is empty \(0 bytes\).*Check that the export finished"):
        read_records(path)


def test_blank_lines_only_say_no_columns(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("\n\n  \n")
    with pytest.raises(TenureDataError, match=r"holds no columns \(5 bytes of blank lines"):
        read_records(path)


def test_header_without_rows_names_the_columns(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("tenure,churned\n")
    with pytest.raises(TenureDataError, match=r"has columns \('tenure', 'churned'\) but no rows"):
        read_records(path)


def test_empty_parquet_file(tmp_path):
    path = tmp_path / "empty.parquet"
    path.write_bytes(b"")
    with pytest.raises(TenureDataError, match=r"is empty \(0 bytes\)"):
        read_records(path)


# --------------------------------------------------------------------------- #
# Encodings: UTF-8 first, then the problem and the fix
# --------------------------------------------------------------------------- #
def test_windows_encoding_names_byte_line_and_the_encoding_to_pass(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(GOOD.replace("Zurich", "Zürich").encode("cp1252"))
    with pytest.raises(TenureDataError) as info:
        read_records(path)
    message = str(info.value)
    assert "is not UTF-8 text: byte 0xfc on line 2" in message
    assert "'ü' in cp1252" in message
    assert "encoding='cp1252'" in message and "--encoding cp1252" in message and "CSV UTF-8" in message
    frame, _ = read_records(path, encoding="cp1252")
    assert frame["city"].tolist() == ["Zürich", "Bern", "Basel"]
    t = read_tenures(path, duration="tenure", event="churned", segments=["city"], encoding="cp1252")
    assert t.n_customers == 3


def test_bad_byte_far_into_a_file_is_located(tmp_path):
    rows = "".join(f"{i},0,Town{i}\n" for i in range(5000))
    path = tmp_path / "late.csv"
    path.write_bytes(("tenure,churned,city\n" + rows + "7,1,Gen\xe8ve\n").encode("latin-1"))
    with pytest.raises(TenureDataError, match=r"byte 0xe8 on line 5002"):
        read_records(path)


def test_utf16_file_is_named_as_such(tmp_path):
    path = tmp_path / "unicode.csv"
    path.write_bytes(GOOD.encode("utf-16"))
    with pytest.raises(TenureDataError, match=r"is UTF-16 text .*encoding='utf-16'"):
        read_records(path)
    assert read_records(path, encoding="utf-16")[0].shape == (3, 3)


def test_utf8_with_byte_order_mark_reads(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    assert read_records(path)[0].columns.tolist() == ["tenure", "churned", "city"]


def test_unknown_encoding_is_a_parameter_error(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text(GOOD)
    with pytest.raises(ValueError, match=r"'encoding' parameter of read_records .*Got 'utf-9' instead"):
        read_records(path, encoding="utf-9")


# --------------------------------------------------------------------------- #
# Not a CSV file: folders, workbooks, Parquet under the wrong name
# --------------------------------------------------------------------------- #
def test_folder_given_as_csv(tmp_path):
    folder = tmp_path / "exports.csv"
    folder.mkdir()
    with pytest.raises(TenureDataError, match=r"'.*exports.csv' is a folder, not a file"):
        read_records(folder)


def test_folder_of_parquet_files_reads_as_one_table(tmp_path, good_parquet):
    folder = tmp_path / "dataset"
    folder.mkdir()
    shutil.copy(good_parquet, folder / "part-0.parquet")
    shutil.copy(good_parquet, folder / "part-1.parquet")
    assert len(read_records(folder)[0]) == 6


@pytest.mark.parametrize("name", ["customers.xlsx", "customers.csv"])
def test_excel_workbook_given_as_csv(tmp_path, name):
    path = _workbook(tmp_path / name)
    with pytest.raises(TenureDataError, match=r"is an Excel workbook \(.xlsx\), not CSV text.*read_excel"):
        read_records(path)


def test_legacy_excel_workbook(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504)
    with pytest.raises(TenureDataError, match=r"legacy Excel workbook \(.xls\)"):
        read_records(path)


def test_zipped_csv_still_reads(tmp_path):
    path = tmp_path / "customers.csv.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("customers.csv", GOOD)
    assert read_records(path)[0].shape == (3, 3)


def test_parquet_named_csv(tmp_path, good_parquet):
    path = tmp_path / "really_parquet.csv"
    shutil.copy(good_parquet, path)
    with pytest.raises(TenureDataError, match=r"is a Parquet file named .csv: rename it to really_parquet.parquet"):
        read_records(path)


def test_csv_named_parquet(tmp_path):
    path = tmp_path / "really_csv.parquet"
    path.write_text(GOOD)
    with pytest.raises(TenureDataError, match=r"is not a Parquet file .*'PAR1'.*rename it to .csv"):
        read_records(path)


def test_truncated_parquet(tmp_path, good_parquet):
    path = tmp_path / "cut.parquet"
    content = good_parquet.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    with pytest.raises(TenureDataError, match=r"is a damaged or truncated Parquet file .*Export it again"):
        read_records(path)


def test_malformed_csv_names_the_line(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("tenure,churned\n1,1\n2,0,3,4\n")
    with pytest.raises(TenureDataError, match=r"not well-formed CSV: .*line 3.*quoted"):
        read_records(path)


def test_semicolon_separated_export_reads(tmp_path):
    path = tmp_path / "european.csv"
    path.write_text("tenure;churned\n1;1\n2;0\n")
    assert read_records(path)[0].columns.tolist() == ["tenure", "churned"]


# --------------------------------------------------------------------------- #
# Nested Parquet columns
# --------------------------------------------------------------------------- #
@pytest.fixture
def nested_parquet(tmp_path):
    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table({
        "id": ["c1", "c2", "c3"],
        "tenure": [1.0, 2.0, 3.0],
        "churned": [1, 0, 1],
        "plan": [{"name": "basic", "price": 10}, {"name": "pro", "price": 20}, None],
        "tags": [[1, 2], [3], [4]],
    }), path)
    return path


def test_nested_struct_column_used_as_segment(nested_parquet):
    with pytest.raises(TenureDataError) as info:
        read_tenures(nested_parquet, duration="tenure", event="churned", segments=["plan"], id="id")
    message = str(info.value)
    assert "Column 'plan' has 2 rows with nested struct/map values" in message
    assert "ids 'c1', 'c2'" in message and "flatten it first" in message and "json_normalize" in message
    assert info.value.column == "plan" and info.value.n_rows == 2


def test_nested_list_column_used_as_duration(nested_parquet):
    with pytest.raises(TenureDataError, match=r"Column 'tags' has 3 rows with nested list values.*explode"):
        read_tenures(nested_parquet, duration="tags", event="churned")


def test_unused_nested_columns_are_fine(nested_parquet):
    t = read_tenures(nested_parquet, duration="tenure", event="churned", id="id")
    assert t.n_customers == 3 and t.n_events == 2


# --------------------------------------------------------------------------- #
# The command line shows the same messages, without a traceback
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("case", ["empty", "folder", "workbook", "latin"])
def test_describe_hostile_files_print_one_message(tmp_path, case):
    path = tmp_path / "customers.csv"
    if case == "empty":
        path.write_bytes(b"")
    elif case == "folder":
        path.mkdir()
    elif case == "workbook":
        _workbook(path)
    else:
        path.write_bytes(GOOD.replace("Zurich", "Zürich").encode("latin-1"))
    res = runner.invoke(app, ["describe", str(path), "--duration", "tenure", "--event", "churned"])
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert res.stderr.startswith("error: File") or res.stderr.startswith("error: '")
    assert "Traceback" not in res.output and len(res.stderr.strip().splitlines()) <= 2
    if case == "latin":
        fixed = runner.invoke(app, ["describe", str(path), "--duration", "tenure", "--event", "churned",
                                    "--encoding", "cp1252"])
        assert fixed.exit_code == 0, fixed.output
        assert "3 rows" in fixed.output
