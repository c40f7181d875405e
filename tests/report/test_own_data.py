"""The notebooks and the report on analysts' own files: small, young and odd (tests/report/own_data_cases.py).

Every case must run both notebooks without an error and say plainly what it could not compute; and the report,
run from another folder on a CSV of sign-up and cancel dates given by a relative path, must describe that file,
not the bundled one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from own_data_cases import cases, notebook_params

from churnsurv.reporting import run_notebook

ROOT = Path(__file__).resolve().parents[2]
CASES = {c.name: c for c in cases()}
pytestmark = pytest.mark.slow


def _notes(fig_dir: Path) -> dict[str, str]:
    return {p.stem: p.read_text() for p in fig_dir.glob("*.md")}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("notebook", ["01_segments", "02_causes", "03_models", "04_value"])
def test_notebook_runs_on_own_file(tmp_path, name, notebook):
    case = CASES[name]
    path = case.write(tmp_path)
    fig_dir = tmp_path / "figures"
    run_notebook(ROOT / "notebooks" / f"{notebook}.py", tmp_path / f"{notebook}.ipynb",
                 notebook_params(case, path, notebook, fig_dir), progress=False)
    notes = _notes(fig_dir)
    text = "\n".join(notes.values())
    figures = json.loads((fig_dir / "manifest.json").read_text())["figures"]
    covering = [f["id"] for f in figures if f["legends"]["covering_data"]]
    assert not covering, f"legends over the data in {covering}"  # issue 10: legends never over the data
    assert "7,043" not in text and "Maven" not in text  # nothing of the bundled file
    if notebook == "01_segments":
        data = notes["00_data"]
        assert f"{len(case.frame):,} customers" in data and f"`{path.name}`" in data
    if name == "durations_no_causes" and notebook == "02_causes":
        assert "No causes of defection in these records" in notes["00_no_causes"]
    if name == "durations_no_causes" and notebook == "04_value":
        assert "No causes of defection in these records" in notes["v00_missing"]
    if name == "young" and notebook in ("01_segments", "02_causes"):
        assert "passes the follow-up" in notes["00_horizon" if notebook == "01_segments" else "00_horizon_causes"]
    if name == "no_segments" and notebook == "01_segments":
        assert "no groups to compare" in notes["06_tests"]
    if name == "segment_without_events" and notebook == "02_causes":
        assert "No customer of gold left" in notes["05_reduction"]


def test_report_from_another_folder_on_dates_with_a_relative_path(tmp_path):
    case = CASES["dates"]
    data_dir = tmp_path / "work" / "data"
    data_dir.mkdir(parents=True)
    case.write(data_dir)
    out = tmp_path / "work" / "out"
    params = ["data_path=data/dates.csv", "start_col=signup", "end_col=cancel", "as_of=2024-12-31",
              "status_col=null", "duration_col=null", "cause_col=reason", "cause_mapping=null",
              "segment_cols=[plan]", "segment_col=plan", "ordered_segment=null", "pitfall_col=null",
              "focus_cause=null", "reference_level=null", "numeric_covariates=[]"]
    cmd = [sys.executable, "-m", "churnsurv.cli", "report", str(ROOT / "notebooks" / "report.yaml"),
           "--output-dir", str(out), "--title", "Acme subscriptions: churn",
           *[x for p in params for x in ("-p", p)]]
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    proc = subprocess.run(cmd, cwd=tmp_path / "work", capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = (out / "index.html").read_text()
    assert "Acme subscriptions: churn" in html
    assert f"{len(case.frame):,} customers" in html and "dates.csv" in html
    for bundled in ("7,043", "Maven", "telco", "1,869"):
        assert bundled not in html, bundled
    manifest = json.loads((out / "figures" / "manifest.json").read_text())
    assert all(not str(d.get("path", "")).startswith("/") for e in manifest["figures"] for d in e["data"])


def test_report_title_follows_the_file_when_none_is_given(tmp_path):
    case = CASES["tiny"]
    case.write(tmp_path)
    out = tmp_path / "out"
    params = ["data_path=tiny.csv", "duration_col=tenure", "status_col=null", "event_col=churned",
              "cause_col=reason", "cause_mapping=null", "segment_cols=[plan]", "segment_col=plan",
              "ordered_segment=null", "pitfall_col=null", "focus_cause=null", "reference_level=null",
              "numeric_covariates=[]"]
    cmd = [sys.executable, "-m", "churnsurv.cli", "report", str(ROOT / "notebooks" / "report.yaml"),
           "--output-dir", str(out), *[x for p in params for x in ("-p", p)]]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = (out / "index.html").read_text()
    assert "Customer churn: tiny.csv" in html and "12 customers" in html
    assert "bundled telco snapshot" not in html and "Maven" not in html
