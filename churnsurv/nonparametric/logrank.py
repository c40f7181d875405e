"""Tests of equal survival across segments: weighted log-rank tests, trend test, pairwise comparisons.

Every test here is computed from a :class:`~churnsurv.LifeTable`, so left-truncated records (a churn
snapshot) are handled by the risk sets, ties are handled exactly (hypergeometric variance, as R's
``survival::survdiff``) and tables aggregated elsewhere (:meth:`LifeTable.from_counts`) work as well.
"""

from __future__ import annotations

import itertools
import numbers
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churnsurv._validation import check_one_of, param_error
from churnsurv.data.tenures import _as_list
from churnsurv.exceptions import StatisticalWarning, TenureDataError
from churnsurv.lifetable.table import LifeTable, Tenures, as_life_table, life_table

__all__ = ["TestResult", "adjust_pvalues", "logrank_test", "pairwise_logrank"]

WEIGHTS = ("logrank", "fleming-harrington", "peto", "gehan-breslow", "tarone-ware")
_ALIASES = {"wilcoxon": "gehan-breslow", "gehan": "gehan-breslow", "breslow": "gehan-breslow",
            "peto-peto": "peto", "log-rank": "logrank", "fh": "fleming-harrington"}
ADJUST = ("holm", "bonferroni", "bh", "none")


@dataclass(frozen=True)
class TestResult:
    """The result of :func:`logrank_test`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per test: ``test`` (name, with its weight parameters), ``statistic`` (chi-square),
        ``dof``, ``p_value``. The overall test comes first, the trend test (``trend=True``) second.
    groups : pandas.DataFrame
        One row per group: the ``by`` columns, ``n`` (rows in the group), ``observed`` and ``expected``
        (weighted defections, summed over strata), ``o_minus_e`` and ``variance`` (diagonal of the covariance).
    covariance : pandas.DataFrame
        The k x k covariance matrix of ``observed - expected`` (rows and columns labelled by group).
    by, strata : tuple of str
        Group and stratification columns.
    weights : str
        Weight family (see :func:`logrank_test`).
    rho, gamma : float or None
        Fleming-Harrington parameters (None for other families).
    scores : pandas.Series or None
        Trend scores by group (None without ``trend``).
    """

    __test__ = False  # not a pytest class

    table: pd.DataFrame
    groups: pd.DataFrame
    covariance: pd.DataFrame
    by: tuple = ()
    strata: tuple = ()
    weights: str = "logrank"
    rho: float | None = None
    gamma: float | None = None
    scores: pd.Series | None = field(default=None, repr=False)

    @property
    def statistic(self) -> float:
        """Chi-square statistic of the overall test (first row of :attr:`table`)."""
        return float(self.table["statistic"].iloc[0])

    @property
    def dof(self) -> int:
        """Degrees of freedom of the overall test."""
        return int(self.table["dof"].iloc[0])

    @property
    def p_value(self) -> float:
        """p-value of the overall test."""
        return float(self.table["p_value"].iloc[0])

    def __repr__(self) -> str:
        rows = "; ".join(f"{r.test}: chi2 = {r.statistic:.4g} on {r.dof} dof, p = {r.p_value:.3g}"
                         for r in self.table.itertuples())
        strata = f", stratified by {list(self.strata)}" if self.strata else ""
        return f"TestResult(by {list(self.by)}{strata}; {rows})"


