"""Notebook parameters a user can find: parsing the cell tagged ``parameters``, routing each parameter only to the
notebooks that declare it, typos as errors, and path parameters resolved where the user expects (issue 10)."""

from __future__ import annotations

import json
import logging
import textwrap
from pathlib import Path

import pytest

from churnsurv.report.html import _plan, build_report, list_parameters
from churnsurv.report.notebook import notebook_parameters

ROOT = Path(__file__).resolve().parents[2]

SEGMENTS = textwrap.dedent(
    """\
    # %% [markdown]
    # # Segments

    # %% tags=["parameters"]
    data_path = "maven_telco"  # a bundled dataset name, or the path of your CSV file
    # restricted mean horizon,
    # in time units
    horizon = 24
    segment_cols = ["Contract", "Offer"]  # segments to compare
    fig_dir = "reports/figures"
    scale = 2 * 3  # not a literal

    # %%
    from churnsurv.reporting import save_text
    save_text(f"horizon {horizon}", "seg_note", fig_dir=fig_dir, title="Segments")
    """
)
CAUSES = textwrap.dedent(
    """\
    # %% tags=["parameters"]
    data_path = "maven_telco"
    focus_cause = "competitor"  # the cause examined
    fig_dir = "reports/figures"

    # %%
    from churnsurv.reporting import save_text
    save_text(f"focus {focus_cause}", "causes_note", fig_dir=fig_dir, title="Causes")
    """
)


