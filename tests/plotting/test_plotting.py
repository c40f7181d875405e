"""Tests of churnsurv.plotting on fixture tables and duck-typed mock results (no estimator is fitted).

The tables follow the result contracts of CONTRIBUTING.md; the numbers are small hand-made examples
(no R reference is needed: the tests check what is drawn, not the statistics).
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

from churnsurv import plotting as P  # noqa: E402
from churnsurv.exceptions import NotFittedError  # noqa: E402


# --------------------------------------------------------------------------- #
# Fixtures
# --------------------------------------------------------------------------- #
@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    """No plt.show, fresh colour registry, rcParams untouched, every figure closed."""

    def _no_show(*args, **kwargs):
        raise AssertionError("plot functions must never call plt.show()")

    monkeypatch.setattr(plt, "show", _no_show)
    P.reset_segment_colors()
    rc_before = dict(plt.rcParams)
    yield
    assert dict(plt.rcParams) == rc_before, "a plot function changed rcParams"
    plt.close("all")
    P.reset_segment_colors()


def _km_rows(segment, times, at_risk, events, censored):
    times = np.asarray(times, float)
    at_risk, events, censored = (np.asarray(a, float) for a in (at_risk, events, censored))
    s = np.cumprod(1 - events / at_risk)
    return pd.DataFrame(
        {
            "Contract": segment,
            "time": times,
            "n_at_risk": at_risk,
            "n_events": events,
            "n_censored": censored,
            "estimate": s,
            "std_error": 0.05 * (times > 0),
            "ci_lower": np.clip(s - 0.1 * (times > 0), 0, 1),
            "ci_upper": np.clip(s + 0.1 * (times > 0), 0, 1),
        }
    )


@pytest.fixture
def km():
    """KM table for two segments; life-table times 0, 1, 2, 4 and 0, 1, 3, 5."""
    return pd.concat(
        [
            _km_rows("Month-to-Month", [0, 1, 2, 4], [20, 20, 14, 8], [0, 4, 3, 2], [0, 2, 3, 6]),
            _km_rows("Two Year", [0, 1, 3, 5], [10, 10, 9, 5], [0, 1, 0, 1], [0, 0, 4, 4]),
        ],
        ignore_index=True,
    )


@pytest.fixture
def na(km):
    out = km.copy()
    out["estimate"] = -np.log(km["estimate"])
    out["ci_lower"] = out["estimate"] * 0.8
    out["ci_upper"] = out["estimate"] * 1.2
    return out


@pytest.fixture
def raw_hazard(km):
    out = km[km.time > 0].copy()
    out["estimate"] = out.n_events / out.n_at_risk
    out["ci_lower"] = out.estimate * 0.5
    out["ci_upper"] = out.estimate * 1.5
    return out[["Contract", "time", "n_at_risk", "n_events", "estimate", "ci_lower", "ci_upper"]]


@pytest.fixture
def smoothed():
    grid = np.linspace(0, 5, 11)
    parts = []
    for seg, level, bw in [("Month-to-Month", 0.15, 6.0), ("Two Year", 0.04, 2.5)]:
        est = level + 0.01 * grid
        parts.append(
            pd.DataFrame({"Contract": seg, "time": grid, "estimate": est, "std_error": 0.01,
                          "ci_lower": est - 0.02, "ci_upper": est + 0.02, "bandwidth": bw})
        )  # fmt: skip
    return pd.concat(parts, ignore_index=True)


@pytest.fixture
def cif():
    parts = []
    for seg, scale in [("Month-to-Month", 1.0), ("Two Year", 0.2)]:
        for cause, share in [("competitor", 0.2), ("price", 0.1), ("unknown", 0.05)]:
            t = np.array([0.0, 1.0, 2.0, 4.0])
            est = scale * share * np.array([0.0, 0.4, 0.7, 1.0])
            parts.append(pd.DataFrame({"Contract": seg, "cause": cause, "time": t, "estimate": est,
                                       "std_error": 0.01, "ci_lower": est * 0.8, "ci_upper": est * 1.2}))  # fmt: skip
    return pd.concat(parts, ignore_index=True)


@pytest.fixture
def hazard_ratios():
    return pd.DataFrame(
        {
            "model": ["cause-specific"] * 4 + ["fine-gray"] * 3,
            "cause": ["price", "price", "competitor", "competitor", "price", "price", "competitor"],
            "term": ["Fiber optic", "Senior", "Fiber optic", "Senior", "Fiber optic", "Senior", "Fiber optic"],
            "estimate": [1.8, 1.2, 0.7, 1.0, 1.6, 1.1, 0.75],
            "ci_lower": [1.4, 0.9, 0.5, 0.8, 1.2, 0.8, 0.55],
            "ci_upper": [2.3, 1.6, 0.95, 1.3, 2.1, 1.5, 1.0],
            "p_value": [0.001, 0.2, 0.02, 0.9, 0.003, 0.4, 0.05],
        }
    )


class MockResult:
    """Duck-typed stand-in for a fitted estimator (as pymc-marketing's plotting tests do)."""

    def __init__(self, time_unit="month", **attributes):
        self.time_unit = time_unit
        for name, value in attributes.items():
            setattr(self, name, value)


class UnfittedResult:
    @property
    def survival_(self):
        raise NotFittedError("This UnfittedResult instance is not fitted yet. Call 'fit' first.")


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #
def curves(ax):
    """Visible step curves (legend-labelled lines drawn with steps-post)."""
    return [ln for ln in ax.get_lines() if ln.get_drawstyle() == "steps-post" and not ln.get_label().startswith("_")]


def bands(ax):
    return [c for c in ax.collections if isinstance(c, PolyCollection) and c.get_label().startswith("_ci")]


def colour_of(ax, label):
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return mcolors.to_hex(line.get_color())


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def table_rows(ax):
    """Numbers-at-risk annotations grouped by row (same vertical offset), top to bottom."""
    rows = {}
    for text in ax.texts:
        rows.setdefault(round(text.xyann[1], 6), []).append(text)
    return [sorted(rows[y], key=lambda t: (t.get_ha() != "right", t.xy[0])) for y in sorted(rows, reverse=True)]


# --------------------------------------------------------------------------- #
# The plotting contract: ax in / ax out, new figure otherwise, no show
# --------------------------------------------------------------------------- #
CALLS = {
    "survival": lambda d, **kw: P.plot_survival(d["km"], **kw),
    "survival_at_risk": lambda d, **kw: P.plot_survival(d["km"], at_risk=True, **kw),
    "cumulative_hazard": lambda d, **kw: P.plot_cumulative_hazard(d["na"], **kw),
    "hazard": lambda d, **kw: P.plot_hazard(d["smoothed"], d["raw"], **kw),
    "loglog": lambda d, **kw: P.plot_loglog(d["km"], **kw),
    "cumulative_incidence": lambda d, **kw: P.plot_cumulative_incidence(d["cif"], segment="Two Year", **kw),
    "forest": lambda d, **kw: P.plot_forest(d["hr"], **kw),
}


@pytest.fixture
def data(km, na, smoothed, raw_hazard, cif, hazard_ratios):
    return {"km": km, "na": na, "smoothed": smoothed, "raw": raw_hazard, "cif": cif, "hr": hazard_ratios}


@pytest.mark.parametrize("name", CALLS)
def test_returns_the_axes_given(data, name):
    fig, ax = plt.subplots()
    assert CALLS[name](data, ax=ax) is ax
    assert plt.get_fignums() == [fig.number]


@pytest.mark.parametrize("name", CALLS)
def test_creates_a_figure_when_ax_is_none_and_leaves_gca_alone(data, name):
    fig, current = plt.subplots()
    ax = CALLS[name](data)
    assert ax is not current
    assert ax.figure is not fig
    assert not current.get_lines() and not current.collections and not current.texts  # untouched


def test_plot_functions_accept_an_estimator(km, na, cif, smoothed):
    km_est = MockResult(survival_=km, time_unit="day")
    ax = P.plot_survival(km_est)
    assert len(curves(ax)) == 2
    assert ax.get_xlabel() == "Tenure (days)"
    assert len(curves(P.plot_cumulative_hazard(MockResult(cumulative_hazard_=na)))) == 2
    assert len(curves(P.plot_loglog(km_est))) == 2
    ax = P.plot_cumulative_incidence(MockResult(cumulative_incidence_=cif), segment="Two Year")
    assert ax.get_ylabel() == "Cumulative incidence"
    ax = P.plot_hazard(MockResult(hazard_=smoothed.drop(columns="bandwidth"), bandwidth_=3.0))
    assert legend_texts(ax) == ["Month-to-Month (bw = 3.0 mo)", "Two Year (bw = 3.0 mo)"]


def test_table_pipe_works(km):
    ax = km.pipe(P.plot_survival, by="Contract")
    assert len(curves(ax)) == 2


# --------------------------------------------------------------------------- #
# Survival curves
# --------------------------------------------------------------------------- #
def test_one_step_line_per_segment(km):
    ax = P.plot_survival(km)
    lines = curves(ax)
    assert [ln.get_label() for ln in lines] == ["Month-to-Month", "Two Year"]
    np.testing.assert_allclose(lines[0].get_xdata(), [0, 1, 2, 4])
    np.testing.assert_allclose(lines[0].get_ydata(), km.loc[km.Contract == "Month-to-Month", "estimate"])
    assert legend_texts(ax) == ["Month-to-Month", "Two Year"]
    assert ax.get_legend().get_title().get_text() == "Contract"


def test_single_curve_without_segments_has_no_legend(km):
    ax = P.plot_survival(km[km.Contract == "Two Year"].drop(columns="Contract"))
    assert len(curves(ax)) == 1
    assert ax.get_legend() is None


@pytest.mark.parametrize("ci, expected", [(True, 2), (False, 0)])
def test_ci_bands_follow_the_flag(km, na, ci, expected):
    assert len(bands(P.plot_survival(km, ci=ci))) == expected
    assert len(bands(P.plot_cumulative_hazard(na, ci=ci))) == expected


def test_censor_marks_at_censoring_times_on_the_curve(km):
    ax = P.plot_survival(km)
    marks = [ln for ln in ax.get_lines() if ln.get_marker() == "|"]
    assert len(marks) == 2
    mtm = km[(km.Contract == "Month-to-Month") & (km.n_censored > 0)]
    np.testing.assert_allclose(marks[0].get_xdata(), mtm.time)
    np.testing.assert_allclose(marks[0].get_ydata(), mtm.estimate)
    assert marks[0].get_linestyle() == "None"
    ax = P.plot_survival(km, censor_marks=False)
    assert not [ln for ln in ax.get_lines() if ln.get_marker() == "|"]


def test_at_risk_table_values(km):
    ax = P.plot_survival(km, at_risk=True, at_risk_times=[0, 1.5, 3, 4, 10])
    rows = table_rows(ax)
    assert rows[0][0].get_text() == "Number at risk"
    labels = [row[0].get_text() for row in rows[1:]]
    values = [[t.get_text() for t in row[1:]] for row in rows[1:]]
    assert labels == ["Month-to-Month", "Two Year"]
    # n at risk at the first tabulated time >= each tick; 0 after the last time.
    assert values == [["20", "14", "8", "8", "0"], ["10", "9", "9", "5", "0"]]
    np.testing.assert_allclose(ax.get_xticks(), [0, 1.5, 3, 4, 10])
    np.testing.assert_allclose([t.xy[0] for t in rows[1][1:]], [0, 1.5, 3, 4, 10])
    # Row labels take the curve colours.
    assert mcolors.to_hex(rows[1][0].get_color()) == colour_of(ax, "Month-to-Month")
    assert mcolors.to_hex(rows[2][0].get_color()) == colour_of(ax, "Two Year")


def test_at_risk_table_defaults_to_ticks_and_sits_below_the_xlabel(km):
    ax = P.plot_survival(km, at_risk=True)
    ticks = list(ax.get_xticks())
    lo, hi = ax.get_xlim()
    assert all(lo <= t <= hi for t in ticks)
    rows = table_rows(ax)
    assert len(rows[1]) == 1 + len(ticks)
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    label_box = ax.xaxis.label.get_window_extent(renderer)
    ticklabel_top = min(t.get_window_extent(renderer).y0 for t in ax.get_xticklabels() if t.get_text())
    for text in ax.texts:
        box = text.get_window_extent(renderer)
        assert box.y1 <= label_box.y0 + 0.5, "the at-risk table overlaps the x label"
        assert box.y1 < ticklabel_top
        assert box.y0 >= -0.5, "the at-risk table is cut off at the bottom of the figure"


def test_add_at_risk_table_kmunicate_rows_and_weighted_counts(km):
    ax = P.plot_survival(km[km.Contract == "Two Year"])
    weighted = km[km.Contract == "Two Year"].assign(n_at_risk=lambda d: d.n_at_risk * 1.5)
    out = P.add_at_risk_table(ax, weighted, times=[0, 3, 5], rows=("at_risk", "censored", "events"))
    assert out is ax
    rows = table_rows(ax)
    texts = [[t.get_text() for t in row] for row in rows]
    assert texts[0] == ["Number of customers"]
    assert texts[1] == ["Two Year"]
    assert texts[2] == ["At risk", "15", "13.5", "7.5"]
    assert texts[3] == ["Censored", "0", "0", "4"]  # cumulative, strictly before each time
    assert texts[4] == ["Events", "0", "1", "1"]


def test_add_at_risk_table_validates(km):
    ax = P.plot_survival(km)
    with pytest.raises(ValueError, match="'rows' parameter of add_at_risk_table"):
        P.add_at_risk_table(ax, km, rows=("dead",))
    with pytest.raises(ValueError, match="no column 'n_at_risk'"):
        P.add_at_risk_table(ax, km.drop(columns="n_at_risk"))
    with pytest.raises(TypeError, match="'ax' parameter of add_at_risk_table"):
        P.add_at_risk_table(None, km)


def test_ylim_and_step_kw(km):
    ax = P.plot_survival(km, ylim=(0.4, 1.0), linewidth=3.5)
    assert ax.get_ylim() == (0.4, 1.0)
    assert all(ln.get_linewidth() == 3.5 for ln in curves(ax))
    with pytest.raises(TypeError, match="colors="):
        P.plot_survival(km, color="red")


def test_several_segment_columns_are_joined(km):
    km2 = km.assign(Internet=np.where(km.index % 2 == 0, "DSL", "Fiber"))
    ax = P.plot_survival(km2, by=["Contract", "Internet"], censor_marks=False)
    assert [ln.get_label() for ln in curves(ax)] == [
        "Month-to-Month / DSL", "Month-to-Month / Fiber", "Two Year / DSL", "Two Year / Fiber",
    ]  # fmt: skip
    assert ax.get_legend().get_title().get_text() == "Contract / Internet"
    # Default: every column outside the result vocabulary is a segment column.
    assert len(curves(P.plot_survival(km2, censor_marks=False))) == 4


def test_labels_rename_legend_entries(km):
    ax = P.plot_survival(km, labels={"Two Year": "2-year contract"})
    assert legend_texts(ax) == ["Month-to-Month", "2-year contract"]


# --------------------------------------------------------------------------- #
# Colours
# --------------------------------------------------------------------------- #
def test_same_segment_same_colour_across_plot_functions_and_subsets(km, na, raw_hazard):
    levels = ["Month-to-Month", "One Year", "Two Year"]
    km = km.assign(Contract=pd.Categorical(km.Contract, categories=levels))
    na = na.assign(Contract=pd.Categorical(na.Contract, categories=levels))
    raw_hazard = raw_hazard.assign(Contract=pd.Categorical(raw_hazard.Contract, categories=levels))
    first = P.plot_survival(km)
    mtm, two = colour_of(first, "Month-to-Month"), colour_of(first, "Two Year")
    assert mtm != two
    assert {mtm, two} <= {c.lower() for c in P.OKABE_ITO}
    # Another plot function.
    other = P.plot_cumulative_hazard(na)
    assert colour_of(other, "Month-to-Month") == mtm and colour_of(other, "Two Year") == two
    # A subset drawn later (estimators keep the segment columns categorical).
    subset = P.plot_survival(km[km.Contract == "Two Year"])
    assert colour_of(subset, "Two Year") == two
    hazard = P.plot_hazard(raw=raw_hazard[raw_hazard.Contract == "Two Year"])
    assert colour_of(hazard, "Two Year") == two


def test_categorical_levels_fix_colours_even_when_a_subset_comes_first(km):
    cat = km.assign(Contract=pd.Categorical(km.Contract, categories=["Month-to-Month", "One Year", "Two Year"]))
    only_two = P.plot_survival(cat[cat.Contract == "Two Year"])
    both = P.plot_survival(cat)
    assert colour_of(only_two, "Two Year") == colour_of(both, "Two Year") == P.OKABE_ITO[2].lower()
    assert colour_of(both, "Month-to-Month") == P.OKABE_ITO[0].lower()


def test_segment_colors_rule_and_pins():
    # stateless: the i-th level takes the i-th colour, whatever was drawn before (another notebook is
    # another session, and must colour a column alike)
    assert P.segment_colors(["b", "a", "c"]) == {"b": P.OKABE_ITO[0], "a": P.OKABE_ITO[1], "c": P.OKABE_ITO[2]}
    assert P.segment_colors(["c"]) == {"c": P.OKABE_ITO[0]}
    assert P.segment_colors(["b", "a", "c"]) == {"b": P.OKABE_ITO[0], "a": P.OKABE_ITO[1], "c": P.OKABE_ITO[2]}
    previous = P.set_segment_colors({"a": "#123456"})
    assert previous == {}
    assert P.segment_colors(["a", "b"]) == {"a": "#123456", "b": P.OKABE_ITO[1]}
    with pytest.raises(TypeError, match="colors must be a mapping from segment label to colour"):
        P.set_segment_colors(["red"])
    with pytest.raises(ValueError, match="not a matplotlib colour"):
        P.set_segment_colors({"a": "not-a-colour"})


def test_more_labels_than_palette_colours_do_not_clash_within_a_call():
    first = P.segment_colors([f"s{i}" for i in range(12)])
    assert len(set(first.values())) == 12  # Okabe-Ito, then the extended colours


def test_pinned_and_explicit_colours_reach_the_plot(km):
    P.set_segment_colors({"Two Year": "#D55E00"})
    ax = P.plot_survival(km, colors={"Month-to-Month": "black"})
    assert colour_of(ax, "Two Year") == "#d55e00"
    assert colour_of(ax, "Month-to-Month") == "#000000"


def test_colors_must_be_a_mapping(km):
    with pytest.raises(TypeError, match="colors must be a mapping from segment label to colour"):
        P.plot_survival(km, colors=["red", "blue"])
    with pytest.raises(TypeError, match="labels must be a mapping"):
        P.plot_survival(km, labels=["a", "b"])


def test_cause_colours_are_fixed():
    assert P.cause_colors(["price", "competitor"]) == {"price": "#E69F00", "competitor": "#0072B2"}
    assert P.cause_colors(["competitor"])["competitor"] == P.CAUSE_COLORS["competitor"]
    assert len(set(P.CAUSE_COLORS.values())) == len(P.CAUSE_COLORS) == 12
    custom = P.cause_colors(["zzz", "price"])
    assert custom["price"] == "#E69F00" and custom["zzz"] not in P.CAUSE_COLORS.values()
    assert P.cause_colors(["price"], colors={"price": "black"}) == {"price": "black"}


# --------------------------------------------------------------------------- #
# Units and labels
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "unit, xlabel, hazard",
    [
        (None, "Tenure (months)", "Monthly churn hazard"),
        ("day", "Tenure (days)", "Daily churn hazard"),
        ("weeks", "Tenure (weeks)", "Weekly churn hazard"),
        ("year", "Tenure (years)", "Yearly churn hazard"),
        ("billing cycle", "Tenure (billing cycles)", "Churn hazard per billing cycle"),
    ],
)
def test_axis_labels_carry_units(km, na, smoothed, cif, unit, xlabel, hazard):
    ax = P.plot_survival(km, time_unit=unit)
    assert (ax.get_xlabel(), ax.get_ylabel()) == (xlabel, "Share of customers retained")
    ax = P.plot_cumulative_hazard(na, time_unit=unit)
    assert (ax.get_xlabel(), ax.get_ylabel()) == (xlabel, "Cumulative hazard")
    ax = P.plot_hazard(smoothed, time_unit=unit)
    assert (ax.get_xlabel(), ax.get_ylabel()) == (xlabel, hazard)
    ax = P.plot_cumulative_incidence(cif, segment="Two Year", time_unit=unit)
    assert (ax.get_xlabel(), ax.get_ylabel()) == (xlabel, "Cumulative incidence")
    ax = P.plot_loglog(km, time_unit=unit)
    assert ax.get_xlabel().startswith(xlabel[:-1]) and "log scale" in ax.get_xlabel()


