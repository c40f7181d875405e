"""Legends never cover the data: detection, placement, and every gallery figure after save_figure."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from churnsurv.plotting.legends import legend_overlaps, place_legends

plt = pytest.importorskip("matplotlib.pyplot")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _crossing_figure(loc="center"):
    fig, ax = plt.subplots(figsize=(6, 4))
    x = np.linspace(0, 10, 50)
    ax.plot(x, 1 - x / 10, label="falling")  # the diagonal passes through the centre
    ax.plot(x, np.full_like(x, 0.5), label="flat")  # a flat stretch the size of the axes
    ax.legend(loc=loc)
    return fig, ax


def test_a_legend_on_the_lines_is_found():
    fig, _ = _crossing_figure("center")
    assert legend_overlaps(fig) == [(0, 2)]


def test_a_legend_in_a_free_corner_is_left_alone():
    fig, ax = _crossing_figure("upper right")
    assert legend_overlaps(fig) == []
    assert place_legends(fig) == []
    assert ax.get_legend()._loc == ax.get_legend().codes["upper right"]


def test_a_covering_legend_moves_to_a_free_corner():
    fig, ax = _crossing_figure("center")
    moved = place_legends(fig)
    assert moved == [(0, "upper right")]
    assert legend_overlaps(fig) == []


def test_a_legend_with_no_free_corner_goes_outside():
    fig, ax = plt.subplots(figsize=(4, 3))
    rng = np.random.default_rng(1)
    ax.scatter(rng.uniform(0, 1, 4000), rng.uniform(0, 1, 4000), s=2, label="customers")  # data everywhere
    ax.legend(loc="center")
    assert place_legends(fig) == [(0, "outside")]
    assert legend_overlaps(fig) == []


def test_confidence_bands_count_as_data():
    fig, ax = plt.subplots(figsize=(6, 4))
    x = np.linspace(0, 10, 20)
    ax.fill_between(x, 0.0, 1.0, alpha=0.2, label="band")  # covers the whole plot area
    ax.set_ylim(0, 2)
    ax.legend(loc="lower left")
    assert legend_overlaps(fig) == [(0, 1)]
    place_legends(fig)
    assert legend_overlaps(fig) == []
    assert ax.get_legend()._loc == ax.get_legend().codes["upper right"]


def test_shaded_spans_are_background():
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.axvspan(0, 10, color="0.9")  # a region marker across the whole height
    ax.plot([0, 10], [0, 0.1], label="line")
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    assert legend_overlaps(fig) == []


def test_save_figure_moves_legends_and_records_it(tmp_path):
    from churnsurv.reporting import save_figure

    fig, _ = _crossing_figure("center")
    save_figure(fig, "crossing", fig_dir=tmp_path, caption="Two lines.")
    entry = json.loads((tmp_path / "manifest.json").read_text())["figures"][0]
    assert entry["legends"] == {"moved": 1, "covering_data": 0}


def test_every_gallery_figure_is_clear_of_its_legend():
    """Each public plot function, drawn as the docs gallery draws it, then placed as save_figure places it."""
    import inspect
    import warnings

    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import gallery
    finally:
        sys.path.remove(str(ROOT / "docs"))
    import matplotlib

    moved = {}
    with matplotlib.rc_context():  # the gallery applies the report style: keep it out of the other tests
        data = gallery.setup()
        for name, _title, _caption, func in gallery.FIGURES:
            plt.close("all")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                func(**{p: data[p] for p in inspect.signature(func).parameters})
            fig = plt.gcf()
            moved[name] = place_legends(fig)
            assert legend_overlaps(fig) == [], name
    assert len(moved) == len(gallery.FIGURES) >= 9