@pytest.fixture
def report_dir(tmp_path):
    """A report folder: two notebooks, a data file and a configuration, all relative to the config's folder."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "seg.py").write_text(SEGMENTS)
    (folder / "causes.py").write_text(CAUSES)
    (folder / "customers.csv").write_text("tenure,churned\n1,1\n2,0\n")
    (folder / "report.yaml").write_text(
        "parameters:\n  data_path: customers.csv\n  horizon: 12\nnotebooks:\n  - path: seg.py\n  - path: causes.py\n"
    )
    return folder


# --------------------------------------------------------------------------- #
# Parsing the parameters cell
# --------------------------------------------------------------------------- #
def test_notebook_parameters_reads_defaults_meanings_and_lines(tmp_path):
    path = tmp_path / "seg.py"
    path.write_text(SEGMENTS)
    params = notebook_parameters(path)
    assert list(params) == ["data_path", "horizon", "segment_cols", "fig_dir", "scale"]
    assert params["data_path"].default == "maven_telco"
    assert params["data_path"].meaning == "a bundled dataset name, or the path of your CSV file"
    assert params["horizon"].meaning == "restricted mean horizon, in time units"  # the comment block above
    assert params["segment_cols"].default == ["Contract", "Offer"]
    assert params["fig_dir"].meaning == ""
    assert params["scale"].default == "2 * 3" and params["scale"].source == "2 * 3"
    lines = SEGMENTS.splitlines()
    for param in params.values():
        assert lines[param.line - 1].startswith(f"{param.name} = ")


def test_notebook_parameters_without_parameters_cell_and_missing_file(tmp_path):
    path = tmp_path / "plain.py"
    path.write_text("# %%\nx = 1\n")
    assert notebook_parameters(path) == {}
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "nope.py")):
        notebook_parameters(tmp_path / "nope.py")


def test_bundled_notebooks_declare_data_path_with_a_meaning():
    for name in ("01_segments.py", "02_causes.py"):
        params = notebook_parameters(ROOT / "notebooks" / name)
        assert "data_path" in params and "fig_dir" in params
        assert params["data_path"].meaning, name


# --------------------------------------------------------------------------- #
# Routing: only to the notebooks that declare a parameter
# --------------------------------------------------------------------------- #
def test_parameters_go_only_to_notebooks_that_declare_them(report_dir):
    plan = _plan(build_config(report_dir), {"focus_cause": "price"}, check_paths=True)
    assert plan["seg"]["values"] == {"data_path": "customers.csv", "horizon": 12}
    assert plan["causes"]["values"] == {"data_path": "customers.csv", "focus_cause": "price"}


def build_config(folder: Path) -> dict:
    from churnsurv.reporting import load_report_config

    return load_report_config(folder / "report.yaml")


def test_list_parameters_shows_defaults_meanings_and_passed_values(report_dir):
    listing = list_parameters(report_dir / "report.yaml")
    assert list(listing) == ["seg", "causes"]
    rows = {row["name"]: row for row in listing["seg"]}
    assert rows["horizon"]["default"] == 24 and rows["horizon"]["configured"] == 12
    assert rows["segment_cols"]["is_configured"] is False
    assert rows["fig_dir"]["is_configured"] is True  # set by the report itself
    assert [row["name"] for row in listing["causes"]] == ["data_path", "focus_cause", "fig_dir"]


def test_unknown_parameter_is_an_error_naming_notebooks_and_parameters(report_dir, tmp_path):
    with pytest.raises(ValueError) as info:
        build_report(report_dir / "report.yaml", output_dir=tmp_path / "out", parameters={"horizn": 6})
    message = str(info.value)
    assert "'horizn'" in message and "Did you mean 'horizon'?" in message
    assert "seg: data_path, horizon, segment_cols, fig_dir, scale" in message
    assert "causes: data_path, focus_cause, fig_dir" in message
    assert not (tmp_path / "out").exists()  # raised before anything ran


def test_unknown_parameter_in_configuration_and_per_notebook(report_dir):
    cfg = build_config(report_dir)
    cfg["parameters"]["segmnt_cols"] = ["Contract"]
    with pytest.raises(ValueError, match=r"'segmnt_cols' parameter, set in the report configuration"):
        _plan(cfg, None, check_paths=False)
    cfg = build_config(report_dir)
    cfg["notebooks"][1]["parameters"] = {"horizon": 6}  # declared by seg.py, not by causes.py
    with pytest.raises(ValueError, match=r"'horizon' parameter of notebook 'causes.py'.*It declares: data_path"):
        _plan(cfg, None, check_paths=False)


def test_fig_dir_is_set_by_the_report(report_dir):
    with pytest.raises(ValueError, match=r"'fig_dir' parameter cannot be set .*--output-dir"):
        _plan(build_config(report_dir), {"fig_dir": "elsewhere"}, check_paths=False)


def test_missing_notebook_fails_before_anything_runs(report_dir, tmp_path):
    (report_dir / "report.yaml").write_text("notebooks:\n  - path: seg.py\n  - path: typo.py\n")
    with pytest.raises(FileNotFoundError, match=str(report_dir / "typo.py")):
        build_report(report_dir / "report.yaml", output_dir=tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- #
# Paths: command line against the current folder, configuration against its folder
# --------------------------------------------------------------------------- #
def test_relative_override_paths_resolve_against_the_current_folder(report_dir, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "mine.csv").write_text("tenure,churned\n1,1\n")
    monkeypatch.chdir(elsewhere)
    plan = _plan(build_config(report_dir), {"data_path": "mine.csv"}, check_paths=True)
    assert plan["seg"]["values"]["data_path"] == (elsewhere / "mine.csv").as_posix()
    assert plan["causes"]["values"]["data_path"] == (elsewhere / "mine.csv").as_posix()
    # a configuration path stays relative to the configuration's folder (where the notebooks run)
    assert _plan(build_config(report_dir), None, check_paths=True)["seg"]["values"]["data_path"] == "customers.csv"


def test_missing_file_error_shows_the_absolute_path_tried(report_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as info:
        _plan(build_config(report_dir), {"data_path": "typo.csv"}, check_paths=True)
    assert f"tried {(tmp_path / 'typo.csv').as_posix()!r}" in str(info.value)
    assert "current folder" in str(info.value)
    (report_dir / "customers.csv").unlink()
    with pytest.raises(FileNotFoundError) as info:
        _plan(build_config(report_dir), None, check_paths=True)
    assert f"tried {(report_dir / 'customers.csv').as_posix()!r}" in str(info.value)
    assert "configuration" in str(info.value)


def test_bundled_dataset_names_are_not_paths(report_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plan = _plan(build_config(report_dir), {"data_path": "maven_telco"}, check_paths=True)
    assert plan["seg"]["values"]["data_path"] == "maven_telco"


# --------------------------------------------------------------------------- #
# Executing: no "Passed unknown parameter" noise (slow: starts kernels)
# --------------------------------------------------------------------------- #
@pytest.mark.slow
def test_build_report_injects_only_declared_parameters(report_dir, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="papermill")
    build_report(report_dir / "report.yaml", output_dir=tmp_path / "out", parameters={"focus_cause": "price"},
                 progress=False)
    assert "unknown parameter" not in caplog.text.lower()
    injected = {}
    for name in ("seg", "causes"):
        nb = json.loads((tmp_path / "out" / "notebooks" / f"{name}.ipynb").read_text())
        (cell,) = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
        injected[name] = "".join(cell["source"])
    assert "horizon = 12" in injected["seg"] and "focus_cause" not in injected["seg"]
    assert 'focus_cause = "price"' in injected["causes"] and "horizon" not in injected["causes"]
    assert "fig_dir" in injected["seg"] and "fig_dir" in injected["causes"]
    html = (tmp_path / "out" / "index.html").read_text()
    assert "horizon 12" in html and "focus price" in html