def test_time_unit_validation(km):
    with pytest.raises(TypeError, match="'time_unit' parameter of plot_survival"):
        P.plot_survival(km, time_unit=3)


# --------------------------------------------------------------------------- #
# Hazard
# --------------------------------------------------------------------------- #
def test_hazard_smoothed_lines_raw_points_and_bandwidth_legend(smoothed, raw_hazard):
    ax = P.plot_hazard(smoothed, raw_hazard)
    texts = legend_texts(ax)
    assert texts[:2] == ["Month-to-Month (bw = 6.0 mo)", "Two Year (bw = 2.5 mo)"]
    assert texts[2] == "Per-month estimate (area: customers at risk)"
    points = [c for c in ax.collections if c.get_label().startswith("_raw")]
    assert len(points) == 2
    # the area of a point grows with the customers at risk behind it
    for pts, (_, rows) in zip(points, raw_hazard.groupby("Contract", sort=True), strict=True):
        sizes, n = pts.get_sizes(), rows["n_at_risk"].to_numpy(float)
        if len(n) > 1 and n.max() > n.min():
            assert sizes[np.argmax(n)] > sizes[np.argmin(n)]
    assert len(bands(ax)) == 2
    from matplotlib.colors import to_hex

    two_year = next(c for c in points if c.get_label() == "_raw: Two Year")
    assert to_hex(two_year.get_facecolor()[0]) == to_hex(colour_of(ax, "Two Year (bw = 2.5 mo)"))
    assert ax.get_ylim()[0] == 0


