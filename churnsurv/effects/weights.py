"""Propensity scores and inverse-probability-of-treatment weights for observational retention actions.

A customer's *arm* is the action received at baseline (no offer, a discount, a call...). The propensity model is a
(multinomial) logistic regression of the arm on baseline covariates, fitted by Newton-Raphson in numpy. From it come
the weights for the average effect in the whole base (ATE) or among the customers who received one action (ATT),
stabilised and optionally truncated, and the diagnostics that say whether the weights can be trusted: standardised
mean differences before and after weighting, the effective sample size of each arm, the overlap of the propensity
scores and a positivity warning.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from churnsurv._base import BaseEstimator
from churnsurv._validation import (check_columns, check_is_fitted, check_one_of, data_error, find_stack_level,
                                   param_error)
from churnsurv.exceptions import StatisticalWarning

__all__ = ["PropensityScore", "effective_sample_size", "standardized_differences"]

_OWNER = "PropensityScore"
_SQUARE = re.compile(r"^\s*(.+?)\s*\^\s*2\s*$")
_CAT = re.compile(r"^\s*C\(\s*(.+?)\s*\)\s*$")


# ---------------------------------------------------------------------------------------------- design
class _Covariates:
    """Baseline covariates as a design matrix: numeric columns as they are, ``"x^2"`` for a square,
    ``"C(x)"`` (or a non-numeric column) for dummies of every level but the first."""

    def __init__(self, covariates):
        if isinstance(covariates, str):
            covariates = [covariates]
        self.specs = []
        for c in list(covariates or []):
            if not isinstance(c, str):
                raise param_error("covariates", _OWNER, "a list of column names (str)", c, type_error=True)
            m, k = _SQUARE.match(c), _CAT.match(c)
            self.specs.append(("square", m.group(1)) if m else ("cat", k.group(1)) if k else ("auto", c))
        self.columns = list(dict.fromkeys(col for _, col in self.specs))
        self.levels: dict = {}
        self.terms: list = []

    def fit(self, frame: pd.DataFrame, ids) -> np.ndarray:
        check_columns(frame, self.columns, "data")
        for kind, col in self.specs:
            s = frame[col]
            if s.isna().any():
                raise data_error(col, "missing values", s.isna().to_numpy(), ids,
                                 "Impute or drop them before estimating propensity scores.")
            is_num = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
            if kind == "cat" or (kind == "auto" and not is_num):
                self.levels[col] = list(pd.Index(s.unique()).sort_values()) if not isinstance(
                    s.dtype, pd.CategoricalDtype) else [lv for lv in s.cat.categories if (s == lv).any()]
        return self.transform(frame)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        cols, terms = [], []
        for kind, col in self.specs:
            s = frame[col]
            if kind == "square":
                cols.append(s.to_numpy(float) ** 2)
                terms.append(f"{col}^2")
            elif col in self.levels:
                values = s.to_numpy(object)
                for lv in self.levels[col][1:]:
                    cols.append((values == lv).astype(float))
                    terms.append(f"{col}[{lv}]")
            else:
                cols.append(s.to_numpy(float))
                terms.append(col)
        self.terms = terms
        return np.column_stack(cols) if cols else np.zeros((len(frame), 0))


# ---------------------------------------------------------------------------------------------- fitting
def _softmax(eta: np.ndarray) -> np.ndarray:
    eta = eta - eta.max(axis=1, keepdims=True)
    e = np.exp(eta)
    return e / e.sum(axis=1, keepdims=True)


def _multinomial_newton(x: np.ndarray, y: np.ndarray, k: int, w: np.ndarray | None = None, tol: float = 1e-10,
                        max_iter: int = 100):
    """Multinomial logistic regression (reference category 0) by Newton-Raphson.

    ``x`` includes the intercept; returns ``(beta (p, k-1), covariance ((k-1)p, (k-1)p), log-likelihood, converged)``.
    """
    n, p = x.shape
    w = np.ones(n) if w is None else w
    yk = np.zeros((n, k))
    yk[np.arange(n), y] = 1.0
    beta = np.zeros((p, k - 1))
    q = k - 1
    loglik_old = -np.inf
    converged = False
    for _ in range(max_iter):
        prob = _softmax(np.column_stack([np.zeros(n), x @ beta]))
        grad = (x.T @ (w[:, None] * (yk[:, 1:] - prob[:, 1:]))).T.ravel()  # (k-1)*p, block per category
        hess = np.empty((q * p, q * p))
        for a in range(q):
            for b in range(a, q):
                c = prob[:, a + 1] * ((a == b) - prob[:, b + 1]) * w
                blk = (x * c[:, None]).T @ x
                hess[a * p:(a + 1) * p, b * p:(b + 1) * p] = blk
                hess[b * p:(b + 1) * p, a * p:(a + 1) * p] = blk.T
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        # step halving keeps the likelihood increasing
        for _half in range(30):
            cand = beta + step.reshape(q, p).T
            pc = _softmax(np.column_stack([np.zeros(n), x @ cand]))
            loglik = float(np.sum(w * np.log(np.maximum(pc[np.arange(n), y], 1e-300))))
            if loglik >= loglik_old - 1e-12 * abs(loglik_old if np.isfinite(loglik_old) else 1):
                break
            step = step / 2
        beta = cand
        if abs(loglik - loglik_old) < tol * (abs(loglik) + tol):
            converged = True
            loglik_old = loglik
            break
        loglik_old = loglik
    prob = _softmax(np.column_stack([np.zeros(n), x @ beta]))
    hess = np.empty((q * p, q * p))
    for a in range(q):
        for b in range(q):
            c = prob[:, a + 1] * ((a == b) - prob[:, b + 1]) * w
            hess[a * p:(a + 1) * p, b * p:(b + 1) * p] = (x * c[:, None]).T @ x
    cov = np.linalg.pinv(hess)
    return beta, cov, loglik_old, converged


def effective_sample_size(weights) -> float:
    """Kish's effective sample size :math:`(\\sum w)^2 / \\sum w^2`."""
    w = np.asarray(weights, float)
    return float(w.sum() ** 2 / np.sum(w ** 2)) if len(w) else 0.0


