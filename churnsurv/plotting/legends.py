"""Legends that never cover the data: find overlaps and move a legend to a free corner or outside the axes.

matplotlib's ``loc="best"`` weighs only line vertices, so a legend can still sit on a long flat stretch of a
step curve, on a confidence band or on scatter points. :func:`legend_overlaps` tests the drawn legend box against
every data artist of its axes (line paths, filled bands, scatter points, bars); :func:`place_legends` moves each
offending legend to the first inside corner where it covers nothing, else just outside the axes on the right.
:func:`~churnsurv.reporting.save_figure` calls it on every figure, so no report figure hides data under a legend.
"""

from __future__ import annotations

__all__ = ["legend_overlaps", "place_legends"]

#: Inside positions tried in turn before a legend goes outside the axes.
_CORNERS = ("upper right", "upper left", "lower left", "lower right", "center right", "upper center",
            "lower center", "center left")


def _data_artists(ax):
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    legend = ax.get_legend()
    out = []
    for artist in ax.get_children():
        if artist is legend or not artist.get_visible() or artist is ax.patch:
            continue
        if isinstance(artist, (Line2D, Collection)) or (isinstance(artist, Patch) and artist.axes is ax
                                                        and artist not in ax.spines.values()):
            out.append(artist)
    return out


def _covers(artist, box) -> bool:
    """Whether the display-space ``box`` touches the drawn part of ``artist``."""
    import numpy as np
    from matplotlib.collections import Collection, PathCollection
    from matplotlib.lines import Line2D

    clip = artist.axes.bbox
    if isinstance(artist, Line2D):
        path = artist.get_transform().transform_path(artist.get_path())
        if len(path.vertices) == 0:
            return False
        if artist.get_linestyle() in ("None", "none", "", " ") or len(path.vertices) == 1:
            pts = path.vertices
            return bool(np.any((pts[:, 0] >= box.x0) & (pts[:, 0] <= box.x1) & (pts[:, 1] >= box.y0)
                               & (pts[:, 1] <= box.y1)))
        return bool(path.intersects_bbox(box, filled=False))
    if isinstance(artist, PathCollection) and len(artist.get_offsets()):
        pts = artist.get_offset_transform().transform(np.asarray(artist.get_offsets(), float))
        inside = (pts[:, 0] >= box.x0) & (pts[:, 0] <= box.x1) & (pts[:, 1] >= box.y0) & (pts[:, 1] <= box.y1)
        return bool(inside.any())
    if isinstance(artist, Collection):
        transform = artist.get_transform()
        for path in artist.get_paths():
            p = transform.transform_path(path)
            if len(p.vertices) and p.get_extents().overlaps(clip) and p.intersects_bbox(box, filled=True):
                return True
        return False
    try:  # patches (bars, rectangles)
        extent = artist.get_window_extent()
    except Exception:  # noqa: BLE001 - an artist without a drawable extent cannot hide anything
        return False
    if extent.width >= 0.98 * clip.width or extent.height >= 0.98 * clip.height:
        return False  # a shaded span (axvspan/axhspan) marks a region; it is background, not data
    return bool(extent.width > 0 and extent.height > 0 and extent.overlaps(box))


def legend_overlaps(fig) -> list:
    """The legends of ``fig`` that cover data: a list of ``(axes_index, n_artists_covered)``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure; it is drawn (no output) so that legend positions are final.

    Returns
    -------
    list of tuple
        One ``(index of the axes in fig.axes, number of data artists under its legend)`` per covering legend
        (the data of every axes of the figure count, so a legend placed outside one panel of a grid must not
        cover the next); empty when every legend is clear of the data.
    """
    fig.canvas.draw()
    out = []
    for i, ax in enumerate(fig.axes):
        legend = ax.get_legend()
        if legend is None or not legend.get_visible():
            continue
        box = legend.get_window_extent()
        n = sum(_covers(a, box) for other in fig.axes for a in _data_artists(other))
        if n:
            out.append((i, n))
    return out


def place_legends(fig) -> list:
    """Move every legend that covers data to a free inside corner, or outside the axes on the right.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Changed in place (only legend positions).

    Returns
    -------
    list of tuple
        ``(axes_index, "corner name" | "outside")`` for each legend moved; empty when none had to move.
    """
    moved = []
    for i, _ in legend_overlaps(fig):
        ax = fig.axes[i]
        legend = ax.get_legend()
        placed = None
        for corner in _CORNERS:
            legend.set_bbox_to_anchor(None)
            legend.set_loc(corner)
            fig.canvas.draw()
            box = legend.get_window_extent()
            if not any(_covers(a, box) for other in fig.axes for a in _data_artists(other)):
                placed = corner
                break
        if placed is None:
            legend.set_loc("upper left")
            legend.set_bbox_to_anchor((1.01, 1.0), transform=ax.transAxes)
            placed = "outside"
            fig.canvas.draw()
        moved.append((i, placed))
    return moved