# ---------------------------------------------------------------------- public functions
def logrank_test(data, by, *, strata=None, weights: str = "logrank", rho: float | None = None,
                 gamma: float | None = None, trend: bool = False, scores=None, cause: str | None = None,
                 **frame_kwargs) -> TestResult:
    """Test whether survival (equivalently, the hazard) is the same in every group.

    Parameters
    ----------
    data : Tenures, LifeTable or pandas.DataFrame
        The records. A DataFrame is read with :meth:`Tenures.from_frame` and ``frame_kwargs``; a LifeTable must
        be grouped by exactly ``by + strata``.
    by : str or list of str
        Segment column(s) defining the groups (several columns: one group per combination of levels).
    strata : str or list of str, optional
        Segment column(s) to stratify on: observed, expected and covariance are computed within each stratum
        and summed, so the groups are compared within strata (e.g. within internet service).
    weights : {"logrank", "fleming-harrington", "peto", "gehan-breslow", "tarone-ware"}
        Weight :math:`w(t)` given to each defection time (see Notes). ``"wilcoxon"`` is an alias of
        ``"gehan-breslow"``.
    rho, gamma : float, optional
        Fleming-Harrington parameters (>= 0). Passing either with the default ``weights`` selects
        ``"fleming-harrington"`` (the missing one is 0), so ``rho=1`` is R's ``survdiff(..., rho = 1)``.
    trend : bool, default False
        Add the test for trend across ordered groups (1 degree of freedom).
    scores : sequence or mapping, optional
        Trend scores, one per group in the order of :attr:`TestResult.groups` (or a mapping from level to
        score). Default ``1, 2, ..., k`` in category order. Implies ``trend=True``.
    cause : str, optional
        Test the cause-specific hazard of this cause: its defections are the events and defections for other
        causes are censored at their exit. This is the competing-risks test that left-truncated data allow
        (Gray's test of the cumulative incidence needs right-censored data); it compares the rate of leaving for
        the cause among customers still here, not the share eventually lost to it.
    **frame_kwargs
        Column keywords of :meth:`Tenures.from_frame` (``duration``, ``event``, ``entry``...) for a DataFrame.

    Returns
    -------
    TestResult
        ``.table`` (one row per test: ``test, statistic, dof, p_value``) and ``.groups`` (``n, observed,
        expected, o_minus_e, variance`` per group).

    Raises
    ------
    ValueError
        Fewer than two groups, no defection at all, or bad parameters.

    See Also
    --------
    pairwise_logrank : every pair of groups, with multiplicity-adjusted p-values.

    Notes
    -----
    At each distinct defection time :math:`t` of a stratum, with :math:`n_{gt}` customers at risk and
    :math:`d_{gt}` defections in group :math:`g` (:math:`n_t, d_t` the totals), the weighted observed minus
    expected defections and their covariance (hypergeometric, exact for ties, as R's ``survdiff``) are

    .. math::

        U_g = \\sum_t w_t \\Big(d_{gt} - d_t \\frac{n_{gt}}{n_t}\\Big), \\qquad
        V_{gh} = \\sum_t w_t^2 \\, d_t \\frac{n_t - d_t}{n_t - 1} \\frac{n_{gt}}{n_t}
        \\Big(\\delta_{gh} - \\frac{n_{ht}}{n_t}\\Big),

    summed over strata. The statistic is :math:`U^\\top V^{-} U` over all groups but the first, with
    :math:`V^{-}` the Moore-Penrose inverse; its degrees of freedom are the rank of that matrix (``k - 1``
    unless groups are never at risk at a defection time: such groups, with expected 0, are left out as
    ``survdiff`` does). The trend statistic is :math:`(c^\\top U)^2 / c^\\top V c` for scores :math:`c`,
    on 1 degree of freedom.

    Weights, with :math:`\\hat S(t-)` the pooled Kaplan-Meier estimate just before :math:`t` (within
    the stratum):

    * ``"logrank"``: :math:`w_t = 1` (Mantel 1966).
    * ``"fleming-harrington"``: :math:`w_t = \\hat S(t-)^\\rho (1 - \\hat S(t-))^\\gamma` (Harrington & Fleming
      1982); :math:`\\rho > 0` stresses early differences, :math:`\\gamma > 0` late ones.
    * ``"peto"``: :math:`w_t = \\hat S(t-)`, i.e. Fleming-Harrington(1, 0), which is what R's
      ``survdiff(rho = 1)`` computes (the Peto & Peto 1972 form of the Gehan-Wilcoxon test). lifelines'
      ``weightings="peto"`` uses instead :math:`\\tilde S(t) = \\prod_{s \\le t} (1 - d_s / (n_s + 1))`, so its
      statistic differs slightly.
    * ``"gehan-breslow"``: :math:`w_t = n_t` (generalised Wilcoxon; depends on the censoring pattern).
    * ``"tarone-ware"``: :math:`w_t = \\sqrt{n_t}`.

    Risk sets come from the life table (a row is at risk when entry < t <= exit), so left truncation is
    handled; R's ``survdiff`` cannot take (start, stop] data, and for such data the log-rank test equals the
    score test of ``coxph(Surv(entry, time, event) ~ group, ties = "exact")`` (the exact partial likelihood
    gives the hypergeometric variance; Breslow ties would give the binomial one). Case weights enter the
    counts as frequency weights.

    References
    ----------
    .. [1] Mantel, N. (1966). Evaluation of survival data and two new rank order statistics arising in its
       consideration. Cancer Chemotherapy Reports 50(3), 163-170.
    .. [2] Peto, R. and Peto, J. (1972). Asymptotically efficient rank invariant test procedures. Journal of the
       Royal Statistical Society A 135(2), 185-207.
    .. [3] Harrington, D. P. and Fleming, T. R. (1982). A class of rank test procedures for censored survival
       data. Biometrika 69(3), 553-566.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.nonparametric import logrank_test
    >>> df = pd.DataFrame({"tenure": [1, 2, 3, 4, 5, 2, 4, 6, 8, 9],
    ...                    "churned": [1, 1, 0, 1, 1, 1, 0, 1, 1, 0],
    ...                    "plan": ["basic"] * 5 + ["premium"] * 5})
    >>> res = logrank_test(df, "plan", duration="tenure", event="churned")
    >>> res.table.round(4)
          test  statistic  dof  p_value
    0  logrank     3.7661    1   0.0523
    >>> res.groups.round(3)
          plan  n  observed  expected  o_minus_e  variance
    0    basic  5       4.0     1.972      2.028     1.092
    1  premium  5       3.0     5.028     -2.028     1.092

    The same numbers as R's ``survdiff(Surv(tenure, churned) ~ plan)`` (chisq 3.766078).
    """
    owner = "logrank_test"
    by, strata = _check_columns_args(by, strata, owner)
    family, rho, gamma = _check_weights(weights, rho, gamma, owner)
    if scores is not None:
        trend = True
    lt = _as_table(data, by + strata, frame_kwargs)
    if cause is not None:
        lt = _cause_specific(lt, cause, owner)
    comp = _Components.from_life_table(lt, by, strata)
    comp.check_two_groups(owner)
    U, V, keep = comp.score(family, rho, gamma)
    rows = [_overall_row(U, V, keep, family, rho, gamma)]
    score_series = None
    if trend:
        c = _trend_scores(scores, comp.keys, by)
        score_series = pd.Series(c, index=_labels(comp.keys, by), name="score")
        rows.append(_trend_row(U, V, c, family, rho, gamma))
    table = pd.DataFrame(rows, columns=["test", "statistic", "dof", "p_value"])
    groups = comp.keys.copy()
    groups["n"] = comp.n.astype(np.int64) if np.all(comp.n == np.round(comp.n)) else comp.n
    groups["observed"] = comp.observed(family, rho, gamma)
    groups["expected"] = groups["observed"] - U
    groups["o_minus_e"] = U
    groups["variance"] = np.diag(V)
    labels = _labels(comp.keys, by)
    cov = pd.DataFrame(V, index=labels, columns=labels)
    return TestResult(table=table, groups=groups, covariance=cov, by=tuple(by), strata=tuple(strata),
                      weights=family, rho=rho, gamma=gamma, scores=score_series)


