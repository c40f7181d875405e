"""Reproducible figures, notebook execution and the HTML report.

The pipeline is ``raw data -> run_notebook -> figures -> report`` with no
manual step (see ``CONTRIBUTING.md``):

* notebooks (``notebooks/NN_slug.py``, jupytext percent format) call
  :func:`use_style` once and write every figure through :func:`save_figure`,
  every key table through :func:`save_table` and every methods note through
  :func:`save_text`. Each call writes deterministic files into ``fig_dir`` and
  records them in ``<fig_dir>/manifest.json`` with their captions, the
  notebook, its parameters, the SHA-256 of the input data and the package
  versions;
* :func:`run_notebook` converts one ``.py`` notebook to ``.ipynb`` and executes
  it with papermill, injecting parameters;
* :func:`build_report` runs the notebooks listed in a report configuration and
  renders ``<output_dir>/index.html`` from the manifest with
  :func:`render_report`. The report embeds only files the manifest lists.

Notebook contract
-----------------
A notebook opens like this (``tests/notebooks/demo_report.py`` is a complete,
runnable example)::

    # %% [markdown]
    # # Survival by contract          <- becomes the report section's title
    #
    # One paragraph: becomes the section's introduction.

    # %% tags=["parameters"]
    data_path = "data/telecom_customer_churn.csv"
    fig_dir = "reports/figures"
    horizon = 24

    # %%
    from churnsurv.reporting import save_figure, save_table, save_text, use_style
    use_style()
    PARAMS = {"data_path": data_path, "horizon": horizon}

and later saves with
``save_figure(fig, "01_km", fig_dir=fig_dir, caption="...", parameters=PARAMS,
data_paths=[data_path])``. The notebook name is recorded automatically when
the notebook runs through :func:`run_notebook` or :func:`build_report`.

Determinism
-----------
Two runs on the same machine give byte-identical PNG, SVG and CSV files, and a
manifest and report that differ only in the single ``generated_at`` timestamp
(set ``SOURCE_DATE_EPOCH`` to pin it as well). Figures are saved at a fixed DPI
and at the figure's own size, without date or software metadata, and SVG ids
use a fixed hash salt. Fonts come from the shared style (DejaVu Sans, shipped
with matplotlib), so the pixels do not depend on the fonts of the machine.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import io
import json
import math
import os
import platform
import re
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

try:  # POSIX only; on other platforms the read-modify-write is unlocked.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

__all__ = [
    "STYLE_PATH",
    "NotebookExecutionError",
    "build_report",
    "figure_dir",
    "load_report_config",
    "render_report",
    "run_notebook",
    "save_figure",
    "save_table",
    "save_text",
    "style_context",
    "use_style",
]

#: The shared matplotlib style applied by :func:`use_style`.
STYLE_PATH = Path(__file__).parent / "styles" / "churnsurv.mplstyle"

_TEMPLATE_DIR = Path(__file__).parent / "templates"
_REPORT_TEMPLATE = "report.html.j2"

#: Environment variable through which :func:`run_notebook` tells the kernel
#: the notebook's name; :func:`save_figure` and friends read it when their
#: ``notebook`` argument is None.
NOTEBOOK_ENV = "CHURNSURV_NOTEBOOK"

MANIFEST_NAME = "manifest.json"
_MANIFEST_SCHEMA = 1
_MANIFEST_SECTIONS = ("figures", "tables", "texts")
_DEFAULT_DPI = 150
_SVG_HASHSALT = "churnsurv"
_VERSION_PACKAGES = ("churnsurv", "numpy", "pandas", "scipy", "matplotlib", "lifelines")
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_CONFIG_KEYS = {"title", "intro", "methods", "parameters", "notebooks"}
_NOTEBOOK_KEYS = {"path", "name", "title", "parameters"}


class NotebookExecutionError(RuntimeError):
    """A notebook raised an exception while :func:`run_notebook` executed it.

    The message names the notebook, the failing cell (number in the source
    ``.py`` file and line), an excerpt of the cell's source, the error type and
    message, and where the partially executed notebook was written.

    Parameters
    ----------
    message : str
        The full message (built by :func:`run_notebook`).
    notebook : str
        Path of the source ``.py`` notebook.
    cell_number : int or None
        1-based number of the failing cell in the source notebook; None when
        the injected parameters cell failed.
    line : int or None
        1-based line of the ``.py`` file that raised.
    source : str
        Source code of the failing cell.
    ename : str
        Name of the exception raised in the kernel.
    evalue : str
        Its message.
    output_path : str
        The executed (partial) notebook.

    Attributes
    ----------
    notebook : str
        Path of the source ``.py`` notebook.
    cell_number : int or None
        1-based number of the failing cell in the source notebook.
    line : int or None
        1-based line of the ``.py`` file that raised (or where the failing
        cell starts, if the traceback does not tell).
    source : str
        Source code of the failing cell.
    ename : str
        Name of the exception raised in the kernel (e.g. ``"KeyError"``).
    evalue : str
        Its message.
    output_path : str
        The executed (partial) notebook, with papermill's error markers.

    See Also
    --------
    run_notebook : Raises this error.

    Examples
    --------
    >>> from churnsurv.reporting import NotebookExecutionError, run_notebook
    >>> try:  # doctest: +SKIP
    ...     run_notebook("notebooks/01_survival.py", "out.ipynb", {"data_path": "missing.csv"})
    ... except NotebookExecutionError as err:
    ...     print(err.ename, err.cell_number, err.line)
    FileNotFoundError 3 27
    """

    def __init__(
        self,
        message: str,
        *,
        notebook: str,
        cell_number: int | None,
        line: int | None,
        source: str,
        ename: str,
        evalue: str,
        output_path: str,
    ):
        super().__init__(message)
        self.notebook = notebook
        self.cell_number = cell_number
        self.line = line
        self.source = source
        self.ename = ename
        self.evalue = evalue
        self.output_path = output_path


# --------------------------------------------------------------------------- #
# Style
# --------------------------------------------------------------------------- #
def use_style() -> None:
    """Apply the shared churnsurv matplotlib style for the rest of the session.

    The style (``churnsurv/styles/churnsurv.mplstyle``) sets the colour-blind
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
    ``dpi`` and ``size_inches``. The manifest's top-level ``generated_at``
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
    with mpl.rc_context(rc):
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
        by default.

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

    content = df.to_csv(index=index, lineterminator="\n", float_format=float_format).encode("utf-8")
    csv_path = _write_bytes(out_dir / f"{name}.csv", content)

    entry = _base_entry(name, caption, notebook, parameters, data_paths)
    entry["files"] = {"csv": _file_record(csv_path, manifest_path.parent, content)}
    entry["n_rows"] = len(df)
    entry["columns"] = [str(c) for c in df.columns]
    _record(manifest_path, "tables", entry)
    return csv_path


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


