"""The HTML report of :mod:`churnsurv.report`: configuration, :func:`build_report` and :func:`render_report`.

:func:`build_report` runs the notebooks of a report configuration (:func:`load_report_config`) and
:func:`render_report` renders ``index.html`` from the manifest the notebooks wrote, embedding only the files it
lists. Import these functions from :mod:`churnsurv.report`.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from churnsurv.report.manifest import (
    _DEFAULT_DPI,
    _MANIFEST_SECTIONS,
    MANIFEST_NAME,
    _check_name,
    _clear_manifest,
    _json_safe,
    _now_iso,
    _read_manifest,
    _verify_files,
    _write_bytes,
)
from churnsurv.report.notebook import NotebookExecutionError, _progress, run_notebook

_TEMPLATE_DIR = Path(__file__).parent / "templates"
_REPORT_TEMPLATE = "report.html.j2"
_CONFIG_KEYS = {"title", "intro", "methods", "parameters", "notebooks"}
_NOTEBOOK_KEYS = {"path", "name", "title", "parameters"}


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
    every note saved with :func:`~churnsurv.report.save_text`) and a provenance section
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
