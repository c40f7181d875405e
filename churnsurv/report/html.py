"""The HTML report of :mod:`churnsurv.report`: configuration, :func:`build_report` and :func:`render_report`.

:func:`build_report` runs the notebooks of a report configuration (:func:`load_report_config`) and
:func:`render_report` renders ``index.html`` from the manifest the notebooks wrote, embedding only the files it
lists. Import these functions from :mod:`churnsurv.report`.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from churnsurv.report.manifest import (
    _DEFAULT_DPI,
    _MANIFEST_SECTIONS,
    _COUNT,
    _P_VALUE,
    MANIFEST_NAME,
    _check_name,
    _dump_manifest,
    _json_safe,
    _locked,
    _now_iso,
    _portable_path,
    _portable_value,
    _read_manifest,
    _umask,
    _verify_files,
    _write_bytes,
)
from churnsurv.report.notebook import (
    NotebookExecutionError,
    _progress,
    check_parameter_names,
    notebook_parameters,
    run_notebook,
)

_TEMPLATE_DIR = Path(__file__).parent / "templates"
_REPORT_TEMPLATE = "report.html.j2"
_CONFIG_KEYS = {"title", "intro", "methods", "parameters", "notebooks"}
_NOTEBOOK_KEYS = {"path", "name", "title", "parameters"}
#: Parameter names ending like this hold paths (unless the value is a bundled dataset name).
_PATH_SUFFIXES = ("_path", "_file", "_dir", "_folder")
#: Parameters the report sets itself.
_MANAGED = {"fig_dir": "the report sets it to <output_dir>/figures; choose the folder with output_dir (--output-dir)"}
_MANAGED_SHORT = {"fig_dir": "<output-dir>/figures"}
#: Name of the self-contained report written next to index.html.
SINGLE_FILE_NAME = "report.html"
_PDF_CONVERTERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


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
            Parameters injected into every notebook that declares them in its
            cell tagged ``parameters`` (``data_path`` ...); a name no notebook
            declares is an error.
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
    FileNotFoundError, IsADirectoryError
        If ``path`` does not exist or is a folder.
    ValueError
        If the file type is unknown, the file is empty, not UTF-8, not valid YAML/TOML (the message gives the
        line), or the content does not follow the schema. Parameter names must be Python identifiers: they are
        written into the notebooks as code.

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
    if path.is_dir():
        inside = sorted(p.name for p in path.glob("*.y*ml")) + sorted(p.name for p in path.glob("*.toml"))
        hint = f" Give the configuration file inside it ({', '.join(inside[:3])})." if inside else ""
        raise IsADirectoryError(f"Report configuration {str(path)!r} is a folder, not a file.{hint}")
    if not path.is_file():
        raise FileNotFoundError(f"No report configuration at {str(path.absolute())!r}.")
    if suffix not in {".yaml", ".yml", ".toml"}:
        raise ValueError(
            f"Report configuration {str(path)!r} must be a .yaml, .yml or .toml file. Got {suffix!r} instead."
        )
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"Report configuration {str(path)!r} is not UTF-8 text (byte 0x{err.object[err.start]:02x} at offset "
            f"{err.start}). Save it as UTF-8."
        ) from err
    if not text.strip():
        raise ValueError(f"Report configuration {str(path)!r} is empty. It must list the notebooks under 'notebooks'.")
    if suffix == ".toml":
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"Report configuration {str(path)!r} is not valid TOML: {err}.") from err
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
            problem = getattr(err, "problem", None) or _first_line(err)
            raise ValueError(
                f"Report configuration {str(path)!r} is not valid YAML{where}: {problem}. Check the indentation "
                "and quote values holding ':' or '#'."
            ) from err
    if data is None:
        raise ValueError(f"Report configuration {str(path)!r} is empty. It must list the notebooks under 'notebooks'.")
    config = _validate_config(data, source=str(path))
    config["base_dir"] = str(path.resolve().parent)
    return config


def build_report(
    config: Mapping[str, Any] | str | os.PathLike,
    *,
    output_dir: str | os.PathLike = "reports",
    parameters: Mapping[str, Any] | None = None,
    single_file: bool = False,
    progress: bool = True,
    kernel_name: str = "python3",
) -> Path:
    """Run the report's notebooks in order and render ``<output_dir>/index.html``.

    Each notebook is executed by :func:`run_notebook` in the configuration's base directory with the parameters
    it declares (its cell tagged ``parameters``): the global parameters, its own parameters and ``parameters``
    (in increasing priority), plus ``fig_dir`` (``<output_dir>/figures``). A parameter goes only to the
    notebooks that declare it; one that no notebook declares is an error, raised before anything runs, as is a
    path parameter (a name ending in ``_path`` or ``_file``) naming a file that does not exist. The executed
    notebooks go to ``<output_dir>/notebooks/<name>.ipynb``.

    The build runs in a fresh temporary folder inside ``output_dir`` and is swapped in only once every notebook
    ran and :func:`render_report` wrote the HTML: ``figures/``, ``notebooks/`` and ``index.html`` (and
    ``report.html`` with ``single_file``) are replaced, so the report shows exactly what this build wrote, and
    other files in ``output_dir`` are left alone. A failed or interrupted build leaves the previous report as it
    was; the executed notebooks of a failed build are kept in ``<output_dir>/.churnsurv-failed/``. Nothing is
    written through a symbolic link: a link planted at ``figures``, ``notebooks`` or ``index.html`` is replaced,
    its target left untouched.

    Parameters
    ----------
    config : mapping or str or path-like
        The configuration (see :func:`load_report_config` for the keys), or
        the path of a YAML/TOML file holding it. Relative paths in a mapping
        resolve from its ``base_dir`` key, or from the working directory.
    output_dir : str or path-like, default "reports"
        Report directory, relative to the caller's working directory.
    parameters : mapping, optional
        Overrides on top of the configuration (what ``churnsurv report --param`` passes). Relative paths in
        path parameters (names ending in ``_path``, ``_file``, ``_dir`` or ``_folder``) resolve against the
        caller's working directory, whereas those of the configuration resolve against its folder. Bundled
        dataset names (``maven_telco``, ``ibm_telco``) are not paths.
    single_file : bool, default False
        Also write ``<output_dir>/report.html``: one self-contained file (figures and tables embedded) to mail.
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
        If the configuration does not follow the schema, a parameter name is not a Python identifier, or a
        parameter is declared by no notebook (the message lists every notebook's parameters).
    FileNotFoundError
        If a notebook or a data file named by a path parameter does not exist (the message shows the absolute
        path tried).
    NotADirectoryError, PermissionError
        If ``output_dir`` is a file, lies below a file, or cannot be written to.

    See Also
    --------
    render_report : Re-render the HTML from an existing manifest.
    run_notebook : Execute one notebook.
    list_parameters : The parameters each notebook of a report declares.

    Examples
    --------
    >>> from churnsurv.reporting import build_report
    >>> build_report("notebooks/report.yaml", output_dir="reports",  # doctest: +SKIP
    ...              parameters={"data_path": "my_customers.csv", "status_col": None, "event_col": "churned"})
    PosixPath('reports/index.html')
    """
    cfg = _coerce_config(config)
    plan = _plan(cfg, parameters, check_paths=True)
    base_dir = Path(cfg["base_dir"])
    out = Path(output_dir)
    staging = _staging_dir(out)
    total_start = time.perf_counter()
    try:
        _run_notebooks(cfg, plan, staging, base_dir, progress=progress, kernel_name=kernel_name)
        _record_build(staging / "figures", cfg)
        render_report(cfg, output_dir=staging, parameters=parameters, single_file=single_file)
        _swap_in(staging, out)
        if progress:
            _progress(f"report written to {out / 'index.html'} ({time.perf_counter() - total_start:.1f} s)")
    except NotebookExecutionError as err:
        raise _keep_failed(staging, out, err) from err
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return out / "index.html"


def _run_notebooks(cfg: dict, plan: dict, staging: Path, base_dir: Path, *, progress: bool, kernel_name: str) -> None:
    fig_dir = staging / "figures"
    nb_dir = staging / "notebooks"
    fig_dir.mkdir()
    fig_dir_param = _relative_if_inside(fig_dir.resolve(), base_dir)
    notebooks = cfg["notebooks"]
    for number, item in enumerate(notebooks, start=1):
        source = base_dir / item["path"]
        params = dict(plan[item["name"]]["values"])
        if "fig_dir" in plan[item["name"]]["declared"]:
            params["fig_dir"] = fig_dir_param
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


#: Prefixes of the folders a build works in, inside the output folder.
_STAGING_PREFIX = ".churnsurv-build-"
_TRASH_PREFIX = ".churnsurv-old-"
#: Where the executed notebooks of a failed build are kept (replaced by the next failure).
FAILED_DIR = ".churnsurv-failed"
#: What a build replaces in the output folder; anything else there is left alone.
_BUILT = ("figures", "notebooks")


def _unwritable(out: Path, err: OSError) -> OSError:
    reason = err.strerror or str(err)
    where = f" ({err.filename})" if err.filename and str(err.filename) != str(out) else ""
    cls = PermissionError if isinstance(err, PermissionError) or err.errno in (13, 30) else type(err)
    return cls(
        f"Cannot write the report to {str(out)!r}: {reason}{where}. Choose a folder you can write to with "
        "--output-dir (the 'output_dir' parameter)."
    )


def _check_output_dir(out: Path) -> None:
    """The output folder is a folder (or can be created); raise a clear error otherwise."""
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(
            f"The output folder {str(out)!r} is a file, not a folder. Choose another folder with --output-dir "
            "(the 'output_dir' parameter)."
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError as err:  # a dangling link or a file in the way
        raise NotADirectoryError(
            f"The output folder {str(out)!r} cannot be created: {err.filename!r} is in the way (a file or a broken "
            "link). Choose another folder with --output-dir (the 'output_dir' parameter)."
        ) from err
    except NotADirectoryError as err:
        raise NotADirectoryError(
            f"The output folder {str(out)!r} cannot be created: part of its path is a file. Choose another folder "
            "with --output-dir (the 'output_dir' parameter)."
        ) from err
    except OSError as err:
        raise _unwritable(out, err) from err


def _staging_dir(out: Path) -> Path:
    """A fresh folder inside ``out`` to build in: nothing in it can be a link planted beforehand."""
    _check_output_dir(out)
    try:
        return Path(tempfile.mkdtemp(dir=out, prefix=_STAGING_PREFIX))
    except OSError as err:
        raise _unwritable(out, err) from err


def _record_build(fig_dir: Path, cfg: dict) -> None:
    """Mark the manifest as written by a complete build of these notebooks (``render_report`` checks it)."""
    manifest_path = fig_dir / MANIFEST_NAME
    with _locked(manifest_path):
        manifest = _read_manifest(manifest_path)
        manifest["build"] = {"complete": True, "notebooks": [item["name"] for item in cfg["notebooks"]]}
        _write_bytes(manifest_path, _dump_manifest(manifest))


def _remove(path: Path) -> None:
    """Delete a file, a link (not its target) or a folder tree (links inside it are removed, not followed)."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path)


def _swap_in(staging: Path, out: Path) -> None:
    """Move the finished build from ``staging`` into ``out``.

    The old ``index.html`` is taken out first and the new one put in last, so at every moment the folder holds
    either no index or an index whose files are all present. Old entries are renamed away (a link is moved, never
    followed) and deleted after the swap.
    """
    trash = Path(tempfile.mkdtemp(dir=out, prefix=_TRASH_PREFIX))
    try:
        index = out / "index.html"
        if index.exists() or index.is_symlink():
            os.replace(index, trash / "index.html")
        names = [*_BUILT, *([SINGLE_FILE_NAME] if (staging / SINGLE_FILE_NAME).exists() else [])]
        for name in names:
            target = out / name
            if target.exists() or target.is_symlink():
                os.replace(target, trash / name)
            if (staging / name).exists():
                os.replace(staging / name, target)
        os.replace(staging / "index.html", index)
    finally:
        _remove(trash)


def _keep_failed(staging: Path, out: Path, err: NotebookExecutionError) -> NotebookExecutionError:
    """Keep the executed notebooks of a failed build in ``<out>/.churnsurv-failed`` and point the error there."""
    failed = out / FAILED_DIR
    try:
        _remove(failed)
        os.replace(staging / "notebooks", failed)
    except OSError:
        return err
    old = str(staging / "notebooks")
    moved = str(err.output_path).replace(old, str(failed))
    return NotebookExecutionError(
        str(err).replace(old, str(failed)),
        notebook=err.notebook,
        cell_number=err.cell_number,
        line=err.line,
        source=err.source,
        ename=err.ename,
        evalue=err.evalue,
        output_path=moved,
    )


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def render_report(
    config: Mapping[str, Any] | str | os.PathLike,
    *,
    output_dir: str | os.PathLike = "reports",
    parameters: Mapping[str, Any] | None = None,
    single_file: bool = False,
) -> Path:
    """Render ``<output_dir>/index.html`` from ``<output_dir>/figures/manifest.json``.

    No notebook is executed: use it to restyle a report, or after running
    notebooks by hand. The page has the title and intro, one section per
    notebook (its introduction, its figures and tables in id order), a
    "Methods and assumptions" section (the configuration's ``methods`` and
    every note saved with :func:`~churnsurv.report.save_text`) and a provenance section
    (notebook sources and parameters, data checksums, package versions, file
    checksums, and the manifest's ``generated_at`` once). Outputs whose
    notebook is not in the configuration are shown under "Other outputs".

    Tables are shown for reading: readable headers (``n_at_risk`` becomes "At risk"; the column name is the
    header's tooltip), counts as integers, p-values below 1e-16 as "< 1e-16" (a p-value the CSV rounded to 0
    as "< 0.001" for three decimals), a median that the survival curve never reaches as "not reached (> T)"
    when the row gives the last follow-up time T (a ``max_follow_up`` column), levels named "None" as "None".
    Paths in the provenance are relative (to the working directory the notebook ran in, or to the bundled data
    folder), or file names only: no absolute path of the machine appears.

    Parameters
    ----------
    config : mapping or str or path-like
        As in :func:`build_report`.
    output_dir : str or path-like, default "reports"
        Report directory holding ``figures/manifest.json``.
    parameters : mapping, optional
        The overrides the notebooks ran with, as in :func:`build_report` (shown in the provenance).
    single_file : bool, default False
        Also write ``<output_dir>/report.html``, self-contained: the PNG figures and the CSV tables embedded as
        ``data:`` URIs, the style inline, no link to a local file, so it can be mailed or opened anywhere.

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
        modified after the notebook wrote it), or the manifest is partial: a
        notebook of the configuration is missing from it (the build that wrote
        it did not run that notebook, or, for notebooks run by hand, the
        notebook saved nothing there).
    PermissionError
        If ``output_dir`` cannot be written to.

    See Also
    --------
    build_report : Run the notebooks, then render.
    export_pdf : Print the single-file report to PDF.

    Examples
    --------
    >>> from churnsurv.reporting import render_report
    >>> render_report("notebooks/report.yaml", output_dir="reports")  # doctest: +SKIP
    PosixPath('reports/index.html')
    """
    import jinja2

    cfg = _coerce_config(config)
    plan = _plan(cfg, parameters, check_paths=False)
    out = Path(output_dir)
    fig_dir = out / "figures"
    manifest_path = fig_dir / MANIFEST_NAME
    if not manifest_path.is_file():
        raise FileNotFoundError(
            f"No manifest at {str(manifest_path.absolute())!r}. Run the notebooks first (build_report), or check "
            "output_dir."
        )
    manifest = _read_manifest(manifest_path)
    _check_complete(cfg, manifest, manifest_path)
    _verify_files(manifest, manifest_path.parent)

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATE_DIR)),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    template = env.get_template(_REPORT_TEMPLATE)
    index = out / "index.html"
    context = _report_context(cfg, manifest, out, manifest_path, plan, single_file=False)
    pages = {index: template.render(**context)}
    if single_file:
        context = _report_context(cfg, manifest, out, manifest_path, plan, single_file=True)
        pages[out / SINGLE_FILE_NAME] = template.render(**context)
    for page, text in pages.items():
        try:  # a temporary file renamed into place: a link at the page's name is replaced, not written through
            _write_bytes(page, text.encode("utf-8"))
        except IsADirectoryError as err:
            raise IsADirectoryError(f"Cannot write {str(page)!r}: a folder of that name is in the way.") from err
        except OSError as err:
            raise _unwritable(out, err) from err
    return index


