"""The figures of retention economics: what each draws, their colours, and their argument errors."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from churnsurv.plotting import cause_colors, segment_colors  # noqa: E402
from churnsurv.plotting.value import (  # noqa: E402
    plot_leaky_bucket,
    plot_tornado,
    plot_value,
    plot_value_at_risk,
    plot_value_by_reduction,
    plot_whale_curve,
)
from churnsurv.value import (  # noqa: E402
    leaky_bucket,
    lifetime_value,
    scenario_grid,
    value_at_risk,
    value_sensitivity,
    whale_curve,
)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _records(n=400, seed=0):
    rng = np.random.default_rng(seed)
    t = np.ceil(rng.exponential(8, n))
    cens = np.ceil(rng.uniform(1, 30, n))
    ev = t <= cens
    return pd.DataFrame({"tenure": np.where(ev, t, cens), "churned": ev,
                         "reason": np.where(ev, rng.choice(["price", "competitor"], n), None),
                         "plan": pd.Categorical(rng.choice(["basic", "pro"], n), categories=["basic", "pro"]),
                         "fee": rng.uniform(10, 50, n)})


KW = dict(duration="tenure", event="churned", cause="reason", margin="fee", discount_rate=0.01)


def test_plot_value_dots_whiskers_and_colours():
    lv = lifetime_value(_records(), by="plan", n_boot=20, random_state=0, **{k: v for k, v in KW.items()
                                                                            if k != "cause"})
    ax = plot_value(lv)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["basic", "pro"]
    dots = [ln for ln in ax.lines if ln.get_marker() == "o"]
    assert len(dots) == 2 and len(ax.lines) == 4
    colours = segment_colors(["basic", "pro"])
    assert to_hex(dots[0].get_color()).upper() == colours["basic"].upper()
    assert dots[1].get_xdata()[0] == pytest.approx(lv["estimate"].iloc[1])
    with pytest.raises(ValueError, match="no column 'ci_lower'"):
        plot_value(lv.drop(columns=["ci_lower"]))
    assert len(plot_value(lv.drop(columns=["ci_lower", "ci_upper"]), ci=False).lines) == 2


def test_plot_value_by_reduction_lines_per_cause():
    g = scenario_grid(_records(), by="plan", reductions=[0, 0.5, 1], **KW)
    ax = plot_value_by_reduction(g, segment="pro")
    labels = [ln.get_label() for ln in ax.lines]
    assert sorted(labels) == ["all causes", "competitor", "price"]
    price = next(ln for ln in ax.lines if ln.get_label() == "price")
    assert to_hex(price.get_color()).upper() == cause_colors(["price"])["price"].upper()
    np.testing.assert_allclose(price.get_xdata(), [0, 50, 100])
    with pytest.raises(ValueError, match="'segment' parameter of plot_value_by_reduction"):
        plot_value_by_reduction(g)
    with pytest.raises(ValueError, match="'quantity' parameter"):
        plot_value_by_reduction(g, segment="pro", quantity="margin")


def test_plot_tornado_sorted_by_swing():
    t = value_sensitivity(_records(), by="plan", **{k: v for k, v in KW.items() if k != "cause"})
    ax = plot_tornado(t, segment="basic")
    rows = t[t["plan"] == "basic"].sort_values("swing")
    assert [x.get_text() for x in ax.get_yticklabels()] == list(rows["parameter"])
    assert len(ax.patches) == 2 * len(rows)


def test_plot_value_at_risk_bars_ranked_and_coloured():
    var = value_at_risk(_records(), by="plan", n_boot=20, random_state=0, **KW)
    ax = plot_value_at_risk(var)
    assert len(ax.patches) == 4
    names = [x.get_text() for x in ax.get_yticklabels()]
    assert names[0].startswith("basic: ") and names[2].startswith("pro: ")
    first = var[var["plan"] == "basic"].iloc[0]
    assert ax.patches[0].get_width() == pytest.approx(first["estimate"])
    assert to_hex(ax.patches[0].get_facecolor()).upper() == cause_colors([first["cause"]])[first["cause"]].upper()
    assert len(ax.lines) == 4  # the intervals


def test_plot_whale_curve_marks_peak():
    w = whale_curve([50.0, 30.0, 20.0, -10.0, -40.0], margin=1)
    ax = plot_whale_curve(w)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0, 1.0, 1.6, 2.0, 1.8, 1.0])
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("Peak: 200% of profit from 60% of customers" in t for t in texts)
    with pytest.raises(TypeError, match="'result' parameter of plot_whale_curve"):
        plot_whale_curve([1, 2])


def test_plot_leaky_bucket_steady_state_lines():
    lb = leaky_bucket(_records(), by="plan", inflow=10, margin="fee", periods=36, n_boot=20, random_state=0,
                      duration="tenure", event="churned")
    ax = plot_leaky_bucket(lb)
    assert len(ax.lines) == 4 and len(ax.collections) == 2  # a line, a steady state and a band per segment
    steady = lb.steady_state.set_index("plan")["base"]
    assert ax.lines[1].get_ydata()[0] == pytest.approx(steady["basic"])
    ax = plot_leaky_bucket(lb.projection, quantity="revenue", ci=False)
    assert len(ax.lines) == 2 and not ax.collections
    with pytest.raises(ValueError, match="'quantity' parameter"):
        plot_leaky_bucket(lb, quantity="churn")
