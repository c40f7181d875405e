"""The ``churnsurv`` command line: ``describe`` a churn file, build the ``report``."""

from __future__ import annotations

import contextlib
import sys
import warnings
from pathlib import Path
from typing import Annotated

import click
import pandas as pd
import typer

from churnsurv import datasets
from churnsurv.exceptions import ChurnsurvWarning, TenureDataError
from churnsurv.data.tenures import Tenures

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
    help="Survival analysis of customer churn. Run 'churnsurv COMMAND --help' for the options of a command.",
)


_DEBUG_HELP = "Show the full Python traceback of an error instead of churnsurv's one-line message."
#: Set by --debug (before or after the command name) for the current invocation.
_STATE = {"debug": False}


@app.callback()
def _root(debug: Annotated[bool, typer.Option("--debug", help=_DEBUG_HELP)] = False) -> None:
    """Survival analysis of customer churn."""
    _STATE["debug"] = debug


def _foreseen() -> tuple[type[BaseException], ...]:
    """The errors churnsurv raises on bad input, files or folders: a message, not a traceback."""
    from churnsurv.report.notebook import NotebookExecutionError

    errors: tuple[type[BaseException], ...] = (TenureDataError, ValueError, TypeError, OSError,
                                               NotebookExecutionError)
    try:
        import yaml

        errors += (yaml.YAMLError,)
    except ImportError:  # pragma: no cover
        pass
    return errors


def _message(err: BaseException) -> str:
    """churnsurv's message; an operating-system error without one as 'reason: path'."""
    text = str(err)
    if isinstance(err, OSError) and (not text or text.startswith("[Errno")):
        names = " -> ".join(repr(str(f)) for f in (err.filename, err.filename2) if f is not None)
        text = f"{err.strerror or type(err).__name__}: {names}" if names else (err.strerror or type(err).__name__)
    return text


@contextlib.contextmanager
def _clean_errors(debug: bool = False):
    """Print a foreseen error as 'error: <message>' (exit code 2; 1 for a failing notebook) unless --debug."""
    debug = debug or _STATE["debug"]
    try:
        yield
    except (typer.Exit, typer.Abort, click.exceptions.ClickException):
        raise
    except KeyboardInterrupt:
        if debug:
            raise
        typer.secho("interrupted", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=130) from None
    except _foreseen() as err:
        if debug:
            raise
        from churnsurv.report.notebook import NotebookExecutionError

        typer.secho(f"error: {_message(err)}", err=True, fg=typer.colors.RED)
        typer.secho("(run again with --debug for the full traceback)", err=True, dim=True)
        raise typer.Exit(code=1 if isinstance(err, NotebookExecutionError) else 2) from None


def _check_choice(value: str, option: str, choices) -> None:
    if value not in choices:
        import difflib

        close = difflib.get_close_matches(value, choices, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"{option} must be one of {', '.join(choices)}. Got {value!r}.{hint}")


def _bundled_tenures(source: str, truncate: bool, period: float | None, churn_timing: str) -> Tenures:
    if source == "maven_telco":
        return datasets.load_maven_telco(truncate=truncate, period=period or 3, churn_timing=churn_timing)
    if source == "ibm_telco":
        return datasets.load_ibm_telco(truncate=truncate, period=period, churn_timing=churn_timing)
    raise ValueError(f"{source!r} is a bundled file but not a customer table: use maven_telco or ibm_telco.")