def _check_complete(cfg: dict, manifest: dict, manifest_path: Path) -> None:
    """Refuse a partial manifest: one a build left unfinished, or missing notebooks of the configuration."""
    configured = [item["name"] for item in cfg["notebooks"]]
    build = manifest.get("build")
    if isinstance(build, Mapping):
        ran = build.get("notebooks") or []
        missing = [name for name in configured if not build.get("complete") or name not in ran]
        why = "the build that wrote it did not run them"
    else:  # notebooks run by hand: every configured notebook must have saved something
        saved = {e.get("notebook") for section in _MANIFEST_SECTIONS for e in manifest[section]}
        missing = [name for name in configured if name not in saved]
        why = "it holds no output of them (an interrupted build, or notebooks not run yet)"
    if missing:
        raise ValueError(
            f"The manifest {str(manifest_path)!r} is partial: notebook(s) {', '.join(missing)} of the report "
            f"configuration are missing, {why}. Build the report again without --no-run (build_report), or run "
            "those notebooks first."
        )


def export_pdf(html_path: str | os.PathLike, pdf_path: str | os.PathLike | None = None, *,
               timeout: float = 180) -> Path:
    """Print a (single-file) HTML report to PDF with a headless Chromium or Chrome.

    Parameters
    ----------
    html_path : str or path-like
        The HTML file, best the self-contained ``report.html`` of ``render_report(..., single_file=True)``.
    pdf_path : str or path-like, optional
        Where to write the PDF; ``html_path`` with the suffix ``.pdf`` by default.
    timeout : float, default 180
        Seconds to wait for the browser.

    Returns
    -------
    Path
        Path of the PDF.

    Raises
    ------
    RuntimeError
        If no converter is installed (``chromium``, ``chromium-browser``, ``google-chrome`` on the ``PATH``), or
        if the browser fails; the message says what to do instead.

    See Also
    --------
    render_report : Write the single-file HTML.

    Examples
    --------
    >>> from churnsurv.report.html import export_pdf
    >>> export_pdf("reports/report.html")  # doctest: +SKIP
    PosixPath('reports/report.pdf')
    """
    import shutil
    import subprocess
    import tempfile

    html = Path(html_path).resolve()
    if not html.is_file():
        raise FileNotFoundError(f"No HTML report at {str(html)!r}.")
    pdf = Path(pdf_path).absolute() if pdf_path is not None else html.with_suffix(".pdf")
    browser = next((found for name in _PDF_CONVERTERS if (found := shutil.which(name))), None)
    if browser is None:
        raise RuntimeError(
            f"No PDF converter found: none of {', '.join(_PDF_CONVERTERS)} is on the PATH, so no PDF was written. "
            f"Install Chromium (e.g. 'apt-get install chromium'), or open {str(html)!r} in a browser and print it "
            "to PDF."
        )
    pdf.parent.mkdir(parents=True, exist_ok=True)
    # the browser writes a fresh file next to the target, renamed over it: a link at the PDF's name is replaced
    fd, tmp_name = tempfile.mkstemp(dir=pdf.parent, prefix=f".{pdf.stem}.", suffix=".pdf")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with tempfile.TemporaryDirectory(prefix="churnsurv-pdf-") as profile:
            command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                       "--disable-background-networking", "--disable-component-update", "--disable-sync",
                       f"--user-data-dir={profile}", "--no-pdf-header-footer", f"--print-to-pdf={tmp}",
                       html.as_uri()]
            try:
                proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired as err:
                raise RuntimeError(f"{browser} did not print {str(html)!r} to PDF within {timeout:g} s.") from err
        if proc.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
            raise RuntimeError(
                f"{browser} failed to print {str(html)!r} to PDF (exit code {proc.returncode}): "
                f"{proc.stderr.strip()[-500:]}"
            )
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, pdf)
    finally:
        tmp.unlink(missing_ok=True)
    return pdf


