"""Which covariates are tied to tenure itself: the checks to run before a covariate enters a model.

A churn snapshot records covariates *at the snapshot*, not at sign-up. Some are cumulative (total revenue,
total charges, a lifetime-value score): they grow with tenure, so a model that uses them "explains" tenure with
tenure (a Cox fit of the bundled Maven file on ``Total Revenue`` gives p = 1e-109 from pure leakage). Others are
assigned by tenure band (the Maven ``Offer``) or drift with it. :func:`tenure_association` grades every candidate
covariate by how strongly it moves with tenure and flags the cumulative ones.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from churnsurv._validation import check_columns, find_stack_level
from churnsurv.data.tenures import Tenures, tenure_confounding
from churnsurv.exceptions import TenureConfoundingWarning

__all__ = ["tenure_association"]

#: Grades of association by the absolute rank correlation (numeric) or the square root of the rank eta squared
#: (categorical): below 0.1 none, below 0.3 weak, below 0.5 moderate, otherwise strong.
GRADES = ((0.1, "none"), (0.3, "weak"), (0.5, "moderate"), (np.inf, "strong"))
#: A numeric column is flagged as cumulative when its rank correlation with tenure is at least this, while its
#: per-period rate (value / tenure) is at most weakly tied to tenure.
CUMULATIVE_RHO = 0.7
CUMULATIVE_RATE_RHO = 0.5


def _rank_corr(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return np.nan
    ra = pd.Series(a[ok]).rank().to_numpy()
    rb = pd.Series(b[ok]).rank().to_numpy()
    if ra.std() == 0 or rb.std() == 0:
        return np.nan
    return float(np.corrcoef(ra, rb)[0, 1])


def _rank_eta(codes: np.ndarray, tenure: np.ndarray) -> float:
    """sqrt of the share of the variance of tenure ranks explained by the levels (Kruskal-Wallis epsilon^2)."""
    ok = codes >= 0
    if ok.sum() < 3:
        return np.nan
    r = pd.Series(tenure[ok]).rank().to_numpy()
    c = codes[ok]
    total = ((r - r.mean()) ** 2).sum()
    if total == 0:
        return np.nan
    n = np.bincount(c)
    means = np.bincount(c, weights=r) / np.maximum(n, 1)
    between = (n * (means - r.mean()) ** 2).sum()
    return float(np.sqrt(between / total))


def _grade(value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    for bound, name in GRADES:
        if abs(value) < bound:
            return name
    return "strong"


def tenure_association(tenures: Tenures, columns: Sequence[str] | None = None, *,
                       warn: bool = True) -> pd.DataFrame:
    """Grade how strongly each candidate covariate moves with tenure, and flag cumulative columns.

    Parameters
    ----------
    tenures : Tenures
        The tenure table; tenure is its ``exit`` column (for a snapshot: tenure at the snapshot or at defection).
    columns : list of str, optional
        Columns of ``tenures.data`` to grade; default every segment and value column.
    warn : bool, default True
        Emit a :class:`~churnsurv.TenureConfoundingWarning` naming the cumulative and tenure-band columns.

    Returns
    -------
    pandas.DataFrame
        One row per column: ``column``, ``kind`` ("numeric" or "categorical"), ``n`` (rows with a value),
        ``measure`` ("rank correlation" or "rank eta"), ``association`` (its value; for a numeric column
        Spearman's rho with tenure, for a categorical one the square root of the share of the variance of
        tenure ranks between levels), ``grade`` (none < 0.1 <= weak < 0.3 <= moderate < 0.5 <= strong),
        ``cumulative`` (numeric, rho >= 0.7 with tenure while value / tenure is at most weakly tied to it:
        a total that grows with tenure), ``tenure_bands`` (categorical levels in nearly disjoint tenure ranges,
        :func:`~churnsurv.tenure_confounding`) and ``advice``.

    Notes
    -----
    Covariates measured at the snapshot are not baseline covariates. A cumulative column (total revenue,
    total charges, lifetime value) is a function of tenure: as a covariate it leaks the outcome and its hazard
    ratio means nothing; use its per-period rate (e.g. monthly charge) instead. A column assigned by tenure band
    (an offer made only in some tenure months) restates tenure; compare such groups within a landmark, not
    across the whole curve. A strong but not cumulative association is not a fault in itself (customers on long
    contracts stay longer) but says that the covariate's effect and tenure cannot be told apart from a snapshot.

    Examples
    --------
    >>> import churnsurv as cs
    >>> t = cs.datasets.load_maven_telco(values=["Monthly Charge", "Total Revenue"])
    >>> table = tenure_association(t, ["Total Revenue", "Monthly Charge", "Contract"], warn=False)
    >>> table.set_index("column").loc["Total Revenue", "cumulative"]
    True
    """
    if not isinstance(tenures, Tenures):
        raise TypeError(f"tenure_association expects a churnsurv.Tenures; got {type(tenures).__name__}.")
    d = tenures.data
    cols = list(tenures.segments) + list(tenures.values) if columns is None else list(columns)
    check_columns(d, cols, what="tenure table")
    tenure = d["exit"].to_numpy(float)
    rows = []
    for col in cols:
        s = d[col]
        numeric = pd.api.types.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype) \
            and not pd.api.types.is_bool_dtype(s)
        if numeric:
            v = s.to_numpy(float)
            rho = _rank_corr(v, tenure)
            pos = tenure > 0
            rate_rho = _rank_corr(v[pos] / tenure[pos], tenure[pos]) if pos.sum() >= 3 else np.nan
            cumulative = bool(np.isfinite(rho) and rho >= CUMULATIVE_RHO
                              and (not np.isfinite(rate_rho) or abs(rate_rho) <= CUMULATIVE_RATE_RHO))
            rows.append(dict(column=col, kind="numeric", n=int(np.isfinite(v).sum()), measure="rank correlation",
                             association=rho, grade=_grade(rho), cumulative=cumulative, tenure_bands=False))
        else:
            codes = pd.Series(pd.Categorical(s)).cat.codes.to_numpy()
            eta = _rank_eta(codes, tenure)
            bands = False
            if col in tenures.segments:
                bands = bool(tenure_confounding(tenures, col).attrs.get("confounded", False))
            rows.append(dict(column=col, kind="categorical", n=int((codes >= 0).sum()), measure="rank eta",
                             association=eta, grade=_grade(eta), cumulative=False, tenure_bands=bands))
    table = pd.DataFrame(rows, columns=["column", "kind", "n", "measure", "association", "grade", "cumulative",
                                        "tenure_bands"])
    table["advice"] = [_advice(r) for r in table.itertuples()]
    flagged = table.loc[table["cumulative"] | table["tenure_bands"], "column"].tolist()
    if warn and flagged:
        warnings.warn(
            f"Covariates tied to tenure itself: {', '.join(map(repr, flagged))}. Cumulative columns grow with "
            "tenure and leak the outcome into a model; tenure-band columns restate tenure. Measured at the "
            "snapshot, they are not baseline covariates: see tenure_association(...)['advice'].",
            TenureConfoundingWarning, stacklevel=find_stack_level())
    return table


def _advice(r) -> str:
    if r.cumulative:
        return ("cumulative: grows with tenure (a total measured at the snapshot); do not use as a covariate, "
                "use its per-period rate instead")
    if r.tenure_bands:
        return "tenure bands: its levels occupy disjoint tenure ranges; compare within a landmark, not across curves"
    if r.grade == "strong":
        return "strongly tied to tenure: its effect and tenure cannot be told apart in a snapshot"
    if r.grade == "moderate":
        return "moderately tied to tenure: read its effect with care (measured at the snapshot, not at sign-up)"
    return "no strong tie to tenure"
