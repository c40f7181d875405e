"""Tests of churnsurv.plotting.cohorts on small dated records (Agg backend): what is drawn, not the statistics."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from churnsurv.nonparametric.cohorts import calendar_churn, cohort_retention  # noqa: E402
from churnsurv.plotting.cohorts import plot_calendar_churn, plot_cohort_retention  # noqa: E402


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    def _no_show(*args, **kwargs):
        raise AssertionError("plot functions must never call plt.show()")

    monkeypatch.setattr(plt, "show", _no_show)
    rc_before = dict(plt.rcParams)
    yield
    assert dict(plt.rcParams) == rc_before, "a plot function changed rcParams"
    plt.close("all")


@pytest.fixture(scope="module")
def records():
    rng = np.random.default_rng(0)
    n = 600
    signup = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 900, size=n), unit="D")
    cancel = pd.Series(signup + pd.to_timedelta(np.floor(rng.exponential(400, size=n)), unit="D"))
    return pd.DataFrame({"signup": signup, "cancel": cancel.where(cancel <= "2024-08-15")})


@pytest.fixture(scope="module")
def cohorts(records):
    return cohort_retention(records, start="signup", end="cancel", as_of="2024-08-15", cohort="year")


@pytest.fixture(scope="module")
def calendar(records):
    return calendar_churn(records, start="signup", end="cancel", as_of="2024-08-15", period="quarter",
                          by_tenure=[0, 12, np.inf])


def _labelled(ax):
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


def test_one_line_per_cohort_in_an_ordered_colour_map(cohorts):
    ax = plot_cohort_retention(cohorts)
    lines = _labelled(ax)
    assert [line.get_label() for line in lines] == ["2022", "2023", "2024"]
    # ordered colour map: the colours run from dark to light (luminance increases with the cohort)
    lum = [np.dot(mcolors.to_rgb(line.get_color()), [0.2126, 0.7152, 0.0722]) for line in lines]
    assert lum == sorted(lum) and len(set(lum)) == 3
    assert ax.get_xlabel() == "Tenure (months)"
    assert ax.get_ylabel().startswith("Retention")
    assert ax.get_title() == "Retention by sign-up cohort"
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "Sign-up cohort"
    assert legend.get_bbox_to_anchor().x0 > ax.get_window_extent().x1 - 1  # outside the axes: covers no curve


def test_cohort_curves_stop_at_their_follow_up(cohorts):
    ax = plot_cohort_retention(cohorts)
    last = {line.get_label(): np.nanmax(line.get_xdata()) for line in _labelled(ax)}
    follow = cohorts.cohorts.set_index(cohorts.cohorts["cohort"].astype(str))["max_follow_up"]
    assert all(last[c] <= follow[c] for c in last)
    assert last["2024"] < last["2022"]


def test_thin_stretches_are_dashed_and_table_input_works(cohorts):
    table = cohorts.table
    ax = plot_cohort_retention(table, ax=plt.figure().add_subplot(), legend_loc="best", ci=True)
    dashed = [line for line in ax.get_lines() if line.get_label().startswith("_below_min_at_risk")]
    assert dashed and all(line.get_linestyle() == "--" for line in dashed)
    assert ax.collections  # the confidence bands
    assert len(_labelled(ax)) == 3


def test_cohort_plot_options_and_errors(cohorts):
    ax = plot_cohort_retention(cohorts, cmap="plasma", colors={"2023": "red"}, labels={"2022": "First year"},
                               title=None, legend=False)
    lines = _labelled(ax)
    assert lines[1].get_color() in ("red", "#ff0000", "#FF0000")
    assert lines[0].get_label() == "First year"
    assert ax.get_legend() is None and ax.get_title() == ""
    with pytest.raises(ValueError, match="The 'cmap' parameter of plot_cohort_retention"):
        plot_cohort_retention(cohorts, cmap="no-such-map")
    with pytest.raises(ValueError, match="has no column 'cohort'"):
        plot_cohort_retention(cohorts.table.drop(columns="cohort"))
    with pytest.raises(TypeError, match="sets 'color' itself"):
        plot_cohort_retention(cohorts, color="k")


def test_calendar_rates_with_intervals_and_tenure_bands(calendar):
    ax = plot_calendar_churn(calendar)
    lines = _labelled(ax)
    assert [line.get_label() for line in lines] == ["Tenure [0, 12)", "Tenure 12+", "All customers"]
    overall = lines[-1]
    shown = calendar.table[calendar.table["exposure"] >= 0.05 * calendar.table["exposure"].max()]
    np.testing.assert_allclose(overall.get_ydata(), shown["estimate"])
    assert len(ax.collections) == 3  # one set of interval bars per line
    assert ax.get_xlabel() == "Calendar quarter"
    assert ax.get_ylabel() == "Churn rate (defections per customer-month)"
    assert ax.get_ylim()[0] == 0
    assert ax.get_legend() is not None
    # the last quarter is cut short by as_of: a hollow marker
    hollow = [line for line in ax.get_lines() if line.get_label().startswith("_partial")]
    assert hollow and all(line.get_markerfacecolor() in ("white", "w", (1.0, 1.0, 1.0, 1.0)) for line in hollow)


def test_calendar_overall_only_and_scale(calendar):
    ax = plot_calendar_churn(calendar, by_tenure=False, scale=100, ci=False)
    lines = _labelled(ax)
    assert [line.get_label() for line in lines] == ["All customers"]
    assert ax.get_legend() is None  # one line: no legend needed
    assert not ax.collections
    assert ax.get_ylabel() == "Churn rate (defections per 100 customer-months)"
    shown = calendar.table[calendar.table["exposure"] >= 0.05 * calendar.table["exposure"].max()]
    np.testing.assert_allclose(lines[0].get_ydata(), 100 * shown["estimate"])
    ax = plot_calendar_churn(calendar.by_tenure, min_exposure=0)  # a banded table alone: every period drawn
    assert [line.get_label() for line in _labelled(ax)] == ["Tenure [0, 12)", "Tenure 12+"]
    n_band = (calendar.by_tenure["tenure_band"] == "12+").sum()
    assert len(_labelled(ax)[1].get_xdata()) == n_band


def test_calendar_plot_errors(records, calendar):
    flat = calendar_churn(records, start="signup", end="cancel", as_of="2024-08-15")
    with pytest.raises(ValueError, match="by_tenure=True needs tenure bands"):
        plot_calendar_churn(flat, by_tenure=True)
    with pytest.raises(ValueError, match="The 'scale' parameter of plot_calendar_churn must be a positive number"):
        plot_calendar_churn(calendar, scale=0)
    with pytest.raises(ValueError, match="has no column 'period_start'"):
        plot_calendar_churn(calendar.table.drop(columns="period_start"))
    with pytest.raises(TypeError, match="The 'result' parameter of plot_calendar_churn"):
        plot_calendar_churn(object())
    with pytest.raises(TypeError, match="The 'ax' parameter of plot_calendar_churn"):
        plot_calendar_churn(calendar, ax="left")
    fig, ax = plt.subplots()
    assert plot_calendar_churn(flat, ax=ax) is ax
