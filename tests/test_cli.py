"""The command line: describe bundled data and files, clear errors, the tenure-confounding warning."""

import pandas as pd
from typer.testing import CliRunner

from churnsurv import datasets
from churnsurv.cli import app

runner = CliRunner()


def test_help_lists_commands():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    assert "describe" in res.output


def test_describe_bundled_maven_truncated():
    res = runner.invoke(app, ["describe", "maven_telco", "--segment", "Contract", "--period", "3", "--truncate"])
    assert res.exit_code == 0, res.output
    n = datasets.load_maven_telco(truncate=True).truncation.n_truncated
    assert f"{n:,} of 7,043 rows are left-truncated" in res.output and "middle of the period" in res.output
    assert "Month-to-Month" in res.output
    end = runner.invoke(app, ["describe", "maven_telco", "--period", "3", "--truncate", "--churn-timing", "end"])
    assert "5,992 of 7,043 rows are left-truncated" in end.output and "end of the period" in end.output
    # defections by cause appear as counts
    assert "competitor" in res.output and "841" in res.output


def test_describe_warns_on_offer():
    res = runner.invoke(app, ["describe", "maven_telco", "--segment", "Offer"])
    assert res.exit_code == 0
    assert "determined by tenure" in res.output


def test_describe_csv_file(tmp_path):
    path = tmp_path / "c.csv"
    pd.DataFrame({"tenure": [1, 2, 3, 4], "churned": [1, 0, 1, 0], "plan": ["a", "a", "b", "b"]}).to_csv(path)
    res = runner.invoke(app, ["describe", str(path), "--duration", "tenure", "--event", "churned",
                              "--segment", "plan"])
    assert res.exit_code == 0, res.output
    assert "By plan" in res.output


def test_describe_parquet_file(tmp_path):
    path = tmp_path / "c.parquet"
    pd.DataFrame({"tenure": [1.0, 2.0], "churned": [True, False]}).to_parquet(path)
    res = runner.invoke(app, ["describe", str(path), "--duration", "tenure", "--event", "churned"])
    assert res.exit_code == 0, res.output
    assert "2 rows" in res.output


def test_describe_bad_column_is_a_clear_error(tmp_path):
    path = tmp_path / "c.csv"
    pd.DataFrame({"tenure": ["x", "2"], "churned": [1, 0]}).to_csv(path, index=False)
    res = runner.invoke(app, ["describe", str(path), "--duration", "tenure", "--event", "churned"])
    assert res.exit_code == 2
    assert "Column 'tenure' has 1 row with non-numeric times" in res.output


def test_describe_unknown_source():
    res = runner.invoke(app, ["describe", "no_such_file.csv", "--duration", "t"])
    assert res.exit_code != 0


# --------------------------------------------------------------------------- #
# churnsurv report: parameters a user can find, errors that show the path tried
# --------------------------------------------------------------------------- #
_NOTEBOOK = '''# %% tags=["parameters"]
data_path = "maven_telco"  # a bundled dataset name, or your CSV file
horizon = 24  # restricted mean horizon, in months
fig_dir = "reports/figures"

# %%
print(data_path, horizon)
'''


def _report_folder(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "seg.py").write_text(_NOTEBOOK)
    (folder / "other.py").write_text(_NOTEBOOK.replace("horizon = 24  # restricted mean horizon, in months\n", ""))
    (folder / "report.yaml").write_text(
        "parameters:\n  horizon: 12\nnotebooks:\n  - path: seg.py\n  - path: other.py\n")
    return folder


def test_report_help_points_to_the_parameters():
    res = runner.invoke(app, ["report", "--help"])
    assert res.exit_code == 0
    for option in ("--list-params", "--param", "--single-file", "--pdf"):
        assert option in res.output


def test_report_list_params_prints_defaults_and_meanings(tmp_path):
    folder = _report_folder(tmp_path)
    res = runner.invoke(app, ["report", str(folder / "report.yaml"), "--list-params"])
    assert res.exit_code == 0, res.output
    assert "seg (seg.py)" in res.output and "other (other.py)" in res.output
    line = next(row for row in res.output.splitlines() if row.strip().startswith("horizon"))
    assert "24" in line and "12" in line and "restricted mean horizon, in months" in line
    assert "a bundled dataset name, or your CSV file" in res.output
    assert res.output.count("horizon ") == 1  # other.py does not declare it


def test_report_list_params_of_the_bundled_report():
    res = runner.invoke(app, ["report", "--list-params"])
    assert res.exit_code == 0, res.output
    assert "01_segments" in res.output and "02_causes" in res.output and "data_path" in res.output


def test_report_unknown_param_is_an_error_naming_notebooks(tmp_path):
    folder = _report_folder(tmp_path)
    res = runner.invoke(app, ["report", str(folder / "report.yaml"), "--param", "horizn=6",
                              "--output-dir", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert "'horizn'" in res.output and "Did you mean 'horizon'?" in res.output
    assert "seg: data_path, horizon, fig_dir" in res.output and "other: data_path, fig_dir" in res.output
    assert not (tmp_path / "out").exists()


def test_report_param_paths_resolve_against_the_current_folder(tmp_path, monkeypatch):
    folder = _report_folder(tmp_path)
    here = tmp_path / "here"
    here.mkdir()
    (here / "mine.csv").write_text("tenure,churned\n1,1\n")
    monkeypatch.chdir(here)
    res = runner.invoke(app, ["report", str(folder / "report.yaml"), "--list-params", "-p", "data_path=mine.csv"])
    assert res.exit_code == 0, res.output
    assert f'"{(here / "mine.csv").as_posix()}"' in res.output
    missing = runner.invoke(app, ["report", str(folder / "report.yaml"), "-p", "data_path=typo.csv",
                                  "--output-dir", str(tmp_path / "out")])
    assert missing.exit_code == 2
    assert f"tried '{(here / 'typo.csv').as_posix()}'" in missing.output


def test_report_missing_configuration_shows_the_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["report", "nope.yaml"])
    assert res.exit_code == 2
    assert f"No report configuration at '{tmp_path / 'nope.yaml'}'" in res.output


def test_describe_reads_dates(tmp_path):
    path = tmp_path / "customers.csv"
    pd.DataFrame({"signup": ["2023-01-15", "2023-03-01", "2023-06-10", "2024-01-01"],
                  "cancel": ["2023-08-01", None, "2024-02-01", None], "plan": ["a", "b", "a", "b"]}).to_csv(path,
                                                                                                       index=False)
    res = runner.invoke(app, ["describe", str(path), "--start", "signup", "--end", "cancel", "--as-of", "2024-06-30",
                              "--segment", "plan"])
    assert res.exit_code == 0, res.output
    assert "4 rows, 2 defections" in res.output and "By plan" in res.output
    res = runner.invoke(app, ["describe", str(path), "--start", "signup", "--end", "cancel"])
    assert res.exit_code == 2 and "as_of" in res.output