def test_hazard_bandwidth_from_a_separate_frame_or_off(smoothed):
    table = smoothed.drop(columns="bandwidth")
    bw = pd.DataFrame({"Contract": ["Month-to-Month", "Two Year"], "bandwidth": [4.0, 0.5]})
    ax = P.plot_hazard(table, bandwidth=bw, time_unit="day")
    assert legend_texts(ax) == ["Month-to-Month (bw = 4.0 d)", "Two Year (bw = 0.5 d)"]
    ax = P.plot_hazard(smoothed, show_bandwidth=False, ci=False)
    assert legend_texts(ax) == ["Month-to-Month", "Two Year"]
    assert not bands(ax)


def test_hazard_raw_only_with_error_bars(raw_hazard):
    ax = P.plot_hazard(raw=raw_hazard, raw_ci=True)
    assert legend_texts(ax) == ["Month-to-Month", "Two Year"]
    assert [c.get_label() for c in ax.containers] == ["_raw_ci: Month-to-Month", "_raw_ci: Two Year"]
    assert all(c.has_yerr for c in ax.containers)


def test_hazard_by_cause(smoothed):
    one = smoothed[smoothed.Contract == "Two Year"].drop(columns=["Contract", "bandwidth"])
    causes = pd.concat([one.assign(cause="price"), one.assign(cause="competitor")], ignore_index=True)
    ax = P.plot_hazard(causes)
    assert legend_texts(ax) == ["Competitor", "Price"]
    assert colour_of(ax, "Price") == P.CAUSE_COLORS["price"].lower()
    with pytest.raises(ValueError, match="Pass cause="):
        P.plot_hazard(pd.concat([smoothed.assign(cause="price"), smoothed.assign(cause="competitor")]))
    ax = P.plot_hazard(pd.concat([smoothed.assign(cause="price"), smoothed.assign(cause="competitor")]),
                       cause="price")  # fmt: skip
    assert len(ax.get_legend().get_texts()) == 2


