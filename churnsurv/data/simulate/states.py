"""Seeded simulation of partial defection: a Markov process active <-> partial -> lost with known intensities.

:func:`simulate_states` draws state spells (continuous tenure, optional late entry and censoring) from constant
transition intensities, and returns the exact state-occupation curves :math:`p(t) = p(0)\\,e^{Qt}` to check
estimators against; :func:`simulate_transactions` turns the paths into a purchase log (monthly purchase
probability and mean spend per state), to exercise :func:`churnsurv.states.transactions.assign_states`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["StatesSimulation", "default_intensities", "simulate_states", "simulate_transactions",
           "true_occupation"]

STATES = ("active", "partial", "lost")


def default_intensities() -> dict:
    """Monthly intensities: active -> partial 0.08, -> lost 0.01; partial -> active 0.10, -> lost 0.12."""
    return {("active", "partial"): 0.08, ("active", "lost"): 0.01, ("partial", "active"): 0.10,
            ("partial", "lost"): 0.12}


def _generator(intensities: dict, states=STATES) -> np.ndarray:
    S = len(states)
    Q = np.zeros((S, S))
    for (a, b), r in intensities.items():
        if a not in states or b not in states or a == b or not r >= 0:
            raise ValueError(f"The 'intensities' parameter of simulate_states must map (from, to) pairs of {states!r} "
                             f"to rates >= 0. Got {(a, b)!r}: {r!r} instead.")
        Q[states.index(a), states.index(b)] = r
    Q[np.diag_indices(S)] = -Q.sum(axis=1)
    return Q


def true_occupation(times, intensities: dict | None = None, p0=(1.0, 0.0, 0.0)) -> pd.DataFrame:
    """The exact occupation :math:`p(t) = p(0) e^{Qt}`: ``time, state, estimate`` (tidy)."""
    from scipy.linalg import expm

    Q = _generator(intensities or default_intensities())
    times = np.atleast_1d(np.asarray(times, float))
    P = np.array([np.asarray(p0, float) @ expm(Q * t) for t in times])
    return pd.DataFrame({"time": np.repeat(times, len(STATES)), "state": np.tile(STATES, len(times)),
                         "estimate": P.ravel()})


@dataclass
class StatesSimulation:
    """Simulated spells with their truth: ``spells`` (id, entry, exit, from_state, to_state, segment), the
    ``paths`` before censoring and truncation, and the generator ``Q``."""

    spells: pd.DataFrame
    paths: pd.DataFrame
    Q: np.ndarray
    intensities: dict = field(default_factory=dict)

    def truth(self, times) -> pd.DataFrame:
        """Exact occupation at ``times`` (everyone starts active)."""
        return true_occupation(times, self.intensities)


def simulate_states(n: int = 1000, *, intensities: dict | None = None, censor_max: float = 36.0,
                    late_entry: float = 0.0, entry_max: float = 6.0, random_state=None) -> StatesSimulation:
    """Draw ``n`` customers' paths from a time-homogeneous Markov process, all starting active at tenure 0.

    Parameters
    ----------
    n : int
        Customers.
    intensities : dict, optional
        ``{(from, to): rate per period}``; default :func:`default_intensities`.
    censor_max : float
        Administrative censoring, uniform on ``(0, censor_max)`` periods of tenure.
    late_entry : float in [0, 1)
        Share of customers first observed at a uniform tenure in ``(0, entry_max)`` (left truncation: those
        lost before it never appear; the others start in the state they occupy then).
    random_state : int or numpy Generator
    """
    rng = np.random.default_rng(random_state)
    intensities = intensities or default_intensities()
    Q = _generator(intensities)
    rate = -np.diag(Q)
    paths = []
    for i in range(n):
        s, t = 0, 0.0
        while rate[s] > 0 and t < censor_max + entry_max:
            dt = rng.exponential(1.0 / rate[s])
            probs = np.clip(Q[s], 0, None) / rate[s]
            nxt = int(rng.choice(len(STATES), p=probs))
            paths.append((i, t, t + dt, s, nxt))
            t, s = t + dt, nxt
    p = pd.DataFrame(paths, columns=["id", "entry", "exit", "frm", "to"])
    cens = rng.uniform(0, censor_max, n)
    late = rng.uniform(size=n) < late_entry
    start = np.where(late, rng.uniform(0, entry_max, n), 0.0)
    c = cens[p["id"]] + start[p["id"]]
    e0 = start[p["id"]]
    keep = (p["entry"] < c) & (p["exit"] > e0)
    sp = p[keep].copy()
    cut = sp["exit"] > c[keep]
    sp["to"] = np.where(cut, -1, sp["to"])
    sp["exit"] = np.minimum(sp["exit"], c[keep])
    sp["entry"] = np.maximum(sp["entry"], e0[keep])
    names = np.asarray(STATES + ("",), dtype=object)
    spells = pd.DataFrame({"id": sp["id"].to_numpy(), "entry": sp["entry"].to_numpy(), "exit": sp["exit"].to_numpy(),
                           "from_state": names[sp["frm"].to_numpy()], "to_state": names[sp["to"].to_numpy()]})
    spells["segment"] = np.where(spells["id"] % 2 == 0, "even", "odd")
    paths_df = pd.DataFrame({"id": p["id"], "entry": p["entry"], "exit": p["exit"],
                             "from_state": names[p["frm"].to_numpy()], "to_state": names[p["to"].to_numpy()]})
    return StatesSimulation(spells=spells.reset_index(drop=True), paths=paths_df, Q=Q, intensities=intensities)


def simulate_transactions(sim: StatesSimulation, *, start: str = "2024-01-01", months: int = 24,
                          purchase_prob: dict | None = None, mean_spend: dict | None = None,
                          random_state=None) -> pd.DataFrame:
    """A purchase log from simulated paths: each month, a customer in state s buys with probability
    ``purchase_prob[s]`` an amount drawn from a gamma with mean ``mean_spend[s]`` (shape 4).

    Every customer buys in month 0 (acquisition). Returns ``id, date, amount``.
    """
    rng = np.random.default_rng(random_state)
    pp = {"active": 0.7, "partial": 0.35, "lost": 0.0, **(purchase_prob or {})}
    ms = {"active": 40.0, "partial": 12.0, "lost": 0.0, **(mean_spend or {})}
    paths = sim.paths
    ids = np.unique(paths["id"])
    month0 = pd.Timestamp(start).to_period("M")
    rows = []
    for i, g in paths.groupby("id", sort=True):
        ent, ex, frm = g["entry"].to_numpy(), g["exit"].to_numpy(), g["from_state"].to_numpy()
        for m in range(months):
            mid = m + 0.5
            j = np.searchsorted(ex, mid, side="left")
            state = frm[j] if j < len(frm) and ent[j] <= mid else "lost"
            if m == 0 or rng.uniform() < pp[state]:
                amount = rng.gamma(4.0, max(ms["active" if m == 0 else state], 1e-9) / 4.0)
                day = int(rng.integers(1, 28))
                rows.append((i, (month0 + m).to_timestamp() + pd.Timedelta(days=day - 1), round(float(amount), 2)))
    del ids
    return pd.DataFrame(rows, columns=["id", "date", "amount"])
