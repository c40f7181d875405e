"""Multi-state estimation: who is active, partial or lost over tenure, and how customers move between states.

:class:`StateOccupation` is the Aalen-Johansen estimator of the probability of being in each state (with the
infinitesimal-jackknife standard errors of R ``survival::survfit``), the Nelson-Aalen cumulative hazard of each
transition and the restricted mean time in each state, by segment, with left truncation and censoring.
:func:`prob_lost_within` gives the probability that a partial defector is lost within ``h`` periods of becoming
partial; :func:`fit_transition_cox` fits one Cox model per transition (clock-forward).

The input is a table of *state spells*: one row per stay of a customer in a state, ``(entry, exit]`` on the
tenure clock, the state occupied (``from_state``) and the state entered at ``exit`` (``to_state``, empty when the
stay is censored). :func:`churnsurv.states.transactions.assign_states` and
:func:`churnsurv.states.transactions.states_from_contracts` build it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from churnsurv._base import BaseEstimator
from churnsurv._validation import check_columns, check_conf_level, check_is_fitted, data_error, param_error
from churnsurv.exceptions import TenureDataError
from churnsurv.states._engine import aalen_johansen, merge_continuations

__all__ = ["StateOccupation", "fit_transition_cox", "prob_lost_within", "state_spells_check"]

_OWNER = "StateOccupation"
DEFAULT_STATES = ("active", "partial", "lost")


def _is_censored(values: pd.Series) -> np.ndarray:
    v = values.astype(object)
    return (v.isna() | (v.astype(str).str.strip() == "")).to_numpy()


def state_spells_check(spells: pd.DataFrame, *, id: str = "id", entry: str = "entry", exit: str = "exit",
                       from_state: str = "from_state", to_state: str = "to_state", by=None, weights=None,
                       states: Sequence[str] | None = None, owner: str = _OWNER):
    """Validate a state-spell table and code it; returns (frame copy, states, codes dict).

    Raises :class:`~churnsurv.exceptions.TenureDataError` naming the column, the problem and the rows.
    """
    if not isinstance(spells, pd.DataFrame):
        raise param_error("spells", owner, "a pandas DataFrame of state spells", type(spells).__name__,
                          type_error=True)
    by = [by] if isinstance(by, str) else list(by or [])
    check_columns(spells, [id, entry, exit, from_state, to_state, *by, weights], what="state spells")
    ids = spells[id].to_numpy()
    for col in (entry, exit):
        v = pd.to_numeric(spells[col], errors="coerce")
        bad = v.isna().to_numpy() | ~np.isfinite(v.to_numpy(float, na_value=np.nan))
        if bad.any():
            raise data_error(col, "missing or non-numeric times", bad, ids, "Times are periods since acquisition.")
    e = spells[entry].to_numpy(float)
    x = spells[exit].to_numpy(float)
    if (e < 0).any():
        raise data_error(entry, "negative entry times", e < 0, ids, "Entry times must be >= 0.")
    if (x <= e).any():
        raise data_error(exit, "an exit not after the entry", x <= e, ids,
                         "Each spell is the interval (entry, exit]; drop empty spells.")
    if spells[id].isna().any():
        raise data_error(id, "missing ids", spells[id].isna().to_numpy(), np.arange(len(spells)))
    if spells[from_state].isna().any():
        raise data_error(from_state, "missing states", spells[from_state].isna().to_numpy(), ids)
    cens = _is_censored(spells[to_state])
    seen = list(pd.unique(pd.concat([spells[from_state].astype(str), spells[to_state][~cens].astype(str)])))
    if states is None:
        states = [s for s in DEFAULT_STATES if s in seen] + sorted(s for s in seen if s not in DEFAULT_STATES)
    states = [str(s) for s in states]
    unknown = ~spells[from_state].astype(str).isin(states).to_numpy()
    if unknown.any():
        raise data_error(from_state, f"states not in {states!r}", unknown, ids, "Pass states= with every state.")
    unknown = ~cens & ~spells[to_state].astype(str).isin(states).to_numpy()
    if unknown.any():
        raise data_error(to_state, f"states not in {states!r}", unknown, ids, "Pass states= with every state.")
    code = {s: i for i, s in enumerate(states)}
    frm = spells[from_state].astype(str).map(code).to_numpy(np.int64)
    to = np.full(len(spells), -1, dtype=np.int64)
    to[~cens] = spells[to_state][~cens].astype(str).map(code).to_numpy(np.int64)
    same = to == frm
    if same.any():
        raise data_error(to_state, "a transition into the state already occupied", same, ids,
                         "A stay that continues is censored (empty to_state) or merged with the next row.")
    w = np.ones(len(spells)) if weights is None else spells[weights].to_numpy(float)
    if weights is not None and (~np.isfinite(w) | (w <= 0)).any():
        raise data_error(weights, "non-positive or missing weights", ~np.isfinite(w) | (w <= 0), ids)
    idc, uid = pd.factorize(spells[id], sort=True)
    order = np.lexsort((e, idc))
    ov = (idc[order][1:] == idc[order][:-1]) & (e[order][1:] < x[order][:-1])
    if ov.any():
        mask = np.zeros(len(spells), dtype=bool)
        mask[order[1:][ov]] = True
        raise data_error(entry, "a spell overlapping the previous spell of the same customer", mask, ids,
                         "A customer is in one state at a time.")
    return {"by": by, "states": states, "entry": e, "exit": x, "frm": frm, "to": to, "idc": idc, "w": w,
            "ids": ids}


def _groups(spells, by):
    if not by:
        return [("all", np.ones(len(spells), dtype=bool))]
    key = spells[by].astype(str).agg(" | ".join, axis=1) if len(by) > 1 else spells[by[0]].astype(str)
    return [(g, (key == g).to_numpy()) for g in sorted(key.unique())]


def _limits(p, se, conf_level, conf_type="log"):
    """R ``survfit_confint`` (probability scale; ``log``: upper capped at 1)."""
    from scipy.special import ndtri

    z = float(ndtri(0.5 + conf_level / 2))
    p = np.asarray(p, float)
    se = np.asarray(se, float)
    if conf_type == "plain":
        return np.clip(p - z * se, 0, 1), np.clip(p + z * se, 0, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(p > 0, z * se / p, 0.0)
        lo = np.where(p > 0, p * np.exp(-s), 0.0)
        hi = np.where(p > 0, np.minimum(p * np.exp(s), 1.0), 0.0)
    return lo, hi


class StateOccupation(BaseEstimator):
    """Aalen-Johansen probabilities of being in each state, Nelson-Aalen transition hazards, time in state.

    Parameters
    ----------
    conf_level : float, default 0.95
        Level of the pointwise intervals.
    conf_type : {"log", "plain"}, default "log"
        Scale of the occupation intervals (R ``survfit``'s default is ``"log"``).
    horizons : sequence of float, default ()
        Horizons :math:`\\tau` of the restricted mean time in each state (``restricted_mean_``).
    variance : bool, default True
        Compute the infinitesimal-jackknife standard errors (cost grows with customers x event times).

    Attributes
    ----------
    occupation_ : pandas.DataFrame
        ``segment, time, state, estimate, std_error, ci_lower, ci_upper, n_at_risk``; one row per segment, time
        (the origin first, then every distinct exit time) and state.
    cumulative_hazard_ : pandas.DataFrame
        ``segment, time, transition, from_state, to_state, estimate, std_error, ci_lower, ci_upper, n_at_risk,
        n_events`` for every observed transition (Nelson-Aalen, Aalen-type variance
        :math:`\\sum d_{jk}/n_j^2`, log-scale intervals).
    restricted_mean_ : pandas.DataFrame
        ``segment, horizon, state, estimate, std_error, ci_lower, ci_upper`` (empty without ``horizons``).
    transitions_ : pandas.DataFrame
        Counts of observed moves, ``from_state, to_state, n``.
    states_ : list of str
    n_obs_, n_ids_, n_events_ : int
        Spell rows, customers and observed transitions.

    Notes
    -----
    With :math:`n_j(t)` the customers at risk in state :math:`j` (rows with entry :math:`< t \\le` exit, so
    late entrants count only after their entry) and :math:`d_{jk}(t)` the moves :math:`j \\to k` at
    :math:`t`, the Nelson-Aalen increments are :math:`d\\hat A_{jk}(t) = d_{jk}(t)/n_j(t)` and the
    Aalen-Johansen estimate [1]_ is the product integral

    .. math:: \\hat p(t) = \\hat p(0) \\prod_{u \\le t} \\bigl(I + d\\hat A(u)\\bigr).

    The standard errors are the infinitesimal jackknife of R ``survfit`` [2]_ (influence of each customer's
    weight, summed per customer); the restricted mean time in state :math:`j` is
    :math:`\\int_0^\\tau \\hat p_j(t)\\,dt`, its variance from the integrated influence. Outside a Markov
    process, :math:`\\hat p(t)` remains consistent for the state occupation (Datta & Satten [3]_).

    References
    ----------
    .. [1] Aalen, O. O. and Johansen, S. (1978). An empirical transition matrix for non-homogeneous Markov chains
       based on censored observations. Scandinavian Journal of Statistics 5, 141-150.
    .. [2] Therneau, T. M. (2024). The survival package: multi-state models (vignette ``compete``), R package
       ``survival`` 3.5.
    .. [3] Datta, S. and Satten, G. A. (2001). Validity of the Aalen-Johansen estimators of stage occupation
       probabilities and Nelson-Aalen estimators of integrated transition hazards for non-Markov models.
       Statistics & Probability Letters 55, 403-411.

    Examples
    --------
    >>> from churnsurv.data.simulate.states import simulate_states
    >>> sim = simulate_states(n=300, random_state=0)
    >>> occ = StateOccupation().fit(sim.spells)
    >>> sorted(occ.occupation_["state"].unique())
    ['active', 'lost', 'partial']

    See Also
    --------
    churnsurv.plotting.states.plot_state_occupation : stacked occupation of a fitted estimator.
    """

    def __init__(self, conf_level: float = 0.95, conf_type: str = "log", horizons: Sequence[float] = (),
                 variance: bool = True):
        self.conf_level = conf_level
        self.conf_type = conf_type
        self.horizons = horizons
        self.variance = variance

    def fit(self, spells: pd.DataFrame, *, id: str = "id", entry: str = "entry", exit: str = "exit",
            from_state: str = "from_state", to_state: str = "to_state", by: str | Sequence[str] | None = None,
            weights: str | None = None, states: Sequence[str] | None = None) -> StateOccupation:
        """Estimate from a table of state spells (one row per stay; not modified).

        Parameters
        ----------
        spells : pandas.DataFrame
            One row per stay: customer ``id``, ``(entry, exit]`` in periods since acquisition, the state occupied
            and the state entered at ``exit`` (empty/NaN: censored). A customer's first row may start after 0
            (left truncation: observed from ``entry`` on).
        by : str or list of str, optional
            Segment column(s); one estimate per segment (a customer should keep one segment).
        weights : str, optional
            Case-weight column (constant within a customer).
        states : sequence of str, optional
            All states in display order; default ``active, partial, lost`` then any others alphabetically.
        """
        level = check_conf_level(self.conf_level, _OWNER)
        if self.conf_type not in ("log", "plain"):
            raise param_error("conf_type", _OWNER, "one of {'log', 'plain'}", self.conf_type)
        horizons = [float(h) for h in np.atleast_1d(np.asarray(self.horizons, dtype=float))]
        if any(not np.isfinite(h) or h <= 0 for h in horizons):
            raise param_error("horizons", _OWNER, "positive finite numbers", self.horizons)
        c = state_spells_check(spells, id=id, entry=entry, exit=exit, from_state=from_state, to_state=to_state,
                               by=by, weights=weights, states=states)
        st = c["states"]
        S = len(st)
        occ, haz, rm, init = [], [], [], []
        for label, mask in _groups(spells, c["by"]):
            e, x, f, t, ids_g, w = (c[k][mask] for k in ("entry", "exit", "frm", "to", "idc", "w"))
            keep, e = merge_continuations(ids_g, e, x, f, t)
            x, f, t, ids_g, w = x[keep], f[keep], t[keep], ids_g[keep], w[keep]
            idc = pd.factorize(ids_g)[0]
            r = aalen_johansen(e, x, f, t, idc, w, S, horizons=horizons, variance=self.variance)
            T = len(r["time"])
            times = np.r_[r["origin"], r["time"]]
            p = np.vstack([r["p0"], r["pstate"]])
            se = np.vstack([r["sp0"], np.sqrt(r["var"])]) if self.variance else np.full_like(p, np.nan)
            nr = np.vstack([r["n_risk"][:1] if T else np.zeros((1, S)), r["n_risk"]])
            lo, hi = _limits(p, se, level, self.conf_type)
            occ.append(pd.DataFrame({"segment": label, "time": np.repeat(times, S), "state": np.tile(st, T + 1),
                                     "estimate": p.ravel(), "std_error": se.ravel(), "ci_lower": lo.ravel(),
                                     "ci_upper": hi.ravel(), "n_at_risk": nr.ravel()}))
            init.append(pd.DataFrame({"segment": label, "state": st, "estimate": r["p0"], "std_error": r["sp0"]}))
            obs = r["n_trans"].sum(axis=0) > 0
            for j, k in zip(*np.nonzero(obs), strict=True):
                A = r["cumhaz"][:, j, k]
                v = r["cumhaz_var"][:, j, k]
                sd = np.sqrt(v)
                from scipy.special import ndtri

                z = float(ndtri(0.5 + level / 2))
                with np.errstate(divide="ignore", invalid="ignore"):
                    fac = np.where(A > 0, np.exp(z * sd / A), 1.0)
                haz.append(pd.DataFrame({"segment": label, "time": r["time"], "transition": f"{st[j]} -> {st[k]}",
                                         "from_state": st[j], "to_state": st[k], "estimate": A, "std_error": sd,
                                         "ci_lower": A / fac, "ci_upper": A * fac, "n_at_risk": r["n_risk"][:, j],
                                         "n_events": r["n_trans"][:, j, k]}))
            for h, tau in enumerate(horizons):
                est = r["rmean"][h]
                sd = np.sqrt(r["rmean_var"][h]) if self.variance else np.full(S, np.nan)
                from scipy.special import ndtri

                z = float(ndtri(0.5 + level / 2))
                rm.append(pd.DataFrame({"segment": label, "horizon": tau, "state": st, "estimate": est,
                                        "std_error": sd, "ci_lower": np.maximum(est - z * sd, 0.0),
                                        "ci_upper": np.minimum(est + z * sd, tau)}))
        self.states_ = st
        self.occupation_ = pd.concat(occ, ignore_index=True)
        self.initial_ = pd.concat(init, ignore_index=True)
        cols = ["segment", "time", "transition", "from_state", "to_state", "estimate", "std_error", "ci_lower",
                "ci_upper", "n_at_risk", "n_events"]
        self.cumulative_hazard_ = pd.concat(haz, ignore_index=True) if haz else pd.DataFrame(columns=cols)
        cols = ["segment", "horizon", "state", "estimate", "std_error", "ci_lower", "ci_upper"]
        self.restricted_mean_ = pd.concat(rm, ignore_index=True) if rm else pd.DataFrame(columns=cols)
        ev = c["to"] >= 0
        tr = pd.DataFrame({"from_state": np.asarray(st)[c["frm"][ev]], "to_state": np.asarray(st)[c["to"][ev]]})
        self.transitions_ = tr.value_counts().rename("n").reset_index().sort_values(["from_state", "to_state"],
                                                                                     ignore_index=True)
        self.by_ = c["by"]
        self.n_obs_ = len(spells)
        self.n_ids_ = int(c["idc"].max()) + 1 if len(spells) else 0
        self.n_events_ = int(ev.sum())
        return self

    def predict(self, times, state: str | Sequence[str] | None = None) -> pd.DataFrame:
        """Occupation probabilities at given times (right-continuous step function), tidy."""
        check_is_fitted(self)
        times = np.atleast_1d(np.asarray(times, dtype=float))
        states = self.states_ if state is None else ([state] if isinstance(state, str) else list(state))
        bad = [s for s in states if s not in self.states_]
        if bad:
            raise param_error("state", _OWNER, f"among {self.states_!r}", bad)
        out = []
        for (_seg, s), g in self.occupation_.groupby(["segment", "state"], sort=False):
            if s not in states:
                continue
            idx = np.searchsorted(g["time"].to_numpy(), times, side="right") - 1
            rows = g.iloc[np.maximum(idx, 0)].reset_index(drop=True)
            rows["time"] = times
            out.append(rows)
        return pd.concat(out, ignore_index=True)


def _episodes(spells, c, from_state):
    """Clock-reset episodes starting at each customer's first observed entry into ``from_state``."""
    k = c["states"].index(from_state)
    e, x, f, idc = c["entry"], c["exit"], c["frm"], c["idc"]
    # entry into the state: a transition into it, i.e. a row in it whose previous row moved into it
    order = np.lexsort((e, idc))
    first_row = np.r_[True, idc[order][1:] != idc[order][:-1]]
    entered = (f[order] == k) & ~first_row
    entered |= (f[order] == k) & first_row & (e[order] == 0)  # acquired straight into the state
    start = np.full(idc.max() + 1 if len(idc) else 0, np.nan)
    rows = order[entered]
    first_of_id = pd.Series(e[rows]).groupby(idc[rows]).min()
    start[first_of_id.index.to_numpy()] = first_of_id.to_numpy()
    s = start[idc]
    keep = np.isfinite(s) & (x > s)
    return keep, s


def prob_lost_within(spells: pd.DataFrame, horizons, *, from_state: str = "partial", to_state: str = "lost",
                     conf_level: float = 0.95, by=None, **columns) -> pd.DataFrame:
    """Probability that a customer is in ``to_state`` within ``h`` periods of first becoming ``from_state``.

    The clock restarts at each customer's first observed entry into ``from_state`` (customers already in it
    when first observed are left out: their entry time is unknown); the Aalen-Johansen estimate of being in
    ``to_state`` (absorbing, e.g. ``lost``) ``h`` periods later, with its IJ standard error, is returned.

    Returns
    -------
    pandas.DataFrame
        ``segment, horizon, estimate, std_error, ci_lower, ci_upper, n_episodes``.
    """
    owner = "prob_lost_within"
    level = check_conf_level(conf_level, owner)
    horizons = np.atleast_1d(np.asarray(horizons, dtype=float))
    c = state_spells_check(spells, by=by, owner=owner, **columns)
    for name, s in (("from_state", from_state), ("to_state", to_state)):
        if s not in c["states"]:
            raise param_error(name, owner, f"one of {c['states']!r}", s)
    keep, s = _episodes(spells, c, from_state)
    if not keep.any():
        raise TenureDataError(f"{owner}: no customer is observed entering state {from_state!r}.")
    col = {"id": "id", "entry": "entry", "exit": "exit", "from_state": "from_state", "to_state": "to_state",
           **columns}
    sub = spells.loc[keep, [col["id"], col["from_state"], col["to_state"], *c["by"]]].copy()
    sub["_entry"] = np.maximum(c["entry"][keep] - s[keep], 0.0)
    sub["_exit"] = c["exit"][keep] - s[keep]
    fit = StateOccupation(conf_level=level).fit(sub, id=col["id"], entry="_entry", exit="_exit",
                                                from_state=col["from_state"], to_state=col["to_state"],
                                                by=c["by"] or None, states=c["states"])
    pred = fit.predict(horizons, state=to_state)
    n_ep = sub.groupby(c["by"])[col["id"]].nunique() if c["by"] else None
    out = pred.rename(columns={"time": "horizon"})[["segment", "horizon", "estimate", "std_error", "ci_lower",
                                                    "ci_upper"]]
    if n_ep is None:
        out["n_episodes"] = sub[col["id"]].nunique()
    else:
        key = n_ep.index.map(lambda v: " | ".join(map(str, v)) if isinstance(v, tuple) else str(v))
        out["n_episodes"] = out["segment"].map(dict(zip(key, n_ep.to_numpy(), strict=True)))
    return out


def fit_transition_cox(spells: pd.DataFrame, *, formula: str | None = None, covariates=None,
                       transitions: Sequence[tuple[str, str]] | None = None, ties: str = "efron",
                       conf_level: float = 0.95, id: str = "id", entry: str = "entry", exit: str = "exit",
                       from_state: str = "from_state", to_state: str = "to_state") -> dict:
    """One Cox model per transition :math:`j \\to k` (clock-forward: tenure since acquisition, late entry).

    The rows of transition :math:`j \\to k` are the stays in :math:`j`; the event is a move to :math:`k`
    (moves elsewhere censor). Each model is a :class:`churnsurv.models.coxph.CoxPH` with cluster-robust errors
    by customer (a customer can be in :math:`j` several times).

    Returns
    -------
    dict
        ``{(j, k): fitted CoxPH}``; ``pd.concat({f"{j} -> {k}": m.summary() ...})`` gives one tidy table.
    """
    from churnsurv.models.coxph import CoxPH

    c = state_spells_check(spells, id=id, entry=entry, exit=exit, from_state=from_state, to_state=to_state,
                           owner="fit_transition_cox")
    st = c["states"]
    if transitions is None:
        ev = c["to"] >= 0
        pairs = sorted({(int(a), int(b)) for a, b in zip(c["frm"][ev], c["to"][ev], strict=True)})
        transitions = [(st[a], st[b]) for a, b in pairs]
    out = {}
    for j, k in transitions:
        rows = c["frm"] == st.index(j)
        frame = spells.loc[rows].copy()
        frame["_entry"] = c["entry"][rows]
        frame["_exit"] = c["exit"][rows]
        frame["_event"] = (c["to"][rows] == st.index(k)).astype(int)
        frame["_row"] = np.arange(len(frame))
        frame = frame.set_index("_row")
        out[(j, k)] = CoxPH(ties=ties, conf_level=conf_level).fit(
            frame, formula=formula, covariates=covariates, entry="_entry", duration="_exit", event="_event",
            cluster=id)
    return out