def test_hazard_needs_a_table():
    with pytest.raises(ValueError, match="needs a smoothed hazard table"):
        P.plot_hazard()


# --------------------------------------------------------------------------- #
# Log-log
# --------------------------------------------------------------------------- #
def test_loglog_transforms_and_skips_zero_and_one(km):
    km0 = km.copy()
    km0.loc[km0.index[-1], "estimate"] = 0.0  # S = 0 at the last time of Two Year
    ax = P.plot_loglog(km0)
    lines = curves(ax)
    assert len(lines) == 2
    assert ax.get_xscale() == "log"
    two = km0[(km0.Contract == "Two Year") & (km0.estimate > 0) & (km0.estimate < 1)]
    np.testing.assert_allclose(lines[1].get_xdata(), two.time)
    np.testing.assert_allclose(lines[1].get_ydata(), np.log(-np.log(two.estimate)))
    assert np.all(np.isfinite(lines[0].get_ydata()))


# --------------------------------------------------------------------------- #
# Cumulative incidence
# --------------------------------------------------------------------------- #
def test_stacked_cumulative_incidence(cif):
    survival = pd.DataFrame({"Contract": "Two Year", "time": [0.0, 1.0, 2.0, 4.0],
                             "estimate": 1 - 0.2 * 0.35 * np.array([0, 0.4, 0.7, 1.0])})  # fmt: skip
    ax = P.plot_cumulative_incidence(cif, segment="Two Year", survival=survival)
    areas = [c for c in ax.collections if not c.get_label().startswith("_")]
    assert [a.get_label() for a in areas] == ["Competitor", "Price", "Unknown"]
    assert [mcolors.to_hex(a.get_facecolor()[0]) for a in areas] == [
        P.CAUSE_COLORS[c].lower() for c in ("competitor", "price", "unknown")
    ]
    # Legend lists the top of the stack first, after the all-cause line.
    assert legend_texts(ax) == ["All causes (1 − S)", "Unknown", "Price", "Competitor"]
    assert ax.get_legend().get_title().get_text() == "Two Year"
    # The stack tops out at the sum of the causes, which is 1 - S here.
    top = areas[-1].get_paths()[0].vertices[:, 1].max()
    np.testing.assert_allclose(top, 0.2 * 0.35)


