"""The documentation site: it builds with no warnings, its generated parts exist, and its examples run.

* ``mkdocs build --strict`` (numpydoc docstrings through mkdocstrings, the hooks of ``docs/hooks.py``) must log no
  WARNING line. The hook executes the example notebooks (cached in ``.cache/docs``) and draws the gallery, so
  the test also checks that the gallery images and the notebook pages, with their figures, were produced.
* Every ```` ```python ```` block of the user-facing pages runs, top to bottom in one namespace per page, as a
  reader would paste them (blocks preceded by ``<!-- not-run -->`` are skipped: they run notebooks or need files
  of your own).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
REFERENCE_PAGES = ["data/tenures", "data/causes", "data/datasets", "data/simulate", "lifetable/table",
                   "lifetable/duckdb", "nonparametric/survival", "nonparametric/smoothing", "nonparametric/logrank",
                   "nonparametric/cohorts",
                   "competing/incidence", "competing/finegray", "models/cox", "models/parametric",
                   "models/discrete_time", "models/beta_geometric", "models/validation", "value/value",
                   "effects/effects", "states/states",
                   "plotting/plotting", "report/reporting", "exceptions", "cli"]
NOTEBOOKS = ["01_segments", "02_causes", "03_models", "04_value"]
EXAMPLE_PAGES = ["index.md", "getting-started.md", *sorted(p.relative_to(DOCS).as_posix()
                                                           for p in (DOCS / "guide").glob("*.md"))]
PYTHON_BLOCK = re.compile(r"(?P<skip><!-- not-run -->\s*\n)?^```python[^\n]*\n(?P<code>.*?)^```", re.S | re.M)


def _hooks():
    spec = importlib.util.spec_from_file_location("churnsurv_docs_hooks", DOCS / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build(out: Path, cache: Path | None = None) -> tuple[int, str, float]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env.pop("CHURNSURV_DOCS_SKIP_NOTEBOOKS", None)
    if cache is not None:
        env["CHURNSURV_DOCS_CACHE"] = str(cache)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=900,
    )
    return proc.returncode, proc.stdout + proc.stderr, time.perf_counter() - start


@pytest.fixture(scope="session")
def site(once):
    """Build the site once per test run, whichever workers ask for it; returns (site directory, log, seconds)."""

    def job(folder: Path) -> dict:
        code, log, seconds = _build(folder / "site")
        return {"out": str(folder / "site"), "code": code, "log": log, "seconds": seconds}

    built = once("docs-site", job)
    assert built["code"] == 0, built["log"]
    return Path(built["out"]), built["log"], built["seconds"]


@pytest.mark.slow
def test_two_builds_at_once_do_not_interfere(tmp_path):
    # Two builds with one fresh cache: both execute the notebooks and write the generated pages at the same time
    # (an earlier hook let one build delete the other's partial notebook).
    cache = tmp_path / "cache"
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda k: _build(tmp_path / f"site{k}", cache), [1, 2]))
    for code, log, _ in runs:
        assert code == 0, log
    for k in (1, 2):
        page = (tmp_path / f"site{k}" / "notebooks" / "01_segments" / "index.html").read_text()
        assert "Not executed" not in page and "Traceback" not in page
    assert sorted(p.name for p in cache.iterdir() if not p.name.startswith(".")) == sorted(
        {p.name for p in cache.glob("[0-9][0-9]_*-*.ipynb")})


@pytest.mark.slow
def test_docs_build_without_warnings(site):
    out, log, seconds = site
    warnings = [line for line in log.splitlines() if "WARNING" in line]
    assert not warnings, "\n".join(warnings)
    for page in REFERENCE_PAGES:
        assert (out / "reference" / page / "index.html").exists(), page
    for page in ["methods", "gallery", "guide/which-method", "guide/segments", "guide/competing-risks",
                 "guide/report", "guide/scale"]:
        assert (out / page / "index.html").exists(), page
    print(f"docs built in {seconds:.0f} s")


@pytest.mark.slow
def test_gallery_images_were_generated(site):
    out, _, _ = site
    _, entries = _hooks().gallery_entries()
    assert len(entries) >= 7
    html = (out / "gallery" / "index.html").read_text()
    for entry in entries:
        png = out / "gallery" / f"{entry['name']}.png"
        assert png.exists() and png.stat().st_size > 10_000, png
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"{entry['name']}.png" in html
    for function in ["plot_survival", "plot_cumulative_hazard", "plot_hazard", "plot_loglog",
                     "plot_cumulative_incidence", "plot_cumulative_incidence_grid", "plot_forest"]:
        assert any(f"cs.{function}(" in e["code"] for e in entries), f"no gallery figure uses {function}"


@pytest.mark.slow
def test_notebook_pages_were_executed_and_rendered(site):
    out, _, _ = site
    for name in NOTEBOOKS:
        page = out / "notebooks" / name / "index.html"
        assert page.exists(), page
        html = page.read_text()
        assert "Not executed" not in html, f"{name} is a placeholder page"
        images = re.findall(r'<img[^>]+src="([^"]+\.png)"', html)
        assert images, f"{name}: no figure in the rendered notebook"
        for src in images:
            assert (page.parent / src).resolve().exists(), f"{name}: missing image {src}"
        assert "fig_dir" in html  # the parameters cell is shown
        assert "Traceback" not in html


def _page_examples(page: str) -> list[tuple[bool, str]]:
    text = (DOCS / page).read_text()
    return [(bool(m.group("skip")), m.group("code")) for m in PYTHON_BLOCK.finditer(text)]


@pytest.mark.slow
@pytest.mark.parametrize("page", EXAMPLE_PAGES)
def test_page_examples_run(page, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    blocks = _page_examples(page)
    namespace = {"__name__": "__main__"}
    try:
        for number, (skip, code) in enumerate(blocks, start=1):
            if skip:
                continue
            with contextlib.redirect_stdout(io.StringIO()):
                try:
                    exec(compile(code, f"{page} (python block {number})", "exec"), namespace)
                except Exception as err:  # noqa: BLE001 - re-raised with the block that failed
                    raise AssertionError(f"{page}, python block {number} failed:\n{code}") from err
    finally:
        plt.close("all")
