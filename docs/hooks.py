"""MkDocs hooks of the churnsurv documentation (``hooks: [docs/hooks.py]`` in ``mkdocs.yml``).

``on_pre_build`` makes the generated parts of the site before MkDocs collects the pages:

* the **figure gallery**: ``docs/gallery.py`` draws one PNG per plot function into ``docs/gallery/``;
* the **example notebooks**: each ``notebooks/NN_*.py`` is executed with
  :func:`churnsurv.reporting.run_notebook` (parameters ``{"fig_dir": <a temporary folder>}``) into a cache
  folder, converted to Markdown with nbconvert's ``MarkdownExporter`` and written to
  ``docs/notebooks/NN_*.md``, with its images in ``docs/notebooks/NN_*_files/``.

Both are cached. The key of a notebook is the SHA-256 of its source, the churnsurv version and a digest of the
package's files (source, style, templates) and of the bundled data, so a change to the package re-executes the
notebooks even while the version number stays the same; the gallery's key is the same with ``gallery.py`` in
place of the notebook. Executed notebooks live in ``$CHURNSURV_DOCS_CACHE`` (default
``.cache/docs`` in the repository, which git ignores). The gallery and the notebooks run in parallel
subprocesses whose output is captured (a kernel prints log lines that are not MkDocs warnings); a failure stops
the build with that output. Files are only rewritten when their bytes change, so ``mkdocs serve`` does not loop.

``on_page_markdown`` fills three kinds of markers in the pages:

* ``<!-- gallery -->`` (``docs/gallery.md``): for each ``@figure`` of ``gallery.py``, its title, caption, image
  and the body of the function that drew it (read from the file, so the code shown is the code that ran);
* ``<!-- cli-help: report -->``: the ``--help`` text of that ``churnsurv`` command;
* ``<!-- include-results: duckdb.md -->``: a benchmark result file of ``benchmarks/results/``, collapsed.

Set ``CHURNSURV_DOCS_SKIP_NOTEBOOKS=1`` to write placeholder notebook pages instead of executing the notebooks
(for quick edits of the prose; the test of the docs never sets it).
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from mkdocs.exceptions import PluginError

log = logging.getLogger("mkdocs.hooks.churnsurv")

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
GALLERY_SCRIPT = DOCS / "gallery.py"
GALLERY_DIR = DOCS / "gallery"
SCREENSHOT_SCRIPT = DOCS / "screenshots.py"
SCREENSHOT_DIR = DOCS / "screenshots"
NOTEBOOK_SOURCES = ROOT / "notebooks"
NOTEBOOK_PAGES = DOCS / "notebooks"
KEY_FILE = ".build-key"  # dot files are not copied into the site
CACHE = Path(os.environ.get("CHURNSURV_DOCS_CACHE", ROOT / ".cache" / "docs"))

# Titles of the notebook pages in the nav are set in mkdocs.yml; here only which notebooks exist.
NOTEBOOK_GLOB = "[0-9][0-9]_*.py"
#: A page image no build has written for this long is stale (builds take minutes; a concurrent one may need it).
_STALE_AFTER = 3600.0
#: Parameters of the docs' runs where the notebook's defaults would take minutes (the pages say which were used).
DOCS_PARAMETERS = {"06_states": {"data_path": "cdnow_sample", "n_boot": 20}, "05_actions": {"n_boot": 50}}
#: A finished cache entry: ``<stem>-<20 hex digits>.ipynb`` (anything else in the cache is not ours to delete).
_CACHE_NAME = re.compile(r"[0-9]{2}_[A-Za-z0-9_]+-[0-9a-f]{20}\.ipynb")


# --------------------------------------------------------------------------------------------------- helpers
def _sha256(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def _version() -> str:
    return importlib.metadata.version("churnsurv")


def _package_digest() -> str:
    """Digest of churnsurv's files and the bundled data: what the figures and notebooks depend on."""
    pkg = Path(importlib.util.find_spec("churnsurv").origin).resolve().parent  # without importing it
    files = sorted(p for p in pkg.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    data = ROOT / "data"
    files += sorted(p for p in data.glob("*") if p.is_file()) if data.is_dir() else []
    h = hashlib.sha256(_version().encode())
    for p in files:
        h.update(str(p.relative_to(p.parents[1])).encode())
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def _write_if_changed(path: Path, content: bytes) -> bool:
    """Write ``content`` to ``path`` unless it already holds those bytes. The write is atomic (a private temporary
    file in the same folder, then ``os.replace``), so a build running at the same time reads the old file or the
    new one, never half of one."""
    try:
        if path.read_bytes() == content:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def _env() -> dict:
    # No MPLBACKEND here: the notebooks' kernels must keep the inline backend so that their figures are outputs.
    return {**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}


# --------------------------------------------------------------------------------------------------- gallery
def gallery_entries() -> tuple[str, list[dict]]:
    """The setup code and the ``@figure`` entries of gallery.py, read from its source (not imported)."""
    source = GALLERY_SCRIPT.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    setup, entries = "", []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        if node.name == "setup":
            seg = "\n".join(lines[node.lineno - 1:node.end_lineno])
            m = re.search(r"# \[setup\]\n(.*?)\n\s*# \[/setup\]", seg, re.S)
            setup = textwrap.dedent(m.group(1)) if m else ""
        for dec in node.decorator_list:
            if isinstance(dec, ast.Call) and getattr(dec.func, "id", None) == "figure":
                name, title, caption = (ast.literal_eval(a) for a in dec.args)
                body = node.body
                if isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
                    body = body[1:]  # skip a docstring
                code = textwrap.dedent("\n".join(lines[body[0].lineno - 1:node.end_lineno]))
                entries.append({"name": name, "title": title, "caption": caption, "code": code,
                                "params": [a.arg for a in node.args.args]})
    return setup, entries


def _gallery_job(digest: str):
    """Start the gallery script if its images are out of date; returns (Popen, key) or None."""
    _, entries = gallery_entries()
    key = _sha256(GALLERY_SCRIPT.read_bytes(), digest.encode())
    key_file = GALLERY_DIR / KEY_FILE
    expected = {f"{e['name']}.png" for e in entries}
    GALLERY_DIR.mkdir(exist_ok=True)
    for stale in GALLERY_DIR.glob("*.png"):
        if stale.name not in expected:
            stale.unlink(missing_ok=True)
    if key_file.exists() and key_file.read_text() == key and all((GALLERY_DIR / n).exists() for n in expected):
        log.info("churnsurv docs: gallery up to date (%d figures)", len(expected))
        return None
    # Draw into a folder of this build's own; the images are moved into docs/gallery/ atomically afterwards.
    out = tempfile.mkdtemp(prefix="churnsurv-docs-gallery-")
    proc = subprocess.Popen([sys.executable, str(GALLERY_SCRIPT), out], cwd=ROOT, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    proc.out_dir = out  # type: ignore[attr-defined]
    return proc, key


def _publish_gallery(proc, key: str) -> None:
    """Copy the images a gallery job drew into docs/gallery/ (atomically, only changed files) and record its key."""
    out = Path(proc.out_dir)
    for png in sorted(out.glob("*.png")):
        _write_if_changed(GALLERY_DIR / png.name, png.read_bytes())
    shutil.rmtree(out, ignore_errors=True)
    _write_if_changed(GALLERY_DIR / KEY_FILE, key.encode())


def _screenshot_job(digest: str):
    """Start the report screenshots unless they are up to date; returns (Popen, key) or None."""
    key = _sha256(SCREENSHOT_SCRIPT.read_bytes(), (ROOT / "notebooks" / "report.yaml").read_bytes(),
                  *(p.read_bytes() for p in notebook_sources()), digest.encode())
    key_file = SCREENSHOT_DIR / KEY_FILE
    names = ("report_bundled.png", "report_own_data.png")
    if key_file.exists() and key_file.read_text() == key and all((SCREENSHOT_DIR / n).exists() for n in names):
        log.info("churnsurv docs: report screenshots up to date")
        return None
    out = tempfile.mkdtemp(prefix="churnsurv-docs-shots-")
    proc = subprocess.Popen([sys.executable, str(SCREENSHOT_SCRIPT), out], cwd=ROOT, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    proc.out_dir = out  # type: ignore[attr-defined]
    return proc, key


def _publish_screenshots(proc, key: str) -> None:
    out = Path(proc.out_dir)
    for png in sorted(out.glob("*.png")):
        _write_if_changed(SCREENSHOT_DIR / png.name, png.read_bytes())
    shutil.rmtree(out, ignore_errors=True)
    _write_if_changed(SCREENSHOT_DIR / KEY_FILE, key.encode())


def screenshots_markdown(page) -> str:
    """The two report screenshots (taken at build time by docs/screenshots.py), or a note when there are none."""
    shots = [("report_bundled.png", "The example report on the bundled telco snapshot"),
             ("report_own_data.png", "A report on a file of one's own: 300 subscriptions with sign-up and cancel "
                                     "dates (simulated), run with --param data_path=... start_col=... end_col=...")]
    if not all((SCREENSHOT_DIR / name).exists() for name, _ in shots):
        return ("*(Screenshots of the reports are taken when the site is built on a machine with Chromium; this "
                "build had none.)*")
    depth = page.file.src_uri.count("/")
    prefix = "../" * depth + "screenshots/"
    return "\n\n".join(f"![{caption}]({prefix}{name})\n\n*{caption}.*" for name, caption in shots)


def gallery_markdown() -> str:
    setup, entries = gallery_entries()
    out = ["## Setup", "",
           "Every figure below starts from these lines (`naive` and `snap` are the two readings of the bundled "
           "Maven telco snapshot, see [the tenure table](guide/tenure-table.md)):", "",
           "```python", setup.rstrip(), "```", ""]
    for e in entries:
        out += [f"## {e['title']}", "", e["caption"], "",
                f"![{e['caption']}](gallery/{e['name']}.png)", "",
                "```python", e["code"].rstrip(), "```", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------- notebooks
def notebook_sources() -> list[Path]:
    return sorted(NOTEBOOK_SOURCES.glob(NOTEBOOK_GLOB))


def _notebook_job(source: Path, digest: str):
    """Start executing a notebook unless the cache holds an up-to-date executed copy; returns (Popen|None, path)."""
    key = _sha256(source.read_bytes(), _version().encode(), digest.encode(),
                  json.dumps(DOCS_PARAMETERS.get(source.stem, {})).encode())[:20]
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / f"{source.stem}-{key}.ipynb"
    if cached.exists():
        log.info("churnsurv docs: %s up to date (cache %s)", source.name, cached)
        return None, cached
    # Everything this build writes before it is complete lives in folders of its own: a build running at the same
    # time never sees (or deletes) another build's partial notebook or figures.
    work = Path(tempfile.mkdtemp(prefix=f"churnsurv-docs-{source.stem}-"))
    partial = work / "executed.ipynb"
    fig_dir = str(work / "figures")
    code = ("import json, sys; from churnsurv.reporting import run_notebook; "
            "run_notebook(sys.argv[1], sys.argv[2], {'fig_dir': sys.argv[3], **json.loads(sys.argv[4])}, "
            "progress=False)")
    params = json.dumps(DOCS_PARAMETERS.get(source.stem, {}))
    proc = subprocess.Popen([sys.executable, "-c", code, str(source), str(partial), fig_dir, params], cwd=ROOT,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    proc.partial, proc.work = partial, work  # type: ignore[attr-defined]
    return proc, cached


def _clean_markdown(body: str) -> str:
    body = re.sub(r"<style scoped>.*?</style>\n?", "", body, flags=re.S)  # pandas' inline CSS
    body = body.replace('<table border="1" class="dataframe">', '<table class="dataframe">')
    body = re.sub(r"\n{3,}", "\n\n", body)
    return body.strip() + "\n"


def render_notebook(executed: Path, source: Path) -> None:
    """Convert an executed notebook to ``docs/notebooks/<stem>.md`` plus ``<stem>_files/*.png``."""
    import nbformat
    from nbconvert import MarkdownExporter

    nb = nbformat.read(executed, as_version=4)
    # Papermill's injected cell holds only the temporary fig_dir: not worth showing.
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    stem = source.stem
    body, resources = MarkdownExporter().from_notebook_node(
        nb, resources={"output_files_dir": f"{stem}_files", "unique_key": stem})
    body = _clean_markdown(body)
    rel = source.relative_to(ROOT).as_posix()
    note = (f'!!! info "Executed when this site was built"\n'
            f"    This page is the notebook `{rel}` (jupytext percent format), executed with its default "
            f"parameters by churnsurv {_version()} and converted to Markdown. Its figures, tables and "
            f"findings are the ones `churnsurv report` puts in the report; see "
            f"[Notebooks and the report](../guide/report.md) to run it on your own data.\n")
    lines = body.split("\n")
    if lines and lines[0].startswith("# "):  # keep the notebook's title as the page title
        body = "\n".join([lines[0], "", note, *lines[1:]])
    else:
        body = note + "\n" + body
    changed = _write_if_changed(NOTEBOOK_PAGES / f"{stem}.md", body.encode())
    files_dir = NOTEBOOK_PAGES / f"{stem}_files"
    wanted = set()
    for name, data in resources.get("outputs", {}).items():
        path = NOTEBOOK_PAGES / name
        wanted.add(path.name)
        changed |= _write_if_changed(path, data)
    if files_dir.is_dir():
        # Another build running at the same time may have written other image names (output numbering shifts when a
        # run prints a warning) and be copying them now: only images older than any running build are stale.
        cutoff = time.time() - _STALE_AFTER
        for old in files_dir.iterdir():
            if old.name not in wanted and not old.name.startswith(".") and old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
    log.info("churnsurv docs: %s page %s", stem, "written" if changed else "unchanged")


def _placeholder(source: Path) -> None:
    text = (f"# {source.stem}\n\n!!! warning \"Not executed\"\n    The notebook `notebooks/{source.name}` was not "
            "executed for this build (`CHURNSURV_DOCS_SKIP_NOTEBOOKS` is set).\n")
    _write_if_changed(NOTEBOOK_PAGES / f"{source.stem}.md", text.encode())


# --------------------------------------------------------------------------------------------------- hooks
def on_pre_build(config, **kwargs) -> None:
    start = time.perf_counter()
    digest = _package_digest()
    jobs = []
    gallery = _gallery_job(digest)
    if gallery is not None:
        jobs.append(("gallery", gallery[0]))
    skip = os.environ.get("CHURNSURV_DOCS_SKIP_NOTEBOOKS", "") not in ("", "0")
    shots = None if skip else _screenshot_job(digest)
    notebooks = []
    for source in notebook_sources():
        if skip:
            _placeholder(source)
            continue
        proc, cached = _notebook_job(source, digest)
        notebooks.append((source, proc, cached))
        if proc is not None:
            jobs.append((source.name, proc))
    failures = []
    for label, proc in jobs:
        output, _ = proc.communicate()
        if proc.returncode != 0:
            failures.append(f"--- {label} failed (exit {proc.returncode}):\n{output}")
    if shots is not None:
        output, _ = shots[0].communicate()
        if shots[0].returncode == 0:
            _publish_screenshots(*shots)
        elif shots[0].returncode == 3:  # no chromium on this machine: the pages show no screenshot
            log.info("churnsurv docs: %s", output.strip())
            shutil.rmtree(shots[0].out_dir, ignore_errors=True)
        else:
            failures.append(f"--- report screenshots failed (exit {shots[0].returncode}):\n{output}")
    if failures:
        _clean_work(gallery, notebooks)
        raise PluginError("churnsurv docs hook:\n" + "\n".join(failures))
    if gallery is not None:
        _publish_gallery(*gallery)
    for source, proc, cached in notebooks:
        if proc is not None:
            # same key, same content: if a concurrent build got there first, either copy will do
            _write_if_changed(cached, proc.partial.read_bytes())
            for old in CACHE.glob(f"{source.stem}-*.ipynb"):
                if old != cached and _CACHE_NAME.fullmatch(old.name):
                    old.unlink(missing_ok=True)
        render_notebook(cached, source)
    _clean_work(gallery, notebooks)
    log.info("churnsurv docs: generated content ready in %.1f s", time.perf_counter() - start)


def _clean_work(gallery, notebooks) -> None:
    """Remove this build's private folders."""
    if gallery is not None:
        shutil.rmtree(gallery[0].out_dir, ignore_errors=True)
    for _, proc, _ in notebooks:
        if proc is not None:
            shutil.rmtree(proc.work, ignore_errors=True)


_HELP_CACHE: dict[str, str] = {}


def _cli_help(args: str) -> str:
    if args not in _HELP_CACHE:
        env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb", "_TYPER_FORCE_DISABLE_TERMINAL": "1"}
        cmd = [sys.executable, "-m", "churnsurv.cli", *args.split(), "--help"]
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise PluginError(f"churnsurv docs hook: `churnsurv {args} --help` failed:\n{proc.stderr}")
        text = "\n".join(line.rstrip() for line in proc.stdout.strip("\n").splitlines())
        _HELP_CACHE[args] = textwrap.dedent(text).replace("python -m churnsurv.cli", "churnsurv")
    return _HELP_CACHE[args]


def results_block(name: str) -> str:
    """``benchmarks/results/<name>`` in a collapsed admonition: headings become bold lines, and the plain-text
    tables (pandas ``to_string`` output, lines of space-separated columns) are fenced so they keep their layout."""
    path = ROOT / "benchmarks" / "results" / name
    if not path.exists():
        raise PluginError(f"churnsurv docs hook: {path} does not exist (referenced by <!-- include-results -->)")
    out, plain = [], []

    def flush():
        if plain:
            out.extend(["```text", *plain, "```"])
            plain.clear()

    for line in path.read_text().splitlines():
        if line.startswith(" ") and "|" not in line and re.search(r"\S\s{2,}\S", line):
            plain.append(line)
            continue
        flush()
        heading = re.match(r"^#+\s+(.*)$", line)
        out.append(f"**{heading.group(1)}**" if heading else line)
    flush()
    body = "\n".join(f"    {line}" if line else "" for line in out)
    return f'??? abstract "`benchmarks/results/{name}` (as of this build)"\n\n{body}\n'


def on_page_markdown(markdown: str, page, config, files, **kwargs) -> str:
    if "<!-- gallery -->" in markdown:
        markdown = markdown.replace("<!-- gallery -->", gallery_markdown())

    def help_block(m):
        args = m.group(1).strip()
        command = " ".join(["churnsurv", *args.split(), "--help"])
        return f"```text\n$ {command}\n{_cli_help(args)}\n```"

    if "<!-- report-screenshots -->" in markdown:
        markdown = markdown.replace("<!-- report-screenshots -->", screenshots_markdown(page))
    markdown = re.sub(r"<!-- cli-help:(.*?)-->", help_block, markdown)
    return re.sub(r"<!-- include-results:(.*?)-->", lambda m: results_block(m.group(1).strip()), markdown)
