"""The main job, end to end: `churnsurv report` on the bundled data, run twice.

* every notebook executes (papermill) and the report renders;
* the two runs give byte-identical figure files and manifest entries (apart from the timestamp field);
* headless Chromium opens ``index.html``: every image loads (the template sets ``data-broken-images`` on
  ``<body>`` once the page has loaded, counting ``img`` elements with ``naturalWidth == 0``), and a screenshot
  is saved.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.slow


def _run_report(out: Path) -> subprocess.CompletedProcess:
    # the README's main command, as a user runs it (from a working directory of their own)
    return subprocess.run(
        [sys.executable, "-m", "churnsurv.cli", "report", str(ROOT / "notebooks" / "report.yaml"),
         "--output-dir", str(out)],
        cwd=out.parent, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="session")
def two_runs(once):
    """The main job run twice, once per test run whichever workers ask for it."""

    def job(folder: Path) -> list[str]:
        runs = []
        for name in ("first", "second"):
            out = folder / name / "reports"
            out.parent.mkdir()
            proc = _run_report(out)
            assert proc.returncode == 0, proc.stdout + proc.stderr
            assert "[churnsurv] [4/4] 04_value.py ok" in proc.stderr  # progress is shown
            # the computed findings are printed to the terminal
            assert "== Naive and snapshot readings (01_segments)" in proc.stdout
            assert "1,869 of 7,043 customers (26.5%)" in proc.stdout
            runs.append(str(out))
        return runs

    return [Path(p) for p in once("report-two-runs", job)]


def test_every_notebook_ran_and_the_report_lists_every_figure(two_runs):
    out = two_runs[0]
    manifest = json.loads((out / "figures" / "manifest.json").read_text())
    html = (out / "index.html").read_text()
    assert {e["notebook"] for e in manifest["figures"]} == {"01_segments", "02_causes", "03_models", "04_value"}
    assert len(manifest["figures"]) >= 10
    for entry in manifest["figures"]:
        assert f'figures/{entry["files"]["png"]["path"]}' in html
        assert (out / "figures" / entry["files"]["png"]["path"]).exists()
    # numbers in the text come from the notebooks, e.g. the truncation count computed from the data
    from churnsurv.datasets import load_maven_telco

    n = load_maven_telco(truncate=True).truncation.n_truncated  # under the default churn_timing="middle"
    assert f"{n:,} of 7,043 customers entered observation" in html
    # one reading per report: the causes section uses the snapshot reading of the segments section, and the
    # expected tenure within 24 months is the same number in both
    assert "snapshot reading, left-truncated" in html and "Sensitivity" in html
    for nb in ("01_segments", "02_causes", "03_models", "04_value"):
        assert (out / "notebooks" / f"{nb}.ipynb").exists()


def test_two_runs_are_byte_identical_apart_from_the_timestamp(two_runs):
    a, b = (run / "figures" for run in two_runs)
    files_a = sorted(p.name for p in a.iterdir())
    assert files_a == sorted(p.name for p in b.iterdir())
    for name in files_a:
        if name == "manifest.json":
            continue
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    ma, mb = (json.loads((d / "manifest.json").read_text()) for d in (a, b))
    assert ma.pop("generated_at") and mb.pop("generated_at")
    assert ma == mb
    for entry in ma["figures"]:
        assert entry["versions"]["churnsurv"]
        assert entry["data"][0]["sha256"] == "f4dc78f5c5dfa58fe6a5447891a18749320603a1feef7f2c2ceafbb1555c4f47"
        assert entry["parameters"]["data_path"] == "maven_telco"


def test_report_images_load_in_chromium(two_runs, tmp_path):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: scripts/test installs Debian's chromium for this test")
        pytest.skip("needs chromium (apt-get install chromium)")
    index = two_runs[0] / "index.html"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([CHROMIUM, *flags, "--virtual-time-budget=10000", "--dump-dom", index.as_uri()],
                         capture_output=True, text=True, timeout=180, check=True).stdout
    match = re.search(r'data-broken-images="(\d+)"', dom)
    assert match, "the page's load script did not run"
    assert match.group(1) == "0", "some figures did not load"
    n_images = len(re.findall(r"<img ", dom))
    assert n_images >= 10
    shot = two_runs[0] / "screenshot.png"
    subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1200,3000", index.as_uri()],
                   capture_output=True, text=True, timeout=180, check=True)
    assert shot.exists() and shot.stat().st_size > 10_000


def test_notebooks_run_on_other_data_by_parameters_alone(tmp_path):
    # an analyst points the notebooks at another file (the IBM release: plain durations, 20 reasons) without
    # editing code; the text then speaks of one reading, not of a snapshot
    from churnsurv.reporting import run_notebook

    common = dict(data_path="ibm_telco", duration_col="Tenure Months", status_col=None, event_col="Churn Value",
                  cause_col="Churn Reason", cause_mapping="telco_reasons", fig_dir=str(tmp_path / "figs"))
    run_notebook(ROOT / "notebooks" / "01_segments.py", tmp_path / "01.ipynb", {
        **common, "segment_cols": ["Contract", "Internet Service", "Payment Method"], "ordered_segment": "Contract",
        "segment_order": ["Month-to-month", "One year", "Two year"], "pitfall_col": None, "reading": "naive"},
        progress=False)
    run_notebook(ROOT / "notebooks" / "02_causes.py", tmp_path / "02.ipynb", {
        **common, "segment_col": "Contract", "reference_level": "Month-to-month",
        "numeric_covariates": ["Monthly Charges"]}, progress=False)
    readings = (tmp_path / "figs" / "01c_readings.md").read_text()
    assert "no snapshot status column" in readings and "1,869 of 7,043" in readings
    manifest = json.loads((tmp_path / "figs" / "manifest.json").read_text())
    assert {e["data"][0]["sha256"] for e in manifest["figures"]} == {
        "e984530b5b1c67a0f2abe6496e65b99ab8d163d7e1b4c83fc1c3e2d71db57a34"}
    assert not (tmp_path / "figs" / "07_pitfall.png").exists()