# --------------------------------------------------------------------------- #
# Running notebooks
# --------------------------------------------------------------------------- #
def run_notebook(
    source_py: str | os.PathLike,
    output_ipynb: str | os.PathLike,
    parameters: Mapping[str, Any] | None = None,
    *,
    kernel_name: str = "python3",
    cwd: str | os.PathLike | None = None,
    progress: bool = True,
    notebook_name: str | None = None,
    timeout: float | None = None,
) -> Path:
    """Execute a jupytext percent-format notebook with papermill.

    Reads ``source_py`` (``# %%`` cells), converts it to ipynb with stable
    cell ids, sets the kernelspec if the header has none, injects
    ``parameters`` after the cell tagged ``parameters`` and executes it,
    writing the executed notebook to ``output_ipynb``.

    Parameters
    ----------
    source_py : str or path-like
        The ``.py`` notebook. Its first code cell is ``# %% tags=["parameters"]``
        and holds the defaults.
    output_ipynb : str or path-like
        Where to write the executed notebook (parent directories are created).
    parameters : mapping, optional
        Values injected by papermill (converted to JSON-safe values first).
    kernel_name : str, default "python3"
        Jupyter kernel to execute with.
    cwd : str or path-like, optional
        Working directory of the kernel; the caller's by default. Relative
        paths in ``parameters`` are resolved from there.
    progress : bool, default True
        Print a start and a finish line to stderr.
    notebook_name : str, optional
        Name under which :func:`save_figure` records the notebook's outputs
        (passed to the kernel in ``CHURNSURV_NOTEBOOK``); the file stem by
        default.
    timeout : float, optional
        Maximum seconds per cell; no limit by default.

    Returns
    -------
    Path
        Path of the executed notebook.

    Raises
    ------
    NotebookExecutionError
        If a cell raises. The message names the notebook, the cell (number and
        line in ``source_py``), an excerpt of its source, and the error; the
        partially executed notebook is still written to ``output_ipynb``.
    ValueError
        If ``parameters`` is not empty but the notebook has no cell tagged
        ``parameters``.
    FileNotFoundError
        If ``source_py`` does not exist.

    See Also
    --------
    build_report : Run the notebooks of a report and render it.

    Examples
    --------
    >>> from churnsurv.reporting import run_notebook
    >>> run_notebook(  # doctest: +SKIP
    ...     "notebooks/01_survival.py",
    ...     "reports/notebooks/01_survival.ipynb",
    ...     {"data_path": "data/telecom_customer_churn.csv", "fig_dir": "reports/figures"},
    ... )
    """
    import jupytext
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source = Path(source_py)
    if not source.is_file():
        raise FileNotFoundError(f"Notebook source {str(source)!r} does not exist.")
    output = Path(output_ipynb)
    output.parent.mkdir(parents=True, exist_ok=True)
    name = notebook_name or source.stem
    params = _json_safe(dict(parameters or {}), "parameters")

    text = source.read_text(encoding="utf-8")
    nb = jupytext.reads(text, fmt="py:percent")
    has_parameters_cell = any("parameters" in cell.metadata.get("tags", []) for cell in nb.cells)
    if params and not has_parameters_cell:
        raise ValueError(
            f"Notebook {str(source)!r} has no cell tagged 'parameters', so papermill cannot inject "
            f"{sorted(params)}. Make its first code cell start with '# %% tags=[\"parameters\"]' "
            "and define the defaults there."
        )
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index:03d}"
    nb.metadata.setdefault("kernelspec", {"name": kernel_name, "display_name": kernel_name, "language": "python"})
    nb.metadata.setdefault("language_info", {"name": "python"})

    if progress:
        _progress(f"running {source} -> {output}")
    start = time.perf_counter()
    engine_kwargs = {} if timeout is None else {"execution_timeout": timeout}
    try:
        with _environ({NOTEBOOK_ENV: name}):
            papermill.execute_notebook(
                nb,
                str(output),
                parameters=params,
                kernel_name=kernel_name,
                language="python",
                cwd=None if cwd is None else str(cwd),
                progress_bar=False,
                **engine_kwargs,
            )
    except PapermillExecutionError as err:
        if progress:
            _progress(f"FAILED {source} after {time.perf_counter() - start:.1f} s")
        raise _execution_error(source, text, nb, params, err, output) from err
    if progress:
        _progress(f"finished {source} in {time.perf_counter() - start:.1f} s")
    return output