def list_parameters(
    config: Mapping[str, Any] | str | os.PathLike,
    parameters: Mapping[str, Any] | None = None,
) -> dict[str, list[dict]]:
    """The parameters each notebook of a report declares, with defaults, meanings and the configured values.

    Parameters
    ----------
    config : mapping or str or path-like
        As in :func:`build_report`.
    parameters : mapping, optional
        Overrides, as in :func:`build_report`: shown as the values the notebooks would get.

    Returns
    -------
    dict of str to list of dict
        Per notebook name (in report order), one dict per parameter in the order of its cell tagged
        ``parameters``: ``name``, ``default`` (the notebook's value), ``source`` (its source text),
        ``meaning`` (the line's comment), ``configured`` (the value the configuration passes, or for
        ``fig_dir`` the folder the report sets) and ``is_configured``.

    Raises
    ------
    FileNotFoundError
        If a notebook of the configuration does not exist.
    ValueError
        If a configured or overriding parameter is declared by no notebook.

    See Also
    --------
    build_report : Run the notebooks with these parameters.
    churnsurv.report.notebook.notebook_parameters : The parser behind it.

    Examples
    --------
    >>> from churnsurv.report.html import list_parameters
    >>> params = list_parameters("notebooks/report.yaml")  # doctest: +SKIP
    >>> [p["name"] for p in params["01_segments"]][:2]  # doctest: +SKIP
    ['data_path', 'duration_col']
    """
    cfg = _coerce_config(config)
    plan = _plan(cfg, parameters, check_paths=False)
    listing = {}
    for item in cfg["notebooks"]:
        step = plan[item["name"]]
        rows = []
        for name, param in step["declared"].items():
            configured = name in step["values"]
            rows.append({
                "name": name,
                "default": param.default,
                "source": param.source,
                "meaning": param.meaning,
                "is_configured": configured or name in _MANAGED,
                "configured": step["values"][name] if configured else _MANAGED_SHORT.get(name),
            })
        listing[item["name"]] = rows
    return listing


