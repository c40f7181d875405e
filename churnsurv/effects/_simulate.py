"""Small simulators with a known effect: an A/B holdout and a mid-tenure offer.

They feed the tests and the examples of :mod:`churnsurv.effects`; every hazard is constant (exponential
lifetimes), so the true survival differences, restricted means and cumulative incidences have closed forms
(:func:`ab_truth`, :func:`offer_truth`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["ab_truth", "offer_truth", "simulate_ab_test", "simulate_offer"]


def _hazards(hazard: float, cause_shares, effect, arm_treated: bool, segment_effect: float = 1.0) -> dict:
    """Cause-specific hazards of one arm (the effect multiplies the targeted causes' hazards)."""
    out = {}
    for cause, share in cause_shares.items():
        hr = effect.get(cause, 1.0) if isinstance(effect, dict) else effect
        out[cause] = hazard * share * ((hr * segment_effect) if arm_treated else 1.0)
    return out


def simulate_ab_test(n: int = 2000, *, hazard: float = 0.04, effect=0.7, cause_shares=None, segments=None,
                     treated_share: float = 0.5, accrual: float = 12.0, follow_up: float = 24.0,
                     margin: float = 20.0, random_state=None) -> pd.DataFrame:
    """An A/B holdout: customers randomised to ``"control"`` or ``"treatment"``, exponential cause-specific hazards.

    Parameters
    ----------
    n : int
        Customers.
    hazard : float
        All-cause hazard per time unit in the control arm.
    effect : float or dict
        Hazard ratio of the treatment, for every cause (float) or per cause (dict; causes not listed: 1).
    cause_shares : dict, optional
        Share of the control hazard of each cause; default ``{"price": 0.6, "service": 0.4}``.
    segments : dict, optional
        ``{level: extra hazard ratio of the treatment in that level}`` (heterogeneous uplift); the levels are
        drawn with equal probability. Default: one level ``"all"`` with ratio 1.
    treated_share : float
        Probability of the treatment arm.
    accrual, follow_up : float
        Customers join uniformly over ``accrual`` time units; the analysis happens ``follow_up`` units after the
        last one joined (administrative censoring between ``follow_up`` and ``accrual + follow_up``).
    margin : float
        A constant ``margin`` column (for the value layer).
    random_state : int or numpy.random.Generator

    Returns
    -------
    pandas.DataFrame
        ``id, arm, segment, tenure, churned, cause, margin`` (``cause`` None when censored).
    """
    rng = np.random.default_rng(random_state)
    cause_shares = {"price": 0.6, "service": 0.4} if cause_shares is None else dict(cause_shares)
    segments = {"all": 1.0} if segments is None else dict(segments)
    levels = list(segments)
    arm = np.where(rng.random(n) < treated_share, "treatment", "control")
    seg = np.asarray(levels, dtype=object)[rng.integers(0, len(levels), n)]
    causes = list(cause_shares)
    rates = np.empty((n, len(causes)))
    for lv in levels:
        for treated in (False, True):
            rows = (seg == lv) & ((arm == "treatment") == treated)
            hz = _hazards(hazard, cause_shares, effect, treated, segments[lv])
            rates[rows] = [hz[c] for c in causes]
    latent = rng.exponential(1.0, size=(n, len(causes))) / rates
    first = latent.argmin(axis=1)
    t = latent[np.arange(n), first]
    cens = follow_up + accrual * rng.random(n)
    churned = t <= cens
    tenure = np.where(churned, t, cens)
    cause = np.where(churned, np.asarray(causes, dtype=object)[first], None)
    return pd.DataFrame({"id": np.arange(n), "arm": arm, "segment": seg, "tenure": tenure, "churned": churned,
                         "cause": cause, "margin": float(margin)})


def ab_truth(times, tau: float, *, hazard: float = 0.04, effect=0.7, cause_shares=None,
             segment_effect: float = 1.0) -> dict:
    """True survival, restricted mean and cumulative incidences of both arms of :func:`simulate_ab_test`.

    Returns
    -------
    dict
        ``{"control": {...}, "treatment": {...}}``, each with ``survival`` (array over ``times``), ``rmst`` (at
        ``tau``) and ``incidence`` (``{cause: array over times}``).
    """
    cause_shares = {"price": 0.6, "service": 0.4} if cause_shares is None else dict(cause_shares)
    t = np.atleast_1d(np.asarray(times, dtype=float))
    out = {}
    for name, treated in (("control", False), ("treatment", True)):
        hz = _hazards(hazard, cause_shares, effect, treated, segment_effect)
        lam = sum(hz.values())
        out[name] = {"survival": np.exp(-lam * t), "rmst": (1 - np.exp(-lam * tau)) / lam,
                     "incidence": {c: h / lam * (1 - np.exp(-lam * t)) for c, h in hz.items()}}
    return out


def simulate_offer(n: int = 2000, *, hazard: float = 0.03, effect: float = 0.6, offer_share: float = 0.6,
                   offer_window=(1, 24), follow_up: float = 48.0, random_state=None) -> pd.DataFrame:
    """Customers offered a retention action at a random whole month of tenure, if still there.

    A share ``offer_share`` of customers is planned to get the offer at a month drawn uniformly from
    ``offer_window`` (inclusive), independently of everything else; the offer is given only to those still
    active (and still observed) then, and multiplies their hazard by ``effect`` from that moment on. Lifetimes
    are exponential with rate ``hazard`` before the offer and are censored at ``follow_up``.

    The naive comparison of customers who ever got the offer with those who never did credits the offer with
    the months before it (immortal time): only customers who lasted until their offer month can be in the
    offered group. :func:`offer_truth` gives the effect of getting the offer at a landmark.

    Returns
    -------
    pandas.DataFrame
        ``id, tenure, churned, offer_time`` (NaN: never offered).
    """
    rng = np.random.default_rng(random_state)
    lo, hi = offer_window
    planned = np.where(rng.random(n) < offer_share, rng.integers(lo, hi + 1, n).astype(float), np.nan)
    first = rng.exponential(1.0 / hazard, n)
    given = np.isfinite(planned) & (first > planned) & (planned < follow_up)
    after = planned + rng.exponential(1.0 / (hazard * effect), n)
    t = np.where(given, after, first)
    churned = t <= follow_up
    return pd.DataFrame({"id": np.arange(n), "tenure": np.minimum(t, follow_up), "churned": churned,
                         "offer_time": np.where(given, planned, np.nan)})


def offer_truth(horizon: float, *, hazard: float = 0.03, effect: float = 0.6) -> dict:
    """The effect of getting the offer at a landmark in :func:`simulate_offer`, followed ``horizon`` units.

    With constant hazards the effect does not depend on the landmark: survival ``exp(-effect * hazard * h)``
    with the offer and ``exp(-hazard * h)`` without it (the per-protocol contrast: no offer during follow-up).

    Returns
    -------
    dict
        ``survival_difference`` (at ``horizon``), ``rmst_difference`` (up to ``horizon``), ``survival_ratio``.
    """
    h1, h0 = hazard * effect, hazard
    s1, s0 = np.exp(-h1 * horizon), np.exp(-h0 * horizon)
    r1, r0 = (1 - s1) / h1, (1 - s0) / h0
    return {"survival_difference": s1 - s0, "survival_ratio": s1 / s0, "rmst_difference": r1 - r0,
            "survival_treated": s1, "survival_control": s0}
