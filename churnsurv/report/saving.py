"""Figures, tables and notes saved reproducibly, with the shared matplotlib style (see :mod:`churnsurv.report`)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from churnsurv.report.manifest import (
    _COUNT,
    _DEFAULT_DPI,
    _P_VALUE,
    _base_entry,
    _check_caption,
    _check_dpi,
    _check_name,
    _file_record,
    _manifest_path,
    _record,
    _render_figure,
    _write_bytes,
)

__all__ = [
    "STYLE_PATH",
    "figure_dir",
    "save_figure",
    "save_table",
    "save_text",
    "style_context",
    "use_style",
]

#: The shared matplotlib style applied by :func:`use_style`.
STYLE_PATH = Path(__file__).parent / "styles" / "churnsurv.mplstyle"

_SVG_HASHSALT = "churnsurv"


# --------------------------------------------------------------------------- #
# Style
# --------------------------------------------------------------------------- #
def use_style() -> None:
    """Apply the shared churnsurv matplotlib style for the rest of the session.

    The style (``churnsurv/report/styles/churnsurv.mplstyle``) sets the colour-blind
    safe Okabe-Ito palette, DejaVu Sans (shipped with matplotlib, hence the
    same pixels on every machine), a light grid, no top/right spines,
    constrained layout and a 7 x 4.5 inch figure. Notebooks call it once in
    their imports cell; plot functions never do.

    See Also
    --------
    style_context : The same style for a ``with`` block only.
    save_figure : Save a figure deterministically.

    Examples
    --------
    >>> from churnsurv.reporting import use_style
    >>> use_style()
    """
    import matplotlib.style

    matplotlib.style.use(STYLE_PATH)


@contextlib.contextmanager
def style_context() -> Iterator[None]:
    """Apply the shared churnsurv matplotlib style inside a ``with`` block.

    Useful in tests and scripts that must not change the global rcParams;
    notebooks usually call :func:`use_style` once instead.

    Yields
    ------
    None
        The previous rcParams are restored when the block exits.

    See Also
    --------
    use_style : Apply the style for the whole session.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from churnsurv.reporting import style_context
    >>> with style_context():
    ...     fig, ax = plt.subplots()
    >>> plt.close(fig)
    """
    import matplotlib.style

    with matplotlib.style.context(STYLE_PATH):
        yield


# --------------------------------------------------------------------------- #
# Saving figures, tables and texts
# --------------------------------------------------------------------------- #
def figure_dir(path: str | os.PathLike = "reports/figures") -> Path:
    """Create (if needed) and return a directory for figures.

    Notebooks receive their output directory as the ``fig_dir`` parameter;
    :func:`save_figure` and friends create it themselves, so this is only a
    convenience for code that writes other files next to the figures.

    Parameters
    ----------
    path : str or path-like, default "reports/figures"
        The directory. Notebooks receive it as their ``fig_dir`` parameter.

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`, created with its parents.

    See Also
    --------
    save_figure : Write a figure into such a directory.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from churnsurv.reporting import figure_dir
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     figure_dir(Path(tmp) / "reports" / "figures").is_dir()
    True
    """
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def save_figure(
    fig,
    name: str,
    *,
    fig_dir: str | os.PathLike,
    caption: str,
    notebook: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    data_paths: Iterable[str | os.PathLike | None] | str | os.PathLike = (),
    manifest: str | os.PathLike | None = None,
    dpi: int = _DEFAULT_DPI,
) -> Path:
    """Save a figure as PNG and SVG, deterministically, and record it in the manifest.

    Writes ``<fig_dir>/<name>.png`` and ``<fig_dir>/<name>.svg`` at a fixed
    DPI and the figure's own size, without date or software metadata and with
    a fixed SVG hash salt, so two runs give byte-identical files. Then adds (or
    replaces) the entry ``name`` in the ``figures`` list of the manifest.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure. It is not closed, so notebooks still display it.
    name : str
        Figure id and file stem: letters, digits, ``_``, ``-`` and ``.``. Ids
        are unique across a report; the report shows a notebook's figures in
        id order, so prefix them (``"01_km"``, ``"02_hazard"``) to order them.
    fig_dir : str or path-like
        Output directory (created if missing); notebooks get it as a parameter.
    caption : str
        Caption shown under the figure in the report.
    notebook : str, optional
        Name of the producing notebook. Defaults to the ``CHURNSURV_NOTEBOOK``
        environment variable, which :func:`run_notebook` sets in the kernel.
    parameters : mapping, optional
        The notebook parameters behind the figure; recorded after conversion
        to JSON-safe values (paths become strings, NumPy scalars Python
        numbers, non-finite floats strings).
    data_paths : path or iterable of paths, optional
        Input data files; each is recorded with its SHA-256. ``None`` entries
        are skipped so an optional ``data_path`` parameter can be passed as is.
    manifest : str or path-like, optional
        Manifest file; ``<fig_dir>/manifest.json`` by default.
    dpi : int, default 150
        Resolution of the PNG (and of rasterized artists in the SVG).

    Returns
    -------
    Path
        Path of the PNG file.

    Raises
    ------
    ValueError
        If ``name`` or ``caption`` is invalid, or if another notebook already
        recorded a figure with this id in the manifest.
    FileNotFoundError
        If a data path does not exist.

    See Also
    --------
    save_table : Save a key table for the report.
    save_text : Save a methods/assumptions note for the report.
    use_style : The shared style notebooks apply before plotting.

    Notes
    -----
    The manifest entry holds ``id``, ``caption``, ``notebook``, ``parameters``,
    ``data`` (``path`` and ``sha256`` per input file), ``versions`` (churnsurv,
    python, numpy, pandas, scipy, matplotlib, lifelines), ``files`` (``png``
    and ``svg``, each with ``path`` relative to the manifest and ``sha256``),
    ``dpi``, ``size_inches`` and ``legends`` (how many legends were moved off
    the data, and how many still cover data: 0 unless no free place exists).
    Before rendering, a legend that covers data is moved to a free inside
    corner, else just outside the axes (:func:`~churnsurv.plotting.legends.place_legends`).
    The manifest's top-level ``generated_at``
    (UTC, ISO 8601) is the only value that changes between identical runs.

    Examples
    --------
    >>> import tempfile
    >>> import matplotlib.pyplot as plt
    >>> from churnsurv.reporting import save_figure
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1, 2], [1.0, 0.8, 0.7])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_figure(fig, "demo", fig_dir=tmp, caption="A demo curve.")
    ...     print(path.name)
    demo.png
    >>> plt.close(fig)
    """
    import matplotlib as mpl

    _check_name(name, "save_figure")
    _check_caption(caption, "save_figure")
    dpi = _check_dpi(dpi)
    out_dir = figure_dir(fig_dir)
    manifest_path = _manifest_path(out_dir, manifest)

    rc = {
        "svg.hashsalt": _SVG_HASHSALT,
        "svg.fonttype": "path",
        "savefig.bbox": "standard",
        "savefig.transparent": False,
    }
    from churnsurv.plotting.legends import legend_overlaps, place_legends

    with mpl.rc_context(rc):
        moved = place_legends(fig)  # no legend over the data: a free corner, else outside the axes
        covering = legend_overlaps(fig)
        png = _render_figure(fig, "png", dpi, {"Software": None})
        svg = _render_figure(fig, "svg", dpi, {"Date": None, "Creator": None})
    png_path = _write_bytes(out_dir / f"{name}.png", png)
    svg_path = _write_bytes(out_dir / f"{name}.svg", svg)

    width, height = (float(v) for v in fig.get_size_inches())
    entry = _base_entry(name, caption, notebook, parameters, data_paths)
    entry["files"] = {
        "png": _file_record(png_path, manifest_path.parent, png),
        "svg": _file_record(svg_path, manifest_path.parent, svg),
    }
    entry["dpi"] = dpi
    entry["size_inches"] = [round(width, 4), round(height, 4)]
    entry["legends"] = {"moved": len(moved), "covering_data": len(covering)}
    _record(manifest_path, "figures", entry)
    return png_path


def save_table(
    df,
    name: str,
    *,
    fig_dir: str | os.PathLike,
    caption: str,
    notebook: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    data_paths: Iterable[str | os.PathLike | None] | str | os.PathLike = (),
    manifest: str | os.PathLike | None = None,
    index: bool = False,
    float_format: str | None = None,
) -> Path:
    """Save a key table as CSV and record it in the manifest's ``tables`` list.

    The report renders each recorded table as an HTML table (numbers rounded
    for display; the CSV, linked from the report, keeps full precision).
    Count columns (``n`` and ``n_*``) holding whole numbers only are written as
    integers (``3610``, not ``3610.000``).

    Parameters
    ----------
    df : pandas.DataFrame
        The table, preferably tidy (see the results vocabulary in
        ``CONTRIBUTING.md``).
    name : str
        Table id and file stem (letters, digits, ``_``, ``-``, ``.``).
    fig_dir : str or path-like
        Output directory, the same as for :func:`save_figure`.
    caption : str
        Caption shown above the table in the report.
    notebook : str, optional
        Producing notebook; ``CHURNSURV_NOTEBOOK`` by default (see :func:`save_figure`).
    parameters : mapping, optional
        Notebook parameters, recorded as JSON-safe values.
    data_paths : path or iterable of paths, optional
        Input data files, recorded with their SHA-256 (``None`` entries skipped).
    manifest : str or path-like, optional
        Manifest file; ``<fig_dir>/manifest.json`` by default.
    index : bool, default False
        Whether to write the DataFrame index as the first column(s).
    float_format : str, optional
        ``%``-format for floats in the CSV (e.g. ``"%.4f"``); full precision
        by default. It does not apply to p-value columns (``p_value``,
        ``p_adjusted``, ``p``...), written with four significant digits so that
        a small p-value is never rounded to 0.

    Returns
    -------
    Path
        Path of the CSV file.

    See Also
    --------
    save_figure : Save a figure and record it.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from churnsurv.reporting import save_table
    >>> table = pd.DataFrame({"segment": ["A", "B"], "estimate": [0.81, 0.64]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(save_table(table, "medians", fig_dir=tmp, caption="Medians.").name)
    medians.csv
    """
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"The 'df' parameter of save_table must be a pandas DataFrame. Got {type(df).__name__} instead."
        )
    _check_name(name, "save_table")
    _check_caption(caption, "save_table")
    out_dir = figure_dir(fig_dir)
    manifest_path = _manifest_path(out_dir, manifest)

    content = _csv_bytes(df, index=index, float_format=float_format)
    csv_path = _write_bytes(out_dir / f"{name}.csv", content)

    entry = _base_entry(name, caption, notebook, parameters, data_paths)
    entry["files"] = {"csv": _file_record(csv_path, manifest_path.parent, content)}
    entry["n_rows"] = len(df)
    entry["columns"] = [str(c) for c in df.columns]
    _record(manifest_path, "tables", entry)
    return csv_path


def _csv_bytes(df, *, index: bool, float_format: str | None) -> bytes:
    """The CSV of ``df``: whole-number count columns as integers, p-values at four significant digits."""
    import numpy as np
    import pandas as pd

    out = df.copy()
    for column in out.columns:
        values = out[column]
        if not pd.api.types.is_float_dtype(values):
            continue
        name = str(column)
        finite = values.dropna()
        if _COUNT.match(name) and np.isfinite(finite).all() and (finite == finite.round()).all():
            out[column] = values.round().astype("Int64")
        elif _P_VALUE.match(name):
            out[column] = values.map(lambda v: "" if pd.isna(v) else f"{v:.4g}").astype(object)
    return out.to_csv(index=index, lineterminator="\n", float_format=float_format).encode("utf-8")


def save_text(
    text: str,
    name: str,
    *,
    fig_dir: str | os.PathLike,
    title: str,
    notebook: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    data_paths: Iterable[str | os.PathLike | None] | str | os.PathLike = (),
    manifest: str | os.PathLike | None = None,
) -> Path:
    """Save a Markdown finding, shown in its notebook's section of the report (in id order with the figures).

    Notebooks state their estimand, censoring assumptions, segment choices and
    caveats here; the report renders every note (CommonMark plus tables, raw
    HTML escaped) under the notebook's name, in id order.

    Parameters
    ----------
    text : str
        Markdown text. Headings are demoted so they nest under the report's.
    name : str
        Note id and file stem (letters, digits, ``_``, ``-``, ``.``).
    fig_dir : str or path-like
        Output directory, the same as for :func:`save_figure`.
    title : str
        Heading of the note in the report.
    notebook : str, optional
        Producing notebook; ``CHURNSURV_NOTEBOOK`` by default (see :func:`save_figure`).
    parameters : mapping, optional
        Notebook parameters, recorded as JSON-safe values.
    data_paths : path or iterable of paths, optional
        Input data files, recorded with their SHA-256 (``None`` entries skipped).
    manifest : str or path-like, optional
        Manifest file; ``<fig_dir>/manifest.json`` by default.

    Returns
    -------
    Path
        Path of the ``.md`` file.

    See Also
    --------
    save_figure : Save a figure and record it.

    Examples
    --------
    >>> import tempfile
    >>> from churnsurv.reporting import save_text
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     note = "Customers who left for *unknown* reasons are censored."
    ...     print(save_text(note, "km_methods", fig_dir=tmp, title="Kaplan-Meier").name)
    km_methods.md
    """
    if not isinstance(text, str):
        raise TypeError(f"The 'text' parameter of save_text must be a str. Got {type(text).__name__} instead.")
    _check_name(name, "save_text")
    _check_caption(title, "save_text", param="title")
    out_dir = figure_dir(fig_dir)
    manifest_path = _manifest_path(out_dir, manifest)

    content = (text.strip() + "\n").encode("utf-8")
    md_path = _write_bytes(out_dir / f"{name}.md", content)

    entry = _base_entry(name, title, notebook, parameters, data_paths)
    entry["title"] = entry.pop("caption")
    entry["files"] = {"md": _file_record(md_path, manifest_path.parent, content)}
    _record(manifest_path, "texts", entry)
    return md_path