def _is_path_parameter(name: str, value) -> bool:
    from churnsurv.data.datasets import DATASETS

    from churnsurv.data.datasets import EXTERNAL_DATASETS

    return (isinstance(value, str) and bool(value) and name.endswith(_PATH_SUFFIXES) and value not in DATASETS
            and value not in EXTERNAL_DATASETS)


def _plan(cfg: dict, overrides: Mapping[str, Any] | None, *, check_paths: bool) -> dict[str, dict]:
    """Per notebook: the parameters it declares and the values it gets (only declared ones).

    Raises if a notebook is missing, a parameter is declared by no notebook (or, for a notebook's own
    parameters, not by that notebook), a managed parameter is set, or (``check_paths``) a path parameter
    names a missing file.
    """
    base_dir = Path(cfg["base_dir"])
    declared = {}
    for item in cfg["notebooks"]:
        source = base_dir / item["path"]
        if not source.is_file():
            raise FileNotFoundError(
                f"Notebook {item['path']!r} of the report configuration does not exist: tried "
                f"{str(source.absolute())!r} (notebook paths resolve against the configuration's folder)."
            )
        declared[item["name"]] = notebook_parameters(source)
    cwd = Path.cwd()
    check_parameter_names(dict(overrides or {}), "given with --param, the 'parameters' argument of build_report")
    overrides = _json_safe(dict(overrides or {}), "report parameters")
    given = dict(overrides)
    for key, value in overrides.items():
        if _is_path_parameter(key, value) and not Path(value).is_absolute():
            overrides[key] = Path(os.path.normpath(cwd / value)).as_posix()

    def listing() -> str:
        return "; ".join(f"{name}: {', '.join(params) or '(none)'}" for name, params in declared.items())

    origins = [
        ("the report configuration's 'parameters'", cfg["parameters"]),
        ("--param (the 'parameters' argument of build_report)", overrides),
    ]
    everything = sorted({name for params in declared.values() for name in params})
    for origin, mapping in origins:
        for key in mapping:
            if key in _MANAGED:
                raise ValueError(f"The {key!r} parameter cannot be set in {origin}: {_MANAGED[key]}.")
            if key not in everything:
                close = difflib.get_close_matches(key, everything, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(
                    f"The {key!r} parameter, set in {origin}, is not declared by any notebook of the report, so no "
                    f"notebook would use it.{hint} Declared parameters per notebook: {listing()}. "
                    "'churnsurv report --list-params' shows their defaults and meanings."
                )
    plan = {}
    for item in cfg["notebooks"]:
        own = declared[item["name"]]
        for key in item["parameters"]:
            if key in _MANAGED:
                raise ValueError(f"The {key!r} parameter cannot be set for notebook {item['path']!r}: {_MANAGED[key]}.")
            if key not in own:
                raise ValueError(
                    f"The {key!r} parameter of notebook {item['path']!r} in the report configuration is not declared "
                    f"by that notebook. It declares: {', '.join(own) or '(none)'}."
                )
        values, origin_of = {}, {}
        for origin, mapping in (("config", cfg["parameters"]), ("config", item["parameters"]),
                                ("overrides", overrides)):
            for key, value in mapping.items():
                if key in own:
                    values[key] = value
                    origin_of[key] = origin
        if check_paths:
            for key, value in values.items():
                if not (_is_path_parameter(key, value) and key.endswith(("_path", "_file"))):
                    continue
                tried = Path(value) if Path(value).is_absolute() else base_dir / value
                if not tried.exists():
                    where = (
                        f"given with --param (relative paths on the command line resolve against the current "
                        f"folder, {cwd.as_posix()})"
                        if origin_of[key] == "overrides"
                        else f"set in the report configuration (relative paths resolve against its folder, "
                        f"{base_dir.as_posix()})"
                    )
                    raise FileNotFoundError(
                        f"The {key!r} parameter of notebook {item['name']!r} names a file that does not exist: "
                        f"tried {Path(os.path.normpath(tried.absolute())).as_posix()!r}. The value "
                        f"{given.get(key, value) if origin_of[key] == 'overrides' else value!r} was {where}. "
                        f"Bundled datasets are named {_dataset_names()}."
                    )
        plan[item["name"]] = {"declared": own, "values": values}
    return plan


def _dataset_names() -> str:
    from churnsurv.data.datasets import DATASETS, EXTERNAL_DATASETS

    return ", ".join(sorted([*DATASETS, *EXTERNAL_DATASETS]))


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
    check_parameter_names(parameters, f"under 'parameters' in {where[0].lower()}{where[1:]}")
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
        check_parameter_names(nb_params, f"under 'parameters' of notebook {position} ({item['path']}) in "
                                         f"{where[0].lower()}{where[1:]}")
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


#: Readable headers for the results vocabulary (CONTRIBUTING.md); other snake_case names are spelt out.
_HEADERS = {
    "time": "Time",
    "estimate": "Estimate",
    "std_error": "SE",
    "ci_lower": "CI low",
    "ci_upper": "CI high",
    "n": "N",
    "n_at_risk": "At risk",
    "n_events": "Defections",
    "n_censored": "Censored",
    "n_entered": "Entered",
    "n_truncated": "Truncated entries",
    "n_customers": "Customers",
    "p_value": "p-value",
    "p_adjusted": "Adjusted p-value",
    "dof": "df",
    "statistic": "Statistic",
    "median": "Median",
    "median_ci_lower": "Median CI low",
    "median_ci_upper": "Median CI high",
    "rmst": "Restricted mean",
    "rmst_std_error": "Restricted mean SE",
    "tau": "Horizon",
    "max_follow_up": "Last follow-up",
    "group_a": "Group A",
    "group_b": "Group B",
}
_MEDIAN = re.compile(r"(^|_)median($|_)")
_FOLLOW_UP = ("max_follow_up", "follow_up", "last_follow_up", "max_time", "max_exit")
_P_FLOOR = 1e-16


def _header(name: str) -> str:
    """``n_at_risk`` -> "At risk", ``survival_12`` -> "Survival at 12"; other names are kept as they are."""
    if name in _HEADERS:
        return _HEADERS[name]
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        return name  # the user's own column names ("Contract") stay as written
    match = re.fullmatch(r"(survival|cif|hazard|cumhaz)_(\d+(?:\.\d+)?)", name)
    if match:
        return f"{_header(match.group(1))} at {match.group(2)}"
    words = name.split("_")
    if words[0] == "n" and len(words) > 1:
        words = words[1:]
    text = " ".join(words)
    for short, long in (("ci lower", "CI low"), ("ci upper", "CI high"), ("std error", "SE"), ("cif", "CIF")):
        text = re.sub(rf"\b{short}\b", long, text)
    return text[:1].upper() + text[1:]


def _decimals(texts) -> int | None:
    """Decimal places of fixed-point numbers written with a fixed precision (``0.000`` -> 3), else None."""
    places = {len(t.split(".")[1]) if "." in t else 0 for t in texts if t and re.fullmatch(r"-?\d+(\.\d+)?", t)}
    return places.pop() if len(places) == 1 else None


def _format_p(value: float, decimals: int | None) -> str:
    if value < _P_FLOOR:
        if value <= 0 and decimals:  # rounded to 0 in the CSV: all we know is that it is below the last digit
            return f"< {10.0 ** -decimals:g}"
        return f"< {_P_FLOOR:g}"
    return f"{value:.3g}"


def _table_view(path: Path, max_rows: int = 40, *, table_id: str = "") -> dict:
    import pandas as pd

    # keep_default_na=False: a level literally named "None" (or "NA") is a level, not a missing value
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    texts = pd.read_csv(path, keep_default_na=False, dtype=str)
    columns = [str(c) for c in frame.columns]
    numeric = [
        bool(pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]))
        for c in frame.columns
    ]
    is_median_table = "median" in table_id.lower()
    kinds = []
    for name, is_num in zip(columns, numeric, strict=True):
        if not is_num:
            kinds.append("text")
        elif _P_VALUE.match(name):
            kinds.append("p")
        elif _COUNT.match(name):
            kinds.append("count")
        elif _MEDIAN.search(name) or (is_median_table and name in ("estimate", "ci_lower", "ci_upper")):
            kinds.append("median")
        else:
            kinds.append("number")
    decimals = {c: _decimals(texts[c]) for c, kind in zip(columns, kinds, strict=True) if kind == "p"}
    follow_up = next((c for c in _FOLLOW_UP if c in columns), None)
    rows = []
    for position, record in enumerate(frame.head(max_rows).itertuples(index=False, name=None)):
        cells = []
        for name, value, is_num, kind in zip(columns, record, numeric, kinds, strict=True):
            if hasattr(value, "item"):
                value = value.item()
            missing = value is None or (isinstance(value, float) and math.isnan(value))
            if missing:
                text = ""
                if kind == "median":
                    last = frame[follow_up].iloc[position] if follow_up else None
                    text = "not reached" if last is None or pd.isna(last) else (
                        f"not reached (> {_format_cell(float(last))[0]})")
                elif is_num:
                    text = "\u2014"
            elif kind == "p":
                text = _format_p(float(value), decimals[name])
            elif kind == "count" and float(value).is_integer():
                text = f"{int(value):,}"
            else:
                text, _ = _format_cell(value)
            cells.append({"text": text, "numeric": is_num})
        rows.append(cells)
    return {
        "columns": [{"name": _header(c), "key": c, "numeric": n} for c, n in zip(columns, numeric, strict=True)],
        "rows": rows,
        "n_rows": len(frame),
        "truncated": len(frame) > max_rows,
        "max_rows": max_rows,
    }


