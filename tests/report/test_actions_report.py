"""The actions report (notebooks/actions.yaml, notebook 05_actions): built by the CLI, and run on an analyst's A/B file.

The report must carry its four headline numbers with their intervals and no traceback; on the simulated programme
the adjusted intervals must hold the known truth and the naive one must not. On a user's A/B holdout file the A/B
section must describe that file (its arms, counts and segments) and claim no simulated truth.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from churnsurv.effects._simulate import simulate_ab_test
from churnsurv.reporting import run_notebook

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
HAS_CAUSALDATA = importlib.util.find_spec("causaldata") is not None
INTERVAL = re.compile(r"95% CI [+-]?\d[\d.,]* to [+-]?\d[\d.,]*")


def _notes(fig_dir: Path) -> dict[str, str]:
    return {p.stem: p.read_text() for p in fig_dir.glob("*.md")}


def test_actions_report_from_the_cli(tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "churnsurv.cli", "report", str(ROOT / "notebooks" / "actions.yaml"),
           "--output-dir", str(out)]
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = (out / "index.html").read_text()
    assert "What retention actions do" in html
    assert "Traceback" not in html and "Not computed" not in html
    notes = _notes(out / "figures")
    expected = {"headline_05_programme", "headline_05_offer", "headline_05_ab"} | (
        {"headline_05_nhefs"} if HAS_CAUSALDATA else set())
    assert expected <= set(notes), sorted(notes)
    for name in expected:  # every headline number has its interval, and the report shows it
        intervals = INTERVAL.findall(notes[name])
        assert intervals, notes[name]
        for interval in intervals:
            assert interval in html, (name, interval)
    assert "2,000 customers" in notes["headline_05_programme"]

    # the known truth: adjusted intervals hold it, the naive comparison does not
    effects = pd.read_csv(out / "figures" / "a1a_programme_effects.csv")
    naive = effects["method"].str.startswith("naive")
    assert ((effects.loc[~naive, "estimate"] - effects.loc[~naive, "truth"]).abs() < 0.035).all(), effects
    assert effects.loc[effects["method"].str.startswith("AIPW"), "covers_truth"].all(), effects
    assert not effects.loc[naive, "covers_truth"].any()
    assert (effects.loc[naive, "estimate"] < 0).all() and (effects.loc[~naive, "estimate"] > 0).all()
    offer = pd.read_csv(out / "figures" / "a2a_offer.csv")
    landmark = offer[offer["method"].str.startswith("landmark")]
    assert ((landmark["ci_lower"] <= landmark["truth"]) & (landmark["truth"] <= landmark["ci_upper"])).all()
    naive_offer = offer[offer["method"].str.startswith("naive")]
    assert (naive_offer["ci_lower"] > naive_offer["truth"]).all()  # immortal time inflates the naive effect
    assert "ImmortalTimeError" in notes["a2d_immortal_time"] and "Offer E" in notes["a2d_immortal_time"]

    if HAS_CAUSALDATA:  # Hernan & Robins chapter 17: the book's pooled logistic models to 0.1 point
        nhefs = pd.read_csv(out / "figures" / "a4a_nhefs.csv").set_index("method")
        book = {"IP-weighted pooled logistic (book, program 17.2)": (0.805, 0.807),
                "g-formula, pooled logistic (book, program 17.3)": (0.806, 0.804),
                "unadjusted (Kaplan-Meier)": (0.820, 0.762)}
        for method, (kept, quit) in book.items():
            assert nhefs.loc[method, "survival_kept_smoking"] == pytest.approx(kept, abs=1e-3)
            assert nhefs.loc[method, "survival_quit"] == pytest.approx(quit, abs=1e-3)
        manifest = json.loads((out / "figures" / "manifest.json").read_text())
        sources = [d["path"] for f in manifest["figures"] if f["id"].startswith("a4") for d in f["data"]]
        assert sources and all(s.endswith("nhefs.dta") for s in sources)


def test_notebook_on_a_users_ab_file(tmp_path):
    sim = simulate_ab_test(600, effect=0.6, segments={"monthly": 1.0, "annual": 1.0}, random_state=3)
    frame = pd.DataFrame({"group": sim["arm"].map({"treatment": "A", "control": "B"}), "months": sim["tenure"],
                          "left": sim["churned"].astype(int), "plan": sim["segment"]})
    path = tmp_path / "holdout_test.csv"
    frame.to_csv(path, index=False)
    fig_dir = tmp_path / "figures"
    params = {"data_path": str(path), "arm_col": "group", "duration_col": "months", "event_col": "left",
              "segment_col": "plan", "cause_col": "reason", "reference_arm": "B", "n_customers": 500, "n_boot": 10,
              "fig_dir": str(fig_dir)}
    run_notebook(ROOT / "notebooks" / "05_actions.py", tmp_path / "05_actions.ipynb", params, progress=False)
    notes = _notes(fig_dir)
    ab = notes["a3c_ab"]
    counts = frame["group"].value_counts()
    assert "`holdout_test.csv`" in ab
    assert f"A: {counts['A']:,}" in ab and f"B: {counts['B']:,}" in ab
    assert "**A** minus B" in ab and "truth" not in ab
    assert "truth" not in notes["headline_05_ab"] and INTERVAL.search(notes["headline_05_ab"])
    assert "monthly" in notes["a3d_uplift"] and "annual" in notes["a3d_uplift"]
    assert "no column `reason`" in notes["a3_no_cause_col"]
    table = pd.read_csv(fig_dir / "a3a_ab_effects.csv")
    assert set(table["quantity"]) == {"survival", "rmst"} and "truth" not in table.columns
    manifest = json.loads((fig_dir / "manifest.json").read_text())
    ab_sources = {d["path"] for f in manifest["figures"] if f["id"].startswith("a3") for d in f["data"]}
    assert ab_sources and all(s.endswith("holdout_test.csv") for s in ab_sources)
