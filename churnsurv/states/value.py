"""What each state is worth: expected revenue by state and the value of recovering a partial defector.

Discounted sums over periods :math:`t = 1, \\dots, H` of a per-period revenue :math:`r_s` per state:

.. math:: V = \\sum_{t=1}^{H} \\frac{\\sum_s p_s(t)\\, r_s}{(1 + d)^t},

with :math:`p(t)` the Aalen-Johansen occupation (from acquisition) or, for a customer in state :math:`x` at
tenure :math:`s`, the row :math:`x` of the Aalen-Johansen transition matrix
:math:`\\hat P(s, s + t) = \\prod_{s < u \\le s + t} (I + d\\hat A(u))` (Markov). The value of recovering a
partial defector is :math:`V_{\\text{active}}(s) - V_{\\text{partial}}(s)`. Intervals are percentile bootstraps
over customers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnsurv._validation import check_conf_level, param_error
from churnsurv.states.multistate import StateOccupation

__all__ = ["recovery_value", "state_revenue", "transition_matrix"]


def _check_revenue(revenue, states, owner):
    if not isinstance(revenue, dict) or any(s not in states for s in revenue):
        raise param_error("revenue", owner, f"a dict of revenue per period keyed by states among {states!r}",
                          revenue)
    return np.array([float(revenue.get(s, 0.0)) for s in states])


def _discount(h, d):
    return 1.0 / (1.0 + d) ** np.arange(1, h + 1)


def state_revenue(fit: StateOccupation, revenue: dict, *, horizon: int = 24, discount_rate: float = 0.0
                  ) -> pd.DataFrame:
    """Expected (discounted) periods in each state and revenue per acquired customer, by segment.

    Returns
    -------
    pandas.DataFrame
        ``segment, state, revenue_per_period, expected_periods, expected_revenue`` (+ a ``total`` row per segment).
    """
    st = fit.states_
    r = _check_revenue(revenue, st, "state_revenue")
    disc = _discount(int(horizon), float(discount_rate))
    pred = fit.predict(np.arange(1, int(horizon) + 1))
    rows = []
    for seg, g in pred.groupby("segment", sort=False):
        P = g.pivot(index="time", columns="state", values="estimate")[st].to_numpy()
        per = disc @ P
        for s, v, rr in zip(st, per, r, strict=True):
            rows.append({"segment": seg, "state": s, "revenue_per_period": rr, "expected_periods": v,
                         "expected_revenue": v * rr})
        rows.append({"segment": seg, "state": "total", "revenue_per_period": np.nan, "expected_periods": per.sum(),
                     "expected_revenue": float(per @ r)})
    return pd.DataFrame(rows)


def transition_matrix(fit: StateOccupation, s: float, t: float, segment: str = "all") -> pd.DataFrame:
    """Aalen-Johansen :math:`\\hat P(s, t)`: probability of being in each state at ``t`` given each state at ``s``."""
    st = fit.states_
    S = len(st)
    ch = fit.cumulative_hazard_[fit.cumulative_hazard_["segment"] == segment]
    P = np.eye(S)
    if len(ch):
        wide = ch.pivot_table(index="time", columns=["from_state", "to_state"], values="estimate")
        inc = wide.diff().fillna(wide.iloc[:1].reset_index(drop=True).set_axis(wide.index[:1]))
        inc = inc[(inc.index > s) & (inc.index <= t)]
        for _, row in inc.iterrows():
            H = np.eye(S)
            for (a, b), v in row.items():
                i, j = st.index(a), st.index(b)
                H[i, j] += v
                H[i, i] -= v
            P = P @ H
    return pd.DataFrame(P, index=pd.Index(st, name="from_state"), columns=pd.Index(st, name="to_state"))


def _values(fit, r, at, horizon, disc, segment):
    st = fit.states_
    rows = np.array([transition_matrix(fit, at, at + t, segment).to_numpy() for t in range(1, horizon + 1)])
    return {x: float(disc @ (rows[:, st.index(x), :] @ r)) for x in st}


def recovery_value(spells: pd.DataFrame, revenue: dict, *, at: float | None = None, horizon: int = 24,
                   discount_rate: float = 0.0, n_boot: int = 200, conf_level: float = 0.95, random_state=None,
                   recovered: str = "active", partial: str = "partial") -> pd.DataFrame:
    """Value of a partial defector by state, and of bringing one back to active, with bootstrap intervals.

    Parameters
    ----------
    spells : pandas.DataFrame
        State spells (``id, entry, exit, from_state, to_state``), as for :class:`StateOccupation`.
    revenue : dict
        Revenue per period in each state, e.g. ``{"active": 40, "partial": 12}`` (missing states earn 0).
    at : float, optional
        Tenure at which the customer is partial; default the median tenure of entries into ``partial``.
    n_boot : int
        Bootstrap resamples of customers (0: no intervals).

    Returns
    -------
    pandas.DataFrame
        ``quantity, estimate, ci_lower, ci_upper``: the discounted value from ``at`` of a customer who is
        ``recovered``, of one who is ``partial``, and their difference ``recovery_value``.
    """
    owner = "recovery_value"
    level = check_conf_level(conf_level, owner)
    fit = StateOccupation(variance=False).fit(spells)
    st = fit.states_
    r = _check_revenue(revenue, st, owner)
    if at is None:
        ent = spells[(spells["to_state"] == partial)]["exit"]
        at = float(ent.median()) if len(ent) else 0.0
    disc = _discount(int(horizon), float(discount_rate))

    def stats(f):
        v = _values(f, r, at, int(horizon), disc, "all")
        return np.array([v[recovered], v[partial], v[recovered] - v[partial]])

    est = stats(fit)
    lo = hi = np.full(3, np.nan)
    if n_boot:
        rng = np.random.default_rng(random_state)
        ids = spells["id"].unique()
        groups = {k: g for k, g in spells.groupby("id", sort=False)}
        boots = []
        for _ in range(int(n_boot)):
            pick = rng.choice(ids, size=len(ids), replace=True)
            parts = [groups[k].assign(id=j) for j, k in enumerate(pick)]
            boots.append(stats(StateOccupation(variance=False).fit(pd.concat(parts, ignore_index=True))))
        boots = np.array(boots)
        lo, hi = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return pd.DataFrame({"quantity": [f"value_{recovered}", f"value_{partial}", "recovery_value"],
                         "estimate": est, "ci_lower": lo, "ci_upper": hi, "at": at, "horizon": int(horizon)})