# --------------------------------------------------------------------------- #
# Report
# --------------------------------------------------------------------------- #
def load_report_config(path: str | os.PathLike) -> dict:
    """Load and validate a report configuration from a YAML or TOML file.

    Typos are errors: unknown keys raise instead of being ignored, so a
    misspelt ``notebooks`` or ``parameters`` cannot silently drop work.

    Parameters
    ----------
    path : str or path-like
        A ``.yaml``/``.yml`` or ``.toml`` file with the keys

        ``title`` (str, optional)
            Report title.
        ``intro`` (str, optional)
            Markdown shown under the title.
        ``methods`` (str, optional)
            Markdown opening the "Methods and assumptions" section.
        ``parameters`` (mapping, optional)
            Parameters injected into every notebook (``data_path`` ...).
        ``notebooks`` (list, required)
            One mapping per notebook, run in order: ``path`` (the ``.py``
            source, relative to the configuration file), optional
            ``parameters`` (override the global ones), ``name`` (defaults to
            the file stem) and ``title`` (defaults to the first heading of the
            notebook's first markdown cell).

    Returns
    -------
    dict
        The validated configuration, with a ``base_dir`` key holding the
        configuration file's directory (relative paths resolve from it, and
        notebooks run there).

    Raises
    ------
    ValueError
        If the file type is unknown or the content does not follow the schema.

    See Also
    --------
    build_report : Run the configured notebooks and render the report.

    Examples
    --------
    A ``report.yaml``::

        title: Customer churn
        parameters:
          data_path: data/telecom_customer_churn.csv
        notebooks:
          - path: notebooks/01_survival.py
            parameters: {horizon: 24}
    """
    path = Path(path)
    suffix = path.suffix.lower()
    raw = path.read_bytes()
    if suffix in {".yaml", ".yml"}:
        import yaml

        data = yaml.safe_load(raw.decode("utf-8"))
    elif suffix == ".toml":
        import tomllib

        data = tomllib.loads(raw.decode("utf-8"))
    else:
        raise ValueError(
            f"Report configuration {str(path)!r} must be a .yaml, .yml or .toml file. Got {suffix!r} instead."
        )
    config = _validate_config(data, source=str(path))
    config["base_dir"] = str(path.resolve().parent)
    return config


