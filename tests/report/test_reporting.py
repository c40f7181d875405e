"""Tests for churnsurv.reporting: deterministic figures, manifest, notebooks, report."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from churnsurv.reporting import (
    STYLE_PATH,
    NotebookExecutionError,
    build_report,
    load_report_config,
    render_report,
    run_notebook,
    save_figure,
    save_table,
    save_text,
    style_context,
    use_style,
)

matplotlib.use("Agg")

DEMO = Path(__file__).parent / "notebooks" / "demo_report.py"
VERSION_KEYS = {"churnsurv", "python", "numpy", "pandas", "scipy", "matplotlib", "lifelines"}


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def make_figure():
    with style_context():
        fig, ax = plt.subplots()
        t = np.arange(12)
        ax.step(t, 0.9**t, where="post", label="Month-to-month")
        ax.step(t, 0.97**t, where="post", label="Two year")
        ax.set_xlabel("Tenure (months)")
        ax.set_ylabel("Survival")
        ax.set_title("Retention by contract")
        ax.legend()
    return fig


def load_manifest(fig_dir: Path) -> dict:
    return json.loads((fig_dir / "manifest.json").read_text())


def without_timestamp(manifest: dict) -> dict:
    return {k: v for k, v in manifest.items() if k != "generated_at"}


@pytest.fixture
def data_csv(tmp_path):
    path = tmp_path / "tenures.csv"
    pd.DataFrame({"time": np.arange(10.0), "survival": 0.8 ** np.arange(10)}).to_csv(path, index=False)
    return path


@pytest.fixture
def report_config(tmp_path, data_csv):
    """A report configuration running the demo notebook, relative to tmp_path."""
    return {
        "title": "Demo churn report",
        "intro": "A report built by the **test suite**.",
        "methods": "Toy data; nothing is estimated.",
        "parameters": {"data_path": data_csv.name, "label": "from-config"},
        "notebooks": [{"path": str(DEMO), "parameters": {"n_points": 6}}],
        "base_dir": str(tmp_path),
    }


# --------------------------------------------------------------------------- #
# save_figure
# --------------------------------------------------------------------------- #
def test_save_figure_twice_is_byte_identical(tmp_path, data_csv):
    """Two runs (fresh figures, separate directories) give identical files and manifests."""
    dirs = [tmp_path / "run1", tmp_path / "run2"]
    for fig_dir in dirs:
        fig = make_figure()
        save_figure(
            fig,
            "km_by_contract",
            fig_dir=fig_dir,
            caption="Retention by contract.",
            notebook="01_survival",
            parameters={"data_path": data_csv, "horizon": np.int64(24)},
            data_paths=[data_csv],
        )
        plt.close(fig)
    for ext in ("png", "svg"):
        assert (dirs[0] / f"km_by_contract.{ext}").read_bytes() == (dirs[1] / f"km_by_contract.{ext}").read_bytes()
    assert without_timestamp(load_manifest(dirs[0])) == without_timestamp(load_manifest(dirs[1]))


def test_save_figure_same_directory_twice_only_timestamp_changes(tmp_path):
    fig = make_figure()
    save_figure(fig, "fig", fig_dir=tmp_path, caption="A figure.")
    first = (tmp_path / "manifest.json").read_text()
    png, svg = (tmp_path / "fig.png").read_bytes(), (tmp_path / "fig.svg").read_bytes()
    save_figure(fig, "fig", fig_dir=tmp_path, caption="A figure.")
    second = (tmp_path / "manifest.json").read_text()
    plt.close(fig)
    assert (tmp_path / "fig.png").read_bytes() == png
    assert (tmp_path / "fig.svg").read_bytes() == svg
    strip = re.compile(r'"generated_at": "[^"]*"')
    assert strip.sub("", first) == strip.sub("", second)
    assert len(load_manifest(tmp_path)["figures"]) == 1


def test_save_figure_is_byte_identical_across_processes(tmp_path):
    """The real use: two separate Python processes (two notebook runs)."""
    script = textwrap.dedent(
        """
        import sys
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from churnsurv.reporting import save_figure, use_style
        use_style()
        fig, ax = plt.subplots()
        ax.plot([0, 1, 2, 3], [1.0, 0.8, 0.7, 0.65], marker="o", label="curve")
        ax.fill_between([0, 1, 2, 3], [0.9, 0.7, 0.6, 0.5], [1.0, 0.9, 0.8, 0.75], alpha=0.2)
        ax.set_title("Cross-process check")
        ax.legend()
        save_figure(fig, "proc", fig_dir=sys.argv[1], caption="Cross-process.")
        """
    )
    for run in ("a", "b"):
        subprocess.run([sys.executable, "-c", script, str(tmp_path / run)], check=True, timeout=120)
    for ext in ("png", "svg"):
        assert (tmp_path / "a" / f"proc.{ext}").read_bytes() == (tmp_path / "b" / f"proc.{ext}").read_bytes()
    assert without_timestamp(load_manifest(tmp_path / "a")) == without_timestamp(load_manifest(tmp_path / "b"))


def test_save_figure_manifest_fields_and_checksums(tmp_path, data_csv):
    fig = make_figure()
    png = save_figure(
        fig,
        "km",
        fig_dir=tmp_path / "figs",
        caption="Kaplan-Meier curves.",
        notebook="01_survival",
        parameters={"data_path": data_csv, "horizon": np.int64(24), "cutoffs": (3, 6), "tol": float("nan")},
        data_paths=data_csv,  # a single path is accepted
    )
    plt.close(fig)
    fig_dir = tmp_path / "figs"
    assert png == fig_dir / "km.png"
    raw = (fig_dir / "manifest.json").read_text()
    manifest = json.loads(raw)
    # Deterministic serialization: sorted keys, indent 2, trailing newline.
    assert raw == json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", manifest["generated_at"])

    (entry,) = manifest["figures"]
    assert {"id", "caption", "notebook", "parameters", "data", "versions", "files"} <= set(entry)
    assert "generated_at" not in entry
    assert entry["id"] == "km"
    assert entry["caption"] == "Kaplan-Meier curves."
    assert entry["notebook"] == "01_survival"
    # no absolute machine path: outside the working directory and the bundled data, only the file name is kept
    assert entry["parameters"] == {
        "data_path": "tenures.csv",
        "horizon": 24,
        "cutoffs": [3, 6],
        "tol": "nan",
    }
    assert entry["data"] == [{"path": "tenures.csv", "relative_to": "file name only", "sha256": sha256(data_csv)}]
    assert set(entry["versions"]) == VERSION_KEYS
    assert entry["versions"]["matplotlib"] == matplotlib.__version__
    assert entry["versions"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert set(entry["files"]) == {"png", "svg"}
    for ext, record in entry["files"].items():
        assert record["path"] == f"km.{ext}"
        assert record["sha256"] == sha256(fig_dir / record["path"])
    assert entry["dpi"] == 150
    assert entry["size_inches"] == [7.0, 4.5]


def test_saved_files_carry_no_date_or_software_metadata(tmp_path):
    fig = make_figure()
    save_figure(fig, "meta", fig_dir=tmp_path, caption="Metadata check.")
    plt.close(fig)
    png = (tmp_path / "meta.png").read_bytes()
    svg = (tmp_path / "meta.svg").read_text()
    assert b"Software" not in png and b"Matplotlib" not in png
    assert "<dc:date>" not in svg and "Matplotlib v" not in svg
    # The figure's own size at 150 DPI: 7 x 4.5 inches -> 1050 x 675 pixels.
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1050, 675)


def test_manifest_entries_sorted_by_id_and_replaced(tmp_path):
    fig = make_figure()
    for name in ("b_second", "a_first", "b_second"):
        save_figure(fig, name, fig_dir=tmp_path, caption=f"Figure {name}.")
    plt.close(fig)
    assert [e["id"] for e in load_manifest(tmp_path)["figures"]] == ["a_first", "b_second"]


def test_save_figure_notebook_defaults_to_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CHURNSURV_NOTEBOOK", "02_hazard")
    fig = make_figure()
    save_figure(fig, "h", fig_dir=tmp_path, caption="Hazard.")
    plt.close(fig)
    assert load_manifest(tmp_path)["figures"][0]["notebook"] == "02_hazard"


def test_save_figure_rejects_id_reused_by_another_notebook(tmp_path):
    fig = make_figure()
    save_figure(fig, "km", fig_dir=tmp_path, caption="KM.", notebook="01_survival")
    with pytest.raises(ValueError, match=r"'km' is already recorded .* notebook '01_survival'"):
        save_figure(fig, "km", fig_dir=tmp_path, caption="KM.", notebook="02_other")
    plt.close(fig)


@pytest.mark.parametrize("name", ["", "a/b", "../escape", ".hidden", 3])
def test_save_figure_rejects_bad_names(tmp_path, name):
    fig = make_figure()
    with pytest.raises(ValueError, match="The 'name' parameter of save_figure"):
        save_figure(fig, name, fig_dir=tmp_path, caption="x")
    plt.close(fig)


def test_save_figure_rejects_missing_caption_and_data(tmp_path):
    fig = make_figure()
    with pytest.raises(ValueError, match=r"The 'caption' parameter of save_figure must be a non-empty str\."):
        save_figure(fig, "x", fig_dir=tmp_path, caption="  ")
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        save_figure(fig, "x", fig_dir=tmp_path, caption="x", data_paths=[tmp_path / "nope.csv"])
    with pytest.raises(TypeError, match="JSON-safe"):
        save_figure(fig, "x", fig_dir=tmp_path, caption="x", parameters={"model": object()})
    plt.close(fig)


def test_save_table_and_save_text_are_recorded(tmp_path, data_csv):
    table = pd.DataFrame({"segment": ["A", "B"], "estimate": [0.8123456, 0.6]})
    csv = save_table(table, "medians", fig_dir=tmp_path, caption="Medians.", notebook="nb", data_paths=[data_csv])
    md = save_text("Censoring is *independent*.", "methods", fig_dir=tmp_path, title="Assumptions", notebook="nb")
    assert csv.read_text() == "segment,estimate\nA,0.8123456\nB,0.6\n"
    assert md.read_text() == "Censoring is *independent*.\n"
    manifest = load_manifest(tmp_path)
    (tab,) = manifest["tables"]
    assert tab["files"]["csv"] == {"path": "medians.csv", "sha256": sha256(csv)}
    assert tab["n_rows"] == 2 and tab["columns"] == ["segment", "estimate"]
    assert tab["data"][0]["sha256"] == sha256(data_csv)
    (text,) = manifest["texts"]
    assert text["title"] == "Assumptions" and text["files"]["md"]["sha256"] == sha256(md)
    assert manifest["figures"] == []


def test_use_style_sets_shared_rcparams():
    with matplotlib.rc_context():
        use_style()
        rc = matplotlib.rcParams
        assert rc["font.sans-serif"][0] == "DejaVu Sans"
        assert list(rc["figure.figsize"]) == [7.0, 4.5]
        assert rc["axes.spines.top"] is False and rc["axes.spines.right"] is False
        assert rc["axes.prop_cycle"].by_key()["color"][:3] == ["#0072B2", "#E69F00", "#009E73"]
    assert STYLE_PATH.is_file()


def test_style_context_restores_rcparams():
    before = matplotlib.rcParams["axes.spines.top"]
    with style_context():
        assert matplotlib.rcParams["axes.spines.top"] is False
    assert matplotlib.rcParams["axes.spines.top"] == before


# --------------------------------------------------------------------------- #
# Configuration and rendering (no kernel needed)
# --------------------------------------------------------------------------- #
def test_load_report_config_yaml_and_toml(tmp_path):
    (tmp_path / "report.yaml").write_text(
        "title: Churn\nparameters:\n  data_path: data/x.csv\nnotebooks:\n"
        "  - path: notebooks/01_survival.py\n    parameters: {horizon: 24}\n"
    )
    (tmp_path / "report.toml").write_text(
        'title = "Churn"\n[parameters]\ndata_path = "data/x.csv"\n'
        '[[notebooks]]\npath = "notebooks/01_survival.py"\nparameters = {horizon = 24}\n'
    )
    configs = [load_report_config(tmp_path / "report.yaml"), load_report_config(tmp_path / "report.toml")]
    assert configs[0] == configs[1]
    config = configs[0]
    assert config["base_dir"] == str(tmp_path.resolve())
    assert config["notebooks"] == [
        {"path": "notebooks/01_survival.py", "name": "01_survival", "title": None, "parameters": {"horizon": 24}}
    ]


def test_load_report_config_rejects_typos(tmp_path):
    (tmp_path / "bad.yaml").write_text("title: x\nnotebook:\n  - path: a.py\n")
    with pytest.raises(ValueError, match=r"unknown keys \['notebook'\]"):
        load_report_config(tmp_path / "bad.yaml")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match=r"must be a \.yaml, \.yml or \.toml file"):
        load_report_config(tmp_path / "bad.json")


def _manifest_for_demo(out: Path, data_csv: Path) -> None:
    fig = make_figure()
    fig_dir = out / "figures"
    params = {"data_path": data_csv.name, "n_points": 6}
    save_figure(
        fig,
        "b_curve",
        fig_dir=fig_dir,
        caption="Second <curve>.",
        notebook="demo_report",
        parameters=params,
        data_paths=[data_csv],
    )
    save_figure(
        fig,
        "a_curve",
        fig_dir=fig_dir,
        caption="First curve.",
        notebook="demo_report",
        parameters=params,
        data_paths=[data_csv],
    )
    plt.close(fig)
    save_table(
        pd.DataFrame({"time": [0.0, 1.0], "estimate": [1.0, 0.8123456]}),
        "t",
        fig_dir=fig_dir,
        caption="Estimates.",
        notebook="demo_report",
        parameters=params,
    )
    save_text("Assume *independent* censoring.", "m", fig_dir=fig_dir, title="Censoring", notebook="demo_report")


def test_render_report_is_deterministic_and_escapes(tmp_path, data_csv, report_config, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _manifest_for_demo(tmp_path / "out", data_csv)
    index = render_report(report_config, output_dir="out")
    first = index.read_bytes()
    assert render_report(report_config, output_dir="out").read_bytes() == first
    html = first.decode()
    # Figures of a notebook in manifest (id) order, numbered, captions escaped.
    assert html.index("figures/a_curve.png") < html.index("figures/b_curve.png")
    assert "Second &lt;curve&gt;." in html
    assert "Figure 2." in html and "Table 1." in html
    # Table rendered with display rounding; methods and provenance present.
    assert '<td class="num">0.8123</td>' in html
    assert "<em>independent</em>" in html and "Toy data; nothing is estimated." in html
    assert sha256(data_csv) in html
    assert "Demo retention curve" in html  # section title from the notebook's first heading
    manifest = load_manifest(tmp_path / "out" / "figures")
    assert html.count(manifest["generated_at"]) == 1


def test_render_report_refuses_modified_outputs(tmp_path, data_csv, report_config, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _manifest_for_demo(tmp_path / "out", data_csv)
    (tmp_path / "out" / "figures" / "a_curve.png").write_bytes(b"edited by hand")
    with pytest.raises(ValueError, match=r"does not match the SHA-256 recorded"):
        render_report(report_config, output_dir="out")
    (tmp_path / "out" / "figures" / "a_curve.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"a_curve\.png"):
        render_report(report_config, output_dir="out")


def _cells(html: str, table_id: str) -> tuple[list[str], list[list[str]]]:
    """Headers and body cells (text) of the report table with this id."""
    block = html.split(f'id="table-{table_id}"', 1)[1].split("</table>", 1)[0]
    headers = re.findall(r"<th(?: [^>]*)?>(.*?)</th>", block)
    body = block.split("<tbody>", 1)[1]
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    return headers, rows


def test_report_tables_are_formatted_for_reading(tmp_path, report_config, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fig_dir = tmp_path / "out" / "figures"
    summary = pd.DataFrame({
        "level": ["None", "Fiber Optic", "DSL"],  # a level literally named "None"
        "n_customers": [3610.0, 1550.0, 12.0],
        "n_at_risk": [3000.0, 1000.0, 10.0],
        "median": [31.0, np.nan, np.nan],
        "median_ci_upper": [33.0, np.nan, np.nan],
        "max_follow_up": [72.0, 72.0, np.nan],
        "ci_lower": [0.5, 0.6, 0.7],
        "survival_12": [0.9, 0.8, 0.7],
    })
    save_table(summary, "summary", fig_dir=fig_dir, caption="Summary.", notebook="demo_report", float_format="%.3f")
    tests = pd.DataFrame({"test": ["logrank", "peto", "trend"], "p_value": [0.0, 5e-203, 0.01234]})
    save_table(tests, "tests", fig_dir=fig_dir, caption="Tests.", notebook="demo_report", float_format="%.3f")
    html = render_report(report_config, output_dir="out").read_text()

    headers, rows = _cells(html, "summary")
    assert headers == ["Level", "Customers", "At risk", "Median", "Median CI high", "Last follow-up", "CI low",
                       "Survival at 12"]
    assert rows[0][:4] == ["None", "3,610", "3,000", "31"]  # "None" stays a level; counts are integers
    assert rows[1][3:5] == ["not reached (&gt; 72)", "not reached (&gt; 72)"]
    assert rows[2][3] == "not reached"  # no follow-up time in the row
    assert 'title="n_at_risk"' in html  # the column's own name is the header's tooltip
    _, rows = _cells(html, "tests")
    assert [r[1] for r in rows] == ["&lt; 1e-16", "&lt; 1e-16", "0.0123"]
    # the CSV keeps the p-values (not rounded to 0 by float_format) and integer counts
    written = (fig_dir / "tests.csv").read_text()
    assert "5e-203" in written and "0.01234" in written
    assert (fig_dir / "summary.csv").read_text().splitlines()[1].startswith("None,3610,3000,31.000")


def test_p_value_rounded_to_zero_in_a_csv_shows_its_bound(tmp_path, report_config, monkeypatch):
    """A CSV written with a fixed precision elsewhere (``0.000``): all we know is p < 0.001, never 0."""
    monkeypatch.chdir(tmp_path)
    fig_dir = tmp_path / "out" / "figures"
    save_table(pd.DataFrame({"test": ["a", "b"], "p_value": [0.0, 0.5]}), "old", fig_dir=fig_dir, caption="Old.",
               notebook="demo_report")
    rounded = b"test,p_value\na,0.000\nb,0.500\n"
    (fig_dir / "old.csv").write_bytes(rounded)
    manifest = load_manifest(fig_dir)
    manifest["tables"][0]["files"]["csv"]["sha256"] = hashlib.sha256(rounded).hexdigest()
    (fig_dir / "manifest.json").write_text(json.dumps(manifest))
    _, rows = _cells(render_report(report_config, output_dir="out").read_text(), "old")
    assert [r[1] for r in rows] == ["&lt; 0.001", "0.5"]


def test_report_provenance_has_no_absolute_paths(tmp_path, data_csv, report_config, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the data file lies outside the working directory: its name only is recorded
    _manifest_for_demo(tmp_path / "out", data_csv)
    report_config["parameters"]["data_path"] = str(data_csv)  # an absolute path, as the command line passes
    html = render_report(report_config, output_dir=tmp_path / "out").read_text()
    manifest = (tmp_path / "out" / "figures" / "manifest.json").read_text()
    for text in (html, manifest):
        assert str(tmp_path) not in text and "/tmp/" not in text and "/work/" not in text
    assert "<code>tenures.csv</code>" in html and sha256(data_csv) in html


def test_single_file_report_embeds_everything(tmp_path, data_csv, report_config, monkeypatch):
    import base64

    monkeypatch.chdir(tmp_path)
    _manifest_for_demo(tmp_path / "out", data_csv)
    index = render_report(report_config, output_dir="out", single_file=True)
    single = index.parent / "report.html"
    # opens standalone: moved alone to an empty folder, it references no local file
    alone = tmp_path / "mailed" / "report.html"
    alone.parent.mkdir()
    alone.write_bytes(single.read_bytes())
    parser = _AllRefs()
    parser.feed(alone.read_text())
    assert parser.tags["img"] and all(src.startswith("data:image/png;base64,") for src in parser.tags["img"])
    for ref in parser.tags["a"]:
        assert ref.startswith(("#", "data:", "https://", "http://")), ref
    assert not parser.tags["link"] and not parser.tags["script-src"]
    embedded = {base64.b64decode(src.split(",", 1)[1]) for src in parser.tags["img"]}
    assert embedded == {(tmp_path / "out" / "figures" / f"{n}.png").read_bytes() for n in ("a_curve", "b_curve")}
    csv = next(ref for ref in parser.tags["a"] if ref.startswith("data:text/csv"))
    assert base64.b64decode(csv.split(",", 1)[1]) == (tmp_path / "out" / "figures" / "t.csv").read_bytes()
    # the ordinary report still links its files, and is unchanged by the single-file option
    assert render_report(report_config, output_dir="out").read_bytes() == index.read_bytes()
    assert "figures/a_curve.png" in index.read_text()


def test_export_pdf_without_a_converter_says_what_to_do(tmp_path, monkeypatch):
    from churnsurv.report.html import export_pdf

    page = tmp_path / "report.html"
    page.write_text("<html><body>hello</body></html>")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(RuntimeError, match=r"No PDF converter found.*chromium.*print it to PDF"):
        export_pdf(page)
    assert not (tmp_path / "report.pdf").exists()


def test_export_pdf_with_chromium(tmp_path, data_csv, report_config, monkeypatch):
    import shutil

    from churnsurv.report.html import export_pdf

    if shutil.which("chromium") is None:
        pytest.skip("needs chromium (apt-get install chromium)")
    monkeypatch.chdir(tmp_path)
    _manifest_for_demo(tmp_path / "out", data_csv)
    render_report(report_config, output_dir="out", single_file=True)
    pdf = export_pdf(tmp_path / "out" / "report.html")
    assert pdf == (tmp_path / "out" / "report.pdf").resolve()
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 10_000  # the figures are in it


def test_docs_render_math_offline():
    """mkdocs.yml loads no script or stylesheet from a CDN; the KaTeX files it names are committed."""
    import yaml

    root = Path(__file__).resolve().parents[2]
    text = (root / "mkdocs.yml").read_text()
    config = yaml.load(text, Loader=_IgnoreTags)
    assets = list(config.get("extra_javascript", [])) + list(config.get("extra_css", []))
    assert any("katex" in str(a) for a in assets)
    for asset in assets:
        assert not str(asset).startswith(("http://", "https://", "//")), asset
        assert (root / "docs" / str(asset)).is_file(), asset
    css = (root / "docs" / next(a for a in assets if str(a).endswith("katex.min.css"))).read_text()
    fonts = set(re.findall(r"url\((fonts/[^)]+\.woff2)\)", css))
    assert fonts
    css_dir = (root / "docs" / next(a for a in assets if str(a).endswith("katex.min.css"))).parent
    assert all((css_dir / f).is_file() for f in fonts)


class _IgnoreTags(__import__("yaml").SafeLoader):
    pass


_IgnoreTags.add_multi_constructor("", lambda loader, suffix, node: None)


class _AllRefs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = {"img": [], "a": [], "link": [], "script-src": []}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.tags["img"].append(attrs["src"])
        elif tag == "a" and "href" in attrs:
            self.tags["a"].append(attrs["href"])
        elif tag == "link":
            self.tags["link"].append(attrs.get("href"))
        elif tag == "script" and "src" in attrs:
            self.tags["script-src"].append(attrs["src"])


def test_run_notebook_requires_parameters_cell(tmp_path):
    source = tmp_path / "no_params.py"
    source.write_text("# %%\nx = 1\n")
    with pytest.raises(ValueError, match="no cell tagged 'parameters'"):
        run_notebook(source, tmp_path / "out.ipynb", {"x": 2}, progress=False)


# --------------------------------------------------------------------------- #
# Executing notebooks (slow: each starts a kernel)
# --------------------------------------------------------------------------- #
@pytest.mark.slow
def test_run_notebook_injects_parameters(tmp_path, data_csv, capsys):
    fig_dir = tmp_path / "figures"
    out = run_notebook(
        DEMO,
        tmp_path / "executed" / "demo.ipynb",
        {"fig_dir": fig_dir, "n_points": 7, "label": "injected", "data_path": data_csv},
        cwd=tmp_path,
    )
    assert out.is_file()
    assert "running" in capsys.readouterr().err
    nb = json.loads(out.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1 and "n_points = 7" in "".join(injected[0]["source"])
    printed = "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"])
    assert "label=injected n_points=7 rows=7" in printed
    # The parameters reached save_figure/save_table: files, manifest and notebook name.
    assert (fig_dir / "demo_survival.png").is_file() and (fig_dir / "demo_survival.svg").is_file()
    assert len(pd.read_csv(fig_dir / "demo_table.csv")) == 7
    manifest = load_manifest(fig_dir)
    (figure,) = manifest["figures"]
    assert figure["notebook"] == "demo_report"
    assert figure["parameters"]["n_points"] == 7 and figure["parameters"]["label"] == "injected"
    assert figure["data"] == [{"path": "tenures.csv", "relative_to": "working directory", "sha256": sha256(data_csv)}]
    assert figure["caption"] == "Demo retention curve (injected, 7 points)."


@pytest.mark.slow
def test_run_notebook_failure_names_notebook_cell_and_error(tmp_path):
    source = tmp_path / "broken.py"
    source.write_text(
        textwrap.dedent(
            """\
            # %% [markdown]
            # # A broken notebook

            # %% tags=["parameters"]
            column = "tenure"

            # %%
            import pandas as pd
            frame = pd.DataFrame({"tenure": [1, 2]})

            # %%
            total = frame["tenure"].sum()
            value = frame[column]
            """
        )
    )
    output = tmp_path / "broken.ipynb"
    with pytest.raises(NotebookExecutionError) as info:
        run_notebook(source, output, {"column": "Tenure Months"}, progress=False)
    err = info.value
    message = str(err)
    assert isinstance(err, RuntimeError)
    assert "broken.py" in message
    assert "cell 4" in message and "line 13 of broken.py" in message
    assert "value = frame[column]" in message
    assert "KeyError" in message and "Tenure Months" in message
    assert (err.cell_number, err.line, err.ename) == (4, 13, "KeyError")
    assert output.is_file() and str(output) in message


@pytest.mark.slow
def test_build_report_references_every_figure(tmp_path, report_config, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stale = tmp_path / "out" / "figures"
    _manifest_for_demo(tmp_path / "out", tmp_path / "tenures.csv")  # a previous build's outputs
    index = build_report(report_config, output_dir="out")
    assert index == Path("out") / "index.html" and index.is_file()
    err = capsys.readouterr().err
    assert f"[1/1] {DEMO} ..." in err and f"[1/1] {DEMO} ok" in err

    manifest = load_manifest(stale)
    assert [e["id"] for e in manifest["figures"]] == ["demo_survival"]  # stale entries cleared
    assert not (stale / "a_curve.png").exists()
    (figure,) = manifest["figures"]
    assert figure["parameters"] == {"data_path": "tenures.csv", "label": "from-config", "n_points": 6}

    html = index.read_text()
    refs = _references(html)
    for entry in manifest["figures"]:
        assert f"figures/{entry['files']['png']['path']}" in refs["img"]
        assert entry["caption"] in html
    for entry in manifest["tables"]:
        assert f"figures/{entry['files']['csv']['path']}" in refs["a"]
    assert "notebooks/demo_report.ipynb" in refs["a"]
    for ref in refs["img"] | refs["a"]:
        if not ref.startswith("#"):
            assert (index.parent / ref).is_file(), ref
    assert "data-broken-images" not in html.split("<script>")[0]  # set by the browser, not baked in


@pytest.mark.slow
def test_build_report_from_yaml_stops_at_failing_notebook(tmp_path, capsys):
    (tmp_path / "bad.py").write_text('# %% tags=["parameters"]\nfig_dir = "x"\n\n# %%\nraise RuntimeError("boom")\n')
    (tmp_path / "never_run.py").write_text('# %% tags=["parameters"]\nfig_dir = "x"\n\n# %%\nraise SystemExit\n')
    (tmp_path / "report.yaml").write_text("notebooks:\n  - path: bad.py\n  - path: never_run.py\n")
    with pytest.raises(NotebookExecutionError, match="RuntimeError: boom"):
        build_report(tmp_path / "report.yaml", output_dir=tmp_path / "out")
    err = capsys.readouterr().err
    assert "[1/2] bad.py FAILED" in err and "[2/2]" not in err


class _RefParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = {"img": set(), "a": set()}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.refs["img"].add(attrs["src"])
        elif tag == "a" and "href" in attrs:
            self.refs["a"].add(attrs["href"])


def _references(html: str) -> dict:
    parser = _RefParser()
    parser.feed(html)
    return parser.refs


def test_a_kernel_that_fails_to_start_is_retried(tmp_path, monkeypatch):
    """Kernels bind loopback ports a moment after choosing them; a start-up race is retried, a cell error is not."""
    import papermill

    import churnsurv.report.notebook as nbmod

    calls = []
    real = papermill.execute_notebook

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return real(*args, **kwargs)

    monkeypatch.setattr(papermill, "execute_notebook", flaky)
    src = tmp_path / "nb.py"
    src.write_text("# %%\nx = 1\n")
    nbmod.run_notebook(src, tmp_path / "nb.ipynb", {}, progress=False)
    assert len(calls) == 2 and (tmp_path / "nb.ipynb").exists()
    assert not nbmod._kernel_start_failed(ValueError("a cell failed"))