def pairwise_logrank(data, by, *, adjust: str = "holm", strata=None, weights: str = "logrank",
                     rho: float | None = None, gamma: float | None = None, cause: str | None = None,
                     **frame_kwargs) -> pd.DataFrame:
    """Compare every pair of groups with a (weighted) log-rank test, adjusting for multiplicity.

    Each pair is tested as :func:`logrank_test` would on the records of those two groups only (the pooled
    Kaplan-Meier estimate of a Fleming-Harrington weight is that of the pair), within strata if given.

    Parameters
    ----------
    data, by, strata, weights, rho, gamma, cause, **frame_kwargs
        As in :func:`logrank_test`.
    adjust : {"holm", "bonferroni", "bh", "none"}
        Multiplicity adjustment of the p-values: Holm's step-down (default; controls the family-wise error
        rate), Bonferroni, Benjamini-Hochberg (false discovery rate) or none. Same values as R's
        ``p.adjust``.

    Returns
    -------
    pandas.DataFrame
        One row per pair: ``group_a``, ``group_b`` (levels; several ``by`` columns are joined with ", "),
        ``test``, ``statistic``, ``dof``, ``p_value``, ``p_adjusted``.

    Notes
    -----
    Holm (1979): with the :math:`m` p-values sorted, :math:`p_{(1)} \\le \\dots \\le p_{(m)}`, the adjusted
    value is :math:`\\tilde p_{(i)} = \\max_{j \\le i} \\min\\{1, (m - j + 1) p_{(j)}\\}`.
    Benjamini-Hochberg: :math:`\\tilde p_{(i)} = \\min_{j \\ge i} \\min\\{1, m p_{(j)} / j\\}`.

    References
    ----------
    .. [1] Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian Journal of
       Statistics 6(2), 65-70.
    .. [2] Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate. Journal of the Royal
       Statistical Society B 57(1), 289-300.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.nonparametric import pairwise_logrank
    >>> df = pd.DataFrame({"tenure": [1, 2, 3, 2, 4, 6, 5, 8, 9],
    ...                    "churned": [1, 1, 1, 1, 0, 1, 1, 1, 0],
    ...                    "plan": ["a"] * 3 + ["b"] * 3 + ["c"] * 3})
    >>> pairwise_logrank(df, "plan", duration="tenure", event="churned")[
    ...     ["group_a", "group_b", "p_value", "p_adjusted"]].round(4)
      group_a group_b  p_value  p_adjusted
    0       a       b   0.1341      0.2682
    1       a       c   0.0246      0.0738
    2       b       c   0.2591      0.2682
    """
    owner = "pairwise_logrank"
    by, strata = _check_columns_args(by, strata, owner)
    family, rho, gamma = _check_weights(weights, rho, gamma, owner)
    check_one_of(adjust, "adjust", owner, ADJUST)
    lt = _as_table(data, by + strata, frame_kwargs)
    if cause is not None:
        lt = _cause_specific(lt, cause, owner)
    comp = _Components.from_life_table(lt, by, strata)
    comp.check_two_groups(owner)
    labels = _labels(comp.keys, by)
    name = _test_name(family, rho, gamma)
    rows = []
    for a, b in itertools.combinations(range(comp.n_groups), 2):
        sub = comp.subset([a, b])
        U, V, keep = sub.score(family, rho, gamma)
        _, stat, dof, p = _overall_row(U, V, keep, family, rho, gamma)
        rows.append((labels[a], labels[b], name, stat, dof, p))
    out = pd.DataFrame(rows, columns=["group_a", "group_b", "test", "statistic", "dof", "p_value"])
    out["p_adjusted"] = adjust_pvalues(out["p_value"].to_numpy(), adjust)
    return out


