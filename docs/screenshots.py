"""Screenshots of two reports for the documentation: the bundled example and a report on a small file of one's own.

Run by ``docs/hooks.py`` at build time (``python docs/screenshots.py <out_dir>``), cached like the gallery. It builds
both reports with :func:`churnsurv.reporting.build_report` into a temporary folder and photographs their top with
headless Chromium: ``report_bundled.png`` (the bundled telco snapshot) and ``report_own_data.png`` (a simulated
300-customer file of sign-up and cancel dates, the way an analyst's export looks). Without Chromium it writes
nothing and exits 3, and the hook says so.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = next((c for c in ("chromium", "chromium-browser", "google-chrome") if shutil.which(c)), None)


def _own_file(folder: Path) -> Path:
    import pandas as pd

    from churnsurv.data.simulate import simulate_churn

    d = simulate_churn(300, random_state=11, signup_months=24).data
    cancel = [s + pd.DateOffset(months=int(m)) + pd.Timedelta(days=3) if e else None
              for s, m, e in zip(d["signup_date"], d["exit"], d["event"], strict=True)]
    frame = pd.DataFrame({"signup": d["signup_date"].dt.strftime("%Y-%m-%d"),
                          "cancel": [c.strftime("%Y-%m-%d") if c is not None else "" for c in cancel],
                          "reason": d["cause"].astype(object), "plan": d["segment"].astype(str)})
    path = folder / "subscriptions.csv"
    frame.to_csv(path, index=False)
    return path


def _shoot(index: Path, png: Path) -> None:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1"]
    subprocess.run([CHROMIUM, *flags, f"--screenshot={png}", "--window-size=1100,1500", index.as_uri()],
                   capture_output=True, text=True, timeout=180, check=True)


def main(out_dir: str) -> int:
    if CHROMIUM is None:
        print("no chromium: screenshots not taken")
        return 3
    from churnsurv.reporting import build_report, load_report_config

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="churnsurv-docs-shots-") as tmp:
        tmp = Path(tmp)
        config = ROOT / "notebooks" / "report.yaml"
        bundled = build_report(config, output_dir=tmp / "bundled", progress=False)
        _shoot(bundled, out / "report_bundled.png")
        data = _own_file(tmp)
        cfg = load_report_config(config)
        cfg["title"] = "Customer churn: subscriptions.csv"
        cfg["intro"] = "A report on a file of one's own: 300 subscriptions with sign-up and cancel dates."
        own = build_report(cfg, output_dir=tmp / "own", progress=False, parameters={
            "data_path": str(data), "start_col": "signup", "end_col": "cancel", "as_of": "2024-12-31",
            "status_col": None, "duration_col": None, "cause_col": "reason", "cause_mapping": None,
            "segment_cols": ["plan"], "segment_col": "plan", "ordered_segment": None, "pitfall_col": None,
            "focus_cause": None, "reference_level": None, "numeric_covariates": []})
        _shoot(own, out / "report_own_data.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
