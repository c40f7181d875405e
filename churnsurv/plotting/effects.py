"""Figures of observational action effects: adjusted curves with bands, difference curves, balance and overlap.

Each function takes the fitted object (or its tidy table) first, an optional ``ax``, and returns the ``Axes``;
nothing here shows, saves or restyles figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnsurv._validation import check_is_fitted, param_error
from churnsurv.plotting.palette import segment_colors

__all__ = ["plot_adjusted_curves", "plot_balance", "plot_effect_difference", "plot_overlap"]


def _new_ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(layout="constrained")
    return ax


def _band(ax, t, lo, hi, color, alpha):
    if np.all(np.isnan(lo)):
        return
    ax.fill_between(t, lo, hi, step="post", color=color, alpha=alpha, linewidth=0)


def plot_adjusted_curves(fit, *, cause=None, ci: bool = True, ax=None, alpha: float = 0.2, title: str | None = None):
    """Adjusted survival (or cumulative incidence of ``cause``) curves per arm, with their confidence bands.

    Parameters
    ----------
    fit : AdjustedSurvival or pandas.DataFrame
        A fitted :class:`~churnsurv.effects.adjusted.AdjustedSurvival` or its ``curves_`` table (``arm, time,
        estimate, ci_lower, ci_upper`` and ``cause`` with causes).
    cause : str, optional
        The cause to draw, when the curves are cumulative incidences; default the first.
    ci : bool, default True
        Draw the pointwise bands (bootstrap or influence-function intervals).
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    alpha : float, default 0.2
        Opacity of the bands.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.axes.Axes
    """
    table = _curves(fit)
    ax = _new_ax(ax)
    ylabel = "Adjusted survival"
    if "cause" in table.columns:
        causes = list(pd.unique(table["cause"]))
        cause = causes[0] if cause is None else cause
        if cause not in causes:
            raise param_error("cause", "plot_adjusted_curves", f"one of {causes}", cause)
        table = table[table["cause"] == cause]
        ylabel = f"Adjusted cumulative incidence ({cause})"
    labels = [str(a) for a in pd.unique(table["arm"])]
    colors = segment_colors(labels)
    for arm, rows in table.groupby("arm", sort=False):
        rows = rows.sort_values("time")
        color = colors[str(arm)]
        ax.step(rows["time"], rows["estimate"], where="post", color=color, label=str(arm))
        if ci:
            _band(ax, rows["time"], rows["ci_lower"].to_numpy(float), rows["ci_upper"].to_numpy(float), color, alpha)
    ax.set_xlabel("Tenure since the action")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.02)
    ax.legend(title="Arm", frameon=False)
    if title:
        ax.set_title(title)
    return ax


def plot_effect_difference(fit, *, reference=None, cause=None, ci: bool = True, ax=None, alpha: float = 0.2,
                           times=None):
    """The difference curve :math:`S_a(t) - S_{ref}(t)` of each arm against ``reference``, with its band.

    ``fit`` is a fitted :class:`~churnsurv.effects.adjusted.AdjustedSurvival` or a table returned by its
    ``difference`` method; ``times`` defaults to the reported times. Returns the ``Axes``.
    """
    if isinstance(fit, pd.DataFrame):
        table = fit
    else:
        check_is_fitted(fit, "curves_")
        table = fit.difference(reference=reference, times=times)
    ax = _new_ax(ax)
    if "cause" in table.columns:
        causes = list(pd.unique(table["cause"]))
        cause = causes[0] if cause is None else cause
        table = table[table["cause"] == cause]
    colors = segment_colors([str(a) for a in pd.unique(table["arm"])])
    for arm, rows in table.groupby("arm", sort=False):
        rows = rows.sort_values("time")
        color = colors[str(arm)]
        ax.step(rows["time"], rows["estimate"], where="post", color=color,
                label=f"{arm} - {rows['reference'].iloc[0]}")
        if ci:
            _band(ax, rows["time"], rows["ci_lower"].to_numpy(float), rows["ci_upper"].to_numpy(float), color, alpha)
    ax.axhline(0, color="0.4", linewidth=0.8)
    ax.set_xlabel("Tenure since the action")
    ax.set_ylabel("Difference in adjusted survival" if cause is None else f"Difference in incidence ({cause})")
    ax.legend(frameon=False)
    return ax


def plot_balance(propensity, *, threshold: float = 0.1, ax=None):
    """Love plot: absolute standardised mean differences of every covariate term, before and after weighting.

    ``propensity`` is a fitted :class:`~churnsurv.effects.weights.PropensityScore` (or its ``balance()``
    table). A dashed line marks ``threshold``. Returns the ``Axes``.
    """
    table = propensity if isinstance(propensity, pd.DataFrame) else propensity.balance(threshold)
    ax = _new_ax(ax)
    label = table["term"].astype(str)
    if table["arm"].nunique() > 1:
        label = label + " (" + table["arm"].astype(str) + ")"
    order = np.argsort(table["smd_unweighted"].abs().to_numpy())
    y = np.arange(len(table))
    ax.scatter(table["smd_unweighted"].abs().to_numpy()[order], y, marker="o", facecolors="none",
               edgecolors="0.3", label="Unweighted")
    ax.scatter(table["smd_weighted"].abs().to_numpy()[order], y, marker="o", color="#0072B2", label="Weighted")
    ax.set_yticks(y, label.to_numpy()[order])
    ax.axvline(threshold, linestyle="--", color="0.5", linewidth=0.8)
    ax.set_xlabel("Absolute standardised mean difference")
    ax.legend(frameon=False, loc="lower right")
    return ax


def plot_overlap(propensity, *, arm=None, bins: int = 30, ax=None, alpha: float = 0.5):
    """Overlap plot: histograms of the propensity of ``arm`` (default the last arm) in each arm.

    ``propensity`` is a fitted :class:`~churnsurv.effects.weights.PropensityScore`. Regions where one arm has
    customers and the other none are where positivity fails. Returns the ``Axes``.
    """
    check_is_fitted(propensity, "propensity_")
    arms = list(propensity.arms_)
    arm = arms[-1] if arm is None else arm
    if arm not in arms:
        raise param_error("arm", "plot_overlap", f"one of the arms {arms}", arm)
    ax = _new_ax(ax)
    score = propensity.propensity_[arm].to_numpy()
    colors = segment_colors([str(a) for a in arms])
    edges = np.linspace(0, 1, bins + 1)
    for a in arms:
        sel = (propensity.arm_ == a).to_numpy()
        ax.hist(score[sel], bins=edges, density=True, alpha=alpha, color=colors[str(a)], label=str(a))
    ax.set_xlabel(f"Propensity of arm {arm}")
    ax.set_ylabel("Density")
    ax.set_xlim(0, 1)
    ax.legend(title="Arm", frameon=False)
    return ax


def _curves(fit) -> pd.DataFrame:
    if isinstance(fit, pd.DataFrame):
        return fit
    check_is_fitted(fit, "curves_")
    return fit.curves_
