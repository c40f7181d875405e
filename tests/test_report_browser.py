"""Open the built report in headless Chromium: every image loads, the page renders.

The report template sets ``data-broken-images`` on ``<body>`` once the page has
loaded (count of ``img`` elements with ``naturalWidth == 0``); Chromium's
``--dump-dom`` gives us the DOM after that script ran.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnsurv.reporting import build_report

CHROMIUM = Path("/usr/bin/chromium")
DEMO = Path(__file__).parent / "notebooks" / "demo_report.py"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)"),
]


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


@pytest.fixture(scope="module")
def built_report(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser_report")
    pd.DataFrame({"time": np.arange(8.0), "survival": 0.85 ** np.arange(8)}).to_csv(root / "data.csv", index=False)
    config = {
        "title": "Browser check",
        "parameters": {"data_path": "data.csv"},
        "notebooks": [{"path": str(DEMO), "parameters": {"n_points": 8}}],
        "base_dir": str(root),
    }
    return build_report(config, output_dir=root / "report", progress=False)


def test_report_images_load_in_chromium(built_report, tmp_path):
    url = built_report.resolve().as_uri()
    dom = chromium("--dump-dom", "--virtual-time-budget=5000", url, profile=tmp_path / "profile").stdout
    body = re.search(r"<body[^>]*>", dom)
    assert body is not None, dom[:500]
    images = re.search(r'data-image-count="(\d+)"', body.group(0))
    broken = re.search(r'data-broken-images="(\d+)"', body.group(0))
    assert images is not None and broken is not None, f"load script did not run: {body.group(0)}"
    assert int(images.group(1)) >= 1
    assert broken.group(1) == "0"


def test_report_screenshot(built_report, tmp_path):
    shot = tmp_path / "screenshot.png"
    chromium(
        f"--screenshot={shot}",
        "--window-size=1200,3000",
        built_report.resolve().as_uri(),
        profile=tmp_path / "profile",
    )
    content = shot.read_bytes()
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")) == (1200, 3000)