def test_stacked_needs_one_segment(cif):
    with pytest.raises(ValueError, match="plot_cumulative_incidence_grid"):
        P.plot_cumulative_incidence(cif)
    with pytest.raises(ValueError, match="Segments: 'Month-to-Month', 'Two Year'"):
        P.plot_cumulative_incidence(cif, segment="One Year")


def test_cumulative_incidence_lines(cif):
    ax = P.plot_cumulative_incidence(cif, segment="Month-to-Month", kind="lines", causes=["price", "competitor"])
    assert [ln.get_label() for ln in curves(ax)] == ["Price", "Competitor"]
    assert len(bands(ax)) == 2
    ax = P.plot_cumulative_incidence(cif, kind="lines", causes=["price"], ci=False)
    assert [ln.get_label() for ln in curves(ax)] == ["Month-to-Month", "Two Year"]
    assert not bands(ax)
    with pytest.raises(ValueError, match="kind"):
        P.plot_cumulative_incidence(cif, segment="Two Year", kind="pie")
    with pytest.raises(ValueError, match="no cause 'natural'"):
        P.plot_cumulative_incidence(cif, segment="Two Year", causes=["natural"])


def test_cumulative_incidence_grid_creates_or_uses_axes(cif):
    axes = P.plot_cumulative_incidence_grid(cif)
    assert isinstance(axes, np.ndarray) and len(axes) == 2
    assert [ax.get_title() for ax in axes] == ["Month-to-Month", "Two Year"]
    assert axes[0].figure is axes[1].figure
    assert len(axes[0].figure.legends) == 1
    n_figs = len(plt.get_fignums())
    fig, given = plt.subplots(1, 2)
    out = P.plot_cumulative_incidence_grid(cif, axes=given, kind="lines")
    assert list(out) == list(given)
    assert len(plt.get_fignums()) == n_figs + 1
    with pytest.raises(ValueError, match="at least 2 Axes"):
        P.plot_cumulative_incidence_grid(cif, axes=[given[0]])


