"""Notebook execution for :mod:`churnsurv.report`: :func:`run_notebook`, :class:`NotebookExecutionError` and
:func:`notebook_parameters`.

A jupytext ``.py`` notebook is converted to ``.ipynb`` and executed with papermill; a failure is reported with the
cell and line of the source file that raised. :func:`notebook_parameters` reads the cell tagged ``parameters``
(names, defaults and the trailing ``# comment`` of each line) without running anything. Import
``run_notebook`` and ``NotebookExecutionError`` from :mod:`churnsurv.report`.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import io
import keyword
import os
import re
import sys
import tempfile
import time
import tokenize
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from churnsurv.report.manifest import NOTEBOOK_ENV, _json_safe, _umask


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


@dataclasses.dataclass(frozen=True)
class NotebookParameter:
    """One parameter declared in a notebook's cell tagged ``parameters``.

    Attributes
    ----------
    name : str
        The variable name.
    default : object
        The default value when it is a Python literal (str, number, bool, None, list, dict ...); otherwise the
        source text of the expression.
    source : str
        The source text of the default, as written in the notebook.
    meaning : str
        The comment on the line (``x = 3  # meaning``), or the comment lines right above it; empty if none.
    line : int
        1-based line of the assignment in the ``.py`` file.
    """

    name: str
    default: Any
    source: str
    meaning: str
    line: int


def notebook_parameters(source_py: str | os.PathLike) -> dict[str, NotebookParameter]:
    """The parameters a jupytext notebook declares, with their defaults and meanings.

    Reads the cell tagged ``parameters`` (``# %% tags=["parameters"]``) of a percent-format ``.py`` notebook
    without executing it: every top-level assignment ``name = value`` is a parameter; its meaning is the
    trailing ``# comment`` of the line (or the comment lines right above the assignment).

    Parameters
    ----------
    source_py : str or path-like
        The ``.py`` notebook.

    Returns
    -------
    dict of str to NotebookParameter
        In the order of the cell; empty when the notebook has no cell tagged ``parameters``.

    Raises
    ------
    FileNotFoundError
        If ``source_py`` does not exist (the message shows the absolute path tried).
    ValueError
        If the parameters cell is not valid Python.

    See Also
    --------
    run_notebook : Execute a notebook, injecting parameters after this cell.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from churnsurv.report.notebook import notebook_parameters
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "nb.py"
    ...     _ = path.write_text('# %% tags=["parameters"]\\nhorizon = 24  # months to look ahead\\n')
    ...     params = notebook_parameters(path)
    >>> params["horizon"].default, params["horizon"].meaning
    (24, 'months to look ahead')
    """
    import jupytext

    path = Path(source_py)
    if not path.is_file():
        raise FileNotFoundError(f"Notebook source {str(path.absolute())!r} does not exist.")
    file_text = path.read_text(encoding="utf-8")
    nb = jupytext.reads(file_text, fmt="py:percent")
    cell = next((c for c in nb.cells if "parameters" in c.metadata.get("tags", [])), None)
    if cell is None:
        return {}
    text = cell.source
    offset = _cell_offset(file_text)
    try:
        tree = ast.parse(text)
    except SyntaxError as err:
        raise ValueError(f"The parameters cell of {str(path)!r} is not valid Python: {err}.") from err
    comments = _line_comments(text)
    lines = text.splitlines()
    out: dict[str, NotebookParameter] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, value = node.target.id, node.value
        else:
            continue
        code = ast.get_source_segment(text, value) or ""
        try:
            default = ast.literal_eval(value)
        except ValueError:
            default = code
        meaning = comments.get(node.end_lineno, "")
        if not meaning:  # the comment block right above the assignment
            above, row = [], node.lineno - 1
            while row >= 1 and lines[row - 1].lstrip().startswith("#"):
                above.insert(0, comments.get(row, ""))
                row -= 1
            meaning = " ".join(a for a in above if a)
        out[name] = NotebookParameter(name, default, code, meaning, node.lineno + offset)
    return out


def _line_comments(text: str) -> dict[int, str]:
    comments: dict[int, str] = {}
    with contextlib.suppress(tokenize.TokenError, IndentationError):
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                comments[tok.start[0]] = tok.string.lstrip("#").strip()
    return comments


def _cell_offset(file_text: str) -> int:
    """Line number of the ``# %% tags=["parameters"]`` marker (the cell's text starts on the next line)."""
    for number, line in enumerate(file_text.splitlines(), start=1):
        if line.startswith("# %%") and "parameters" in line:
            return number
    return 0


def check_parameter_names(names, origin: str) -> None:
    """Raise ``ValueError`` unless every name is a Python identifier (and not a keyword).

    Papermill writes ``name = value`` into the notebook as code, so a name is the one part of a parameter that
    is not quoted: anything but an identifier could run code in the kernel.
    """
    for name in names:
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(
                f"The parameter name {name!r} ({origin}) is not a Python identifier. A notebook parameter name is "
                "letters, digits and '_', does not start with a digit and is not a Python keyword (names are "
                "written into the notebook as code, so anything else is refused)."
            )


# --------------------------------------------------------------------------- #
# Running notebooks
# --------------------------------------------------------------------------- #
#: Starts of a kernel tried before a start-up failure (a loopback port race) is an error.
_KERNEL_START_ATTEMPTS = 3


def _kernel_start_failed(err: BaseException) -> bool:
    """Whether ``err`` says the kernel died or could not bind its ports before it ran any cell."""
    text = f"{type(err).__name__}: {err}"
    return "Kernel died before replying to kernel_info" in text or "Address already in use" in text


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
        Where to write the executed notebook (parent directories are created). It is written to a temporary file
        next to it and renamed into place, so a symbolic link at that name is replaced, never written through.
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
        Name under which :func:`~churnsurv.report.save_figure` records the notebook's outputs
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
        ``parameters``, or a parameter name is not a Python identifier (names
        are injected as code).
    FileNotFoundError
        If ``source_py`` does not exist.

    See Also
    --------
    ~churnsurv.report.build_report : Run the notebooks of a report and render it.

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
    check_parameter_names(dict(parameters or {}), "the parameters of run_notebook")
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
    # the kernel talks to us over loopback TCP; its start-up warning about that is noise for a report run
    engine_kwargs["extra_arguments"] = ["--IPKernelApp.log_level=ERROR"]
    # papermill opens the output path and writes: through a symbolic link planted there, too. Write a fresh
    # temporary file in the same folder instead and rename it over the output (which replaces a link).
    fd, tmp_name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.stem}.", suffix=".ipynb")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with _environ({NOTEBOOK_ENV: name}):
            for attempt in range(_KERNEL_START_ATTEMPTS):
                try:
                    papermill.execute_notebook(
                        nb,
                        str(tmp),
                        parameters=params,
                        kernel_name=kernel_name,
                        language="python",
                        cwd=None if cwd is None else str(cwd),
                        progress_bar=False,
                        **engine_kwargs,
                    )
                    break
                except PapermillExecutionError:
                    raise
                except Exception as err:  # noqa: BLE001 - only a kernel that failed to start is retried
                    if attempt + 1 == _KERNEL_START_ATTEMPTS or not _kernel_start_failed(err):
                        raise
                    # the kernel picks free loopback ports and binds them a moment later: when several kernels
                    # start at once another process can take a port in between ("Address already in use")
                    time.sleep(0.5 * (attempt + 1))
    except PapermillExecutionError as err:
        _publish(tmp, output)
        if progress:
            _progress(f"FAILED {source} after {time.perf_counter() - start:.1f} s")
        raise _execution_error(source, text, nb, params, err, output) from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _publish(tmp, output)
    if progress:
        _progress(f"finished {source} in {time.perf_counter() - start:.1f} s")
    return output


def _publish(tmp: Path, output: Path) -> None:
    """Rename the executed notebook over ``output``: a link at ``output`` is replaced, never written through."""
    if output.is_dir() and not output.is_symlink():
        tmp.unlink(missing_ok=True)
        raise IsADirectoryError(f"Cannot write the executed notebook to {str(output)!r}: it is a folder.")
    if not tmp.exists() or tmp.stat().st_size == 0:  # papermill failed before writing anything
        tmp.unlink(missing_ok=True)
        return
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600 files
    os.replace(tmp, output)


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
