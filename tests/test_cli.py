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
