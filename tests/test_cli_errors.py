"""The command line on every error it can foresee (issue 16, item 8): churnsurv's own message in one or two lines
on stderr, exit code 2 (1 for a failing notebook), and the full traceback only under ``--debug``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from churnsurv.cli import app
from churnsurv.report.notebook import NotebookExecutionError

runner = CliRunner()

NOTEBOOK = '# %% tags=["parameters"]\nfig_dir = "reports/figures"\nhorizon = 24  # months\n\n# %%\nprint(horizon)\n'


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Nothing a test runs may land in the repository (the default output folder is ./reports)."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "seg.py").write_text(NOTEBOOK)
    (folder / "report.yaml").write_text("notebooks:\n  - path: seg.py\n")
    (folder / "customers.csv").write_text("tenure,churned\n1,1\n2,0\n")
    return folder


def assert_clean(res, code: int = 2) -> str:
    """A foreseen error: the exit code, 'error: ...' on stderr in at most two lines, no traceback."""
    assert res.exit_code == code, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    lines = res.stderr.strip().splitlines()
    lines = [line for line in lines if not line.startswith("[churnsurv]")]  # progress of a report build
    assert lines and lines[0].startswith("error: "), res.stderr
    assert len(lines) <= 2, res.stderr
    assert "Traceback" not in res.output and "╭" not in res.output
    assert "--debug" in lines[-1]
    return res.stderr


def report(project, *args):
    return runner.invoke(app, ["report", str(project / "report.yaml"), *args])


# --------------------------------------------------------------------------- #
# describe: bad options and files
# --------------------------------------------------------------------------- #
def test_bad_time_unit_names_the_option_and_suggests(project):
    res = runner.invoke(app, ["describe", str(project / "customers.csv"), "--duration", "tenure", "--event",
                              "churned", "--time-unit", "months"])
    err = assert_clean(res)
    assert "--time-unit must be one of month, week, day, year. Got 'months'. Did you mean 'month'?" in err


def test_bad_churn_timing(project):
    res = runner.invoke(app, ["describe", "maven_telco", "--period", "3", "--truncate", "--churn-timing", "late"])
    assert "--churn-timing must be middle, end, start" in assert_clean(res)


def test_missing_duration_for_a_file(project):
    res = runner.invoke(app, ["describe", str(project / "customers.csv")])
    assert "--duration (or --start, --end and --as-of) is required" in assert_clean(res)


def test_missing_file_shows_the_path_tried(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["describe", "nope.csv", "--duration", "t"])
    assert f"tried '{tmp_path / 'nope.csv'}'" in assert_clean(res)


def test_bundled_file_that_is_not_a_customer_table():
    res = runner.invoke(app, ["describe", "maven_dictionary"])
    assert "not a customer table" in assert_clean(res)


def test_folder_given_as_data_file(tmp_path):
    res = runner.invoke(app, ["describe", str(tmp_path), "--duration", "tenure"])
    assert "is a folder, not a file" in assert_clean(res)


def test_missing_column_is_a_message(project):
    res = runner.invoke(app, ["describe", str(project / "customers.csv"), "--duration", "tenur"])
    assert "'tenur'" in assert_clean(res)


# --------------------------------------------------------------------------- #
# report: configuration files
# --------------------------------------------------------------------------- #
def test_yaml_syntax_error_names_line_and_column(project):
    (project / "report.yaml").write_text("notebooks:\n - path: seg.py\n  title: [unclosed\n")
    err = assert_clean(report(project))
    assert "is not valid YAML (line 3, column 3)" in err


def test_toml_syntax_error(project):
    (project / "report.toml").write_text("[notebooks\n")
    res = runner.invoke(app, ["report", str(project / "report.toml")])
    assert "is not valid TOML: " in assert_clean(res)


def test_empty_configuration(project):
    (project / "report.yaml").write_text("# nothing yet\n")
    assert "is empty. It must list the notebooks" in assert_clean(report(project))


def test_configuration_not_utf8(project):
    (project / "report.yaml").write_bytes("title: Kündigungen\nnotebooks: [seg.py]\n".encode("latin-1"))
    assert "is not UTF-8 text (byte 0xfc" in assert_clean(report(project))


def test_unknown_keys(project):
    (project / "report.yaml").write_text("notebook:\n  - path: seg.py\n")
    assert "has unknown keys ['notebook']" in assert_clean(report(project))


def test_configuration_is_a_folder(project):
    res = runner.invoke(app, ["report", str(project)])
    assert "is a folder, not a file. Give the configuration file inside it (report.yaml)" in assert_clean(res)


def test_missing_configuration(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["report", "nope.yaml"])
    assert f"No report configuration at '{tmp_path / 'nope.yaml'}'" in assert_clean(res)


def test_missing_notebook(project):
    (project / "report.yaml").write_text("notebooks:\n  - path: seg.py\n  - path: typo.py\n")
    assert f"tried '{project / 'typo.py'}'" in assert_clean(report(project, "--output-dir", str(project / "out")))
    assert not (project / "out").exists()


# --------------------------------------------------------------------------- #
# report: output folders
# --------------------------------------------------------------------------- #
def test_output_folder_is_a_file(project):
    (project / "taken").write_text("a file")
    err = assert_clean(report(project, "--output-dir", str(project / "taken")))
    assert "is a file, not a folder" in err


def test_output_folder_below_a_file(project):
    (project / "taken").write_text("a file")
    err = assert_clean(report(project, "--output-dir", str(project / "taken" / "sub")))
    assert "part of its path is a file" in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes to read-only folders")
def test_read_only_output_folder(project):
    out = project / "locked"
    out.mkdir()
    out.chmod(0o555)
    try:
        err = assert_clean(report(project, "--output-dir", str(out)))
    finally:
        out.chmod(0o755)
    assert "Cannot write the report to" in err and "Permission denied" in err


def test_unwritable_output_folder_of_the_system(project):
    target = Path("/sys/churnsurv-report")
    if not Path("/sys").is_dir() or os.access("/sys", os.W_OK) and _can_mkdir(target):
        pytest.skip("no read-only system folder here")
    err = assert_clean(report(project, "--output-dir", str(target)))
    assert "Cannot write the report to '/sys/churnsurv-report'" in err and "--output-dir" in err


def _can_mkdir(path: Path) -> bool:
    try:
        path.mkdir()
    except OSError:
        return False
    path.rmdir()
    return True


# --------------------------------------------------------------------------- #
# report: --param
# --------------------------------------------------------------------------- #
def test_param_without_equals(project):
    assert "--param takes NAME=VALUE (e.g. -p horizon=24). Got 'horizon'." in assert_clean(
        report(project, "-p", "horizon"))


def test_param_value_that_is_not_yaml(project):
    err = assert_clean(report(project, "-p", "horizon=[1, 2"))
    assert "--param horizon: the value '[1, 2' is not a YAML value" in err


def test_param_name_that_is_not_an_identifier(project, tmp_path):
    err = assert_clean(report(project, "-p", "__import__('os').system('touch pwned')#=1",
                              "--output-dir", str(tmp_path / "out")))
    assert "The parameter name \"__import__('os').system('touch pwned')#\"" in err
    assert "is not a Python identifier" in err
    assert not (tmp_path / "out").exists() and not (project / "pwned").exists()


def test_param_name_that_is_a_keyword(project):
    assert "'class' (given with --param 'class=1') is not a Python identifier" in assert_clean(
        report(project, "-p", "class=1"))


# --------------------------------------------------------------------------- #
# report: a failing notebook, --no-run without a manifest
# --------------------------------------------------------------------------- #
def test_failing_notebook_exit_code_one(project, monkeypatch):
    def fail(source, output, *args, **kwargs):
        raise NotebookExecutionError(f"Notebook {str(source)!r} failed in cell 2: KeyError: 'x'", notebook=str(source),
                                     cell_number=2, line=5, source="", ename="KeyError", evalue="'x'",
                                     output_path=str(output))

    monkeypatch.setattr("churnsurv.report.html.run_notebook", fail)
    err = assert_clean(report(project, "--output-dir", str(project / "out")), code=1)
    assert "failed in cell 2: KeyError" in err


def test_no_run_without_manifest(project):
    err = assert_clean(report(project, "--no-run", "--output-dir", str(project / "out")))
    assert "No manifest at" in err


# --------------------------------------------------------------------------- #
# --debug: the full traceback
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_raises_the_original_error(project, where):
    (project / "report.yaml").write_text("notebook:\n  - path: seg.py\n")
    args = ["report", str(project / "report.yaml")]
    res = runner.invoke(app, ["--debug", *args] if where == "before" else [*args, "--debug"])
    assert isinstance(res.exception, ValueError) and "unknown keys" in str(res.exception)
    assert "error: " not in res.stderr


def test_debug_on_describe(project):
    res = runner.invoke(app, ["--debug", "describe", str(project / "customers.csv"), "--duration", "tenure",
                              "--time-unit", "months"])
    assert isinstance(res.exception, ValueError)
    # the flag does not leak into the next invocation
    res = runner.invoke(app, ["describe", str(project / "customers.csv"), "--duration", "tenure",
                              "--time-unit", "months"])
    assert_clean(res)