def build_report(
    config: Mapping[str, Any] | str | os.PathLike,
    *,
    output_dir: str | os.PathLike = "reports",
    progress: bool = True,
    kernel_name: str = "python3",
) -> Path:
    """Run the report's notebooks in order and render ``<output_dir>/index.html``.

    Each notebook is executed by :func:`run_notebook` with the global
    parameters, its own parameters and ``fig_dir`` (``<output_dir>/figures``),
    in the configuration's base directory; the executed notebooks go to
    ``<output_dir>/notebooks/<name>.ipynb``. Files of a previous build listed in
    the manifest are removed first, so the report shows exactly what this
    build wrote. Then :func:`render_report` writes the HTML.

    Parameters
    ----------
    config : mapping or str or path-like
        The configuration (see :func:`load_report_config` for the keys), or
        the path of a YAML/TOML file holding it. Relative paths in a mapping
        resolve from its ``base_dir`` key, or from the working directory.
    output_dir : str or path-like, default "reports"
        Report directory, relative to the caller's working directory.
    progress : bool, default True
        Print one line per notebook to stderr (``[1/3] notebooks/... ok (4.2 s)``).
    kernel_name : str, default "python3"
        Jupyter kernel to execute with.

    Returns
    -------
    Path
        Path of ``index.html``.

    Raises
    ------
    NotebookExecutionError
        If a notebook fails; the notebooks after it are not run.
    ValueError
        If the configuration does not follow the schema.

    See Also
    --------
    render_report : Re-render the HTML from an existing manifest.
    run_notebook : Execute one notebook.

    Examples
    --------
    >>> from churnsurv.reporting import build_report
    >>> build_report("notebooks/report.yaml", output_dir="reports")  # doctest: +SKIP
    PosixPath('reports/index.html')
    """
    cfg = _coerce_config(config)
    base_dir = Path(cfg["base_dir"])
    out = Path(output_dir)
    fig_dir = out / "figures"
    nb_dir = out / "notebooks"
    fig_dir.mkdir(parents=True, exist_ok=True)
    _clear_manifest(fig_dir)
    fig_dir_param = _relative_if_inside(fig_dir.resolve(), base_dir)

    notebooks = cfg["notebooks"]
    total_start = time.perf_counter()
    for number, item in enumerate(notebooks, start=1):
        source = base_dir / item["path"]
        params = {**cfg["parameters"], **item["parameters"], "fig_dir": fig_dir_param}
        prefix = f"[{number}/{len(notebooks)}] {item['path']}"
        if progress:
            _progress(f"{prefix} ...")
        start = time.perf_counter()
        try:
            run_notebook(
                source,
                nb_dir / f"{item['name']}.ipynb",
                params,
                kernel_name=kernel_name,
                cwd=base_dir,
                progress=False,
                notebook_name=item["name"],
            )
        except NotebookExecutionError:
            if progress:
                _progress(f"{prefix} FAILED ({time.perf_counter() - start:.1f} s)")
            raise
        if progress:
            _progress(f"{prefix} ok ({time.perf_counter() - start:.1f} s)")
    index = render_report(cfg, output_dir=out)
    if progress:
        _progress(f"report written to {index} ({time.perf_counter() - total_start:.1f} s)")
    return index


def render_report(
    config: Mapping[str, Any] | str | os.PathLike,
    *,
    output_dir: str | os.PathLike = "reports",
) -> Path:
    """Render ``<output_dir>/index.html`` from ``<output_dir>/figures/manifest.json``.

    No notebook is executed: use it to restyle a report, or after running
    notebooks by hand. The page has the title and intro, one section per
    notebook (its introduction, its figures and tables in id order), a
    "Methods and assumptions" section (the configuration's ``methods`` and
    every note saved with :func:`save_text`) and a provenance section
    (notebook sources and parameters, data checksums, package versions, file
    checksums, and the manifest's ``generated_at`` once). Outputs whose
    notebook is not in the configuration are shown under "Other outputs".

    Parameters
    ----------
    config : mapping or str or path-like
        As in :func:`build_report`.
    output_dir : str or path-like, default "reports"
        Report directory holding ``figures/manifest.json``.

    Returns
    -------
    Path
        Path of ``index.html``.

    Raises
    ------
    FileNotFoundError
        If the manifest or a file it lists is missing.
    ValueError
        If a listed file's SHA-256 no longer matches the manifest (it was
        modified after the notebook wrote it).

    See Also
    --------
    build_report : Run the notebooks, then render.

    Examples
    --------
    >>> from churnsurv.reporting import render_report
    >>> render_report("notebooks/report.yaml", output_dir="reports")  # doctest: +SKIP
    PosixPath('reports/index.html')
    """
    import jinja2

    cfg = _coerce_config(config)
    out = Path(output_dir)
    fig_dir = out / "figures"
    manifest_path = fig_dir / MANIFEST_NAME
    if not manifest_path.is_file():
        raise FileNotFoundError(
            f"No manifest at {str(manifest_path)!r}. Run the notebooks first (build_report), or check output_dir."
        )
    manifest = _read_manifest(manifest_path)
    _verify_files(manifest, manifest_path.parent)

    context = _report_context(cfg, manifest, out, manifest_path)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATE_DIR)),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    html = env.get_template(_REPORT_TEMPLATE).render(**context)
    index = out / "index.html"
    _write_bytes(index, html.encode("utf-8"))
    return index


# --------------------------------------------------------------------------- #
# Internals: validation and JSON
# --------------------------------------------------------------------------- #
def _check_name(name, func: str) -> None:
    if not isinstance(name, str) or not _NAME_PATTERN.match(name):
        raise ValueError(
            f"The 'name' parameter of {func} must be a str of letters, digits, '_', '-' or '.', "
            f"starting with a letter or digit. Got {name!r} instead."
        )


def _check_caption(caption, func: str, param: str = "caption") -> None:
    if not isinstance(caption, str) or not caption.strip():
        raise ValueError(f"The '{param}' parameter of {func} must be a non-empty str. Got {caption!r} instead.")


