"""From a transaction log (or contract histories) to customer states: active, partial, lost.

The rule (:func:`assign_states`), on periods counted from each customer's acquisition period (age 0):

* **baseline**: the customer's mean spend per period over ages ``0 .. baseline_periods - 1`` (zeros count);
* **partial**: from age ``baseline_periods`` on, spend below ``fraction`` x baseline in each of the last ``k``
  periods; a period at or above the threshold brings the customer back to **active** (recovery);
* **lost** (absorbing): ``gap`` consecutive periods without a purchase, or an explicit end date;
* the state assessed at the end of age ``a`` holds from time ``a + 1`` (periods since acquisition), so a move
  happens at an integer time; customers still active or partial at the end of the log are censored there.

With ``k < gap``, a customer who stops buying passes through partial before lost (after the baseline). The
output is a table of state spells (``id, entry, exit, from_state, to_state``) for
:class:`churnsurv.states.multistate.StateOccupation`, plus the period panel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churnsurv._validation import check_columns, data_error, param_error

__all__ = ["CustomerStates", "assign_states", "defection_sensitivity", "spend_per_period", "state_counts",
           "states_from_contracts"]

STATES = ("active", "partial", "lost")


def _check_int(value, name, owner, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise param_error(name, owner, f"an int >= {low}", value)
    return int(value)


def spend_per_period(log: pd.DataFrame, *, id: str = "id", date: str = "date", amount: str = "amount",
                     freq: str = "M", end=None) -> pd.DataFrame:
    """Spend per customer and calendar period, from acquisition to the end of the log (zeros filled).

    Parameters
    ----------
    log : pandas.DataFrame
        One row per purchase (not modified).
    freq : str, default "M"
        A pandas period frequency: ``"M"`` months, ``"W"`` weeks, ``"Q"`` quarters.
    end : date-like, optional
        End of observation; default the last date in the log.

    Returns
    -------
    pandas.DataFrame
        ``id, period, age, spend, n_purchases``: ``age`` counts periods since the customer's first purchase.
    """
    owner = "spend_per_period"
    check_columns(log, [id, date, amount], what="transactions")
    dates = pd.to_datetime(log[date], errors="coerce")
    if dates.isna().any():
        raise data_error(date, "missing or unparseable dates", dates.isna().to_numpy(), log[id].to_numpy())
    amt = pd.to_numeric(log[amount], errors="coerce")
    if amt.isna().any() or (amt < 0).any():
        bad = (amt.isna() | (amt < 0)).to_numpy()
        raise data_error(amount, "missing or negative amounts", bad, log[id].to_numpy(),
                         "Refunds should be netted into the purchase they cancel.")
    try:
        per = dates.dt.to_period(freq)
    except ValueError as err:
        raise param_error("freq", owner, "a pandas period frequency such as 'M' or 'W'", freq) from err
    end_p = pd.Timestamp(end).to_period(freq) if end is not None else per.max()
    frame = pd.DataFrame({"id": log[id].to_numpy(), "p": per.to_numpy(), "amount": amt.to_numpy(float)})
    frame = frame[frame["p"] <= end_p]
    agg = frame.groupby(["id", "p"], sort=True)["amount"].agg(["sum", "size"]).reset_index()
    first = agg.groupby("id")["p"].min()
    ordinal = agg["p"].map(lambda x: x.ordinal) if len(agg) else agg["p"]
    first_ord = first.map(lambda x: x.ordinal)
    n_per = (end_p.ordinal - first_ord + 1).astype(int)
    ids = np.repeat(first.index.to_numpy(), n_per.to_numpy())
    age = np.concatenate([np.arange(m) for m in n_per.to_numpy()]) if len(n_per) else np.array([], int)
    panel = pd.DataFrame({"id": ids, "age": age})
    panel["period"] = pd.PeriodIndex.from_ordinals(np.repeat(first_ord.to_numpy(), n_per.to_numpy()) + age,
                                                   freq=end_p.freqstr) if len(panel) else []
    agg["age"] = (ordinal.to_numpy() - agg["id"].map(first_ord).to_numpy()).astype(int)
    panel = panel.merge(agg[["id", "age", "sum", "size"]], on=["id", "age"], how="left")
    panel["spend"] = panel.pop("sum").fillna(0.0)
    panel["n_purchases"] = panel.pop("size").fillna(0).astype(int)
    return panel[["id", "period", "age", "spend", "n_purchases"]]


@dataclass
class CustomerStates:
    """The result of :func:`assign_states`.

    Attributes
    ----------
    panel : pandas.DataFrame
        ``id, period, age, spend, n_purchases, baseline, state``: the state assessed at the end of each period.
    spells : pandas.DataFrame
        ``id, entry, exit, from_state, to_state`` (+ segment columns): one row per stay, on the tenure clock
        (periods since acquisition); ``to_state`` is empty when the stay is censored.
    rule : dict
        The parameters of the rule.
    """

    panel: pd.DataFrame
    spells: pd.DataFrame
    rule: dict


def assign_states(log: pd.DataFrame, *, id: str = "id", date: str = "date", amount: str = "amount",
                  freq: str = "M", baseline_periods: int = 3, fraction: float = 0.5, k: int = 2, gap: int = 6,
                  end=None, end_date: str | None = None, segments: str | Sequence[str] = ()) -> CustomerStates:
    """Classify each customer-period as active, partial or lost and return the state spells.

    Parameters
    ----------
    log : pandas.DataFrame
        One row per purchase: ``id``, ``date``, ``amount`` (not modified).
    freq : str, default "M"
        Period length (pandas frequency).
    baseline_periods : int, default 3
        Periods from acquisition whose mean spend is the customer's baseline.
    fraction : float, default 0.5
        A period is *low* when its spend is below ``fraction`` x baseline.
    k : int, default 2
        Consecutive low periods that make a customer partial.
    gap : int, default 6
        Consecutive periods without a purchase that make a customer lost (full defection).
    end : date-like, optional
        End of observation (default: the last date of the log); customers are censored there.
    end_date : str, optional
        Column of an explicit end (account closed): lost at that period if earlier than the gap rule.
    segments : str or list of str
        Customer-level columns copied to the spells (first value per customer).

    Returns
    -------
    CustomerStates
    """
    owner = "assign_states"
    baseline_periods = _check_int(baseline_periods, "baseline_periods", owner, 1)
    k = _check_int(k, "k", owner, 1)
    gap = _check_int(gap, "gap", owner, 1)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction <= 1:
        raise param_error("fraction", owner, "a float in (0, 1]", fraction)
    segments = [segments] if isinstance(segments, str) else list(segments)
    check_columns(log, [id, date, amount, end_date, *segments], what="transactions")
    panel = spend_per_period(log, id=id, date=date, amount=amount, freq=freq, end=end)
    uid, idc = np.unique(panel["id"].to_numpy(), return_inverse=True)
    n, A = len(uid), int(panel["age"].max()) + 1 if len(panel) else 0
    X = np.full((n, A), np.nan)
    X[idc, panel["age"].to_numpy()] = panel["spend"].to_numpy()
    observed = ~np.isnan(X)
    n_obs = observed.sum(axis=1)
    base = np.nanmean(X[:, :baseline_periods], axis=1) if A else np.zeros(0)
    stop_age = np.full(n, np.iinfo(np.int64).max)
    if end_date is not None:
        ends = pd.to_datetime(log[end_date], errors="coerce")
        per_end = pd.Series(ends.to_numpy()).groupby(log[id].to_numpy()).min().dropna()
        if len(per_end):
            first_p = panel[panel["age"] == 0].set_index("id")["period"]
            e_ord = per_end.dt.to_period(freq).map(lambda x: x.ordinal)
            f_ord = first_p.reindex(e_ord.index).map(lambda x: x.ordinal)
            pos = np.searchsorted(uid, e_ord.index.to_numpy())
            stop_age[pos] = (e_ord - f_ord).to_numpy().astype(np.int64)
    state = np.full((n, A), -1, dtype=np.int64)
    low_run = np.zeros(n, dtype=np.int64)
    zero_run = np.zeros(n, dtype=np.int64)
    cur = np.zeros(n, dtype=np.int64)  # 0 active, 1 partial, 2 lost
    for a in range(A):
        x = X[:, a]
        obs = observed[:, a]
        low = (a >= baseline_periods) & (x < fraction * base)
        low_run = np.where(obs & low, low_run + 1, 0)
        zero_run = np.where(obs & (x == 0), zero_run + 1, 0)
        new = np.where(low_run >= k, 1, 0)
        new = np.where((zero_run >= gap) | (a >= stop_age), 2, new)
        cur = np.where(obs, np.where(cur == 2, 2, new), cur)
        state[:, a] = np.where(obs, cur, -1)
    panel = panel.copy()
    panel["baseline"] = base[idc]
    panel["state"] = np.asarray(STATES, dtype=object)[state[idc, panel["age"].to_numpy()]]
    # spells on the tenure clock: state at time tau (0..n_obs) is the state assessed at age tau - 1
    S = np.concatenate([np.zeros((n, 1), dtype=np.int64), state], axis=1)  # column tau
    rows = []
    for i in range(n):
        m = int(n_obs[i])
        s = S[i, : m + 1]
        change = np.flatnonzero(s[1:] != s[:-1]) + 1  # transition times
        starts = np.r_[0, change]
        for j, t0 in enumerate(starts):
            frm = int(s[t0])
            if frm == 2:
                break
            if j + 1 < len(starts):
                rows.append((uid[i], t0, starts[j + 1], STATES[frm], STATES[int(s[starts[j + 1]])]))
            else:
                rows.append((uid[i], t0, m, STATES[frm], ""))
    spells = pd.DataFrame(rows, columns=["id", "entry", "exit", "from_state", "to_state"])
    spells[["entry", "exit"]] = spells[["entry", "exit"]].astype(float)
    spells = spells[spells["exit"] > spells["entry"]].reset_index(drop=True)
    if segments:
        seg = log.groupby(id)[segments].first()
        spells = spells.join(seg, on="id")
    rule = {"freq": freq, "baseline_periods": baseline_periods, "fraction": fraction, "k": k, "gap": gap,
            "end": end, "end_date": end_date}
    return CustomerStates(panel=panel, spells=spells, rule=rule)


def state_counts(result: CustomerStates, *, horizon: int | None = 12) -> pd.DataFrame:
    """Customers ever partial, recovered (partial -> active) and lost, and periods active in the first ``horizon``.

    Returns one row with ``n_customers, n_ever_partial, n_recovered, n_lost, share_*`` and
    ``mean_periods_active`` (observed periods active among the first ``horizon`` periods of customers observed
    that long; :class:`~churnsurv.states.multistate.StateOccupation` gives the censoring-aware version).
    """
    sp = result.spells
    n = sp["id"].nunique()
    ever_partial = sp.loc[sp["from_state"] == "partial", "id"].nunique()
    recovered = sp.loc[(sp["from_state"] == "partial") & (sp["to_state"] == "active"), "id"].nunique()
    lost = sp.loc[sp["to_state"] == "lost", "id"].nunique()
    out = {"n_customers": n, "n_ever_partial": ever_partial, "n_recovered": recovered, "n_lost": lost,
           "share_ever_partial": ever_partial / n, "share_recovered": recovered / n, "share_lost": lost / n}
    if horizon is not None:
        act = sp[sp["from_state"] == "active"]
        time_active = (np.minimum(act["exit"], horizon) - np.minimum(act["entry"], horizon)).groupby(act["id"]).sum()
        last = sp.groupby("id").agg(exit=("exit", "max"), lost=("to_state", lambda s: (s == "lost").any()))
        full = last[(last["exit"] >= horizon) | last["lost"]].index
        out["horizon"] = horizon
        out["mean_periods_active"] = float(time_active.reindex(full, fill_value=0.0).mean())
    return pd.DataFrame([out])


def defection_sensitivity(log: pd.DataFrame, gaps: Sequence[int] = (2, 3, 4, 6, 9, 12), **rule) -> pd.DataFrame:
    """How the count of full defections moves with the no-purchase gap that defines "lost".

    Returns one row per gap: ``gap, n_customers, n_lost, share_lost, n_ever_partial, n_recovered``.
    """
    rows = []
    for g in gaps:
        res = assign_states(log, gap=int(g), **rule)
        c = state_counts(res, horizon=None).iloc[0]
        rows.append({"gap": int(g), "n_customers": int(c["n_customers"]), "n_lost": int(c["n_lost"]),
                     "share_lost": c["share_lost"], "n_ever_partial": int(c["n_ever_partial"]),
                     "n_recovered": int(c["n_recovered"])})
    return pd.DataFrame(rows)


def states_from_contracts(frame: pd.DataFrame, *, id: str = "id", start: str = "start", stop: str = "stop",
                          contract: str = "contract", churned: str = "churned", churned_state: str = "churned",
                          segments: str | Sequence[str] = ()) -> pd.DataFrame:
    """State spells from contract histories: the state is the contract type; leaving is ``churned_state``.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per contract spell (not modified): ``(start, stop]`` in periods since acquisition (a first
        ``start > 0`` is a late entry), the contract type, and a 0/1 ``churned`` flag on the row that ends with
        defection. A row followed by a row of the same customer starting at its ``stop`` moves to that row's
        contract (or continues, when the contract is the same).

    Returns
    -------
    pandas.DataFrame
        ``id, entry, exit, from_state, to_state`` (+ ``segments``), for
        :class:`~churnsurv.states.multistate.StateOccupation`.
    """
    segments = [segments] if isinstance(segments, str) else list(segments)
    check_columns(frame, [id, start, stop, contract, churned, *segments], what="contract histories")
    d = frame.sort_values([id, start], kind="stable").reset_index(drop=True)
    nxt_id = d[id].shift(-1)
    nxt_start = d[start].shift(-1)
    nxt_contract = d[contract].shift(-1)
    cont = (nxt_id == d[id]) & (nxt_start == d[stop])
    ch = d[churned].astype(bool).to_numpy()
    to = np.where(ch, churned_state, np.where(cont & (nxt_contract != d[contract]), nxt_contract.astype(object), ""))
    out = pd.DataFrame({"id": d[id].to_numpy(), "entry": d[start].to_numpy(float), "exit": d[stop].to_numpy(float),
                        "from_state": d[contract].astype(str).to_numpy(), "to_state": to})
    for s in segments:
        out[s] = d[s].to_numpy()
    return out
