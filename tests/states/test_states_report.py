"""The states report (notebooks/states.yaml) runs end to end on the CDNOW sample and on an analyst's own log."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnsurv.data.cdnow import cdnow_path

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _report(tmp_path, *params):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "churnsurv.cli", "report", str(ROOT / "notebooks" / "states.yaml"),
           "--output-dir", str(out), *[x for p in params for x in ("-p", p)]]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return (out / "index.html").read_text()


@pytest.mark.skipif(cdnow_path(sample=True) is None, reason="the lifetimes wheel (CDNOW) is not installed")
def test_states_report_on_the_cdnow_sample(tmp_path):
    html = _report(tmp_path, "data_path=cdnow_sample", "n_boot=20")
    assert "2,357 customers" in html and "Traceback" not in html


def test_states_report_on_an_own_log(tmp_path):
    rng = np.random.default_rng(3)
    rows = []
    for cid in range(120):
        start = pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(rng.integers(0, 90)))
        n = int(rng.integers(1, 14))
        days = np.sort(rng.integers(0, 500, n))
        rows += [{"customer": f"c{cid}", "day": (start + pd.Timedelta(days=int(d))).date().isoformat(),
                  "spend": round(float(rng.gamma(2.0, 15.0)), 2)} for d in days]
    pd.DataFrame(rows).to_csv(tmp_path / "log.csv", index=False)
    html = _report(tmp_path, "data_path=log.csv", "id_col=customer", "date_col=day", "amount_col=spend",
                   "n_boot=20")
    assert "120 customers" in html and "CDNOW" not in html and "Traceback" not in html