def _check_dpi(dpi) -> int:
    if isinstance(dpi, bool) or not isinstance(dpi, int) or dpi <= 0:
        raise ValueError(f"The 'dpi' parameter of save_figure must be a positive int. Got {dpi!r} instead.")
    return dpi


def _json_safe(value, where: str):
    """Convert ``value`` to plain JSON types, or raise TypeError."""
    import numpy as np

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else str(value)
    if isinstance(value, np.generic):
        return _json_safe(value.item(), where)
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist(), where)
    if isinstance(value, os.PathLike):
        return Path(value).as_posix()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v, where) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v, where) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_json_safe(v, where) for v in value), key=repr)
    raise TypeError(
        f"The {where} must hold JSON-safe values (str, numbers, bool, None, paths, dates, lists, dicts). "
        f"Got {type(value).__name__} ({value!r:.60}). Record a str or number instead."
    )


def _validate_config(data, *, source: str) -> dict:
    where = f"Report configuration {source}"
    if not isinstance(data, Mapping):
        raise ValueError(f"{where} must be a mapping with a 'notebooks' list. Got {type(data).__name__} instead.")
    unknown = sorted(set(data) - _CONFIG_KEYS - {"base_dir"})
    if unknown:
        raise ValueError(f"{where} has unknown keys {unknown}. Allowed keys: {sorted(_CONFIG_KEYS)}.")
    notebooks = data.get("notebooks")
    if not isinstance(notebooks, list) or not notebooks:
        raise ValueError(f"{where} must list at least one notebook under 'notebooks' (each with a 'path').")
    parameters = data.get("parameters") or {}
    if not isinstance(parameters, Mapping):
        raise ValueError(f"{where}: 'parameters' must be a mapping. Got {type(parameters).__name__} instead.")
    items, names = [], set()
    for position, item in enumerate(notebooks, start=1):
        if isinstance(item, str):
            item = {"path": item}
        if not isinstance(item, Mapping) or not isinstance(item.get("path"), str):
            raise ValueError(f"{where}: notebook {position} must be a mapping with a str 'path'. Got {item!r}.")
        unknown = sorted(set(item) - _NOTEBOOK_KEYS)
        if unknown:
            raise ValueError(
                f"{where}: notebook {position} ({item['path']}) has unknown keys {unknown}. "
                f"Allowed keys: {sorted(_NOTEBOOK_KEYS)}."
            )
        nb_params = item.get("parameters") or {}
        if not isinstance(nb_params, Mapping):
            raise ValueError(f"{where}: 'parameters' of notebook {position} ({item['path']}) must be a mapping.")
        name = item.get("name") or Path(item["path"]).stem
        _check_name(name, "the report configuration (notebook name)")
        if name in names:
            raise ValueError(f"{where}: two notebooks are named {name!r}. Give one of them a distinct 'name'.")
        names.add(name)
        items.append(
            {
                "path": item["path"],
                "name": name,
                "title": item.get("title"),
                "parameters": _json_safe(dict(nb_params), "notebook parameters"),
            }
        )
    return {
        "title": data.get("title") or "Customer churn report",
        "intro": data.get("intro") or "",
        "methods": data.get("methods") or "",
        "parameters": _json_safe(dict(parameters), "report parameters"),
        "notebooks": items,
        "base_dir": str(data.get("base_dir") or Path.cwd()),
    }


def _coerce_config(config) -> dict:
    if isinstance(config, (str, os.PathLike)):
        return load_report_config(config)
    if isinstance(config, Mapping):
        return _validate_config(config, source="(mapping)")
    raise TypeError(
        "The 'config' parameter of build_report must be a mapping or the path of a YAML/TOML file. "
        f"Got {type(config).__name__} instead."
    )


# --------------------------------------------------------------------------- #
# Internals: files and manifest
# --------------------------------------------------------------------------- #
def _render_figure(fig, fmt: str, dpi: int, metadata: dict) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata, bbox_inches=None)
    return buffer.getvalue()