@app.command()
def describe(
    source: Annotated[str, typer.Argument(help="CSV or Parquet file, or a bundled dataset: maven_telco, ibm_telco.")],
    duration: Annotated[str | None, typer.Option(help="Exit time (tenure) column.")] = None,
    event: Annotated[str | None, typer.Option(help="Event column (bool, 0/1 or labels with --censored).")] = None,
    entry: Annotated[str | None, typer.Option(help="Entry time column (left truncation).")] = None,
    cause: Annotated[str | None, typer.Option(help="Cause-of-defection column.")] = None,
    id: Annotated[str | None, typer.Option("--id", help="Customer id column.")] = None,
    segment: Annotated[list[str] | None, typer.Option(help="Segment column; repeat for several.")] = None,
    censored: Annotated[list[str] | None, typer.Option(help="Event label meaning censored; repeatable.")] = None,
    status: Annotated[str | None, typer.Option(help="Snapshot status column (Stayed/Churned/Joined).")] = None,
    period: Annotated[float | None, typer.Option(help="Snapshot period length (reads the file as a snapshot).")] = None,
    truncate: Annotated[bool, typer.Option(help="Apply snapshot left truncation (with --period).")] = False,
    churn_timing: Annotated[str, typer.Option(
        help="When in the snapshot period a defector left: middle, end (most optimistic) or start.")] = "middle",
    start: Annotated[str | None, typer.Option(help="Sign-up date column: read the file from dates "
                                                    "(with --end and --as-of) instead of --duration.")] = None,
    end: Annotated[str | None, typer.Option(help="Defection (cancel) date column; empty for active customers.")] = None,
    as_of: Annotated[str | None, typer.Option(help="The data's cut-off date, e.g. 2024-06-30.")] = None,
    time_unit: Annotated[str, typer.Option(help="month, week, day or year.")] = "month",
    encoding: Annotated[str | None, typer.Option(
        help="Text encoding of a CSV file (default UTF-8), e.g. cp1252 for a Windows Excel export.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help=_DEBUG_HELP)] = False,
):
    """Print a table per segment: customers, defections by cause, censored, truncated entries, follow-up."""
    with _clean_errors(debug), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ChurnsurvWarning)
        _check_choice(time_unit, "--time-unit", ("month", "week", "day", "year"))
        if churn_timing not in ("middle", "end", "start"):
            try:
                churn_timing = float(churn_timing)
            except ValueError:
                raise ValueError(f"--churn-timing must be middle, end, start or a fraction of the period in [0, 1]. "
                                 f"Got {churn_timing!r}.") from None
        if source in datasets.DATASETS and duration is None and start is None:
            t = _bundled_tenures(source, truncate, period, churn_timing)
            segs = list(segment or t.segments[:3])
        else:
            if duration is None and start is None:
                raise ValueError("--duration (or --start, --end and --as-of) is required for a file.")
            segs = list(segment or [])
            t = datasets.read_tenures(source, duration=duration, event=event, entry=entry, status=status,
                                      start=start, end=end, as_of=as_of,
                                      period=period, truncate=truncate, churn_timing=churn_timing,
                                      cause=cause, segments=segs, id=id,
                                      censored=censored or None, time_unit=time_unit, encoding=encoding)
        typer.echo(repr(t))
        if t.truncation is not None:
            typer.echo(str(t.truncation))
        with pd.option_context("display.width", 200, "display.max_columns", 50):
            for title, by in [("All customers", None)] + [(f"By {s}", s) for s in segs]:
                table = t.describe(by)
                cause_cols = [c for c in table.columns if c.startswith("events_")]
                typer.echo(f"\n{title}")
                typer.echo(_as_counts(table.drop(columns=cause_cols)).to_string(index=False))
                if cause_cols:
                    by_cause = table[cause_cols].T
                    by_cause.index = [c.removeprefix("events_") for c in cause_cols]
                    by_cause.index.name = "cause"
                    by_cause.columns = table[by].astype(str).tolist() if by else ["all"]
                    typer.echo(_as_counts(by_cause).to_string())
            if segs:
                t.check_confounding(segs)
    for w in caught:
        typer.secho(f"warning: {w.message}", err=True, fg=typer.colors.YELLOW)


def _default_config() -> Path:
    return Path(__file__).resolve().parents[1] / "notebooks" / "report.yaml"


@app.command()
def report(
    config: Annotated[Path | None, typer.Argument(
        help="Report configuration (YAML or TOML) listing notebooks and parameters; "
             "default notebooks/report.yaml. Relative paths inside it resolve against its folder.")] = None,
    output_dir: Annotated[Path, typer.Option(
        help="Where index.html, figures/ and executed notebooks go.")] = Path("reports"),
    param: Annotated[list[str] | None, typer.Option(
        "--param", "-p",
        help="Set a notebook parameter: NAME=VALUE (a YAML value: 24, null, '[a, b]'). It goes to the notebooks "
             "that declare NAME; a NAME no notebook declares is an error. Relative paths resolve against the "
             "current folder. Repeatable. See --list-params.")] = None,
    list_params: Annotated[bool, typer.Option(
        "--list-params", help="List every notebook parameter with its default, meaning and the value the "
                              "report passes, then exit.")] = False,
    single_file: Annotated[bool, typer.Option(
        "--single-file", help="Also write report.html: one self-contained file (figures and tables embedded) "
                              "to mail.")] = False,
    pdf: Annotated[bool, typer.Option(
        "--pdf", help="Also print the single-file report to report.pdf (needs chromium or google-chrome); "
                      "implies --single-file.")] = False,
    no_run: Annotated[bool, typer.Option(
        "--no-run", help="Re-render index.html from the existing figures only.")] = False,
    title: Annotated[str | None, typer.Option(
        help="Report title. Default: the configuration's, or 'Customer churn: <file>' when --param data_path "
             "points the notebooks at your own file.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help=_DEBUG_HELP)] = False,
):
    """Run the analysis notebooks with papermill on the bundled data (or yours) and render the report.

    Every notebook parameter (data file, column names, horizon...) can be set with --param NAME=VALUE;
    'churnsurv report --list-params' lists them with their defaults and meanings. A build writes into a
    temporary folder inside the output folder and swaps the result in at the end: an interrupted or failed
    build leaves the previous report as it was.
    """
    from churnsurv import reporting
    from churnsurv.report import html

    with _clean_errors(debug):
        path = config or _default_config()
        overrides = _parse_params(param or [])
        single_file = single_file or pdf
        cfg = reporting.load_report_config(path)
        if "data_path" in overrides and overrides["data_path"] not in {*datasets.DATASETS, *datasets.EXTERNAL_DATASETS}:
            # the configuration's title and introduction describe its own data, not the user's file
            cfg["title"] = f"Customer churn: {Path(str(overrides['data_path'])).name}"
            cfg["intro"] = _OWN_DATA_INTRO
        if title:
            cfg["title"] = title
        if list_params:
            _print_parameters(cfg, html.list_parameters(cfg, overrides))
            return
        if no_run:
            index = reporting.render_report(cfg, output_dir=output_dir, parameters=overrides,
                                            single_file=single_file)
        else:
            index = reporting.build_report(cfg, output_dir=output_dir, parameters=overrides,
                                           single_file=single_file)
        if not no_run:
            _print_findings(index.parent / "figures" / "manifest.json")
    typer.echo(f"Report written to {index}")
    if single_file:
        standalone = index.parent / html.SINGLE_FILE_NAME
        typer.echo(f"Single-file report written to {standalone}")
        if pdf:
            try:
                typer.echo(f"PDF written to {html.export_pdf(standalone)}")
            except RuntimeError as err:
                typer.secho(f"warning: {err}", err=True, fg=typer.colors.YELLOW)


def _parse_params(items: list[str]) -> dict:
    """``NAME=VALUE`` pairs: NAME a Python identifier, VALUE a YAML value."""
    import yaml

    from churnsurv.report.notebook import check_parameter_names

    overrides = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--param takes NAME=VALUE (e.g. -p horizon=24). Got {item!r}.")
        key, value = item.split("=", 1)
        key = key.strip()
        check_parameter_names([key], f"given with --param {item!r}")
        try:
            overrides[key] = yaml.safe_load(value)
        except yaml.YAMLError as err:
            problem = getattr(err, "problem", None) or str(err).splitlines()[0]
            raise ValueError(
                f"--param {key}: the value {value!r} is not a YAML value ({problem}). Quote text, e.g. "
                f"-p {key}=\"'{value}'\"; lists are written [a, b]."
            ) from err
    return overrides


_OWN_DATA_INTRO = (
    "Survival analysis of your customer records, made with **churnsurv**. The *Data* note of the first section "
    "says what was read (customers, defections, follow-up, readings); every number below was computed from that "
    "file by the notebooks named in each section, and every figure is listed with the file's checksum under "
    "*Provenance*.")


def _print_parameters(cfg: dict, listing: dict[str, list[dict]]) -> None:
    """One table per notebook: parameter, default, the value the report passes, meaning."""
    import json

    paths = {item["name"]: item["path"] for item in cfg["notebooks"]}
    for name, rows in listing.items():
        typer.secho(f"\n{name} ({paths[name]})", bold=True)
        if not rows:
            typer.echo("  (no cell tagged 'parameters': this notebook takes no parameters)")
            continue
        table = [("parameter", "default", "report passes", "meaning")]
        for row in rows:
            passed = "" if not row["is_configured"] else (
                f"({row['configured']})" if row["name"] == "fig_dir" else json.dumps(row["configured"]))
            table.append((row["name"], row["source"], passed, row["meaning"]))
        widths = [min(max(len(r[i]) for r in table), 40) for i in range(3)]
        for cells in table:
            typer.echo("  " + "  ".join(c.ljust(w) for c, w in zip(cells[:3], widths, strict=True)) + "  " + cells[3])
    typer.echo(
        "\nSet a parameter with --param NAME=VALUE (a YAML value: 24, null, '[Contract, Offer]'); it goes to the "
        "notebooks that declare NAME. Relative paths on the command line resolve against the current folder, "
        "those in the configuration against its folder. Bundled datasets: maven_telco, ibm_telco."
    )


def _print_findings(manifest_path: Path) -> None:
    """Echo the findings the notebooks computed (their saved notes), in report order, as plain text."""
    import json
    import re

    if not manifest_path.exists():
        return
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    typer.echo("")
    for entry in sorted(manifest.get("texts", []), key=lambda e: (e.get("notebook") or "", e["id"])):
        text = (manifest_path.parent / entry["files"]["md"]["path"]).read_text(encoding="utf-8")
        plain = re.sub(r"\*\*|`", "", text).strip()
        typer.secho(f"== {entry['title']} ({entry.get('notebook')})", bold=True)
        typer.echo(plain + "\n")


def _as_counts(table: pd.DataFrame) -> pd.DataFrame:
    """Show whole-number float columns as integers."""
    out = table.copy()
    for c in out.columns:
        col = out[c]
        if pd.api.types.is_float_dtype(col) and col.notna().all() and (col == col.round()).all():
            out[c] = col.astype("int64")
    return out


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
