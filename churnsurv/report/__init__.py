"""The report layer: reproducible figures, notebook execution and the HTML report.

Also importable as ``churnsurv.reporting``. Modules: :mod:`~churnsurv.report.saving` (style and the
``save_*`` helpers), :mod:`~churnsurv.report.manifest`, :mod:`~churnsurv.report.notebook` (execution) and
:mod:`~churnsurv.report.html` (the report and its template).

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

from churnsurv.report.html import build_report, export_pdf, list_parameters, load_report_config, render_report
from churnsurv.report.manifest import MANIFEST_NAME, NOTEBOOK_ENV
from churnsurv.report.notebook import NotebookExecutionError, notebook_parameters, run_notebook
from churnsurv.report.saving import STYLE_PATH, figure_dir, save_figure, save_table, save_text, style_context, use_style

__all__ = [
    "MANIFEST_NAME",
    "NOTEBOOK_ENV",
    "STYLE_PATH",
    "NotebookExecutionError",
    "build_report",
    "export_pdf",
    "figure_dir",
    "list_parameters",
    "load_report_config",
    "notebook_parameters",
    "render_report",
    "run_notebook",
    "save_figure",
    "save_table",
    "save_text",
    "style_context",
    "use_style",
]