def _display_data(record: Mapping[str, Any]) -> dict:
    """A manifest data record for the provenance (old manifests may hold absolute paths)."""
    path = str(record.get("path", ""))
    root = record.get("relative_to")
    if root is None and os.path.isabs(path):
        path, root = _portable_path(Path(path))
    return {"path": path, "relative_to": root, "sha256": record.get("sha256")}


def _location(root: str | None) -> str:
    return {
        "working directory": "relative to the folder the notebook ran in (the report configuration's)",
        "bundled data folder": "churnsurv's bundled data",
        "file name only": "file name only (outside the notebook's folder)",
    }.get(root or "", "as recorded")


def _data_uri(path: Path, mime: str) -> str:
    import base64

    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _display_parameters(values: Mapping[str, Any]) -> dict:
    """Parameter values for the provenance: absolute paths made relative (or reduced to the file name)."""
    return {key: _portable_value(value) for key, value in values.items()}


def _unique(values: Iterable) -> list:
    seen, result = set(), []
    for value in values:
        key = json.dumps(value, sort_keys=True)
        if key not in seen:
            seen.add(key)
            result.append(value)
    return result


#: Notes (``save_text``) whose id starts with this are the report's headline numbers: shown in its executive
#: summary at the top, in notebook order, instead of in their notebook's section.
HEADLINE_PREFIX = "headline"