def adjust_pvalues(p_values, method: str = "holm") -> np.ndarray:
    """Adjust p-values for multiple comparisons, as R's ``p.adjust``.

    Parameters
    ----------
    p_values : array-like of float
    method : {"holm", "bonferroni", "bh", "none"}

    Returns
    -------
    numpy.ndarray
        Adjusted p-values in the input order (NaN stays NaN and is not counted).

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, 0.03], "holm").round(3)
    array([0.03, 0.06, 0.06])
    """
    check_one_of(method, "method", "adjust_pvalues", ADJUST)
    p = np.asarray(p_values, dtype=float)
    out = p.copy()
    ok = ~np.isnan(p)
    q = p[ok]
    m = len(q)
    if m == 0 or method == "none":
        return out
    if method == "bonferroni":
        adj = np.minimum(1.0, m * q)
    elif method == "holm":
        order = np.argsort(q, kind="stable")
        raw = (m - np.arange(m)) * q[order]
        adj_sorted = np.minimum(1.0, np.maximum.accumulate(raw))
        adj = np.empty(m)
        adj[order] = adj_sorted
    else:  # Benjamini-Hochberg
        order = np.argsort(q, kind="stable")[::-1]
        raw = m / np.arange(m, 0, -1) * q[order]
        adj_sorted = np.minimum(1.0, np.minimum.accumulate(raw))
        adj = np.empty(m)
        adj[order] = adj_sorted
    out[ok] = adj
    return out