def _write_bytes(path: Path, content: bytes) -> Path:
    """Write atomically (temporary file + rename) so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600 files
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _sha256_bytes(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _file_record(path: Path, root: Path, content: bytes) -> dict:
    return {"path": Path(os.path.relpath(path, root)).as_posix(), "sha256": _sha256_bytes(content)}


def _manifest_path(out_dir: Path, manifest) -> Path:
    return Path(manifest) if manifest is not None else out_dir / MANIFEST_NAME


def _versions() -> dict:
    versions = {"python": platform.python_version()}
    for package in _VERSION_PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def _data_records(data_paths) -> list[dict]:
    if data_paths is None:
        return []
    if isinstance(data_paths, (str, os.PathLike)):
        data_paths = [data_paths]
    records = []
    for item in data_paths:
        if item is None:
            continue
        path = Path(item)
        if not path.is_file():
            raise FileNotFoundError(
                f"Data file {str(item)!r} listed in data_paths does not exist (working directory: {os.getcwd()})."
            )
        records.append({"path": path.as_posix(), "sha256": _sha256_file(path)})
    return records


def _base_entry(name, caption, notebook, parameters, data_paths) -> dict:
    if notebook is None:
        notebook = os.environ.get(NOTEBOOK_ENV) or None
    return {
        "id": name,
        "caption": caption,
        "notebook": notebook,
        "parameters": _json_safe(dict(parameters or {}), "parameters"),
        "data": _data_records(data_paths),
        "versions": _versions(),
    }


def _now_iso() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), tz=UTC) if epoch else datetime.now(UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _empty_manifest() -> dict:
    return {"schema": _MANIFEST_SCHEMA, "generated_at": None, **{key: [] for key in _MANIFEST_SECTIONS}}


def _read_manifest(path: Path) -> dict:
    if not path.is_file() or path.stat().st_size == 0:
        return _empty_manifest()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(
            f"Manifest {str(path)!r} is not valid JSON ({err}). Delete it and re-run the notebooks."
        ) from err
    manifest = _empty_manifest()
    manifest.update(data)
    return manifest


def _dump_manifest(manifest: dict) -> bytes:
    for key in _MANIFEST_SECTIONS:
        manifest[key] = sorted(manifest.get(key, []), key=lambda entry: entry["id"])
    return (json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


@contextlib.contextmanager
def _locked(manifest_path: Path) -> Iterator[None]:
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover
        yield
        return
    lock_path = manifest_path.with_name(f".{manifest_path.name}.lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _record(manifest_path: Path, section: str, entry: dict) -> None:
    with _locked(manifest_path):
        manifest = _read_manifest(manifest_path)
        entries = manifest[section]
        for existing in entries:
            if existing["id"] == entry["id"] and existing.get("notebook") != entry["notebook"]:
                raise ValueError(
                    f"The {section[:-1]} id {entry['id']!r} is already recorded in {str(manifest_path)!r} by "
                    f"notebook {existing.get('notebook')!r} (now saved from {entry['notebook']!r}). Ids must be "
                    "unique across a report: rename one of them, or delete the manifest to start afresh."
                )
        manifest[section] = [e for e in entries if e["id"] != entry["id"]] + [entry]
        manifest["generated_at"] = _now_iso()
        _write_bytes(manifest_path, _dump_manifest(manifest))


def _clear_manifest(fig_dir: Path) -> None:
    """Delete the manifest in ``fig_dir`` and the files it lists (nothing else)."""
    manifest_path = fig_dir / MANIFEST_NAME
    with _locked(manifest_path):
        manifest = _read_manifest(manifest_path)
        root = fig_dir.resolve()
        for section in _MANIFEST_SECTIONS:
            for entry in manifest.get(section, []):
                for record in entry.get("files", {}).values():
                    target = (fig_dir / record["path"]).resolve()
                    if target.parent == root:
                        target.unlink(missing_ok=True)
        manifest_path.unlink(missing_ok=True)


def _verify_files(manifest: dict, root: Path) -> None:
    for section in _MANIFEST_SECTIONS:
        for entry in manifest[section]:
            for record in entry["files"].values():
                path = root / record["path"]
                if not path.is_file():
                    raise FileNotFoundError(
                        f"{section[:-1].capitalize()} {entry['id']!r} (notebook {entry.get('notebook')!r}) lists "
                        f"{str(path)!r}, which does not exist. Re-run the notebook."
                    )
                if _sha256_file(path) != record["sha256"]:
                    raise ValueError(
                        f"{str(path)!r} does not match the SHA-256 recorded in the manifest: it changed after "
                        f"notebook {entry.get('notebook')!r} wrote it. Re-run the notebook instead of editing outputs."
                    )


# --------------------------------------------------------------------------- #
# Internals: notebooks
# --------------------------------------------------------------------------- #
@contextlib.contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _progress(message: str) -> None:
    print(f"[churnsurv] {message}", file=sys.stderr, flush=True)


def _cell_lines(text: str, n_cells: int) -> list[int] | None:
    """1-based line where each jupytext cell starts, or None if it cannot be matched."""
    lines = text.splitlines()
    markers = [i + 1 for i, line in enumerate(lines) if re.match(r"^# %%(\s|$)", line)]
    if len(markers) == n_cells:
        return markers
    if len(markers) == n_cells - 1:  # code before the first marker forms a cell
        header_end = 0
        if lines and lines[0].strip() == "# ---":
            header_end = next((i + 1 for i, line in enumerate(lines[1:], 1) if line.strip() == "# ---"), 0)
        first = next((i + 1 for i in range(header_end, len(lines)) if lines[i].strip()), 1)
        return [first, *markers]
    return None


def _execution_error(source: Path, text: str, nb, params: dict, err, output: Path) -> NotebookExecutionError:
    # papermill counts cells of the parameterized notebook: its injected cell
    # sits right after the 'parameters' cell, so later indices shift by one.
    index = err.cell_index
    if params:
        tagged = [i for i, cell in enumerate(nb.cells) if "parameters" in cell.metadata.get("tags", [])]
        if tagged and index > tagged[0] + 1:
            index -= 1
        elif tagged and index == tagged[0] + 1:
            index = None  # the injected cell itself failed
    cell_number = None if index is None else index + 1
    starts = _cell_lines(text, len(nb.cells))
    line = None
    if starts is not None and index is not None and index < len(starts):
        # ipykernel tracebacks say "Cell In[7], line 3": point at that line of the .py file.
        plain = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(err.traceback or []))
        hits = re.findall(r"Cell In\[\d+\], line (\d+)", plain)
        marker = text.splitlines()[starts[index] - 1].startswith("# %%")
        line = starts[index] + int(hits[-1]) - (0 if marker else 1) if hits else starts[index]

    source_lines = (err.source or "").splitlines()
    excerpt = "\n".join(f"    {s}" for s in source_lines[:8])
    if len(source_lines) > 8:
        excerpt += f"\n    ... ({len(source_lines) - 8} more lines)"
    if cell_number is None:
        where = "the injected parameters cell"
    else:
        where = f"cell {cell_number}" + (f" (line {line} of {source.name})" if line is not None else "")
    message = (
        f"Notebook {str(source)!r} failed in {where}:\n{excerpt}\n"
        f"{err.ename}: {err.evalue}\n"
        f"The partially executed notebook, with the traceback, is at {str(output)!r}."
    )
    return NotebookExecutionError(
        message,
        notebook=str(source),
        cell_number=cell_number,
        line=line,
        source=err.source or "",
        ename=err.ename,
        evalue=err.evalue,
        output_path=str(output),
    )


def _relative_if_inside(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


# --------------------------------------------------------------------------- #
# Internals: report context
# --------------------------------------------------------------------------- #
def _markdown(text: str, *, shift: int = 0) -> str:
    """CommonMark (+ tables) to HTML with raw HTML escaped and headings demoted by ``shift``."""
    from markdown_it import MarkdownIt  # a dependency of jupytext

    if not text or not text.strip():
        return ""
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + shift)}"
    return md.renderer.render(tokens, md.options, {})


def _notebook_intro(path: Path) -> tuple[str | None, str]:
    """Title (first heading) and remaining text of the notebook's first markdown cell."""
    import jupytext

    if not path.is_file():
        return None, ""
    nb = jupytext.reads(path.read_text(encoding="utf-8"), fmt="py:percent")
    cell = next((c for c in nb.cells if c.cell_type == "markdown"), None)
    if cell is None:
        return None, ""
    lines = cell.source.splitlines()
    for i, line in enumerate(lines):
        if line.strip():
            match = re.match(r"^#{1,6}\s+(.*)$", line.strip())
            if match:
                return match.group(1).strip(), "\n".join(lines[i + 1 :]).strip()
            break
    return None, cell.source.strip()


