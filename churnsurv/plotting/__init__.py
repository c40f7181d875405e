"""Figures of survival, hazard and cumulative incidence results.

Every plot function takes the data first: a tidy result table (``km.survival_``)
or a fitted estimator exposing it (``km``), so ``table.pipe(plot_survival)``
works. Segment columns keep the user's names (``Contract``); ``by=None`` infers
them as the columns outside the result vocabulary (``time``, ``estimate``,
``ci_lower``...), and several segment columns are joined into one label with
``" / "``.

The functions follow one contract (``CONTRIBUTING.md``):

* ``ax=None`` creates a new figure (``plt.subplots(layout="constrained")``, so that
  legends and the numbers-at-risk table placed outside the axes fit); the current
  axes are never hijacked;
* the ``Axes`` is returned (an array of them for grids);
* nothing here calls ``plt.show``, ``savefig``, ``tight_layout`` or changes
  ``rcParams``; notebooks apply the shared style (:func:`churnsurv.report.use_style`)
  and save through :func:`churnsurv.report.save_figure`;
* a segment label has the same colour in every figure (:func:`segment_colors`), a
  cause of defection always has the same colour (:func:`cause_colors`); both use the
  colour-blind-safe Okabe-Ito palette.
"""

from __future__ import annotations

from churnsurv.plotting.palette import (
    CAUSE_COLORS,
    OKABE_ITO,
    cause_colors,
    reset_segment_colors,
    segment_colors,
    set_segment_colors,
)
from churnsurv.plotting.cohorts import plot_calendar_churn, plot_cohort_retention
from churnsurv.plotting.competing import (
    plot_cause_reduction,
    plot_cumulative_incidence,
    plot_cumulative_incidence_grid,
    plot_forest,
)
from churnsurv.plotting.effects import plot_adjusted_curves, plot_balance, plot_effect_difference, plot_overlap
from churnsurv.plotting.hazard import plot_hazard
from churnsurv.plotting.value import (
    plot_leaky_bucket,
    plot_tornado,
    plot_value,
    plot_value_at_risk,
    plot_value_by_reduction,
    plot_whale_curve,
)
from churnsurv.plotting.states import plot_state_flow, plot_state_occupation, plot_transition_hazards
from churnsurv.plotting.survival import add_at_risk_table, plot_cumulative_hazard, plot_loglog, plot_survival

__all__ = [
    "plot_adjusted_curves",
    "plot_balance",
    "plot_effect_difference",
    "plot_overlap",
    "plot_state_flow",
    "plot_state_occupation",
    "plot_transition_hazards",
    "plot_leaky_bucket",
    "plot_tornado",
    "plot_value",
    "plot_value_at_risk",
    "plot_value_by_reduction",
    "plot_whale_curve",
    "CAUSE_COLORS",
    "OKABE_ITO",
    "add_at_risk_table",
    "cause_colors",
    "plot_cumulative_hazard",
    "plot_calendar_churn",
    "plot_cause_reduction",
    "plot_cohort_retention",
    "plot_cumulative_incidence",
    "plot_cumulative_incidence_grid",
    "plot_forest",
    "plot_hazard",
    "plot_loglog",
    "plot_survival",
    "reset_segment_colors",
    "segment_colors",
    "set_segment_colors",
]