# ---------------------------------------------------------------------- the computation
class _Components:
    """Counts at risk and defections per (stratum, defection time, group), as dense matrices."""

    def __init__(self, keys: pd.DataFrame, n: np.ndarray, at_risk: list, events: list):
        self.keys = keys            # one row per group (by columns), in group order
        self.n = n                  # rows per group
        self.at_risk = at_risk      # per stratum: (T_s, k) matrix of n_gt at the stratum's defection times
        self.events = events        # per stratum: (T_s, k) matrix of d_gt

    @property
    def n_groups(self) -> int:
        return len(self.keys)

    @classmethod
    def from_life_table(cls, lt: LifeTable, by: list, strata: list) -> _Components:
        table = lt.table
        codes = lt.group_codes
        cell_keys = lt.group_keys()
        # groups (by levels) and strata among the life table's cells
        gkeys = cell_keys[by].drop_duplicates().reset_index(drop=True)
        g_of_cell = _match_rows(cell_keys[by], gkeys)
        if strata:
            skeys = cell_keys[strata].drop_duplicates().reset_index(drop=True)
            s_of_cell = _match_rows(cell_keys[strata], skeys)
        else:
            s_of_cell = np.zeros(len(cell_keys), dtype=np.int64)
        # order the groups as the sorted by-levels (category order)
        order = gkeys.sort_values(by, kind="stable").index.to_numpy()
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        g_of_cell = rank[g_of_cell]
        gkeys = gkeys.iloc[order].reset_index(drop=True)
        for b in by:  # keep the segment dtype (categorical)
            if isinstance(cell_keys[b].dtype, pd.CategoricalDtype):
                gkeys[b] = pd.Categorical(gkeys[b], categories=cell_keys[b].cat.categories,
                                          ordered=cell_keys[b].cat.ordered)
        k = len(gkeys)
        n_cust = np.asarray(lt.n_customers.to_numpy(), dtype=float) if lt.n_customers is not None else None
        n = np.zeros(k)
        if n_cust is not None and len(n_cust) == len(cell_keys):
            np.add.at(n, g_of_cell, n_cust)
        else:  # pragma: no cover - life tables always carry n_customers
            n[:] = np.nan

        t = table["time"].to_numpy(float)
        at = table["n_at_risk"].to_numpy(float)
        ev = table["n_events"].to_numpy(float)
        exits = ev + table["n_censored"].to_numpy(float)
        entered = table["n_entered"].to_numpy(float)
        after = at - exits + np.where(t > 0, entered, 0.0)   # at risk just after t (until the next row)
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        ends = np.r_[starts[1:], len(codes)]

        at_risk, events = [], []
        n_strata = int(s_of_cell.max()) + 1 if len(s_of_cell) else 0
        for s in range(n_strata):
            cells = np.flatnonzero(s_of_cell == s)
            rows = np.concatenate([np.arange(starts[c], ends[c]) for c in cells])
            times = np.unique(t[rows][ev[rows] > 0])
            N = np.zeros((len(times), k))
            D = np.zeros((len(times), k))
            for c in cells:
                sl = slice(starts[c], ends[c])
                tc = t[sl]
                idx = np.searchsorted(tc, times, side="right") - 1   # last row at or before each time
                valid = idx >= 0
                idx_c = np.where(valid, idx, 0)
                exact = valid & (tc[idx_c] == times)
                g = g_of_cell[c]
                N[:, g] += np.where(exact, at[sl][idx_c], np.where(valid, after[sl][idx_c], 0.0))
                D[:, g] += np.where(exact, ev[sl][idx_c], 0.0)
            N[np.abs(N) < 1e-9] = 0.0
            at_risk.append(N)
            events.append(D)
        return cls(gkeys, n, at_risk, events)

    def subset(self, groups: Sequence[int]) -> _Components:
        groups = list(groups)
        at_risk, events = [], []
        for N, D in zip(self.at_risk, self.events, strict=True):
            Ns, Ds = N[:, groups], D[:, groups]
            keep = Ds.sum(axis=1) > 0
            at_risk.append(Ns[keep])
            events.append(Ds[keep])
        return _Components(self.keys.iloc[groups].reset_index(drop=True), self.n[groups], at_risk, events)

    def check_two_groups(self, owner: str) -> None:
        if self.n_groups < 2:
            level = ", ".join(str(v) for v in self.keys.iloc[0]) if self.n_groups else "none"
            raise ValueError(
                f"{owner} needs at least two groups in {list(self.keys.columns)}; found one ({level}). "
                "Check the 'by' column, or filter the records less.")
        if sum(float(D.sum()) for D in self.events) == 0:
            raise TenureDataError(f"{owner}: the records have no defection, so there is nothing to compare.")

    def _weights(self, N: np.ndarray, D: np.ndarray, family: str, rho, gamma) -> np.ndarray:
        n = N.sum(axis=1)
        d = D.sum(axis=1)
        if family == "logrank":
            return np.ones_like(n)
        if family == "gehan-breslow":
            return n
        if family == "tarone-ware":
            return np.sqrt(n)
        with np.errstate(divide="ignore", invalid="ignore"):
            surv = np.cumprod(np.where(n > 0, 1.0 - d / n, 1.0))
        s_minus = np.r_[1.0, surv[:-1]]      # pooled Kaplan-Meier just before t
        if family == "peto":
            return s_minus
        return np.power(s_minus, rho) * np.power(1.0 - s_minus, gamma)

    def observed(self, family, rho, gamma) -> np.ndarray:
        out = np.zeros(self.n_groups)
        for N, D in zip(self.at_risk, self.events, strict=True):
            w = self._weights(N, D, family, rho, gamma)
            out += w @ D
        return out

    def score(self, family, rho, gamma):
        """Observed - expected U (k,), covariance V (k, k), and the groups kept (expected > 0)."""
        k = self.n_groups
        U = np.zeros(k)
        E = np.zeros(k)
        V = np.zeros((k, k))
        for N, D in zip(self.at_risk, self.events, strict=True):
            if len(N) == 0:
                continue
            w = self._weights(N, D, family, rho, gamma)
            n = N.sum(axis=1)
            d = D.sum(axis=1)
            e = N * (d / n)[:, None]
            U += w @ (D - e)
            E += w @ e
            ties = np.where(n > 1, (n - d) / np.where(n > 1, n - 1, 1.0), 0.0)
            f = w * w * d * ties / n
            V += np.diag(f @ N) - (N * (f / n)[:, None]).T @ N
        keep = E > 0
        return U, V, keep