# --------------------------------------------------------------------------- #
# Forest plot
# --------------------------------------------------------------------------- #
def test_forest_one_marker_per_row(hazard_ratios):
    ax = P.plot_forest(hazard_ratios)
    marker_lines = [ln for ln in ax.get_lines() if ln.get_marker() not in (None, "None", "")]
    assert sum(len(ln.get_xdata()) for ln in marker_lines) == len(hazard_ratios)
    assert [c.get_label() for c in ax.containers] == ["cause-specific", "fine-gray"]
    assert [c.lines[0] for c in ax.containers] == marker_lines
    assert legend_texts(ax) == ["cause-specific", "fine-gray"]
    assert marker_lines[0].get_marker() != marker_lines[1].get_marker()
    ref = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert len(ref) == 1 and ref[0].get_xdata()[0] == 1.0
    assert ax.get_xscale() == "log"
    labels = [t.get_text().strip() for t in ax.get_yticklabels()]
    assert labels == ["Price", "Fiber optic", "Senior", "Competitor", "Fiber optic", "Senior"]
    # Models of the same row are offset around the row's position.
    ys = {c.get_label(): c.lines[0].get_ydata() for c in ax.containers}
    assert ys["cause-specific"][0] < ys["fine-gray"][0]
    assert abs(ys["cause-specific"][0] - ys["fine-gray"][0]) < 0.5