def _wmean_var(x: np.ndarray, w: np.ndarray):
    m = np.average(x, axis=0, weights=w)
    v = np.average((x - m) ** 2, axis=0, weights=w)
    return m, v


def standardized_differences(x: np.ndarray, arm: np.ndarray, weights: np.ndarray, terms, labels, reference) -> \
        pd.DataFrame:
    """Standardised mean differences of each term, each arm against ``reference``, unweighted and weighted.

    The denominator is the unweighted pooled standard deviation :math:`\\sqrt{(s_a^2 + s_r^2)/2}`, the same for
    both columns, so the change comes from the means only (Austin & Stuart, 2015).
    """
    rows = []
    r = labels.index(reference)
    in_r = arm == r
    for a, lab in enumerate(labels):
        if a == r:
            continue
        in_a = arm == a
        ma, va = _wmean_var(x[in_a], np.ones(in_a.sum()))
        mr, vr = _wmean_var(x[in_r], np.ones(in_r.sum()))
        wma, _ = _wmean_var(x[in_a], weights[in_a])
        wmr, _ = _wmean_var(x[in_r], weights[in_r])
        sd = np.sqrt((va + vr) / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            raw = np.where(sd > 0, (ma - mr) / sd, 0.0)
            adj = np.where(sd > 0, (wma - wmr) / sd, 0.0)
        for j, term in enumerate(terms):
            rows.append({"term": term, "arm": lab, "reference": reference, "mean_arm": ma[j], "mean_reference": mr[j],
                         "smd_unweighted": raw[j], "smd_weighted": adj[j]})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------- estimator
class PropensityScore(BaseEstimator):
    r"""Propensity scores for two or more arms and the inverse-probability-of-treatment weights.

    Parameters
    ----------
    estimand : {"ATE", "ATT"}, default "ATE"
        ``"ATE"`` reweights every arm to the whole customer base; ``"ATT"`` reweights every arm to the customers
        who received ``target`` (their own weight is 1).
    target : str or int, optional
        The arm whose customers define the ATT population; default the last arm (e.g. ``1`` of 0/1).
    stabilized : bool, default True
        Multiply the ATE weights by the marginal share of the customer's arm (Robins, Hernan & Brumback, 2000),
        so that each arm's weights average about 1 and the weighted arms keep their sizes. For the ATT the other
        arms' weights are rescaled to sum to their arm size.
    truncate : float or (float, float), optional
        Truncate (winsorise) the weights at these quantiles: ``0.01`` means the 1st and 99th percentiles.
    positivity : float, default 0.01
        Warn (:class:`~churnsurv.exceptions.StatisticalWarning`) when customers have a propensity below this for
        some arm: for them that arm was (almost) never an option, and the weights explode.

    Attributes
    ----------
    arms_ : list
        Arm labels, sorted; the first is the reference of the model.
    coef_ : pandas.DataFrame
        Tidy coefficients: ``arm, term, estimate, std_error, z, p_value, ci_lower, ci_upper`` (log-odds against
        the first arm).
    propensity_ : pandas.DataFrame
        One column per arm: the probability of each arm given the covariates; index as the data.
    weights_ : pandas.Series
        The weights (stabilised/truncated as asked), index as the data.
    arm_ : pandas.Series
        Each row's arm.
    balance_ : pandas.DataFrame
        Standardised mean differences before and after weighting (see :meth:`balance`).
    ess_ : pandas.DataFrame
        Per arm: ``arm, n, sum_weights, ess`` (Kish's effective sample size), ``min_weight, max_weight``.
    log_likelihood_, aic_, bic_, n_obs_ : float, float, float, int
        Of the propensity model.

    Notes
    -----
    With :math:`\pi_a(x) = P(A = a \mid X = x)` from the multinomial logistic model, the weights are

    .. math::

        w_i^{\mathrm{ATE}} = \frac{P(A = A_i)}{\pi_{A_i}(X_i)} \ \text{(stabilised)}, \qquad
        w_i^{\mathrm{ATT}} = \frac{\pi_{t}(X_i)}{\pi_{A_i}(X_i)},

    so that every weighted arm has the covariate distribution of the whole base (ATE) or of arm :math:`t`
    (ATT) [1]_ [2]_. Balance is checked with standardised mean differences [3]_ (|SMD| < 0.1 is the usual bar).

    References
    ----------
    .. [1] Rosenbaum, P. R. and Rubin, D. B. (1983). The central role of the propensity score in observational
       studies for causal effects. *Biometrika* 70(1), 41-55.
    .. [2] Robins, J. M., Hernan, M. A. and Brumback, B. (2000). Marginal structural models and causal inference
       in epidemiology. *Epidemiology* 11(5), 550-560.
    .. [3] Austin, P. C. and Stuart, E. A. (2015). Moving towards best practice when using inverse probability
       of treatment weighting (IPTW) using the propensity score to estimate causal treatment effects in
       observational studies. *Statistics in Medicine* 34(28), 3661-3679.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=500)})
    >>> df["offer"] = (rng.random(500) < 1 / (1 + np.exp(-0.5 * df["x"]))).astype(int)
    >>> ps = PropensityScore().fit(df, treatment="offer", covariates=["x"])
    >>> ps.balance()[["term", "smd_unweighted", "smd_weighted"]].round(2)
      term  smd_unweighted  smd_weighted
    0    x            0.67          0.02
    """

    def __init__(self, estimand: str = "ATE", target=None, stabilized: bool = True, truncate=None,
                 positivity: float = 0.01):
        self.estimand = estimand
        self.target = target
        self.stabilized = stabilized
        self.truncate = truncate
        self.positivity = positivity

    def fit(self, data: pd.DataFrame, *, treatment: str, covariates, sample_weight=None) -> PropensityScore:
        """Fit the propensity model and compute the weights.

        Parameters
        ----------
        data : pandas.DataFrame
            One row per customer; not modified.
        treatment : str
            Column of the arm (two or more levels).
        covariates : list of str
            Baseline covariates: column names, ``"age^2"`` for a square, ``"C(plan)"`` for dummies (non-numeric
            columns get dummies anyway).
        sample_weight : array-like, optional
            Case weights of the propensity model (used by the bootstrap); the returned weights are not multiplied
            by them.

        Returns
        -------
        PropensityScore
            ``self``, fitted.
        """
        check_one_of(self.estimand, "estimand", _OWNER, ("ATE", "ATT"))
        if not isinstance(data, pd.DataFrame):
            raise param_error("data", f"{_OWNER}.fit", "a pandas DataFrame", type(data).__name__, type_error=True)
        if not (isinstance(self.positivity, float) and 0 <= self.positivity < 0.5):
            raise param_error("positivity", _OWNER, "a float in [0, 0.5)", self.positivity)
        lo, hi = _truncation(self.truncate)
        check_columns(data, [treatment], "data")
        ids = data.index.to_numpy()
        a = data[treatment]
        if a.isna().any():
            raise data_error(treatment, "missing arms", a.isna().to_numpy(), ids, "Drop them or give them a level.")
        arm_codes, arms = pd.factorize(a, sort=True)
        arms = list(arms)
        if len(arms) < 2:
            raise data_error(treatment, "a single arm (every row)", np.ones(len(a), bool), ids,
                             "Propensity scores need two or more arms.")
        if self.estimand == "ATT":
            target = arms[-1] if self.target is None else self.target
            if target not in arms:
                raise param_error("target", _OWNER, f"one of the arms {arms}", self.target)
        else:
            target = None
        cov = _Covariates(covariates)
        xc = cov.fit(data, ids)
        x = np.column_stack([np.ones(len(data)), xc])
        terms = ["(intercept)", *cov.terms]
        sw = None if sample_weight is None else np.asarray(sample_weight, float)
        beta, vcov, loglik, converged = _multinomial_newton(x, arm_codes, len(arms), sw)
        if not converged:
            warnings.warn("The propensity model did not converge: some covariate separates the arms (complete "
                          "separation); the weights of those customers are meaningless. Drop or merge that covariate.",
                          StatisticalWarning, stacklevel=find_stack_level())
        prob = _softmax(np.column_stack([np.zeros(len(data)), x @ beta]))
        self._cov, self._arm_codes, self._x = cov, arm_codes, xc
        self.arms_ = arms
        self.target_ = target
        self.treatment_ = treatment
        self.covariates_ = list(cov.terms)
        self.propensity_ = pd.DataFrame(prob, index=data.index, columns=arms)
        self.arm_ = pd.Series(np.asarray(arms, dtype=object)[arm_codes], index=data.index, name=treatment)

        from scipy.special import ndtr

        se = np.sqrt(np.maximum(np.diag(vcov), 0)).reshape(len(arms) - 1, x.shape[1])
        rows = []
        for j, lab in enumerate(arms[1:]):
            for t, term in enumerate(terms):
                b, s = beta[t, j], se[j, t]
                rows.append({"arm": lab, "term": term, "estimate": b, "std_error": s, "z": b / s,
                             "p_value": 2 * ndtr(-abs(b / s)), "ci_lower": b - 1.959963984540054 * s,
                             "ci_upper": b + 1.959963984540054 * s})
        self.coef_ = pd.DataFrame(rows)
        n = len(data)
        k = beta.size
        self.log_likelihood_ = float(loglik)
        self.aic_ = -2 * loglik + 2 * k
        self.bic_ = -2 * loglik + np.log(n) * k
        self.n_obs_ = n

        w = _weights(prob, arm_codes, arms, self.estimand, target, bool(self.stabilized))
        if lo is not None:
            ql, qh = np.quantile(w, [lo, hi])
            w = np.clip(w, ql, qh)
        self.weights_ = pd.Series(w, index=data.index, name="weight")
        self.balance_ = standardized_differences(xc, arm_codes, w, cov.terms, arms,
                                                 target if target is not None else arms[0])
        self.ess_ = pd.DataFrame([{"arm": lab, "n": int((arm_codes == j).sum()),
                                   "sum_weights": float(w[arm_codes == j].sum()),
                                   "ess": effective_sample_size(w[arm_codes == j]),
                                   "min_weight": float(w[arm_codes == j].min()),
                                   "max_weight": float(w[arm_codes == j].max())} for j, lab in enumerate(arms)])
        own = prob.min(axis=1)
        bad = own < self.positivity
        self.n_positivity_ = int(bad.sum())
        if bad.any():
            warnings.warn(
                f"Positivity: {bad.sum()} of {n} customers have a propensity below {self.positivity:g} for some arm "
                f"(smallest {own.min():.2g}; {format_ids_short(ids[bad])}). For them an arm was (almost) never an "
                "option, so their weights are huge and the adjusted curves rest on extrapolation. Restrict the "
                "population to where arms overlap, truncate the weights (truncate=0.01), or prefer the g-formula.",
                StatisticalWarning, stacklevel=find_stack_level())
        return self

    def predict(self, data: pd.DataFrame) -> pd.DataFrame:
        """Propensity of every arm for new rows (same covariate columns): one column per arm."""
        check_is_fitted(self, "coef_")
        x = np.column_stack([np.ones(len(data)), self._cov.transform(data)])
        k = len(self.arms_)
        beta = self.coef_["estimate"].to_numpy().reshape(k - 1, x.shape[1]).T
        return pd.DataFrame(_softmax(np.column_stack([np.zeros(len(data)), x @ beta])), index=data.index,
                            columns=self.arms_)

    def summary(self) -> pd.DataFrame:
        """The coefficient table :attr:`coef_` (log-odds of each arm against the first)."""
        check_is_fitted(self, "coef_")
        return self.coef_.copy()

    def balance(self, threshold: float = 0.1) -> pd.DataFrame:
        """Standardised mean differences before and after weighting, with a ``balanced`` flag.

        One row per (term, arm): ``term, arm, reference, mean_arm, mean_reference, smd_unweighted, smd_weighted,
        balanced`` (|weighted SMD| < ``threshold``). The reference is the first arm (ATE) or the target (ATT).
        """
        check_is_fitted(self, "balance_")
        out = self.balance_.copy()
        out["balanced"] = out["smd_weighted"].abs() < threshold
        return out


def format_ids_short(ids) -> str:
    from churnsurv._validation import format_ids

    return format_ids(list(ids[:5]), len(ids), noun="rows")


def _truncation(truncate):
    if truncate is None or truncate is False:
        return None, None
    if np.isscalar(truncate) and not isinstance(truncate, bool):
        lo, hi = float(truncate), 1 - float(truncate)
    else:
        try:
            lo, hi = (float(v) for v in truncate)
        except (TypeError, ValueError) as err:
            raise param_error("truncate", _OWNER, "a quantile in (0, 0.5) or a pair (low, high)", truncate) from err
    if not 0 <= lo < hi <= 1:
        raise param_error("truncate", _OWNER, "a quantile in (0, 0.5) or a pair (low, high)", truncate)
    return lo, hi


def _weights(prob, arm_codes, arms, estimand, target, stabilized) -> np.ndarray:
    n = len(arm_codes)
    own = prob[np.arange(n), arm_codes]
    if estimand == "ATE":
        w = 1.0 / own
        if stabilized:
            share = np.bincount(arm_codes, minlength=len(arms)) / n
            w = w * share[arm_codes]
        return w
    t = arms.index(target)
    w = prob[:, t] / own
    w[arm_codes == t] = 1.0
    if stabilized:
        for j in range(len(arms)):
            if j != t:
                sel = arm_codes == j
                w[sel] *= sel.sum() / w[sel].sum()
    return w