def _format_cell(value) -> tuple[str, bool]:
    """Display string of a CSV cell and whether it is numeric."""
    if isinstance(value, bool):
        return str(value), False
    if isinstance(value, int):
        return str(value), True
    if isinstance(value, float):
        if math.isnan(value):
            return "", True
        if math.isinf(value):
            return ("inf" if value > 0 else "-inf"), True
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value)), True
        if abs(value) >= 1e4:
            return f"{value:.0f}", True
        return f"{value:.4g}", True
    return str(value), False


def _table_view(path: Path, max_rows: int = 40) -> dict:
    import pandas as pd

    frame = pd.read_csv(path, keep_default_na=True)
    columns = [str(c) for c in frame.columns]
    numeric = [
        bool(pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]))
        for c in frame.columns
    ]
    rows = []
    for record in frame.head(max_rows).itertuples(index=False, name=None):
        cells = []
        for value, is_num in zip(record, numeric, strict=True):
            if hasattr(value, "item"):
                value = value.item()
            if value is None or (isinstance(value, float) and math.isnan(value) and not is_num):
                cells.append({"text": "", "numeric": is_num})
                continue
            text, _ = _format_cell(value)
            cells.append({"text": text, "numeric": is_num})
        rows.append(cells)
    return {
        "columns": [{"name": c, "numeric": n} for c, n in zip(columns, numeric, strict=True)],
        "rows": rows,
        "n_rows": len(frame),
        "truncated": len(frame) > max_rows,
        "max_rows": max_rows,
    }


def _unique(values: Iterable) -> list:
    seen, result = set(), []
    for value in values:
        key = json.dumps(value, sort_keys=True)
        if key not in seen:
            seen.add(key)
            result.append(value)
    return result