def test_forest_linear_axis_and_validation(hazard_ratios):
    ax = P.plot_forest(hazard_ratios.assign(estimate=np.log(hazard_ratios.estimate)), log=False, reference=0.0,
                       group=None)  # fmt: skip
    assert ax.get_xscale() == "linear"
    assert ax.get_legend() is None
    with pytest.raises(ValueError, match="log=False"):
        P.plot_forest(hazard_ratios.assign(estimate=-0.5))
    with pytest.raises(ValueError, match="no column 'arm'"):
        P.plot_forest(hazard_ratios, group="arm")


# --------------------------------------------------------------------------- #
# Input validation
# --------------------------------------------------------------------------- #
def test_bad_inputs_raise_clear_errors(km):
    with pytest.raises(TypeError, match="a fitted estimator with a 'survival_' attribute"):
        P.plot_survival(object())
    with pytest.raises(NotFittedError):
        P.plot_survival(UnfittedResult())
    with pytest.raises(ValueError, match="survival table has no column 'ci_lower'.*ci=False"):
        P.plot_survival(km.drop(columns="ci_lower"))
    with pytest.raises(ValueError, match="'by' parameter of plot_survival names 'Region'.*Available columns"):
        P.plot_survival(km, by="Region")
    with pytest.raises(TypeError, match="'ci' parameter of plot_survival must be a bool"):
        P.plot_survival(km, ci="yes")
    with pytest.raises(TypeError, match="'ax' parameter of plot_survival"):
        P.plot_survival(km, ax="left")
    with pytest.raises(ValueError, match="'ylim' parameter"):
        P.plot_survival(km, ylim=1)


