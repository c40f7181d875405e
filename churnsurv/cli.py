"""The ``churnsurv`` command line: ``describe`` a churn file, build the ``report``."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from churnsurv import datasets
from churnsurv.exceptions import ChurnsurvWarning, TenureDataError
from churnsurv.tenures import Tenures

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Survival analysis of customer churn. Run 'churnsurv COMMAND --help' for the options of a command.",
)


@app.callback()
def _root() -> None:
    """Survival analysis of customer churn."""


def _read_table(source: str) -> pd.DataFrame:
    if source in datasets.DATASETS:
        return datasets.load_raw(source)
    path = Path(source)
    if not path.exists():
        raise typer.BadParameter(f"{source!r} is neither a file nor a bundled dataset ({', '.join(datasets.DATASETS)}).")
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def _bundled_tenures(source: str, truncate: bool, period: float | None) -> Tenures:
    if source == "maven_telco":
        return datasets.load_maven_telco(truncate=truncate, period=period or 3)
    if source == "ibm_telco":
        return datasets.load_ibm_telco(truncate=truncate, period=period)
    raise typer.BadParameter(f"{source!r} is not a customer table.")


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
    time_unit: Annotated[str, typer.Option(help="month, week, day or year.")] = "month",
):
    """Print a table per segment: customers, defections by cause, censored, truncated entries, follow-up."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ChurnsurvWarning)
        try:
            if source in datasets.DATASETS and duration is None:
                t = _bundled_tenures(source, truncate, period)
                segs = list(segment or t.segments[:3])
            else:
                frame = _read_table(source)
                segs = list(segment or [])
                common = dict(cause=cause, id=id, segments=segs, time_unit=time_unit)
                if duration is None:
                    raise typer.BadParameter("--duration is required for a file.")
                if status is not None:
                    if period is None:
                        raise typer.BadParameter("--status needs --period (the snapshot length).")
                    t = Tenures.from_snapshot(frame, tenure=duration, status=status, period=period,
                                              truncate=truncate, **common)
                else:
                    t = Tenures.from_frame(frame, duration=duration, event=event, entry=entry,
                                           censored=censored or None, **common)
        except TenureDataError as err:
            typer.secho(f"error: {err}", err=True, fg=typer.colors.RED)
            raise typer.Exit(code=2) from err
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
