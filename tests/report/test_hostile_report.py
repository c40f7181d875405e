"""The report is safe (issue 16, item 9): parameter names are identifiers, nothing is written through a symbolic
link out of the output folder, a re-run swaps its result in at the end (an interruption leaves the previous report
whole), and ``--no-run`` refuses a partial manifest.

Most tests replace the notebook runner by :func:`fake_run_notebook`, which writes what a notebook would (the
executed ``.ipynb`` and one saved note) in milliseconds; the last two run real notebooks (slow).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from churnsurv.cli import app
from churnsurv.report import html as report_html
from churnsurv.report.html import build_report, load_report_config, render_report
from churnsurv.report.manifest import MANIFEST_NAME
from churnsurv.report.notebook import NotebookExecutionError, run_notebook
from churnsurv.report.saving import save_text

runner = CliRunner()
DEMO = Path(__file__).parent / "notebooks" / "demo_report.py"
NOTEBOOK = '# %% [markdown]\n# # {title}\n\n# %% tags=["parameters"]\nfig_dir = "reports/figures"\nlabel = "x"\n'


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    for name in ("first", "second"):
        (folder / f"{name}.py").write_text(NOTEBOOK.format(title=name.title()))
    (folder / "report.yaml").write_text("notebooks:\n  - path: first.py\n  - path: second.py\n")
    return folder


class FakeRunner:
    """Stands in for run_notebook: writes the executed notebook and one note per notebook, like a real run."""

    def __init__(self, fail_on: str | None = None, error: type[BaseException] | None = None):
        self.fail_on, self.error, self.calls = fail_on, error, []

    def __call__(self, source, output, parameters=None, *, cwd=None, notebook_name=None, **kwargs):
        self.calls.append((Path(source).name, dict(parameters or {})))
        if notebook_name == self.fail_on:
            if self.error is NotebookExecutionError:
                raise NotebookExecutionError(
                    f"Notebook {str(source)!r} failed in cell 2:\nRuntimeError: boom\nThe partially executed "
                    f"notebook, with the traceback, is at {str(output)!r}.", notebook=str(source), cell_number=2,
                    line=5, source="", ename="RuntimeError", evalue="boom", output_path=str(output))
            raise self.error()
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(json.dumps({"cells": [], "label": parameters.get("label")}))
        fig_dir = Path(cwd) / parameters["fig_dir"]
        save_text(f"Note of {notebook_name} ({parameters.get('label')}).", f"{notebook_name}_note", fig_dir=fig_dir,
                  title=notebook_name, notebook=notebook_name)
        return Path(output)


def build(project, out, runner_=None, monkeypatch=None, **kwargs):
    monkeypatch.setattr(report_html, "run_notebook", runner_ or FakeRunner())
    return build_report(project / "report.yaml", output_dir=out, progress=False, **kwargs)


def local_references(index: Path) -> set[str]:
    text = index.read_text()
    refs = set(re.findall(r'(?:src|href)="([^"#][^"]*)"', text))
    return {r for r in refs if not r.startswith(("http", "data:", "mailto:"))}


def assert_whole(index: Path) -> None:
    """Every local file the page links to exists."""
    assert index.is_file()
    refs = local_references(index)
    assert refs, "the page links to no file"
    for ref in refs:
        assert (index.parent / ref).is_file(), ref


# --------------------------------------------------------------------------- #
# Parameter names are identifiers
# --------------------------------------------------------------------------- #
CRAFTED = "x = 1\nimport os; os.system('touch pwned')\ny"


def test_run_notebook_refuses_a_crafted_name_before_papermill(tmp_path, monkeypatch):
    import papermill

    calls = []
    monkeypatch.setattr(papermill, "execute_notebook", lambda *a, **k: calls.append(a))
    with pytest.raises(ValueError, match=r"is not a Python identifier"):
        run_notebook(DEMO, tmp_path / "out.ipynb", {CRAFTED: 1}, progress=False)
    with pytest.raises(ValueError, match=r"'lambda' .*not a Python identifier"):
        run_notebook(DEMO, tmp_path / "out.ipynb", {"lambda": 1}, progress=False)
    assert calls == [] and not (tmp_path / "out.ipynb").exists()


@pytest.mark.parametrize("where", ["global", "notebook"])
def test_configuration_parameter_names_must_be_identifiers(project, where):
    if where == "global":
        text = f"parameters:\n  {json.dumps(CRAFTED)}: 1\nnotebooks:\n  - path: first.py\n"
    else:
        text = f"notebooks:\n  - path: first.py\n    parameters:\n      {json.dumps(CRAFTED)}: 1\n"
    (project / "report.yaml").write_text(text)
    expected = "under 'parameters' in report configuration" if where == "global" else "of notebook 1 (first.py)"
    with pytest.raises(ValueError, match=r"is not a Python identifier") as info:
        load_report_config(project / "report.yaml")
    assert expected in str(info.value)


def test_build_report_parameter_names_must_be_identifiers(project, tmp_path, monkeypatch):
    fake = FakeRunner()
    with pytest.raises(ValueError, match=r"given with --param.*is not a Python identifier"):
        build(project, tmp_path / "out", fake, monkeypatch, parameters={"label; import os": 1})
    assert fake.calls == [] and not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- #
# Nothing is written through a symbolic link
# --------------------------------------------------------------------------- #
def test_executed_notebook_replaces_a_link_instead_of_following_it(tmp_path, monkeypatch):
    import papermill

    def execute(nb, output_path, **kwargs):  # papermill opens the output path and writes
        with open(output_path, "w") as handle:
            handle.write('{"executed": true}')

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    (tmp_path / "out").mkdir()
    link = tmp_path / "out" / "demo.ipynb"
    link.symlink_to(outside)
    assert run_notebook(DEMO, link, {"label": "a"}, progress=False) == link
    assert outside.read_text() == "precious"
    assert not link.is_symlink() and link.read_text() == '{"executed": true}'
    assert [p.name for p in link.parent.iterdir()] == ["demo.ipynb"]  # no temporary file left


def test_lock_file_link_is_refused(tmp_path):
    fig_dir = tmp_path / "figures"
    fig_dir.mkdir()
    target = tmp_path / "elsewhere" / "created_by_churnsurv"
    target.parent.mkdir()
    (fig_dir / f".{MANIFEST_NAME}.lock").symlink_to(target)
    with pytest.raises(PermissionError, match=r"is a symbolic link .*does not write through links"):
        save_text("Hello.", "note", fig_dir=fig_dir, title="Note", notebook="n")
    assert not target.exists()


def test_build_replaces_links_planted_in_the_output_folder(project, tmp_path, monkeypatch):
    """figures/ and notebooks/ linked out of the output folder: the targets are neither written nor emptied."""
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "figs").mkdir(parents=True)
    (elsewhere / "nbs").mkdir()
    (elsewhere / "figs" / "keep.png").write_bytes(b"not yours")
    (elsewhere / "figs" / MANIFEST_NAME).write_text(json.dumps(
        {"schema": 1, "figures": [{"id": "keep", "notebook": "first", "files": {"png": {"path": "keep.png"}}}],
         "tables": [], "texts": []}))
    (elsewhere / "nbs" / "first.ipynb").write_text("not yours either")
    out = tmp_path / "out"
    out.mkdir()
    (out / "figures").symlink_to(elsewhere / "figs")
    (out / "notebooks").symlink_to(elsewhere / "nbs")
    (out / "index.html").symlink_to(elsewhere / "index.html")

    index = build(project, out, None, monkeypatch)
    assert sorted(p.name for p in (elsewhere / "figs").iterdir()) == ["keep.png", MANIFEST_NAME]
    assert (elsewhere / "figs" / "keep.png").read_bytes() == b"not yours"
    assert (elsewhere / "nbs" / "first.ipynb").read_text() == "not yours either"
    assert [p.name for p in (elsewhere / "nbs").iterdir()] == ["first.ipynb"]
    assert not (elsewhere / "index.html").exists()
    for name in ("figures", "notebooks", "index.html"):
        assert not (out / name).is_symlink()
    assert_whole(index)


def test_no_run_replaces_an_index_link(project, tmp_path, monkeypatch):
    out = tmp_path / "out"
    build(project, out, None, monkeypatch)
    outside = tmp_path / "outside.html"
    outside.write_text("precious")
    (out / "index.html").unlink()
    (out / "index.html").symlink_to(outside)
    res = runner.invoke(app, ["report", str(project / "report.yaml"), "--no-run", "--output-dir", str(out)])
    assert res.exit_code == 0, res.output
    assert outside.read_text() == "precious" and not (out / "index.html").is_symlink()


# --------------------------------------------------------------------------- #
# A re-run builds aside and swaps in at the end
# --------------------------------------------------------------------------- #
def test_rerun_replaces_the_outputs(project, tmp_path, monkeypatch):
    out = tmp_path / "out"
    build(project, out, None, monkeypatch)
    (out / "figures" / "stale.png").write_bytes(b"old")
    (out / "notes.txt").write_text("the user's own file")
    index = build(project, out, None, monkeypatch, parameters={"label": "second run"})
    assert index == out / "index.html"
    assert_whole(index)
    assert "second run" in index.read_text()
    assert not (out / "figures" / "stale.png").exists()  # the report shows exactly what this build wrote
    assert (out / "notes.txt").read_text() == "the user's own file"  # other files are left alone
    assert sorted(p.name for p in out.iterdir()) == ["figures", "index.html", "notebooks", "notes.txt"]


@pytest.mark.parametrize("error", [KeyboardInterrupt, NotebookExecutionError, MemoryError])
def test_interrupted_rerun_leaves_the_previous_report_whole(project, tmp_path, monkeypatch, error):
    out = tmp_path / "out"
    build(project, out, None, monkeypatch, parameters={"label": "first run"})
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(error):
        build(project, out, FakeRunner(fail_on="second", error=error), monkeypatch, parameters={"label": "again"})
    assert_whole(out / "index.html")
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()
             if not str(p.relative_to(out)).startswith(report_html.FAILED_DIR)}
    assert after == before
    assert not [p for p in out.iterdir() if p.name.startswith(".churnsurv-build-")]  # no staging folder left


def test_failed_build_keeps_the_partial_notebooks_aside(project, tmp_path, monkeypatch):
    out = tmp_path / "out"
    with pytest.raises(NotebookExecutionError) as info:
        build(project, out, FakeRunner(fail_on="second", error=NotebookExecutionError), monkeypatch)
    failed = out / report_html.FAILED_DIR
    assert info.value.output_path == str(failed / "second.ipynb")
    assert str(failed / "second.ipynb") in str(info.value)
    assert (failed / "first.ipynb").is_file()
    assert not (out / "index.html").exists()


def test_first_build_interrupted_leaves_no_index(project, tmp_path, monkeypatch):
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        build(project, out, FakeRunner(fail_on="second", error=KeyboardInterrupt), monkeypatch)
    assert list(out.iterdir()) == []


# --------------------------------------------------------------------------- #
# --no-run refuses a partial manifest
# --------------------------------------------------------------------------- #
def test_no_run_refuses_a_manifest_missing_a_notebook(project, tmp_path):
    fig_dir = tmp_path / "out" / "figures"  # the first notebook was run by hand, the second not
    save_text("Only the first.", "first_note", fig_dir=fig_dir, title="First", notebook="first")
    with pytest.raises(ValueError, match=r"is partial: notebook\(s\) second of the report configuration are missing"):
        render_report(project / "report.yaml", output_dir=tmp_path / "out")
    res = runner.invoke(app, ["report", str(project / "report.yaml"), "--no-run", "--output-dir",
                              str(tmp_path / "out")])
    assert res.exit_code == 2 and "is partial" in res.stderr and "without --no-run" in res.stderr
    assert not (tmp_path / "out" / "index.html").exists()


def test_no_run_refuses_an_unfinished_build_record(project, tmp_path, monkeypatch):
    out = tmp_path / "out"
    build(project, out, None, monkeypatch)
    manifest_path = out / "figures" / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text())
    assert manifest["build"] == {"complete": True, "notebooks": ["first", "second"]}
    render_report(project / "report.yaml", output_dir=out)  # a complete build renders

    manifest["build"]["complete"] = False
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=r"partial: notebook\(s\) first, second .*did not run them"):
        render_report(project / "report.yaml", output_dir=out)

    manifest["build"] = {"complete": True, "notebooks": ["first"]}  # the configuration gained a notebook since
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=r"partial: notebook\(s\) second "):
        render_report(project / "report.yaml", output_dir=out)


# --------------------------------------------------------------------------- #
# Real notebooks (slow)
# --------------------------------------------------------------------------- #
@pytest.mark.slow
def test_real_rerun_that_fails_keeps_the_previous_report(tmp_path):
    (tmp_path / "broken.py").write_text('# %% tags=["parameters"]\nfig_dir = "x"\n\n# %%\nraise RuntimeError("boom")\n')
    (tmp_path / "good.yaml").write_text(f"notebooks:\n  - path: {DEMO}\n")
    (tmp_path / "bad.yaml").write_text(f"notebooks:\n  - path: {DEMO}\n  - path: broken.py\n")
    out = tmp_path / "out"
    index = build_report(tmp_path / "good.yaml", output_dir=out, progress=False)
    assert_whole(index)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(NotebookExecutionError, match="RuntimeError: boom") as info:
        build_report(tmp_path / "bad.yaml", output_dir=out, progress=False)
    assert Path(info.value.output_path).is_file()
    assert Path(info.value.output_path).parent == out / report_html.FAILED_DIR
    assert_whole(index)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()
             if not str(p.relative_to(out)).startswith(report_html.FAILED_DIR)}
    assert after == before


@pytest.mark.slow
def test_real_notebook_output_link_is_replaced(tmp_path):
    outside = tmp_path / "outside.ipynb"
    outside.write_text("precious")
    link = tmp_path / "run" / "demo.ipynb"
    link.parent.mkdir()
    link.symlink_to(outside)
    run_notebook(DEMO, link, {"fig_dir": str(tmp_path / "figs"), "n_points": 3}, progress=False)
    assert outside.read_text() == "precious"
    assert not link.is_symlink() and json.loads(link.read_text())["cells"]
    assert os.listdir(link.parent) == ["demo.ipynb"]


def test_pdf_replaces_a_link_instead_of_following_it(tmp_path, monkeypatch):
    """A stand-in 'chromium' on the PATH writes to --print-to-pdf=...; a link at report.pdf is not followed."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    browser = bin_dir / "chromium"
    browser.write_text('#!/bin/sh\nfor a in "$@"; do case "$a" in --print-to-pdf=*) '
                       'printf "%%PDF-1.4 fake" > "${a#--print-to-pdf=}";; esac; done\n')
    browser.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    page = tmp_path / "out" / "report.html"
    page.parent.mkdir()
    page.write_text("<html><body>report</body></html>")
    outside = tmp_path / "outside.pdf"
    outside.write_text("precious")
    (page.parent / "report.pdf").symlink_to(outside)
    pdf = report_html.export_pdf(page)
    assert pdf == page.with_suffix(".pdf") and pdf.read_bytes() == b"%PDF-1.4 fake" and not pdf.is_symlink()
    assert outside.read_text() == "precious"
    assert sorted(p.name for p in page.parent.iterdir()) == ["report.html", "report.pdf"]