# --------------------------------------------------------------------------- #
# min_at_risk: curves cut or greyed where few customers are at risk
# --------------------------------------------------------------------------- #
def test_survival_tail_below_min_at_risk_is_dashed_or_cut(km):
    # Month-to-Month has 20, 20, 14, 8 at risk: with min_at_risk=10 its last row (time 4) is thin
    ax = P.plot_survival(km, min_at_risk=10)
    solid = [ln for ln in ax.get_lines() if ln.get_label() == "Month-to-Month"][0]
    assert np.isnan(solid.get_ydata()[-1]) and not np.isnan(solid.get_ydata()[:-1]).any()
    thin = [ln for ln in ax.get_lines() if ln.get_label() == "_below_min_at_risk: Month-to-Month"]
    assert len(thin) == 1 and thin[0].get_linestyle() == "--"
    np.testing.assert_array_equal(np.isnan(thin[0].get_ydata()), [True, True, False, False])  # from the last solid
    (two,) = [ln for ln in ax.get_lines() if ln.get_label() == "_below_min_at_risk: Two Year"]  # 10, 10, 9, 5
    np.testing.assert_array_equal(np.isnan(two.get_ydata()), [True, False, False, False])
    # the band stops where the curve thins out
    band = [b for b in bands(ax) if b.get_label() == "_ci: Month-to-Month"][0]
    assert band.get_paths()[0].vertices[:, 0].max() <= 4
    ax = P.plot_survival(km, min_at_risk=10, low_risk="hide")
    assert not [ln for ln in ax.get_lines() if ln.get_label().startswith("_below_min_at_risk")]
    ax = P.plot_survival(km, min_at_risk=10, low_risk="show")
    assert not np.isnan(curves(ax)[0].get_ydata()).any()


def test_survival_reads_the_estimators_flag(km):
    flagged = km.assign(below_min_at_risk=km["n_at_risk"] < 9)  # as KaplanMeier(min_at_risk=9).survival_
    ax = P.plot_cumulative_hazard(flagged.assign(estimate=1 - flagged["estimate"]))
    assert [ln.get_label() for ln in ax.get_lines() if ln.get_label().startswith("_below")] == [
        "_below_min_at_risk: Month-to-Month", "_below_min_at_risk: Two Year"]
    ax = P.plot_survival(flagged, min_at_risk=0)  # 0 switches the cut off, whatever the table says
    assert not [ln for ln in ax.get_lines() if ln.get_label().startswith("_below")]
    with pytest.raises(ValueError, match="The 'low_risk' parameter of plot_survival must be one of"):
        P.plot_survival(km, low_risk="grey")


def test_hazard_points_below_min_at_risk_are_hollow_or_hidden(raw_hazard):
    ax = P.plot_hazard(raw=raw_hazard, min_at_risk=10)
    light = [ln for ln in ax.get_lines() if ln.get_label() == "_raw_below_min_at_risk: Month-to-Month"]
    assert len(light) == 1 and light[0].get_markerfacecolor() == "none"
    np.testing.assert_allclose(light[0].get_xdata(), [4.0])
    ax = P.plot_hazard(raw=raw_hazard.assign(below_min_at_risk=raw_hazard["n_at_risk"] < 10), low_risk="hide",
                       raw_ci=True)
    assert not [ln for ln in ax.get_lines() if "below_min_at_risk" in ln.get_label()]
    mtm = [ln for ln in ax.get_lines() if ln.get_label() == "Month-to-Month"][0]
    assert np.isnan(mtm.get_ydata()[-1])
    with pytest.raises(ValueError, match="The 'low_risk' parameter of plot_hazard"):
        P.plot_hazard(raw=raw_hazard, low_risk="grey")
