"""The true lifetime value, scenario value and value at risk of a simulated book (churnsurv.data.simulate).

With whole-month records (``discrete=True``) the monthly life table estimates the true discrete cause-specific
hazards ``q_k(j) = (F_k(j) - F_k(j - 1)) / S(j - 1)`` exactly (``ChurnTruth.discrete_hazard``), so the truth of a
scenario that multiplies the hazards of some causes by ``c`` is ``S*(k) = prod_{j <= k} (1 - sum_k c_k q_k(j))``.
Values are over a horizon of ``N`` months (payment at the start of each month, first month counted), well inside
the follow-up, so that no tail enters.
"""

from __future__ import annotations

import numpy as np

from churnsurv.data.simulate import simulate_churn

N = 36  # horizon in months
D = 0.01  # discount rate per month
SEED = 20241205


def simulate(n=20_000, seed=SEED):
    return simulate_churn(n, signup_months=72, random_state=seed)


def true_survival(truth, segment, mult=None, window=(0.0, np.inf)):
    """S*(k), k = 0..N, with the discrete cause hazards multiplied by ``mult`` (dict cause -> c) in the window."""
    j = np.arange(1, N + 1, dtype=float)
    total = np.zeros(N)
    for cause in truth.causes:
        q = truth.discrete_hazard(j, segment=segment, cause=cause)
        c = 1.0 if mult is None else mult.get(cause, 1.0)
        in_win = (j > window[0]) & (j <= window[1])
        total += np.where(in_win, c, 1.0) * q
    return np.r_[1.0, np.cumprod(1.0 - total)]


def true_value(truth, segment, margin, mult=None, window=(0.0, np.inf)):
    s = true_survival(truth, segment, mult, window)
    k = np.arange(N)
    return float(margin * np.sum(s[:N] * (1 + D) ** -k))


def true_value_at_risk(truth, segment, margin) -> dict:
    """VaR_k = sum_j dF_k(j) v^j R(j), R(j) = m sum_{u < N - j} S(j + u) / S(j) v^u (j = 1..N - 1)."""
    s = true_survival(truth, segment)
    v = 1 / (1 + D)
    out = {}
    for cause in truth.causes:
        f = truth.cumulative_incidence(np.arange(0, N + 1, dtype=float), cause, segment=segment)
        df = np.diff(f)  # defections in month j = 1..N
        total = 0.0
        for j in range(1, N):
            u = np.arange(N - j)
            r = margin * np.sum(s[j + u] / s[j] * v**u)
            total += df[j - 1] * v**j * r
        out[cause] = total
    return out
