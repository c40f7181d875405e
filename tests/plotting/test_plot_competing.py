"""Tests of the tails with few customers at risk in the cumulative incidence plots, and of plot_cause_reduction."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from churnsurv.competing import AalenJohansen, cause_reduction  # noqa: E402
from churnsurv.plotting import plot_cumulative_incidence, plot_cumulative_incidence_grid, segment_colors  # noqa: E402
from churnsurv.plotting.competing import plot_cause_reduction  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    t = np.ceil(rng.exponential(10, n))
    cens = np.ceil(rng.uniform(0, 40, n))
    ev = t <= cens
    return pd.DataFrame({"tenure": np.maximum(np.where(ev, t, cens), 1),
                         "reason": np.where(ev, rng.choice(["price", "competitor"], n), None),
                         "plan": rng.choice(["basic", "pro"], n)})


KW = dict(duration="tenure", cause="reason")


def _tail_start(cif, segment=None):
    rows = cif if segment is None else cif[cif["plan"] == segment]
    flags = rows.groupby("time")["below_min_at_risk"].any()
    ok = np.flatnonzero(~flags.to_numpy())
    return flags.index[ok[-1] + 1]


def _xmax(artists):
    return max(np.max(a.get_xdata()) for a in artists)


def test_lines_grey_cut_show():
    aj = AalenJohansen(min_at_risk=30).fit(_data(), **KW)
    cut = _tail_start(aj.cumulative_incidence_)
    t_last = aj.cumulative_incidence_["time"].max()
    ax = plot_cumulative_incidence(aj, kind="lines", ci=False, tail="grey")
    main = [ln for ln in ax.lines if not ln.get_label().startswith("_")]
    tails = [ln for ln in ax.lines if ln.get_label().startswith("_tail")]
    assert {ln.get_label() for ln in main} >= {"Price", "Competitor"}
    assert _xmax([ln for ln in main if ln.get_label() in ("Price", "Competitor")]) == cut  # head stops at the tail
    assert len(tails) == 3 and all(ln.get_alpha() == 0.3 for ln in tails)  # 2 causes and 1 - S
    assert min(np.min(ln.get_xdata()) for ln in tails) == cut and _xmax(tails) == t_last
    assert "Fewer than 30 at risk" in [t.get_text() for t in ax.get_legend().get_texts()]
    ax = plot_cumulative_incidence(aj, kind="lines", ci=False, tail="cut")
    assert not any(ln.get_label().startswith("_tail") for ln in ax.lines)
    assert ax.get_legend() is not None and "Fewer than 30 at risk" not in [t.get_text() for t in
                                                                           ax.get_legend().get_texts()]
    assert max(_xmax([ln]) for ln in ax.lines) == cut
    ax = plot_cumulative_incidence(aj, kind="lines", ci=False, tail="show")
    assert not any(ln.get_label().startswith("_tail") for ln in ax.lines)
    assert max(_xmax([ln]) for ln in ax.lines) == t_last


def test_min_at_risk_argument_and_table_without_flags():
    aj = AalenJohansen(min_at_risk=None).fit(_data(), **KW)
    assert not aj.cumulative_incidence_["below_min_at_risk"].any()
    ax = plot_cumulative_incidence(aj, kind="lines", ci=False)
    assert not any(ln.get_label().startswith("_tail") for ln in ax.lines)
    # an explicit threshold recomputes the flags from n_at_risk, also for a bare table
    table = aj.cumulative_incidence_.drop(columns="below_min_at_risk")
    ax = plot_cumulative_incidence(table, kind="lines", ci=False, min_at_risk=30)
    assert any(ln.get_label().startswith("_tail") for ln in ax.lines)
    with pytest.raises(ValueError, match="'tail' parameter of plot_cumulative_incidence must be one of"):
        plot_cumulative_incidence(aj, tail="hide")
    with pytest.raises(ValueError, match="'min_at_risk' parameter of plot_cumulative_incidence"):
        plot_cumulative_incidence(aj, min_at_risk=-1)


def test_stacked_tail_is_faded_and_few_at_risk_is_not_a_segment():
    aj = AalenJohansen(min_at_risk=30).fit(_data(), **KW)
    # the bare table: few_at_risk must not be taken for a segment column
    ax = plot_cumulative_incidence(aj.cumulative_incidence_, kind="stacked")
    tails = [c for c in ax.collections if c.get_label().startswith("_tail")]
    assert len(tails) == 2
    heads = [c for c in ax.collections if c.get_label() in ("Price", "Competitor")]
    assert all(t.get_alpha() == pytest.approx(h.get_alpha() * 0.3) for t, h in zip(tails, heads, strict=True))
    cut = _tail_start(aj.cumulative_incidence_)
    assert max(p[:, 0].max() for h in heads for p in [h.get_paths()[0].vertices]) == cut


def test_grid_by_segment_tails():
    aj = AalenJohansen(min_at_risk=40).fit(_data(600), by="plan", **KW)
    axes = plot_cumulative_incidence_grid(aj, kind="lines", ci=False)
    for ax, seg in zip(axes, ["basic", "pro"], strict=True):
        heads = [ln for ln in ax.lines if ln.get_label() in ("Price", "Competitor")]
        assert _xmax(heads) == _tail_start(aj.cumulative_incidence_, seg)
    assert "Fewer than 40 at risk" in [t.get_text() for t in axes[0].figure.legends[0].get_texts()]
    # one cause, curves per segment: each segment cut at its own tail
    ax = plot_cumulative_incidence(aj, kind="lines", causes=["price"], ci=False, tail="cut")
    for seg in ("basic", "pro"):
        line = next(ln for ln in ax.lines if ln.get_label() == seg)
        assert np.max(line.get_xdata()) == _tail_start(aj.cumulative_incidence_, seg)


def test_plot_cause_reduction_gain():
    df = _data(600)
    res = cause_reduction(df, reduce={"price": 1.0}, by="plan", horizon=24, n_boot=50, random_state=0,
                          min_at_risk=0, **KW)
    ax = plot_cause_reduction(res)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["basic", "pro"]
    colours = segment_colors(["basic", "pro"])
    dots = [ln for ln in ax.lines if ln.get_label() == "_estimate"]
    cis = [ln for ln in ax.lines if ln.get_label() == "_ci"]
    assert [to_hex(ln.get_color()) for ln in dots] == [colours["basic"].lower(), colours["pro"].lower()]
    s = res.summary
    np.testing.assert_allclose([ln.get_xdata()[0] for ln in dots], s["difference"])
    np.testing.assert_allclose([ln.get_xdata() for ln in cis], s[["difference_ci_lower", "difference_ci_upper"]])
    bars = list(ax.patches)  # the bands between the bounds, one per segment
    np.testing.assert_allclose([b.get_x() + b.get_width() for b in bars], s["difference_upper_bound"])
    assert ax.get_xlabel() == "Gain in expected tenure within 24 months (months)"
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["Under independent causes", "95% bootstrap interval", "Bounds without that assumption"]
    # without a bootstrap: no interval lines, no interval legend entry
    ax = plot_cause_reduction(cause_reduction(df, reduce={"price": 1.0}, by="plan", horizon=24, min_at_risk=0,
                                              **KW))
    assert not [ln for ln in ax.lines if ln.get_label() == "_ci"]
    assert "95% bootstrap interval" not in [t.get_text() for t in ax.get_legend().get_texts()]


def test_plot_cause_reduction_survival_and_errors():
    res = cause_reduction(_data(600), reduce={"price": 0.5}, by="plan", horizon=24, min_at_risk=0, **KW)
    ax = plot_cause_reduction(res, kind="survival", colors={"pro": "#000000"})
    styles = {ln.get_label(): (ln.get_linestyle(), to_hex(ln.get_color())) for ln in ax.lines}
    basic = segment_colors(["basic", "pro"])["basic"].lower()
    assert styles == {"basic, observed": ("-", basic), "basic, counterfactual": ("--", basic),
                      "pro, observed": ("-", "#000000"), "pro, counterfactual": ("--", "#000000")}
    with pytest.raises(ValueError, match="'kind' parameter of plot_cause_reduction must be one of"):
        plot_cause_reduction(res, kind="bars")
    with pytest.raises(TypeError, match="'result' parameter of plot_cause_reduction"):
        plot_cause_reduction(object())