def _overall_row(U, V, keep, family, rho, gamma):
    name = _test_name(family, rho, gamma)
    idx = np.flatnonzero(keep)
    dropped = np.flatnonzero(~keep)
    if len(dropped):
        warnings.warn(f"{len(dropped)} group(s) are never at risk at a defection time (expected 0); they are "
                      "left out of the test, as R's survdiff does.", StatisticalWarning, stacklevel=3)
    if len(idx) < 2:
        return (name, np.nan, 0, np.nan)
    u = U[idx[1:]]
    v = V[np.ix_(idx[1:], idx[1:])]
    stat, dof = _quadratic_form(u, v)
    return (name, stat, dof, _chi2_sf(stat, dof) if dof > 0 else np.nan)


def _chi2_sf(stat, dof) -> float:
    """Chi-square upper tail, as ``scipy.stats.chi2.sf`` (1 for a statistic below 0) without importing scipy.stats."""
    from scipy.special import chdtrc

    return float(chdtrc(dof, np.maximum(stat, 0.0)))  # NaN stays NaN


def _trend_row(U, V, c, family, rho, gamma):
    name = _test_name(family, rho, gamma) + " trend"
    num = float(c @ U)
    den = float(c @ V @ c)
    if not den > 0:
        return (name, np.nan, 1, np.nan)
    stat = num * num / den
    return (name, stat, 1, _chi2_sf(stat, 1))


def _quadratic_form(u: np.ndarray, v: np.ndarray) -> tuple[float, int]:
    if v.size == 0:
        return np.nan, 0
    scale = np.max(np.abs(np.diag(v))) if v.size else 0.0
    if not scale > 0:
        return np.nan, 0
    w, vec = np.linalg.eigh((v + v.T) / 2)
    tol = max(v.shape) * np.finfo(float).eps * np.max(np.abs(w))
    pos = w > tol
    proj = vec[:, pos].T @ u
    stat = float(np.sum(proj * proj / w[pos]))
    return stat, int(pos.sum())


# ---------------------------------------------------------------------- argument handling
def _check_columns_args(by, strata, owner):
    if by is None or (not isinstance(by, str) and len(_as_list(by)) == 0):
        raise param_error("by", owner, "a segment column name or a list of them", by)
    by, strata = _as_list(by), _as_list(strata)
    both = set(by) & set(strata)
    if both:
        raise ValueError(f"Columns {sorted(both)} are both in 'by' and 'strata' of {owner}; a column either "
                         "defines the groups or the strata.")
    return by, strata