def _report_context(
    cfg: dict, manifest: dict, out: Path, manifest_path: Path, plan: dict, *, single_file: bool
) -> dict:
    import churnsurv

    base_dir = Path(cfg["base_dir"])
    fig_prefix = Path(os.path.relpath(manifest_path.parent, out)).as_posix()

    def href(record: dict) -> str:
        return f"{fig_prefix}/{record['path']}"

    def local(record: dict) -> Path:
        return manifest_path.parent / record["path"]

    configured = [item["name"] for item in cfg["notebooks"]]
    groups: list[dict] = []
    headlines: list[dict] = []  # notes saved with an id starting "headline": the executive summary
    for item in cfg["notebooks"]:
        title, intro = _notebook_intro(base_dir / item["path"])
        executed = out / "notebooks" / f"{item['name']}.ipynb"
        groups.append(
            {
                "name": item["name"],
                "anchor": f"nb-{item['name']}",
                "title": item["title"] or title or item["name"],
                "intro_html": _markdown(intro, shift=2),
                "source": _portable_path(item["path"], base_dir)[0] if os.path.isabs(item["path"]) else item["path"],
                "executed_name": f"notebooks/{item['name']}.ipynb" if executed.is_file() else None,
                "executed": f"notebooks/{item['name']}.ipynb" if executed.is_file() and not single_file else None,
                "injected": _display_parameters(plan[item["name"]]["values"]),
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
                "executed_name": None,
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
                    "src": _data_uri(local(entry["files"]["png"]), "image/png") if single_file
                    else href(entry["files"]["png"]),
                    "png": None if single_file else href(entry["files"]["png"]),
                    "svg": href(entry["files"]["svg"]) if "svg" in entry["files"] and not single_file else None,
                    "width": round(width * dpi),
                    "height": round(height * dpi),
                }
            )
        group["tables"] = []
        for entry in own["tables"]:
            table_number += 1
            view = _table_view(local(entry["files"]["csv"]), table_id=entry["id"])
            group["tables"].append(
                {
                    "id": entry["id"],
                    "number": table_number,
                    "caption": entry["caption"],
                    "csv": _data_uri(local(entry["files"]["csv"]), "text/csv") if single_file
                    else href(entry["files"]["csv"]),
                    "csv_name": Path(entry["files"]["csv"]["path"]).name,
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
        headlines += [{**t, "section": group["title"], "anchor": group["anchor"]} for t in group["texts"]
                      if t["id"].startswith(HEADLINE_PREFIX)]
        group["texts"] = [t for t in group["texts"] if not t["id"].startswith(HEADLINE_PREFIX)]
        # figures, tables and findings in id order (ids are prefixed 01_, 02_ ... by the notebooks)
        rank = {"figure": 0, "table": 1, "text": 2}
        group["items"] = sorted(
            [{"kind": "figure", **f} for f in group["figures"]]
            + [{"kind": "table", **t} for t in group["tables"]]
            + [{"kind": "text", **t} for t in group["texts"]],
            key=lambda item: (item["id"], rank[item["kind"]]),
        )
        entries = own["figures"] + own["tables"] + own["texts"]
        group["recorded_parameters"] = _unique(_display_parameters(e["parameters"]) for e in entries)
        group["data"] = _unique(_display_data(d) for e in entries for d in e["data"])
        group["has_outputs"] = bool(entries)
        for section in _MANIFEST_SECTIONS:
            for entry in own[section]:
                for kind, record in sorted(entry["files"].items()):
                    all_files.append(
                        {
                            "id": entry["id"],
                            "kind": kind,
                            "path": href(record),
                            "link": not single_file,
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
        "headlines": sorted(headlines, key=lambda h: h["id"]),
        "versions": versions,
        "files": all_files,
        "generated_at": manifest.get("generated_at") or _now_iso(),
        "churnsurv_version": churnsurv.__version__,
        "parameters": _display_parameters(cfg["parameters"]),
        "n_figures": figure_number,
        "n_tables": table_number,
        "has_methods": bool(cfg["methods"].strip()),
        "single_file": single_file,
        "json": lambda value: json.dumps(value, sort_keys=True, ensure_ascii=False),
        "location": _location,
    }
