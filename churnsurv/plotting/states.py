"""Plots of customer states: stacked occupation, transition hazards, and the flow of moves between periods.

Each function takes the data first (a fitted :class:`~churnsurv.states.multistate.StateOccupation`, its tidy
tables, or the period panel of :func:`~churnsurv.states.transactions.assign_states`), draws on ``ax`` (a new
figure when None) and returns the Axes; nothing is shown or saved.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["plot_state_flow", "plot_state_occupation", "plot_transition_hazards"]

STATE_COLORS = {"active": "#1b9e77", "partial": "#e6ab02", "lost": "#7f7f7f"}
_FALLBACK = ["#7570b3", "#d95f02", "#66a61e", "#e7298a", "#a6761d", "#1f78b4"]


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def _colors(states, colors):
    colors = dict(colors or {})
    extra = iter(_FALLBACK)
    return {s: colors.get(s, STATE_COLORS.get(s) or next(extra, "#999999")) for s in states}


def _occupation(data):
    return data.occupation_ if hasattr(data, "occupation_") else data


def plot_state_occupation(data, ax=None, *, segment: str | None = None, states=None, colors: dict | None = None,
                          time_unit: str = "month", legend: bool = True):
    """Stacked probabilities of being in each state over tenure (one segment per call).

    Parameters
    ----------
    data : StateOccupation or pandas.DataFrame
        A fitted estimator or its ``occupation_`` table (``segment, time, state, estimate``).
    segment : str, optional
        Which segment; default the first.
    """
    occ = _occupation(data)
    if segment is None:
        segment = occ["segment"].iloc[0]
    g = occ[occ["segment"] == segment]
    if g.empty:
        raise ValueError(f"The 'segment' parameter of plot_state_occupation must be one of "
                         f"{sorted(occ['segment'].unique())!r}. Got {segment!r} instead.")
    states = list(states or pd.unique(g["state"]))
    wide = g.pivot(index="time", columns="state", values="estimate")[states]
    ax = _ax(ax)
    col = _colors(states, colors)
    ax.stackplot(wide.index.to_numpy(), *[wide[s].to_numpy() for s in states], labels=states,
                 colors=[col[s] for s in states], step="post", alpha=0.9)
    ax.set_xlim(wide.index.min(), wide.index.max())
    ax.set_ylim(0, 1)
    ax.set_xlabel(f"Tenure ({time_unit}s)")
    ax.set_ylabel("Probability of being in state")
    ax.set_title(str(segment) if segment != "all" else "State occupation")
    if legend:
        ax.legend(loc="lower left", frameon=False)
    return ax


def plot_transition_hazards(data, ax=None, *, segment: str | None = None, transitions=None, ci: bool = True,
                            time_unit: str = "month"):
    """Nelson-Aalen cumulative hazard of each transition (step curves, optional pointwise bands)."""
    ch = data.cumulative_hazard_ if hasattr(data, "cumulative_hazard_") else data
    if segment is None:
        segment = ch["segment"].iloc[0]
    g = ch[ch["segment"] == segment]
    transitions = list(transitions or pd.unique(g["transition"]))
    ax = _ax(ax)
    for tr in transitions:
        h = g[g["transition"] == tr]
        t = np.r_[0.0, h["time"].to_numpy()]
        (line,) = ax.step(t, np.r_[0.0, h["estimate"].to_numpy()], where="post", label=tr)
        if ci:
            ax.fill_between(t, np.r_[0.0, h["ci_lower"].to_numpy()], np.r_[0.0, h["ci_upper"].to_numpy()],
                            step="post", color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xlabel(f"Tenure ({time_unit}s)")
    ax.set_ylabel("Cumulative transition hazard")
    ax.legend(frameon=False)
    return ax


def plot_state_flow(panel: pd.DataFrame, ax=None, *, periods=None, state: str = "state", time: str = "age",
                    id: str = "id", colors: dict | None = None, gap: float = 0.35, width: float = 0.25,
                    time_unit: str = "month"):
    """Alluvial view of moves between states from one period to the next (customers observed in both).

    Parameters
    ----------
    panel : pandas.DataFrame
        One row per customer and period with its state (``CustomerStates.panel``).
    periods : sequence, optional
        Values of ``time`` to show (default: up to 8 evenly spaced ages that every customer reaches).
    gap, width : float
        Space between state blocks (share of the column) and width of the blocks.
    """
    ax = _ax(ax)
    ages = np.sort(panel[time].unique())
    if periods is None:  # ages every customer reaches, so the columns compare the same customers
        ages = ages[ages <= panel.groupby(id)[time].max().min()]
        periods = ages[np.unique(np.linspace(0, len(ages) - 1, min(8, len(ages))).round().astype(int))]
    periods = list(periods)
    states = [s for s in ("active", "partial", "lost") if s in set(panel[state])] + \
        sorted(set(panel[state]) - {"active", "partial", "lost"})
    col = _colors(states, colors)
    sub = panel[panel[time].isin(periods)]
    wide = sub.pivot(index=id, columns=time, values=state)
    n_max = max(len(wide), 1)
    pad = gap / max(len(states) - 1, 1)
    tops = {}
    for x, p in enumerate(periods):
        counts = wide[p].value_counts()
        y = 1.0 + gap
        for s in states:
            h = counts.get(s, 0) / n_max
            y -= h
            tops[(p, s)] = y + h
            ax.add_patch(_rect(x - width / 2, y, width, h, col[s]))
            y -= pad
    for x, (p, q) in enumerate(zip(periods[:-1], periods[1:], strict=True)):
        both = wide[[p, q]].dropna()
        flows = both.groupby([p, q]).size()
        out_off = {s: 0.0 for s in states}
        in_off = {s: 0.0 for s in states}
        for a in states:
            for b in states:
                n = flows.get((a, b), 0)
                if not n:
                    continue
                h = n / n_max
                y0 = tops[(p, a)] - out_off[a]
                y1 = tops[(q, b)] - in_off[b]
                out_off[a] += h
                in_off[b] += h
                xs = np.linspace(x + width / 2, x + 1 - width / 2, 30)
                s_ = (1 - np.cos(np.pi * (xs - xs[0]) / (xs[-1] - xs[0]))) / 2
                top = y0 + (y1 - y0) * s_
                ax.fill_between(xs, top - h, top, color=col[a], alpha=0.35, linewidth=0)
    ax.set_xlim(-0.5, len(periods) - 0.5)
    ax.set_ylim(0, 1.0 + gap)
    ax.set_xticks(range(len(periods)), [str(p) for p in periods])
    ax.set_yticks([])
    ax.set_xlabel(f"Periods since acquisition ({time_unit}s)")
    ax.set_title("Moves between states")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=col[s], label=s) for s in states], frameon=False, loc="upper right")
    return ax


def _rect(x, y, w, h, color):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, color=color, linewidth=0)