def _check_weights(weights, rho, gamma, owner):
    if not isinstance(weights, str):
        raise param_error("weights", owner, f"one of {{{', '.join(map(repr, WEIGHTS))}}}", weights,
                          type_error=True)
    family = _ALIASES.get(weights.lower(), weights.lower())
    check_one_of(family, "weights", owner, WEIGHTS)
    for name, value in (("rho", rho), ("gamma", gamma)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)
                                  or not np.isfinite(value) or value < 0):
            raise param_error(name, owner, "a float >= 0", value)
    if rho is not None or gamma is not None:
        if family == "logrank":
            family = "fleming-harrington"
        elif family != "fleming-harrington":
            raise ValueError(f"'rho' and 'gamma' only apply to weights='fleming-harrington'; got weights={weights!r}.")
    if family == "fleming-harrington":
        rho = float(rho) if rho is not None else 0.0
        gamma = float(gamma) if gamma is not None else 0.0
    else:
        rho = gamma = None
    return family, rho, gamma


def _test_name(family, rho, gamma) -> str:
    if family == "fleming-harrington":
        return f"fleming-harrington(rho={rho:g}, gamma={gamma:g})"
    return family


def _as_table(data, columns, frame_kwargs) -> LifeTable:
    if isinstance(data, Tenures) and not frame_kwargs:
        return life_table(data, columns)
    return as_life_table(data, columns, **frame_kwargs)


def _cause_specific(lt: LifeTable, cause: str, owner: str) -> LifeTable:
    """The life table with the defections of ``cause`` as the events and all other defections as censored."""
    if cause not in lt.causes:
        raise param_error("cause", owner, f"one of the life table's causes {list(lt.causes)}", cause)
    table = lt.table.copy()
    own = lt.cause_events[cause].to_numpy(float)
    table["n_censored"] = table["n_censored"].to_numpy(float) + table["n_events"].to_numpy(float) - own
    table["n_events"] = own
    return LifeTable(table, lt.cause_events[[cause]].copy(), by=lt.by, causes=(cause,), time_unit=lt.time_unit,
                     n_customers=lt.n_customers)


def _match_rows(frame: pd.DataFrame, keys: pd.DataFrame) -> np.ndarray:
    """Row index in ``keys`` of every row of ``frame`` (same columns)."""
    lookup = {tuple(r): i for i, r in enumerate(keys.itertuples(index=False, name=None))}
    return np.array([lookup[tuple(r)] for r in frame.itertuples(index=False, name=None)], dtype=np.int64)


def _labels(keys: pd.DataFrame, by: list) -> list:
    if len(by) == 1:
        return [str(v) for v in keys[by[0]]]
    return [", ".join(str(v) for v in row) for row in keys[by].itertuples(index=False, name=None)]


def _trend_scores(scores, keys: pd.DataFrame, by: list) -> np.ndarray:
    k = len(keys)
    if scores is None:
        return np.arange(1.0, k + 1.0)
    if isinstance(scores, Mapping):
        labels = _labels(keys, by)
        raw = list(keys[by[0]]) if len(by) == 1 else [tuple(r) for r in keys[by].itertuples(index=False)]
        out = []
        for lab, key in zip(labels, raw, strict=True):
            if key in scores:
                out.append(scores[key])
            elif lab in scores:
                out.append(scores[lab])
            else:
                raise ValueError(f"The trend 'scores' have no score for group {lab!r}; give one score per group "
                                 f"({', '.join(map(repr, labels))}).")
        c = np.asarray(out, dtype=float)
    else:
        c = np.asarray(list(scores), dtype=float)
        if c.shape != (k,):
            raise ValueError(f"The trend 'scores' must have one value per group ({k}, in the order "
                             f"{_labels(keys, by)}); got {len(c)}.")
    if not np.all(np.isfinite(c)):
        raise ValueError("The trend 'scores' must be finite numbers.")
    if np.ptp(c) == 0:
        raise ValueError("The trend 'scores' are all equal: a trend test needs at least two distinct scores.")
    return c