def _report_context(cfg: dict, manifest: dict, out: Path, manifest_path: Path) -> dict:
    import churnsurv

    base_dir = Path(cfg["base_dir"])
    fig_prefix = Path(os.path.relpath(manifest_path.parent, out)).as_posix()

    def href(record: dict) -> str:
        return f"{fig_prefix}/{record['path']}"

    configured = [item["name"] for item in cfg["notebooks"]]
    groups: list[dict] = []
    for item in cfg["notebooks"]:
        title, intro = _notebook_intro(base_dir / item["path"])
        executed = out / "notebooks" / f"{item['name']}.ipynb"
        groups.append(
            {
                "name": item["name"],
                "anchor": f"nb-{item['name']}",
                "title": item["title"] or title or item["name"],
                "intro_html": _markdown(intro, shift=2),
                "source": item["path"],
                "executed": f"notebooks/{item['name']}.ipynb" if executed.is_file() else None,
                "injected": {**cfg["parameters"], **item["parameters"]},
            }
        )
    orphans = sorted({e.get("notebook") or "" for s in _MANIFEST_SECTIONS for e in manifest[s]} - set(configured))
    for name in orphans:
        groups.append(
            {
                "name": name or None,
                "anchor": f"nb-other-{name or 'unnamed'}",
                "title": f"Other outputs ({name})" if name else "Other outputs",
                "intro_html": "",
                "source": None,
                "executed": None,
                "injected": {},
            }
        )

    figure_number = table_number = 0
    all_files = []
    for group in groups:
        key = group["name"] or None
        own = {s: [e for e in manifest[s] if (e.get("notebook") or None) == key] for s in _MANIFEST_SECTIONS}
        group["figures"] = []
        for entry in own["figures"]:
            figure_number += 1
            width, height = entry.get("size_inches", [7, 4.5])
            dpi = entry.get("dpi", _DEFAULT_DPI)
            group["figures"].append(
                {
                    "id": entry["id"],
                    "number": figure_number,
                    "caption": entry["caption"],
                    "png": href(entry["files"]["png"]),
                    "svg": href(entry["files"]["svg"]) if "svg" in entry["files"] else None,
                    "width": round(width * dpi),
                    "height": round(height * dpi),
                }
            )
        group["tables"] = []
        for entry in own["tables"]:
            table_number += 1
            view = _table_view(manifest_path.parent / entry["files"]["csv"]["path"])
            group["tables"].append(
                {
                    "id": entry["id"],
                    "number": table_number,
                    "caption": entry["caption"],
                    "csv": href(entry["files"]["csv"]),
                    **view,
                }
            )
        group["texts"] = [
            {
                "id": e["id"],
                "title": e["title"],
                "html": _markdown(
                    (manifest_path.parent / e["files"]["md"]["path"]).read_text(encoding="utf-8"), shift=3
                ),
            }
            for e in own["texts"]
        ]
        # figures, tables and findings in id order (ids are prefixed 01_, 02_ ... by the notebooks)
        rank = {"figure": 0, "table": 1, "text": 2}
        group["items"] = sorted(
            [{"kind": "figure", **f} for f in group["figures"]]
            + [{"kind": "table", **t} for t in group["tables"]]
            + [{"kind": "text", **t} for t in group["texts"]],
            key=lambda item: (item["id"], rank[item["kind"]]),
        )
        entries = own["figures"] + own["tables"] + own["texts"]
        group["recorded_parameters"] = _unique(e["parameters"] for e in entries)
        group["data"] = _unique(d for e in entries for d in e["data"])
        group["has_outputs"] = bool(entries)
        for section in _MANIFEST_SECTIONS:
            for entry in own[section]:
                for kind, record in sorted(entry["files"].items()):
                    all_files.append(
                        {
                            "id": entry["id"],
                            "kind": kind,
                            "path": href(record),
                            "sha256": record["sha256"],
                            "notebook": key,
                        }
                    )

    all_entries = [e for s in _MANIFEST_SECTIONS for e in manifest[s]]
    version_sets = _unique(e["versions"] for e in all_entries)
    packages = sorted({k for v in version_sets for k in v}, key=lambda k: (k != "python", k != "churnsurv", k))
    versions = [{"package": p, "version": " / ".join(sorted({str(v.get(p)) for v in version_sets}))} for p in packages]
    return {
        "title": cfg["title"],
        "intro_html": _markdown(cfg["intro"], shift=1),
        "methods_html": _markdown(cfg["methods"], shift=2),
        "groups": groups,
        "versions": versions,
        "files": all_files,
        "generated_at": manifest.get("generated_at") or _now_iso(),
        "churnsurv_version": churnsurv.__version__,
        "parameters": cfg["parameters"],
        "n_figures": figure_number,
        "n_tables": table_number,
        "has_methods": bool(cfg["methods"].strip()),
        "json": lambda value: json.dumps(value, sort_keys=True, ensure_ascii=False),
    }
